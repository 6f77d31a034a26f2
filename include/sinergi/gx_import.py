"""Great Expectations, imported without two libraries no Sinergi suite calls.

Importing GX 1.24 costs ~3 s in every process that judges or writes Data Docs: the judge
task, the judge's fork server, ``publish_reports``, each test worker, each ``sinergi run``.
About 1.2 s of it is ``scipy.stats`` and ``altair`` (3.1-3.4 s -> 1.9-2.0 s in a fresh
process), which one expectation type alone imports at module level
(``expect_column_kl_divergence_to_be_less_than``: its statistic and its charts) and which no
suite in ``expectations/suites`` uses.

Importing this module imports GX with a stand-in for each of the two in ``sys.modules``: the
real library is imported the first time anything reads an attribute of it, so code that
does use them still works, only pays for them then. A library already imported is left as
it is. ``tests/test_gx_import.py`` checks both halves: that GX comes up without them, and
that reading through a stand-in reaches the real library.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import types

#: Libraries GX imports at module level for expectation types no Sinergi suite uses.
DEFERRED = ("scipy.stats", "altair")


#: Special names read through a stand-in as from the real module: ``__path__`` (importing a
#: submodule) and ``__all__`` (``import *``). Any other special name a module does not have
#: (``__file__``...) is missing on the stand-in: ``inspect.getmodule`` asks every module in
#: ``sys.modules`` for its ``__file__`` (dbt does, through ``inspect.stack``, for each
#: behaviour flag), and that must not import the library.
_READ_THROUGH = frozenset({"__path__", "__all__"})


class DeferredModule(types.ModuleType):
    """A stand-in for a module that is imported for real on first attribute access."""

    def __getattr__(self, attr: str):
        if attr.startswith("__") and attr.endswith("__") and attr not in _READ_THROUGH:
            raise AttributeError(attr)
        return getattr(_real(self.__name__), attr)


def _real(name: str) -> types.ModuleType:
    current = sys.modules.get(name)
    if isinstance(current, DeferredModule):
        del sys.modules[name]  # the import machinery would hand back the stand-in
        try:
            return importlib.import_module(name)
        except BaseException:
            sys.modules[name] = current
            raise
    return current if current is not None else importlib.import_module(name)


def defer_unused_libraries() -> None:
    """Put a :class:`DeferredModule` in ``sys.modules`` for each of :data:`DEFERRED` not yet
    imported (and installed: a missing library stays missing, GX then says so itself)."""
    for name in DEFERRED:
        if name in sys.modules:
            continue
        if importlib.util.find_spec(name.partition(".")[0]) is None:  # imports nothing
            continue
        sys.modules[name] = DeferredModule(name)


def _quiet_gx_logging() -> None:
    for name in ("great_expectations", "great_expectations._docs_decorators"):
        logging.getLogger(name).setLevel(logging.WARNING)


defer_unused_libraries()
_quiet_gx_logging()

import great_expectations as gx  # noqa: E402

__all__ = ["gx", "DEFERRED", "DeferredModule", "defer_unused_libraries"]
