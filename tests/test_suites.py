"""The reviewed suites in expectations/suites are exactly what the code generates."""

from __future__ import annotations

import json
import re

import pytest

from sinergi.datasets import SPECS
from sinergi.paths import EXPECTATIONS_DIR
from sinergi.suites import all_suites, kk_regex, nik_regex, render

SUITES_DIR = EXPECTATIONS_DIR / "suites"


@pytest.mark.parametrize("name", sorted(all_suites()))
def test_committed_suite_matches_code(name):
    suite = all_suites()[name]
    path = SUITES_DIR / f"{suite['name']}.json"
    assert path.exists(), f"{path} missing: run `sinergi expectations`"
    assert path.read_text(encoding="utf-8") == render(suite), (
        f"{path} differs from the code: run `sinergi expectations` and commit the result"
    )


def test_every_expectation_names_a_reason_code():
    for suite in all_suites().values():
        for expectation in suite["expectations"]:
            assert expectation["meta"]["reason_code"], expectation


def test_every_required_column_has_a_missing_value_rule():
    for dataset, spec in SPECS.items():
        codes = {e["meta"]["reason_code"] for e in all_suites()[dataset]["expectations"]}
        for column in spec.required:
            assert f"missing_value:{column}" in codes


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("3578014501900001", True),
        ("3578010501900001", True),
        ("9178017112990001", True),  # Papua province 91, day 71 (woman, 31st)
        ("3578014501900000", False),  # serial 0000
        ("1078014501900001", False),  # no province 10
        ("3578017201900001", False),  # day 72
        ("3578010001900001", False),  # day 00
        ("3578014500900001", False),  # month 00
        ("357801450190001", False),  # 15 digits
        ("35780145019000011", False),  # 17 digits
    ],
)
def test_nik_regex(value, valid):
    assert bool(re.match(nik_regex(), value)) is valid


def test_kk_regex():
    assert re.match(kk_regex(), "3578010101250001")
    assert not re.match(kk_regex(), "3578010101250000")
    assert not re.match(kk_regex(), "0078010101250001")


def test_suites_load_in_great_expectations():
    import great_expectations as gx

    for path in sorted(SUITES_DIR.glob("*.json")):
        suite = gx.ExpectationSuite(**json.loads(path.read_text(encoding="utf-8")))
        assert suite.expectations


def test_two_runs_report_the_same_expectation_ids():
    """GX gives expectations new random ids on every suite load; outcomes use the stable ones."""
    import json

    import pandas as pd

    from sinergi.validation import SuiteRunner, outcomes

    frame = pd.DataFrame({"earlier_identical_rows": [0, 1], "distinct_rows_with_key": [1, 2]})
    committed = json.loads((SUITES_DIR / "sinergi.duplicates.json").read_text(encoding="utf-8"))
    runs = [
        [
            o.expectation_id
            for o in outcomes(SuiteRunner(SUITES_DIR).validate("duplicates", frame, {}))
        ]
        for _ in range(2)
    ]
    assert runs[0] == runs[1] == [e["id"] for e in committed["expectations"]]
