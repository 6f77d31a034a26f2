"""An independent oracle for the submission contract (``submission-contract.md`` §1-§7).

The tests hold the generator and the pipeline to the contract with this module, so it must
not share the code it checks: it imports nothing from ``sinergi.reading``, ``sinergi.rules``,
``sinergi.values``, ``sinergi.judgement``, ``sinergi.suites`` or ``sinergi.datasets`` and has
its own column lists and NIK / No. KK rules. Only the official code lists (``sinergi.reference``:
the seeds, which are facts, not logic) and ``Period`` come from the package. It is written
for clarity, not speed: whole files in memory, one row at a time, plain ``csv`` and
``openpyxl``, so if the pipeline misreads a file the two disagree.

Where the contract can be read two ways the oracle follows ``docs/contract-decisions.md``
(numbers in the comments refer to its items).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from fractions import Fraction
from pathlib import Path

import openpyxl

from sinergi.periods import Period
from sinergi.reference import (
    district_codes,
    nik_province_codes,
    ppks_codes,
    program_max_amounts,
    psks_codes,
)

# --- the datasets (§5) -------------------------------------------------------------------------
COLUMNS: dict[str, tuple[str, ...]] = {
    "ppks": (
        "periode",
        "kode_kabkota",
        "kode_kecamatan",
        "kode_ppks",
        "lokasi",
        "jumlah_laki_laki",
        "jumlah_perempuan",
        "jumlah",
    ),
    "psks": ("periode", "kode_kabkota", "kode_psks", "jumlah"),
    "penerima_bantuan": (
        "periode",
        "kode_kabkota",
        "nik",
        "no_kk",
        "jenis_kelamin",
        "tanggal_lahir",
        "kode_desa",
        "kode_program",
        "nilai_bantuan",
        "tanggal_salur",
        "status_salur",
    ),
    "dtks": (
        "periode",
        "kode_kabkota",
        "no_kk",
        "nik_kepala_keluarga",
        "kode_desa",
        "jumlah_anggota",
        "desil",
        "status_dtks",
    ),
}
KEYS: dict[str, tuple[str, ...]] = {
    "ppks": ("kode_kecamatan", "kode_ppks", "lokasi"),
    "psks": ("kode_psks",),
    "penerima_bantuan": ("nik", "kode_program"),
    "dtks": ("no_kk",),
}
# §5.3: "Required: all but nilai_bantuan and tanggal_salur"; every other column is required.
OPTIONAL: dict[str, tuple[str, ...]] = {"penerima_bantuan": ("nilai_bantuan", "tanggal_salur")}
# Personal identifiers (§5.3): never outside the quarantine.
PERSONAL: dict[str, tuple[str, ...]] = {
    "penerima_bantuan": ("nik", "no_kk"),
    "dtks": ("no_kk", "nik_kepala_keluarga"),
}
DATASETS: tuple[str, ...] = tuple(COLUMNS)
FILE_REASONS = (
    "unreadable",
    "missing_columns",
    "empty",
    "ambiguous_submission",
    "too_many_invalid_rows",
)


def required(dataset: str) -> tuple[str, ...]:
    """Columns that must be in the header and hold a value (decision 1)."""
    return tuple(c for c in COLUMNS[dataset] if c not in OPTIONAL.get(dataset, ()))


# --- NIK / No. KK (§4) -------------------------------------------------------------------------
_SIXTEEN = re.compile(r"[0-9]{16}")


def is_valid_nik(value: str) -> bool:
    if not _SIXTEEN.fullmatch(value) or value[:2] not in nik_province_codes():
        return False
    day, month = int(value[6:8]), int(value[8:10])
    return (1 <= day <= 31 or 41 <= day <= 71) and 1 <= month <= 12 and value[12:] != "0000"


def is_valid_kk(value: str) -> bool:
    return (
        bool(_SIXTEEN.fullmatch(value))
        and value[:2] in nik_province_codes()
        and (value[12:] != "0000")
    )


def nik_birth_parts(nik: str) -> tuple[int, int, int, str]:
    """(day, month, two-digit year, 'L'/'P') encoded in digits 7-12 of a valid NIK."""
    day, woman = int(nik[6:8]), int(nik[6:8]) > 40
    return day - 40 * woman, int(nik[8:10]), int(nik[10:12]), "P" if woman else "L"


# --- a contract reader (§2) --------------------------------------------------------------------
class Unreadable(Exception):
    """The file is ``unreadable`` under §3 (0 bytes, undecodable, not CSV/XLSX, NUL bytes)."""


@dataclass
class Read:
    header: list[str]  # normalised names ([] when no XLSX header row is found)
    rows: list[tuple[int, dict[str, str | None]]]  # (row number the operator sees, cells)
    empty_rows: int
    title_rows: int  # XLSX rows above the header
    encoding: str | None  # CSV: "utf-8" / "cp1252"
    raw_cells: list[tuple[object, ...]]  # XLSX: the typed cells of the data rows

    @property
    def header_found(self) -> bool:
        return bool(self.header)


def normalise_header(name: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name or "").strip().lower()).strip("_")


def _cell_text(value: object) -> str | None:
    """An XLSX cell (or CSV field) as trimmed text; None when empty (§2, §7)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _table(header: list[str], body: Iterator[tuple[int, tuple]]) -> tuple[list, list, int]:
    """Rows as {column: text}; fully empty rows (under the header) are skipped, not counted."""
    first: dict[str, int] = {}
    for index, name in enumerate(header):
        if name:
            first.setdefault(name, index)  # a repeated name: the leftmost column counts
    rows, raw, empty = [], [], 0
    for number, values in body:
        values = tuple(values[: len(header)])
        texts = [_cell_text(v) for v in values]
        if not any(texts):
            empty += 1
            continue
        texts += [None] * (len(header) - len(texts))
        rows.append((number, {name: texts[i] for name, i in first.items()}))
        raw.append(values)
    return rows, raw, empty


