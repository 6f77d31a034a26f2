"""The one catalogue of what a district operator reads, in Bahasa Indonesia.

District feedback (``sinergi.reports``) is the only thing an operator sees, and most of them
read no English. Every reason code of the submission contract, every inbox notice code and
every systemic cause the feedback detects has here a message template: ``problem`` (what is
wrong) and ``action`` (what to do), with named ``{parameters}`` filled by
:func:`render`. The contract's code stays in its own column of the feedback for machines.

Kept a plain data structure (dicts of strings, no behaviour) so that a reference table such
as ``dim_reason_codes`` can be generated from it, and so that a test can check that each code
has a message.
"""

from __future__ import annotations

import string

#: A file's status (``audit.file_versions.status``) or a line's, as the operator reads it.
STATUS_LABELS: dict[str, str] = {
    "ACCEPTED": "DITERIMA",
    "PARTIAL": "DITERIMA SEBAGIAN",
    "REJECTED": "DITOLAK",
    "MISSING": "TIDAK ADA",
    "IGNORED": "DIABAIKAN",
    "INFO": "INFORMASI",
    "WARNING": "PERINGATAN",
    "HELD": "DITAHAN",
}

#: Row-level reason codes (the part before ``:<column>``), contract §4-§5.
ROW_MESSAGES: dict[str, dict[str, str]] = {
    "missing_value": {
        "problem": "Kolom {column} wajib diisi tetapi kosong",
        "action": "Isi kolom {column} pada baris ini",
    },
    "period_mismatch": {
        "problem": "Periode {value} tidak sama dengan folder pengiriman ({period})",
        "action": "Isi periode dengan {period} (format YYYY-MM)",
    },
    "district_mismatch": {
        "problem": "Kode kabupaten/kota {value} tidak sama dengan folder pengiriman ({district})",
        "action": "Isi kode_kabkota dengan {district}",
    },
    "exact_duplicate": {
        "problem": "Baris ganda: sama persis dengan baris sebelumnya",
        "action": "Hapus baris ganda ini",
    },
    "duplicate_key": {
        "problem": "Kunci ({column}) sudah muncul di baris lain dengan isi berbeda",
        "action": "Pastikan setiap kunci hanya muncul sekali; perbaiki atau gabungkan barisnya",
    },
    "invalid_nik": {
        "problem": "NIK tidak valid: {shape}",
        "action": "Periksa NIK (16 digit sesuai KTP/Dukcapil; format kolom sebagai Teks)",
    },
    "invalid_kk": {
        "problem": "Nomor KK tidak valid: {shape}",
        "action": "Periksa Nomor KK (16 digit sesuai Kartu Keluarga; format kolom sebagai Teks)",
    },
    "invalid_subdistrict_code": {
        "problem": "Kode kecamatan {value} tidak valid",
        "action": "Gunakan kode kecamatan 6 digit yang diawali kode kabupaten/kota {district}",
    },
    "invalid_village_code": {
        "problem": "Kode desa/kelurahan {value} tidak valid",
        "action": "Gunakan kode desa 10 digit yang diawali kode kabupaten/kota {district}",
    },
    "unknown_code": {
        "problem": "Kode tidak dikenal pada kolom {column}: {value}",
        "action": "Gunakan salah satu kode yang diizinkan: {allowed}",
    },
    "negative_value": {
        "problem": "Nilai negatif pada kolom {column}: {value}",
        "action": "Isi dengan bilangan bulat 0 atau lebih",
    },
    "invalid_integer": {
        "problem": "Bukan bilangan bulat pada kolom {column}: {value}",
        "action": "Isi dengan angka bulat tanpa desimal, titik ribuan atau huruf",
    },
    "invalid_date": {
        "problem": "Tanggal tidak valid pada kolom {column}: {value}",
        "action": "Gunakan format YYYY-MM-DD, DD/MM/YYYY atau DD-MM-YYYY dengan tanggal yang ada",
    },
    "total_mismatch": {
        "problem": "Jumlah ({value}) tidak sama dengan laki-laki + perempuan",
        "action": "Perbaiki jumlah atau rinciannya",
    },
    # a warning: the row is kept and loaded, the operator should still check it
    "nik_birthdate_mismatch": {
        "problem": "Peringatan (baris tetap dimuat): tanggal lahir dan jenis kelamin tidak "
        "cocok dengan digit ke-7 sampai ke-12 NIK",
        "action": "Periksa NIK dan tanggal lahir orang ini; perbaiki di kiriman berikutnya",
    },
    "implausible_birthdate": {
        "problem": "Tanggal lahir tidak wajar: {value} "
        "(setelah akhir periode atau umur lebih dari 120 tahun)",
        "action": "Periksa tanggal lahir",
    },
    "amount_out_of_range": {
        "problem": "Nilai bantuan {value} di luar batas program {program} ({range})",
        "action": "Periksa nilai bantuan satu kali penyaluran",
    },
    "disbursement_outside_period": {
        "problem": "Tanggal salur {value} di luar bulan periode {period}",
        "action": "Laporkan penyaluran pada periode bulan terjadinya",
    },
    "out_of_range": {
        "problem": "Nilai {value} pada kolom {column} di luar rentang {range}",
        "action": "Isi dengan bilangan bulat dalam rentang {range}",
    },
}

