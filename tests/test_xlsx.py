"""The streaming XLSX writer (sinergi.xlsx) against XlsxWriter, the writer it replaced.

The district feedback's XLSX was written with XlsxWriter (constant-memory mode); the same
lines written both ways and read back with openpyxl must give the same sheets, cell values
and types, bold header, frozen row and column widths, edge cases included. Every part must
be well-formed XML in a sound zip.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest

from sinergi import feedback, xlsx
from sinergi.feedback import (
    COLUMNS,
    DELIMITER,
    SUMMARY_COLUMNS,
    FileFacts,
    RowFacts,
    neutralise,
    write_district_feedback,
    write_xlsx,
)

NIK = "3578014501900001"
# Every kind of cell the feedback may hold, and the ones Excel or XML cannot hold as they are.
EDGES = [
    "", None, 0, -7, 12345, 2**40, 12_345_678_901_234_567, True, False,
    "=HYPERLINK(\"http://x\")", "+62 812", "-5", "@SUM(A1)", "\tawal tab", "\rawal CR",
    "&<>\"'", "  spasi  ", " depan", "belakang ", "baris\npertama", "tab\tdi tengah",
    "akhir baris\n", "ctl\x00\x01\x07\x08\x0b\x0c\x0e\x1f.", "CR\r\nLF", "\ufffe\uffff",
    "_x0041_", "A_x00e9_B_X0041_", "_x004", "_x005F_x0041_", f"NIK {NIK} di sel",
    "Kabupaten Sumbawa Barat — “Kecamatan” Taliwang, kode desa tidak dikenal: é ñ ü",
    "Bantuan 😀👍🏽 sudah disalurkan", "x" * 40_000, "😀" * 20_000, "a" * 32_767,
    "a" * 32_766 + "😀", "a" * 32_765 + "😀b",
]  # fmt: skip


def _edge_lines() -> list[list]:
    """Lines of the feedback's nine columns, every edge in every column once."""
    lines = []
    for start in range(len(EDGES)):
        line = [EDGES[(start + column) % len(EDGES)] for column in range(len(COLUMNS))]
        lines.append(line)
    return [*lines, ["berkas.csv", 1, "DITERIMA", 2, "nik", "", "masalah", "", "kode"]]


def _xlsxwriter_feedback(path, lines, files):
    """The reference: the feedback's XLSX as XlsxWriter wrote it before sinergi.xlsx."""
    import xlsxwriter

    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(str(path), options)
    bold = book.add_format({"bold": True})
    for title, header, rows, widths in (
        ("Ringkasan", SUMMARY_COLUMNS, files, (36, 20, 80, 80)),
        ("Rincian", COLUMNS, lines, (36, 7, 20, 8, 24, 28, 80, 80, 30)),
    ):
        sheet = book.add_worksheet(title)
        sheet.freeze_panes(1, 0)
        for index, width in enumerate(widths):
            sheet.set_column(index, index, width)
        sheet.write_row(0, 0, list(header), bold)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if isinstance(value, int) and not isinstance(value, bool):
                    sheet.write_number(number, column, value)
                else:
                    sheet.write_string(number, column, neutralise(value))
    book.close()
    return path


def _widths(sheet) -> dict[int, float]:
    """Column index -> width, ranges (``<col min max>``) spread over their columns."""
    widths = {}
    for dimension in sheet.column_dimensions.values():
        for index in range(dimension.min or 0, (dimension.max or 0) + 1):
            widths[index] = dimension.width
    return widths


def _read(path) -> dict:
    """What a reader sees of the workbook: per sheet, every cell's value, type and bold font,
    the frozen pane and the column widths."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=False)
    return {
        sheet.title: {
            "cells": [
                [(cell.coordinate, cell.value, cell.data_type, cell.font.b) for cell in row]
                for row in sheet.iter_rows()
            ],
            "freeze_panes": sheet.freeze_panes,
            "widths": _widths(sheet),
        }
        for sheet in book
    }


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _xml_cells(path) -> dict[str, list[tuple]]:
    """What the sheets' XML says of each cell, below what openpyxl reads (it ignores
    ``xml:space``): reference, type, style, white-space attribute, text or number."""
    cells = {}
    with zipfile.ZipFile(path) as book:
        for name in sorted(n for n in book.namelist() if n.startswith("xl/worksheets/")):
            root = ET.fromstring(book.read(name))
            cells[name] = [
                (c.get("r"), c.get("t"), c.get("s"), text.get(_SPACE), text.text)
                if (text := c.find(f"{_MAIN}is/{_MAIN}t")) is not None
                else (c.get("r"), c.get("t"), c.get("s"), None, c.findtext(f"{_MAIN}v"))
                for c in root.iter(f"{_MAIN}c")
            ]
    return cells


def _assert_sound(path) -> None:
    """A sound zip whose every part is well-formed XML."""
    with zipfile.ZipFile(path) as book:
        assert book.testzip() is None
        for name in book.namelist():
            ET.fromstring(book.read(name))


def _summary(lines):
    return [[line[0], line[2], line[6], line[7]] for line in lines]


def test_edge_cells_read_back_as_xlsxwriter_wrote_them(tmp_path):
    lines = _edge_lines()
    new = write_xlsx(tmp_path / "new.xlsx", lines, _summary(lines))
    old = _xlsxwriter_feedback(tmp_path / "old.xlsx", lines, _summary(lines))
    _assert_sound(new)
    read = _read(new)
    assert read == _read(old)
    assert _xml_cells(new) == _xml_cells(old)
    assert list(read) == ["Ringkasan", "Rincian"]
    detail = read["Rincian"]
    assert detail["freeze_panes"] == "A2"
    assert [bold for *_, bold in detail["cells"][0]] == [True] * len(COLUMNS)
    assert not any(bold for row in detail["cells"][1:] for *_, bold in row)
    assert detail["widths"][7] == 80.7109375  # XlsxWriter's padded width of 80 characters


@pytest.mark.parametrize("edge", EDGES, ids=lambda edge: repr(edge)[:24])
def test_each_edge_alone_is_written_as_xlsxwriter_wrote_it(tmp_path, edge):
    """Alone in its workbook: no other cell of the chunk sends it through Excel's escaping."""
    lines = [["plain", 1, edge, 2, "", "", "", "", "k"]]
    new = write_xlsx(tmp_path / "new.xlsx", lines, [])
    old = _xlsxwriter_feedback(tmp_path / "old.xlsx", lines, [])
    _assert_sound(new)
    assert _read(new) == _read(old)
    assert _xml_cells(new) == _xml_cells(old)


