"""A faulty inbox through the real DAG: every verdict must be the contract's.

The generator plants every fault of the contract (unreadable, missing columns, empty,
ambiguous pairs, too many invalid rows, every row reason code, stray files, an unknown
district folder, missing datasets). The clean end-to-end test cannot see whether the
pipeline judges those right; this one compares, file by file and row by row, the warehouse's
audit tables and marts and the published reports with what the independent contract oracle
(``tests/contract_oracle.py``) concludes from the same files. The generator's manifest is only
used to make sure the inbox really holds the faults (so the comparison is not vacuous).

The DAG runs as ``sinergi run`` in a subprocess with its own AIRFLOW_HOME, so its output and
its task logs can be searched for personal data by ``test_pii.py``, which shares this run.

A second part feeds hand-made files the generator does not write (boundaries, odd encodings
and spellings, duplicate subtleties) through the pipeline's district step and compares the
same way. Bugs this found (full-width digits, integer overflow) and readings it made us decide
(docs/contract-decisions.md 18-22) are ordinary cases now, so they stay fixed.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sinergi.cli import PERIOD_START
from sinergi.feedback import DELIMITER as FEEDBACK_DELIMITER
from sinergi.messages import STATUS_LABELS
from sinergi.reference import district_codes
from sinergi.synthetic import generate_inbox
from tests.contract_oracle import (
    COLUMNS,
    FILE_REASONS,
    KEYS,
    ExpectedVersion,
    expected_versions,
    scan_period,
)
from tests.integration.independent import (
    SharedRun,
    WarehouseReader,
    actual_raw,
    expected_raw,
    period_text,
    shared_run,
)
from tests.reason_codes import ROW_REASON_CODES, ROW_REASON_PREFIXES

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("faulty-inbox")]
PERIODS = ["2025-12", "2026-01"]  # over a year boundary
SEED, SCALE = 11, 0.001
PII_KEY = "faulty-inbox-test-key"  # a test key, so the oracle can compute the pseudonyms


def build_faulty(folder: Path) -> dict:
    """Generate the faulty inbox and run ``sinergi run`` for both periods in one subprocess,
    as an operator catching up two months does (Airflow starts once); its output (stdout and
    stderr together) is split per period at the command's ``==> monthly DAG for`` lines."""
    inbox = folder / "inbox"
    manifest = generate_inbox(inbox, PERIODS, seed=SEED, scale=SCALE, faults=True)
    env = os.environ | {
        "AIRFLOW_HOME": str(folder / "airflow"),
        "SINERGI_DATA_DIR": str(folder / "data"),
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": f"duckdb:///{folder / 'warehouse.duckdb'}",
        "SINERGI_PII_KEY": PII_KEY,
    }
    for name in ("SINERGI_REPORTS_DIR", "SINERGI_ARCHIVE_DIR", "SINERGI_WORK_DIR"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "sinergi.cli", "run", *(f"--period={p}" for p in PERIODS)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=1800,
        check=False,
    )
    outputs = {period: [] for period in PERIODS}
    current = PERIODS[0]  # Airflow's start-up lines go with the first month
    for line in done.stdout.decode("utf-8", "replace").splitlines(keepends=True):
        if line.startswith(PERIOD_START):
            current = line[len(PERIOD_START) :].strip()
        outputs[current].append(line)
    for period, lines in outputs.items():
        (folder / f"run-{period}.log").write_text("".join(lines), encoding="utf-8")
    return {
        "inbox": str(inbox),
        "url": env["SINERGI_WAREHOUSE"],
        "data_dir": env["SINERGI_DATA_DIR"],
        "airflow_home": env["AIRFLOW_HOME"],
        "returncode": done.returncode,
        "manifest": manifest,
    }


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    """The faulty inbox run through the DAG, once per session (also used by test_pii.py)."""
    yield from shared_run(tmp_path_factory, "faulty-inbox", build_faulty)


@pytest.fixture(scope="module")
def oracle(faulty_run) -> dict[str, list[ExpectedVersion]]:
    inbox = Path(faulty_run.result["inbox"])
    return {period: expected_versions(inbox, period) for period in PERIODS}


def query(run: SharedRun, sql: str) -> list[dict]:
    with run.reading():
        return WarehouseReader(run.result["url"]).rows(sql)


def key_of(row: dict) -> tuple:
    return (period_text(row["period"]), row["district_code"], row["dataset"], row["version"])


def vkey(v: ExpectedVersion) -> tuple:
    return (v.period, v.district, v.dataset, v.version)


def test_runs_succeed(faulty_run):
    """Bad data never fails the run (architecture: it becomes a verdict in ``audit``)."""
    assert faulty_run.result["returncode"] == 0
    for period in PERIODS:
        log = (faulty_run.folder / f"run-{period}.log").read_text()
        assert f"DAG run for {period}: success" in log
        # every batch of files was judged in one validation: no silent per-file fallback
        assert "judged together" in log
        assert "judging them alone" not in log and "judges it again" not in log


def test_the_inbox_really_holds_every_fault(faulty_run, oracle):
    """The oracle (not only the manifest) sees every file-level outcome and status."""
    for period in PERIODS:
        statuses = {v.judgement.status for v in oracle[period]}
        reasons = {v.judgement.rejection_reason for v in oracle[period]}
        assert statuses == {"ACCEPTED", "PARTIAL", "REJECTED"}, period
        assert reasons >= set(FILE_REASONS), (period, set(FILE_REASONS) - reasons)
    assert faulty_run.result["manifest"]["summary"]["submissions_by_status"]["MISSING"] > 0


