"""The monthly pipeline's steps as plain functions; the DAG only wires them into tasks.

``prepare_period`` runs once per period, ``process_district`` once per district (one mapped
task instance each), so a data engineer can retry one district alone. Bad data never raises:
it becomes a verdict in ``audit``. Only infrastructure problems (warehouse down, disk full)
raise, and those are worth a retry.

Each inbox file is opened without following links (:func:`sinergi.inbox.open_submission`),
copied once into the archive while it is hashed, and the *archived copy* is judged: the
version's SHA-256, size, received time, archived bytes and loaded rows all come from that one
read. Names and details a district chose go through :func:`sinergi.scrub.printable` before
they reach a log line.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sinergi import reference
from sinergi.archive import Archived, archive_file
from sinergi.config import Settings
from sinergi.datadocs import save_results
from sinergi.datasets import SPECS
from sinergi.inbox import (
    Notice,
    RefusedEntry,
    notice,
    open_submission,
    scan_district,
    scan_period_notices,
)
from sinergi.judgement import REJECTED, Verdict, VersionRef, judge_file, rejected_file
from sinergi.periods import Period
from sinergi.reading import UNREADABLE, FileRejected, file_too_large_detail, open_table
from sinergi.rules import Context
from sinergi.scrub import printable
from sinergi.warehouse.connection import PostgresWarehouse, open_warehouse
from sinergi.warehouse.loader import (
    VersionRecord,
    known_versions,
    record_notices,
    record_processed_period,
    record_version,
)
from sinergi.warehouse.pii_key import check_pii_key
from sinergi.warehouse.roles import init_postgres

log = logging.getLogger(__name__)


def prepare_period(period: Period, settings: Settings) -> list[dict]:
    """Create the warehouse tables, mark P processed, record notices; one job per district."""
    wh = open_warehouse(settings.warehouse_url)
    wh.ensure_schema()
    check_pii_key(wh, settings)  # binds a fresh warehouse; refuses another key, no retries
    if isinstance(wh, PostgresWarehouse):
        init_postgres(wh)  # idempotent: reader roles keep their grants on rebuilt marts
    record_processed_period(wh, period)
    notices = scan_period_notices(settings.inbox, period)
    record_notices(wh, period, notices)
    _log_notices(notices)
    return [
        {"period": str(period), "district_code": code}
        for code in sorted(reference.district_codes())
    ]


@dataclass
class FileOutcome:
    """One line of the district summary (no personal data: counts and codes only)."""

    dataset: str
    file_name: str
    version: int | None
    status: str  # ACCEPTED | PARTIAL | REJECTED | UNCHANGED
    rows_total: int = 0
    rows_rejected: int = 0
    rejection_reason: str | None = None

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _log_notices(notices: list[Notice]) -> None:
    for item in notices:
        log.warning(
            "inbox %s: %s (%s)", printable(item.path), item.code, printable(item.detail, 500)
        )


def _archive(settings: Settings, path: Path) -> Archived:
    """Copy one inbox file into the archive through a no-follow descriptor (read once)."""
    descriptor = open_submission(settings.inbox, path)
    try:
        return archive_file(
            descriptor, path.suffix, settings.archive_dir, settings.limits.max_file_bytes
        )
    finally:
        os.close(descriptor)


def _extra_columns_notice(settings: Settings, path: Path, names: list[str]) -> Notice:
    shown = ", ".join(printable(name, 60) for name in names[:20])
    if len(names) > 20:
        shown += f" and {len(names) - 20} more"
    return notice(settings.inbox, path, "unexpected_columns", "ignored column(s): " + shown)


def _ambiguous(path: Path, spec, limits=None) -> Verdict:
    """Both csv and xlsx arrived: reject, but count rows where the header is found (§7).

    §6 step 1 lists "unreadable / ambiguous / ..." in that order, so a member of the pair that
    cannot be read at all is ``unreadable`` (the operator must fix that file whatever else they
    do); only a readable member is ``ambiguous_submission``.
    """
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


def _summary_line(district: str, outcome: FileOutcome, verdict: Verdict) -> str:
    top = ", ".join(f"{code} x{n}" for code, n in verdict.reason_counts.most_common(5))
    line = (
        f"{district} {outcome.dataset} v{outcome.version} ({printable(outcome.file_name)}): "
        f"{outcome.status} - {outcome.rows_total} rows, {outcome.rows_rejected} rejected"
    )
    if verdict.rejection_reason:
        line += f"; {verdict.rejection_reason}: {printable(verdict.rejection_detail or '', 500)}"
    if top:
        line += f"; reasons: {top}"
    return line


def process_district(period: Period, district_code: str, settings: Settings) -> dict:
    """Read, judge and load every new file version of one district for one period."""
    wh = open_warehouse(settings.warehouse_url)
    check_pii_key(wh, settings)  # before anything is archived, judged or loaded
    found = scan_district(settings.inbox, period, district_code)
    known = known_versions(wh, period, district_code)
    context = Context(period, district_code)
    deadline = period.deadline(settings.deadline_day, settings.deadline_time)
    outcomes: list[FileOutcome] = []
    notices: list[Notice] = list(found.notices)
    spill_root = settings.work_dir / str(period) / district_code

    for dataset, paths in sorted(found.files.items()):
        spec = SPECS[dataset]
        seen = dict(known.get(dataset, {}))
        copies: list[tuple[Path, Archived]] = []
        for path in paths:
            try:
                copies.append((path, _archive(settings, path)))
            except RefusedEntry as refused:  # swapped for a link or a FIFO after the scan
                notices.append(notice(settings.inbox, path, refused.code, refused.detail))
            except FileNotFoundError:
                log.warning("inbox %s vanished during the run", printable(path.name))
        ambiguous = len(copies) > 1
        for path, copied in sorted(copies, key=lambda pc: (pc[1].received_at, pc[0].name)):
            sha = copied.sha256
            if sha in seen:
                outcomes.append(FileOutcome(dataset, path.name, seen[sha], "UNCHANGED"))
                continue
            version = max(seen.values(), default=0) + 1
            spill_dir = spill_root / f"{dataset}-v{version}"
            if copied.path is None:  # over the size limit: hashed, not stored, not read
                verdict = rejected_file(
                    UNREADABLE, file_too_large_detail(copied.size, settings.limits)
                )
            elif ambiguous:
                verdict = _ambiguous(copied.path, spec, settings.limits)
            else:
                verdict = judge_file(
                    copied.path,
                    VersionRef(spec, context, version),
                    spill_dir,
                    settings.pii_key,
                    settings.reject_threshold,
                    settings.suites_dir,
                    limits=settings.limits,
                )
            if verdict.extra_columns:
                notices.append(_extra_columns_notice(settings, path, verdict.extra_columns))
            record = VersionRecord(
                period,
                district_code,
                dataset,
                version,
                path.name,
                sha,
                copied.size,
                copied.received_at,
                deadline,
                "" if copied.path is None else str(copied.path),
            )
            record_version(wh, record, verdict, spill_dir)
            shutil.rmtree(spill_dir, ignore_errors=True)
            save_results(
                settings.reports_dir,
                f"{period}-{district_code}-{dataset}-v{version}",
                record.received_at,
                path.name,
                verdict.gx_results,
            )
            seen[sha] = version
            outcome = FileOutcome(
                dataset,
                path.name,
                version,
                verdict.status,
                verdict.rows_total,
                verdict.rows_total if verdict.status == REJECTED else verdict.rows_rejected,
                verdict.rejection_reason,
            )
            outcomes.append(outcome)
            log.info(_summary_line(district_code, outcome, verdict))

    record_notices(wh, period, notices)
    _log_notices(notices)
    missing = sorted(set(SPECS) - set(found.files))
    if missing:
        log.info("%s: no file for %s", district_code, ", ".join(missing))
    return {
        "period": str(period),
        "district_code": district_code,
        "files": [o.as_dict() for o in outcomes],
        "missing": missing,
    }


def resolve_period(requested: str | None, logical_date) -> Period:
    """The period a run works on: the ``period`` parameter, else the month before the run.

    Scheduled runs fire on day 11 (Asia/Jakarta) for the month that just closed.
    """
    if requested:
        return Period.parse(requested)
    from sinergi.periods import JAKARTA

    local = logical_date.astimezone(JAKARTA)
    return Period(local.year, local.month).previous()


def build_marts(districts: list[dict], settings: Settings) -> dict:
    """Run ``dbt build`` on the configured warehouse; returns per-node timings (no data)."""
    from sinergi.dbt import run_dbt

    period = districts[0]["period"]
    outcome = run_dbt(
        ["build"],
        settings.warehouse_url,
        vars={"eligible_max_decile": settings.eligible_max_decile},
    )
    nodes = [
        {"name": n.name, "status": n.status, "seconds": round(n.execution_time, 3)}
        for n in outcome.nodes
    ]
    log.info(
        "dbt build for %s: %d nodes, %s", period, len(nodes), "ok" if outcome.success else "FAILED"
    )
    return {"period": period, "success": outcome.success, "nodes": nodes}
