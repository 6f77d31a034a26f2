"""Parsing each distinct cell value once gives, row for row, what parsing every cell gives.

``parse_integer`` and ``parse_date`` factorise a column and parse its distinct values
(``sinergi.values._per_distinct_value``); the per-cell parsers are the reference. The cells
mix every form of §2 (valid, invalid, negative, grouped, impossible dates, empty text,
missing), repeated, under an index of row numbers that is not 0..n-1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sinergi import values

INTEGER_CELLS = ["600.000", "-5", None, "12", "0012", "abc", "1.2.3", "", "-600.000", "9" * 19]
DATE_CELLS = ["2024-01-05", None, "05/01/2024", "31/02/2024", "05-01-2024", "x", "", "2024-1-5"]


def _cells(forms: list, rows: int = 500, seed: int = 3) -> pd.Series:
    pick = np.random.default_rng(seed).integers(0, len(forms), rows)
    return pd.Series([forms[i] for i in pick], dtype="string").set_axis(
        np.arange(2, 2 + 2 * rows, 2)
    )


@pytest.mark.parametrize(
    ("parse", "reference", "forms"),
    [
        (values.parse_integer, values._parse_integer_cells, INTEGER_CELLS),
        (values.parse_date, values._parse_date_cells, DATE_CELLS),
    ],
    ids=["integer", "date"],
)
def test_distinct_values_parse_as_every_cell(parse, reference, forms):
    cells = _cells(forms)
    once, each = parse(cells), reference(cells)
    assert type(once) is type(each)
    for name in vars(each):
        pd.testing.assert_series_equal(getattr(once, name), getattr(each, name), check_names=False)
    # not vacuous: every field varies over these cells
    assert all(getattr(each, name).nunique(dropna=False) > 1 for name in vars(each))


def test_a_column_without_any_value_parses_as_missing():
    cells = pd.Series([None, None], dtype="string").set_axis([7, 9])
    parsed = values.parse_date(cells)
    assert parsed.values.isna().all() and not parsed.invalid.any()
    assert parsed.values.index.tolist() == [7, 9]
    assert values.parse_integer(cells.iloc[:0]).values.empty
