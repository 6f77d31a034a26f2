"""dbt's Jinja templates compiled to Python once, not again in every process and node.

dbt renders every node, hook and macro through a Jinja template that it compiles from source
(parse, generate Python, ``compile()``) each time it needs one: its template cache lives for
one invocation and each new Jinja environment starts empty, so a ``dbt build`` of this
project compiled ~850 templates, ~40 % of them a second time within the same build, and every
Airflow task, test and month compiled them all again. On the tiny month that was ~1.6 s of
the ~14 s of Python a build costs (docs/performance.md "dbt's templates compiled once").

:func:`install` wraps ``compile`` of dbt's Jinja environment class (dbt-common's
``MacroFuzzEnvironment``, which its native-types environment extends): the code object of a
template is kept under a digest of what decides it — the environment's class, extensions and
filters, the template's name and file name, and its source — and handed back the next time.
:func:`load` reads the code objects an earlier process kept, :func:`save` writes them back
(``marshal``, atomically) after an invocation; ``sinergi.dbt.run_dbt`` calls both. The file is
per Python bytecode version, Jinja and dbt-common version (:func:`cache_file`): a new version
of any of them starts an empty file and the old one is removed. A file that cannot be read is
ignored (dbt compiles as before) and replaced. Compiling the same source in the same
environment always gives the same code, so a build with the kept code objects renders exactly
what one without them does (``tests/test_dbt_templates.py``).

The file lives in dbt's target folder beside the kept parse: it holds Python code that the
process runs, so it has the same trust as the project and its virtualenv (a folder only the
pipeline writes). Its size is bounded: beyond :data:`MAX_KEPT` entries only the templates the
writing process used are kept. ``$DBT_MACRO_DEBUGGING`` (dbt's debugging of macro code) turns
the wrapper off, since dbt then compiles to files of its own.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import marshal
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

from sinergi.library_wraps import wrap_once

log = logging.getLogger(__name__)

#: Code objects kept in the file at most; beyond it a process keeps only what it used.
MAX_KEPT = 5000


@dataclass
class _Store:
    """The code objects known to this process, and what it did with them."""

    codes: dict[bytes, CodeType] = field(default_factory=dict)
    used: set[bytes] = field(default_factory=set)  # looked up or compiled by this process
    loaded: set[Path] = field(default_factory=set)  # files already read by this process
    hits: int = 0
    compiled: int = 0
    unsaved: int = 0  # compiled (or a file found unreadable) since the last save
    lock: threading.Lock = field(default_factory=threading.Lock)


_store = _Store()


def install() -> None:
    """Wrap ``compile`` of dbt's Jinja environment (once per process; idempotent)."""
    from dbt_common.clients.jinja import MacroFuzzEnvironment

    wrap_once(MacroFuzzEnvironment, "compile", _kept)


def stats() -> dict[str, int]:
    """Templates handed back (``hits``) and compiled (``compiled``) by this process so far."""
    return {"hits": _store.hits, "compiled": _store.compiled}


def cache_file(target_dir: Path) -> Path:
    """``<target>/template-cache/<versions>.marshal``: marshal's format and the generated code
    change with Python's bytecode, Jinja's code generator and dbt-common's extensions."""
    versions = "\n".join(
        [
            importlib.util.MAGIC_NUMBER.hex(),
            importlib.metadata.version("jinja2"),
            importlib.metadata.version("dbt-common"),
        ]
    )
    name = hashlib.sha256(versions.encode()).hexdigest()[:20]
    return target_dir / "template-cache" / f"{name}.marshal"


def load(path: Path) -> None:
    """Add the code objects kept in ``path`` (once per process and file; missing: nothing)."""
    store = _store
    with store.lock:
        if path in store.loaded:
            return
        store.loaded.add(path)
    try:
        with path.open("rb") as handle:
            kept = marshal.load(handle)
    except FileNotFoundError:
        return
    except (OSError, EOFError, ValueError, TypeError) as problem:
        kept = problem
    if not isinstance(kept, dict):
        reason = kept if isinstance(kept, Exception) else f"not a table of code: {type(kept)}"
        log.warning("dbt's kept templates in %s not read (%s): compiled again", path, reason)
        store.unsaved += 1  # written anew after this invocation
        return
    with store.lock:
        for key, code in kept.items():
            if isinstance(key, bytes) and isinstance(code, CodeType):
                store.codes.setdefault(key, code)


def save(path: Path) -> None:
    """Write the code objects known to this process to ``path`` if it compiled any since it
    last wrote (atomically: concurrent processes each write a whole file; the last one stays).
    Other versions' files in the folder are removed. Best effort: a failure costs the next
    process its compiling, nothing else."""
    store = _store
    with store.lock:
        if not store.unsaved:
            return
        keys = list(store.codes)
        if len(keys) > MAX_KEPT:
            keys = [key for key in keys if key in store.used]
        kept = {key: store.codes[key] for key in keys[:MAX_KEPT]}
        store.unsaved = 0
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(marshal.dumps(kept))
        os.replace(partial, path)
        for other in path.parent.glob("*.marshal"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError as problem:
        log.warning("dbt's templates not kept for reuse (%s)", problem)
    finally:
        partial.unlink(missing_ok=True)


def _environment_key(environment: Any) -> bytes:
    """What of the environment the generated code depends on, as bytes: its class, extensions,
    filters, tests and the options Jinja's code generator reads."""
    kind = type(environment)
    parts = [
        f"{kind.__module__}.{kind.__qualname__}",
        ",".join(sorted(environment.extensions)),
        ",".join(sorted(environment.filters)),
        ",".join(sorted(environment.tests)),
        repr(
            (
                environment.optimized,
                _named(environment.autoescape),
                _named(environment.finalize),
                environment.block_start_string,
                environment.variable_start_string,
                environment.comment_start_string,
                environment.line_statement_prefix,
                environment.trim_blocks,
                environment.lstrip_blocks,
                environment.newline_sequence,
                environment.keep_trailing_newline,
            )
        ),
    ]
    return "\x00".join(parts).encode()


def _named(setting: Any) -> str:
    """A setting that may be a function (``autoescape``, ``finalize``), by its name."""
    if callable(setting):
        return f"{getattr(setting, '__module__', '')}.{getattr(setting, '__qualname__', '')}"
    return repr(setting)


def _kept(original: Callable[..., Any]) -> Callable[..., Any]:
    def compile(
        self: Any,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        from dbt_common.clients.jinja import MACRO_DEBUGGING

        if raw or MACRO_DEBUGGING or not isinstance(source, str):
            return original(self, source, name, filename, raw, defer_init)
        digest = hashlib.sha256(_environment_key(self))
        digest.update(repr((name, filename, defer_init)).encode())
        digest.update(source.encode("utf-8", "surrogatepass"))
        key = digest.digest()
        store = _store
        code = store.codes.get(key)
        if code is None:
            code = original(self, source, name, filename, raw, defer_init)
            with store.lock:
                store.codes[key] = code
                store.compiled += 1
                store.unsaved += 1
                store.used.add(key)
        else:
            with store.lock:
                store.hits += 1
                store.used.add(key)
        return code

    return compile
