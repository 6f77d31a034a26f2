"""DAG integrity: the monthly DAG imports cleanly and carries what operators rely on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sinergi.paths import DAGS_DIR

DAG_FILE = DAGS_DIR / "sinergi_monthly.py"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "sinergi_monthly" in dagbag.dag_ids


def test_dag_metadata(dagbag):
    dag = dagbag.dags["sinergi_monthly"]
    assert {"sinergi", "monthly"} <= set(dag.tags)
    assert dag.doc_md and "validate_and_load" in dag.doc_md
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert "period" in dag.params


def test_tasks_and_retries(dagbag):
    dag = dagbag.dags["sinergi_monthly"]
    assert set(dag.task_ids) == {"discover", "validate_and_load", "dbt_build", "publish_reports"}
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id
    mapped = dag.get_task("validate_and_load")
    assert mapped.map_index_template and "district_code" in mapped.map_index_template
    assert dag.get_task("dbt_build").upstream_task_ids == {"validate_and_load"}


def test_dag_file_imports_no_heavy_library():
    """Parse time stays low when the DAG file does not import pandas, GX, dbt or DuckDB.

    Checked by module presence (deterministic), not by timing (noisy on 2 cores).
    """
    code = (
        "import runpy, sys, json;"
        f"runpy.run_path({str(DAG_FILE)!r});"
        "heavy = ['pandas', 'great_expectations', 'dbt', 'duckdb', 'psycopg', 'pyarrow'];"
        "print(json.dumps([m for m in heavy if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_period_resolution_for_scheduled_runs():
    from datetime import UTC, datetime

    from sinergi.pipeline import resolve_period

    # 11 Feb 02:00 WIB is 10 Feb 19:00 UTC: the scheduled run for January.
    assert str(resolve_period("", datetime(2025, 2, 10, 19, 0, tzinfo=UTC))) == "2025-01"
    assert str(resolve_period(None, datetime(2025, 1, 10, 19, 0, tzinfo=UTC))) == "2024-12"
    assert str(resolve_period("2024-07", datetime(2025, 1, 10, tzinfo=UTC))) == "2024-07"
