"""Resubmissions of one district, step by step, without the DAG (contract §1, §3, §7).

What the marts serve after a district corrects a file is the point of versioning, and it is
easy to get subtly wrong: a rejected resubmission must not replace served data, an unchanged
file or the re-uploaded bytes of an old version must change nothing, both files of a csv+xlsx
pair are versions of their own, and "on time" depends on the first *served* version's
received time (the file's mtime), inclusive at 23:59:59 Asia/Jakarta on day 10.

The sequence calls the pipeline's steps directly (``prepare_period``, ``process_district``,
``build_marts``) for district 3578 (Surabaya), period 2025-03:

1. ``psks`` v1 PARTIAL, received exactly at the deadline; ``ppks`` v1 REJECTED (empty), a day
   early; ``penerima_bantuan`` as both .csv and .xlsx (ambiguous);
2. ``psks`` v2 correction ACCEPTED a day late; ``ppks`` v2 ACCEPTED one second late;
3. ``psks`` v3 REJECTED (too many invalid rows);
4. the same inbox again (nothing new);
5. ``psks`` replaced by the bytes of v1 with a new upload time (not a new version).

Each step's observations are recorded once (shared between xdist workers) and the tests
below check them; every planted file is also judged by the contract oracle, so the test data
cannot silently stop meaning what the test says.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from sinergi.config import load_settings
from sinergi.periods import Period
from sinergi.pipeline import build_marts, prepare_period, process_district
from tests.contract_oracle import COLUMNS, judge_file
from tests.integration.independent import WarehouseReader, shared_run

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("resubmissions")]

PERIOD, DISTRICT = "2025-03", "3578"
DEADLINE = datetime.combine(
    datetime(2025, 4, 10).date(), time(23, 59, 59), ZoneInfo("Asia/Jakarta")
).astimezone(UTC)
PSKS_CODES = [f"PSKS{n:02d}" for n in range(1, 11)]


# --- the files ---------------------------------------------------------------------------------
def csv_bytes(dataset: str, rows: list[list[str]]) -> bytes:
    lines = [",".join(COLUMNS[dataset])] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def psks_rows(counts: list[str], codes: list[str] = PSKS_CODES) -> list[list[str]]:
    return [[PERIOD, DISTRICT, code, n] for code, n in zip(codes, counts, strict=True)]


PSKS_V1 = csv_bytes(  # one unknown code in ten rows: PARTIAL
    "psks", psks_rows([str(n) for n in range(1, 11)], [*PSKS_CODES[:9], "PSKS99"])
)
PSKS_V2 = csv_bytes("psks", psks_rows([str(100 + n) for n in range(1, 11)]))
PSKS_V3 = csv_bytes(  # three negative counts in ten rows: > 20 %, REJECTED
    "psks", psks_rows(["-1", "-2", "-3"] + [str(500 + n) for n in range(7)])
)
PPKS_V1 = csv_bytes("ppks", [])  # header only: REJECTED empty
PPKS_V2 = csv_bytes(
    "ppks",
    [
        [PERIOD, DISTRICT, "357801", "PPKS01", "LUAR_UPT", "2", "3", "5"],
        [PERIOD, DISTRICT, "357801", "PPKS02", "DALAM_UPT", "1", "0", "1"],
    ],
)
ROSTER = [
    # nik (woman born 5 Jan 1990), no_kk, sex, birth, village, programme, amount, date, status
    [PERIOD, DISTRICT, "3578014501900001", "3578010101200001", "P", "1990-01-05"]
    + ["3578010001", "SEMBAKO", "200000", "2025-03-05", "SALUR"],
    [PERIOD, DISTRICT, "3578010203850002", "3578010101200002", "L", "1985-03-02"]
    + ["3578010001", "PKH", "", "", "GAGAL"],
]


def xlsx_bytes(dataset: str, rows: list[list[str]], path: Path) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS[dataset]))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path.read_bytes()


def put(path: Path, data: bytes, received: datetime) -> None:
    """Upload: write the bytes and set the received time (the mtime, contract §1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (received.timestamp(), received.timestamp()))


