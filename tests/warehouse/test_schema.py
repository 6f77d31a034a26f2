"""Warehouse tables: a column added to a definition reaches warehouses built before it, and
PostgreSQL's raw tables get their BRIN index on the period."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.schema import (
    FILE_VERSIONS,
    RAW_TABLES,
    added_columns_ddl,
    params_from_text,
    params_text,
    raw_period_index_ddl,
)

# audit.file_versions as the first warehouses have it: before rejection_params
OLD_FILE_VERSIONS = replace(
    FILE_VERSIONS, columns=tuple(c for c in FILE_VERSIONS.columns if c[0] != "rejection_params")
)
WHEN = datetime(2025, 4, 2, tzinfo=UTC)
OLD_ROW = (date(2025, 3, 1), "3578", "psks", 1, "psks.csv", "0" * 64, 10, WHEN, WHEN,
           "REJECTED", "unreadable", "file is 0 bytes", 0, 0, 0, "a", WHEN)  # fmt: skip


def _all_columns(**override) -> dict[str, set[str]]:
    from sinergi.warehouse.schema import AUDIT_TABLES, RAW_TABLES

    found = {t.qualified: set(t.column_names) for t in (*RAW_TABLES.values(), *AUDIT_TABLES)}
    return found | override


def test_nothing_to_add_to_a_current_warehouse():
    assert added_columns_ddl(_all_columns()) == []


def test_a_missing_nullable_column_is_added():
    old = _all_columns(**{"audit.file_versions": set(OLD_FILE_VERSIONS.column_names)})
    assert added_columns_ddl(old) == [
        "alter table audit.file_versions add column rejection_params varchar"
    ]


def test_a_missing_not_null_column_is_not_guessed():
    columns = set(FILE_VERSIONS.column_names) - {"sha256"}
    with pytest.raises(RuntimeError, match="sha256"):
        added_columns_ddl(_all_columns(**{"audit.file_versions": columns}))


def test_params_text_round_trip():
    params = {"header_row": 4, "columns": ["jumlah"]}
    assert params_text(params) == '{"columns": ["jumlah"], "header_row": 4}'
    assert params_from_text(params_text(params)) == params
    assert params_text(None) is None and params_text({}) is None
    assert params_from_text(None) is None and params_from_text("not json") is None
    assert params_from_text("[1, 2]") is None


def _older_warehouse_gets_the_column(url: str) -> None:
    wh = open_warehouse(url)
    columns = ", ".join(OLD_FILE_VERSIONS.column_names)
    with wh.transaction() as conn:
        conn.execute("create schema if not exists audit")
        conn.execute(OLD_FILE_VERSIONS.ddl())
        wh.execute(
            conn,
            f"insert into audit.file_versions ({columns}) "
            f"values ({', '.join(['%s'] * len(OLD_ROW))})",
            OLD_ROW,
        )
    wh.ensure_schema()
    wh.ensure_schema()  # idempotent: nothing left to add
    with wh.connect() as conn:
        assert added_columns_ddl(wh.table_columns(conn)) == []
        assert "rejection_params" in wh.table_columns(conn)["audit.file_versions"]
        rows = wh.execute(conn, "select version, rejection_params from audit.file_versions")
    assert rows == [(1, None)]  # the row judged before the column keeps NULL


def test_an_older_duckdb_warehouse_gets_the_new_column(tmp_path):
    _older_warehouse_gets_the_column(f"duckdb:///{tmp_path / 'old.duckdb'}")


def test_an_older_postgres_warehouse_gets_the_new_column(postgres_url):
    _older_warehouse_gets_the_column(postgres_url)


def test_only_the_missing_raw_period_indexes_are_made():
    made = raw_period_index_ddl({"ppks__period_brin", "some_other_index"})
    assert len(made) == len(RAW_TABLES) - 1
    assert "create index psks__period_brin on raw.psks using brin (_period)" in made
    assert not any("ppks" in statement for statement in made)
    every = {f"{name}__period_brin" for name in (t.name for t in RAW_TABLES.values())}
    assert raw_period_index_ddl(every) == []


def test_a_postgres_warehouse_gets_its_raw_period_indexes_once(postgres_url):
    wh = open_warehouse(postgres_url)
    wh.ensure_schema()
    wh.ensure_schema()  # idempotent: nothing made twice
    with wh.connect() as conn:
        found = wh.execute(
            conn,
            "select indexname, indexdef from pg_indexes where schemaname = 'raw' "
            "and indexname like '%%__period_brin'",
        )
        assert raw_period_index_ddl({name for name, _ in found}) == []
    assert len(found) == len(RAW_TABLES)
    assert all("USING brin (_period)" in definition for _, definition in found)


def test_a_duckdb_warehouse_makes_no_index(tmp_path):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    wh.ensure_schema()
    with wh.connect() as conn:
        assert wh.index_ddl(conn) == []
