"""Row rules of the contract (§4, §5): each reason code seen passing and failing."""

from __future__ import annotations

import functools

import pandas as pd
import pytest

from sinergi.datasets import SPECS
from sinergi.paths import EXPECTATIONS_DIR
from sinergi.periods import Period
from sinergi.rules import Context, judge_chunk, oldest_birth_date

SUITES = EXPECTATIONS_DIR / "suites"

CTX = Context(Period(2025, 3), "3578")
NIK = "3578014501900001"  # woman (day 45 -> 5), born 05-01-1990
NIK_MAN = "3578010501900002"
KK = "3578010101250001"

VALID = {
    "ppks": {
        "periode": "2025-03",
        "kode_kabkota": "3578",
        "kode_kecamatan": "357801",
        "kode_ppks": "PPKS01",
        "lokasi": "LUAR_UPT",
        "jumlah_laki_laki": "2",
        "jumlah_perempuan": "3",
        "jumlah": "5",
    },
    "psks": {"periode": "2025-03", "kode_kabkota": "3578", "kode_psks": "PSKS01", "jumlah": "7"},
    "penerima_bantuan": {
        "periode": "2025-03",
        "kode_kabkota": "3578",
        "nik": NIK,
        "no_kk": KK,
        "jenis_kelamin": "P",
        "tanggal_lahir": "1990-01-05",
        "kode_desa": "3578010001",
        "kode_program": "PKH",
        "nilai_bantuan": "600000",
        "tanggal_salur": "2025-03-15",
        "status_salur": "SALUR",
    },
    "dtks": {
        "periode": "2025-03",
        "kode_kabkota": "3578",
        "no_kk": KK,
        "nik_kepala_keluarga": NIK_MAN,
        "kode_desa": "3578010001",
        "jumlah_anggota": "4",
        "desil": "2",
        "status_dtks": "AKTIF",
    },
}


def judge(dataset: str, **changes):
    row = {**VALID[dataset], **changes}
    frame = pd.DataFrame([row], dtype=object)
    frame = frame.astype(object).where(frame.notna(), None)
    frame["row_number"] = 2
    return judge_chunk(SPECS[dataset], frame, CTX, SUITES)


def codes(judgement) -> list[str]:
    return judgement.reason_strings().tolist()[0].split(";") if judgement.rejected.any() else []


def _key(changes: dict) -> tuple:
    return tuple(sorted(changes.items(), key=lambda item: item[0]))


@functools.cache
def _batch(dataset: str) -> dict[tuple, list[str]]:
    """Every parametrized row of ``dataset`` judged in ONE suite validation (GX has a fixed
    cost per validation; one row per case keeps the cases independent all the same)."""
    variants = [{}] + [c for d, c, _ in CASES if d == dataset]
    variants += [c for d, c in ACCEPTED_VARIANTS if d == dataset]
    variants += [{column: None} for d, column in REQUIRED if d == dataset]
    frame = pd.DataFrame([{**VALID[dataset], **c} for c in variants], dtype=object)
    frame = frame.astype(object).where(frame.notna(), None)
    frame["row_number"] = range(2, len(frame) + 2)
    judged = judge_chunk(SPECS[dataset], frame, CTX, SUITES)
    reasons = judged.reason_strings()
    return {
        _key(c): (reasons[row].split(";") if row in reasons.index else [])
        for c, row in zip(variants, frame["row_number"], strict=True)
    }


def codes_of(dataset: str, **changes) -> list[str]:
    return _batch(dataset)[_key(changes)]


@pytest.mark.parametrize("dataset", sorted(VALID))
def test_valid_row_has_no_reason(dataset):
    assert codes_of(dataset) == []
    assert codes(judge(dataset)) == []  # alone as well as among the other cases


