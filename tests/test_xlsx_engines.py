"""XLSX read by python-calamine or openpyxl (sinergi.reading): the same rows either way.

open_table's byte scan (``_SheetScan``) lets calamine read a sheet only where its values
equal openpyxl's. The differential tests read each file both ways (``_xlsx_engine`` forced)
and require the same rows, values, row numbers and rejections; the routing tests build one
file per case the scan must leave to openpyxl, check that it does, that the result is
openpyxl's, and (where calamine would differ) that calamine forced on it really differs,
so the route is needed. Small block sizes (``_SCAN_BLOCK``) make every case cross the
scan's block boundaries too.
"""

from __future__ import annotations

import datetime as dt
import sys
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook

from sinergi import reading
from sinergi.datasets import SPECS
from sinergi.limits import InputLimits
from sinergi.reading import CALAMINE, OPENPYXL, FileRejected, OpenedTable, open_table
from sinergi.synthetic import generate_inbox
from sinergi.synthetic.hostile import shared_strings_workbook

PB = ["periode", "kode_kabkota", "nik", "tanggal_lahir", "nilai_bantuan"]
PB_HEADER = ["Periode", "Kode KabKota", "NIK", "Tanggal Lahir", "Nilai Bantuan"]
PSKS = ["periode", "kode_kabkota", "kode_psks", "jumlah"]

#: the default block, one small enough that every test sheet spans several blocks, and one
#: that cuts inside most tags' neighbourhoods
BLOCKS = [reading._SCAN_BLOCK, 4_096, 300]


@pytest.fixture(params=BLOCKS, ids=lambda size: f"block{size}")
def block(request, monkeypatch) -> int:
    monkeypatch.setattr(reading, "_SCAN_BLOCK", request.param)
    return request.param


