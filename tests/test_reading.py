"""Tests of the file reader (contract §2 file decoding, §3 file-level outcomes, §7 rows_total).

Every file is generated here in ``tmp_path``: CSVs as exact bytes (so encodings, BOMs and line
endings are what the test says), XLSX with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import pickle
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from sinergi.limits import InputLimits
from sinergi.reading import (
    UNREADABLE_CAUSES,
    FileRejected,
    OpenedTable,
    file_format_of,
    normalise_header,
    open_table,
    unreadable,
)

PSKS = ["periode", "kode_kabkota", "kode_psks", "jumlah"]


def write_bytes(tmp_path: Path, data: bytes, name: str = "psks.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_xlsx(tmp_path: Path, rows: Sequence[Sequence[Any]], name: str = "psks.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    path = tmp_path / name
    workbook.save(path)
    return path


def patch_sheet(path: Path, replacements: dict[str, str]) -> None:
    """Rewrite text in the first sheet's XML: stores cell values as other writers store them."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for old, new in replacements.items():
        assert old in xml
        xml = xml.replace(old, new)
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def read_all(table: OpenedTable, chunk_rows: int = 200_000) -> pd.DataFrame:
    chunks = list(table.chunks(chunk_rows))
    if not chunks:
        return pd.DataFrame()
    return pd.concat(chunks, ignore_index=True)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with plain Python values (row_number as int)."""
    out = []
    for row in frame.to_dict("records"):
        row["row_number"] = int(row["row_number"])
        out.append(row)
    return out


def rejected(path: Path, required: Sequence[str] = PSKS) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        open_table(path, required)
    return info.value


# -- header normalisation / formats --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jumlah Laki-Laki", "jumlah_laki_laki"),
        (" KODE KAB/KOTA ", "kode_kab_kota"),
        ("No. KK", "no_kk"),
        ("__nik__", "nik"),
        ("kode_desa", "kode_desa"),
        ("Tanggal  Lahir (DD/MM/YYYY)", "tanggal_lahir_dd_mm_yyyy"),
        ("", ""),
    ],
)
def test_normalise_header(raw: str, expected: str) -> None:
    assert normalise_header(raw) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ppks.csv", "csv"), ("PPKS.CSV", "csv"), ("dtks.XlSx", "xlsx"), ("a.xls", None), ("b", None)],
)
def test_file_format_of(name: str, expected: str | None) -> None:
    assert file_format_of(Path(name)) == expected


# -- CSV decoding --------------------------------------------------------------------------


def test_utf8_csv_cells_are_trimmed_strings_and_empty_is_none(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path,
        b"periode,kode_kabkota,kode_psks,jumlah\n"
        b"2025-01, 3578 ,PSM,\xc2\xa012\xc2\xa0\n"  # NBSP around 12, as Excel exports leave it
        b"2025-01,3578,  ,NA\n",
    )
    table = open_table(path, PSKS)
    assert (table.file_format, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
    assert table.columns == PSKS
    assert table.extra_columns == []
    assert table.header_row == 1
    frame = read_all(table)
    assert list(frame.columns) == [*PSKS, "row_number"]
    assert all(frame[c].dtype == object for c in PSKS)
    assert frame["row_number"].dtype == np.int64
    assert records(frame) == [
        {"periode": "2025-01", "kode_kabkota": "3578", "kode_psks": "PSM", "jumlah": "12",
         "row_number": 2},
        {"periode": "2025-01", "kode_kabkota": "3578", "kode_psks": None, "jumlah": "NA",
         "row_number": 3},
    ]  # fmt: skip
    assert frame.loc[1, "kode_psks"] is None  # None, not NaN / pd.NA / ""


def test_utf8_bom_is_removed_from_first_header(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path, b"\xef\xbb\xbfperiode,kode_kabkota,kode_psks,jumlah\n2025-01,3578,PSM,1\n"
    )
    table = open_table(path, PSKS)
    assert table.encoding == "utf-8-sig"
    assert table.columns[0] == "periode"
    assert read_all(table).loc[0, "periode"] == "2025-01"


def test_windows_1252_when_not_valid_utf8(tmp_path: Path) -> None:
    data = "periode;kode_kabkota;kode_psks;jumlah;keterangan\n2025-01;3578;PSM;1;José – ok\n"
    path = write_bytes(tmp_path, data.encode("cp1252"))
    assert b"\xe9" in path.read_bytes()
    table = open_table(path, PSKS)
    assert table.encoding == "cp1252"
    assert table.extra_columns == ["keterangan"]
    frame = read_all(table)
    assert frame.loc[0, "kode_psks"] == "PSM"


def test_windows_1252_values_are_decoded(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path, "periode,kode_kabkota,kode_psks,jumlah\n2025-01,3578,Café,1\n".encode("cp1252")
    )
    table = open_table(path, PSKS)
    assert table.encoding == "cp1252"
    assert read_all(table).loc[0, "kode_psks"] == "Café"


def test_byte_undefined_in_windows_1252_is_unreadable(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"periode,kode_kabkota,kode_psks,jumlah\n2025-01,3578,P\x81,1\n")
    error = rejected(path)
    assert error.reason == "unreadable"
    assert "0x81" in error.detail
    assert error.rows_total == 0


def test_semicolon_delimiter_with_commas_in_values(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path, b"Periode;Kode KabKota;Kode PSKS;Jumlah\r\n2025-01;3578;PSM;1,5\r\n"
    )
    table = open_table(path, PSKS)
    assert table.delimiter == ";"
    assert records(read_all(table)) == [
        {"periode": "2025-01", "kode_kabkota": "3578", "kode_psks": "PSM", "jumlah": "1,5",
         "row_number": 2}
    ]  # fmt: skip


def test_delimiter_inside_quoted_header_name_does_not_count(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path, b'periode;kode_kabkota;kode_psks;jumlah;"catatan, lain"\n2025-01;3578;PSM;2;x\n'
    )
    table = open_table(path, PSKS)
    assert table.delimiter == ";"
    assert table.extra_columns == ["catatan_lain"]


def test_semicolons_inside_quotes_do_not_choose_the_delimiter(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b'nama,"alamat; rt; rw; desa"\nBudi,"Jl. A; 1; 2; X"\n')
    error = rejected(path)
    assert error.reason == "missing_columns"
    assert "delimiter ','" in error.detail
    assert error.rows_total == 1


def test_quoted_fields_with_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path,
        b"periode,kode_kabkota,kode_psks,jumlah,keterangan\n"
        b'2025-01,3578,PSM,1,"Jl. Mawar, No. 5"\n'
        b'2025-01,3578,WKSBM,2,"baris satu\nbaris ""dua"""\n'
        b"2025-01,3578,LK3,3,\n",
    )
    frame = read_all(open_table(path, [*PSKS, "keterangan"]))
    assert frame["keterangan"].tolist() == ["Jl. Mawar, No. 5", 'baris satu\nbaris "dua"', None]
    # Record numbers: the quoted line break does not start a new row (as in Excel).
    assert frame["row_number"].tolist() == [2, 3, 4]


