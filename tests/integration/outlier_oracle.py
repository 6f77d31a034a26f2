"""marts.fct_outliers computed again in plain Python from the other marts' rows (the mart
oracle's), with ``statistics.median``: the same definitions as the dbt model's doc block,
written independently of its SQL."""

from __future__ import annotations

from collections import defaultdict
from statistics import median
from typing import Any

from tests.integration.independent import period_text

FIGURES = (  # (mart, dataset, indicator, breakdown columns)
    ("fct_program_reach", "penerima_bantuan", "recipients", ("program_code",)),
    ("fct_program_reach", "penerima_bantuan", "amount_disbursed_idr", ("program_code",)),
    ("fct_ppks", "ppks", "total_count", ("ppks_code", "location")),
    ("fct_psks", "psks", "resource_count", ("psks_code",)),
)


def _month(period: str) -> int:
    year, month = period.split("-")
    return int(year) * 12 + int(month)


def figures(marts: dict[str, list[dict[str, Any]]]) -> dict[tuple, float]:
    """(month number, district, dataset, indicator, breakdown) -> value, reported only."""
    out = {}
    for mart, dataset, indicator, columns in FIGURES:
        for r in marts[mart]:
            if r["is_reported"] and r[indicator] is not None:
                key = (dataset, indicator, " ".join(r[c] for c in columns))
                out[(_month(period_text(r["period"])), r["district_code"], *key)] = float(
                    r[indicator]
                )
    for r in marts["fct_household_reach"]:
        period = period_text(r["period"])
        submitted = r["dtks_period"] is not None and period_text(r["dtks_period"]) == period
        if submitted and r["eligible_households"] is not None:
            key = (_month(period), r["district_code"], "dtks", "eligible_households", "ALL")
            out[key] = float(r["eligible_households"])
    return out


def compute_outliers(marts, threshold: float = 3.5, min_history: int = 3) -> dict[tuple, dict]:
    """(period, district, dataset, indicator, breakdown, method) -> {value, score, direction}."""
    values = figures(marts)
    out: dict[tuple, dict] = {}

    def flag(month, district, figure, method, value, score):
        if abs(score) > threshold:
            period = f"{(month - 1) // 12:04d}-{(month - 1) % 12 + 1:02d}"
            out[(period, district, *figure, method)] = {
                "value": value, "score": round(score, 2), "direction": "UP" if score > 0 else "DOWN"
            }  # fmt: skip

    changes: dict[tuple, dict[str, float]] = defaultdict(dict)
    for (month, district, *figure), value in values.items():
        earlier = [
            values[(m, district, *figure)]
            for m in range(month - 12, month)
            if (m, district, *figure) in values
        ]
        if len(earlier) >= min_history:
            centre = median(earlier)
            mad = median(abs(e - centre) for e in earlier)
            flag(month, district, figure, "history", value,
                 0.6745 * (value - centre) / max(mad, 0.05 * abs(centre), 1.0))  # fmt: skip
        previous = values.get((month - 1, district, *figure))
        if previous:  # reported and not 0
            changes[(month, *figure)][district] = (value, (value - previous) / previous, previous)
    for (month, *figure), by_district in changes.items():
        if len(by_district) < 5:
            continue
        centre = median(c for _, c, _ in by_district.values())
        mad = max(median(abs(c - centre) for _, c, _ in by_district.values()), 0.05)
        for district, (value, change, previous) in by_district.items():
            if max(value, previous) >= 10:
                flag(month, district, figure, "province_change", value,
                     0.6745 * (change - centre) / mad)  # fmt: skip
    return out
