"""What a bulletin shows, read from the marts only (the tables a BI user may read).

Nothing here reads ``raw``, ``audit`` or ``intermediate``: the bulletin must say what a
programme manager would find in the BI tool, so every figure is a mart's figure, and a
figure the mart holds as NULL ("not reported") stays ``None`` here and is shown as missing,
never as zero. Each query names its mart; ``MARTS_READ`` lists them (a test checks it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sinergi.periods import Period

MARTS_READ = (
    "dim_districts",
    "dim_programs",
    "fct_submissions",
    "fct_reporting_rates",
    "fct_program_reach",
    "fct_household_reach",
    "fct_cross_district_duplicates",
    "fct_cross_district_duplicate_pairs",
    "fct_outliers",
)
DATASETS = ("ppks", "psks", "penerima_bantuan", "dtks")


@dataclass
class BulletinData:
    """The figures of one period's bulletin, as plain values (also saved as ``data.json``)."""

    period: str
    districts: dict[str, str]  # code -> name, in code order
    programs: dict[str, str]  # code -> Indonesian name
    submissions: dict[str, dict[str, dict]]  # district -> dataset -> {status, is_on_time}
    reporting: dict[str, dict]  # dataset -> fct_reporting_rates row
    coverage: dict[str, dict[str, float | None]]  # district -> programme -> coverage_rate
    reach: dict[str, dict]  # district -> fct_household_reach row
    trend: list[dict]  # one row per processed period of the year up to this one
    duplicates: list[dict]  # fct_cross_district_duplicates rows of the period
    outliers: list[dict]  # fct_outliers rows of the period
    # fct_cross_district_duplicate_pairs of the period, one row per pair (``_unordered_pairs``)
    duplicate_pairs: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)  # vs the previous bulletin
    previous_bulletin: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False, sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()[:7] if value.day == 1 else value.isoformat()
    return value


def _select(wh, conn, mart: str, columns: str, where: str = "", params: tuple = ()) -> list[dict]:
    """``select columns from marts.<mart> [where ...]`` as dicts of plain Python values."""
    assert mart in MARTS_READ, mart
    names = [c.strip() for c in columns.split(",")]
    sql = f"select {columns} from marts.{mart}" + (f" where {where}" if where else "")
    return [
        dict(zip(names, map(_plain, row), strict=True)) for row in wh.execute(conn, sql, params)
    ]


def read(wh, period: Period) -> BulletinData:
    """Every figure of the bulletin for ``period`` from the marts as they are now."""
    day = (period.first_day,)
    january = (date(period.year, 1, 1), period.first_day)
    with wh.connect() as conn:
        districts = {
            r["district_code"]: r["district_name"]
            for r in sorted(
                _select(wh, conn, "dim_districts", "district_code, district_name"),
                key=lambda r: r["district_code"],
            )
        }
        programs = {
            r["program_code"]: r["name_id"]
            for r in _select(wh, conn, "dim_programs", "program_code, name_id")
        }
        submissions: dict[str, dict[str, dict]] = {}
        for r in _select(
            wh, conn, "fct_submissions", "district_code, dataset, status, is_on_time",
            "period = %s", day,
        ):  # fmt: skip
            submissions.setdefault(r["district_code"], {})[r["dataset"]] = r
        reporting = {
            r["dataset"]: r
            for r in _select(
                wh, conn, "fct_reporting_rates",
                "dataset, expected_reports, actual_reports, reports_on_time, reporting_rate, "
                "reporting_rate_on_time", "period = %s", day,
            )
        }  # fmt: skip
        coverage: dict[str, dict[str, float | None]] = {}
        for r in _select(
            wh, conn, "fct_program_reach", "district_code, program_code, coverage_rate",
            "period = %s", day,
        ):  # fmt: skip
            coverage.setdefault(r["district_code"], {})[r["program_code"]] = r["coverage_rate"]
        reach = {
            r["district_code"]: r
            for r in _select(
                wh, conn, "fct_household_reach",
                "district_code, is_reported, eligible_households, households_reached, "
                "eligible_households_reached, eligible_households_reached_ytd, "
                "unreached_rate_ytd", "period = %s", day,
            )
        }  # fmt: skip
        trend = _trend(wh, conn, january)
        duplicates = _select(
            wh, conn, "fct_cross_district_duplicates",
            "program_code, duplicate_persons, duplicate_rows, duplicate_amount_idr",
            "period = %s", day,
        )  # fmt: skip
        # one row per unordered pair: the side with the lower district code, and the other
        # side's rupiah beside it
        pairs = _select(
            wh, conn, "fct_cross_district_duplicate_pairs",
            "program_code, district_code, other_district_code, duplicate_persons, "
            "duplicate_amount_idr", "period = %s", day,
        )  # fmt: skip
        outliers = _select(
            wh, conn, "fct_outliers",
            "district_code, dataset, indicator, breakdown, method, value, previous_value, "
            "relative_change, history_months, baseline_median, score, direction",
            "period = %s", day,
        )  # fmt: skip
    return BulletinData(
        period=str(period),
        districts=districts,
        programs=dict(sorted(programs.items())),
        submissions=submissions,
        reporting=reporting,
        coverage=coverage,
        reach=reach,
        trend=trend,
        duplicates=sorted(duplicates, key=lambda r: r["program_code"]),
        duplicate_pairs=_unordered_pairs(pairs),
        outliers=sorted(
            outliers, key=lambda r: (-abs(r["score"]), r["district_code"], r["indicator"])
        ),
    )


