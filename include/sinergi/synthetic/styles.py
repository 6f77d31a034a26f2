"""How each district writes its files: the many valid shapes of one Indonesian spreadsheet.

Contract §2 accepts dates in three textual forms or as XLSX date cells, integers with
Indonesian digit grouping (``600.000``), dotted region codes (``35.78.01``), ``LAKI-LAKI`` /
``PEREMPUAN``, capitalised or spaced headers, ``;`` delimiters, UTF-8 with or without BOM and
Windows-1252, and XLSX with title rows. A pipeline that only ever saw tidy snake_case UTF-8
CSV would pass its own tests and fail on the first real upload, so every clean inbox carries
all of these. The habits are per district (the same operator, the same Excel every month).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import cache

import numpy as np

from sinergi.datasets import SPECS
from sinergi.periods import Period
from sinergi.reference import districts
from sinergi.synthetic.common import rng, split_days
from sinergi.synthetic.population import programs
from sinergi.synthetic.tables import LOKASI, STATUS_SALUR, Table, ppks_list, psks_list

DATE_STYLES = ("iso", "dmy_slash", "dmy_dash")
TITLE_HEADERS = {
    "periode": "Periode",
    "kode_kabkota": "Kode Kabkota",
    "kode_kecamatan": "Kode Kecamatan",
    "kode_ppks": "Kode PPKS",
    "lokasi": "Lokasi",
    "jumlah_laki_laki": "Jumlah Laki-Laki",
    "jumlah_perempuan": "Jumlah Perempuan",
    "jumlah": "Jumlah",
    "kode_psks": "Kode PSKS",
    "nik": "NIK",
    "no_kk": "No. KK",
    "jenis_kelamin": "Jenis Kelamin",
    "tanggal_lahir": "Tanggal Lahir",
    "kode_desa": "Kode Desa",
    "kode_program": "Kode Program",
    "nilai_bantuan": "Nilai Bantuan",
    "tanggal_salur": "Tanggal Salur",
    "status_salur": "Status Salur",
    "nik_kepala_keluarga": "NIK Kepala Keluarga",
    "jumlah_anggota": "Jumlah Anggota",
    "desil": "Desil",
    "status_dtks": "Status DTKS",
}
TITLES = {
    "ppks": "REKAPITULASI DATA PPKS",
    "psks": "REKAPITULASI DATA PSKS",
    "penerima_bantuan": "DAFTAR PENERIMA BANTUAN SOSIAL",
    "dtks": "DATA TERPADU KESEJAHTERAAN SOSIAL (DTKS)",
}
BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
XLSX_DISTRICTS = 4


@dataclass(frozen=True)
class Profile:
    """One district's writing habits (valid per contract, every one of them)."""

    fmt: str = "csv"  # csv | xlsx
    delimiter: str = ","
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | cp1252
    header_style: str = "snake"  # snake | upper | title | padded
    shuffle_columns: bool = False
    date_style: str = "iso"  # iso | dmy_slash | dmy_dash | mixed
    grouping: str = "never"  # never | always | mixed (Indonesian 600.000)
    dotted: bool = False  # 35.78.01 region codes
    sex_style: str = "code"  # code (L/P) | word (LAKI-LAKI/PEREMPUAN) | mixed
    title_case: bool = False  # Salur, Luar UPT, Aktif
    quote_all: bool = False
    crlf: bool = False
    padded: bool = False  # stray spaces around some cells
    upper_filename: bool = False  # PPKS.CSV (names match case-insensitively)
    title_rows: int = 0  # xlsx: title lines above the header
    blank_after_title: bool = False

    def describe(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items()}


def _draw(gen: np.random.Generator, options: tuple, probs: tuple) -> object:
    return options[int(gen.choice(len(options), p=probs))]


