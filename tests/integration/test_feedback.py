"""The faulty demo inbox's feedback, read as a district operator reads it (issue #16).

The generator's manifest lists every fault it planted, file by file. Each one must reach its
district's feedback with an actionable Indonesian message (and the value found, where one may
be shown); no English may remain outside the ``kode`` column, no NIK / No. KK value may
appear, and a systemic cause (Excel's scientific notation) is said once at file level.
Shares the faulty inbox run of ``test_faulty_inbox.py`` (one DAG run per session).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from sinergi.feedback import DELIMITER
from sinergi.messages import STATUS_LABELS
from sinergi.reference import district_codes
from tests.integration.independent import shared_run
from tests.integration.test_faulty_inbox import PERIODS, build_faulty

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("faulty-inbox")]


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    yield from shared_run(tmp_path_factory, "faulty-inbox", build_faulty)


# English that an operator must never read (words of the English details and statuses).
_ENGLISH = re.compile(
    r"\b(of|rows?|missing|columns?|header|file|line|both|sent|rejected|the|no data|"
    r"ACCEPTED|PARTIAL|REJECTED|MISSING|IGNORED|digits)\b"
)
# What each file-level fault must produce: (code in the ``kode`` column, Indonesian text).
_FILE_FAULTS = {
    "too_many_invalid_rows": ("too_many_invalid_rows", "Terlalu banyak baris ditolak"),
    "corrupt_xlsx": ("unreadable", "Berkas tidak dapat dibaca"),
    "zero_byte": ("unreadable", "berkas kosong (0 byte)"),
    "nul_bytes": ("unreadable", "karakter NUL"),
    "header_only": ("empty", "tidak berisi baris data"),
    "missing_columns": ("missing_columns", "Kolom wajib tidak ada"),
    "ambiguous_pair": ("ambiguous_submission", "Dikirim dua berkas"),
    "extra_column": ("unexpected_columns", "Kolom tambahan diabaikan"),
    "extra_file": ("ignored_file", "Berkas diabaikan"),
}


def _feedback(run, period: str, district: str) -> list[dict]:
    path = Path(run.result["data_dir"]) / "reports" / period / "umpan-balik"
    with open(path / f"umpan-balik-{district}.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=DELIMITER))


def _lines_for(lines: list[dict], paths: list[str]) -> list[dict]:
    names = {p.rsplit("/", 1)[-1] for p in paths}
    return [line for line in lines if line["berkas"] in names]


def _faults(run) -> list[dict]:
    return [f for f in run.result["manifest"]["faults"] if f["district"] in district_codes()]


def test_every_planted_fault_reaches_its_district(faulty_run):
    checked = set()
    for fault in _faults(faulty_run):
        lines = _feedback(faulty_run, fault["period"], fault["district"])
        kind, where = fault["kind"], (fault["period"], fault["district"], fault["kind"])
        own = _lines_for(lines, fault["paths"])
        if kind == "missing_dataset":
            found = [line for line in lines if line["kode"] == "missing"]
            assert any(fault["dataset"] in line["masalah"] for line in found), where
            assert {line["status_berkas"] for line in found} == {"TIDAK ADA"}, where
        elif kind == "misnamed_file":
            right = fault["dataset"] + "." + fault["paths"][0].rsplit(".", 1)[-1].lower()
            assert any(f"Ganti nama berkas menjadi {right}" in x["tindakan"] for x in own), where
            assert any(x["kode"] == "missing" and fault["dataset"] in x["masalah"] for x in lines)
        elif kind == "partial_rows":
            codes = {line["kode"] for line in own}
            assert set(fault["reason_codes"]) <= codes, (where, set(fault["reason_codes"]) - codes)
            head = [x for x in own if x["kode"] == "PARTIAL"]
            assert head and "kirim ulang SELURUH berkas" in head[0]["tindakan"], where
        elif kind in _FILE_FAULTS:
            code, text = _FILE_FAULTS[kind]
            assert any(x["kode"] == code and text in x["masalah"] for x in own), (where, own[:3])
            if kind == "too_many_invalid_rows" and fault.get("variant") == "scientific":
                assert any(x["kode"] == "scientific_notation" for x in own), where
                fix = [x["tindakan"] for x in own if x["kode"] == "scientific_notation"]
                assert "sebagai Teks" in fix[0], where
        elif kind == "nik_birthdate_mismatch":  # a warning: the row is kept, and told
            warned = [x for x in own if x["kode"] == "nik_birthdate_mismatch"]
            assert warned and all(x["baris"] and not x["nilai"] for x in warned), where
            assert all("Peringatan" in x["masalah"] for x in warned), where
        else:  # empty rows are skipped: a file line
            assert own, where
        checked.add(kind)
    assert {"missing_dataset", "misnamed_file", "partial_rows", "extra_file"} <= checked
    assert set(_FILE_FAULTS) <= checked, set(_FILE_FAULTS) - checked


def test_unknown_district_folders_reach_the_province(faulty_run):
    unknown = [
        f for f in faulty_run.result["manifest"]["faults"] if f["kind"] == "unknown_district_folder"
    ]
    assert unknown
    for fault in unknown:
        path = Path(faulty_run.result["data_dir"]) / "reports" / fault["period"] / "umpan-balik"
        with open(path / "tidak-dikenal.csv", encoding="utf-8-sig", newline="") as handle:
            lines = list(csv.DictReader(handle, delimiter=DELIMITER))
        folder = fault["paths"][0].split("/")[1]
        assert any(
            x["berkas"] == folder and x["kode"] == "unknown_district_folder" for x in lines
        ), (fault, lines)


def test_file_line_comes_first_with_an_indonesian_status(faulty_run):
    labels = set(STATUS_LABELS.values())
    for period in PERIODS:
        folder = Path(faulty_run.result["data_dir"]) / "reports" / period / "umpan-balik"
        for path in folder.glob("umpan-balik-*.csv"):
            lines = _feedback(faulty_run, period, path.stem.rsplit("-", 1)[-1])
            seen: set[tuple[str, str]] = set()
            for line in lines:
                assert line["status_berkas"] in labels, line
                key = (line["berkas"], line["versi"])
                if line["baris"]:
                    assert key in seen, ("row line before its file line", line)
                seen.add(key)


def test_no_english_and_no_identifier_reach_the_operator(faulty_run):
    personal = {"nik", "no_kk", "nik_kepala_keluarga"}
    read = 0
    for period in PERIODS:
        folder = Path(faulty_run.result["data_dir"]) / "reports" / period / "umpan-balik"
        for path in folder.glob("umpan-balik-*.csv"):
            text = path.read_text(encoding="utf-8-sig")
            assert not re.search(r"\d{16}", text), path
            assert not re.search(r"\d[.,]\d+E\+\d+", text, re.IGNORECASE), path
            for line in _feedback(faulty_run, period, path.stem.rsplit("-", 1)[-1]):
                for column in ("status_berkas", "masalah", "tindakan"):
                    assert not _ENGLISH.search(line[column]), (column, line)
                if line["kolom"] in personal:
                    assert line["nilai"] == "", line
                read += 1
    assert read > 100


def test_unknown_code_shows_the_value_and_the_allowed_codes(faulty_run):
    found = 0
    for fault in _faults(faulty_run):
        if fault["kind"] != "partial_rows":
            continue
        lines = _feedback(faulty_run, fault["period"], fault["district"])
        for line in _lines_for(lines, fault["paths"]):
            if line["kode"].startswith("unknown_code:"):
                assert line["nilai"] and line["nilai"] in line["masalah"], line
                assert "Gunakan salah satu kode yang diizinkan: " in line["tindakan"], line
                found += 1
            if line["kode"].startswith("out_of_range:"):
                assert " sampai " in line["masalah"], line
    assert found


def test_xlsx_twin_has_a_summary_sheet_and_frozen_header(faulty_run):
    from openpyxl import load_workbook

    period = PERIODS[0]
    folder = Path(faulty_run.result["data_dir"]) / "reports" / period / "umpan-balik"
    csv_path = sorted(folder.glob("umpan-balik-*.csv"))[0]
    book = load_workbook(csv_path.with_suffix(".xlsx"))
    assert book.sheetnames == ["Ringkasan", "Rincian"]
    detail = book["Rincian"]
    assert detail.freeze_panes == "A2"
    lines = _feedback(faulty_run, period, csv_path.stem.rsplit("-", 1)[-1])
    assert detail.max_row == len(lines) + 1
    assert book["Ringkasan"].max_row > 1
    for period in PERIODS:  # the XLSX is a zip: test_pii's text scan cannot see inside it
        folder = Path(faulty_run.result["data_dir"]) / "reports" / period / "umpan-balik"
        for path in folder.glob("*.xlsx"):
            for sheet in load_workbook(path):
                for row in sheet.iter_rows(values_only=True):
                    assert not re.search(r"\d{16}", " ".join(map(str, row))), (path, row)
