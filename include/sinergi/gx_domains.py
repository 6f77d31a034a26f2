"""Great Expectations builds an expectation's rows from the columns it reads, not the frame.

GX's pandas engine gives every metric of an expectation its rows ("domain records") through
``PandasExecutionEngine.get_domain_records``. With a row condition (``status_salur ==
'SALUR'``) that is ``DataFrame.query`` on the *whole* batch frame, and for a column pair it is
``dropna`` on the whole frame: each a copy of every column (22 of a prepared roster), made
again for each metric of the expectation (28 filters for the roster suite's 7 conditional
expectations). A profile of one 200,000-row roster validation spent 46 % of it in those copies
(pyarrow ``take``), 2026-12-07, docs/performance.md.

:func:`install` wraps that method: the batch frame is first cut to the columns the domain
reads (its column or pair, and the columns its row condition names), then GX's own row
filter runs, then the rows with missing values are dropped exactly as GX drops them. Same
rows, same order, same index; only columns no metric of that expectation reads are left out.
Anything else (a table domain, a single column without a row condition, which GX hands out
without copying, a string row condition, a domain key not listed here) goes to GX unchanged.
``tests/test_gx_domains.py`` checks every suite's results against GX's own method.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sinergi.library_wraps import unwrapped, wrap_once

#: the domain keys this wrapper understands; any other key sends the domain to GX as it is
_KNOWN_KEYS = frozenset(
    {"batch_id", "table", "column", "column_A", "column_B", "row_condition", "condition_parser"}
    | {"ignore_row_if"}
)
#: GX's ``ignore_row_if`` for a column pair -> pandas' ``dropna(how=...)`` (None: keep all)
_PAIR_DROP = {"both_values_are_missing": "all", "either_value_is_missing": "any", "neither": None}


def install() -> None:
    """Wrap GX's ``get_domain_records`` (once per process; idempotent)."""
    from great_expectations.execution_engine.pandas_execution_engine import (
        PandasExecutionEngine,
    )

    wrap_once(PandasExecutionEngine, "get_domain_records", _narrowed)


def gx_original() -> AbstractContextManager[None]:
    """GX's own ``get_domain_records`` for the duration (the tests' reference)."""
    from great_expectations.execution_engine.pandas_execution_engine import (
        PandasExecutionEngine,
    )

    return unwrapped(PandasExecutionEngine, "get_domain_records")


def _narrowed(original: Callable) -> Callable:
    def get_domain_records(self, domain_kwargs: dict):
        columns = _read_columns(domain_kwargs)
        if columns is None:
            return original(self, domain_kwargs)
        # GX's own batch lookup: a single column without a row condition is the frame itself
        lookup = {"column": columns[0]}
        if domain_kwargs.get("batch_id") is not None:
            lookup["batch_id"] = domain_kwargs["batch_id"]
        data = original(self, lookup)
        if not all(column in data.columns for column in columns):
            return original(self, domain_kwargs)  # GX reports the missing column its way
        data = data[columns]
        if domain_kwargs.get("row_condition"):
            data = self._apply_row_condition_filter(
                data, domain_kwargs["row_condition"], domain_kwargs
            )
        return _drop_missing(data, domain_kwargs)

    return get_domain_records


def _read_columns(domain_kwargs: dict) -> list[str] | None:
    """The columns a domain reads, or None to leave the domain to GX."""
    if not set(domain_kwargs) <= _KNOWN_KEYS or domain_kwargs.get("table"):
        return None  # GX refuses a named table itself
    pair = domain_kwargs.get("column_A") is not None and domain_kwargs.get("column_B") is not None
    if pair:
        if domain_kwargs.get("column") is not None:
            return None
        if domain_kwargs.get("ignore_row_if", "neither") not in _PAIR_DROP:
            return None  # GX raises its own error for it
        columns = [domain_kwargs["column_A"], domain_kwargs["column_B"]]
    elif domain_kwargs.get("column") is not None and "ignore_row_if" not in domain_kwargs:
        if not domain_kwargs.get("row_condition"):
            return None  # GX hands out the frame itself: nothing to save
        columns = [domain_kwargs["column"]]
    else:
        return None
    condition = domain_kwargs.get("row_condition")
    if condition:
        named = condition_columns(condition)
        if named is None:
            return None
        columns += named
    return list(dict.fromkeys(columns))


def condition_columns(condition: Any) -> list[str] | None:
    """Columns a structured GX row condition names (None for a string or an unknown form)."""
    if not isinstance(condition, dict):
        as_dict = getattr(condition, "dict", None)
        if isinstance(condition, str) or as_dict is None:
            return None
        condition = as_dict()
    if "conditions" in condition:
        found: list[str] = []
        for part in condition["conditions"]:
            named = condition_columns(part)
            if named is None:
                return None
            found += named
        return found
    column = condition.get("column")
    if isinstance(column, dict) and isinstance(column.get("name"), str):
        return [column["name"]]
    return None


def _drop_missing(data, domain_kwargs: dict):
    """GX's ``ignore_row_if`` for a column pair (``get_domain_records``' own rule)."""
    if "column_A" not in domain_kwargs or "ignore_row_if" not in domain_kwargs:
        return data
    how = _PAIR_DROP[domain_kwargs["ignore_row_if"]]
    if how is None:
        return data
    pair = [domain_kwargs["column_A"], domain_kwargs["column_B"]]
    return data.dropna(axis=0, how=how, subset=pair)
