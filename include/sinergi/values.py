"""Vectorised parsing of cell values (contract §2): integers, dates, codes.

Every parser takes a pandas Series of trimmed strings (missing = NA) and returns the parsed
values plus boolean masks of the cells that failed, so the rules can turn each mask into a
reason code. Missing cells never fail here: "an empty required cell yields only
missing_value" (§7), which the rules report separately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np
import pandas as pd

Parsed = TypeVar("Parsed")

# ASCII digits only (Python's \d also matches full-width and other Unicode digits). At most 18
# digits: the warehouse stores integers as bigint, so a longer number is invalid_integer
# rather than silently overflowing (docs/contract-decisions.md).
_INT_PLAIN = r"[0-9]{1,18}"
_INT_GROUPED = r"[0-9]{1,3}(?:\.[0-9]{3}){1,5}"
INTEGER_OR_NEGATIVE_TEXT = rf"^-?(?:{_INT_PLAIN}|{_INT_GROUPED})$"
NEGATIVE_TEXT = rf"^-(?:{_INT_PLAIN}|{_INT_GROUPED})$"
_INTEGER = rf"^(?:{_INT_PLAIN}|{_INT_GROUPED})$"
_NEGATIVE = NEGATIVE_TEXT

# The three textual date forms of §2; XLSX date cells arrive from the reader as ISO text.
_DATE_FORMS = (
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "%Y-%m-%d"),
    (r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$", "%d/%m/%Y"),
    (r"^[0-9]{2}-[0-9]{2}-[0-9]{4}$", "%d-%m-%Y"),
)


@dataclass
class ParsedInt:
    values: pd.Series  # Int64, NA where missing or invalid
    negative: pd.Series  # bool: "-5"-like (negative_value)
    invalid: pd.Series  # bool: present, not an integer and not negative (invalid_integer)


def parse_integer(cells: pd.Series) -> ParsedInt:
    """Plain digits or Indonesian digit grouping (``600.000``); see §2 Integers."""
    return _per_distinct_value(cells, _parse_integer_cells)


def _parse_integer_cells(cells: pd.Series) -> ParsedInt:
    text = cells.astype("string")
    present = text.notna()
    ok = text.str.match(_INTEGER).fillna(False).astype(bool)
    negative = text.str.match(_NEGATIVE).fillna(False).astype(bool)
    digits = text.where(ok).str.replace(".", "", regex=False)
    values = pd.to_numeric(digits, errors="coerce").astype("Int64")
    return ParsedInt(values, negative, present & ~ok & ~negative)


@dataclass
class ParsedDate:
    values: pd.Series  # datetime64, NaT where missing or invalid
    invalid: pd.Series  # bool: present but not one of the accepted forms / impossible date


def parse_date(cells: pd.Series) -> ParsedDate:
    """``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``DD-MM-YYYY``; impossible dates are invalid."""
    return _per_distinct_value(cells, _parse_date_cells)


def _parse_date_cells(cells: pd.Series) -> ParsedDate:
    text = cells.astype("string")
    values = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[s]")
    for pattern, fmt in _DATE_FORMS:
        form = text.str.match(pattern).fillna(False).astype(bool)
        if form.any():
            parsed = pd.to_datetime(text[form], format=fmt, errors="coerce")
            values.loc[form] = parsed.astype("datetime64[s]")
    return ParsedDate(values, text.notna() & values.isna())


def normalise_code(cells: pd.Series, *, drop_dots: bool = False) -> pd.Series:
    """Codes compare after trimming and upper-casing; region codes also lose their dots."""
    text = cells.astype("string").str.upper()
    if drop_dots:
        text = text.str.replace(".", "", regex=False)
    return text


def _per_distinct_value(cells: pd.Series, parse: Callable[[pd.Series], Parsed]) -> Parsed:
    """``parse(cells)``, computed once per distinct cell value and spread back to the rows.

    A column repeats its values: a month's payment dates are a handful, amounts a few dozen,
    birth dates a few tens of thousands per 200,000 roster rows. Each parser runs several
    regular expressions and ``to_datetime`` / ``to_numeric`` per cell; factorising first
    and parsing the distinct values took ~40 % off the CPU time of preparing a roster
    (docs/performance.md, fifteenth session). The parsers are pure functions of the cell
    text, so the result is the same, row for row (``tests/test_values.py`` compares both).
    """
    text = cells.astype("string")
    codes, distinct = pd.factorize(text)  # a missing cell -> -1
    # the missing value parsed last, so every row's result is a position in one frame
    values = pd.Series(pd.array([*distinct, pd.NA], dtype="string"))
    codes = np.where(codes < 0, len(distinct), codes)
    once = parse(values)
    spread = {f.name: getattr(once, f.name).take(codes).set_axis(cells.index) for f in fields(once)}
    return type(once)(**spread)
