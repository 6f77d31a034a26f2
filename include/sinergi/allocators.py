"""Allocator settings for worker processes: give freed memory back instead of keeping it.

A judge worker's resident memory grew well beyond what was alive while it judged a part
(memray, 2026-12-06): part of the difference was garbage waiting for the collector
(``sinergi.judgement._collect_cycles``), part freed memory the allocators kept. Two keep it:

* pyarrow's default pool (mimalloc in the wheels), which holds pandas' string columns. Its
  jemalloc pool (also in the wheels) hands pages back after a short decay; measured on one
  part of four roster files, the process's peak fell from 620-730 MB to 547-552 MB at about
  the same time. The system allocator alone was worse (654-708 MB): glibc fragments.
* glibc's ``malloc`` (numpy arrays, Python objects), whose threshold for serving a block by
  ``mmap`` rises, by default, to 32 MB after a large block is freed, so later arrays of a
  few MB come from the heap and stay there. Fixing the threshold at 4 MB keeps large arrays
  in ``mmap`` (returned on ``free``) without a system call per small array: 128 KB cost ~40 %
  more time on the same part.

Only worker processes do this (``sinergi.workers``): they are short-lived and their memory is
the month's peak. A platform without either (no glibc, a pyarrow built without jemalloc)
keeps its defaults.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024


def hand_back_freed_memory() -> None:
    """Switch this process to allocators that return freed memory (see the module)."""
    _arrow_jemalloc()
    _glibc_mmap_threshold()


def _libc():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def _arrow_jemalloc() -> None:
    """pyarrow's default pool to jemalloc, in a process that imported pyarrow (a worker whose
    pieces never use it, such as the feedback's, is not made to import it)."""
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is None:
        return
    try:
        pyarrow.set_memory_pool(pyarrow.jemalloc_memory_pool())
    except NotImplementedError:  # a build without jemalloc: keep the default pool
        log.debug("pyarrow has no jemalloc pool; its default pool stays")


def _glibc_mmap_threshold() -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):  # glibc (musl has none)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
