"""Reading one submitted file into trimmed string cells with row numbers (contract §2, §3, §7).

This module decides only what the *file* says: its encoding, delimiter, header, which cells
are empty and which row number the district operator sees for each row, because every later
step (rules, quarantine, feedback) must speak of the row the operator can find in their own
spreadsheet. It does not parse integers, dates or codes (``sinergi.values`` /
``sinergi.rules`` do), except XLSX cells, whose type is lost once a cell is a string.

File-level outcomes are raised as :class:`FileRejected` with the contract's reason code;
:func:`open_table` checks everything that can reject a file, so iterating
:meth:`OpenedTable.chunks` afterwards does not raise ``FileRejected``. The exact reading rules
(cells, rows, CSV encodings and delimiters, XLSX header rows and cell conversion, headers) are
written down in ``docs/contract-decisions.md`` ("How a file is read").
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import html
import itertools
import re
import zipfile
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sinergi.limits import EXCEL_MAX_COLUMNS, EXCEL_MAX_ROWS, MB, InputLimits
from sinergi.scrub import scrub_identifiers

__all__ = [
    "UNREADABLE_CAUSES",
    "XLSX_HEADER_MIN_SHARE",
    "FileRejected",
    "OpenedTable",
    "file_format_of",
    "normalise_header",
    "open_table",
]

#: XLSX files without a complete header row: the best candidate among rows 1-10 must hold at
#: least this share of the requested columns to be named in the message as the likely header.
XLSX_HEADER_MIN_SHARE = 0.5

#: Rows searched for the XLSX header (contract §2: "among the first 10").
XLSX_HEADER_SEARCH_ROWS = 10

UNREADABLE = "unreadable"
MISSING_COLUMNS = "missing_columns"
EMPTY = "empty"

#: Why a file is ``unreadable``, as a key (``FileRejected.params["cause"]``): the district
#: feedback says it in Bahasa Indonesia from the key (``messages.PHRASES["unreadable_<key>"]``)
#: instead of guessing it from the English detail.
ZERO_BYTES, TOO_LARGE, LIMIT, NUL, ENCODING, CSV_BROKEN, XLSX_BROKEN, OTHER = (
    "zero_bytes", "too_large", "limit", "nul", "encoding", "csv", "xlsx", "other",
)  # fmt: skip
UNREADABLE_CAUSES = (ZERO_BYTES, TOO_LARGE, LIMIT, NUL, ENCODING, CSV_BROKEN, XLSX_BROKEN, OTHER)

_FORMATS = {".csv": "csv", ".xlsx": "xlsx"}
_SCAN_BLOCK = 1 << 20  # bytes per block of the CSV pre-scan
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_EOF_IN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_LOOKAHEAD_CSV = 1_000  # rows per chunk when looking for the first non-empty CSV row
_DETAIL_CHARS = 500  # a rejection detail is one readable sentence, never a quoted 50 MB cell
_SMALL_PART = 1 * MB  # XLSX parts up to this size are not held to the compression ratio
_PREFIX = rb"<(?:[A-Za-z_][\w.-]*:)?"  # an XML start tag, with or without a namespace prefix
_SHARED_STRING = re.compile(_PREFIX + rb"si[\s>/]")
_ROW_START = re.compile(_PREFIX + rb"row[\s>/]")
_ROW_NUMBER = re.compile(rb"[^>]*?(?<![\w:.-])r\s*=\s*[\"'](\d+)")  # after "<row"
_AFTER_TAG = (b" ", b">", b"/", b"\t", b"\n", b"\r")
_ROW_TAGS = EXCEL_MAX_COLUMNS * 8  # start tags in one row: cells with rich text runs


class FileRejected(Exception):
    """The whole file is rejected (contract §3): nothing in it is loaded.

    ``reason`` is the contract's file-level reason code, ``detail`` a sentence in English for
    engineers and auditors, ``rows_total`` the file's data rows when its header was located
    (contract §7), else 0. ``params`` are the same facts as data for the district feedback
    (``audit.file_versions.rejection_params``): ``cause`` (one of :data:`UNREADABLE_CAUSES`)
    of an unreadable file; ``columns`` and ``header_row`` (None: no header row found) of
    missing columns. Column names and numbers only, never a cell's value.
    """

    def __init__(
        self, reason: str, detail: str, rows_total: int = 0, params: dict | None = None
    ) -> None:
        # The detail leaves the quarantine (run log, feedback, audit.file_versions): no
        # identifier quoted from a cell, and bounded length.
        detail = scrub_identifiers(detail)
        if len(detail) > _DETAIL_CHARS:
            detail = detail[: _DETAIL_CHARS - 1] + "…"
        params = dict(params or {})
        super().__init__(reason, detail, rows_total, params)  # keeps the exception picklable
        self.reason = reason
        self.detail = detail
        self.rows_total = rows_total
        self.params = params

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


def unreadable(cause: str, detail: str) -> FileRejected:
    """An ``unreadable`` rejection with its cause key (one of :data:`UNREADABLE_CAUSES`)."""
    if cause not in UNREADABLE_CAUSES:
        raise ValueError(f"unknown unreadable cause {cause!r}")
    return FileRejected(UNREADABLE, detail, params={"cause": cause})


def normalise_header(name: str) -> str:
    """Contract §2 header normalisation: ``" KODE KAB/KOTA "`` -> ``"kode_kab_kota"``."""
    return _NON_ALNUM.sub("_", name.strip().lower()).strip("_")


def file_format_of(path: Path | str) -> str | None:
    """``"csv"`` / ``"xlsx"`` from the file extension (any case), ``None`` for anything else."""
    return _FORMATS.get(Path(path).suffix.lower())


@dataclass
class _Layout:
    """Where the wanted columns sit in a row of the file.

    ``width`` is the number of header columns: cells at or beyond it are ignored, cells below
    it decide whether a row is fully empty. ``positions`` maps each output column to its
    0-based cell index; an output column absent from the file maps to ``None`` (only used when
    counting rows of a file that is being rejected).
    """

    width: int
    positions: dict[str, int | None]


@dataclass
class OpenedTable:
    """A submitted file that passed every file-level check; iterate it with :meth:`chunks`."""

    path: Path
    file_format: str  # 'csv' | 'xlsx'
    encoding: str | None  # 'utf-8', 'utf-8-sig' or 'cp1252' for CSV; None for XLSX
    delimiter: str | None  # ',' or ';' for CSV; None for XLSX
    columns: list[str]  # normalised header, in file order (blank names included as "")
    extra_columns: list[str]  # normalised names not requested (warning unexpected_columns)
    header_row: int  # 1-based row (XLSX) / record (CSV) number of the header
    _layout: _Layout = field(repr=False)
    limits: InputLimits = field(default_factory=InputLimits, repr=False)
    _row_reached: int = field(default=0, repr=False)  # last row read, for error messages
    #: XLSX: the reader of :meth:`chunks`, chosen by open_table's byte scan (``_SheetScan``)
    _xlsx_engine: str = field(default="openpyxl", repr=False)
    #: XLSX: the reader that produced the rows of the last :meth:`chunks` (calamine falls
    #: back to openpyxl when it fails)
    _xlsx_read_by: str | None = field(default=None, repr=False)

    def chunks(self, chunk_rows: int = 200_000) -> Iterator[pd.DataFrame]:
        """Yield the non-empty data rows, at most ``chunk_rows`` per DataFrame, in file order.

        Columns: the requested ones (object dtype, ``None`` = missing) then ``row_number``
        (int64). Each chunk has a fresh ``RangeIndex``. No empty DataFrame is yielded.
        Each call reads the file again from the start.

        Any failure while reading (a sheet whose XML breaks after the first rows, a bad CRC,
        ``MemoryError``, a cell longer than the limit) raises :class:`FileRejected`
        ``unreadable`` naming the row reached: one broken file must not fail the district.
        ``OSError`` is not converted (the disk or the archive, not the file, failed).
        """
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be at least 1")
        self._row_reached = self.header_row
        if self.file_format == "csv":
            source = self._csv_chunks(chunk_rows)
        else:
            source = self._xlsx_chunks(chunk_rows)
        try:
            for frame in source:
                self._check_cell_lengths(frame)
                yield frame
        except FileRejected as exc:
            where = self._where(exc.detail)
            raise FileRejected(exc.reason, where, exc.rows_total, exc.params) from exc
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - MemoryError, parser bugs: the file's fault
            raise unreadable(OTHER, self._where(_unexpected(exc))) from exc
        finally:
            source.close()

    def _where(self, detail: str) -> str:
        if "row " in detail or self._row_reached <= self.header_row:
            return detail
        return f"{detail} (reading stopped after row {self._row_reached})"

    def _check_cell_lengths(self, frame: pd.DataFrame) -> None:
        """File-level ``unreadable`` for a cell longer than the limit (docs/input-limits.md)."""
        limit = self.limits.max_cell_chars
        for name in self._layout.positions:
            values = frame[name].to_numpy()
            if max(map(len, filter(None, values)), default=0) <= limit:
                continue
            lengths = np.fromiter((len(v) if v else 0 for v in values), dtype=np.int64)
            at = int(np.argmax(lengths > limit))
            raise unreadable(
                LIMIT,
                _long_cell_detail(name, int(frame["row_number"].iat[at]), int(lengths[at]), limit),
            )

    def count_data_rows(self) -> int:
        """Number of non-empty data rows (``rows_total``); reads the whole file."""
        return sum(len(chunk) for chunk in self.chunks())

    def _has_data_row(self) -> bool:
        """Cheap look-ahead: stop at the first non-empty data row."""
        chunks = self.chunks(_LOOKAHEAD_CSV)
        try:
            return next(chunks, None) is not None
        finally:
            chunks.close()

    # -- CSV -------------------------------------------------------------------------------

    def _csv_reader(self, chunk_rows: int, usecols: list[int]) -> Any:
        assert self.encoding is not None and self.delimiter is not None
        return pd.read_csv(
            self.path,
            sep=self.delimiter,
            quotechar='"',
            doublequote=True,
            header=0,  # the header record is consumed here and replaced by `names`
            names=[f"c{i}" for i in range(self._layout.width)],
            # usecols makes the C parser accept records longer than the header (the surplus
            # is dropped) and pads shorter ones with "", instead of failing the whole file.
            usecols=usecols,
            index_col=False,
            dtype=object,
            na_filter=False,  # "NA", "null", "" stay text: emptiness is decided below
            skip_blank_lines=False,  # keep one row per record so row numbers stay physical
            encoding=self.encoding,
            encoding_errors="strict",
            engine="c",
            chunksize=chunk_rows,
        )

    def _csv_chunks(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        width = self._layout.width
        next_row = self.header_row + 1
        try:
            with self._csv_reader(chunk_rows, list(range(width))) as reader:
                for raw in reader:
                    count = len(raw)
                    row_numbers = np.arange(next_row, next_row + count, dtype=np.int64)
                    next_row += count
                    self._row_reached = next_row - 1
                    cells = [_trimmed(raw.iloc[:, i].to_numpy()) for i in range(width)]
                    frame = _frame(self._layout, cells, row_numbers)
                    if len(frame):
                        yield frame
        except pd.errors.EmptyDataError:
            return
        except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
            raise _csv_parser_rejection(exc) from exc

    def _validate_csv_structure(self) -> None:
        """Tokenise the whole file once under RFC 4180's strict rules (contract §2).

        pandas' C parser is lenient: it reads ``"PSKS01"x`` as ``PSKS01x`` and only notices an
        unclosed quote at the end of the file, after every row was judged. Python's ``csv``
        module in strict mode rejects both, so this pass runs first and a broken file is
        ``unreadable`` before any row is read. Quoting can only be broken where a ``"`` occurs,
        so a file without one is not tokenised at all (a cheap byte scan decides).
        """
        assert self.encoding is not None and self.delimiter is not None
        if not _file_contains(self.path, b'"'):
            return
        with open(self.path, encoding=self.encoding, errors="strict", newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter, quotechar='"', strict=True)
            record = 0
            try:
                for _ in reader:
                    record += 1
            except csv.Error as exc:
                raise unreadable(CSV_BROKEN, _strict_csv_message(exc, record + 1)) from exc
            except UnicodeDecodeError as exc:
                raise _csv_parser_rejection(exc) from exc

    # -- XLSX ------------------------------------------------------------------------------

    def _xlsx_chunks(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        layout = self._layout
        width = layout.width
        wanted = [(name, pos) for name, pos in layout.positions.items()]
        columns: dict[str, list[str | None]] = {name: [] for name, _ in wanted}
        numbers: list[int] = []
        # open_table ran the zip checks on these bytes already (the archived copy is immutable)
        source_rows = _XlsxRows(self.path, self.limits, check=False, engine=self._xlsx_engine)
        with source_rows as source, closing(source.iter(self.header_row + 1)) as rows:
            try:
                for row_number, values in rows:
                    self._row_reached = row_number
                    cells = [_cell_text(v) for v in values[:width]]
                    if all(c is None for c in cells):
                        continue
                    cells.extend([None] * (width - len(cells)))
                    for name, pos in wanted:
                        columns[name].append(None if pos is None else cells[pos])
                    numbers.append(row_number)
                    if len(numbers) >= chunk_rows:
                        yield _frame_from_lists(columns, numbers)
                        columns = {name: [] for name, _ in wanted}
                        numbers = []
            finally:
                self._xlsx_read_by = source.engine  # openpyxl if calamine gave up midway
        if numbers:
            yield _frame_from_lists(columns, numbers)


def open_table(
    path: Path | str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    limits: InputLimits | None = None,
) -> OpenedTable:
    """Open a submitted CSV/XLSX file and run every file-level check of contract §2/§3.

    ``required``: normalised column names that must all be in the header (else
    ``missing_columns``). ``optional``: columns delivered when present (all ``None`` when not)
    and never reported as extra. Raises :class:`FileRejected`; ``ValueError`` for a file that
    is neither .csv nor .xlsx or for column names that are not normalised (caller bugs).
    ``limits``: :class:`~sinergi.limits.InputLimits` (the defaults when None); any failure of
    the parsers, ``MemoryError`` included, is ``unreadable`` too (``OSError`` propagates).
    """
    limits = limits or InputLimits()
    path = Path(path)
    wanted = list(required) + [c for c in optional if c not in required]
    bad = [c for c in wanted if normalise_header(c) != c or not c]
    if bad:
        raise ValueError(f"column names must be normalised: {bad}")
    file_format = file_format_of(path)
    if file_format is None:
        raise ValueError(f"not a .csv or .xlsx file: {path.name}")
    size = path.stat().st_size
    if size == 0:
        raise unreadable(ZERO_BYTES, "file is 0 bytes")
    if size > limits.max_file_bytes:
        raise unreadable(TOO_LARGE, file_too_large_detail(size, limits))
    try:
        if file_format == "csv":
            return _open_csv(path, list(required), wanted, limits)
        return _open_xlsx(path, list(required), wanted, limits)
    except (FileRejected, OSError):
        raise
    except Exception as exc:  # noqa: BLE001 - MemoryError, parser bugs: the file's fault
        raise unreadable(OTHER, _unexpected(exc)) from exc


def file_too_large_detail(size: int, limits: InputLimits) -> str:
    return (
        f"the file is {size / MB:,.1f} MB, larger than the limit of "
        f"{limits.max_file_bytes / MB:,.0f} MB (SINERGI_MAX_FILE_MB); split it or remove "
        "what is not part of the dataset"
    )


def _unexpected(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "the file needs more memory to read than the server has; it is not readable"
    text = str(exc)[:200]
    return (
        f"the file could not be read ({type(exc).__name__}: {text})"
        if text
        else (f"the file could not be read ({type(exc).__name__})")
    )


def _long_cell_detail(column: str, row: int, length: int, limit: int) -> str:
    return (
        f"row {row}, column {column}: a cell of {length:,} characters, more than the limit of "
        f"{limit:,} (SINERGI_MAX_CELL_CHARS); no value of this dataset is that long "
        "(check for a pasted text or a broken export)"
    )


def _check_header(header: list[str], raw: Sequence[str], where: str, limits: InputLimits) -> None:
    """File-level limits on the header row: its width and the length of its cells."""
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    if width > limits.max_columns:
        raise unreadable(
            LIMIT,
            f"the header ({where}) has {width:,} columns, more than the limit of "
            f"{limits.max_columns:,} (SINERGI_MAX_COLUMNS); send only the dataset's columns",
        )
    longest = max((len(cell) for cell in raw), default=0)
    if longest > limits.max_cell_chars:
        raise unreadable(
            LIMIT,
            f"the header ({where}) has a cell of {longest:,} characters, more than the limit "
            f"of {limits.max_cell_chars:,} (SINERGI_MAX_CELL_CHARS)",
        )


def _header_layout(
    header: list[str], required: list[str], wanted: list[str]
) -> tuple[_Layout, list[str], list[str]]:
    """Layout, extra columns and missing required columns of a normalised header."""
    while header and not header[-1]:
        header = header[:-1]  # trailing blank header cells carry no column
    first: dict[str, int] = {}
    extra: list[str] = []
    for index, name in enumerate(header):
        if name and name in first:
            extra.append(name)  # duplicate: the leftmost one is used
        elif name:
            first[name] = index
            if name not in wanted:
                extra.append(name)
    missing = [c for c in required if c not in first]
    layout = _Layout(width=len(header), positions={c: first.get(c) for c in wanted})
    return layout, extra, missing


def _missing_detail(missing: list[str], where: str) -> str:
    return f"missing column(s): {', '.join(missing)} ({where})"


def _missing_params(missing: list[str], header_row: int | None) -> dict:
    return {"columns": list(missing), "header_row": header_row}


# -- CSV -----------------------------------------------------------------------------------


def _open_csv(
    path: Path, required: list[str], wanted: list[str], limits: InputLimits
) -> OpenedTable:
    widths = _LineWidths()
    encoding = _csv_encoding(path, widths)
    first_line = _first_line(path, encoding)
    if len(first_line) >= _SCAN_BLOCK:
        raise unreadable(
            LIMIT,
            f"the header line is longer than {_SCAN_BLOCK:,} characters: not a dataset header",
        )
    delimiter, header = _csv_header(path, encoding, first_line, required)
    widths.check(delimiter)
    normalised = [normalise_header(h) for h in header]
    _check_header(normalised, header, "line 1", limits)
    layout, extra, missing = _header_layout(normalised, required, wanted)
    if layout.width == 0:
        layout.width = 1  # a blank first line is still one (empty) column for the parser
    table = OpenedTable(
        path=path,
        file_format="csv",
        encoding=encoding,
        delimiter=delimiter,
        columns=normalised[: layout.width],
        extra_columns=extra,
        header_row=1,
        _layout=layout,
        limits=limits,
    )
    table._validate_csv_structure()
    if missing:
        raise FileRejected(
            MISSING_COLUMNS,
            _missing_detail(missing, f"header line 1, delimiter {delimiter!r}"),
            rows_total=table.count_data_rows(),
            params=_missing_params(missing, 1),
        )
    if not table._has_data_row():
        raise FileRejected(EMPTY, "no data rows below the header (line 1)")
    return table


class _LineWidths:
    """The most ``,`` and ``;`` on one physical line, fed block by block (C-level scans).

    pandas tokenises every field of a record before ``usecols`` drops the surplus (a line of
    20 million commas took 300 MB), so a line with more delimiters than a spreadsheet row has
    cells is refused before pandas runs. Only lines longer than that many bytes are counted.
    """

    def __init__(self) -> None:
        self.line = 1  # physical line being read
        self.length = 0  # bytes of it so far
        self.count = {",": 0, ";": 0}
        self.widest = {",": (0, 0), ";": (0, 0)}  # delimiter -> (count, line)

    def feed(self, block: bytes) -> None:
        parts = block.split(b"\n")
        if self.length + max(map(len, parts)) <= EXCEL_MAX_COLUMNS:  # no line can be too wide
            if len(parts) > 1:
                self.line += len(parts) - 1
                self.length = 0
            self.length += len(parts[-1])
            return
        for index, part in enumerate(parts):
            if index:
                self.line, self.length = self.line + 1, 0
                self.count = {",": 0, ";": 0}
            self.length += len(part)
            if self.length > EXCEL_MAX_COLUMNS:
                for delimiter in self.count:
                    self.count[delimiter] += part.count(delimiter.encode())
                    if self.count[delimiter] > self.widest[delimiter][0]:
                        self.widest[delimiter] = (self.count[delimiter], self.line)

    def check(self, delimiter: str) -> None:
        count, line = self.widest[delimiter]
        if count >= EXCEL_MAX_COLUMNS:
            raise unreadable(
                LIMIT,
                f"line {line} has {count + 1:,} or more cells, more than any spreadsheet row "
                f"({EXCEL_MAX_COLUMNS:,}); not a dataset row (broken export?)",
            )


def _csv_encoding(path: Path, widths: _LineWidths | None = None) -> str:
    """Stream the bytes once: NUL check, UTF-8 validity, Windows-1252 validity, line widths."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    cp1252_bad: int | None = None  # offset of the first byte undefined in Windows-1252
    offset = 0
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        while block := handle.read(_SCAN_BLOCK):
            nul = block.find(b"\x00")
            if nul >= 0:
                raise unreadable(NUL, _nul_detail(offset + nul, head))
            if utf8_ok:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
            if cp1252_bad is None and (match := _CP1252_UNDEFINED.search(block)):
                cp1252_bad = offset + match.start()
            if widths is not None:
                widths.feed(block)
            offset += len(block)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)  # a multi-byte character cut off at the end
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if cp1252_bad is not None:
        with path.open("rb") as handle:
            handle.seek(cp1252_bad)
            byte = handle.read(1)[0]
        raise unreadable(
            ENCODING,
            f"not valid UTF-8 and not Windows-1252 either: byte 0x{byte:02X} at offset "
            f"{cp1252_bad} (save the file as 'CSV UTF-8')",
        )
    return "cp1252"


