"""The Airflow trigger forms' fields (Airflow 3 params), shared by the DAGs.

A data engineer or the province's data manager triggers Sinergi's DAGs from the Airflow UI:
the month is chosen from a list of months (typing any other ``YYYY-MM`` is allowed, and
checked), a district from its name. The lists are built when the DAG file is parsed, from the
districts seed and today's date, so the form always offers the months up to now.
"""

from __future__ import annotations

from datetime import date

from sinergi import reference
from sinergi.datasets import SPECS

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
#: Months offered in the month list: this many back from the current month.
MONTHS_OFFERED = 36
MONTH_NAMES = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
ALL_DATASETS = "ALL"


def recent_months(today: date | None = None, count: int = MONTHS_OFFERED) -> list[str]:
    """``YYYY-MM`` of the current month and the ``count - 1`` before it, newest first."""
    today = today or date.today()
    index = today.year * 12 + today.month - 1
    return [f"{(i // 12):04d}-{(i % 12) + 1:02d}" for i in range(index, index - count, -1)]


def month_label(text: str) -> str:
    """``2025-03`` -> ``Maret 2025 (2025-03)``."""
    year, month = text.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} {year} ({text})"


def district_labels() -> dict[str, str]:
    """code -> ``3507 Kabupaten Malang``, in code order."""
    return {
        d.code: f"{d.code} {d.name}" for d in sorted(reference.districts(), key=lambda d: d.code)
    }


def month_param(default: str, *, optional: bool, description: str):
    """A month field: a list of recent months, any ``YYYY-MM`` accepted."""
    from airflow.sdk import Param

    months = recent_months()
    return Param(
        default,
        type="string",
        pattern=f"^$|{MONTH_PATTERN}" if optional else MONTH_PATTERN,
        title="Bulan laporan / reporting month (YYYY-MM)",
        description=description,
        examples=months,
        values_display={m: month_label(m) for m in months},
    )


def districts_param():
    """The monthly DAG's optional subset of districts (empty: all 38)."""
    from airflow.sdk import Param

    labels = district_labels()
    return Param(
        [],
        type="array",
        items={"type": "string", "enum": list(labels)},
        title="Kabupaten/kota (kosong = semua 38)",
        description="Reprocess these districts only; leave empty for the whole province.",
        examples=list(labels),
        values_display=labels,
    )


def approval_params() -> dict:
    """The sinergi_approval DAG's form: month, district, dataset, action, note."""
    from airflow.sdk import Param

    labels = district_labels()
    datasets = [ALL_DATASETS, *SPECS]
    return {
        "period": month_param("", optional=False, description="The month to approve."),
        "district": Param(
            next(iter(labels)),
            type="string",
            enum=list(labels),
            values_display=labels,
            title="Kabupaten/kota",
        ),
        "dataset": Param(
            ALL_DATASETS,
            type="string",
            enum=datasets,
            values_display={ALL_DATASETS: "Semua dataset / every dataset"} | {d: d for d in SPECS},
            title="Dataset",
        ),
        "action": Param(
            "approve",
            type="string",
            enum=["approve", "unapprove"],
            values_display={
                "approve": "Setujui dan kunci / approve (lock)",
                "unapprove": "Buka persetujuan / unapprove (release)",
            },
            title="Tindakan / action",
        ),
        "note": Param(
            "",
            type="string",
            minLength=1,
            title="Catatan / note",
            description="What was checked, or why the approval is released.",
        ),
    }
