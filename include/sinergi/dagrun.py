"""How ``sinergi run`` executes one period through the real DAG, and how it tells the truth.

``sinergi run`` uses Airflow's ``dag.test()``: the very DAG the scheduler runs, in this
process, task after task, on Airflow's in-process execution API (no scheduler, api-server or
worker needed). Left alone, ``dag.test()`` misreports a run in the UI, so this module wraps it:

* **Logical date = now.** ``dag.test()`` sets the run's start date to its logical date; a
  back-dated logical date (the period's scheduled day 11) showed durations of hundreds of
  days, and a logical date before the DAG's ``start_date`` made a run with *no task
  instances* that Airflow marks success. The period travels in ``conf`` (the ``period``
  param), never in the logical date, so any month of the contract runs whatever today is.
  It also means two runs never share a logical date: ``dag.test()`` deletes an existing run
  with the same logical date (one ``sinergi run`` deleted another's run).
* **Run id names the period**: ``sinergi__2025-01__20261204T154100Z`` (:func:`run_id_for`).
* **No idle seconds.** ``dag.test()`` polls with a 1-second sleep while skip states travel
  through the DAG; those polls are shortened (:func:`_short_polls`).
* **Task logs where the UI reads them.** In-process tasks log to this process's stdout only,
  so the UI said "Log file not found on worker". Around each task, :func:`task_log_file`
  tees the task's log lines (stdlib ``logging`` and Airflow's structlog) as JSON lines into
  ``$AIRFLOW_HOME/logs/<Airflow's log_filename_template>``, the file the api-server reads.
* **What ran is checked** (:func:`check_run`): every task instance of the run, every district
  map index and every dbt task must be ``success``; a run whose district tasks did not run is
  a failure with a message, whatever the DAG run's own state says.
* **One run of a period at a time** per Airflow home (:func:`period_lock`, ``flock``: the
  kernel drops the lock when the holder dies, even by ``kill -9``).
* **Nothing left behind** (:func:`reap_children`, called by the ``sinergi run`` command):
  dbt's ``spawn`` context starts multiprocessing's resource tracker, a child process that
  outlived the command; it and anything else the command started is stopped before it exits.
* **No collection at exit** (:func:`freeze_at_exit`): the process that ran the DAG leaves
  without the garbage collector's last passes over Airflow's, dbt's and GX's objects; and
  none of the run's collections walks the objects the run found
  (``sinergi.collector.collected_then_frozen``).
"""

from __future__ import annotations

import atexit
import fcntl
import gc
import json
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from sinergi.collector import collected_then_frozen
from sinergi.config import LOAD_IN_JUDGE_ENV
from sinergi.environment import scoped_environment
from sinergi.execution_api import serve_only_the_sdk_version
from sinergi.periods import Period
from sinergi.task_ids import (
    DAG_ID,
    DBT_GROUP_ID,
    DISCOVER_TASK_ID,
    DISTRICT_TASK_ID,
    DOCS_TASK_ID,
    FALLBACK_TASK_ID,
    MARTS_CHECK_TASK_ID,
)

log = logging.getLogger(__name__)

RUN_ID_PREFIX = "sinergi"


class PeriodBusy(Exception):
    """Another ``sinergi run`` holds this period's lock (a one-line message for the user)."""


def run_id_for(period: Period, started: datetime) -> str:
    """``sinergi__<YYYY-MM>__<UTC start, to the second>``: sortable, URL-safe, names the month."""
    stamp = started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{RUN_ID_PREFIX}__{period}__{stamp}"


def airflow_home() -> Path:
    from sinergi.airflow_env import DEFAULT_AIRFLOW_HOME

    return Path(os.environ.get("AIRFLOW_HOME", str(DEFAULT_AIRFLOW_HOME)))


