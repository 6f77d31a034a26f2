"""File outcomes (contract §3, §6): statuses, duplicates, the rejected-row threshold."""

from __future__ import annotations

import hashlib
import hmac
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sinergi.datasets import SPECS
from sinergi.duplicates import find_duplicates
from sinergi.identity import pseudonymise, pseudonymise_many
from sinergi.judgement import JudgeOptions, VersionRef, judge_file
from sinergi.paths import EXPECTATIONS_DIR
from sinergi.periods import Period
from sinergi.rules import Context

CTX = Context(Period(2025, 3), "3578")
KEY = b"k"
HEADER = "periode,kode_kabkota,kode_psks,jumlah"


def psks_file(tmp_path, rows: list[str], name: str = "psks.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def judge(tmp_path, path, dataset="psks", threshold=0.2):
    ref = VersionRef(SPECS[dataset], CTX, 1)
    options = JudgeOptions(KEY, threshold, EXPECTATIONS_DIR / "suites")
    return judge_file(path, ref, tmp_path / "spill", options)


def accepted(verdict, dataset="psks") -> pd.DataFrame:
    """The accepted rows the judge left for the loader (``raw.<dataset>``)."""
    return pq.read_table(verdict.parts[f"raw.{dataset}"]).to_pandas()


def quarantined(verdict) -> pd.DataFrame:
    return pq.read_table(verdict.parts["audit.row_rejections"]).to_pandas()


def good(code: int, count: int = 1) -> str:
    return f"2025-03,3578,PSKS{code:02d},{count}"


def test_all_valid_is_accepted_and_spilled(tmp_path):
    verdict = judge(tmp_path, psks_file(tmp_path, [good(1), good(2, 600)]))
    assert (verdict.status, verdict.rows_total, verdict.rows_accepted) == ("ACCEPTED", 2, 2)
    table = accepted(verdict)
    assert table["kode_psks"].tolist() == ["PSKS01", "PSKS02"]
    assert table["_row_number"].tolist() == [2, 3]


def test_one_bad_row_in_five_is_partial_at_exactly_twenty_percent(tmp_path):
    rows = [good(i) for i in range(1, 5)] + ["2025-03,3578,PSKS99,1"]
    verdict = judge(tmp_path, psks_file(tmp_path, rows))
    assert (verdict.status, verdict.rows_rejected, verdict.rows_accepted) == ("PARTIAL", 1, 4)
    quarantine = quarantined(verdict)
    assert quarantine["row_number"].tolist() == [6]
    assert quarantine["reason_codes"].tolist() == ["unknown_code:kode_psks"]
    assert json.loads(quarantine["original_values"][0])["kode_psks"] == "PSKS99"


def test_over_twenty_percent_is_rejected(tmp_path):
    rows = [good(i) for i in range(1, 4)] + ["2025-03,3578,PSKS99,1"]  # 1 of 4 = 25 %
    verdict = judge(tmp_path, psks_file(tmp_path, rows))
    assert verdict.status == "REJECTED"
    assert verdict.rejection_reason == "too_many_invalid_rows"
    assert (verdict.rows_accepted, verdict.rows_rejected) == (0, 4)  # every row counts
    assert "raw.psks" not in verdict.parts
    assert quarantined(verdict)["row_number"].tolist() == [5]  # the bad row is kept for audit


def test_threshold_is_configurable(tmp_path):
    rows = [good(i) for i in range(1, 4)] + ["2025-03,3578,PSKS99,1"]
    assert judge(tmp_path, psks_file(tmp_path, rows), threshold=0.3).status == "PARTIAL"


def test_exact_duplicates_reject_later_copies_only(tmp_path):
    rows = [good(1), good(1), good(2), good(3), good(4), good(5), good(6), good(7)]
    verdict = judge(tmp_path, psks_file(tmp_path, rows))
    assert verdict.status == "PARTIAL"
    assert verdict.duplicate_rows == [3]
    assert verdict.reason_counts["exact_duplicate"] == 1
    assert 3 not in accepted(verdict)["_row_number"].tolist()  # decided before the load
    assert accepted(verdict)["_row_number"].tolist() == [2, 4, 5, 6, 7, 8, 9]
    quarantine = quarantined(verdict)
    assert quarantine[["row_number", "reason_codes"]].values.tolist() == [[3, "exact_duplicate"]]


def test_conflicting_key_rejects_every_row_of_the_key(tmp_path):
    rows = [good(1, 5), good(1, 6)] + [good(i) for i in range(2, 10)]
    verdict = judge(tmp_path, psks_file(tmp_path, rows))
    assert verdict.status == "PARTIAL"
    assert verdict.duplicate_rows == [2, 3]
    assert verdict.reason_counts["duplicate_key"] == 2
    assert accepted(verdict)["_row_number"].tolist() == list(range(4, 12))


def test_duplicates_compare_normalised_values(tmp_path):
    rows = ["2025-03,35.78,psks01,1.000", "2025-03,3578,PSKS01,1000"] + [
        good(i) for i in range(2, 10)
    ]
    verdict = judge(tmp_path, psks_file(tmp_path, rows))
    assert verdict.duplicate_rows == [3]
    assert verdict.reason_counts == {"exact_duplicate": 1}


def test_duplicates_only_among_rows_that_passed(tmp_path):
    rows = [good(1), "2025-02,3578,PSKS01,1"] + [good(i) for i in range(2, 10)]
    verdict = judge(tmp_path, psks_file(tmp_path, rows))
    assert verdict.reason_counts == {"period_mismatch": 1}


def test_duplicates_count_toward_the_threshold(tmp_path):
    rows = [good(1)] * 3 + [good(2), good(3)]  # 2 of 5 rejected = 40 %
    verdict = judge(tmp_path, psks_file(tmp_path, rows))
    assert verdict.status == "REJECTED"


@pytest.mark.parametrize(
    ("content", "reason", "rows_total"),
    [
        (b"", "unreadable", 0),
        (b"periode,kode_kabkota,kode_psks,jumlah\n2025-03,3578,PSKS01,\x001\n", "unreadable", 0),
        (b"periode,kode_kabkota,jumlah\n2025-03,3578,1\n2025-03,3578,2\n", "missing_columns", 2),
        (b"periode,kode_kabkota,kode_psks,jumlah\n", "empty", 0),
        (b"periode,kode_kabkota,kode_psks,jumlah\n,,,\n\n", "empty", 0),
    ],
)
def test_file_level_rejections(tmp_path, content, reason, rows_total):
    path = tmp_path / "psks.csv"
    path.write_bytes(content)
    verdict = judge(tmp_path, path)
    assert (verdict.status, verdict.rejection_reason, verdict.rows_total) == (
        "REJECTED",
        reason,
        rows_total,
    )


def test_personal_identifiers_are_pseudonymised_in_the_spill(tmp_path):
    header = (
        "periode,kode_kabkota,nik,no_kk,jenis_kelamin,tanggal_lahir,kode_desa,"
        "kode_program,nilai_bantuan,tanggal_salur,status_salur"
    )
    row = "2025-03,3578,3578014501900001,3578010101250001,P,1990-01-05,3578010001,PKH,,,GAGAL"
    path = tmp_path / "penerima_bantuan.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    verdict = judge(tmp_path, path, dataset="penerima_bantuan")
    assert verdict.status == "ACCEPTED"
    table = accepted(verdict, "penerima_bantuan")
    assert "nik" not in table.columns
    assert table["nik_hmac"][0] == pseudonymise("3578014501900001", KEY)
    assert pd.isna(table["nilai_bantuan"][0])


@pytest.mark.parametrize("dtype", ["str", object, "string[pyarrow]", "string[python]"])
def test_a_column_is_pseudonymised_row_by_row_and_missing_stays_missing(dtype):
    """Each row gets its own value's HMAC, repeated values the same one, in the row's place."""
    from sinergi.judged_rows import _pseudonymised

    values = ["3578014501900001", None, "3578010101250001", "3578014501900001", "", None]
    column = pd.Series(values, dtype=dtype, index=[9, 4, 7, 2, 11, 3])
    out = _pseudonymised(column, KEY)
    assert list(out.index) == [9, 4, 7, 2, 11, 3]
    assert [None if pd.isna(v) else v for v in out] == [
        None if v is None else pseudonymise(v, KEY) for v in values
    ]
    assert str(out.dtype) == "str"
    assert _pseudonymised(pd.Series([None, None], dtype=dtype), KEY).isna().all()
    assert _pseudonymised(pd.Series([], dtype=dtype), KEY).empty


@pytest.mark.parametrize("key", [KEY, b"k" * 64, b"\xff" * 65, bytes(range(200))])
def test_batch_pseudonyms_are_the_keyed_hmac_of_each_value(key):
    """Short, block-sized (64 bytes) and longer keys, which RFC 2104 hashes first."""
    values = ["3578014501900001", "3578010101250001", "3578014501900001", "", "Ä"]
    expected = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]
    assert pseudonymise_many(values, key) == expected
    assert [pseudonymise(v, key) for v in values] == expected
    assert pseudonymise_many(values, key + b"x") != expected  # the key matters


