"""DAG integrity: the monthly DAG imports cleanly and carries what operators rely on.

The dbt task group is rendered from a manifest written for this module (``dbt parse`` into a
temporary folder, ~8 s once), so the test does not depend on what happens to be in
``dbt_project/target``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from sinergi.paths import DAGS_DIR

DAG_FILE = DAGS_DIR / "sinergi_monthly.py"
DAG_ID = "sinergi_monthly"
NON_DBT_TASKS = {
    "discover",
    "check_deadline",
    "judge",
    "validate_and_load",
    "check_marts_inputs",
    "dbt_docs",
    "publish_reports",
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    from sinergi.dbt import write_manifest

    folder = tmp_path_factory.mktemp("manifest")
    return write_manifest(
        f"duckdb:///{folder / 'parse.duckdb'}", folder / "target" / "dag" / "manifest.json"
    )


def target_env(manifest: Path) -> dict[str, str]:
    """The DAG reads ``$DBT_TARGET_PATH/dag/manifest.json``; per-model dbt tasks (the default
    outside the test suite, which runs dbt as one task unless a test asks otherwise)."""
    return {"DBT_TARGET_PATH": str(manifest.parent.parent), "SINERGI_DBT_TASKS": "per-model"}


@pytest.fixture(scope="module")
def manifest_data(manifest) -> dict:
    return json.loads(manifest.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dag(manifest):
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as patch:
        for name, value in target_env(manifest).items():
            patch.setenv(name, value)
        bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


def run_dag_file(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter after parsing the DAG file; ``dag`` is the DAG."""
    script = (
        "import sys, json;"
        "from airflow.dag_processing.dagbag import DagBag;"
        f"dag = DagBag(dag_folder={str(DAG_FILE)!r}).dags[{DAG_ID!r}];"
        f"{code}"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SINERGI_DBT_TASKS": "per-model", **env},
    )


def test_no_import_errors(dag):
    assert dag.dag_id == DAG_ID


def test_dag_metadata(dag):
    assert {"sinergi", "monthly"} <= set(dag.tags)
    assert dag.doc_md and "validate_and_load" in dag.doc_md and "cross_model_tests" in dag.doc_md
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert "period" in dag.params


def test_tasks_retries_and_alerts(dag):
    from sinergi.alerts import task_failure_alert

    assert set(dag.task_ids) >= NON_DBT_TASKS
    assert all(t in NON_DBT_TASKS or t.startswith("dbt.") for t in dag.task_ids)
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id
        # task level: a DAG-level on_failure_callback never fires on Airflow 3.3
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list | tuple) else [callbacks]
        assert task_failure_alert in callbacks, task.task_id
    mapped = dag.get_task("validate_and_load")
    assert mapped.map_index_template and "district_code" in mapped.map_index_template
    assert mapped.partial_kwargs["retries"] == 3
    assert mapped.partial_kwargs["retry_exponential_backoff"] is True
    # the month's files are judged together first; the districts load even if that failed
    assert "judge" in mapped.upstream_task_ids
    assert mapped.trigger_rule == "all_done_min_one_success"


