"""Writing judged file versions to the warehouse, one transaction per version.

A version's accepted rows (``raw.*``), its quarantined rows, its warnings, its validation
results and its ``audit.file_versions`` row commit together. dbt serves a version only through
its ``file_versions`` row, so BI users never see half a district, and a crash before the commit
leaves no trace: the next run judges the same file again as the same new version.

The loader reads only the judged-version folder (``sinergi.warehouse.judged``): it knows
nothing of row numbers, reasons or statuses beyond copying them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sinergi.periods import Period
from sinergi.warehouse.connection import PostgresWarehouse, Warehouse
from sinergi.warehouse.judged import TABLES, JudgedVersion, JudgedVersionError
from sinergi.warehouse.schema import FILE_VERSIONS, INBOX_NOTICES, PROCESSED_PERIODS

log = logging.getLogger(__name__)


class InboxNotice(Protocol):
    """A note about an inbox entry that is not a file version (``sinergi.inbox.Notice``)."""

    path: str
    code: str
    detail: str


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


def load_judged_version(wh: Warehouse, folder: Path) -> JudgedVersion:
    """Load the judged version in ``folder`` atomically (its rows, then its audit row)."""
    judged = JudgedVersion.read(folder)
    row = {**judged.file_version, "judged_at": datetime.now(UTC)}
    with wh.transaction() as conn:
        _claim_version(wh, conn, row)
        for table in judged.rows:
            wh.copy_parquet(conn, TABLES[table], judged.parts(table))
        columns = FILE_VERSIONS.column_names
        wh.execute(
            conn,
            f"insert into {FILE_VERSIONS.qualified} ({', '.join(columns)}) "
            f"values ({', '.join(['%s'] * len(columns))})",
            [row[name] for name in columns],
        )
    return judged


def load_judged_folders(wh: Warehouse, folders: Iterable[Path]) -> list[Path]:
    """Load each judged folder in its own transaction (:func:`load_judged_version`); returns
    the folders loaded. One that cannot be loaded (another run recorded the version first,
    the database refused it) is logged and left as it is, for its district task, which loads
    it again and fails there, visibly, if it still cannot: one version never stops the others.
    """
    loaded = []
    for folder in folders:
        try:
            load_judged_version(wh, folder)
        except Exception as problem:  # noqa: BLE001 - per version: its district task retries
            # the type only: a database's message can quote a row, and the quarantine's rows
            # hold raw NIKs; the district task's own attempt shows the whole error if it fails
            log.warning(
                "loading %s/%s failed here (%s); its district task loads it",
                folder.parent.name,
                folder.name,
                type(problem).__name__,
            )
            continue
        loaded.append(folder)
    return loaded


def recorded_here(folder: Path, known: dict[str, dict[str, int]]) -> bool:
    """True when ``folder`` holds a judged version the warehouse already records (``known``:
    dataset -> {sha256: version}), i.e. a version the ``judge`` task loaded whose district
    task has not reported it yet (it removes the folder once it has)."""
    try:
        row = JudgedVersion.read(folder).file_version
    except (JudgedVersionError, OSError):
        return False
    return known.get(row["dataset"], {}).get(row["sha256"]) == row["version"]


class VersionConflict(RuntimeError):
    """Another run recorded this version number (or these bytes) first; retrying resolves it.

    Raised inside the version's transaction, before any row is copied, so nothing of this
    attempt is kept. A retry reads the versions again: the same bytes are then UNCHANGED, other
    bytes get the next free number.
    """


def _version_lock_id(row: dict) -> int:
    """A signed 64-bit advisory-lock id for (period, district, dataset)."""
    period = Period(row["period"].year, row["period"].month)
    name = f"sinergi-version:{period}:{row['district_code']}:{row['dataset']}"
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _claim_version(wh: Warehouse, conn, row: dict) -> None:
    """Make this transaction the only one numbering (P, D, dataset); check the number is free.

    The version number is chosen before judging (minutes earlier), so two runs of the same
    period can pick the same one. On PostgreSQL a transaction-scoped advisory lock serialises
    the loaders of one (P, D, dataset) until commit; DuckDB has one writer per file already
    (the connection's file lock). Then, still inside the transaction, the number and the bytes
    must still be free: otherwise :class:`VersionConflict`, instead of a primary-key violation
    after every row was copied.
    """
    if isinstance(wh, PostgresWarehouse):
        wh.execute(conn, "select pg_advisory_xact_lock(%s)", (_version_lock_id(row),))
    taken = wh.execute(
        conn,
        f"select version, sha256 from {FILE_VERSIONS.qualified} "
        "where period = %s and district_code = %s and dataset = %s "
        "and (version = %s or sha256 = %s)",
        (row["period"], row["district_code"], row["dataset"], row["version"], row["sha256"]),
    )
    if taken:
        version, sha = taken[0]
        what = (
            f"the same file was recorded as v{version}"
            if sha == row["sha256"]
            else f"v{row['version']} was recorded for another file"
        )
        period = f"{row['period']:%Y-%m}"
        raise VersionConflict(
            f"{row['district_code']} {row['dataset']} {period}: {what} by another run "
            "of this period at the same time; nothing of this attempt was loaded. Retry (the "
            "task's automatic retry does it) and avoid running the same period twice at once."
        )


def record_notices(wh: Warehouse, period: Period, notices: Iterable[InboxNotice]) -> None:
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


def recorded_notices(wh: Warehouse, period: Period) -> set[tuple[str, str]]:
    """(path, notice code) of every inbox notice already stored for P."""
    with wh.connect() as conn:
        rows = wh.execute(
            conn,
            f"select path, notice_code from {INBOX_NOTICES.qualified} where period = %s",
            (period.first_day,),
        )
    return {(str(path), str(code)) for path, code in rows}


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
