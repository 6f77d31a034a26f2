"""The duplicate rule (§4), decided once per file among the rows that passed the row rules.

Rows are compared by their *normalised* values (what the warehouse would store), so "08" and
"8", or "3578.01" and "357801", are the same value. A later copy of an identical row is an
``exact_duplicate``; rows that share the key but differ elsewhere are all ``duplicate_key``.
The Great Expectations duplicates suite states both as expectations on two counts per row, so
the verdict and Data Docs read the same result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sinergi.datasets import DatasetSpec
from sinergi.gx_parts import PartResult, validate_parts
from sinergi.judged_rows import normalised_value

_SEP = "\x1f"  # joins normalised values into one comparable string per row / key


def comparable_rows(spec: DatasetSpec, passed: pd.DataFrame) -> pd.DataFrame:
    """What the rule needs of one chunk's passing rows: row number, key text, row text."""
    return pd.DataFrame(
        {
            "row_number": passed.index.to_numpy(),
            "key": _normalised_strings(spec, passed, spec.key).to_numpy(),
            "row": _normalised_strings(spec, passed, spec.columns).to_numpy(),
        }
    )


def comparable_rows_together(spec: DatasetSpec, passed: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """:func:`comparable_rows` of several files' passing rows, computed once over all of
    them and split back per file: pandas' cost per call (two string columns built from
    every column) was most of what a small file cost here, ~5 ms a file."""
    if len(passed) == 1:
        return [comparable_rows(spec, passed[0])]
    together = comparable_rows(spec, pd.concat(passed))
    bounds = np.cumsum([0, *map(len, passed)])
    return [
        together.iloc[start:stop].reset_index(drop=True)
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _normalised_strings(spec: DatasetSpec, clean: pd.DataFrame, columns) -> pd.Series:
    """One comparable string per row from the normalised values of ``columns``."""
    joined = None
    for name in columns:
        text = normalised_value(clean, spec.column(name)).astype("string").fillna("")
        joined = text if joined is None else joined + _SEP + text
    return joined


def duplicate_counts(keys: pd.DataFrame) -> pd.DataFrame:
    """What the duplicates suite judges, per row that passed the row rules (§4).

    ``keys`` has ``row_number``, ``key`` (normalised key values) and ``row`` (all normalised
    values). ``earlier_identical_rows`` > 0 marks a later copy of an identical row;
    ``distinct_rows_with_key`` > 1 marks a key shared by rows that differ elsewhere.
    """
    keys = keys.sort_values("row_number", kind="stable")
    return pd.DataFrame(
        {
            "earlier_identical_rows": keys.groupby("row").cumcount().to_numpy(),
            "distinct_rows_with_key": keys.groupby("key")["row"].transform("nunique").to_numpy(),
        },
        index=pd.Index(keys["row_number"].to_numpy()),
    )


def find_duplicates(keys: pd.DataFrame, suites_dir: Path):
    """Row number -> duplicate reason codes, read from the GX duplicates suite's results."""
    return find_duplicates_in_files([keys], suites_dir)[0]


def find_duplicates_in_files(
    files: list[pd.DataFrame], suites_dir: Path
) -> list[tuple[dict[int, list[str]], PartResult | None]]:
    """:func:`find_duplicates` for several files' keys in ONE validation (``gx_parts``).

    Duplicates are counted within each file; only the GX call is shared. A file without
    rows that passed has nothing to judge (no result).
    """
    judged = [i for i, keys in enumerate(files) if not keys.empty]
    out: list[tuple[dict[int, list[str]], PartResult | None]] = [({}, None)] * len(files)
    if not judged:
        return out
    frames = [duplicate_counts(files[i]) for i in judged]
    parts = validate_parts(suites_dir, "duplicates", frames, {}, set())
    for i, part in zip(judged, parts, strict=True):
        found: dict[int, list[str]] = {}
        for outcome in part.outcomes:
            for row_number in sorted(outcome.unexpected_index):
                found.setdefault(int(row_number), []).append(outcome.reason_code)
        codes = {row: sorted(c, reverse=True) for row, c in sorted(found.items())}
        out[i] = (codes, part)
    return out