def test_extra_and_duplicate_columns_are_reported_and_dropped(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path,
        b"Periode,Kode_KabKota,Kode PSKS,Catatan,Jumlah,JUMLAH ,\n2025-01,3578,PSM,x,7,8,\n",
    )
    table = open_table(path, PSKS)
    assert table.extra_columns == ["catatan", "jumlah"]
    frame = read_all(table)
    assert list(frame.columns) == [*PSKS, "row_number"]
    assert frame.loc[0, "jumlah"] == "7"  # the leftmost of two same-named columns


def test_optional_columns_present_or_absent(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path, b"periode,kode_kabkota,kode_psks,jumlah,catatan\n2025-01,3578,PSM,1,x\n"
    )
    table = open_table(path, PSKS, optional=["catatan", "nilai"])
    assert table.extra_columns == []
    frame = read_all(table)
    assert frame.loc[0, "catatan"] == "x"
    assert frame.loc[0, "nilai"] is None


def test_missing_columns_counts_data_rows(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path,
        b"periode,kode_psks,jumlah\n2025-01,PSM,1\n\n2025-01,LK3,2\n,,\n2025-01,WKSBM,3\n",
    )
    error = rejected(path, ["periode", "kode_kabkota", "kode_psks", "jumlah", "nik"])
    assert error.reason == "missing_columns"
    assert "kode_kabkota, nik" in error.detail
    assert error.rows_total == 3  # blank rows are not data rows


