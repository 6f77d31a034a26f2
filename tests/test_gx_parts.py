"""One validation for several files must judge and report each file as if it were alone.

Every reason code of the row rules (the cases of ``test_rules``), spread over files of two
districts, judged file by file (GX's own result) and all together (``sinergi.gx_parts``
splitting one result): reason codes, row numbers, expectation counts and the stored report
of each file must be identical.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sinergi.datasets import SPECS
from sinergi.duplicates import find_duplicates, find_duplicates_in_files
from sinergi.paths import EXPECTATIONS_DIR
from sinergi.periods import Period
from sinergi.rules import Context, judge_chunk, judge_chunks
from tests.test_rules import ACCEPTED_VARIANTS, CASES, VALID

SUITES = EXPECTATIONS_DIR / "suites"
PERIOD = Period(2025, 3)
REGION_COLUMNS = ("kode_kabkota", "kode_kecamatan", "kode_desa")


def _rows(dataset: str) -> list[dict]:
    variants = [{}] + [c for d, c, _ in CASES if d == dataset]
    variants += [c for d, c in ACCEPTED_VARIANTS if d == dataset]
    variants += [{column: None} for column in SPECS[dataset].required]
    return [{**VALID[dataset], **c} for c in variants]


def _moved(row: dict, district: str) -> dict:
    """The row as district ``district`` would send it (its region codes rewritten)."""
    out = dict(row)
    for column in REGION_COLUMNS:
        if isinstance(out.get(column), str):
            out[column] = out[column].replace("3578", district, 1).replace("35.78", district)
    return out


def _file(rows: list[dict], first_row: int = 2) -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype=object)
    frame = frame.astype(object).where(frame.notna(), None)
    frame["row_number"] = range(first_row, first_row + len(frame))
    return frame


def _files(dataset: str) -> list[tuple[pd.DataFrame, Context]]:
    rows = _rows(dataset)
    return [
        (_file(rows), Context(PERIOD, "3578")),
        (_file([_moved(r, "3507") for r in rows], first_row=5), Context(PERIOD, "3507")),
        # rows of 3578 sent in the folder of 3507: district and region rules fire there only
        (_file(rows[: max(3, len(rows) // 2)]), Context(PERIOD, "3507")),
        (_file([VALID[dataset]] * 2), Context(PERIOD, "3578")),
    ]


def _comparable(report: dict) -> dict:
    """What a stored report says about the file (not when or in which batch it ran)."""
    return {
        "success": report["success"],
        "statistics": report["statistics"],
        "results": [
            (item["expectation_config"]["id"], item["success"], item["result"])
            for item in report["results"]
        ],
    }


def _outcomes(judgement) -> list[tuple]:
    return [
        (o.expectation_id, o.success, o.element_count, sorted(o.unexpected_index))
        for o in judgement.outcomes
    ]


@pytest.mark.parametrize("dataset", sorted(VALID))
def test_files_judged_together_are_judged_as_alone(dataset):
    files = _files(dataset)
    spec = SPECS[dataset]
    alone = [judge_chunk(spec, frame, ctx, SUITES) for frame, ctx in files]
    together = judge_chunks(spec, [f for f, _ in files], [c for _, c in files], SUITES)
    assert len(together) == len(files)
    for one, batched in zip(alone, together, strict=True):
        assert batched.reason_strings().to_dict() == one.reason_strings().to_dict()
        assert {k: v[v].index.tolist() for k, v in batched.warnings.items()} == {
            k: v[v].index.tolist() for k, v in one.warnings.items()
        }
        assert _outcomes(batched) == _outcomes(one)
        assert _comparable(batched.report) == _comparable(one.report)
    # the checks above would pass trivially if no rule fired: they must have, per file
    assert all(one.rejected.any() for one in alone[:3])
    assert not alone[3].rejected.any()


def test_the_district_rules_follow_each_files_folder():
    spec = SPECS["ppks"]
    row = VALID["ppks"]
    frames = [_file([row]), _file([row])]
    first, second = judge_chunks(
        spec, frames, [Context(PERIOD, "3578"), Context(PERIOD, "3507")], SUITES
    )
    assert not first.rejected.any()
    assert second.reason_strings().tolist() == ["district_mismatch;invalid_subdistrict_code"]


def test_files_of_two_periods_are_never_judged_together():
    spec = SPECS["psks"]
    frames = [_file([VALID["psks"]]), _file([VALID["psks"]])]
    contexts = [Context(PERIOD, "3578"), Context(PERIOD.previous(), "3578")]
    with pytest.raises(ValueError, match="one period"):
        judge_chunks(spec, frames, contexts, SUITES)


def test_duplicates_of_several_files_are_found_per_file():
    def keys(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=["row_number", "key", "row"])

    files = [
        keys([(2, "a", "a1"), (3, "a", "a1"), (4, "b", "b1"), (5, "b", "b2")]),
        keys([(2, "a", "a1"), (3, "c", "c1")]),  # "a" again, but in another file
        keys([]),
        keys([(7, "x", "x1"), (9, "x", "x1"), (11, "x", "x2")]),
    ]
    together = find_duplicates_in_files(files, SUITES)
    for frame, (found, part) in zip(files, together, strict=True):
        alone = find_duplicates(frame, SUITES)
        assert found == alone[0]
        if frame.empty:
            assert part is None
        else:
            assert _comparable(part.report) == _comparable(alone[1].report)
    assert together[0][0] == {3: ["exact_duplicate"], 4: ["duplicate_key"], 5: ["duplicate_key"]}
    assert together[1][0] == {}
    assert together[3][0] == {
        7: ["duplicate_key"],
        9: ["exact_duplicate", "duplicate_key"],
        11: ["duplicate_key"],
    }


def test_more_unexpected_values_than_gx_lists_are_split_like_each_file_alone():
    """GX lists at most 200 unexpected values per expectation (all the indices): a batch with
    more must still give each file the values GX gives that file alone."""
    import great_expectations.constants

    from sinergi.gx_parts import MAX_VALUES

    assert great_expectations.constants.MAX_RESULT_RECORDS == MAX_VALUES
    spec = SPECS["penerima_bantuan"]
    files = []
    for n, district in enumerate(("3578", "3507", "3578")):
        rows = [
            {
                **_moved(VALID["penerima_bantuan"], district),
                "kode_desa": f"{district}0{i % 7}",  # too short: a non-personal value
                "nik": f"3.5{i % 3}E+15",  # Excel's scientific notation: personal
                "nilai_bantuan": str(600_000 + i * 10_000 * n),  # some over the ceiling
            }
            for i in range(130 + 40 * n)
        ]
        files.append((_file(rows), Context(PERIOD, district)))
    alone = [judge_chunk(spec, frame, ctx, SUITES) for frame, ctx in files]
    together = judge_chunks(spec, [f for f, _ in files], [c for _, c in files], SUITES)
    for one, batched in zip(alone, together, strict=True):
        assert _outcomes(batched) == _outcomes(one)
        assert _comparable(batched.report) == _comparable(one.report)
    assert sum(len(o.unexpected_index) for j in alone for o in j.outcomes) > 3 * MAX_VALUES
