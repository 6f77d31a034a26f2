"""The contract's reason codes as data: what each means, where the contract says so, and the
Bahasa Indonesia text the district feedback shows for it.

Auditors and BI analysts read the codes of ``audit.file_versions.rejection_reason``,
``audit.row_rejections.reason_codes`` and ``audit.validation_results.reason_code`` without
the code that produced them: ``marts.dim_reason_codes`` is built from the seed
``dbt_project/seeds/reason_codes.csv``, which :func:`seed_text` writes from this catalogue and
:mod:`sinergi.messages` (``sinergi reason-codes``; a test fails when the two disagree). So the
feedback files, the expectations' notes in Data Docs and the mart quote one source.

``reason_code`` is the code before ``:<column>`` (``unknown_code``, not
``unknown_code:kode_ppks``); ``column`` is set only where the code always concerns the same
contract column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sinergi.messages import FILE_MESSAGES, NOTICE_MESSAGES, ROW_MESSAGES


@dataclass(frozen=True)
class ReasonCode:
    """One reason code of the submission contract."""

    reason_code: str
    level: str  # row | file
    severity: str  # rejection | warning
    column: str  # the contract column when fixed, else ""
    meaning_en: str
    contract_section: str


def _row(code: str, column: str, meaning: str, section: str) -> ReasonCode:
    return ReasonCode(code, "row", "rejection", column, meaning, section)


def _file(code: str, meaning: str, section: str) -> ReasonCode:
    return ReasonCode(code, "file", "rejection", "", meaning, section)


#: Every reason code of the contract, in the contract's order (§2-§6).
CATALOGUE: tuple[ReasonCode, ...] = (
    _file(
        "unreadable",
        "The file cannot be read: 0 bytes, not decodable, not a valid CSV/XLSX, NUL bytes "
        "in a CSV, or over an input limit. Nothing is loaded.",
        "§3",
    ),
    _file(
        "ambiguous_submission",
        "Both a .csv and a .xlsx file were sent for the same dataset: both versions are rejected.",
        "§3",
    ),
    _file(
        "missing_columns",
        "A required column is missing from the header (CSV: the first line; XLSX: the first "
        "of the first 10 rows that holds every required column).",
        "§2, §3",
    ),
    _file("empty", "No data rows below the header.", "§3"),
    _file(
        "too_many_invalid_rows",
        "More than the threshold (20 % by default) of the data rows were rejected: no row of "
        "the file is loaded.",
        "§3, §6",
    ),
    ReasonCode(
        "unexpected_columns",
        "file",
        "warning",
        "",
        "Columns outside the contract were ignored; the file is judged without them.",
        "§2",
    ),
    _row(
        "missing_value",
        "",
        "A required cell is empty (`missing_value:<column>`); no other reason is given for "
        "the same cell.",
        "§4, §7",
    ),
    _row(
        "negative_value",
        "",
        "An integer column holds a negative number such as -5 (`negative_value:<column>`).",
        "§2",
    ),
    _row(
        "invalid_integer",
        "",
        "An integer column holds something that is not an integer, e.g. a decimal or text "
        "(`invalid_integer:<column>`).",
        "§2",
    ),
    _row(
        "invalid_date",
        "",
        "A date column is not YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY or an XLSX date, or is an "
        "impossible calendar date (`invalid_date:<column>`).",
        "§2",
    ),
    _row("period_mismatch", "periode", "`periode` differs from the folder's YYYY-MM.", "§4"),
    _row(
        "district_mismatch",
        "kode_kabkota",
        "`kode_kabkota` differs from the folder's district code.",
        "§4",
    ),
    _row(
        "exact_duplicate",
        "",
        "The row repeats an earlier row exactly (on normalised values): every copy after the "
        "first is rejected.",
        "§4",
    ),
    _row(
        "duplicate_key",
        "",
        "Two or more rows share the dataset's key but differ elsewhere: all of them are rejected.",
        "§4",
    ),
    _row(
        "invalid_nik",
        "",
        "`nik` / `nik_kepala_keluarga` is not a valid NIK: 16 digits, a province code, a "
        "birth day 01-31 or 41-71, a month 01-12, serial not 0000.",
        "§4",
    ),
    _row(
        "invalid_kk",
        "no_kk",
        "`no_kk` is not a valid No. KK: 16 digits, a province code, serial not 0000.",
        "§4",
    ),
    _row(
        "invalid_subdistrict_code",
        "kode_kecamatan",
        "`kode_kecamatan` is not 6 digits starting with the folder's district code.",
        "§4",
    ),
    _row(
        "invalid_village_code",
        "kode_desa",
        "`kode_desa` is not 10 digits starting with the folder's district code.",
        "§4",
    ),
    _row(
        "unknown_code",
        "",
        "A code column holds a value outside its list (`unknown_code:<column>`: kode_ppks, "
        "lokasi, kode_psks, jenis_kelamin, kode_program, status_salur, status_dtks).",
        "§5",
    ),
    _row(
        "total_mismatch",
        "jumlah",
        "PPKS: `jumlah` is not `jumlah_laki_laki` + `jumlah_perempuan`.",
        "§5.1",
    ),
    _row(
        "implausible_birthdate",
        "tanggal_lahir",
        "`tanggal_lahir` is after the period's last day or the person would be over 120.",
        "§5.3",
    ),
    _row(
        "amount_out_of_range",
        "nilai_bantuan",
        "A paid (SALUR) row's `nilai_bantuan` is below 1 or above the programme's maximum per "
        "disbursement.",
        "§5.3",
    ),
    _row(
        "disbursement_outside_period",
        "tanggal_salur",
        "A paid (SALUR) row's `tanggal_salur` is outside the period's month.",
        "§5.3",
    ),
    ReasonCode(
        "nik_birthdate_mismatch",
        "row",
        "warning",
        "",
        "Warning only, the row is loaded: the NIK's birth-date digits disagree with "
        "`tanggal_lahir` or `jenis_kelamin`.",
        "§5.3",
    ),
    _row(
        "out_of_range",
        "",
        "DTKS: `jumlah_anggota` outside 1-30 or `desil` outside 1-10 (`out_of_range:<column>`).",
        "§5.4",
    ),
)

SEED_COLUMNS = (
    "reason_code",
    "level",
    "severity",
    "column_name",
    "meaning_en",
    "message_id",
    "what_to_do_id",
    "contract_section",
)


def message_of(code: ReasonCode) -> dict[str, str]:
    """The Bahasa Indonesia problem/action templates the feedback file uses for ``code``."""
    for messages in (ROW_MESSAGES, FILE_MESSAGES, NOTICE_MESSAGES):
        if code.reason_code in messages:
            return messages[code.reason_code]
    raise KeyError(f"reason code {code.reason_code} has no message in sinergi.messages")


def seed_rows() -> list[dict[str, str]]:
    """The rows of ``seeds/reason_codes.csv``: the catalogue joined to its messages."""
    rows = []
    for code in CATALOGUE:
        message = message_of(code)
        rows.append(
            {
                "reason_code": code.reason_code,
                "level": code.level,
                "severity": code.severity,
                "column_name": code.column,
                "meaning_en": code.meaning_en,
                "message_id": message["problem"],
                "what_to_do_id": message["action"],
                "contract_section": code.contract_section,
            }
        )
    return rows


def seed_text() -> str:
    """The seed file's exact content (``\\n`` line ends, every field quoted when needed)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SEED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(seed_rows())
    return out.getvalue()


def write_seed(path: Path) -> bool:
    """Write the seed when it differs from the catalogue; True when the file changed."""
    text = seed_text()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
