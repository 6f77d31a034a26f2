"""A streaming XLSX writer for sheets of text and whole numbers (the district feedback's).

Why it exists: a province district's feedback has 130,000-260,000 lines and took 15-20 s to
write, 75 % of it in XlsxWriter's per-cell work (``Worksheet._write_cell``, XML escaping;
docs/performance.md). This writer builds each sheet's XML a few thousand rows at a time in
list comprehensions joined with ``str.join`` (per cell only ``str`` methods, no Python
function) and streams it into the zip entry. Measured with ``python -m bench.feedback_xlsx``
(130,000 lines, 2 busy cores): the feedback's XLSX in 2.1-2.5 s instead of 7.0-7.9 s, the
district's whole feedback in 5.3-5.8 s instead of 10.3-11.3 s, the writer's own peak memory
7.5 MiB at 13,000 and at 130,000 lines.

Strings are inline strings, not a shared-strings table: on the same lines shared strings
were 0.2 s faster (of 1.6 s) and 9 % smaller, but keep every distinct text until the end
and make the XML differ from XlsxWriter's, against which the tests compare it.

What it writes is what XlsxWriter's constant-memory mode writes for the same calls: a bold
header row frozen above the rows, set column widths (Excel's character widths, padded as
XlsxWriter pads them), ints as numbers (``{:.16G}`` as XlsxWriter formats them) and strings
as inline strings (``t="inlineStr"``), never a formula. Text passes Excel's own escaping as
XlsxWriter applies it: a literal ``_xHHHH_`` becomes ``_x005F_xHHHH_`` (Excel would decode
it), characters XML 1.0 cannot hold (U+0000-U+0008, U+000B-U+001F, U+FFFE, U+FFFF; the
carriage return too, as XlsxWriter escapes it) become ``_xHHHH_``, and a text over Excel's
32,767 UTF-16 units is truncated to that many (without splitting a character). One
difference: XlsxWriter writes a string that starts with ``<r>`` and ends with ``</r>``
unescaped (as rich text); here it is text like any other.

The package has no ``docProps`` (optional parts; Excel opens the workbook without them) and
fixed zip timestamps: the same sheets give the same bytes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Excel's limit on one cell's text, in UTF-16 code units (XlsxWriter truncates to it).
MAX_TEXT = 32_767
# A text this short cannot exceed MAX_TEXT even if all of it is above U+FFFF.
_SURELY_SHORT = MAX_TEXT // 2
# Rows per chunk of sheet XML: large enough that per-chunk work vanishes, small enough that
# a chunk (a few MB of text) is nothing next to the rows themselves.
_CHUNK_ROWS = 4_000
# Excel's metrics of the default font (Calibri 11) that XlsxWriter converts widths with.
_DIGIT_PIXELS = 7
_PADDING_PIXELS = 5

_LITERAL_ESCAPE = re.compile(r"_x[0-9a-fA-F]{4}_")
_NOT_XML = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a bold header row frozen above ``rows``; ``widths`` in characters,
    one per column from A (as XlsxWriter's ``set_column`` takes them, at least 1).

    A cell is an ``int`` (written as a number; a ``bool`` is not one) or a ``str`` (written
    as text as it is: neutralising a formula-like text is the caller's).
    """

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[int | str]]
    widths: Sequence[float] = ()


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` as the workbook ``path``, the first one selected."""
    for sheet in sheets:
        _check_title(sheet.title, [other.title for other in sheets])
    parts = {
        "[Content_Types].xml": [_content_types(len(sheets))],
        "_rels/.rels": [_package_rels()],
        "xl/workbook.xml": [_workbook(sheets)],
        "xl/_rels/workbook.xml.rels": [_workbook_rels(len(sheets))],
        "xl/styles.xml": [_STYLES],
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as book:
        for name, chunks in parts.items():
            _write_part(book, name, chunks)
        for number, sheet in enumerate(sheets, start=1):
            _write_part(book, f"xl/worksheets/sheet{number}.xml", _sheet_xml(sheet, number == 1))
    return path


def _write_part(book: zipfile.ZipFile, name: str, chunks: Iterable[str]) -> None:
    """One zip entry from text chunks, streamed (a name, not a ZipInfo: dated 1980-01-01)."""
    with book.open(name, "w") as part:
        for chunk in chunks:
            part.write(chunk.encode())


def _check_title(title: str, titles: list[str]) -> None:
    """Refuse a sheet name Excel would repair away (as XlsxWriter refuses it)."""
    unique = [other.lower() for other in titles].count(title.lower()) == 1
    quoted = title.startswith("'") or title.endswith("'")
    if not 0 < len(title) <= 31 or _BAD_TITLE.search(title) or quoted or not unique:
        raise ValueError(f"not a valid, unique Excel sheet name: {title!r}")


def _sheet_xml(sheet: Sheet, selected: bool) -> Iterator[str]:
    """The worksheet XML in chunks: views with the frozen first row, widths, then rows."""
    columns = max(len(sheet.header), max(map(len, sheet.rows), default=0), 1)
    letters = [column_letter(index) for index in range(columns)]
    tab = ' tabSelected="1"' if selected else ""
    yield (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
        f'<dimension ref="A1:{letters[-1]}{len(sheet.rows) + 1}"/>'
        f'<sheetViews><sheetView{tab} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{_cols(sheet.widths)}<sheetData>'
    )
    yield _rows_xml(_excel_escaped([sheet.header]), 1, letters, ' s="1"')
    for start in range(0, len(sheet.rows), _CHUNK_ROWS):
        chunk = _excel_escaped(sheet.rows[start : start + _CHUNK_ROWS])
        yield _rows_xml(chunk, start + 2, letters, "")
    yield (
        '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
        'header="0.3" footer="0.3"/></worksheet>'
    )


def _rows_xml(rows: Sequence[Sequence[int | str]], first: int, letters: list[str], style: str):
    """Rows numbered from ``first``: XML-escaped inline strings (``xml:space="preserve"``
    when a text starts or ends with white space) and numbers, each cell with its reference."""
    return "".join(
        [
            f'<row r="{number}">'
            + "".join(
                [
                    f'<c r="{letter}{number}"{style}><v>{value:.16G}</v></c>'
                    if value.__class__ is int
                    else f'<c r="{letter}{number}"{style} t="inlineStr"><is><t'
                    + (' xml:space="preserve">' if value.strip() != value else ">")
                    + value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    + "</t></is></c>"
                    for letter, value in zip(letters, row, strict=False)
                ]
            )
            + "</row>"
            for number, row in enumerate(rows, start=first)
        ]
    )


def _excel_escaped(rows: Sequence[Sequence[int | str]]) -> Sequence[Sequence[int | str]]:
    """``rows`` with every text through :func:`excel_text`; the rows themselves when no text
    needs it, found with one search over the chunk's joined text (the usual case)."""
    texts = [value for row in rows for value in row if value.__class__ is not int]
    joined = "".join(texts)  # a TypeError here names a cell that is neither int nor str
    long = max(map(len, texts), default=0) > _SURELY_SHORT
    if not long and "_x" not in joined and not _NOT_XML.search(joined):
        return rows
    return [[v if v.__class__ is int else excel_text(v) for v in row] for row in rows]


def excel_text(text: str) -> str:
    """``text`` as XlsxWriter stores it before XML escaping: truncated to :data:`MAX_TEXT`
    UTF-16 units, a literal ``_xHHHH_`` escaped as ``_x005F_xHHHH_``, and characters XML
    cannot hold as ``_xHHHH_`` (Excel decodes both back)."""
    if len(text) > _SURELY_SHORT:
        units = text.encode("utf-16-le")
        if len(units) > 2 * MAX_TEXT:  # a cut pair of surrogates is dropped, as XlsxWriter does
            text = units[: 2 * MAX_TEXT].decode("utf-16-le", errors="ignore")
    text = _LITERAL_ESCAPE.sub(r"_x005F\g<0>", text)
    return _NOT_XML.sub(lambda match: f"_x{ord(match.group()):04X}_", text)


def column_letter(index: int) -> str:
    """``A`` for column 0, ``Z`` for 25, ``AA`` for 26."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def excel_width(characters: float) -> str:
    """A column width as XlsxWriter writes it: whole pixels of Calibri 11 plus padding, back
    in characters (36 characters are ``36.7109375``)."""
    if characters < 1:
        raise ValueError(f"column width below 1 character: {characters}")
    pixels = int(characters * _DIGIT_PIXELS + 0.5) + _PADDING_PIXELS
    return f"{pixels * 256 // _DIGIT_PIXELS / 256:.16g}"


def _cols(widths: Sequence[float]) -> str:
    if not widths:
        return ""
    cols = "".join(
        f'<col min="{number}" max="{number}" width="{excel_width(width)}" customWidth="1"/>'
        for number, width in enumerate(widths, start=1)
    )
    return f"<cols>{cols}</cols>"


def _attribute(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _content_types(sheets: int) -> str:
    overrides = [
        ("/xl/workbook.xml", f"{_OFFICE}.sheet.main+xml"),
        ("/xl/styles.xml", f"{_OFFICE}.styles+xml"),
    ] + [(f"/xl/worksheets/sheet{n}.xml", f"{_OFFICE}.worksheet+xml") for n in range(1, sheets + 1)]
    return (
        f'{_XML}<Types xmlns="{_TYPES}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>"
    )


def _relationships(targets: list[tuple[str, str]]) -> str:
    relations = "".join(
        f'<Relationship Id="rId{n}" Type="{kind}" Target="{target}"/>'
        for n, (kind, target) in enumerate(targets, start=1)
    )
    return f'{_XML}<Relationships xmlns="{_PKG_RELS}">{relations}</Relationships>'


def _package_rels() -> str:
    return _relationships([(f"{_DOC_RELS}/officeDocument", "xl/workbook.xml")])


def _workbook_rels(sheets: int) -> str:
    targets = [(f"{_DOC_RELS}/worksheet", f"worksheets/sheet{n}.xml") for n in range(1, sheets + 1)]
    return _relationships([*targets, (f"{_DOC_RELS}/styles", "styles.xml")])


def _workbook(sheets: Sequence[Sheet]) -> str:
    entries = "".join(
        f'<sheet name="{_attribute(sheet.title)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, sheet in enumerate(sheets, start=1)
    )
    return (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}">'
        '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" '
        f'windowHeight="9660"/></bookViews><sheets>{entries}</sheets></workbook>'
    )


# Style 0: the default font; style 1 (``s="1"``): the same in bold. Excel requires the first
# two fills to be "none" and "gray125".
_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
