"""Parquet spill files: judged rows on disk between validation and the load transaction.

A 500,000-row roster is judged chunk by chunk; each chunk's accepted rows (typed, with NIK /
No. KK already pseudonymised) and rejected rows are written here at once, so memory holds one
chunk at a time and the load step streams the files into the warehouse in one transaction.
The Arrow schema comes from the warehouse table definition, so what is spilled is exactly
what the table accepts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sinergi.warehouse.schema import Table

_ARROW_TYPES = {
    "date": pa.date32(),
    "varchar": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "boolean": pa.bool_(),
}


def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([(name, _ARROW_TYPES[sqltype.split()[0]]) for name, sqltype in table.columns])


class SpillWriter:
    """Appends DataFrames shaped like ``table`` to numbered Parquet files in ``folder``."""

    def __init__(self, folder: Path, table: Table, prefix: str) -> None:
        self.folder = folder
        self.table = table
        self.prefix = prefix
        self.schema = arrow_schema(table)
        self.parts: list[Path] = []
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        arrays = []
        for field in self.schema:
            column = frame[field.name]
            if pa.types.is_date32(field.type):
                # Arrow casts timestamps to dates natively; no Python date objects per row.
                stamps = pa.array(pd.to_datetime(column).astype("datetime64[s]"), from_pandas=True)
                arrays.append(stamps.cast(pa.date32()))
            else:
                arrays.append(pa.array(column, type=field.type, from_pandas=True))
        path = self.folder / f"{self.prefix}-{len(self.parts):04d}.parquet"
        self.folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_arrays(arrays, schema=self.schema), path)
        self.parts.append(path)
        self.rows += len(frame)
