"""Row-level judgement of one chunk of a file (contract §4, §5) with Great Expectations.

``prepare_chunk`` normalises the reader's string cells exactly as the contract says and adds
typed companions (``<col>__int``, ``<col>__date``); the suites in ``sinergi.suites`` state the
rules on those columns; ``judge_chunk`` runs the dataset's suite and reads every reason code
from the expectations' unexpected row indices. The frame's index is the operator's row
number, so GX results, quarantine rows and feedback all speak of the same row.

Duplicates across the whole file and the 20 % threshold are in ``sinergi.judgement``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sinergi import reference
from sinergi.datasets import CODE, LOCATION, REGION, SEX, DatasetSpec
from sinergi.gx_parts import validate_parts
from sinergi.periods import Period
from sinergi.suites import DISTRICT_PARTS, FOLDER_DISTRICT, nik_regex
from sinergi.validation import ExpectationOutcome
from sinergi.values import normalise_code, parse_date, parse_integer

SEX_ALIASES = {"LAKI-LAKI": "L", "PEREMPUAN": "P"}


@dataclass(frozen=True)
class Context:
    """What the rules need besides the file: the folder's period and district (§7)."""

    period: Period
    district_code: str

    def suite_parameters(self) -> dict:
        """Values of the suites' ``$PARAMETER`` placeholders: the same for every district of
        the period (the district is a prepared column), so one validation serves a month."""
        first, last = self.period.first_day, self.period.last_day
        return {
            "period_values": [str(self.period)],
            "period_first_yyyymmdd": _yyyymmdd(first),
            "period_last_yyyymmdd": _yyyymmdd(last),
            "oldest_birth_yyyymmdd": _yyyymmdd(oldest_birth_date(last)),
        }


