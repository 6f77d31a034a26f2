"""An independent computation of the marts, in plain pandas: the twelve of
``warehouse-marts.md`` and the ones beyond the spec that BI dashboards use.

The end-to-end test compares every column of every row of every mart with what this module
computes from the inbox files alone: the contract oracle's verdicts on every file version
(``tests/contract_oracle.py``: versions, statuses, accepted rows, normalised values), the
reference CSVs (``dbt_project/seeds``, the project's copy of ``shared/reference``) and the
documented defaults (eligible when ``desil`` <= 4; deadline day 10 of the following month,
23:59:59 Asia/Jakarta, inclusive). It imports nothing from ``sinergi`` (the contract oracle
takes only the code lists and ``Period`` from it) and shares no SQL with dbt: it is the spec
read literally, one definition per column, so a slip in a dbt model or an engine-dependent
type shows up as a differing cell. Where the spec could be read two ways it takes the most
literal reading: the sum of ``jumlah_anggota`` over no eligible household is 0, not NULL;
"the first version" is version 1 (the first received), whatever its received time.

Persons and households are identified by the raw NIK / No. KK here: the warehouse counts
keyed HMACs of them, which are equal exactly when the identifiers are.

NULL is ``None`` everywhere and is never produced where the spec says 0 (and vice versa):
"No data" and "zero" must never look the same. Values are plain Python: ``int``, ``float``
(rates, computed as the warehouse computes them: one IEEE division), ``Decimal`` (the BPS
figures, exact as in the reference file), ``date`` (periods), ``datetime`` (UTC, received
times), ``bool`` and ``str``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from tests.contract_oracle import COLUMNS as FILE_COLUMNS
from tests.contract_oracle import ExpectedVersion

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
DATASETS = ("ppks", "psks", "penerima_bantuan", "dtks")
LOCATIONS = ("LUAR_UPT", "DALAM_UPT")
SERVABLE = ("ACCEPTED", "PARTIAL")

# Grain (key) columns and every column of each mart, in the spec's order.
GRAIN: dict[str, tuple[str, ...]] = {
    "dim_districts": ("district_code",),
    "dim_programs": ("program_code",),
    "dim_ppks_categories": ("ppks_code",),
    "dim_psks_types": ("psks_code",),
    "fct_submissions": ("period", "district_code", "dataset"),
    "fct_reporting_rates": ("period", "dataset"),
    "fct_program_reach": ("period", "district_code", "program_code"),
    "fct_household_reach": ("period", "district_code"),
    "fct_ppks": ("period", "district_code", "ppks_code", "location"),
    "fct_psks": ("period", "district_code", "psks_code"),
    "fct_poverty": ("year", "district_code"),
    "fct_cross_district_duplicates": ("period", "program_code"),
    "fct_cross_district_duplicate_pairs": (
        "period",
        "program_code",
        "district_code",
        "other_district_code",
    ),
    # beyond the spec (issue 15), defined in the marts' yml descriptions
    "fct_district_reporting": ("period", "district_code"),
    "fct_household_reach_latest": ("year", "district_code"),
}
MEASURES: dict[str, tuple[str, ...]] = {
    "fct_submissions": (
        "status",
        "versions_received",
        "served_version",
        "first_received_at",
        "last_received_at",
        "is_on_time",
        "rows_total",
        "rows_accepted",
        "rows_rejected",
        "rejection_reason",
    ),
    "fct_reporting_rates": (
        "expected_reports",
        "actual_reports",
        "reports_on_time",
        "reporting_rate",
        "reporting_rate_on_time",
    ),
    "fct_program_reach": (
        "is_reported",
        "recipients",
        "households_reached",
        "amount_disbursed_idr",
        "failed_disbursements",
        "dtks_period",
        "eligible_households",
        "eligible_households_reached",
        "coverage_rate",
        "inclusion_error_rate",
    ),
    "fct_household_reach": (
        "is_reported",
        "dtks_period",
        "eligible_households",
        "households_reached",
        "eligible_households_reached",
        "unreached_eligible_households",
        "unreached_rate",
        "eligible_households_reached_ytd",
        "unreached_rate_ytd",
    ),
    "fct_ppks": ("is_reported", "male_count", "female_count", "total_count"),
    "fct_psks": ("is_reported", "resource_count"),
    "fct_poverty": (
        "poverty_rate_pct",
        "poor_population_thousands",
        "poverty_line_idr",
        "p1",
        "p2",
        "as_of_period",
        "eligible_households",
        "eligible_individuals",
        "eligible_households_reached_ytd",
        "eligible_individuals_per_poor_person",
    ),
    "fct_cross_district_duplicates": (
        "duplicate_persons",
        "duplicate_rows",
        "duplicate_amount_idr",
    ),
    "fct_cross_district_duplicate_pairs": (
        "duplicate_persons",
        "duplicate_rows",
        "duplicate_amount_idr",
    ),
    "fct_district_reporting": (
        "datasets_expected",
        "datasets_received",
        "datasets_served",
        "datasets_on_time",
        "datasets_served_late",
        "datasets_not_served",
        "is_complete",
        "is_complete_on_time",
        "deadline_wib",
        "last_served_received_at",
        "hours_late",
        "datasets_approved",
        "is_approved",
        "approved_at",
        "approved_by",
    ),
    "fct_household_reach_latest": (
        "latest_processed_period",
        "as_of_period",
        "is_current",
        "reported_periods",
        "dtks_period",
        "eligible_households",
        "eligible_households_reached_ytd",
        "unreached_eligible_households_ytd",
        "unreached_rate_ytd",
    ),
}
# The dimensions are their reference file (every column but the source notes).
DIMENSIONS = {
    "dim_districts": "districts",
    "dim_programs": "programs",
    "dim_ppks_categories": "ppks_categories",
    "dim_psks_types": "psks_types",
}
INTEGER_REFERENCE_COLUMNS = {"registered_population_2025", "max_amount_per_disbursement_idr"}
# fct_poverty's BPS columns and the reference file's names for them.
BPS_COLUMNS = {
    "poverty_rate_pct": ("poverty_rate_pct", Decimal),
    "poor_population_thousands": ("poor_population_thousands", Decimal),
    "poverty_line_idr": ("poverty_line_idr_per_capita_month", int),
    "p1": ("p1_poverty_gap", Decimal),
    "p2": ("p2_poverty_severity", Decimal),
}


@dataclass(frozen=True)
class Settings:
    """The pipeline's defaults (``.env.example``), restated here."""

    max_decile: int = 4
    deadline_day: int = 10
    deadline_time: time = time(23, 59, 59)
    zone: str = "Asia/Jakarta"


