"""No NIK or No. KK leaves the quarantine (contract §5.3): warehouse, logs, output, reports.

Personal identifiers may live in ``audit.row_rejections`` only (auditors); everything else is
read by BI users, operators or district staff. The faulty inbox is the hard case: rejected
rows carry raw identifiers into the quarantine, GX results carry failing values, feedback
files talk about rejected rows. Every identifier-like value of the generated files' NIK and
No. KK columns (valid or not: a mistyped NIK is still someone's NIK) is searched for, as a
substring, in every cell of every other table, in the Airflow task logs, in the run's
stdout/stderr and in every file under the reports folder. The quarantine must contain some of
them, so a search that cannot find anything fails instead of passing.

Shares the faulty-inbox DAG run of ``test_faulty_inbox.py`` (one run per session).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.contract_oracle import PERSONAL, Unreadable, read_file, scan_period
from tests.integration.independent import SharedRun, WarehouseReader, shared_run
from tests.integration.test_faulty_inbox import PERIODS, build_faulty

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("faulty-inbox")]
_RUN = re.compile(r"[0-9]{15,}")


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    yield from shared_run(tmp_path_factory, "faulty-inbox", build_faulty)


@pytest.fixture(scope="module")
def identifiers(faulty_run) -> frozenset[str]:
    """Every run of 15+ digits in a NIK / No. KK cell of the generated files."""
    inbox = Path(faulty_run.result["inbox"])
    found: set[str] = set()
    for period in PERIODS:
        for (_, dataset), paths in scan_period(inbox, period).submissions.items():
            for path in paths:
                try:
                    read = read_file(path, dataset)
                except Unreadable:
                    continue
                for _, cells in read.rows:
                    for column in PERSONAL.get(dataset, ()):
                        found.update(_RUN.findall(cells.get(column) or ""))
    assert len(found) > 5000
    return frozenset(found)


def leaks(text: str, identifiers: frozenset[str]) -> set[str]:
    """The identifiers that occur in ``text`` (also inside longer digit runs)."""
    lengths = {len(i) for i in identifiers}
    hits = set()
    for run in _RUN.findall(text):
        for size in lengths:
            hits.update(run[i : i + size] for i in range(len(run) - size + 1))
    return hits & identifiers


def table_texts(run: SharedRun) -> dict[str, str]:
    """Every table and view of every schema, all columns cast to text, one string each."""
    reader = WarehouseReader(run.result["url"])
    with run.reading():
        tables = reader.rows(
            "select table_schema as s, table_name as t from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog')"
        )
        out = {}
        for t in tables:
            name = f'"{t["s"]}"."{t["t"]}"'
            rows = reader.rows(f"select * from {name}")
            out[f"{t['s']}.{t['t']}"] = "\n".join(
                "\x1f".join(str(v) for v in r.values()) for r in rows
            )
    return out


def test_quarantine_holds_identifiers(faulty_run, identifiers):
    texts = table_texts(faulty_run)
    assert len(leaks(texts["audit.row_rejections"], identifiers)) > 20


def test_no_identifier_in_any_other_table(faulty_run, identifiers):
    texts = table_texts(faulty_run)
    assert {"raw.penerima_bantuan", "raw.dtks", "audit.validation_results"} <= set(texts)
    assert any(t.startswith("marts.") for t in texts)
    found = {
        table: sorted(leaks(text, identifiers))[:3]
        for table, text in texts.items()
        if table != "audit.row_rejections"
    }
    assert not {t: hits for t, hits in found.items() if hits}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_no_identifier_in_task_logs_or_run_output(faulty_run, identifiers):
    """``sinergi run`` runs the DAG with ``dag.test()``: task logs go to the process output
    (AIRFLOW_HOME/logs is searched too, for whatever Airflow writes there)."""
    logs = _files(Path(faulty_run.result["airflow_home"]) / "logs")
    outputs = [faulty_run.folder / f"run-{p}.log" for p in PERIODS]
    texts = {p: p.read_text(errors="replace") for p in logs + outputs}
    everything = "\n".join(texts.values())
    # The searched text really holds the district tasks' log lines (one per file version).
    judged = re.findall(r"\b35\d\d \w+ v\d+ \([^)]*\): (?:ACCEPTED|PARTIAL|REJECTED)", everything)
    assert len(judged) > 250
    found = {str(p): sorted(leaks(t, identifiers))[:3] for p, t in texts.items()}
    assert not {p: hits for p, hits in found.items() if hits}


def test_no_identifier_in_reports(faulty_run, identifiers):
    reports = Path(faulty_run.result["data_dir"]) / "reports"
    files = _files(reports)
    suffixes = {p.suffix for p in files}
    assert {".html", ".json", ".csv", ".md"} <= suffixes, suffixes
    found = {
        str(p.relative_to(reports)): sorted(leaks(p.read_text(errors="replace"), identifiers))[:3]
        for p in files
    }
    assert not {p: hits for p, hits in found.items() if hits}
