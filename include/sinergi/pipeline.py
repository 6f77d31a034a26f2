"""The monthly pipeline's steps as plain functions; the DAG only wires them into tasks.

``prepare_period`` and ``judge_period`` run once per period, ``process_district`` once per
district (one mapped task instance each), so a data engineer can retry one district alone.
Bad data never raises: it becomes a verdict in ``audit``. Only infrastructure problems
(warehouse down, disk full) raise, and those are worth a retry.

A district is three stages: receive (``sinergi.arrivals``: archive, hash, number versions),
judge (``sinergi.judgement``: no warehouse access; leaves a judged-version folder) and load
(``sinergi.warehouse.loader``: copies that folder in one transaction). In a monthly run the
``judge`` task judges every district's new versions together (``judge_period``) and, under
``sinergi run``, loads them too; each district task loads (or reports) them, and judges and
loads itself whatever that left.
Names a district chose go through :func:`sinergi.scrub.printable` before they reach a log line.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from sinergi import reference
from sinergi.arrivals import has_something_new, receive
from sinergi.config import Settings
from sinergi.datadocs import save_results
from sinergi.datasets import SPECS
from sinergi.inbox import Notice, notice, scan_district, scan_period_notices
from sinergi.judge_workers import judge_datasets
from sinergi.marts_inputs import fingerprint, last_built, record_build
from sinergi.periods import Period
from sinergi.scrub import printable
from sinergi.versions import FileVersion, JudgeOptions
from sinergi.warehouse.connection import PostgresWarehouse, open_warehouse
from sinergi.warehouse.loader import (
    known_versions,
    load_judged_version,
    record_notices,
    record_processed_period,
    recorded_here,
    recorded_notices,
)
from sinergi.warehouse.pii_key import check_pii_key
from sinergi.warehouse.roles import init_postgres

if TYPE_CHECKING:
    from sinergi.judgement import Verdict

log = logging.getLogger(__name__)


def prepare_period(period: Period, settings: Settings, districts: list[str] | None = None) -> dict:
    """Create the warehouse tables, mark P processed, record notices, and plan the run.

    Returns ``{"period", "jobs", "loads"}``: ``jobs`` one per district the run covers (every
    district, or ``districts`` when the run reprocesses a subset), ``loads`` the jobs of the
    districts that get a ``validate_and_load`` task. Without a subset that is only the
    districts with something new (:func:`sinergi.arrivals.has_something_new`): a district
    whose files are all recorded versions would load nothing, and each mapped task costs
    Airflow's per-task overhead (docs/performance.md). A subset is reprocessed whole: the
    user asked for those districts.
    """
    wanted = sorted(districts) if districts else sorted(reference.district_codes())
    unknown = sorted(set(wanted) - reference.district_codes())
    if unknown:
        raise ValueError(f"unknown district code(s) {', '.join(unknown)}: use 3501 … 3579")
    wh = open_warehouse(settings.warehouse_url)
    with wh.batch():  # one PostgreSQL session, one open DuckDB file, for the bookkeeping
        wh.ensure_schema()
        check_pii_key(wh, settings)  # binds a fresh warehouse; refuses another key, no retries
        if isinstance(wh, PostgresWarehouse):
            init_postgres(wh)  # idempotent: reader roles keep their grants on rebuilt marts
        record_processed_period(wh, period)
        notices = scan_period_notices(settings.inbox, period)
        record_notices(wh, period, notices)
        _log_notices(notices)
        jobs = [{"period": str(period), "district_code": code} for code in wanted]
        if districts:
            loads = jobs
        else:
            reported = recorded_notices(wh, period)
            loads = [
                job
                for job in jobs
                if _has_something_new(wh, period, job["district_code"], settings, reported)
            ]
            log.info(
                "%s: %d of %d districts have new files or inbox entries to report: %s",
                period,
                len(loads),
                len(jobs),
                ", ".join(job["district_code"] for job in loads) or "nothing to load",
            )
    return {"period": str(period), "jobs": jobs, "loads": loads}


def _has_something_new(
    wh, period: Period, district_code: str, settings: Settings, reported: set[tuple[str, str]]
) -> bool:
    found = scan_district(settings.inbox, period, district_code)
    if not found.files and not found.notices:
        return False
    known = known_versions(wh, period, district_code)
    return has_something_new(found, known, settings.inbox, reported)


def judge_period(period: Period, settings: Settings, districts: list[str] | None = None) -> dict:
    """Judge every new file version of the period, the files of all districts together (and
    load what was judged, when ``settings.load_in_judge``).

    Great Expectations costs ~0.5 s per validation whatever the rows (docs/performance.md):
    judged one by one, a month's ~150 small files cost minutes of set-up. Here each dataset's
    new versions of every district share their validations (``judgement.judge_together``).
    With ``settings.load_in_judge`` (``sinergi run``) each version judged is also loaded at
    once, in its own transaction, by the worker that judged it
    (``judge_workers.judge_and_load``), so loading overlaps judging. Receiving is
    idempotent (content-addressed archive, versions numbered from the warehouse), so each
    district task receives again: it reports a version loaded here (its folder is still
    there), loads a folder judged here but not loaded, and judges and loads on its own
    anything else (a file that arrived since, a version whose judgement failed here, a
    district cleared and re-run alone).
    """
    wanted = sorted(reference.district_codes()) if districts is None else sorted(districts)
    if not wanted:
        log.info("%s: no district has anything new: nothing to judge", period)
        return {"period": str(period), "datasets": {}}
    wh = open_warehouse(settings.warehouse_url)
    with wh.batch():
        check_pii_key(wh, settings)
        jobs, _ = receive_month(wh, period, settings, wanted)
    load_into = settings.warehouse_url if settings.load_in_judge else None
    counts = judge_datasets(jobs, JudgeOptions.from_settings(settings), load_into)
    judged = {}
    for dataset, items in sorted(jobs.items()):
        done, loaded = counts[dataset]
        judged[dataset] = {"new_versions": len(items), "judged": done, "loaded": loaded}
        if load_into is None:
            log.info(
                "%s %s: %d new version(s) judged together (their district tasks load them)",
                period,
                dataset,
                done,
            )
        else:
            log.info(
                "%s %s: %d new version(s) judged together, %d loaded", period, dataset, done, loaded
            )
    return {"period": str(period), "datasets": judged}


def receive_month(
    wh, period: Period, settings: Settings, districts: list[str]
) -> tuple[dict[str, list[tuple[FileVersion, Path, bool]]], list[Notice]]:
    """Receive every district's files: dataset -> [(version, its folder, ambiguous)], notices.

    A district whose files cannot be received (disk, permissions) is logged and left out:
    its own task receives again and reports it.
    """
    jobs: dict[str, list[tuple[FileVersion, Path, bool]]] = {}
    notices: list[Notice] = []
    for code in districts:
        try:
            found = scan_district(settings.inbox, period, code)
            arrivals = receive(found, known_versions(wh, period, code), period, settings)
        except OSError:
            log.exception("%s: receiving failed; its district task tries again", code)
            continue
        notices += arrivals.notices
        for arrival in arrivals.new:
            version = arrival.version
            folder = judged_folder(settings, version)
            jobs.setdefault(version.dataset, []).append((version, folder, arrival.ambiguous))
    return jobs, notices


def process_district(period: Period, district_code: str, settings: Settings) -> dict:
    """Receive, judge and load (unless ``judge_period`` did) every new version of a district."""
    from sinergi.judgement import judge_version, prejudged  # pandas: here, not at import

    wh = open_warehouse(settings.warehouse_url)
    with wh.session():  # one PostgreSQL session for the task's bookkeeping and loads
        with wh.batch():  # DuckDB opened once for both; judging below runs without its lock
            check_pii_key(wh, settings)  # before anything is archived, judged or loaded
            known = known_versions(wh, period, district_code)
        found = scan_district(settings.inbox, period, district_code)
        loaded = _loaded_by_judge(settings, period, district_code, known)
        # versions the judge loaded are this run's news: received as new, with the same numbers
        arrivals = receive(found, _without(known, loaded), period, settings)
        options = JudgeOptions.from_settings(settings)
        outcomes, notices = list(arrivals.unchanged), list(arrivals.notices)
        for arrival in arrivals.new:
            version = arrival.version
            folder = judged_folder(settings, version)
            verdict = prejudged(version, folder)
            by_judge = loaded.get(version.dataset, {}).get(version.sha256) == version.version
            if verdict is None:
                verdict = judge_version(version, folder, options, ambiguous=arrival.ambiguous)
                by_judge = False
            if not by_judge:
                load_judged_version(wh, folder)
            shutil.rmtree(folder, ignore_errors=True)
            save_validation_results(settings, version, verdict)
            if verdict.extra_columns:
                notices.append(
                    _extra_columns_notice(settings, arrival.inbox_path, verdict.extra_columns)
                )
            outcomes.append(verdict.outcome(version))
            log.info(_summary_line(version, verdict) + (" (loaded by judge)" if by_judge else ""))

        record_notices(wh, period, notices)
    _log_notices(notices)
    missing = sorted(set(SPECS) - set(found.files))
    if missing:
        log.info("%s: no file for %s", district_code, ", ".join(missing))
    return {
        "period": str(period),
        "district_code": district_code,
        "files": outcomes,
        "missing": missing,
    }


def _loaded_by_judge(
    settings: Settings, period: Period, district_code: str, known: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """The recorded versions (dataset -> {sha256: version}) whose judged folder is still in the
    work folder: loaded by ``judge_period`` and not reported yet (a district task removes the
    folder of every version it reports)."""
    loaded: dict[str, dict[str, int]] = {}
    for dataset, versions in known.items():
        for sha, number in versions.items():
            folder = _judged_folder(settings, period, district_code, dataset, number)
            if recorded_here(folder, {dataset: {sha: number}}):
                loaded.setdefault(dataset, {})[sha] = number
    return loaded


def _without(
    known: dict[str, dict[str, int]], loaded: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    return {
        dataset: {sha: n for sha, n in versions.items() if sha not in loaded.get(dataset, {})}
        for dataset, versions in known.items()
    }


def save_validation_results(settings: Settings, version: FileVersion, verdict: Verdict) -> None:
    """Keep the version's (sanitised) Great Expectations results for its Data Docs pages."""
    save_results(
        settings.reports_dir,
        version.name,
        version.received_at,
        version.file_name,
        verdict.gx_results,
    )


