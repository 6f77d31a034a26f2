"""The stable population of one district: villages, households, people, programme enrolment.

Built once per district from (seed, district) and reused for every period, so the same
households and persons appear month after month. That stability is what the warehouse's
carry-forward, year-to-date reach and cross-month checks need to be testable: a person paid
in January is the same pseudonymised key in March.

Identifiers follow the contract (§4): NIK = province 35 + regency (district digits 3-4) +
sub-district + birth date (women +40 on the day) + serial; No. KK = sub-district region +
issue date + serial. Serials 0001-8999 belong to the resident population; 9000-9999 are kept
for people who also draw benefits in another district (``tables.movers``), so the two can
never collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from sinergi.reference import program_max_amounts
from sinergi.synthetic.common import (
    NEVER,
    day_number,
    is_kota,
    rng,
    split_days,
    subdistrict_count,
    unique_with_serials,
)

# Typical disbursement amounts per programme (rupiah) and their weights. Real amounts come
# in a handful of fixed tariffs (PKH components, Sembako tranche of 1 or 3 months, BPJS PBI
# premium), which is what these imitate. All are within the seeds' maximum.
_AMOUNTS: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
    "PKH": (
        (225_000, 375_000, 500_000, 600_000, 750_000, 1_125_000, 1_500_000, 2_250_000, 3_000_000),
        (0.14, 0.16, 0.14, 0.14, 0.16, 0.1, 0.08, 0.05, 0.03),
    ),
    "SEMBAKO": ((200_000, 600_000), (0.7, 0.3)),
    "PBI_JK": ((42_000,), (1.0,)),
    "BLT_DD": ((300_000, 900_000), (0.8, 0.2)),
    "YAPI": ((200_000, 600_000, 1_200_000, 2_400_000), (0.4, 0.3, 0.2, 0.1)),
    "PKH_PLUS": ((500_000, 1_000_000, 2_000_000), (0.5, 0.3, 0.2)),
    "ASPD": ((300_000, 900_000), (0.6, 0.4)),
    "RTLH": ((17_500_000, 20_000_000, 22_500_000, 25_000_000), (0.3, 0.3, 0.2, 0.2)),
}
# Household size 1..7 (Susenas-like); about 0.3% of households are larger (up to 30).
_SIZE_P = (0.10, 0.17, 0.24, 0.23, 0.14, 0.08, 0.04)
# Welfare decile of registered households: the register leans towards the poor deciles.
_DESIL_P = (0.17, 0.15, 0.13, 0.11, 0.10, 0.09, 0.08, 0.07, 0.06, 0.04)
# Share of roster rows paid to people outside the district's register (inclusion error).
OUTSIDE_SHARE = 0.08
# Monthly probability that an enrolment appears in the month's roster.
MONTHLY_PRESENCE = 0.95
# Family cards (No. KK) in the register were issued from 2005 on.
_ISSUE_FROM = day_number(date(2005, 1, 1))


def programs() -> list[str]:
    """Programme codes in seed order (index = the ``e_program`` value)."""
    return list(program_max_amounts())


def amount_catalogue(code: str) -> tuple[np.ndarray, np.ndarray]:
    """(amounts, probabilities) of a programme, clamped to the seed's maximum."""
    top = program_max_amounts()[code]
    values, weights = _AMOUNTS.get(code, ((top // 4, top // 2, top), (0.4, 0.4, 0.2)))
    keep = [i for i, v in enumerate(values) if 1 <= v <= top] or [0]
    amounts = np.array([min(values[i], top) for i in keep], dtype=np.int64)
    probs = np.array([weights[i] for i in keep], dtype=float)
    return amounts, probs / probs.sum()


@dataclass
class Population:
    """Typed arrays for one district; households and persons are addressed by index."""

    code: str
    ref_day: int  # day number of the first generated period's first day
    kec_codes: np.ndarray  # 6-digit sub-district codes
    village_codes: np.ndarray  # 10-digit village codes
    # households
    hh_village: np.ndarray
    hh_kk: np.ndarray
    hh_members: np.ndarray
    hh_desil: np.ndarray
    hh_nonaktif: np.ndarray  # NONAKTIF from the start
    hh_join: np.ndarray  # 0 = registered from the start, k = joins in month k, -1 = never
    hh_deact: np.ndarray  # month index from which NONAKTIF (NEVER = stays)
    hh_head: np.ndarray  # person index of the head
    # persons
    p_hh: np.ndarray
    p_nik: np.ndarray
    p_birth: np.ndarray  # day number
    p_female: np.ndarray
    # enrolment: who draws which programme (stable across months)
    e_person: np.ndarray
    e_program: np.ndarray  # index into programs()
    e_amount: np.ndarray

    @property
    def n_households(self) -> int:
        return len(self.hh_kk)


def _ages(
    gen: np.random.Generator, members: np.ndarray, head_female: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person -> household, age in years, female) for every member of every household."""
    n_hh = len(members)
    p_hh = np.repeat(np.arange(n_hh), members)
    starts = np.cumsum(members) - members
    member = np.arange(len(p_hh)) - np.repeat(starts, members)
    head_age = gen.triangular(20, 42, 88, size=n_hh)
    ages = np.empty(len(p_hh))
    female = gen.random(len(p_hh)) < 0.5
    is_head = member == 0
    ages[is_head] = head_age
    female[is_head] = head_female
    spouse = (member == 1) & ~head_female[p_hh]
    ages[spouse] = np.clip(head_age[p_hh[spouse]] + gen.normal(-3, 4, int(spouse.sum())), 18, 90)
    female[spouse] = True
    other = ~is_head & ~spouse
    child_cap = np.clip(head_age[p_hh[other]] - 16, 1, 35)
    child = gen.random(int(other.sum())) < 0.85
    ages[other] = np.where(
        child,
        gen.random(int(other.sum())) * child_cap,
        gen.uniform(60, 95, int(other.sum())),
    )
    return p_hh, ages, female


def build_population(
    seed: int, code: str, households: int, roster_rows: int, n_periods: int, ref_day: int
) -> Population:
    """Draw the district's villages, households, persons and enrolments (deterministic)."""
    gen = rng(seed, int(code), "population")
    dint = int(code)
    kota = is_kota(code)

    n_kec = subdistrict_count(code)
    kec_codes = dint * 100 + np.arange(1, n_kec + 1, dtype=np.int64)
    per_kec = gen.integers(4, 19, size=n_kec)
    village_kec = np.repeat(np.arange(n_kec), per_kec)
    within = np.arange(len(village_kec)) - np.repeat(np.cumsum(per_kec) - per_kec, per_kec)
    village_codes = kec_codes[village_kec] * 10_000 + (1001 if kota else 2001) + within
    weights = gen.gamma(2.0, 1.0, size=len(village_codes))
    weights /= weights.sum()

    n_join_month = max(1, round(0.004 * households))
    n_join = n_join_month * max(0, n_periods - 1)
    n_out = max(1, round(OUTSIDE_SHARE * roster_rows / 1.5))
    n_hh = households + n_join + n_out

    hh_village = gen.choice(village_codes, size=n_hh, p=weights)
    # The register of month 1 is exported sorted by village, as district systems do.
    hh_village[:households] = np.sort(hh_village[:households])
    hh_join = np.concatenate(
        [
            np.zeros(households, dtype=np.int32),
            np.repeat(np.arange(1, n_periods, dtype=np.int32), n_join_month),
            np.full(n_out, -1, dtype=np.int32),
        ]
    )
    outside = hh_join < 0
    members = gen.choice(np.arange(1, 8), size=n_hh, p=_SIZE_P)
    large = gen.random(n_hh) < 0.003
    members[large] = gen.integers(8, 31, size=int(large.sum()))
    members[outside] = gen.integers(1, 4, size=int(outside.sum()))
    desil = gen.choice(np.arange(1, 11), size=n_hh, p=_DESIL_P).astype(np.int8)
    nonaktif = gen.random(n_hh) < 0.07
    deact = gen.geometric(0.004, size=n_hh).astype(np.int64)
    deact = np.where((deact < n_periods) & (hh_join == 0), deact, NEVER)
    head_female = gen.random(n_hh) < np.where(outside, 0.4, 0.2)

    p_hh, ages, female = _ages(gen, members, head_female)
    birth = ref_day - 1 - np.floor(ages * 365.25).astype(np.int64)
    years, months, mdays = split_days(birth)
    region = hh_village[p_hh] // 10_000
    nik_prefix = region * 1_000_000 + (mdays + 40 * female) * 10_000 + months * 100 + years % 100
    p_nik = unique_with_serials(gen, nik_prefix, 1, 8999)

    issue = gen.integers(_ISSUE_FROM, max(_ISSUE_FROM + 1, ref_day - 30), size=n_hh)
    iy, im, idd = split_days(issue)
    kk_prefix = (hh_village // 10_000) * 1_000_000 + idd * 10_000 + im * 100 + iy % 100
    hh_kk = unique_with_serials(gen, kk_prefix, 1, 8999)
    hh_head = np.cumsum(members) - members

    e_person, e_program, e_amount = _enrol(
        gen, kota, p_hh, ages, hh_head, members, female, hh_join, nonaktif, desil, roster_rows
    )
    return Population(
        code=code,
        ref_day=ref_day,
        kec_codes=kec_codes,
        village_codes=village_codes,
        hh_village=hh_village,
        hh_kk=hh_kk,
        hh_members=members,
        hh_desil=desil,
        hh_nonaktif=nonaktif,
        hh_join=hh_join,
        hh_deact=deact,
        hh_head=hh_head,
        p_hh=p_hh,
        p_nik=p_nik,
        p_birth=birth,
        p_female=female,
        e_person=e_person,
        e_program=e_program,
        e_amount=e_amount,
    )


def _enrol(
    gen: np.random.Generator,
    kota: bool,
    p_hh: np.ndarray,
    ages: np.ndarray,
    hh_head: np.ndarray,
    members: np.ndarray,
    female: np.ndarray,
    hh_join: np.ndarray,
    nonaktif: np.ndarray,
    desil: np.ndarray,
    roster_rows: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who draws which programme. Mostly eligible register households, but not all of them
    (the unreached), some ineligible ones (inclusion error) and people outside the register."""
    n_hh = len(members)
    outside = hh_join < 0
    eligible = (hh_join == 0) & ~nonaktif & (desil <= 4)
    p_recipient = np.where(outside, 1.0, np.where(eligible, 0.55, np.where(hh_join > 0, 0.3, 0.12)))
    recipient = gen.random(n_hh) < p_recipient
    spouse_exists = (members >= 2) & ~female[hh_head]
    payee_pkh = np.where(spouse_exists, hh_head + 1, hh_head)
    codes = programs()
    chosen: list[tuple[np.ndarray, str]] = []

    def household_level(code: str, share: float, payee: np.ndarray, allow: np.ndarray) -> None:
        take = recipient & allow & (gen.random(n_hh) < share)
        chosen.append((payee[take], code))

    everyone = np.ones(n_hh, dtype=bool)
    household_level("SEMBAKO", 0.75, hh_head, everyone)
    household_level("PKH", 0.40, payee_pkh, ~outside)
    household_level("BLT_DD", 0.15, hh_head, everyone if not kota else ~everyone)
    household_level("RTLH", 0.01, hh_head, ~outside)
    pbi_household = recipient & (gen.random(n_hh) < 0.35)
    chosen.append((np.flatnonzero(pbi_household[p_hh]), "PBI_JK"))
    in_recipient = recipient[p_hh]
    draw = gen.random(len(p_hh))
    chosen.append((np.flatnonzero(in_recipient & (ages >= 70) & (draw < 0.5)), "PKH_PLUS"))
    chosen.append((np.flatnonzero(in_recipient & (draw > 0.99)), "ASPD"))
    chosen.append((np.flatnonzero(in_recipient & (ages < 18) & (draw < 0.02)), "YAPI"))

    persons = [p for p, code in chosen if code in codes]
    program = [
        np.full(len(p), codes.index(code), dtype=np.int8) for p, code in chosen if code in codes
    ]
    e_person = np.concatenate(persons) if persons else np.zeros(0, dtype=np.int64)
    e_program = np.concatenate(program) if program else np.zeros(0, dtype=np.int8)
    target = int(np.ceil(roster_rows / MONTHLY_PRESENCE))
    if len(e_person) > target:
        keep = np.sort(gen.choice(len(e_person), size=target, replace=False))
        e_person, e_program = e_person[keep], e_program[keep]
    elif len(e_person) < target and "PBI_JK" in codes:
        # Tiny scales: top up with health-insurance premiums so every district has rows.
        pbi = codes.index("PBI_JK")
        free = np.setdiff1d(np.arange(len(p_hh)), e_person[e_program == pbi])
        extra = gen.choice(free, size=min(len(free), target - len(e_person)), replace=False)
        e_person = np.concatenate([e_person, np.sort(extra)])
        e_program = np.concatenate([e_program, np.full(len(extra), pbi, dtype=np.int8)])
    e_amount = np.zeros(len(e_person), dtype=np.int64)
    for index, code in enumerate(codes):
        sel = e_program == index
        if sel.any():
            amounts, probs = amount_catalogue(code)
            e_amount[sel] = gen.choice(amounts, size=int(sel.sum()), p=probs)
    # Rosters are exported by programme, then by village and person.
    order = np.lexsort((e_person, p_hh[e_person], e_program))
    return e_person[order], e_program[order], e_amount[order]
