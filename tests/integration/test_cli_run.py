"""``sinergi run`` tells the truth (issue 11 §1, §4, §5; issue 12 §8).

A small generated inbox (three districts, tiny scale) for a 2023 and a 2024 month goes through
the real DAG with the real command (one ``sinergi run`` of both months, in a child process):
both months load into the marts although they lie before the DAG's former ``start_date``; the
command leaves no process behind; each run names its period, has a true duration and readable
task logs, checked through Airflow's REST API on a real ``airflow api-server`` over the same
Airflow home. dbt runs as users get it by default: one ``dbt build`` and a task per model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from sinergi.synthetic import generate_inbox
from tests.integration.airflow_processes import api_server, component, request

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("cli_run")]
PERIODS = ("2023-05", "2024-11")
DISTRICTS = {"3507", "3510", "3578"}

# Runs a command as a child subreaper: processes the command leaves behind are re-parented to
# this wrapper instead of init, so they can be seen (and stopped) after the command exits.
REAPER = r"""
import ctypes, json, subprocess, sys, time
import psutil
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
run = subprocess.run(sys.argv[1:], capture_output=True, text=True)
left = psutil.Process().children(recursive=True)
names = []
for p in left:
    try:
        names.append(" ".join(p.cmdline())[:200] or p.name())
    except psutil.Error:
        names.append(f"pid {p.pid} (exited after its parent)")
for p in left:
    try:
        p.kill()
    except psutil.Error:
        pass
