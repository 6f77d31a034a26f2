"""Writing judged file versions to the warehouse, one transaction per version.

A version's accepted rows (``raw.*``), its quarantined rows, its warnings and its
``audit.file_versions`` row commit together. dbt serves a version only through its
``file_versions`` row, so BI users never see half a district, and a crash before the commit
leaves no trace: the next run judges the same file again as the same new version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sinergi.inbox import Notice
from sinergi.judgement import Verdict
from sinergi.periods import Period
from sinergi.warehouse.connection import Warehouse
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
