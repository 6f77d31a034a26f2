"""The judge: one file version in, one judged-version folder out (contract §3, §6, §7).

Order of judgement: file-level checks (the reader raises ``FileRejected``), row rules per
chunk with Great Expectations (``sinergi.rules``), duplicates across the whole file among the
rows that passed (``sinergi.duplicates``), then the rejected-row threshold. The judge never
touches the warehouse: it leaves the version's rows and its ``audit.file_versions`` row in a
folder (``sinergi.warehouse.judged``) that the loader copies as it is.

Accepted rows go to Parquet with NIK / No. KK replaced by their HMAC pseudonyms, chunk by
chunk so memory holds one chunk; rejected rows go to the quarantine with their original
values. A file that breaks while its rows are read (truncated sheet XML, bad CRC,
``MemoryError``, a cell beyond the length limit) is REJECTED ``unreadable`` naming the row
reached, like one that breaks on opening. Errors of the checks themselves (GX, the disk)
still raise: they are worth a retry, bad data is not.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from sinergi.datasets import SPECS
from sinergi.duplicates import comparable_rows, find_duplicates
from sinergi.judged_rows import (
    VersionRef,
    drop_rows,
    quarantine_rows,
    raw_rows,
    validation_rows,
    warning_rows,
)
from sinergi.limits import InputLimits
from sinergi.periods import Period
from sinergi.reading import UNREADABLE, FileRejected, file_too_large_detail, open_table
from sinergi.rules import Context, judge_chunk
from sinergi.scrub import scrub_identifiers
from sinergi.validation import outcomes, sanitise
from sinergi.warehouse.judged import JudgedVersion
from sinergi.warehouse.schema import (
    RAW_TABLES,
    ROW_REJECTIONS,
    ROW_WARNINGS,
    VALIDATION_RESULTS,
    Table,
)
from sinergi.warehouse.spill import SpillWriter

__all__ = [
    "ACCEPTED",
    "PARTIAL",
    "REJECTED",
    "FileVersion",
    "JudgeOptions",
    "Verdict",
    "VersionRef",
    "judge_file",
    "judge_version",
    "rejected_file",
    "summary_line",
]

ACCEPTED, PARTIAL, REJECTED = "ACCEPTED", "PARTIAL", "REJECTED"


@dataclass(frozen=True)
class FileVersion:
    """One arrived file as a numbered version of (period, district, dataset).

    ``archive_path`` is the archived copy the judge reads (never the inbox file, which may
    change meanwhile); ``None`` when the file was over the size limit and not stored.
    """

    period: Period
    district_code: str
    dataset: str
    version: int
    file_name: str
    sha256: str
    size_bytes: int
    received_at: datetime
    deadline_at: datetime
    archive_path: Path | None

    @property
    def ref(self) -> VersionRef:
        return VersionRef(
            SPECS[self.dataset], Context(self.period, self.district_code), self.version
        )

    @property
    def name(self) -> str:
        """``<P>-<district>-<dataset>-v<N>``: the version's name in reports and Data Docs."""
        return f"{self.period}-{self.district_code}-{self.dataset}-v{self.version}"


@dataclass(frozen=True)
class JudgeOptions:
    """What judging needs besides the file: the PII key, the threshold, the suites, limits."""

    pii_key: bytes
    threshold: float
    suites_dir: Path
    limits: InputLimits = field(default_factory=InputLimits)
    chunk_rows: int = 200_000

    @classmethod
    def from_settings(cls, settings) -> JudgeOptions:
        return cls(
            settings.pii_key, settings.reject_threshold, settings.suites_dir, settings.limits
        )


@dataclass
class Verdict:
    """What the judge decided about one file version (the record on disk says the same)."""

    status: str
    rows_total: int = 0
    rows_rejected: int = 0
    rejection_reason: str | None = None
    rejection_detail: str | None = None
    reason_counts: Counter = field(default_factory=Counter)
    warning_rows: list[tuple[int, str]] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    duplicate_rows: list[int] = field(default_factory=list)
    expectation_results: list[dict] = field(default_factory=list)
    gx_results: list[dict] = field(default_factory=list)
    parts: dict[str, list[Path]] = field(default_factory=dict)  # qualified table -> Parquet
    folder: Path | None = None  # the judged-version folder, once written

    @property
    def rows_accepted(self) -> int:
        return self.rows_total - self.rows_rejected

    def reject(self, reason: str, detail: str) -> None:
        """REJECTED: no row is served, so every row counts as rejected (§7)."""
        self.status = REJECTED
        self.rejection_reason = reason
        self.rejection_detail = scrub_identifiers(detail)
        self.rows_rejected = self.rows_total
        self.warning_rows = []
        for table in RAW_TABLES.values():
            for part in self.parts.pop(table.qualified, []):
                part.unlink(missing_ok=True)

    def file_versions_row(self, version: FileVersion) -> dict:
        """The version's ``audit.file_versions`` row, except ``judged_at``."""
        return {
            "period": version.period.first_day,
            "district_code": version.district_code,
            "dataset": version.dataset,
            "version": version.version,
            "file_name": version.file_name,
            "sha256": version.sha256,
            "size_bytes": version.size_bytes,
            "received_at": version.received_at,
            "deadline_at": version.deadline_at,
            "status": self.status,
            "rejection_reason": self.rejection_reason,
            "rejection_detail": self.rejection_detail,
            "rows_total": self.rows_total,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "archive_path": "" if version.archive_path is None else str(version.archive_path),
        }

    def outcome(self, version: FileVersion) -> dict:
        """This version's line of the district summary."""
        return summary_line(
            version.dataset,
            version.file_name,
            version.version,
            self.status,
            self.rows_total,
            self.rows_rejected,
            self.rejection_reason,
        )


