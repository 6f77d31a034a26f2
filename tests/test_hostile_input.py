"""Hostile and broken input (issue 12 §1-§4, §9): links, swaps, broken and oversized files.

The large inputs (a 20-million-cell XLSX row, a 1,000,000-column CSV header, a 50 MB cell)
are generated at test time. "Rejected before the big allocation" is shown by making the
parser that would allocate fail the test if it is ever called, or by bounding the traced
peak memory loosely; wall time is never asserted.
"""

from __future__ import annotations

import os
import re
import socket
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sinergi.archive import archive_file
from sinergi.datasets import SPECS
from sinergi.inbox import (
    RefusedEntry,
    open_submission,
    scan_district,
    scan_period_notices,
)
from sinergi.judgement import JudgeOptions, VersionRef, judge_file
from sinergi.limits import InputLimits
from sinergi.paths import EXPECTATIONS_DIR
from sinergi.periods import Period
from sinergi.reading import FileRejected, open_table
from sinergi.rules import Context
from sinergi.synthetic.hostile import shared_strings_workbook, sheet_workbook, xlsx_bomb

PERIOD = Period(2025, 3)
CTX = Context(PERIOD, "3578")
PSKS = ["periode", "kode_kabkota", "kode_psks", "jumlah"]
HEADER = ",".join(PSKS)
SIXTEEN_DIGITS = re.compile(r"\d{16}")


def psks_rows(count: int) -> list[str]:
    return [f"2025-03,3578,PSKS{i % 40 + 1:02d},{i}" for i in range(count)]


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def judge(tmp_path: Path, path: Path, limits: InputLimits | None = None, chunk_rows=200_000):
    ref = VersionRef(SPECS["psks"], CTX, 1)
    options = JudgeOptions(
        b"k", 0.2, EXPECTATIONS_DIR / "suites", limits or InputLimits(), chunk_rows
    )
    return judge_file(path, ref, tmp_path / "spill", options)


def rejection(path: Path, limits: InputLimits | None = None) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        open_table(path, PSKS, (), limits)
    return caught.value


def rejection_with_peak(path: Path) -> tuple[FileRejected, int]:
    """:func:`rejection` and the peak of Python memory traced while it ran (bytes)."""
    tracemalloc.start()
    try:
        rejected = rejection(path)
        return rejected, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def forbid(monkeypatch, target, name: str) -> None:
    """Make ``target.name`` fail the test if anything calls it."""

    def called(*args, **kwargs):
        raise AssertionError(f"{name} was called: the limit was not checked first")

    monkeypatch.setattr(target, name, called)


# -- §1 links and special files in the inbox ----------------------------------------------------


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox" / str(PERIOD) / "3578"
    folder.mkdir(parents=True)
    return tmp_path / "inbox"


def test_links_and_fifos_in_a_district_folder_are_refused_with_notices(inbox, tmp_path):
    secret = tmp_path / "secret.csv"
    write_csv(secret, psks_rows(3))
    district = inbox / str(PERIOD) / "3578"
    (district / "ppks.csv").symlink_to(secret)
    (district / "dtks.csv").symlink_to("/proc/self/environ")
    (district / "penerima_bantuan.csv").symlink_to(district / "psks.csv")  # inside, still a link
    os.mkfifo(district / "psks.xlsx")
    write_csv(district / "psks.csv", psks_rows(3))

    found = scan_district(inbox, PERIOD, "3578")

    assert {k: [p.name for p in v] for k, v in found.files.items()} == {"psks": ["psks.csv"]}
    codes = {n.path: n.code for n in found.notices}
    assert codes == {
        "2025-03/3578/dtks.csv": "symlink_refused",
        "2025-03/3578/penerima_bantuan.csv": "symlink_refused",
        "2025-03/3578/ppks.csv": "symlink_refused",
        "2025-03/3578/psks.xlsx": "not_a_regular_file",
    }


