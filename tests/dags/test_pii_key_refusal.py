"""A run with another PII key than the warehouse's stops in ``discover``, at once (issue 12 §6).

Through the real DAG (``sinergi run``'s ``dag.test``): the refusal must fail the run without
retries (a retry waits a minute and cannot help: only an operator can set the right key) and
no district task may run.
"""

from __future__ import annotations

import pytest

from sinergi.config import load_settings
from sinergi.periods import Period
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.pii_key import check_pii_key

pytestmark = [pytest.mark.integration]


def test_another_key_fails_the_run_in_discover_without_retries(
    settings_env, airflow_db, monkeypatch
):
    from airflow.models import DagRun, TaskInstance
    from airflow.utils.session import create_session

    from sinergi.cli import run_period

    settings_env.joinpath("inbox", "2025-02").mkdir(parents=True)
    monkeypatch.setenv("SINERGI_PII_KEY", "the-original-key-" + "a" * 32)
    wh = open_warehouse(load_settings().warehouse_url)
    wh.ensure_schema()
    check_pii_key(wh, load_settings())  # the warehouse is bound to the original key

    monkeypatch.setenv("SINERGI_PII_KEY", "another-key-" + "b" * 32)
    assert run_period(Period.parse("2025-02")) == "failed"
    with create_session() as session:
        run = (
            session.query(DagRun)
            .filter(DagRun.dag_id == "sinergi_monthly")
            .order_by(DagRun.id.desc())
            .first()
        )
        tis = {
            (ti.task_id, ti.map_index): ti
            for ti in session.query(TaskInstance).filter(TaskInstance.run_id == run.run_id)
        }
    discover = tis[("discover", -1)]
    assert (discover.state, discover.try_number) == ("failed", 1)
    districts = {ti.state for key, ti in tis.items() if key[0] == "validate_and_load"}
    assert districts == {"upstream_failed"}  # no district task ran
    publish = tis[("publish_reports", -1)]  # ALL_DONE: it runs, finds nothing, skips at once
    assert (publish.state, publish.try_number) == ("skipped", 1)