psutil.wait_procs(left, timeout=10)
print(json.dumps({"rc": run.returncode, "out": run.stdout, "err": run.stderr, "left": names}))
"""


def _run_sinergi(env: dict[str, str], *args: str) -> dict:
    command = [sys.executable, "-c", REAPER, sys.executable, "-m", "sinergi.cli", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, airflow_db) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli-run")
    inbox = root / "inbox"
    generate_inbox(inbox, list(PERIODS), seed=5, scale=0.0005, overwrite=True)
    for period in PERIODS:
        for folder in (inbox / period).iterdir():
            if folder.is_dir() and folder.name not in DISTRICTS:
                shutil.rmtree(folder)
    env = {
        **os.environ,
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": f"duckdb:///{root / 'warehouse.duckdb'}",
        "SINERGI_DATA_DIR": str(root / "data"),
        # triggered only: unpaused below, the DAG must not start a scheduled month of its own
        "SINERGI_MONTHLY_SCHEDULE": "none",
    }
    env.pop("SINERGI_DBT_TASKS", None)  # dbt as users get it: one build, a task per model
    return env


@pytest.fixture(scope="module")
def runs(cli_env) -> dict[str, dict]:
    """One ``sinergi run`` of both periods, once for the module, as an operator catching up
    runs it (Airflow starts once, ~5 s of a child's start-up spared): {period: reaper report},
    the same report for each period."""
    report = _run_sinergi(cli_env, "run", *(f"--period={period}" for period in PERIODS))
    return dict.fromkeys(PERIODS, report)


def _warehouse_rows(env: dict[str, str], sql: str) -> list[tuple]:
    import duckdb

    path = env["SINERGI_WAREHOUSE"].removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize("period", PERIODS)
def test_history_period_loads_through_sinergi_run(runs, cli_env, period):
    report = runs[period]
    assert report["rc"] == 0, report["out"][-3000:] + report["err"][-3000:]
    first_day = f"{period}-01"
    reported = _warehouse_rows(
        cli_env,
        "select district_code, count(*) from marts.fct_submissions "
        f"where period = date '{first_day}' and served_version is not null group by 1",
    )
    assert {code for code, _ in reported} == DISTRICTS
    ppks = _warehouse_rows(
        cli_env,
        "select count(*), sum(total_count) from marts.fct_ppks "
        f"where period = date '{first_day}' and is_reported",
    )
    assert ppks[0][0] > 0 and ppks[0][1] > 0
    assert f"DAG run for {period}: success (run id sinergi__{period}__" in report["out"]


def test_sinergi_run_leaves_no_process_behind(runs):
    report = runs[PERIODS[0]]
    assert report["rc"] == 0
    assert report["left"] == []


# --- the runs as Airflow's UI shows them (REST API of a real api-server) --------------------
@pytest.fixture(scope="module")
def api(runs, cli_env, tmp_path_factory):
    """A real ``airflow api-server`` on a free port over the runs' Airflow home; stopped after.
    Yields (base URL, admin token)."""
    log = tmp_path_factory.mktemp("api") / "api-server.log"
    with api_server(cli_env, log) as server:
        yield server.base, server.token


def _get(api, path: str) -> dict:
    base, token = api
    status, text = request(f"{base}/api/v2{path}", token)
    assert status == 200, (path, status, text[:500])
    return json.loads(text)


def _log_text(api, run_id: str, task_id: str, map_index: int = -1) -> str:
    path = f"/dags/sinergi_monthly/dagRuns/{run_id}/taskInstances/{task_id}/logs/1"
    if map_index >= 0:
        path += f"?map_index={map_index}"
    content = _get(api, path)["content"]
    lines = [line if isinstance(line, str) else line.get("event", "") for line in content]
    return "\n".join(lines)


def test_ui_shows_period_true_duration_and_task_logs(api, runs):
    period = PERIODS[0]
    assert runs[period]["rc"] == 0
    found = _get(api, "/dags/sinergi_monthly/dagRuns?limit=100")["dag_runs"]
    mine = [run for run in found if run["dag_run_id"].startswith(f"sinergi__{period}__")]
    assert len(mine) == 1, [run["dag_run_id"] for run in found]
    run = mine[0]
    assert run["state"] == "success"
    started = datetime.fromisoformat(run["start_date"])
    ended = datetime.fromisoformat(run["end_date"])
    assert 0 < (ended - started).total_seconds() < 3600, (started, ended)

    district = _log_text(api, run["dag_run_id"], "validate_and_load", map_index=0)
    assert "Log file not found" not in district
    assert "Task started" in district  # Airflow's own lines
    assert "no file for" in district or "ACCEPTED" in district  # sinergi's lines
    # `sinergi run` runs its tasks in turn: the judge task loads what it judged (config.py)
    judge = _log_text(api, run["dag_run_id"], "judge")
    loaded = [int(n) for n in re.findall(r"new version\(s\) judged together, (\d+) loaded", judge)]
    assert loaded and sum(loaded) > 0, judge[-2000:]
    assert "(loaded by judge)" in district or "ACCEPTED" not in district
    # dbt: one build, then a task per model and seed, each green, each saying how it ended
    build = _log_text(api, run["dag_run_id"], "dbt.build")
    assert "Log file not found" not in build
    assert "dbt build:" in build and "error" not in build.split("dbt build:")[1].split("\n")[0]
    instances = _get(
        api, f"/dags/sinergi_monthly/dagRuns/{run['dag_run_id']}/taskInstances?limit=500"
    )["task_instances"]
    dbt = {ti["task_id"]: ti["state"] for ti in instances if ti["task_id"].startswith("dbt.")}
    assert {"dbt.build", "dbt.fct_poverty", "dbt.districts"} <= set(dbt)
    assert len(dbt) > 30 and set(dbt.values()) == {"success"}, dbt
    model = _log_text(api, run["dag_run_id"], "dbt.fct_poverty")
    assert "model.sinergi.fct_poverty: success" in model and "failed" in model  # "0 failed"


def _task_instances(api, runs, period: str) -> str:
    """The REST API path of the task instances of ``sinergi run``'s run of ``period``."""
    assert runs[period]["rc"] == 0
    found = _get(api, "/dags/sinergi_monthly/dagRuns?limit=100")["dag_runs"]
    run_id = next(
        r["dag_run_id"] for r in found if r["dag_run_id"].startswith(f"sinergi__{period}__")
    )
    return f"/dags/sinergi_monthly/dagRuns/{run_id}/taskInstances"


def test_model_tasks_send_no_rendered_fields_and_push_no_xcom(api, runs):
    """A model task only reports its node: nothing in it is templated and its status is its
    state, so it costs a run no rendered-fields call and no XCom (two execution-API calls and
    metadata writes a task, 56 tasks a month). The build task, a plain PythonOperator, keeps
    both: the check below is not vacuous."""
    base = _task_instances(api, runs, PERIODS[0])
    build = _get(api, f"{base}/dbt.build")
    assert build["state"] == "success" and build["rendered_fields"]
    assert _get(api, f"{base}/dbt.build/xcomEntries")["total_entries"] >= 1
    for task_id in ("dbt.fct_poverty", "dbt.districts"):
        model = _get(api, f"{base}/{task_id}")
        assert model["state"] == "success" and model["rendered_fields"] == {}, model
        assert _get(api, f"{base}/{task_id}/xcomEntries")["total_entries"] == 0


def test_tasks_returning_a_dict_push_it_once(api, runs):
    """The judge and each district task return a dict: one ``return_value`` XCom, not one
    more per key (Airflow's inference from a ``-> dict`` annotation; four more execution-API
    calls per district task, read by nothing)."""
    base = _task_instances(api, runs, PERIODS[0])
    for path in ("judge/xcomEntries", "validate_and_load/xcomEntries?map_index=0"):
        entries = _get(api, f"{base}/{path}")["xcom_entries"]
        assert [entry["key"] for entry in entries] == ["return_value"], (path, entries)


# --- the approval form through the REST API, run by a real scheduler (issue 17) --------------
@pytest.fixture(scope="module")
def scheduler(api, cli_env, tmp_path_factory):
    """A real ``airflow scheduler`` (LocalExecutor) over the runs' Airflow home; stopped after.
    Its task processes report to the execution API of the api-server above."""
    log = tmp_path_factory.mktemp("scheduler") / "scheduler.log"
    env = {**cli_env, "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api[0]}/execution/"}
    with component(["scheduler"], env, log):
        yield log


def _trigger(api, dag_id: str, conf: dict) -> tuple[int, dict]:
    base, token = api
    status, text = request(
        f"{base}/api/v2/dags/{dag_id}/dagRuns", token, {"logical_date": None, "conf": conf}
    )
    return status, json.loads(text)


def _finished(api, dag_id: str, run_id: str, log: Path) -> dict:
    deadline = time.monotonic() + 240
    while True:
        run = _get(api, f"/dags/{dag_id}/dagRuns/{run_id}")
        if run["state"] in ("success", "failed"):
            return run
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(2)


APPROVAL = {"period": PERIODS[0], "district": "3507", "dataset": "ALL", "action": "approve",
            "note": "angka Mei 2023 sudah dicek"}  # fmt: skip


def test_the_approval_form_works_through_the_rest_api(api, scheduler, cli_env):
    base, token = api
    status, text = request(
        f"{base}/api/v2/dags/sinergi_approval", token, {"is_paused": False}, method="PATCH"
    )
    assert status == 200, text
    # the form's rules hold for the API too: a month that does not exist is refused
    status, refused = _trigger(api, "sinergi_approval", APPROVAL | {"period": "2023-13"})
    assert status == 400, refused
    status, run = _trigger(api, "sinergi_approval", APPROVAL)
    assert status == 200, run
    assert _finished(api, "sinergi_approval", run["dag_run_id"], scheduler)["state"] == "success"
    rows = _warehouse_rows(
        cli_env,
        "select dataset, action, approved_version, actor, via, note from audit.approvals "
        "where district_code = '3507' order by dataset",
    )
    assert {r[0] for r in rows} == {"ppks", "psks", "penerima_bantuan", "dtks"}
    # recorded as the Airflow user who triggered it, through the form
    assert {(r[1], r[3], r[4], r[5]) for r in rows} == {
        ("approve", "admin", "airflow", APPROVAL["note"])
    }
    # approving again is refused, with the reason in the task's log
    status, again = _trigger(api, "sinergi_approval", APPROVAL)
    assert status == 200, again
    done = _finished(api, "sinergi_approval", again["dag_run_id"], scheduler)
    assert done["state"] == "failed"
    path = (
        f"/dags/sinergi_approval/dagRuns/{again['dag_run_id']}/taskInstances/record_approval/logs/1"
    )
    content = _get(api, path)["content"]
    text = "\n".join(line if isinstance(line, str) else line.get("event", "") for line in content)
    assert "is already approved" in text and "by admin" in text


def _district_instances(api, run_id: str) -> dict[int, tuple]:
    found = _get(
        api,
        f"/dags/sinergi_monthly/dagRuns/{run_id}/taskInstances?task_id=validate_and_load&limit=100",
    )["task_instances"]
    return {
        ti["map_index"]: (ti["state"], ti["try_number"], ti["start_date"], ti["end_date"])
        for ti in found
        if ti["task_id"] == "validate_and_load"
    }


def test_clearing_one_district_reruns_that_district_alone(api, scheduler, runs):
    """Airflow 3 regression area: clearing one mapped instance must not touch the others
    (one per district that sent files: discover maps no task for a district with nothing)."""
    base, token = api
    (run,) = [
        r
        for r in _get(api, "/dags/sinergi_monthly/dagRuns?limit=100")["dag_runs"]
        if r["dag_run_id"].startswith(f"sinergi__{PERIODS[1]}__")
    ]
    before = _district_instances(api, run["dag_run_id"])
    assert len(before) == len(DISTRICTS) and {s for s, *_ in before.values()} == {"success"}
    status, text = request(
        f"{base}/api/v2/dags/sinergi_monthly", token, {"is_paused": False}, method="PATCH"
    )
    assert status == 200, text
    cleared = sorted(DISTRICTS).index("3507")  # Kabupaten Malang, one of the districts
    status, text = request(
        f"{base}/api/v2/dags/sinergi_monthly/clearTaskInstances",
        token,
        {
            "dry_run": False,
            "dag_run_id": run["dag_run_id"],
            "task_ids": [["validate_and_load", cleared]],
            "only_failed": False,
            "include_upstream": False,
            "include_downstream": False,
            "reset_dag_runs": True,
        },
    )
    assert status == 200, text
    assert [(t["task_id"], t["map_index"]) for t in json.loads(text)["task_instances"]] == [
        ("validate_and_load", cleared)
    ]
    assert _finished(api, "sinergi_monthly", run["dag_run_id"], scheduler)["state"] == "success"
    after = _district_instances(api, run["dag_run_id"])
    assert after[cleared][0] == "success" and after[cleared][1] == before[cleared][1] + 1
    assert {i: t for i, t in after.items() if i != cleared} == {
        i: t for i, t in before.items() if i != cleared
    }
    log = _log_text(api, run["dag_run_id"], "validate_and_load", map_index=cleared)
    assert "3507" in log


# --- one run of a period at a time (issue 12 §8) ---------------------------------------------
HOLD_LOCK = (
    "import sys, time; from sinergi.dagrun import period_lock; from sinergi.periods import Period;"
    "lock = period_lock(Period.parse(sys.argv[1])); lock.__enter__();"
    "print('locked', flush=True); time.sleep(600)"
)


def test_second_run_of_a_running_period_is_refused_and_kill_9_frees_it(cli_env):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, "2022-02"],
        env=cli_env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = subprocess.run(
            [sys.executable, "-m", "sinergi.cli", "run", "--period", "2022-02"],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert second.returncode == 2
        message = second.stderr.strip().splitlines()
        assert len(message) == 1, second.stderr
        assert "2022-02 is already being run" in message[0]
        assert f"pid {holder.pid}" in message[0]
        assert "Traceback" not in second.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)

    from sinergi.dagrun import period_lock
    from sinergi.periods import Period

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_HOME", cli_env["AIRFLOW_HOME"])
        with period_lock(Period.parse("2022-02")) as path:  # not stuck after kill -9
            assert path.read_text().strip() == str(os.getpid())
