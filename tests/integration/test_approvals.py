"""Approval and locking (issue 17) through the real DAG, on DuckDB and on PostgreSQL.

The scenario, two districts of a generated inbox (3507 Malang, 3510 Banyuwangi), January
and February 2025; 3507 sends no register in February, so January's carries forward:

1. run 2025-01 and 2025-02 (every run for the two districts only, as the monthly DAG's form
   or ``sinergi run --district`` reprocesses a subset: the marts still cover all 38);
2. the province approves 2025-01 of 3507 (``sinergi approve``);
3. 3507 corrects January: a roster without its first half of paid rows and a register with
   every household one decile poorer (v2 of both), and 2025-01 is run again: both are
   archived, judged and loaded, but **held** — the marts are those of the versions before,
   the feedback says so in Bahasa Indonesia and names the version that stays served;
4. ``sinergi unapprove``, and 2025-01 is run again: the corrections are served, and
   February's year-to-date and carried-forward figures follow.

After steps 3 and 4 every mart is compared with the independent oracle (``mart_oracle``)
computed from the files: in step 3 from the versions without the held ones, in step 4 from
all of them — exactly as if there had been no approval.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sinergi.cli import main, run_period_checked
from sinergi.config import load_settings
from sinergi.dagrun import task_states
from sinergi.periods import Period
from sinergi.synthetic import generate_inbox
from tests.contract_oracle import COLUMNS, dataset_of, expected_history, judge_file
from tests.integration import mart_oracle
from tests.integration.independent import (
    WarehouseReader,
    create_postgres_database,
    drop_postgres,
    environment,
    postgres_running,
)
from tests.integration.test_end_to_end import same

pytestmark = [pytest.mark.integration]

PERIODS = ("2025-01", "2025-02")
DISTRICTS = ("3507", "3510")
SEED, SCALE = 11, 0.0005
LOCKED = ("2025-01", "3507")
CORRECTED_AT = datetime(2025, 3, 20, 3, 0, tzinfo=UTC)
# marts whose figures an approval freezes (fct_submissions and fct_district_reporting also
# describe what arrived and the approval itself: checked on their own)
FIGURES = (
    "fct_program_reach",
    "fct_household_reach",
    "fct_ppks",
    "fct_psks",
    "fct_poverty",
    "fct_cross_district_duplicates",
    "fct_cross_district_duplicate_pairs",
    "fct_household_reach_latest",
)


def _file(folder: Path, dataset: str) -> Path:
    (path,) = [f for f in sorted(folder.iterdir()) if f.is_file() and dataset_of(f) == dataset]
    return path


def _accepted(path: Path, dataset: str, period: str) -> list[dict]:
    judged = judge_file(path, dataset, period, path.parent.name)
    return [dict(zip(COLUMNS[dataset], v, strict=True)) for v in judged.accepted().values()]


def _text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _upload(folder: Path, dataset: str, rows: list[dict]) -> None:
    path = _file(folder, dataset)
    path.unlink()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS[dataset])
    writer.writerows([[_text(row[c]) for c in COLUMNS[dataset]] for row in rows])
    target = folder / f"{dataset}.csv"
    target.write_bytes(out.getvalue().encode("utf-8"))
    os.utime(target, (CORRECTED_AT.timestamp(), CORRECTED_AT.timestamp()))


def _correct_january(inbox: Path) -> None:
    folder = inbox / LOCKED[0] / LOCKED[1]
    roster = _accepted(_file(folder, "penerima_bantuan"), "penerima_bantuan", LOCKED[0])
    paid = [i for i, r in enumerate(roster) if r["status_salur"] == "SALUR"]
    dropped = set(paid[: len(paid) // 2])
    assert dropped
    _upload(folder, "penerima_bantuan", [r for i, r in enumerate(roster) if i not in dropped])
    register = _accepted(_file(folder, "dtks"), "dtks", LOCKED[0])
    _upload(folder, "dtks", [r | {"desil": max(1, r["desil"] - 1)} for r in register])


def _marts(url: str) -> dict[str, list[dict]]:
    reader = WarehouseReader(url)
    return {m: reader.rows(f"select * from marts.{m}") for m in mart_oracle.GRAIN}


def _differences(expected: dict, got: dict, marts, skip=()) -> list:
    wrong = []
    for mart in marts:
        grain = mart_oracle.GRAIN[mart]
        want = {tuple(r[c] for c in grain): r for r in expected[mart]}
        have = {tuple(r[c] for c in grain): r for r in got[mart]}
        if set(want) != set(have):
            wrong.append((mart, "rows", len(want), len(have)))
            continue
        for key, row in want.items():
            for column in mart_oracle.columns(mart):
                if column not in skip and not same(row[column], have[key][column]):
                    wrong.append((mart, key, column, have[key][column], row[column]))
    return wrong


def _scenario(engine: str, folder: Path) -> dict:
    inbox = folder / "inbox"
    generate_inbox(inbox, list(PERIODS), seed=SEED, scale=SCALE, faults=False)
    for period in PERIODS:
        for sub in (inbox / period).iterdir():
            if sub.is_dir() and sub.name not in DISTRICTS:
                shutil.rmtree(sub)
    _file(inbox / "2025-02" / "3507", "dtks").unlink()  # January's register carries forward
    url = (
        f"duckdb:///{folder / 'warehouse.duckdb'}"
        if engine == "duckdb"
        else create_postgres_database()
    )
    env = {
        "SINERGI_DATA_DIR": str(folder / "data"),
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": url,
        "SINERGI_PII_KEY": f"approval-key-{uuid.uuid4().hex}",
    }
    runs, seen = [], {}
    out: dict = {"url": url, "states": [], "cli": []}

    def run(period: str, step: str) -> None:
        copy = folder / "runs" / f"{len(runs)}"
        shutil.copytree(inbox / period, copy / period)
        runs.append((period, copy))
        # the two districts only: the trigger form's subset (sinergi run --district)
        result = run_period_checked(Period.parse(period), load_settings(), list(DISTRICTS))
        out["states"].append(result.state)
        mapped = {i for (t, i) in task_states(result.run_id) if t == "validate_and_load"}
        out.setdefault("mapped", []).append(len(mapped))
        seen[step] = list(runs)

    def cli(*args: str) -> int:
        code = main([*args, "--period", LOCKED[0], "--district", LOCKED[1]])
        out["cli"].append(code)
        return code

    try:
        with environment(env):
            for period in PERIODS:
                run(period, "before")
            out["double_unapprove"] = cli("unapprove", "--note", "nothing yet")
            cli("approve", "--note", "angka Januari sudah dicek", "--by", "kabid_data")
            out["double_approve"] = cli("approve", "--note", "again")
            out["before"] = _marts(url)
            _correct_january(inbox)
            run(LOCKED[0], "held")
            out["held"] = _marts(url)
            reader = WarehouseReader(url)
            out["history"] = reader.rows(
                "select dataset, version, is_served, is_held_by_approval, served_version "
                "from audit.version_history where period = %s and district_code = %s",
                (Period.parse(LOCKED[0]).first_day, LOCKED[1]),
            )
            feedback = folder / "data" / "reports" / LOCKED[0] / "umpan-balik"
            out["feedback"] = (feedback / f"umpan-balik-{LOCKED[1]}.csv").read_text("utf-8-sig")
            cli("unapprove", "--note", "koreksi Januari diterima", "--by", "kabid_data")
            run(LOCKED[0], "released")
            out["released"] = _marts(url)
    except BaseException:
        if engine == "postgres":
            drop_postgres(url)
        raise
    out["runs"] = {step: [(p, str(c)) for p, c in r] for step, r in seen.items()}
    return out


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def scenario(request, tmp_path_factory, airflow_db):
    if request.param == "postgres" and not postgres_running():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    result = _scenario(request.param, tmp_path_factory.mktemp(f"approvals-{request.param}"))
    yield result
    if request.param == "postgres":
        drop_postgres(result["url"])


def _oracle(runs: list[tuple[str, str]], without_held: bool) -> dict:
    versions = expected_history((p, Path(c)) for p, c in runs)
    if without_held:  # what the approval keeps served: nothing the correction run added
        versions = [v for v in versions if not ((v.period, v.district) == LOCKED and v.version > 1)]
    return mart_oracle.compute_marts(versions, [p for p, _ in runs])


def test_every_run_succeeds_and_the_cli_refuses_what_it_must(scenario):
    assert scenario["states"] == ["success"] * 4
    assert scenario["mapped"] == [len(DISTRICTS)] * 4  # one district task per chosen district
    assert scenario["double_unapprove"] == 2  # nothing approved yet
    assert scenario["double_approve"] == 2  # already approved


def test_a_held_correction_is_loaded_reported_and_not_served(scenario):
    rows = {(r["dataset"], r["version"]): r for r in scenario["history"]}
    for dataset in ("penerima_bantuan", "dtks"):
        assert rows[(dataset, 2)]["is_held_by_approval"] is True
        assert rows[(dataset, 2)]["is_served"] is False
        assert rows[(dataset, 1)]["is_served"] is True
    text = scenario["feedback"]
    assert "DITAHAN" in text and "versi 1 tetap dipakai" in text
    assert "kabid_data" in text and "held_by_approval" in text


def test_while_held_every_figure_is_the_approved_one(scenario):
    expected = _oracle(scenario["runs"]["held"], without_held=True)
    assert _differences(expected, scenario["held"], FIGURES) == []
    assert _differences(scenario["before"], scenario["held"], FIGURES) == []
    served = {
        (r["dataset"], r["served_version"])
        for r in scenario["held"]["fct_submissions"]
        if (str(r["period"])[:7], r["district_code"]) == LOCKED
    }
    assert served == {("ppks", 1), ("psks", 1), ("penerima_bantuan", 1), ("dtks", 1)}
    approval = [
        r
        for r in scenario["held"]["fct_district_reporting"]
        if (str(r["period"])[:7], r["district_code"]) == LOCKED
    ][0]
    assert (approval["is_approved"], approval["datasets_approved"]) == (True, 4)
    assert approval["approved_by"] == "kabid_data" and approval["approved_at"] is not None


def test_after_unapproving_the_marts_are_as_if_there_had_been_no_approval(scenario):
    expected = _oracle(scenario["runs"]["released"], without_held=False)
    skip = ("datasets_approved", "is_approved", "approved_at", "approved_by")
    assert _differences(expected, scenario["released"], mart_oracle.GRAIN, skip) == []
    assert not any(r["is_approved"] for r in scenario["released"]["fct_district_reporting"])
    # and the correction really moved February: year to date and the carried-forward register
    before = _reach(scenario["held"], "2025-02", "3507")
    after = _reach(scenario["released"], "2025-02", "3507")
    assert before["eligible_households"] != after["eligible_households"]
    assert before["eligible_households_reached_ytd"] != after["eligible_households_reached_ytd"]


def _reach(marts: dict, period: str, district: str) -> dict:
    (row,) = [
        r
        for r in marts["fct_household_reach"]
        if str(r["period"])[:7] == period and r["district_code"] == district
    ]
    return row