#: File-level reason codes (contract §3, §7): the whole file is not loaded.
FILE_MESSAGES: dict[str, dict[str, str]] = {
    "unreadable": {
        "problem": "Berkas tidak dapat dibaca: {cause}",
        "action": "Simpan ulang dari Excel sebagai CSV UTF-8 atau XLSX lalu kirim ulang",
    },
    "missing_columns": {
        "problem": "Kolom wajib tidak ada: {columns}{where}",
        "action": "Gunakan templat kolom yang ditetapkan; judul kolom di satu baris ({expected})",
    },
    "empty": {
        "problem": "Berkas tidak berisi baris data di bawah judul kolom",
        "action": "Kirim berkas yang berisi data",
    },
    "ambiguous_submission": {
        "problem": "Dikirim dua berkas (CSV dan XLSX) untuk data {dataset}: keduanya tidak dimuat",
        "action": "Hapus salah satu; kirim hanya satu berkas {dataset}.csv atau {dataset}.xlsx",
    },
    "too_many_invalid_rows": {
        "problem": "Terlalu banyak baris ditolak: {rejected} dari {total} baris "
        "({share}, batas {limit}); tidak ada baris yang dimuat",
        "action": "Perbaiki baris yang ditolak di bawah lalu kirim ulang seluruh berkas",
    },
}

#: Lines about a whole file that is not a rejection.
FILE_STATUS_MESSAGES: dict[str, dict[str, str]] = {
    "accepted": {"problem": "Diterima tanpa masalah: {loaded} baris dimuat", "action": ""},
    "partial": {
        "problem": "Diterima sebagian: {rejected} dari {total} baris ditolak, "
        "{loaded} baris dimuat",
        "action": "Perbaiki baris yang ditolak di bawah lalu kirim ulang SELURUH berkas "
        "(bukan hanya baris yang salah): kiriman baru menggantikan berkas ini sepenuhnya",
    },
    "missing": {
        "problem": "Berkas {dataset} tidak dikirim untuk periode {period}",
        "action": "Kirim {dataset}.csv atau {dataset}.xlsx ke folder {period}/{district}",
    },
    # a newer version arrived while the province's approval of the data stands (issue 17)
    "held": {
        "problem": "Kiriman ini DITAHAN: data {dataset} periode {period} sudah disetujui "
        "Dinas Sosial Provinsi ({approved_at}, oleh {approved_by}); versi {served} tetap "
        "dipakai, versi ini belum dipakai",
        "action": "Jika perbaikan ini perlu dipakai, hubungi Dinas Sosial Provinsi agar "
        "persetujuan dibuka; setelah itu versi ini dipakai tanpa perlu dikirim ulang",
    },
    "dtks_carried_forward": {
        "problem": "Informasi: DTKS tidak dikirim bulan ini; data DTKS terakhir yang diterima "
        "tetap berlaku",
        "action": "Kirim dtks.csv atau dtks.xlsx hanya jika data DTKS berubah",
    },
}

