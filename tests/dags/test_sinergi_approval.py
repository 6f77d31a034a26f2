"""The approval DAG and the trigger forms (issue 17): fields, labels, validation."""

from __future__ import annotations

from datetime import date

import pytest

from sinergi import forms
from sinergi.paths import DAGS_DIR


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    found = DagBag(dag_folder=str(DAGS_DIR))
    assert found.import_errors == {}
    return found


def test_the_approval_dag_has_one_task_and_a_form(bag):
    dag = bag.dags["sinergi_approval"]
    assert [t.task_id for t in dag.tasks] == ["record_approval"]
    assert dag.schedule is None or dag.timetable.summary in ("None", "")
    assert set(dag.params) == {"period", "district", "dataset", "action", "note"}
    assert dag.doc_md and "DITAHAN" in dag.doc_md and dag.max_active_runs == 1


def test_the_form_shows_district_names_and_months(bag):
    params = bag.dags["sinergi_approval"].params
    district = params.get_param("district").schema
    assert district["values_display"]["3507"] == "3507 Kabupaten Malang"
    assert len(district["enum"]) == 38
    month = params.get_param("period").schema
    assert month["examples"][0] == date.today().strftime("%Y-%m")
    assert month["values_display"]["2025-03"] if "2025-03" in month["examples"] else True


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("period", "2025-03", True),
        ("period", "2025-13", False),
        ("period", "", False),
        ("district", "3578", True),
        ("district", "9999", False),
        ("action", "unapprove", True),
        ("action", "delete", False),
        ("note", "", False),
    ],
)
def test_the_form_validates_each_field(bag, field, value, valid):
    from airflow.sdk.exceptions import ParamValidationError

    param = bag.dags["sinergi_approval"].params.get_param(field)
    if valid:
        assert param.resolve(value) == value
    else:
        with pytest.raises(ParamValidationError):
            param.resolve(value)


def test_the_monthly_form_takes_a_month_and_a_subset_of_districts(bag):
    from airflow.sdk.exceptions import ParamValidationError

    params = bag.dags["sinergi_monthly"].params
    assert params.get_param("period").resolve("") == ""  # the month before the logical date
    assert params.get_param("districts").resolve(["3507", "3578"]) == ["3507", "3578"]
    assert params.get_param("districts").resolve([]) == []
    with pytest.raises(ParamValidationError):
        params.get_param("districts").resolve(["3599"])
    labels = params.get_param("districts").schema["values_display"]
    assert labels["3578"] == "3578 Kota Surabaya"


def test_recent_months_cross_the_year():
    assert forms.recent_months(date(2025, 2, 14), 3) == ["2025-02", "2025-01", "2024-12"]
    assert forms.month_label("2024-12") == "Desember 2024 (2024-12)"
