"""GX's domains cut to the columns an expectation reads judge exactly as GX's own domains.

Every reason code of the row rules (the rows of ``test_rules``, in files of two districts)
judged with ``sinergi.gx_domains`` installed and with GX's own ``get_domain_records``:
reason codes, row numbers, counts and the stored report must be identical. The domains
themselves are compared too: the same rows and values as GX's, with fewer columns.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sinergi import gx_domains
from sinergi.datasets import SPECS
from sinergi.rules import judge_chunk
from sinergi.validation import outcomes, runner
from tests.test_gx_parts import SUITES, _comparable, _files, _outcomes
from tests.test_rules import VALID

SALUR = {"type": "comparison", "column": {"name": "s"}, "operator": "==", "parameter": "SALUR"}


@pytest.fixture
def engine():
    """A GX pandas engine with a small batch loaded (index = row numbers, as the judge's)."""
    frame = pd.DataFrame(
        {
            "a": pd.Series(["x", None, "z", "w", None], dtype="string"),
            "b": pd.Series([1, None, None, 4, None], dtype="Int64"),
            "s": pd.Series(["SALUR", "SALUR", "TUNDA", None, "SALUR"], dtype="string"),
            "other": [1, 2, 3, 4, 5],
        }
    ).set_axis([2, 3, 4, 7, 9])
    batch = runner(SUITES).batch_definition.get_batch(batch_parameters={"dataframe": frame})
    engine = batch.data.execution_engine
    engine.load_batch_data(batch.id, batch.data)
    return engine, batch.id


def _both(engine, kwargs: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    narrowed = engine.get_domain_records(domain_kwargs=kwargs)
    with gx_domains.gx_original():
        own = engine.get_domain_records(domain_kwargs=kwargs)
    return narrowed, own


@pytest.mark.parametrize("dataset", sorted(VALID))
def test_every_rule_judges_as_with_gx_own_domains(dataset):
    spec = SPECS[dataset]
    for frame, ctx in _files(dataset):
        narrowed = judge_chunk(spec, frame, ctx, SUITES)
        with gx_domains.gx_original():
            own = judge_chunk(spec, frame, ctx, SUITES)
        assert narrowed.reason_strings().to_dict() == own.reason_strings().to_dict()
        assert _outcomes(narrowed) == _outcomes(own)
        assert _comparable(narrowed.report) == _comparable(own.report)


def test_a_row_condition_filters_only_the_columns_it_reads(engine):
    engine, batch_id = engine
    kwargs = {"batch_id": batch_id, "table": None, "column": "a", "row_condition": SALUR}
    kwargs["condition_parser"] = "great_expectations"
    narrowed, own = _both(engine, kwargs)
    assert list(narrowed.columns) == ["a", "s"]
    assert list(own.columns) == ["a", "b", "s", "other"]
    assert narrowed.index.tolist() == [2, 3, 9]
    pd.testing.assert_frame_equal(narrowed, own[["a", "s"]])


@pytest.mark.parametrize(
    ("ignore", "rows"),
    [
        ("either_value_is_missing", [2, 7]),
        ("both_values_are_missing", [2, 4, 7]),
        ("neither", None),
    ],
)
def test_a_pair_drops_the_rows_gx_drops(engine, ignore, rows):
    engine, batch_id = engine
    kwargs = {"batch_id": batch_id, "table": None, "column_A": "a", "column_B": "b"}
    kwargs |= {"ignore_row_if": ignore, "row_condition": None, "condition_parser": None}
    narrowed, own = _both(engine, kwargs)
    assert list(narrowed.columns) == ["a", "b"]
    assert narrowed.index.tolist() == (rows or [2, 3, 4, 7, 9])
    pd.testing.assert_frame_equal(narrowed, own[["a", "b"]])


def test_a_pair_under_a_condition_keeps_both_filters(engine):
    engine, batch_id = engine
    kwargs = {"batch_id": batch_id, "table": None, "column_A": "a", "column_B": "b"}
    kwargs |= {"ignore_row_if": "both_values_are_missing", "row_condition": SALUR}
    kwargs["condition_parser"] = "great_expectations"
    narrowed, own = _both(engine, kwargs)
    assert narrowed.index.tolist() == [2]
    pd.testing.assert_frame_equal(narrowed, own[["a", "b", "s"]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"column": "a", "row_condition": None},  # GX hands out the frame itself: kept
        {"column": "a", "row_condition": 's == "SALUR"', "condition_parser": "pandas"},
        {"row_condition": SALUR, "condition_parser": "great_expectations"},  # a table domain
    ],
    ids=["no-condition", "string-condition", "table"],
)
def test_what_it_cannot_read_goes_to_gx_unchanged(engine, kwargs):
    engine, batch_id = engine
    narrowed, own = _both(engine, {"batch_id": batch_id, "table": None, **kwargs})
    pd.testing.assert_frame_equal(narrowed, own)
    assert list(narrowed.columns) == ["a", "b", "s", "other"]


def test_an_and_condition_names_all_its_columns():
    both = {"type": "and", "conditions": [SALUR, {**SALUR, "column": {"name": "t"}}]}
    assert gx_domains.condition_columns(both) == ["s", "t"]
    assert gx_domains.condition_columns("s == 'SALUR'") is None


def test_an_expectation_whose_metric_failed_stops_the_judging():
    """GX reports a metric's error per metric, and the expectation as failed with no row:
    that must never read as "nothing unexpected" (a missing column here)."""
    frame = pd.DataFrame({"x": pd.Series([1, 2], dtype="Int64")})
    result = runner(SUITES).validate("duplicates", frame, {})
    assert not any(item.success for item in result.results)
    with pytest.raises(RuntimeError, match="could not run: .*earlier_identical_rows"):
        outcomes(result)
