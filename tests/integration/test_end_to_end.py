"""End to end: a generated inbox through the real DAG, several periods with resubmissions,
and every mart compared with an independent computation.

Once on DuckDB and once on PostgreSQL: the pipeline promises the same results on both
engines, and a type or SQL dialect slip shows up only on the one that was not tested.

The scenario (one per engine, ``_build``): the generator's inbox for January-March 2025 with
faults (rejected, partial and ambiguous files, stray files, an unknown district folder),
kept for five districts only: the other 33 send nothing, which the marts must show as
MISSING / not reported / NULL. Before the first run (``prepare_inbox``):

* 3521 sends no roster in February (not reported, while its register is served), and that
  register has no eligible household (0, carried forward to March); 3507 sends no register
  in January (reported, but no snapshot in effect: eligibility is NULL);
* cross-district payments: the generator's January duplicate (3510 and 3521), and planted
  ones: in February a person paid by 3507 and 3522 (3510's payment to them failed, so it is
  not counted) and one paid by 3514 under another programme (no duplicate); in March a person
  paid by three districts.

Runs: 2025-01, 2025-02, 2025-03; then the districts correct January and it is run again
(``correct_january``):

* 3510 re-uploads its roster (v2, late): the duplicate with 3521 disappears, a new one (a
  person 3522 pays too) appears, a payment fails, and a household eligible in February's
  register gets its first payment of the year (year-to-date of February and March change);
* 3522 re-uploads its register (v2): eligibility changes, and 3522 sends no register in
  February or March, so the carried-forward figures of both later months change;
* 3514 replaces its rejected ambiguous csv+xlsx register with one file (v3, late: not on
  time);
* 3510's register (v2) and 3521's roster (v2) are REJECTED resubmissions: the January data
  they would replace stays served.

The expected figures come from the files only: the contract oracle
(``tests/contract_oracle.py``) judges every version each run created, and the mart oracle
(``mart_oracle.py``) computes the twelve marts from its verdicts in plain pandas. The
warehouse is read with plain duckdb / psycopg (``independent.py``), never through the
pipeline's own reader, rules or connection code.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import shutil
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sinergi.cli import run_period
from sinergi.periods import Period
from sinergi.synthetic import generate_inbox
from tests.contract_oracle import (
    COLUMNS,
    PERSONAL,
    ExpectedVersion,
    dataset_of,
    expected_history,
    is_valid_nik,
    judge_file,
    normalise_header,
    scan_period,
)
from tests.integration import mart_oracle
from tests.integration.independent import (
    SharedRun,
    WarehouseReader,
    actual_raw,
    create_postgres_database,
    drop_postgres,
    environment,
    expected_raw,
    period_text,
    postgres_running,
    shared_run,
)
from tests.integration.outlier_oracle import compute_outliers

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("e2e")]
PERIODS = ("2025-01", "2025-02", "2025-03")  # from January: year-to-date over three months
RUNS = (*PERIODS, "2025-01")  # the last run: January again, after the corrections
DISTRICTS = ("3507", "3510", "3514", "3521", "3522")
SEED, SCALE = 7, 0.0005
DATASETS = tuple(COLUMNS)
MARTS = tuple(mart_oracle.GRAIN)
JAKARTA = ZoneInfo("Asia/Jakarta")
CORRECTED_AT = datetime(2025, 4, 14, 9, 0, tzinfo=JAKARTA)  # after the January deadline

# Differences between the pipeline and the oracle that are pipeline bugs, by (engine, mart)
# ("*": both engines). Each is a strict xfail: fixing the bug makes the test fail until the
# entry is removed.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


# --- the scenario ------------------------------------------------------------------------------
def _district_codes() -> set[str]:
    return set(mart_oracle.reference("districts")["district_code"])


def _files(folder: Path, dataset: str) -> list[Path]:
    return [f for f in sorted(folder.iterdir()) if f.is_file() and dataset_of(f) == dataset]


def _judged(folder: Path, dataset: str, period: str):
    """The contract's judgement of the one file of ``dataset`` in a district folder."""
    (path,) = _files(folder, dataset)
    return judge_file(path, dataset, period, folder.name)


def _cells(judgement) -> list[dict[str, str | None]]:
    """The accepted rows of a judged file, as the district's own cell texts."""
    rejected = judgement.reasons_by_row
    return [cells for number, cells in judgement.read.rows if number not in rejected]


def _normalised(judgement, dataset: str) -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS[dataset], v, strict=True)) for v in judgement.accepted().values()]


