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
* Logging: a worker's ``sinergi`` lines (scrubbed like every ``sinergi`` line) go to the
  inherited stderr, which the task log captures.
* Failure: a piece that raises is reported for that piece only; a worker that dies (killed,
  out of memory) breaks the pool, and every piece not finished by then is reported failed.
  The caller decides what a failed piece means; nothing raises out of :func:`run_pieces`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
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
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_logging) as pool:
        futures = {pool.submit(function, *args): key for key, args in pieces}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result(), None
            except Exception as problem:  # noqa: BLE001 - reported per piece, the caller decides
                yield futures[future], None, problem


def _worker_logging() -> None:
    """A worker's logging: ``sinergi`` lines at INFO, everything else at WARNING, on stderr."""
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s [worker %(process)d]: %(message)s",
    )
    logging.getLogger("sinergi").setLevel(logging.INFO)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
