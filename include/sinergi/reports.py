"""What a run publishes: a summary for data engineers and feedback for district operators.

Reports never contain NIK or No. KK: the feedback tells the operator the row number and the
column, which is enough to find the row in their own file. Every text that comes from a
district (file names, rejection details, notices) is scrubbed by shape on the way out
(``scrub_identifiers``): a NIK typed into the wrong cell can turn up in a rejection detail.
"""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from pathlib import Path

from sinergi import reference
from sinergi.config import Settings
from sinergi.datadocs import build_site
from sinergi.datasets import SPECS
from sinergi.periods import Period
from sinergi.scrub import scrub_identifiers
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.schema import FILE_VERSIONS, INBOX_NOTICES, ROW_REJECTIONS

log = logging.getLogger(__name__)

# Reason code -> (what is wrong, what to do), in Bahasa Indonesia for district operators.
MESSAGES: dict[str, tuple[str, str]] = {
    "missing_value": ("Nilai kosong pada kolom wajib", "Isi kolom ini"),
    "period_mismatch": (
        "Periode tidak sama dengan folder pengiriman",
        "Isi periode dengan bulan laporan (YYYY-MM) sesuai folder",
    ),
    "district_mismatch": (
        "Kode kabupaten/kota tidak sama dengan folder pengiriman",
        "Gunakan kode kabupaten/kota Anda sendiri",
    ),
    "exact_duplicate": ("Baris ganda (sama persis dengan baris sebelumnya)", "Hapus baris ganda"),
    "duplicate_key": (
        "Kunci yang sama muncul di beberapa baris dengan isi berbeda",
        "Pastikan setiap kunci hanya muncul sekali; perbaiki atau gabungkan barisnya",
    ),
    "invalid_nik": ("NIK tidak valid", "Periksa NIK (16 digit, sesuai KTP/Dukcapil)"),
    "invalid_kk": ("Nomor KK tidak valid", "Periksa Nomor KK (16 digit)"),
    "invalid_subdistrict_code": (
        "Kode kecamatan tidak valid",
        "Gunakan kode kecamatan 6 digit yang diawali kode kabupaten/kota Anda",
    ),
    "invalid_village_code": (
        "Kode desa/kelurahan tidak valid",
        "Gunakan kode desa 10 digit yang diawali kode kabupaten/kota Anda",
    ),
    "unknown_code": ("Kode tidak dikenal", "Gunakan kode dari daftar referensi resmi"),
    "negative_value": ("Nilai negatif", "Isi dengan bilangan bulat 0 atau lebih"),
    "invalid_integer": ("Bukan bilangan bulat", "Isi dengan angka bulat tanpa desimal"),
    "invalid_date": (
        "Tanggal tidak valid",
        "Gunakan format YYYY-MM-DD, DD/MM/YYYY atau DD-MM-YYYY dengan tanggal yang ada",
    ),
    "total_mismatch": (
        "Jumlah tidak sama dengan laki-laki + perempuan",
        "Perbaiki jumlah atau rinciannya",
    ),
    "implausible_birthdate": (
        "Tanggal lahir tidak wajar (setelah akhir periode atau umur lebih dari 120 tahun)",
        "Periksa tanggal lahir",
    ),
    "amount_out_of_range": (
        "Nilai bantuan di luar batas program",
        "Periksa nilai bantuan (minimal 1, maksimal batas per penyaluran program)",
    ),
    "disbursement_outside_period": (
        "Tanggal salur di luar bulan periode",
        "Laporkan penyaluran pada periode bulan terjadinya",
    ),
    "out_of_range": ("Nilai di luar rentang yang diizinkan", "Periksa nilainya"),
    "unreadable": (
        "Berkas tidak dapat dibaca",
        "Kirim ulang sebagai CSV (UTF-8) atau XLSX yang valid",
    ),
    "missing_columns": ("Kolom wajib tidak ada", "Gunakan templat kolom yang ditetapkan"),
    "empty": ("Berkas tidak berisi baris data", "Kirim berkas yang berisi data"),
    "ambiguous_submission": (
        "Dikirim dua berkas (CSV dan XLSX) untuk data yang sama",
        "Kirim hanya satu berkas per jenis data",
    ),
    "too_many_invalid_rows": (
        "Terlalu banyak baris yang ditolak (lebih dari 20%)",
        "Perbaiki baris yang ditolak lalu kirim ulang seluruh berkas",
    ),
}

