"""Dump every table of the ``marts`` schema as sorted CSV, to compare two builds byte for byte.

Usage: ``.venv/bin/python scripts/dump_marts.py <warehouse URL> <out folder>``, then
``diff -r before/ after/``. Rows are ordered by every column, so the files depend only on the
marts' contents (not on the engine's scan order). Used to show a refactoring changed no mart.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from sinergi.warehouse.connection import open_warehouse


def _tables(wh, conn) -> list[str]:
    rows = wh.execute(
        conn,
        "select table_name from information_schema.tables where table_schema = %s "
        "order by table_name",
        ("marts",),
    )
    return [name for (name,) in rows]


def _columns(wh, conn, table: str) -> list[str]:
    rows = wh.execute(
        conn,
        "select column_name from information_schema.columns where table_schema = %s "
        "and table_name = %s order by ordinal_position",
        ("marts", table),
    )
    return [name for (name,) in rows]


def dump(url: str, out: Path) -> list[Path]:
    wh = open_warehouse(url)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with wh.connect() as conn:
        for table in _tables(wh, conn):
            columns = _columns(wh, conn, table)
            order = ", ".join(str(i) for i in range(1, len(columns) + 1))
            rows = wh.execute(conn, f"select * from marts.{table} order by {order}")
            path = out / f"{table}.csv"
            with open(path, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows(rows)
            written.append(path)
    return written


if __name__ == "__main__":
    for written_path in dump(sys.argv[1], Path(sys.argv[2])):
        print(written_path)
