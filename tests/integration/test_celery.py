"""Sinergi on Airflow's CeleryExecutor: district tasks on two workers, one killed (issue 19).

The real Airflow 3 components run as child processes against this machine's Redis (broker)
and PostgreSQL (Airflow's metadata, Celery's results, the warehouse): an api-server, a
scheduler, a dag-processor and **two** ``airflow celery worker`` processes on one queue of
this test's own. The monthly DAG is triggered through the REST API for a small generated
month of four districts.

While the districts load, the test holds a lock on ``audit.file_versions``: every district
task copies its rows and then waits, inside its open transaction, to write the version's
audit row. With a district task blocked so on *each* worker, one worker is killed with
SIGKILL (its whole process tree, as when its machine dies), then the lock is released. The
killed task's transaction never commits; the scheduler sees its heartbeat stop, and the
retry runs on the other worker. The run must end ``success`` with the marts equal, table by
table and row by row, to those of an uninterrupted in-process ``sinergi run`` of the same
inbox into another warehouse.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from sinergi.paths import REPO_ROOT
from sinergi.synthetic import generate_inbox
from tests.conftest import scratch_database
from tests.integration.airflow_processes import (
    AIRFLOW,
    Api,
    api_server,
    component,
    free_port,
    stop_tree,
    venv_path_env,
    wait_for_run,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.xdist_group("celery"),
]
PERIOD = "2025-01"
DISTRICTS = ("3507", "3510", "3573", "3578")
WORKERS = ("worker-a", "worker-b")
DAG_ID = "sinergi_monthly"
DISTRICT_TASK = "validate_and_load"


def _redis_db() -> int:
    """A Redis database number for this run's broker, or skip when Redis is not running."""
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=3).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    return random.randint(1, 15)


def _psycopg2(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("celery-inbox")
    generate_inbox(folder, [PERIOD], seed=19, scale=0.002, overwrite=True)
    for sub in (folder / PERIOD).iterdir():
        if sub.is_dir() and sub.name not in DISTRICTS:
            shutil.rmtree(sub)
    return folder


def _in_process_run(inbox: Path, warehouse: str, root: Path) -> subprocess.Popen:
    """The uninterrupted reference: ``sinergi run`` (dag.test, in this worker's Airflow home)."""
    env = {
        **os.environ,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": warehouse,
        "SINERGI_DATA_DIR": str(root / "in-process"),
    }
    args = ["run", "--period", PERIOD] + [f"--district={code}" for code in DISTRICTS]
    log = open(root / "in-process.log", "w", encoding="utf-8")  # noqa: SIM115 - closed by the OS
    return subprocess.Popen(
        [sys.executable, "-m", "sinergi.cli", *args], env=env, stdout=log, stderr=log
    )


def _celery_env(root: Path, inbox: Path, metadata: str, warehouse: str, api_port: int) -> dict:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _psycopg2(metadata),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{_redis_db()}",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + _psycopg2(metadata),
        # this run's own queue: another test or session on the same Redis never takes its tasks
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"sinergi-test-{secrets.token_hex(4)}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        # a killed worker's task is noticed after 20 s without a heartbeat (default 300 s)
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "240",
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": warehouse,
        "SINERGI_DATA_DIR": str(root / "celery"),  # one machine: the workers share it
        "SINERGI_MONTHLY_SCHEDULE": "none",
        "SINERGI_DISTRICT_RETRY_DELAY_SECONDS": "3",
        # judge in two spawned worker processes even for this small month, on a Celery
        # worker: the marts must still equal the in-process run's (judged in one process)
        "SINERGI_WORKER_PROCESSES": "2",
        "SINERGI_JUDGE_PARALLEL_MIN_MB": "0",
    }


def _worker(env: dict, name: str, log: Path):
    """``airflow celery worker`` named ``name`` (two task slots, this run's queue)."""
    worker_env = {
        **env,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.integration.celery_worker_name.hostname",
        "SINERGI_TEST_WORKER_NAME": name,
        "PYTHONPATH": str(REPO_ROOT),
    }
    queue = env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
    args = ["celery", "worker", "-q", queue, "-c", "2", "-H", f"{name}@%h", "--skip-serve-logs"]
    return component(args, worker_env, log)


def _instances(api: Api, run_id: str) -> list[dict]:
    path = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=500"
    return api.get(path)["task_instances"]


def _state(api: Api, run_id: str, task_id: str) -> str | None:
    return next((ti["state"] for ti in _instances(api, run_id) if ti["task_id"] == task_id), None)


def _blocked_loads(conn, database: str) -> int:
    """District loads waiting, inside their transaction, to write their audit row."""
    row = conn.execute(
        "select count(*) from pg_stat_activity where datname = %s and wait_event_type = 'Lock' "
        "and query ilike 'insert into audit.file_versions%%'",
        (database,),
    ).fetchone()
    return int(row[0])


def _kill_a_worker_mid_load(api, run_id, warehouse, workers, logs) -> dict:
    """Block every district load before its commit, SIGKILL the worker of one of them, then
    let the others go on. Returns the killed task instance (as the API showed it)."""
    import psycopg

    deadline = time.monotonic() + 300
    while _state(api, run_id, "discover") != "success":
        assert _state(api, run_id, "discover") not in ("failed", "upstream_failed"), logs
        assert time.monotonic() < deadline, "discover did not finish"
        time.sleep(0.3)
    database = warehouse.rsplit("/", 1)[1]
    lock = psycopg.connect(warehouse)
    try:
        lock.execute("lock table audit.file_versions in exclusive mode")
        monitor = psycopg.connect(warehouse, autocommit=True)
        while True:
            running = [
                ti
                for ti in _instances(api, run_id)
                if ti["task_id"] == DISTRICT_TASK and ti["state"] == "running"
            ]
            hosts = {ti["hostname"] for ti in running}
            if hosts == set(WORKERS) and _blocked_loads(monitor, database) >= len(running):
                break
            assert time.monotonic() < deadline, f"districts did not block on both workers: {hosts}"
            time.sleep(0.3)
        monitor.close()
        victim = running[0]
        stop_tree(workers[victim["hostname"]].pid, signal.SIGKILL)
    finally:
        lock.rollback()  # the surviving worker's loads commit now
        lock.close()
    return victim