def test_a_district_folder_that_is_a_link_is_not_looked_into(inbox, tmp_path):
    outside = tmp_path / "elsewhere"
    write_csv(outside / "psks.csv", psks_rows(3))
    (inbox / str(PERIOD) / "3579").symlink_to(outside, target_is_directory=True)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(inbox / str(PERIOD) / "s"))
    try:
        notices = scan_period_notices(inbox, PERIOD)
    finally:
        sock.close()

    assert scan_district(inbox, PERIOD, "3579").files == {}
    assert {(n.path, n.code) for n in notices} == {
        ("2025-03/3579", "symlink_refused"),
        ("2025-03/s", "not_a_regular_file"),
    }


def test_a_period_folder_that_is_a_link_is_refused(tmp_path):
    real = tmp_path / "real"
    write_csv(real / "3578" / "psks.csv", psks_rows(3))
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / str(PERIOD)).symlink_to(real, target_is_directory=True)
    notices = scan_period_notices(tmp_path / "inbox", PERIOD)
    assert [(n.path, n.code) for n in notices] == [("2025-03", "symlink_refused")]
    assert scan_district(tmp_path / "inbox", PERIOD, "3578").files == {}


def test_open_submission_refuses_a_file_swapped_for_a_link_after_the_scan(inbox, tmp_path):
    district = inbox / str(PERIOD) / "3578"
    path = write_csv(district / "psks.csv", psks_rows(3))
    assert scan_district(inbox, PERIOD, "3578").files["psks"] == [path]
    path.unlink()
    path.symlink_to("/etc/passwd")
    with pytest.raises(RefusedEntry) as caught:
        open_submission(inbox, path)
    assert caught.value.code == "symlink_refused"


def test_open_submission_refuses_a_district_folder_swapped_for_a_link(inbox, tmp_path):
    district = inbox / str(PERIOD) / "3578"
    path = write_csv(district / "psks.csv", psks_rows(3))
    outside = tmp_path / "outside"
    write_csv(outside / "psks.csv", psks_rows(5))
    path.unlink()
    district.rmdir()
    district.symlink_to(outside, target_is_directory=True)
    with pytest.raises(RefusedEntry) as caught:
        open_submission(inbox, path)
    assert caught.value.code == "symlink_refused"


def test_open_submission_refuses_a_fifo_without_blocking(inbox):
    path = inbox / str(PERIOD) / "3578" / "psks.csv"
    os.mkfifo(path)
    with pytest.raises(RefusedEntry) as caught:
        open_submission(inbox, path)
    assert caught.value.code == "not_a_regular_file"


# -- §2 one copy, through the descriptor --------------------------------------------------------


def test_archive_takes_hash_size_and_time_from_the_copied_bytes(tmp_path):
    import hashlib

    source = write_csv(tmp_path / "psks.csv", psks_rows(10))
    os.utime(source, (1_700_000_000, 1_700_000_000))
    descriptor = os.open(source, os.O_RDONLY)
    try:
        copied = archive_file(descriptor, ".CSV", tmp_path / "archive")
        again = archive_file(descriptor, ".csv", tmp_path / "archive")
    finally:
        os.close(descriptor)
    data = source.read_bytes()
    assert copied.sha256 == hashlib.sha256(data).hexdigest() == again.sha256
    assert copied.size == len(data)
    assert copied.received_at.timestamp() == 1_700_000_000
    assert copied.path == again.path
    assert copied.path.name == f"{copied.sha256}.csv"
    assert copied.path.read_bytes() == data
    leftovers = [p for p in (tmp_path / "archive").rglob("*") if p.is_file()]
    assert leftovers == [copied.path]  # no temporary file left behind


def test_a_file_over_the_size_limit_is_hashed_but_not_stored(tmp_path):
    source = write_csv(tmp_path / "psks.csv", psks_rows(1000))
    descriptor = os.open(source, os.O_RDONLY)
    try:
        copied = archive_file(descriptor, ".csv", tmp_path / "archive", max_bytes=1000)
    finally:
        os.close(descriptor)
    assert copied.path is None and copied.size == source.stat().st_size
    assert [p for p in (tmp_path / "archive").rglob("*") if p.is_file()] == []


# -- §3 a file that breaks while it is read -----------------------------------------------------


