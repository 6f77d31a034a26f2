"""File bytes: CSV and XLSX exactly as a district's software would write them, deterministic.

Determinism matters beyond convenience: the pipeline treats a file whose SHA-256 changed as a
new version (contract §1), so a generator that embedded "now" anywhere (openpyxl stamps the
save time into docProps/core.xml and every zip entry) would create phantom resubmissions when
an inbox is regenerated. Everything here is a pure function of its inputs.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook


def csv_bytes(
    header: Sequence[str],
    columns: Sequence[list[object]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    quote_all: bool = False,
    crlf: bool = False,
    blank_lines: bool = False,
) -> bytes:
    """RFC 4180 CSV of columns already in file order.

    A fully empty row is written as delimiters only (``,,,,``) or, with ``blank_lines``, as
    an empty line; both are "fully empty rows" that the reader skips (§2).
    """
    buffer = io.StringIO()
    terminator = "\r\n" if crlf else "\n"
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        lineterminator=terminator,
    )
    writer.writerow(header)
    rows = list(zip(*columns, strict=True)) if columns else []
    if blank_lines:
        start = 0
        for position, row in enumerate(rows):
            if not any(row):
                writer.writerows(rows[start:position])
                buffer.write(terminator)
                start = position + 1
        writer.writerows(rows[start:])
    else:
        writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(
    title_rows: Sequence[Sequence[object]],
    header: Sequence[str],
    columns: Sequence[list[object]],
    *,
    stamp: datetime,
    sheet: str = "Sheet1",
) -> bytes:
    """First worksheet: optional title rows, then the header, then typed data cells.

    openpyxl writes the package (workbook, styles with a date format, properties); the
    worksheet XML itself is serialised here, because openpyxl's cell-by-cell writer is about
    ten times slower and XLSX districts would otherwise dominate generation time.
    """
    workbook = Workbook(write_only=True)
    sheet_obj = workbook.create_sheet(sheet)
    naive = stamp.astimezone(UTC).replace(tzinfo=None)
    workbook.properties.creator = "Dinas Sosial"
    workbook.properties.created = naive
    sheet_obj.append([date(2000, 1, 1)])  # registers the date cell style in styles.xml
    raw = io.BytesIO()
    workbook.save(raw)
    template = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    path = next(n for n in template.namelist() if n.startswith("xl/worksheets/sheet"))
    found = re.search(rb'<c r="A1"[^>]* s="(\d+)"', template.read(path))
    date_style = found.group(1).decode() if found else "1"
    rows: list[Sequence[object]] = [list(r) for r in title_rows] + [list(header)]
    rows += list(zip(*columns, strict=True)) if columns else []
    replaced = {path: sheet_xml(rows, date_style)}
    return deterministic_zip(raw.getvalue(), naive, replaced)


def _column_letters(count: int) -> list[str]:
    letters = []
    for index in range(count):
        name, n = "", index + 1
        while n:
            n, rest = divmod(n - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


_EXCEL_EPOCH = date(1899, 12, 30)


def sheet_xml(rows: Sequence[Sequence[object]], date_style: str) -> bytes:
    """SpreadsheetML for one sheet: numbers, inline strings, date serials; None = no cell."""
    width = max((len(r) for r in rows), default=1) or 1
    letters = _column_letters(width)
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{letters[-1]}{max(len(rows), 1)}"/><sheetData>'
    ]
    for number, row in enumerate(rows, start=1):
        cells = []
        for letter, value in zip(letters, row, strict=False):
            if value is None or value == "":
                continue
            ref = f"{letter}{number}"
            if isinstance(value, bool):
                cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            elif isinstance(value, date):
                serial = (value - _EXCEL_EPOCH).days
                cells.append(f'<c r="{ref}" s="{date_style}"><v>{serial}</v></c>')
            else:
                text = escape(str(value))
                space = ' xml:space="preserve"' if text != text.strip() else ""
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>')
        out.append(f'<row r="{number}">{"".join(cells)}</row>' if cells else f'<row r="{number}"/>')
    out.append("</sheetData></worksheet>")
    return "".join(out).encode("utf-8")


def deterministic_zip(
    data: bytes, stamp: datetime, replaced: dict[str, bytes] | None = None
) -> bytes:
    """Re-pack a zip with fixed entry times and a fixed document ``modified`` property."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    when = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = (replaced or {}).get(info.filename) or source.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(
                    rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>" + iso + rb"\g<2>",
                    payload,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, payload)
    return out.getvalue()


def write_file(path: Path, data: bytes, received: datetime) -> None:
    """Write bytes and set the modification time: the file's "received time" (§1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = int(received.timestamp()) * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


# Stray files districts leave in their folders: contents are irrelevant, names are real ones.
STRAY_FILES: dict[str, bytes] = {
    "catatan.txt": b"Mohon maaf data PSKS bulan ini menyusul.\r\nOperator SIKS-NG\r\n",
    "Surat Pengantar.pdf": (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    ),
    "~$ppks.xlsx": b"\x0bOperator   " + b"\x00" * 40,
    "Thumbs.db": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 56,
    "ppks (1).csv": b"periode,kode_kabkota\n",
    "dtks_lama.csv": b"no_kk;desil\n",
}


def html_disguised_as_xlsx(title: str) -> bytes:
    """What old web applications export as ``.xlsx``: an HTML table (not a valid XLSX)."""
    return (
        "<html><head><meta charset='utf-8'></head><body><table>"
        f"<tr><td>{title}</td></tr></table></body></html>"
    ).encode()
