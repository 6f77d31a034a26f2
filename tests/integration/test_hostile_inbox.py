"""A hostile inbox through the pipeline's period and district steps (issue 12 §1-§3, §5, §9).

Each test builds its own inbox and DuckDB warehouse and calls ``prepare_period`` /
``process_district`` like the DAG's tasks do, then reads ``audit`` and the archive:

* links (to a secret file, to ``/proc/self/environ``, a district folder linked outside the
  inbox) are refused with notices, and nothing of them is read, archived or loaded;
* a file replaced right after it was copied: the version is the archived bytes;
* a broken XLSX (XML truncated after the first rows, bad CRC) is REJECTED ``unreadable`` with
  the row reached, and the district task goes on;
* names with a line break cannot forge log lines; an identifier quoted by the XLSX parser
  does not reach the log or ``audit.file_versions``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sinergi.config import load_settings
from sinergi.periods import Period
from tests.integration.independent import WarehouseReader

pytestmark = pytest.mark.integration

PERIOD = Period.parse("2025-03")
SIXTEEN_DIGITS = re.compile(r"\d{16}")
PSKS_HEADER = "periode,kode_kabkota,kode_psks,jumlah"


def psks_csv(district: str, rows: int, amount: int = 1) -> str:
    body = [f"2025-03,{district},PSKS{i + 1:02d},{amount}" for i in range(rows)]
    return "\n".join([PSKS_HEADER, *body]) + "\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty inbox and warehouse for this test; returns (inbox, settings loader)."""
    monkeypatch.setenv("SINERGI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SINERGI_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("SINERGI_WAREHOUSE", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    for name in ("SINERGI_REPORTS_DIR", "SINERGI_ARCHIVE_DIR", "SINERGI_WORK_DIR"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "inbox" / str(PERIOD)).mkdir(parents=True)
    return tmp_path / "inbox"


def run(districts: list[str]) -> dict[str, dict]:
    from sinergi.pipeline import prepare_period, process_district

    settings = load_settings()
    prepare_period(PERIOD, settings)
    return {d: process_district(PERIOD, d, settings) for d in districts}


def audit(sql: str, params: tuple = ()) -> list[dict]:
    return WarehouseReader(load_settings().warehouse_url).rows(sql, params)


def versions() -> dict[tuple[str, str], dict]:
    rows = audit(
        "select district_code, dataset, version, file_name, sha256, size_bytes, received_at, "
        "status, rejection_reason, rejection_detail, rows_total, archive_path "
        "from audit.file_versions"
    )
    return {(r["district_code"], r["dataset"]): r for r in rows}


def archived_bytes() -> bytes:
    archive = load_settings().archive_dir
    return b"".join(p.read_bytes() for p in sorted(archive.rglob("*")) if p.is_file())


# -- §1 links --------------------------------------------------------------------------------


def test_links_are_refused_and_nothing_outside_the_inbox_is_read(env, tmp_path):
    secret = tmp_path / "secret" / "ppks.csv"
    secret.parent.mkdir()
    secret.write_text("periode,kode_kabkota\nTOP-SECRET-MARKER,1\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "psks.csv").write_text(psks_csv("3579", 3))
    folder = env / str(PERIOD)
    (folder / "3578").mkdir()
    (folder / "3578" / "psks.csv").write_text(psks_csv("3578", 2))
    (folder / "3578" / "ppks.csv").symlink_to(secret)
    (folder / "3578" / "dtks.csv").symlink_to("/proc/self/environ")
    (folder / "3578" / "penerima_bantuan.csv").symlink_to(folder / "3578" / "psks.csv")
    (folder / "3579").symlink_to(outside, target_is_directory=True)

    outcome = run(["3578", "3579"])

    assert [f["dataset"] for f in outcome["3578"]["files"]] == ["psks"]
    assert outcome["3579"]["files"] == []
    assert set(versions()) == {("3578", "psks")}
    stored = archived_bytes()
    assert b"TOP-SECRET-MARKER" not in stored
    assert b"SINERGI_PII_KEY" not in stored and b"PATH=" not in stored
    notices = {
        (r["path"], r["notice_code"])
        for r in audit("select path, notice_code from audit.inbox_notices")
    }
    assert notices == {
        ("2025-03/3578/ppks.csv", "symlink_refused"),
        ("2025-03/3578/dtks.csv", "symlink_refused"),
        ("2025-03/3578/penerima_bantuan.csv", "symlink_refused"),
        ("2025-03/3579", "symlink_refused"),
    }


# -- §2 the archived bytes are the judged bytes -------------------------------------------------


def test_a_file_replaced_after_the_copy_is_judged_as_archived(env, monkeypatch):
    import sinergi.arrivals

    path = env / str(PERIOD) / "3578" / "psks.csv"
    path.parent.mkdir()
    first = psks_csv("3578", 2)
    path.write_text(first)
    os.utime(path, (1_741_000_000, 1_741_000_000))  # 2025-03-03
    real = sinergi.arrivals.archive_file

    def copy_then_swap(*args, **kwargs):
        copied = real(*args, **kwargs)
        replacement = path.with_name("psks.csv.new")
        replacement.write_text(psks_csv("3578", 9, amount=7))
        os.replace(replacement, path)  # the district re-uploads mid-run
        return copied

    monkeypatch.setattr(sinergi.arrivals, "archive_file", copy_then_swap)
    run(["3578"])

    version = versions()[("3578", "psks")]
    assert version["sha256"] == hashlib.sha256(first.encode()).hexdigest()
    assert version["size_bytes"] == len(first.encode())
    assert version["received_at"].timestamp() == 1_741_000_000
    assert Path(version["archive_path"]).read_text() == first
    assert (version["status"], version["rows_total"]) == ("ACCEPTED", 2)
    raw = audit("select jumlah from raw.psks where _district_code = '3578'")
    assert sorted(r["jumlah"] for r in raw) == [1, 1]  # file A's rows, not B's 7s


# -- §3 a broken XLSX fails that file only -------------------------------------------------------


def psks_workbook(path: Path, district: str, rows: int) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(PSKS_HEADER.split(","))
    for i in range(rows):
        sheet.append(["2025-03", district, f"PSKS{i % 40 + 1:02d}", i])
    book.save(path)


def rewrite_zip(path: Path, sheet_xml: bytes, stored: bool = False) -> None:
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts["xl/worksheets/sheet1.xml"] = sheet_xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            kind = zipfile.ZIP_STORED if stored and name.endswith("sheet1.xml") else None
            target.writestr(name, data, compress_type=kind)


def sheet_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as source:
        return source.read("xl/worksheets/sheet1.xml")


def test_broken_xlsx_is_rejected_and_the_districts_go_on(env):
    folder = env / str(PERIOD)
    for district in ("3578", "3579", "3501"):
        (folder / district).mkdir()
    truncated = folder / "3578" / "psks.xlsx"
    psks_workbook(truncated, "3578", 3000)
    xml = sheet_of(truncated)
    rewrite_zip(truncated, xml[: len(xml) // 2])  # a valid zip whose sheet XML stops mid-way
    bad_crc = folder / "3579" / "psks.xlsx"
    psks_workbook(bad_crc, "3579", 3000)
    rewrite_zip(bad_crc, sheet_of(bad_crc), stored=True)
    data = bytearray(bad_crc.read_bytes())
    at = data.rindex(b"PSKS")
    data[at : at + 4] = b"PSKT"  # still well-formed XML; only the CRC tells
    bad_crc.write_bytes(bytes(data))
    (folder / "3501" / "psks.csv").write_text(psks_csv("3501", 3))
    (folder / "3578" / "ppks.csv").write_text("kode\n1\n")  # another file of the same district

    outcome = run(["3578", "3579", "3501"])

    found = versions()
    for district in ("3578", "3579"):
        version = found[(district, "psks")]
        assert (version["status"], version["rejection_reason"]) == ("REJECTED", "unreadable")
        assert version["rows_total"] == 0
    # openpyxl meets the broken XML after reading rows; the zip pre-scan finds the bad CRC
    assert re.search(r"after row \d{2,}", found[("3578", "psks")]["rejection_detail"])
    assert "Bad CRC-32" in found[("3579", "psks")]["rejection_detail"]
    assert found[("3578", "ppks")]["rejection_reason"] == "missing_columns"
    assert found[("3501", "psks")]["status"] == "ACCEPTED"
    assert {f["status"] for f in outcome["3578"]["files"]} == {"REJECTED"}
    assert audit("select count(*) as n from audit.row_rejections")[0]["n"] == 0


# -- §5 / §9 logs and details ------------------------------------------------------------------


def test_names_with_line_breaks_cannot_forge_log_lines(env, caplog):
    folder = env / str(PERIOD)
    (folder / "9999\nERROR forged district").mkdir()
    (folder / "3578").mkdir()
    (folder / "3578" / "notes\nERROR forged file.txt").write_text("x")
    (folder / "3578" / "psks.csv").write_text(
        "periode,kode_kabkota,kode_psks,jumlah,catatan\n2025-03,3578,PSKS01,1,x\n"
    )
    with caplog.at_level(logging.INFO, logger="sinergi"):
        run(["3578"])
    messages = [r.getMessage() for r in caplog.records]
    assert any("forged district" in m for m in messages)
    assert any("forged file" in m for m in messages)
    assert all("\n" not in m for m in messages), [m for m in messages if "\n" in m]


def test_identifier_quoted_by_a_parser_error_reaches_neither_log_nor_audit(env, caplog):
    district = env / str(PERIOD) / "3578"
    district.mkdir()
    path = district / "psks.xlsx"
    psks_workbook(path, "3578", 3)
    xml = sheet_of(path).replace(b"<v>2</v>", b"<v>3578014501900001x</v>")
    rewrite_zip(path, xml)
    with caplog.at_level(logging.INFO, logger="sinergi"):
        run(["3578"])
    version = versions()[("3578", "psks")]
    assert version["rejection_reason"] == "unreadable"
    assert "<16 digits>" in version["rejection_detail"]
    assert not SIXTEEN_DIGITS.search(version["rejection_detail"])
    assert not any(SIXTEEN_DIGITS.search(r.getMessage()) for r in caplog.records)


def test_a_file_over_the_size_limit_is_a_version_but_not_archived(env, monkeypatch):
    monkeypatch.setenv("SINERGI_MAX_FILE_MB", "0.0001")  # 100 bytes
    path = env / str(PERIOD) / "3578" / "psks.csv"
    path.parent.mkdir()
    path.write_text(psks_csv("3578", 10))
    run(["3578"])
    version = versions()[("3578", "psks")]
    assert (version["status"], version["rejection_reason"]) == ("REJECTED", "unreadable")
    assert "SINERGI_MAX_FILE_MB" in version["rejection_detail"]
    assert version["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert version["archive_path"] == "" and archived_bytes() == b""
    run(["3578"])  # the same bytes again: no new version
    assert len(audit("select * from audit.file_versions")) == 1
