"""The judge stage on its own: a file version in, a judged-version folder out, no warehouse."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pyarrow.parquet as pq

from sinergi.judgement import FileVersion, JudgeOptions, Verdict, judge_version
from sinergi.limits import InputLimits
from sinergi.paths import EXPECTATIONS_DIR
from sinergi.periods import Period
from sinergi.warehouse.judged import JudgedVersion

PERIOD = Period(2025, 3)
WHEN = datetime(2025, 4, 2, tzinfo=UTC)
HEADER = "periode,kode_kabkota,kode_psks,jumlah"
OPTIONS = JudgeOptions(b"k", 0.2, EXPECTATIONS_DIR / "suites")


def version(tmp_path, rows: list[str] | None, name: str = "psks.csv") -> FileVersion:
    path = None
    if rows is not None:
        path = tmp_path / name
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return FileVersion(
        period=PERIOD,
        district_code="3578",
        dataset="psks",
        version=2,
        file_name=name,
        sha256="f" * 64,
        size_bytes=123,
        received_at=WHEN,
        deadline_at=WHEN,
        archive_path=path,
    )


def good(code: int) -> str:
    return f"2025-03,3578,PSKS{code:02d},1"


def test_partial_version_leaves_its_rows_and_its_audit_row(tmp_path):
    rows = [good(i) for i in range(1, 9)] + [good(1), "2025-03,3578,PSKS99,1"]
    verdict = judge_version(version(tmp_path, rows), tmp_path / "out", OPTIONS)
    judged = JudgedVersion.read(tmp_path / "out")
    fv = judged.file_version
    assert (fv["status"], fv["rows_total"], fv["rows_accepted"], fv["rows_rejected"]) == (
        "PARTIAL",
        10,
        8,
        2,
    )
    assert (fv["version"], fv["sha256"], fv["archive_path"]) == (
        2,
        "f" * 64,
        str(tmp_path / "psks.csv"),
    )
    accepted = pq.read_table(judged.parts("raw.psks")).to_pandas()
    assert sorted(accepted["_row_number"]) == list(range(2, 10))  # row 10 (a duplicate) is out
    quarantine = pq.read_table(judged.parts("audit.row_rejections")).to_pandas()
    assert sorted(quarantine["row_number"]) == [10, 11]
    results = pq.read_table(judged.parts("audit.validation_results")).to_pandas()
    assert set(results["suite"]) == {"psks", "duplicates"}
    # contract columns, never prepared ones (kode_kabkota__folder) or the duplicates' helpers
    assert set(results["column_name"]) == {"periode", "kode_kabkota", "kode_psks", "jumlah"}
    assert judged.summary["reason_counts"] == {"exact_duplicate": 1, "unknown_code:kode_psks": 1}
    assert verdict.outcome(version(tmp_path, rows))["status"] == "PARTIAL"


def test_a_rejected_version_counts_every_row_and_leaves_no_accepted_rows(tmp_path):
    rows = [good(1), good(2), "2025-03,3578,PSKS99,1", "2025-02,3578,PSKS03,1"]
    judge_version(version(tmp_path, rows), tmp_path / "out", OPTIONS)
    judged = JudgedVersion.read(tmp_path / "out")
    fv = judged.file_version
    assert (fv["status"], fv["rejection_reason"]) == ("REJECTED", "too_many_invalid_rows")
    assert (fv["rows_total"], fv["rows_accepted"], fv["rows_rejected"]) == (4, 0, 4)
    assert fv["rejection_detail"] == "2 of 4 rows rejected (50.0% > 20%)"
    assert fv["rejection_params"] == '{"limit_pct": 20.0}'  # the threshold as data too
    assert "raw.psks" not in judged.rows and not list((tmp_path / "out").glob("accepted-*"))
    assert "audit.row_rejections" in judged.rows  # the bad rows stay for the auditors


def test_a_file_over_the_size_limit_is_judged_without_being_read(tmp_path):
    over = version(tmp_path, None)
    judge_version(
        over, tmp_path / "out", JudgeOptions(b"k", 0.2, OPTIONS.suites_dir, InputLimits())
    )
    fv = JudgedVersion.read(tmp_path / "out").file_version
    assert (fv["status"], fv["rejection_reason"], fv["archive_path"]) == (
        "REJECTED",
        "unreadable",
        "",
    )
    assert fv["rejection_params"] == '{"cause": "too_large"}'


def test_rejection_params_go_through_the_folder_and_back(tmp_path):
    """The reader's structured facts reach the record the loader copies, and a verdict read
    back from the folder (``judge_together``'s hand-over) keeps them."""
    path = tmp_path / "psks.csv"
    path.write_text("periode,kode_psks,jumlah\n2025-03,PSKS01,1\n", encoding="utf-8")
    missing = replace(version(tmp_path, None), archive_path=path)
    verdict = judge_version(missing, tmp_path / "out", OPTIONS)
    assert verdict.rejection_params == {"columns": ["kode_kabkota"], "header_row": 1}
    fv = JudgedVersion.read(tmp_path / "out").file_version
    assert json.loads(fv["rejection_params"]) == {"columns": ["kode_kabkota"], "header_row": 1}
    again, _ = Verdict.from_folder(tmp_path / "out")
    assert again.rejection_params == verdict.rejection_params


def test_an_accepted_version_has_no_rejection_params(tmp_path):
    judge_version(version(tmp_path, [good(1), good(2)]), tmp_path / "out", OPTIONS)
    assert JudgedVersion.read(tmp_path / "out").file_version["rejection_params"] is None


def test_an_ambiguous_pair_member_is_rejected_with_its_row_count(tmp_path):
    verdict = judge_version(
        version(tmp_path, [good(1), good(2)]), tmp_path / "out", OPTIONS, ambiguous=True
    )
    assert (verdict.status, verdict.rejection_reason) == ("REJECTED", "ambiguous_submission")
    fv = JudgedVersion.read(tmp_path / "out").file_version
    assert (fv["rows_total"], fv["rows_rejected"]) == (2, 2)


def test_a_retried_judgement_starts_from_an_empty_folder(tmp_path):
    stale = tmp_path / "out" / "accepted-0007.parquet"
    stale.parent.mkdir()
    stale.write_bytes(b"left by a killed attempt")
    judge_version(version(tmp_path, [good(1)]), tmp_path / "out", OPTIONS)
    assert not stale.exists()


def test_validation_results_name_the_contract_column_of_prepared_and_paired_columns():
    from sinergi.datasets import SPECS
    from sinergi.judgement import audited_column

    roster = SPECS["penerima_bantuan"]
    assert audited_column(roster, "nilai_bantuan__program_ceiling, nilai_bantuan__int") == (
        "nilai_bantuan"
    )
    assert audited_column(roster, "tanggal_lahir__yyyymmdd") == "tanggal_lahir"
    assert audited_column(roster, "kode_kabkota, kode_kabkota__folder") == "kode_kabkota"
    assert audited_column(roster, "nik") == "nik"
    assert audited_column(roster, "earlier_identical_rows") == "nik, kode_program"
