"""A judged-version folder written by hand: what the loader gets, without any judging."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sinergi.periods import Period
from sinergi.warehouse.judged import JudgedVersion
from sinergi.warehouse.schema import RAW_TABLES, ROW_REJECTIONS, ROW_WARNINGS
from sinergi.warehouse.spill import SpillWriter

PERIOD = Period.parse("2025-03")
RECEIVED = datetime(2025, 4, 2, tzinfo=UTC)


def file_versions_row(version: int, sha: str, status: str = "PARTIAL", **counts) -> dict:
    row = {
        "period": PERIOD.first_day,
        "district_code": "3578",
        "dataset": "psks",
        "version": version,
        "file_name": "psks.csv",
        "sha256": sha,
        "size_bytes": 10,
        "received_at": RECEIVED,
        "deadline_at": RECEIVED,
        "status": status,
        "rejection_reason": None,
        "rejection_detail": None,
        "rows_total": 5,
        "rows_accepted": 4,
        "rows_rejected": 1,
        "archive_path": f"archive/{sha}.csv",
        "rejection_params": None,
    }
    return {**row, **counts}


def _keys(version: int) -> dict:
    return {
        "period": pd.Timestamp(PERIOD.first_day),
        "district_code": "3578",
        "dataset": "psks",
        "version": version,
    }


def judged_folder(folder: Path, version: int, sha: str) -> Path:
    """Four accepted rows (2-5), one quarantined (6), one warning (on row 2)."""
    accepted = SpillWriter(folder, RAW_TABLES["psks"], "accepted")
    accepted.write(
        pd.DataFrame(
            {
                "_period": pd.Timestamp(PERIOD.first_day),
                "_district_code": "3578",
                "_version": version,
                "_row_number": [2, 3, 4, 5],
                "kode_psks": "PSKS01",
                "jumlah": pd.array([1, 2, 3, 4], dtype="Int64"),
            }
        )
    )
    quarantine = SpillWriter(folder, ROW_REJECTIONS, "quarantine")
    quarantine.write(
        pd.DataFrame(
            {
                **_keys(version),
                "row_number": [6],
                "reason_codes": ["unknown_code:kode_psks"],
                "original_values": ['{"kode_psks": "PSKS99"}'],
            }
        )
    )
    warnings = SpillWriter(folder, ROW_WARNINGS, "warnings")
    warnings.write(pd.DataFrame({**_keys(version), "row_number": [2], "warning_code": ["w"]}))
    JudgedVersion(
        folder,
        file_versions_row(version, sha),
        {
            "raw.psks": [p.name for p in accepted.parts],
            "audit.row_rejections": [p.name for p in quarantine.parts],
            "audit.row_warnings": [p.name for p in warnings.parts],
        },
    ).write()
    return folder