CASES = [
    # dataset, changes, expected reason codes (exactly)
    ("ppks", {"kode_ppks": None}, ["missing_value:kode_ppks"]),
    ("ppks", {"periode": "2025-02"}, ["period_mismatch"]),
    ("ppks", {"kode_kabkota": "3579"}, ["district_mismatch"]),
    ("ppks", {"kode_kecamatan": "357901"}, ["invalid_subdistrict_code"]),
    ("ppks", {"kode_kecamatan": "35780"}, ["invalid_subdistrict_code"]),
    ("ppks", {"kode_ppks": "PPKS99"}, ["unknown_code:kode_ppks"]),
    ("ppks", {"lokasi": "DI_RUMAH"}, ["unknown_code:lokasi"]),
    ("ppks", {"jumlah": "-5"}, ["negative_value:jumlah"]),
    ("ppks", {"jumlah": "5,0"}, ["invalid_integer:jumlah"]),
    ("ppks", {"jumlah": "6"}, ["total_mismatch"]),
    ("psks", {"kode_psks": "PSKS13"}, ["unknown_code:kode_psks"]),
    ("psks", {"jumlah": "1.2.3"}, ["invalid_integer:jumlah"]),
    ("penerima_bantuan", {"nik": "3578014501900000"}, ["invalid_nik"]),
    ("penerima_bantuan", {"nik": "9978014501900001"}, ["invalid_nik"]),
    ("penerima_bantuan", {"nik": "3578013501900001"}, ["invalid_nik"]),  # day 35
    ("penerima_bantuan", {"nik": "3578014513900001"}, ["invalid_nik"]),  # month 13
    ("penerima_bantuan", {"no_kk": "3578010101250000"}, ["invalid_kk"]),
    ("penerima_bantuan", {"no_kk": "357801010125000"}, ["invalid_kk"]),
    ("penerima_bantuan", {"jenis_kelamin": "X"}, ["unknown_code:jenis_kelamin"]),
    ("penerima_bantuan", {"tanggal_lahir": "1990-02-30"}, ["invalid_date:tanggal_lahir"]),
    ("penerima_bantuan", {"tanggal_lahir": "2025-04-01"}, ["implausible_birthdate"]),
    ("penerima_bantuan", {"tanggal_lahir": "1904-03-30"}, ["implausible_birthdate"]),
    ("penerima_bantuan", {"kode_desa": "3579010001"}, ["invalid_village_code"]),
    ("penerima_bantuan", {"kode_program": "BANSOS"}, ["unknown_code:kode_program"]),
    ("penerima_bantuan", {"status_salur": "LUNAS"}, ["unknown_code:status_salur"]),
    ("penerima_bantuan", {"nilai_bantuan": "3.000.001"}, ["amount_out_of_range"]),
    ("penerima_bantuan", {"nilai_bantuan": "0"}, ["amount_out_of_range"]),
    # each programme's own ceiling, whatever the spelling of its code
    (
        "penerima_bantuan",
        {"kode_program": "sembako", "nilai_bantuan": "600001"},
        ["amount_out_of_range"],
    ),
    (
        "penerima_bantuan",
        {"kode_program": "PBI_JK", "nilai_bantuan": "100001"},
        ["amount_out_of_range"],
    ),
    ("penerima_bantuan", {"nilai_bantuan": None}, ["missing_value:nilai_bantuan"]),
    ("penerima_bantuan", {"tanggal_salur": None}, ["missing_value:tanggal_salur"]),
    ("penerima_bantuan", {"tanggal_salur": "2025-04-01"}, ["disbursement_outside_period"]),
    ("penerima_bantuan", {"tanggal_salur": "31/02/2025"}, ["invalid_date:tanggal_salur"]),
    ("dtks", {"jumlah_anggota": "31"}, ["out_of_range:jumlah_anggota"]),
    ("dtks", {"jumlah_anggota": "0"}, ["out_of_range:jumlah_anggota"]),
    ("dtks", {"desil": "11"}, ["out_of_range:desil"]),
    ("dtks", {"status_dtks": "MATI"}, ["unknown_code:status_dtks"]),
    ("dtks", {"nik_kepala_keluarga": "12"}, ["invalid_nik"]),
    ("ppks", {"jumlah_laki_laki": "-1"}, ["negative_value:jumlah_laki_laki"]),
    ("ppks", {"jumlah_perempuan": "3,0"}, ["invalid_integer:jumlah_perempuan"]),
    ("ppks", {"jumlah_laki_laki": "dua"}, ["invalid_integer:jumlah_laki_laki"]),
    ("ppks", {"jumlah_perempuan": "-3"}, ["negative_value:jumlah_perempuan"]),
    ("penerima_bantuan", {"nilai_bantuan": "-600000"}, ["negative_value:nilai_bantuan"]),
    ("penerima_bantuan", {"nilai_bantuan": "600,000"}, ["invalid_integer:nilai_bantuan"]),
    ("dtks", {"jumlah_anggota": "-4"}, ["negative_value:jumlah_anggota"]),
    ("dtks", {"jumlah_anggota": "4.5"}, ["invalid_integer:jumlah_anggota"]),
    ("dtks", {"desil": "-2"}, ["negative_value:desil"]),
    ("dtks", {"desil": "II"}, ["invalid_integer:desil"]),
    ("psks", {"jumlah": "99999999999999999999"}, ["invalid_integer:jumlah"]),  # > bigint
    ("psks", {"jumlah": "\uff11\uff12\uff13"}, ["invalid_integer:jumlah"]),  # full-width
    ("ppks", {"kode_kecamatan": "3578\uff10\uff11"}, ["invalid_subdistrict_code"]),
    ("penerima_bantuan", {"nik": "357801450190\uff10\uff10\uff10\uff11"}, ["invalid_nik"]),
]


@pytest.mark.parametrize(("dataset", "changes", "expected"), CASES)
def test_reason_codes(dataset, changes, expected):
    assert codes_of(dataset, **changes) == expected