def _read_xlsx(data: bytes, dataset: str) -> Read:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # stored dimensions may be wrong: read what is there
        grid = [tuple(r) for r in sheet.iter_rows(values_only=True)]
        book.close()
    except Exception as error:  # noqa: BLE001 - anything openpyxl cannot open is unreadable
        raise Unreadable(f"not a valid XLSX: {type(error).__name__}") from error
    need = set(required(dataset))
    at = next(
        (i for i, r in enumerate(grid[:10]) if need <= {normalise_header(c) for c in r}), None
    )
    if at is None:
        return Read([], [], 0, 0, None, [])
    header = [normalise_header(c) for c in grid[at]]
    rows, raw, empty = _table(header, ((i + 1, r) for i, r in enumerate(grid) if i > at))
    return Read(header, rows, empty, at, None, raw)


def _read_csv(data: bytes, dataset: str) -> Read:
    if b"\x00" in data:
        raise Unreadable("NUL bytes")
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as error:
            raise Unreadable("neither UTF-8 nor Windows-1252") from error
    text = text.removeprefix("\ufeff")
    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    # Decision 5: the delimiter found in the header line; both: more required columns, then
    # the more frequent one, then ",".
    need = set(required(dataset))
    candidates = [d for d in (",", ";") if d in first_line] or [","]

    def score(delimiter: str) -> tuple[int, int]:
        names = next(csv.reader([first_line], delimiter=delimiter), [])
        return len(need & {normalise_header(n) for n in names}), first_line.count(delimiter)

    delimiter = max(candidates, key=score)  # max keeps the first of equal scores
    try:
        grid = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as error:  # RFC 4180 broken: a quote never closed, text after a quote
        raise Unreadable(f"not valid CSV: {error}") from error
    if not grid:
        return Read([], [], 0, 0, encoding, [])
    header = [normalise_header(c) for c in grid[0]]  # decision 2: the first line
    rows, raw, empty = _table(header, ((i + 1, tuple(r)) for i, r in enumerate(grid) if i > 0))
    return Read(header, rows, empty, 0, encoding, raw)