#: Inbox notices (``audit.inbox_notices``): files and folders that were not processed.
NOTICE_MESSAGES: dict[str, dict[str, str]] = {
    "ignored_file": {
        "problem": "Berkas diabaikan: bukan nama berkas data yang dikenal",
        "action": "Beri nama berkas ppks, psks, penerima_bantuan atau dtks dengan akhiran "
        ".csv atau .xlsx; hapus berkas lain dari folder",
    },
    "misnamed_file": {
        "problem": "Berkas diabaikan: nama berkas salah sehingga data {dataset} tidak diproses",
        "action": "Ganti nama berkas menjadi {expected}",
    },
    "unexpected_columns": {
        "problem": "Kolom tambahan diabaikan: {columns}",
        "action": "Gunakan hanya kolom templat yang ditetapkan",
    },
    "unknown_district_folder": {
        "problem": "Folder bukan kode kabupaten/kota yang dikenal: isinya tidak diproses",
        "action": "Letakkan berkas di folder kode kabupaten/kota Anda sendiri (4 digit)",
    },
    "symlink_refused": {
        "problem": "Tautan (symlink) tidak diterima: tidak diproses",
        "action": "Kirim berkas aslinya, bukan tautan",
    },
    "not_a_regular_file": {
        "problem": "Bukan berkas biasa: tidak diproses",
        "action": "Kirim berkas CSV atau XLSX biasa",
    },
}
#: A notice code not in :data:`NOTICE_MESSAGES` (a new one must be added above: tested).
NOTICE_FALLBACK = {
    "problem": "Berkas atau folder tidak diproses",
    "action": "Periksa berkas atau folder ini",
}

#: One cause behind many row rejections of a file, said once at file level (the rule:
#: ``sinergi.feedback.systemic_lines``). ``{scope}`` is a ``scope_*`` phrase below.
SYSTEMIC_MESSAGES: dict[str, dict[str, str]] = {
    "scientific_notation": {
        "problem": "Kolom {column} berisi angka dalam notasi ilmiah (berakhiran E+15) "
        "pada {count} baris: Excel mengubah angka 16 digit sehingga digit terakhir hilang",
        "action": "Format kolom {column} sebagai Teks di Excel, isi ulang angkanya, lalu kirim "
        "ulang seluruh berkas",
    },
    "empty_column": {
        "problem": "Kolom {column} kosong pada {scope}",
        "action": "Periksa apakah kolom tergeser atau lupa diisi; isi kolom {column} lalu "
        "kirim ulang seluruh berkas",
    },
    # {reason} / {fix}: the shared reason's own row message, on its first row ({row})
    "same_reason": {
        "problem": "Alasan penolakan yang sama pada {scope}: {reason} (contoh: baris {row})",
        "action": "{fix}. Kemungkinan format kolom {column} salah atau kolom tergeser: "
        "perbaiki kolom {column} di seluruh berkas, lalu kirim ulang seluruh berkas",
    },
}

