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


@pytest.fixture(scope="module")
def warehouse(module_postgres_url, tmp_path_factory):
    """An initialised warehouse with the marts built by dbt (no data needed for grants);
    one per module: the tests only read it, or change and restore what they check."""
    from sinergi.dbt import run_dbt

    wh = PostgresWarehouse(module_postgres_url)
    wh.ensure_schema()
    init_postgres(wh)
    work = tmp_path_factory.mktemp("roles-dbt")
    outcome = run_dbt(
        ["build", "--exclude", "resource_type:test", "resource_type:unit_test"],
        module_postgres_url,
        target_path=work / "target",
        log_path=work / "logs",
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


def as_login(url: str, user: str, password: str | None = None) -> str:
    parsed = urlparse(url)
    secret = f":{password}" if password else ""
    return parsed._replace(netloc=f"{user}{secret}@{parsed.hostname}:{parsed.port}").geturl()


def test_auditor_sees_a_comment_on_every_audit_table_and_column(warehouse, login):
    """Issue 15: the audit schema explains itself to an auditor's SQL client."""
    with psycopg.connect(as_login(warehouse.url, login(AUDITOR_ROLE))) as conn:
        tables = conn.execute(
            "select c.relname, obj_description(c.oid, 'pg_class') from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'audit' and c.relkind in ('r', 'v')"
        ).fetchall()
        columns = conn.execute(
            "select table_name, column_name, col_description("
            "format('%I.%I', table_schema, table_name)::regclass, ordinal_position) "
            "from information_schema.columns where table_schema = 'audit'"
        ).fetchall()
    names = {name for name, _ in tables}
    assert {"file_versions", "validation_results", "version_history", "duplicate_payments"} <= (
        names
    )
    assert [name for name, text in tables if not text] == []
    assert len(columns) > 60
    assert [f"{t}.{c}" for t, c, text in columns if not text] == []
    rejected = dict(((t, c), text) for t, c, text in columns)[("file_versions", "rows_rejected")]
    assert "every row of a REJECTED version" in rejected


def test_comments_are_rewritten_only_where_they_differ(warehouse):
    from sinergi.warehouse.comments import apply_comments

    with warehouse.connect() as conn:
        assert apply_comments(warehouse, conn) == 0  # ensure_schema wrote them all
        conn.execute("comment on column audit.file_versions.sha256 is 'stale'")
        assert apply_comments(warehouse, conn) == 1


def test_db_add_user_creates_a_login_that_reads_the_marts_by_their_short_name(warehouse, capsys):
    from sinergi.cli import main

    name = f"bi_analyst_{uuid.uuid4().hex[:8]}"
    args = ["db", "add-user", name, "--role", "bi", "--warehouse", warehouse.url]
    try:
        assert main([*args, "--generate-password"]) == 0
        out = capsys.readouterr().out
        password = out.split("generated password (shown once): ")[1].strip()
        assert f"login {name} created in role sinergi_bi" in out
        with psycopg.connect(as_login(warehouse.url, name, password)) as conn:
            assert conn.execute("show search_path").fetchone()[0].startswith("marts")
            assert conn.execute("select count(*) from dim_districts").fetchone()[0] == 38
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select * from audit.file_versions")
        # idempotent: a second run keeps the password and says so
        assert main(args) == 0
        assert "exists" in capsys.readouterr().out
        with psycopg.connect(as_login(warehouse.url, name, password)) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        # an auditor login reads the audit schema
        auditor = [*args[:4], "auditor", *args[5:], "--reset-password", "--generate-password"]
        assert main(auditor) == 0
        password = capsys.readouterr().out.split("(shown once): ")[1].strip()
        with psycopg.connect(as_login(warehouse.url, name, password)) as conn:
            assert conn.execute("select count(*) from audit.version_history").fetchone()
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"drop role if exists {name}")


def test_db_add_user_refuses_bad_input_with_a_message(warehouse, capsys):
    from sinergi.cli import main

    base = ["db", "add-user", "--warehouse", warehouse.url, "--role", "bi"]
    assert main([*base, "Robert'); drop table x;--", "--generate-password"]) == 2
    assert "login name" in capsys.readouterr().err
    assert main([*base, "sinergi_bi", "--generate-password"]) == 2
    assert "group role" in capsys.readouterr().err
    assert main([*base, f"nobody_{uuid.uuid4().hex[:8]}"]) == 2  # no tty, no password
    assert "needs a password" in capsys.readouterr().err


def test_db_init_says_how_to_connect(postgres_url, capsys):
    from sinergi.cli import main

    assert main(["db", "init", "--warehouse", postgres_url]) == 0
    out = capsys.readouterr().out
    assert "granted marts: select for sinergi_bi, sinergi_auditor" in out
    assert "cannot log in" in out and "sinergi db add-user NAME --role bi|auditor" in out