def read_file(path: Path, dataset: str) -> Read:
    """Read a submitted file per §2; raises :class:`Unreadable`."""
    data = Path(path).read_bytes()
    if not data:
        raise Unreadable("0 bytes")
    if Path(path).suffix.lower() == ".xlsx":
        return _read_xlsx(data, dataset)
    return _read_csv(data, dataset)


# --- values (§2) -------------------------------------------------------------------------------
_INT = re.compile(r"[0-9]+|[0-9]{1,3}(\.[0-9]{3})+")
_NEG = re.compile(r"-([0-9]+|[0-9]{1,3}(\.[0-9]{3})+)")
_DATES = (  # decision 6: two-digit day and month
    (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "%Y-%m-%d"),
    (re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}"), "%d/%m/%Y"),
    (re.compile(r"[0-9]{2}-[0-9]{2}-[0-9]{4}"), "%d-%m-%Y"),
)
_SEX = {"L": "L", "P": "P", "LAKI-LAKI": "L", "PEREMPUAN": "P"}


def parse_int(text: str) -> tuple[int | None, str | None]:
    """(value, None) or (None, "negative_value" | "invalid_integer").

    Decision 19: at most 18 digits (the warehouse's bigint); a longer number, negative or
    not, is invalid_integer."""
    if len(text.replace(".", "").lstrip("-")) > 18:
        return None, "invalid_integer"
    if _INT.fullmatch(text):
        return int(text.replace(".", "")), None
    return None, ("negative_value" if _NEG.fullmatch(text) else "invalid_integer")


def parse_date(text: str) -> date | None:
    for pattern, fmt in _DATES:
        if pattern.fullmatch(text):
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                return None
    return None


def region(text: str) -> str:
    return text.replace(".", "").upper()


# --- the row rules (§4-§5) ---------------------------------------------------------------------
class RowCheck:
    """The reasons of one row (§4-§5.4), collected like §6 step 2: all of them."""

    def __init__(self, cells: dict[str, str | None], columns: tuple[str, ...]) -> None:
        self.value = {c: cells.get(c) for c in columns}
        self.present = {c for c, v in self.value.items() if v is not None}
        self.found: set[str] = set()
        self.norm: dict[str, object] = {}

    def integer(self, col: str, low: int, high: int | None = None) -> int | None:
        if col not in self.present:
            return None
        number, problem = parse_int(self.value[col])
        if problem:  # decision 10: a negative number is only negative_value
            self.found.add(f"{problem}:{col}")
            return None
        if number < low or (high is not None and number > high):
            self.found.add(f"out_of_range:{col}")
        self.norm[col] = number
        return number

    def code(self, col: str, allowed, transform=str.upper) -> None:
        if col in self.present:
            self.norm[col] = transform(self.value[col])
            if self.norm[col] not in allowed:
                self.found.add(f"unknown_code:{col}")

    def common(self, dataset: str, period: Period, code: str) -> None:
        self.found |= {f"missing_value:{c}" for c in required(dataset) if c not in self.present}
        if "periode" in self.present and self.value["periode"] != str(period):  # decision 7
            self.found.add("period_mismatch")
        if "kode_kabkota" in self.present and region(self.value["kode_kabkota"]) != code:
            self.found.add("district_mismatch")
        for col, length, reason in (
            ("kode_kecamatan", 6, "invalid_subdistrict_code"),
            ("kode_desa", 10, "invalid_village_code"),
        ):
            if col in self.present:
                self.norm[col] = text = region(self.value[col])
                if not (re.fullmatch(f"[0-9]{{{length}}}", text) and text[:4] == code):
                    self.found.add(reason)
        for col, check, reason in (
            ("nik", is_valid_nik, "invalid_nik"),
            ("nik_kepala_keluarga", is_valid_nik, "invalid_nik"),
            ("no_kk", is_valid_kk, "invalid_kk"),
        ):
            if col in self.present:
                self.norm[col] = self.value[col]
                if not check(self.value[col]):
                    self.found.add(reason)

    def roster(self, period: Period) -> bool:
        """§5.3; returns True when the NIK disagrees with birth date / sex (warning)."""
        self.code("jenis_kelamin", set(_SEX))
        self.code("kode_program", set(program_max_amounts()))
        self.code("status_salur", {"SALUR", "GAGAL", "TUNDA"})
        last = period.last_day
        born = parse_date(self.value["tanggal_lahir"] or "")
        if "tanggal_lahir" in self.present:
            if born is None:
                self.found.add("invalid_date:tanggal_lahir")
            else:
                age = last.year - born.year - ((last.month, last.day) < (born.month, born.day))
                if born > last or age > 120:
                    self.found.add("implausible_birthdate")
                self.norm["tanggal_lahir"] = born
        # §7: for GAGAL / TUNDA rows the amount and date are not parsed; decision 13: they
        # count as empty for duplicates.
        if self.norm.get("status_salur") == "SALUR":
            top = program_max_amounts().get(str(self.norm.get("kode_program")))
            if "nilai_bantuan" not in self.present:
                self.found.add("missing_value:nilai_bantuan")
            else:
                amount, problem = parse_int(self.value["nilai_bantuan"])
                if problem:
                    self.found.add(f"{problem}:nilai_bantuan")
                elif top is not None and not 1 <= amount <= top:  # decision 11
                    self.found.add("amount_out_of_range")
                self.norm["nilai_bantuan"] = amount
            if "tanggal_salur" not in self.present:
                self.found.add("missing_value:tanggal_salur")
            else:
                paid = parse_date(self.value["tanggal_salur"])
                if paid is None:
                    self.found.add("invalid_date:tanggal_salur")
                elif not period.first_day <= paid <= last:
                    self.found.add("disbursement_outside_period")
                self.norm["tanggal_salur"] = paid
        sex = _SEX.get(str(self.norm.get("jenis_kelamin")))
        self.norm["jenis_kelamin"] = sex
        # Decision 12: only for a valid NIK and a readable birth date and sex, kept rows only.
        if self.found or born is None or not sex:
            return False
        day, month, year, nik_sex = nik_birth_parts(self.value["nik"])
        return (day, month, year, nik_sex) != (born.day, born.month, born.year % 100, sex)