# Inbox notices about a district's folder (audit.inbox_notices), for its feedback file.
NOTICES: dict[str, tuple[str, str]] = {
    "ignored_file": (
        "Berkas diabaikan: bukan berkas data yang dikenal",
        "Beri nama berkas ppks, psks, penerima_bantuan atau dtks dengan akhiran .csv atau .xlsx",
    ),
    "unexpected_columns": (
        "Kolom tambahan diabaikan",
        "Gunakan hanya kolom templat yang ditetapkan",
    ),
}
_NOTICE_DEFAULT = ("Berkas atau folder tidak diproses", "Periksa berkas atau folder ini")


# Reason codes without a ``:<column>`` suffix, and the column the operator should look at.
_CODE_COLUMNS = {
    "period_mismatch": "periode",
    "district_mismatch": "kode_kabkota",
    "invalid_subdistrict_code": "kode_kecamatan",
    "invalid_village_code": "kode_desa",
    "total_mismatch": "jumlah",
    "implausible_birthdate": "tanggal_lahir",
    "amount_out_of_range": "nilai_bantuan",
    "disbursement_outside_period": "tanggal_salur",
    "invalid_kk": "no_kk",
}


def explain(code: str, dataset: str = "") -> tuple[str, str, str]:
    """(column, what is wrong, what to do) for a reason code like ``invalid_date:tanggal_lahir``."""
    base, _, column = code.partition(":")
    wrong, todo = MESSAGES.get(base, (code, "Periksa baris ini"))
    if not column:
        column = _CODE_COLUMNS.get(base, "")
        if base == "invalid_nik":
            column = "nik_kepala_keluarga" if dataset == "dtks" else "nik"
        elif base in ("exact_duplicate", "duplicate_key") and dataset in SPECS:
            column = ", ".join(SPECS[dataset].key)
    return column, wrong, todo


def _latest_versions(conn, wh, period: Period) -> list[tuple]:
    return wh.execute(
        conn,
        "select district_code, dataset, version, file_name, status, rejection_reason, "
        "rejection_detail, rows_total, rows_accepted, rows_rejected "
        f"from {FILE_VERSIONS.qualified} f "
        "where period = %s and version = (select max(version) from "
        f"{FILE_VERSIONS.qualified} g where g.period = f.period and "
        "g.district_code = f.district_code and g.dataset = f.dataset) "
        "order by district_code, dataset",
        (period.first_day,),
    )


def _notice_row(path: str, code: str, detail: str) -> list:
    wrong, todo = NOTICES.get(code, _NOTICE_DEFAULT)
    return [path.rsplit("/", 1)[-1], "", "DIABAIKAN", "", "", f"{wrong} ({detail})", todo]


def _write_feedback(
    folder: Path,
    district: str,
    versions: list[tuple],
    rejections: list[tuple],
    notices: list[tuple] = (),
):
    """One CSV per district: every problem with file, row, column, what is wrong, what to do."""
    path = folder / f"umpan-balik-{district}.csv"
    rows = []
    for _, _, version, file_name, status, reason, detail, *_ in versions:
        if reason:
            column, wrong, todo = explain(reason)
            rows.append([file_name, version, status, "", "", f"{wrong} ({detail})", todo])
        elif status == "ACCEPTED":
            rows.append([file_name, version, status, "", "", "Diterima tanpa masalah", ""])
    for dataset, file_name, version, status, row_number, codes in rejections:
        for code in codes.split(";"):
            column, wrong, todo = explain(code, dataset)
            rows.append([file_name, version, status, row_number, column, wrong, todo])
    rows += [_notice_row(*notice) for notice in notices]
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["berkas", "versi", "status_berkas", "baris", "kolom", "masalah", "tindakan"])
        for row in rows:
            out.writerow([scrub_identifiers(str(cell)) for cell in row])
    return path


def _district_notices(wh, conn, period: Period) -> dict[str, list[tuple]]:
    """Notices about files inside ``<period>/<district>/``, by district (for its feedback)."""
    rows = wh.execute(
        conn,
        f"select path, notice_code, detail from {INBOX_NOTICES.qualified} "
        "where period = %s order by path, notice_code",
        (period.first_day,),
    )
    known = reference.district_codes()
    out: dict[str, list[tuple]] = {}
    for path, code, detail in rows:
        parts = path.split("/")
        if len(parts) >= 3 and parts[1] in known:
            out.setdefault(parts[1], []).append((path, code, detail))
    return out


