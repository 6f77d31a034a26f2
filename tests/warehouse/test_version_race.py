"""Version numbers are race-free (issue 12 §8): two loads of one (P, D, dataset) at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from sinergi.judgement import ACCEPTED, Verdict
from sinergi.periods import Period
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.loader import (
    VersionConflict,
    VersionRecord,
    _version_lock_id,
    record_version,
)
from sinergi.warehouse.schema import RAW_TABLES
from sinergi.warehouse.spill import SpillWriter

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PERIOD = Period.parse("2025-03")


def _record(version: int, sha: str) -> VersionRecord:
    now = datetime(2025, 4, 2, tzinfo=UTC)
    return VersionRecord(
        PERIOD, "3578", "psks", version, "psks.csv", sha, 10, now, now, f"archive/{sha}.csv"
    )


def _verdict(folder: Path) -> Verdict:
    spill = SpillWriter(folder, RAW_TABLES["psks"], "accepted")
    spill.write(
        pd.DataFrame(
            {
                "_period": pd.Timestamp(PERIOD.first_day),
                "_district_code": "3578",
                "_version": 1,
                "_row_number": [2, 3, 4, 5],
                "kode_psks": "PSKS01",
                "jumlah": pd.array([1, 2, 3, 4], dtype="Int64"),
            }
        )
    )
    return Verdict(ACCEPTED, rows_total=4, accepted_parts=spill.parts)


def _counts(wh) -> tuple[int, int]:
    with wh.connect() as conn:
        versions = wh.execute(conn, "select count(*) from audit.file_versions")[0][0]
        rows = wh.execute(conn, "select count(*) from raw.psks")[0][0]
    return int(versions), int(rows)


def test_two_concurrent_loads_of_one_version_number_on_postgres(postgres_url, tmp_path):
    import psycopg

    wh = open_warehouse(postgres_url)
    wh.ensure_schema()
    outcomes: dict[str, object] = {}

    def load(name: str, sha: str) -> None:
        try:
            record_version(wh, _record(1, sha), _verdict(tmp_path / name), tmp_path / name)
            outcomes[name] = "loaded"
        except Exception as error:  # noqa: BLE001 - the test inspects what was raised
            outcomes[name] = error

    # Hold the (P, D, dataset) lock as a third loader would mid-transaction, so that both
    # loads below start together and meet at the same point.
    with psycopg.connect(postgres_url) as holder:
        holder.execute("select pg_advisory_xact_lock(%s)", (_version_lock_id(_record(1, "x")),))
        threads = [threading.Thread(target=load, args=(name, name * 64)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        threads[0].join(timeout=1.5)
        assert outcomes == {}, "a load went ahead while another held the version lock"
        holder.rollback()  # releases the lock
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(str(o) if o == "loaded" else type(o).__name__ for o in outcomes.values()) == [
        "VersionConflict",
        "loaded",
    ]
    conflict = next(o for o in outcomes.values() if isinstance(o, VersionConflict))
    assert "3578 psks 2025-03: v1 was recorded for another file" in str(conflict)
    assert _counts(wh) == (1, 4)  # one version, the rows of one load only


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_a_taken_number_or_already_loaded_bytes_are_refused_before_copying(
    engine, tmp_path, request
):
    url = (
        f"duckdb://{tmp_path}/w.duckdb"
        if engine == "duckdb"
        else request.getfixturevalue("postgres_url")
    )
    wh = open_warehouse(url)
    wh.ensure_schema()
    record_version(wh, _record(1, "a" * 64), _verdict(tmp_path / "a"), tmp_path / "a")

    with pytest.raises(VersionConflict, match="v1 was recorded for another file"):
        record_version(wh, _record(1, "b" * 64), _verdict(tmp_path / "b"), tmp_path / "b")
    with pytest.raises(VersionConflict, match="the same file was recorded as v1"):
        record_version(wh, _record(2, "a" * 64), _verdict(tmp_path / "c"), tmp_path / "c")
    assert _counts(wh) == (1, 4)

    record_version(wh, _record(2, "b" * 64), _verdict(tmp_path / "d"), tmp_path / "d")
    assert _counts(wh) == (2, 8)