def _nul_detail(offset: int, head: bytes) -> str:
    detail = f"NUL byte at offset {offset}: not a text CSV"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        detail += " (it looks UTF-16 encoded; save it as 'CSV UTF-8')"
    elif head.startswith(b"PK\x03\x04"):
        detail += " (it looks like an XLSX workbook renamed to .csv)"
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        detail += " (it looks like a legacy .xls workbook renamed to .csv)"
    return detail


def _first_line(path: Path, encoding: str) -> str:
    """The first physical line (at most 1 MiB of it), for choosing the delimiter."""
    with path.open(encoding=encoding, newline="") as handle:
        return handle.readline(_SCAN_BLOCK).rstrip("\r\n")


def _count_outside_quotes(line: str, char: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted  # "" inside a quoted field toggles twice: no net effect
        elif c == char and not quoted:
            count += 1
    return count


def _csv_header(
    path: Path, encoding: str, first_line: str, required: list[str]
) -> tuple[str, list[str]]:
    """Choose the delimiter and parse the header record with it (RFC 4180)."""
    counts = {d: _count_outside_quotes(first_line, d) for d in (",", ";")}
    candidates = [d for d in (",", ";") if counts[d]] or [","]
    # Never split a header wider than any spreadsheet into a list (a 1,000,000-column line).
    candidates = [d for d in candidates if counts[d] < EXCEL_MAX_COLUMNS]
    if not candidates:
        widest = max(counts.values()) + 1
        raise unreadable(
            LIMIT,
            f"the header (line 1) has {widest:,} columns or more, more than any spreadsheet "
            "holds; send only the dataset's columns",
        )
    best: tuple[tuple[int, int], str, list[str]] | None = None
    for delimiter in candidates:
        header = _read_header_record(path, encoding, delimiter)
        found = len(set(required) & {normalise_header(h) for h in header})
        score = (found, counts[delimiter])
        if best is None or score > best[0]:  # ties keep the earlier candidate: ','
            best = (score, delimiter, header)
    assert best is not None
    return best[1], best[2]


def _read_header_record(path: Path, encoding: str, delimiter: str) -> list[str]:
    try:
        with path.open(encoding=encoding, newline="") as handle:
            return next(csv.reader(handle, delimiter=delimiter, quotechar='"'), [])
    except csv.Error as exc:
        raise unreadable(CSV_BROKEN, f"the header line is not valid CSV: {exc}") from exc


def _file_contains(path: Path, needle: bytes, block: int = 1 << 20) -> bool:
    """Whether a one-byte ``needle`` occurs anywhere in the file (read in 1 MiB blocks)."""
    with open(path, "rb") as handle:
        while data := handle.read(block):
            if needle in data:
                return True
    return False


def _strict_csv_message(exc: csv.Error, row: int) -> str:
    """Python's strict csv errors rewritten for a district operator; ``row`` is the record."""
    text = str(exc)
    if "unexpected end of data" in text:
        return (
            f'not valid CSV: the quoted field opened in row {row} is never closed (a " '
            "without its closing quote, so the rest of the file would be one cell)"
        )
    if "expected after" in text:
        return (
            f"not valid CSV: in row {row} a quoted cell is followed by other characters before "
            f'the next delimiter (write the whole cell inside the quotes, e.g. "PSKS01x", or '
            "remove the quotes)"
        )
    return f"not valid CSV in row {row}: {text}"


def _csv_parser_rejection(exc: Exception) -> FileRejected:
    """A tokenizer or decoding failure as ``unreadable`` (encoding or broken CSV)."""
    cause = ENCODING if isinstance(exc, UnicodeDecodeError) else CSV_BROKEN
    return unreadable(cause, _csv_parser_message(exc))


def _csv_parser_message(exc: Exception) -> str:
    """pandas' tokenizer messages rewritten for a district operator."""
    text = str(exc).strip()
    if isinstance(exc, UnicodeDecodeError):
        return f"the file could not be decoded: {exc.reason} at byte offset {exc.start}"
    if match := _EOF_IN_QUOTE.search(text):
        # pandas counts records from 0 with the header as 0: +1 gives our row number.
        row = int(match.group(1)) + 1
        return (
            f'not valid CSV: the quoted field opened in row {row} is never closed (a " '
            "without its closing quote, so the rest of the file would be one cell)"
        )
    text = text.replace("Error tokenizing data. C error: ", "")
    if "Buffer overflow" in text:
        return "not valid CSV: a record is far too long (broken quoting or not a CSV file)"
    return f"not valid CSV: {text}"


# -- XLSX ----------------------------------------------------------------------------------


OPENPYXL, CALAMINE = "openpyxl", "calamine"


class _XlsxRows:
    """The first worksheet of a workbook as (worksheet row number, cell values) tuples.

    ``engine`` ``"openpyxl"`` streams the sheet. ``"calamine"`` (python-calamine, Rust) parses
    the whole sheet into memory first and is 5-8 times faster; open_table's byte scan
    (:class:`_SheetScan`) chooses it only for sheets where its values equal openpyxl's. Where
    calamine fails all the same (not installed, a damaged part, a value it cannot convert),
    openpyxl reads the rows from the first one calamine did not yield, so a broken file is
    rejected with openpyxl's words and row, as before calamine; ``engine`` then says
    ``"openpyxl"``.

    Every openpyxl failure, at opening or while streaming, becomes ``unreadable``: a damaged
    archive can fail late (a CRC error in the sheet XML surfaces only when that part is read).
    ``check``: run the zip-bomb and row checks first; ``scan`` then holds what they learnt.
    """

    def __init__(
        self,
        path: Path,
        limits: InputLimits | None = None,
        check: bool = True,
        engine: str = OPENPYXL,
    ) -> None:
        self.path = path
        self.limits = limits or InputLimits()
        self.check = check
        self.engine = engine
        self.scan: _SheetScan | None = None
        self._workbook: Any = None
        self._sheet: Any = None  # calamine: the first worksheet, materialised

    def __enter__(self) -> _XlsxRows:
        if not zipfile.is_zipfile(self.path):
            raise unreadable(XLSX_BROKEN, _not_zip_detail(self.path))
        if self.check:
            self.scan = _check_xlsx_archive(self.path, self.limits)
        if self.engine == CALAMINE:
            self._sheet = _calamine_first_sheet(self.path)
            if self._sheet is not None:
                return self
            self.engine = OPENPYXL
        self._open_openpyxl()
        return self

    def _open_openpyxl(self) -> None:
        import openpyxl  # imported lazily: only XLSX submissions pay for it

        try:
            self._workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure means "not a workbook"
            raise unreadable(XLSX_BROKEN, f"not valid XLSX: {_describe(exc)}") from exc
        if not self._workbook.worksheets:
            self.__exit__()
            raise unreadable(XLSX_BROKEN, "not valid XLSX: the workbook has no worksheet")

    def __exit__(self, *exc_info: object) -> None:
        self._sheet = None
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def iter(
        self, first_row: int = 1, last_row: int | None = None
    ) -> Generator[tuple[int, Sequence[Any]], None, None]:
        """Rows ``first_row``..``last_row`` (to the end when None), gaps filled with empty
        rows (``()`` from openpyxl, ``""`` cells from calamine)."""
        if self.engine == CALAMINE:
            yield from self._iter_calamine(first_row, last_row)
        else:
            yield from self._iter_openpyxl(first_row, last_row)

    def _iter_openpyxl(
        self, first_row: int, last_row: int | None
    ) -> Generator[tuple[int, Sequence[Any]], None, None]:
        sheet = self._workbook.worksheets[0]
        # Stored dimensions can be wrong (some generators write "A1"); read what is there.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(min_row=first_row, max_row=last_row, values_only=True)
        try:
            # openpyxl fills gaps between stored rows with empty rows, so counting from
            # first_row gives the worksheet row number.
            yield from enumerate(rows, start=first_row)
        except FileRejected:
            raise
        except Exception as exc:  # noqa: BLE001
            raise unreadable(XLSX_BROKEN, f"not valid XLSX: {_describe(exc)}") from exc
        finally:
            rows.close()  # release the sheet's XML stream before the archive is closed

    def _iter_calamine(
        self, first_row: int, last_row: int | None
    ) -> Generator[tuple[int, Sequence[Any]], None, None]:
        """The rows openpyxl would give, as far as :func:`_cell_text` can tell.

        calamine's ``iter_rows`` counts rows from row 1 but columns from the first used
        column, so the columns left of it are put back as ``None``; an empty cell is ``""``
        (``_cell_text`` makes it ``None``, as openpyxl's ``None``). Rows are as wide as the
        used range; openpyxl's end at their last cell: the extra cells are empty.
        """
        sheet = self._sheet
        reached = first_row - 1  # the last row yielded
        try:
            start = sheet.start
            if start is None:  # no cell at all (iter_rows would panic)
                return
            pad = [None] * start[1]
            for number, values in enumerate(sheet.iter_rows(), start=1):
                if number < first_row:
                    continue
                if last_row is not None and number > last_row:
                    return
                reached = number
                yield number, (pad + values if pad else values)
            return
        except BaseException as exc:  # pyo3's PanicException is a BaseException
            if not _calamine_failure(exc):
                raise
        self.engine = OPENPYXL
        self._sheet = None
        self._open_openpyxl()
        yield from self._iter_openpyxl(reached + 1, last_row)


def _calamine_failure(exc: BaseException) -> bool:
    """An error of calamine (or of its Python binding), not an interruption of Python."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _calamine_available() -> bool:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    return True


def _calamine_first_sheet(path: Path) -> Any | None:
    """The first worksheet parsed by python-calamine; None where calamine cannot read it."""
    try:
        import python_calamine
    except ImportError:
        return None
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        try:
            for index, meta in enumerate(workbook.sheets_metadata):
                if meta.typ == python_calamine.SheetTypeEnum.WorkSheet:
                    return workbook.get_sheet_by_index(index)
            return None
        finally:
            workbook.close()
    except BaseException as exc:  # pyo3's PanicException is a BaseException
        if not _calamine_failure(exc):
            raise
        return None


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"a zip archive without the parts of an Excel workbook ({str(exc)[:200]})"
    if isinstance(exc, MemoryError):
        return "the workbook needs more memory to read than the server has"
    text = str(exc)[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- XLSX: may python-calamine read the sheet? ---------------------------------------------

#: python-calamine materialises the sheet's used rectangle (32 bytes a cell) before the first
#: row, and a failed allocation in Rust aborts the process instead of raising MemoryError (a
#: stray cell at XFD1 of a 46,713-row sheet did): above this estimate openpyxl streams the
#: sheet. A synthetic 200,000 x 13 sheet is estimated at 322 MB (peak RSS of the read 230 MB).
CALAMINE_MAX_ESTIMATE = 400 * MB

_ESCAPE = re.compile(rb"_x[0-9A-Fa-f]{4}_")  # calamine decodes it, openpyxl keeps it
_BAD_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)")
_PREFIXED_MAIN = re.compile(
    rb'xmlns:[\w.-]+="http://schemas\.openxmlformats\.org/spreadsheetml/2006/main"'
)
#: attributes not as Excel, LibreOffice or openpyxl write them (in the styles part)
_UNUSUAL_SPELLING = (b"='", b" =", b"= ", b"\t=", b"=\t", b"\n=", b"=\n", b"\r=", b"=\r")
_EQUALS, _QUOTE, _AMPERSAND, _APOSTROPHE, _LT, _GT = 61, 34, 38, 39, 60, 62
_EVERY_BYTE = np.uint64(0x0101010101010101)  # times a byte: that byte in all 8 places
_PAD = 24  # zero bytes around a block in numpy, so that look-ups stay inside the array
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True
_CAPITAL = np.zeros(256, dtype=bool)
_CAPITAL[ord("A") : ord("Z") + 1] = True
#: first bytes of "inf", "nan", "true", "false" in any case
_WORDY = np.zeros(256, dtype=bool)
_WORDY[list(b"iInNtTfF")] = True
_LOW_BYTES = np.array([(1 << (8 * n)) - 1 for n in range(8)], dtype=np.uint64)
#: a date cell whose value openpyxl and calamine read alike: 0 <= serial < 1,000,000
#: (negative serials: a date vs a time; beyond 2,958,465 (9999-12-31): #VALUE! vs a number)
_SAFE_DATE = rb"(?![0-9]{1,6}(?:\.[0-9]+)?(?:<|\Z))"
_NUMBER_FORMAT = re.compile(rb"<numFmt\b([^>]*)>")
_CELL_XFS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(rb"<xf\b([^>]*)>")
_NUM_FMT_ID = re.compile(rb'\bnumFmtId="([0-9]+)"')
_FORMAT_CODE = re.compile(rb'\bformatCode="([^"]*)"')
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')  # quoted, escaped, [Red], padding
_DATE_LETTERS = re.compile(r"[dmyhsDMYHS]")


def _scan_step(method: Any) -> Any:
    """The scan only chooses a reader and must never reject a file: a failure of its own
    (a bug, MemoryError) sends the sheet to openpyxl; after a refusal it stops looking."""

    @functools.wraps(method)
    def step(self: _SheetScan, *args: Any, **keywords: Any) -> None:
        if self.why_not is not None:
            return
        try:
            method(self, *args, **keywords)
        except Exception as exc:  # noqa: BLE001
            self.refuse(f"the scan failed ({type(exc).__name__})")

    return step


@dataclass
class _SheetScan:
    """What the byte scan of a workbook says about reading its first sheet with calamine.

    python-calamine (0.9) reads some cells otherwise than openpyxl: error cells (``#N/A``
    becomes ``""``: the reason code would change from ``invalid_*`` to ``missing_value``),
    integers beyond 2**53 (read through a float: a 16-digit NIK starting with 9 would
    change), cells placed by their own ``r=`` where openpyxl goes by the ``<row>`` element
    (rows out of order or repeated, a cell naming another row, cells out of column order),
    ``_xHHHH_`` escapes (decoded), date cells out of Excel's range (openpyxl: a date or
    ``#VALUE!``; calamine: a time or the number), "inf"/"nan"/"true" values, and XML
    openpyxl's parser refuses where calamine reads on (start and end tags that do not
    balance, an ``&`` that starts no entity). Any of them, or XML written otherwise than
    Excel, LibreOffice and openpyxl write it (namespace prefixes, single quotes, spaces
    around ``=``, a cell without ``r=`` first), leaves the sheet to openpyxl: ``why_not``
    says why. Values neither reader can parse need no check: calamine then fails, and
    openpyxl reads the file (:class:`_XlsxRows`).
    Every worksheet of the workbook is scanned (which one is first is only known from
    ``workbook.xml``): another sheet can send the first one to openpyxl, never the reverse.

    The checks are C-level byte searches, regular expressions and numpy over each block the
    zip-bomb scan inflates anyway: no second pass over the archive.
    """

    why_not: str | None = None
    max_row: int = 0  # highest row number of any sheet
    max_col: int = 0  # rightmost column (1-based) of any cell
    cells: int = 0
    string_cells: int = 0  # t="s": calamine copies the shared string into each cell
    sheet_bytes: int = 0
    longest_shared: int = 0  # bytes of the longest <si> element
    _dates: re.Pattern[bytes] | None = field(default=None, repr=False)
    _doubtful: re.Pattern[bytes] | None = field(default=None, repr=False)
    _pending: bytes = field(default=b"", repr=False)  # the sheet from its last "<c" on
    _row: int = field(default=0, repr=False)  # the last row of the sheet being scanned
    _row_packed: int = field(default=0, repr=False)  # its digits, as _place packs them
    _cell: tuple[int, int] = field(default=(0, 0), repr=False)  # last cell: packed row, column
    _first_block: bool = field(default=True, repr=False)
    _depth: int = field(default=0, repr=False)  # start tags minus end tags so far
    _shared_open: int = field(default=0, repr=False)  # bytes of the unfinished <si>
    _shared_tail: bytes = field(default=b"", repr=False)

    @property
    def engine(self) -> str:
        """``"calamine"`` when its values equal openpyxl's and its memory stays bounded."""
        fits = self.why_not is None and self.estimate() <= CALAMINE_MAX_ESTIMATE
        return CALAMINE if fits and _calamine_available() else OPENPYXL

    def estimate(self) -> int:
        """Bytes calamine holds: the dense range (32 a cell, from A1: an upper bound), the
        sparse cells it is built from (48 each), the strings (inline ones at most the XML's
        size; a shared string is copied into each of its cells: at most the longest)."""
        return (
            self.max_row * self.max_col * 32
            + self.cells * 48
            + self.sheet_bytes
            + self.string_cells * (self.longest_shared + 32)
        )

    def refuse(self, why: str) -> None:
        if self.why_not is None:
            self.why_not = why

    @_scan_step
    def read_styles(self, archive: zipfile.ZipFile, parts: list[zipfile.ZipInfo]) -> None:
        """Which cell styles are dates (``xl/styles.xml``, the part openpyxl and calamine
        read), so that date cells can be checked while the sheets are scanned."""
        names = [part.filename.lower() for part in parts]
        if any("dialogsheets/" in n or "macrosheets/" in n for n in names):
            self.refuse("dialog or macro sheets (which sheet is first may differ)")
        style = next((part for part in parts if part.filename == "xl/styles.xml"), None)
        if style is None:
            return
        try:
            data = archive.read(style) if style.file_size <= 16 * MB else None
        except Exception:  # noqa: BLE001 - the checks in zip order report it, as before
            data = None
        rules = _date_styles(data) if data is not None else None
        if rules is None:
            return self.refuse("styles that cannot be read by the scan")
        dates, doubtful = rules
        if 0 in dates or 0 in doubtful:
            return self.refuse("the default cell style is a date format")
        if dates:
            self._dates = re.compile(
                rb' s="0*(?:' + b"|".join(str(i).encode() for i in sorted(dates)) + rb')"'
                rb"[^>]*>\s*(?:<f\b[^>]*/>\s*|<f\b[^>]*>[^<]*</f>\s*)?<v>" + _SAFE_DATE
            )
        if doubtful:
            alternatives = b"|".join(str(i).encode() for i in sorted(doubtful))
            self._doubtful = re.compile(rb' s="0*(?:' + alternatives + rb')"')

    def start_sheet(self, part: zipfile.ZipInfo) -> None:
        self.sheet_bytes += part.file_size
        self._pending, self._row, self._row_packed, self._cell = b"", 0, 0, (0, 0)
        self._first_block, self._depth = True, 0

    @_scan_step
    def sheet_block(self, data: bytes) -> None:
        """A block of a worksheet, cut before a ``<`` (:func:`_tag_blocks`)."""
        if self._first_block:  # the root element and its namespace declarations
            self._first_block = False
            if b"purl.oclc.org/ooxml/spreadsheetml" in data or _PREFIXED_MAIN.search(data):
                return self.refuse("namespace-prefixed elements or Strict OOXML")
        # Cells are checked whole (start tag and value): up to the last "<c", the rest waits.
        buffer = self._pending + data if self._pending else data
        cut = buffer.rfind(b"<c")
        if cut <= 0:  # no whole cell yet
            self._pending = buffer
            if len(buffer) > 4 * _SCAN_BLOCK:
                self.refuse("more than 4 MiB of a sheet without a cell")
            return
        self._pending = buffer[cut:]
        self._cells(buffer, cut)

    @_scan_step
    def end_sheet(self) -> None:
        if self._pending:
            self._cells(self._pending, len(self._pending))
        self._pending = b""
        if self._depth != 0:  # calamine reads on where openpyxl's XML parser stops
            self.refuse("start and end tags that do not balance")

    def _cells(self, buffer: bytes, end: int) -> None:
        """Whole cells of ``buffer[:end]``: their attributes, references and values.

        numpy finds the ``=`` and ``<`` bytes (one comparison each over the block), the rest
        are look-ups at those positions. Every ``=`` must open a double-quoted value right
        after a name (single quotes, spaces around ``=``, ``=`` in a text: openpyxl); the
        one-letter attributes ``r=`` of ``<row`` and ``<c`` give the references, ``t=`` the
        types; every ``<c`` must start ``<c r="``.
        """
        # zero bytes around the block: look-ups before the first and after the last tag stay
        # inside the array
        raw = np.zeros(_PAD + end + _PAD, dtype=np.uint8)
        raw[_PAD : _PAD + end] = np.frombuffer(buffer, dtype=np.uint8, count=end)
        equals = np.flatnonzero(raw == _EQUALS)
        before, after = raw[equals - 1], raw[equals + 1]
        if np.any(_is_space(before) | _is_space(after) | (after == _APOSTROPHE)):
            return self.refuse("attributes in single quotes or with spaces around =")
        named = _is_space(raw[equals - 2])  # one-letter attribute names: r=, s=, t=
        types = equals[named & (before == ord("t"))]
        letter, closing = raw[types + 2], raw[types + 3] == _QUOTE
        if np.any(closing & ((letter == ord("e")) | (letter == ord("d")))):
            return self.refuse("an error cell or an ISO 8601 date cell")
        if buffer.find(b"&", 0, end) >= 0:
            if _BAD_AMPERSAND.search(buffer, 0, end):  # openpyxl's XML parser refuses it
                return self.refuse("an & that starts no XML entity")
            styled = equals[named & ((before == ord("t")) | (before == ord("s")))]
            if any(np.any(raw[styled + at] == _AMPERSAND) for at in range(2, 8)):
                return self.refuse("a character reference in a cell's type or style")
        self.string_cells += int(np.count_nonzero(closing & (letter == ord("s"))))
        refs = equals[named & (before == ord("r"))]
        is_cell = (raw[refs - 3] == ord("c")) & (raw[refs - 4] == _LT)
        is_row = raw[refs - 3] == ord("w")
        for offset, byte in ((4, ord("o")), (5, ord("r")), (6, _LT)):
            is_row &= raw[refs - offset] == byte
        if not np.all(is_cell | is_row):
            return self.refuse("an r= attribute of another element (a prefixed cell?)")
        tags = np.flatnonzero(raw == _LT)
        kind = raw[tags + 1]
        ends = int(np.count_nonzero(kind == ord("/")))
        others = int(np.count_nonzero((kind == ord("?")) | (kind == ord("!"))))
        closes = np.flatnonzero(raw == _GT)
        empty = int(np.count_nonzero(raw[closes - 1] == ord("/")))
        self._depth += len(tags) - others - empty - 2 * ends  # start tags - end tags
        cell_tags = int(np.count_nonzero(kind == ord("c")))
        cells = int(np.count_nonzero(is_cell))
        if cell_tags != cells and len(re.findall(rb"<c[\s>/]", buffer[:end])) != cells:
            return self.refuse("a cell whose first attribute is not r=")
        if len(refs):
            self._place(raw, refs, is_row)
        if self.why_not is not None:
            return
        if buffer.find(b"_", 0, end) >= 0 and _ESCAPE.search(buffer, 0, end):
            return self.refuse("an _xHHHH_ escape (calamine decodes it)")
        values = tags[(raw[tags + 1] == ord("v")) & (raw[tags + 2] == _GT)] + 3
        for at in values[_risky_values(raw, values)] - _PAD:  # rare: each is looked at
            cell = buffer.rfind(b"<c", 0, at)
            if cell < 0 or b' t="str"' not in buffer[cell : buffer.find(b">", cell)]:
                return self.refuse("an integer beyond 2**53 or a value like inf, nan, true")
        if self._dates is not None and self._dates.search(buffer, 0, end):
            return self.refuse("a date cell out of Excel's date range")
        if self._doubtful is not None and self._doubtful.search(buffer, 0, end):
            return self.refuse("a number format only one of the readers may take for a date")

    def _place(self, raw: np.ndarray, refs: np.ndarray, is_row: np.ndarray) -> None:
        """Row and cell references (positions of their ``=`` in ``raw``, in document order):
        rows ascending, each cell in its row, columns ascending in a row; the last row and
        cell carry over to the next block. The digits are compared as 8-byte words (SWAR):
        a handful of numpy operations per reference, whatever its length."""
        first, second, third, fourth = (_CAPITAL[raw[refs + at]] for at in range(2, 6))
        width = first.astype(np.int64) + (first & second) + (first & second & third)
        if np.any(first & second & third & fourth) or np.any(is_row == first):
            return self.refuse("a row reference with a column or a cell's without one")
        word = np.lib.stride_tricks.sliding_window_view(raw, 8)[refs + 2 + width]
        word = word.view("<u8")[:, 0]  # the digits, the closing quote and what follows
        quote = word ^ _EVERY_BYTE * np.uint64(_QUOTE)
        flagged = (quote - _EVERY_BYTE) & ~quote & (_EVERY_BYTE * np.uint64(0x80))
        length = (
            np.where(
                flagged > 0, np.log2((flagged & (~flagged + np.uint64(1))).astype(np.float64)), 64
            ).astype(np.int64)
            // 8
        )  # bytes before the first quote
        if np.any((length < 1) | (length > 7)):
            return self.refuse("a row or cell reference that is not plain")
        mask = _LOW_BYTES[length]
        packed = word & mask
        offset = packed ^ (_EVERY_BYTE * np.uint64(ord("0")) & mask)  # each digit byte: 0-9
        high = _EVERY_BYTE * np.uint64(0x80)
        if np.any(offset & high) or np.any(
            (offset + (_EVERY_BYTE * np.uint64(0x76) & mask)) & high
        ):
            return self.refuse("a row or cell reference that is not plain")
        # the row each token is in: the last row tag at or before it, else the carried one
        last_tag = np.maximum.accumulate(np.where(is_row, np.arange(len(refs)), -1))
        row_of = np.where(last_tag >= 0, packed[np.maximum(last_tag, 0)], self._row_packed)
        cells = ~is_row
        if np.any(packed[cells] != row_of[cells]):
            return self.refuse("a cell whose reference names another row")
        row_packed = packed[is_row]
        if len(row_packed):
            rows = np.zeros(len(row_packed), dtype=np.int64)
            for at in range(7):
                digit = ((offset[is_row] >> np.uint64(8 * at)) & np.uint64(0xFF)).astype(np.int64)
                rows = np.where(length[is_row] > at, rows * 10 + digit, rows)
            if rows[0] <= self._row or np.any(rows[1:] <= rows[:-1]):
                return self.refuse("rows out of ascending order")
        if cells.any():
            code = [raw[refs[cells] + at].astype(np.int64) - 64 for at in range(2, 5)]
            two = code[0] * 26 + code[1]
            column_width = width[cells]
            columns = np.where(
                column_width == 1, code[0], np.where(column_width == 2, two, two * 26 + code[2])
            )
            if columns.max() > EXCEL_MAX_COLUMNS:
                return self.refuse("a column beyond XFD")
            cell_rows = row_of[cells]
            same_row = cell_rows == np.concatenate(([self._cell[0]], cell_rows[:-1]))
            previous = np.concatenate(([self._cell[1]], columns[:-1]))
            if np.any(same_row & (columns <= previous)):
                return self.refuse("cells out of column order in a row")
            self._cell = (int(cell_rows[-1]), int(columns[-1]))
            self.max_col = max(self.max_col, int(columns.max()))
            self.cells += len(columns)
        if len(row_packed):
            self._row, self._row_packed = int(rows[-1]), int(row_packed[-1])
            self.max_row = max(self.max_row, self._row)

    @_scan_step
    def shared_strings_block(self, data: bytes, cut: int, last: bool = False) -> None:
        """A block of the shared strings (``data[:cut]``): the longest string, for the
        memory estimate, and ``_xHHHH_`` escapes."""
        if b":si>" in data or b":si " in data:
            return self.refuse("namespace-prefixed shared strings")
        boundary = self._shared_tail + data[:7]  # an escape split between two blocks
        if _ESCAPE.search(boundary) or (
            data.find(b"_", 0, cut) >= 0 and _ESCAPE.search(data, 0, cut)
        ):
            return self.refuse("an _xHHHH_ escape in the shared strings (calamine decodes it)")
        self._shared_tail = data[max(0, cut - 6) : cut]
        pieces = data[:cut].split(b"<si")
        if len(pieces) == 1:
            self._shared_open += len(pieces[0])
        else:
            self.longest_shared = max(
                self.longest_shared,
                self._shared_open + len(pieces[0]),
                max(map(len, pieces[1:-1]), default=0),
            )
            self._shared_open = len(pieces[-1])
        if last:
            self.longest_shared = max(self.longest_shared, self._shared_open)


