"""Keeping Python's garbage collector off the objects that live as long as the process.

A process that runs the monthly DAG holds Airflow, cosmos, dbt, Great Expectations and pandas:
~440,000 objects after the imports, ~680,000 once dbt has run. Every full collection walks
all of them (0.2-0.3 s each), and Python starts one whenever the objects created since the
last grow by a quarter: during the imports, during the judge's validations and during dbt's
build. Almost none of those objects is garbage. ``gc.freeze`` moves the objects that exist to
a generation the collector never walks; new objects are collected as before.

Counted on a tiny month through ``sinergi run`` with ``gc.callbacks`` (docs/performance.md):
8 full collections, 0.8 s, before the first task; a full collection after each large
validation, ~0.2-0.5 s each (a fifth of a province month's judging in the task's process).

* :func:`no_collections_while_starting`: none while the run imports and parses the DAG
  (:func:`collections_as_usual` around a dbt parse for a stale manifest);
* :func:`collected_then_frozen`: one collection when the run starts, then what exists is frozen
  until it ends;
* :func:`objects_so_far_frozen` / :func:`older_objects_frozen`: around a step that imports or
  builds long-lived objects first (dbt's manifest) or collects on purpose (the judge).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def _automatic_collections(on: bool) -> Iterator[None]:
    """Automatic collections on or off inside; as they were afterwards."""
    enabled = gc.isenabled()
    (gc.enable if on else gc.disable)()
    try:
        yield
    finally:
        (gc.enable if enabled else gc.disable)()


def no_collections_while_starting() -> AbstractContextManager[None]:
    """No automatic collection inside; as before afterwards.

    The imports and the DAG parse create few hundred objects of garbage among ~440,000 that
    live as long as the process: the collector's passes over them are pure cost.
    :func:`collected_then_frozen` collects once before it freezes.
    """
    return _automatic_collections(False)


def collections_as_usual() -> AbstractContextManager[None]:
    """Automatic collections inside (inside :func:`no_collections_while_starting`, a step that
    makes much garbage: a dbt parse, ~260,000 objects, 50 MB left uncollected); as before
    afterwards."""
    return _automatic_collections(True)


@contextmanager
def collected_then_frozen() -> Iterator[None]:
    """One full collection, then every object that exists is frozen until the block ends;
    collections are on inside even when :func:`no_collections_while_starting` turned them off.

    Collecting first means no garbage is frozen. Unfrozen at the end, so the next run of the
    same process (``sinergi demo`` runs several months) collects this one's garbage first.
    """
    gc.collect()
    gc.freeze()
    try:
        with _automatic_collections(True):
            yield
    finally:
        gc.unfreeze()


@contextmanager
def objects_so_far_frozen() -> Iterator[None]:
    """Freeze what exists now; unfreeze at the end only if nothing was frozen before.

    Where something froze already (a judge worker froze what it inherited from the fork
    server, ``sinergi.workers``; a run froze what it found), unfreezing would hand those
    objects back to the collector: in a worker its next collection would write to, and so
    copy, every inherited page. What is frozen here then stays so until that owner unfreezes,
    so the garbage is collected first (cheap there: the older objects are frozen already);
    otherwise a district task's judging could freeze the last one's frames for the whole run.
    """
    outermost = not gc.get_freeze_count()
    if not outermost:
        gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if outermost:
            gc.unfreeze()


def older_objects_frozen(step: Callable[P, R]) -> Callable[P, R]:
    """Decorator: ``step`` runs inside :func:`objects_so_far_frozen`."""

    @functools.wraps(step)
    def frozen_step(*args: P.args, **kwargs: P.kwargs) -> R:
        with objects_so_far_frozen():
            return step(*args, **kwargs)

    return frozen_step
