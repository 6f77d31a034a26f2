"""dbt's debug events dropped before they are built when nothing would write or read them.

dbt reports everything it does as an event: for every event, dbt-common's
``EventManager.fire_event`` builds a protobuf message (``ParseDict`` of the event's level,
text, time, thread and invocation), asks each logger to filter it and format a log line, and
only then lets Python's logging drop the line below the logger's level. A ``dbt build`` of
this project fires ~4,600 events, ~4,060 of them at debug level (each statement, connection,
cache and timing step), and Sinergi's loggers (the task log and ``dbt.log``) are at INFO
unless ``$DBT_LOG_LEVEL_FILE`` or ``--debug`` asks for more: ~2 s of the ~13 s of Python a
build of the tiny month costs built messages nobody kept (docs/performance.md "dbt's debug
events").

:func:`install` wraps ``fire_event``: an event at debug level returns at once when no logger
of the event manager writes debug lines and every callback is one known to read only events
above debug (dbt's own tracking of behaviour-change warnings, and Sinergi's callbacks marked
with :func:`ignores_debug_events`). Anything else goes to dbt's own ``fire_event`` unchanged:
events dbt prints at any level (``PrintEvent``, ``ShowNode``, ``CompiledNode``), events at
info and above (the task log, warnings and ``--warn-error``, which only concern
warnings), every event when a logger is at debug (``DBT_LOG_LEVEL_FILE=debug`` gives
``dbt.log`` every statement, as before), and every event when a callback that may want debug
events is registered (cosmos' callbacks, a user's ``dbtRunner(callbacks=...)``), and every
event under ``$DBT_TEST_BINARY_SERIALIZATION`` (dbt's check that each message serialises).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sinergi.library_wraps import unwrapped, wrap_once

#: Logger levels that write debug lines (dbt-common's ``EventLevel`` values below info).
_BELOW_INFO = frozenset({"debug", "test"})
_MARK = "_sinergi_ignores_debug_events"
_SERIALISATION_CHECK_ENV = "DBT_TEST_BINARY_SERIALIZATION"


def ignores_debug_events(callback: Callable) -> Callable:
    """Mark a ``dbtRunner`` callback that reads no event below info (returned unchanged)."""
    setattr(callback, _MARK, True)
    return callback


def install() -> None:
    """Wrap ``EventManager.fire_event`` (once per process; idempotent)."""
    from dbt_common.events.event_manager import EventManager

    wrap_once(EventManager, "fire_event", _dropping_unwritten_debug)


def dbt_original() -> AbstractContextManager[None]:
    """dbt-common's own ``fire_event`` for the duration: the tests' reference."""
    from dbt_common.events.event_manager import EventManager

    return unwrapped(EventManager, "fire_event")


def _ignores_debug_events(callback: Callable) -> bool:
    """Marked by :func:`ignores_debug_events`, or dbt's tracking of behaviour-change warnings
    (it reads only ``BehaviorChangeEvent``, a warning)."""
    if getattr(callback, _MARK, False):
        return True
    return getattr(callback, "__module__", "") == "dbt.tracking" and (
        getattr(callback, "__name__", "") == "track_behavior_change_warn"
    )


def _printed_whatever_the_level() -> tuple[str, ...]:
    """Events dbt's loggers write at any level (``PrintEvent``, ``ShowNode``, …)."""
    from dbt_common.events.logger import PRINT_EVENT_NAMES

    return PRINT_EVENT_NAMES


def unread(manager: Any, event: Any, level: Any) -> bool:
    """Whether ``event`` (fired at ``level``, or its own level) would reach nobody: a debug
    event, no logger writing debug lines, and only callbacks that ignore debug events."""
    name = level.value if level is not None else event.level_tag().value
    if name != "debug" or type(event).__name__ in _printed_whatever_the_level():
        return False
    if any(logger.level.value in _BELOW_INFO for logger in manager.loggers):
        return False
    if os.environ.get(_SERIALISATION_CHECK_ENV):
        return False
    return all(_ignores_debug_events(callback) for callback in manager.callbacks)


def _dropping_unwritten_debug(original: Callable[..., None]) -> Callable[..., None]:
    def fire_event(
        self: Any,
        e: Any,
        level: Any = None,
        node: Any = None,
        force_warn_or_error_handling: bool = False,
    ) -> None:
        if not force_warn_or_error_handling and unread(self, e, level):
            return
        original(self, e, level, node, force_warn_or_error_handling)

    return fire_event
