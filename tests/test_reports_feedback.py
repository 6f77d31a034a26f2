"""The district feedback builder (sinergi.feedback) on hand-made facts, without a warehouse."""

from __future__ import annotations

import csv
import json

import pytest

from sinergi.feedback import (
    COLUMNS,
    DELIMITER,
    FileFacts,
    OutlierFacts,
    RowFacts,
    describe_identifier,
    district_lines,
    neutralise,
    suggested_name,
    write_csv,
    write_xlsx,
)

NIK = "3578014501900001"


def _rows(dataset, codes, cells_list, version=1):
    return [
        RowFacts(dataset, version, number, codes, json.dumps(cells))
        for number, cells in enumerate(cells_list, start=2)
    ]


def _by_code(lines):
    return {line[8]: line for line in lines}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("penerima-bantuan.csv", ("penerima_bantuan", "penerima_bantuan.csv")),
        ("PSKS.CSV", ("psks", "psks.csv")),
        ("dtks (1).xlsx", ("dtks", "dtks.xlsx")),
        ("data_ppks.csv", ("ppks", "ppks.csv")),
        ("psks_januari.csv", ("psks", "psks.csv")),
        ("ppks.xls", ("ppks", "ppks.xlsx")),
        ("~$ppks.xlsx", None),
        ("catatan.txt", None),
        ("foto.jpg", None),
    ],
)
def test_suggested_name(name, expected):
    assert suggested_name(name) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("3.57801E+15", "notasi ilmiah"),
        ("35780145019", "panjangnya 11 digit"),
        ("35780145O1900001", "selain angka"),
        ("9978014501900001", "kode provinsi"),
        ("3578019901900001", "tanggal lahir"),
        ("", "kosong"),
    ],
)
def test_identifier_shape_is_described_without_the_value(value, says):
    text = describe_identifier(value)
    assert says in text and (not value or value not in text)


def test_neutralise_formula_injection_and_identifiers():
    assert neutralise('=HYPERLINK("http://x")').startswith("'=")
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("-5") == "'-5" and neutralise("+1") == "'+1"
    assert neutralise("AKTIF") == "AKTIF"
    assert neutralise(f"x{NIK}") == "x<16 digits>"


def _penerima(status="PARTIAL", total=10, rejected=3, reason=None, detail=None):
    return FileFacts(
        "penerima_bantuan", 1, "penerima_bantuan.csv", status, reason, detail,
        total, total - rejected, rejected,
    )  # fmt: skip


def test_unknown_code_shows_value_and_allowed_codes_and_never_a_nik():
    rows = _rows(
        "penerima_bantuan",
        "unknown_code:status_salur;invalid_nik",
        [{"status_salur": "TIDAK AKTIF", "nik": "3.57801E+15"}],
    )
    lines, _ = district_lines("3578", "2025-12", [_penerima(rejected=1)], rows, [], False)
    codes = _by_code(lines)
    unknown = codes["unknown_code:status_salur"]
    assert unknown[5] == "TIDAK AKTIF" and "TIDAK AKTIF" in unknown[6]
    assert "GAGAL" in unknown[7] and "SALUR" in unknown[7]
    nik = codes["invalid_nik"]
    assert nik[4] == "nik" and nik[5] == "" and "notasi ilmiah" in nik[6]
    assert "3.57801E+15" not in json.dumps(lines)


def test_file_line_first_then_rows_in_order_and_partial_says_resend_all():
    rows = _rows("penerima_bantuan", "missing_value:tanggal_salur", [{}, {}, {}])
    lines, summary = district_lines("3578", "2025-12", [_penerima()], rows[::-1], [], True)
    assert lines[0][8] == "PARTIAL" and lines[0][2] == "DITERIMA SEBAGIAN"
    assert "3 dari 10 baris ditolak, 7 baris dimuat" in lines[0][6]
    assert "SELURUH berkas" in lines[0][7]
    # the shared cause once (every rejected row misses tanggal_salur), then the rows in order
    assert lines[1][8] == "same_reason_rejected_rows" and lines[1][4] == "tanggal_salur"
    assert [line[3] for line in lines[2:5]] == [2, 3, 4]
    assert summary[0][:2] == ["penerima_bantuan.csv", "DITERIMA SEBAGIAN"]


