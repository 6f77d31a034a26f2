"""Approving and locking a district's data for a period (issue 17).

The province's data manager approves a (period, district), or one dataset of it, once the
figures are checked. While an approval stands, the version served at approval time stays
served: a later resubmission is archived, judged, loaded and reported to the district as
usual, but *held* — dbt keeps serving the approved version (models/intermediate/
int_file_versions_served.sql), so the published marts do not change. Unapproving releases
the hold: the next run serves the latest eligible version, exactly as if there had been no
approval (contract §3), and every later period's figures follow.

``audit.approvals`` is append-only: approving and unapproving are both events. The standing
state of a (period, district, dataset) is its latest event: ``approve`` holds it, at the
version recorded in that event; ``unapprove`` releases it. An event for the whole district
writes one row per dataset, so the rule is the same for both scopes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sinergi import reference
from sinergi.datasets import SPECS
from sinergi.periods import Period
from sinergi.warehouse.connection import Warehouse
from sinergi.warehouse.schema import APPROVALS, FILE_VERSIONS

APPROVE, UNAPPROVE = "approve", "unapprove"
SERVABLE = ("ACCEPTED", "PARTIAL")


class ApprovalError(ValueError):
    """An approval that cannot be recorded; the message says why and what to do."""


@dataclass(frozen=True)
class Standing:
    """A standing approval of one dataset of a (period, district)."""

    dataset: str
    approved_version: int | None
    approved_at: datetime
    approved_by: str
    note: str


def standing(wh: Warehouse, period: Period, district_code: str) -> dict[str, Standing]:
    """dataset -> its standing approval, for the datasets of (P, D) held now."""
    with wh.connect() as conn:
        return _standing(wh, conn, period, district_code)


def _standing(wh: Warehouse, conn, period: Period, district_code: str) -> dict[str, Standing]:
    return {
        dataset: held
        for (district, dataset), held in standing_in_period(wh, conn, period).items()
        if district == district_code
    }


def servable_versions(wh: Warehouse, conn, period: Period, district_code: str) -> dict[str, int]:
    """dataset -> the latest ACCEPTED / PARTIAL version of (P, D): what is served unless held."""
    rows = wh.execute(
        conn,
        f"select dataset, max(version) from {FILE_VERSIONS.qualified} "
        "where period = %s and district_code = %s and status in ('ACCEPTED', 'PARTIAL') "
        "group by dataset",
        (period.first_day, district_code),
    )
    return {dataset: int(version) for dataset, version in rows}


def _targets(dataset: str | None) -> tuple[str, ...]:
    if dataset is None:
        return tuple(SPECS)
    if dataset not in SPECS:
        raise ApprovalError(f"unknown dataset {dataset!r}: use one of {', '.join(SPECS)}")
    return (dataset,)


def _check_district(district_code: str) -> None:
    if district_code not in reference.district_codes():
        raise ApprovalError(
            f"unknown district {district_code!r}: use a four-digit code of Jawa Timur "
            "(3501 … 3579, seeds/districts.csv)"
        )


def approve(
    wh: Warehouse,
    period: Period,
    district_code: str,
    dataset: str | None,
    note: str,
    actor: str,
    via: str,
) -> dict[str, int | None]:
    """Approve (P, D), or one dataset of it; returns dataset -> the version now locked."""
    _check_district(district_code)
    targets = _targets(dataset)
    if not note.strip():
        raise ApprovalError("an approval needs a note (what was checked)")
    with wh.transaction() as conn:
        served = servable_versions(wh, conn, period, district_code)
        held = _standing(wh, conn, period, district_code)
        if not any(served.get(d) for d in targets):
            what = dataset or "any dataset"
            raise ApprovalError(
                f"nothing is served for {district_code} {period} ({what}): there is nothing "
                "to approve; run the period first, or check the district and the month"
            )
        already = [held[d] for d in targets if d in held]
        if already:
            first = already[0]
            raise ApprovalError(
                f"{district_code} {period} {first.dataset} is already approved (since "
                f"{first.approved_at:%Y-%m-%d %H:%M} UTC, by {first.approved_by}): unapprove "
                "it first to approve again"
            )
        locked = {d: served.get(d) for d in targets}
        _record(wh, conn, period, district_code, dataset, APPROVE, locked, note, actor, via)
    return locked


def unapprove(
    wh: Warehouse,
    period: Period,
    district_code: str,
    dataset: str | None,
    note: str,
    actor: str,
    via: str,
) -> list[str]:
    """Release the approval of (P, D), or of one dataset; returns the datasets released."""
    _check_district(district_code)
    targets = _targets(dataset)
    with wh.transaction() as conn:
        held = _standing(wh, conn, period, district_code)
        released = [d for d in targets if d in held]
        if not released:
            raise ApprovalError(
                f"{district_code} {period} {dataset or ''} is not approved: nothing to unapprove"
            )
        versions = {d: held[d].approved_version for d in released}
        _record(wh, conn, period, district_code, dataset, UNAPPROVE, versions, note, actor, via)
    return released


def _record(wh, conn, period, district_code, dataset, action, versions, note, actor, via):
    event_id, now = uuid.uuid4().hex, datetime.now(UTC)
    scope = "dataset" if dataset else "district"
    for name, version in versions.items():
        wh.execute(
            conn,
            f"insert into {APPROVALS.qualified} ({', '.join(APPROVALS.column_names)}) "
            f"values ({', '.join(['%s'] * len(APPROVALS.column_names))})",
            (event_id, now, period.first_day, district_code, name, scope, action, version,
             note.strip(), actor, via),
        )  # fmt: skip


def standing_in_period(wh: Warehouse, conn, period: Period) -> dict[tuple[str, str], Standing]:
    """(district, dataset) -> its standing approval, for every district of the period."""
    rows = wh.execute(
        conn,
        "select district_code, dataset, action, approved_version, event_at, actor, note "
        f"from {APPROVALS.qualified} where period = %s order by event_at",
        (period.first_day,),
    )
    latest: dict[tuple[str, str], tuple] = {}
    for row in rows:
        latest[(row[0], row[1])] = row
    return {
        key: Standing(key[1], version, at, actor, note)
        for key, (_, _, action, version, at, actor, note) in latest.items()
        if action == APPROVE
    }


def from_form(params: dict, actor: str | None) -> dict:
    """Carry out the sinergi_approval DAG's trigger form (``sinergi.forms.approval_params``).

    ``actor`` is the Airflow user who triggered the run (``dag_run.triggering_user_name``);
    a run without one (the API with a service account, a test) is recorded as ``airflow``.
    """
    from sinergi.config import load_settings
    from sinergi.forms import ALL_DATASETS
    from sinergi.warehouse.connection import open_warehouse

    wh = open_warehouse(load_settings().warehouse_url)
    wh.ensure_schema()
    period = Period.parse(str(params.get("period") or ""))
    district = str(params.get("district") or "")
    dataset = params.get("dataset") or ALL_DATASETS
    dataset = None if dataset == ALL_DATASETS else str(dataset)
    note, who = str(params.get("note") or ""), actor or "airflow"
    if params.get("action") == UNAPPROVE:
        released = unapprove(wh, period, district, dataset, note, who, via="airflow")
        return {"action": UNAPPROVE, "period": str(period), "district": district,
                "released": released, "by": who}  # fmt: skip
    if params.get("action") != APPROVE:
        raise ApprovalError(f"action must be approve or unapprove, got {params.get('action')!r}")
    locked = approve(wh, period, district, dataset, note, who, via="airflow")
    return {"action": APPROVE, "period": str(period), "district": district,
            "locked": locked, "by": who}  # fmt: skip