def write_xlsx(path: Path, rows: list[list[Any]], number_format: str | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if number_format:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    cell.number_format = number_format
    book.save(path)
    return path


def write_shared(path: Path, rows: list[list[Any]]) -> Path:
    """Text in the shared strings, every cell with r=, as Excel writes (XlsxWriter)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    return path


def patch_part(path: Path, replacements: dict[str, str], part="xl/worksheets/sheet1.xml"):
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    text = parts[part].decode()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    parts[part] = text.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def read(table: OpenedTable, engine: str, chunk_rows: int = 200_000):
    """All chunks with ``engine`` forced: (rows as records, or the rejection) and the reader
    that produced them."""
    table._xlsx_engine = engine
    try:
        frames = list(table.chunks(chunk_rows))
    except FileRejected as exc:
        return ("rejected", exc.reason, exc.detail, exc.params), table._xlsx_read_by
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame.to_dict("records"), table._xlsx_read_by


def both(path: Path, required=PB, optional=()) -> tuple[OpenedTable, Any, Any]:
    """open_table, then the rows as openpyxl and as calamine read them."""
    table = open_table(path, required, optional)
    chosen = table._xlsx_engine
    expected, by = read(table, OPENPYXL)
    assert by == OPENPYXL
    got, by = read(table, CALAMINE)
    table._xlsx_engine = chosen
    return table, expected, (got, by)


def scan_of(path: Path) -> reading._SheetScan:
    return reading._check_xlsx_archive(path, InputLimits())


# -- differential: files calamine reads --------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    """The synthetic generator's XLSX files, faults included (three small months)."""
    out = tmp_path_factory.mktemp("inbox")
    generate_inbox(out, ["2025-01", "2025-02", "2025-03"], seed=7, scale=0.01, faults=True)
    return sorted(p for p in out.rglob("*") if p.suffix.lower() == ".xlsx")


def test_generated_xlsx_files_read_the_same_by_both_engines(generated):
    chosen = []
    for path in generated:
        spec = SPECS[path.stem.lower()]
        try:
            table, expected, (got, by) = both(path, spec.required, spec.optional)
        except FileRejected:
            continue  # rejected by open_table, before any engine is chosen
        chosen.append(table._xlsx_engine)
        assert by == CALAMINE, path
        assert got == expected, path
        # and in small chunks: same rows, same row numbers
        assert read(table, CALAMINE, chunk_rows=7)[0] == expected, path
    assert len(chosen) >= 30
    assert set(chosen) == {CALAMINE}  # no generated file needs openpyxl


def test_typed_cells_read_the_same(tmp_path, block):
    path = write_xlsx(
        tmp_path / "pb.xlsx",
        [
            [*PB_HEADER, "Aktif", "Rata", "Catatan"],
            ["2025-01", 3578, 3578014501900001, dt.date(1990, 5, 5), 600000, True, 12.5, ""],
            [
                "2025-01",
                3578.0,
                "3578014501900002",
                dt.datetime(1990, 5, 6, 13, 30),
                6e5,
                False,
                0.1 * 3,
                "  ",
            ],
            ["2025-01", "3578", 8999999999999999, dt.datetime(1899, 12, 31), 2.0, None, -3, "x"],
            ["2025-01", 3578, "0012", dt.time(12, 30), 1e20, 1, 1e-7, "_"],
            [
                "2025-01",
                3578,
                3.578014501900001e15,
                dt.date(1900, 2, 28),
                123456789012.0,
                0,
                0.5,
                "a=b",
            ],
        ],  # fmt: skip
    )
    table, expected, (got, by) = both(path, [*PB, "aktif", "rata", "catatan"])
    assert table._xlsx_engine == CALAMINE
    assert by == CALAMINE
    assert got == expected
    assert [r["row_number"] for r in expected] == [2, 3, 4, 5, 6]
    assert [r["nik"] for r in expected] == [
        "3578014501900001", "3578014501900002", "8999999999999999", "0012", "3578014501900001",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "number_format",
    ["dd/mm/yyyy", "yyyy-mm-dd hh:mm", "hh:mm:ss", "[h]:mm:ss", '"Tgl "dd/mm/yyyy', "mmm-yy",
     "0.00", "#,##0;[Red]-#,##0", "@", "General"],
)  # fmt: skip
def test_number_formats_and_date_serials_read_the_same(tmp_path, number_format):
    """Serials of every kind under date, time and number formats (0, fractions, the 1900
    leap-year bug's 59-61, the last day of 9999)."""
    serials = [0, 0.25, 0.5, 1, 1.5, 59, 59.9999999, 60, 60.5, 61, 45000.99999999, 999999]
    rows = [[*PB_HEADER]] + [["2025-01", 3578, "1", s, s] for s in serials]
    path = write_xlsx(tmp_path / "pb.xlsx", rows, number_format)
    table, expected, (got, by) = both(path)
    assert (table._xlsx_engine, by) == (CALAMINE, CALAMINE)
    assert got == expected


def test_leading_blank_rows_and_columns_read_the_same(tmp_path, block):
    path = write_xlsx(
        tmp_path / "pb.xlsx",
        [
            [],
            [None, None, "DAFTAR PENERIMA"],
            [],
            [None, None, *PB_HEADER],
            [None, None, "2025-01", 3578, 1, dt.date(1990, 1, 1), 5],
            [],
            [None, None, None, None, None, None, None, None, "beyond the header"],
            [None, None, "2025-01", None, None, None, 7],
        ],
    )
    table, expected, (got, by) = both(path)
    assert (table._xlsx_engine, by) == (CALAMINE, CALAMINE)
    assert got == expected
    assert [r["row_number"] for r in expected] == [5, 8]
    assert expected[1]["nilai_bantuan"] == "7"


def test_shared_strings_read_the_same(tmp_path, block):
    """Excel writes text to the shared strings, rich runs and phonetic hints included."""
    path = write_shared(
        tmp_path / "psks.xlsx",
        [["Periode", "Kode KabKota", "Kode PSKS", "Jumlah"]]
        + [["2025-03", "3578", f"PSKS{i:02d}", str(i)] for i in range(40)]
        + [["2025-03", 3578, "  ", i] for i in range(3)],
    )
    patch_part(
        path,
        {"<si><t>PSKS00</t></si>": '<si><r><t>PSKS</t></r><r><rPr><b/></rPr><t>00</t></r>'
         '<rPh sb="0" eb="1"><t>ZZ</t></rPh></si>'},
        "xl/sharedStrings.xml",
    )  # fmt: skip
    table, expected, (got, by) = both(path, PSKS)
    assert (table._xlsx_engine, by) == (CALAMINE, CALAMINE)
    assert got == expected
    assert expected[0]["kode_psks"] == "PSKS00"


def test_a_cell_longer_than_the_limit_is_rejected_the_same(tmp_path):
    path = write_xlsx(tmp_path / "pb.xlsx", [PB_HEADER, ["2025-01", 3578, "x" * 2_000, 1, 2]])
    table, expected, (got, by) = both(path)
    assert table._xlsx_engine == CALAMINE
    assert expected[0] == "rejected" and "row 2, column nik" in expected[2]
    assert (got, by) == (expected, CALAMINE)


# -- the scan leaves these to openpyxl ---------------------------------------------------------


def routed(path: Path, why: str, required=PB, differs: bool = True) -> None:
    """The scan chooses openpyxl for ``why``; open_table's table reads what openpyxl reads;
    with ``differs``, calamine forced on the file reads something else (the route matters)."""
    scan = scan_of(path)
    assert scan.engine == OPENPYXL
    assert why in (scan.why_not or f"estimate {scan.estimate():,}")
    table, expected, (got, by) = both(path, required)
    assert table._xlsx_engine == OPENPYXL
    assert read(table, table._xlsx_engine) == (expected, OPENPYXL)
    if differs:
        assert by == CALAMINE
        assert got != expected


def test_error_cell_is_left_to_openpyxl(tmp_path, block):
    path = write_xlsx(tmp_path / "pb.xlsx", [PB_HEADER, ["2025-01", 3578, 1, 2, 3]])
    patch_part(path, {'<c r="E2" t="n"><v>3</v></c>': '<c r="E2" t="e"><v>#N/A</v></c>'})
    routed(path, "error cell")
    table = open_table(path, PB)
    assert read(table, OPENPYXL)[0][0]["nilai_bantuan"] == "#N/A"  # invalid_integer, later
    assert read(table, CALAMINE)[0][0]["nilai_bantuan"] is None  # would be missing_value


@pytest.mark.parametrize("value", ["9234567890123457", "-9234567890123457", "12345678901234567891"])
def test_integer_beyond_2_to_the_53_is_left_to_openpyxl(tmp_path, block, value):
    """Written into the XML: openpyxl's own writer rounds such an int through a float."""
    path = write_xlsx(tmp_path / "pb.xlsx", [PB_HEADER, ["2025-01", 3578, 111, 2, 3]])
    patch_part(path, {"<v>111</v>": f"<v>{value}</v>"})
    routed(path, "2**53")
    assert read(open_table(path, PB), OPENPYXL)[0][0]["nik"] == value


def test_sixteen_digits_below_2_to_the_53_are_read_by_calamine(tmp_path, block):
    path = write_xlsx(tmp_path / "pb.xlsx", [PB_HEADER, ["2025-01", 3578, 8999999999999999, 2, 3]])
    assert scan_of(path).engine == CALAMINE


def test_cells_without_references_are_left_to_openpyxl(tmp_path, block):
    """The hostile generator's workbook: rows and cells without r=, shared strings."""
    path = shared_strings_workbook(tmp_path / "psks.xlsx", 50)
    routed(path, "first attribute is not r=", PSKS, differs=False)


def test_cells_out_of_place_are_left_to_openpyxl(tmp_path, block):
    rows = [PB_HEADER] + [["2025-01", 3578, i, 2, 3] for i in range(1, 6)]
    cases = {
        "rows out of ascending order": {'<row r="4"': '<row r="2"'}
        | {f'<c r="{c}4"': f'<c r="{c}2"' for c in "ABCDE"},
        "names another row": {'<c r="C3"': '<c r="C5"'},
        "column order": {'<c r="E4"': '<c r="A4"'},
    }
    for why, replacement in cases.items():
        path = patch_part(write_xlsx(tmp_path / "pb.xlsx", rows), replacement)
        routed(path, why)


def test_a_row_written_without_r_is_left_to_openpyxl(tmp_path, block):
    rows = [PB_HEADER] + [["2025-01", 3578, i, 2, 3] for i in range(1, 4)]
    path = patch_part(write_xlsx(tmp_path / "pb.xlsx", rows), {'<row r="3">': "<row>"})
    routed(path, "names another row", differs=False)


def test_sheet_too_large_for_calamine_memory_is_left_to_openpyxl(tmp_path, block):
    """One stray cell at XFD1: calamine would hold 1,000 x 16,384 cells (a stray cell at
    XFD1 of a province sheet aborted the process in Rust). calamine is never forced here."""
    rows = [["DAFTAR"], PB_HEADER] + [["2025-01", 3578, i, 2, 3] for i in range(1, 999)]
    path = write_xlsx(tmp_path / "pb.xlsx", rows)
    patch_part(path, {"<t>DAFTAR</t></is></c>": '<t>DAFTAR</t></is></c><c r="XFD1"><v>1</v></c>'})
    scan = scan_of(path)
    assert scan.why_not is None
    assert scan.estimate() > reading.CALAMINE_MAX_ESTIMATE
    assert (scan.max_row, scan.max_col) == (1_000, 16_384)
    assert scan.engine == OPENPYXL
    table = open_table(path, PB)
    assert table._xlsx_engine == OPENPYXL
    rows_read, by = read(table, OPENPYXL)
    assert by == OPENPYXL and len(rows_read) == 998


def test_estimate_counts_each_shared_string_per_cell(tmp_path, block):
    """calamine copies a shared string into every cell that uses it: a long one repeated
    is what could exhaust memory, so the estimate takes the longest string per text cell."""
    rows = [["Periode", "Kode KabKota", "Kode PSKS", "Jumlah"]]
    path = write_shared(tmp_path / "psks.xlsx", rows + [["2025-03", "3578", "P", 1]] * 20)
    base = scan_of(path)
    assert base.why_not is None
    patch_part(path, {"<t>Periode</t>": "<t>" + "x" * 50_000 + "</t>"}, "xl/sharedStrings.xml")
    longer = scan_of(path)
    assert longer.longest_shared >= 50_000 > base.longest_shared
    assert longer.string_cells == base.string_cells > 0
    assert longer.estimate() - base.estimate() >= base.string_cells * 49_000


@pytest.mark.parametrize("where", ["sheet", "shared"])
def test_xhhhh_escapes_are_left_to_openpyxl(tmp_path, block, where):
    text = "P_x0041_"
    header = ["Periode", "Kode KabKota", "Kode PSKS", "Jumlah"]
    if where == "sheet":  # an inline string, as openpyxl and the generator write it
        path = write_xlsx(tmp_path / "psks.xlsx", [header, ["2025-03", "3578", text, 1]])
    else:
        path = write_shared(tmp_path / "psks.xlsx", [header, ["2025-03", "3578", "P", 1]])
        patch_part(path, {"<t>P</t>": f"<t>{text}</t>"}, "xl/sharedStrings.xml")
    routed(path, "escape", PSKS)
    assert read(open_table(path, PSKS), OPENPYXL)[0][0]["kode_psks"] == text


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")
@pytest.mark.parametrize("serial", ["-5", "-0.5", "2958466", "3000000"])
def test_date_cells_out_of_excels_range_are_left_to_openpyxl(tmp_path, block, serial):
    path = write_xlsx(
        tmp_path / "pb.xlsx", [PB_HEADER, ["2025-01", "3578", "1", 1, "5"]], "d/m/yyyy"
    )
    patch_part(path, {"<v>1</v>": f"<v>{serial}</v>"})
    routed(path, "date range")


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ('<c r="E2" t="n"><v>3</v>', '<c r="E2" t="b"><v>true</v>', "true"),
        ('<c r="E2" t="n"><v>3</v>', '<c r="E2" t="n"><v>inf</v>', "inf"),
        ('<c r="E2" t="n">', "<c r=\"E2\" t='e'>", "single quotes"),
        ('<c r="E2" t="n">', '<c r="E2" t = "e">', "spaces around ="),
        ('<c r="E2" t="n">', '<c r="E2" t="&#101;">', "character reference"),
        ('<c r="E2" t="n"><v>3</v>', '<c r="E2" t="d"><v>2025-01-01</v>', "ISO 8601"),
    ],
)
def test_unusual_values_and_spellings_are_left_to_openpyxl(tmp_path, block, old, new, why):
    """In row 12, below the rows open_table reads to find the header."""
    rows = [PB_HEADER] + [["2025-01", 3578, i, 2, 3] for i in range(1, 12)]
    path = write_xlsx(tmp_path / "pb.xlsx", rows)
    patch_part(path, {old.replace("E2", "E12"): new.replace("E2", "E12")})
    routed(path, why, differs=why in ("true", "inf"))