#: A figure far from the district's usual ones (``marts.fct_outliers``, by its ``method``): a
#: warning to check, never a rejection; the data stays loaded.
OUTLIER_MESSAGES: dict[str, dict[str, str]] = {
    "history": {
        "problem": "Peringatan (data tetap dimuat): {indicator} {breakdown} = {value}, "
        "jauh berbeda dari bulan-bulan sebelumnya — mohon periksa kembali "
        "({direction}; median {median} dari {months} bulan sebelumnya)",
        "action": "Periksa kembali angka ini di berkas; jika benar tidak perlu tindakan, "
        "jika salah kirim ulang berkas yang sudah diperbaiki",
    },
    "province_change": {
        "problem": "Peringatan (data tetap dimuat): {indicator} {breakdown} = {value}, "
        "jauh berbeda dari bulan-bulan sebelumnya — mohon periksa kembali "
        "({direction} {change} dari bulan lalu ({previous}), sedangkan median perubahan "
        "kabupaten/kota lain {median})",
        "action": "Periksa kembali angka ini di berkas; jika benar tidak perlu tindakan, "
        "jika salah kirim ulang berkas yang sudah diperbaiki",
    },
    # the summary sheet: one line per file with outliers
    "summary": {
        "problem": "Peringatan: {count} angka jauh berbeda dari bulan-bulan sebelumnya — "
        "mohon periksa kembali (rincian di lembar Rincian)",
        "action": "Periksa kembali angka-angka tersebut; data tetap dimuat",
    },
}

#: The figures of ``marts.fct_outliers`` (its ``indicator``) and their direction, as read.
OUTLIER_WORDS: dict[str, str] = {
    "recipients": "jumlah penerima bantuan",
    "amount_disbursed_idr": "nilai bantuan tersalur (Rp)",
    "total_count": "jumlah PPKS",
    "resource_count": "jumlah PSKS",
    "eligible_households": "jumlah rumah tangga layak DTKS",
    "UP": "naik",
    "DOWN": "turun",
}

#: Texts that describe a NIK / No. KK shape problem without echoing the value.
SHAPE_MESSAGES: dict[str, str] = {
    "empty": "kosong",
    "scientific": "tertulis dalam notasi ilmiah (Excel), digitnya hilang",
    "not_digits": "berisi karakter selain angka",
    "length": "panjangnya {length} digit, seharusnya 16",
    "province": "dua digit pertama bukan kode provinsi yang berlaku",
    "date_part": "bagian tanggal lahir (digit 7-12) bukan tanggal yang ada",
    "other": "bentuk tidak sesuai aturan Dukcapil",
}

#: Phrases the feedback composes around parameters.
PHRASES: dict[str, str] = {
    "header_where": " (judul kolom di baris {row})",
    "header_not_found": " (tidak ada baris judul kolom yang lengkap di baris 1-10 lembar pertama)",
    "scope_every_row": "semua {count} baris berkas",
    "scope_every_rejected": "semua {count} baris yang ditolak",
    "scope_share": "{count} dari {rejected} baris yang ditolak",
    "none": "-",
    "unreadable_zero_bytes": "berkas kosong (0 byte)",
    "unreadable_too_large": "ukuran berkas melebihi batas",
    "unreadable_xlsx": "bukan berkas XLSX yang valid (rusak atau disimpan dengan format lain)",
    "unreadable_nul": "berisi karakter NUL (berkas rusak atau bukan teks)",
    "unreadable_encoding": "pengodean karakter tidak dikenali (gunakan UTF-8)",
    "unreadable_csv": "struktur CSV rusak (tanda kutip atau jumlah kolom tidak konsisten)",
    "unreadable_limit": "melebihi batas yang ditetapkan (jumlah kolom, panjang isi sel atau "
    "ukuran isi berkas XLSX)",
    "unreadable_other": "format berkas tidak dikenali",
}


class _Blank(dict):
    """Missing template parameters render as ``-`` instead of raising."""

    def __missing__(self, key: str) -> str:
        return PHRASES["none"]


def render(template: str, **params: object) -> str:
    """``template`` with its ``{name}`` parameters filled; a missing one shows as ``-``."""
    return string.Formatter().vformat(template, (), _Blank(params))


def template_fields(template: str) -> set[str]:
    """The named parameters a template uses (for tests and generated documentation)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
