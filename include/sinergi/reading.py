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
        source_rows = _XlsxRows(self.path, self.limits, check=False)
        with source_rows as source, closing(source.iter(self.header_row + 1)) as rows:
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


class _XlsxRows:
    """The first worksheet of a workbook as (worksheet row number, cell values) tuples.

    Every openpyxl failure, at opening or while streaming, becomes ``unreadable``: a damaged
    archive can fail late (a CRC error in the sheet XML surfaces only when that part is read).
    """

    def __init__(self, path: Path, limits: InputLimits | None = None, check: bool = True) -> None:
        self.path = path
        self.limits = limits or InputLimits()
        self.check = check
        self._workbook: Any = None

    def __enter__(self) -> _XlsxRows:
        import openpyxl  # imported lazily: only XLSX submissions pay for it

        if not zipfile.is_zipfile(self.path):
            raise unreadable(XLSX_BROKEN, _not_zip_detail(self.path))
        if self.check:
            _check_xlsx_archive(self.path, self.limits)
        try:
            self._workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any failure means "not a workbook"
            raise unreadable(XLSX_BROKEN, f"not valid XLSX: {_describe(exc)}") from exc
        if not self._workbook.worksheets:
            self.__exit__()
            raise unreadable(XLSX_BROKEN, "not valid XLSX: the workbook has no worksheet")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None

    def iter(
        self, first_row: int = 1, last_row: int | None = None
    ) -> Generator[tuple[int, tuple[Any, ...]], None, None]:
        """Rows ``first_row``..``last_row`` (to the end when None), gaps filled with ``()``."""
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


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"a zip archive without the parts of an Excel workbook ({str(exc)[:200]})"
    if isinstance(exc, MemoryError):
        return "the workbook needs more memory to read than the server has"
    text = str(exc)[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _check_xlsx_archive(path: Path, limits: InputLimits) -> None:
    """Zip-bomb limits from the central directory, before any XML is parsed.

    Python's ``zipfile`` never inflates a part beyond the size its central directory declares
    (it stops there and the CRC check fails), so the declared sizes bound what openpyxl can
    read. The shared strings are counted by a byte scan of the inflated part: openpyxl keeps
    every one of them in memory (10 million tiny strings took 2.2 GB).
    """
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
            for part in parts:
                if part.filename.lower().endswith("sharedstrings.xml"):
                    _check_shared_strings(archive, part, limits)
                else:
                    _check_rows(archive, part)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise unreadable(XLSX_BROKEN, f"not valid XLSX: {_describe(exc)}") from exc


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


def _check_rows(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    """Byte scan of one part: no row wider or lower than Excel allows, no DTD.

    openpyxl builds a whole ``<row>`` element before yielding it, treats every child of a row
    as a cell, and yields an empty row for every missing row number: one row of 20 million
    cells took 9 GB, ``<row r="999999999">`` would loop for minutes. Excel's own limits bound
    both: at most :data:`_ROW_TAGS` start tags inside one row (16,384 cells with a few tags
    each), row numbers up to 1,048,576; OOXML packages carry no DTD (entity bombs). Costs
    about 2 % of openpyxl's own parse of the same sheet (C-level ``split``/``count``).
    """
    tags = 0  # start tags inside the current (unfinished) row
    for data in _tag_blocks(archive, part):
        if b"<!DOCTYPE" in data:
            raise unreadable(XLSX_BROKEN, "not valid XLSX: a part declares a DTD")
        if b":row" in data:  # namespace-prefixed rows: exact (slower) split
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


def _start_tags(segment: bytes) -> int:
    """Start tags (``<c>``, ``<v/>``, ...) in a piece of XML; comments count too (harmless)."""
    return segment.count(b"<") - segment.count(b"</")


def _check_shared_strings(archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits) -> None:
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
            carry = data[cut:]
            if count > limits.max_xlsx_shared_strings:
                raise unreadable(
                    LIMIT,
                    f"not a usable XLSX: more than {limits.max_xlsx_shared_strings:,} different "
                    "texts in its text table (SINERGI_MAX_XLSX_SHARED_STRINGS)",
                )
        count += len(_SHARED_STRING.findall(carry))
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
    sheet; so open_table opens it once and :meth:`OpenedTable.chunks` once more.
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