@pytest.fixture(scope="module")
def scenario(inbox, airflow_db, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("celery")
    with ExitStack() as stack:
        metadata = stack.enter_context(scratch_database())
        warehouse = stack.enter_context(scratch_database())
        reference = stack.enter_context(scratch_database())
        uninterrupted = _in_process_run(inbox, reference, root)
        api_port = free_port()
        env = _celery_env(root, inbox, metadata, warehouse, api_port)
        subprocess.run(
            [AIRFLOW, "db", "migrate"],
            env=venv_path_env(env),
            check=True,
            capture_output=True,
            timeout=600,
        )
        logs = {name: root / f"{name}.log" for name in ("api-server", "scheduler", "dag-processor")}
        logs |= {name: root / f"{name}.log" for name in WORKERS}
        # the others start while the api-server does (it is waited for)
        stack.enter_context(component(["dag-processor"], env, logs["dag-processor"]))
        stack.enter_context(component(["scheduler"], env, logs["scheduler"]))
        workers = {name: stack.enter_context(_worker(env, name, logs[name])) for name in WORKERS}
        api = stack.enter_context(api_server(env, logs["api-server"], api_port))
        deadline = time.monotonic() + 180
        while api.send(f"/dags/{DAG_ID}", {"is_paused": False}, method="PATCH")[0] != 200:
            assert time.monotonic() < deadline, logs["dag-processor"].read_text()[-3000:]
            time.sleep(2)  # the dag-processor has not parsed the DAG yet
        status, run = api.trigger(DAG_ID, {"period": PERIOD, "districts": list(DISTRICTS)})
        assert status == 200, run
        run_id = run["dag_run_id"]
        victim = _kill_a_worker_mid_load(api, run_id, warehouse, workers, list(logs.values()))
        finished = wait_for_run(api, DAG_ID, run_id, list(logs.values()), timeout=600)
        tries = {
            ti["rendered_map_index"]: api.get(
                f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{DISTRICT_TASK}"
                f"/{ti['map_index']}/tries"
            )["task_instances"]
            for ti in _instances(api, run_id)
            if ti["task_id"] == DISTRICT_TASK
        }
        assert uninterrupted.wait(timeout=900) == 0, (root / "in-process.log").read_text()[-3000:]
        yield {
            "run": finished,
            "victim": victim,
            "tries": tries,
            "warehouse": warehouse,
            "reference": reference,
            "instances": _instances(api, run_id),
            "airflow_home": root / "airflow",
        }


def test_the_run_succeeds_with_every_district_task(scenario):
    assert scenario["run"]["state"] == "success"
    states = {ti["task_id"]: ti["state"] for ti in scenario["instances"]}
    assert set(states.values()) == {"success"}, states
    assert set(scenario["tries"]) == set(DISTRICTS)


def test_district_tasks_ran_on_both_workers(scenario):
    hosts = {t["hostname"] for tries in scenario["tries"].values() for t in tries}
    assert hosts == set(WORKERS)


def test_the_killed_district_was_retried_on_the_other_worker(scenario):
    victim = scenario["victim"]
    tries = sorted(scenario["tries"][victim["rendered_map_index"]], key=lambda t: t["try_number"])
    assert len(tries) >= 2, tries
    assert tries[0]["hostname"] == victim["hostname"] and tries[0]["state"] != "success"
    survivor = next(name for name in WORKERS if name != victim["hostname"])
    assert tries[-1]["hostname"] == survivor and tries[-1]["state"] == "success"


def test_judge_ran_in_worker_processes_on_a_celery_worker(scenario):
    logs = list(scenario["airflow_home"].glob("logs/**/task_id=judge/**/*.log"))
    assert logs, "no log of the judge task"
    text = "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in logs)
    assert "in 2 worker processes" in text
    assert "judged together" in text
    assert "in a worker process failed" not in text


def _rows(url: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def _tables(url: str, schema: str) -> list[str]:
    sql = (
        "select table_name from information_schema.tables "
        f"where table_schema = '{schema}' order by 1"
    )
    return [name for (name,) in _rows(url, sql)]


def test_the_marts_equal_an_uninterrupted_in_process_run(scenario):
    marts = _tables(scenario["reference"], "marts")
    assert len(marts) > 15 and _tables(scenario["warehouse"], "marts") == marts
    different = []
    for mart in marts:
        got = sorted(_rows(scenario["warehouse"], f"select * from marts.{mart}"), key=repr)
        want = sorted(_rows(scenario["reference"], f"select * from marts.{mart}"), key=repr)
        if got != want:
            extra = [r for r in got if r not in want][:2]
            missing = [r for r in want if r not in got][:2]
            different.append((mart, len(got), len(want), extra, missing))
    assert not different, different


def test_nothing_of_the_killed_attempt_was_kept(scenario):
    """One version per file, and the same rows as the uninterrupted run, table by table."""
    versions = (
        "select district_code, dataset, version, status from audit.file_versions order by 1, 2, 3"
    )
    assert _rows(scenario["warehouse"], versions) == _rows(scenario["reference"], versions)
    for table in _tables(scenario["reference"], "raw"):
        count = f"select _district_code, count(*) from raw.{table} group by 1 order by 1"
        assert _rows(scenario["warehouse"], count) == _rows(scenario["reference"], count), table
