"""How the monthly DAG runs dbt: one build and a task per dbt model and seed.

The DAG file only calls :func:`dbt_task_group`; which shape, and everything cosmos needs
when a cosmos mode is chosen, is decided here.

* **Execution: build (default).** :func:`build_and_report_group`, see
  :mod:`sinergi.dbt_report`: one plain ``dbt build``, one task per model/seed reporting it.
* **Execution: watcher.** One task, ``dbt_producer_watcher``, runs a single
  ``dbt build`` of the whole project with dbt's threads; after it, one sensor task per
  model/seed (``<model>.run``) and one per model's tests (``<model>.test``) read that node's
  outcome from the build's events and show its log lines (:func:`wire_watcher`). A month
  pays dbt's start-up once instead of once per node (the per-node LOCAL mode cost ~2 s of
  start-up per task for 0.2-0.6 s of work; numbers in ``docs/performance.md``).
  ``SINERGI_DBT_TASKS=per-model`` keeps that LOCAL mode (one ``dbt build`` per node),
  ``single`` runs one ``dbt_build`` task without per-model tasks.
* **Rendering.** Cosmos renders the task group from a manifest (``LoadMode.DBT_MANIFEST``,
  0.1-0.4 s; no dbt import at parse time) that ``python -m sinergi.dbt parse`` writes to
  ``dbt_project/target/dag/manifest.json`` (``sinergi.dbt.manifest_path``). When it is
  missing, unreadable or older than the dbt project, :func:`dbt_task_group` returns None
  and logs why; the DAG then falls back to its single ``dbt_build`` task (the same
  ``dbt build`` as before). A stale manifest is never rendered: it would silently skip a
  model added since.
* **Test behaviour (per-model mode): ``TestBehavior.BUILD``.** Each model or seed is one
  ``dbt build`` task that runs the node, its unit tests and its own data tests, so a failing
  model or test is its own red task and the task count stays at models + seeds. Tests that
  span several nodes (``relationships`` and the cross-model checks in ``data-tests/``) are
  excluded from those builds (cosmos would otherwise run them with their *first* parent,
  before the other exists) and run together in one ``cross_model_tests`` task after all
  their parents.
* **Connection.** The profile is ``dbt_project/profiles.yml``, which reads ``SINERGI_*``
  variables. :class:`WarehouseProfileConfig` derives them from ``SINERGI_WAREHOUSE`` inside
  the task, around each dbt invocation (``sinergi.dbt.warehouse_session``): no connection
  detail is in the DAG file, the serialized DAG or a rendered template field.
* **DuckDB: one writer.** The same session holds the DuckDB file's exclusive lock (shared with
  the district loads) for each dbt invocation and closes dbt-duckdb's handle afterwards, so
  cosmos tasks running in parallel under a real scheduler queue for the file instead of
  failing, whatever the executor or pool set-up; PostgreSQL runs them in parallel.
* **Retries.** Infrastructure errors (warehouse unreachable, a lock timeout) are retried.
  A failing data test or unit test is a fact about the data, and retrying it only repeats
  the failure (cosmos#1537): :func:`fail_fast_on_data_tests` turns it into
  ``AirflowFailException``, which Airflow never retries. In watcher mode the producer is
  not retried (a failed model is retried by its own sensor, which then builds that node
  alone) and a model's ``.test`` sensor has no retries.
* **Cost.** One ``dbt build`` per node pays dbt's start-up (dbt start, partial parse from
  cosmos' cache, cosmos' clean-up) for little work, and a fresh worker process per task
  under a scheduler adds the DAG parse and the dbt import (numbers in ``bench/results``).
  The tasks run dbt with ``--no-write-json`` (no two writes of the whole manifest per
  task); statuses come from dbt's events instead (:func:`record_node_result`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)
from cosmos.operators.local import DbtTestLocalOperator

from sinergi.dbt import (
    DBT_PROJECT_DIR,
    FAILED_STATUSES,
    dbt_target,
    manifest_path,
    newer_project_file,
    short_node_name,
)
from sinergi.dbt_events import ignores_debug_events
from sinergi.environment import scoped_environment
from sinergi.task_ids import (
    CROSS_MODEL_TESTS_TASK_ID,
    DBT_GROUP_ID,
    FALLBACK_TASK_ID,
    MARTS_CHECK_TASK_ID,
)

log = logging.getLogger(__name__)

PROFILE_NAME = "sinergi"
PROFILES_YML = DBT_PROJECT_DIR / "profiles.yml"

# The resource types cosmos renders as one `dbt build` task each under TestBehavior.BUILD.
_BUILD_RESOURCES = frozenset({"model", "seed", "snapshot"})


class WarehouseProfileConfig(ProfileConfig):
    """``profiles.yml`` with the connection taken from ``SINERGI_WAREHOUSE`` at run time.

    Cosmos enters :meth:`ensure_profile` around every dbt invocation of a task and adds the
    variables it yields to that invocation's environment only. The ``target_name`` given at
    parse time is a placeholder: the target (``duckdb`` / ``postgres``) is re-read here, in
    the worker, from the same URL.
    """

    @contextmanager
    def ensure_profile(
        self, desired_profile_path: Path | None = None, use_mock_values: bool = False
    ) -> Iterator[tuple[Path, dict[str, str]]]:
        from sinergi.config import load_settings
        from sinergi.dbt import warehouse_session

        settings = load_settings()
        _node_results.clear()
        with warehouse_session(settings.warehouse_url) as env:
            self.target_name = env["SINERGI_DBT_TARGET"]
            variables = {**env, "SINERGI_ELIGIBLE_MAX_DECILE": str(settings.eligible_max_decile)}
            # cosmos copies the invocation's environment into os.environ for its OpenLineage
            # step and leaves it there; put it back, so nothing outlives this invocation in a
            # process that runs more tasks (`sinergi run`, dag.test).
            with scoped_environment(restore=variables):
                yield Path(str(self.profiles_yml_filepath)), variables


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest as a dict, or None (with one log line saying why) when it cannot be used."""
    if not path.is_file():
        log.warning(
            "dbt manifest %s not found: dbt runs as the single task %r. "
            "Write it with `python -m sinergi.dbt parse` (make setup does).",
            path,
            FALLBACK_TASK_ID,
        )
        return None
    changed = newer_project_file(path)
    if changed is not None:
        log.warning(
            "dbt manifest %s is older than %s: dbt runs as the single task %r. "
            "Refresh it with `python -m sinergi.dbt parse`.",
            path,
            changed,
            FALLBACK_TASK_ID,
        )
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as problem:
        log.warning(
            "dbt manifest %s is unreadable (%s): dbt runs as the single task %r.",
            path,
            problem,
            FALLBACK_TASK_ID,
        )
        return None


