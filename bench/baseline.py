"""The baseline a user could pick instead of the pipeline: a bare ``psql \\copy`` of the files.

Every CSV dataset file the pipeline would judge goes, as it is, into its own unindexed table of
``text`` columns (one per header field). The only "smartness" is what a careful user would
add to a shell loop: the encoding (UTF-8 when the bytes decode, else WIN1252) and the
delimiter (``;`` when the first line has more of them than ``,``). XLSX files cannot be
copied and are skipped; files psql refuses (ragged rows, NUL bytes, broken quoting, an empty
file) are found by a first, untimed probe run and skipped in the timed runs. Both are counted.

All copies run in **one** ``psql`` process (``-f script``), the way a user would script it;
errors are mapped back to files through the script line numbers psql prints.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import asdict, dataclass
from pathlib import Path

_ERROR_LINE = re.compile(r"^psql:(?P<script>.+?):(?P<line>\d+): ERROR:\s*(?P<message>.*)$")
_COPY_COUNT = re.compile(r"^COPY (\d+)$", re.MULTILINE)


@dataclass
class CopyFile:
    path: str
    table: str
    encoding: str | None = None  # UTF8 | WIN1252
    delimiter: str | None = None
    columns: int = 0
    skipped: str | None = None  # why it is not in the timed runs (xlsx, psql error, ...)
    rows: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _encoding(path: Path) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while block := handle.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "WIN1252"
    return "UTF8"


def describe(path: Path, table: str) -> CopyFile:
    """Encoding, delimiter and column count of one file, or why it is skipped."""
    item = CopyFile(str(path), table)
    if path.suffix.lower() == ".xlsx":
        item.skipped = "xlsx"
        return item
    if path.stat().st_size == 0:
        item.skipped = "psql: empty file (no header line)"
        return item
    item.encoding = _encoding(path)
    python_encoding = "utf-8-sig" if item.encoding == "UTF8" else "cp1252"
    with path.open(encoding=python_encoding, errors="replace", newline="") as handle:
        first = handle.readline()
    item.delimiter = ";" if first.count(";") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=item.delimiter), [])
    item.columns = max(1, len(header))
    return item


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_script(files: list[CopyFile]) -> str:
    """Drop and create one unindexed text table per file (run untimed before each copy)."""
    lines = []
    for item in files:
        if item.skipped == "xlsx" or item.columns == 0:
            continue
        columns = ", ".join(f"c{i} text" for i in range(1, item.columns + 1))
        lines.append(f"drop table if exists {item.table};")
        lines.append(f"create table {item.table} ({columns});")
    return "\n".join(lines) + "\n"


def copy_script(files: list[CopyFile]) -> tuple[str, dict[int, CopyFile]]:
    """The ``\\copy`` commands, one per line; also script line -> file for error mapping."""
    lines, by_line = [], {}
    for item in files:
        if item.skipped:
            continue
        delimiter = _quote(item.delimiter or ",")
        lines.append(
            f"\\copy {item.table} from {_quote(item.path)} with (format csv, header true, "
            f"delimiter {delimiter}, encoding {_quote(item.encoding or 'UTF8')})"
        )
        by_line[len(lines)] = item
    return "\n".join(lines) + "\n", by_line


def apply_probe(stdout: str, stderr: str, by_line: dict[int, CopyFile]) -> int:
    """Mark files psql rejected in a probe run; fill rows of the others. Returns rejections."""
    failed = 0
    for line in stderr.splitlines():
        match = _ERROR_LINE.match(line.strip())
        if match and int(match.group("line")) in by_line:
            item = by_line[int(match.group("line"))]
            if not item.skipped:
                item.skipped = "psql: " + match.group("message")[:160]
                failed += 1
    counts = [int(n) for n in _COPY_COUNT.findall(stdout)]
    good = [item for _, item in sorted(by_line.items()) if not item.skipped]
    if len(counts) == len(good):
        for item, count in zip(good, counts, strict=True):
            item.rows = count
    return failed


def copied_rows(stdout: str) -> int:
    return sum(int(n) for n in _COPY_COUNT.findall(stdout))
