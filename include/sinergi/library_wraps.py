"""Wrapping one method of a library's class, once per process, with the original at hand.

Sinergi changes a few library methods where measuring showed a cost the library does not let
a caller avoid (``sinergi.gx_domains``: Great Expectations' domain records;
``sinergi.dbt_connections``: dbt's session per node; ``sinergi.dbt_templates``: Jinja's
compiling; ``sinergi.dbt_events``: dbt's debug events). All follow the same rules, kept here:
the wrapper is installed at most once (a mark on it), it keeps the original as
``__wrapped__``, and the tests can run the library's own method for a block to compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_MARK = "_sinergi_wrapped"


def wrap_once(owner: type, name: str, make: Callable[[Callable], Callable]) -> None:
    """Replace ``owner.name`` with ``make(original)`` unless that was done already."""
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return
    wrapped = make(original)
    setattr(wrapped, _MARK, True)
    wrapped.__wrapped__ = original  # type: ignore[attr-defined]
    wrapped.__doc__ = original.__doc__
    setattr(owner, name, wrapped)


def is_wrapped(method: Any) -> bool:
    return bool(getattr(method, _MARK, False))


@contextmanager
def unwrapped(owner: type, name: str) -> Iterator[None]:
    """The library's own ``owner.name`` for the duration of the block."""
    current = getattr(owner, name)
    setattr(owner, name, getattr(current, "__wrapped__", current))
    try:
        yield
    finally:
        setattr(owner, name, current)