def _upload(folder: Path, dataset: str, rows: list[dict], received: datetime) -> None:
    """Replace a district's file(s) of ``dataset`` with a plain CSV, received at ``received``."""
    for old in _files(folder, dataset):
        old.unlink()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS[dataset])
    writer.writerows([[row.get(c) or "" for c in COLUMNS[dataset]] for row in rows])
    path = folder / f"{dataset}.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    os.utime(path, (received.timestamp(), received.timestamp()))


def _birth_date(nik: str) -> str:
    """The birth date a NIK encodes (digits 7-12, women's day + 40)."""
    day, month, year = int(nik[6:8]) % 40, int(nik[8:10]), int(nik[10:12])
    return date(2000 + year if year < 25 else 1900 + year, month, day).isoformat()


def _append(path: Path, rows: list[dict[str, str | None]]) -> None:
    """Add rows to a district's CSV file in its own layout (encoding, delimiter, column order,
    line ends), keeping its received time: as if the district had typed them in."""
    data = path.read_bytes()
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1252"), "cp1252"
    newline = "\r\n" if "\r\n" in text else ("\r" if "\r" in text else "\n")
    header = text.removeprefix("\ufeff").split(newline, 1)[0]
    assert (";" in header) != ("," in header), header
    delimiter = ";" if ";" in header else ","
    names = [normalise_header(n) for n in next(csv.reader([header], delimiter=delimiter))]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerows([[row.get(n) or "" for n in names] for row in rows])
    text += "" if text.endswith(newline) else newline
    stat = path.stat()
    path.write_bytes((text + out.getvalue()).encode(encoding))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _paid_elsewhere(
    inbox: Path, period: str, source: str, index: int, district: str, **change: str
) -> dict:
    """The ``index``-th paid row of ``source``'s roster, as ``district`` would list it."""
    person = [n for _, n in _roster(inbox, period, source) if n["status_salur"] == "SALUR"][index]
    village = _roster(inbox, period, district)[0][1]["kode_desa"]
    return _texts(person) | {"kode_kabkota": district, "kode_desa": village, **change}


def prepare_inbox(inbox: Path) -> None:
    """Before the first run: keep five districts' folders (unknown-district folders and stray
    files stay: they are reported), take 3521's February roster and 3507's January register
    away, and plant cross-district payments in February and March."""
    codes = _district_codes()
    for period in PERIODS:
        for folder in (inbox / period).iterdir():
            if folder.is_dir() and folder.name in codes and folder.name not in DISTRICTS:
                shutil.rmtree(folder)
    for path in _files(inbox / "2025-02" / "3521", "penerima_bantuan"):
        path.unlink()
    for path in _files(inbox / "2025-01" / "3507", "dtks"):
        path.unlink()

    # 3521's February register (carried forward to March, whose register is rejected) has no
    # eligible household: eligible 0 (not NULL), every rate over it NULL.
    (path,) = _files(inbox / "2025-02" / "3521", "dtks")
    register = _normalised(_judged(path.parent, "dtks", "2025-02"), "dtks")
    rows = [_texts(h) | {"desil": str(max(h["desil"], 5))} for h in register]
    _upload(path.parent, "dtks", rows, datetime.fromtimestamp(path.stat().st_mtime, UTC))

    def roster(period: str, district: str) -> Path:
        (path,) = _files(inbox / period / district, "penerima_bantuan")
        return path

    # February: a person 3507 pays is paid by 3522 too (a duplicate), but 3510's payment to
    # them failed (not paid: no duplicate); another is paid by 3514 under another programme.
    feb = "2025-02"
    _append(roster(feb, "3522"), [_paid_elsewhere(inbox, feb, "3507", 0, "3522")])
    _append(
        roster(feb, "3510"), [_paid_elsewhere(inbox, feb, "3507", 0, "3510", status_salur="GAGAL")]
    )
    other = _paid_elsewhere(inbox, feb, "3507", 1, "3514")
    other["kode_program"] = "BLT_DD" if other["kode_program"] != "BLT_DD" else "PKH"
    other["nilai_bantuan"] = "300000"
    _append(roster(feb, "3514"), [other])
    # March: a person 3510 pays is paid by 3514 and 3522 too (three rows).
    mar = "2025-03"
    for district in ("3514", "3522"):
        _append(roster(mar, district), [_paid_elsewhere(inbox, mar, "3510", 0, district)])


