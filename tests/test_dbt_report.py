"""One dbt build, a task per model: how each model's task ends (sinergi.dbt_report)."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from sinergi import dbt_report
from sinergi.dbt import DbtOutcome, NodeResult

MANIFEST = {
    "nodes": {
        "seed.p.districts": {"name": "districts", "resource_type": "seed", "depends_on": {}},
        "model.p.stg": {
            "name": "stg",
            "resource_type": "model",
            "depends_on": {"nodes": ["source.p.raw.t"]},
        },
        "model.p.mart": {
            "name": "mart",
            "resource_type": "model",
            "depends_on": {"nodes": ["model.p.stg", "seed.p.districts"]},
        },
        "test.p.not_null_mart_x.1": {
            "name": "not_null_mart_x",
            "resource_type": "test",
            "depends_on": {"nodes": ["model.p.mart"]},
        },
        "test.p.relationships_mart_d.2": {
            "name": "relationships_mart_d",
            "resource_type": "test",
            "depends_on": {"nodes": ["model.p.mart", "seed.p.districts"]},
        },
    },
    "unit_tests": {
        "unit_test.p.mart.counts": {
            "name": "counts",
            "resource_type": "unit_test",
            "depends_on": {"nodes": ["model.p.mart"]},
        }
    },
}
CHECKS = ["test.p.not_null_mart_x.1", "test.p.relationships_mart_d.2"]


def results(**statuses: str) -> dict:
    named = {
        "mart": "model.p.mart",
        "nn": "test.p.not_null_mart_x.1",
        "rel": "test.p.relationships_mart_d.2",
        "unit": "unit_test.p.mart.counts",
    }
    return {
        "statuses": {named[k]: [v, 0.1, "why" if v != "pass" else ""] for k, v in statuses.items()},
        "success": all(v in ("pass", "success") for v in statuses.values()),
        "error": None,
    }


def test_plan_has_every_node_with_its_parents_and_checks():
    plan = dbt_report.report_plan(MANIFEST)
    assert set(plan) == {"seed.p.districts", "model.p.stg", "model.p.mart"}
    assert plan["model.p.mart"]["parents"] == ["model.p.stg", "seed.p.districts"]
    assert plan["model.p.stg"]["parents"] == []  # a source is not a task
    # unit tests are not checks of a month: the monthly build leaves them out
    assert plan["model.p.mart"]["checks"] == CHECKS
    # a test on two nodes is a check of each
    assert plan["seed.p.districts"]["checks"] == ["test.p.relationships_mart_d.2"]


def test_a_node_and_its_checks_passing_is_success():
    done = results(mart="success", nn="pass", rel="pass", unit="pass")
    assert dbt_report.report_node("model.p.mart", CHECKS, done, 1, None) == "success"


def test_a_failed_data_test_fails_its_model_task_without_retry():
    done = results(mart="success", nn="fail", rel="pass", unit="pass")
    with pytest.raises(AirflowFailException, match="not_null_mart_x"):
        dbt_report.report_node("model.p.mart", CHECKS, done, 1, None)


def test_a_model_error_is_retried_and_a_skipped_node_skips():
    with pytest.raises(AirflowException, match="error: why") as raised:
        dbt_report.report_node("model.p.mart", CHECKS, results(mart="error"), 1, None)
    assert not isinstance(raised.value, AirflowFailException)
    with pytest.raises(AirflowSkipException):
        dbt_report.report_node("model.p.mart", CHECKS, results(mart="skipped"), 1, None)
    with pytest.raises(AirflowException, match="not built"):
        dbt_report.report_node("model.p.mart", CHECKS, results(nn="pass"), 1, None)


def _outcome(*nodes: tuple[str, str]) -> DbtOutcome:
    return DbtOutcome(
        args=("build",),
        success=all(status in ("pass", "success") for _, status in nodes),
        nodes=tuple(
            NodeResult(uid, uid.split(".")[2], uid.split(".")[0], s, 0.1, "m") for uid, s in nodes
        ),
    )


def test_a_retry_builds_the_node_alone(monkeypatch):
    calls = []

    def fake_build(settings, select=None):
        calls.append(select)
        return _outcome(("model.p.mart", "success"), ("test.p.not_null_mart_x.1", "pass"))

    monkeypatch.setattr("sinergi.pipeline.dbt_build", fake_build)
    failed_first = results(mart="error")
    assert dbt_report.report_node("model.p.mart", CHECKS, failed_first, 2, None) == "success"
    assert calls == [["mart"]]

    monkeypatch.setattr(
        "sinergi.pipeline.dbt_build",
        lambda settings, select=None: _outcome(
            ("model.p.mart", "success"), ("test.p.not_null_mart_x.1", "fail")
        ),
    )
    with pytest.raises(AirflowFailException):
        dbt_report.report_node("model.p.mart", CHECKS, failed_first, 2, None)


def test_the_build_task_fails_as_dbt_did():
    assert dbt_report.build_failure(results(mart="success", nn="pass")) is None
    tests_only = dbt_report.build_failure(results(mart="success", nn="fail"))
    assert isinstance(tests_only, AirflowFailException) and "not retried" in str(tests_only)
    model = dbt_report.build_failure(results(mart="error"))
    assert isinstance(model, AirflowFailException) and "retries that model alone" in str(model)
    nothing = dbt_report.build_failure({"statuses": {}, "success": False, "error": "no db"})
    assert type(nothing) is AirflowException and "no db" in str(nothing)  # retried


def _with_columns(materialized: str, enforced: bool) -> dict:
    node = {
        "name": "fct",
        "resource_type": "model",
        "depends_on": {},
        "config": {"materialized": materialized, "contract": {"enforced": enforced}},
        "columns": {
            "period": {"constraints": [{"type": "not_null"}]},
            "district_code": {"constraints": [{"type": "not_null"}]},
            "amount": {"constraints": []},
        },
    }
    return {"nodes": {"model.p.fct": node}}


def test_plan_names_the_columns_the_table_keeps_free_of_null():
    plan = dbt_report.report_plan(_with_columns("table", True))
    assert plan["model.p.fct"]["not_null"] == ["district_code", "period"]
    # a view's constraints, or an unenforced contract's, are enforced by no database
    for materialized, enforced in (("view", True), ("table", False)):
        assert (
            dbt_report.report_plan(_with_columns(materialized, enforced))["model.p.fct"]["not_null"]
            == []
        )


def test_a_built_model_task_names_its_not_null_constraints(caplog):
    done = results(mart="success", nn="pass", rel="pass")
    with caplog.at_level("INFO", logger="sinergi.dbt_report"):
        dbt_report.report_node("model.p.mart", CHECKS, done, 1, None, ["period", "x"])
    assert "2 check(s): 2 passed, 0 failed; NOT NULL enforced by the table: period, x" in (
        caplog.text
    )
    caplog.clear()
    with caplog.at_level("INFO", logger="sinergi.dbt_report"):
        dbt_report.report_node("model.p.mart", CHECKS, done, 1, None)
    assert "0 failed" in caplog.text and "NOT NULL" not in caplog.text


def test_the_model_tasks_doc_says_how_many_columns_the_table_keeps_free_of_null():
    from sinergi.orchestration import _report_doc

    entry = {"checks": ["t1"], "not_null": ["a", "b"]}
    assert _report_doc("model.p.fct", entry, "Figures.") == (
        "dbt `model.p.fct` and its 1 test(s). NOT NULL enforced by the table on 2 column(s). "
        "Figures."
    )
    assert "NOT NULL" not in _report_doc("model.p.fct", {**entry, "not_null": []}, "")
