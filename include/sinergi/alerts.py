"""Alerts for the people who watch the runs: a failed task, districts late for the deadline.

**Failed tasks.** Airflow 3.1-3.3 never fires a DAG-level ``on_failure_callback``
(apache/airflow#63374), so :func:`task_failure_alert` is set on every task (the DAG's
``default_args``). It runs when a task has failed for good (after its retries) and logs ONE
line: which task, which district (the map index label), which period, and the error's
message, never its stack trace (that is in the task log already). Bad data never fails a task
(it becomes a verdict in ``audit``), so an alert means infrastructure or a dbt failure. The
line is also appended to ``<reports>/<period>/alerts.log`` for whoever reads the reports.

**Missed deadline.** :func:`check_deadline` lists, once the period's submission deadline has
passed, every district and dataset with no file in ``<inbox>/<P>/`` (and files received
after the deadline), logs it and writes ``<reports>/<P>/deadline-alert.json``. It is switched
by ``SINERGI_DEADLINE_ALERTS`` (off by default and in tests). This replaces Airflow's
``DeadlineAlert``, which makes ``airflow dags test`` exit 1 on Airflow 3.3.2.

Nothing here may carry personal data: messages are cut to one line and anything shaped like a
NIK or No. KK (16 digits) or a password in a URL is masked.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sinergi.config import Settings
from sinergi.periods import JAKARTA, Period
from sinergi.scrub import scrub_identifiers
from sinergi.warehouse.url import redact_text

log = logging.getLogger(__name__)

ALERTS_FILE = "alerts.log"
DEADLINE_FILE = "deadline-alert.json"
MAX_MESSAGE = 300


def scrub(text: str, limit: int = MAX_MESSAGE) -> str:
    """One line, no NIK/No. KK-shaped numbers, no URL passwords, at most ``limit`` characters."""
    line = " ".join(str(text).split())
    line = scrub_identifiers(line)  # also 17+ digit runs and digits glued to letters
    line = redact_text(line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _period_of(context: dict[str, Any]) -> str:
    """The run's reporting period: the ``period`` parameter, else the month before the run."""
    params = context.get("params") or {}
    try:
        from sinergi.pipeline import resolve_period

        return str(resolve_period(params.get("period"), context.get("logical_date")))
    except Exception:  # a manual run without logical date, a malformed parameter
        return str(params.get("period") or "?")


def _district_of(context: dict[str, Any]) -> str | None:
    """The district a mapped task worked on: its map index label, else its ``district_code``."""
    ti = context.get("ti") or context.get("task_instance")
    label = getattr(ti, "rendered_map_index", None)
    if label:
        return str(label)
    task = context.get("task")
    op_kwargs = getattr(task, "op_kwargs", None) or {}
    code = op_kwargs.get("district_code") if isinstance(op_kwargs, dict) else None
    return str(code) if code else None