def reference(name: str) -> pd.DataFrame:
    """A reference CSV as text (empty cells are empty strings)."""
    return pd.read_csv(SEEDS / f"{name}.csv", dtype=str, keep_default_na=False)


def _duplicate_pairs(paid) -> list[dict]:
    """Per (period, programme, district, other district) sharing a paid person: the shared
    persons, and their paid rows and rupiah in the first district; both orders."""
    totals: dict[tuple, list[int]] = {}
    per = paid.groupby(["period", "kode_program", "nik", "district_code"])["nilai_bantuan"]
    sides = per.agg(["size", "sum"]).reset_index()
    for (period, program, _nik), group in sides.groupby(["period", "kode_program", "nik"]):
        for here in group.itertuples():
            for there in group.itertuples():
                if here.district_code != there.district_code:
                    key = (period, program, here.district_code, there.district_code)
                    total = totals.setdefault(key, [0, 0, 0])
                    total[0] += 1
                    total[1] += int(here.size)
                    total[2] += int(here.sum)
    return [
        {
            "period": period,
            "program_code": program,
            "district_code": district,
            "other_district_code": other,
            "duplicate_persons": persons,
            "duplicate_rows": rows,
            "duplicate_amount_idr": amount,
        }
        for (period, program, district, other), (persons, rows, amount) in sorted(totals.items())
    ]