def test_discover_plans_one_job_per_district_and_loads_only_what_is_new(settings_env):
    from sinergi.config import load_settings
    from sinergi.periods import Period
    from sinergi.pipeline import prepare_period, process_district
    from sinergi.reference import district_codes
    from sinergi.synthetic import generate_inbox

    period = Period.parse("2025-01")
    generate_inbox(settings_env / "inbox", [str(period)], seed=3, scale=0.0005)
    for folder in (settings_env / "inbox" / str(period)).iterdir():
        if folder.is_dir() and folder.name not in ("3507", "3578"):
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
    plan = prepare_period(period, load_settings())
    assert plan["period"] == "2025-01"
    assert len(plan["jobs"]) == 38
    assert {job["district_code"] for job in plan["jobs"]} == set(district_codes())
    assert {job["period"] for job in plan["jobs"]} == {"2025-01"}
    # districts that sent nothing get no task
    assert [job["district_code"] for job in plan["loads"]] == ["3507", "3578"]

    process_district(period, "3507", load_settings())
    assert [j["district_code"] for j in prepare_period(period, load_settings())["loads"]] == [
        "3578"
    ]
    process_district(period, "3578", load_settings())
    assert prepare_period(period, load_settings())["loads"] == []
    # a district resends one file with other bytes: it alone is loaded again
    folder = settings_env / "inbox" / str(period) / "3578"
    (roster,) = [f for f in folder.iterdir() if f.name.lower() == "penerima_bantuan.csv"]
    roster.write_bytes(roster.read_bytes() + b"\r\n")
    loads = prepare_period(period, load_settings())["loads"]
    assert [job["district_code"] for job in loads] == ["3578"]
    # a stray entry is reported by its district task; a subset is always reprocessed whole
    (settings_env / "inbox" / str(period) / "3507" / "catatan.txt").write_text("x")
    loads = prepare_period(period, load_settings())["loads"]
    assert "3507" in [job["district_code"] for job in loads]
    subset = prepare_period(period, load_settings(), ["3510", "3578"])
    assert [job["district_code"] for job in subset["loads"]] == ["3510", "3578"]
    assert subset["jobs"] == subset["loads"]


def test_dbt_group_has_one_task_per_model_and_seed(dag, manifest_data):
    nodes = manifest_data["nodes"].values()
    expected = {
        f"dbt.{node['name']}_{node['resource_type']}_build"
        for node in nodes
        if node["resource_type"] in ("model", "seed")
    }
    built = {t for t in dag.task_ids if t.startswith("dbt.") and t.endswith("_build")}
    assert built == expected
    assert len(built) >= 30
    assert set(dag.task_ids) == NON_DBT_TASKS | expected | {"dbt.cross_model_tests"}
    for task_id in built:
        task = dag.get_task(task_id)
        assert type(task).__name__ == "DbtBuildLocalOperator"
        assert task.upstream_task_ids >= {"check_marts_inputs"} or any(
            up.startswith("dbt.") for up in task.upstream_task_ids
        )


def test_dbt_waits_for_every_district_and_is_skipped_when_the_marts_are_current(dag):
    check = dag.get_task("check_marts_inputs")
    assert check.upstream_task_ids >= {"validate_and_load"}
    roots = {t for t in check.downstream_task_ids}
    assert roots and all(t.startswith("dbt.") for t in roots)
    # only the dbt roots are skipped directly; the rest follow their trigger rules, so
    # publish_reports (all_done) still runs and dbt_docs (all_success) is skipped
    assert check.ignore_downstream_trigger_rules is False


def test_tests_spanning_several_models_run_after_all_their_parents(dag, manifest_data):
    from sinergi.orchestration import cross_model_tests

    cross = cross_model_tests(manifest_data)
    assert "assert_no_person_keys_in_marts" in cross  # a data-tests/ check
    assert any(name.startswith("relationships_") for name in cross)
    tests = dag.get_task("dbt.cross_model_tests")
    assert set(tests.select.split()) == set(cross)
    for task_id in dag.task_ids:
        if task_id.endswith("_build"):
            excluded = set(dag.get_task(task_id).exclude.split())
            assert set(cross) <= excluded, task_id  # not with their first parent
    parents = {
        f"dbt.{manifest_data['nodes'][p]['name']}_{p.split('.')[0]}_build"
        for ps in cross.values()
        for p in ps
        if p in manifest_data["nodes"]
    }
    assert parents <= tests.upstream_task_ids


def test_publish_runs_whatever_dbt_did_but_the_run_still_fails(dag):
    publish = dag.get_task("publish_reports")
    docs = dag.get_task("dbt_docs")
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    leaves = {
        t.task_id for t in dbt_tasks if not any(d.startswith("dbt.") for d in t.downstream_task_ids)
    }
    assert leaves and leaves <= publish.upstream_task_ids
    assert publish.trigger_rule == "all_done"
    # the run fails when dbt fails because dbt_docs, a leaf, then ends upstream_failed
    assert leaves <= docs.upstream_task_ids
    assert docs.trigger_rule == "all_success"
    assert not docs.downstream_list