def summary_line(
    dataset: str,
    file_name: str,
    version: int,
    status: str,
    rows_total: int = 0,
    rows_rejected: int = 0,
    rejection_reason: str | None = None,
) -> dict:
    """One line of a district task's summary (counts and codes only, no personal data).

    ``status`` is a verdict's, or UNCHANGED for bytes already recorded as ``version``.
    """
    return {
        "dataset": dataset,
        "file_name": file_name,
        "version": version,
        "status": status,
        "rows_total": rows_total,
        "rows_rejected": rows_rejected,
        "rejection_reason": rejection_reason,
    }


def rejected_file(reason: str, detail: str, rows_total: int = 0) -> Verdict:
    """A file-level rejection (§6): nothing of the file is loaded but its audit row."""
    verdict = Verdict(REJECTED, rows_total)
    verdict.reject(reason, detail)
    return verdict


def judge_version(
    version: FileVersion, folder: Path, options: JudgeOptions, *, ambiguous: bool = False
) -> Verdict:
    """Judge one file version and leave it in ``folder`` for the loader.

    ``ambiguous``: a .csv and a .xlsx of the dataset arrived together (§6 ``ambiguous``).
    """
    shutil.rmtree(folder, ignore_errors=True)  # a retried task starts from nothing
    if version.archive_path is None:  # over the size limit: hashed, not stored, not read
        verdict = rejected_file(
            UNREADABLE, file_too_large_detail(version.size_bytes, options.limits)
        )
    elif ambiguous:
        verdict = _ambiguous(version.archive_path, version, options.limits)
    else:
        verdict = judge_file(version.archive_path, version.ref, folder, options)
    _write_record(version, verdict, folder)
    return verdict


def _ambiguous(path: Path, version: FileVersion, limits: InputLimits) -> Verdict:
    """Both csv and xlsx arrived: reject, but count rows where the header is found (§7).

    §6 step 1 lists "unreadable / ambiguous / ..." in that order, so a member of the pair that
    cannot be read at all is ``unreadable`` (the operator must fix that file whatever else they
    do); only a readable member is ``ambiguous_submission``.
    """
    spec = SPECS[version.dataset]
    try:
        rows = open_table(path, spec.required, spec.optional, limits).count_data_rows()
    except FileRejected as rejected:
        if rejected.reason == UNREADABLE:
            return rejected_file(UNREADABLE, rejected.detail, 0)
        rows = rejected.rows_total
    return rejected_file(
        "ambiguous_submission",
        "both a .csv and a .xlsx file were sent for this dataset; send only one",
        rows,
    )


def _write_record(version: FileVersion, verdict: Verdict, folder: Path) -> None:
    """Leave the verdict in ``folder`` as the loader's record (``judged-version.json``)."""
    ref = version.ref
    tables: dict[Table, list] = {
        ROW_WARNINGS: [warning_rows(ref, verdict.warning_rows)] if verdict.warning_rows else [],
        VALIDATION_RESULTS: (
            [validation_rows(ref, verdict.expectation_results)]
            if verdict.expectation_results
            else []
        ),
    }
    for table, frames in tables.items():
        writer = SpillWriter(folder, table, table.name)
        for frame in frames:
            writer.write(frame)
        if writer.parts:
            verdict.parts[table.qualified] = writer.parts
    verdict.folder = folder
    JudgedVersion(
        folder,
        verdict.file_versions_row(version),
        {table: [p.name for p in parts] for table, parts in verdict.parts.items() if parts},
        {
            "reason_counts": dict(sorted(verdict.reason_counts.items())),
            "warning_counts": dict(Counter(code for _, code in verdict.warning_rows)),
            "extra_columns": verdict.extra_columns,
            "duplicate_rows": len(verdict.duplicate_rows),
        },
    ).write()