def publish(period_text: str, build: dict, settings: Settings) -> dict:
    """Write ``<reports>/<period>/``: summary.json, summary.md, district feedback, Data Docs."""
    period = Period.parse(period_text)
    folder = settings.reports_dir / str(period)
    feedback_dir = folder / "umpan-balik"
    feedback_dir.mkdir(parents=True, exist_ok=True)
    wh = open_warehouse(settings.warehouse_url)
    with wh.connect() as conn:
        latest = _latest_versions(conn, wh, period)
        rejected_rows = wh.execute(
            conn,
            "select r.district_code, r.dataset, f.file_name, r.version, f.status, r.row_number, "
            f"r.reason_codes from {ROW_REJECTIONS.qualified} r join {FILE_VERSIONS.qualified} f "
            "on f.period = r.period and f.district_code = r.district_code "
            "and f.dataset = r.dataset and f.version = r.version "
            "where r.period = %s order by r.district_code, r.dataset, r.version, r.row_number",
            (period.first_day,),
        )
        marts = mart_row_counts(wh, conn)
        notices = _district_notices(wh, conn, period)

    status = {ds: Counter() for ds in SPECS}
    by_district: dict[str, list[tuple]] = {}
    for row in latest:
        status[row[1]][row[4]] += 1
        by_district.setdefault(row[0], []).append(row)
    for ds in SPECS:
        status[ds]["MISSING"] = len(reference.district_codes()) - sum(status[ds].values())
    rejections_by_district: dict[str, list[tuple]] = {}
    latest_keys = {(r[0], r[1], r[2]) for r in latest}
    for district, dataset, file_name, version, file_status, row_number, codes in rejected_rows:
        if (district, dataset, version) in latest_keys:
            rejections_by_district.setdefault(district, []).append(
                (dataset, file_name, version, file_status, row_number, codes)
            )
    for district in sorted(set(by_district) | set(notices)):
        _write_feedback(
            feedback_dir,
            district,
            by_district.get(district, []),
            rejections_by_district.get(district, []),
            notices.get(district, []),
        )

    summary = {
        "period": str(period),
        "datasets": {ds: dict(counts) for ds, counts in status.items()},
        "marts": marts,
        "dbt_success": build.get("success"),
        "dbt_failed_tasks": list(build.get("failed") or []),
        "marts_unchanged": bool(build.get("unchanged")),
        "dbt_docs": str(settings.reports_dir / "dbt-docs" / "index.html"),
        "reports_dir": str(folder),
        "feedback_dir": str(feedback_dir),
    }
    summary["data_docs"] = str(_data_docs(settings, unchanged=bool(build.get("unchanged"))))
    (folder / "summary.json").write_text(
        scrub_identifiers(json.dumps(summary, indent=2)), encoding="utf-8"
    )
    (folder / "summary.md").write_text(scrub_identifiers(render_summary(summary)), encoding="utf-8")
    log.info("reports for %s written to %s", period, folder)
    return summary


def _data_docs(settings: Settings, unchanged: bool) -> Path:
    """The Data Docs index, rendered again only when something new may be in it.

    Data Docs show every file version; when the run found the marts' inputs unchanged no
    version was added, so the site already on disk is current and is kept as it is.
    """
    index = settings.reports_dir / "data-docs" / "index.html"
    if unchanged and index.is_file():
        log.info("Data Docs unchanged (no new file version): kept %s", index)
        return index
    return build_site(settings)


def mart_row_counts(wh, conn) -> dict[str, int]:
    tables = wh.execute(
        conn,
        "select table_name from information_schema.tables where table_schema = 'marts' "
        "order by table_name",
    )
    return {
        name: int(wh.execute(conn, f"select count(*) from marts.{name}")[0][0])
        for (name,) in tables
    }


def render_summary(summary: dict) -> str:
    lines = [
        f"# Sinergi run summary: {summary['period']}",
        "",
        "| dataset | ACCEPTED | PARTIAL | REJECTED | MISSING |",
        "|---|---|---|---|---|",
    ]
    for ds, counts in summary["datasets"].items():
        lines.append(
            f"| {ds} | {counts.get('ACCEPTED', 0)} | {counts.get('PARTIAL', 0)} | "
            f"{counts.get('REJECTED', 0)} | {counts.get('MISSING', 0)} |"
        )
    if summary.get("dbt_failed_tasks"):
        lines += ["", "dbt tasks that FAILED: " + ", ".join(summary["dbt_failed_tasks"])]
    if summary.get("marts_unchanged"):
        lines += [
            "",
            "Marts unchanged: nothing new since their last build (no new file version, period, "
            "dbt project change or threshold change), so dbt and dbt docs did not run.",
        ]
    lines += ["", "| mart | rows |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in summary["marts"].items()]
    lines += [
        "",
        f"District feedback: {summary['feedback_dir']}",
        f"Validation reports (Great Expectations Data Docs): {summary.get('data_docs')}",
        f"dbt docs: {summary.get('dbt_docs')}",
        "",
    ]
    return "\n".join(lines)
