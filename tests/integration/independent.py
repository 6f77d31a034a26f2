"""Helpers for the integration tests that read results without the pipeline's own code.

* :class:`WarehouseReader` queries either warehouse engine with plain ``duckdb`` / ``psycopg``
  (never ``sinergi.warehouse``), so a bug in the pipeline's connection layer cannot hide
  itself from the checks.
* :func:`shared_run` runs an expensive fixture (a DAG run of a whole inbox: a minute or two)
  once per test session and shares it between pytest-xdist workers. ``xdist_group`` alone
  does not keep a module's tests on one worker with pytest 9.2 / pytest-xdist 3.8 (xdist
  writes the group suffix to ``item._nodeid``, which pytest 9 no longer reads), so without
  this every worker that receives one of a module's tests would run the DAG again. The first
  worker builds under a file lock, the others wait and reuse the result; readers hold a
  shared lock and a test that changes the warehouse (a re-run) an exclusive one. The last
  worker to leave cleans up (drops the PostgreSQL database).
  Without a cleanup (DuckDB) the result stays for the session, so two modules can share
  one run by using the same name.
* The contract reading of inbox files is ``tests/contract_oracle.py``; ``expected_raw`` turns
  its verdicts into the rows ``raw.*`` must hold.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sinergi.environment import scoped_environment
from tests.contract_oracle import COLUMNS, PERSONAL, ExpectedVersion

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SNAPSHOT_SCHEMAS = ("raw", "audit", "marts", "intermediate", "staging")


# --- locks and the shared run ------------------------------------------------------------------
@contextmanager
def file_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session sees (the base temp dir without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@dataclass
class SharedRun:
    """A built fixture: its folder, what the builder returned, and the state lock."""

    folder: Path
    result: dict[str, Any]

    @contextmanager
    def reading(self) -> Iterator[None]:
        with file_lock(self.folder.parent / "state.lock", shared=True):
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        with file_lock(self.folder.parent / "state.lock"):
            yield


def shared_run(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[Path], dict[str, Any]],
    cleanup: Callable[[SharedRun], None] | None = None,
) -> Iterator[SharedRun]:
    """Body of a module fixture: ``build(folder)`` once per session, shared by all workers.

    ``build`` returns a JSON-able dict. A failed build is recorded, so the other workers fail
    at once instead of repeating a minute-long run.
    """
    home = session_dir(tmp_path_factory) / name
    home.mkdir(parents=True, exist_ok=True)
    users_file, result_file = home / "users", home / "result.json"
    with file_lock(home / "setup.lock"):
        if result_file.exists():
            stored = json.loads(result_file.read_text())
        else:
            folder = home / f"build-{uuid.uuid4().hex[:8]}"
            folder.mkdir()
            try:
                stored = {"folder": str(folder), "result": build(folder)}
            except BaseException:
                stored = {"folder": str(folder), "error": traceback.format_exc()}
            result_file.write_text(json.dumps(stored, default=str))
            stored = json.loads(result_file.read_text())  # the same types in every worker
        if "error" in stored:
            pytest.fail(f"the shared fixture {name!r} failed to build:\n{stored['error']}")
        users = int(users_file.read_text()) if users_file.exists() else 0
        users_file.write_text(str(users + 1))
    run = SharedRun(Path(stored["folder"]), stored["result"])
    try:
        yield run
    finally:
        with file_lock(home / "setup.lock"):
            users = int(users_file.read_text()) - 1
            users_file.write_text(str(users))
            if users == 0 and cleanup is not None:  # the last user; a later one rebuilds
                result_file.unlink()
                cleanup(run)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block (module fixtures cannot use
    ``monkeypatch``)."""
    with scoped_environment(values):
        yield


