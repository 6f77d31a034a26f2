"""dbt as one build and a task per model: the default way the monthly DAG runs dbt.

Why not cosmos' watcher mode: measured on this machine (``docs/performance.md``) its
producer spends ~0.4 s per node inside dbt's threads converting every dbt event to JSON and
pushing XComs, so one build of 240 nodes took 128 s where the plain ``dbt build`` took 27 s,
and its 87 sensors (a model and a tests sensor per model) cost ~35 s more. This module keeps
the shape (one build, then a task per model/seed in the UI with its own state, log and
retry) without that cost:

* ``build`` runs the plain ``dbt build`` once (dbt's threads) and pushes **one** XCom: the
  status of every node, from dbt's own results (no data, no SQL).
* One **report task per model and seed**, rendered from ``manifest.json``, reads that XCom
  and ends as its node did, its tests included (data tests, and the tests that
  span several models, which report on each of their parents): green, or red with the
  reason in its log. A failed data test fails without retry (the data must change); a
  model that errored is retried by its task, which then builds that node alone.
* Report tasks follow their parents' report tasks (``all_success``): a node downstream of a
  failure is ``upstream_failed``, as dbt skipped it. Tasks of root nodes follow ``build``
  with ``none_skipped``: they report whether the build failed or not, and are skipped with
  it when ``check_marts_inputs`` found the marts current.
"""

from __future__ import annotations

import logging
from typing import Any

from sinergi.dbt import FAILED_STATUSES, NOT_IN_MONTHLY_BUILD, short_node_name

log = logging.getLogger(__name__)

BUILD_TASK_ID = "build"
_NODES = frozenset({"model", "seed", "snapshot"})
_CHECKS = frozenset({"test", "unit_test"})
_MESSAGE_CHARS = 300


