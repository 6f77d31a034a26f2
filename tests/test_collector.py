"""``sinergi.collector``: what each block does to the garbage collector, and that it puts
everything back (tests run many months in one process)."""

from __future__ import annotations

import gc
import weakref

import pytest

from sinergi.collector import (
    collected_then_frozen,
    collections_as_usual,
    no_collections_while_starting,
    objects_so_far_frozen,
    older_objects_frozen,
)


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture(autouse=True)
def _as_found():
    """Each test starts with the collector on and nothing frozen, and leaves it so."""
    enabled = gc.isenabled()
    gc.unfreeze()
    gc.enable()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


@pytest.mark.parametrize("enabled_before", [True, False])
def test_no_collections_while_starting_turns_the_collector_off_and_back(enabled_before):
    if not enabled_before:
        gc.disable()
    with no_collections_while_starting():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled_before


def test_collections_as_usual_inside_a_start_and_off_again_after():
    with no_collections_while_starting():
        with collections_as_usual():
            assert gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_run_collects_first_so_that_no_garbage_is_frozen():
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    with no_collections_while_starting(), collected_then_frozen():
        assert gone() is None  # collected before the freeze, not kept frozen
        assert gc.get_freeze_count() > 1000
        assert gc.isenabled()  # the run's own garbage is collected as usual
        made_in_the_run = _Node()
        made = weakref.ref(made_in_the_run)
        del made_in_the_run
        gc.collect()
        assert made() is None
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()  # no_collections_while_starting put it back as it found it


def test_a_run_leaves_a_disabled_collector_disabled():
    gc.disable()
    with collected_then_frozen():
        assert gc.isenabled()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_outermost_freeze_unfreezes_an_inner_one_does_not():
    with objects_so_far_frozen():
        outer = gc.get_freeze_count()
        assert outer > 1000
        with objects_so_far_frozen():
            pass
        assert gc.get_freeze_count() >= outer // 2  # still frozen: the inner one left it
    assert gc.get_freeze_count() == 0


def test_an_inner_freeze_collects_first_what_it_would_keep_frozen():
    with objects_so_far_frozen():
        garbage = _Node()
        gone = weakref.ref(garbage)
        del garbage
        with objects_so_far_frozen():
            assert gone() is None


def test_an_inner_freeze_leaves_what_a_worker_froze_frozen():
    gc.freeze()  # a judge worker's start (sinergi.workers)
    seen = []

    @older_objects_frozen
    def step(value):
        seen.append(gc.get_freeze_count())
        return value * 2

    assert step(21) == 42
    assert seen[0] > 1000
    assert gc.get_freeze_count() > 1000


def test_a_decorated_step_unfreezes_when_it_froze_first():
    @older_objects_frozen
    def step():
        return gc.get_freeze_count()

    assert step() > 1000
    assert gc.get_freeze_count() == 0
