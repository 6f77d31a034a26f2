"""``Warehouse.session``: one PostgreSQL session for a task's bookkeeping, kept only while safe."""

from __future__ import annotations

import threading

import psycopg
import pytest

from sinergi.warehouse.connection import open_warehouse


def _pid(conn) -> int:
    return conn.execute("select pg_backend_pid()").fetchone()[0]


def _pids(wh, blocks: int = 3) -> list[int]:
    out = []
    for _ in range(blocks):
        with wh.connect() as conn:
            out.append(_pid(conn))
    return out


def test_connect_blocks_in_a_session_share_one_session(postgres_url):
    wh = open_warehouse(postgres_url)
    with wh.session():
        inside = _pids(wh)
        with wh.transaction() as conn:  # a transaction block shares it too
            inside.append(_pid(conn))
    assert len(set(inside)) == 1
    outside = _pids(wh)
    assert len(set(outside)) == 3 and inside[0] not in outside  # the session's was closed


def test_a_nested_block_gets_a_connection_of_its_own(postgres_url):
    wh = open_warehouse(postgres_url)
    with wh.session(), wh.transaction() as outer:
        outer.execute("create table t (n int)")
        with wh.connect() as inner:
            assert _pid(inner) != _pid(outer)
            # the outer transaction is not committed: the inner session does not see it
            assert inner.execute("select to_regclass('public.t')").fetchone() == (None,)
        outer.execute("insert into t values (1)")  # the outer connection is still in use
    with wh.connect() as conn:
        assert conn.execute("select count(*) from t").fetchone() == (1,)


def test_a_session_left_in_a_transaction_is_replaced(postgres_url):
    wh = open_warehouse(postgres_url)
    with wh.session():
        with wh.connect() as conn:
            first = _pid(conn)
            conn.execute("begin")
            conn.execute("create table left_open (n int)")
        with wh.connect() as conn:
            assert _pid(conn) != first
            # the abandoned transaction was rolled back when its connection was closed
            assert conn.execute("select to_regclass('public.left_open')").fetchone() == (None,)


def test_a_session_the_server_ended_is_replaced(postgres_url):
    wh = open_warehouse(postgres_url)
    with wh.session():
        with wh.connect() as conn:
            first = _pid(conn)
        with psycopg.connect(wh.conninfo, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (first,))
            for _ in range(50):  # the backend is gone once it no longer lists itself
                alive = admin.execute(
                    "select count(*) from pg_stat_activity where pid = %s", (first,)
                ).fetchone()[0]
                if not alive:
                    break
                threading.Event().wait(0.1)
        with wh.connect() as conn:
            assert _pid(conn) != first  # not an OperationalError on a dead socket


def test_each_thread_has_its_own_session(postgres_url):
    wh = open_warehouse(postgres_url)
    seen: dict[str, list[int]] = {}

    def work(name: str) -> None:
        with wh.session():
            seen[name] = _pids(wh, 2)

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    with wh.session():
        mine = _pids(wh, 2)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert all(len(set(p)) == 1 for p in (mine, *seen.values()))
    assert len({mine[0], seen["a"][0], seen["b"][0]}) == 3


def test_duckdb_keeps_no_connection_between_blocks(tmp_path):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with wh.session():
        with wh.connect() as first:
            pass
        with wh.connect() as second:
            assert second is not first
            assert second.execute("select 1").fetchone() == (1,)
        with pytest.raises(Exception, match="(?i)closed"):
            first.execute("select 1")  # closed after its block: the file lock is free
