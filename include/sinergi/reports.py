"""What a run publishes: a summary for data engineers and feedback for district operators.

Reports never contain NIK or No. KK: the feedback tells the operator the row number and the
column, which is enough to find the row in their own file. Every text that comes from a
district (file names, rejection details, notices) is scrubbed by shape on the way out
(``scrub_identifiers``): a NIK typed into the wrong cell can turn up in a rejection detail.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sinergi import reference
from sinergi.approvals import Standing, standing_in_period
from sinergi.config import Settings
from sinergi.datadocs import build_site
from sinergi.datasets import SPECS
from sinergi.feedback import (
    FileFacts,
    OutlierFacts,
    RowFacts,
    notice_line,
    write_csv,
    write_district_feedback,
    write_xlsx,
)
from sinergi.feedback_ledger import FeedbackLedger
from sinergi.periods import Period
from sinergi.scrub import scrub_identifiers
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.schema import (
    FILE_VERSIONS,
    INBOX_NOTICES,
    ROW_REJECTIONS,
    ROW_WARNINGS,
    params_from_text,
)
from sinergi.workers import processes_wanted, run_pieces

log = logging.getLogger(__name__)
T = TypeVar("T")


def _latest_versions(conn, wh, period: Period) -> list[tuple]:
    """The latest version of each (district, dataset): the fields of ``FileFacts``, then its
    ``rejection_params`` (JSON text), between the district code and the SHA-256 (which tells
    the feedback ledger that rows changed)."""
    return wh.execute(
        conn,
        "select district_code, dataset, version, file_name, status, rejection_reason, "
        "rejection_detail, rows_total, rows_accepted, rows_rejected, rejection_params, sha256 "
        f"from {FILE_VERSIONS.qualified} f "
        "where period = %s and version = (select max(version) from "
        f"{FILE_VERSIONS.qualified} g where g.period = f.period and "
        "g.district_code = f.district_code and g.dataset = f.dataset) "
        "order by district_code, dataset",
        (period.first_day,),
    )


def _holds(conn, wh, period: Period, latest: list[tuple]) -> dict[str, dict[str, Standing]]:
    """district -> dataset -> the standing approval holding back its latest version: a
    servable version newer than the one the approval locked (sinergi.approvals)."""
    standing = standing_in_period(wh, conn, period)
    holds: dict[str, dict[str, Standing]] = {}
    for row in latest:
        district, dataset, version, status = row[0], row[1], row[2], row[4]
        held = standing.get((district, dataset))
        if held and status in ("ACCEPTED", "PARTIAL") and version > (held.approved_version or 0):
            holds.setdefault(district, {})[dataset] = held
    return holds


def _dtks_before(conn, wh, period: Period) -> set[str]:
    """Districts with a DTKS loaded in an earlier period: it stays in effect (contract)."""
    rows = wh.execute(
        conn,
        f"select distinct district_code from {FILE_VERSIONS.qualified} "
        "where dataset = 'dtks' and period < %s and status in ('ACCEPTED', 'PARTIAL')",
        (period.first_day,),
    )
    return {row[0] for row in rows}


def _outliers(conn, wh, period: Period, marts: dict[str, int]) -> dict[str, list[OutlierFacts]]:
    """The period's rows of ``marts.fct_outliers`` by district (none before its first build)."""
    if "fct_outliers" not in marts:
        return {}
    rows = wh.execute(
        conn,
        "select district_code, dataset, indicator, breakdown, method, value, previous_value, "
        "relative_change, history_months, baseline_median, direction from marts.fct_outliers "
        "where period = %s order by district_code, dataset, indicator, breakdown, method",
        (period.first_day,),
    )
    out: dict[str, list[OutlierFacts]] = {}
    for district, *facts in rows:
        out.setdefault(district, []).append(OutlierFacts(*facts))
    return out


# Feedback lines above which the districts' files are written in worker processes: building
# and writing them costs ~40 us a line in pure Python (130,000 lines of one district: ~5 s on
# one core, bench/feedback_xlsx.py), starting the worker processes ~1-3 s.
PARALLEL_MIN_LINES = 50_000


def _feedback_workers(pieces: list[tuple[str, tuple]], lines: dict[str, int]) -> int:
    """Worker processes for the month's feedback: 0 (this process) unless it has many row
    ``lines`` (by district)."""
    if sum(lines.values()) < PARALLEL_MIN_LINES:
        return 0
    workers = min(processes_wanted(), len(pieces))
    return workers if workers > 1 else 0


