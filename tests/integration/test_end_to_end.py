"""End to end: generate a clean inbox, run the real DAG for two periods, check the warehouse.

Once on DuckDB and once on PostgreSQL: the pipeline promises the same results on both
engines, and a type or SQL dialect slip shows up only on the one that was not tested. The
expected numbers come from the generated files through the contract oracle
(``tests/contract_oracle.py``) and the warehouse is read with plain duckdb / psycopg
(``independent.py``), never through the pipeline's own reader, rules or connection code.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sinergi.cli import run_period
from sinergi.generate import generate_inbox
from sinergi.periods import Period
from sinergi.reference import district_codes
from tests.contract_oracle import COLUMNS, PERSONAL, expected_versions, scan_period
from tests.integration.independent import (
    SharedRun,
    WarehouseReader,
    actual_raw,
    create_postgres_database,
    drop_postgres,
    environment,
    expected_raw,
    period_text,
    postgres_running,
    shared_run,
)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("e2e")]
PERIODS = ["2025-01", "2025-02"]
DATASETS = tuple(COLUMNS)


def _mapped_instances() -> dict[str, list]:
    """The latest DAG run's ``validate_and_load`` instances: label -> [[map_index, state]]."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        run = (
            session.query(DagRun)
            .filter(DagRun.dag_id == "sinergi_monthly")
            .order_by(DagRun.id.desc())
            .first()
        )
        rows = (
            session.query(
                TaskInstance.map_index, TaskInstance.rendered_map_index, TaskInstance.state
            )
            .filter(TaskInstance.dag_id == "sinergi_monthly")
            .filter(TaskInstance.task_id == "validate_and_load")
            .filter(TaskInstance.run_id == run.run_id)
            .all()
        )
    out: dict[str, list] = {}
    for map_index, label, state in rows:
        out.setdefault(str(label), []).append([int(map_index), str(state)])
    return out


def _build(engine: str, folder: Path) -> dict:
    inbox = folder / "inbox"
    generate_inbox(inbox, PERIODS, seed=7, scale=0.0005, faults=False)
    url = (
        f"duckdb:///{folder / 'warehouse.duckdb'}"
        if engine == "duckdb"
        else create_postgres_database()
    )
    key = f"e2e-key-{uuid.uuid4().hex}"
    env = {
        "SINERGI_DATA_DIR": str(folder / "data"),
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": url,
        "SINERGI_PII_KEY": key,
    }
    try:
        states, instances = [], []
        with environment(env):
            for period in PERIODS:
                states.append(run_period(Period.parse(period)))
                instances.append(_mapped_instances())
    except BaseException:
        if engine == "postgres":
            drop_postgres(url)
        raise
    return {"url": url, "inbox": str(inbox), "env": env, "states": states, "instances": instances}


def _cleanup(run: SharedRun) -> None:
    if run.result["url"].startswith("postgresql"):
        drop_postgres(run.result["url"])


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def clean_run(request, tmp_path_factory, airflow_db):
    """One clean two-month inbox run through the DAG per engine, shared by this module's
    tests on every xdist worker. Session scope: a worker lets go of the PostgreSQL database
    only when its session ends, so it is not dropped while another worker still needs it."""
    if request.param == "postgres" and not postgres_running():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    yield from shared_run(
        tmp_path_factory,
        f"e2e-{request.param}",
        lambda folder: _build(request.param, folder),
        _cleanup if request.param == "postgres" else None,  # a DuckDB file can stay
    )


def query(run: SharedRun, sql: str, params: tuple = ()) -> list[dict]:
    with run.reading():
        return WarehouseReader(run.result["url"]).rows(sql, params)


def oracle(run: SharedRun, period: str):
    return expected_versions(Path(run.result["inbox"]), period)


def test_runs_succeed(clean_run):
    assert clean_run.result["states"] == ["success", "success"]


def test_every_clean_file_is_accepted_with_its_row_count(clean_run):
    versions = query(
        clean_run,
        "select period, district_code, dataset, version, status, rows_total, rows_accepted, "
        "rows_rejected from audit.file_versions",
    )
    got = {
        (period_text(r["period"]), r["district_code"], r["dataset"], r["version"]): (
            r["status"],
            r["rows_total"],
            r["rows_accepted"],
            r["rows_rejected"],
        )
        for r in versions
    }
    expected = {}
    for period in PERIODS:
        for v in oracle(clean_run, period):
            j = v.judgement
            assert j.status == "ACCEPTED", (v.path, j.reasons_by_row)  # the inbox is clean
            expected[(period, v.district, v.dataset, v.version)] = (
                "ACCEPTED",
                j.rows_total,
                j.rows_total,
                0,
            )
    assert len(expected) > 100, "the generator wrote too few files"
    assert got == expected


