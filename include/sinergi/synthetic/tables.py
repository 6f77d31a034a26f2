"""What one district reports for one period, as typed columns (before any formatting).

Keeping the typed values separate from the written cells lets the fault injectors build a
wrong value from the right one (a NIK with its serial zeroed, a birth date a century too
early) and lets the manifest compute what the warehouse should serve from the accepted rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from sinergi.periods import Period
from sinergi.reference import district_codes, ppks_codes, psks_codes
from sinergi.synthetic.common import (
    day_number,
    ordinal,
    population_of,
    rng,
    split_days,
    subdistrict_count,
    unique_with_serials,
)
from sinergi.synthetic.population import (
    MONTHLY_PRESENCE,
    Population,
    amount_catalogue,
    programs,
)

SALUR, GAGAL, TUNDA = 0, 1, 2
STATUS_SALUR = ("SALUR", "GAGAL", "TUNDA")
LOKASI = ("LUAR_UPT", "DALAM_UPT")
# Share of districts that send a new DTKS snapshot in a month after the first.
DTKS_SEND_SHARE = 0.6
# Persons paid by the same programme in two districts, per province roster row.
MOVER_SHARE = 0.0005


@dataclass
class Table:
    """Typed columns of one file's rows; ``protected`` rows are never given faults."""

    dataset: str
    columns: dict[str, np.ndarray]
    protected: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.protected)


def ppks_list() -> list[str]:
    return sorted(ppks_codes())


def psks_list() -> list[str]:
    return sorted(psks_codes())


def sends_dtks(seed: int, code: str, period: Period, month_index: int) -> bool:
    """Every district sends its register in the first month; later only some do."""
    if month_index == 0:
        return True
    return bool(rng(seed, int(code), ordinal(period), "dtks-send").random() < DTKS_SEND_SHARE)


def dtks_table(pop: Population, month_index: int) -> Table:
    """The full register snapshot as it stands in month ``month_index``."""
    idx = np.flatnonzero((pop.hh_join >= 0) & (pop.hh_join <= month_index))
    aktif = ~pop.hh_nonaktif[idx] & (pop.hh_deact[idx] > month_index)
    return Table(
        "dtks",
        {
            "no_kk": pop.hh_kk[idx],
            "nik_kepala_keluarga": pop.p_nik[pop.hh_head[idx]],
            "kode_desa": pop.hh_village[idx],
            "jumlah_anggota": pop.hh_members[idx].astype(np.int64),
            "desil": pop.hh_desil[idx].astype(np.int64),
            "aktif": aktif,
        },
        np.zeros(len(idx), dtype=bool),
    )


@dataclass
class Movers:
    """People paid by the same programme in the same period by two districts."""

    home: np.ndarray  # district code (int)
    away: np.ndarray
    program: np.ndarray
    nik: np.ndarray
    kk: np.ndarray
    female: np.ndarray
    birth: np.ndarray
    amount: np.ndarray


def movers(seed: int, period: Period, scale: float) -> Movers:
    """A small, period-specific set of cross-district duplicates (possible double payment).

    Serials 9000-9999 keep them apart from every resident NIK / No. KK, so a district's own
    roster never gets an accidental duplicate key from them.
    """
    gen = rng(seed, ordinal(period), "movers")
    codes = sorted(district_codes())
    weights = np.array([population_of(c) for c in codes], dtype=float)
    count = max(3, round(MOVER_SHARE * 2_000_000 * scale))
    home_i = gen.choice(len(codes), size=count, p=weights / weights.sum())
    away_i = (home_i + gen.integers(1, len(codes), size=count)) % len(codes)
    home = np.array([int(codes[i]) for i in home_i], dtype=np.int64)
    away = np.array([int(codes[i]) for i in away_i], dtype=np.int64)
    kec = np.array([gen.integers(1, subdistrict_count(str(h)) + 1) for h in home])
    region = home * 100 + kec
    female = gen.random(count) < 0.5
    birth = day_number(period.first_day) - np.floor(gen.uniform(20, 70, count) * 365.25).astype(
        np.int64
    )
    years, months, mdays = split_days(birth)
    nik = unique_with_serials(
        gen,
        region * 1_000_000 + (mdays + 40 * female) * 10_000 + months * 100 + years % 100,
        9000,
        9999,
    )
    issue = day_number(period.first_day) - gen.integers(400, 6000, size=count)
    iy, im, idd = split_days(issue)
    kk = unique_with_serials(
        gen, region * 1_000_000 + idd * 10_000 + im * 100 + iy % 100, 9000, 9999
    )
    names = programs()
    options = [c for c in ("SEMBAKO", "PKH", "PBI_JK") if c in names] or names[:1]
    program = np.array([names.index(c) for c in gen.choice(options, size=count)], dtype=np.int8)
    amount = np.array(
        [
            gen.choice(amount_catalogue(names[p])[0], p=amount_catalogue(names[p])[1])
            for p in program
        ],
        dtype=np.int64,
    )
    return Movers(home, away, program, nik, kk, female, birth, amount)