def test_csv_title_line_is_not_skipped(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path,
        b"LAPORAN PSKS JANUARI\nperiode,kode_kabkota,kode_psks,jumlah\n2025-01,3578,PSM,1\n",
    )
    error = rejected(path)
    assert error.reason == "missing_columns"
    assert error.rows_total == 2


def test_zero_bytes_is_unreadable(tmp_path: Path) -> None:
    for name in ("psks.csv", "psks.xlsx"):
        error = rejected(write_bytes(tmp_path, b"", name))
        assert (error.reason, error.detail, error.rows_total) == (
            "unreadable",
            "file is 0 bytes",
            0,
        )


def test_nul_byte_is_unreadable(tmp_path: Path) -> None:
    data = b"periode,kode_kabkota,kode_psks,jumlah\n2025-01,35\x0078,PSM,1\n"
    error = rejected(write_bytes(tmp_path, data))
    assert error.reason == "unreadable"
    assert f"NUL byte at offset {data.index(0)}" in error.detail


def test_utf16_export_is_unreadable_with_a_hint(tmp_path: Path) -> None:
    text = "periode,kode_kabkota,kode_psks,jumlah\r\n2025-01,3578,PSM,1\r\n"
    error = rejected(write_bytes(tmp_path, text.encode("utf-16")))
    assert error.reason == "unreadable"
    assert "UTF-16" in error.detail


def test_unclosed_quote_is_unreadable_before_any_row_is_read(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path,
        b"periode,kode_kabkota,kode_psks,jumlah\n"
        + b"2025-01,3578,PSM,1\n" * 2500  # past the reader's look-ahead for the first data row
        + b'2025-01,3578,"LK3,2\n'
        + b"2025-01,3578,PSM,1\n" * 50,
    )
    error = rejected(path)
    assert error.reason == "unreadable"
    assert "row 2502" in error.detail
    assert "never closed" in error.detail


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_text_after_a_closing_quote_is_unreadable(tmp_path: Path, delimiter: str) -> None:
    """Decision 20: RFC 4180 allows nothing between a closing quote and the delimiter."""
    lines = [
        ["periode", "kode_kabkota", "kode_psks", "jumlah"],
        ["2025-01", "3578", "PSM", "1"],
        ["2025-01", "3578", '"PSKS01"x', "5"],
    ]
    path = write_bytes(tmp_path, "".join(delimiter.join(c) + "\n" for c in lines).encode())
    error = rejected(path)
    assert error.reason == "unreadable"
    assert "row 3" in error.detail
    assert "quoted cell is followed by other characters" in error.detail


def test_quoted_cells_that_follow_rfc_4180_are_readable(tmp_path: Path) -> None:
    """The strict pass must not reject what RFC 4180 allows (escaped quotes, delimiters and
    line breaks inside quotes); a quote inside an unquoted cell stays text, as in Excel."""
    path = write_bytes(
        tmp_path,
        b'periode,kode_kabkota,kode_psks,jumlah\n2025-01,3578,"PS""M, x\ny",1\n2025-01,35"78,B,2\n',
    )
    frame = read_all(open_table(path, ["periode", "kode_kabkota", "kode_psks", "jumlah"]))
    assert frame["kode_psks"].tolist() == ['PS"M, x\ny', "B"]
    assert frame["kode_kabkota"].tolist() == ["3578", '35"78']


@pytest.mark.parametrize(
    "body",
    [b"", b"\n\n", b"\r\n \r\n,,,\r\n", b' ,"", \t,\n,,,,,,\n'],
    ids=["header-only", "blank-lines", "blank-and-whitespace-rows", "empty-quoted-and-surplus"],
)
def test_header_without_data_rows_is_empty(tmp_path: Path, body: bytes) -> None:
    path = write_bytes(tmp_path, b"periode,kode_kabkota,kode_psks,jumlah\n" + body)
    error = rejected(path)
    assert (error.reason, error.rows_total) == ("empty", 0)


