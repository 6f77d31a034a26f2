"""The DuckDB writer lock: one name, one flock, taken by the loader and by dbt alike."""

from __future__ import annotations

import fcntl

import pytest

from sinergi.warehouse.duckdb_lock import duckdb_file_lock, lock_path


def _try_lock(path) -> bool:
    """Whether another open file description could take the lock now (flock is per open)."""
    with open(path, "a+b") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_the_lock_file_sits_beside_the_database(tmp_path):
    assert lock_path(tmp_path / "w.duckdb") == tmp_path / "w.duckdb.lock"


def test_the_lock_is_held_only_inside_the_block(tmp_path):
    database = tmp_path / "new" / "w.duckdb"  # folder created by the first writer
    with duckdb_file_lock(database):
        assert not _try_lock(lock_path(database))
    assert _try_lock(lock_path(database))


def test_a_thread_holding_the_lock_takes_it_again_and_others_wait(tmp_path):
    import threading

    database = tmp_path / "w.duckdb"
    taken = threading.Event()

    def other_thread() -> None:
        with duckdb_file_lock(database):
            taken.set()

    with duckdb_file_lock(database):
        with duckdb_file_lock(database):  # nested: goes on instead of waiting for itself
            assert not _try_lock(lock_path(database))
        assert not _try_lock(lock_path(database))  # still held by the outer block
        thread = threading.Thread(target=other_thread)
        thread.start()
        assert not taken.wait(0.3)  # another thread waits, as another process does
    thread.join(5)
    assert taken.is_set() and _try_lock(lock_path(database))


@pytest.mark.parametrize("writer", ["loader", "dbt"])
def test_loader_and_dbt_take_the_same_lock(tmp_path, writer):
    from sinergi.dbt import _duckdb_file_lock
    from sinergi.warehouse.connection import DuckDBWarehouse
    from sinergi.warehouse.url import duckdb_url

    database = tmp_path / "w.duckdb"
    if writer == "loader":
        held = DuckDBWarehouse(duckdb_url(database)).connect()
    else:
        env = {"SINERGI_DBT_TARGET": "duckdb", "SINERGI_DUCKDB_PATH": str(database)}
        held = _duckdb_file_lock(env)
    with held:
        assert not _try_lock(lock_path(database))
    assert _try_lock(lock_path(database))