@dataclass(frozen=True)
class DistrictRows:
    """Where one district's rejected and warned rows are, for whoever writes its feedback.

    A piece of the month's feedback carries this instead of the rows: the worker writing the
    district fetches them itself, so the task's process never holds the month's rows (171,360
    lines of a province month were ~200 MB in it, then pickled again to the workers)."""

    warehouse_url: str
    period: str
    district: str
    versions: tuple[tuple, ...]  # the district's latest versions (``_latest_versions`` rows)

    def fetch(self) -> tuple[list[RowFacts], list[RowFacts]]:
        """(rejected rows, warned rows) of the district's latest versions."""
        wh = open_warehouse(self.warehouse_url)
        period = Period.parse(self.period)
        rows, warnings = _row_facts(wh, period, list(self.versions), [self.district])
        return rows.get(self.district, []), warnings.get(self.district, [])


def district_feedback(
    folder: Path,
    district: str,
    period: str,
    files: list[FileFacts],
    rows: list[RowFacts] | DistrictRows,
    notices: list[tuple[str, str, str]],
    dtks_before: bool,
    warnings: list[RowFacts],
    outliers: list[OutlierFacts],
) -> Path:
    """``write_district_feedback``; given a :class:`DistrictRows` for ``rows``, the rejected
    and the warned rows are fetched from it first (``warnings`` is then not read)."""
    if isinstance(rows, DistrictRows):
        rows, warnings = rows.fetch()
    facts = (district, period, files, rows, notices, dtks_before, warnings, outliers)
    return write_district_feedback(folder, *facts)


def _write_feedback_files(
    pieces: list[tuple[str, tuple]], lines: dict[str, int], workers: int
) -> tuple[list[str], list[str]]:
    """Write each district's feedback (:func:`district_feedback` with the piece's arguments),
    in ``workers`` worker processes (0: here); (districts written, "district: problem" of
    those that failed)."""
    if not workers:
        for _, args in pieces:
            district_feedback(*args)
        return [district for district, _ in pieces], []
    total = sum(lines.values())
    log.info("district feedback: %d lines, written in %d worker processes", total, workers)
    largest_first = sorted(pieces, key=lambda piece: -lines[piece[0]])
    written, failed = [], []
    for district, _, problem in run_pieces(district_feedback, largest_first, workers):
        if problem is None:
            written.append(district)
        else:
            failed.append(f"{district}: {type(problem).__name__}: {problem}")
    return sorted(written), failed


def _feedback_alongside(
    pieces: list[tuple[str, tuple]], lines: dict[str, int], meanwhile: Callable[[], T]
) -> tuple[list[str], list[str], T]:
    """Write the feedback (:func:`_write_feedback_files`) and call ``meanwhile``; returns
    (districts written, failures, what ``meanwhile`` returned).

    When the feedback goes to worker processes, ``meanwhile`` runs in this process while
    they write (a thread waits for them): the Data Docs and the bulletin of a province month
    (~4 s) do not read the feedback, and the workers leave this process's core idle.
    """
    workers = _feedback_workers(pieces, lines)
    if not workers:
        written, failed = _write_feedback_files(pieces, lines, 0)
        return written, failed, meanwhile()
    with ThreadPoolExecutor(1, thread_name_prefix="feedback") as background:
        feedback = background.submit(_write_feedback_files, pieces, lines, workers)
        other = meanwhile()
        written, failed = feedback.result()
    return written, failed, other


def _site_and_bulletin(
    period: Period, settings: Settings, marts: dict[str, int], unchanged: bool
) -> tuple[str, str | None]:
    """The Data Docs index and the bulletin (None when the marts are not built yet)."""
    return str(_data_docs(settings, unchanged)), _bulletin(period, settings, marts)


def _district_notices(wh, conn, period: Period) -> dict[str, list[tuple]]:
    """Notices about files inside ``<period>/<district>/``, by district (for its feedback);
    the others (unknown district folders, files beside the folders) under ``""``."""
    rows = wh.execute(
        conn,
        f"select path, notice_code, detail from {INBOX_NOTICES.qualified} "
        "where period = %s order by path, notice_code",
        (period.first_day,),
    )
    known = reference.district_codes()
    out: dict[str, list[tuple]] = {}
    for path, code, detail in rows:
        parts = path.split("/")
        district = parts[1] if len(parts) >= 3 and parts[1] in known else ""
        out.setdefault(district, []).append((path, code, detail))
    return out


def _write_unplaced(folder: Path, notices: list[tuple]) -> None:
    """``tidak-dikenal.csv``: what no district's feedback can hold (a folder named like no
    district, a file beside the district folders), for the province to pass on."""
    lines = [notice_line(*notice) for notice in notices]
    for line, (path, *_) in zip(lines, notices, strict=True):
        line[0] = path.split("/", 1)[-1]  # the folder too: the file name alone says nothing
    summary = [[line[0], line[2], line[6], line[7]] for line in lines]
    path = write_csv(folder / "tidak-dikenal.csv", lines)
    write_xlsx(path.with_suffix(".xlsx"), lines, summary)


