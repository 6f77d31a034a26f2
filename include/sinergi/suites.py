"""The contract's rules as Great Expectations suites, one per dataset (contract §4–§6).

Every expectation carries its reason code in ``meta.reason_code``: the row-level reason codes
of a file are read from the expectations' ``unexpected_index_list`` (the data frame's index
is the operator's row number), never computed a second time beside GX.

Expectations run on a *prepared* frame (``sinergi.rules.prepare_chunk``): the reader's cells
normalised as the contract says (trimmed, codes upper-cased, dots removed from region codes)
plus typed companions ``<col>__int``, ``<col>__date`` and ``<col>__yyyymmdd`` (a date as an
integer such as 20250331: readable in Data Docs, and compared vectorised). Values that depend
on the period (period, date bounds) are suite parameters (``$PARAMETER``), supplied by
``sinergi.rules.Context.suite_parameters``; the folder's district is a prepared column
(``kode_kabkota__folder``), so that one validation can judge the files of every district of
a month at once (``sinergi.gx_parts``). The rules that name the district compare against it:
a code's shape with a regex, its district part (``<col>__kabkota``) with a column pair.

The suites are written to ``expectations/suites/*.json`` by ``sinergi expectations`` for
review; a test fails when the files and this code disagree.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sinergi import reference
from sinergi.datasets import SPECS, DatasetSpec
from sinergi.values import INTEGER_OR_NEGATIVE_TEXT, NEGATIVE_TEXT

INTEGER_TEXT = INTEGER_OR_NEGATIVE_TEXT
LOKASI = ("DALAM_UPT", "LUAR_UPT")
SEX = ("L", "P")
STATUS_SALUR = ("GAGAL", "SALUR", "TUNDA")
STATUS_DTKS = ("AKTIF", "NONAKTIF")
#: The prepared column holding the folder's district code on every row (``sinergi.rules``).
FOLDER_DISTRICT = "kode_kabkota__folder"
#: Prepared columns holding the district part of a region code (``sinergi.rules``).
DISTRICT_PARTS = {"kode_kecamatan": 2, "kode_desa": 6}
SUITE_NAMESPACE = uuid.UUID("0b5f7e1c-6d1a-4c55-9a6e-5b1e0c2d7a10")


def _provinces() -> str:
    return "|".join(sorted(reference.nik_province_codes()))


# Four digits other than 0000, spelled without a look-ahead: pandas then matches with
# Arrow's RE2 engine instead of Python's ``re`` row by row.
NONZERO_SERIAL = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"


def nik_regex() -> str:
    """§4 NIK: province, regency/sub-district, day 01–31 or 41–71, month 01–12, serial ≠ 0000."""
    day = r"(?:0[1-9]|[12][0-9]|3[01]|4[1-9]|[56][0-9]|7[01])"
    month = r"(?:0[1-9]|1[0-2])"
    return rf"^(?:{_provinces()})[0-9]{{4}}{day}{month}[0-9]{{2}}{NONZERO_SERIAL}$"


def kk_regex() -> str:
    """§4 No. KK: 16 digits, a province code first, serial (digits 13–16) ≠ 0000."""
    return rf"^(?:{_provinces()})[0-9]{{10}}{NONZERO_SERIAL}$"


def _exp(kind: str, reason: str, severity: str = "critical", **kwargs: Any) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {"reason_code": reason}, "severity": severity}


def _param(name: str) -> dict:
    return {"$PARAMETER": name}


def _equals(column: str, value: str) -> dict:
    return {"type": "comparison", "column": {"name": column}, "operator": "==", "parameter": value}


def _paid(extra: dict | None = None) -> dict:
    """Row condition for the paid-only rules, in GX's serialised condition form."""
    condition = _equals("status_salur", "SALUR")
    if extra is None:
        return condition
    return {"type": "and", "conditions": [condition, extra]}


def _common(spec: DatasetSpec) -> Iterator[dict]:
    for column in spec.required:
        yield _exp("expect_column_values_to_not_be_null", f"missing_value:{column}", column=column)
    yield _exp(
        "expect_column_values_to_be_in_set",
        "period_mismatch",
        column="periode",
        value_set=_param("period_values"),
    )
    yield _exp(
        "expect_column_pair_values_to_be_equal",
        "district_mismatch",
        column_A="kode_kabkota",
        column_B=FOLDER_DISTRICT,
        ignore_row_if="either_value_is_missing",
    )