def _roster(inbox: Path, period: str, district: str) -> list[tuple[dict, dict]]:
    """(cell texts, normalised values) of the accepted rows of a district's roster."""
    judgement = _judged(inbox / period / district, "penerima_bantuan", period)
    return list(zip(_cells(judgement), _normalised(judgement, "penerima_bantuan"), strict=True))


def _paid_households(inbox: Path, period: str, district: str) -> set[str]:
    return {n["no_kk"] for _, n in _roster(inbox, period, district) if n["status_salur"] == "SALUR"}


Upload = tuple[str, str, list[dict], datetime]  # district, dataset, rows, received time


def correct_january(inbox: Path) -> list[Upload]:
    """The resubmissions for 2025-01 that are uploaded after every period ran once (module
    docstring). Made before the first run from the files as they are then, so that a
    generator that no longer plants what they need fails at once, not after three runs."""
    jan, period = inbox / "2025-01", "2025-01"
    uploads: list[Upload] = []

    # 3510's roster: drop the person 3521 pays too, pay a person 3522 pays too, fail a payment
    # (of a household paid again in February), and pay a household eligible in February that
    # no roster of 3510 pays.
    roster = _roster(inbox, period, "3510")
    theirs = {n["nik"] for _, n in _roster(inbox, period, "3521")}
    kept = [(c, n) for c, n in roster if n["nik"] not in theirs]
    assert len(kept) < len(roster), "the generator no longer plants a 3510/3521 duplicate"
    february = _paid_households(inbox, "2025-02", "3510")
    fail = next(c for c, n in kept if n["status_salur"] == "SALUR" and n["no_kk"] in february)
    fail["status_salur"] = "GAGAL"
    twin = next(n for _, n in _roster(inbox, period, "3522") if n["status_salur"] == "SALUR")
    twin = _texts(twin) | {"kode_kabkota": "3510", "kode_desa": roster[0][1]["kode_desa"]}
    paid = set().union(*(_paid_households(inbox, p, "3510") for p in PERIODS))
    niks = {n["nik"] for _, n in roster}
    register = _normalised(_judged(inbox / "2025-02" / "3510", "dtks", "2025-02"), "dtks")
    household = next(
        h
        for h in register
        if h["status_dtks"] == "AKTIF"
        and h["desil"] <= 4
        and h["no_kk"] not in paid
        and h["nik_kepala_keluarga"] not in niks
    )
    head = household["nik_kepala_keluarga"]
    first_payment = {
        "periode": period,
        "kode_kabkota": "3510",
        "nik": head,
        "no_kk": household["no_kk"],
        "jenis_kelamin": "P" if int(head[6:8]) > 40 else "L",
        "tanggal_lahir": _birth_date(head),
        "kode_desa": household["kode_desa"],
        "kode_program": "BLT_DD",
        "nilai_bantuan": "300000",
        "tanggal_salur": "2025-01-20",
        "status_salur": "SALUR",
    }
    rows = [c for c, _ in kept] + [twin, first_payment]
    uploads.append(("3510", "penerima_bantuan", rows, CORRECTED_AT))

    # 3522's register (v1 PARTIAL): four eligible households leave (those paid in February
    # first), two others become eligible. 3522 sends no register in February or March: both
    # months carry this one forward.
    register = _normalised(_judged(jan / "3522", "dtks", period), "dtks")
    february = _paid_households(inbox, "2025-02", "3522")
    eligible = sorted(
        (h for h in register if h["status_dtks"] == "AKTIF" and h["desil"] <= 4),
        key=lambda h: h["no_kk"] not in february,
    )
    others = [h for h in register if h["desil"] > 4]
    assert len(eligible) >= 4 and len(others) >= 2 and eligible[0]["no_kk"] in february
    for h in eligible[:4]:
        h["status_dtks"] = "NONAKTIF"
    for h in others[:2]:
        h |= {"status_dtks": "AKTIF", "desil": 2}
    uploads.append(("3522", "dtks", [_texts(h) for h in register], CORRECTED_AT))

    # 3514: one register file instead of the ambiguous pair (its February rows, as January).
    register = _normalised(_judged(inbox / "2025-02" / "3514", "dtks", "2025-02"), "dtks")
    rows = [_texts(h) | {"periode": period} for h in register]
    uploads.append(("3514", "dtks", rows, CORRECTED_AT))

    # Rejected resubmissions: 3510's register with every decile 0 (too many invalid rows),
    # 3521's roster with no data row (empty).
    register = [r | {"desil": "0"} for r in _cells(_judged(jan / "3510", "dtks", period))]
    uploads.append(("3510", "dtks", register, CORRECTED_AT.replace(hour=10)))
    uploads.append(("3521", "penerima_bantuan", [], CORRECTED_AT.replace(hour=11)))
    return uploads


