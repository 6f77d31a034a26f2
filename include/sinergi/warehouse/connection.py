"""Connections to the warehouse, selected by URL: ``duckdb:///abs/path.duckdb``,
``duckdb:relative/path.duckdb`` or ``postgresql://…`` (parsed by ``sinergi.warehouse.url``).

Both engines are driven through the same small interface so the pipeline code has no
``if duckdb`` branches: ``execute`` with ``%s`` placeholders, ``transaction``, and a bulk
load of Parquet spill files (DuckDB reads them natively; PostgreSQL gets them streamed
through ``COPY … FROM STDIN``, the fast path measured in the stack notes).

DuckDB allows one writing process per file, and under the scheduler the 38 district tasks
run as separate processes: every DuckDB connection is taken under an exclusive file lock,
held only while loading, so districts validate in parallel and load one after another.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sinergi.warehouse.duckdb_lock import duckdb_file_lock
from sinergi.warehouse.schema import Table, added_columns_ddl, all_ddl, raw_period_index_ddl
from sinergi.warehouse.url import WarehouseURL, parse_warehouse_url, redact

__all__ = ["DuckDBWarehouse", "PostgresWarehouse", "Warehouse", "open_warehouse", "redact"]


class Warehouse:
    """Base class: subclasses provide ``_connect`` and ``copy_parquet``."""

    placeholder = "%s"

    kind = ""

    def __init__(self, url: str | WarehouseURL) -> None:
        location = url if isinstance(url, WarehouseURL) else parse_warehouse_url(url)
        if location.kind != self.kind:
            raise ValueError(f"{type(self).__name__} cannot open {location.redacted!r}")
        self.location = location
        self.url = location.url

    @contextmanager
    def connect(self) -> Iterator[Any]:
        raise NotImplementedError

    @contextmanager
    def session(self) -> Iterator[None]:
        """A block whose :meth:`connect` calls may share one connection (this engine: no)."""
        yield

    @contextmanager
    def batch(self) -> Iterator[None]:
        """A block of warehouse statements with no long work of another kind between them
        (judging, writing reports): :meth:`session`, and on DuckDB the writer's connection
        kept open for the whole block (:meth:`DuckDBWarehouse.batch`)."""
        with self.session():
            yield

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "%s" else statement.replace("%s", "?")

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A connection inside one transaction: committed on success, rolled back otherwise."""
        with self.connect() as conn:
            conn.execute("begin")
            try:
                yield conn
            except BaseException:
                conn.execute("rollback")
                raise
            conn.execute("commit")

    def execute(self, conn: Any, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        cursor = conn.execute(self.sql(statement), params)
        if cursor.description is None:  # statements without a result set
            return []
        return list(cursor.fetchall())

    def ensure_schema(self) -> None:
        """Create the ``raw`` and ``audit`` schemas and tables (idempotent), and keep the
        audit tables' comments current (sinergi.warehouse.comments)."""
        from sinergi.warehouse.comments import apply_comments

        with self.transaction() as conn:
            for statement in all_ddl():
                conn.execute(statement)
            for statement in added_columns_ddl(self.table_columns(conn)):
                conn.execute(statement)  # a warehouse built before a column was added
            for statement in self.index_ddl(conn):
                conn.execute(statement)
            apply_comments(self, conn)

    def index_ddl(self, conn: Any) -> list[str]:
        """Indexes the engine needs beside the tables (none: DuckDB keeps min/max per row
        group itself)."""
        return []

    def table_columns(self, conn: Any) -> dict[str, set[str]]:
        """Qualified table -> its column names, for the ``raw`` and ``audit`` schemas."""
        rows = self.execute(
            conn,
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('raw', 'audit')",
        )
        found: dict[str, set[str]] = {}
        for schema, table, column in rows:
            found.setdefault(f"{schema}.{table}", set()).add(column)
        return found

    def copy_parquet(self, conn: Any, table: Table, parts: Sequence[Path]) -> int:
        """Append every row of the Parquet ``parts`` (shaped like ``table``); returns the count."""
        raise NotImplementedError


class DuckDBWarehouse(Warehouse):
    placeholder = "?"
    kind = "duckdb"

    def __init__(self, url: str | WarehouseURL) -> None:
        super().__init__(url)
        assert self.location.path is not None
        self.path = self.location.path
        self._held = threading.local()

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection to the file, taken under the writer's lock and closed after the block;
        inside this thread's :meth:`batch`, a cursor of the batch's open database instead."""
        held = getattr(self._held, "connection", None)
        if held is not None:
            cursor = held.cursor()  # DuckDB: a connection of its own to the open database
            try:
                yield cursor
            finally:
                cursor.close()
            return
        with self._opened() as conn:
            yield conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Within the block, this thread's :meth:`connect` calls share one open database.

        Opening a DuckDB file and closing it costs ~20-40 ms (the database instance and its
        catalogue, a checkpoint at close) however little is done in between; a tiny month's
        loads and bookkeeping opened it ~500 times, ~13 s of a 71 s month
        (docs/performance.md, "DuckDB opened once per batch"). The writer's lock is held for
        the whole block, so another process's loads wait for it: only blocks of warehouse
        work take a batch, never judging or report writing, and validation stays parallel. A
        nested ``batch`` shares the outer one.
        """
        if getattr(self._held, "connection", None) is not None:
            yield
            return
        with self._opened() as conn:
            self._held.connection = conn
            try:
                yield
            finally:
                self._held.connection = None

    @contextmanager
    def _opened(self) -> Iterator[Any]:
        import duckdb

        with duckdb_file_lock(self.path):
            conn = duckdb.connect(str(self.path))
            try:
                yield conn
            finally:
                conn.close()

    def copy_parquet(self, conn, table, parts) -> int:
        if not parts:
            return 0
        columns = ", ".join(table.column_names)
        inserted = conn.execute(
            f"insert into {table.qualified} ({columns}) select {columns} from read_parquet(?)",
            [[str(p) for p in parts]],
        ).fetchall()
        return int(inserted[0][0]) if inserted else 0


#: Rows per binary COPY batch: large enough that Arrow's work per batch dominates, small
#: enough that a batch of long quarantined rows stays far below Arrow's 2 GB per array.
COPY_BATCH_ROWS = 32_768


class PostgresWarehouse(Warehouse):
    kind = "postgres"

    def __init__(self, url: str | WarehouseURL) -> None:
        super().__init__(url)
        assert self.location.conninfo is not None
        self.conninfo = self.location.conninfo
        self._sessions = threading.local()

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection in autocommit mode, closed after the block; inside :meth:`session`,
        the session's connection when it is free and idle (left open for the next block)."""
        shared = getattr(self._sessions, "current", None)
        if shared is not None and not shared.busy:
            shared.busy = True
            try:
                yield shared.connection(self.conninfo)
            finally:
                shared.busy = False
            return
        conn = _open_postgres(self.conninfo)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def session(self) -> Iterator[None]:
        """Within the block, this thread's :meth:`connect` calls share one connection.

        A new PostgreSQL session costs ~6 ms and a server process with empty catalogue
        caches; the month's bookkeeping opened one per query: ~360 sessions for a tiny month
        of 38 districts (docs/performance.md, "One session per task"). A block nested in
        another's ``connect`` (the shared connection is in use) gets a connection of its own;
        a shared connection left in a transaction or broken is closed and replaced. The
        connection is closed when the session ends; a nested ``session`` shares the outer one.
        """
        if getattr(self._sessions, "current", None) is not None:
            yield
            return
        shared = _SharedConnection()
        self._sessions.current = shared
        try:
            yield
        finally:
            self._sessions.current = None
            shared.close()

    def index_ddl(self, conn) -> list[str]:
        """The raw tables' BRIN indexes on their period that are missing
        (sinergi.warehouse.schema.raw_period_index_ddl)."""
        names = self.execute(conn, "select indexname from pg_indexes where schemaname = 'raw'")
        return raw_period_index_ddl({name for (name,) in names})

    def copy_parquet(self, conn, table, parts) -> int:
        """Stream the parts through one ``COPY … FROM STDIN``, in PostgreSQL's binary format
        (``sinergi.warehouse.pg_binary``: the server skips parsing text, ~40 % of its COPY
        time) batch by batch, so the server parses one batch while the next is encoded. A part
        whose column types the encoder does not write is sent as CSV instead."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from sinergi.warehouse import pg_binary

        wanted = table.column_names
        schemas = [pq.read_schema(part) for part in parts]
        if not all(
            set(wanted) <= set(schema.names)
            and pg_binary.encodable(pa.schema([schema.field(name) for name in wanted]))
            for schema in schemas
        ):
            return self._copy_parquet_csv(conn, table, parts)
        loaded = 0
        statement = f"copy {table.qualified} ({', '.join(wanted)}) from stdin (format binary)"
        with conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(pg_binary.HEADER)
            for part in parts:
                with pq.ParquetFile(part) as file:
                    for batch in file.iter_batches(COPY_BATCH_ROWS, columns=wanted):
                        copy.write(pg_binary.encode(batch))
                        loaded += batch.num_rows
            copy.write(pg_binary.TRAILER)
        return loaded

    def _copy_parquet_csv(self, conn, table, parts) -> int:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        columns = ", ".join(table.column_names)
        loaded = 0
        statement = f"copy {table.qualified} ({columns}) from stdin (format csv, header true)"
        with conn.cursor() as cursor, cursor.copy(statement) as copy:
            for index, part in enumerate(parts):
                data = pq.read_table(part, columns=table.column_names)
                buffer = io.BytesIO()
                # One COPY stream, one header: only the first part may carry it.
                options = pacsv.WriteOptions(include_header=index == 0)
                pacsv.write_csv(data, buffer, write_options=options)
                copy.write(buffer.getvalue())
                loaded += data.num_rows
        return loaded


def _open_postgres(conninfo: str) -> Any:
    import psycopg

    return psycopg.connect(conninfo, autocommit=True)


def _readable(fd: int) -> bool:
    """An idle session has nothing to read; readable means the server ended it (EOF, or its
    "terminating connection" message)."""
    import select

    poller = select.poll()  # not select.select: a descriptor above 1023 is refused there
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _SharedConnection:
    """The connection of one :meth:`PostgresWarehouse.session`, opened at its first use."""

    def __init__(self) -> None:
        self.busy = False
        self._conn: Any = None

    def connection(self, conninfo: str) -> Any:
        from psycopg.pq import TransactionStatus

        conn = self._conn
        if conn is not None and (
            conn.closed
            or conn.info.transaction_status != TransactionStatus.IDLE
            or _readable(conn.fileno())
        ):
            self.close()  # a block left it in a transaction, or the server ended it
            conn = None
        if conn is None:
            conn = self._conn = _open_postgres(conninfo)
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()  # never raises, also on a connection the server ended
            self._conn = None


def open_warehouse(url: str | WarehouseURL) -> Warehouse:
    """The warehouse for ``url``; ``WarehouseURLError`` (a ValueError) naming the right form."""
    location = url if isinstance(url, WarehouseURL) else parse_warehouse_url(url)
    if location.kind == "duckdb":
        return DuckDBWarehouse(location)
    return PostgresWarehouse(location)