# --- running the sequence ----------------------------------------------------------------------
def observe(url: str) -> dict:
    reader = WarehouseReader(url)
    versions = reader.rows(
        "select dataset, version, file_name, sha256, status, rejection_reason, rows_total, "
        "rows_accepted, rows_rejected, received_at from audit.file_versions "
        "where district_code = %s order by dataset, version",
        (DISTRICT,),
    )
    submissions = reader.rows(
        "select dataset, status, versions_received, served_version, is_on_time, rows_total, "
        "rows_accepted, rows_rejected, rejection_reason, first_received_at, last_received_at "
        "from marts.fct_submissions where district_code = %s",
        (DISTRICT,),
    )
    raw_psks = reader.rows(
        "select _version, _row_number, kode_psks, jumlah from raw.psks "
        "where _district_code = %s order by 1, 2",
        (DISTRICT,),
    )
    fct_psks = reader.rows(
        "select psks_code, is_reported, resource_count from marts.fct_psks "
        "where district_code = %s",
        (DISTRICT,),
    )
    snapshot = reader.snapshot()
    return {
        "versions": [
            {k: (str(v) if k == "received_at" else v) for k, v in r.items()} for r in versions
        ],
        "received_at": {f"{r['dataset']} v{r['version']}": r["received_at"] for r in versions},
        "submissions": {r["dataset"]: r for r in submissions},
        "raw_psks": [list(r.values()) for r in raw_psks],
        "fct_psks": {r["psks_code"]: [r["is_reported"], r["resource_count"]] for r in fct_psks},
        # every table but dbt's record of when each data test last passed, which a build
        # writes whether or not anything else changed (macros/new_rows.sql)
        "digests": {
            table: hashlib.sha256(repr(rows).encode()).hexdigest()
            for table, rows in snapshot.items()
            if table != "intermediate.data_test_passes"
        },
    }