def _risky_values(raw: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which cell values (positions in ``raw``) calamine may read otherwise than openpyxl:
    "inf", "nan" (Rust's f64 takes them, Python's int() not), "true" in a t="b" cell, and
    integers beyond 2**53 (17 digits or more, or 16 starting with 9: 2**53 + 1 =
    9,007,199,254,740,993 is the first that calamine's float changes). Values neither
    reader can parse fail calamine, and openpyxl then reads the file (``_XlsxRows``)."""
    first, second = raw[values], raw[values + 1]
    signed = (first == ord("-")) | (first == ord("+"))
    risky = _WORDY[first] | (signed & _WORDY[second])
    start = values + signed
    long = np.flatnonzero(_DIGIT[raw[start + 15]])  # 16 digits or more, or other text
    if len(long):
        window = np.lib.stride_tricks.sliding_window_view(raw, 18)[start[long]]
        digits = _DIGIT[window]
        digits[:, -1] = False
        run = np.argmin(digits, axis=1)
        big = (run >= 17) | ((run == 16) & (window[:, 0] == ord("9")))
        risky[long] |= big & ((window[np.arange(len(long)), run] == _LT) | (run == 17))
    return risky


def _is_space(values: np.ndarray) -> np.ndarray:
    """XML white space (and the other control bytes, never in a tag): byte <= 32."""
    return values <= 32


def _is_sheet_part(name: str) -> bool:
    name = name.lower()
    return "worksheets/" in name and name.endswith(".xml")


def _date_styles(data: bytes) -> tuple[set[int], set[int]] | None:
    """Cell styles (``cellXfs`` indexes) whose numbers openpyxl reads as dates, and those
    whose format has date letters openpyxl does not take for a date (calamine might);
    None when the part is not written as the scan expects."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    if b"<!DOCTYPE" in data or b":cellXfs" in data or b":numFmt" in data:
        return None
    if any(spelling in data for spelling in _UNUSUAL_SPELLING):
        return None
    custom: dict[int, str] = {}
    for attributes in _NUMBER_FORMAT.findall(data):
        number, code = _NUM_FMT_ID.search(attributes), _FORMAT_CODE.search(attributes)
        if number is None or code is None:
            return None
        custom[int(number[1])] = html.unescape(code[1].decode("utf-8", "replace"))
    section = _CELL_XFS.search(data)
    dates: set[int] = set()
    doubtful: set[int] = set()
    for index, attributes in enumerate(_XF.findall(section[1]) if section else []):
        found = _NUM_FMT_ID.search(attributes)
        number = int(found[1]) if found else 0
        code = custom[number] if number in custom else BUILTIN_FORMATS.get(number)
        if code is None:
            doubtful.add(index)  # a built-in id openpyxl does not know (CJK dates among them)
        elif is_date_format(code):
            dates.add(index)
        elif _DATE_LETTERS.search(_FORMAT_NOISE.sub("", code)):
            doubtful.add(index)
    return dates, doubtful


def _check_xlsx_archive(path: Path, limits: InputLimits) -> _SheetScan:
    """Zip-bomb limits from the central directory, before any XML is parsed.

    Python's ``zipfile`` never inflates a part beyond the size its central directory declares
    (it stops there and the CRC check fails), so the declared sizes bound what openpyxl can
    read. The shared strings are counted by a byte scan of the inflated part: openpyxl keeps
    every one of them in memory (10 million tiny strings took 2.2 GB).

    The same pass over the bytes tells whether python-calamine may read the sheet
    (:class:`_SheetScan`); it never rejects a file, so every rejection stays as it was.
    """
    scan = _SheetScan()
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            total = sum(part.file_size for part in parts)
            if total > limits.max_xlsx_uncompressed_bytes:
                raise unreadable(
                    LIMIT,
                    f"not a usable XLSX: it unpacks to {total / MB:,.0f} MB, more than the limit "
                    f"of {limits.max_xlsx_uncompressed_bytes / MB:,.0f} MB "
                    "(SINERGI_MAX_XLSX_UNCOMPRESSED_MB); split the file",
                )
            for part in parts:
                ratio = part.file_size / max(part.compress_size, 1)
                if part.file_size > _SMALL_PART and ratio > limits.max_xlsx_compression_ratio:
                    raise unreadable(
                        LIMIT,
                        f"not a usable XLSX: part {part.filename[:80]!r} is compressed "
                        f"{ratio:,.0f} times, more than the limit of "
                        f"{limits.max_xlsx_compression_ratio:,.0f} "
                        "(SINERGI_MAX_XLSX_COMPRESSION_RATIO; a sheet of real data is 5-20): "
                        "it is mostly repeated or empty cells",
                    )
            scan.read_styles(archive, parts)
            for part in parts:
                if part.filename.lower().endswith("sharedstrings.xml"):
                    _check_shared_strings(archive, part, limits, scan)
                else:
                    _check_rows(archive, part, scan)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise unreadable(XLSX_BROKEN, f"not valid XLSX: {_describe(exc)}") from exc
    return scan


def _tag_blocks(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> Iterator[bytes]:
    """The inflated part in blocks cut before a ``<``, so that no start tag straddles two."""
    carry = b""
    with archive.open(part) as stream:
        while block := stream.read(_SCAN_BLOCK):
            data = carry + block
            cut = data.rfind(b"<", max(0, len(data) - 256))
            cut = len(data) if cut < 0 else cut
            carry = data[cut:]
            yield data[:cut]
    yield carry


def _check_rows(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, scan: _SheetScan | None = None
) -> None:
    """Byte scan of one part: no row wider or lower than Excel allows, no DTD.

    openpyxl builds a whole ``<row>`` element before yielding it, treats every child of a row
    as a cell, and yields an empty row for every missing row number: one row of 20 million
    cells took 9 GB, ``<row r="999999999">`` would loop for minutes. Excel's own limits bound
    both: at most :data:`_ROW_TAGS` start tags inside one row (16,384 cells with a few tags
    each), row numbers up to 1,048,576; OOXML packages carry no DTD (entity bombs). Costs
    about 3 % of openpyxl's own parse of the same sheet (C-level ``split``/``count``).
    A worksheet's blocks are also handed to ``scan`` (:meth:`_SheetScan.sheet_block`), which
    about doubles that (docs/performance.md, "XLSX read by python-calamine").
    """
    tags = 0  # start tags inside the current (unfinished) row
    sheet = scan is not None and _is_sheet_part(part.filename)
    if sheet:
        scan.start_sheet(part)
    for data in _tag_blocks(archive, part):
        if b"<!DOCTYPE" in data:
            raise unreadable(XLSX_BROKEN, "not valid XLSX: a part declares a DTD")
        if sheet:
            scan.sheet_block(data)
        if b":row" in data:  # namespace-prefixed rows: exact (slower) split
            if sheet:
                scan.refuse("namespace-prefixed rows")
            pieces = [(True, p) for p in _ROW_START.split(data)]
            pieces[0] = (False, pieces[0][1])
        else:
            pieces = [(False, p) for p in data.split(b"<row")]
            # "<rowBreaks" and the like are no row: only "<row" + space, ">" or "/" is.
            pieces[1:] = [(p[:1] in _AFTER_TAG, p) for _, p in pieces[1:]]
        for first, piece in enumerate(pieces):
            new_row, segment = piece
            if new_row:
                tags = 0
                if (number := _ROW_NUMBER.match(segment)) and int(number[1]) > EXCEL_MAX_ROWS:
                    raise unreadable(
                        XLSX_BROKEN,
                        f"not valid XLSX: {part.filename[:80]!r} numbers a row beyond "
                        f"{EXCEL_MAX_ROWS:,}, the last row Excel allows",
                    )
            elif first:
                tags += 1  # "<rowBreaks": one more element
            tags += _start_tags(segment)
            if tags > _ROW_TAGS:
                raise unreadable(
                    XLSX_BROKEN,
                    f"not valid XLSX: a row of {part.filename[:80]!r} holds more than "
                    f"{_ROW_TAGS:,} XML elements, more than any Excel row "
                    f"({EXCEL_MAX_COLUMNS:,} cells)",
                )
    if sheet:
        scan.end_sheet()


def _start_tags(segment: bytes) -> int:
    """Start tags (``<c>``, ``<v/>``, ...) in a piece of XML; comments count too (harmless)."""
    return segment.count(b"<") - segment.count(b"</")


def _check_shared_strings(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits, scan: _SheetScan | None = None
) -> None:
    if part.file_size > limits.max_xlsx_shared_strings_bytes:
        raise unreadable(
            LIMIT,
            f"not a usable XLSX: its text table is {part.file_size / MB:,.0f} MB, more than the "
            f"limit of {limits.max_xlsx_shared_strings_bytes / MB:,.0f} MB "
            "(SINERGI_MAX_XLSX_SHARED_STRINGS_MB)",
        )
    count, carry = 0, b""
    with archive.open(part) as stream:
        while block := stream.read(_SCAN_BLOCK):
            data = carry + block
            # Matches never contain "<" after their first byte: cut at the last "<" so none
            # straddles two blocks.
            cut = data.rfind(b"<", max(0, len(data) - 256))
            cut = len(data) if cut < 0 else cut
            count += len(_SHARED_STRING.findall(data, 0, cut))
            if scan is not None:
                scan.shared_strings_block(data, cut)
            carry = data[cut:]
            if count > limits.max_xlsx_shared_strings:
                raise unreadable(
                    LIMIT,
                    f"not a usable XLSX: more than {limits.max_xlsx_shared_strings:,} different "
                    "texts in its text table (SINERGI_MAX_XLSX_SHARED_STRINGS)",
                )
        count += len(_SHARED_STRING.findall(carry))
    if scan is not None:
        scan.shared_strings_block(carry, len(carry), last=True)
    if count > limits.max_xlsx_shared_strings:
        raise unreadable(
            LIMIT,
            f"not a usable XLSX: more than {limits.max_xlsx_shared_strings:,} different texts "
            "in its text table (SINERGI_MAX_XLSX_SHARED_STRINGS)",
        )


def _not_zip_detail(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        hint = "a legacy .xls or password-protected workbook; save it as .xlsx without password"
    else:
        hint = "not a zip archive; perhaps a CSV or another file renamed to .xlsx"
    return f"not valid XLSX: {hint}"


def _open_xlsx(
    path: Path, required: list[str], wanted: list[str], limits: InputLimits
) -> OpenedTable:
    """Find the header, then look ahead for a data row, in one pass over the sheet.

    Opening a workbook costs a parse of its shared strings and, for files written without a
    ``<dimension>`` element (openpyxl's write-only mode, some exporters), a scan of the whole
    sheet; so open_table opens it once and :meth:`OpenedTable.chunks` once more. The header
    is always looked for by openpyxl (streaming: it stops after a few rows, where calamine
    would parse the whole sheet once more); the zip checks' scan chooses the reader of
    :meth:`OpenedTable.chunks` (``_xlsx_engine``).
    """
    with _XlsxRows(path, limits) as source, closing(source.iter()) as rows:
        top: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in rows:
            top.append((number, values))
            if number >= XLSX_HEADER_SEARCH_ROWS:
                break
        headers = [(n, [normalise_header(_cell_text(v) or "") for v in vs]) for n, vs in top]
        header_at = _xlsx_header_row(headers, required)
        if header_at is None:
            raise FileRejected(
                MISSING_COLUMNS,
                f"no header row found: {_no_header_where()} (required: {', '.join(required)})",
                params=_missing_params(required, None),
            )
        number, header = headers[header_at]
        raw = [_cell_text(v) or "" for v in top[header_at][1]]
        _check_header(header, raw, f"row {number}", limits)
        layout, extra, missing = _header_layout(header, required, wanted)
        table = OpenedTable(
            path=path,
            file_format="xlsx",
            encoding=None,
            delimiter=None,
            columns=header[: layout.width],
            extra_columns=extra,
            header_row=number,
            _layout=layout,
            limits=limits,
            _xlsx_engine=source.scan.engine if source.scan else OPENPYXL,
        )
        below = itertools.chain((vs for _, vs in top[header_at + 1 :]), (vs for _, vs in rows))
        data_rows = (vs for vs in below if not _xlsx_blank(vs, layout.width))
        if missing:
            raise FileRejected(
                MISSING_COLUMNS,
                _missing_detail(missing, f"likely header row {number}; {_no_header_where()}"),
                rows_total=0,  # literal §2/§7: no row holds every column, so no header is found
                params=_missing_params(missing, number),
            )
        if next(data_rows, None) is None:
            raise FileRejected(EMPTY, f"no data rows below the header (row {number})")
    return table


def _xlsx_header_row(headers: list[tuple[int, list[str]]], required: list[str]) -> int | None:
    """Index in ``headers`` of the header row: complete, else the best clear candidate."""
    wanted = set(required)
    best: tuple[int, int] | None = None  # (columns found, index)
    for index, (_, header) in enumerate(headers):
        found = len(wanted & set(header))
        if found == len(wanted):
            return index
        if found and (best is None or found > best[0]):
            best = (found, index)
    if best is not None and best[0] >= XLSX_HEADER_MIN_SHARE * len(wanted):
        return best[1]
    return None


def _no_header_where() -> str:
    return f"no row among rows 1-{XLSX_HEADER_SEARCH_ROWS} of the first sheet has them all"


def _xlsx_blank(values: tuple[Any, ...], width: int) -> bool:
    return all(_cell_text(v) is None for v in values[:width])


def _cell_text(value: Any) -> str | None:
    """One XLSX cell as the text the district typed (see module docstring); None if empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):  # before int: bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)  # shortest exact decimal; "nan" / "inf" are invalid integers too
    if isinstance(value, dt.datetime):  # before date: datetime is a date
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value).strip() or None


# -- chunk assembly ------------------------------------------------------------------------


def _trimmed(values: np.ndarray) -> np.ndarray:
    """Trim every cell of a parsed CSV column; blank cells become None.

    A plain comprehension over the object array is faster than ``Series.str.strip``
    followed by a comparison with ``""`` (the bench's read stage measures it).
    """
    out = np.empty(len(values), dtype=object)
    out[:] = [v.strip() or None for v in values]
    return out


def _frame(layout: _Layout, cells: list[np.ndarray], row_numbers: np.ndarray) -> pd.DataFrame:
    """Output chunk from trimmed CSV columns: drop the rows whose cells are all None."""
    blank = np.logical_and.reduce([np.equal(c, None) for c in cells])
    keep = ~blank
    kept = int(keep.sum())
    data: dict[str, pd.Series] = {}
    for name, pos in layout.positions.items():
        values = np.full(kept, None, dtype=object) if pos is None else cells[pos][keep]
        data[name] = pd.Series(values, dtype=object)
    data["row_number"] = pd.Series(row_numbers[keep], dtype=np.int64)
    return pd.DataFrame(data)


def _frame_from_lists(columns: dict[str, list[str | None]], numbers: list[int]) -> pd.DataFrame:
    data = {name: pd.Series(values, dtype=object) for name, values in columns.items()}
    data["row_number"] = pd.Series(numbers, dtype=np.int64)
    return pd.DataFrame(data)
