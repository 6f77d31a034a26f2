"""Reporting periods (calendar months) and their deadlines.

A period is written ``YYYY-MM`` everywhere a person sees it and stored as the first day of
the month (a ``date``) in the warehouse, as the marts spec requires.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse ``YYYY-MM``; a clear ValueError otherwise (this is user input)."""
        match = _PERIOD.match(text.strip())
        if not match:
            raise ValueError(f"period must look like YYYY-MM (for example 2025-01), got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> Period:
        return Period(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def deadline(self, day: int = 10, at: time = time(23, 59, 59)) -> datetime:
        """Submission deadline: ``day`` of the following month, ``at`` Asia/Jakarta."""
        following = self.next()
        last = calendar.monthrange(following.year, following.month)[1]
        return datetime.combine(date(following.year, following.month, min(day, last)), at, JAKARTA)


def period_range(start: str, end: str) -> list[Period]:
    """Every period from ``start`` to ``end`` inclusive."""
    first, last = Period.parse(start), Period.parse(end)
    if last < first:
        raise ValueError(f"period range ends ({last}) before it starts ({first})")
    out = [first]
    while out[-1] < last:
        out.append(out[-1].next())
    return out


def parse_periods(text: str) -> list[str]:
    """``"2025-01:2025-03"`` -> ``["2025-01", "2025-02", "2025-03"]``; ``"2025-01"`` -> one.

    A comma-separated list of such items is accepted too (``"2025-01,2025-03:2025-04"``).
    Raises ValueError with a message fit for a command line.
    """
    if not text or not text.strip():
        raise ValueError("no period given: expected YYYY-MM or YYYY-MM:YYYY-MM")
    result: list[str] = []
    for item in text.split(","):
        start, sep, end = item.strip().partition(":")
        if sep and not end.strip():
            raise ValueError(f"period range {item.strip()!r} has no end: expected YYYY-MM:YYYY-MM")
        found = period_range(start, end) if sep else [Period.parse(start)]
        result.extend(str(p) for p in found)
    if len(set(result)) != len(result):
        raise ValueError(f"periods repeat in {text!r}")
    return result