def _expectation_rows(suite: str, result) -> list[dict]:
    """Per-expectation counts for ``audit.validation_results`` (no values, no row lists)."""
    return [
        {
            "suite": suite,
            "expectation_id": o.expectation_id,
            "expectation_type": o.expectation_type,
            "column_name": o.column,
            "reason_code": o.reason_code,
            "severity": o.severity,
            "success": o.success,
            "element_count": o.element_count,
            "unexpected_count": len(o.unexpected_index),
        }
        for o in outcomes(result)
    ]


def judge_file(path: Path, ref: VersionRef, folder: Path, options: JudgeOptions) -> Verdict:
    """Judge the rows of ``path`` as version ``ref.version``; row files go under ``folder``."""
    spec = ref.dataset
    try:
        table = open_table(path, spec.required, spec.optional, options.limits)
        return _judge_rows(table, ref, folder, options)
    except FileRejected as rejected:
        # rows_total 0 for a file that breaks mid-way: §7 counts rows only of a readable file
        rows = rejected.rows_total if rejected.reason != UNREADABLE else 0
        shutil.rmtree(folder, ignore_errors=True)  # drop what its first chunks spilled
        return rejected_file(rejected.reason, rejected.detail, rows)


def _judge_rows(table, ref: VersionRef, folder: Path, options: JudgeOptions) -> Verdict:
    spec = ref.dataset
    raw_table = RAW_TABLES[spec.name]
    accepted = SpillWriter(folder, raw_table, "accepted")
    quarantine = SpillWriter(folder, ROW_REJECTIONS, "quarantine")
    verdict = Verdict(ACCEPTED, extra_columns=list(table.extra_columns))
    comparable: list[pd.DataFrame] = []
    personal = set(spec.personal)

    for chunk in table.chunks(options.chunk_rows):
        chunk = chunk.set_index(pd.Index(chunk["row_number"].to_numpy(), name="row_number"))
        judged = judge_chunk(spec, chunk, ref.context, options.suites_dir)
        verdict.expectation_results += _expectation_rows(spec.name, judged.result)
        verdict.gx_results.append(sanitise(judged.result, personal))
        rejected = judged.rejected
        verdict.rows_total += len(chunk)
        verdict.rows_rejected += int(rejected.sum())
        for code, mask in judged.reasons.items():
            verdict.reason_counts[code] += int(mask.sum())
        quarantine.write(quarantine_rows(ref, chunk, judged.reason_strings()))

        passed = judged.clean[~rejected]
        for code, mask in judged.warnings.items():
            verdict.warning_rows += [(int(r), code) for r in passed.index[mask[~rejected]]]
        comparable.append(comparable_rows(spec, passed))
        accepted.write(raw_rows(ref, passed, options.pii_key))

    keys = pd.concat(comparable) if comparable else pd.DataFrame()
    duplicates, result = find_duplicates(keys, options.suites_dir)
    del comparable, keys
    if result is not None:
        verdict.expectation_results += _expectation_rows("duplicates", result)
        verdict.gx_results.append(sanitise(result, personal))
    if duplicates:
        _quarantine_duplicates(table, ref, duplicates, quarantine, options.chunk_rows)
        drop_rows(accepted.parts, sorted(duplicates))
        for codes in duplicates.values():
            for code in codes:
                verdict.reason_counts[code] += 1
        verdict.rows_rejected += len(duplicates)
        verdict.duplicate_rows = sorted(duplicates)
        verdict.warning_rows = [w for w in verdict.warning_rows if w[0] not in duplicates]

    verdict.parts = {
        raw_table.qualified: accepted.parts,
        ROW_REJECTIONS.qualified: quarantine.parts,
    }
    _apply_threshold(verdict, options.threshold)
    return verdict


def _apply_threshold(verdict: Verdict, threshold: float) -> None:
    """More than ``threshold`` of the rows rejected: the whole version is REJECTED (§7)."""
    if verdict.rows_rejected > threshold * verdict.rows_total:
        share = verdict.rows_rejected / verdict.rows_total
        verdict.reject(
            "too_many_invalid_rows",
            f"{verdict.rows_rejected} of {verdict.rows_total} rows rejected "
            f"({share:.1%} > {threshold:.0%})",
        )
    elif verdict.rows_rejected:
        verdict.status = PARTIAL


def _quarantine_duplicates(table, ref, duplicates, quarantine, chunk_rows) -> None:
    """Second pass over the file for the (rare) duplicate rows' original values."""
    for chunk in table.chunks(chunk_rows):
        hit = chunk["row_number"].isin(duplicates)
        if hit.any():
            rows = chunk[hit]
            rows = rows.set_index(pd.Index(rows["row_number"].to_numpy(), name="row_number"))
            reasons = pd.Series(
                [";".join(duplicates[int(r)]) for r in rows.index], index=rows.index
            )
            quarantine.write(quarantine_rows(ref, rows, reasons))