def test_missing_datasets_and_dtks_carried_forward():
    lines, _ = district_lines("3578", "2025-12", [_penerima()], [], [], True)
    missing = [line for line in lines if line[2] == "TIDAK ADA"]
    assert {line[0] for line in missing} == {"ppks.csv / ppks.xlsx", "psks.csv / psks.xlsx"}
    (dtks,) = [line for line in lines if line[8] == "carried_forward"]
    assert dtks[2] == "INFORMASI" and "tetap berlaku" in dtks[6]
    lines, _ = district_lines("3578", "2025-12", [_penerima()], [], [], False)
    assert any(line[8] == "missing" and "dtks" in line[6] for line in lines)


def test_outliers_are_indonesian_warnings_on_their_file_never_rejections():
    jump = OutlierFacts(
        "penerima_bantuan", "recipients", "PKH", "history", 300.0, 101.0, 1.9703, 4, 100.5, "UP"
    )
    drop = OutlierFacts(
        "penerima_bantuan", "amount_disbursed_idr", "BPNT", "province_change",
        1250000.0, 5000000.0, -0.75, None, 0.02, "DOWN",
    )  # fmt: skip
    other_dataset = OutlierFacts("ppks", "total_count", "PPKS01 LUAR_UPT", "history",
                                 9.0, 1.0, 8.0, 3, 1.0, "UP")  # fmt: skip
    files = [_penerima()]
    lines, summary = district_lines(
        "3578", "2025-12", files, [], [], True, outliers=[jump, drop, other_dataset]
    )
    warned = [line for line in lines if line[8].startswith("outlier:")]
    assert [line[8] for line in warned] == ["outlier:province_change", "outlier:history"]
    assert all(line[2] == "PERINGATAN" and line[0] == "penerima_bantuan.csv" for line in warned)
    assert all("jauh berbeda dari bulan-bulan sebelumnya — mohon periksa kembali" in line[6]
               for line in warned)  # fmt: skip
    history = warned[1]
    assert "jumlah penerima bantuan PKH = 300" in history[6]
    assert "naik; median 100,5 dari 4 bulan" in history[6] and history[4] == "nik"
    province = warned[0]
    assert "nilai bantuan tersalur (Rp) BPNT = 1.250.000" in province[6]
    assert "turun -75,0 % dari bulan lalu (5.000.000)" in province[6]
    assert "median perubahan kabupaten/kota lain +2,0 %" in province[6]
    assert not any("DITOLAK" in line[2] for line in lines)  # warnings, never rejections
    assert lines[0][8] == "PARTIAL"  # the file's own status is unchanged
    assert summary[1][:2] == ["penerima_bantuan.csv", "PERINGATAN"]
    assert "2 angka jauh berbeda" in summary[1][2]
    # ppks was not sent: its outlier (impossible in practice) is not attached anywhere
    assert not any(line[0].startswith("ppks") and line[2] == "PERINGATAN" for line in lines)


def test_misnamed_file_notice_gives_the_right_name():
    notices = [("2025-12/3578/penerima-bantuan.csv", "ignored_file", "not a dataset file")]
    lines, _ = district_lines("3578", "2025-12", [], [], notices, False)
    (line,) = [x for x in lines if x[8] == "ignored_file"]
    assert line[2] == "DIABAIKAN"
    assert "Ganti nama berkas menjadi penerima_bantuan.csv" in line[7]


