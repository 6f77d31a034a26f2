"""Row-level rules of the submission contract (§4, §5) for one chunk of a file.

``judge_chunk`` turns the reader's string cells into (a) normalised, typed values ready to
load and (b) a boolean mask per reason code. Masks (rather than per-row lists) keep the work
vectorised on 500,000-row files; the reason strings are only built for the few rejected rows.

Order of judgement (§6) beyond one chunk — duplicates across the whole file and the 20 %
threshold — is in ``sinergi.judgement``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sinergi import reference
from sinergi.datasets import DatasetSpec
from sinergi.identity import is_valid_kk, is_valid_nik
from sinergi.periods import Period
from sinergi.values import normalise_code, parse_date, parse_integer

REGION_COLUMNS = ("kode_kabkota", "kode_kecamatan", "kode_desa")
LOKASI = frozenset({"LUAR_UPT", "DALAM_UPT"})
SEX_ALIASES = {"LAKI-LAKI": "L", "PEREMPUAN": "P"}
STATUS_SALUR = frozenset({"SALUR", "GAGAL", "TUNDA"})
STATUS_DTKS = frozenset({"AKTIF", "NONAKTIF"})


@dataclass
class ChunkJudgement:
    """The outcome of the row rules for one chunk (index aligned with the input chunk)."""

    clean: pd.DataFrame
    reasons: dict[str, pd.Series] = field(default_factory=dict)
    warnings: dict[str, pd.Series] = field(default_factory=dict)

    def add(self, code: str, mask: pd.Series) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            previous = self.reasons.get(code)
            self.reasons[code] = mask if previous is None else (previous | mask)

    def warn(self, code: str, mask: pd.Series) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            self.warnings[code] = mask

    @property
    def rejected(self) -> pd.Series:
        """True for every row with at least one reason code."""
        out = pd.Series(False, index=self.clean.index)
        for mask in self.reasons.values():
            out |= mask
        return out

    def reason_strings(self) -> pd.Series:
        """``;``-joined reason codes of the rejected rows (in rule order)."""
        rejected = self.rejected
        parts = pd.Series("", index=self.clean.index[rejected], dtype=object)
        for code, mask in self.reasons.items():
            hit = mask[rejected]
            parts[hit] = parts[hit] + ";" + code
        return parts.str.lstrip(";")


@dataclass(frozen=True)
class Context:
    """What the rules need to know besides the file: the folder's period and district."""

    period: Period
    district_code: str


def _in_set(values: pd.Series, allowed: frozenset[str]) -> pd.Series:
    return values.isin(allowed)


def _flag_invalid_identifier(values: pd.Series, check) -> pd.Series:
    present = values.notna()
    result = pd.Series(False, index=values.index)
    if present.any():
        unique = values[present].unique()
        valid = {v for v in unique if check(v)}
        result[present] = ~values[present].isin(valid)
    return result


def judge_chunk(spec: DatasetSpec, chunk: pd.DataFrame, ctx: Context) -> ChunkJudgement:
    """Apply the common rules and the dataset's rules to one chunk of string cells."""
    clean = pd.DataFrame(index=chunk.index)
    judgement = ChunkJudgement(clean)
    present = {col: chunk[col].notna() for col in spec.columns}

    for col in spec.required:
        judgement.add(f"missing_value:{col}", ~present[col])

    clean["periode"] = chunk["periode"].astype("string")
    judgement.add("period_mismatch", present["periode"] & (clean["periode"] != str(ctx.period)))
    clean["kode_kabkota"] = normalise_code(chunk["kode_kabkota"], drop_dots=True)
    judgement.add(
        "district_mismatch", present["kode_kabkota"] & (clean["kode_kabkota"] != ctx.district_code)
    )
    _RULES[spec.name](chunk, judgement, present, ctx)
    return judgement


def _integer(
    chunk: pd.DataFrame,
    j: ChunkJudgement,
    col: str,
    low: int | None = 0,
    high: int | None = None,
    *,
    range_code: str | None = None,
    where: pd.Series | None = None,
) -> pd.Series:
    cells = chunk[col] if where is None else chunk[col].where(where)
    parsed = parse_integer(cells)
    j.add(f"negative_value:{col}", parsed.negative)
    j.add(f"invalid_integer:{col}", parsed.invalid)
    values = parsed.values
    if range_code is not None:
        out = pd.Series(False, index=values.index)
        if low is not None:
            out |= values < low
        if high is not None:
            out |= values > high
        j.add(range_code, out)
    j.clean[col] = values
    return values


def _region(chunk, j, present, ctx, col: str, length: int, code: str) -> None:
    values = normalise_code(chunk[col], drop_dots=True)
    ok = values.str.fullmatch(rf"\d{{{length}}}").fillna(False) & values.str.startswith(
        ctx.district_code
    ).fillna(False)
    j.add(code, present[col] & ~ok)
    j.clean[col] = values


def _code(chunk, j, present, col: str, allowed: frozenset[str], values=None) -> pd.Series:
    values = normalise_code(chunk[col]) if values is None else values
    j.add(f"unknown_code:{col}", present[col] & ~_in_set(values, allowed))
    j.clean[col] = values
    return values


