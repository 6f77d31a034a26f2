"""Database comments on the ``audit`` tables, from their documented dbt source.

Auditors read the audit schema in a SQL client or a BI tool, which shows table and column
comments; dbt's ``persist_docs`` only comments the models dbt builds, not the tables the
pipeline writes. So the one description of each audit table and column lives in
``dbt_project/models/staging/audit/_audit__sources.yml`` (dbt docs show it too) and
:func:`apply_comments` writes it to the database on every ``ensure_schema``, only where the
comment differs: a run with nothing new changes no catalogue row.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from sinergi.paths import DBT_PROJECT_DIR
from sinergi.warehouse.schema import AUDIT_TABLES

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "audit" / "_audit__sources.yml"

# (table, column or "" for the table itself) -> comment
Comments = dict[tuple[str, str], str]

_EXISTING_SQL = {
    "postgres": (
        "select c.relname, coalesce(a.attname, ''), d.description "
        "from pg_description d join pg_class c on c.oid = d.objoid "
        "join pg_namespace n on n.oid = c.relnamespace "
        "left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid "
        "where n.nspname = 'audit' and d.classoid = 'pg_class'::regclass"
    ),
    "duckdb": (
        "select table_name, '', comment from duckdb_tables() "
        "where schema_name = 'audit' and comment is not null "
        "union all select table_name, column_name, comment from duckdb_columns() "
        "where schema_name = 'audit' and comment is not null"
    ),
}


@cache
def audit_comments() -> Comments:
    """Every audit table's and column's description from the dbt source (folded to a line)."""
    source = yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))["sources"][0]
    found: Comments = {}
    for table in source["tables"]:
        found[(table["name"], "")] = _line(table["description"])
        for column in table.get("columns", []):
            found[(table["name"], column["name"])] = _line(column["description"])
    return found


def missing_comments() -> list[str]:
    """Audit tables and columns (sinergi.warehouse.schema) the source does not describe."""
    comments = audit_comments()
    missing = []
    for table in AUDIT_TABLES:
        for column in ("", *table.column_names):
            if not comments.get((table.name, column)):
                missing.append(f"{table.qualified}{'.' + column if column else ''}")
    return missing


def comment_statements(existing: Comments) -> list[str]:
    """``comment on`` statements for every audit table and column whose comment differs."""
    statements = []
    for table in AUDIT_TABLES:
        for column in ("", *table.column_names):
            text = audit_comments().get((table.name, column))
            if not text or existing.get((table.name, column)) == text:
                continue
            target = f"column {table.qualified}.{column}" if column else f"table {table.qualified}"
            statements.append(f"comment on {target} is {_quote(text)}")
    return statements


def apply_comments(wh: Any, conn: Any) -> int:
    """Bring the audit tables' comments up to date; returns how many were written."""
    existing = {(t, c): text for t, c, text in wh.execute(conn, _EXISTING_SQL[wh.kind])}
    statements = comment_statements(existing)
    for statement in statements:
        conn.execute(statement)
    return len(statements)


def _line(text: str) -> str:
    return " ".join(str(text).split())


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