def test_scientific_notation_is_one_file_level_line():
    cells = [{"nik": f"3.5780{i}E+15", "no_kk": "3.5E+15"} for i in range(5)]
    rows = _rows("penerima_bantuan", "invalid_nik;invalid_kk", cells)
    file = _penerima(status="REJECTED", total=5, rejected=5, reason="too_many_invalid_rows",
                     detail="5 of 5 rows rejected (100.0% > 20%)")  # fmt: skip
    lines, _ = district_lines("3578", "2025-12", [file], rows, [], False)
    assert "5 dari 5 baris (100,0%, batas 20%)" in lines[0][6]
    systemic = [line for line in lines if line[8] == "scientific_notation"]
    assert {line[4] for line in systemic} == {"nik", "no_kk"}
    assert all("sebagai Teks" in line[7] and line[3] == "" for line in systemic)
    assert lines.index(systemic[0]) < min(i for i, x in enumerate(lines) if x[3])


def test_missing_columns_and_unreadable_details_become_indonesian():
    file = FileFacts(
        "psks",
        1,
        "psks.xlsx",
        "REJECTED",
        "missing_columns",
        "missing column(s): jumlah (likely header row 4; no row ...)",
        0,
        0,
        0,
    )
    lines, _ = district_lines("3578", "2025-12", [file], [], [], False)
    assert lines[0][6] == "Kolom wajib tidak ada: jumlah (judul kolom di baris 4)"
    file = FileFacts("psks", 1, "psks.csv", "REJECTED", "unreadable", "file is 0 bytes", 0, 0, 0)
    lines, _ = district_lines("3578", "2025-12", [file], [], [], False)
    assert "0 byte" in lines[0][6] and lines[0][2] == "DITOLAK"


def test_csv_has_bom_semicolons_and_the_xlsx_twin(tmp_path):
    from openpyxl import load_workbook

    lines, summary = district_lines("3578", "2025-12", [_penerima()], [], [], False)
    lines.append(["=cmd", "", "", "", "", "", "", "", "x"])
    path = write_csv(tmp_path / "umpan-balik-3578.csv", lines)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        read = list(csv.reader(handle, delimiter=DELIMITER))
    assert tuple(read[0]) == COLUMNS and read[-1][0] == "'=cmd"
    book = load_workbook(write_xlsx(tmp_path / "f.xlsx", lines, summary))
    assert book.sheetnames == ["Ringkasan", "Rincian"]
    assert book["Rincian"].freeze_panes == "A2"
    assert book["Rincian"].cell(row=len(lines) + 1, column=1).value == "'=cmd"
    # XlsxWriter stores Excel's width with its padding: 80 characters is 80.71
    assert abs(book["Rincian"].column_dimensions["G"].width - 80) < 1
    assert book["Rincian"]["A1"].font.bold
    # a cell that looks like a formula is stored as text
    plain = write_xlsx(tmp_path / "g.xlsx", [["=1+1", 2]], [])
    assert load_workbook(plain)["Rincian"]["A2"].data_type == "s"
    assert book["Rincian"].cell(row=2, column=2).value == 1  # numbers stay numbers


def test_a_partial_file_says_once_when_every_rejected_row_shares_a_cause():
    cells = [{"tanggal_lahir": "31/13/1980"} for _ in range(3)]
    rows = _rows("penerima_bantuan", "invalid_date:tanggal_lahir", cells)
    file = _penerima(status="PARTIAL", total=40, rejected=3)
    lines, _ = district_lines("3578", "2025-12", [file], rows, [], False)
    (systemic,) = [line for line in lines if line[8] == "same_reason_rejected_rows"]
    assert systemic[4] == "tanggal_lahir" and systemic[3] == ""
    assert "3 baris ditolak karena alasan yang sama" in systemic[6]
    assert lines.index(systemic) < min(i for i, x in enumerate(lines) if x[3])
    # different causes in the rejected rows: no file-level line, the rows speak for themselves
    mixed = _rows("penerima_bantuan", "invalid_date:tanggal_lahir", cells[:1]) + _rows(
        "penerima_bantuan", "unknown_code:status_salur", [{"status_salur": "X"}]
    )
    lines, _ = district_lines("3578", "2025-12", [file], mixed, [], False)
    assert not [line for line in lines if line[8].startswith("same_reason")]
