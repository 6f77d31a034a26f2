"""The audit tables' comments come from their documented dbt source (issue 15)."""

from __future__ import annotations

import duckdb

from sinergi.warehouse.comments import audit_comments, comment_statements, missing_comments
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.schema import AUDIT_TABLES


def test_every_audit_table_and_column_is_described_in_the_dbt_source():
    assert missing_comments() == []


def test_a_new_column_without_a_description_is_reported(monkeypatch):
    from sinergi.warehouse import comments

    described = dict(audit_comments())
    del described[("file_versions", "sha256")]
    monkeypatch.setattr(comments, "audit_comments", lambda: described)
    assert comments.missing_comments() == ["audit.file_versions.sha256"]


def test_statements_quote_and_skip_what_is_current():
    everything = comment_statements({})
    assert len(everything) == sum(1 + len(t.column_names) for t in AUDIT_TABLES)
    assert all("''" in s or "'" not in s[s.index(" is ") + 5 : -1] for s in everything)
    assert comment_statements(dict(audit_comments())) == []


def test_duckdb_warehouse_gets_the_comments(tmp_path):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    wh.ensure_schema()
    wh.ensure_schema()  # idempotent
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        counts = conn.execute(
            "select count(*), count(comment) from duckdb_columns() where schema_name = 'audit'"
        ).fetchone()
        table = conn.execute(
            "select comment from duckdb_tables() where table_name = 'row_rejections'"
        ).fetchone()[0]
    assert counts[0] == counts[1] > 50
    assert "quarantine" in table
