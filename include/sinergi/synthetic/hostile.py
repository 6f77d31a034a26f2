"""Hostile inputs built on demand (never committed): XLSX bombs, huge headers and cells.

Shared by the tests (``tests/test_hostile_input.py``) and ``make bench`` (``bench/hostile.py``),
which measures that each is refused within bounded time and memory. Everything is streamed
to disk, so building a 20-million-cell workbook costs little memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

PSKS_COLUMNS = ["periode", "kode_kabkota", "kode_psks", "jumlah"]
PSKS_HEADER = ",".join(PSKS_COLUMNS)


_CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
    'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
    '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def _skeleton(
    archive: zipfile.ZipFile, content_types: str = _CONTENT_TYPES, rels: str = _WORKBOOK_RELS
) -> None:
    """The parts every workbook here shares: content types, relationships, one sheet."""
    archive.writestr("[Content_Types].xml", content_types)
    archive.writestr("_rels/.rels", _RELS)
    archive.writestr("xl/workbook.xml", _WORKBOOK)
    archive.writestr("xl/_rels/workbook.xml.rels", rels)


def xlsx_bomb(path: Path, cells: int) -> Path:
    """A workbook whose one row holds ``cells`` cells, streamed into the zip (no big list)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _skeleton(archive)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                b'spreadsheetml/2006/main"><sheetData><row r="1">'
            )
            block = b"<c><v>1</v></c>" * 100_000
            for _ in range(cells // 100_000):
                sheet.write(block)
            sheet.write(b"</row></sheetData></worksheet>")
    return path


def shared_strings_workbook(path: Path, strings: int) -> Path:
    """A workbook whose cells use a shared strings table (openpyxl writes inline strings)."""
    texts = PSKS_COLUMNS + ["2025-03", "3578"] + [f"PSKS{i:06d}" for i in range(strings)]
    table = "".join(f"<si><t>{t}</t></si>" for t in texts)
    header = "".join(f'<c t="s"><v>{i}</v></c>' for i in range(4))
    rows = "".join(
        f'<row><c t="s"><v>4</v></c><c t="s"><v>5</v></c><c t="s"><v>{6 + i}</v></c>'
        "<c><v>1</v></c></row>"
        for i in range(strings)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _skeleton(
            archive,
            _CONTENT_TYPES.replace(
                "</Types>",
                '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            ),
            _WORKBOOK_RELS.replace(
                "</Relationships>",
                '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                "</Relationships>",
            ),
        )
        archive.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            f'2006/main">{table}</sst>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main"><sheetData><row>{header}</row>{rows}</sheetData>'
            "</worksheet>",
        )
    return path


def wide_header_csv(path: Path, columns: int) -> Path:
    """A psks CSV whose header has ``columns`` extra columns (and one data row)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write(PSKS_HEADER)
        for i in range(columns):
            handle.write(f",x{i}")
        handle.write("\n2025-03,3578,PSKS01,1\n")
    return path


def huge_cell_csv(path: Path, cell_chars: int) -> Path:
    """A psks CSV with five good rows and one row whose ``jumlah`` has ``cell_chars`` digits."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write(PSKS_HEADER + "\n")
        for i in range(5):
            handle.write(f"2025-03,3578,PSKS{i + 1:02d},{i}\n")
        handle.write("2025-03,3578,PSKS01,")
        for _ in range(cell_chars // 1_000_000):
            handle.write("9" * 1_000_000)
        handle.write("9" * (cell_chars % 1_000_000) + "\n")
    return path


def normal_csv(path: Path) -> Path:
    """A valid psks CSV (one row per PSKS code) to compare the hostile cases with."""
    rows = [f"2025-03,3578,PSKS{i:02d},{i * 3}" for i in range(1, 13)]
    path.write_text("\n".join([PSKS_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def oversized_csv(path: Path, size_bytes: int) -> Path:
    """A well-formed psks CSV of at least ``size_bytes`` bytes (many valid rows)."""
    row = "2025-03,3578,PSKS01,1\n"
    block = row * 50_000
    with path.open("w", encoding="utf-8") as handle:
        handle.write(PSKS_HEADER + "\n")
        written = 0
        while written < size_bytes:
            handle.write(block)
            written += len(block)
    return path


def sheet_workbook(path: Path, sheet_data: bytes) -> Path:
    """A workbook whose first sheet's ``<sheetData>`` holds ``sheet_data`` verbatim."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _skeleton(archive)
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main" xmlns:x="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData>' + sheet_data + b"</sheetData></worksheet>",
        )
    return path