def _texts(row: dict[str, Any]) -> dict[str, str | None]:
    """Normalised values back to cell texts (dates as YYYY-MM-DD)."""
    return {c: (None if v is None else str(v)) for c, v in row.items()}


def _mapped_instances() -> dict[str, list]:
    """The latest DAG run's ``validate_and_load`` instances: label -> [[map_index, state]]."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        run = (
            session.query(DagRun)
            .filter(DagRun.dag_id == "sinergi_monthly")
            .order_by(DagRun.id.desc())
            .first()
        )
        rows = (
            session.query(
                TaskInstance.map_index, TaskInstance.rendered_map_index, TaskInstance.state
            )
            .filter(TaskInstance.dag_id == "sinergi_monthly")
            .filter(TaskInstance.task_id == "validate_and_load")
            .filter(TaskInstance.run_id == run.run_id)
            .all()
        )
    out: dict[str, list] = {}
    for map_index, label, state in rows:
        out.setdefault(str(label), []).append([int(map_index), str(state)])
    return out


def _build(engine: str, folder: Path) -> dict:
    for name in ("SINERGI_ELIGIBLE_MAX_DECILE", "SINERGI_DEADLINE_DAY", "SINERGI_DEADLINE_TIME"):
        assert not os.environ.get(name), f"{name} is set; the oracle holds to the default"
    inbox = folder / "inbox"
    generate_inbox(inbox, list(PERIODS), seed=SEED, scale=SCALE, faults=True)
    prepare_inbox(inbox)
    corrections = correct_january(inbox)
    url = (
        f"duckdb:///{folder / 'warehouse.duckdb'}"
        if engine == "duckdb"
        else create_postgres_database()
    )
    key = f"e2e-key-{uuid.uuid4().hex}"
    env = {
        "SINERGI_DATA_DIR": str(folder / "data"),
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": url,
        "SINERGI_PII_KEY": key,
    }
    runs, states, instances, seconds = [], [], [], []
    try:
        with environment(env):
            for index, period in enumerate(RUNS):
                if index == len(PERIODS):
                    for district, dataset, rows, received in corrections:
                        _upload(inbox / "2025-01" / district, dataset, rows, received)
                # What this run reads, kept for the oracle: later uploads replace the files.
                seen = folder / "runs" / str(index)
                shutil.copytree(inbox / period, seen / period)
                started = time.perf_counter()
                states.append(run_period(Period.parse(period)))
                seconds.append(round(time.perf_counter() - started, 1))
                instances.append(_mapped_instances())
                runs.append([period, str(seen)])
    except BaseException:
        if engine == "postgres":
            drop_postgres(url)
        raise
    return {
        "engine": engine,
        "url": url,
        "inbox": str(inbox),
        "env": env,
        "runs": runs,
        "states": states,
        "instances": instances,
        "seconds": seconds,
    }


def _cleanup(run: SharedRun) -> None:
    if run.result["url"].startswith("postgresql"):
        drop_postgres(run.result["url"])


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def clean_run(request, tmp_path_factory, airflow_db):
    """The scenario run through the DAG once per engine, shared by this module's tests on
    every xdist worker. Session scope: a worker lets go of the PostgreSQL database only when
    its session ends, so it is not dropped while another worker still needs it."""
    if request.param == "postgres" and not postgres_running():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    yield from shared_run(
        tmp_path_factory,
        f"e2e-{request.param}",
        lambda folder: _build(request.param, folder),
        _cleanup if request.param == "postgres" else None,  # a DuckDB file can stay
    )


# --- the oracle --------------------------------------------------------------------------------
_ORACLE: dict[str, tuple[list[ExpectedVersion], dict]] = {}


def history(run: SharedRun) -> list[ExpectedVersion]:
    """Every file version the runs created, judged by the contract oracle."""
    return _oracle(run)[0]


def expected_marts(run: SharedRun) -> dict[str, list[dict]]:
    return _oracle(run)[1]


def _oracle(run: SharedRun) -> tuple[list[ExpectedVersion], dict]:
    name = str(run.folder)
    if name not in _ORACLE:
        versions = expected_history((p, Path(root)) for p, root in run.result["runs"])
        _ORACLE[name] = (versions, mart_oracle.compute_marts(versions, RUNS))
    return _ORACLE[name]


def query(run: SharedRun, sql: str, params: tuple = ()) -> list[dict]:
    with run.reading():
        return WarehouseReader(run.result["url"]).rows(sql, params)


# --- the scenario means what it says -----------------------------------------------------------
def test_runs_succeed(clean_run):
    assert clean_run.result["states"] == ["success"] * len(RUNS), clean_run.result["seconds"]


def test_the_scenario_holds_what_it_claims(clean_run):
    """Checked on the oracle's side, so the comparisons below are not vacuous."""
    versions = history(clean_run)
    marts = expected_marts(clean_run)
    assert {v.district for v in versions} == set(DISTRICTS)
    assert {v.judgement.status for v in versions} == {"ACCEPTED", "PARTIAL", "REJECTED"}
    assert len({v.judgement.rejection_reason for v in versions}) >= 4
    slots = {
        (r["period"].isoformat()[:7], r["district_code"], r["dataset"]): r
        for r in marts["fct_submissions"]
    }
    # Corrections served, rejected resubmissions not, a late first served version.
    assert slots[("2025-01", "3510", "penerima_bantuan")]["served_version"] == 2
    assert slots[("2025-01", "3522", "dtks")]["served_version"] == 2
    for key in (("2025-01", "3510", "dtks"), ("2025-01", "3521", "penerima_bantuan")):
        assert (slots[key]["status"], slots[key]["served_version"]) == ("REJECTED", 1), key
    j3514 = slots[("2025-01", "3514", "dtks")]
    assert (j3514["served_version"], j3514["is_on_time"]) == (3, False)
    assert slots[("2025-02", "3521", "penerima_bantuan")]["status"] == "MISSING"
    assert any(r["is_on_time"] for r in slots.values())
    # Every kind of household-reach row.
    reach = marts["fct_household_reach"]
    silent = _district_codes() - set(DISTRICTS)
    assert all(
        not r["is_reported"] and r["dtks_period"] is None and r["households_reached"] is None
        for r in reach
        if r["district_code"] in silent
    )
    assert any(not r["is_reported"] and r["eligible_households"] is not None for r in reach)
    assert any(r["is_reported"] and r["dtks_period"] is None for r in reach)  # 3507 Jan
    assert any(r["is_reported"] and r["eligible_households"] == 0 for r in reach)  # 3521 Mar
    assert any(r["dtks_period"] and r["dtks_period"] < r["period"] for r in reach)
    assert any(
        r["eligible_households_reached_ytd"] is not None
        and r["eligible_households_reached_ytd"] > r["eligible_households_reached"]
        for r in reach
    )
    # A served roster that paid nobody by a programme (0, not NULL), and 3507, the one district
    # with a 2025 BPS poor population: eligible individuals per poor person.
    assert any(r["is_reported"] and r["recipients"] == 0 for r in marts["fct_program_reach"])
    assert any(r["eligible_individuals_per_poor_person"] for r in marts["fct_poverty"])
    assert any(r["eligible_individuals"] == 0 for r in marts["fct_poverty"])
    # Cross-district duplicates in every period.
    totals = {}
    for r in marts["fct_cross_district_duplicates"]:
        totals[r["period"]] = totals.get(r["period"], 0) + r["duplicate_persons"]
    assert len(totals) == 3 and all(totals.values()), totals
    assert any(r["duplicate_rows"] == 3 for r in marts["fct_cross_district_duplicates"])
    # Re-running January changed January's duplicates and February's / March's carried-forward
    # eligibility and year-to-date figures (the oracle before the last run says otherwise).
    before = mart_oracle.compute_marts(
        expected_history((p, Path(root)) for p, root in clean_run.result["runs"][:-1]), PERIODS
    )

    def differ(mart: str, district: str | None, period: str) -> set[str]:
        rows = [
            (a, b)
            for a, b in zip(before[mart], marts[mart], strict=True)
            if a["period"].isoformat()[:7] == period and district in (None, a.get("district_code"))
        ]
        return {c for a, b in rows for c in a if a[c] != b[c]}

    assert differ("fct_cross_district_duplicates", None, "2025-01")
    for period in ("2025-02", "2025-03"):
        assert differ("fct_cross_district_duplicates", None, period) == set()
        assert {"eligible_households", "eligible_households_reached_ytd"} <= differ(
            "fct_household_reach", "3522", period
        )
        assert "eligible_households_reached_ytd" in differ("fct_household_reach", "3510", period)