def judged_folder(settings: Settings, version: FileVersion) -> Path:
    """Where the judge leaves a version for the loader (removed once it is reported)."""
    return _judged_folder(
        settings, version.period, version.district_code, version.dataset, version.version
    )


def _judged_folder(
    settings: Settings, period: Period, district_code: str, dataset: str, version: int
) -> Path:
    return settings.work_dir / str(period) / district_code / f"{dataset}-v{version}"


def _log_notices(notices: list[Notice]) -> None:
    for item in notices:
        log.warning(
            "inbox %s: %s (%s)", printable(item.path), item.code, printable(item.detail, 500)
        )


def _extra_columns_notice(settings: Settings, path: Path, names: list[str]) -> Notice:
    shown = ", ".join(printable(name, 60) for name in names[:20])
    if len(names) > 20:
        shown += f" and {len(names) - 20} more"
    return notice(settings.inbox, path, "unexpected_columns", "ignored column(s): " + shown)


def _summary_line(version: FileVersion, verdict: Verdict) -> str:
    top = ", ".join(f"{code} x{n}" for code, n in verdict.reason_counts.most_common(5))
    line = (
        f"{version.district_code} {version.dataset} v{version.version} "
        f"({printable(version.file_name)}): {verdict.status} - {verdict.rows_total} rows, "
        f"{verdict.rows_rejected} rejected"
    )
    if verdict.rejection_reason:
        line += f"; {verdict.rejection_reason}: {printable(verdict.rejection_detail or '', 500)}"
    if top:
        line += f"; reasons: {top}"
    return line