def test_file_versions_match_the_oracle(faulty_run, oracle):
    rows = query(
        faulty_run,
        "select period, district_code, dataset, version, file_name, status, rejection_reason, "
        "rows_total, rows_accepted, rows_rejected from audit.file_versions",
    )
    got = {
        key_of(r): (
            r["file_name"],
            r["status"],
            r["rejection_reason"],
            r["rows_total"],
            r["rows_accepted"],
            r["rows_rejected"],
        )
        for r in rows
    }
    expected = {
        vkey(v): (
            v.path.name,
            v.judgement.status,
            v.judgement.rejection_reason,
            v.judgement.rows_total,
            v.judgement.rows_accepted,
            v.judgement.rows_rejected,
        )
        for period in PERIODS
        for v in oracle[period]
    }
    assert len(expected) > 250
    differ = {k: (got.get(k), expected.get(k)) for k in set(got) | set(expected)}
    differ = {k: pair for k, pair in differ.items() if pair[0] != pair[1]}
    assert not differ, "(pipeline, oracle):\n" + "\n".join(
        f"{k}: {pair}" for k, pair in sorted(differ.items())
    )


def test_quarantine_rows_and_reasons_match_the_oracle(faulty_run, oracle):
    rows = query(
        faulty_run,
        "select period, district_code, dataset, version, row_number, reason_codes "
        "from audit.row_rejections",
    )
    got: dict[tuple, dict[int, set[str]]] = defaultdict(dict)
    for r in rows:
        got[key_of(r)][int(r["row_number"])] = set(r["reason_codes"].split(";"))
    expected = {
        vkey(v): v.judgement.reasons_by_row
        for period in PERIODS
        for v in oracle[period]
        if v.judgement.reasons_by_row
    }
    assert sum(len(r) for r in expected.values()) > 100
    differ = {}
    for key in set(got) | set(expected):
        mine, theirs = expected.get(key, {}), got.get(key, {})
        rows_differ = {
            n: (theirs.get(n), mine.get(n))
            for n in set(mine) | set(theirs)
            if theirs.get(n) != mine.get(n)
        }
        if rows_differ:
            differ[key] = rows_differ
    assert not differ, "(pipeline, oracle) by row:\n" + "\n".join(
        f"{k}: {v}" for k, v in sorted(differ.items())
    )


def test_quarantine_keeps_the_original_values(faulty_run, oracle):
    """Every quarantined row holds the file's cells as read (the district's own text)."""
    rows = query(
        faulty_run,
        "select period, district_code, dataset, version, row_number, original_values "
        "from audit.row_rejections",
    )
    cells = {
        (vkey(v), n): c
        for period in PERIODS
        for v in oracle[period]
        if v.judgement.read is not None
        for n, c in v.judgement.read.rows
    }
    wrong = []
    for r in rows:
        original = json.loads(r["original_values"])
        want = cells[(key_of(r), int(r["row_number"]))]
        if any(original.get(c) != want.get(c) for c in COLUMNS[r["dataset"]]):
            wrong.append((key_of(r), r["row_number"], original, want))
    assert rows and not wrong, wrong[:3]


def test_warnings_match_the_oracle(faulty_run, oracle):
    rows = query(
        faulty_run,
        "select period, district_code, dataset, version, row_number, warning_code "
        "from audit.row_warnings",
    )
    got = {(key_of(r), int(r["row_number"]), r["warning_code"]) for r in rows}
    expected = {
        (vkey(v), n, "nik_birthdate_mismatch")
        for period in PERIODS
        for v in oracle[period]
        for n in v.judgement.warnings
    }
    assert expected and got == expected


def test_raw_holds_exactly_the_accepted_rows(faulty_run, oracle):
    versions = [v for period in PERIODS for v in oracle[period]]
    expected = expected_raw(versions, PII_KEY)
    with faulty_run.reading():
        got = actual_raw(WarehouseReader(faulty_run.result["url"]))
    for dataset in COLUMNS:
        missing, extra = expected[dataset] - got[dataset], got[dataset] - expected[dataset]
        assert not missing and not extra, (dataset, sorted(missing)[:3], sorted(extra)[:3])


def test_every_contract_reason_code_is_in_the_quarantine(faulty_run):
    rows = query(faulty_run, "select distinct reason_codes from audit.row_rejections")
    codes = {code for r in rows for code in r["reason_codes"].split(";")}
    assert codes >= ROW_REASON_CODES, ROW_REASON_CODES - codes
    assert {c.split(":")[0] for c in codes} >= ROW_REASON_PREFIXES
    reasons = query(
        faulty_run,
        "select distinct rejection_reason from audit.file_versions where status = 'REJECTED'",
    )
    assert {r["rejection_reason"] for r in reasons} == set(FILE_REASONS)