def _district_reporting(
    files: pd.DataFrame, periods: list[date], codes: list[str], settings: Settings
) -> list[dict]:
    """Per (period, district): the four datasets received / served / on time, the deadline
    as WIB wall-clock time, and the hours after it at which the last served dataset's first
    ACCEPTED / PARTIAL version arrived (0 when none was late; NULL when nothing is served)."""
    out = []
    for period in periods:
        due = deadline(period, settings)
        for district in codes:
            mine = files[(files["period"] == period) & (files["district_code"] == district)]
            firsts = [
                group.sort_values("version").iloc[0]
                for _, group in mine[mine["status"].isin(SERVABLE)].groupby("dataset")
            ]
            served = len(firsts)
            on_time = sum(bool(first["by_deadline"]) for first in firsts)
            late = [first["received_at"].to_pydatetime() - due for first in firsts]
            hours = None
            if late:
                micros = max(d.days * 86_400_000_000 + d.seconds * 1_000_000 + d.microseconds
                             for d in late)  # fmt: skip
                hours = (Decimal(max(micros, 0)) / Decimal(3_600_000_000)).quantize(
                    Decimal("0.1"), rounding=ROUND_HALF_UP
                )
            out.append(
                {
                    "period": period,
                    "district_code": district,
                    "datasets_expected": len(DATASETS),
                    "datasets_received": int(mine["dataset"].nunique()),
                    "datasets_served": served,
                    "datasets_on_time": on_time,
                    "datasets_served_late": served - on_time,
                    "datasets_not_served": len(DATASETS) - served,
                    "is_complete": served == len(DATASETS),
                    "is_complete_on_time": on_time == len(DATASETS),
                    "deadline_wib": due.astimezone(ZoneInfo(settings.zone)).replace(tzinfo=None),
                    "last_served_received_at": (
                        max(f["received_at"].to_pydatetime() for f in firsts) if firsts else None
                    ),
                    "hours_late": hours,
                    # the end-to-end scenario approves nothing (tests/integration/test_approvals)
                    "datasets_approved": 0,
                    "is_approved": False,
                    "approved_at": None,
                    "approved_by": None,
                }
            )
    return out


def _household_reach_latest(household_reach: list[dict], periods: list[date]) -> list[dict]:
    """Per (year of the processed periods, district): the latest period of the year whose
    roster is served, with fct_household_reach's year-to-date figures of that period."""
    out = []
    by_key = {(r["period"], r["district_code"]): r for r in household_reach}
    districts = sorted({r["district_code"] for r in household_reach})
    for year in sorted({p.year for p in periods}):
        latest = max(p for p in periods if p.year == year)
        for district in districts:
            reported = [
                p for p in periods if p.year == year and by_key[(p, district)]["is_reported"]
            ]
            as_of = max(reported) if reported else None
            at = by_key.get((as_of, district), {})
            eligible = at.get("eligible_households")
            reached = at.get("eligible_households_reached_ytd")
            out.append(
                {
                    "year": year,
                    "district_code": district,
                    "latest_processed_period": latest,
                    "as_of_period": as_of,
                    "is_current": as_of == latest,
                    "reported_periods": len(reported),
                    "dtks_period": at.get("dtks_period"),
                    "eligible_households": eligible,
                    "eligible_households_reached_ytd": reached,
                    "unreached_eligible_households_ytd": (
                        None if eligible is None or reached is None else eligible - reached
                    ),
                    "unreached_rate_ytd": at.get("unreached_rate_ytd"),
                }
            )
    return out


def columns(mart: str) -> tuple[str, ...]:
    """Every column of a mart: its grain, then its measures (dimensions: their file's)."""
    if mart in DIMENSIONS:
        return tuple(c for c in reference(DIMENSIONS[mart]).columns if c != "source")
    return GRAIN[mart] + MEASURES[mart]


def first_day(period: str | date) -> date:
    return period if isinstance(period, date) else date.fromisoformat(f"{period}-01")


def deadline(period: date, settings: Settings) -> datetime:
    """Day ``deadline_day`` of the month after ``period``, at ``deadline_time`` local, in UTC."""
    year, month = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    local = datetime.combine(
        date(year, month, settings.deadline_day), settings.deadline_time, ZoneInfo(settings.zone)
    )
    return local.astimezone(UTC)


