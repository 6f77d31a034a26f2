"""Loads in PostgreSQL's binary COPY format equal the CSV loads, value for value.

Every table a judged version is loaded into (``sinergi.warehouse.judged.TABLES``) gets rows
with the edge values of each of its column types (NULL, empty and non-ASCII text, dates
before 2000 and far after it, the integer extremes, microseconds of a timestamp), spilled
as the judge spills them, loaded once through :meth:`PostgresWarehouse.copy_parquet` (binary)
and once through the CSV path into a twin table; the two tables' text must be identical.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sinergi.warehouse import connection, pg_binary
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.judged import TABLES
from sinergi.warehouse.schema import Table
from sinergi.warehouse.spill import SpillWriter, arrow_schema

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

_EDGES = {
    "varchar": ["3578", "", "Sidoarjo — Ñ 漢字 'q\"uote', comma\nline", None, "x" * 5000],
    "integer": [0, -(2**31), 2**31 - 1, None, 42],
    "bigint": [0, -(2**63), 2**63 - 1, None, 1_500_000],
    "date": [
        pd.Timestamp("2025-03-01"),
        pd.Timestamp("1999-12-31"),
        pd.Timestamp("1900-01-01"),
        None,
        pd.Timestamp("2100-02-28"),
    ],
    "timestamptz": [
        pd.Timestamp("2025-03-10 23:59:59.123456", tz="UTC"),
        pd.Timestamp("1999-12-31 23:59:59.999999", tz="UTC"),
        None,
        pd.Timestamp("2000-01-01", tz="UTC"),
        pd.Timestamp("2031-07-04 01:02:03", tz="UTC"),
    ],
    "boolean": [True, False, None, True, False],
}


def _edge_frame(table: Table, copies: int) -> pd.DataFrame:
    """Each column cycles through its type's edge values, shifted per column (so NULLs and
    extremes meet different neighbours); NOT NULL columns skip the NULL."""
    columns = {}
    for position, (name, sqltype) in enumerate(table.columns):
        kind = sqltype.split()[0]
        values = [v for v in _EDGES[kind] if v is not None or "not null" not in sqltype]
        cycled = [values[(i + position) % len(values)] for i in range(copies)]
        dtype = {"integer": "Int64", "bigint": "Int64", "boolean": "boolean"}.get(kind)
        columns[name] = pd.Series(pd.array(cycled, dtype=dtype) if dtype else cycled)
    return pd.DataFrame(columns)


def _table_text(wh, conn, qualified: str, columns: list[str]) -> list[tuple]:
    order = ", ".join(f"{c}::text" for c in columns)
    return wh.execute(
        conn, f"select {', '.join(f'{c}::text' for c in columns)} from {qualified} order by {order}"
    )


@pytest.mark.parametrize("qualified", sorted(TABLES))
def test_a_binary_load_equals_the_csv_load(qualified, postgres_url, tmp_path, monkeypatch):
    monkeypatch.setattr(connection, "COPY_BATCH_ROWS", 4)  # several batches per part
    table = TABLES[qualified]
    # twins without the primary key: the edge values repeat
    binary_twin = Table("public", f"binary_{table.name}", table.columns)
    csv_twin = Table("public", f"csv_{table.name}", table.columns)
    spill = SpillWriter(tmp_path / "spill", table, "accepted")
    spill.write(_edge_frame(table, 11))
    spill.write(_edge_frame(table, 7))
    assert pg_binary.encodable(arrow_schema(table))
    wh = open_warehouse(postgres_url)
    wh.ensure_schema()
    with wh.transaction() as conn:
        wh.execute(conn, binary_twin.ddl())
        wh.execute(conn, csv_twin.ddl())
        assert wh.copy_parquet(conn, binary_twin, spill.parts) == 18
        assert wh._copy_parquet_csv(conn, csv_twin, spill.parts) == 18
    with wh.connect() as conn:
        binary = _table_text(wh, conn, binary_twin.qualified, table.column_names)
        text = _table_text(wh, conn, csv_twin.qualified, table.column_names)
        nulls = wh.execute(
            conn,
            f"select count(*) from {binary_twin.qualified} where "
            + " or ".join(f"{name} is null" for name in table.column_names),
        )[0][0]
    assert len(binary) == 18
    assert binary == text
    nullable = [name for name, sqltype in table.columns if "not null" not in sqltype]
    assert (nulls > 0) == bool(nullable)


def test_a_part_of_other_types_is_loaded_as_csv(postgres_url, tmp_path):
    """A part whose column the encoder does not write (here a float) goes through CSV."""
    table = TABLES["raw.psks"]
    frame = _edge_frame(table, 5)
    schema = arrow_schema(table)
    arrays = [pa.array(frame[f.name], type=f.type, from_pandas=True) for f in schema]
    data = pa.Table.from_arrays(arrays, schema=schema)
    floats = data.set_column(
        data.schema.get_field_index("jumlah"),
        "jumlah",
        pa.array([1.0, 2.0, None, 4.0, 5.0], type=pa.float64()),
    )
    assert not pg_binary.encodable(floats.schema)
    part = tmp_path / "accepted-0000.parquet"
    pq.write_table(floats, part)
    wh = open_warehouse(postgres_url)
    wh.ensure_schema()
    with wh.transaction() as conn:
        assert wh.copy_parquet(conn, table, [part]) == 5
    with wh.connect() as conn:
        rows = wh.execute(conn, "select jumlah from raw.psks order by jumlah nulls first")
    assert [r[0] for r in rows] == [None, 1, 2, 4, 5]


def test_dates_and_timestamps_are_counted_from_2000():
    """PostgreSQL's epoch is 2000-01-01: the first date field of that day is all zeros."""
    batch = pa.record_batch(
        [
            pa.array([dt.date(2000, 1, 1)], type=pa.date32()),
            pa.array([dt.datetime(2000, 1, 1, 0, 0, 1, tzinfo=dt.UTC)], pa.timestamp("us", "UTC")),
        ],
        names=["d", "t"],
    )
    encoded = bytes(pg_binary.encode(batch))
    assert encoded == (
        b"\x00\x02" + b"\x00\x00\x00\x04" + b"\x00" * 4 + b"\x00\x00\x00\x08" + (10**6).to_bytes(8)
    )