@contextmanager
def period_lock(period: Period) -> Iterator[Path]:
    """Hold ``$AIRFLOW_HOME/locks/<period>.lock`` for the run, or raise :class:`PeriodBusy`.

    ``flock`` is released by the kernel when the holding process ends in any way, so a
    killed run never leaves the period locked (the file itself stays; it is only a handle).
    """
    folder = airflow_home() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{period}.lock"
    handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise PeriodBusy(
                f"period {period} is already being run by another `sinergi run` "
                f"(pid {holder}, lock {path}); wait for it to finish, then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        handle.close()  # closing the descriptor releases the flock


# --- task logs ---------------------------------------------------------------------------------
class _JsonLines:
    """One task's log file, in the JSON-lines shape Airflow's log reader parses."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, level: str, event: str, logger: str, **extra: Any) -> None:
        record = {
            "timestamp": datetime.now(UTC).isoformat(),
            "level": level.lower(),
            "event": event,
            "logger": logger,
            **{k: str(v) for k, v in extra.items()},
        }
        self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class _StdlibTee(logging.Handler):
    """Copies stdlib log records (sinergi, dbt, cosmos, GX) into the task's file."""

    def __init__(self, sink: _JsonLines) -> None:
        super().__init__(level=logging.INFO)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event = record.getMessage()
            if record.exc_info:
                event += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            self.sink.write(record.levelname, event, record.name)
        except Exception:  # a log line must never fail the task
            self.handleError(record)


_current_sink: list[_JsonLines] = []


def _structlog_tee(logger: Any, method_name: str, event_dict: dict) -> dict:
    """structlog processor: copies Airflow's own task log lines into the task's file."""
    if _current_sink:
        extra = {
            k: v
            for k, v in event_dict.items()
            if k not in {"event", "logger", "logger_name", "level", "timestamp", "exc_info"}
        }
        name = event_dict.get("logger") or event_dict.get("logger_name") or "airflow.task"
        event = str(event_dict.get("event", ""))
        if event_dict.get("exc_info"):
            event += "\n" + traceback.format_exc().rstrip()
        with suppress(Exception):  # a log line must never fail the task
            _current_sink[-1].write(method_name, event, str(name), **extra)
    return event_dict


def task_log_path(ti: Any) -> Path:
    """The file Airflow's UI reads for this try of ``ti`` (the configured filename template)."""
    from airflow.configuration import conf
    from airflow.utils.log.file_task_handler import FileTaskHandler

    base = conf.get("logging", "base_log_folder")
    return Path(base) / FileTaskHandler(base)._render_filename(ti, ti.try_number)


@contextmanager
def task_log_file(ti: Any) -> Iterator[Path]:
    """Tee everything logged while ``ti`` runs into its log file; yields the path."""
    import structlog

    path = task_log_path(ti)
    sink = _JsonLines(path)
    handler = _StdlibTee(sink)
    root = logging.getLogger()
    processors = structlog.get_config()["processors"]
    root.addHandler(handler)
    _current_sink.append(sink)
    if _structlog_tee not in processors:
        processors.insert(0, _structlog_tee)  # the configured list, shared by bound loggers
    try:
        yield path
    finally:
        _current_sink.remove(sink)
        root.removeHandler(handler)
        sink.close()


def _logged_run_task(original):
    def run_task(*, ti, task, **kwargs):
        _IDLE_POLLS[0] = 0  # a task runs: the next wait is short again (_short_polls)
        with task_log_file(ti):
            return original(ti=ti, task=task, **kwargs)

    return run_task


# --- the run -----------------------------------------------------------------------------------
@dataclass
class RunResult:
    """What ``sinergi run`` reports: the run id, Airflow's state, and what did not run."""

    period: str
    run_id: str
    dag_state: str
    problems: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        return "success" if self.dag_state == "success" and not self.problems else "failed"


_real_sleep = time.sleep
_DAG_TEST_FILE = os.path.join("sdk", "definitions", "dag.py")
POLL_SECONDS = 0.05
#: Short polls in a row before ``dag.test()``'s own wait applies again: 1 s of them.
SHORT_POLLS = 20
_IDLE_POLLS = [0]  # dag.test() polls since a task last started


def _short_polls(seconds: float) -> None:
    """``time.sleep`` while ``dag.test()`` runs: its own polls shortened, every other sleep kept.

    ``dag.test()`` sleeps 1 s whenever no task is ready, and skip states travel one layer of
    the DAG per pass: a run whose dbt tasks are skipped waited ~6 s for nothing (measured on an
    unchanged demo month). In this process nothing else changes a task's state (no triggerer,
    no human-in-the-loop task), so waiting longer than a poll gains nothing. Only the sleeps
    called from Airflow's ``sdk/definitions/dag.py`` are shortened, and only the first
    :data:`SHORT_POLLS` since a task last started: a task waiting for its retry (1 min) would
    otherwise keep a core busy, every poll loading every task instance of the run (seen: 66 s
    of CPU in a run that retried ``publish_reports`` twice).
    """
    caller = sys._getframe(1).f_code.co_filename
    if not caller.endswith(_DAG_TEST_FILE):
        _real_sleep(seconds)
        return
    _IDLE_POLLS[0] += 1
    _real_sleep(min(seconds, POLL_SECONDS) if _IDLE_POLLS[0] <= SHORT_POLLS else seconds)


_FREEZE_REGISTERED: list[bool] = []


def freeze_at_exit() -> None:
    """At interpreter exit, let the garbage collector skip every object that exists by then.

    A process that ran the DAG holds Airflow, dbt, Great Expectations and pandas (~2,300
    modules, millions of objects), and Python's finalisation runs full collections over all of
    them: ``sinergi run`` ended 3.0-3.5 s after its last line, 0.13-0.15 s with ``gc.freeze()``
    at exit (importing those packages and exiting: 6.1-6.8 s, 4.8-5.2 s). Frozen objects are
    only skipped by the collector: the exit handlers registered later (they run first), thread
    joins, and the closing of connections and files happen as before. Registered once per
    process.
    """
    if not _FREEZE_REGISTERED:
        atexit.register(gc.freeze)
        _FREEZE_REGISTERED.append(True)


def run_dag(dag: Any, period: Period, districts: list[str] | None = None) -> RunResult:
    """Run ``dag`` for ``period`` in-process (``dag.test``) and check every task instance;
    ``districts``: reprocess only those (the trigger form's subset)."""
    import airflow.sdk.definitions.dag as dag_module
    from airflow.models.dagrun import DagRun

    freeze_at_exit()
    serve_only_the_sdk_version()
    # tasks run one after another here: the judge task loads what it judges, so the loads
    # overlap judging instead of following it district by district (sinergi.config)
    load_in_judge = {LOAD_IN_JUDGE_ENV: os.environ.get(LOAD_IN_JUDGE_ENV) or "true"}
    started = datetime.now(UTC)
    run_id = run_id_for(period, started)
    with (
        mock.patch.object(DagRun, "generate_run_id", lambda **_: run_id),
        mock.patch.object(dag_module, "_run_task", _logged_run_task(dag_module._run_task)),
        mock.patch.object(time, "sleep", _short_polls),
        scoped_environment(load_in_judge),
        collected_then_frozen(),
    ):
        conf = {"period": str(period), "districts": sorted(districts or [])}
        run = dag.test(logical_date=started, run_conf=conf)
    state = str(getattr(getattr(run, "state", None), "value", getattr(run, "state", "unknown")))
    return RunResult(
        str(period), run_id, state, check_run(run_id, len(districts) if districts else None)
    )


def task_states(run_id: str) -> dict[tuple[str, int], str]:
    """``{(task_id, map_index): state}`` of every task instance of the run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).where(
                TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == run_id
            )
        ).all()
    return {(task, index): str(getattr(state, "value", state)) for task, index, state in rows}


def check_run(run_id: str, districts: int | None = None) -> list[str]:
    """What did not run or did not succeed, one line each; empty when every task succeeded.

    Never trusts the DAG run's state alone: a run with no task instances is "success" to
    Airflow. ``discover`` must have succeeded; every district it mapped must have succeeded
    (all of a ``districts`` subset, which is always mapped whole); no district task at all
    is right only when discover found nothing new (``validate_and_load`` then expanded to
    nothing and is *skipped*). At least one dbt task must have run or been skipped as current.
    """
    states = task_states(run_id)
    problems = []
    if not states:
        return ["no task ran at all (the run has no task instances): nothing was loaded"]
    district = {i: s for (t, i), s in states.items() if t == DISTRICT_TASK_ID and i >= 0}
    ok = sum(1 for s in district.values() if s == "success")
    unmapped = states.get((DISTRICT_TASK_ID, -1))
    nothing_new = not district and unmapped == "skipped" and _discovered(states)
    if districts is not None and ok < districts:
        problems.append(f"district tasks: {ok} of {districts} succeeded")
    elif ok < len(district):
        problems.append(f"district tasks: {ok} of {len(district)} succeeded")
    elif not district and not nothing_new:
        problems.append("the district tasks did not run: nothing was loaded")
    dbt_tasks = {t: s for (t, _), s in states.items() if _is_dbt_task(t)}
    if not any(t != DOCS_TASK_ID for t in dbt_tasks):
        problems.append("no dbt task ran: the marts were not built")
    # skipped by check_marts_inputs: the marts were built from the same inputs already
    current = states.get((MARTS_CHECK_TASK_ID, -1)) == "success" and all(
        s == "skipped" for s in dbt_tasks.values()
    )
    for (task, index), state in sorted(states.items()):
        if state == "skipped" and current and _is_dbt_task(task):
            continue
        if task == DISTRICT_TASK_ID and (index >= 0 or nothing_new):
            continue
        if state != "success":
            problems.append(f"task {task}: {state}")
    return problems


def _discovered(states: dict[tuple[str, int], str]) -> bool:
    return states.get((DISCOVER_TASK_ID, -1)) == "success"


def _is_dbt_task(task_id: str) -> bool:
    return task_id in (FALLBACK_TASK_ID, DOCS_TASK_ID) or task_id.startswith(DBT_GROUP_ID + ".")


def reap_children(timeout: float = 5.0) -> list[str]:
    """Stop every process this one started and that still runs; returns their command lines.

    For the end of a command (``sinergi run``), never inside a long-lived process: it stops
    *all* children. multiprocessing's resource tracker (started by dbt's ``spawn`` context)
    is stopped the orderly way first: the semaphores it tracks are released by their
    finalizers, then the tracker is told to exit and waited for (otherwise it outlives the
    command). Whatever remains is terminated, then killed.
    """
    import multiprocessing.resource_tracker as resource_tracker
    import multiprocessing.util as mp_util

    import psutil

    tracker = resource_tracker._resource_tracker
    if getattr(tracker, "_pid", None) is not None:
        try:
            mp_util._run_finalizers(0)  # unlink our semaphores before the tracker goes
            tracker._stop()
        except Exception as problem:  # noqa: BLE001 - best effort; the sweep below follows
            log.debug("resource tracker did not stop cleanly: %s", problem)
    children = psutil.Process().children(recursive=True)
    names = []
    for child in children:
        try:
            names.append(" ".join(child.cmdline())[:200])
        except psutil.Error:
            continue
    stop_processes(children, timeout=timeout)
    return names


def stop_processes(processes: list, sig: int = signal.SIGTERM, timeout: float = 5.0) -> None:
    """Send ``sig`` to each ``psutil.Process``, wait up to ``timeout``, kill what is left.

    A process that already exited is skipped; nothing here raises for one.
    """
    import psutil

    for process in processes:
        try:
            process.send_signal(sig)
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=timeout)