def test_blank_rows_are_skipped_and_row_numbers_stay_physical(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path,
        b"periode,kode_kabkota,kode_psks,jumlah,catatan\n"
        b"\n"
        b"2025-01,3578,PSM,1,\n"
        b" , , , , \n"
        b",,,,only a note\n"
        b"\n"
        b"2025-01,3578,LK3,2,\n"
        b"\n",
    )
    table = open_table(path, PSKS)
    frame = read_all(table)
    # The row with only an extra column filled is not empty: it is kept (and will be rejected).
    assert frame["row_number"].tolist() == [3, 5, 7]
    assert frame["kode_psks"].tolist() == ["PSM", None, "LK3"]
    assert table.count_data_rows() == 3


def test_ragged_rows(tmp_path: Path) -> None:
    path = write_bytes(
        tmp_path,
        b"periode,kode_kabkota,kode_psks,jumlah\n"
        b"2025-01,3578,PSM,1,surplus,fields\n"  # longer than the header, as the first data row
        b"2025-01,3578\n"  # shorter: trailing cells are missing
        b"2025-01,3578,LK3,2\n",
    )
    assert records(read_all(open_table(path, PSKS))) == [
        {"periode": "2025-01", "kode_kabkota": "3578", "kode_psks": "PSM", "jumlah": "1",
         "row_number": 2},
        {"periode": "2025-01", "kode_kabkota": "3578", "kode_psks": None, "jumlah": None,
         "row_number": 3},
        {"periode": "2025-01", "kode_kabkota": "3578", "kode_psks": "LK3", "jumlah": "2",
         "row_number": 4},
    ]  # fmt: skip


def test_csv_chunks_cover_every_row_across_boundaries(tmp_path: Path) -> None:
    lines = [b"periode,kode_kabkota,kode_psks,jumlah"]
    for i in range(1, 10):
        lines.append(b"" if i in (3, 4) else b"2025-01,3578,P%d,%d" % (i, i))
    path = write_bytes(tmp_path, b"\r\n".join(lines) + b"\r\n")
    chunks = list(open_table(path, PSKS).chunks(chunk_rows=2))
    assert all(0 < len(c) <= 2 for c in chunks)
    assert all(c.index.tolist() == list(range(len(c))) for c in chunks)
    frame = pd.concat(chunks, ignore_index=True)
    assert frame["row_number"].tolist() == [2, 3, 6, 7, 8, 9, 10]
    assert frame["kode_psks"].tolist() == ["P1", "P2", "P5", "P6", "P7", "P8", "P9"]


def test_file_rejected_is_picklable() -> None:
    error = pickle.loads(pickle.dumps(FileRejected("missing_columns", "missing column(s): nik", 3)))
    assert (error.reason, error.detail, error.rows_total) == (
        "missing_columns",
        "missing column(s): nik",
        3,
    )
    error = pickle.loads(pickle.dumps(unreadable("nul", "NUL byte at offset 3")))
    assert (error.reason, error.params) == ("unreadable", {"cause": "nul"})


# -- structured params of a rejection (the feedback reads these, not the detail) ----------


def test_missing_columns_params_name_the_columns_and_the_header_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"periode,kode_psks,jumlah\n2025-01,PSM,1\n")
    error = rejected(path, ["periode", "kode_kabkota", "kode_psks", "jumlah", "nik"])
    assert error.params == {"columns": ["kode_kabkota", "nik"], "header_row": 1}


def _limits_over_columns(tmp_path: Path) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        open_table(
            write_bytes(tmp_path, b"periode,kode_kabkota,kode_psks,jumlah\n2025-01,3578,P,1\n"),
            PSKS,
            limits=InputLimits(max_columns=2),
        )
    return info.value


