"""Seeded randomness, sizes and calendar helpers shared by the generator modules.

Every random draw comes from a generator keyed by (seed, district, period, purpose) rather
than from one stream consumed in loop order. That is what makes the output independent of
iteration order: generating district 3578 gives the same bytes whether or not 3501 was
generated first, and adding a purpose never shifts the draws of another.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta

import numpy as np

from sinergi.periods import Period
from sinergi.reference import districts

# Province-wide rows per month of `penerima_bantuan` and of `dtks` at scale 1.0.
PROVINCE_ROWS_AT_SCALE_1 = 2_000_000
# Every district gets at least this many households / roster rows, however small the scale.
MIN_ROWS = 8
EPOCH = date(1970, 1, 1)
# "Never" for month indices (deactivation month of a household that stays active).
NEVER = 1 << 30


def rng(seed: int, *keys: int | str) -> np.random.Generator:
    """A PCG64 generator for one purpose; string keys are hashed with CRC-32 (stable)."""
    words = [seed]
    for key in keys:
        words.append(key if isinstance(key, int) else zlib.crc32(key.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def ordinal(period: Period) -> int:
    """Months since year 0: a non-negative integer key for a period."""
    return period.year * 12 + period.month - 1


def district_rows(scale: float) -> dict[str, int]:
    """Households (= roster rows) per district per month, proportional to population."""
    total = sum(d.population for d in districts())
    return {
        d.code: max(MIN_ROWS, round(PROVINCE_ROWS_AT_SCALE_1 * scale * d.population / total))
        for d in districts()
    }


def is_kota(code: str) -> bool:
    """Kemendagri numbers cities (kota) from 71 upwards within a province."""
    return int(code[2:]) >= 71


def population_of(code: str) -> int:
    return next(d.population for d in districts() if d.code == code)


def name_of(code: str) -> str:
    return next(d.name for d in districts() if d.code == code)


def subdistrict_count(code: str) -> int:
    """Number of kecamatan: roughly one per 90,000 inhabitants (Surabaya 31, small cities 3)."""
    return int(np.clip(round(population_of(code) / 90_000), 3, 33))


def day_number(day: date) -> int:
    return (day - EPOCH).days


def to_date(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


def split_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day numbers -> (year, month, day) integer arrays, vectorised."""
    stamp = days.astype("datetime64[D]")
    years = stamp.astype("datetime64[Y]").astype(np.int64) + 1970
    months_since = stamp.astype("datetime64[M]")
    months = months_since.astype(np.int64) % 12 + 1
    mdays = (stamp - months_since).astype(np.int64) + 1
    return years, months, mdays


def unique_with_serials(
    generator: np.random.Generator, prefixes: np.ndarray, low: int, high: int
) -> np.ndarray:
    """``prefix * 10_000 + serial`` with a random serial in [low, high], unique over the array.

    Identifiers (NIK, No. KK) must be unique within a district; collisions are re-drawn until
    none is left, which is deterministic because the draws come from ``generator``.
    """
    count = len(prefixes)
    serial = generator.integers(low, high + 1, size=count)
    for _ in range(200):
        full = prefixes * 10_000 + serial
        order = np.argsort(full, kind="stable")
        ranked = full[order]
        clash = np.zeros(count, dtype=bool)
        clash[order[1:][ranked[1:] == ranked[:-1]]] = True
        if not clash.any():
            return full
        serial[clash] = generator.integers(low, high + 1, size=int(clash.sum()))
    raise RuntimeError("could not draw unique identifiers: too many people per birth date")