def judge_rows(dataset: str, read: Read, period: Period | str, code: str):
    """(reasons by row number, warning row numbers) per contract §4-§6 (steps 2 and 3)."""
    reasons, warnings, _ = judge_rows_normalised(dataset, read, period, code)
    return reasons, warnings


def judge_rows_normalised(dataset: str, read: Read, period: Period | str, code: str):
    """Like :func:`judge_rows`, plus the normalised values (in ``COLUMNS`` order) of the rows
    that passed the row rules: parsed integers and dates, upper-cased codes, dot-free region
    codes, ``L``/``P``, ``None`` for the ignored amount and date of unpaid rows."""
    period = Period.parse(period) if isinstance(period, str) else period
    columns = COLUMNS[dataset]
    reasons: dict[int, set[str]] = {}
    warnings: set[int] = set()
    normalised: dict[int, tuple] = {}
    for number, cells in read.rows:
        row = RowCheck(cells, columns)
        row.common(dataset, period, code)
        if dataset == "ppks":
            row.code("kode_ppks", ppks_codes())
            # Decision 8: every run of white space counts as one "_".
            row.code("lokasi", {"LUAR_UPT", "DALAM_UPT"}, lambda t: re.sub(r"\s+", "_", t.upper()))
            counts = [row.integer(c, 0) for c in ("jumlah_laki_laki", "jumlah_perempuan", "jumlah")]
            if None not in counts and counts[0] + counts[1] != counts[2]:
                row.found.add("total_mismatch")
        elif dataset == "psks":
            row.code("kode_psks", psks_codes())
            row.integer("jumlah", 0)
        elif dataset == "dtks":
            row.integer("jumlah_anggota", 1, 30)
            row.integer("desil", 1, 10)
            row.code("status_dtks", {"AKTIF", "NONAKTIF"})
        elif row.roster(period):
            warnings.add(number)
        if row.found:
            reasons[number] = row.found
        else:
            row.norm["periode"], row.norm["kode_kabkota"] = str(period), code
            normalised[number] = tuple(row.norm.get(c) for c in columns)
    # §4 duplicates, only among the rows that passed everything else (decision 13): every
    # later copy of an identical row is exact_duplicate; every row of a key shared by rows
    # that differ is duplicate_key; a row can be both.
    key_index = [columns.index(k) for k in KEYS[dataset]]
    groups: dict[tuple, list[int]] = {}
    for number in sorted(normalised):
        groups.setdefault(tuple(normalised[number][i] for i in key_index), []).append(number)
    for members in groups.values():
        if len(members) < 2:
            continue
        distinct = {normalised[m] for m in members}
        seen: set[tuple] = set()
        for m in members:
            if normalised[m] in seen:
                reasons.setdefault(m, set()).add("exact_duplicate")
            seen.add(normalised[m])
            if len(distinct) > 1:
                reasons.setdefault(m, set()).add("duplicate_key")
    return reasons, warnings - set(reasons), normalised