def resolve_period(requested: str | None, logical_date) -> Period:
    """The period a run works on: the ``period`` parameter, else the month before the run.

    Scheduled runs fire on day 11 (Asia/Jakarta) for the month that just closed.
    """
    if requested:
        return Period.parse(requested)
    from sinergi.periods import JAKARTA

    local = logical_date.astimezone(JAKARTA)
    return Period(local.year, local.month).previous()


def marts_to_build(period: Period, settings: Settings) -> str:
    """The marts' inputs fingerprint when they must be built, ``""`` when they are current.

    Current means built successfully from exactly these inputs before (``sinergi.marts_inputs``):
    a re-run with nothing new then skips dbt and dbt docs.
    """
    wh = open_warehouse(settings.warehouse_url)
    inputs = fingerprint(wh, settings.dbt_vars)
    if inputs == last_built(wh):
        log.info(
            "%s: nothing new since the marts were last built (inputs %s): dbt and dbt docs "
            "are skipped",
            period,
            inputs[:12],
        )
        return ""
    log.info("%s: the marts' inputs changed (now %s): dbt builds them", period, inputs[:12])
    return inputs


def remember_build(period: Period, build: dict, inputs: str | None, settings: Settings) -> None:
    """After a successful dbt build from ``inputs``: record it, so an unchanged re-run skips."""
    if inputs and build.get("success") and not build.get("unchanged"):
        record_build(open_warehouse(settings.warehouse_url), period, inputs)


def dbt_build(settings: Settings, select: list[str] | None = None):
    """``dbt build`` (of ``select`` only, if given) on the configured warehouse, without the
    resource types a month's build leaves out (:data:`sinergi.dbt.NOT_IN_MONTHLY_BUILD`).

    Never raises for a failed node: the returned outcome holds every node's status.
    """
    from sinergi.dbt import NOT_IN_MONTHLY_BUILD, build_project, run_dbt

    excluded = [
        option for kind in NOT_IN_MONTHLY_BUILD for option in ("--exclude-resource-type", kind)
    ]
    if not select:  # the whole project: its compiled manifest serves the docs (dbt_docs)
        return build_project(["build", *excluded], settings.warehouse_url, vars=settings.dbt_vars)
    return run_dbt(
        ["build", "--select", *select, *excluded],
        settings.warehouse_url,
        vars=settings.dbt_vars,
        raise_on_failure=False,
    )


def build_marts(districts: list[dict], settings: Settings) -> dict:
    """Run ``dbt build`` on the configured warehouse; returns per-node timings (no data)."""
    from sinergi.dbt import DbtRunError

    period = districts[0]["period"]
    outcome = dbt_build(settings)
    if not outcome.success:
        raise DbtRunError(outcome.describe_failure(), outcome)
    nodes = [
        {"name": n.name, "status": n.status, "seconds": round(n.execution_time, 3)}
        for n in outcome.nodes
    ]
    log.info(
        "dbt build for %s: %d nodes, %s", period, len(nodes), "ok" if outcome.success else "FAILED"
    )
    return {"period": period, "success": outcome.success, "nodes": nodes}