def test_file_versions_match_the_oracle(clean_run):
    rows = query(
        clean_run,
        "select period, district_code, dataset, version, file_name, status, rejection_reason, "
        "rows_total, rows_accepted, rows_rejected, received_at from audit.file_versions",
    )
    got = {
        (period_text(r["period"]), r["district_code"], r["dataset"], r["version"]): (
            r["file_name"],
            r["status"],
            r["rejection_reason"],
            r["rows_total"],
            r["rows_accepted"],
            r["rows_rejected"],
            r["received_at"].timestamp(),
        )
        for r in rows
    }
    expected = {
        (v.period, v.district, v.dataset, v.version): (
            v.path.name,
            v.judgement.status,
            v.judgement.rejection_reason,
            v.judgement.rows_total,
            v.judgement.rows_accepted,
            v.judgement.rows_rejected,
            v.path.stat().st_mtime,
        )
        for v in history(clean_run)
    }
    assert len(expected) >= 50
    differ = {k: (got.get(k), expected.get(k)) for k in set(got) | set(expected)}
    differ = {k: pair for k, pair in differ.items() if pair[0] != pair[1]}
    assert not differ, "(pipeline, oracle):\n" + "\n".join(
        f"{k}: {pair}" for k, pair in sorted(differ.items())
    )


