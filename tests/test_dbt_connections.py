"""dbt's PostgreSQL sessions are kept for the thread's next node, reset (sinergi.dbt_connections).

The reset is checked on a real PostgreSQL session (what a node may leave behind is gone, the
settings given at connection stay); the choice between keeping and closing with stand-ins for
dbt's connection manager; that a real build uses a handful of sessions, in
tests/integration/test_dbt_marts.py.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import psycopg2
import pytest

from sinergi import dbt_connections
from sinergi.library_wraps import is_wrapped


class _Cursor:
    def __init__(self, handle: _Handle) -> None:
        self.handle = handle

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str) -> None:
        if self.handle.fail:
            raise psycopg2.OperationalError("server closed the connection unexpectedly")
        self.handle.statements.append((sql, self.handle.autocommit))


class _Handle:
    def __init__(self, *, closed: int = 0, fail: bool = False) -> None:
        self.closed, self.fail = closed, fail
        self.autocommit = False
        self.statements: list[tuple[str, bool]] = []
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1

    def cursor(self) -> _Cursor:
        return _Cursor(self)


def _manager(connection) -> tuple[SimpleNamespace, list[str]]:
    closed: list[str] = []
    manager = SimpleNamespace(lock=threading.Lock(), get_if_exists=lambda: connection)
    release = dbt_connections._kept(lambda self: closed.append("closed by dbt"))
    return SimpleNamespace(release=lambda: release(manager)), closed


def _connection(handle, *, state: str = "open", transaction_open: bool = True):
    return SimpleNamespace(handle=handle, state=state, transaction_open=transaction_open)


def test_an_open_session_is_rolled_back_reset_and_kept():
    handle = _Handle()
    connection = _connection(handle)
    manager, closed = _manager(connection)
    manager.release()
    assert closed == []
    assert handle.rollbacks == 1 and connection.transaction_open is False
    assert handle.statements == [("discard all", True)]  # outside a transaction block
    assert handle.autocommit is False  # dbt's own mode again for the next node


@pytest.mark.parametrize(
    "connection",
    [
        _connection(_Handle(closed=2)),  # the server closed the socket
        _connection(_Handle(fail=True)),  # the reset itself failed
        _connection(_Handle(), state="closed"),
        _connection(None),
    ],
    ids=["socket-closed", "reset-failed", "not-open", "no-handle"],
)
def test_a_session_that_cannot_be_kept_is_closed_as_dbt_closes_it(connection):
    manager, closed = _manager(connection)
    manager.release()
    assert closed == ["closed by dbt"]


def test_a_thread_without_a_session_has_nothing_to_release():
    manager, closed = _manager(None)
    manager.release()
    assert closed == []


def test_install_wraps_once_and_the_original_is_at_hand():
    from dbt.adapters.postgres.connections import PostgresConnectionManager

    dbt_connections.install()
    wrapped = PostgresConnectionManager.release
    assert is_wrapped(wrapped)
    dbt_connections.install()
    assert PostgresConnectionManager.release is wrapped
    with dbt_connections.dbt_original():
        assert PostgresConnectionManager.release is wrapped.__wrapped__
        assert not is_wrapped(PostgresConnectionManager.release)
    assert PostgresConnectionManager.release is wrapped


def test_a_kept_session_carries_nothing_of_the_node_before(postgres_url):
    handle = psycopg2.connect(postgres_url, options="-c work_mem=77MB")
    try:
        with handle.cursor() as cursor:  # psycopg2 opens a transaction, as dbt's nodes do
            cursor.execute("create temporary table node_scratch (n int)")
            cursor.execute("set work_mem = '1MB'")
            cursor.execute("prepare node_plan as select 1")
        connection = _connection(handle)
        assert dbt_connections._reset(connection) is True
        assert connection.transaction_open is False
        assert handle.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        with handle.cursor() as cursor:
            cursor.execute("select to_regclass('pg_temp.node_scratch')")
            assert cursor.fetchone() == (None,)
            cursor.execute("show work_mem")
            assert cursor.fetchone() == ("77MB",)  # what the session was opened with
            cursor.execute("select count(*) from pg_prepared_statements")
            assert cursor.fetchone() == (0,)
    finally:
        handle.close()
