"""End to end: generate an inbox, run the real DAG for two periods, check the warehouse.

The expected numbers are computed here from the generated files with plain pandas
(``independent.py``), never taken from the pipeline's own code.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sinergi.cli import run_period
from sinergi.generate import generate_inbox
from sinergi.periods import Period
from sinergi.reference import district_codes
from tests.integration.independent import inbox_files, read_any

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("e2e-duckdb")]
PERIODS = ["2025-01", "2025-02"]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, airflow_db):
    """One clean two-month inbox run through the DAG (shared by the tests of this module)."""
    root = tmp_path_factory.mktemp("e2e")
    inbox = root / "inbox"
    generate_inbox(inbox, PERIODS, seed=7, scale=0.0005, faults=False)
    env = {
        "SINERGI_DATA_DIR": str(root / "data"),
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": f"duckdb:///{root / 'warehouse.duckdb'}",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        states = [run_period(Period.parse(p)) for p in PERIODS]
        yield root, inbox, states
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def query(root: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).df()


def test_runs_succeed(clean_run):
    _, _, states = clean_run
    assert states == ["success", "success"]


def test_every_clean_file_is_accepted_with_its_row_count(clean_run):
    root, inbox, _ = clean_run
    versions = query(root, "select * from audit.file_versions")
    for period in PERIODS:
        files = inbox_files(inbox, period)
        assert files, "the generator wrote no files"
        got = versions[versions["period"].astype(str) == f"{period}-01"]
        assert len(got) == len(files)
        for (district, dataset), path in files.items():
            row = got[(got["district_code"] == district) & (got["dataset"] == dataset)]
            assert row["status"].tolist() == ["ACCEPTED"], (district, dataset)
            assert int(row["rows_total"].iloc[0]) == len(read_any(path, dataset)), path


def test_raw_rows_match_files(clean_run):
    root, inbox, _ = clean_run
    for dataset in ("ppks", "psks", "penerima_bantuan", "dtks"):
        counts = query(
            root,
            f"select strftime(_period, '%Y-%m') as period, _district_code as district, "
            f"count(*) as n from raw.{dataset} group by all",
        )
        got = {(r.period, r.district): r.n for r in counts.itertuples()}
        expected = {
            (period, district): len(read_any(path, dataset))
            for period in PERIODS
            for (district, ds), path in inbox_files(inbox, period).items()
            if ds == dataset
        }
        assert got == expected, dataset


def test_no_raw_nik_outside_quarantine(clean_run):
    root, inbox, _ = clean_run
    niks = set()
    for period in PERIODS:
        for (_, dataset), path in inbox_files(inbox, period).items():
            if dataset == "penerima_bantuan":
                niks |= set(read_any(path, dataset)["nik"])
    assert niks
    for table in ("raw.penerima_bantuan", "raw.dtks"):
        frame = query(root, f"select * from {table}")
        values = set(frame.astype(str).to_numpy().ravel())
        assert not (values & niks), table


def test_program_reach_recipients_match_files(clean_run):
    root, inbox, _ = clean_run
    expected = {}
    for period in PERIODS:
        for (district, dataset), path in inbox_files(inbox, period).items():
            if dataset != "penerima_bantuan":
                continue
            rows = read_any(path, dataset)
            paid = rows[rows["status_salur"].str.upper() == "SALUR"]
            for program, group in paid.groupby(paid["kode_program"].str.upper()):
                expected[(period, district, program)] = group["nik"].nunique()
    marts = query(
        root,
        "select strftime(period, '%Y-%m') as period, district_code, program_code, recipients "
        "from marts.fct_program_reach where is_reported",
    )
    got = {
        (r.period, r.district_code, r.program_code): int(r.recipients)
        for r in marts.itertuples()
        if r.recipients
    }
    assert got == expected


def test_dag_run_has_one_mapped_instance_per_district(clean_run):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(
                TaskInstance.map_index, TaskInstance.rendered_map_index, TaskInstance.state
            )
            .filter(TaskInstance.dag_id == "sinergi_monthly")
            .filter(TaskInstance.task_id == "validate_and_load")
            .filter(TaskInstance.run_id.like("%"))
            .all()
        )
    by_run = {}
    for map_index, label, state in rows:
        by_run.setdefault(label, []).append((map_index, state))
    assert set(by_run) == set(district_codes())
    assert all(state == "success" for runs in by_run.values() for _, state in runs)


def _snapshot(root: Path) -> dict[str, list]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as conn:
        tables = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'audit', 'marts', 'intermediate', 'staging') "
            "and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
        return {t: conn.execute(f"select * from {t} order by all").fetchall() for (t,) in tables}


def test_rerunning_a_period_changes_nothing(clean_run):
    root, _, _ = clean_run
    before = _snapshot(root)
    assert run_period(Period.parse(PERIODS[-1])) == "success"
    after = _snapshot(root)
    assert before.keys() == after.keys()
    for table in before:
        assert before[table] == after[table], table
