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


def _lock_is_free(wh) -> bool:
    """Whether another process could take the DuckDB file's writer lock now."""
    from sinergi.warehouse.duckdb_lock import lock_path
    from tests.test_duckdb_lock import _try_lock

    return _try_lock(lock_path(wh.path))


@pytest.fixture
def opened(monkeypatch) -> list[str]:
    """Paths DuckDB opened (``duckdb.connect``) during the test."""
    import duckdb

    paths: list[str] = []
    connect = duckdb.connect

    def counting(database=":memory:", *args, **kwargs):
        paths.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", counting)
    return paths


def test_duckdb_batch_opens_the_file_once_and_holds_the_writer_lock(tmp_path, opened):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with wh.batch():
        assert not _lock_is_free(wh)  # other processes' loads wait for the batch
        with wh.transaction() as conn:
            conn.execute("create table t (n int)")
            conn.execute("insert into t values (1)")
        with wh.batch(), wh.connect() as conn:  # nested: the same open database
            assert conn.execute("select count(*) from t").fetchone() == (1,)
        with pytest.raises(ValueError), wh.transaction() as conn:
            conn.execute("insert into t values (2)")
            raise ValueError("rolled back")
        with wh.connect() as conn:
            assert conn.execute("select count(*) from t").fetchone() == (1,)
    assert opened == [str(wh.path)]
    assert _lock_is_free(wh)  # released, and the file closed: a new connection opens it
    with wh.connect() as conn:
        assert conn.execute("select sum(n) from t").fetchone() == (1,)
    assert len(opened) == 2


def test_duckdb_blocks_outside_a_batch_open_the_file_each_time(tmp_path, opened):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with wh.session():  # a session alone keeps nothing open on DuckDB: judging runs in it
        for _ in range(3):
            with wh.connect():
                assert not _lock_is_free(wh)
            assert _lock_is_free(wh)
    assert len(opened) == 3


def test_duckdb_batch_lets_go_when_its_block_fails(tmp_path):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    with pytest.raises(RuntimeError), wh.batch():
        raise RuntimeError("a failed load")
    assert _lock_is_free(wh)
    with wh.connect() as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_postgres_batch_is_one_session(postgres_url):
    wh = open_warehouse(postgres_url)
    with wh.batch():
        inside = _pids(wh)
    assert len(set(inside)) == 1