def _profile(seed: int, code: str, xlsx: bool) -> Profile:
    gen = rng(seed, int(code), "profile")
    encoding = str(_draw(gen, ("utf-8", "utf-8-sig", "cp1252"), (0.7, 0.18, 0.12)))
    header = str(_draw(gen, ("snake", "title", "upper", "padded"), (0.45, 0.3, 0.15, 0.1)))
    delimiter = ";" if gen.random() < 0.3 else ","
    profile = Profile(
        fmt="xlsx" if xlsx else "csv",
        delimiter=delimiter,
        encoding=encoding,
        header_style="title" if encoding == "cp1252" else header,
        shuffle_columns=bool(gen.random() < 0.1),
        date_style=str(
            _draw(gen, ("iso", "dmy_slash", "dmy_dash", "mixed"), (0.4, 0.3, 0.15, 0.15))
        ),
        grouping=str(_draw(gen, ("never", "always", "mixed"), (0.6, 0.25, 0.15))),
        dotted=bool(gen.random() < 0.2),
        sex_style=str(_draw(gen, ("code", "word", "mixed"), (0.65, 0.25, 0.1))),
        title_case=bool(gen.random() < 0.2),
        quote_all=bool(gen.random() < 0.15),
        crlf=delimiter == ";" or bool(gen.random() < 0.3),
        padded=bool(gen.random() < 0.1),
        upper_filename=bool(gen.random() < 0.08),
        title_rows=int(gen.integers(1, 3)) if xlsx else 0,
        blank_after_title=bool(xlsx and gen.random() < 0.5),
    )
    return profile


