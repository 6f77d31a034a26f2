"""Loading a version spilled in several Parquet parts (a file larger than one chunk)."""

from __future__ import annotations

import pandas as pd
import pytest

from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.schema import RAW_TABLES
from sinergi.warehouse.spill import SpillWriter

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _part(rows: range) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_period": pd.Timestamp("2025-03-01"),
            "_district_code": "3578",
            "_version": 1,
            "_row_number": list(rows),
            "kode_psks": "PSKS01",
            "jumlah": pd.array(list(rows), dtype="Int64"),
        }
    )


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_every_part_is_loaded_once(engine, tmp_path, request):
    url = (
        f"duckdb:///{tmp_path / 'w.duckdb'}"
        if engine == "duckdb"
        else request.getfixturevalue("postgres_url")
    )
    wh = open_warehouse(url)
    wh.ensure_schema()
    spill = SpillWriter(tmp_path / "spill", RAW_TABLES["psks"], "accepted")
    spill.write(_part(range(2, 5)))
    spill.write(_part(range(5, 9)))
    with wh.transaction() as conn:
        loaded = wh.copy_parquet(conn, RAW_TABLES["psks"], spill.parts)
    with wh.connect() as conn:
        rows = wh.execute(conn, "select _row_number from raw.psks order by 1")
    assert [r[0] for r in rows] == [2, 3, 4, 5, 6, 7, 8]
    assert loaded == 7
