"""Which Airflow executor runs the tasks, and whether the warehouse can live with it.

The DuckDB warehouse is one file that one process writes at a time, on the disk of the
machine that holds it. With Airflow's LocalExecutor (or ``sinergi run``) every task runs on
that machine. With a distributed executor (Celery, Kubernetes, Edge) tasks run on other
machines, each of which would write its *own* copy of the file: loads would vanish from the
marts without an error. So a DuckDB warehouse refuses such an installation, before anything
is read, with a message that says what to change (docs/production.md, "Scaling out").
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Executors whose tasks all run on the machine of the scheduler (Airflow 3 names and paths).
SAME_MACHINE_EXECUTORS = frozenset({"LocalExecutor", "SequentialExecutor", "DebugExecutor"})


class DistributedDuckDB(ValueError):
    """A DuckDB warehouse under a distributed executor (one line, for the user)."""


def configured_executors() -> list[str]:
    """The executor names Airflow is configured with (``[core] executor``, possibly several,
    comma-separated in Airflow 3; an ``alias:module.Class`` form gives its class name).

    Read from the environment first, which is how every Sinergi deployment sets it; from
    Airflow's configuration only when Airflow is already imported (a task process), so the
    command line never pays Airflow's import for this check.
    """
    text = os.environ.get("AIRFLOW__CORE__EXECUTOR")
    if text is None and "airflow.configuration" in sys.modules:
        from airflow.configuration import conf

        text = conf.get("core", "executor", fallback="LocalExecutor")
    names = []
    for part in (text or "LocalExecutor").split(","):
        name = part.strip().split(":")[-1].rsplit(".", 1)[-1]
        if name:
            names.append(name)
    return names or ["LocalExecutor"]


def distributed_executors(names: list[str] | None = None) -> list[str]:
    """The configured executors that may run a task on another machine."""
    return [n for n in (names or configured_executors()) if n not in SAME_MACHINE_EXECUTORS]


def check_warehouse_for_executor(settings: Any, names: list[str] | None = None) -> None:
    """Raise :class:`DistributedDuckDB` when a DuckDB warehouse meets a distributed executor.

    ``settings.is_duckdb`` is only asked when an executor is distributed: it parses the
    warehouse URL, whose own errors belong to the code that opens the warehouse.
    """
    remote = distributed_executors(names)
    if remote and settings.is_duckdb:
        raise _refusal_type()(
            f"the DuckDB warehouse (SINERGI_WAREHOUSE) cannot be used with Airflow's "
            f"{', '.join(remote)}: its tasks run on several machines, and each would write its "
            "own copy of the single-file warehouse. Set SINERGI_WAREHOUSE to a PostgreSQL URL "
            "(postgresql://user:password@host:5432/dbname) on the scheduler and every worker, "
            "or set AIRFLOW__CORE__EXECUTOR=LocalExecutor (docs/production.md, 'Scaling out')"
        )


def _refusal_type() -> type[DistributedDuckDB]:
    """In a task, also Airflow's ``AirflowFailException``: retrying cannot fix a configuration,
    so the task fails at once (and the run with it) instead of three times a minute apart."""
    if "airflow.sdk" not in sys.modules:  # the command line: plain ValueError, one-line message
        return DistributedDuckDB
    from airflow.sdk.exceptions import AirflowFailException

    return type(
        "DistributedDuckDBRefused",
        (DistributedDuckDB, AirflowFailException),
        {"__module__": __name__, "__doc__": DistributedDuckDB.__doc__},
    )