def status_of(reasons: dict, total: int, threshold: float | str = "0.2") -> str:
    """§3 / §6 step 4: rejected rows > threshold x data rows -> REJECTED (exact arithmetic)."""
    if not reasons:
        return "ACCEPTED"
    return "REJECTED" if len(reasons) > Fraction(str(threshold)) * total else "PARTIAL"


# --- whole files (§3, §6, §7) ------------------------------------------------------------------
@dataclass
class FileJudgement:
    """What the contract says about one file version.

    Iterating gives ``(status, rejection_reason, rows_total, rows_rejected, reasons_by_row)``.
    ``rows_rejected`` of a REJECTED version is ``rows_total`` (decision 14); ``reasons_by_row``
    holds exactly the rows with reasons (the quarantine), also for too_many_invalid_rows.
    """

    status: str
    rejection_reason: str | None
    rows_total: int
    rows_rejected: int
    reasons_by_row: dict[int, set[str]] = field(default_factory=dict)
    warnings: set[int] = field(default_factory=set)
    extra_columns: set[str] = field(default_factory=set)
    read: Read | None = None
    normalised: dict[int, tuple] = field(default_factory=dict)  # rows that passed §4-§5

    @property
    def rows_accepted(self) -> int:
        return 0 if self.status == "REJECTED" else self.rows_total - self.rows_rejected

    def accepted(self) -> dict[int, tuple]:
        """Row number -> normalised values of the rows the version loads (none if REJECTED)."""
        if self.status == "REJECTED":
            return {}
        return {n: v for n, v in self.normalised.items() if n not in self.reasons_by_row}

    def __iter__(self):
        yield from (
            self.status,
            self.rejection_reason,
            self.rows_total,
            self.rows_rejected,
            self.reasons_by_row,
        )


def _rejected(reason: str, rows_total: int = 0, read: Read | None = None) -> FileJudgement:
    return FileJudgement("REJECTED", reason, rows_total, rows_total, read=read)


def judge_file(
    path: Path,
    dataset: str,
    period: Period | str,
    district: str,
    *,
    ambiguous: bool = False,
    threshold: float | str = "0.2",
) -> FileJudgement:
    """Judge one file as §6 orders it; ``ambiguous``: another file was sent for the dataset.

    The file-level steps go in §6's order: unreadable, ambiguous, missing columns, empty.
    ``rows_total`` counts data rows wherever the header is located (§7): a CSV's header is
    its first line (decision 2), so a CSV with a missing column counts its rows; an XLSX
    with a missing column has no header row (decision 3) and counts 0.
    """
    try:
        read = read_file(path, dataset)
    except Unreadable:
        return _rejected("unreadable")
    located = len(read.rows) if read.header_found else 0
    if ambiguous:
        return _rejected("ambiguous_submission", located, read)
    if not set(required(dataset)) <= set(read.header):
        return _rejected("missing_columns", located, read)
    if not read.rows:
        return _rejected("empty", 0, read)
    reasons, warnings, normalised = judge_rows_normalised(dataset, read, period, district)
    total = len(read.rows)
    status = status_of(reasons, total, threshold)
    extra = {h for h in read.header if h} - set(COLUMNS[dataset])
    if status == "REJECTED":
        judgement = _rejected("too_many_invalid_rows", total, read)
        judgement.reasons_by_row = reasons
        judgement.extra_columns = extra
        return judgement
    return FileJudgement(
        status, None, total, len(reasons), reasons, warnings, extra, read, normalised
    )


