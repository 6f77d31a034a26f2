"""Official code lists, read from the dbt seeds so Python and SQL share one copy.

The seeds in ``dbt_project/seeds`` are the single source of the reference data: the
validator checks codes against the same files dbt loads into the warehouse.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from sinergi.paths import SEEDS_DIR


def _rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class District:
    code: str
    name: str
    population: int


@cache
def districts() -> tuple[District, ...]:
    """The 38 kabupaten/kota, in code order."""
    return tuple(
        District(r["district_code"], r["district_name"], int(r["registered_population_2025"]))
        for r in _rows("districts")
    )


@cache
def district_codes() -> frozenset[str]:
    return frozenset(d.code for d in districts())


@cache
def ppks_codes() -> frozenset[str]:
    return frozenset(r["ppks_code"] for r in _rows("ppks_categories"))


@cache
def psks_codes() -> frozenset[str]:
    return frozenset(r["psks_code"] for r in _rows("psks_types"))


@cache
def program_max_amounts() -> dict[str, int]:
    """Programme code -> the province's upper bound for one disbursement (rupiah)."""
    return {r["program_code"]: int(r["max_amount_per_disbursement_idr"]) for r in _rows("programs")}


@cache
def nik_province_codes() -> frozenset[str]:
    return frozenset(r["province_code"] for r in _rows("nik_province_codes"))
