"""The four datasets of the submission contract (§5): columns, required columns, keys.

This is the one place that says what a district file must contain; the reader, the rules,
the loader and the generator all take the column lists from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Columns holding personal identifiers: pseudonymised before leaving the quarantine.
    personal: tuple[str, ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """Columns that must hold a value (contract: every column unless stated otherwise)."""
        return tuple(c for c in self.columns if c not in self.optional)


PPKS = DatasetSpec(
    "ppks",
    (
        "periode",
        "kode_kabkota",
        "kode_kecamatan",
        "kode_ppks",
        "lokasi",
        "jumlah_laki_laki",
        "jumlah_perempuan",
        "jumlah",
    ),
    key=("kode_kecamatan", "kode_ppks", "lokasi"),
)

PSKS = DatasetSpec("psks", ("periode", "kode_kabkota", "kode_psks", "jumlah"), key=("kode_psks",))

PENERIMA_BANTUAN = DatasetSpec(
    "penerima_bantuan",
    (
        "periode",
        "kode_kabkota",
        "nik",
        "no_kk",
        "jenis_kelamin",
        "tanggal_lahir",
        "kode_desa",
        "kode_program",
        "nilai_bantuan",
        "tanggal_salur",
        "status_salur",
    ),
    key=("nik", "kode_program"),
    optional=("nilai_bantuan", "tanggal_salur"),
    personal=("nik", "no_kk"),
)

DTKS = DatasetSpec(
    "dtks",
    (
        "periode",
        "kode_kabkota",
        "no_kk",
        "nik_kepala_keluarga",
        "kode_desa",
        "jumlah_anggota",
        "desil",
        "status_dtks",
    ),
    key=("no_kk",),
    personal=("no_kk", "nik_kepala_keluarga"),
)

SPECS: dict[str, DatasetSpec] = {s.name: s for s in (PPKS, PSKS, PENERIMA_BANTUAN, DTKS)}