def test_raw_rows_are_the_files_rows_normalised_and_pseudonymised(clean_run):
    """Every accepted row of every servable version, value by value: types, codes, dates and
    HMACs of NIK / No. KK."""
    expected = expected_raw(history(clean_run), clean_run.result["env"]["SINERGI_PII_KEY"])
    with clean_run.reading():
        got = actual_raw(WarehouseReader(clean_run.result["url"]))
    for dataset in DATASETS:
        assert expected[dataset], dataset
        missing, extra = expected[dataset] - got[dataset], got[dataset] - expected[dataset]
        assert not missing and not extra, (dataset, sorted(missing)[:3], sorted(extra)[:3])


def test_no_raw_nik_outside_quarantine(clean_run):
    niks = set()
    for v in history(clean_run):
        if v.judgement.read is None:
            continue
        for _, cells in v.judgement.read.rows:
            niks |= {
                cells[c] for c in PERSONAL.get(v.dataset, ()) if is_valid_nik(cells.get(c) or "")
            }
    assert len(niks) > 300
    for table in ("raw.penerima_bantuan", "raw.dtks"):
        values = {
            str(v) for row in query(clean_run, f"select * from {table}") for v in row.values()
        }
        assert not (values & niks), table


def test_every_inbox_folder_is_accounted_for(clean_run):
    """The districts that sent nothing are MISSING for every dataset of every period."""
    rows = query(
        clean_run, "select period, district_code, dataset, status from marts.fct_submissions"
    )
    silent = _district_codes() - set(DISTRICTS)
    for period, root in clean_run.result["runs"]:
        sent = {d for d, _ in scan_period(Path(root), period).submissions}
        assert sent == set(DISTRICTS), period
    assert {r["status"] for r in rows if r["district_code"] in silent} == {"MISSING"}


def _districts_with_new_bytes(clean_run) -> list[set[str]]:
    """Per run, the districts whose folder held bytes no earlier run of that period had seen
    (hashed here from the copies the runs read, not by the pipeline)."""
    seen: dict[tuple[str, str, str], set[str]] = {}
    out = []
    for period, root in clean_run.result["runs"]:
        new = set()
        for folder in sorted((Path(root) / period).iterdir()):
            if folder.name not in _district_codes():  # a stray folder is a period notice
                continue
            for path in sorted(folder.iterdir()) if folder.is_dir() else []:
                name = path.name.lower()
                if not (path.is_file() and name.endswith((".csv", ".xlsx"))):
                    continue
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                known = seen.setdefault((period, folder.name, name.rsplit(".", 1)[0]), set())
                if digest not in known:
                    known.add(digest)
                    new.add(folder.name)
        out.append(new)
    return out


def test_dag_run_maps_one_instance_per_district_with_something_new(clean_run):
    expected = _districts_with_new_bytes(clean_run)
    assert expected[0] == set(DISTRICTS)  # the first month: everyone who sent files
    assert len(expected[-1]) < len(DISTRICTS)  # the correction run: only the corrected
    for instances, new in zip(clean_run.result["instances"], expected, strict=True):
        assert set(instances) == new
        assert all(len(runs) == 1 for runs in instances.values())
        assert sorted(i for runs in instances.values() for i, _ in runs) == list(range(len(new)))
        assert all(state == "success" for runs in instances.values() for _, state in runs)


