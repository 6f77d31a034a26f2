"""Grants on a PostgreSQL warehouse, proved with real logins (issue: production path).

``sinergi_bi`` reads every mart and nothing else; ``sinergi_auditor`` reads marts and audit
(including the quarantine); nobody but the owner reads raw, staging or intermediate.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import psycopg
import pytest

from sinergi.warehouse.connection import PostgresWarehouse
from sinergi.warehouse.roles import AUDITOR_ROLE, BI_ROLE, init_postgres

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def warehouse(postgres_url):
    """An initialised warehouse with the marts built by dbt (no data needed for grants)."""
    from sinergi.dbt import run_dbt

    wh = PostgresWarehouse(postgres_url)
    wh.ensure_schema()
    init_postgres(wh)
    outcome = run_dbt(
        ["build", "--exclude", "resource_type:test", "resource_type:unit_test"], postgres_url
    )
    assert outcome.success
    return wh


@pytest.fixture
def login():
    """Creates login roles that are members of a group; dropped afterwards."""
    made = []

    def make(group: str) -> str:
        name = f"{group}_login_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"create role {name} login in role {group}")
        made.append(name)
        return name

    yield make
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        for name in made:
            conn.execute(f"drop role if exists {name}")


def tables(url: str, schema: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s",
            (schema,),
        ).fetchall()
    return [f"{schema}.{name}" for (name,) in rows]


def can_read(url: str, user: str, table: str) -> bool:
    parsed = urlparse(url)
    as_user = parsed._replace(netloc=f"{user}@{parsed.hostname}:{parsed.port}").geturl()
    try:
        with psycopg.connect(as_user) as conn:
            conn.execute(f"select * from {table} limit 1").fetchall()
        return True
    except psycopg.errors.InsufficientPrivilege:
        return False


def test_bi_reads_every_mart_and_nothing_else(warehouse, login):
    url = warehouse.url
    user = login(BI_ROLE)
    marts = tables(url, "marts")
    assert len(marts) >= 12
    assert all(can_read(url, user, t) for t in marts)
    private = [*tables(url, "raw"), *tables(url, "staging"), *tables(url, "intermediate")]
    private += tables(url, "audit")
    assert "audit.row_rejections" in private and "raw.penerima_bantuan" in private
    assert not any(can_read(url, user, t) for t in private)


def test_auditor_reads_audit_and_marts_but_not_raw(warehouse, login):
    url = warehouse.url
    user = login(AUDITOR_ROLE)
    assert all(can_read(url, user, t) for t in tables(url, "audit"))
    assert can_read(url, user, "audit.row_rejections")
    assert all(can_read(url, user, t) for t in tables(url, "marts"))
    assert not can_read(url, user, "raw.penerima_bantuan")


def test_init_is_idempotent_and_grants_survive_a_rebuild(warehouse, login):
    from sinergi.dbt import run_dbt

    init_postgres(warehouse)
    init_postgres(warehouse)
    assert run_dbt(["run", "--select", "fct_submissions"], warehouse.url).success
    assert can_read(warehouse.url, login(BI_ROLE), "marts.fct_submissions")