def test_memory_error_while_reading_rows_rejects_the_file_naming_the_row(tmp_path, monkeypatch):
    import sinergi.reading

    path = write_csv(tmp_path / "psks.csv", psks_rows(30))
    real_frame, calls = sinergi.reading._frame, []

    def frame(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # open_table's look-ahead, then the first chunk, then boom
            raise MemoryError
        return real_frame(*args, **kwargs)

    monkeypatch.setattr(sinergi.reading, "_frame", frame)
    verdict = judge(tmp_path, path, chunk_rows=10)
    assert (verdict.status, verdict.rejection_reason) == ("REJECTED", "unreadable")
    assert "more memory" in verdict.rejection_detail
    assert "after row 21" in verdict.rejection_detail  # rows 2-11 judged, 12-21 read
    assert verdict.parts == {} and not (tmp_path / "spill").exists()  # nothing to load


def test_any_parser_exception_is_unreadable_not_a_crash(tmp_path, monkeypatch):
    import sinergi.reading

    path = write_csv(tmp_path / "psks.csv", psks_rows(5))
    monkeypatch.setattr(sinergi.reading, "_trimmed", lambda values: 1 / 0)
    verdict = judge(tmp_path, path)
    assert (verdict.status, verdict.rejection_reason) == ("REJECTED", "unreadable")
    assert "ZeroDivisionError" in verdict.rejection_detail


def test_os_error_while_reading_still_raises(tmp_path, monkeypatch):
    import sinergi.reading

    path = write_csv(tmp_path / "psks.csv", psks_rows(5))

    def broken(values):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sinergi.reading, "_trimmed", broken)
    with pytest.raises(OSError):
        judge(tmp_path, path)


# -- §4 limits ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twenty_million_cells(tmp_path_factory) -> Path:
    return xlsx_bomb(tmp_path_factory.mktemp("bomb") / "psks.xlsx", 20_000_000)


def test_xlsx_bomb_is_rejected_from_the_zip_directory_before_parsing(
    twenty_million_cells, monkeypatch
):
    assert twenty_million_cells.stat().st_size < 1_000_000  # the 587 KB bomb
    forbid(monkeypatch, openpyxl, "load_workbook")
    rejected, peak = rejection_with_peak(twenty_million_cells)
    assert rejected.reason == "unreadable"
    assert "compressed" in rejected.detail and "SINERGI_MAX_XLSX_COMPRESSION_RATIO" in (
        rejected.detail
    )
    assert peak < 20_000_000  # loosely: nothing near the 300 MB sheet was held


def test_xlsx_uncompressed_total_limit(twenty_million_cells, monkeypatch):
    forbid(monkeypatch, openpyxl, "load_workbook")
    limits = InputLimits(max_xlsx_uncompressed_bytes=100_000_000, max_xlsx_compression_ratio=1e9)
    rejected = rejection(twenty_million_cells, limits)
    assert "unpacks to 300 MB" in rejected.detail
    assert "SINERGI_MAX_XLSX_UNCOMPRESSED_MB" in rejected.detail


def inline_row(number: int, values: list[str], prefix: bytes = b"") -> bytes:
    cells = b"".join(
        b'<%sc t="inlineStr"><%sis><%st>%s</%st></%sis></%sc>'
        % (prefix, prefix, prefix, v.encode(), prefix, prefix, prefix)
        for v in values
    )
    return b'<%srow r="%d">%s</%srow>' % (prefix, number, cells, prefix)


@pytest.mark.parametrize("prefix", [b"", b"x:"])
def test_xlsx_row_wider_than_excel_is_rejected_before_parsing(tmp_path, monkeypatch, prefix):
    header = inline_row(1, PSKS, prefix)
    good = inline_row(2, ["2025-03", "3578", "PSKS01", "1"], prefix)
    path = sheet_workbook(tmp_path / "ok.xlsx", header + good)
    assert open_table(path, PSKS).count_data_rows() == 1  # prefixed or not, it is readable
    import random

    values = [str(random.randrange(10**9)) for _ in range(50_000)]  # compresses ~3x only
    wide = sheet_workbook(tmp_path / "psks.xlsx", header + good + inline_row(3, values, prefix))
    forbid(monkeypatch, openpyxl, "load_workbook")
    rejected = rejection(wide)
    assert "holds more than 131,072 XML elements, more than any Excel row" in rejected.detail


