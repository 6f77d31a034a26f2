"""The monthly pipeline's steps as plain functions; the DAG only wires them into tasks.

``prepare_period`` runs once per period, ``process_district`` once per district (one mapped
task instance each), so a data engineer can retry one district alone. Bad data never raises:
it becomes a verdict in ``audit``. Only infrastructure problems (warehouse down, disk full)
raise, and those are worth a retry.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from sinergi import reference
from sinergi.archive import archive_file
from sinergi.config import Settings
from sinergi.datadocs import save_results
from sinergi.datasets import SPECS
from sinergi.inbox import Notice, received_at, scan_district, scan_period_notices, sha256_of
from sinergi.judgement import REJECTED, Verdict, VersionRef, judge_file, rejected_file
from sinergi.periods import Period
from sinergi.reading import UNREADABLE, FileRejected, open_table
from sinergi.rules import Context
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
    for notice in notices:
        log.warning("inbox %s: %s (%s)", notice.path, notice.code, notice.detail)
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


def _ambiguous(path: Path, spec) -> Verdict:
    """Both csv and xlsx arrived: reject, but count rows where the header is found (§7).

    §6 step 1 lists "unreadable / ambiguous / ..." in that order, so a member of the pair that
    cannot be read at all is ``unreadable`` (the operator must fix that file whatever else they
    do); only a readable member is ``ambiguous_submission``.
    """
    try:
        rows = open_table(path, spec.required, spec.optional).count_data_rows()
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
        f"{district} {outcome.dataset} v{outcome.version} ({outcome.file_name}): {outcome.status}"
        f" - {outcome.rows_total} rows, {outcome.rows_rejected} rejected"
    )
    if verdict.rejection_reason:
        line += f"; {verdict.rejection_reason}: {verdict.rejection_detail}"
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
        ambiguous = len(paths) > 1
        seen = dict(known.get(dataset, {}))
        for path in sorted(paths, key=lambda p: (received_at(p), p.name)):
            sha = sha256_of(path)
            if sha in seen:
                outcomes.append(FileOutcome(dataset, path.name, seen[sha], "UNCHANGED"))
                continue
            version = max(seen.values(), default=0) + 1
            stored = archive_file(path, sha, settings.archive_dir)
            spill_dir = spill_root / f"{dataset}-v{version}"
            if ambiguous:
                verdict = _ambiguous(path, spec)
            else:
                verdict = judge_file(
                    path,
                    VersionRef(spec, context, version),
                    spill_dir,
                    settings.pii_key,
                    settings.reject_threshold,
                    settings.suites_dir,
                )
            if verdict.extra_columns:
                notices.append(
                    Notice(
                        str(path.relative_to(settings.inbox)),
                        "unexpected_columns",
                        "ignored column(s): " + ", ".join(verdict.extra_columns),
                    )
                )
            record = VersionRecord(
                period,
                district_code,
                dataset,
                version,
                path.name,
                sha,
                path.stat().st_size,
                received_at(path),
                deadline,
                str(stored),
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
    for notice in notices:
        log.warning("inbox %s: %s (%s)", notice.path, notice.code, notice.detail)
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