@cache
def profiles(seed: int) -> dict[str, Profile]:
    """Every district's profile; each valid variant is guaranteed to occur somewhere.

    Profiles are drawn per district, then a few districts are assigned the variants that
    happened not to be drawn, so any seed exercises every accepted shape.
    """
    ordered = sorted(districts(), key=lambda d: (d.population, d.code))
    small = [d.code for d in ordered[: len(ordered) // 2]]
    pick = rng(seed, "xlsx-districts")
    # XLSX is written cell by cell; the smaller half keeps generation fast at full scale.
    xlsx = set(pick.choice(small, size=min(XLSX_DISTRICTS, len(small)), replace=False).tolist())
    result = {d.code: _profile(seed, d.code, d.code in xlsx) for d in districts()}
    csv_codes = sorted(c for c, p in result.items() if p.fmt == "csv")
    required: list[tuple[str, dict[str, object]]] = [
        ("cp1252", {"encoding": "cp1252", "header_style": "title"}),
        ("bom", {"encoding": "utf-8-sig"}),
        ("semicolon", {"delimiter": ";", "crlf": True}),
        ("dotted", {"dotted": True}),
        ("grouped", {"grouping": "always"}),
        ("word-sex", {"sex_style": "word"}),
        ("slash", {"date_style": "dmy_slash"}),
        ("dash", {"date_style": "dmy_dash"}),
        ("mixed-dates", {"date_style": "mixed"}),
        ("upper", {"header_style": "upper"}),
        ("quoted", {"quote_all": True}),
        ("upper-name", {"upper_filename": True}),
        ("title-case", {"title_case": True}),
        ("padded", {"padded": True}),
    ]
    for label, change in required:
        if any(all(getattr(result[c], k) == v for k, v in change.items()) for c in csv_codes):
            continue
        code = str(rng(seed, "variant", label).choice(csv_codes))
        result[code] = replace(result[code], **change)
    return result


def header_names(dataset: str, columns: list[str], profile: Profile) -> list[str]:
    """Header cells as the district writes them; all normalise to the contract's names."""
    names = []
    for col in columns:
        if col not in SPECS[dataset].columns:
            names.append(col)
        elif profile.header_style == "title":
            names.append(TITLE_HEADERS[col])
        elif profile.header_style == "upper":
            names.append(col.upper())
        elif profile.header_style == "padded":
            names.append(f" {col} ")
        else:
            names.append(col)
    if profile.encoding == "cp1252" and profile.fmt == "csv":
        # Excel on an Indonesian Windows writes non-breaking spaces and en dashes: bytes that
        # are not UTF-8, so the reader must fall back to Windows-1252.
        names = [
            n.replace("Kode Kabkota", "Kode\xa0Kabkota").replace("Laki-Laki", "Laki\u2013Laki")
            for n in names
        ]
    return names


def column_order(dataset: str, profile: Profile, seed: int, code: str) -> list[str]:
    columns = list(SPECS[dataset].columns)
    if profile.shuffle_columns:
        # Operators reorder columns; the reader must go by header names, not positions.
        gen = rng(seed, int(code), dataset, "columns")
        head, rest = columns[:2], columns[2:]
        columns = head + [rest[i] for i in gen.permutation(len(rest))]
    return columns


def grouped(value: int) -> str:
    """Indonesian digit grouping: 600000 -> '600.000'."""
    return f"{value:,}".replace(",", ".")


def dotted_code(value: int) -> str:
    text = str(value)
    parts = [text[:2], text[2:4], text[4:6], text[6:]]
    return ".".join(p for p in parts if p)


def date_text(day: date, style: str) -> str:
    if style == "dmy_slash":
        return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
    if style == "dmy_dash":
        return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


class Formatter:
    """Turns typed values into the cells one file holds (str for CSV, objects for XLSX)."""

    def __init__(self, profile: Profile, gen: np.random.Generator, *, xlsx: bool) -> None:
        self.profile = profile
        self.gen = gen
        self.xlsx = xlsx

    # --- scalar helpers (used by the fault injectors) -------------------------------------
    def missing(self) -> object:
        return None if self.xlsx else ""

    def integer(self, value: int) -> object:
        if self.xlsx:
            return int(value)
        if self.profile.grouping == "always" or (
            self.profile.grouping == "mixed" and self.gen.random() < 0.5
        ):
            return grouped(int(value))
        return str(int(value))

    def region(self, value: int) -> object:
        if self.xlsx:
            return int(value)
        return dotted_code(int(value)) if self.profile.dotted else str(int(value))

    def identifier(self, value: int) -> object:
        return int(value) if self.xlsx else str(int(value))

    def day(self, value: date) -> object:
        if self.xlsx:
            return value
        return date_text(value, self.row_date_style())

    def row_date_style(self) -> str:
        if self.profile.date_style == "mixed":
            return DATE_STYLES[int(self.gen.integers(0, 3))]
        return self.profile.date_style

    def word(self, text: str) -> str:
        """Status-like words: SALUR or, for some districts, Salur."""
        return text.title() if self.profile.title_case else text

    # --- vectorised column formatting -----------------------------------------------------
    def _lookup(self, values: np.ndarray, render) -> np.ndarray:
        if len(values) == 0:
            return np.zeros(0, dtype=object)
        uniq, inverse = np.unique(values, return_inverse=True)
        table = np.empty(len(uniq), dtype=object)
        table[:] = [render(v) for v in uniq.tolist()]
        return table[inverse]

    def integers(self, values: np.ndarray) -> np.ndarray:
        if self.xlsx:
            return values.astype(np.int64).astype(object)
        plain = self._lookup(values, lambda v: str(v))
        if self.profile.grouping == "never":
            return plain
        fancy = self._lookup(values, grouped)
        if self.profile.grouping == "always":
            return fancy
        return np.where(self.gen.random(len(values)) < 0.5, fancy, plain)

    def regions(self, values: np.ndarray) -> np.ndarray:
        if self.xlsx:
            return values.astype(np.int64).astype(object)
        return self._lookup(values, dotted_code if self.profile.dotted else str)

    def identifiers(self, values: np.ndarray) -> np.ndarray:
        if self.xlsx:
            return values.astype(np.int64).astype(object)
        return values.astype(np.int64).astype(str).astype(object)

    def days(self, values: np.ndarray) -> np.ndarray:
        """Day numbers as date cells (XLSX) or text in the district's date style."""
        if len(values) == 0:
            return np.zeros(0, dtype=object)
        uniq, inverse = np.unique(values, return_inverse=True)
        if self.xlsx:
            table = np.empty(len(uniq), dtype=object)
            table[:] = uniq.astype("datetime64[D]").astype(object).tolist()
            return table[inverse]
        parts = list(zip(*(a.tolist() for a in split_days(uniq)), strict=True))

        def rendered(style: str) -> np.ndarray:
            table = np.empty(len(uniq), dtype=object)
            if style == "dmy_slash":
                table[:] = [f"{d:02d}/{m:02d}/{y:04d}" for y, m, d in parts]
            elif style == "dmy_dash":
                table[:] = [f"{d:02d}-{m:02d}-{y:04d}" for y, m, d in parts]
            else:
                table[:] = [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in parts]
            return table[inverse]

        if self.profile.date_style != "mixed":
            return rendered(self.profile.date_style)
        pick = self.gen.integers(0, 3, size=len(values))
        return np.choose(pick, [rendered(style) for style in DATE_STYLES])

    def words(self, codes: np.ndarray, names: tuple[str, ...] | list[str]) -> np.ndarray:
        table = np.array([self.word(n) for n in names] + [""], dtype=object)
        return table[codes]

    def constant(self, value: object, n: int) -> np.ndarray:
        out = np.empty(n, dtype=object)
        out[:] = [value] * n
        return out

    def pad(self, cells: np.ndarray) -> np.ndarray:
        """Stray spaces around a few cells (trimmed by the reader)."""
        if not self.profile.padded or self.xlsx or len(cells) == 0:
            return cells
        hit = np.flatnonzero(self.gen.random(len(cells)) < 0.05)
        cells = cells.copy()
        for i in hit:
            if cells[i]:
                cells[i] = f" {cells[i]} "
        return cells


def format_table(table: Table, fmt: Formatter, period: Period, code: str) -> dict[str, np.ndarray]:
    """Cells of every contract column of ``table``, written in the district's style."""
    n = len(table)
    cols = table.columns
    cells: dict[str, np.ndarray] = {
        "periode": fmt.constant(str(period), n),
        "kode_kabkota": fmt.constant(fmt.region(int(code)), n),
    }
    if table.dataset == "ppks":
        male, female = cols["jumlah_laki_laki"], cols["jumlah_perempuan"]
        lokasi_names = ("Luar UPT", "Dalam UPT") if fmt.profile.title_case else LOKASI
        cells |= {
            "kode_kecamatan": fmt.regions(cols["kode_kecamatan"]),
            "kode_ppks": _pick(ppks_list(), cols["kode_ppks"]),
            "lokasi": _pick(lokasi_names, cols["lokasi"]),
            "jumlah_laki_laki": fmt.integers(male),
            "jumlah_perempuan": fmt.integers(female),
            "jumlah": fmt.integers(male + female),
        }
    elif table.dataset == "psks":
        cells |= {
            "kode_psks": _pick(psks_list(), cols["kode_psks"]),
            "jumlah": fmt.integers(cols["jumlah"]),
        }
    elif table.dataset == "penerima_bantuan":
        filled = cols["filled"]
        sex = _sex_cells(fmt, cols["female"])
        amount = fmt.integers(cols["nilai_bantuan"])
        salur = fmt.days(cols["tanggal_salur"])
        amount[~filled] = fmt.missing()
        salur[~filled] = fmt.missing()
        cells |= {
            "nik": fmt.identifiers(cols["nik"]),
            "no_kk": fmt.identifiers(cols["no_kk"]),
            "jenis_kelamin": fmt.pad(sex),
            "tanggal_lahir": fmt.days(cols["tanggal_lahir"]),
            "kode_desa": fmt.regions(cols["kode_desa"]),
            "kode_program": fmt.pad(_pick(programs(), cols["kode_program"])),
            "nilai_bantuan": amount,
            "tanggal_salur": salur,
            "status_salur": fmt.pad(fmt.words(cols["status_salur"].astype(np.int64), STATUS_SALUR)),
        }
    elif table.dataset == "dtks":
        status = np.where(cols["aktif"], 0, 1)
        cells |= {
            "no_kk": fmt.identifiers(cols["no_kk"]),
            "nik_kepala_keluarga": fmt.identifiers(cols["nik_kepala_keluarga"]),
            "kode_desa": fmt.regions(cols["kode_desa"]),
            "jumlah_anggota": fmt.integers(cols["jumlah_anggota"]),
            "desil": fmt.integers(cols["desil"]),
            "status_dtks": fmt.pad(fmt.words(status, ("AKTIF", "NONAKTIF"))),
        }
    return cells


def _pick(names: tuple[str, ...] | list[str], index: np.ndarray) -> np.ndarray:
    """``names[index]`` as an object array (also for an empty index)."""
    table = np.empty(len(names), dtype=object)
    table[:] = list(names)
    return table[index.astype(np.int64)] if len(index) else np.zeros(0, dtype=object)


def _sex_cells(fmt: Formatter, female: np.ndarray) -> np.ndarray:
    codes = female.astype(np.int64)
    style = fmt.profile.sex_style
    short = _pick(("L", "P"), codes)
    words = ("Laki-laki", "Perempuan") if fmt.profile.title_case else ("LAKI-LAKI", "PEREMPUAN")
    long = _pick(words, codes)
    if style == "code":
        return short
    if style == "word":
        return long
    return np.where(fmt.gen.random(len(codes)) < 0.5, long, short)


def sex_cell(fmt: Formatter, female: bool) -> str:
    """One jenis_kelamin cell in the district's style."""
    return str(_sex_cells(fmt, np.array([female]))[0])


def month_title(period: Period) -> str:
    return f"{BULAN[period.month - 1].upper()} {period.year}"