# --- every mart, every row, every column -------------------------------------------------------
GRAIN_SIZE = {
    "dim_districts": 38,
    "dim_programs": len(mart_oracle.reference("programs")),
    "dim_ppks_categories": 26,
    "dim_psks_types": 12,
    "fct_submissions": len(PERIODS) * 38 * 4,
    "fct_reporting_rates": len(PERIODS) * 4,
    "fct_program_reach": len(PERIODS) * 38 * len(mart_oracle.reference("programs")),
    "fct_household_reach": len(PERIODS) * 38,
    "fct_ppks": len(PERIODS) * 38 * 26 * 2,
    "fct_psks": len(PERIODS) * 38 * 12,
    # 2020-2025 in the BPS file; the processed periods are all in 2025.
    "fct_poverty": len(set(mart_oracle.reference("bps_poverty")["year"])) * 38,
    "fct_cross_district_duplicates": len(PERIODS) * len(mart_oracle.reference("programs")),
    "fct_cross_district_duplicate_pairs": None,  # as many as the data has (checked non-empty)
    "fct_district_reporting": len(PERIODS) * 38,
    "fct_household_reach_latest": 38,  # the processed periods are all in 2025
}


def same(want: Any, got: Any) -> bool:
    """One cell: NULL only equals NULL (never 0 or false), integers exactly, floats to
    1e-9 relative, booleans as booleans, dates as dates (not timestamps)."""
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, bool):
        return isinstance(got, bool) and got == want
    if isinstance(want, float):
        return (
            isinstance(got, float | int | Decimal)
            and not isinstance(got, bool)
            and math.isclose(float(got), want, rel_tol=1e-9, abs_tol=0.0)
        )
    if isinstance(want, int):
        return isinstance(got, int | Decimal) and not isinstance(got, bool) and got == want
    if isinstance(want, Decimal):
        return isinstance(got, Decimal) and got == want
    if isinstance(want, datetime) and want.tzinfo is None:  # a wall-clock time (deadline_wib)
        return isinstance(got, datetime) and got.tzinfo is None and got == want
    if isinstance(want, datetime):
        return isinstance(got, datetime) and got.tzinfo is not None and got == want
    if isinstance(want, date):
        return type(got) is date and got == want
    return type(got) is type(want) and got == want


def _key(row: dict, grain: tuple[str, ...]) -> tuple:
    return tuple(period_text(row[c]) if c == "period" else row[c] for c in grain)


@pytest.mark.parametrize("mart", MARTS)
def test_mart_matches_the_oracle(clean_run, mart, request):
    """Every row of the full grain, every column, against the oracle's value."""
    for engine in (clean_run.result["engine"], "*"):
        if (engine, mart) in KNOWN_BUGS:
            request.applymarker(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(engine, mart)]))
    grain, columns = mart_oracle.GRAIN[mart], mart_oracle.columns(mart)
    expected = {_key(r, grain): r for r in expected_marts(clean_run)[mart]}
    rows = query(clean_run, f"select * from marts.{mart}")
    assert rows and set(rows[0]) == set(columns), (list(rows[0]) if rows else None, columns)
    got = {_key(r, grain): r for r in rows}
    assert len(got) == len(rows), "the grain is not unique"
    size = GRAIN_SIZE[mart] if GRAIN_SIZE[mart] is not None else len(expected)
    assert expected and len(expected) == size
    assert len(rows) == size, (len(rows), size)
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    assert not missing and not extra, ("missing", missing[:5], "extra", extra[:5])
    wrong = [
        (key, column, got[key][column], expected[key][column])
        for key in sorted(expected)
        for column in columns
        if not same(expected[key][column], got[key][column])
    ]
    assert not wrong, f"{len(wrong)} cells differ; (row, column, pipeline, oracle):\n" + "\n".join(
        map(repr, wrong[:25])
    )


