"""The bulletin's words in Bahasa Indonesia, and its numbers written the Indonesian way
(``1.250.000``, ``12,5 %``: the feedback's own formatting, ``sinergi.feedback``)."""

from __future__ import annotations

from sinergi import feedback
from sinergi.messages import OUTLIER_WORDS

number = feedback.number

#: A figure the marts hold as NULL: shown so, never as 0.
MISSING = "tidak ada data"

STATUS_WORDS = {
    "ACCEPTED": "diterima",
    "PARTIAL": "sebagian",
    "REJECTED": "ditolak",
    "MISSING": "tidak ada",
}
DATASET_WORDS = {
    "ppks": "PPKS",
    "psks": "PSKS",
    "penerima_bantuan": "Penerima bantuan",
    "dtks": "DTKS",
}
MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
    "Oktober", "November", "Desember",
)  # fmt: skip
METHOD_WORDS = {
    "history": "dibanding riwayat kab/kota",
    "province_change": "dibanding perubahan provinsi",
}
FIGURE_WORDS = {
    **{k: v for k, v in OUTLIER_WORDS.items() if k.islower()},
    "households_reached": "rumah tangga menerima bantuan",
    "eligible_households_reached": "rumah tangga layak menerima bantuan",
    "eligible_households_reached_ytd": "rumah tangga layak terjangkau sejak Januari",
}


def percent(fraction: float | None, digits: int = 1) -> str:
    """``12,5 %``; ``—`` when the rate is NULL (no denominator, or not reported)."""
    return "—" if fraction is None else feedback.percent(fraction, digits, signed=False)


def period_words(period: str) -> str:
    """``2025-03`` -> ``Maret 2025``."""
    year, month = period.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"