def build_sequence(folder: Path) -> dict:
    inbox, district = folder / "inbox", folder / "inbox" / PERIOD / DISTRICT
    url = f"duckdb:///{folder / 'warehouse.duckdb'}"
    period = Period.parse(PERIOD)
    steps: dict[str, dict] = {}
    verdicts: dict[str, tuple] = {}

    def judge(name: str, path: Path, dataset: str, ambiguous: bool = False) -> None:
        j = judge_file(path, dataset, PERIOD, DISTRICT, ambiguous=ambiguous)
        verdicts[name] = (j.status, j.rejection_reason, j.rows_total, j.rows_rejected)

    def run(step: str, marts: bool = True) -> None:
        settings = load_settings()
        prepare_period(period, settings)
        outcome = process_district(period, DISTRICT, settings)
        if marts:
            build_marts([{"period": PERIOD, "district_code": DISTRICT}], settings)
        steps[step] = observe(url) | {
            "outcomes": sorted(
                [f["dataset"], f["file_name"], f["version"], f["status"]] for f in outcome["files"]
            )
        }

    env = {
        "SINERGI_DATA_DIR": str(folder / "data"),
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": url,
        "SINERGI_PII_KEY": "resubmission-test-key",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        for name in ("SINERGI_REPORTS_DIR", "SINERGI_ARCHIVE_DIR", "SINERGI_WORK_DIR"):
            mp.delenv(name, raising=False)

        put(district / "psks.csv", PSKS_V1, DEADLINE)  # exactly at the deadline: on time
        put(district / "ppks.csv", PPKS_V1, DEADLINE - timedelta(days=1))
        put(district / "penerima_bantuan.csv", csv_bytes("penerima_bantuan", ROSTER), DEADLINE)
        xlsx = xlsx_bytes("penerima_bantuan", ROSTER, folder / "roster.xlsx")
        put(district / "penerima_bantuan.xlsx", xlsx, DEADLINE + timedelta(hours=1))
        judge("psks v1", district / "psks.csv", "psks")
        judge("ppks v1", district / "ppks.csv", "ppks")
        for suffix in ("csv", "xlsx"):
            path = district / f"penerima_bantuan.{suffix}"
            judge(f"roster {suffix}", path, "penerima_bantuan", ambiguous=True)
            judge(f"roster {suffix} alone", path, "penerima_bantuan")
        run("1 first uploads")

        put(district / "psks.csv", PSKS_V2, DEADLINE + timedelta(days=1))
        put(district / "ppks.csv", PPKS_V2, DEADLINE + timedelta(seconds=1))
        judge("psks v2", district / "psks.csv", "psks")
        judge("ppks v2", district / "ppks.csv", "ppks")
        run("2 corrections")

        put(district / "psks.csv", PSKS_V3, DEADLINE + timedelta(days=2))
        judge("psks v3", district / "psks.csv", "psks")
        run("3 rejected resubmission")

        run("4 unchanged rerun")

        put(district / "psks.csv", PSKS_V1, DEADLINE + timedelta(days=3))
        run("5 v1 bytes again", marts=False)
        run("5 v1 bytes again, marts rebuilt")
    return {"steps": steps, "verdicts": verdicts}


@pytest.fixture(scope="module")
def sequence(tmp_path_factory):
    for run in shared_run(tmp_path_factory, "resubmissions", build_sequence):
        yield run.result


def step(sequence, name: str) -> dict:
    return sequence["steps"][name]


def version(observed: dict, dataset: str, number: int) -> dict:
    (row,) = [v for v in observed["versions"] if (v["dataset"], v["version"]) == (dataset, number)]
    return row


def counts(row: dict) -> tuple:
    return (row["status"], row["rejection_reason"], row["rows_total"], row["rows_rejected"])


# --- the oracle agrees with what the files were made to be -------------------------------------
def test_planted_files_mean_what_the_test_says(sequence):
    v = sequence["verdicts"]
    assert v["psks v1"] == ["PARTIAL", None, 10, 1]
    assert v["psks v2"] == ["ACCEPTED", None, 10, 0]
    assert v["psks v3"] == ["REJECTED", "too_many_invalid_rows", 10, 10]
    assert v["ppks v1"] == ["REJECTED", "empty", 0, 0]
    assert v["ppks v2"] == ["ACCEPTED", None, 2, 0]
    for suffix in ("csv", "xlsx"):
        assert v[f"roster {suffix} alone"] == ["ACCEPTED", None, 2, 0]
        assert v[f"roster {suffix}"] == ["REJECTED", "ambiguous_submission", 2, 2]


# --- step 1 ------------------------------------------------------------------------------------
def test_first_upload_partial_is_served_and_on_time(sequence):
    s = step(sequence, "1 first uploads")
    assert counts(version(s, "psks", 1)) == tuple(sequence["verdicts"]["psks v1"])
    psks = s["submissions"]["psks"]
    assert (psks["status"], psks["versions_received"], psks["served_version"]) == (
        "PARTIAL",
        1,
        1,
    )
    assert psks["is_on_time"] is True  # received at 23:59:59 WIB on day 10: inclusive
    assert [r[0] for r in s["raw_psks"]] == [1] * 9
    assert s["fct_psks"]["PSKS01"] == [True, 1]
    assert s["fct_psks"]["PSKS10"] == [True, 0]  # the rejected row is not served


def test_received_time_is_the_file_mtime(sequence):
    got = step(sequence, "2 corrections")["received_at"]
    expected = {
        "psks v1": DEADLINE,
        "psks v2": DEADLINE + timedelta(days=1),
        "ppks v1": DEADLINE - timedelta(days=1),
        "ppks v2": DEADLINE + timedelta(seconds=1),
    }
    for name, when in expected.items():
        assert datetime.fromisoformat(got[name]) == when, name


def test_both_files_of_an_ambiguous_pair_are_rejected_versions(sequence):
    s = step(sequence, "1 first uploads")
    roster = [v for v in s["versions"] if v["dataset"] == "penerima_bantuan"]
    assert [(v["version"], v["file_name"]) for v in roster] == [
        (1, "penerima_bantuan.csv"),  # received first
        (2, "penerima_bantuan.xlsx"),
    ]
    for v, suffix in zip(roster, ("csv", "xlsx"), strict=True):
        assert counts(v) == tuple(sequence["verdicts"][f"roster {suffix}"])
        assert v["rows_accepted"] == 0
    mart = s["submissions"]["penerima_bantuan"]
    assert (mart["status"], mart["versions_received"], mart["served_version"]) == (
        "REJECTED",
        2,
        None,
    )
    assert mart["rejection_reason"] == "ambiguous_submission"
    assert mart["is_on_time"] is False


# --- step 2 ------------------------------------------------------------------------------------
def test_correction_is_served(sequence):
    s = step(sequence, "2 corrections")
    assert counts(version(s, "psks", 2)) == tuple(sequence["verdicts"]["psks v2"])
    psks = s["submissions"]["psks"]
    assert (psks["status"], psks["versions_received"], psks["served_version"]) == (
        "ACCEPTED",
        2,
        2,
    )
    assert psks["is_on_time"] is True  # the first served version (v1) was on time
    assert psks["rows_total"] == 10 and psks["rows_rejected"] == 0
    # raw keeps every servable version; the mart serves v2's values only.
    assert sorted({r[0] for r in s["raw_psks"]}) == [1, 2]
    served = {r[2]: r[3] for r in s["raw_psks"] if r[0] == 2}
    assert served == {code: 100 + n for n, code in enumerate(PSKS_CODES, start=1)}
    assert {code: s["fct_psks"][code] for code in PSKS_CODES} == {
        code: [True, count] for code, count in served.items()
    }


def test_served_one_second_after_the_deadline_is_late(sequence):
    """ppks: v1 was on time but REJECTED, v2 (the first served) one second late."""
    ppks = step(sequence, "2 corrections")["submissions"]["ppks"]
    assert (ppks["status"], ppks["served_version"], ppks["versions_received"]) == (
        "ACCEPTED",
        2,
        2,
    )
    assert ppks["is_on_time"] is False
    first = datetime.fromisoformat(str(ppks["first_received_at"]))
    assert first == DEADLINE - timedelta(days=1)


# --- step 3 ------------------------------------------------------------------------------------
def test_rejected_resubmission_does_not_replace_served_data(sequence):
    before, s = step(sequence, "2 corrections"), step(sequence, "3 rejected resubmission")
    assert counts(version(s, "psks", 3)) == tuple(sequence["verdicts"]["psks v3"])
    psks = s["submissions"]["psks"]
    assert (psks["status"], psks["versions_received"], psks["served_version"]) == (
        "REJECTED",
        3,
        2,
    )
    assert psks["rejection_reason"] == "too_many_invalid_rows"
    assert (psks["rows_total"], psks["rows_accepted"], psks["rows_rejected"]) == (10, 0, 10)
    assert psks["is_on_time"] is True
    assert 3 not in {r[0] for r in s["raw_psks"]}
    assert s["raw_psks"] == before["raw_psks"]
    assert s["fct_psks"] == before["fct_psks"]


# --- steps 4 and 5 -----------------------------------------------------------------------------
def _changed(a: dict, b: dict) -> list[str]:
    return sorted(
        t
        for t in set(a["digests"]) | set(b["digests"])
        if a["digests"].get(t) != b["digests"].get(t)
    )


def test_unchanged_rerun_changes_nothing(sequence):
    before, after = step(sequence, "3 rejected resubmission"), step(sequence, "4 unchanged rerun")
    assert {"raw.psks", "audit.file_versions", "marts.fct_submissions"} <= set(after["digests"])
    assert not _changed(before, after)
    assert {o[3] for o in after["outcomes"]} == {"UNCHANGED"}


def test_reuploading_an_earlier_versions_bytes_is_no_new_version(sequence):
    before = step(sequence, "4 unchanged rerun")
    for name in ("5 v1 bytes again", "5 v1 bytes again, marts rebuilt"):
        after = step(sequence, name)
        assert not _changed(before, after), name
        assert ["psks", "psks.csv", 1, "UNCHANGED"] in after["outcomes"]
        assert max(v["version"] for v in after["versions"] if v["dataset"] == "psks") == 3
