"""The warehouse URL (``SINERGI_WAREHOUSE`` / ``--warehouse``), parsed in exactly one place.

Every module that needs to know where the warehouse is (the connection, dbt's profile
variables, the settings) asks :func:`parse_warehouse_url`, so the forms below mean the same
thing everywhere and a mistake is reported once, with the right form in the message.

DuckDB, written like ``file:`` URLs (the path is taken literally, no percent-escapes):

* ``duckdb:///srv/sinergi/warehouse.duckdb`` — three slashes, then an absolute path
  (``/srv/sinergi/warehouse.duckdb``). Four slashes (``duckdb:////srv/…``, what
  ``f"duckdb:///{absolute_path}"`` produces) name the same absolute path.
* ``duckdb:data/warehouse.duckdb`` — no slash after the colon: a path relative to the
  current directory, made absolute when parsed so dbt and the loader open the same file.

These cannot be confused: a path that starts with ``/`` after the two slashes of an empty
host is absolute, and a relative path has no slash right after ``duckdb:``. Everything else
is refused rather than guessed: ``duckdb://host/x`` (a host), ``duckdb:/x`` (one slash), no
path, a path that ends in ``/`` and ``:memory:`` (nothing would persist between tasks).

PostgreSQL: ``postgresql://user:password@host:port/dbname`` (also ``postgres://`` and
``postgresql+psycopg://``), percent-escapes decoded, ``?host=/socket/dir`` honoured, user
``postgres``, host ``localhost`` and port 5432 by default. The database name is required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

DUCKDB_FORMS = (
    "duckdb:///absolute/path/warehouse.duckdb (absolute) or "
    "duckdb:relative/path/warehouse.duckdb (relative to the current directory)"
)
POSTGRES_FORM = "postgresql://user:password@host:5432/dbname"


class WarehouseURLError(ValueError):
    """A warehouse URL that names no usable warehouse; the message shows the right form."""


@dataclass(frozen=True)
class WarehouseURL:
    """Where the warehouse is. ``str()`` and ``repr()`` never show the password."""

    kind: Literal["duckdb", "postgres"]
    url: str = field(repr=False)  # as given: may hold a password, never log it
    path: Path | None = None  # DuckDB: the absolute database file
    conninfo: str | None = field(default=None, repr=False)  # PostgreSQL: a libpq URL
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = field(default="", repr=False)
    dbname: str = ""

    @property
    def redacted(self) -> str:
        """The URL fit for a log line or a message (password replaced by ``***``)."""
        return redact(self.url)

    def __str__(self) -> str:
        return self.redacted


def parse_warehouse_url(url: str) -> WarehouseURL:
    """Parse ``url`` into a :class:`WarehouseURL`; :class:`WarehouseURLError` if unusable."""
    text = url.strip()
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme == "duckdb":
        return _parse_duckdb(text)
    if scheme.split("+", 1)[0] in ("postgresql", "postgres"):
        return _parse_postgres(text)
    raise WarehouseURLError(
        f"SINERGI_WAREHOUSE {redact(text)!r} is not a warehouse URL: use {DUCKDB_FORMS}, "
        f"or {POSTGRES_FORM}"
    )


def duckdb_url(path: str | Path) -> str:
    """The canonical URL of a DuckDB file: ``duckdb:///abs/path`` (relative paths made absolute)."""
    return f"duckdb://{Path(path).absolute()}"


def _parse_duckdb(url: str) -> WarehouseURL:
    rest = url.split(":", 1)[1]
    if rest.startswith("////") and not rest.startswith("/////"):
        raw = rest[3:]  # duckdb:////abs -> /abs (f"duckdb:///{absolute_path}")
    elif rest.startswith("///") and not rest.startswith("////"):
        raw = rest[2:]  # duckdb:///abs -> /abs
    elif rest.startswith("//") and not rest.startswith("///"):
        host = rest[2:].split("/", 1)[0]
        raise WarehouseURLError(
            f"DuckDB URL {url!r} names a host ({host!r}); a DuckDB warehouse is a local file: "
            f"use {DUCKDB_FORMS}"
        )
    elif rest.startswith("/"):
        raise WarehouseURLError(
            f"DuckDB URL {url!r} is ambiguous (one or more than four slashes): use {DUCKDB_FORMS}"
        )
    else:
        raw = rest
    if not raw.strip() or raw.endswith("/") or raw in (":memory:", "/:memory:"):
        raise WarehouseURLError(
            f"DuckDB URL {url!r} names no database file (empty, a folder, or in-memory): "
            f"use {DUCKDB_FORMS}"
        )
    return WarehouseURL(kind="duckdb", url=url, path=Path(raw).absolute())


def _parse_postgres(url: str) -> WarehouseURL:
    parts = urlsplit(url)
    conninfo = parts._replace(scheme="postgresql").geturl()
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise WarehouseURLError(
            f"PostgreSQL URL {redact(url)!r} names no database: use {POSTGRES_FORM}"
        )
    try:
        port = parts.port or 5432
    except ValueError:
        raise WarehouseURLError(
            f"PostgreSQL URL {redact(url)!r} has an invalid port: use {POSTGRES_FORM}"
        ) from None
    host = unquote(parts.hostname or "") or parse_qs(parts.query).get("host", ["localhost"])[0]
    return WarehouseURL(
        kind="postgres",
        url=url,
        conninfo=conninfo,
        host=host,
        port=port,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        dbname=dbname,
    )


def redact(url: str) -> str:
    """``url`` without its password, fit for a log line (any scheme; never raises)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    if not password:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hostport}").geturl()


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def redact_text(text: str) -> str:
    """Free text (an error message, a log line) with every URL in it passed through ``redact``."""
    return _URL.sub(lambda found: redact(found.group(0)), text)
