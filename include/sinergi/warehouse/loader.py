"""Writing judged file versions to the warehouse, one transaction per version.

A version's accepted rows (``raw.*``), its quarantined rows, its warnings and its
``audit.file_versions`` row commit together. dbt serves a version only through its
``file_versions`` row, so BI users never see half a district, and a crash before the commit
leaves no trace: the next run judges the same file again as the same new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sinergi.inbox import Notice
from sinergi.judgement import Verdict
from sinergi.periods import Period
from sinergi.warehouse.connection import PostgresWarehouse, Warehouse
from sinergi.warehouse.schema import (
    FILE_VERSIONS,
    INBOX_NOTICES,
    PROCESSED_PERIODS,
    RAW_TABLES,
    ROW_REJECTIONS,
    ROW_WARNINGS,
    VALIDATION_RESULTS,
)
from sinergi.warehouse.spill import SpillWriter


@dataclass(frozen=True)
class VersionRecord:
    """The audit facts of one file version (what ``audit.file_versions`` stores)."""

    period: Period
    district_code: str
    dataset: str
    version: int
    file_name: str
    sha256: str
    size_bytes: int
    received_at: datetime
    deadline_at: datetime
    archive_path: str


def known_versions(wh: Warehouse, period: Period, district_code: str) -> dict[str, dict[str, int]]:
    """dataset -> {sha256: version} of every version already recorded for (P, D)."""
    with wh.connect() as conn:
        rows = wh.execute(
            conn,
            f"select dataset, sha256, version from {FILE_VERSIONS.qualified} "
            "where period = %s and district_code = %s",
            (period.first_day, district_code),
        )
    out: dict[str, dict[str, int]] = {}
    for dataset, sha, version in rows:
        out.setdefault(dataset, {})[sha] = int(version)
    return out


def record_version(wh: Warehouse, record: VersionRecord, verdict: Verdict, spill_dir: Path) -> None:
    """Load one judged version atomically (rows, quarantine, warnings, audit row)."""
    warnings = SpillWriter(spill_dir, ROW_WARNINGS, "warnings")
    if verdict.warning_rows:
        frame = pd.DataFrame(verdict.warning_rows, columns=["row_number", "warning_code"])
        frame["period"] = pd.Timestamp(record.period.first_day)
        frame["district_code"] = record.district_code
        frame["dataset"] = record.dataset
        frame["version"] = record.version
        warnings.write(frame)

    checks = SpillWriter(spill_dir, VALIDATION_RESULTS, "validation")
    if verdict.expectation_results:
        checks.write(_aggregate_checks(record, verdict.expectation_results))

    with wh.transaction() as conn:
        _claim_version(wh, conn, record)
        if verdict.is_servable:
            wh.copy_parquet(
                conn, RAW_TABLES[record.dataset], verdict.accepted_parts, verdict.duplicate_rows
            )
        wh.copy_parquet(conn, ROW_REJECTIONS, verdict.quarantine_parts)
        wh.copy_parquet(conn, ROW_WARNINGS, warnings.parts)
        wh.copy_parquet(conn, VALIDATION_RESULTS, checks.parts)
        values = (
            record.period.first_day,
            record.district_code,
            record.dataset,
            record.version,
            record.file_name,
            record.sha256,
            record.size_bytes,
            record.received_at,
            record.deadline_at,
            verdict.status,
            verdict.rejection_reason,
            verdict.rejection_detail,
            verdict.rows_total,
            verdict.rows_accepted,
            verdict.rows_total if verdict.status == "REJECTED" else verdict.rows_rejected,
            record.archive_path,
            datetime.now(UTC),
        )
        placeholders = ", ".join(["%s"] * len(values))
        wh.execute(conn, f"insert into {FILE_VERSIONS.qualified} values ({placeholders})", values)


class VersionConflict(RuntimeError):
    """Another run recorded this version number (or these bytes) first; retrying resolves it.

    Raised inside the version's transaction, before any row is copied, so nothing of this
    attempt is kept. A retry reads the versions again: the same bytes are then UNCHANGED, other
    bytes get the next free number.
    """


def _version_lock_id(record: VersionRecord) -> int:
    """A signed 64-bit advisory-lock id for (period, district, dataset)."""
    name = f"sinergi-version:{record.period}:{record.district_code}:{record.dataset}"
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _claim_version(wh: Warehouse, conn, record: VersionRecord) -> None:
    """Make this transaction the only one numbering (P, D, dataset); check the number is free.

    The version number is chosen before judging (minutes earlier), so two runs of the same
    period can pick the same one. On PostgreSQL a transaction-scoped advisory lock serialises
    the loaders of one (P, D, dataset) until commit; DuckDB has one writer per file already
    (the connection's file lock). Then, still inside the transaction, the number and the bytes
    must still be free: otherwise :class:`VersionConflict`, instead of a primary-key violation
    after every row was copied.
    """
    if isinstance(wh, PostgresWarehouse):
        wh.execute(conn, "select pg_advisory_xact_lock(%s)", (_version_lock_id(record),))
    taken = wh.execute(
        conn,
        f"select version, sha256 from {FILE_VERSIONS.qualified} "
        "where period = %s and district_code = %s and dataset = %s "
        "and (version = %s or sha256 = %s)",
        (
            record.period.first_day,
            record.district_code,
            record.dataset,
            record.version,
            record.sha256,
        ),
    )
    if taken:
        version, sha = taken[0]
        what = (
            f"the same file was recorded as v{version}"
            if sha == record.sha256
            else f"v{record.version} was recorded for another file"
        )
        raise VersionConflict(
            f"{record.district_code} {record.dataset} {record.period}: {what} by another run "
            "of this period at the same time; nothing of this attempt was loaded. Retry (the "
            "task's automatic retry does it) and avoid running the same period twice at once."
        )


def _aggregate_checks(record: VersionRecord, rows: list[dict]) -> pd.DataFrame:
    """One row per expectation of the version (chunks of a large file summed)."""
    frame = pd.DataFrame(rows)
    keys = ["suite", "expectation_id", "expectation_type", "column_name", "reason_code", "severity"]
    frame = frame.groupby(keys, as_index=False).agg(
        success=("success", "all"),
        element_count=("element_count", "sum"),
        unexpected_count=("unexpected_count", "sum"),
    )
    frame["period"] = pd.Timestamp(record.period.first_day)
    frame["district_code"] = record.district_code
    frame["dataset"] = record.dataset
    frame["version"] = record.version
    return frame


def record_notices(wh: Warehouse, period: Period, notices: Iterable[Notice]) -> None:
    """Store inbox notices once (re-running a period does not repeat them)."""
    notices = list(notices)
    if not notices:
        return
    with wh.transaction() as conn:
        for notice in notices:
            wh.execute(
                conn,
                f"insert into {INBOX_NOTICES.qualified} (period, path, notice_code, detail) "
                "select %s, %s, %s, %s where not exists (select 1 from "
                f"{INBOX_NOTICES.qualified} where period = %s and path = %s and notice_code = %s)",
                (
                    period.first_day,
                    notice.path,
                    notice.code,
                    notice.detail,
                    period.first_day,
                    notice.path,
                    notice.code,
                ),
            )


def record_processed_period(wh: Warehouse, period: Period) -> None:
    """Mark P as processed (the marts cover exactly the processed periods)."""
    with wh.transaction() as conn:
        wh.execute(
            conn,
            f"insert into {PROCESSED_PERIODS.qualified} (period, first_processed_at) "
            f"select %s, %s where not exists (select 1 from {PROCESSED_PERIODS.qualified} "
            "where period = %s)",
            (period.first_day, datetime.now(UTC), period.first_day),
        )
