"""The marts' inputs fingerprint: equal exactly when a build would produce the same marts."""

from __future__ import annotations

import pytest

import sinergi.marts_inputs as marts_inputs
from sinergi.periods import Period
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.loader import load_judged_version, record_processed_period
from tests.warehouse.judged_fixture import judged_folder


@pytest.fixture
def wh(tmp_path):
    warehouse = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    warehouse.ensure_schema()
    return warehouse


def test_unchanged_inputs_give_the_same_fingerprint_and_each_input_changes_it(
    wh, tmp_path, monkeypatch
):
    model = tmp_path / "model.sql"
    model.write_text("select 1")
    import sinergi.dbt

    monkeypatch.setattr(sinergi.dbt, "project_files", lambda: [model])
    monkeypatch.setattr(sinergi.dbt, "DBT_PROJECT_DIR", tmp_path)

    first = marts_inputs.fingerprint(wh, {"eligible_max_decile": 4})
    assert marts_inputs.fingerprint(wh, {"eligible_max_decile": 4}) == first  # nothing new

    seen = {first}
    record_processed_period(wh, Period.parse("2025-03"))  # a new processed period
    seen.add(marts_inputs.fingerprint(wh, {"eligible_max_decile": 4}))
    load_judged_version(wh, judged_folder(tmp_path / "v1", 1, "a" * 64))  # a new version
    seen.add(marts_inputs.fingerprint(wh, {"eligible_max_decile": 4}))
    seen.add(marts_inputs.fingerprint(wh, {"eligible_max_decile": 5}))  # another threshold
    seen.add(marts_inputs.fingerprint(wh, {"eligible_max_decile": 4, "outlier_threshold": 3.0}))
    model.write_text("select 2")  # a changed model
    seen.add(marts_inputs.fingerprint(wh, {"eligible_max_decile": 4}))
    assert len(seen) == 6


def test_the_last_successful_build_is_remembered(wh):
    assert marts_inputs.last_built(wh) is None  # never built: build
    marts_inputs.record_build(wh, Period.parse("2025-03"), "f1")
    marts_inputs.record_build(wh, Period.parse("2025-04"), "f2")
    assert marts_inputs.last_built(wh) == "f2"


def test_a_failed_or_skipped_build_is_not_remembered(wh, monkeypatch):
    from sinergi import pipeline

    monkeypatch.setattr(pipeline, "open_warehouse", lambda url: wh)
    settings = type("S", (), {"warehouse_url": "unused"})()
    period = Period.parse("2025-03")
    pipeline.remember_build(period, {"success": False}, "f1", settings)
    pipeline.remember_build(period, {"success": True, "unchanged": True}, "f1", settings)
    pipeline.remember_build(period, {"success": True}, "", settings)
    assert marts_inputs.last_built(wh) is None
    pipeline.remember_build(period, {"success": True}, "f1", settings)
    assert marts_inputs.last_built(wh) == "f1"