def _row_counts(wh, period: Period, latest: list[tuple], districts: list[str]) -> dict[str, int]:
    """Rejected plus warned rows of the latest versions of ``districts``, by district: the
    feedback's lines, to decide on workers and hand out the largest first."""
    lines = dict.fromkeys(districts, 0)
    if not districts:
        return lines
    marks = ", ".join(["%s"] * len(districts))
    counted = " union all ".join(
        f"select district_code, dataset, version, count(*) from {table.qualified} "
        f"where period = %s and district_code in ({marks}) group by district_code, dataset, version"
        for table in (ROW_REJECTIONS, ROW_WARNINGS)
    )
    with wh.connect() as conn:
        found = wh.execute(conn, counted, (period.first_day, *districts) * 2)
    latest_keys = {(r[0], r[1], r[2]) for r in latest}
    for district, dataset, version, count in found:
        if (district, dataset, version) in latest_keys:
            lines[district] += count
    return lines


def _row_facts(
    wh, period: Period, latest: list[tuple], districts: list[str]
) -> tuple[dict[str, list[RowFacts]], dict[str, list[RowFacts]]]:
    """The rejected and warned rows of the served versions of ``districts``, by district."""
    if not districts:
        return {}, {}
    marks = ", ".join(["%s"] * len(districts))
    with wh.connect() as conn:
        rejected_rows = wh.execute(
            conn,
            "select district_code, dataset, version, row_number, reason_codes, original_values "
            f"from {ROW_REJECTIONS.qualified} where period = %s and district_code in ({marks}) "
            "order by district_code, dataset, version, row_number",
            (period.first_day, *districts),
        )
        warning_rows = wh.execute(
            conn,
            "select district_code, dataset, version, row_number, warning_code "
            f"from {ROW_WARNINGS.qualified} where period = %s and district_code in ({marks}) "
            "order by district_code, dataset, version, row_number",
            (period.first_day, *districts),
        )
    latest_keys = {(r[0], r[1], r[2]) for r in latest}
    rows: dict[str, list[RowFacts]] = {}
    for district, dataset, version, row_number, codes, originals in rejected_rows:
        if (district, dataset, version) in latest_keys:
            rows.setdefault(district, []).append(
                RowFacts(dataset, version, row_number, codes, originals)
            )
    warnings: dict[str, list[RowFacts]] = {}
    for district, dataset, version, row_number, code in warning_rows:
        if (district, dataset, version) in latest_keys:
            warnings.setdefault(district, []).append(
                RowFacts(dataset, version, row_number, code, "{}")
            )
    return rows, warnings


def publish(period_text: str, build: dict, settings: Settings) -> dict:
    """Write ``<reports>/<period>/``: summary.json, summary.md, district feedback, Data Docs."""
    period = Period.parse(period_text)
    folder = settings.reports_dir / str(period)
    feedback_dir = folder / "umpan-balik"
    feedback_dir.mkdir(parents=True, exist_ok=True)
    wh = open_warehouse(settings.warehouse_url)
    with wh.connect() as conn:
        latest = _latest_versions(conn, wh, period)
        marts = mart_row_counts(wh, conn)
        outliers = _outliers(conn, wh, period, marts)
        notices = _district_notices(wh, conn, period)
        unplaced = notices.pop("", [])
        dtks_before = _dtks_before(conn, wh, period)
        holds = _holds(conn, wh, period, latest)

    status = {ds: Counter() for ds in SPECS}
    by_district: dict[str, list[tuple]] = {}
    for row in latest:
        status[row[1]][row[4]] += 1
        by_district.setdefault(row[0], []).append(row)
    for ds in SPECS:
        status[ds]["MISSING"] = len(reference.district_codes()) - sum(status[ds].values())
    districts = sorted(set(by_district) | set(notices))
    facts = {
        d: (
            by_district.get(d, []),
            notices.get(d, []),
            d in dtks_before,
            outliers.get(d, []),
            holds.get(d, {}),
        )
        for d in districts
    }
    ledger = FeedbackLedger(feedback_dir)
    stale = [d for d in districts if not ledger.current(d, facts[d])]
    lines = _row_counts(wh, period, latest, stale)
    pieces = []
    for district in stale:
        versions, district_notices, dtks_in_effect, district_outliers, held = facts[district]
        files = [
            FileFacts(*row[1:-2], held_by=held.get(row[1]), params=params_from_text(row[-2]))
            for row in versions
        ]
        rows = DistrictRows(settings.warehouse_url, str(period), district, tuple(versions))
        args = (feedback_dir, district, str(period), files, rows, district_notices)
        pieces.append((district, (*args, dtks_in_effect, [], district_outliers)))
    unchanged = bool(build.get("unchanged"))
    written, failed, (data_docs, bulletin) = _feedback_alongside(
        pieces, lines, lambda: _site_and_bulletin(period, settings, marts, unchanged)
    )
    for district in written:
        ledger.written(district, facts[district])
    ledger.save()
    if failed:
        raise RuntimeError(f"district feedback could not be written: {'; '.join(failed)}")
    log.info(
        "district feedback for %s: %d written, %d unchanged (kept)",
        period,
        len(written),
        len(districts) - len(stale),
    )
    if unplaced:
        _write_unplaced(feedback_dir, unplaced)

    summary = {
        "period": str(period),
        "datasets": {ds: dict(counts) for ds, counts in status.items()},
        "marts": marts,
        "dbt_success": build.get("success"),
        "dbt_failed_tasks": list(build.get("failed") or []),
        "marts_unchanged": unchanged,
        "dbt_docs": str(settings.reports_dir / "dbt-docs" / "index.html"),
        "reports_dir": str(folder),
        "feedback_dir": str(feedback_dir),
    }
    summary["data_docs"], summary["bulletin"] = data_docs, bulletin
    (folder / "summary.json").write_text(
        scrub_identifiers(json.dumps(summary, indent=2)), encoding="utf-8"
    )
    (folder / "summary.md").write_text(scrub_identifiers(render_summary(summary)), encoding="utf-8")
    log.info("reports for %s written to %s", period, folder)
    return summary