def _yyyymmdd(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def oldest_birth_date(on: date, max_age: int = 120) -> date:
    """Earliest birth date whose age on ``on`` is at most ``max_age`` completed years."""
    try:
        return date(on.year - max_age - 1, on.month, on.day) + timedelta(days=1)
    except ValueError:  # 29 February in a year that has none: the next birthday is 1 March
        return date(on.year - max_age - 1, 3, 1)


@dataclass
class ChunkJudgement:
    """The outcome of the row rules for one chunk (indexed by row number)."""

    clean: pd.DataFrame
    reasons: dict[str, pd.Series] = field(default_factory=dict)
    warnings: dict[str, pd.Series] = field(default_factory=dict)
    outcomes: list[ExpectationOutcome] = field(default_factory=list)  # per expectation
    report: dict | None = None  # the sanitised GX result, for Data Docs

    def add(self, code: str, mask: pd.Series, *, warning: bool = False) -> None:
        target = self.warnings if warning else self.reasons
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            previous = target.get(code)
            target[code] = mask if previous is None else (previous | mask)

    @property
    def rejected(self) -> pd.Series:
        """True for every row with at least one reason code."""
        out = pd.Series(False, index=self.clean.index)
        for mask in self.reasons.values():
            out |= mask
        return out

    def reason_strings(self) -> pd.Series:
        """``;``-joined reason codes of the rejected rows (sorted, so the text is stable)."""
        rejected = self.rejected
        parts = pd.Series("", index=self.clean.index[rejected], dtype=object)
        for code, mask in sorted(self.reasons.items()):
            hit = mask[rejected]
            parts[hit] = parts[hit] + ";" + code
        return parts.str.lstrip(";")


def prepare_chunk(
    spec: DatasetSpec, chunk: pd.DataFrame, district_code: str | np.ndarray
) -> pd.DataFrame:
    """Normalised cells plus typed companions, indexed by the operator's row number.

    ``district_code`` is the folder's (or one per row, for rows of several files): every row
    carries it (``kode_kabkota__folder``), and region codes carry their district part, for
    the suites' district rules.
    """
    # Unnamed index: GX then reports unexpected rows as plain row numbers, without values.
    frame = pd.DataFrame(index=pd.Index(chunk["row_number"].to_numpy()))
    cells = {
        c: pd.Series(chunk[c].to_numpy(), index=frame.index, dtype="string") for c in spec.columns
    }
    for column in spec.spec_columns:
        frame[column.name] = _normalised(cells[column.name], column.normalise)
    paid = None
    if "status_salur" in frame:
        paid = (frame["status_salur"] == "SALUR").fillna(False).astype(bool)
    for column in spec.integer_columns:
        source = frame[column] if column not in spec.paid_only else frame[column].where(paid)
        frame[f"{column}__int"] = parse_integer(source).values
    for column in spec.date_columns:
        source = frame[column] if column not in spec.paid_only else frame[column].where(paid)
        parsed = parse_date(source).values
        frame[f"{column}__date"] = parsed
        frame[f"{column}__yyyymmdd"] = (
            parsed.dt.year * 10_000 + parsed.dt.month * 100 + parsed.dt.day
        ).astype("Int64")
    _add_district_parts(frame, district_code)
    if spec.name == "ppks":
        frame["jumlah__sum_of_parts"] = (
            frame["jumlah_laki_laki__int"] + frame["jumlah_perempuan__int"]
        )
    if spec.name == "penerima_bantuan":
        _add_nik_birth_digits(frame)
        _add_program_bounds(frame, paid)
    return frame


def _add_district_parts(frame: pd.DataFrame, district_code: str | np.ndarray) -> None:
    """The folder's district on every row, and the district part of each region code.

    The district part is the first 4 digits of a code of the right shape (empty otherwise:
    the shape rule reports that row), so ``<col>__kabkota == kode_kabkota__folder`` holds
    exactly when the code starts with the folder's district (§4).
    """
    frame[FOLDER_DISTRICT] = pd.Series(district_code, index=frame.index, dtype="string")
    for column, digits_after in DISTRICT_PARTS.items():
        if column in frame:
            code = frame[column]
            shaped = code.str.fullmatch(rf"[0-9]{{{4 + digits_after}}}").fillna(False)
            frame[f"{column}__kabkota"] = code.str.slice(0, 4).where(shaped.astype(bool))


def _normalised(value: pd.Series, kind: str) -> pd.Series:
    """A column's cells normalised by its kind (``sinergi.datasets``).

    Text columns stay as the reader trimmed them.
    """
    if kind == REGION:
        return normalise_code(value, drop_dots=True)
    if kind == CODE:
        return normalise_code(value)
    if kind == LOCATION:
        return normalise_code(value).str.replace(r"\s+", "_", regex=True)
    if kind == SEX:
        return normalise_code(value).replace(SEX_ALIASES)
    return value


def _add_program_bounds(frame: pd.DataFrame, paid: pd.Series) -> None:
    """The amount bounds of a paid row's programme (§5.3: 1 to the programme's ceiling).

    Empty where the row is not paid or its programme is unknown (that row gets
    ``unknown_code:kode_program``, not an amount reason), so the suite's pair expectations
    skip it. The ceilings come from the official programme list, like the suite's code sets.
    """
    ceilings = reference.program_max_amounts()
    ceiling = frame["kode_program"].map(ceilings).astype("Int64").where(paid)
    frame["nilai_bantuan__program_ceiling"] = ceiling
    frame["nilai_bantuan__program_floor"] = pd.Series(1, index=frame.index, dtype="Int64").where(
        ceiling.notna()
    )


def _add_nik_birth_digits(frame: pd.DataFrame) -> None:
    """Digits 7–12 of a valid NIK and the same digits derived from birth date and sex."""
    nik = frame["nik"]
    valid = nik.str.match(nik_regex()).fillna(False).astype(bool)
    frame["nik__birth_digits"] = nik.str.slice(6, 12).where(valid)
    born = frame["tanggal_lahir__date"]
    sex = frame["jenis_kelamin"]
    usable = born.notna() & sex.isin(["L", "P"]).fillna(False).astype(bool)
    women = (sex == "P").fillna(False).astype(bool)
    day = born.dt.day.where(usable) + np.where(women, 40, 0)
    digits = (
        day.astype("Int64").astype("string").str.zfill(2)
        + born.dt.month.astype("Int64").astype("string").str.zfill(2)
        + (born.dt.year % 100).astype("Int64").astype("string").str.zfill(2)
    )
    frame["tanggal_lahir__nik_digits"] = digits.where(usable)


def judge_chunk(
    spec: DatasetSpec, chunk: pd.DataFrame, ctx: Context, suites_dir: Path
) -> ChunkJudgement:
    """Run the dataset's suite on one chunk; reasons and warnings come from GX's results."""
    return judge_chunks(spec, [chunk], [ctx], suites_dir)[0]


def _prepare_together(
    spec: DatasetSpec, chunks: list[pd.DataFrame], districts: list[str]
) -> list[pd.DataFrame]:
    """:func:`prepare_chunk` once for the rows of every chunk (pandas' cost per call is
    most of a small file's), split back into one frame per chunk with its row numbers."""
    if len(chunks) == 1:
        return [prepare_chunk(spec, chunks[0], districts[0])]
    sizes = [len(chunk) for chunk in chunks]
    rows = pd.concat(chunks, ignore_index=True)
    numbers = rows["row_number"].to_numpy()
    rows["row_number"] = np.arange(len(rows))  # a unique index while preparing
    prepared = prepare_chunk(spec, rows, np.repeat(np.array(districts, dtype=object), sizes))
    bounds = np.cumsum([0, *sizes])
    return [
        prepared.iloc[start:stop].set_axis(pd.Index(numbers[start:stop]), axis=0)
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def judge_chunks(
    spec: DatasetSpec, chunks: list[pd.DataFrame], contexts: list[Context], suites_dir: Path
) -> list[ChunkJudgement]:
    """Judge chunks of several files of one period in ONE suite validation (``gx_parts``).

    Each chunk keeps its own row numbers, reason codes, expectation counts and report.
    """
    periods = {ctx.period for ctx in contexts}
    if len(periods) != 1:
        raise ValueError(f"one validation judges one period, got {sorted(map(str, periods))}")
    prepared = _prepare_together(spec, chunks, [ctx.district_code for ctx in contexts])
    parts = validate_parts(
        suites_dir, spec.name, prepared, contexts[0].suite_parameters(), set(spec.personal)
    )
    judgements = []
    for frame, part in zip(prepared, parts, strict=True):
        judgement = ChunkJudgement(frame, outcomes=part.outcomes, report=part.report)
        for outcome in part.outcomes:
            if outcome.unexpected_index:
                mask = pd.Series(frame.index.isin(outcome.unexpected_index), index=frame.index)
                judgement.add(outcome.reason_code, mask, warning=outcome.severity == "warning")
        judgements.append(judgement)
    return judgements