def test_xlsx_row_number_beyond_excel_is_rejected_before_parsing(tmp_path, monkeypatch):
    header = inline_row(1, PSKS)
    far = inline_row(999_999_999, ["2025-03", "3578", "PSKS01", "1"])
    path = sheet_workbook(tmp_path / "psks.xlsx", header + far)
    forbid(monkeypatch, openpyxl, "load_workbook")
    assert "beyond 1,048,576" in rejection(path).detail


def test_xlsx_with_a_dtd_is_rejected(tmp_path, monkeypatch):
    path = sheet_workbook(tmp_path / "psks.xlsx", inline_row(1, PSKS))
    with zipfile.ZipFile(path) as source:
        parts = {i.filename: source.read(i) for i in source.infolist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>', 1
    )
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    forbid(monkeypatch, openpyxl, "load_workbook")
    assert "declares a DTD" in rejection(path).detail


def test_too_many_shared_strings_are_counted_before_openpyxl_reads_them(tmp_path, monkeypatch):
    path = shared_strings_workbook(tmp_path / "psks.xlsx", 1_500)
    table = open_table(path, PSKS)  # readable within the default limits
    assert table.count_data_rows() == 1_500
    forbid(monkeypatch, openpyxl, "load_workbook")
    rejected = rejection(path, InputLimits(max_xlsx_shared_strings=1_000))
    assert "more than 1,000 different texts" in rejected.detail
    rejected = rejection(path, InputLimits(max_xlsx_shared_strings_bytes=1_000))
    assert "SINERGI_MAX_XLSX_SHARED_STRINGS_MB" in rejected.detail


def test_million_column_csv_header_is_rejected_before_it_is_split(tmp_path, monkeypatch):
    path = tmp_path / "psks.csv"
    path.write_text(HEADER + "," + ",".join(f"x{i}" for i in range(1_000_000)) + "\n1,2\n")
    forbid(monkeypatch, pd, "read_csv")
    rejected, peak = rejection_with_peak(path)
    assert rejected.reason == "unreadable"
    assert "header line is longer" in rejected.detail
    assert peak < 50_000_000  # the run took 4.2 GB


def test_wide_csv_header_under_a_megabyte_is_rejected_before_pandas(tmp_path, monkeypatch):
    path = tmp_path / "psks.csv"
    path.write_text(HEADER + "," * 100_000 + "\n2025-03,3578,PSKS01,1\n")
    forbid(monkeypatch, pd, "read_csv")
    assert "100,004 columns or more" in rejection(path).detail


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_data_line_wider_than_a_spreadsheet_is_rejected_before_pandas(
    tmp_path, monkeypatch, delimiter
):
    path = tmp_path / "psks.csv"
    good = f"2025-03{delimiter}3578{delimiter}PSKS01{delimiter}1"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER.replace(",", delimiter) + "\n" + (good + "\n") * 50_000)
        handle.write(good + delimiter * 2_000_000 + "\n" + good + "\n")
    forbid(monkeypatch, pd, "read_csv")
    rejected = rejection(path)
    assert "line 50002 has 2,000,004 or more cells" in rejected.detail
    # the other delimiter in a long line is only text (here in a column beyond the header)
    other = "," if delimiter == ";" else ";"
    path.write_text(HEADER.replace(",", delimiter) + f"\n{good}{delimiter}{other * 20_000}\n")
    monkeypatch.undo()
    assert open_table(path, PSKS).count_data_rows() == 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_more_header_columns_than_the_limit_is_unreadable(tmp_path, suffix):
    names = PSKS + [f"extra_{i}" for i in range(197)]  # 201 columns
    path = tmp_path / f"psks{suffix}"
    if suffix == ".csv":
        write_csv(path, psks_rows(2), ",".join(names))
    else:
        book = openpyxl.Workbook()
        book.active.append(names)
        book.active.append(["2025-03", "3578", "PSKS01", 1])
        book.save(path)
    rejected = rejection(path)
    assert rejected.reason == "unreadable"
    assert "201 columns, more than the limit of 200 (SINERGI_MAX_COLUMNS)" in rejected.detail
    names = names[:200]
    if suffix == ".csv":
        write_csv(path, psks_rows(2), ",".join(names))
        assert open_table(path, PSKS).columns == names  # exactly at the limit: readable