def _data_docs(settings: Settings, unchanged: bool) -> Path:
    """The Data Docs index, rendered again only when something new may be in it.

    Data Docs show every file version; when the run found the marts' inputs unchanged no
    version was added, so the site already on disk is current and is kept as it is.
    """
    index = settings.reports_dir / "data-docs" / "index.html"
    if unchanged and index.is_file():
        log.info("Data Docs unchanged (no new file version): kept %s", index)
        return index
    return build_site(settings)


def _bulletin(period: Period, settings: Settings, marts: dict[str, int]) -> str | None:
    """The programme managers' bulletin (``sinergi.bulletin``), from the marts as they are.

    Not written while a mart it reads does not exist yet (dbt never succeeded): the summary
    then says so instead of pointing to a page of empty figures.
    """
    from sinergi.bulletin import build
    from sinergi.bulletin.data import MARTS_READ

    absent = [name for name in MARTS_READ if name not in marts]
    if absent:
        log.warning("no bulletin for %s: marts not built yet (%s)", period, ", ".join(absent))
        return None
    return str(build(period, settings.reports_dir, settings.warehouse_url))


def _bulletin_line(summary: dict) -> str:
    """The bulletin as links relative to summary.md (which sits in ``<reports>/<period>/``)."""
    if not summary.get("bulletin"):
        return "Bulletin: not written, the marts are not built yet"
    pdf = f"bulletin/buletin-{summary['period']}.pdf"
    return f"Bulletin: [bulletin/index.html](bulletin/index.html) (PDF: [{pdf}]({pdf}))"


def mart_row_counts(wh, conn) -> dict[str, int]:
    tables = wh.execute(
        conn,
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "order by table_name",
    )
    return {
        name: int(wh.execute(conn, f"select count(*) from marts.{name}")[0][0])
        for (name,) in tables
    }


def render_summary(summary: dict) -> str:
    lines = [
        f"# Sinergi run summary: {summary['period']}",
        "",
        "| dataset | ACCEPTED | PARTIAL | REJECTED | MISSING |",
        "|---|---|---|---|---|",
    ]
    for ds, counts in summary["datasets"].items():
        lines.append(
            f"| {ds} | {counts.get('ACCEPTED', 0)} | {counts.get('PARTIAL', 0)} | "
            f"{counts.get('REJECTED', 0)} | {counts.get('MISSING', 0)} |"
        )
    if summary.get("dbt_failed_tasks"):
        lines += ["", "dbt tasks that FAILED: " + ", ".join(summary["dbt_failed_tasks"])]
    if summary.get("marts_unchanged"):
        lines += [
            "",
            "Marts unchanged: nothing new since their last build (no new file version, period, "
            "dbt project change or threshold change), so dbt and dbt docs did not run.",
        ]
    lines += ["", "| mart | rows |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in summary["marts"].items()]
    lines += [
        "",
        f"District feedback: {summary['feedback_dir']}",
        _bulletin_line(summary),
        f"Validation reports (Great Expectations Data Docs): {summary.get('data_docs')}",
        f"dbt docs: {summary.get('dbt_docs')}",
        "",
    ]
    return "\n".join(lines)
