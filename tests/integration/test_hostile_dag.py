"""A hostile inbox through the real monthly DAG (issue 12, "done when").

Five districts send a normal generated month; among them a broken XLSX (sheet XML cut off
after the first rows), a dataset linked to the process environment, a district folder linked
outside the inbox and an XLSX bomb. The run must succeed: every district task and dbt
complete, the broken and oversized files are REJECTED ``unreadable``, the links are refused
with notices, nothing outside the inbox is read or archived, and the marts carry every
district that sent good data.
"""

from __future__ import annotations

import os
import shutil

import pytest

from sinergi.config import load_settings
from sinergi.periods import Period
from sinergi.synthetic import generate_inbox
from sinergi.synthetic.hostile import xlsx_bomb
from tests.integration.independent import WarehouseReader
from tests.integration.test_hostile_inbox import psks_workbook, rewrite_zip, sheet_of

pytestmark = [pytest.mark.integration]

PERIOD = "2025-03"
GOOD = {"3507", "3510", "3578"}  # districts whose data must reach the marts
BROKEN, LINKED = "3501", "3525"


@pytest.fixture
def hostile_inbox(settings_env, airflow_db, monkeypatch):
    inbox = settings_env / "inbox"
    generate_inbox(inbox, [PERIOD], seed=9, scale=0.0005, overwrite=True)
    folder = inbox / PERIOD
    for entry in folder.iterdir():
        if entry.is_dir() and entry.name not in GOOD | {BROKEN}:
            shutil.rmtree(entry)
    for entry in (folder / BROKEN).iterdir():
        entry.unlink()
    broken = folder / BROKEN / "psks.xlsx"
    psks_workbook(broken, BROKEN, 3000)
    xml = sheet_of(broken)
    rewrite_zip(broken, xml[: len(xml) // 2])
    xlsx_bomb(folder / BROKEN / "ppks.xlsx", 2_000_000)
    secret = settings_env / "secret.txt"
    secret.write_text("periode,kode_kabkota,kode_psks,jumlah\nTOP-SECRET-VALUE\n")
    for entry in (folder / "3507").iterdir():
        if entry.name.lower().startswith("dtks."):
            entry.unlink()
    os.symlink("/proc/self/environ", folder / "3507" / "dtks.csv")
    outside = settings_env / "outside" / LINKED
    outside.mkdir(parents=True)
    (outside / "psks.csv").symlink_to(secret)
    shutil.copy(next((folder / "3578").glob("ppks.*")), outside)
    os.symlink(outside, folder / LINKED)
    monkeypatch.setenv("SINERGI_PII_KEY", "hostile-dag-test-key-" + "x" * 20)
    return inbox


def test_hostile_inbox_fails_no_district_and_dbt_completes(hostile_inbox):
    from sinergi.cli import run_period_checked

    result = run_period_checked(Period.parse(PERIOD), load_settings())
    assert result.state == "success", result.problems

    settings = load_settings()
    reader = WarehouseReader(settings.warehouse_url)
    versions = {
        (r["district_code"], r["dataset"]): r
        for r in reader.rows(
            "select district_code, dataset, status, rejection_reason from audit.file_versions"
        )
    }
    for dataset in ("psks", "ppks"):
        version = versions[(BROKEN, dataset)]
        assert (version["status"], version["rejection_reason"]) == ("REJECTED", "unreadable")
    assert (LINKED, "psks") not in versions and (LINKED, "ppks") not in versions
    assert ("3507", "dtks") not in versions
    notices = {r["notice_code"] for r in reader.rows("select notice_code from audit.inbox_notices")}
    assert notices & {"symlink_refused", "not_a_regular_file"}

    archived = b"".join(p.read_bytes() for p in settings.archive_dir.rglob("*") if p.is_file())
    assert b"TOP-SECRET-VALUE" not in archived and b"SINERGI_PII_KEY" not in archived

    served = reader.rows(
        "select district_code from marts.fct_submissions "
        f"where period = date '{PERIOD}-01' and served_version is not null"
    )
    assert {r["district_code"] for r in served} == GOOD