def _in_folder_district(column: str, reason: str) -> Iterator[dict]:
    """``column`` is the folder district's code followed by more digits (§4).

    Two expectations with one reason code, so that one validation serves every district: the
    shape (4 + ``DISTRICT_PARTS[column]`` digits), and the district part (``<column>__kabkota``, the
    first 4 digits of a code of that shape) equal to the folder's district.
    """
    yield _exp(
        "expect_column_values_to_match_regex",
        reason,
        column=column,
        regex=rf"^[0-9]{{{4 + DISTRICT_PARTS[column]}}}$",
    )
    yield _exp(
        "expect_column_pair_values_to_be_equal",
        reason,
        column_A=f"{column}__kabkota",
        column_B=FOLDER_DISTRICT,
        ignore_row_if="either_value_is_missing",
    )


def _integers(spec: DatasetSpec) -> Iterator[dict]:
    for column in spec.integer_columns:
        condition = {"row_condition": _paid()} if column in spec.paid_only else {}
        yield _exp(
            "expect_column_values_to_not_match_regex",
            f"negative_value:{column}",
            column=column,
            regex=NEGATIVE_TEXT,
            **condition,
        )
        yield _exp(
            "expect_column_values_to_match_regex",
            f"invalid_integer:{column}",
            column=column,
            regex=INTEGER_TEXT,
            **condition,
        )


def _given(column: str) -> dict:
    return {"type": "nullity", "column": {"name": column}, "is_null": False}


def _dates(spec: DatasetSpec) -> Iterator[dict]:
    """A given date must be one of the accepted forms and a real calendar day.

    The prepared frame parses each cell (``<col>__date``, empty when the text is not a valid
    date); the rule is that wherever the cell is given, the parsed date exists. Checking the
    parsed column keeps GX vectorised (its strftime expectation parses row by row in Python).
    """
    for column in spec.date_columns:
        condition = _given(column)
        if column in spec.paid_only:
            condition = _paid(condition)
        yield _exp(
            "expect_column_values_to_not_be_null",
            f"invalid_date:{column}",
            column=f"{column}__date",
            row_condition=condition,
        )


def _in_set(column: str, values) -> dict:
    return _exp(
        "expect_column_values_to_be_in_set",
        f"unknown_code:{column}",
        column=column,
        value_set=sorted(values),
    )


def _ppks() -> Iterator[dict]:
    yield from _in_folder_district("kode_kecamatan", "invalid_subdistrict_code")
    yield _in_set("kode_ppks", reference.ppks_codes())
    yield _in_set("lokasi", LOKASI)
    yield _exp(
        "expect_column_pair_values_to_be_equal",
        "total_mismatch",
        column_A="jumlah__int",
        column_B="jumlah__sum_of_parts",
        ignore_row_if="either_value_is_missing",
    )


def _psks() -> Iterator[dict]:
    yield _in_set("kode_psks", reference.psks_codes())


def _penerima_bantuan() -> Iterator[dict]:
    yield _exp(
        "expect_column_values_to_match_regex", "invalid_nik", column="nik", regex=nik_regex()
    )
    yield _exp(
        "expect_column_values_to_match_regex", "invalid_kk", column="no_kk", regex=kk_regex()
    )
    yield _in_set("jenis_kelamin", SEX)
    yield _exp(
        "expect_column_values_to_be_between",
        "implausible_birthdate",
        column="tanggal_lahir__yyyymmdd",
        min_value=_param("oldest_birth_yyyymmdd"),
        max_value=_param("period_last_yyyymmdd"),
    )
    yield from _in_folder_district("kode_desa", "invalid_village_code")
    yield _in_set("kode_program", reference.program_max_amounts())
    yield _in_set("status_salur", STATUS_SALUR)
    yield _exp(
        "expect_column_values_to_not_be_null",
        "missing_value:nilai_bantuan",
        column="nilai_bantuan",
        row_condition=_paid(),
    )
    # 1 <= amount <= the programme's ceiling, for paid rows of a known programme. The bounds
    # are columns of the prepared frame (``sinergi.rules``: empty where the row is unpaid or
    # its programme unknown), so two pair expectations state the rule for every programme;
    # one `between` per programme under a row condition cost 8 filtered copies of the frame.
    yield _exp(
        "expect_column_pair_values_a_to_be_greater_than_b",
        "amount_out_of_range",
        column_A="nilai_bantuan__int",
        column_B="nilai_bantuan__program_floor",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )
    yield _exp(
        "expect_column_pair_values_a_to_be_greater_than_b",
        "amount_out_of_range",
        column_A="nilai_bantuan__program_ceiling",
        column_B="nilai_bantuan__int",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )
    yield _exp(
        "expect_column_values_to_not_be_null",
        "missing_value:tanggal_salur",
        column="tanggal_salur",
        row_condition=_paid(),
    )
    yield _exp(
        "expect_column_values_to_be_between",
        "disbursement_outside_period",
        column="tanggal_salur__yyyymmdd",
        min_value=_param("period_first_yyyymmdd"),
        max_value=_param("period_last_yyyymmdd"),
        row_condition=_paid(),
    )
    yield _exp(
        "expect_column_pair_values_to_be_equal",
        "nik_birthdate_mismatch",
        severity="warning",
        column_A="nik__birth_digits",
        column_B="tanggal_lahir__nik_digits",
        ignore_row_if="either_value_is_missing",
    )