def _ratio(numerator: int | None, denominator: int | float | None) -> float | None:
    """numerator / denominator; NULL when either is NULL or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(numerator) / float(denominator)


def _when(condition: bool, value: Any) -> Any:
    return value if condition else None


# --- the inputs as tables ---------------------------------------------------------------------
def version_table(versions: Iterable[ExpectedVersion], settings: Settings) -> pd.DataFrame:
    """One row per file version the pipeline must hold (the contract oracle's verdicts)."""
    records = []
    for v in versions:
        j = v.judgement
        received = datetime.fromtimestamp(Path(v.path).stat().st_mtime, UTC)
        period = first_day(v.period)
        records.append(
            {
                "period": period,
                "district_code": v.district,
                "dataset": v.dataset,
                "version": v.version,
                "status": j.status,
                "rejection_reason": j.rejection_reason,
                "rows_total": j.rows_total,
                "rows_accepted": j.rows_accepted,
                "rows_rejected": j.rows_rejected,
                "received_at": received,
                "by_deadline": received <= deadline(period, settings),
            }
        )
    frame = pd.DataFrame.from_records(
        records,
        columns=[
            "period",
            "district_code",
            "dataset",
            "version",
            "status",
            "rejection_reason",
            "rows_total",
            "rows_accepted",
            "rows_rejected",
            "received_at",
            "by_deadline",
        ],
    )
    duplicated = frame.duplicated(["period", "district_code", "dataset", "version"])
    assert not duplicated.any(), frame[duplicated]
    return frame


def served_rows(
    versions: list[ExpectedVersion], served: dict[tuple, int]
) -> dict[str, pd.DataFrame]:
    """dataset -> the accepted rows of every served version: period, district_code and the
    contract's columns, normalised (``period`` as a date)."""
    out = {}
    for dataset in DATASETS:
        names = [c for c in FILE_COLUMNS[dataset] if c not in ("periode", "kode_kabkota")]
        records = []
        for v in versions:
            key = (first_day(v.period), v.district, v.dataset)
            if v.dataset != dataset or served.get(key) != v.version:
                continue
            for values in v.judgement.accepted().values():
                cells = dict(zip(FILE_COLUMNS[dataset], values, strict=True))
                records.append((key[0], v.district, *(cells[c] for c in names)))
        out[dataset] = pd.DataFrame.from_records(
            records, columns=["period", "district_code", *names]
        )
    return out


# --- the marts ---------------------------------------------------------------------------------
def compute_marts(
    versions: Iterable[ExpectedVersion],
    processed_periods: Iterable[str],
    settings: Settings = Settings(),
) -> dict[str, list[dict[str, Any]]]:
    """Every mart as a list of rows ({column: value}), for the given file versions (all the
    versions the runs created, from the contract oracle) and processed periods."""
    versions = list(versions)
    periods = sorted({first_day(p) for p in processed_periods})
    districts = reference("districts")
    codes = sorted(districts["district_code"])
    programs = sorted(reference("programs")["program_code"])
    ppks_codes = sorted(reference("ppks_categories")["ppks_code"])
    psks_codes = sorted(reference("psks_types")["psks_code"])

    files = version_table(versions, settings)
    files = files[files["period"].isin(periods)]
    servable = files[files["status"].isin(SERVABLE)]
    # §3: the served version is the latest ACCEPTED / PARTIAL one.
    served = {
        key: int(version)
        for key, version in servable.groupby(["period", "district_code", "dataset"])["version"]
        .max()
        .items()
    }
    rows = served_rows(versions, served)

    def is_served(period: date, district: str, dataset: str) -> bool:
        return (period, district, dataset) in served

    marts: dict[str, list[dict[str, Any]]] = {}
    for mart, name in DIMENSIONS.items():
        table = reference(name)
        marts[mart] = [
            {
                c: (int(r[c]) if c in INTEGER_REFERENCE_COLUMNS and r[c] != "" else (r[c] or None))
                for c in columns(mart)
            }
            for r in table.to_dict("records")
        ]

    # --- fct_submissions and fct_reporting_rates ----------------------------------------------
    by_slot = {
        key: group.sort_values("version")
        for key, group in files.groupby(["period", "district_code", "dataset"])
    }
    submissions = []
    for period in periods:
        for district in codes:
            for dataset in DATASETS:
                group = by_slot.get((period, district, dataset))
                row = {"period": period, "district_code": district, "dataset": dataset}
                if group is None:
                    row |= {
                        "status": "MISSING",
                        "versions_received": 0,
                        "served_version": None,
                        "first_received_at": None,
                        "last_received_at": None,
                        "is_on_time": False,
                        "rows_total": 0,
                        "rows_accepted": 0,
                        "rows_rejected": 0,
                        "rejection_reason": None,
                    }
                else:
                    first, latest = group.iloc[0], group.iloc[-1]
                    usable = group[group["status"].isin(SERVABLE)]
                    row |= {
                        "status": latest["status"],
                        "versions_received": int(group["version"].nunique()),
                        "served_version": served.get((period, district, dataset)),
                        "first_received_at": first["received_at"].to_pydatetime(),
                        "last_received_at": latest["received_at"].to_pydatetime(),
                        "is_on_time": bool(len(usable) and usable.iloc[0]["by_deadline"]),
                        "rows_total": int(latest["rows_total"]),
                        "rows_accepted": int(latest["rows_accepted"]),
                        "rows_rejected": int(latest["rows_rejected"]),
                        "rejection_reason": (
                            latest["rejection_reason"] if latest["status"] == "REJECTED" else None
                        ),
                    }
                submissions.append(row)
    marts["fct_submissions"] = submissions

    register = pd.DataFrame(submissions)
    rates = []
    expected_reports = len(codes)
    for (period, dataset), group in register.groupby(["period", "dataset"], sort=True):
        actual = int(group["served_version"].notna().sum())
        on_time = int(group["is_on_time"].sum())
        rates.append(
            {
                "period": period,
                "dataset": dataset,
                "expected_reports": expected_reports,
                "actual_reports": actual,
                "reports_on_time": on_time,
                "reporting_rate": _ratio(actual, expected_reports),
                "reporting_rate_on_time": _ratio(on_time, expected_reports),
            }
        )
    marts["fct_reporting_rates"] = rates

    # --- the DTKS snapshot in effect ------------------------------------------------------------
    dtks = rows["dtks"]
    dtks = dtks.assign(
        eligible=(dtks["status_dtks"] == "AKTIF") & (dtks["desil"] <= settings.max_decile)
    )
    eligible_by_snapshot: dict[tuple[date, str], pd.DataFrame] = {
        key: group[group["eligible"]] for key, group in dtks.groupby(["period", "district_code"])
    }

    def snapshot(period: date, district: str) -> tuple[date | None, set | None, int | None]:
        """(dtks_period, eligible No. KK, eligible individuals) in effect for (P, D)."""
        candidates = [p for p in periods if p <= period and is_served(p, district, "dtks")]
        if not candidates:
            return None, None, None
        at = max(candidates)
        eligible = eligible_by_snapshot.get((at, district), dtks.iloc[0:0])
        assert eligible["no_kk"].is_unique
        return at, set(eligible["no_kk"]), int(eligible["jumlah_anggota"].sum())

    # --- fct_program_reach and fct_household_reach ---------------------------------------------
    roster = rows["penerima_bantuan"]
    paid = roster[roster["status_salur"] == "SALUR"]
    failed = roster[roster["status_salur"] == "GAGAL"]
    program_reach, household_reach = [], []
    reach_at: dict[tuple[date, str], dict[str, Any]] = {}
    for period in periods:
        for district in codes:
            reported = is_served(period, district, "penerima_bantuan")
            dtks_period, eligible, individuals = snapshot(period, district)
            has_snapshot = eligible is not None
            here = paid[(paid["period"] == period) & (paid["district_code"] == district)]
            fails = failed[(failed["period"] == period) & (failed["district_code"] == district)]
            for program in programs:
                mine = here[here["kode_program"] == program]
                households = set(mine["no_kk"])
                reached = len(households)
                eligible_reached = len(households & eligible) if has_snapshot else None
                program_reach.append(
                    {
                        "period": period,
                        "district_code": district,
                        "program_code": program,
                        "is_reported": reported,
                        "recipients": _when(reported, int(mine["nik"].nunique())),
                        "households_reached": _when(reported, reached),
                        "amount_disbursed_idr": _when(reported, int(mine["nilai_bantuan"].sum())),
                        "failed_disbursements": _when(
                            reported, int((fails["kode_program"] == program).sum())
                        ),
                        "dtks_period": dtks_period,
                        "eligible_households": _when(has_snapshot, len(eligible or ())),
                        "eligible_households_reached": _when(reported, eligible_reached),
                        "coverage_rate": _when(
                            reported, _ratio(eligible_reached, len(eligible or ()))
                        ),
                        "inclusion_error_rate": _when(
                            reported and has_snapshot,
                            _ratio(reached - (eligible_reached or 0), reached),
                        ),
                    }
                )
            households = set(here["no_kk"])
            eligible_households = _when(has_snapshot, len(eligible or ()))
            eligible_reached = len(households & eligible) if reported and has_snapshot else None
            unreached = None if eligible_reached is None else eligible_households - eligible_reached
            ytd = None
            if reported and has_snapshot:
                year = paid[
                    (paid["district_code"] == district)
                    & (paid["period"] <= period)
                    & (paid["period"].map(lambda p: p.year) == period.year)
                ]
                ytd = len(set(year["no_kk"]) & eligible)
            ytd_share = _ratio(ytd, eligible_households)
            row = {
                "period": period,
                "district_code": district,
                "is_reported": reported,
                "dtks_period": dtks_period,
                "eligible_households": eligible_households,
                "households_reached": _when(reported, len(households)),
                "eligible_households_reached": eligible_reached,
                "unreached_eligible_households": unreached,
                "unreached_rate": _ratio(unreached, eligible_households),
                "eligible_households_reached_ytd": ytd,
                "unreached_rate_ytd": None if ytd_share is None else 1 - ytd_share,
            }
            household_reach.append(row)
            reach_at[(period, district)] = row | {"eligible_individuals": individuals}
    marts["fct_program_reach"] = program_reach
    marts["fct_household_reach"] = household_reach

    # --- fct_ppks and fct_psks ------------------------------------------------------------------
    ppks = (
        rows["ppks"]
        .groupby(["period", "district_code", "kode_ppks", "lokasi"])[
            ["jumlah_laki_laki", "jumlah_perempuan", "jumlah"]
        ]
        .sum()
    )
    ppks_sums = {key: tuple(int(x) for x in values) for key, values in ppks.iterrows()}
    psks = rows["psks"].set_index(["period", "district_code", "kode_psks"])["jumlah"]
    assert psks.index.is_unique  # §5.2: the key is kode_psks
    psks_counts = {key: int(value) for key, value in psks.items()}
    ppks_rows, psks_rows = [], []
    for period in periods:
        for district in codes:
            reported = is_served(period, district, "ppks")
            for code in ppks_codes:
                for location in LOCATIONS:
                    male, female, total = ppks_sums.get(
                        (period, district, code, location), (0, 0, 0)
                    )
                    ppks_rows.append(
                        {
                            "period": period,
                            "district_code": district,
                            "ppks_code": code,
                            "location": location,
                            "is_reported": reported,
                            "male_count": _when(reported, male),
                            "female_count": _when(reported, female),
                            "total_count": _when(reported, total),
                        }
                    )
            reported = is_served(period, district, "psks")
            for code in psks_codes:
                psks_rows.append(
                    {
                        "period": period,
                        "district_code": district,
                        "psks_code": code,
                        "is_reported": reported,
                        "resource_count": _when(
                            reported, psks_counts.get((period, district, code), 0)
                        ),
                    }
                )
    marts["fct_ppks"] = ppks_rows
    marts["fct_psks"] = psks_rows

    # --- fct_poverty ----------------------------------------------------------------------------
    bps = reference("bps_poverty")
    bps_rows = {(int(r["year"]), r["district_code"]): r for r in bps.to_dict("records")}
    years = sorted({year for year, _ in bps_rows} | {p.year for p in periods})
    poverty = []
    for year in years:
        in_year = [p for p in periods if p.year == year]
        as_of = max(in_year) if in_year else None
        for district in codes:
            source = bps_rows.get((year, district), {})
            row: dict[str, Any] = {"year": year, "district_code": district}
            for column, (name, kind) in BPS_COLUMNS.items():
                text = source.get(name, "")
                row[column] = kind(text) if text != "" else None
            at = reach_at.get((as_of, district), {})
            individuals = at.get("eligible_individuals")
            poor = row["poor_population_thousands"]
            row |= {
                "as_of_period": as_of,
                "eligible_households": at.get("eligible_households"),
                "eligible_individuals": individuals,
                "eligible_households_reached_ytd": at.get("eligible_households_reached_ytd"),
                "eligible_individuals_per_poor_person": _ratio(
                    individuals, None if poor is None else float(poor * 1000)
                ),
            }
            poverty.append(row)
    marts["fct_poverty"] = poverty

    # --- fct_cross_district_duplicates ----------------------------------------------------------
    duplicates = []
    for period in periods:
        month = paid[paid["period"] == period]
        for program in programs:
            mine = month[month["kode_program"] == program]
            places = mine.groupby("nik")["district_code"].nunique()
            persons = set(places[places >= 2].index)
            their_rows = mine[mine["nik"].isin(persons)]
            duplicates.append(
                {
                    "period": period,
                    "program_code": program,
                    "duplicate_persons": len(persons),
                    "duplicate_rows": len(their_rows),
                    "duplicate_amount_idr": int(their_rows["nilai_bantuan"].sum()),
                }
            )
    marts["fct_cross_district_duplicates"] = duplicates
    marts["fct_cross_district_duplicate_pairs"] = _duplicate_pairs(paid)
    marts["fct_district_reporting"] = _district_reporting(files, periods, codes, settings)
    marts["fct_household_reach_latest"] = _household_reach_latest(household_reach, periods)

    for mart, table in marts.items():
        assert all(tuple(r) == columns(mart) for r in table), mart
    return marts
