"""dbt keeps each thread's PostgreSQL session for the next node, reset, instead of closing it.

dbt-adapters closes a thread's connection after every node (``release`` -> ``close``), so a
``dbt build`` of this project opened ~270 PostgreSQL sessions, one per node: each a new server
process that also starts with empty catalogue caches. On the tiny month that was ~14 % of the
build (8.8 s -> 7.6 s, means of alternating runs, 2026-12-07; a build now opens 3 sessions:
docs/performance.md "dbt keeps its sessions").

:func:`install` wraps ``release`` of dbt-postgres' connection manager: the open transaction is
rolled back as ``close`` would, then ``DISCARD ALL`` ends whatever else the node left in the
session (temporary tables of incremental models, prepared statements, settings changed with
``SET``; the settings given at connection, ``work_mem`` through ``PGOPTIONS``, are what ``RESET``
returns to) and the session waits idle for the thread's next node. A session that is not open,
whose socket is closed, or that fails to reset is closed as dbt closes it, so a broken
connection costs one node, as before. dbt still closes every session at the end of the
invocation (``cleanup_connections``). DuckDB keeps one connection of its own and is not
touched.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sinergi.library_wraps import unwrapped, wrap_once


def install() -> None:
    """Wrap ``PostgresConnectionManager.release`` (once per process; idempotent)."""
    from dbt.adapters.postgres.connections import PostgresConnectionManager

    wrap_once(PostgresConnectionManager, "release", _kept)


def dbt_original() -> AbstractContextManager[None]:
    """dbt's own ``release`` (a session per node) for the duration: the tests' reference."""
    from dbt.adapters.postgres.connections import PostgresConnectionManager

    return unwrapped(PostgresConnectionManager, "release")


def _kept(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def release(self: Any) -> None:
        with self.lock:
            connection = self.get_if_exists()
        if connection is None:
            return
        if connection.state != "open" or not _reset(connection):
            original(self)  # dbt closes it; the thread's next node opens a new session

    return release


def _reset(connection: Any) -> bool:
    """Roll back and ``DISCARD ALL``; False when the session cannot be kept."""
    handle = connection.handle
    if handle is None or getattr(handle, "closed", 1):
        return False
    try:
        handle.rollback()  # psycopg2 sends ROLLBACK only when a transaction is open
        connection.transaction_open = False
        previous = handle.autocommit
        handle.autocommit = True  # DISCARD ALL refuses to run inside a transaction block
        try:
            with handle.cursor() as cursor:
                cursor.execute("discard all")
        finally:
            handle.autocommit = previous
    except Exception:  # noqa: BLE001 - any failure: let dbt close the session as usual
        return False
    return True
