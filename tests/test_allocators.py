"""Worker processes' allocators hand freed memory back (sinergi.allocators)."""

from __future__ import annotations

import pyarrow
import pytest

from sinergi import allocators
from sinergi.workers import run_pieces
from tests import light_pieces


class _Libc:
    """Records the ``mallopt`` calls a real glibc would get."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, parameter: int, value: int) -> int:
        self.calls.append((parameter, value))
        return 1


@pytest.fixture
def default_pool():
    """Put this process's pyarrow pool back after a test switches it."""
    pool = pyarrow.default_memory_pool()
    yield
    pyarrow.set_memory_pool(pool)


def test_arrow_uses_jemalloc_and_glibc_a_fixed_mmap_threshold(monkeypatch, default_pool):
    libc = _Libc()
    monkeypatch.setattr(allocators, "_libc", lambda: libc)
    allocators.hand_back_freed_memory()
    assert pyarrow.default_memory_pool().backend_name == "jemalloc"
    assert libc.calls == [(allocators.M_MMAP_THRESHOLD, 4 * 1024 * 1024)]


def test_without_jemalloc_or_mallopt_the_defaults_stay(monkeypatch, default_pool):
    def no_jemalloc():
        raise NotImplementedError("built without jemalloc")

    before = pyarrow.default_memory_pool().backend_name
    monkeypatch.setattr(pyarrow, "jemalloc_memory_pool", no_jemalloc)
    monkeypatch.setattr(allocators, "_libc", lambda: object())  # a C library without mallopt
    allocators.hand_back_freed_memory()
    assert pyarrow.default_memory_pool().backend_name == before


def _pool_name() -> str:
    return pyarrow.default_memory_pool().backend_name


def test_worker_processes_allocate_arrow_memory_from_jemalloc():
    assert _pool_name() != "jemalloc"  # this process keeps pyarrow's default
    ((_, name, problem),) = run_pieces(_pool_name, [("a", ())], 1)
    assert problem is None and name == "jemalloc"


def test_a_worker_whose_pieces_never_use_pyarrow_does_not_import_it():
    """The feedback's workers (no pandas, no pyarrow) are not made to import pyarrow."""
    ((_, imported, problem),) = run_pieces(light_pieces.pyarrow_imported, [("a", ())], 1)
    assert problem is None and imported is False