def test_cells_keep_their_type_and_escapes(tmp_path):
    lines = [["=1+1", -3, True, None, "_x0041_", "a\x01b", "x" * 40_000, 0, " s "]]
    cells = _read(write_xlsx(tmp_path / "f.xlsx", lines, []))["Rincian"]["cells"][1]
    values = [value for _, value, _, _ in cells]
    assert values == ["'=1+1", -3, "True", "", "_x005F_x0041_", "a_x0001_b", "x" * 32_767, 0, " s "]
    assert [kind for _, _, kind, _ in cells] == ["s", "n", "s", "s", "s", "s", "s", "n", "s"]


def test_every_chunk_of_rows_is_escaped_like_the_first(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "_CHUNK_ROWS", 3)
    lines = [["plain", 1, "text", 2, "", "", "", "", "k"]] * 4 + _edge_lines()
    new = write_xlsx(tmp_path / "new.xlsx", lines, [])
    assert _read(new) == _read(_xlsxwriter_feedback(tmp_path / "old.xlsx", lines, []))


def test_a_workbook_is_sound_and_the_same_bytes_each_time(tmp_path):
    sheets = [xlsx.Sheet("Satu & <dua>", ("a", "b"), [["x", 1]], (10, 12)), xlsx.Sheet("B", (), [])]
    first = xlsx.write_workbook(tmp_path / "a.xlsx", sheets)
    second = xlsx.write_workbook(tmp_path / "b.xlsx", sheets)
    _assert_sound(first)
    assert first.read_bytes() == second.read_bytes()
    assert list(_read(first)) == ["Satu & <dua>", "B"]


def test_rich_text_markup_is_text_here(tmp_path):
    # XlsxWriter writes a string "<r>...</r>" as raw rich-text XML; here it stays text.
    path = xlsx.write_workbook(tmp_path / "r.xlsx", [xlsx.Sheet("S", ("h",), [["<r>x</r>"]])])
    _assert_sound(path)
    assert _read(path)["S"]["cells"][1][0][1] == "<r>x</r>"


@pytest.mark.parametrize("title", ["", "x" * 32, "a/b", "[x]", "'x", "x'", "S"])
def test_a_title_excel_would_repair_is_refused(tmp_path, title):
    sheets = [xlsx.Sheet(title, (), []), xlsx.Sheet("s", (), [])]
    with pytest.raises(ValueError, match="sheet name"):
        xlsx.write_workbook(tmp_path / "x.xlsx", sheets)


def test_a_cell_neither_int_nor_text_is_refused(tmp_path):
    with pytest.raises(TypeError):
        xlsx.write_workbook(tmp_path / "x.xlsx", [xlsx.Sheet("S", ("h",), [[True]])])


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (8, "I"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letter(index, letters):
    assert xlsx.column_letter(index) == letters


def _old_csv(path, lines):
    """The reference CSV: each cell neutralised as the CSV writes it (before, per file)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle, delimiter=DELIMITER)
        out.writerow(COLUMNS)
        out.writerows([neutralise(cell) for cell in line] for line in lines)
    return path


def test_csv_of_edge_cells_is_as_before(tmp_path):
    """A number is neutralised in the CSV (``-7`` is ``'-7``) though the XLSX keeps it."""
    lines = _edge_lines()
    new = feedback.write_csv(tmp_path / "new.csv", lines)
    assert new.read_bytes() == _old_csv(tmp_path / "old.csv", lines).read_bytes()
    assert "'-7" in new.read_text(encoding="utf-8-sig")


def test_district_feedback_csv_and_xlsx_are_as_before(tmp_path):
    """One neutralise per cell for both files: the same bytes and cells as one per file."""
    file = FileFacts("penerima_bantuan", 1, "penerima_bantuan.csv", "PARTIAL", None, None,
                     6, 3, 3)  # fmt: skip
    cells = [{"nik": NIK, "tanggal_lahir": "=31/02/1990"}, {"tanggal_lahir": "-1"}] * 2
    rows = [RowFacts("penerima_bantuan", 1, n, "invalid_nik;invalid_date:tanggal_lahir",
                     json.dumps(c)) for n, c in enumerate(cells, start=2)]  # fmt: skip
    facts = ("3578", "2025-12", [file], rows, [("3578/x.txt", "ignored_file", "")], False)
    path = write_district_feedback(tmp_path, *facts)
    lines, summary = feedback.district_lines(*facts)
    assert path.read_bytes() == _old_csv(tmp_path / "old.csv", lines).read_bytes()
    assert NIK not in path.read_text(encoding="utf-8-sig")
    old = _xlsxwriter_feedback(tmp_path / "old.xlsx", lines, summary)
    assert _read(path.with_suffix(".xlsx")) == _read(old)
    assert _xml_cells(path.with_suffix(".xlsx")) == _xml_cells(old)