def test_a_failure_of_the_scan_leaves_the_sheet_to_openpyxl(tmp_path, monkeypatch):
    """The scan chooses a reader; it never rejects a file, even when it fails itself."""
    path = write_xlsx(tmp_path / "pb.xlsx", [PB_HEADER, ["2025-01", 3578, 1, 2, 3]])

    def broken(self, *args):
        raise MemoryError

    monkeypatch.setattr(reading._SheetScan, "_place", broken)
    assert scan_of(path).why_not == "the scan failed (MemoryError)"
    table = open_table(path, PB)
    assert table._xlsx_engine == OPENPYXL
    assert read(table, OPENPYXL)[0][0]["nik"] == "1"


# -- calamine failing: openpyxl reads, with openpyxl's words -------------------------------------


def test_without_python_calamine_openpyxl_reads(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "pb.xlsx", [PB_HEADER, ["2025-01", 3578, 1, 2, 3]])
    table, expected, _ = both(path)
    assert table._xlsx_engine == CALAMINE
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # import raises ImportError
    assert scan_of(path).why_not is None
    assert scan_of(path).engine == OPENPYXL
    assert open_table(path, PB)._xlsx_engine == OPENPYXL
    assert read(table, CALAMINE) == (expected, OPENPYXL)  # forced: falls back