def test_data_tests_fail_fast_and_no_connection_in_dbt_tasks(dag):
    from sinergi.orchestration import (
        WarehouseProfileConfig,
        fail_fast_on_data_tests,
        record_node_result,
    )

    for task in dag.tasks:
        if task.task_id.startswith("dbt."):
            assert task.callback is fail_fast_on_data_tests
            assert record_node_result in task._dbt_runner_callbacks
            assert isinstance(task.profile_config, WarehouseProfileConfig)
            assert task.profile_config.profiles_yml_filepath.name == "profiles.yml"
            assert not task.env, "the connection must not be an operator argument"


def test_serialized_dag_holds_no_warehouse_password(manifest):
    code = (
        "from airflow.serialization.serialized_objects import DagSerialization;"
        "print(json.dumps(DagSerialization.to_dict(dag), default=str))"
    )
    out = run_dag_file(
        code,
        **target_env(manifest),
        SINERGI_WAREHOUSE="postgresql://etl:pw-s3cret-42@db.example:5432/sinergi",
    ).stdout
    assert "dbt.cross_model_tests" in out
    assert "pw-s3cret-42" not in out


def test_dag_file_imports_no_heavy_library(manifest):
    """Parse time stays low when the DAG file does not import pandas, GX, dbt or DuckDB.

    Checked by module presence (deterministic), not by timing (noisy on 2 cores). cosmos
    itself is allowed: it renders the dbt tasks from the manifest without importing dbt.
    """
    code = (
        "heavy = ['pandas', 'great_expectations', 'dbt', 'duckdb', 'psycopg', 'pyarrow'];"
        "assert any(t.startswith('dbt.') for t in dag.task_ids);"
        "print(json.dumps([m for m in heavy if m in sys.modules]))"
    )
    result = run_dag_file(code, **target_env(manifest))
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_without_manifest_dbt_runs_as_one_task(tmp_path):
    code = "print(json.dumps(sorted(dag.task_ids)))"
    result = run_dag_file(code, DBT_TARGET_PATH=str(tmp_path / "nothing-parsed"))
    task_ids = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(task_ids) == NON_DBT_TASKS | {"dbt_build"}
    assert "not found: dbt runs as the single task 'dbt_build'" in result.stdout + result.stderr


def test_stale_manifest_is_not_rendered(tmp_path, manifest):
    stale = tmp_path / "target" / "dag" / "manifest.json"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(manifest.read_bytes())
    os.utime(stale, (0, 0))  # written before every project file
    code = "print(json.dumps(sorted(dag.task_ids)))"
    result = run_dag_file(code, **target_env(stale))
    assert "dbt_build" in json.loads(result.stdout.strip().splitlines()[-1])
    assert "is older than" in result.stdout + result.stderr


def test_period_resolution_for_scheduled_runs():
    from datetime import UTC, datetime

    from sinergi.pipeline import resolve_period

    # 11 Feb 02:00 WIB is 10 Feb 19:00 UTC: the scheduled run for January.
    assert str(resolve_period("", datetime(2025, 2, 10, 19, 0, tzinfo=UTC))) == "2025-01"
    assert str(resolve_period(None, datetime(2025, 1, 10, 19, 0, tzinfo=UTC))) == "2024-12"
    assert str(resolve_period("2024-07", datetime(2025, 1, 10, tzinfo=UTC))) == "2024-07"


def _dag_in_mode(manifest, mode: str | None):
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as patch:
        for name, value in target_env(manifest).items():
            patch.setenv(name, value)
        if mode is None:
            patch.delenv("SINERGI_DBT_TASKS")
        else:
            patch.setenv("SINERGI_DBT_TASKS", mode)
        bag = DagBag(dag_folder=str(DAGS_DIR))
    assert bag.import_errors == {}
    return bag.dags[DAG_ID]


