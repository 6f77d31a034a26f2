"""Row-level fault injectors: each makes one realistic mistake and names its reason codes.

An injector touches only the cells its rule reads and leaves everything else valid, so the
intended reason codes are exact (a row with ``invalid_nik`` gets no other reason). The
values are the mistakes district operators actually make: Excel's ``3.57801E+15`` for a NIK,
``Rp 600.000`` in an amount, ``WANITA`` for the sex, an old programme name (``BPNT``), dates
with two-digit years or month names, a register status ``NON AKTIF`` with a space.

Rows that are protected (cross-district duplicates) and rows already used are never chosen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from sinergi.periods import Period
from sinergi.reference import district_codes, program_max_amounts
from sinergi.synthetic.common import split_days, to_date
from sinergi.synthetic.population import programs
from sinergi.synthetic.styles import BULAN, Formatter, date_text, dotted_code, sex_cell
from sinergi.synthetic.tables import SALUR, Table

Mask = Callable[[Table], np.ndarray]


@dataclass
class RowFaults:
    """Mutable state of one file while faults are injected into its cells."""

    table: Table
    cells: dict[str, np.ndarray]
    fmt: Formatter
    period: Period
    code: str
    gen: np.random.Generator
    reasons: dict[int, list[str]] = field(default_factory=dict)
    warnings: list[int] = field(default_factory=list)
    copies: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    copy_reasons: list[list[str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.used = self.table.protected.copy()

    # --- helpers ---------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.table)

    def col(self, name: str) -> np.ndarray:
        return self.table.columns[name]

    def choice(self, options: list) -> object:
        return options[int(self.gen.integers(0, len(options)))]

    def other_district(self) -> str:
        return str(self.choice(sorted(district_codes() - {self.code})))

    def add(self, row: int, reasons: list[str]) -> None:
        self.reasons.setdefault(row, []).extend(reasons)

    def pick(self, mask: np.ndarray) -> int | None:
        candidates = np.flatnonzero(mask & ~self.used)
        if len(candidates) == 0:
            return None
        row = int(candidates[int(self.gen.integers(0, len(candidates)))])
        self.used[row] = True
        return row

    # --- entry points ----------------------------------------------------------------------
    def inject(self, kind: str) -> bool:
        """Inject one fault (``a+b`` = two on one row); False when no row qualifies."""
        parts = kind.split("+")
        mask = np.ones(self.n, dtype=bool)
        for part in parts:
            mask &= _predicate(part, self)
        row = self.pick(mask)
        if row is None:
            self.skipped.append(kind)
            return False
        for part in parts:
            self.add_reasons(row, part)
        return True

    def add_reasons(self, row: int, kind: str) -> None:
        if kind == "exact_duplicate":
            self._copy(row, {}, ["exact_duplicate"], reformat=True)
        elif kind == "duplicate_key":
            self._copy(row, self._different_non_key(row), ["duplicate_key"])
            self.add(row, ["duplicate_key"])
        else:
            self.add(row, _MUTATORS[_family(kind)](self, row, kind))

    def warn(self) -> bool:
        """A valid row whose NIK disagrees with its birth date or sex (warning only)."""
        if self.table.dataset != "penerima_bantuan":
            return False
        birth = self.col("tanggal_lahir")
        _, _, days = split_days(birth)
        row = self.pick(days <= 27)
        if row is None:
            return False
        if self.gen.random() < 0.5:
            self.cells["tanggal_lahir"][row] = self.fmt.day(to_date(int(birth[row]) + 1))
        else:
            female = bool(self.col("female")[row])
            self.cells["jenis_kelamin"][row] = sex_cell(self.fmt, not female)
        self.warnings.append(row)
        return True

    def whole_file(self, variant: str) -> None:
        """Every row wrong the same way: Excel scientific identifiers or a stale period."""
        rows = range(self.n)
        if variant == "scientific":
            for name, code in (
                ("nik", "invalid_nik"),
                ("nik_kepala_keluarga", "invalid_nik"),
                ("no_kk", "invalid_kk"),
            ):
                if name in self.table.columns:
                    self.cells[name] = np.array(
                        [f"{float(v):.5E}" for v in self.col(name).tolist()], dtype=object
                    )
                    for row in rows:
                        self.add(row, [code])
        else:
            stale = str(self.period.previous())
            self.cells["periode"][:] = stale
            for row in rows:
                self.add(row, ["period_mismatch"])
        self.used[:] = True

    def mixed(self, share: float, kinds: list[str]) -> None:
        """Many rows with assorted faults: more than the threshold allows."""
        wanted = max(self.n // 5 + 1, math.ceil(self.n * share))
        singles = [k for k in kinds if "+" not in k and "duplicate" not in k]
        for _ in range(min(wanted, self.n) * 3):
            if len(self.reasons) >= wanted or self.used.all():
                break
            self.inject(str(self.choice(singles)))
        self.skipped.clear()

    # --- duplicates ------------------------------------------------------------------------
    def _copy(
        self, row: int, changes: dict[str, object], reasons: list[str], reformat: bool = False
    ) -> None:
        values = {name: cells[row] for name, cells in self.cells.items()}
        values |= changes
        if reformat and not self.fmt.xlsx and self.gen.random() < 0.5:
            # Same normalised values, different spelling: still an exact duplicate (§4).
            values |= self._respelled(row)
        self.copies.append((row, values))
        self.copy_reasons.append(reasons)

    def _respelled(self, row: int) -> dict[str, object]:
        columns = self.table.columns
        if "kode_desa" in columns:
            code = int(columns["kode_desa"][row])
            text = str(self.cells["kode_desa"][row])
            return {"kode_desa": str(code) if "." in text else dotted_code(code)}
        if "kode_kecamatan" in columns:
            code = int(columns["kode_kecamatan"][row])
            text = str(self.cells["kode_kecamatan"][row])
            return {"kode_kecamatan": str(code) if "." in text else dotted_code(code)}
        return {"kode_psks": str(self.cells["kode_psks"][row]).lower()}

    def _different_non_key(self, row: int) -> dict[str, object]:
        t = self.table.columns
        fmt = self.fmt
        if self.table.dataset == "penerima_bantuan":
            amount = int(t["nilai_bantuan"][row])
            return {"nilai_bantuan": fmt.integer(amount // 2 if amount >= 2 else amount + 1)}
        if self.table.dataset == "dtks":
            return {"desil": fmt.integer(int(t["desil"][row]) % 10 + 1)}
        if self.table.dataset == "ppks":
            male = int(t["jumlah_laki_laki"][row]) + 1
            female = int(t["jumlah_perempuan"][row])
            return {"jumlah_laki_laki": fmt.integer(male), "jumlah": fmt.integer(male + female)}
        return {"jumlah": fmt.integer(int(t["jumlah"][row]) + 1)}


def _family(kind: str) -> str:
    return kind.split(":")[0] if kind.split(":")[0] in _BY_PREFIX else kind


# --- which rows a kind may use ---------------------------------------------------------------
def _salur(state: RowFaults) -> np.ndarray:
    cols = state.table.columns
    return (cols["status_salur"] == SALUR) & cols["filled"]


def _predicate(kind: str, state: RowFaults) -> np.ndarray:
    everyone = np.ones(state.n, dtype=bool)
    dataset = state.table.dataset
    cols = state.table.columns
    if dataset == "penerima_bantuan":
        salur_only = {
            "exact_duplicate",
            "duplicate_key",
            "amount_out_of_range",
            "disbursement_outside_period",
            "invalid_date:tanggal_salur",
            "invalid_integer:nilai_bantuan",
            "missing_value:nilai_bantuan",
            "missing_value:tanggal_salur",
        }
        if kind in salur_only:
            mask = _salur(state)
            if kind in ("duplicate_key", "amount_out_of_range", "invalid_integer:nilai_bantuan"):
                mask &= cols["nilai_bantuan"] >= 2
            return mask
        if kind == "implausible_birthdate":
            _, months, days = split_days(cols["tanggal_lahir"])
            return ~((months == 2) & (days == 29))
    if kind == "negative_value:jumlah_laki_laki":
        return cols["jumlah_perempuan"] > 0
    if kind == "negative_value:jumlah_perempuan":
        return cols["jumlah_laki_laki"] > 0
    return everyone


# --- the mutators: change cells, return reason codes -------------------------------------------
def _missing(state: RowFaults, row: int, kind: str) -> list[str]:
    column = kind.split(":", 1)[1]
    blank = state.fmt.missing() if state.gen.random() < 0.7 else "   "
    state.cells[column][row] = blank
    return [kind]


def _period_mismatch(state: RowFaults, row: int, kind: str) -> list[str]:
    p = state.period
    options = [
        str(p.previous()),
        str(p.next()),
        f"{p.year}{p.month:02d}",
        f"{p.month:02d}-{p.year}",
    ]
    if p.month < 10:
        options.append(f"{p.year}-{p.month}")
    state.cells["periode"][row] = state.choice(options)
    return ["period_mismatch"]


def _district_mismatch(state: RowFaults, row: int, kind: str) -> list[str]:
    state.cells["kode_kabkota"][row] = state.fmt.region(int(state.other_district()))
    return ["district_mismatch"]


def _identifier_text(state: RowFaults, row: int, column: str, nik: bool) -> str:
    text = str(int(state.col(column)[row]))
    variants = [
        text[:-1],  # a digit lost when typing
        f"{float(text):.5E}",  # Excel turned the number into scientific notation
        text[:12] + "0000",
        "99" + text[2:],  # no such province
        "'" + text,  # Excel's text marker kept in the export
        text[:10] + "O" + text[11:],  # letter O for zero
    ]
    if nik:
        variants += [
            text[:6] + "00" + text[8:],
            text[:6] + "35" + text[8:],
            text[:8] + "13" + text[10:],
        ]
    else:
        variants.append(text + "0")
    return str(state.choice(variants))


def _invalid_nik(state: RowFaults, row: int, kind: str) -> list[str]:
    column = "nik" if "nik" in state.table.columns else "nik_kepala_keluarga"
    state.cells[column][row] = _identifier_text(state, row, column, nik=True)
    return ["invalid_nik"]


def _invalid_kk(state: RowFaults, row: int, kind: str) -> list[str]:
    state.cells["no_kk"][row] = _identifier_text(state, row, "no_kk", nik=False)
    return ["invalid_kk"]


def _invalid_village(state: RowFaults, row: int, kind: str) -> list[str]:
    code = int(state.col("kode_desa")[row])
    text = str(code)
    other = state.other_district()
    variants: list[object] = [
        state.fmt.region(int(other + text[4:])),  # a village of another district
        text[:9],  # a digit short
        text[:6],  # only the sub-district
    ]
    state.cells["kode_desa"][row] = state.choice(variants)
    return ["invalid_village_code"]


def _invalid_subdistrict(state: RowFaults, row: int, kind: str) -> list[str]:
    text = str(int(state.col("kode_kecamatan")[row]))
    variants: list[object] = [
        state.fmt.region(int(state.other_district() + text[4:])),
        text[:5],
        text + "0",
    ]
    state.cells["kode_kecamatan"][row] = state.choice(variants)
    return ["invalid_subdistrict_code"]


_UNKNOWN_CODES: dict[str, list[str]] = {
    "kode_ppks": ["PPKS27", "PPKS00", "FM", "LUT", "PPKS-24"],
    "lokasi": ["UPT", "LUAR", "DALAM-UPT", "PANTI"],
    "kode_psks": ["PSKS13", "PSKS00", "TKSK", "PSK11"],
    "jenis_kelamin": ["X", "W", "WANITA", "PRIA", "1", "2", "LK", "PR"],
    "kode_program": ["BPNT", "BST", "KIP", "PKH PLUS", "BANSOS"],
    "status_salur": ["BATAL", "PROSES", "SUDAH", "DISALURKAN", "GAGAL SALUR"],
    "status_dtks": ["NON AKTIF", "TIDAK AKTIF", "MENINGGAL", "PINDAH"],
}


def _unknown_code(state: RowFaults, row: int, kind: str) -> list[str]:
    column = kind.split(":", 1)[1]
    state.cells[column][row] = state.choice(_UNKNOWN_CODES[column])
    return [kind]


def _negative(state: RowFaults, row: int, kind: str) -> list[str]:
    column = kind.split(":", 1)[1]
    fmt = state.fmt
    if state.table.dataset == "ppks":
        # Keep jumlah = L + P arithmetically so that only the negative count is reported.
        other = "jumlah_perempuan" if column == "jumlah_laki_laki" else "jumlah_laki_laki"
        partner = int(state.col(other)[row])
        amount = int(state.gen.integers(1, partner + 1))
        state.cells[column][row] = -amount if fmt.xlsx else f"-{amount}"
        state.cells["jumlah"][row] = fmt.integer(partner - amount)
    else:
        value = max(1, int(state.col(column)[row]))
        state.cells[column][row] = -value if fmt.xlsx else f"-{value}"
    return [kind]


def _invalid_integer(state: RowFaults, row: int, kind: str) -> list[str]:
    column = kind.split(":", 1)[1]
    if column == "jumlah" and state.table.dataset == "ppks":
        value = int(state.col("jumlah_laki_laki")[row]) + int(state.col("jumlah_perempuan")[row])
    else:
        value = int(state.col(column)[row])
    if column == "nilai_bantuan":
        group = f"{value:,}".replace(",", ".")
        variants = [
            f"Rp {group}",
            f"Rp{group},-",
            f"{value},00",
            f"{value:,}",
            f"{value // 1000}rb",
        ]
    elif column == "desil":
        variants = [f"D{value}", f"{value}.5", f"Desil {value}"]
    else:
        variants = [f"{value} jiwa", f"{value},5", f"{value}.5", "N/A", f"\u00b1{value}"]
    state.cells[column][row] = state.choice(variants)
    return [kind]


def _total_mismatch(state: RowFaults, row: int, kind: str) -> list[str]:
    total = int(state.col("jumlah_laki_laki")[row]) + int(state.col("jumlah_perempuan")[row])
    options = [total + 1, total + 10, total * 2 + 1] + ([total - 1] if total >= 1 else [])
    state.cells["jumlah"][row] = state.fmt.integer(int(state.choice(options)))
    return ["total_mismatch"]


def _out_of_range(state: RowFaults, row: int, kind: str) -> list[str]:
    column = kind.split(":", 1)[1]
    options = [0, 31, 45, 99] if column == "jumlah_anggota" else [0, 11, 12]
    state.cells[column][row] = state.fmt.integer(int(state.choice(options)))
    return [kind]


def _invalid_date(state: RowFaults, row: int, kind: str) -> list[str]:
    column = kind.split(":", 1)[1]
    day = to_date(int(state.col(column)[row]))
    y, m, d = day.year, day.month, day.day
    serial = (day - date(1899, 12, 30)).days
    variants = [
        f"{d:02d}/{m:02d}/{y % 100:02d}",  # two-digit year
        f"{d} {BULAN[m - 1]} {y}",  # month name
        f"{y}/{m:02d}/{d:02d}",  # year first with slashes
        f"{d:02d}.{m:02d}.{y}",  # dots
        f"31/02/{y}",  # impossible day
        f"{y}-{m:02d}-00",
        str(serial),  # an Excel serial number pasted as text
    ]
    if d > 12:
        variants.append(f"{m:02d}/{d:02d}/{y}")  # month first (US locale)
    state.cells[column][row] = state.choice(variants)
    return [kind]


def _implausible_birthdate(state: RowFaults, row: int, kind: str) -> list[str]:
    """Birth year moved back by whole centuries: older than 120, same NIK digits (no warning)."""
    born = to_date(int(state.col("tanggal_lahir")[row]))
    last = state.period.last_day
    year = born.year
    while last.year - year - ((last.month, last.day) < (born.month, born.day)) <= 120:
        year -= 100
    style = state.fmt.row_date_style() if not state.fmt.xlsx else "dmy_slash"
    state.cells["tanggal_lahir"][row] = date_text(date(year, born.month, born.day), style)
    return ["implausible_birthdate"]


def _amount_out_of_range(state: RowFaults, row: int, kind: str) -> list[str]:
    code = programs()[int(state.col("kode_program")[row])]
    top = program_max_amounts()[code]
    amount = int(state.col("nilai_bantuan")[row])
    options = [0, top + amount, top * 10]
    if amount * 10 > top:
        options.append(amount * 10)  # one zero too many
    state.cells["nilai_bantuan"][row] = state.fmt.integer(int(state.choice(options)))
    return ["amount_out_of_range"]


def _outside_period(state: RowFaults, row: int, kind: str) -> list[str]:
    p = state.period
    if state.gen.random() < 0.5:
        day = p.first_day - timedelta(days=int(state.gen.integers(1, 10)))
    else:
        day = p.last_day + timedelta(days=int(state.gen.integers(1, 10)))
    state.cells["tanggal_salur"][row] = state.fmt.day(day)
    return ["disbursement_outside_period"]


_BY_PREFIX: dict[str, Callable[[RowFaults, int, str], list[str]]] = {
    "missing_value": _missing,
    "unknown_code": _unknown_code,
    "negative_value": _negative,
    "invalid_integer": _invalid_integer,
    "invalid_date": _invalid_date,
    "out_of_range": _out_of_range,
}
_MUTATORS: dict[str, Callable[[RowFaults, int, str], list[str]]] = _BY_PREFIX | {
    "period_mismatch": _period_mismatch,
    "district_mismatch": _district_mismatch,
    "invalid_nik": _invalid_nik,
    "invalid_kk": _invalid_kk,
    "invalid_village_code": _invalid_village,
    "invalid_subdistrict_code": _invalid_subdistrict,
    "total_mismatch": _total_mismatch,
    "implausible_birthdate": _implausible_birthdate,
    "amount_out_of_range": _amount_out_of_range,
    "disbursement_outside_period": _outside_period,
}