@pytest.mark.parametrize("value", ["1..2", "e", "1_0", " 5"])
def test_a_value_calamine_cannot_parse_is_read_by_openpyxl(tmp_path, value):
    """calamine fails the whole sheet: openpyxl reads it, and a rejection keeps openpyxl's
    message and row (" 5" and "1_0" are numbers for Python's int())."""
    rows = [PB_HEADER] + [["2025-01", 3578, i, 2, 3] for i in range(1, 15)]
    path = write_xlsx(tmp_path / "pb.xlsx", rows)
    patch_part(path, {'<c r="E14" t="n"><v>3</v>': f'<c r="E14" t="n"><v>{value}</v>'})
    table = open_table(path, PB)
    expected = read(table, OPENPYXL)
    assert read(table, CALAMINE) == (expected[0], OPENPYXL)


def test_calamine_failing_while_rows_are_read_goes_on_with_openpyxl(tmp_path, monkeypatch):
    """A failure after some rows were yielded: openpyxl reads from the next row on."""
    rows = [PB_HEADER] + [["2025-01", 3578, i, 2, 3] for i in range(1, 8)]
    path = write_xlsx(tmp_path / "pb.xlsx", rows)
    table = open_table(path, PB)
    expected = read(table, OPENPYXL)[0]
    real = reading._calamine_first_sheet

    class Failing:
        def __init__(self, sheet):
            self.start = sheet.start
            self._rows = sheet.iter_rows()

        def iter_rows(self):
            for number, values in enumerate(self._rows, start=1):
                if number == 5:
                    raise RuntimeError("calamine broke")
                yield values

    monkeypatch.setattr(reading, "_calamine_first_sheet", lambda p: Failing(real(p)))
    got, by = read(table, CALAMINE, chunk_rows=2)
    assert (got, by) == (expected, OPENPYXL)
    assert [r["row_number"] for r in got] == list(range(2, 9))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('<row r="20">', '<row r="20"><bad>'),  # an element never closed
        ("<t>2025-01</t>", "<t>2025 < 01</t>"),  # a "<" in a text
        ("<t>2025-01</t>", "<t>2025 & 01</t>"),  # an "&" that starts no entity
        ("<t>2025-01</t>", "<t>2025&nbsp;01</t>"),  # an entity XML does not define
    ],
)
def test_xml_openpyxl_refuses_is_left_to_openpyxl(tmp_path, block, old, new):
    """calamine reads on through XML that openpyxl's parser refuses: the file stays
    unreadable, with openpyxl's words and row."""
    rows = [PB_HEADER] + [["2025-01", 3578, i, 2, 3] for i in range(1, 30)]
    path = write_xlsx(tmp_path / "pb.xlsx", rows)
    if old.startswith("<t>"):
        text = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
        at = text.index('<row r="25">')
        patched = text[:at] + text[at:].replace(old, new, 1)
        patch_part(path, {text: patched})
    else:
        patch_part(path, {old: new})
    assert scan_of(path).engine == OPENPYXL
    table = open_table(path, PB)
    assert table._xlsx_engine == OPENPYXL
    expected, _ = read(table, OPENPYXL)
    assert expected[0] == "rejected" and "reading stopped after row" in expected[2]