@pytest.mark.parametrize(
    ("cause", "make"),
    [
        ("zero_bytes", lambda tmp: rejected(write_bytes(tmp, b""))),
        ("zero_bytes", lambda tmp: rejected(write_bytes(tmp, b"", "psks.xlsx"))),
        ("nul", lambda tmp: rejected(write_bytes(tmp, b"periode,kode\x00\n"))),
        ("encoding", lambda tmp: rejected(write_bytes(tmp, b"periode,kode_kabkota\n\x81\n"))),
        (
            "csv",
            lambda tmp: rejected(
                write_bytes(tmp, b'periode,kode_kabkota,kode_psks,jumlah\n2025-01,3578,"P,1\n')
            ),
        ),
        ("xlsx", lambda tmp: rejected(write_bytes(tmp, b"not a zip", "psks.xlsx"))),
        ("limit", _limits_over_columns),
    ],
)
def test_unreadable_says_its_cause_as_a_key(tmp_path: Path, cause: str, make) -> None:
    error = make(tmp_path)
    assert (error.reason, error.params) == ("unreadable", {"cause": cause})
    assert cause in UNREADABLE_CAUSES


def test_a_cause_key_outside_the_list_is_a_caller_bug() -> None:
    with pytest.raises(ValueError, match="unknown unreadable cause"):
        unreadable("broken", "x")


# -- XLSX ----------------------------------------------------------------------------------

PB = ["periode", "kode_kabkota", "nik", "tanggal_lahir", "nilai_bantuan"]
PB_HEADER = ["Periode", "Kode KabKota", "NIK", "Tanggal Lahir", "Nilai Bantuan"]


def test_xlsx_title_rows_above_header(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            ["DAFTAR PENERIMA BANTUAN"],
            ["Periode", "Januari 2025"],  # holds one required name: not the header
            [*PB_HEADER, "Keterangan"],
            ["2025-01", "3578", "3578014501900001", "1990-05-05", "600.000", "ok"],
            [None, None, "   ", None],
            ["2025-01", "3578", "3578010101900002", "01/01/1990", None, None],
        ],
    )
    table = open_table(path, PB)
    assert (table.file_format, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert table.header_row == 3
    assert table.columns == [*PB, "keterangan"]
    assert table.extra_columns == ["keterangan"]
    frame = read_all(table)
    assert frame["row_number"].tolist() == [4, 6]
    assert frame.loc[0, "nilai_bantuan"] == "600.000"
    assert frame.loc[1, "nilai_bantuan"] is None
    assert all(frame[c].dtype == object for c in PB)


def test_xlsx_typed_cells_become_the_text_the_district_meant(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            [*PB_HEADER, "Aktif", "Rata"],
            ["2025-01", 3578, 3578014501900001.0, dt.date(1990, 5, 5), 600000, True, 12.5],
            [
                "2025-01",
                3578.0,
                3578014501900002,
                dt.datetime(1990, 5, 6, 13, 30),
                0.1 * 3 * 2e6,
                False,
                0.5,
            ],
        ],  # fmt: skip
    )
    frame = read_all(open_table(path, [*PB, "aktif", "rata"]))
    assert records(frame) == [
        {"periode": "2025-01", "kode_kabkota": "3578", "nik": "3578014501900001",
         "tanggal_lahir": "1990-05-05", "nilai_bantuan": "600000", "aktif": "TRUE",
         "rata": "12.5", "row_number": 2},
        {"periode": "2025-01", "kode_kabkota": "3578", "nik": "3578014501900002",
         "tanggal_lahir": "1990-05-06", "nilai_bantuan": "600000.0000000001",
         "aktif": "FALSE", "rata": "0.5", "row_number": 3},
    ]  # fmt: skip
    # Decision 21: a float a hair off an integer is not "integral" and must not be rounded
    # into one (Excel would display 600000; the rules then call it invalid_integer).


def test_xlsx_numbers_stored_as_floats(tmp_path: Path) -> None:
    """Excel may store a 16-digit NIK as ``3.578014501900001E+15``; openpyxl reads a float."""
    path = write_xlsx(tmp_path, [PB_HEADER, ["2025-01", 3578, 111, "x", 222]])
    patch_sheet(path, {"<v>111</v>": "<v>3.578014501900001E+15</v>", "<v>222</v>": "<v>6E5</v>"})
    frame = read_all(open_table(path, PB))
    assert frame.loc[0, "nik"] == "3578014501900001"
    assert frame.loc[0, "nilai_bantuan"] == "600000"