def _dtks() -> Iterator[dict]:
    yield _exp(
        "expect_column_values_to_match_regex", "invalid_kk", column="no_kk", regex=kk_regex()
    )
    yield _exp(
        "expect_column_values_to_match_regex",
        "invalid_nik",
        column="nik_kepala_keluarga",
        regex=nik_regex(),
    )
    yield from _in_folder_district("kode_desa", "invalid_village_code")
    for column, low, high in (("jumlah_anggota", 1, 30), ("desil", 1, 10)):
        yield _exp(
            "expect_column_values_to_be_between",
            f"out_of_range:{column}",
            column=f"{column}__int",
            min_value=low,
            max_value=high,
        )
    yield _in_set("status_dtks", STATUS_DTKS)


_SPECIFIC = {"ppks": _ppks, "psks": _psks, "penerima_bantuan": _penerima_bantuan, "dtks": _dtks}


def suite_definition(dataset: str) -> dict:
    """The suite for ``dataset`` as GX's JSON form, with stable ids (reviewable diffs)."""
    spec = SPECS[dataset]
    expectations = [*_common(spec), *_SPECIFIC[dataset](), *_integers(spec), *_dates(spec)]
    for index, expectation in enumerate(expectations):
        expectation["id"] = str(uuid.uuid5(SUITE_NAMESPACE, f"{dataset}/{index}"))
    return {
        "name": f"sinergi.{dataset}",
        "id": str(uuid.uuid5(SUITE_NAMESPACE, dataset)),
        "expectations": expectations,
        "meta": {
            "dataset": dataset,
            "contract": "submission-contract.md v1.1",
            "generated_by": "sinergi.suites (do not edit by hand: run `sinergi expectations`)",
        },
        "notes": None,
    }


DUPLICATES_SUITE = {
    "name": "sinergi.duplicates",
    "id": str(uuid.uuid5(SUITE_NAMESPACE, "duplicates")),
    "expectations": [
        {
            **_exp(
                "expect_column_values_to_be_between",
                "exact_duplicate",
                column="earlier_identical_rows",
                max_value=0,
            ),
            "id": str(uuid.uuid5(SUITE_NAMESPACE, "duplicates/0")),
        },
        {
            **_exp(
                "expect_column_values_to_be_between",
                "duplicate_key",
                column="distinct_rows_with_key",
                max_value=1,
            ),
            "id": str(uuid.uuid5(SUITE_NAMESPACE, "duplicates/1")),
        },
    ],
    "meta": {
        "contract": "submission-contract.md §4 duplicates, judged among rows that passed",
        "generated_by": "sinergi.suites (do not edit by hand: run `sinergi expectations`)",
    },
    "notes": None,
}


def all_suites() -> dict[str, dict]:
    suites = {dataset: suite_definition(dataset) for dataset in SPECS}
    suites["duplicates"] = DUPLICATES_SUITE
    return suites


def render(suite: dict) -> str:
    return json.dumps(suite, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_suites(folder: Path) -> list[Path]:
    """Write every suite to ``folder/<name>.json``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for suite in all_suites().values():
        path = folder / f"{suite['name']}.json"
        path.write_text(render(suite), encoding="utf-8")
        written.append(path)
    return written