def test_rerunning_a_period_changes_nothing(clean_run):
    """Snapshot of every table (raw, audit, staging, intermediate, marts) before and after."""
    reader = WarehouseReader(clean_run.result["url"])
    from sinergi.cli import run_period_checked
    from sinergi.config import load_settings
    from sinergi.dagrun import task_states

    with clean_run.writing(), environment(clean_run.result["env"]):
        before = reader.snapshot()
        settings = load_settings()
        result = run_period_checked(Period.parse(PERIODS[-1]), settings)
        after = reader.snapshot()
        summary = (settings.reports_dir / PERIODS[-1] / "summary.md").read_text()
        states = task_states(result.run_id)
    assert result.state == "success", result.problems
    assert {"raw.ppks", "audit.file_versions", "marts.fct_submissions"} <= set(before)
    assert before.keys() == after.keys()
    for table in before:
        assert before[table] == after[table], table
    # nothing new: no district task (discover mapped none), the marts were current, so no dbt
    # task and no dbt docs ran, and it says so
    assert not [key for key in states if key[0] == "validate_and_load" and key[1] >= 0]
    assert states[("validate_and_load", -1)] == "skipped"
    dbt = {task: state for (task, _), state in states.items() if task.startswith("dbt")}
    assert dbt and set(dbt.values()) == {"skipped"}, dbt
    assert states[("check_marts_inputs", -1)] == "success"
    assert "Marts unchanged" in summary


def test_dbt_docs_show_every_models_compiled_sql_and_columns(clean_run):
    """The docs site is written from the manifest the month's build compiled (not compiled
    again): every model shows its compiled SQL, with the warehouse's relation names, and the
    catalog has its columns."""
    docs = Path(clean_run.result["env"]["SINERGI_DATA_DIR"]) / "reports" / "dbt-docs"
    manifest = json.loads((docs / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((docs / "catalog.json").read_text(encoding="utf-8"))
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    assert len(models) > 40
    uncompiled = [k for k, v in models.items() if "select" not in (v.get("compiled_code") or "")]
    assert not uncompiled, uncompiled
    fct = models["model.sinergi.fct_cross_district_duplicates"]["compiled_code"]
    assert "int_duplicate_payments_aggregated_to_districts" in fct and "{{" not in fct
    missing = [
        k
        for k, v in models.items()
        if v["config"]["materialized"] != "ephemeral"
        and not catalog["nodes"].get(k, {}).get("columns")
    ]
    assert not missing, missing


def test_outliers_match_an_independent_computation(clean_run):
    """marts.fct_outliers against the same definitions computed in Python from the oracle's
    marts (tests/integration/outlier_oracle.py): the same figures flagged, same scores."""
    expected = compute_outliers(expected_marts(clean_run))
    rows = query(clean_run, "select * from marts.fct_outliers")
    got = {
        (period_text(r["period"]), r["district_code"], r["dataset"], r["indicator"],
         r["breakdown"], r["method"]): r
        for r in rows
    }  # fmt: skip
    assert len(got) == len(rows)
    assert set(got) == set(expected), (sorted(set(got) - set(expected))[:5],
                                       sorted(set(expected) - set(got))[:5])  # fmt: skip
    for key, want in expected.items():
        assert got[key]["value"] == want["value"], key
        assert got[key]["direction"] == want["direction"], key
        assert abs(got[key]["score"] - want["score"]) <= 0.011, (key, got[key], want)


def test_bulletin_per_period_and_outlier_warnings_in_feedback(clean_run):
    """Each run's bulletin (HTML + PDF) names every district; every outlier of the
    March run is a PERINGATAN line in its district's feedback (never a rejection)."""
    from sinergi.config import load_settings

    with environment(clean_run.result["env"]):
        reports = load_settings().reports_dir
    names = [r["district_name"] for r in query(clean_run, "select * from marts.dim_districts")]
    for period in PERIODS:
        folder = reports / period / "bulletin"
        html = (folder / "index.html").read_text(encoding="utf-8")
        assert (folder / f"buletin-{period}.pdf").stat().st_size > 1000
        assert all(name in html for name in names)
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "bulletin/index.html" in (reports / period / "summary.md").read_text()
    outliers = query(
        clean_run, "select * from marts.fct_outliers where period = %s",
        (Period.parse(PERIODS[-1]).first_day,),
    )  # fmt: skip
    served = {
        (r["district_code"], r["dataset"])
        for r in query(
            clean_run,
            "select * from marts.fct_submissions where period = %s",
            (Period.parse(PERIODS[-1]).first_day,),
        )  # fmt: skip
        if r["status"] in ("ACCEPTED", "PARTIAL")
    }
    for r in outliers:
        if (r["district_code"], r["dataset"]) not in served:
            continue
        path = reports / PERIODS[-1] / "umpan-balik" / f"umpan-balik-{r['district_code']}.csv"
        lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
        warned = [line for line in lines if line[8] == f"outlier:{r['method']}"]
        assert warned and all(line[2] == "PERINGATAN" for line in warned), r
        assert any("jauh berbeda dari bulan-bulan sebelumnya" in line[6] for line in warned)
