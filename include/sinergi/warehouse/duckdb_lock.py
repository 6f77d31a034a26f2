"""The one lock every writer of a DuckDB warehouse file takes: ``<file>.lock``, exclusive.

DuckDB allows one writing process per file, and under the scheduler the district tasks and
the dbt tasks are separate processes: the loader (``sinergi.warehouse.connection``) and dbt
(``sinergi.dbt``) both hold this lock while they write, so they queue instead of failing.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The locks this process holds, by lock file: a thread taking one it already holds goes on
# (``flock`` through a second descriptor would wait for the first, i.e. for itself).
_held = threading.local()


def lock_path(database: Path) -> Path:
    """The lock file beside a DuckDB database file."""
    return Path(f"{database}.lock")


@contextmanager
def duckdb_file_lock(database: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``database`` for the block (waits for other writers).

    Re-entrant in a thread: a block inside one that holds the lock already (a connection
    opened inside a warehouse batch) goes on instead of waiting for itself."""
    path = lock_path(database)
    held: set[Path] = _held.__dict__.setdefault("paths", set())
    if path in held:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        held.add(path)
        try:
            yield
        finally:
            held.discard(path)
            fcntl.flock(lock, fcntl.LOCK_UN)
