"""
# Sinergi monthly pipeline

Takes one reporting month of district submissions from the inbox
(`<inbox>/<YYYY-MM>/<district>/<dataset>.csv|xlsx`) to the warehouse marts:

1. **discover** – creates the warehouse tables if needed, marks the period processed,
   records stray folders/files in the inbox as notices, and lists the districts with
   something new (a file whose bytes are not a recorded version, or an entry to report).
2. **check_deadline** – after the submission deadline, lists the districts and datasets with
   no file (and late files) in `<reports>/<period>/deadline-alert.json` and the log
   (`SINERGI_DEADLINE_ALERTS`).
3. **judge** – every new file version of the month is archived and judged against the
   submission contract, the files of all districts of a dataset together (one Great
   Expectations validation per batch of files instead of one per file); each verdict is
   left as a judged-version folder. A file whose judgement fails here is judged again by
   its district task.
4. **validate_and_load** – one mapped task per district with something new (labelled with
   the district code; a re-run with nothing new maps none and shows it *skipped*, every
   district of a `districts` subset gets one): loads each new version of the district
   atomically (judging on its own whatever `judge` did not leave, e.g. a file that arrived
   since); bad data is recorded in `audit`, it never fails the task. Clear one map index to
   re-run that district alone.
5. **dbt** – one `dbt build` of the whole project (task **build**, dbt's own threads),
   then one task per dbt model and seed, rendered from `manifest.json`, that ends as its
   node and the node's tests ended in that build, with the reason in its log. A failing
   model is its own red task: clear it (or let it retry) to build that model alone. A
   failing data test fails its model's task once, without retries; what depends on it is
   upstream_failed. `SINERGI_DBT_TASKS=watcher` does the same through astronomer-cosmos'
   watcher mode, `per-model` runs one cosmos `dbt build` per node (plus
   **cross_model_tests**), `single` one **dbt_build** task; without a usable manifest
   (`python -m sinergi.dbt parse`) dbt runs as **dbt_build** too.
   **check_marts_inputs** runs first: when the marts were already built from exactly the
   same inputs (no new file version or period, no change to the dbt project or the
   eligibility threshold), every dbt task and dbt_docs are *skipped* and the summary says
   "Marts unchanged".
6. **dbt_docs** – the dbt docs site (`<reports>/dbt-docs/`), next to the Data Docs.
7. **publish_reports** – the run summary and per-district feedback files; it runs even when
   dbt failed (district feedback does not depend on the marts) and records the dbt outcome.

A failed task logs one `SINERGI ALERT` line (task, district, period, error) and appends it to
`<reports>/<period>/alerts.log`. Data-test failures fail at once; infrastructure errors are
retried. A district task stops after `SINERGI_DISTRICT_TIMEOUT_MINUTES` (default 120).
Scheduled on day 11 of each month (after the day-10 deadline) for the previous month; trigger
it with the `period` parameter (`YYYY-MM`, chosen from a list of months) for any month,
whatever the logical date, and optionally `districts` (a subset, by name) to reprocess only
those districts of the month. Approved (locked) district data is held: see the
`sinergi_approval` DAG.
Re-running a period with unchanged files changes nothing. Configuration comes from `SINERGI_*`
environment variables (see `.env.example`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import TriggerRule, dag, task

from sinergi.alerts import task_failure_alert
from sinergi.forms import districts_param, month_param
from sinergi.orchestration import (
    dbt_task_group,
    district_retry_delay,
    district_timeout,
    monthly_timetable,
)
from sinergi.task_ids import DOCS_TASK_ID, FALLBACK_TASK_ID, JUDGE_TASK_ID, MARTS_CHECK_TASK_ID

DISTRICT_RETRIES = {
    "retries": 3,
    "retry_delay": district_retry_delay(),
    "retry_exponential_backoff": True,
    # a hostile or huge file must not hold a worker slot forever (SINERGI_DISTRICT_TIMEOUT_MINUTES)
    "execution_timeout": district_timeout(),
}


@dag(
    dag_id="sinergi_monthly",
    doc_md=__doc__,
    schedule=monthly_timetable(),
    # Far in the past: a run whose logical date is before start_date gets no task instance and
    # Airflow marks it success. The month comes from the `period` param, never from this date.
    start_date=datetime(2000, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sinergi", "monthly", "dinsos-jatim"],
    default_args={
        "owner": "sinergi",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        # Task level: a DAG-level on_failure_callback never fires on Airflow 3.3.
        "on_failure_callback": task_failure_alert,
    },
    params={
        "period": month_param(
            "", optional=True, description="Empty: the month before the run's logical date."
        ),
        "districts": districts_param(),
    },
)
def sinergi_monthly():
    # Returns the jobs of the districts with something new (what validate_and_load maps
    # over: Airflow maps only over a task's return value); "jobs" (every district of the
    # run) and "period" go to XComs of their own.
    @task
    def discover(ti=None, params=None, logical_date=None) -> list[dict]:
        from sinergi.config import load_settings
        from sinergi.pipeline import prepare_period, resolve_period

        period = resolve_period(params.get("period"), logical_date)
        plan = prepare_period(period, load_settings(), params.get("districts") or None)
        ti.xcom_push(key="jobs", value=plan["jobs"])
        ti.xcom_push(key="period", value=plan["period"])
        return plan["loads"]

    @task
    def check_deadline(jobs: list[dict]) -> dict | None:
        from dataclasses import asdict

        from sinergi.alerts import check_deadline as deadline_report
        from sinergi.config import load_settings
        from sinergi.periods import Period

        report = deadline_report(Period.parse(jobs[0]["period"]), load_settings())
        return asdict(report) if report else None

    # multiple_outputs=False on the tasks annotated ``-> dict``: Airflow infers it from the
    # annotation and would push every key as an XCom of its own besides the return value;
    # nothing reads them, and each is a call to the execution API (4 more per district task).
    @task(task_id=JUDGE_TASK_ID, retries=1, multiple_outputs=False)
    def judge(period: str, loads: list[dict]) -> dict:
        from sinergi.config import load_settings
        from sinergi.periods import Period
        from sinergi.pipeline import judge_period

        districts = [job["district_code"] for job in loads]
        return judge_period(Period.parse(period), load_settings(), districts)

    # ALL_DONE_MIN_ONE_SUCCESS: the districts load even when `judge` failed (each then
    # judges its own files); when discover failed there is nothing to load.
    @task(
        map_index_template="{{ task.op_kwargs['district_code'] }}",
        trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS,
        multiple_outputs=False,
        **DISTRICT_RETRIES,
    )
    def validate_and_load(period: str, district_code: str) -> dict:
        from sinergi.config import load_settings
        from sinergi.periods import Period
        from sinergi.pipeline import process_district

        return process_district(Period.parse(period), district_code, load_settings())

    # Falsy result: the marts are current, so its downstream dbt tasks (and dbt docs after
    # them) are skipped; publish_reports (ALL_DONE) still runs and says so. NONE_FAILED: it
    # also runs when no district had anything to load (validate_and_load mapped to nothing
    # is skipped), since an approval or a changed model still changes the marts.
    @task.short_circuit(
        task_id=MARTS_CHECK_TASK_ID,
        ignore_downstream_trigger_rules=False,
        trigger_rule=TriggerRule.NONE_FAILED,
    )
    def check_marts_inputs(jobs: list[dict]) -> str:
        from sinergi.config import load_settings
        from sinergi.periods import Period
        from sinergi.pipeline import marts_to_build

        return marts_to_build(Period.parse(jobs[0]["period"]), load_settings())

    @task(task_id=FALLBACK_TASK_ID, retries=1, multiple_outputs=False)
    def dbt_build(jobs: list[dict]) -> dict:
        from sinergi.config import load_settings
        from sinergi.orchestration import build_marts_once

        return build_marts_once(jobs, load_settings())

    @task(task_id=DOCS_TASK_ID, retries=1)
    def dbt_docs() -> str:
        from sinergi.config import load_settings
        from sinergi.dbt import generate_docs

        settings = load_settings()
        out = settings.reports_dir / "dbt-docs"
        return str(generate_docs(settings.warehouse_url, out, vars=settings.dbt_vars))

    # ALL_DONE: district feedback goes out even when a dbt model failed. The run still fails
    # then: dbt_docs (a leaf, default ALL_SUCCESS) ends upstream_failed.
    @task(trigger_rule=TriggerRule.ALL_DONE)
    def publish_reports(loads: list[dict] | None, params=None, logical_date=None, **context):
        from sinergi.config import load_settings
        from sinergi.orchestration import dbt_outcome, marts_check
        from sinergi.pipeline import remember_build, resolve_period
        from sinergi.reports import publish

        if loads is None:  # discover failed (e.g. a refused PII key): nothing was judged
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException("discover did not complete: nothing to publish")
        period = resolve_period(params.get("period"), logical_date)
        settings = load_settings()
        inputs, marts_current = marts_check(context)
        build = dbt_outcome(str(period), context, marts_current=marts_current)
        remember_build(period, build, inputs, settings)
        return publish(str(period), build, settings)

    loads = discover()
    jobs = loads["jobs"]
    check_deadline(jobs)
    loaded = validate_and_load.expand_kwargs(loads)
    judge(loads["period"], loads) >> loaded
    marts_check = check_marts_inputs(jobs)
    dbt = dbt_task_group()
    if dbt is None:  # no usable manifest (logged): one `dbt build` task
        dbt = dbt_build(jobs)
    loaded >> marts_check >> dbt >> [dbt_docs(), publish_reports(loads)]


sinergi_monthly()
