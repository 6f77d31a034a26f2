"""dbt's debug events are dropped only when no logger writes them and no callback reads them
(``sinergi.dbt_events``), on dbt-common's real ``EventManager`` and events."""

from __future__ import annotations

import io

import pytest
from dbt_common.events import event_manager as manager_module
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.logger import LoggerConfig
from dbt_common.events.types import Note, PrintEvent
from dbt_common.exceptions.events import EventCompilationError

from sinergi import dbt as sdbt
from sinergi import dbt_events


@pytest.fixture(autouse=True)
def installed():
    dbt_events.install()


@pytest.fixture
def built(monkeypatch) -> list[str]:
    """Names of the events whose message dbt-common built (``msg_from_base_event``)."""
    names: list[str] = []
    build = manager_module.msg_from_base_event

    def counting(event, level=None):
        names.append(type(event).__name__)
        return build(event, level=level)

    monkeypatch.setattr(manager_module, "msg_from_base_event", counting)
    return names


def _manager(*levels: EventLevel) -> tuple[EventManager, list[io.StringIO]]:
    manager = EventManager()
    streams = []
    for index, level in enumerate(levels):
        stream = io.StringIO()
        manager.add_logger(
            LoggerConfig(
                name=f"sinergi-test-{index}-{level.value}", level=level, output_stream=stream
            )
        )
        streams.append(stream)
    return manager, streams


def _debug_note(text: str = "a statement") -> Note:
    return Note(msg=text)


def test_a_debug_event_nobody_writes_is_never_built(built):
    manager, streams = _manager(EventLevel.INFO, EventLevel.INFO)
    seen: list[str] = []
    manager.add_callback(dbt_events.ignores_debug_events(lambda msg: seen.append(msg.info.name)))
    manager.fire_event(_debug_note(), level=EventLevel.DEBUG)
    assert built == [] and seen == []
    assert all(stream.getvalue() == "" for stream in streams)
    # the same event at info is built, written and handed to the callback
    manager.fire_event(_debug_note("shown"), level=EventLevel.INFO)
    assert built == ["Note"] and seen == ["Note"]
    assert all("shown" in stream.getvalue() for stream in streams)


def test_dbt_core_own_callback_does_not_keep_debug_events(built):
    from dbt.tracking import track_behavior_change_warn

    manager, _ = _manager(EventLevel.INFO)
    manager.add_callback(track_behavior_change_warn)
    manager.fire_event(_debug_note(), level=EventLevel.DEBUG)
    assert built == []


def test_a_callback_that_may_read_debug_events_gets_them(built):
    manager, streams = _manager(EventLevel.INFO)
    seen: list[tuple[str, str]] = []
    manager.add_callback(lambda msg: seen.append((msg.info.level, msg.info.msg)))
    manager.fire_event(_debug_note("for the callback"), level=EventLevel.DEBUG)
    assert seen == [("debug", "for the callback")] and built == ["Note"]
    assert streams[0].getvalue() == ""  # the INFO logger drops it, as dbt's own code does


@pytest.mark.parametrize("debug_logger", [EventLevel.DEBUG, EventLevel.TEST])
def test_a_logger_at_debug_writes_every_debug_line(built, debug_logger):
    manager, streams = _manager(EventLevel.INFO, debug_logger)
    manager.fire_event(_debug_note("every statement"), level=EventLevel.DEBUG)
    assert built == ["Note"]
    assert streams[0].getvalue() == "" and "every statement" in streams[1].getvalue()


def test_print_events_and_binary_serialisation_checks_are_left_to_dbt(built, monkeypatch):
    manager, streams = _manager(EventLevel.INFO)
    manager.fire_event(PrintEvent(msg="printed"), level=EventLevel.DEBUG)
    assert built == ["PrintEvent"] and "printed" in streams[0].getvalue()
    monkeypatch.setenv("DBT_TEST_BINARY_SERIALIZATION", "1")
    manager.fire_event(_debug_note(), level=EventLevel.DEBUG)
    assert built == ["PrintEvent", "Note"]


def test_warnings_keep_warn_error_whatever_the_loggers_level(built):
    manager, _ = _manager(EventLevel.ERROR)
    manager.warn_error = True
    manager.require_warn_or_error_handling = True
    with pytest.raises(EventCompilationError):
        manager.fire_event(Note(msg="a warning"), level=EventLevel.WARN)
    with pytest.raises(EventCompilationError):  # forced handling, even at debug
        manager.fire_event(_debug_note(), level=EventLevel.DEBUG, force_warn_or_error_handling=True)


def test_dbt_own_fire_event_builds_every_event(built):
    manager, _ = _manager(EventLevel.INFO)
    with dbt_events.dbt_original():
        manager.fire_event(_debug_note(), level=EventLevel.DEBUG)
    assert built == ["Note"]
    manager.fire_event(_debug_note(), level=EventLevel.DEBUG)
    assert built == ["Note"]


def test_install_is_idempotent():
    from sinergi.library_wraps import is_wrapped

    dbt_events.install()
    wrapped = EventManager.fire_event
    dbt_events.install()
    assert EventManager.fire_event is wrapped and is_wrapped(wrapped)


def test_a_dbt_invocation_logs_every_event_above_debug_as_before(tmp_path):
    """A real ``dbt debug`` (it connects and runs a query), with the wrapper and with dbt's own
    ``fire_event``: the same events at info and above reach a callback and the log file; none
    at debug does with the wrapper."""
    from dbt.cli.main import dbtRunner

    def debug(name: str) -> tuple[list[tuple[str, str]], list[str]]:
        seen: list[tuple[str, str]] = []
        logs = tmp_path / name / "logs"
        dbtRunner(
            callbacks=[
                dbt_events.ignores_debug_events(
                    lambda msg: seen.append((msg.info.level, msg.info.name))
                )
            ]
        ).invoke(
            [
                "debug",
                "--project-dir",
                str(sdbt.DBT_PROJECT_DIR),
                "--profiles-dir",
                str(sdbt.DBT_PROJECT_DIR),
                "--log-path",
                str(logs),
                "--log-level-file",
                "info",
                "--no-version-check",
                "--no-send-anonymous-usage-stats",
            ]
        )
        lines = (logs / "dbt.log").read_text(encoding="utf-8").splitlines()
        # the text after the time stamp, with this run's folder name taken out
        return seen, [line.split("]", 1)[-1].replace(name, "") for line in lines if "[" in line]

    env = sdbt.dbt_env(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        with dbt_events.dbt_original():
            original, original_lines = debug("original")
        wrapped, wrapped_lines = debug("wrapped")
    above = [event for event in original if event[0] != "debug"]
    assert len(original) > len(above) > 3  # dbt fired debug events, and logged others
    assert wrapped == above
    assert wrapped_lines == original_lines and len(original_lines) > 3
