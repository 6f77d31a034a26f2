"""``sinergi.dagrun``: run ids, the per-period lock and the check of what ran (fast parts).

The real runs through ``sinergi run`` are in ``tests/integration/test_cli_run.py``.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from sinergi.dagrun import PeriodBusy, check_run, period_lock, run_id_for
from sinergi.periods import Period


def test_run_id_names_the_period_and_the_start():
    started = datetime(2026, 12, 4, 15, 41, 7, 123456, tzinfo=UTC)
    assert run_id_for(Period.parse("2024-11"), started) == "sinergi__2024-11__20261204T154107Z"


def test_a_second_holder_of_a_period_is_refused_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    with period_lock(Period.parse("2023-05")):
        with pytest.raises(PeriodBusy) as busy, period_lock(Period.parse("2023-05")):
            pass
        message = str(busy.value)
        assert "2023-05 is already being run" in message and "\n" not in message
        with period_lock(Period.parse("2023-06")):  # another month is not blocked
            pass
    with period_lock(Period.parse("2023-05")):  # released when the run ends
        pass


def test_a_run_without_task_instances_is_not_success(airflow_db):
    # what Airflow produced for a period before the DAG's start_date: a "successful" run
    # with nothing in it
    problems = check_run("sinergi__2024-11__20260101T000000Z")
    assert problems == ["no task ran at all (the run has no task instances): nothing was loaded"]


def test_missing_district_tasks_and_failed_tasks_are_named(monkeypatch):
    import sinergi.dagrun as dagrun

    states = {
        ("discover", -1): "success",
        ("validate_and_load", 0): "success",
        ("validate_and_load", 1): "failed",
        ("dbt_build", -1): "upstream_failed",
        ("publish_reports", -1): "success",
    }
    monkeypatch.setattr(dagrun, "task_states", lambda run_id: states)
    assert check_run("any") == [
        "district tasks: 1 of 2 succeeded",
        "task dbt_build: upstream_failed",
    ]
    # a subset of 38 asked for: each must have its task
    assert check_run("any", districts=38)[0] == "district tasks: 1 of 38 succeeded"
    states = {("discover", -1): "success", ("dbt_build", -1): "success"}
    assert check_run("any") == ["the district tasks did not run: nothing was loaded"]


def test_no_district_task_is_success_only_when_discover_found_nothing_new(monkeypatch):
    import sinergi.dagrun as dagrun

    nothing_new = {
        ("discover", -1): "success",
        ("judge", -1): "success",
        ("validate_and_load", -1): "skipped",  # expanded over an empty list of loads
        ("check_marts_inputs", -1): "success",
        ("dbt_build", -1): "skipped",
        ("publish_reports", -1): "success",
    }
    monkeypatch.setattr(dagrun, "task_states", lambda run_id: nothing_new)
    assert check_run("any") == []
    # discover failed: the districts were skipped for that, not for having nothing new
    failed = nothing_new | {("discover", -1): "failed", ("check_marts_inputs", -1): "skipped"}
    monkeypatch.setattr(dagrun, "task_states", lambda run_id: failed)
    problems = check_run("any")
    assert "the district tasks did not run: nothing was loaded" in problems
    assert "task discover: failed" in problems
    assert "task validate_and_load: skipped" in problems
    # a subset was asked for: skipping it is never right
    monkeypatch.setattr(dagrun, "task_states", lambda run_id: nothing_new)
    assert check_run("any", districts=2)[0] == "district tasks: 0 of 2 succeeded"


def _states(dbt_state: str, check_state: str = "success") -> dict:
    states = {("discover", -1): "success", ("check_marts_inputs", -1): check_state}
    states.update({("validate_and_load", i): "success" for i in range(2)})
    for task in ("dbt.stg_a_model_build", "dbt.fct_b_model_build", "dbt_docs"):
        states[(task, -1)] = dbt_state
    states[("publish_reports", -1)] = "success"
    return states


def test_skipped_dbt_is_success_only_when_the_marts_were_found_current(monkeypatch):
    import sinergi.dagrun as dagrun

    monkeypatch.setattr(dagrun, "task_states", lambda run_id: _states("skipped"))
    assert check_run("any", districts=2) == []
    # skipped for another reason (the check itself did not succeed): not done
    monkeypatch.setattr(dagrun, "task_states", lambda run_id: _states("skipped", "failed"))
    assert "task dbt.fct_b_model_build: skipped" in check_run("any", districts=2)
    # one dbt task ran and failed while others were skipped: not "current"
    mixed = _states("skipped")
    mixed[("dbt.fct_b_model_build", -1)] = "failed"
    monkeypatch.setattr(dagrun, "task_states", lambda run_id: mixed)
    assert check_run("any", districts=2) == [
        "task dbt.fct_b_model_build: failed",
        "task dbt.stg_a_model_build: skipped",
        "task dbt_docs: skipped",
    ]


def test_sinergi_run_exits_1_and_says_what_did_not_run(monkeypatch, capsys, settings_env):
    import sinergi.cli as cli
    from sinergi.dagrun import RunResult

    (settings_env / "inbox").mkdir()
    problem = "the district tasks did not run: nothing was loaded"
    result = RunResult("2024-11", "sinergi__2024-11__20261204T000000Z", "success", [problem])
    monkeypatch.setattr(cli, "run_period_checked", lambda period, settings, districts=None: result)
    monkeypatch.setattr(cli, "reap_children", lambda: [])
    assert cli.main(["run", "--period", "2024-11"]) == 1
    out, err = capsys.readouterr()
    assert "DAG run for 2024-11: failed (run id sinergi__2024-11__" in out
    assert err.strip() == f"sinergi: the run for 2024-11 did not complete: {problem}"


def test_only_dag_test_polls_are_shortened(monkeypatch):
    import sinergi.dagrun as dagrun

    slept = []
    monkeypatch.setattr(dagrun, "_real_sleep", slept.append)
    monkeypatch.setattr(dagrun, "_IDLE_POLLS", [0])
    dagrun._short_polls(1)  # called from this file: kept
    code = compile("_short_polls(1)", "/venv/airflow/sdk/definitions/dag.py", "exec")
    exec(code, {"_short_polls": dagrun._short_polls})  # as dag.test() calls it
    assert slept == [1, dagrun.POLL_SECONDS]


def test_polls_are_short_again_only_once_a_task_runs(monkeypatch):
    """A task waiting for its retry: after a second of short polls, dag.test()'s own wait."""
    import contextlib

    import sinergi.dagrun as dagrun

    slept = []
    monkeypatch.setattr(dagrun, "_real_sleep", slept.append)
    monkeypatch.setattr(dagrun, "_IDLE_POLLS", [0])
    monkeypatch.setattr(dagrun, "task_log_file", lambda ti: contextlib.nullcontext())
    code = compile("_short_polls(1)", "/venv/airflow/sdk/definitions/dag.py", "exec")
    for _ in range(dagrun.SHORT_POLLS + 3):
        exec(code, {"_short_polls": dagrun._short_polls})
    assert slept == [dagrun.POLL_SECONDS] * dagrun.SHORT_POLLS + [1, 1, 1]
    ran = dagrun._logged_run_task(lambda **_: "ran")(ti=None, task=None)
    exec(code, {"_short_polls": dagrun._short_polls})
    assert ran == "ran" and slept[-1] == dagrun.POLL_SECONDS


def test_the_collector_skips_everything_at_exit_once_the_dag_has_run():
    """``freeze_at_exit`` (called by ``run_dag``) freezes the collector at exit, after the exit
    handlers registered later: the process's last collections then skip every object."""
    child = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "from sinergi.dagrun import freeze_at_exit\n"
        "before = atexit._ncallbacks()\n"
        "freeze_at_exit()\n"
        "freeze_at_exit()\n"
        "frozen = gc.get_freeze_count() > 0\n"
        "print('frozen now:', frozen, 'registered:', atexit._ncallbacks() - before)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "frozen now: False registered: 1",
        "frozen at exit: True",
    ], done.stdout