def report_plan(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{unique_id: {"name", "parents", "checks", "not_null"}}`` for every model, seed and
    snapshot.

    ``parents``: the model/seed/snapshot nodes it is built from; ``checks``: the data tests
    about it (a test on several nodes is a check of each). Unit tests are not checks of a
    month: its build leaves them out (:data:`sinergi.dbt.NOT_IN_MONTHLY_BUILD`).
    ``not_null``: the columns the built table itself refuses NULL in (:func:`enforced_not_null`),
    which no data test repeats: the task names them, so the UI still shows them checked.
    """
    everything = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    everything = {
        uid: node
        for uid, node in everything.items()
        if node.get("resource_type") not in NOT_IN_MONTHLY_BUILD
    }
    plan = {
        uid: {
            "name": node["name"],
            "parents": [],
            "checks": [],
            "not_null": enforced_not_null(node),
        }
        for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in _NODES
    }
    for uid, node in everything.items():
        parents = sorted(p for p in node.get("depends_on", {}).get("nodes", []) if p in plan)
        if node.get("resource_type") in _CHECKS:
            for parent in parents:
                plan[parent]["checks"].append(uid)
        elif uid in plan:
            plan[uid]["parents"] = parents
    for entry in plan.values():
        entry["checks"].sort()
    return dict(sorted(plan.items()))


def enforces_constraints(node: dict[str, Any]) -> bool:
    """Whether the database enforces ``node``'s column constraints: a table (or incremental
    model) whose contract is enforced. dbt writes those constraints into the table's DDL, so
    the build itself fails on a NULL (dbt_project/README.md); a view's constraints are not
    enforced by any database."""
    config = node.get("config") or {}
    enforced = (config.get("contract") or {}).get("enforced")
    return bool(enforced) and config.get("materialized") in ("table", "incremental")


def enforced_not_null(node: dict[str, Any]) -> list[str]:
    """Columns with a ``not_null`` constraint that the database enforces
    (:func:`enforces_constraints`)."""
    if not enforces_constraints(node):
        return []
    return sorted(
        name
        for name, column in (node.get("columns") or {}).items()
        if any(c.get("type") == "not_null" for c in column.get("constraints") or [])
    )


def build_all(settings: Any) -> dict[str, list]:
    """The ``build`` task: one ``dbt build``; ``{unique_id: [status, seconds, message]}``.

    The statuses are returned (and so pushed as the task's XCom) by the caller even when
    the build failed; this function only says whether it did, through
    :func:`build_failure`.
    """
    from sinergi.pipeline import dbt_build

    outcome = dbt_build(settings)
    statuses = {
        node.unique_id: [
            node.status,
            round(node.execution_time, 3),
            (node.message or "")[:_MESSAGE_CHARS] if node.failed else "",
        ]
        for node in outcome.nodes
    }
    counts: dict[str, int] = {}
    for status, _, _ in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    log.info(
        "dbt build: %d node(s): %s",
        len(statuses),
        ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none",
    )
    return {"statuses": statuses, "error": outcome.error, "success": outcome.success}


def build_failure(result: dict) -> Exception | None:
    """Why the ``build`` task fails, or None: it fails when dbt did, after pushing statuses.

    Failed data tests only: not retried (the data must change). dbt reporting no node at
    all (it could not start: warehouse unreachable, a broken project): retried. Failed
    models: not retried as a whole, each model's task retries its own node.
    """
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from sinergi.orchestration import data_tests_failed

    if result["success"]:
        return None
    statuses = result["statuses"]
    failed = {uid: s for uid, (s, _, _) in statuses.items() if s in FAILED_STATUSES}
    if not statuses:
        return AirflowException(f"dbt build did not run: {result.get('error') or 'no result'}")
    if failed and all(s == "fail" for s in failed.values()):
        return data_tests_failed([short_node_name(uid) for uid in sorted(failed)])
    names = ", ".join(short_node_name(u) for u in sorted(failed)) or result["error"]
    return AirflowFailException(
        f"dbt build failed: {names}; the task of each failed model says why and retries "
        "that model alone"
    )


def report_node(
    unique_id: str,
    checks: list[str],
    result: dict | None,
    try_number: int,
    settings,
    not_null: list[str] | None = None,
):
    """A model/seed task: end as its node and its checks ended in the one build.

    On a retry (``try_number`` > 1) the node is built alone (``dbt build --select``), its
    tests with it, whatever the first build said. ``not_null``: the columns the table's
    constraints kept free of NULL (a built node had none there), named in the log.
    """
    if try_number > 1 or result is None:
        return _build_alone(unique_id, settings)
    statuses = result.get("statuses", {})
    if unique_id not in statuses:
        from airflow.sdk.exceptions import AirflowException

        # not in the build's results: dbt did not start, or skipped it. A retry builds it.
        raise AirflowException(f"{unique_id} was not built by the dbt build")
    status, seconds, message = statuses[unique_id]
    _raise_for(unique_id, status, message)
    failed = [
        (check, statuses[check])
        for check in checks
        if statuses.get(check, [""])[0] in FAILED_STATUSES
    ]
    log.info(
        "%s: %s in %.2f s; %d check(s): %d passed, %d failed%s",
        unique_id,
        status,
        seconds,
        len(checks),
        sum(1 for c in checks if statuses.get(c, [""])[0] in ("pass", "success")),
        len(failed),
        _constraints_note(status, not_null or []),
    )
    for check, (check_status, _, check_message) in failed:
        log.error("%s: %s %s", check, check_status, check_message)
    if failed:
        _raise_checks(failed)
    return status


def _constraints_note(status: str, not_null: list[str]) -> str:
    """``; NOT NULL enforced by the table: a, b`` for a built node with such columns."""
    if not not_null or status not in ("success", "pass"):
        return ""
    return f"; NOT NULL enforced by the table: {', '.join(not_null)}"


def _raise_for(unique_id: str, status: str, message: str) -> None:
    if status in FAILED_STATUSES:
        from airflow.sdk.exceptions import AirflowException

        raise AirflowException(f"{unique_id} {status}: {message}")
    if status == "skipped":
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(f"{unique_id} was skipped by dbt")


def _raise_checks(failed: list[tuple[str, list]]) -> None:
    from airflow.sdk.exceptions import AirflowException

    from sinergi.orchestration import data_tests_failed

    if all(status == "fail" for _, (status, _, _) in failed):
        raise data_tests_failed([short_node_name(check) for check, _ in failed])
    raise AirflowException(f"check(s) errored: {', '.join(short_node_name(c) for c, _ in failed)}")


def _build_alone(unique_id: str, settings) -> str:
    """``dbt build --select <node>``: the node and its tests, as a retry does."""
    from sinergi.pipeline import dbt_build

    name = unique_id.split(".")[-1]
    outcome = dbt_build(settings, select=[name])
    failed = [
        (n.unique_id, [n.status, n.execution_time, n.message or ""])
        for n in outcome.nodes
        if n.failed
    ]
    for node in outcome.nodes:
        log.info("%s: %s", node.unique_id, node.status)
    if not outcome.nodes:
        from airflow.sdk.exceptions import AirflowException

        raise AirflowException(f"dbt build of {name} did not run: {outcome.error}")
    mine = [item for item in failed if item[0] == unique_id]
    if mine:
        _raise_for(unique_id, mine[0][1][0], mine[0][1][2][:_MESSAGE_CHARS])
    if failed:
        _raise_checks(failed)
    return "success"


RESULTS_KEY = "dbt_results"


def build_task(**context) -> dict:
    """Callable of the ``build`` task: the one build; statuses pushed even when it failed."""
    from sinergi.config import load_settings

    result = build_all(load_settings())
    context["ti"].xcom_push(key=RESULTS_KEY, value=result)
    failure = build_failure(result)
    if failure is not None:
        raise failure
    return {"nodes": len(result["statuses"]), "success": True}


def report_task(
    unique_id: str,
    checks: list[str],
    build_task_id: str,
    not_null: list[str] | None = None,
    **context,
) -> None:
    """Callable of a model/seed task (see :func:`report_node`). Returns nothing: the node's
    status is in the task's state and log, and no XCom is pushed (an execution-API call)."""
    from sinergi.config import load_settings

    ti = context["ti"]
    result = ti.xcom_pull(task_ids=build_task_id, key=RESULTS_KEY)
    report_node(unique_id, checks, result, ti.try_number, load_settings(), not_null)