def roster_table(seed: int, pop: Population, period: Period, mover_set: Movers) -> Table:
    """The month's disbursement roster: enrolments present this month plus the movers."""
    dint = int(pop.code)
    gen = rng(seed, dint, ordinal(period), "roster")
    present = np.flatnonzero(gen.random(len(pop.e_person)) < MONTHLY_PRESENCE)
    n = len(present)
    first = day_number(period.first_day)
    ndays = period.last_day.day
    status = gen.choice(3, size=n, p=(0.93, 0.045, 0.025))
    salur = first + gen.integers(0, ndays, size=n)
    filled = (status == SALUR) | (gen.random(n) < 0.5)
    person = pop.e_person[present]
    hh = pop.p_hh[person]

    mine = (mover_set.home == dint) | (mover_set.away == dint)
    m = int(mine.sum())
    village = rng(seed, dint, ordinal(period), "movers").choice(pop.village_codes, size=m)
    return Table(
        "penerima_bantuan",
        {
            "nik": np.concatenate([pop.p_nik[person], mover_set.nik[mine]]),
            "no_kk": np.concatenate([pop.hh_kk[hh], mover_set.kk[mine]]),
            "female": np.concatenate([pop.p_female[person], mover_set.female[mine]]),
            "tanggal_lahir": np.concatenate([pop.p_birth[person], mover_set.birth[mine]]),
            "kode_desa": np.concatenate([pop.hh_village[hh], village]),
            "kode_program": np.concatenate([pop.e_program[present], mover_set.program[mine]]),
            "nilai_bantuan": np.concatenate([pop.e_amount[present], mover_set.amount[mine]]),
            "tanggal_salur": np.concatenate([salur, first + gen.integers(0, ndays, size=m)]),
            "status_salur": np.concatenate([status, np.full(m, SALUR)]),
            "filled": np.concatenate([filled, np.ones(m, dtype=bool)]),
        },
        np.concatenate([np.zeros(n, dtype=bool), np.ones(m, dtype=bool)]),
        extra={"mover": np.concatenate([np.full(n, -1), np.flatnonzero(mine)])},
    )


# PPKS: how often a category is reported in a sub-district, typical size, share of women.
_PPKS_PRESENCE = {24: 1.0, 9: 0.9, 8: 0.85, 2: 0.6, 1: 0.5, 26: 0.05, 10: 0.2, 14: 0.1}
_PPKS_SIZE = {24: 400.0, 9: 120.0, 8: 150.0, 2: 40.0, 23: 60.0}
_PPKS_FEMALE = {8: 0.6, 10: 0.95, 23: 1.0, 4: 0.25, 11: 0.3, 13: 0.3, 15: 0.1, 17: 0.15}
_PPKS_IN_CARE = {1, 2, 5, 8, 9, 11, 12, 16, 17}


@cache
def ppks_structure(seed: int, code: str) -> tuple[np.ndarray, ...]:
    """Which (sub-district, category, lokasi) rows a district reports, and their base size.

    Stable per district: an office reports the same sub-districts and categories every
    month, which keeps the PPKS facts comparable between months.
    """
    gen = rng(seed, int(code), "ppks")
    n_kec = subdistrict_count(code)
    reporting = np.sort(gen.choice(n_kec, size=min(n_kec, int(gen.integers(3, 9))), replace=False))
    per_kec = population_of(code) / n_kec / 50_000
    kec, cat, lokasi, base = [], [], [], []
    for k in reporting:
        for c in range(1, len(ppks_list()) + 1):
            if gen.random() >= _PPKS_PRESENCE.get(c, 0.45):
                continue
            size = _PPKS_SIZE.get(c, 15.0) * per_kec * gen.uniform(0.5, 1.5)
            kec.append(int(code) * 100 + k + 1)
            cat.append(c - 1)
            lokasi.append(0)
            base.append(size)
            if c in _PPKS_IN_CARE and gen.random() < 0.25:
                kec.append(int(code) * 100 + k + 1)
                cat.append(c - 1)
                lokasi.append(1)
                base.append(size * 0.1)
    return np.array(kec), np.array(cat), np.array(lokasi), np.array(base)


def ppks_table(seed: int, code: str, period: Period) -> Table:
    kec, cat, lokasi, base = ppks_structure(seed, code)
    gen = rng(seed, int(code), ordinal(period), "ppks")
    total = np.maximum(0, np.round(base * gen.normal(1.0, 0.05, len(base)))).astype(np.int64)
    female_share = np.array([_PPKS_FEMALE.get(c + 1, 0.5) for c in cat])
    female = gen.binomial(total, female_share) if len(total) else total
    return Table(
        "ppks",
        {
            "kode_kecamatan": kec.astype(np.int64),
            "kode_ppks": cat,
            "lokasi": lokasi,
            "jumlah_laki_laki": total - female,
            "jumlah_perempuan": female,
        },
        np.zeros(len(kec), dtype=bool),
    )


@cache
def psks_structure(seed: int, code: str) -> tuple[np.ndarray, np.ndarray]:
    """Which PSKS types a district reports (most of the 12) and their base counts."""
    gen = rng(seed, int(code), "psks")
    n_kec = subdistrict_count(code)
    villages = n_kec * 11
    base = {
        1: gen.integers(2, 30),
        2: villages * gen.uniform(1, 3),
        3: gen.integers(20, 200),
        4: gen.integers(10, 120),
        5: villages * gen.uniform(0.8, 1.0),
        6: gen.integers(1, 4),
        7: gen.integers(5, 60),
        8: villages * gen.uniform(0.2, 0.5),
        9: gen.integers(10, 100),
        10: gen.integers(1, 10),
        11: n_kec,
        12: gen.integers(5, 80),
    }
    n_types = len(psks_list())
    included = gen.random(n_types) < 0.85
    while included.sum() < min(8, n_types):
        included[gen.integers(0, n_types)] = True
    types = np.flatnonzero(included)
    return types, np.array([float(base.get(t + 1, 10)) for t in types])


def psks_table(seed: int, code: str, period: Period) -> Table:
    types, base = psks_structure(seed, code)
    gen = rng(seed, int(code), ordinal(period), "psks")
    counts = np.maximum(0, np.round(base * gen.normal(1.0, 0.02, len(base)))).astype(np.int64)
    return Table(
        "psks",
        {"kode_psks": types, "jumlah": counts},
        np.zeros(len(types), dtype=bool),
    )