def failure_line(context: dict[str, Any]) -> str:
    """The alert for a failed task, as one line (see the module docstring)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", None) or getattr(context.get("task"), "task_id", "?")
    error = context.get("exception")
    if error is None:
        reason = "no exception recorded (killed, timed out or marked failed)"
    else:
        message = str(error).strip().splitlines()
        reason = f"{type(error).__name__}: {message[0] if message else ''}".rstrip(": ")
    parts = [
        f"SINERGI ALERT task {dag_id}.{task_id} failed",
        f"period {_period_of(context)}",
    ]
    district = _district_of(context)
    if district:
        parts.append(f"district {district}")
    try_number = getattr(ti, "try_number", None)
    if try_number:
        parts.append(f"try {try_number}")
    parts.append(scrub(reason))
    return " | ".join(parts)


def _append_alert(settings: Settings, period: str, line: str) -> None:
    try:
        Period.parse(period)
    except ValueError:
        return
    folder = settings.reports_dir / period
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with open(folder / ALERTS_FILE, "a", encoding="utf-8") as handle:
        handle.write(f"{stamp} {line}\n")


def task_failure_alert(context: dict[str, Any]) -> None:
    """Task ``on_failure_callback``: log one alert line and append it to ``alerts.log``.

    Never raises: a broken alert must not hide the failure it reports.
    """
    try:
        line = failure_line(context)
    except Exception as problem:  # pragma: no cover - defensive
        line = f"SINERGI ALERT a task failed (alert text unavailable: {type(problem).__name__})"
    log.error(line)
    try:
        from sinergi.config import load_settings

        _append_alert(load_settings(), _period_of(context), line)
    except Exception as problem:
        log.warning("could not write the alert to the reports folder: %s", scrub(str(problem)))


@dataclass
class DeadlineReport:
    """Who had not submitted what when the deadline passed (codes and counts only)."""

    period: str
    deadline: str
    checked_at: str
    missing: dict[str, list[str]] = field(default_factory=dict)  # district -> datasets
    late: dict[str, list[str]] = field(default_factory=dict)  # district -> datasets

    @property
    def missing_files(self) -> int:
        return sum(len(datasets) for datasets in self.missing.values())

    def line(self) -> str:
        """One log line naming every district and dataset concerned."""
        head = f"SINERGI DEADLINE {self.period} (deadline {self.deadline})"
        if not self.missing and not self.late:
            return f"{head}: every district submitted every dataset on time"
        parts = []
        if self.missing:
            parts.append(
                f"{len(self.missing)} district(s) missing {self.missing_files} dataset file(s): "
                + _by_district(self.missing)
            )
        if self.late:
            parts.append(f"{len(self.late)} district(s) sent late: " + _by_district(self.late))
        return f"{head}: " + " | ".join(parts)


def _by_district(datasets: dict[str, list[str]]) -> str:
    return "; ".join(f"{district} ({', '.join(names)})" for district, names in datasets.items())


def missing_submissions(
    inbox: Path, period: Period, deadline: datetime
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(missing, late)``: per district, the datasets with no file / a file after ``deadline``.

    A dataset counts as submitted when a file for it (csv or xlsx, any case) is in
    ``<inbox>/<P>/<district>/``; whether the file is valid is the monthly run's business.
    """
    from sinergi import reference
    from sinergi.datasets import SPECS
    from sinergi.inbox import received_at, scan_district

    missing: dict[str, list[str]] = {}
    late: dict[str, list[str]] = {}
    for district in sorted(reference.district_codes()):
        found = scan_district(inbox, period, district).files
        absent = [ds for ds in SPECS if ds not in found]
        if absent:
            missing[district] = absent
        after = [
            ds for ds in SPECS if ds in found and min(received_at(p) for p in found[ds]) > deadline
        ]
        if after:
            late[district] = after
    return missing, late


def check_deadline(
    period: Period, settings: Settings, now: datetime | None = None
) -> DeadlineReport | None:
    """The deadline alert for ``period``: None when switched off or the deadline is ahead."""
    if not settings.deadline_alerts:
        log.info("deadline alerts are switched off (SINERGI_DEADLINE_ALERTS=false)")
        return None
    deadline = period.deadline(settings.deadline_day, settings.deadline_time)
    now = now or datetime.now(UTC)
    if now <= deadline:
        log.info("deadline for %s is %s: not passed yet, nothing to check", period, deadline)
        return None
    missing, late = missing_submissions(settings.inbox, period, deadline)
    report = DeadlineReport(
        period=str(period),
        deadline=deadline.isoformat(),
        checked_at=now.astimezone(JAKARTA).isoformat(timespec="seconds"),
        missing=missing,
        late=late,
    )
    if missing or late:
        log.warning(report.line())
    else:
        log.info(report.line())
    folder = settings.reports_dir / str(period)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {**asdict(report), "missing_files": report.missing_files}
    (folder / DEADLINE_FILE).write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return report