ACCEPTED_VARIANTS = [
    ("ppks", {"kode_kecamatan": "35.78.01", "kode_kabkota": "35.78"}),
    ("ppks", {"lokasi": "dalam upt", "jumlah": "5"}),
    ("ppks", {"kode_ppks": "ppks01"}),
    ("psks", {"jumlah": "600.000"}),
    ("penerima_bantuan", {"jenis_kelamin": "PEREMPUAN"}),
    ("penerima_bantuan", {"tanggal_lahir": "05/01/1990", "tanggal_salur": "31-03-2025"}),
    ("penerima_bantuan", {"tanggal_lahir": "1904-04-01"}),  # exactly 120 at 2025-03-31
    ("penerima_bantuan", {"nilai_bantuan": "3.000.000"}),
    ("penerima_bantuan", {"kode_program": "Sembako", "nilai_bantuan": "600000"}),
    (
        "penerima_bantuan",
        {
            "kode_program": "RTLH",
            "nilai_bantuan": "25000000",
            "tanggal_salur": None,
            "status_salur": "GAGAL",
        },
    ),
    ("penerima_bantuan", {"kode_program": "RTLH", "nilai_bantuan": "25.000.000"}),
    (
        "penerima_bantuan",
        {"status_salur": "GAGAL", "nilai_bantuan": "0"},
    ),  # amount of an unpaid row
    ("penerima_bantuan", {"status_salur": "GAGAL", "nilai_bantuan": "abc", "tanggal_salur": "x"}),
    ("penerima_bantuan", {"status_salur": "tunda", "nilai_bantuan": None, "tanggal_salur": None}),
    ("dtks", {"desil": "10", "jumlah_anggota": "30"}),
]


@pytest.mark.parametrize(("dataset", "changes"), ACCEPTED_VARIANTS)
def test_accepted_variants(dataset, changes):
    assert codes_of(dataset, **changes) == []


REQUIRED = [(dataset, column) for dataset, spec in SPECS.items() for column in spec.required]


@pytest.mark.parametrize(("dataset", "column"), REQUIRED)
def test_each_required_column_missing_gives_only_missing_value(dataset, column):
    assert codes_of(dataset, **{column: None}) == [f"missing_value:{column}"]


def test_empty_cell_gives_only_missing_value():
    assert codes(judge("penerima_bantuan", nik=None)) == ["missing_value:nik"]
    assert codes(judge("ppks", jumlah=None)) == ["missing_value:jumlah"]


def test_all_reasons_of_a_row_are_collected():
    assert sorted(codes(judge("dtks", desil="0", status_dtks="?", periode="2024-01"))) == [
        "out_of_range:desil",
        "period_mismatch",
        "unknown_code:status_dtks",
    ]


def test_unknown_programme_skips_amount_bound():
    assert codes(judge("penerima_bantuan", kode_program="X", nilai_bantuan="99999999")) == [
        "unknown_code:kode_program"
    ]


def test_nik_birthdate_mismatch_is_a_warning_only():
    judged = judge("penerima_bantuan", tanggal_lahir="1991-01-05")
    assert codes(judged) == []
    assert judged.warnings["nik_birthdate_mismatch"].tolist() == [True]
    assert "nik_birthdate_mismatch" not in judge("penerima_bantuan").warnings
    assert judge("penerima_bantuan", jenis_kelamin="L").warnings["nik_birthdate_mismatch"].all()


def test_normalised_values_are_typed():
    clean = judge("psks", jumlah="600.000").clean
    assert clean["jumlah__int"].tolist() == [600000]
    clean = judge("ppks", kode_kecamatan="35.78.01", lokasi="luar upt").clean
    assert clean["kode_kecamatan"].tolist() == ["357801"]
    assert clean["lokasi"].tolist() == ["LUAR_UPT"]


def test_oldest_birth_date_handles_leap_days():
    from datetime import date

    assert oldest_birth_date(date(2025, 3, 31)) == date(1904, 4, 1)
    assert oldest_birth_date(date(2028, 2, 29)) == date(1907, 3, 1)


def test_reason_codes_come_from_the_gx_result():
    judged = judge("ppks", jumlah="6", kode_ppks="X")
    failed = {o.reason_code for o in judged.outcomes if not o.success}
    assert failed == {"total_mismatch", "unknown_code:kode_ppks"}
    reported = {
        r["expectation_config"]["meta"]["reason_code"]
        for r in judged.report["results"]
        if not r["success"]
    }
    assert reported == failed


def test_every_reason_code_of_the_suites_has_a_failing_case_here():
    """A new rule in sinergi.suites must come with a case in CASES (or the duplicate tests)."""
    from sinergi.suites import all_suites

    defined = {
        e["meta"]["reason_code"]
        for name, suite in all_suites().items()
        if name != "duplicates"
        for e in suite["expectations"]
        if e["severity"] == "critical"
    }
    covered = {code for _, _, expected in CASES for code in expected}
    covered |= {f"missing_value:{c}" for _, c in REQUIRED}
    missing = sorted(defined - covered)
    assert not missing, f"reason codes without a failing case in CASES: {missing}"