def test_raw_rows_are_the_files_rows_normalised_and_pseudonymised(clean_run):
    """Every accepted row, value by value: types, codes, dates and HMACs of NIK / No. KK."""
    inbox = Path(clean_run.result["inbox"])
    versions = [v for period in PERIODS for v in expected_versions(inbox, period)]
    expected = expected_raw(versions, clean_run.result["env"]["SINERGI_PII_KEY"])
    with clean_run.reading():
        got = actual_raw(WarehouseReader(clean_run.result["url"]))
    for dataset in DATASETS:
        assert expected[dataset], dataset
        missing, extra = expected[dataset] - got[dataset], got[dataset] - expected[dataset]
        assert not missing and not extra, (dataset, sorted(missing)[:3], sorted(extra)[:3])


def test_no_raw_nik_outside_quarantine(clean_run):
    niks = set()
    inbox = Path(clean_run.result["inbox"])
    for period in PERIODS:
        for v in expected_versions(inbox, period):
            for _, cells in v.judgement.read.rows:
                niks |= {cells[c] for c in PERSONAL.get(v.dataset, ()) if cells.get(c)}
    assert len(niks) > 1000
    for table in ("raw.penerima_bantuan", "raw.dtks"):
        values = {
            str(v) for row in query(clean_run, f"select * from {table}") for v in row.values()
        }
        assert not (values & niks), table


def test_program_reach_recipients_match_files(clean_run):
    inbox = Path(clean_run.result["inbox"])
    expected: dict[tuple, set] = {}
    index = COLUMNS["penerima_bantuan"].index
    for period in PERIODS:
        for v in expected_versions(inbox, period):
            if v.dataset != "penerima_bantuan":
                continue
            for values in v.judgement.accepted().values():
                if values[index("status_salur")] == "SALUR":
                    program = values[index("kode_program")]
                    expected.setdefault((period, v.district, program), set()).add(
                        values[index("nik")]
                    )
    marts = query(
        clean_run,
        "select period, district_code, program_code, recipients "
        "from marts.fct_program_reach where is_reported",
    )
    got = {
        (period_text(r["period"]), r["district_code"], r["program_code"]): int(r["recipients"])
        for r in marts
        if r["recipients"]
    }
    assert got == {k: len(v) for k, v in expected.items()}


def test_every_period_and_district_has_a_submission_row(clean_run):
    """fct_submissions: 38 districts x 4 datasets per processed period, MISSING where unsent."""
    rows = query(
        clean_run, "select period, district_code, dataset, status from marts.fct_submissions"
    )
    got = {(period_text(r["period"]), r["district_code"], r["dataset"]): r["status"] for r in rows}
    inbox = Path(clean_run.result["inbox"])
    expected = {}
    for period in PERIODS:
        sent = scan_period(inbox, period).submissions
        for district in district_codes():
            for dataset in DATASETS:
                expected[(period, district, dataset)] = (
                    "ACCEPTED" if (district, dataset) in sent else "MISSING"
                )
    assert "MISSING" in expected.values()  # month 2: not every district re-sends dtks
    assert got == expected


def test_dag_run_has_one_mapped_instance_per_district(clean_run):
    for instances in clean_run.result["instances"]:
        assert set(instances) == set(district_codes())
        assert all(len(runs) == 1 for runs in instances.values())
        assert sorted(i for runs in instances.values() for i, _ in runs) == list(range(38))
        assert all(state == "success" for runs in instances.values() for _, state in runs)


def test_rerunning_a_period_changes_nothing(clean_run):
    """Snapshot of every table (raw, audit, staging, intermediate, marts) before and after."""
    reader = WarehouseReader(clean_run.result["url"])
    with clean_run.writing(), environment(clean_run.result["env"]):
        before = reader.snapshot()
        assert run_period(Period.parse(PERIODS[-1])) == "success"
        after = reader.snapshot()
    assert {"raw.ppks", "audit.file_versions", "marts.fct_submissions"} <= set(before)
    assert before.keys() == after.keys()
    for table in before:
        assert before[table] == after[table], table
