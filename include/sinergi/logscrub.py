"""Every log line of the ``sinergi`` package, scrubbed of identifiers by shape.

A NIK reaches a log message through a file or folder name, a rejection detail quoting a cell
or an exception message. Filters on loggers or handlers are not enough under Airflow: its task
logging replaces handlers when a task starts, and a logger's filter does not see records of
its children. The log record *factory* is process-wide and runs when a record is created,
before any handler (stdlib or Airflow's structlog bridge) formats it, so it is installed once
when ``sinergi`` is imported and rewrites records of ``sinergi.*`` loggers: the formatted
message and any traceback go through ``scrub_identifiers``.
"""

from __future__ import annotations

import logging
import traceback

from sinergi.scrub import scrub_identifiers

_MARK = "_sinergi_scrubs"


def _scrubbed(record: logging.LogRecord) -> logging.LogRecord:
    name = record.name if isinstance(record.name, str) else ""
    if name != "sinergi" and not name.startswith("sinergi."):
        return record  # also structlog's copies via makeLogRecord (no name yet)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not lose the line
        message = f"{record.msg} {record.args}"
    if record.exc_info and record.exc_info[1] is not None:
        message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        record.exc_info = None
    record.msg = scrub_identifiers(message)
    record.args = ()
    if record.exc_text:
        record.exc_text = scrub_identifiers(record.exc_text)
    return record


def install() -> None:
    """Wrap the current log record factory once (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        return _scrubbed(current(*args, **kwargs))

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)