# --- PostgreSQL databases ----------------------------------------------------------------------
def postgres_running() -> bool:
    if shutil.which("pg_isready") is None:
        try:
            import psycopg

            with psycopg.connect(PG_ADMIN, connect_timeout=3):
                return True
        except Exception:  # noqa: BLE001
            return False
    try:
        args = ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]
        return subprocess.run(args, check=False, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def create_postgres_database() -> str:
    """A fresh, uniquely named database; returns its URL (drop it with ``drop_postgres``)."""
    import psycopg

    name = f"sinergi_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


# --- reading the warehouse ---------------------------------------------------------------------
@dataclass(frozen=True)
class WarehouseReader:
    """Read-only SQL on ``duckdb:///path`` or ``postgresql://…`` (``%s`` placeholders)."""

    url: str

    @property
    def engine(self) -> str:
        return "duckdb" if self.url.startswith("duckdb:") else "postgres"

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        if self.engine == "duckdb":
            import duckdb

            path = self.url.split("duckdb://", 1)[1]  # duckdb:///abs (four slashes: same)
            with duckdb.connect(path, read_only=True) as conn:
                cursor = conn.execute(sql.replace("%s", "?"), list(params))
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            return list(conn.execute(sql, params).fetchall())

    def tables(self, schemas: tuple[str, ...] = SNAPSHOT_SCHEMAS) -> list[str]:
        """``schema.name`` of every table and view in ``schemas``."""
        marks = ", ".join(["%s"] * len(schemas))
        found = self.rows(
            "select table_schema as s, table_name as t from information_schema.tables "
            f"where table_schema in ({marks})",
            schemas,
        )
        return sorted(f"{r['s']}.{r['t']}" for r in found)

    def columns(self, table: str) -> list[str]:
        schema, name = table.split(".")
        found = self.rows(
            "select column_name as c from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, name),
        )
        return [r["c"] for r in found]

    def snapshot(self, schemas: tuple[str, ...] = SNAPSHOT_SCHEMAS) -> dict[str, list[tuple]]:
        """Every row of every table and view in ``schemas``, sorted (engine-independent)."""
        out = {}
        for table in self.tables(schemas):
            rows = [tuple(r.values()) for r in self.rows(f"select * from {table}")]
            out[table] = sorted(rows, key=lambda r: [(v is None, str(v)) for v in r])
        return out


def period_text(value: Any) -> str:
    """A warehouse period (date, datetime or text) as ``YYYY-MM``."""
    return str(value)[:7]


# --- raw tables, as the oracle predicts them ---------------------------------------------------
def pseudonym(key: str, value: str) -> str:
    """Keyed HMAC-SHA256 hex of an identifier (contract §5.3, docs/architecture.md)."""
    return hmac.new(key.encode("utf-8"), value.encode("ascii"), hashlib.sha256).hexdigest()


def raw_columns(dataset: str) -> list[str]:
    """The contract's columns as ``raw.<dataset>`` names them (docs/architecture.md)."""
    return [
        f"{c}_hmac" if c in PERSONAL.get(dataset, ()) else c
        for c in COLUMNS[dataset]
        if c not in ("periode", "kode_kabkota")
    ]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def expected_raw(versions: Iterable[ExpectedVersion], key: str) -> dict[str, set[tuple]]:
    """The oracle's accepted rows of every ACCEPTED / PARTIAL version, shaped like raw.*,
    as text: (period, district, version, row number, *normalised values)."""
    out: dict[str, set[tuple]] = {d: set() for d in COLUMNS}
    for v in versions:
        personal = PERSONAL.get(v.dataset, ())
        for number, values in v.judgement.accepted().items():
            cells = [
                pseudonym(key, value) if col in personal else value
                for col, value in zip(COLUMNS[v.dataset], values, strict=True)
                if col not in ("periode", "kode_kabkota")
            ]
            row = (f"{v.period}-01", v.district, v.version, number, *cells)
            out[v.dataset].add(tuple(_text(c) for c in row))
    return out


def actual_raw(reader: WarehouseReader) -> dict[str, set[tuple]]:
    out = {}
    for dataset in COLUMNS:
        columns = ", ".join(["_period", "_district_code", "_version", "_row_number"])
        columns += ", " + ", ".join(raw_columns(dataset))
        rows = reader.rows(f"select {columns} from raw.{dataset}")
        out[dataset] = {tuple(_text(v) for v in r.values()) for r in rows}
    return out
