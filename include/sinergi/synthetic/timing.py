"""Received times: when each district's files land in the inbox (their mtime, contract §1).

Most districts upload in the first ten days of the following month, with the usual rush
towards the deadline; a few are habitually late and sometimes one of the punctual ones slips.
Two districts per period sit exactly on the boundary (23:59:59 on day 10, on time because
the deadline is inclusive, and one second later, late) so the on-time rule is tested at its
edge and not only with comfortable margins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

import numpy as np

from sinergi.periods import JAKARTA, Period
from sinergi.reference import districts
from sinergi.synthetic.common import ordinal, rng

HABITUALLY_LATE = 5
# Upload day 1..10 of the following month: the rush comes near the deadline.
_ON_TIME_DAYS = np.arange(1, 11)
_ON_TIME_P = np.array([0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.14, 0.17, 0.21])


@cache
def late_districts(seed: int) -> frozenset[str]:
    codes = sorted(d.code for d in districts())
    return frozenset(rng(seed, "late").choice(codes, size=HABITUALLY_LATE, replace=False).tolist())


@cache
def boundary_districts(seed: int, period: Period) -> tuple[str, str]:
    """(uploads exactly at the deadline, uploads one second after it)."""
    codes = sorted(d.code for d in districts())
    first, second = rng(seed, ordinal(period), "boundary").choice(codes, size=2, replace=False)
    return str(first), str(second)


def received_at(seed: int, period: Period, code: str, dataset: str, role: str = "file") -> datetime:
    """Deterministic upload time (Asia/Jakarta) of one file."""
    deadline = period.deadline()
    on_edge, past_edge = boundary_districts(seed, period)
    if code == on_edge:
        return deadline
    if code == past_edge:
        return deadline + timedelta(seconds=1)
    gen = rng(seed, int(code), ordinal(period), "upload")
    late = gen.random() < (0.6 if code in late_districts(seed) else 0.04)
    following = period.next()
    day = int(gen.integers(11, 26)) if late else int(gen.choice(_ON_TIME_DAYS, p=_ON_TIME_P))
    start = datetime(following.year, following.month, day, 7, 0, tzinfo=JAKARTA)
    base = start + timedelta(seconds=int(gen.integers(0, 15 * 3600)))
    offset = int(rng(seed, int(code), ordinal(period), dataset, role, "offset").integers(0, 3600))
    return base + timedelta(seconds=offset + (1800 if role == "second" else 0))