def test_xlsx_header_beyond_row_10_is_not_found(tmp_path: Path) -> None:
    rows: list[list[Any]] = [[f"judul {i}"] for i in range(10)]
    path = write_xlsx(tmp_path, [*rows, PB_HEADER, ["2025-01", "3578", "1", "2", "3"]])
    error = rejected(path, PB)
    assert (error.reason, error.rows_total) == ("missing_columns", 0)
    assert "no header row" in error.detail
    assert error.params == {"columns": PB, "header_row": None}  # no row holds them all


def test_xlsx_header_missing_a_column_finds_no_header(tmp_path: Path) -> None:
    """Literal §2/§7: the XLSX header holds every required column, so none is found here."""
    path = write_xlsx(
        tmp_path,
        [
            ["judul"],
            ["Periode", "Kode KabKota", "NIK", "Tgl Lahir", "Nilai Bantuan"],
            ["2025-01", "3578", "1", "2", "3"],
            [],
            ["2025-01", "3578", "1", "2", "3"],
        ],
    )
    error = rejected(path, PB)
    assert error.reason == "missing_columns"
    assert "tanggal_lahir" in error.detail
    assert "row 2" in error.detail
    assert error.rows_total == 0
    assert error.params == {"columns": ["tanggal_lahir"], "header_row": 2}


def test_xlsx_blank_sheet_has_no_header(tmp_path: Path) -> None:
    error = rejected(write_xlsx(tmp_path, []), PB)
    assert (error.reason, error.rows_total) == ("missing_columns", 0)


def test_xlsx_header_only_is_empty(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [["judul"], PB_HEADER, [None, " "], []])
    error = rejected(path, PB)
    assert (error.reason, error.rows_total) == ("empty", 0)


def test_xlsx_reads_only_the_first_worksheet(tmp_path: Path) -> None:
    workbook = Workbook()
    first = workbook.active
    first.append(PB_HEADER)
    first.append(["2025-01", "3578", "1", "2", "3"])
    second = workbook.create_sheet("lain")
    second.append(PB_HEADER)
    for _ in range(5):
        second.append(["2025-02", "3578", "1", "2", "3"])
    path = tmp_path / "pb.xlsx"
    workbook.save(path)
    frame = read_all(open_table(path, PB))
    assert frame["periode"].tolist() == ["2025-01"]


def test_xlsx_chunks_cover_every_row_across_boundaries(tmp_path: Path) -> None:
    rows: list[list[Any]] = [["judul"], PB_HEADER]
    for i in range(3, 12):
        rows.append([] if i in (5, 6) else ["2025-01", "3578", str(i), "x", "y"])
    chunks = list(open_table(write_xlsx(tmp_path, rows), PB).chunks(chunk_rows=2))
    assert [len(c) for c in chunks] == [2, 2, 2, 1]
    frame = pd.concat(chunks, ignore_index=True)
    assert frame["row_number"].tolist() == [3, 4, 7, 8, 9, 10, 11]
    assert frame["nik"].tolist() == ["3", "4", "7", "8", "9", "10", "11"]


def test_not_a_zip_xlsx_is_unreadable(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"periode,kode_kabkota\n2025-01,3578\n", "pb.xlsx")
    error = rejected(path, PB)
    assert error.reason == "unreadable"
    assert error.detail.startswith("not valid XLSX")
    assert error.rows_total == 0


def test_zip_without_workbook_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "pb.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    error = rejected(path, PB)
    assert error.reason == "unreadable"
    assert error.detail.startswith("not valid XLSX")


def test_uppercase_extension_is_read(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path, [PB_HEADER, ["2025-01", "3578", "1", "2", "3"]], "PB.XLSX")
    assert read_all(open_table(path, PB))["row_number"].tolist() == [2]


def test_required_names_must_be_normalised(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"periode\n2025-01\n")
    with pytest.raises(ValueError):
        open_table(path, ["Periode"])