def test_fifty_megabyte_cell_rejects_the_file_and_is_never_stored(tmp_path):
    path = tmp_path / "psks.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER + "\n")
        handle.write("\n".join(psks_rows(5)) + "\n")
        handle.write("2025-03,3578,PSKS01," + "9" * 50_000_000 + "\n")
    verdict = judge(tmp_path, path)
    assert (verdict.status, verdict.rejection_reason) == ("REJECTED", "unreadable")
    assert "row 7, column jumlah: a cell of 50,000,000 characters" in verdict.rejection_detail
    assert "SINERGI_MAX_CELL_CHARS" in verdict.rejection_detail
    assert verdict.parts == {} and not (tmp_path / "spill").exists()
    assert len(verdict.rejection_detail) < 500


def test_long_xlsx_cell_is_unreadable(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(PSKS)
    book.active.append(["2025-03", "3578", "PSKS01", 1])
    book.active.append(["2025-03", "3578", "X" * 1_001, 1])
    path = tmp_path / "psks.xlsx"
    book.save(path)
    verdict = judge(tmp_path, path)
    assert (verdict.status, verdict.rejection_reason) == ("REJECTED", "unreadable")
    assert "row 3, column kode_psks: a cell of 1,001 characters" in verdict.rejection_detail


def test_file_size_limit(tmp_path):
    path = write_csv(tmp_path / "psks.csv", psks_rows(100))
    rejected = rejection(path, InputLimits(max_file_bytes=1_000))
    assert "larger than the limit" in rejected.detail and "SINERGI_MAX_FILE_MB" in rejected.detail


def test_limits_come_from_the_environment(monkeypatch):
    from sinergi.config import load_settings

    monkeypatch.setenv("SINERGI_MAX_FILE_MB", "5")
    monkeypatch.setenv("SINERGI_MAX_COLUMNS", "50")
    monkeypatch.setenv("SINERGI_MAX_XLSX_COMPRESSION_RATIO", "30")
    limits = load_settings().limits
    assert (limits.max_file_bytes, limits.max_columns) == (5_000_000, 50)
    assert limits.max_xlsx_compression_ratio == 30
    monkeypatch.setenv("SINERGI_MAX_CELL_CHARS", "0")
    with pytest.raises(ValueError, match="SINERGI_MAX_CELL_CHARS"):
        load_settings()


# -- §5/§9 identifiers in details ---------------------------------------------------------------


def test_identifier_quoted_by_the_xlsx_parser_is_scrubbed(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(PSKS)
    book.active.append(["2025-03", "3578", "PSKS01", 12345])
    path = tmp_path / "psks.xlsx"
    book.save(path)
    patch_sheet(path, {"<v>12345</v>": "<v>3578014501900001x</v>"})
    verdict = judge(tmp_path, path)
    assert (verdict.status, verdict.rejection_reason) == ("REJECTED", "unreadable")
    assert "<16 digits>x" in verdict.rejection_detail
    assert not SIXTEEN_DIGITS.search(verdict.rejection_detail)


def patch_sheet(path: Path, replacements: dict[str, str]) -> None:
    """Rewrite text inside the first worksheet's XML (types openpyxl would never write)."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for old, new in replacements.items():
        assert old in sheet
        sheet = sheet.replace(old, new)
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def test_file_rejected_detail_is_scrubbed_and_bounded():
    rejected = FileRejected("unreadable", "cell 3578014501900001 " + "x" * 2_000)
    assert not SIXTEEN_DIGITS.search(rejected.detail)
    assert len(rejected.detail) == 500
