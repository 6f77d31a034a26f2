"""Whether the marts can have changed since their last successful build.

The marts are a function of the file versions recorded in ``audit.file_versions`` (append-only:
a version's rows in ``raw`` never change once committed), the processed periods, the approval
events (``audit.approvals``, append-only: they decide which version is served), the dbt
project (models, macros, seeds, tests) and the settings dbt reads as vars (eligibility and
outlier thresholds). Nothing in them depends
on the clock. :func:`fingerprint` hashes exactly those inputs; when it equals the fingerprint
of the last successful build (``audit.mart_builds``), building again would produce the same
marts, so the run skips dbt and dbt docs and its summary says so. Rows deleted from the
warehouse by hand are outside this promise (they need ``dbt build --full-refresh`` anyway).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime

from sinergi.dbt import hash_project
from sinergi.periods import Period
from sinergi.warehouse.connection import Warehouse
from sinergi.warehouse.schema import APPROVALS, FILE_VERSIONS, MART_BUILDS, PROCESSED_PERIODS


def fingerprint(wh: Warehouse, dbt_vars: Mapping[str, object]) -> str:
    """SHA-256 over the recorded versions and periods, the dbt project and the dbt vars
    (``Settings.dbt_vars``)."""
    digest = hashlib.sha256()
    with wh.connect() as conn:
        versions = wh.execute(
            conn, f"select count(*), max(judged_at) from {FILE_VERSIONS.qualified}"
        )[0]
        periods = wh.execute(
            conn, f"select count(*), max(period) from {PROCESSED_PERIODS.qualified}"
        )[0]
        approvals = wh.execute(conn, f"select count(*), max(event_at) from {APPROVALS.qualified}")[
            0
        ]
    digest.update(
        f"versions:{versions[0]}:{versions[1]}\nperiods:{periods[0]}:{periods[1]}\n"
        f"approvals:{approvals[0]}:{approvals[1]}\n".encode()
    )
    hash_project(digest, dbt_vars)
    return digest.hexdigest()


def last_built(wh: Warehouse) -> str | None:
    """The inputs fingerprint of the last successful build, or None before the first."""
    with wh.connect() as conn:
        rows = wh.execute(
            conn,
            f"select inputs_fingerprint from {MART_BUILDS.qualified} "
            "order by built_at desc limit 1",
        )
    return rows[0][0] if rows else None


def record_build(wh: Warehouse, period: Period, inputs: str) -> None:
    """Remember that the marts were built from ``inputs`` (called after dbt succeeded)."""
    with wh.transaction() as conn:
        wh.execute(
            conn,
            f"insert into {MART_BUILDS.qualified} (built_at, period, inputs_fingerprint) "
            "values (%s, %s, %s)",
            (datetime.now(UTC), period.first_day, inputs),
        )