def _unordered_pairs(rows: list[dict]) -> list[dict]:
    """One row per (programme, pair of districts), both sides' rupiah, most persons first."""
    amounts = {
        (r["program_code"], r["district_code"], r["other_district_code"]): r["duplicate_amount_idr"]
        for r in rows
    }
    pairs = [
        {
            "program_code": r["program_code"],
            "district_code": r["district_code"],
            "other_district_code": r["other_district_code"],
            "duplicate_persons": r["duplicate_persons"],
            "amount_idr": r["duplicate_amount_idr"],
            "other_amount_idr": amounts.get(
                (r["program_code"], r["other_district_code"], r["district_code"])
            ),
        }
        for r in rows
        if r["district_code"] < r["other_district_code"]
    ]
    return sorted(
        pairs,
        key=lambda p: (-p["duplicate_persons"], p["program_code"], p["district_code"]),
    )


def _trend(wh, conn, months: tuple[date, date]) -> list[dict]:
    """Per processed period from January: reporting rates and the province's reach so far.

    Province totals add up the reporting districts only, and say how many reported: a
    district without a roster has NULL figures, which are left out, not counted as 0.
    """
    rates: dict[str, dict] = {}
    for r in _select(
        wh, conn, "fct_reporting_rates", "period, dataset, reporting_rate",
        "period between %s and %s", months,
    ):  # fmt: skip
        rates.setdefault(r["period"], {})[r["dataset"]] = r["reporting_rate"]
    reach: dict[str, list[dict]] = {}
    for r in _select(
        wh, conn, "fct_household_reach",
        "period, eligible_households, eligible_households_reached_ytd",
        "period between %s and %s", months,
    ):  # fmt: skip
        reach.setdefault(r["period"], []).append(r)
    out = []
    for period in sorted(rates):
        rows = [
            r
            for r in reach.get(period, [])
            if r["eligible_households_reached_ytd"] is not None and r["eligible_households"]
        ]
        eligible = sum(r["eligible_households"] for r in rows)
        reached = sum(r["eligible_households_reached_ytd"] for r in rows)
        out.append(
            {
                "period": period,
                "reporting_rate": rates[period],
                "districts_with_reach": len(rows),
                "eligible_households": eligible if rows else None,
                "eligible_households_reached_ytd": reached if rows else None,
                "reached_share_ytd": reached / eligible if eligible else None,
            }
        )
    return out


#: The per-district figures compared with the previous bulletin ("what changed since").
COMPARED = (
    "eligible_households",
    "households_reached",
    "eligible_households_reached",
    "eligible_households_reached_ytd",
)


def changes_since(previous: dict, now: dict[str, dict]) -> list[dict]:
    """Figures of the previous bulletin's period that differ now (late corrections).

    ``previous`` is that bulletin's saved ``data.json``; ``now`` the same period's
    ``fct_household_reach`` rows as the marts hold them today.
    """
    out = []
    for district, row in sorted(now.items()):
        before = previous.get("reach", {}).get(district, {})
        for column in COMPARED:
            if before.get(column) != row.get(column):
                out.append(
                    {
                        "period": previous["period"],
                        "district_code": district,
                        "figure": column,
                        "before": before.get(column),
                        "after": row.get(column),
                    }
                )
    return out


def previous_bulletin(reports_dir: Path, period: Period) -> Path | None:
    """The saved data of the latest bulletin for an earlier period, if any."""
    candidates = sorted(
        p for p in reports_dir.glob("*/bulletin/data.json") if p.parent.parent.name < str(period)
    )
    return candidates[-1] if candidates else None


def read_reach(wh, period_text: str) -> dict[str, dict]:
    """``fct_household_reach`` of one period by district (for :func:`changes_since`)."""
    with wh.connect() as conn:
        rows = _select(
            wh, conn, "fct_household_reach", "district_code, " + ", ".join(COMPARED),
            "period = %s", (Period.parse(period_text).first_day,),
        )  # fmt: skip
    return {r["district_code"]: r for r in rows}
