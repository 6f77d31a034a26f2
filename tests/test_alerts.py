"""Failure alerts and the deadline check: one clear line, no personal data, the right districts."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from sinergi import alerts
from sinergi.datasets import SPECS
from sinergi.periods import Period
from sinergi.reference import district_codes

NIK = "3578011203850004"  # 16 digits: NIK / No. KK shaped
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")


def failure_context(**overrides):
    ti = SimpleNamespace(
        dag_id="sinergi_monthly",
        task_id="validate_and_load",
        rendered_map_index="3578",
        try_number=4,
    )
    context = {
        "ti": ti,
        "task": SimpleNamespace(task_id=ti.task_id, op_kwargs={"district_code": "3578"}),
        "params": {"period": "2025-01"},
        "logical_date": datetime(2025, 2, 10, 19, 0, tzinfo=UTC),
        "exception": RuntimeError(
            f"could not load row with nik {NIK} into "
            "postgresql://sinergi_etl:hunter2@postgres:5432/sinergi\nTraceback (most recent...)"
        ),
    }
    context.update(overrides)
    return context


def test_failure_line_names_task_district_period_and_error():
    line = alerts.failure_line(failure_context())
    assert "\n" not in line
    assert "sinergi_monthly.validate_and_load" in line
    assert "district 3578" in line
    assert "period 2025-01" in line
    assert "try 4" in line
    assert "RuntimeError: could not load row" in line
    assert "Traceback" not in line


def test_failure_line_carries_no_personal_data_or_password():
    line = alerts.failure_line(failure_context())
    assert not SIXTEEN_DIGITS.search(line)
    assert NIK not in line
    assert "hunter2" not in line
    assert "postgres:5432" in line  # the rest of the message survives


def test_failure_line_without_map_index_uses_district_code_or_none():
    ti = SimpleNamespace(dag_id="sinergi_monthly", task_id="validate_and_load", try_number=1)
    line = alerts.failure_line(failure_context(ti=ti))
    assert "district 3578" in line  # from op_kwargs
    dbt_ti = SimpleNamespace(dag_id="sinergi_monthly", task_id="dbt.fct_ppks_model_build")
    line = alerts.failure_line(
        failure_context(ti=dbt_ti, task=SimpleNamespace(task_id=dbt_ti.task_id))
    )
    assert "district" not in line
    assert "sinergi_monthly.dbt.fct_ppks_model_build" in line


def test_failure_line_resolves_the_period_of_a_scheduled_run():
    # 11 Feb 02:00 WIB: the scheduled run for January, with an empty period parameter
    line = alerts.failure_line(failure_context(params={"period": ""}))
    assert "period 2025-01" in line


def test_failure_line_is_short_even_for_long_messages():
    context = failure_context(exception=ValueError("x" * 5000))
    line = alerts.failure_line(context)
    assert len(line) < 500
    assert line.endswith("...")


def test_task_failure_alert_logs_one_line_and_appends_alerts_log(settings_env, caplog):
    caplog.set_level(logging.ERROR, logger="sinergi.alerts")
    alerts.task_failure_alert(failure_context())
    records = [r for r in caplog.records if r.name == "sinergi.alerts"]
    assert len(records) == 1
    assert records[0].getMessage().startswith("SINERGI ALERT")
    assert records[0].exc_info is None  # never a stack trace
    written = (settings_env / "data" / "reports" / "2025-01" / alerts.ALERTS_FILE).read_text()
    assert len(written.splitlines()) == 1
    assert "district 3578" in written and NIK not in written


def test_task_failure_alert_never_raises(settings_env, monkeypatch):
    monkeypatch.setenv("SINERGI_REJECT_THRESHOLD", "not a number")  # load_settings fails
    alerts.task_failure_alert(failure_context())


# --- deadline check --------------------------------------------------------------------------

PERIOD = Period.parse("2025-01")
AFTER_DEADLINE = datetime(2025, 2, 11, 2, 0, tzinfo=UTC)


def submit(inbox, district, dataset, received: datetime | None = None, ext="csv"):
    path = inbox / str(PERIOD) / district / f"{dataset}.{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("periode\n2025-01\n", encoding="utf-8")
    stamp = (received or datetime(2025, 2, 5, tzinfo=UTC)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def deadline_settings(settings_env, monkeypatch):
    from sinergi.config import load_settings

    monkeypatch.setenv("SINERGI_DEADLINE_ALERTS", "true")
    inbox = settings_env / "inbox"
    codes = sorted(district_codes())
    for code in codes[2:]:  # everyone submits everything on time ...
        for dataset in SPECS:
            submit(inbox, code, dataset)
    submit(inbox, codes[0], "ppks")  # ... except: one district sent only ppks,
    for dataset in ("ppks", "psks", "dtks"):  # one forgot penerima_bantuan,
        submit(inbox, codes[1], dataset, ext="XLSX" if dataset == "dtks" else "csv")
    submit(inbox, codes[3], "psks", received=datetime(2025, 2, 11, 1, 0, tzinfo=UTC))  # late
    (inbox / str(PERIOD) / codes[0] / "notes.txt").write_text("not a dataset")
    return load_settings(), codes


def test_deadline_check_lists_missing_districts_and_datasets(deadline_settings, caplog):
    settings, codes = deadline_settings
    caplog.set_level(logging.WARNING, logger="sinergi.alerts")
    report = alerts.check_deadline(PERIOD, settings, now=AFTER_DEADLINE)
    assert report is not None
    assert report.missing == {
        codes[0]: ["psks", "penerima_bantuan", "dtks"],
        codes[1]: ["penerima_bantuan"],
    }
    assert report.missing_files == 4
    assert report.late == {codes[3]: ["psks"]}
    (line,) = [r.getMessage() for r in caplog.records if r.name == "sinergi.alerts"]
    assert line.startswith("SINERGI DEADLINE 2025-01")
    assert f"{codes[0]} (psks, penerima_bantuan, dtks)" in line
    assert f"{codes[1]} (penerima_bantuan)" in line
    assert "sent late" in line and codes[3] in line
    written = json.loads((settings.reports_dir / "2025-01" / alerts.DEADLINE_FILE).read_text())
    assert written["missing"] == report.missing
    assert written["missing_files"] == 4


def test_deadline_check_with_everything_submitted(settings_env, monkeypatch):
    from sinergi.config import load_settings

    monkeypatch.setenv("SINERGI_DEADLINE_ALERTS", "true")
    for code in district_codes():
        for dataset in SPECS:
            submit(settings_env / "inbox", code, dataset)
    report = alerts.check_deadline(PERIOD, load_settings(), now=AFTER_DEADLINE)
    assert report is not None and report.missing == {} and report.late == {}
    assert "every district submitted every dataset" in report.line()


def test_deadline_check_with_an_empty_inbox_lists_every_district(settings_env, monkeypatch):
    from sinergi.config import load_settings

    monkeypatch.setenv("SINERGI_DEADLINE_ALERTS", "true")
    report = alerts.check_deadline(PERIOD, load_settings(), now=AFTER_DEADLINE)
    assert set(report.missing) == set(district_codes())
    assert report.missing_files == 38 * len(SPECS)


def test_deadline_check_waits_for_the_deadline(deadline_settings):
    settings, _ = deadline_settings
    before = datetime(2025, 2, 10, 16, 0, tzinfo=UTC)  # 23:00 WIB on the deadline day
    assert alerts.check_deadline(PERIOD, settings, now=before) is None
    assert not (settings.reports_dir / "2025-01" / alerts.DEADLINE_FILE).exists()


def test_deadline_alerts_switch_off(deadline_settings, monkeypatch, caplog):
    from sinergi.config import load_settings

    monkeypatch.setenv("SINERGI_DEADLINE_ALERTS", "false")
    caplog.set_level(logging.INFO, logger="sinergi.alerts")
    settings = load_settings()
    assert alerts.check_deadline(PERIOD, settings, now=AFTER_DEADLINE) is None
    assert not (settings.reports_dir / "2025-01" / alerts.DEADLINE_FILE).exists()
    assert "switched off" in caplog.text
