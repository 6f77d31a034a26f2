"""No ``sinergi.*`` log line carries a 16-digit identifier, under plain logging and Airflow's.

Issue 12 §5: a NIK glued to a letter in a cell, or in a file name, reached the run log. The
scrubber is the log record factory installed by ``import sinergi`` (``sinergi.logscrub``).
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys

NIK = "3578014501900001"


def _log_everything() -> None:
    log = logging.getLogger("sinergi.pipeline")
    log.warning("inbox %s: ignored_file", f"2025-12/3501/catatan-{NIK}.txt")
    log.info("3501 ppks v1: REJECTED; unreadable: cell %sx", NIK)
    try:
        raise ValueError(f"cannot parse {NIK}x")
    except ValueError:
        log.exception("reading failed")


def test_plain_logging_is_scrubbed():
    import sinergi  # noqa: F401  (installs the scrubber)

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        _log_everything()
    finally:
        root.removeHandler(handler)
    text = stream.getvalue()
    assert "catatan-<16 digits>.txt" in text and "cannot parse <16 digits>x" in text
    assert NIK not in text


def test_other_loggers_are_left_alone():
    import sinergi  # noqa: F401

    record = logging.getLogger("somebody.else").makeRecord(
        "somebody.else", logging.INFO, __file__, 1, "id %s", (NIK,), None
    )
    assert record.getMessage() == f"id {NIK}"


_AIRFLOW_TASK = """
import logging, sys
from airflow.sdk.log import configure_logging
configure_logging(json_output=True, output=sys.stdout, sending_to_supervisor=True)
import sinergi
from tests.test_logscrub import _log_everything
_log_everything()
"""


def test_airflow_task_logging_is_scrubbed():
    """As in a task process: Airflow's structlog set-up first, then the task imports sinergi."""
    done = subprocess.run(
        [sys.executable, "-c", _AIRFLOW_TASK], capture_output=True, text=True, timeout=120
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-2000:]
    assert "catatan-<16 digits>.txt" in out, out[-2000:]
    assert NIK not in out
