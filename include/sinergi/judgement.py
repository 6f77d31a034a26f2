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

import gc
import json
import logging
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sinergi.collector import older_objects_frozen
from sinergi.datasets import SPECS, DatasetSpec
from sinergi.duplicates import (
    comparable_rows,
    comparable_rows_together,
    find_duplicates,
    find_duplicates_in_files,
)
from sinergi.judged_rows import (
    VersionRef,
    drop_rows,
    quarantine_rows,
    raw_rows,
    validation_rows,
    warning_rows,
)
from sinergi.limits import InputLimits
from sinergi.reading import (
    TOO_LARGE,
    UNREADABLE,
    FileRejected,
    file_too_large_detail,
    open_table,
    unreadable,
)
from sinergi.rules import ChunkJudgement, judge_chunk, judge_chunks
from sinergi.scrub import scrub_identifiers
from sinergi.validation import ExpectationOutcome, contract_column
from sinergi.versions import FileVersion, JudgeOptions, summary_line  # importable without pandas
from sinergi.warehouse.judged import JudgedVersion, JudgedVersionError
from sinergi.warehouse.schema import (
    RAW_TABLES,
    ROW_REJECTIONS,
    ROW_WARNINGS,
    VALIDATION_RESULTS,
    Table,
    params_from_text,
    params_text,
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
#: The judged-version folder's sanitised GX results (Data Docs); the loader does not read it.
REPORTS_NAME = "gx-results.json"

log = logging.getLogger(__name__)


@dataclass
class Verdict:
    """What the judge decided about one file version (the record on disk says the same)."""

    status: str
    rows_total: int = 0
    rows_rejected: int = 0
    rejection_reason: str | None = None
    rejection_detail: str | None = None  # English, for engineers and auditors
    reason_counts: Counter = field(default_factory=Counter)
    warning_rows: list[tuple[int, str]] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    duplicate_rows: list[int] = field(default_factory=list)
    expectation_results: list[dict] = field(default_factory=list)
    gx_results: list[dict] = field(default_factory=list)
    parts: dict[str, list[Path]] = field(default_factory=dict)  # qualified table -> Parquet
    folder: Path | None = None  # the judged-version folder, once written
    # the rejection's facts as data, for the district feedback (``FileRejected.params``;
    # the threshold's ``limit_pct``): column names and numbers, never a cell's value
    rejection_params: dict | None = None

    @property
    def rows_accepted(self) -> int:
        return self.rows_total - self.rows_rejected

    @classmethod
    def from_folder(cls, folder: Path) -> tuple[Verdict, dict]:
        """The verdict a judged-version folder records, and its ``file_version`` row.

        What a district task needs of a version judged earlier (``judge_together``): status,
        counts, reasons, ignored columns and the GX results for Data Docs.
        """
        record = JudgedVersion.read(folder)
        row, summary = record.file_version, record.summary
        verdict = cls(
            row["status"],
            row["rows_total"],
            row["rows_rejected"],
            row["rejection_reason"],
            row["rejection_detail"],
            Counter(summary.get("reason_counts") or {}),
            extra_columns=list(summary.get("extra_columns") or []),
            gx_results=json.loads((folder / REPORTS_NAME).read_text(encoding="utf-8")),
            folder=folder,
            rejection_params=params_from_text(row["rejection_params"]),
        )
        return verdict, row

    def reject(self, reason: str, detail: str, params: dict | None = None) -> None:
        """REJECTED: no row is served, so every row counts as rejected (§7)."""
        self.status = REJECTED
        self.rejection_reason = reason
        self.rejection_detail = scrub_identifiers(detail)
        self.rejection_params = dict(params) if params else None
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
            "rejection_params": params_text(self.rejection_params),
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


def rejected_file(
    reason: str, detail: str, rows_total: int = 0, params: dict | None = None
) -> Verdict:
    """A file-level rejection (§6): nothing of the file is loaded but its audit row."""
    verdict = Verdict(REJECTED, rows_total)
    verdict.reject(reason, detail, params)
    return verdict


@older_objects_frozen
def judge_version(
    version: FileVersion, folder: Path, options: JudgeOptions, *, ambiguous: bool = False
) -> Verdict:
    """Judge one file version and leave it in ``folder`` for the loader.

    ``ambiguous``: a .csv and a .xlsx of the dataset arrived together (§6 ``ambiguous``).
    """
    shutil.rmtree(folder, ignore_errors=True)  # a retried task starts from nothing
    if version.archive_path is None:  # over the size limit: hashed, not stored, not read
        too_large = unreadable(TOO_LARGE, file_too_large_detail(version.size_bytes, options.limits))
        verdict = rejected_file(UNREADABLE, too_large.detail, params=too_large.params)
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
            return rejected_file(UNREADABLE, rejected.detail, 0, rejected.params)
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
    folder.mkdir(parents=True, exist_ok=True)
    (folder / REPORTS_NAME).write_text(json.dumps(verdict.gx_results), encoding="utf-8")
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


def audited_column(spec: DatasetSpec, column: str) -> str:
    """The contract column an expectation judges, as ``audit.validation_results`` names it.

    Expectations run on prepared columns (``nilai_bantuan__program_ceiling``) and column
    pairs (``kode_kabkota, kode_kabkota__folder``): the first column's contract name. The
    duplicates suite's helper columns stand for the dataset's key (``nik, kode_program``).
    """
    base = contract_column(column.split(", ")[0])
    return base if base in spec.columns else ", ".join(spec.key)


def _expectation_rows(suite: str, spec: DatasetSpec, found: list[ExpectationOutcome]) -> list[dict]:
    """Per-expectation counts for ``audit.validation_results`` (no values, no row lists)."""
    return [
        {
            "suite": suite,
            "expectation_id": o.expectation_id,
            "expectation_type": o.expectation_type,
            "column_name": audited_column(spec, o.column),
            "reason_code": o.reason_code,
            "severity": o.severity,
            "success": o.success,
            "element_count": o.element_count,
            "unexpected_count": len(o.unexpected_index),
        }
        for o in found
    ]


def judge_file(path: Path, ref: VersionRef, folder: Path, options: JudgeOptions) -> Verdict:
    """Judge the rows of ``path`` as version ``ref.version``; row files go under ``folder``."""
    spec = ref.dataset
    try:
        table = open_table(path, spec.required, spec.optional, options.limits)
        judge = _FileJudge(table, ref, folder, options)
        for chunk in table.chunks(options.chunk_rows):
            chunk = _indexed(chunk)
            judged = judge_chunk(spec, chunk, ref.context, options.suites_dir)
            judge.take_comparable(comparable_rows(spec, judge.take_rows(chunk, judged)))
            judged = None  # not kept beside the next chunk's judgement
            _collect_cycles(len(chunk))
        chunk = None  # the last chunk is not kept beside the duplicates suite
        judge.take_duplicates(*find_duplicates(judge.keys(), options.suites_dir))
        return judge.finish()
    except FileRejected as rejected:
        return _file_rejected(rejected, folder)


def _file_rejected(rejected: FileRejected, folder: Path) -> Verdict:
    # rows_total 0 for a file that breaks mid-way: §7 counts rows only of a readable file
    rows = rejected.rows_total if rejected.reason != UNREADABLE else 0
    shutil.rmtree(folder, ignore_errors=True)  # drop what its first chunks spilled
    return rejected_file(rejected.reason, rejected.detail, rows, rejected.params)


def _indexed(chunk: pd.DataFrame) -> pd.DataFrame:
    return chunk.set_index(pd.Index(chunk["row_number"].to_numpy(), name="row_number"))


class _FileJudge:
    """One file's row judgement in steps, so that several files can share each GX call.

    ``take_rows`` per judged chunk (spill accepted and quarantined rows, keep what the
    duplicate rule needs), ``keys`` for the duplicates suite, ``take_duplicates`` with its
    findings, ``finish`` for the threshold: the same steps whether the file's chunks were
    validated alone (:func:`judge_file`) or together with other files (:func:`judge_together`).
    """

    def __init__(self, table, ref: VersionRef, folder: Path, options: JudgeOptions) -> None:
        self.table, self.ref, self.options = table, ref, options
        self.accepted = SpillWriter(folder, RAW_TABLES[ref.dataset.name], "accepted")
        self.quarantine = SpillWriter(folder, ROW_REJECTIONS, "quarantine")
        self.verdict = Verdict(ACCEPTED, extra_columns=list(table.extra_columns))
        self.comparable: list[pd.DataFrame] = []

    def take_rows(self, chunk: pd.DataFrame, judged: ChunkJudgement) -> pd.DataFrame:
        """Spill the chunk's accepted and quarantined rows; returns its passing rows, whose
        :func:`comparable_rows` the caller hands to :meth:`take_comparable` (for a batch of
        files, computed for all of them at once: :func:`_spill_rows`)."""
        spec, verdict = self.ref.dataset, self.verdict
        verdict.expectation_results += _expectation_rows(spec.name, spec, judged.outcomes)
        verdict.gx_results.append(judged.report)
        rejected = judged.rejected
        verdict.rows_total += len(chunk)
        verdict.rows_rejected += int(rejected.sum())
        for code, mask in judged.reasons.items():
            verdict.reason_counts[code] += int(mask.sum())
        _quarantine(self.quarantine, self.ref, chunk, judged.reason_strings())
        passed = judged.clean[~rejected]
        for code, mask in judged.warnings.items():
            verdict.warning_rows += [(int(r), code) for r in passed.index[mask[~rejected]]]
        self.accepted.write(raw_rows(self.ref, passed, self.options.pii_key))
        return passed

    def take_comparable(self, rows: pd.DataFrame) -> None:
        """Keep a chunk's :func:`comparable_rows` for the duplicates suite (:meth:`keys`)."""
        self.comparable.append(rows)

    def keys(self) -> pd.DataFrame:
        """The passing rows' normalised key and row texts, for the duplicates suite."""
        keys = pd.concat(self.comparable) if self.comparable else pd.DataFrame()
        self.comparable = []
        return keys

    def take_duplicates(self, duplicates: dict[int, list[str]], part) -> None:
        verdict = self.verdict
        if part is not None:
            verdict.expectation_results += _expectation_rows(
                "duplicates", self.ref.dataset, part.outcomes
            )
            verdict.gx_results.append(part.report)
        if not duplicates:
            return
        _quarantine_duplicates(
            self.table, self.ref, duplicates, self.quarantine, self.options.chunk_rows
        )
        drop_rows(self.accepted.parts, sorted(duplicates))
        for codes in duplicates.values():
            for code in codes:
                verdict.reason_counts[code] += 1
        verdict.rows_rejected += len(duplicates)
        verdict.duplicate_rows = sorted(duplicates)
        verdict.warning_rows = [w for w in verdict.warning_rows if w[0] not in duplicates]

    def finish(self) -> Verdict:
        self.verdict.parts = {
            RAW_TABLES[self.ref.dataset.name].qualified: self.accepted.parts,
            ROW_REJECTIONS.qualified: self.quarantine.parts,
        }
        _apply_threshold(self.verdict, self.options.threshold)
        return self.verdict


@older_objects_frozen
def judge_together(
    jobs: list[tuple[FileVersion, Path, bool]], options: JudgeOptions
) -> dict[Path, Verdict]:
    """Judge many versions of ONE dataset and period, sharing each GX validation.

    ``jobs`` are (version, folder, ambiguous). Files that fit in one chunk are validated in
    batches of about ``options.batch_rows`` rows (the row suite once, the duplicates suite
    once per batch: ``sinergi.gx_parts``); larger files, and versions rejected before their
    rows are read, are judged alone by :func:`judge_version`. Every folder is written
    exactly as :func:`judge_version` writes it. A version whose judgement raised (GX, the
    disk) is logged and left without a folder, so its district task judges it again on its
    own and fails there, visibly, without stopping the others. Returns folder -> verdict.
    """
    verdicts: dict[Path, Verdict] = {}
    batch: list[tuple[FileVersion, Path, _FileJudge, pd.DataFrame]] = []
    for version, folder, ambiguous in jobs:
        try:
            alone = _start(version, folder, ambiguous, options)
        except Exception:  # noqa: BLE001 - one file's failure must not stop the others
            log.exception("judging %s failed; its district task judges it again", version.name)
            continue
        if isinstance(alone, Verdict):
            verdicts[folder] = alone
            continue
        judge, chunk = alone
        if batch and sum(len(item[3]) for item in batch) + len(chunk) > options.batch_rows:
            verdicts.update(_judge_batch(batch, options))  # at most max(batch, chunk) rows
        batch.append((version, folder, judge, chunk))
    if batch:
        verdicts.update(_judge_batch(batch, options))
    return verdicts


#: Rows of a validation after which the garbage is collected (:func:`_collect_cycles`).
COLLECT_AFTER_ROWS = 50_000


def _collect_cycles(rows: int) -> None:
    """A full garbage collection after a validation of ``rows`` rows, when they are many.

    Great Expectations' validation objects refer to one another and to the validated frame,
    so the frame (tens of MB of Arrow and NumPy buffers, outside Python's own heap) is freed
    only when the collector finds the cycle; its thresholds count Python objects, not bytes,
    and ran rarely enough that a judge worker kept several batches' frames: on a province
    part of nine roster files its peak was 696 MB, with a collection after each batch 531 MB
    (2026-12-06, docs/performance.md). Only after :data:`COLLECT_AFTER_ROWS` rows or more:
    a collection walks only the objects judging created (the judge runs with what existed
    before frozen: ``sinergi.collector``), and a small validation's frames are small.
    """
    if rows >= COLLECT_AFTER_ROWS:
        gc.collect()


def _start(version: FileVersion, folder: Path, ambiguous: bool, options: JudgeOptions):
    """A finished verdict for a version judged alone, or (judge, its one chunk) to batch."""
    spec = version.ref.dataset
    if version.archive_path is None or ambiguous:
        return judge_version(version, folder, options, ambiguous=ambiguous)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        table = open_table(version.archive_path, spec.required, spec.optional, options.limits)
        chunks = table.chunks(options.chunk_rows)
        first = next(chunks, None)
        more = first is not None and next(chunks, None) is not None
    except FileRejected as rejected:
        verdict = _file_rejected(rejected, folder)
        _write_record(version, verdict, folder)
        return verdict
    if first is None or more:  # no rows (judged as today) or several chunks: alone
        return judge_version(version, folder, options)
    return _FileJudge(table, version.ref, folder, options), _indexed(first)


def _judge_batch(batch, options: JudgeOptions) -> dict[Path, Verdict]:
    """One row-suite and one duplicates validation for every file of ``batch``.

    ``batch`` is emptied: the batch's chunks and their judged frames are let go as soon as
    their rows are spilled, before the duplicates suite runs (it held them beside its own
    ~70 MB of keys at a judge worker's peak), and the garbage is collected once it is judged.
    """
    items = [(version, folder, judge) for version, folder, judge, _ in batch]
    chunks = [chunk for *_, chunk in batch]
    batch.clear()
    rows = sum(len(chunk) for chunk in chunks)
    try:
        return _judge_and_record(items, chunks, options)
    finally:
        _collect_cycles(rows)


def _judge_and_record(items, chunks: list[pd.DataFrame], options: JudgeOptions):
    """:func:`_judge_batch`'s work: validate, spill, find duplicates, write each record.
    ``chunks`` is emptied once their rows are spilled."""
    spec = items[0][0].ref.dataset
    try:
        _spill_rows(items, chunks, options)
        chunks.clear()
        found = find_duplicates_in_files([judge.keys() for *_, judge in items], options.suites_dir)
    except Exception:  # noqa: BLE001 - judged again one by one, so one file cannot stop all
        log.exception("a batch of %d %s files failed; judging them alone", len(items), spec.name)
        return judge_together_alone([(v, f) for v, f, _ in items], options)
    verdicts = {}
    for (version, folder, judge), (duplicates, part) in zip(items, found, strict=True):
        try:
            try:
                judge.take_duplicates(duplicates, part)
                verdict = judge.finish()
            except FileRejected as rejected:  # a second read of the file broke: as judge_file
                verdict = _file_rejected(rejected, folder)
            _write_record(version, verdict, folder)
            verdicts[folder] = verdict
        except Exception:  # noqa: BLE001 - its district task judges it again and fails there
            shutil.rmtree(folder, ignore_errors=True)
            log.exception("judging %s failed; its district task judges it again", version.name)
    return verdicts


def _spill_rows(items, chunks: list[pd.DataFrame], options: JudgeOptions) -> None:
    """The row suite over ``chunks`` together; each file's judge spills its rows."""
    spec = items[0][0].ref.dataset
    contexts = [version.ref.context for version, *_ in items]
    judged = judge_chunks(spec, chunks, contexts, options.suites_dir)
    judges = [judge for *_, judge in items]
    passed = [
        judge.take_rows(chunk, judgement)
        for judge, chunk, judgement in zip(judges, chunks, judged, strict=True)
    ]
    for judge, rows in zip(judges, comparable_rows_together(spec, passed), strict=True):
        judge.take_comparable(rows)


def judge_together_alone(
    jobs: list[tuple[FileVersion, Path]], options: JudgeOptions
) -> dict[Path, Verdict]:
    """Each version judged on its own; one that raises is logged and left without a folder."""
    verdicts = {}
    for version, folder in jobs:
        try:
            verdicts[folder] = judge_version(version, folder, options)
        except Exception:  # noqa: BLE001 - its district task judges it again and fails there
            shutil.rmtree(folder, ignore_errors=True)
            log.exception("judging %s failed; its district task judges it again", version.name)
    return verdicts


def prejudged(version: FileVersion, folder: Path) -> Verdict | None:
    """The verdict ``judge_together`` left for exactly this version, if it is there.

    Exactly: the same SHA-256, version number and file name; anything else (another file
    arrived since, a half-written folder, an older format) is judged again.
    """
    try:
        verdict, row = Verdict.from_folder(folder)
    except (JudgedVersionError, OSError, ValueError):
        return None
    same = (row["sha256"], row["version"], row["file_name"]) == (
        version.sha256,
        version.version,
        version.file_name,
    )
    return verdict if same else None


def _apply_threshold(verdict: Verdict, threshold: float) -> None:
    """More than ``threshold`` of the rows rejected: the whole version is REJECTED (§7).

    The limit is kept as data too (``limit_pct``), so the feedback states it without reading
    the English detail.
    """
    if verdict.rows_rejected > threshold * verdict.rows_total:
        share = verdict.rows_rejected / verdict.rows_total
        verdict.reject(
            "too_many_invalid_rows",
            f"{verdict.rows_rejected} of {verdict.rows_total} rows rejected "
            f"({share:.1%} > {threshold:.0%})",
            {"limit_pct": round(threshold * 100, 2)},
        )
    elif verdict.rows_rejected:
        verdict.status = PARTIAL


#: Rejected rows turned into ``audit.row_rejections`` rows and written at a time. Each carries
#: its original cells as JSON (~400 bytes): a chunk of a province file whose rows are nearly all
#: rejected (a NIK column in scientific notation) held ~90 MB of them, as Python strings and
#: then as Arrow strings, at a judge worker's peak; a slice holds ~20 MB.
QUARANTINE_SLICE_ROWS = 25_000


def _quarantine(writer, ref, rows: pd.DataFrame, reasons: pd.Series) -> None:
    """Write the rejected ``rows`` (``reasons`` by row number) in slices of
    :data:`QUARANTINE_SLICE_ROWS`, one Parquet part each."""
    for start in range(0, len(reasons), QUARANTINE_SLICE_ROWS):
        part = reasons.iloc[start : start + QUARANTINE_SLICE_ROWS]
        writer.write(quarantine_rows(ref, rows, part))


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
            _quarantine(quarantine, ref, rows, reasons)