@pytest.fixture(scope="module")
def default_dag(manifest):
    """The DAG as users get it by default (``SINERGI_DBT_TASKS`` unset): one build."""
    return _dag_in_mode(manifest, None)


@pytest.fixture(scope="module")
def watcher_dag(manifest):
    return _dag_in_mode(manifest, "watcher")


def test_default_is_one_build_and_a_task_per_model(default_dag, manifest_data):
    from sinergi.dbt_report import report_plan

    build = default_dag.get_task("dbt.build")
    check = default_dag.get_task("check_marts_inputs")
    assert check.downstream_task_ids == {"dbt.build"}
    plan = report_plan(manifest_data)
    expected = {f"dbt.{entry['name']}" for entry in plan.values()}
    dbt_tasks = {t for t in default_dag.task_ids if t.startswith("dbt.")}
    assert dbt_tasks == expected | {"dbt.build"} and len(expected) >= 30
    roots = 0
    for uid, entry in plan.items():
        task = default_dag.get_task(f"dbt.{entry['name']}")
        assert task.op_kwargs["unique_id"] == uid and task.retries >= 1
        assert task.template_fields == ()  # no rendered fields sent by a run (ReportOperator)
        if entry["parents"]:
            parents = {f"dbt.{plan[p]['name']}" for p in entry["parents"]}
            assert task.upstream_task_ids == parents and task.trigger_rule == "all_success"
        else:
            roots += 1
            assert task.upstream_task_ids == {"dbt.build"}
            assert task.trigger_rule == "none_skipped"
    assert roots >= 10
    # every data test is a check of some model or seed, so none goes unseen; unit tests are
    # left out of a month's build (make test runs them), so no task waits for them
    checks = {c for entry in plan.values() for c in entry["checks"]}
    tests = {uid for uid, node in manifest_data["nodes"].items() if node["resource_type"] == "test"}
    assert checks == tests and manifest_data["unit_tests"]
    assert "relationships" in " ".join(plan["model.sinergi.fct_program_reach"]["checks"])
    assert build.retries >= 1


def test_watcher_mode_one_build_and_a_sensor_per_node(watcher_dag, manifest_data):
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    producer = watcher_dag.get_task(f"dbt.{PRODUCER_WATCHER_TASK_ID}")
    assert type(producer).__name__ == "DbtProducerWatcherOperator"
    assert producer.retries == 0  # a failed node is retried by its own sensor
    nodes = manifest_data["nodes"].values()
    expected = {
        f"dbt.{node['name']}.{'seed' if node['resource_type'] == 'seed' else 'run'}"
        for node in nodes
        if node["resource_type"] in ("model", "seed")
    }
    sensors = {t for t in watcher_dag.task_ids if t.endswith((".run", ".seed"))}
    assert sensors == expected and len(sensors) >= 30
    assert "dbt.cross_model_tests" not in watcher_dag.task_ids  # the one build runs them
    check = watcher_dag.get_task("check_marts_inputs")
    assert check.downstream_task_ids == {producer.task_id}
    roots = 0
    for task in watcher_dag.tasks:
        if not task.task_id.startswith("dbt.") or task is producer:
            continue
        if task.task_id.endswith("_done"):
            continue
        upstream = task.upstream_task_ids
        # after the build (directly, or through its parents' sensors), so a sensor reads its
        # node's outcome at once: dag.test runs tasks one after another
        assert upstream and all(up.startswith("dbt.") for up in upstream), task.task_id
        if upstream == {producer.task_id}:
            roots += 1  # reported whether the build failed or not; skipped with it
            assert task.trigger_rule == "none_skipped", task.task_id
        else:
            # downstream of a failed node: upstream_failed, as dbt skipped it
            assert producer.task_id not in upstream, task.task_id
            assert task.trigger_rule == "all_success", task.task_id
        assert task.deferrable is False and 0 < float(task.timeout) <= 600, task.task_id
        if task.task_id.endswith(".test"):
            assert task.retries == 0, task.task_id  # a failed data test is not retried
        else:
            assert task.retries >= 1, task.task_id  # a retry re-runs that node alone
    assert roots >= 10  # the seeds and staging models


