"""``SINERGI_LOAD_IN_JUDGE``: the ``judge`` task loads what it judged, the districts report it.

A month judged and loaded by ``judge_period`` must leave the same warehouse rows and the same
district outcomes as the district tasks loading every version themselves (the default, as
under a scheduler); a version the judge could not load is loaded by its district task; and a
version is reported once only.
"""

from __future__ import annotations

import logging

import pytest

from sinergi.config import load_settings
from sinergi.periods import Period
from sinergi.pipeline import judge_period, prepare_period, process_district
from sinergi.synthetic import generate_inbox
from sinergi.warehouse import loader
from sinergi.warehouse.connection import open_warehouse

PERIOD = "2025-03"
DISTRICTS = ["3501", "3502", "3503", "3578"]
# what the judge decided, not when: judged_at is stamped at commit, received_at is the mtime
_FILE_VERSION_COLUMNS = (
    "district_code, dataset, version, file_name, sha256, status, rejection_reason, "
    "rows_total, rows_accepted, rows_rejected"
)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("inbox")
    generate_inbox(root, [PERIOD], seed=11, scale=0.0005, faults=True)
    return root


def _run(tmp_path, monkeypatch, inbox, *, judge_loads: bool, skip_one: bool = False):
    """prepare, judge, then every district task; the outcomes and the warehouse's rows."""
    monkeypatch.setenv("SINERGI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SINERGI_INBOX", str(inbox))
    monkeypatch.setenv("SINERGI_WAREHOUSE", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    monkeypatch.setenv("SINERGI_PII_KEY", "judge-loads-test-key")
    for name in ("SINERGI_REPORTS_DIR", "SINERGI_ARCHIVE_DIR", "SINERGI_WORK_DIR"):
        monkeypatch.delenv(name, raising=False)
    if judge_loads:
        monkeypatch.setenv("SINERGI_LOAD_IN_JUDGE", "true")  # as `sinergi run` sets it
    else:
        monkeypatch.delenv("SINERGI_LOAD_IN_JUDGE", raising=False)  # a scheduler's default
    settings = load_settings()
    assert settings.load_in_judge == judge_loads
    period = Period.parse(PERIOD)
    prepare_period(period, settings, DISTRICTS)
    if skip_one:
        real = loader.load_judged_folders

        def all_but_the_first(wh, folders):
            return real(wh, folders[1:])

        monkeypatch.setattr("sinergi.warehouse.loader.load_judged_folders", all_but_the_first)
    judged = judge_period(period, settings, DISTRICTS)
    wh = open_warehouse(settings.warehouse_url)
    with wh.connect() as conn:
        after_judge = wh.execute(conn, "select count(*) from audit.file_versions")[0][0]
    outcomes = {code: process_district(period, code, settings)["files"] for code in DISTRICTS}
    with wh.connect() as conn:
        versions = wh.execute(
            conn,
            f"select {_FILE_VERSION_COLUMNS} from audit.file_versions order by 1, 2, 3",
        )
        raw = {
            table: wh.execute(conn, f"select * from raw.{table} order by all")
            for table in ("dtks", "penerima_bantuan", "ppks", "psks")
        }
        rejections = wh.execute(conn, "select * from audit.row_rejections order by all")
    leftovers = sorted(p.name for p in (settings.work_dir / PERIOD).glob("*/*") if p.is_dir())
    return {
        "judged": judged,
        "after_judge": after_judge,
        "outcomes": outcomes,
        "versions": versions,
        "raw": raw,
        "rejections": rejections,
        "leftovers": leftovers,
    }


def test_the_judge_loads_and_the_districts_report_the_same(tmp_path, monkeypatch, inbox):
    by_judge = _run(tmp_path / "judge", monkeypatch, inbox, judge_loads=True)
    monkeypatch.undo()
    by_districts = _run(tmp_path / "districts", monkeypatch, inbox, judge_loads=False)
    recorded = len(by_judge["versions"])
    assert recorded > 10
    # the judge recorded every version itself; without its loads nothing was recorded by then
    assert by_judge["after_judge"] == recorded
    assert by_districts["after_judge"] == 0
    loaded = sum(d["loaded"] for d in by_judge["judged"]["datasets"].values())
    assert loaded == recorded
    # the same versions, rows and district outcomes either way; every outcome is news
    assert by_judge["versions"] == by_districts["versions"]
    assert by_judge["raw"] == by_districts["raw"]
    assert by_judge["rejections"] == by_districts["rejections"]
    assert by_judge["outcomes"] == by_districts["outcomes"]
    statuses = {f["status"] for files in by_judge["outcomes"].values() for f in files}
    assert "UNCHANGED" not in statuses
    assert {"ACCEPTED", "PARTIAL"} <= statuses
    assert by_judge["leftovers"] == [] and by_districts["leftovers"] == []


def test_a_version_the_judge_could_not_load_is_loaded_by_its_district(
    tmp_path, monkeypatch, inbox, caplog
):
    with caplog.at_level(logging.INFO, logger="sinergi"):
        run = _run(tmp_path, monkeypatch, inbox, judge_loads=True, skip_one=True)
    recorded = len(run["versions"])
    assert run["after_judge"] < recorded  # one folder per dataset was left to its district
    statuses = [f["status"] for files in run["outcomes"].values() for f in files]
    assert len(statuses) == recorded and "UNCHANGED" not in statuses
    assert run["leftovers"] == []


def test_a_version_is_reported_once(tmp_path, monkeypatch, inbox):
    """Run again: every version is recorded and its folder gone, so all are UNCHANGED."""
    _run(tmp_path, monkeypatch, inbox, judge_loads=True)
    settings = load_settings()
    period = Period.parse(PERIOD)
    judge_period(period, settings, DISTRICTS)
    again = {code: process_district(period, code, settings)["files"] for code in DISTRICTS}
    assert {f["status"] for files in again.values() for f in files} == {"UNCHANGED"}


def test_a_bad_setting_is_named(monkeypatch):
    monkeypatch.setenv("SINERGI_LOAD_IN_JUDGE", "maybe")
    with pytest.raises(ValueError, match="SINERGI_LOAD_IN_JUDGE must be true or false"):
        load_settings()
