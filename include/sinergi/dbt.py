"""Run the dbt project in-process against the warehouse named by a URL.

The dbt profile (``dbt_project/profiles.yml``) reads its connection from environment
variables, so one project serves both engines: :func:`dbt_env` turns the pipeline's
``SINERGI_WAREHOUSE`` URL into those variables and :func:`run_dbt` sets them for the duration
of one ``dbtRunner`` invocation, then puts the environment back.

Decisions worth knowing:

* dbt is imported inside :func:`run_dbt` only: importing it costs seconds, and DAG files and
  the CLI import this module at parse time.
* **A parse is reused only when nothing it read changed** (:func:`parse_cache_file`). A full
  parse of this project costs 4-7 s on 2 cores, in every invocation (the build, the docs, a
  model's retry, each month). After a full parse the manifest dbt saved
  (``partial_parse.msgpack``) is kept under a key of every project file's content, the vars
  and the warehouse (without its password); an invocation with the same key hands it to dbt
  (``--partial-parse-file-path``), which then skips parsing (~1 s instead). A changed model
  or threshold is another key, so it is parsed in full, never patched by dbt's file-by-file
  partial parser; dbt still checks the saved manifest's version, vars and connection itself
  before using it. A new warehouse of the same kind gets the parse of another moved to it
  (:mod:`sinergi.dbt_parse_moves`: the database's name rewritten), so a test's scratch
  database or a fresh deployment does not parse in full either.
* ``target_path`` / ``log_path`` default to ``$DBT_TARGET_PATH`` / ``$DBT_LOG_PATH`` when set
  (the production image mounts the project read-only and points them at the work volume),
  else ``dbt_project/target`` and ``dbt_project/logs``. Processes that may run dbt at the same
  time (parallel tests, two warehouses) must pass their own folders.
* The monthly DAG renders one Airflow task per dbt node from ``manifest.json``
  (:func:`manifest_path`); ``python -m sinergi.dbt parse`` writes it (atomically, so a DAG
  parse never reads half a file) and ``python -m sinergi.dbt docs --out DIR`` publishes the
  static dbt docs site.
* Environment variables are process-wide, so invocations are serialised with a lock; run
  concurrent dbt builds in separate processes (Airflow tasks are).
* DuckDB allows one writing process per file. For a DuckDB warehouse the run holds the
  exclusive ``<file>.lock`` that ``sinergi.warehouse.connection`` takes around every DuckDB
  connection, so dbt and district loads wait for each other instead of failing; do not call
  :func:`run_dbt` while holding a warehouse connection yourself. :func:`warehouse_session`
  is that guard on its own, for dbt invocations made by someone else (the cosmos tasks).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sinergi.collector import objects_so_far_frozen
from sinergi.environment import scoped_environment
from sinergi.paths import DBT_PROJECT_DIR
from sinergi.scrub import lettered
from sinergi.warehouse.duckdb_lock import duckdb_file_lock
from sinergi.warehouse.url import parse_warehouse_url

# Every variable dbt_project/profiles.yml reads; all are cleared for a run, then the ones
# the URL defines are set, so nothing from an earlier warehouse or the caller's shell leaks in.
DBT_ENV_VARS: tuple[str, ...] = (
    "SINERGI_DBT_TARGET",
    "SINERGI_DUCKDB_PATH",
    "SINERGI_PG_HOST",
    "SINERGI_PG_PORT",
    "SINERGI_PG_USER",
    "SINERGI_PG_PASSWORD",
    "SINERGI_PG_DBNAME",
)

#: dbt's own variable for the level of its log file (``dbt.log`` under :func:`default_log_dir`).
LOG_FILE_LEVEL_ENV = "DBT_LOG_LEVEL_FILE"
#: Unless ``$DBT_LOG_LEVEL_FILE`` says otherwise, ``dbt.log`` gets what the task log shows (one
#: line per node, warnings, errors with the compiled SQL's path), not dbt's default DEBUG: every
#: statement and connection event of every node, written by one rotating file handler that
#: dbt's threads take turns on. That file logging was 16-23 % of dbt's thread time in a profile
#: of a small build; INFO made the build 9-18 % faster (docs/performance.md). An engineer who
#: needs every statement sets ``DBT_LOG_LEVEL_FILE=debug``.
DEFAULT_LOG_FILE_LEVEL = "info"

#: Resource types a month's ``dbt build`` leaves out. dbt unit tests check the models' SQL on
#: fixed fixture rows, not the month's data: their result can only change with the project,
#: so ``make test`` runs them (``tests/integration/test_dbt_marts.py``) and a month does not
#: pay for them again (14 unit tests, ~4 s of dbt's node time per build; dbt's documentation
#: recommends running them in development and CI only).
NOT_IN_MONTHLY_BUILD: tuple[str, ...] = ("unit_test",)

# Node statuses that mean the node did not do its job. ``warn`` (a test with severity warn)
# and ``skipped`` (downstream of a failure, already reported through that failure) are not.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


def short_node_name(unique_id: str) -> str:
    """``test.sinergi.not_null_x.1a2b`` -> ``not_null_x``; unit tests keep their model."""
    parts = unique_id.split(".")
    if len(parts) < 3:
        return unique_id
    return ".".join(parts[2:]) if parts[0] == "unit_test" else parts[2]


_RUN_LOCK = threading.Lock()

# What `dbt docs generate --static` leaves in the target folder that the docs site needs:
# index.html loads manifest.json and catalog.json; static_index.html has both built in (it
# also works opened from disk or behind a server that serves only one file).
DOCS_FILES: tuple[str, ...] = ("index.html", "static_index.html", "manifest.json", "catalog.json")


def default_target_dir() -> Path:
    """dbt's artifact folder: ``$DBT_TARGET_PATH`` (read-only project mounts) or ``target``."""
    return Path(os.environ.get("DBT_TARGET_PATH") or DBT_PROJECT_DIR / "target")


