"""Worker processes for the CPU-bound parts of a month task, up to the cores.

A month's task (``judge``, ``publish_reports``) runs in one process, so pure-Python work on
independent pieces (a dataset's files, a district's feedback) used one core of two. These
pieces go to a pool of *spawned* processes instead:

* Why spawn, not fork: the task's process holds threads (the in-process execution API's
  event loop, database pools) and, under a scheduler, a socket to its supervisor that carries
  its log lines; a forked child could inherit a held lock or write into that socket. A spawned
  worker starts a fresh interpreter and imports what its function needs (for the judge ~3-5 s
  of pandas and Great Expectations), so callers use workers only when the work is large
  enough to pay for that (each decides with its own threshold).
* How many: ``SINERGI_WORKER_PROCESSES`` (default: the cores); 0 or 1 keeps everything in
  the task's process.
* Logging: a worker's ``sinergi`` lines (scrubbed like every ``sinergi`` line) travel back
  to the task's process and are logged there, at their level, into the task's log.
* Under Celery the task's process is a daemonic billiard process, which ``multiprocessing``
  refuses to start children from; :func:`_spawnable` handles it, and keeps the children from
  running the parent's ``__main__`` (the ``airflow`` command) again.
* Failure: a piece that raises is reported for that piece only; a worker that dies (killed,
  out of memory) breaks the pool, and every piece not finished by then is reported failed.
  The caller decides what a failed piece means. Only a pool that cannot start its processes
  at all raises out of :func:`run_pieces` (the task then fails and retries, visibly).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from logging.handlers import QueueHandler, QueueListener
from typing import Any

PROCESSES_ENV = "SINERGI_WORKER_PROCESSES"


def env_count(name: str, default: int) -> int:
    """A whole number of 0 or more from the environment variable ``name``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as bad:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from bad
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, not {value}")
    return value


def processes_wanted() -> int:
    """``SINERGI_WORKER_PROCESSES``, by default the cores."""
    return env_count(PROCESSES_ENV, os.cpu_count() or 1)


def run_pieces(
    function: Callable[..., Any], pieces: list[tuple[Any, tuple]], workers: int
) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """Call ``function(*args)`` for each ``(key, args)`` of ``pieces`` in ``workers`` spawned
    processes, submitted in the given order (put the largest first); yields ``(key, result,
    None)`` or ``(key, None, the exception)`` as each finishes."""
    context = multiprocessing.get_context("spawn")
    records = context.Queue()
    relay = QueueListener(records, _Relay())
    relay.start()
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_worker_logging, initargs=(records,)
        ) as pool:
            with _spawnable():  # the pool starts its processes at the first submit
                futures = {pool.submit(function, *args): key for key, args in pieces}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result(), None
                except Exception as problem:  # noqa: BLE001 - per piece: the caller decides
                    yield futures[future], None, problem
    finally:
        relay.stop()
        records.close()


@contextmanager
def _spawnable() -> Iterator[None]:
    """Let this process start workers that import only what their function needs.

    *The main module.* A spawned child first runs the parent's ``__main__`` again (as
    ``__mp_main__``): under Airflow that is the ``airflow`` command, whose import in a worker
    starts Airflow's settings and ORM without the task's connection settings, and fails; under
    any script without an ``if __name__ == "__main__"`` guard it would run the script again.
    The workers' functions live in ``sinergi`` modules, so while the pool starts its processes
    ``__main__`` is an empty module, and the children import nothing of it.

    *Celery.* A task on a Celery worker runs in a process forked from Celery's pool (billiard),
    which leaves two things ``multiprocessing`` refuses when starting a child: the *daemon* flag
    ("daemonic processes are not allowed to have children": a daemon's children are orphaned
    when it is killed) and billiard's own authentication key type, which only billiard may
    pickle ("Pickling an AuthenticationString object is disallowed"). The pool's workers exit
    by themselves when this process goes away (their task pipe closes), and the key's bytes are
    the same, so both are set to ``multiprocessing``'s while the pool starts, and put back.
    """
    from multiprocessing.process import AuthenticationString

    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    config = multiprocessing.current_process()._config  # what .daemon and .authkey read
    saved = {name: config[name] for name in ("daemon", "authkey") if name in config}
    config["daemon"] = False
    if "authkey" in saved and type(saved["authkey"]) is not AuthenticationString:
        config["authkey"] = AuthenticationString(bytes(saved["authkey"]))
    try:
        yield
    finally:
        for name in ("daemon", "authkey"):
            config.pop(name, None)
        config.update(saved)
        sys.modules["__main__"] = main


class _Relay(logging.Handler):
    """Hands a worker's log record to the same-named logger of this process, so it lands in
    the task's log at its own level (a worker's stderr would show every line as an error)."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(record.name).handle(record)


def _worker_logging(records) -> None:
    """A worker's logging: ``sinergi`` lines at INFO, everything else at WARNING, sent to the
    task's process (already scrubbed: ``sinergi.logscrub`` runs in the worker too)."""
    root = logging.getLogger()
    root.handlers[:] = [QueueHandler(records)]
    root.setLevel(logging.WARNING)
    logging.getLogger("sinergi").setLevel(logging.INFO)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
