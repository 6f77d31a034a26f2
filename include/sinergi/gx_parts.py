"""One Great Expectations validation over several files, split back into one result per file.

GX's cost is per *validation*, not per row: building the metric graph of a suite takes
~0.5 s whatever the frame's length (docs/performance.md, ``make bench`` part ``gxbatch``).
A month brings ~150 small files, so validating each file alone cost minutes of pure set-up.
Here the prepared frames of several files of one dataset are concatenated, validated once,
and GX's result is split back per file: each file gets the row numbers and values GX found
unexpected in *its* rows, and the counts GX would have reported for the file alone (element,
missing and unexpected counts and percentages, computed with GX's own formulas from the
file's slice of the batch; ``tests/test_gx_parts.py`` checks them against validating each
file on its own). Reason codes, row numbers and Data Docs pages stay per file.

The suites hold no per-file parameter (the folder's district is a prepared column, see
``sinergi.suites``), so one parameter set serves every file of the period.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sinergi.validation import (
    ExpectationOutcome,
    finish_report,
    is_personal,
    outcomes,
    runner,
    sanitise,
)

PARTIAL = 20  # GX's partial_unexpected_count, and how many values a stored result keeps
MAX_VALUES = 200  # GX's MAX_RESULT_RECORDS: unexpected values it lists per expectation
_LISTS = ("unexpected_list", "unexpected_index_list")


@dataclass
class PartResult:
    """One file's share of a validation: outcomes with the file's row numbers, its report."""

    outcomes: list[ExpectationOutcome]
    report: dict  # the sanitised GX result, as if the file had been validated alone


def validate_parts(
    suites_dir: Path,
    suite: str,
    frames: list[pd.DataFrame],
    parameters: dict[str, Any],
    personal: set[str],
) -> list[PartResult]:
    """Validate ``frames`` (each indexed by its file's row numbers) in one GX validation."""
    suites = runner(suites_dir)
    if len(frames) == 1:  # nothing to split: GX's own result, as it is
        result = suites.validate(suite, frames[0], parameters)
        return [PartResult(outcomes(result), sanitise(result, personal))]
    bounds = np.cumsum([0, *(len(frame) for frame in frames)])
    # index = position in the batch; the frame exactly as GX sees it, for the values
    batch = suites.gx_frame(suite, pd.concat(frames, ignore_index=True))
    row_numbers = np.concatenate([frame.index.to_numpy() for frame in frames])
    result = suites.validate(suite, batch, parameters, ready=True)
    whole = outcomes(result)
    lists = _detach_lists(result, batch)
    template = json.loads(json.dumps(result.to_json_dict(), default=str))
    counts = [_running_counts(item, batch) for item in template["results"]]
    parts = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        found = [_in_part(positions, start, stop) for positions, _ in lists]
        tallies = [(c[0][stop] - c[0][start], c[1][stop] - c[1][start]) for c in counts]
        report = _part_report(template, tallies, lists, found, row_numbers, personal)
        part_outcomes = [
            _part_outcome(outcome, item["result"]["element_count"], row_numbers[positions[hit]])
            for outcome, item, (positions, _), hit in zip(
                whole, report["results"], lists, found, strict=True
            )
        ]
        parts.append(PartResult(part_outcomes, report))
    return parts


def _detach_lists(result, batch: pd.DataFrame) -> list[tuple[np.ndarray, Callable]]:
    """Each expectation's unexpected positions, and how to read its values; the lists are
    emptied in ``result`` (then serialised once as every file's template).

    GX keeps at most 200 unexpected *values* per expectation (``MAX_RESULT_RECORDS``) but
    every index, so a file's values are read from the frame GX validated, at the file's
    unexpected positions, capped at 200 per file as GX caps them for a file alone.
    """
    out = []
    for item in result.results:
        res = item.result if isinstance(item.result, dict) else {}
        positions = np.asarray(res.get("unexpected_index_list") or [], dtype=np.int64)
        for key in (*_LISTS, "partial_unexpected_list", "partial_unexpected_index_list"):
            if key in res:
                res[key] = []
        if "partial_unexpected_counts" in res:
            res["partial_unexpected_counts"] = []
        out.append((positions, _value_reader(item.expectation_config.kwargs, batch)))
    return out


def _value_reader(kwargs, batch: pd.DataFrame) -> Callable[[np.ndarray], list]:
    """Values at batch positions as GX lists them: a cell, or a (A, B) pair."""
    if kwargs.get("column"):
        column = batch[kwargs["column"]]
        return lambda at: column.iloc[at].tolist()
    first, second = batch[kwargs["column_A"]], batch[kwargs["column_B"]]
    return lambda at: list(zip(first.iloc[at].tolist(), second.iloc[at].tolist(), strict=True))


def _in_part(positions: np.ndarray, start: int, stop: int) -> np.ndarray:
    return np.flatnonzero((positions >= start) & (positions < stop))


def _part_outcome(outcome: ExpectationOutcome, element_count: int, numbers) -> ExpectationOutcome:
    return ExpectationOutcome(
        expectation_id=outcome.expectation_id,
        reason_code=outcome.reason_code,
        severity=outcome.severity,
        expectation_type=outcome.expectation_type,
        column=outcome.column,
        success=len(numbers) == 0,
        element_count=element_count,
        unexpected_index=[int(n) for n in numbers],
    )


def _running_counts(item: dict, batch: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Running totals over the batch of the rows an expectation considers (its row condition)
    and of those with a value: a file's counts are then two subtractions."""
    kwargs = item["expectation_config"]["kwargs"]
    considered = _condition(kwargs.get("row_condition"), batch).to_numpy(dtype=bool)
    nonnull = considered & _present(kwargs, batch).to_numpy(dtype=bool)
    return (
        np.concatenate([[0], np.cumsum(considered)]),
        np.concatenate([[0], np.cumsum(nonnull)]),
    )


def _part_report(template, tallies, lists, found, row_numbers, personal) -> dict:
    """The file's GX result: the batch's template with the file's counts and rows."""
    out = copy.deepcopy(template)
    successes = 0
    items = zip(out["results"], tallies, lists, found, strict=True)
    for item, (element, nonnull), (positions, values), hit in items:
        kwargs = item["expectation_config"]["kwargs"]
        numbers = [int(n) for n in row_numbers[positions[hit]]]
        personal_item = is_personal(kwargs, personal)
        # most files have no unexpected row for most expectations: no read of an empty slice
        # (~0.1 ms of pandas a call, ~4,000 calls in a month of 38 districts)
        unexpected = [] if personal_item or not numbers else values(positions[hit][:MAX_VALUES])
        item["result"] = _map_result(
            item.get("result") or {},
            int(element),
            int(nonnull),
            numbers,
            unexpected,
        )
        item["success"] = not numbers
        successes += item["success"]
    total = len(out["results"])
    out["success"] = successes == total
    out["statistics"] = {
        "evaluated_expectations": total,
        "successful_expectations": successes,
        "unsuccessful_expectations": total - successes,
        "success_percent": successes / total * 100 if total else None,
    }
    return finish_report(out)


def _map_result(template: dict, element: int, nonnull: int, numbers, values) -> dict:
    """GX's map-expectation result fields for one file (``_format_map_output``'s formulas)."""
    unexpected = len(numbers)
    values = _json_values(values) if values else []
    result = {
        "element_count": element,
        "unexpected_count": unexpected,
        "unexpected_percent": None,
        "partial_unexpected_list": values[:PARTIAL],
    }
    total = unexpected / element * 100 if element else None
    if "missing_count" in template:
        missing = element - nonnull
        result.update(
            missing_count=missing,
            missing_percent=missing / element * 100 if element else None,
            unexpected_percent_total=total,
            unexpected_percent_nonmissing=(unexpected / nonnull * 100 if nonnull else None)
            if element
            else None,
        )
        result["unexpected_percent"] = result["unexpected_percent_nonmissing"]
    else:
        result["unexpected_percent"] = total
    result["partial_unexpected_counts"] = _value_counts(values)
    result["partial_unexpected_index_list"] = numbers[:PARTIAL]
    result["unexpected_list"] = values[:PARTIAL]
    result["unexpected_index_list"] = numbers[:PARTIAL]
    return {key: result.get(key, template[key]) for key in template}


def _json_values(values: list) -> list:
    """Values exactly as GX serialises them in a result (``NaT``, pairs as lists, ...)."""
    from great_expectations.util import convert_to_json_serializable

    return json.loads(json.dumps(convert_to_json_serializable(values), default=str))


def _value_counts(values: list) -> list[dict]:
    """GX's ``partial_unexpected_counts``: the most common values, most frequent first."""
    hashable = [tuple(v) if isinstance(v, list) else v for v in values]
    try:
        common = sorted(Counter(hashable).most_common(PARTIAL), key=lambda kv: (-kv[1], kv[0]))
    except TypeError:
        return [{"error": "partial_exception_counts requires a hashable type"}]
    return [{"value": list(v) if isinstance(v, tuple) else v, "count": n} for v, n in common]


def _present(kwargs: dict, rows: pd.DataFrame) -> pd.Series:
    """Rows where the expectation's column (or both columns of a pair) hold a value."""
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    present = pd.Series(True, index=rows.index)
    for column in columns:
        present &= rows[column].notna().to_numpy()
    return present


def _condition(condition: dict | None, rows: pd.DataFrame) -> pd.Series:
    """The rows a serialised GX row condition selects (the forms ``sinergi.suites`` writes)."""
    if not condition:
        return pd.Series(True, index=rows.index)
    kind = condition.get("type")
    if kind == "and":
        selected = pd.Series(True, index=rows.index)
        for part in condition["conditions"]:
            selected &= _condition(part, rows)
        return selected
    column = rows[condition["column"]["name"]]
    if kind == "comparison" and condition.get("operator") == "==":
        return (column == condition["parameter"]).fillna(False).astype(bool)
    if kind == "nullity":
        return column.isna() if condition.get("is_null") else column.notna()
    raise ValueError(f"row condition not supported by sinergi.gx_parts: {condition!r}")