def _deadline(period: str) -> datetime:
    """Day 10 of the next month, 23:59:59 Asia/Jakarta (contract §1), in UTC."""
    year, month = int(period[:4]), int(period[5:])
    following = date(year + month // 12, month % 12 + 1, 10)
    return datetime.combine(following, time(23, 59, 59), ZoneInfo("Asia/Jakarta")).astimezone(UTC)


def test_missing_datasets_are_missing(faulty_run, oracle):
    """No file: no version in audit, MISSING in fct_submissions (never on time)."""
    versions = {
        (period_text(r["period"]), r["district_code"], r["dataset"])
        for r in query(faulty_run, "select period, district_code, dataset from audit.file_versions")
    }
    marts = {
        (period_text(r["period"]), r["district_code"], r["dataset"]): r
        for r in query(faulty_run, "select * from marts.fct_submissions")
    }
    inbox = Path(faulty_run.result["inbox"])
    missing = set()
    for period in PERIODS:
        sent = scan_period(inbox, period).submissions
        missing |= {
            (period, d, ds) for d in district_codes() for ds in COLUMNS if (d, ds) not in sent
        }
    planted = {
        (f["period"], f["district"], f["dataset"])
        for f in faulty_run.result["manifest"]["faults"]
        if f["kind"] in ("missing_dataset", "misnamed_file")
    }
    assert planted and planted <= missing
    assert not (missing & versions)
    for key in missing:
        row = marts[key]
        assert row["status"] == "MISSING", key
        assert (row["versions_received"], row["served_version"]) == (0, None), key
        assert row["is_on_time"] is False, key


def test_submissions_mart_follows_the_versions(faulty_run, oracle):
    """fct_submissions: latest version's status and counts, served version, on time."""
    marts = {
        (period_text(r["period"]), r["district_code"], r["dataset"]): r
        for r in query(faulty_run, "select * from marts.fct_submissions")
    }
    assert len(marts) == len(PERIODS) * 38 * 4
    by_slot: dict[tuple, list[ExpectedVersion]] = defaultdict(list)
    for period in PERIODS:
        for v in oracle[period]:
            by_slot[(period, v.district, v.dataset)].append(v)
    wrong = []
    for slot, versions in by_slot.items():
        latest = max(versions, key=lambda v: v.version)
        served = [v for v in versions if v.judgement.status in ("ACCEPTED", "PARTIAL")]
        first_served = min(served, key=lambda v: v.version) if served else None
        on_time = first_served is not None and (
            datetime.fromtimestamp(first_served.path.stat().st_mtime, UTC) <= _deadline(slot[0])
        )
        j = latest.judgement
        expected = (
            j.status,
            len(versions),
            max((v.version for v in served), default=None),
            on_time,
            j.rows_total,
            j.rows_accepted,
            j.rows_rejected,
            j.rejection_reason,
        )
        row = marts[slot]
        actual = (
            row["status"],
            row["versions_received"],
            row["served_version"],
            row["is_on_time"],
            row["rows_total"],
            row["rows_accepted"],
            row["rows_rejected"],
            row["rejection_reason"],
        )
        if actual != expected:
            wrong.append((slot, actual, expected))
    assert not wrong, "(slot, mart, oracle):\n" + "\n".join(map(str, wrong))
    assert any(r["is_on_time"] for r in marts.values())
    assert any(not r["is_on_time"] and r["served_version"] for r in marts.values())


def test_inbox_notices_name_every_unprocessed_file_and_folder(faulty_run, oracle):
    rows = query(faulty_run, "select period, path, notice_code from audit.inbox_notices")
    got = {(period_text(r["period"]), r["path"], r["notice_code"]) for r in rows}
    inbox = Path(faulty_run.result["inbox"])
    expected = set()
    for period in PERIODS:
        scan = scan_period(inbox, period)
        expected |= {(period, p, "unknown_district_folder") for p in scan.unknown_folders}
        expected |= {(period, p, "ignored_file") for p in scan.ignored_files}
        expected |= {
            (period, v.path.relative_to(inbox).as_posix(), "unexpected_columns")
            for v in oracle[period]
            if v.judgement.extra_columns
        }
        content = faulty_run.result["manifest"]["periods"][period]
        listed = {f["path"] for f in content["extra_files"]}
        assert listed and listed <= set(scan.ignored_files)
        unknown = {p.rsplit("/", 1)[0] for p in content["unknown_district_folders"]}
        assert unknown and unknown == set(scan.unknown_folders)
    assert got == expected


def test_data_docs_are_published(faulty_run):
    reports = Path(faulty_run.result["data_dir"]) / "reports"
    index = reports / "data-docs" / "index.html"
    assert index.is_file() and index.stat().st_size > 1000
    pages = list((reports / "data-docs").rglob("*.html"))
    # One validation page per judged chunk/suite: far more than the index alone.
    assert len(pages) > 100


# Reason codes without a column suffix -> the column(s) the feedback must point at.
_CODE_COLUMNS = {
    "period_mismatch": {"periode"},
    "district_mismatch": {"kode_kabkota"},
    "invalid_subdistrict_code": {"kode_kecamatan"},
    "invalid_village_code": {"kode_desa"},
    "invalid_kk": {"no_kk"},
    "implausible_birthdate": {"tanggal_lahir"},
    "amount_out_of_range": {"nilai_bantuan"},
    "disbursement_outside_period": {"tanggal_salur"},
    "total_mismatch": {"jumlah", "jumlah_laki_laki", "jumlah_perempuan"},
}


def _feedback_columns(code: str, dataset: str) -> set[str]:
    base, _, column = code.partition(":")
    if column:
        return {column}
    if base == "invalid_nik":
        return {"nik" if dataset == "penerima_bantuan" else "nik_kepala_keluarga"}
    if base in ("exact_duplicate", "duplicate_key"):
        return set(KEYS[dataset])
    return _CODE_COLUMNS[base]


def test_district_feedback_names_rows_and_columns(faulty_run, oracle):
    """One feedback CSV per district with files; every rejected row of the latest version
    with its row number and the column(s) to fix; every rejected file with its status."""
    reports = Path(faulty_run.result["data_dir"]) / "reports"
    inbox = Path(faulty_run.result["inbox"])
    checked_rows = 0
    for period in PERIODS:
        latest = {(v.district, v.dataset): v for v in oracle[period]}  # ordered by version
        senders = {d for d, _ in scan_period(inbox, period).submissions}
        folder = reports / period / "umpan-balik"
        assert {p.name for p in folder.glob("umpan-balik-*.csv")} == {
            f"umpan-balik-{d}.csv" for d in senders
        }
        for district in senders:
            with open(folder / f"umpan-balik-{district}.csv", encoding="utf-8-sig") as handle:
                lines = list(csv.DictReader(handle, delimiter=FEEDBACK_DELIMITER))
            by_row: dict[tuple[str, int], list[set[str]]] = defaultdict(list)
            statuses: dict[str, set[str]] = defaultdict(set)
            for line in lines:
                statuses[line["berkas"]].add(line["status_berkas"])
                if line["baris"]:
                    names = {c.strip() for c in line["kolom"].split(",")}
                    by_row[(line["berkas"], int(line["baris"]))].append(names)
            for (d, dataset), v in latest.items():
                if d != district:
                    continue
                label = STATUS_LABELS[v.judgement.status]
                assert label in statuses[v.path.name], (district, v.path.name)
                for number, codes in v.judgement.reasons_by_row.items():
                    named = by_row[(v.path.name, number)]
                    assert named, (district, v.path.name, number)
                    for code in codes:
                        assert _feedback_columns(code, dataset) in named or any(
                            n and n <= _feedback_columns(code, dataset) for n in named
                        ), (district, v.path.name, number, code, named)
                    checked_rows += 1
    assert checked_rows > 100


def _template_pattern(template: str) -> re.Pattern:
    """A feedback template as a regex: its ``{parameters}`` match any text."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile("^" + ".*".join(re.escape(p) for p in parts) + "$", re.DOTALL)


def test_feedback_pieces_count_what_their_workers_fetch(faulty_run):
    """The task counts each district's lines; the worker writing a district fetches its rows
    (``reports.DistrictRows``): the same rows, the task never holding them."""
    from sinergi import reports
    from sinergi.periods import Period
    from sinergi.warehouse.connection import open_warehouse

    url = faulty_run.result["url"]
    wh = open_warehouse(url)
    fetched = 0
    with faulty_run.reading():
        for period in map(Period.parse, PERIODS):
            with wh.connect() as conn:
                latest = reports._latest_versions(conn, wh, period)
            districts = sorted({row[0] for row in latest})
            counts = reports._row_counts(wh, period, latest, districts)
            together = reports._row_facts(wh, period, latest, districts)
            for district in districts:
                versions = tuple(row for row in latest if row[0] == district)
                rows, warnings = reports.DistrictRows(url, str(period), district, versions).fetch()
                assert rows == together[0].get(district, []), (period, district)
                assert warnings == together[1].get(district, []), (period, district)
                assert counts[district] == len(rows) + len(warnings), (period, district)
                fetched += len(rows)
    assert fetched > 0


def test_feedback_texts_are_those_of_dim_reason_codes(faulty_run):
    """Issue 15: marts.dim_reason_codes quotes what the district feedback says, per code."""
    codes = {r["reason_code"]: r for r in query(faulty_run, "select * from marts.dim_reason_codes")}
    reports = Path(faulty_run.result["data_dir"]) / "reports"
    seen: set[str] = set()
    for path in sorted(reports.glob("*/umpan-balik/umpan-balik-*.csv")):
        with open(path, encoding="utf-8-sig") as handle:
            for line in csv.DictReader(handle, delimiter=FEEDBACK_DELIMITER):
                code = codes.get(line["kode"].split(":")[0])
                if code is None:  # a status, notice, systemic cause or outlier line
                    continue
                assert _template_pattern(code["message_id"]).match(line["masalah"]), line
                assert _template_pattern(code["what_to_do_id"]).match(line["tindakan"]), line
                seen.add(code["reason_code"])
    # every row reason code the generator plants, and the file-level rejections it makes
    assert {c.split(":")[0] for c in ROW_REASON_CODES} <= seen
    assert {"unreadable", "missing_columns", "too_many_invalid_rows"} <= seen


# --- faults the generator does not plant: hand-made files --------------------------------------
# Each case is one district's folder for EDGE_PERIOD: (name, files(district), what the oracle
# must conclude per file as (status, rejection_reason)). The pipeline's steps run directly
# (no DAG: no marts involved), and its verdicts, quarantine, warnings and raw rows are compared
# with the oracle's, like the generated inbox above.
EDGE_PERIOD = "2025-03"
EDGE_KEY = "edge-case-test-key"
HEADERS = {dataset: ",".join(columns) for dataset, columns in COLUMNS.items()}
PARTIAL, ACCEPTED = ("PARTIAL", None), ("ACCEPTED", None)


def _csv(header: str, rows: list[str], end: str = "\n") -> bytes:
    return (end.join([header, *rows]) + end).encode("utf-8")


def _xlsx(header: str, rows: list[list], titles: list[list] = ()) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in [*titles, header.split(","), *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _psks(d: str, counts: dict[str, str] | None = None, n: int = 10) -> list[str]:
    """``n`` valid psks rows; ``counts`` overrides (or adds) code -> jumlah."""
    rows = {f"PSKS{i:02d}": str(i) for i in range(1, n + 1)} | (counts or {})
    return [f"{EDGE_PERIOD},{d},{code},{jumlah}" for code, jumlah in rows.items()]


def _nik(d: str, serial: int, day: str = "45", month: str = "01", year: str = "90") -> str:
    return f"{d}01{day}{month}{year}{serial:04d}"


def _roster(d: str, serial: int, **cells: str) -> str:
    """A valid paid roster row (a woman born 5 Jan 1990) with ``cells`` overridden."""
    row = {
        "nik": _nik(d, serial),
        "no_kk": f"{d}010101200001",
        "jenis_kelamin": "P",
        "tanggal_lahir": "1990-01-05",
        "kode_desa": f"{d}010001",
        "kode_program": "SEMBAKO",
        "nilai_bantuan": "200000",
        "tanggal_salur": "2025-03-05",
        "status_salur": "SALUR",
    } | cells
    return ",".join([EDGE_PERIOD, d, *row.values()])


def _rosters(d: str, special: list[str], fillers: int = 20) -> dict[str, bytes]:
    rows = special + [_roster(d, 100 + i) for i in range(fillers)]
    return {"penerima_bantuan.csv": _csv(HEADERS["penerima_bantuan"], rows)}


def _ppks(d: str, special: list[str], areas: int = 1) -> dict[str, bytes]:
    fillers = [
        f"{EDGE_PERIOD},{d},{d}{area:02d},PPKS{i:02d},LUAR_UPT,1,2,3"
        for area in range(1, areas + 1)
        for i in range(2, 12)
    ]
    return {"ppks.csv": _csv(HEADERS["ppks"], special + fillers)}


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
EDGE_CASES = [
    (
        "lokasi with a double space",
        lambda d: _ppks(d, [f"{EDGE_PERIOD},{d},{d}01,PPKS01,Luar  UPT,1,2,3"]),
        {"ppks.csv": ACCEPTED},
    ),
    (
        "identical rows and a different row sharing their key (decision 13)",
        lambda d: _ppks(
            d,
            [f"{EDGE_PERIOD},{d},{d}01,PPKS01,LUAR_UPT,1,2,3"] * 2
            + [f"{EDGE_PERIOD},{d},{d}01,PPKS01,LUAR_UPT,2,2,4"],
            areas=3,
        ),
        {"ppks.csv": PARTIAL},
    ),
    (
        "duplicates judged on normalised values (dots, case, spaces)",
        lambda d: _ppks(
            d,
            [
                f"{EDGE_PERIOD},{d},{d}01,PPKS01,LUAR_UPT,1,2,3",
                f"{EDGE_PERIOD},{d[:2]}.{d[2:]},{d[:2]}.{d[2:]}.01,ppks01,luar upt,1,2,3",
            ],
        ),
        {"ppks.csv": PARTIAL},
    ),
    (
        "unpaid rows: ignored amount and date do not make them differ",
        lambda d: _rosters(
            d,
            [
                _roster(d, 1, status_salur="GAGAL", nilai_bantuan="5", tanggal_salur="x"),
                _roster(d, 1, status_salur="GAGAL", nilai_bantuan="", tanggal_salur=""),
            ],
        ),
        {"penerima_bantuan.csv": PARTIAL},
    ),
    (
        "three copies in two spellings plus a differing row of one key",
        lambda d: _rosters(
            d,
            [
                _roster(d, 1, kode_program="PKH", nilai_bantuan="100"),
                _roster(d, 1, kode_program="pkh", nilai_bantuan="100"),
                _roster(d, 1, kode_program="PKH", nilai_bantuan="100", tanggal_salur="05/03/2025"),
                _roster(d, 1, kode_program="PKH", nilai_bantuan="200"),
            ],
            fillers=30,
        ),
        {"penerima_bantuan.csv": PARTIAL},
    ),
    (
        "a quoted line break: row numbers count records",
        lambda d: {
            "psks.csv": _csv(
                HEADERS["psks"],
                [f'{EDGE_PERIOD},{d},"PSKS01\nX",5', f"{EDGE_PERIOD},{d},PSKS99,5", *_psks(d)[1:]],
            )
        },
        {"psks.csv": PARTIAL},
    ),
    (
        "XLSX title rows and an empty row: worksheet row numbers",
        lambda d: {
            "psks.xlsx": _xlsx(
                HEADERS["psks"],
                [[EDGE_PERIOD, d, "PSKS01", 1], [None] * 4, [EDGE_PERIOD, d, "PSKS99", 2]]
                + [[EDGE_PERIOD, d, f"PSKS{i:02d}", i] for i in range(2, 11)],
                titles=[["Laporan PSKS"], [], ["Kabupaten"]],
            )
        },
        {"psks.xlsx": PARTIAL},
    ),
    (
        "optional amount and date columns absent (decision 1)",
        lambda d: {
            "penerima_bantuan.csv": _csv(
                "periode,kode_kabkota,nik,no_kk,jenis_kelamin,tanggal_lahir,kode_desa,"
                "kode_program,status_salur",
                [
                    f"{EDGE_PERIOD},{d},{_nik(d, i)},{d}010101200001,P,1990-01-05,{d}010001,"
                    f"SEMBAKO,{'SALUR' if i == 1 else 'GAGAL'}"
                    for i in range(1, 11)
                ],
            )
        },
        {"penerima_bantuan.csv": PARTIAL},
    ),
    (
        "XLSX typed cells: a date in periode, numeric NIK, No. KK and codes",
        lambda d: {
            "penerima_bantuan.xlsx": _xlsx(
                HEADERS["penerima_bantuan"],
                [
                    [datetime(2025, 3, 1), d, int(_nik(d, 1)), float(f"{d}010101200001")]
                    + ["P", datetime(1990, 1, 5), float(f"{d}010001"), "SEMBAKO", 200000.0]
                    + [datetime(2025, 3, 5), "SALUR"]
                ]
                + [
                    [EDGE_PERIOD, d, int(_nik(d, i)), float(f"{d}010101200001"), "P"]
                    + [datetime(1990, 1, 5), int(f"{d}010001"), "SEMBAKO", 200000]
                    + [datetime(2025, 3, 5), "salur"]
                    for i in range(2, 12)
                ],
            )
        },
        {"penerima_bantuan.xlsx": PARTIAL},
    ),
    (
        "a byte undefined in Windows-1252",
        lambda d: {"psks.csv": _csv(HEADERS["psks"], _psks(d))[:-1] + b"\x81\n"},
        {"psks.csv": ("REJECTED", "unreadable")},
    ),
    (
        "UTF-16 (NUL bytes)",
        lambda d: {"psks.csv": _csv(HEADERS["psks"], _psks(d)).decode().encode("utf-16")},
        {"psks.csv": ("REJECTED", "unreadable")},
    ),
    (
        "a CSV named .xlsx",
        lambda d: {"psks.xlsx": _csv(HEADERS["psks"], _psks(d))},
        {"psks.xlsx": ("REJECTED", "unreadable")},
    ),
    (
        "a quote never closed",
        lambda d: {"psks.csv": _csv(HEADERS["psks"], [*_psks(d), f'{EDGE_PERIOD},{d},"PSKS11,5'])},
        {"psks.csv": ("REJECTED", "unreadable")},
    ),
    (
        "only blank and delimiter-only lines below the header",
        lambda d: {"psks.csv": _csv(HEADERS["psks"], ["", " , , , ", ",,,"])},
        {"psks.csv": ("REJECTED", "empty")},
    ),
    (
        "XLSX header below row 10",
        lambda d: {
            "psks.xlsx": _xlsx(HEADERS["psks"], [[EDGE_PERIOD, d, "PSKS01", 1]], [["x"]] * 10)
        },
        {"psks.xlsx": ("REJECTED", "missing_columns")},
    ),
    (
        "CSV without a column: its rows still counted (§7)",
        lambda d: {
            "psks.csv": _csv(
                "periode,kode_kabkota,kode_psks",
                [f"{EDGE_PERIOD},{d},PSKS{i:02d}" for i in range(1, 8)] + [""],
            )
        },
        {"psks.csv": ("REJECTED", "missing_columns")},
    ),
    (
        "rejected rows exactly 20 %",
        lambda d: {"psks.csv": _csv(HEADERS["psks"], _psks(d, {"PSKS01": "-1", "PSKS02": "x"}))},
        {"psks.csv": PARTIAL},
    ),
    (
        "age 120 and 121, born on the period's last day and the day after",
        lambda d: _rosters(
            d,
            [
                _roster(d, i, nik=_nik(d, i, day="41", month="01", year="05"), tanggal_lahir=b)
                for i, b in enumerate(
                    ["1905-04-01", "1905-03-31", "1904-03-31", "2025-03-31", "2025-04-01"], 1
                )
            ],
        ),
        {"penerima_bantuan.csv": PARTIAL},
    ),
    (
        "amount spellings and bounds",
        lambda d: _rosters(
            d,
            [
                _roster(d, i, nilai_bantuan=a)
                for i, a in enumerate(
                    ["1.000", "1,000", "600.000", "600001", "0", "-5", "1.0000", "0600000"], 1
                )
            ],
            fillers=40,
        ),
        {"penerima_bantuan.csv": PARTIAL},
    ),
    (
        "date spellings and impossible dates",
        lambda d: _rosters(
            d,
            [
                _roster(d, i, tanggal_salur=x)
                for i, x in enumerate(
                    [
                        "2025-02-29",
                        "31/03/2025",
                        "1/3/2025",
                        "2025-3-5",
                        "05-03-2025",
                        "2025-04-01",
                    ],
                    1,
                )
            ],
            fillers=40,
        ),
        {"penerima_bantuan.csv": PARTIAL},
    ),
    (
        "paid-row rules: unknown programme, unpaid garbage, sex words, lower case",
        lambda d: _rosters(
            d,
            [
                _roster(d, 1, kode_program="XYZ", nilai_bantuan="0"),
                _roster(d, 2, status_salur="GAGAL", nilai_bantuan="abc", tanggal_salur="zzz"),
                _roster(d, 3, jenis_kelamin="perempuan"),
                _roster(d, 4, nik=_nik(d, 4, day="05"), jenis_kelamin="Laki-Laki"),
                _roster(d, 5, status_salur="tunda", nilai_bantuan="", tanggal_salur=""),
            ],
        ),
        {"penerima_bantuan.csv": PARTIAL},
    ),
    (
        "NIK and No. KK rules, and birth-date warnings",
        lambda d: _rosters(
            d,
            [
                _roster(d, 0),  # serial 0000
                _roster(d, 1, nik=_nik(d, 1, day="32")),
                _roster(d, 2, nik=_nik(d, 2, day="72")),
                _roster(d, 3, nik=_nik(d, 3, month="13")),
                _roster(d, 4, nik="99" + _nik(d, 4)[2:]),
                _roster(d, 5, nik=_nik(d, 5, day="71"), tanggal_lahir="1990-01-31"),
                _roster(d, 6, no_kk=f"{d}010101200000"),
                _roster(d, 7, no_kk="00" + f"{d}010101200001"[2:]),
                _roster(d, 8, tanggal_lahir="1990-01-06"),  # warning: NIK says the 5th
                _roster(d, 9, jenis_kelamin="L"),  # warning: NIK says a woman
            ],
            fillers=40,
        ),
        {"penerima_bantuan.csv": PARTIAL},
    ),
    (
        "no warnings from a file rejected for too many invalid rows",
        lambda d: _rosters(
            d,
            [_roster(d, 1, tanggal_lahir="1990-01-06")] + [_roster(d, 2, nik="x")] * 6,
            fillers=5,
        ),
        {"penerima_bantuan.csv": ("REJECTED", "too_many_invalid_rows")},
    ),
    (
        "a repeated header name: the leftmost column counts",
        lambda d: {
            "psks.csv": _csv(
                HEADERS["psks"] + ",Jumlah", [row + ",999" for row in _psks(d, {"PSKS03": "-1"})]
            )
        },
        {"psks.csv": PARTIAL},
    ),
    (
        "records longer and shorter than the header",
        lambda d: {
            "psks.csv": _csv(
                HEADERS["psks"],
                [f"{EDGE_PERIOD},{d},PSKS01,5,extra,more", f"{EDGE_PERIOD},{d},PSKS02"]
                + _psks(d)[2:],
            )
        },
        {"psks.csv": PARTIAL},
    ),
    (
        "BOM and semicolons",
        lambda d: {
            "psks.csv": b"\xef\xbb\xbf" + _csv(HEADERS["psks"], _psks(d)).replace(b",", b";")
        },
        {"psks.csv": ACCEPTED},
    ),
    (
        "both delimiters in the header line, more commas (decision 5)",
        lambda d: {
            "psks.csv": _csv(
                HEADERS["psks"].replace(",", ";") + ";catatan (a, b, c, d, e, f)",
                [row.replace(",", ";") + ";x" for row in _psks(d)],
            )
        },
        {"psks.csv": ACCEPTED},
    ),
    (
        "old Mac line endings",
        lambda d: {"psks.csv": _csv(HEADERS["psks"], _psks(d, {"PSKS99": "1"}), end="\r")},
        {"psks.csv": PARTIAL},
    ),
    (
        "names differing only by case (decision 9)",
        lambda d: {
            "psks.csv": _csv(HEADERS["psks"], _psks(d)),
            "PSKS.CSV": _csv(HEADERS["psks"], _psks(d, n=9)),
        },
        {
            "psks.csv": ("REJECTED", "ambiguous_submission"),
            "PSKS.CSV": ("REJECTED", "ambiguous_submission"),
        },
    ),
    (
        "register ranges",
        lambda d: {
            "dtks.csv": _csv(
                HEADERS["dtks"],
                [
                    f"{EDGE_PERIOD},{d},{d}010101200001,{_nik(d, 1)},{d}010001,0,0,aktif",
                    f"{EDGE_PERIOD},{d},{d}010101200002,{_nik(d, 2)},{d}010001,31,11,NON AKTIF",
                    f"{EDGE_PERIOD},{d},{d}010101200003,{_nik(d, 3)},{d}010001,-1,1.0,AKTIF",
                ]
                + [
                    f"{EDGE_PERIOD},{d},{d}0101012000{i:02d},{_nik(d, i)},{d}010001,3,2,AKTIF"
                    for i in range(10, 30)
                ],
            )
        },
        {"dtks.csv": PARTIAL},
    ),
    (
        "an integer beyond 2^53",
        lambda d: {"psks.csv": _csv(HEADERS["psks"], _psks(d, {"PSKS01": "9007199254740993"}))},
        {"psks.csv": ACCEPTED},
    ),
    # --- digits the pipeline once got wrong (decisions 18 and 19) ---------------------------
    (
        "an integer beyond 18 digits",
        lambda d: {"psks.csv": _csv(HEADERS["psks"], _psks(d, {"PSKS01": "9" * 20}))},
        {"psks.csv": PARTIAL},
    ),
    (
        "non-ASCII digits in a count",
        lambda d: {
            "psks.csv": _csv(HEADERS["psks"], _psks(d, {"PSKS01": "123".translate(FULLWIDTH)}))
        },
        {"psks.csv": PARTIAL},
    ),
    (
        "non-ASCII digits in a sub-district code",
        lambda d: _ppks(
            d, [f"{EDGE_PERIOD},{d},{d}{'01'.translate(FULLWIDTH)},PPKS01,LUAR_UPT,1,2,3"]
        ),
        {"ppks.csv": PARTIAL},
    ),
    (
        "non-ASCII digits in a NIK",
        lambda d: _rosters(d, [_roster(d, 1, nik=_nik(d, 1)[:12] + "0001".translate(FULLWIDTH))]),
        {"penerima_bantuan.csv": PARTIAL},
    ),
    # --- readings decided literally (docs/contract-decisions.md 20-22) ----------------------
    (
        "text after a closing quote",
        lambda d: {
            "psks.csv": _csv(HEADERS["psks"], [f'{EDGE_PERIOD},{d},"PSKS01"x,5', *_psks(d)[1:]])
        },
        {"psks.csv": ("REJECTED", "unreadable")},
    ),
    (
        "an XLSX float a hair off an integer",
        lambda d: {
            "psks.xlsx": _xlsx(
                HEADERS["psks"],
                [[EDGE_PERIOD, d, "PSKS01", 0.1 * 3 * 2_000_000]]
                + [[EDGE_PERIOD, d, f"PSKS{i:02d}", i] for i in range(2, 11)],
            )
        },
        {"psks.xlsx": PARTIAL},
    ),
    (
        "an ambiguous pair with an unreadable member",
        lambda d: {
            "psks.csv": b"",
            "psks.xlsx": _xlsx(
                HEADERS["psks"], [[EDGE_PERIOD, d, f"PSKS{i:02d}", i] for i in range(1, 11)]
            ),
        },
        {"psks.csv": ("REJECTED", "unreadable"), "psks.xlsx": ("REJECTED", "ambiguous_submission")},
    ),
]


EDGE_PARAMS = [case if hasattr(case, "values") else pytest.param(*case) for case in EDGE_CASES]
EDGE_IDS = [re.sub(r"[^a-z0-9]+", "-", case.values[0].lower()).strip("-") for case in EDGE_PARAMS]


def _edge_folders() -> dict[str, str]:
    """One district folder per case."""
    names = [case.values[0] for case in EDGE_PARAMS]
    assert len(names) <= 38
    return dict(zip(names, sorted(district_codes()), strict=False))


def build_edge_cases(folder: Path) -> dict:
    from sinergi.config import load_settings
    from sinergi.periods import Period
    from sinergi.pipeline import prepare_period, process_district

    inbox = folder / "inbox"
    districts = _edge_folders()
    for case in EDGE_PARAMS:
        name, files, _ = case.values
        for file_name, data in files(districts[name]).items():
            path = inbox / EDGE_PERIOD / districts[name] / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    env = {
        "SINERGI_DATA_DIR": str(folder / "data"),
        "SINERGI_INBOX": str(inbox),
        "SINERGI_WAREHOUSE": f"duckdb:///{folder / 'warehouse.duckdb'}",
        "SINERGI_PII_KEY": EDGE_KEY,
    }
    errors = {}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        settings, period = load_settings(), Period.parse(EDGE_PERIOD)
        prepare_period(period, settings)
        for district in districts.values():
            try:
                process_district(period, district, settings)
            except Exception as error:  # noqa: BLE001 - recorded, the test reports it
                errors[district] = f"{type(error).__name__}: {error}"
    return {"inbox": str(inbox), "url": env["SINERGI_WAREHOUSE"], "errors": errors}


@pytest.fixture(scope="module")
def edge_run(tmp_path_factory):
    yield from shared_run(tmp_path_factory, "faulty-edge-cases", build_edge_cases)


@pytest.mark.parametrize(("name", "files", "outcomes"), EDGE_PARAMS, ids=EDGE_IDS)
def test_hand_made_file_is_judged_like_the_oracle(edge_run, name, files, outcomes):
    district = _edge_folders()[name]
    versions = [
        v
        for v in expected_versions(Path(edge_run.result["inbox"]), EDGE_PERIOD)
        if v.district == district
    ]
    # The files mean what the case says (so a comparison below is not vacuous).
    assert {v.path.name: (v.judgement.status, v.judgement.rejection_reason) for v in versions} == (
        outcomes
    )
    assert district not in edge_run.result["errors"], edge_run.result["errors"][district]
    reader = WarehouseReader(edge_run.result["url"])
    with edge_run.reading():
        audit = reader.rows(
            "select dataset, version, file_name, status, rejection_reason, rows_total, "
            "rows_accepted, rows_rejected from audit.file_versions where district_code = %s",
            (district,),
        )
        quarantine = reader.rows(
            "select dataset, version, row_number, reason_codes from audit.row_rejections "
            "where district_code = %s",
            (district,),
        )
        warnings = reader.rows(
            "select dataset, version, row_number from audit.row_warnings where district_code = %s",
            (district,),
        )
        raw = actual_raw(reader)
    assert {(r["dataset"], r["version"]): tuple(list(r.values())[2:]) for r in audit} == {
        (v.dataset, v.version): (
            v.path.name,
            v.judgement.status,
            v.judgement.rejection_reason,
            v.judgement.rows_total,
            v.judgement.rows_accepted,
            v.judgement.rows_rejected,
        )
        for v in versions
    }
    assert {
        (r["dataset"], r["version"], r["row_number"]): set(r["reason_codes"].split(";"))
        for r in quarantine
    } == {
        (v.dataset, v.version, n): codes
        for v in versions
        for n, codes in v.judgement.reasons_by_row.items()
    }
    assert {(r["dataset"], r["version"], r["row_number"]) for r in warnings} == {
        (v.dataset, v.version, n) for v in versions for n in v.judgement.warnings
    }
    expected = expected_raw(versions, EDGE_KEY)
    for dataset in COLUMNS:
        got = {row for row in raw[dataset] if row[1] == district}
        assert got == expected[dataset], dataset
