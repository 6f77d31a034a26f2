"""Changing ``os.environ`` for the length of a block, and putting every name back after.

dbt reads its profile's connection from environment variables, and cosmos copies each dbt
invocation's variables into ``os.environ`` (for its OpenLineage step) and leaves them there.
A process that runs more than one task (``sinergi run`` executes the whole DAG in-process)
must not let one invocation's connection outlive it: both go through this one helper.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def scoped_environment(
    values: Mapping[str, str] | None = None,
    *,
    clear: Iterable[str] = (),
    restore: Iterable[str] = (),
) -> Iterator[None]:
    """Remove ``clear``, set ``values``; afterwards restore those and ``restore`` as they were.

    ``restore`` names variables someone else may set inside the block.
    """
    values = dict(values or {})
    clear = tuple(clear)
    saved = {name: os.environ.get(name) for name in (*clear, *values, *restore)}
    try:
        for name in clear:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
