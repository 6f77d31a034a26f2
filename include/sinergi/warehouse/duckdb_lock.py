"""The one lock every writer of a DuckDB warehouse file takes: ``<file>.lock``, exclusive.

DuckDB allows one writing process per file, and under the scheduler the district tasks and
the dbt tasks are separate processes: the loader (``sinergi.warehouse.connection``) and dbt
(``sinergi.dbt``) both hold this lock while they write, so they queue instead of failing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def lock_path(database: Path) -> Path:
    """The lock file beside a DuckDB database file."""
    return Path(f"{database}.lock")


@contextmanager
def duckdb_file_lock(database: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``database`` for the block (waits for other writers)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(database), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
