"""The row reason codes the generator must plant and the pipeline must report (contract §2, §4-§5).

Shared by the generator tests and the faulty-inbox end-to-end test, so both hold the generator
and the pipeline to the same list.
"""

# Every row reason code the generator plants: §4-§5 codes and the §2 ones it uses.
ROW_REASON_CODES = {
    "period_mismatch",
    "district_mismatch",
    "exact_duplicate",
    "duplicate_key",
    "invalid_nik",
    "invalid_kk",
    "invalid_subdistrict_code",
    "invalid_village_code",
    "total_mismatch",
    "implausible_birthdate",
    "amount_out_of_range",
    "disbursement_outside_period",
    "unknown_code:kode_ppks",
    "unknown_code:lokasi",
    "unknown_code:kode_psks",
    "unknown_code:jenis_kelamin",
    "unknown_code:kode_program",
    "unknown_code:status_salur",
    "unknown_code:status_dtks",
    "out_of_range:jumlah_anggota",
    "out_of_range:desil",
    "missing_value:nilai_bantuan",
    "missing_value:tanggal_salur",
    "invalid_date:tanggal_lahir",
    "invalid_date:tanggal_salur",
    "invalid_integer:nilai_bantuan",
}
ROW_REASON_PREFIXES = {"missing_value", "negative_value", "invalid_integer", "invalid_date"}
