"""An independent, deliberately simple reading of generated inbox files for end-to-end tests.

It shares no code with ``sinergi.reading`` / ``sinergi.rules``: if the pipeline misreads a
file, the numbers computed here disagree with the warehouse.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pandas as pd

DATASET_COLUMNS = {
    "ppks": ["periode", "kode_kabkota", "kode_kecamatan", "kode_ppks", "lokasi"],
    "psks": ["periode", "kode_kabkota", "kode_psks", "jumlah"],
    "penerima_bantuan": ["periode", "kode_kabkota", "nik", "no_kk", "kode_program"],
    "dtks": ["periode", "kode_kabkota", "no_kk", "desil", "status_dtks"],
}


def _norm(name) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name or "").strip().lower()).strip("_")


def read_any(path: Path, dataset: str) -> pd.DataFrame:
    """All data rows as strings (fully empty rows dropped), normalised headers."""
    if path.suffix.lower() == ".xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        need = set(DATASET_COLUMNS[dataset])
        start = next(i for i, r in enumerate(rows[:10]) if need <= {_norm(c) for c in r})
        header = [_norm(c) for c in rows[start]]

        def cell(v):
            if v is None:
                return ""
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            if hasattr(v, "strftime"):
                return v.strftime("%Y-%m-%d")
            return str(v).strip()

        body = [[cell(v) for v in r] for r in rows[start + 1 :]]
        frame = pd.DataFrame(body, columns=header)
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        first = text.split("\n", 1)[0]
        sep = ";" if first.count(";") > first.count(",") else ","
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
        frame.columns = [_norm(c) for c in frame.columns]
        frame = frame.apply(lambda s: s.str.strip())
    return frame[(frame != "").any(axis=1)].reset_index(drop=True)


def inbox_files(inbox: Path, period: str) -> dict[tuple[str, str], Path]:
    """(district, dataset) -> the one file sent (clean inboxes have exactly one)."""
    out = {}
    for path in sorted((inbox / period).glob("*/*")):
        stem = path.stem.lower()
        if stem in DATASET_COLUMNS and path.suffix.lower() in (".csv", ".xlsx"):
            out[(path.parent.name, stem)] = path
    return out
