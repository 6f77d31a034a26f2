"""A synthetic, fully valid ``penerima_bantuan`` file of N rows for one district (benchmarks).

The generator sizes districts by population (the largest gets ~140,000 roster rows at
province scale); the contract issue asks for throughput on a 500,000-row roster, so this
writes one directly with unique NIKs and realistic value spellings.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

PROGRAMS = np.array(["PKH", "SEMBAKO", "PBI_JK", "BLT_DD"])
AMOUNTS = np.array([600_000, 200_000, 42_000, 300_000])


def write_roster(path: Path, rows: int, district: str = "3578", period: str = "2025-03") -> Path:
    rng = np.random.default_rng(7)
    serial = np.arange(1, rows + 1)
    women = rng.random(rows) < 0.5
    day = rng.integers(1, 29, rows)
    month = rng.integers(1, 13, rows)
    year = rng.integers(1940, 2010, rows)
    sub = rng.integers(1, 30, rows)
    nik_day = day + np.where(women, 40, 0)
    nik = [
        f"{district}{s:02d}{d:02d}{m:02d}{y % 100:02d}{(n % 9999) + 1:04d}"
        for s, d, m, y, n in zip(sub, nik_day, month, year, serial, strict=True)
    ]
    # Unique NIKs: the serial wraps at 9999, so spread rows over sub-districts x birth dates.
    frame = pd.DataFrame(
        {
            "periode": period,
            "kode_kabkota": district,
            "nik": nik,
            "no_kk": [f"{district}01010125{(n % 9999) + 1:04d}" for n in serial // 3],
            "jenis_kelamin": np.where(women, "P", "L"),
            "tanggal_lahir": [
                f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(year, month, day, strict=True)
            ],
            "kode_desa": [
                f"{district}{s:02d}{v:04d}"
                for s, v in zip(sub, rng.integers(1, 20, rows), strict=True)
            ],
            "kode_program": PROGRAMS[serial % 4],
            "nilai_bantuan": AMOUNTS[serial % 4],
            "tanggal_salur": f"{period}-15",
            "status_salur": "SALUR",
        }
    )
    frame = frame.drop_duplicates(subset=["nik", "kode_program"])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


if __name__ == "__main__":
    out = write_roster(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 500_000)
    print(out)