def cross_model_tests(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """Tests that are not about exactly one model/seed: ``{test name: [parent unique ids]}``.

    These cannot run inside one node's ``dbt build`` task (their other parents may not be
    built yet), so they run in ``cross_model_tests`` after all their parents.
    """
    tests = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "test":
            continue
        parents = sorted(set(node.get("depends_on", {}).get("nodes", [])))
        single = len(parents) == 1 and parents[0].split(".", 1)[0] in _BUILD_RESOURCES
        if not single:
            tests[node["name"]] = parents
    return dict(sorted(tests.items()))


# (unique_id, status) of every node the current dbt invocation finished, from dbt's own
# events: the cosmos tasks run dbt with --no-write-json (writing the 1.4 MB manifest and
# run_results.json twice per task cost ~0.9 s a task), so there is no run_results.json to read.
# Module level, not an object: Airflow may deep-copy operators and their arguments. One dbt
# invocation at a time per process (sinergi.dbt.warehouse_session serialises them).
_node_results: list[tuple[str, str]] = []


@ignores_debug_events
def record_node_result(event: Any) -> None:
    """dbtRunner callback: remember each finished node's status (no data, ids only)."""
    if event.info.name == "NodeFinished":
        data = event.data
        _node_results.append((data.node_info.unique_id, data.run_result.status))


def fail_fast_on_data_tests(project_dir: str, context: Any = None, **_: Any) -> None:
    """Cosmos post-run callback: log the dbt results; data-test failures fail without retry.

    Runs after every dbt invocation of a cosmos task, before cosmos raises for a failure. When
    every failed node is a failed (data or unit) test, the data is wrong and a retry would
    fail the same way: raise ``AirflowFailException``. Anything else (a model error, dbt not
    starting) is left to cosmos and Airflow's retries.
    """
    results = list(_node_results)
    _node_results.clear()
    counts: dict[str, int] = {}
    for _, status in results:
        counts[status] = counts.get(status, 0) + 1
    log.info(
        "dbt: %d node(s): %s",
        len(results),
        ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none",
    )
    failed = [(node, status) for node, status in results if status in FAILED_STATUSES]
    if failed and all(status == "fail" for _, status in failed):
        raise data_tests_failed([short_node_name(node) for node, _ in failed])


def build_marts_once(jobs: list[dict], settings: Any) -> dict:
    """The fallback ``dbt_build`` task: one ``dbt build``; failed data tests are not retried."""
    from sinergi.dbt import DbtRunError
    from sinergi.pipeline import build_marts

    try:
        return build_marts(jobs, settings)
    except DbtRunError as problem:
        failed = problem.outcome.failed_nodes
        if failed and all(node.status == "fail" for node in failed):
            raise data_tests_failed([node.name for node in failed]) from problem
        raise


def data_tests_failed(names: list[str]) -> Exception:
    """The task failure for failed dbt data tests: no retry, the data must change first."""
    from airflow.sdk.exceptions import AirflowFailException

    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return AirflowFailException(
        f"dbt data test(s) failed (not retried: the data must change): {shown}"
    )


DISTRICT_TIMEOUT_ENV = "SINERGI_DISTRICT_TIMEOUT_MINUTES"
DEFAULT_DISTRICT_TIMEOUT_MINUTES = 120
RETRY_DELAY_ENV = "SINERGI_DISTRICT_RETRY_DELAY_SECONDS"
DEFAULT_RETRY_DELAY_SECONDS = 30


MONTHLY_SCHEDULE_ENV = "SINERGI_MONTHLY_SCHEDULE"
DEFAULT_MONTHLY_SCHEDULE = "0 2 11 * *"  # day 11, 02:00 WIB: after the day-10 deadline


def monthly_timetable():
    """The monthly DAG's schedule: ``SINERGI_MONTHLY_SCHEDULE`` (a cron expression in
    Asia/Jakarta time, default day 11 at 02:00), or ``none`` for an installation that only
    triggers it (from the UI, the API or ``sinergi run``). Read when the DAG is parsed."""
    from airflow.timetables.trigger import CronTriggerTimetable

    text = os.environ.get(MONTHLY_SCHEDULE_ENV, "").strip() or DEFAULT_MONTHLY_SCHEDULE
    if text.lower() == "none":
        return None
    return CronTriggerTimetable(text, timezone="Asia/Jakarta")


def district_timeout() -> timedelta:
    """The district task's ``execution_timeout`` (``SINERGI_DISTRICT_TIMEOUT_MINUTES``, 120).

    Generous: a province-scale district takes minutes. It bounds a task stuck on a hostile
    file, so one district cannot hold a worker slot (and the month) forever. Read when the
    DAG is parsed; a bad value is an import error naming the variable.
    """
    minutes = _positive_env(DISTRICT_TIMEOUT_ENV, DEFAULT_DISTRICT_TIMEOUT_MINUTES, "minutes")
    return timedelta(minutes=minutes)


def district_retry_delay() -> timedelta:
    """How long a failed district task waits before its first retry
    (``SINERGI_DISTRICT_RETRY_DELAY_SECONDS``, 30; doubled for each further retry).

    Long enough for a warehouse restart or a lock to clear; on a Celery installation the retry
    of a district whose worker died waits this long after the scheduler noticed.
    """
    seconds = _positive_env(RETRY_DELAY_ENV, DEFAULT_RETRY_DELAY_SECONDS, "seconds")
    return timedelta(seconds=seconds)


def _positive_env(name: str, default: float, unit: str) -> float:
    """A positive number from the environment (``default`` when unset); a bad value is an
    import error of the DAG that names the variable."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise ValueError(f"{name} must be a positive number of {unit}, got {text!r}")
    return value


DBT_TASKS_ENV = "SINERGI_DBT_TASKS"
# How dbt runs in the DAG. build: one `dbt build` and a task per model/seed reporting how that
# node and its tests ended (sinergi.dbt_report); watcher: the same shape with cosmos' watcher
# mode (slower: docs/performance.md); per-model: one `dbt build` per node (cosmos LOCAL);
# single: one `dbt build` task and no per-model tasks.
DBT_TASK_MODES = ("build", "watcher", "per-model", "single")


def dbt_task_mode() -> str:
    """``SINERGI_DBT_TASKS`` (default ``build``); a bad value is an import error naming it."""
    mode = os.environ.get(DBT_TASKS_ENV, "").strip().lower() or "build"
    if mode not in DBT_TASK_MODES:
        choices = ", ".join(DBT_TASK_MODES)
        raise ValueError(f"{DBT_TASKS_ENV} must be one of {choices}, got {mode!r}")
    return mode


def dbt_task_group(*, retries: int = 1, manifest: Path | None = None) -> DbtTaskGroup | None:
    """The ``dbt`` task group (a task per model/seed + ``cross_model_tests``), or None.

    None means the manifest cannot be used (see :func:`read_manifest`) or
    ``SINERGI_DBT_TASKS=single``: the caller runs dbt as one task instead. Call inside a DAG
    definition.
    """
    mode = dbt_task_mode()
    if mode == "single":
        log.info("%s=single: dbt runs as the single task %s", DBT_TASKS_ENV, FALLBACK_TASK_ID)
        return None
    path = manifest or manifest_path()
    data = read_manifest(path)
    if data is None:
        return None
    if mode == "build":
        return build_and_report_group(data, retries=retries)
    from sinergi.config import load_settings

    cross = cross_model_tests(data)
    profile = WarehouseProfileConfig(
        profile_name=PROFILE_NAME,
        # placeholder for rendering (no secret: the engine name); re-read in the task
        target_name=dbt_target(load_settings().warehouse_url),
        profiles_yml_filepath=PROFILES_YML,
    )
    dbt_args = {
        "retries": retries,
        "emit_datasets": False,  # no Airflow assets per model; publish_reports reads the marts
        "callback": fail_fast_on_data_tests,
        "dbt_runner_callbacks": [record_node_result],
        "dbt_cmd_global_flags": ["--no-use-colors"],
        # --target-path: cosmos reads compiled SQL and partial parsing from <its copy>/target;
        # a DBT_TARGET_PATH meant for sinergi.dbt (production sets one) must not redirect it.
        "dbt_cmd_flags": ["--no-write-json", "--target-path", "target"],
    }
    watcher = mode == "watcher"
    if watcher:
        # One `dbt build` runs every node and test in dbt's order, the cross-model tests
        # included (each reports on the test sensor of its models): no separate task.
        cross = {}
        # A sensor finds its node's outcome already reported (it runs after the build) and
        # returns at its first poke; not deferring keeps it off the triggerer. A node the
        # build never reported fails its sensor after `timeout` instead of waiting for ever.
        group_args = {**dbt_args, "deferrable": False, "poke_interval": 2, "timeout": 120}
    else:
        group_args = {**dbt_args, "exclude": " ".join(cross) or None}
    group = DbtTaskGroup(
        group_id=DBT_GROUP_ID,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR, manifest_path=path, install_dbt_deps=False
        ),
        profile_config=profile,
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER if watcher else ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # watcher: a sensor for each model and one for its tests (cosmos has no BUILD
            # there); per-model: each node's `dbt build` runs its own tests.
            test_behavior=TestBehavior.AFTER_EACH if watcher else TestBehavior.BUILD,
            emit_datasets=False,
            # exposures (BI dashboards) document consumers; dbt has nothing to run for them.
            # per-model: the cross-model tests run in their own task (below).
            exclude=["resource_type:exposure", *cross],
        ),
        operator_args=group_args,
    )
    if watcher:
        wire_watcher(group)
    if cross:
        with group:
            tests = DbtTestLocalOperator(
                task_id=CROSS_MODEL_TESTS_TASK_ID,
                project_dir=str(DBT_PROJECT_DIR),
                profile_config=profile,
                select=" ".join(cross),
                append_env=True,
                install_deps=False,  # no dbt packages (the group's ProjectConfig says the same)
                invocation_mode=InvocationMode.DBT_RUNNER,
                doc_md="dbt tests spanning several models (relationships, `data-tests/`).",
                **dbt_args,
            )
        parents = {parent for parents in cross.values() for parent in parents}
        for parent in sorted(parents & set(group.tasks_map)):
            group.tasks_map[parent] >> tests
    return group


def _report_doc(uid: str, entry: dict[str, Any], description: str) -> str:
    """A model task's doc in the UI: its node, its tests, its NOT NULL constraints."""
    text = f"dbt `{uid}` and its {len(entry['checks'])} test(s)."
    if entry["not_null"]:
        text += f" NOT NULL enforced by the table on {len(entry['not_null'])} column(s)."
    return f"{text} {description}"[:1000]


class ReportOperator(PythonOperator):
    """A model/seed task of :func:`build_and_report_group`: nothing in it is templated, so a
    run sends no rendered fields for it (an execution-API call and a metadata write per task,
    56 tasks a month); its callable returns nothing, so no XCom either."""

    template_fields = ()


def build_and_report_group(manifest: dict[str, Any], *, retries: int = 1):
    """The ``dbt`` group of ``SINERGI_DBT_TASKS=build``: one build, a task per model/seed.

    See :mod:`sinergi.dbt_report` for what each task does and why.
    """
    from airflow.sdk import TaskGroup, TriggerRule

    from sinergi.dbt_report import BUILD_TASK_ID, build_task, report_plan, report_task

    plan = report_plan(manifest)
    nodes = manifest.get("nodes", {})
    with TaskGroup(DBT_GROUP_ID, tooltip="dbt: one build, a task per model and seed") as group:
        build = PythonOperator(
            task_id=BUILD_TASK_ID,
            python_callable=build_task,
            retries=retries,  # only when dbt could not start; see dbt_report.build_failure
            doc_md="One `dbt build` of the whole project; each model's task reports its node.",
        )
        tasks = {}
        for uid, entry in plan.items():
            description = (nodes.get(uid, {}).get("description") or "").strip()
            tasks[uid] = ReportOperator(
                task_id=entry["name"],
                python_callable=report_task,
                op_kwargs={
                    "unique_id": uid,
                    "checks": entry["checks"],
                    "build_task_id": build.task_id,
                    "not_null": entry["not_null"],
                },
                retries=retries,
                doc_md=_report_doc(uid, entry, description),
            )
        for uid, entry in plan.items():
            if entry["parents"]:
                for parent in entry["parents"]:
                    tasks[parent] >> tasks[uid]
            else:
                # reports whether the build failed or not; skipped with it (marts current)
                tasks[uid].trigger_rule = TriggerRule.NONE_SKIPPED
                build >> tasks[uid]
    return group


def wire_watcher(group: DbtTaskGroup) -> None:
    """Put the watcher's producer (the one ``dbt build``) before the first node sensors.

    Cosmos starts the sensors beside the producer, each polling for its node's outcome. That
    needs as many free slots as there are sensors, and under ``dag.test`` (``sinergi run``,
    tasks one after another) a sensor picked before the producer would wait for ever. After
    the producer, each sensor reads the outcome at once: one task per model stays in the UI,
    with its own state, log and retry (a retry runs ``dbt build`` of that node alone).

    The sensors of root nodes (seeds, staging models) follow the producer with
    ``NONE_SKIPPED``: they report their node whether the build succeeded or failed, and are
    skipped with the producer when ``check_marts_inputs`` found the marts current. Every
    other sensor keeps cosmos' edges from the sensors of its parents and the default
    ``ALL_SUCCESS``, so a node downstream of a failed model or test is ``upstream_failed``,
    as dbt skipped it, and is not built by a retry of its own.
    The producer itself is not retried: a failed model is retried by its own sensor, and a
    failed data test fails the same way again.
    """
    from airflow.sdk import TriggerRule
    from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID
    from cosmos.operators.watcher import DbtTestWatcherOperator

    producer = group.tasks_map[PRODUCER_WATCHER_TASK_ID]
    producer.retries = 0
    sensors = [
        task
        for task in _tasks_in(group)
        if task is not producer and not task.task_id.endswith(PRODUCER_WATCHER_DONE_TASK_ID)
    ]
    roots = [task for task in sensors if not task.upstream_task_ids]
    for task in sensors:
        if isinstance(task, DbtTestWatcherOperator):
            task.retries = 0  # a failed data test fails the same way again (cosmos#1537)
    for task in roots:
        task.trigger_rule = TriggerRule.NONE_SKIPPED
        producer >> task


def _tasks_in(group) -> Iterator[Any]:
    """Every task of ``group``, inside nested groups too (a model and its tests form one)."""
    for child in group.children.values():
        if hasattr(child, "children"):
            yield from _tasks_in(child)
        else:
            yield child


def marts_check(context: dict[str, Any]) -> tuple[str | None, bool]:
    """``(inputs fingerprint, marts current)`` as :data:`MARTS_CHECK_TASK_ID` decided.

    A short-circuit task pushes its result only when it lets the run go on: the fingerprint
    the marts are about to be built from. When it succeeded without a result, it found them
    current and skipped dbt.
    """
    ti = context["ti"]
    run_id = context["run_id"]
    inputs = ti.xcom_pull(task_ids=MARTS_CHECK_TASK_ID)
    found = ti.get_task_states(dag_id=ti.dag_id, run_ids=[run_id], task_ids=[MARTS_CHECK_TASK_ID])
    succeeded = found.get(run_id, {}).get(MARTS_CHECK_TASK_ID) == "success"
    return inputs or None, succeeded and not inputs


def dbt_outcome(period: str, context: dict[str, Any], marts_current: bool = False) -> dict:
    """``{"period", "success", "failed", "unchanged"}`` of this run's dbt tasks.

    ``publish_reports`` runs whatever dbt did (district feedback does not depend on the
    marts), so it asks Airflow how the dbt tasks ended instead of receiving their output.
    ``marts_current``: :data:`MARTS_CHECK_TASK_ID` found the marts built from the same inputs
    already, so every dbt task was skipped on purpose.
    """
    if marts_current:
        return {"period": period, "success": True, "failed": [], "unchanged": True}
    ti = context["ti"]
    run_id = context["run_id"]
    if FALLBACK_TASK_ID in context["dag"].task_ids:
        selector: dict[str, Any] = {"task_ids": [FALLBACK_TASK_ID]}
    else:
        selector = {"task_group_id": DBT_GROUP_ID}
    found = ti.get_task_states(dag_id=ti.dag_id, run_ids=[run_id], **selector)
    states = found.get(run_id, {})
    failed = sorted(task for task, state in states.items() if state != "success")
    return {"period": period, "success": bool(states) and not failed, "failed": failed}