def default_log_dir() -> Path:
    """dbt's log folder: ``$DBT_LOG_PATH`` or ``dbt_project/logs``."""
    return Path(os.environ.get("DBT_LOG_PATH") or DBT_PROJECT_DIR / "logs")


def manifest_path() -> Path:
    """The ``manifest.json`` the monthly DAG renders its dbt tasks from: ``<target>/dag/``.

    Not dbt's own ``<target>/manifest.json``: every dbt command rewrites that one in place (a
    DAG parse could read half a file) with whatever the last command parsed; this one is
    written only by :func:`write_manifest`, atomically. It follows ``$DBT_TARGET_PATH``, so
    the production stack keeps it on the work volume every Airflow container mounts.
    """
    return default_target_dir() / "dag" / "manifest.json"


def dbt_target(warehouse_url: str) -> str:
    """The ``profiles.yml`` output for a warehouse URL: ``duckdb`` or ``postgres`` (no secrets)."""
    return parse_warehouse_url(warehouse_url).kind


class DbtRunError(RuntimeError):
    """dbt did not complete successfully; ``outcome`` has every node's result."""

    def __init__(self, message: str, outcome: DbtOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


@dataclass(frozen=True)
class NodeResult:
    """What happened to one node (model, seed, test, unit test, ...)."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    execution_time: float
    message: str | None
    failures: int | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES


@dataclass(frozen=True)
class DbtOutcome:
    """The result of one dbt command."""

    args: tuple[str, ...]
    success: bool
    nodes: tuple[NodeResult, ...] = ()
    elapsed_seconds: float | None = None
    error: str | None = None
    target_path: Path | None = None
    # The raw dbt result (RunExecutionResult, Manifest, list of names for ``ls``, ...).
    result: Any = field(default=None, repr=False, compare=False)

    @property
    def failed_nodes(self) -> tuple[NodeResult, ...]:
        return tuple(node for node in self.nodes if node.failed)

    def describe_failure(self) -> str:
        """A short, human-readable account of what failed (no stack trace)."""
        command = " ".join(self.args[:1]) or "dbt"
        lines = [f"dbt {command} failed"]
        if self.error:
            lines.append(f"  {self.error.strip()}")
        for node in self.failed_nodes:
            detail = (node.message or "").strip().replace("\n", " ")
            if len(detail) > 300:
                detail = detail[:297] + "..."
            lines.append(f"  - {node.unique_id} [{node.status}]: {detail}")
        return "\n".join(lines)


def dbt_env(warehouse_url: str) -> dict[str, str]:
    """The environment variables ``profiles.yml`` needs for ``warehouse_url``.

    The URL forms are those of ``sinergi.warehouse.url`` (the one parser): DuckDB's path is
    passed absolute (a relative ``duckdb:rel/path.duckdb`` resolved against the current
    directory), so dbt opens exactly the file the loader writes.
    """
    location = parse_warehouse_url(warehouse_url)
    if location.kind == "duckdb":
        return {"SINERGI_DBT_TARGET": "duckdb", "SINERGI_DUCKDB_PATH": str(location.path)}
    return {
        "SINERGI_DBT_TARGET": "postgres",
        "SINERGI_PG_HOST": location.host,
        "SINERGI_PG_PORT": str(location.port),
        "SINERGI_PG_USER": location.user,
        "SINERGI_PG_PASSWORD": location.password,
        "SINERGI_PG_DBNAME": location.dbname,
    }


@contextmanager
def _duckdb_file_lock(env: Mapping[str, str]) -> Iterator[None]:
    """Hold the DuckDB file's writer lock (``sinergi.warehouse.duckdb_lock``) during the run."""
    if env.get("SINERGI_DBT_TARGET") != "duckdb":
        yield
        return
    with duckdb_file_lock(Path(env["SINERGI_DUCKDB_PATH"])):
        yield


def _close_duckdb_environment() -> None:
    """Close the database dbt-duckdb keeps open in this process after a run.

    dbt-duckdb holds its DuckDB connection in a class-level environment for the life of the
    process; left open, it keeps the file locked for other processes and makes a later
    ``duckdb.connect(path, read_only=True)`` in this process fail ("different
    configuration than existing connections").
    """
    if "dbt.adapters.duckdb.connections" not in sys.modules:
        return  # dbt-duckdb never opened a database in this process
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if environment is not None:
            environment.close()


#: ``work_mem`` of dbt's PostgreSQL sessions unless ``SINERGI_PG_WORK_MEM`` says otherwise.
DEFAULT_PG_WORK_MEM = "128MB"
_WORK_MEM = re.compile(r"[1-9][0-9]*(kB|MB|GB)")


def pg_session_options() -> str:
    """``PGOPTIONS`` for dbt's PostgreSQL sessions: ``work_mem`` from ``SINERGI_PG_WORK_MEM``
    (default :data:`DEFAULT_PG_WORK_MEM`; empty: the server's), then the caller's own
    ``PGOPTIONS``, which win.

    PostgreSQL's default ``work_mem`` (4 MB) makes every sort and hash of a province month
    (2 M roster rows: deduplication, double payments, unique tests) spill to disk in batches;
    at 128 MB dbt's build of the province month took 56 s instead of 77 s
    (docs/performance.md). It is a limit per sort or hash step of a query, not per session:
    dbt's two threads may hold a few of them at once on the database server.
    """
    work_mem = os.environ.get("SINERGI_PG_WORK_MEM", DEFAULT_PG_WORK_MEM).strip()
    if work_mem and not _WORK_MEM.fullmatch(work_mem):
        raise ValueError(
            f"SINERGI_PG_WORK_MEM={work_mem!r}: use a size such as 64MB, 512MB or 1GB (kB, MB "
            "or GB), or leave it empty for the database server's own setting"
        )
    own = os.environ.get("PGOPTIONS", "").strip()
    return " ".join(part for part in (f"-c work_mem={work_mem}" if work_mem else "", own) if part)


@contextmanager
def warehouse_session(warehouse_url: str) -> Iterator[dict[str, str]]:
    """Guard one in-process dbt invocation on ``warehouse_url``; yields the profile variables.

    Serialises dbt invocations in this process, holds the DuckDB file's exclusive lock for a
    DuckDB warehouse (one writer per file, shared with the district loads) and closes the
    database dbt-duckdb keeps open afterwards. The yielded variables are the profile's and, for
    PostgreSQL, ``PGOPTIONS`` (:func:`pg_session_options`). The caller passes them to dbt
    (:func:`run_dbt` puts them in ``os.environ``; cosmos passes them to its own invocation).
    """
    env = dbt_env(warehouse_url)
    if env["SINERGI_DBT_TARGET"] == "postgres":
        env["PGOPTIONS"] = pg_session_options()
    with _RUN_LOCK, _duckdb_file_lock(env):
        try:
            yield env
        finally:
            if env["SINERGI_DBT_TARGET"] == "duckdb":
                _close_duckdb_environment()


def _accepted_options(cli: Any, args: list[str]) -> set[str]:
    """Option names the dbt (sub)command named by ``args`` accepts (click introspection)."""
    command = cli
    for word in args:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        command = sub
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


def _node_results(result: Any) -> tuple[NodeResult, ...]:
    nodes = []
    for item in getattr(result, "results", None) or ():
        node = getattr(item, "node", None)
        status = getattr(item, "status", "")
        nodes.append(
            NodeResult(
                unique_id=getattr(node, "unique_id", "?"),
                name=getattr(node, "name", "?"),
                resource_type=str(getattr(node, "resource_type", "?")),
                status=str(getattr(status, "value", status)),
                execution_time=float(getattr(item, "execution_time", 0.0) or 0.0),
                message=getattr(item, "message", None),
                failures=getattr(item, "failures", None),
            )
        )
    return tuple(nodes)


def run_dbt(
    args: list[str],
    warehouse_url: str,
    *,
    vars: Mapping[str, Any] | None = None,
    target_path: str | os.PathLike[str] | None = None,
    log_path: str | os.PathLike[str] | None = None,
    reuse_parse: bool = True,
    raise_on_failure: bool = True,
    manifest: Any = None,
) -> DbtOutcome:
    """Run ``dbt <args>`` (e.g. ``["build"]``, ``["build", "--select", "marts"]``) in-process.

    Returns the outcome with one :class:`NodeResult` per executed node. When dbt fails (a
    node errors or fails, or dbt cannot even start: bad project, no connection) and
    ``raise_on_failure`` is true, raises :class:`DbtRunError` whose message lists the failing
    nodes; the outcome is attached to it. ``reuse_parse=False`` always parses in full.
    ``manifest``: a dbt ``Manifest`` of the same project, vars and warehouse (the result of a
    ``parse``); dbt then does not parse at all.
    """
    if not args:
        raise ValueError("run_dbt needs a dbt command, e.g. ['build']")
    dbt_env(warehouse_url)  # a bad URL fails here, before dbt is imported
    target_dir = Path(target_path) if target_path else default_target_dir()
    log_dir = Path(log_path) if log_path else default_log_dir()

    from dbt.cli.main import cli, dbtRunner  # heavy: only when dbt actually runs

    from sinergi import dbt_connections, dbt_events, dbt_templates

    if dbt_target(warehouse_url) == "postgres":
        dbt_connections.install()  # a session per thread, not per node
    dbt_templates.install()  # each template compiled once, not in every process
    dbt_events.install()  # no message built for a debug event nobody writes
    templates = dbt_templates.cache_file(default_target_dir())
    dbt_templates.load(templates)

    options: list[tuple[str, ...]] = [
        ("--project-dir", str(DBT_PROJECT_DIR)),
        ("--profiles-dir", str(DBT_PROJECT_DIR)),
        ("--target-path", str(target_dir)),
        ("--log-path", str(log_dir)),
        ("--no-version-check",),  # no network from workers
        ("--no-send-anonymous-usage-stats",),
        ("--no-use-colors",),
    ]
    if not os.environ.get(LOG_FILE_LEVEL_ENV):
        options.append(("--log-level-file", DEFAULT_LOG_FILE_LEVEL))
    if vars:
        options.append(("--vars", json.dumps(dict(vars))))
    cache = parse_cache_file(warehouse_url, vars) if reuse_parse else None

    started = time.time()
    with (
        warehouse_session(warehouse_url) as env,
        scoped_environment(env, clear=DBT_ENV_VARS),
        objects_so_far_frozen(),  # dbt's modules and the manifest: see sinergi.collector
    ):
        if cache is not None and (cache.is_file() or _moved_parse(cache)):
            options += [("--partial-parse",), ("--partial-parse-file-path", str(cache))]
        else:
            options.append(("--no-partial-parse",))
        accepted = _accepted_options(cli, args)
        cli_args = [*args]
        for option in options:
            if option[0] in accepted:  # e.g. `dbt debug` has no --target-path
                cli_args += option
        res = dbtRunner(manifest=manifest).invoke(cli_args)
        dbt_templates.save(templates)
        if cache is not None:  # kept when dbt parsed in full (none kept, or the kept one refused)
            _keep_parse(target_dir / PARTIAL_PARSE_FILE, cache, started)

    result = res.result
    error = None
    if res.exception is not None:
        error = f"{type(res.exception).__name__}: {res.exception}"
    outcome = DbtOutcome(
        args=tuple(args),
        success=bool(res.success),
        nodes=_node_results(result),
        elapsed_seconds=getattr(result, "elapsed_time", None),
        error=error,
        target_path=target_dir,
        result=result,
    )
    if raise_on_failure and not outcome.success:
        raise DbtRunError(outcome.describe_failure(), outcome)
    return outcome


#: The manifest the last whole-project build of this process ran on, compiled by it, under its
#: :func:`docs_key`. ``sinergi run`` (``dag.test()``) builds and then generates the docs in one
#: process: the docs reuse the build's compiled SQL instead of compiling every node again.
_BUILT_MANIFEST: dict[str, Any] = {}


def build_project(args: list[str], warehouse_url: str, *, vars: Mapping[str, Any]) -> DbtOutcome:
    """``dbt <args>`` on the whole project (a ``build``), never raising for a failed node.

    The project is parsed first (a kept parse: :func:`parse_cache_file`) and the build runs on
    that manifest, so the manifest with every node's compiled SQL stays in this process after
    a successful build; :func:`generate_docs` then writes the site from it without compiling
    the 350 nodes again (2.7-5 s of every docs generation on a new warehouse). When the parse
    fails, the build runs as usual and reports the project's error.
    """
    _BUILT_MANIFEST.clear()
    parsed = run_dbt(["parse"], warehouse_url, vars=vars, raise_on_failure=False)
    manifest = parsed.result if parsed.success else None
    outcome = run_dbt(args, warehouse_url, vars=vars, manifest=manifest, raise_on_failure=False)
    if manifest is not None and outcome.success:
        _BUILT_MANIFEST[docs_key(warehouse_url, vars)] = manifest
    return outcome


#: The file dbt saves its parsed manifest in, in its target folder (always, after a parse).
PARTIAL_PARSE_FILE = "partial_parse.msgpack"

#: Saved parses kept per target folder (one per warehouse and project version in use).
PARSE_CACHE_SIZE = 8


def parse_cache_file(warehouse_url: str, vars: Mapping[str, Any] | None = None) -> Path:
    """Where the parse of the project for ``warehouse_url`` and ``vars`` is kept:
    ``<target>/parse-cache/<project>/<warehouse>.msgpack``. ``<project>`` covers the kind of
    warehouse, the vars and every project file's content; ``<warehouse>`` the warehouse
    without its password. The parses of one folder differ only by their warehouse, so one can
    be moved to another (:func:`_moved_parse`)."""
    digest = hashlib.sha256(f"target:{dbt_target(warehouse_url)}\n".encode())
    hash_project(digest, vars or {})
    where = hashlib.sha256(_warehouse_identity(warehouse_url).encode()).hexdigest()
    return (
        default_target_dir()
        / "parse-cache"
        / lettered(digest.hexdigest())
        / f"{lettered(where)}.msgpack"
    )


def _moved_parse(cache: Path) -> bool:
    """Whether a parse kept for another warehouse of ``cache``'s folder (the same project and
    vars) was moved to ``cache`` for the warehouse of the profile in ``os.environ``
    (:mod:`sinergi.dbt_parse_moves`: ~0.2 s instead of a full parse, ~6 s on 2 cores)."""
    from sinergi.dbt_parse_moves import move_parse

    try:
        kept = sorted(cache.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return False
    if not kept:
        return False
    return move_parse(kept[-1], cache, project_dir=DBT_PROJECT_DIR, environ=dict(os.environ))


def _keep_parse(saved: Path, cache: Path, started: float) -> None:
    """Keep the manifest dbt saved during this invocation (``saved``, rewritten after every
    full parse) as ``cache``, atomically, if it is this warehouse's: processes on other
    warehouses may share the target folder (the test suite's workers do), and the last parse
    written there is then not always this one's. The oldest kept parses beyond
    :data:`PARSE_CACHE_SIZE` are removed. Best effort: without it the next invocation parses.
    Called with the invocation's profile variables in ``os.environ``."""
    from sinergi.dbt_parse_moves import parse_is_for

    try:
        if not saved.is_file() or saved.stat().st_mtime < started:
            return  # dbt did not parse (it failed first): nothing of this invocation to keep
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        try:
            shutil.copyfile(saved, partial)
            if not parse_is_for(partial, project_dir=DBT_PROJECT_DIR, environ=dict(os.environ)):
                return  # another process's parse: the next invocation parses again
            os.replace(partial, cache)
        finally:
            partial.unlink(missing_ok=True)
        kept = sorted(cache.parent.parent.glob("*/*.msgpack"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-PARSE_CACHE_SIZE]:
            old.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                old.parent.rmdir()  # the folder of a project version no longer kept
    except OSError as problem:
        _log.warning(
            "dbt parse not kept for reuse (%s): the next dbt command parses again", problem
        )


# Folders and files whose change changes the dbt graph (what ``dbt parse`` reads).
_PROJECT_SOURCES: tuple[str, ...] = (
    "dbt_project.yml",
    "models",
    "seeds",
    "macros",
    "data-tests",
    "snapshots",
    "analyses",
)


def newer_project_file(manifest: Path) -> Path | None:
    """A dbt project file changed after ``manifest`` was written, or None (also when missing).

    A stat of ~100 files: cheap enough for DAG parsing, so a stale manifest (a model added
    since the last ``parse``) is noticed instead of silently skipping the new model.
    """
    try:
        written = manifest.stat().st_mtime
    except OSError:
        return None
    for path in project_files():
        if path.stat().st_mtime > written:
            return path
    return None


def project_files() -> Iterator[Path]:
    """Every file of the dbt project that dbt reads (models, seeds, macros, tests, config)."""
    for name in _PROJECT_SOURCES:
        root = DBT_PROJECT_DIR / name
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.is_file())


def write_manifest(
    warehouse_url: str,
    manifest: str | os.PathLike[str] | None = None,
    *,
    vars: Mapping[str, Any] | None = None,
) -> Path:
    """``dbt parse`` into ``manifest`` (default :func:`manifest_path`), replaced atomically.

    dbt parses in a scratch folder next to the destination and the finished file is moved
    into place, so a DAG parse running at the same moment reads the old or the new manifest,
    never half of one. No warehouse connection is opened; the warehouse URL only selects the
    profile output. ``vars``: those the month's build passes (``Settings.dbt_vars``); the
    parse is then kept under the build's own key (:func:`parse_cache_file`), so the first
    build after ``make setup`` skips its full parse (4-5 s) instead of parsing again.
    """
    url = warehouse_url
    dest = Path(manifest) if manifest else manifest_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".parse-", dir=dest.parent) as scratch:
        target = Path(scratch) / "target"
        run_dbt(["parse"], url, vars=vars, target_path=target, log_path=default_log_dir())
        os.replace(target / "manifest.json", dest)
    return dest


def ensure_manifest(
    warehouse_url: str,
    manifest: str | os.PathLike[str] | None = None,
    *,
    vars: Mapping[str, Any] | None = None,
) -> Path:
    """:func:`write_manifest` when the manifest is missing or older than the project."""
    dest = Path(manifest) if manifest else manifest_path()
    if not dest.is_file() or newer_project_file(dest) is not None:
        write_manifest(warehouse_url, dest, vars=vars)
    return dest


#: Written into the published docs site: what it was generated from (see :func:`docs_key`).
DOCS_KEY_NAME = ".sinergi-docs-key"

_log = logging.getLogger(__name__)


def docs_key(warehouse_url: str, vars: Mapping[str, Any] | None = None) -> str:
    """What the docs site depends on: the dbt project's files, the vars and the warehouse.

    The site is the manifest (the project, rendered with the vars) and the catalog (the
    columns of what the build made: fixed by the project's contracts), so the same key means
    the same site. The warehouse counts without its password (only the digest is stored).
    """
    digest = hashlib.sha256(f"warehouse:{_warehouse_identity(warehouse_url)}\n".encode())
    hash_project(digest, vars or {})
    return lettered(digest.hexdigest())


def _warehouse_identity(warehouse_url: str) -> str:
    """The warehouse URL without its user's password."""
    parts = urlsplit(warehouse_url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"


def hash_project(digest, vars: Mapping[str, Any]) -> None:
    """Feed the dbt vars and every project file (name and content) into ``digest``."""
    for name, value in sorted(vars.items()):
        digest.update(f"var:{name}={value}\n".encode())
    for path in project_files():
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def generate_docs(
    warehouse_url: str,
    out_dir: str | os.PathLike[str],
    *,
    vars: Mapping[str, Any] | None = None,
    force: bool = False,
) -> Path:
    """``dbt docs generate --static`` and publish the site to ``out_dir``; returns its index.

    The catalog is read from the warehouse (table and column types of what the last build
    made; no row data). dbt writes to a scratch target folder, never over the manifest the
    DAG is rendered from; the new site replaces the old one in a single rename. A site
    already generated from the same project, vars and warehouse (:func:`docs_key`) is kept
    as it is, unless ``force``: a month's new data changes no page of it (8-30 s saved).
    """
    out = Path(out_dir)
    key = docs_key(warehouse_url, vars)
    stamp = out / DOCS_KEY_NAME
    current = (out / "index.html").exists() and stamp.exists()
    if not force and current and stamp.read_text(encoding="ascii").strip() == key:
        _log.info("dbt docs: project, vars and warehouse unchanged; %s kept", out)
        return out / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".dbt-docs-", dir=out.parent) as scratch:
        target = Path(scratch) / "target"
        _docs_generate(warehouse_url, vars, target, _BUILT_MANIFEST.get(key))
        site = Path(scratch) / "site"
        site.mkdir()
        for name in DOCS_FILES:
            shutil.copy2(target / name, site / name)
        (site / DOCS_KEY_NAME).write_text(key + "\n", encoding="ascii")
        old = Path(scratch) / "old"
        if out.exists():
            os.replace(out, old)
        os.replace(site, out)
    return out / "index.html"


def _docs_generate(
    warehouse_url: str, vars: Mapping[str, Any] | None, target: Path, built: Any
) -> None:
    """``dbt docs generate --static`` into ``target``. With ``built`` (the manifest a build of
    the same project, vars and warehouse compiled in this process) dbt does not compile: the
    site's ``manifest.json`` is that manifest, written here (dbt writes it only when it
    compiles), and dbt reads the catalog and writes the static page around it."""
    if built is None:
        run_dbt(
            ["docs", "generate", "--static"],
            warehouse_url,
            vars=vars,
            target_path=target,
            log_path=default_log_dir(),
        )
        return
    from dbt.parser.manifest import write_manifest

    target.mkdir(parents=True)
    write_manifest(built, str(target))
    run_dbt(
        ["docs", "generate", "--static", "--no-compile"],
        warehouse_url,
        vars=vars,
        target_path=target,
        log_path=default_log_dir(),
        manifest=built,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m sinergi.dbt parse|docs``: the manifest for the DAG, the docs for auditors."""
    parser = argparse.ArgumentParser(prog="python -m sinergi.dbt", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    parse = sub.add_parser("parse", help="write manifest.json for the monthly DAG")
    parse.add_argument(
        "--manifest", help="default: <target path>/dag/manifest.json (the DAG reads it there)"
    )
    parse.add_argument("--if-stale", action="store_true", help="only if missing or out of date")
    docs = sub.add_parser("docs", help="generate the static dbt docs site")
    docs.add_argument("--out", required=True, help="folder for index.html, catalog.json, ...")
    for command in (parse, docs):
        command.add_argument("--warehouse", help="default: $SINERGI_WAREHOUSE")
    args = parser.parse_args(argv)
    try:
        from sinergi.config import load_settings

        settings = load_settings()
        url = args.warehouse or settings.warehouse_url
        if args.command == "parse":
            # parsed with the build's vars: the parse kept is the one the month's build reuses
            vars = settings.dbt_vars
            if args.if_stale:
                print(f"manifest: {ensure_manifest(url, args.manifest, vars=vars)}")
            else:
                print(f"wrote {write_manifest(url, args.manifest, vars=vars)}")
        else:
            print(f"wrote {generate_docs(url, args.out, vars=settings.dbt_vars, force=True)}")
    except DbtRunError as problem:
        print(str(problem), file=sys.stderr)
        return 1
    except ValueError as problem:
        print(f"sinergi.dbt: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
