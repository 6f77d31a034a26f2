"""Version numbers are race-free (issue 12 §8): two loads of one (P, D, dataset) at once."""

from __future__ import annotations

import threading

import pytest

from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.loader import VersionConflict, _version_lock_id, load_judged_version
from tests.warehouse.judged_fixture import file_versions_row, judged_folder

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _load(wh, folder, version: int, sha: str) -> None:
    load_judged_version(wh, judged_folder(folder, version, sha))


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
            _load(wh, tmp_path / name, 1, sha)
            outcomes[name] = "loaded"
        except Exception as error:  # noqa: BLE001 - the test inspects what was raised
            outcomes[name] = error

    # Hold the (P, D, dataset) lock as a third loader would mid-transaction, so that both
    # loads below start together and meet at the same point.
    with psycopg.connect(postgres_url) as holder:
        holder.execute(
            "select pg_advisory_xact_lock(%s)", (_version_lock_id(file_versions_row(1, "x")),)
        )
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
    _load(wh, tmp_path / "a", 1, "a" * 64)

    with pytest.raises(VersionConflict, match="v1 was recorded for another file"):
        _load(wh, tmp_path / "b", 1, "b" * 64)
    with pytest.raises(VersionConflict, match="the same file was recorded as v1"):
        _load(wh, tmp_path / "c", 2, "a" * 64)
    assert _counts(wh) == (1, 4)

    _load(wh, tmp_path / "d", 2, "b" * 64)
    assert _counts(wh) == (2, 8)
