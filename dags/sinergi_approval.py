"""
# Sinergi approval: lock (or release) a district's data for a month

The province's data manager approves a kabupaten/kota's data for a month once the figures are
checked, from this DAG's trigger form: the month, the district (by name), one dataset or all,
approve or unapprove, and a note. The Airflow user who triggers the run is recorded as the
approver in `audit.approvals` (append-only: both actions are events).

While an approval stands, a resubmission of that month and district is still archived, judged,
loaded and reported to the district (its feedback says the file is **DITAHAN**, held, and
which version stays used), but the marts keep the approved version. Unapproving releases it:
the next run of `sinergi_monthly` for that month serves the latest version, and later months'
year-to-date and carried-forward figures follow. The marts change at that next run, not here.

The same from the command line: `sinergi approve --period 2025-03 --district 3507 --note ...`
and `sinergi unapprove ...`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task

from sinergi.alerts import task_failure_alert
from sinergi.forms import approval_params
from sinergi.task_ids import APPROVAL_DAG_ID


@dag(
    dag_id=APPROVAL_DAG_ID,
    doc_md=__doc__,
    schedule=None,
    start_date=datetime(2000, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["sinergi", "approval", "dinsos-jatim"],
    default_args={"owner": "sinergi", "retries": 0, "on_failure_callback": task_failure_alert},
    params=approval_params(),
)
def sinergi_approval():
    @task
    def record_approval(params=None, dag_run=None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from sinergi.approvals import ApprovalError, from_form

        try:
            return from_form(dict(params), getattr(dag_run, "triggering_user_name", None))
        except ApprovalError as refused:  # a clear reason, never retried
            raise AirflowFailException(str(refused)) from None

    record_approval()


sinergi_approval()