# --- the inbox (§1, §7) ------------------------------------------------------------------------
@dataclass
class PeriodInbox:
    """What ``<inbox>/<P>/`` holds, read the contract's way."""

    submissions: dict[tuple[str, str], list[Path]]  # (district, dataset) -> files
    ignored_files: list[str]  # relative to the inbox
    unknown_folders: list[str]  # relative to the inbox


def dataset_of(path: Path) -> str | None:
    """``PPKS.CSV`` -> ``ppks`` (names match case-insensitively); None for other files."""
    stem, dot, ext = path.name.lower().rpartition(".")
    return stem if dot and ext in ("csv", "xlsx") and stem in COLUMNS else None


def scan_period(inbox: Path, period: str) -> PeriodInbox:
    folder = Path(inbox) / str(period)
    result = PeriodInbox({}, [], [])
    if not folder.is_dir():
        return result
    for entry in sorted(folder.iterdir()):
        relative = entry.relative_to(inbox).as_posix()
        if not entry.is_dir():
            result.ignored_files.append(relative)
        elif entry.name not in district_codes():
            result.unknown_folders.append(relative)
        else:
            for file in sorted(entry.iterdir()):
                dataset = dataset_of(file) if file.is_file() else None
                if dataset is None:
                    result.ignored_files.append(file.relative_to(inbox).as_posix())
                else:
                    result.submissions.setdefault((entry.name, dataset), []).append(file)
    return result


def received_at(path: Path) -> datetime:
    """§1: the received time is the file's last-modified time."""
    return datetime.fromtimestamp(Path(path).stat().st_mtime, UTC)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass
class ExpectedVersion:
    period: str
    district: str
    dataset: str
    version: int
    path: Path
    judgement: FileJudgement


def expected_versions(inbox: Path, period: str, known: dict | None = None) -> list[ExpectedVersion]:
    """The versions one run of ``period`` creates from a fresh warehouse (or after ``known``).

    ``known``: (district, dataset) -> {sha256: version} of earlier runs. Within a run files are
    numbered by received time, then name (decision 15); a file whose bytes equal any earlier
    version is no new version (decision 16). Two files for one dataset, whatever their
    extensions, are both ambiguous (§1, decision 9).
    """
    known = known or {}
    out = []
    for (district, dataset), paths in sorted(scan_period(inbox, period).submissions.items()):
        seen = dict(known.get((district, dataset), {}))
        for path in sorted(paths, key=lambda p: (received_at(p), p.name)):
            digest = sha256(path)
            if digest in seen:
                continue
            seen[digest] = version = max(seen.values(), default=0) + 1
            judgement = judge_file(path, dataset, period, district, ambiguous=len(paths) > 1)
            out.append(ExpectedVersion(period, district, dataset, version, path, judgement))
    return out


def expected_history(runs: Iterable[tuple[str, Path]]) -> list[ExpectedVersion]:
    """The versions a sequence of runs creates from a fresh warehouse, in order.

    ``runs``: (period, inbox) per run, where ``inbox`` holds ``<period>/`` as it was when that
    run read it (§7: a run reads only its own period's folder). A later run of the same period
    (a correction) numbers its new files after the versions the earlier runs created, and a
    file whose bytes equal any of them is no new version (decisions 15-16).
    """
    known: dict[str, dict[tuple[str, str], dict[str, int]]] = {}
    out: list[ExpectedVersion] = []
    for period, inbox in runs:
        seen = known.setdefault(str(period), {})
        for v in expected_versions(Path(inbox), str(period), seen):
            seen.setdefault((v.district, v.dataset), {})[sha256(v.path)] = v.version
            out.append(v)
    return out