def _ppks(chunk, j, present, ctx) -> None:
    _region(chunk, j, present, ctx, "kode_kecamatan", 6, "invalid_subdistrict_code")
    _code(chunk, j, present, "kode_ppks", reference.ppks_codes())
    lokasi = normalise_code(chunk["lokasi"]).str.replace(" ", "_", regex=False)
    _code(chunk, j, present, "lokasi", LOKASI, lokasi)
    male = _integer(chunk, j, "jumlah_laki_laki")
    female = _integer(chunk, j, "jumlah_perempuan")
    total = _integer(chunk, j, "jumlah")
    j.add(
        "total_mismatch", total.notna() & male.notna() & female.notna() & (total != male + female)
    )


def _psks(chunk, j, present, ctx) -> None:
    _code(chunk, j, present, "kode_psks", reference.psks_codes())
    _integer(chunk, j, "jumlah")


def _identifier(chunk, j, present, col: str, check, code: str) -> None:
    values = chunk[col].astype("string")
    j.add(code, _flag_invalid_identifier(values, check))
    j.clean[col] = values


def _penerima_bantuan(chunk, j, present, ctx) -> None:
    _identifier(chunk, j, present, "nik", is_valid_nik, "invalid_nik")
    _identifier(chunk, j, present, "no_kk", is_valid_kk, "invalid_kk")
    sex = normalise_code(chunk["jenis_kelamin"]).replace(SEX_ALIASES)
    _code(chunk, j, present, "jenis_kelamin", frozenset({"L", "P"}), sex)

    birth = parse_date(chunk["tanggal_lahir"])
    j.add("invalid_date:tanggal_lahir", birth.invalid)
    last_day = pd.Timestamp(ctx.period.last_day)
    born = birth.values
    # Age in completed years at the period's last day (no date arithmetic: Feb 29 safe).
    before_birthday = (born.dt.month > last_day.month) | (
        (born.dt.month == last_day.month) & (born.dt.day > last_day.day)
    )
    age = last_day.year - born.dt.year - before_birthday.astype(int)
    j.add("implausible_birthdate", (born > last_day) | (age > 120))
    j.clean["tanggal_lahir"] = birth.values

    _region(chunk, j, present, ctx, "kode_desa", 10, "invalid_village_code")
    maxima = reference.program_max_amounts()
    program = _code(chunk, j, present, "kode_program", frozenset(maxima))
    status = _code(chunk, j, present, "status_salur", STATUS_SALUR)

    # Amount and date are judged only for paid rows; otherwise not even parsed (§7).
    paid = (status == "SALUR").fillna(False).astype(bool)
    j.add("missing_value:nilai_bantuan", paid & ~present["nilai_bantuan"])
    amount = _integer(chunk, j, "nilai_bantuan", where=paid)
    ceiling = program.map(maxima).astype("Int64")
    j.add(
        "amount_out_of_range",
        amount.notna() & ceiling.notna() & ((amount < 1) | (amount > ceiling)),
    )

    j.add("missing_value:tanggal_salur", paid & ~present["tanggal_salur"])
    paid_on = parse_date(chunk["tanggal_salur"].where(paid))
    j.add("invalid_date:tanggal_salur", paid_on.invalid)
    first = pd.Timestamp(ctx.period.first_day)
    j.add(
        "disbursement_outside_period",
        paid_on.values.notna() & ((paid_on.values < first) | (paid_on.values > last_day)),
    )
    j.clean["tanggal_salur"] = paid_on.values
    _warn_nik_mismatch(chunk, j, birth.values, sex)


def _warn_nik_mismatch(chunk, j, birth: pd.Series, sex: pd.Series) -> None:
    """Warning only: the NIK's birth-date / sex digits disagree with the row (§5.3)."""
    nik = chunk["nik"].astype("string")
    usable = nik.str.fullmatch(r"\d{16}").fillna(False) & birth.notna() & sex.isin(["L", "P"])
    if not usable.any():
        return
    day = pd.to_numeric(nik.str.slice(6, 8), errors="coerce")
    month = pd.to_numeric(nik.str.slice(8, 10), errors="coerce")
    year = pd.to_numeric(nik.str.slice(10, 12), errors="coerce")
    nik_sex = np.where(day > 40, "P", "L")
    nik_day = day.where(day <= 40, day - 40)
    mismatch = (
        (nik_day != birth.dt.day)
        | (month != birth.dt.month)
        | (year != birth.dt.year % 100)
        | (pd.Series(nik_sex, index=nik.index) != sex)
    )
    j.warn("nik_birthdate_mismatch", usable & mismatch)


def _dtks(chunk, j, present, ctx) -> None:
    _identifier(chunk, j, present, "no_kk", is_valid_kk, "invalid_kk")
    _identifier(chunk, j, present, "nik_kepala_keluarga", is_valid_nik, "invalid_nik")
    _region(chunk, j, present, ctx, "kode_desa", 10, "invalid_village_code")
    _integer(chunk, j, "jumlah_anggota", 1, 30, range_code="out_of_range:jumlah_anggota")
    _integer(chunk, j, "desil", 1, 10, range_code="out_of_range:desil")
    _code(chunk, j, present, "status_dtks", STATUS_DTKS)


_RULES = {
    "ppks": _ppks,
    "psks": _psks,
    "penerima_bantuan": _penerima_bantuan,
    "dtks": _dtks,
}