def test_find_duplicates_reports_both_codes_for_a_repeated_conflicting_row():
    keys = pd.DataFrame({"row_number": [2, 3, 4], "key": ["a", "a", "a"], "row": ["x", "x", "y"]})
    found, result = find_duplicates(keys, EXPECTATIONS_DIR / "suites")
    assert result.report["success"] is False
    assert found == {
        2: ["duplicate_key"],
        3: ["exact_duplicate", "duplicate_key"],
        4: ["duplicate_key"],
    }


def test_stored_gx_results_are_short_and_hold_no_personal_values(tmp_path):
    """Every bad row is judged from GX's full lists; the stored (Data Docs) copy is trimmed
    to 20 entries and has no NIK / No. KK values at all."""
    header = (
        "periode,kode_kabkota,nik,no_kk,jenis_kelamin,tanggal_lahir,kode_desa,"
        "kode_program,nilai_bantuan,tanggal_salur,status_salur"
    )
    good_row = "2025-03,3578,3578014501900001,3578010101250001,P,1990-01-05,3578010001,PKH,,,GAGAL"
    bad_niks = [f"99{i:014d}" for i in range(30)]  # province 99 does not exist
    rows = [good_row.replace("3578014501900001", nik).replace("PKH", "XXX") for nik in bad_niks]
    path = tmp_path / "penerima_bantuan.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    verdict = judge(tmp_path, path, dataset="penerima_bantuan", threshold=1.0)
    assert verdict.rows_rejected == 30
    assert verdict.reason_counts["invalid_nik"] == 30
    stored = json.dumps(verdict.gx_results)
    assert not any(nik in stored for nik in bad_niks)
    for result in verdict.gx_results:
        for item in result["results"]:
            res = item.get("result") or {}
            assert "unexpected_index_query" not in res
            for key in ("unexpected_list", "unexpected_index_list", "partial_unexpected_list"):
                assert len(res.get(key, [])) <= 20
    codes = [
        item["result"].get("unexpected_list")
        for result in verdict.gx_results
        for item in result["results"]
        if item["expectation_config"]["kwargs"].get("column") == "kode_program"
        and item["result"].get("unexpected_list")
    ]
    assert codes == [["XXX"] * 20]  # non-personal values stay, trimmed


def test_gx_does_not_fingerprint_the_batch(tmp_path):
    """GX's MD5 over every cell of the batch is switched off (validation.py says why); if a GX
    upgrade renames its switch, the marker comes back and this fails."""
    verdict = judge(tmp_path, psks_file(tmp_path, [good(1), good(2)]))
    assert verdict.status == "ACCEPTED"
    markers = [result["meta"]["batch_markers"] for result in verdict.gx_results]
    assert markers and all("ge_load_time" in m for m in markers)
    assert not any("pandas_data_fingerprint" in m for m in markers)
