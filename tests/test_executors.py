"""A DuckDB warehouse refuses a distributed executor (issue 19); PostgreSQL accepts any."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sinergi.config import load_settings
from sinergi.executors import (
    DistributedDuckDB,
    check_warehouse_for_executor,
    configured_executors,
    distributed_executors,
)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("LocalExecutor", ["LocalExecutor"]),
        ("CeleryExecutor", ["CeleryExecutor"]),
        ("LocalExecutor,CeleryExecutor", ["LocalExecutor", "CeleryExecutor"]),
        (
            "airflow.providers.celery.executors.celery_executor.CeleryExecutor",
            ["CeleryExecutor"],
        ),
        ("fast:LocalExecutor, remote:KubernetesExecutor", ["LocalExecutor", "KubernetesExecutor"]),
    ],
)
def test_configured_executors_reads_every_form_airflow_accepts(monkeypatch, text, names):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", text)
    assert configured_executors() == names


def test_only_executors_that_leave_the_machine_are_distributed():
    assert distributed_executors(["LocalExecutor"]) == []
    assert distributed_executors(["LocalExecutor", "CeleryExecutor"]) == ["CeleryExecutor"]
    assert distributed_executors(["EdgeExecutor"]) == ["EdgeExecutor"]


def test_duckdb_warehouse_refuses_celery_with_what_to_change(settings_env, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    with pytest.raises(DistributedDuckDB) as refused:
        load_settings()
    message = str(refused.value)
    assert "CeleryExecutor" in message and "SINERGI_WAREHOUSE" in message
    assert "postgresql://" in message and "LocalExecutor" in message


def test_duckdb_warehouse_runs_on_the_local_executor(settings_env, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    assert load_settings().is_duckdb


def test_postgres_warehouse_accepts_celery(settings_env, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("SINERGI_WAREHOUSE", "postgresql://etl@db.example:5432/sinergi")
    assert not load_settings().is_duckdb


def test_a_malformed_url_is_not_judged_here_on_the_local_executor(settings_env, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    monkeypatch.setenv("SINERGI_WAREHOUSE", "duckdb://host/x")
    load_settings()  # the URL's own error belongs to whoever opens the warehouse


def test_in_a_task_the_refusal_is_not_retried(settings_env):
    import airflow.sdk  # noqa: F401 - a task process has the SDK imported
    from airflow.sdk.exceptions import AirflowFailException

    class DuckDB:
        is_duckdb = True

    with pytest.raises(AirflowFailException):
        check_warehouse_for_executor(DuckDB(), ["CeleryExecutor"])


def test_the_command_line_says_it_in_one_line(settings_env):
    env = {
        "PATH": "/usr/bin:/bin",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "SINERGI_DATA_DIR": str(settings_env / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "sinergi.cli", "db", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("sinergi: the DuckDB warehouse"), done.stderr
    assert "Traceback" not in done.stderr
