"""
# Sinergi monthly pipeline

Takes one reporting month of district submissions from the inbox
(`<inbox>/<YYYY-MM>/<district>/<dataset>.csv|xlsx`) to the warehouse marts:

1. **discover** – creates the warehouse tables if needed, marks the period processed and
   records stray folders/files in the inbox as notices.
2. **validate_and_load** – one mapped task per district (38 map indexes, labelled with the
   district code): every new file version is archived, judged against the submission
   contract and loaded atomically; bad data is recorded in `audit`, it never fails the task.
   Clear one map index to re-run that district alone.
3. **dbt_build** – seeds, staging, intermediate and marts (`dbt build`).
4. **publish_reports** – the run summary and per-district feedback files.

Scheduled on day 11 of each month (after the day-10 deadline) for the previous month;
trigger it with the `period` parameter (`YYYY-MM`) for any month. Re-running a period with
unchanged files changes nothing. Configuration comes from `SINERGI_*` environment
variables (see `.env.example`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

DISTRICT_RETRIES = {
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
}


@dag(
    dag_id="sinergi_monthly",
    doc_md=__doc__,
    schedule=CronTriggerTimetable("0 2 11 * *", timezone="Asia/Jakarta"),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sinergi", "monthly", "dinsos-jatim"],
    default_args={"owner": "sinergi", "retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "period": Param(
            "",
            type="string",
            pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$",
            title="Reporting month (YYYY-MM)",
            description="Empty: the month before the run's logical date.",
        ),
    },
)
def sinergi_monthly():
    @task
    def discover(params=None, logical_date=None) -> list[dict]:
        from sinergi.config import load_settings
        from sinergi.pipeline import prepare_period, resolve_period

        period = resolve_period(params.get("period"), logical_date)
        return prepare_period(period, load_settings())

    @task(map_index_template="{{ task.op_kwargs['district_code'] }}", **DISTRICT_RETRIES)
    def validate_and_load(period: str, district_code: str) -> dict:
        from sinergi.config import load_settings
        from sinergi.periods import Period
        from sinergi.pipeline import process_district

        return process_district(Period.parse(period), district_code, load_settings())

    @task(retries=1)
    def dbt_build(districts: list[dict]) -> dict:
        from sinergi.config import load_settings
        from sinergi.pipeline import build_marts

        return build_marts(list(districts), load_settings())

    @task
    def publish_reports(districts: list[dict], build: dict) -> dict:
        from sinergi.config import load_settings
        from sinergi.reports import publish

        return publish(build["period"], list(districts), build, load_settings())

    loaded = validate_and_load.expand_kwargs(discover())
    publish_reports(loaded, dbt_build(loaded))


sinergi_monthly()