def test_a_bad_dbt_task_mode_is_refused(monkeypatch):
    from sinergi.orchestration import dbt_task_mode

    monkeypatch.setenv("SINERGI_DBT_TASKS", "parallel")
    with pytest.raises(ValueError, match="SINERGI_DBT_TASKS must be one of"):
        dbt_task_mode()
    monkeypatch.setenv("SINERGI_DBT_TASKS", " Per-Model ")
    assert dbt_task_mode() == "per-model"
    monkeypatch.delenv("SINERGI_DBT_TASKS")
    assert dbt_task_mode() == "build"


def test_single_task_mode_is_selected_by_environment(manifest):
    """SINERGI_DBT_TASKS=single runs dbt as one task even with a usable manifest."""
    env = {**target_env(manifest), "SINERGI_DBT_TASKS": "single"}
    result = run_dag_file("print(json.dumps(sorted(dag.task_ids)))", **env)
    task_ids = json.loads(result.stdout.strip().splitlines()[-1])
    assert "dbt_build" in task_ids
    assert not any(t.startswith("dbt.") for t in task_ids)


def test_district_task_has_an_execution_timeout(dag, manifest):
    from datetime import timedelta

    mapped = dag.get_task("validate_and_load")
    assert mapped.partial_kwargs["execution_timeout"] == timedelta(hours=2)
    code = "print(dag.get_task('validate_and_load').partial_kwargs['execution_timeout'])"
    out = run_dag_file(code, **target_env(manifest), SINERGI_DISTRICT_TIMEOUT_MINUTES="45")
    assert out.stdout.strip().splitlines()[-1] == "0:45:00"


def test_district_timeout_rejects_a_bad_value(monkeypatch):
    from sinergi.orchestration import district_timeout

    monkeypatch.setenv("SINERGI_DISTRICT_TIMEOUT_MINUTES", "two hours")
    with pytest.raises(ValueError, match="SINERGI_DISTRICT_TIMEOUT_MINUTES must be a positive"):
        district_timeout()


def test_district_retry_delay_comes_from_the_environment(dag, manifest, monkeypatch):
    from datetime import timedelta

    from sinergi.orchestration import district_retry_delay

    assert dag.get_task("validate_and_load").partial_kwargs["retry_delay"] == timedelta(seconds=30)
    monkeypatch.setenv("SINERGI_DISTRICT_RETRY_DELAY_SECONDS", "5")
    assert district_retry_delay() == timedelta(seconds=5)
    monkeypatch.setenv("SINERGI_DISTRICT_RETRY_DELAY_SECONDS", "-1")
    with pytest.raises(ValueError, match="SINERGI_DISTRICT_RETRY_DELAY_SECONDS must be a pos"):
        district_retry_delay()


def test_history_periods_are_not_before_the_start_date(dag):
    # a run whose logical date is before start_date gets no task instance (and "success")
    from sinergi.periods import JAKARTA

    assert dag.start_date <= datetime(2000, 1, 1, tzinfo=JAKARTA)


def test_make_airflow_puts_the_venv_on_path_and_caps_parallelism():
    from sinergi.paths import REPO_ROOT

    recipe = subprocess.run(
        ["make", "-n", "-s", "airflow"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "AIRFLOW__CORE__PARALLELISM"},
    ).stdout
    command = recipe.strip().splitlines()
    standalone = " ".join(line.rstrip("\\") for line in command[-2:])
    assert "airflow standalone" in standalone
    bin_dir = str(REPO_ROOT / ".venv" / "bin")
    assert f'PATH="{bin_dir}:' in standalone  # its components are subprocesses named `airflow`
    assert 'AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-2}"' in standalone
