"""Tests of the synthetic inbox generator (``sinergi.synthetic``).

The generator is the warehouse's test bed, so these tests hold it to the submission contract
with the contract oracle (``tests/contract_oracle.py``), written independently of the
pipeline's reader and rules: a small contract reader (encodings, delimiters, header
normalisation, XLSX title rows) and the row rules of §4-§6. The manifest must say exactly
what the files contain: a clean inbox must be clean under the contract (not merely under
our own formatter), and every reason code the manifest claims for a row must really be
produced by that row's cells.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sinergi.datasets import SPECS
from sinergi.periods import Period, parse_periods
from sinergi.reference import district_codes, districts
from sinergi.synthetic import MANIFEST_NAME, generate_inbox
from tests.contract_oracle import (
    _SEX,
    Read,
    is_valid_kk,
    is_valid_nik,
    judge_rows,
    nik_birth_parts,
    parse_date,
    read_file,
    status_of,
)
from tests.reason_codes import ROW_REASON_CODES, ROW_REASON_PREFIXES

SCALE = 0.002  # ~4,000 roster + ~4,000 register rows a month: fast, yet every district has rows
CLEAN_PERIODS = ["2025-01", "2025-02"]
FAULT_PERIODS = ["2025-12", "2026-01"]

FILE_FAULT_KINDS = {
    "zero_byte",
    "nul_bytes",
    "corrupt_xlsx",
    "missing_columns",
    "header_only",
    "ambiguous_pair",
    "missing_dataset",
    "misnamed_file",
    "too_many_invalid_rows",
    "extra_column",
    "extra_file",
    "unknown_district_folder",
    "empty_rows",
    "partial_rows",
    "nik_birthdate_mismatch",
}


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean")
    return out, generate_inbox(out, CLEAN_PERIODS, seed=7, scale=SCALE)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("faulty")
    return out, generate_inbox(out, FAULT_PERIODS, seed=11, scale=SCALE, faults=True)


def entries(manifest: dict):
    for period, content in manifest["periods"].items():
        for district, per_dataset in content["submissions"].items():
            for dataset, entry in per_dataset.items():
                yield period, district, dataset, entry


def dataset_files(entry: dict) -> list[dict]:
    return [f for f in entry["files"] if f["path"] not in entry["ignored_files"]]


# --- arguments ---------------------------------------------------------------------------------
def test_parse_periods_expands_ranges_and_rejects_nonsense() -> None:
    assert parse_periods("2025-01:2025-03") == ["2025-01", "2025-02", "2025-03"]
    assert parse_periods("2024-12:2025-01") == ["2024-12", "2025-01"]
    assert parse_periods(" 2025-07 ") == ["2025-07"]
    for bad in ("", "2025-13", "2025-1", "2025-03:2025-01", "2025-01:", "jan", "2025-01,2025-01"):
        with pytest.raises(ValueError):
            parse_periods(bad)


def test_bad_arguments_and_existing_output_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_inbox(tmp_path, ["2025-01"], scale=0)
    with pytest.raises(ValueError):
        generate_inbox(tmp_path, ["2025-1"])
    generate_inbox(tmp_path, ["2025-01"], scale=0.0005)
    # Regenerating into the same folder must not silently mix two inboxes.
    with pytest.raises(FileExistsError):
        generate_inbox(tmp_path, ["2025-01"], scale=0.0005, seed=1)
    generate_inbox(tmp_path, ["2025-01"], scale=0.0005, seed=1, overwrite=True)
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["parameters"]["seed"] == 1


# --- the clean inbox ---------------------------------------------------------------------------
def test_month_one_has_every_dataset_of_every_district(clean) -> None:
    out, manifest = clean
    first = out / CLEAN_PERIODS[0]
    assert sorted(p.name for p in first.iterdir()) == sorted(district_codes())
    for code in district_codes():
        stems = {p.name.lower().rsplit(".", 1)[0] for p in (first / code).iterdir()}
        assert stems == set(SPECS), code
    statuses = {e["status"] for *_, e in entries(manifest)}
    assert statuses == {"ACCEPTED", "MISSING"}  # MISSING = DTKS not re-sent in month 2
    month_two = manifest["periods"][CLEAN_PERIODS[1]]["submissions"]
    sent = [c for c, per in month_two.items() if per["dtks"]["status"] == "ACCEPTED"]
    assert 0 < len(sent) < 38  # carry-forward of the register matters
    assert all(
        per[d]["status"] == "ACCEPTED"
        for per in month_two.values()
        for d in ("ppks", "psks", "penerima_bantuan")
    )
    assert not manifest["faults"]
    assert not (out / CLEAN_PERIODS[0] / "3599").exists()


def test_row_counts_follow_registered_population(clean) -> None:
    _, manifest = clean
    month = manifest["periods"][CLEAN_PERIODS[0]]["submissions"]
    population = {d.code: d.population for d in districts()}
    largest, smallest = max(population, key=population.get), min(population, key=population.get)
    for dataset in ("penerima_bantuan", "dtks"):
        rows = {code: per[dataset]["rows_total"] for code, per in month.items()}
        assert rows[largest] > 5 * rows[smallest]
        assert min(rows.values()) >= 5  # a handful even at a tiny scale
        assert abs(sum(rows.values()) - 2_000_000 * SCALE) < 0.1 * 2_000_000 * SCALE


def test_clean_inbox_is_valid_under_the_contract(clean) -> None:
    """No reason code, duplicate or NIK warning anywhere; every valid spelling occurs."""
    out, manifest = clean
    seen: set[str] = set()
    for period, code, dataset, entry in entries(manifest):
        for file in dataset_files(entry):
            path = out / file["path"]
            read = read_file(path, dataset)
            assert set(SPECS[dataset].columns) <= set(read.header), path
            reasons, warnings = judge_rows(dataset, read, Period.parse(period), code)
            assert not reasons, (path, list(reasons.items())[:3])
            assert not warnings, (path, sorted(warnings)[:3])
            assert len(read.rows) == entry["rows_total"] == entry["rows_accepted"]
            assert read.empty_rows == 0
            seen |= _spellings(path, read)
    assert seen >= {
        "cp1252",
        "bom",
        "semicolon",
        "xlsx_title_rows",
        "xlsx_numeric_nik",
        "xlsx_date_cells",
        "dotted_codes",
        "grouped_amounts",
        "dd/mm/yyyy",
        "dd-mm-yyyy",
        "yyyy-mm-dd",
        "sex_words",
        "capitalised_header",
        "upper_case_file_name",
    }, seen


def _spellings(path: Path, read: Read) -> set[str]:
    """Which valid-but-untidy shapes one file shows (for the coverage assertion)."""
    found: set[str] = set()
    data = path.read_bytes()
    if read.encoding == "cp1252":
        found.add("cp1252")
    if data.startswith(b"\xef\xbb\xbf"):
        found.add("bom")
    if path.suffix == ".csv" and b";" in data.split(b"\n", 1)[0]:
        found.add("semicolon")
    if path.name != path.name.lower():
        found.add("upper_case_file_name")
    if path.suffix.lower() == ".xlsx":
        if read.title_rows:
            found.add("xlsx_title_rows")
        for values in read.raw_cells[:50]:
            if any(isinstance(v, int) and v > 10**15 for v in values):
                found.add("xlsx_numeric_nik")
            if any(isinstance(v, datetime | date) for v in values):
                found.add("xlsx_date_cells")
    else:
        first_line = data.split(b"\n", 1)[0].decode("cp1252")
        if re.search(r"[A-Z][a-z]", first_line):
            found.add("capitalised_header")
    for _, cells in read.rows[:200]:
        for col, text in cells.items():
            if not text:
                continue
            if col.startswith("kode_") and "." in text:
                found.add("dotted_codes")
            if col == "nilai_bantuan" and "." in text:
                found.add("grouped_amounts")
            if col.startswith("tanggal_"):
                found.add(
                    next(
                        (
                            s
                            for s, p in (
                                ("dd/mm/yyyy", r"\d\d/"),
                                ("dd-mm-yyyy", r"\d\d-"),
                                ("yyyy-mm-dd", r"\d{4}-"),
                            )
                            if re.match(p, text)
                        )
                    )
                )
            if col == "jenis_kelamin" and len(text) > 1:
                found.add("sex_words")
    return found


def test_identifiers_are_valid_and_match_birth_date_and_sex(clean) -> None:
    out, manifest = clean
    checked = own_regency = 0
    for _period, code, dataset, entry in entries(manifest):
        if dataset not in ("penerima_bantuan", "dtks"):
            continue
        for file in dataset_files(entry):
            for _, cells in read_file(out / file["path"], dataset).rows:
                nik = cells.get("nik") or cells["nik_kepala_keluarga"]
                assert is_valid_nik(nik) and is_valid_kk(cells["no_kk"]), cells
                assert nik[:2] == cells["no_kk"][:2] == "35"
                own_regency += nik[2:4] == code[2:4]
                checked += 1
                if dataset == "penerima_bantuan":
                    born = parse_date(cells["tanggal_lahir"])
                    day, month, year, sex = nik_birth_parts(nik)
                    assert (day, month, year) == (born.day, born.month, born.year % 100), cells
                    assert sex == _SEX[cells["jenis_kelamin"].upper()], cells
    # Only the planted cross-district duplicates carry another regency's NIK.
    assert checked > 10_000 and own_regency / checked > 0.99


def test_population_is_stable_across_months(clean) -> None:
    """Same households and persons every month: carry-forward and YTD reach need it."""
    out, manifest = clean
    first, second = (manifest["periods"][p]["submissions"] for p in CLEAN_PERIODS)
    code = next(
        c
        for c in sorted(second)
        if second[c]["dtks"]["status"] == "ACCEPTED" and first[c]["dtks"]["rows_total"] > 50
    )

    def column(entry: dict, dataset: str, name: str) -> set[str]:
        path = out / dataset_files(entry)[0]["path"]
        return {cells[name] for _, cells in read_file(path, dataset).rows}

    kk1, kk2 = (column(m[code]["dtks"], "dtks", "no_kk") for m in (first, second))
    assert kk1 <= kk2 and len(kk2 - kk1) >= 1  # nobody vanishes, a few register
    nik1, nik2 = (
        column(m[code]["penerima_bantuan"], "penerima_bantuan", "nik") for m in (first, second)
    )
    assert len(nik1 & nik2) > 0.8 * len(nik1)
    aktif = [m[code]["dtks"]["stats"]["aktif"] for m in (first, second)]
    assert aktif[0] > 0.8 * first[code]["dtks"]["rows_total"]


def test_cross_district_duplicates_are_planted(clean) -> None:
    out, manifest = clean
    period = CLEAN_PERIODS[0]
    paid: dict[tuple[str, str], set[str]] = {}
    for p, code, dataset, entry in entries(manifest):
        if p != period or dataset != "penerima_bantuan":
            continue
        for _, cells in read_file(out / dataset_files(entry)[0]["path"], dataset).rows:
            if cells["status_salur"].upper() == "SALUR":
                paid.setdefault((cells["nik"], cells["kode_program"].upper()), set()).add(code)
    doubles = sum(len(codes) >= 2 for codes in paid.values())
    claimed = manifest["periods"][period]["cross_district_duplicates"]["served_by_program"]
    assert doubles >= 3 and doubles == sum(v["persons"] for v in claimed.values())


def test_received_times_straddle_the_deadline(clean) -> None:
    out, manifest = clean
    on_time = late = 0
    for period, code, _, entry in entries(manifest):
        deadline = Period.parse(period).deadline()
        for file in entry["files"]:
            received = datetime.fromtimestamp((out / file["path"]).stat().st_mtime, UTC)
            assert file["on_time"] == (received <= deadline)
            assert received >= deadline.replace(day=1, hour=0, minute=0, second=0)  # next month
            on_time += received <= deadline
            late += received > deadline
        edge = manifest["periods"][period]["boundary_uploads"]
        if code == edge["at_deadline"] and entry["files"]:
            assert received == deadline  # inclusive deadline: on time
        if code == edge["one_second_late"] and entry["files"]:
            assert (received - deadline).total_seconds() == 1
    assert late > 0 and on_time > 3 * late


# --- the inbox with faults ---------------------------------------------------------------------
def test_every_reason_code_and_file_fault_occurs(faulty) -> None:
    _, manifest = faulty
    for period in FAULT_PERIODS:  # each period on its own covers the whole contract
        partial_codes: set[str] = set()
        statuses, reasons = set(), set()
        for p, _, _, entry in entries(manifest):
            if p != period:
                continue
            statuses.add(entry["status"])
            reasons.add(entry["rejection_reason"])
            if entry["status"] == "PARTIAL":
                for row in entry["bad_rows"]:
                    partial_codes |= set(row["reasons"])
        assert partial_codes >= ROW_REASON_CODES, ROW_REASON_CODES - partial_codes
        assert {c.split(":")[0] for c in partial_codes} >= ROW_REASON_PREFIXES
        assert statuses == {"ACCEPTED", "PARTIAL", "REJECTED", "MISSING"}
        assert reasons >= {
            "unreadable",
            "missing_columns",
            "empty",
            "ambiguous_submission",
            "too_many_invalid_rows",
        }
        kinds = {f["kind"] for f in manifest["faults"] if f["period"] == period}
        assert kinds == FILE_FAULT_KINDS, FILE_FAULT_KINDS ^ kinds
    assert set(manifest["summary"]["fault_kinds"]) == FILE_FAULT_KINDS


def test_fault_share_is_realistic(faulty) -> None:
    _, manifest = faulty
    submissions = [e for *_, e in entries(manifest) if e["files"] or e["faults"]]
    touched = sum(bool(e["faults"]) for e in submissions)
    assert 0.08 <= touched / len(submissions) <= 0.25
    partial = [e for e in submissions if e["status"] == "PARTIAL"]
    assert all(0 < e["rows_rejected"] * 5 <= e["rows_total"] for e in partial)


def test_manifest_rows_are_what_the_files_contain(faulty) -> None:
    """For every judged file the oracle finds exactly the manifest's bad rows and warnings."""
    out, manifest = faulty
    judged = 0
    for period, code, dataset, entry in entries(manifest):
        if not (
            entry["status"] in ("ACCEPTED", "PARTIAL")
            or entry["rejection_reason"] == "too_many_invalid_rows"
        ):
            continue
        (file,) = dataset_files(entry)
        read = read_file(out / file["path"], dataset)
        reasons, warnings = judge_rows(dataset, read, Period.parse(period), code)
        claimed = {r["row_number"]: set(r["reasons"]) for r in entry["bad_rows"]}
        assert reasons == claimed, (
            file["path"],
            {
                k: (reasons.get(k), claimed.get(k))
                for k in set(reasons) ^ set(claimed)
                or {k for k in reasons if reasons[k] != claimed.get(k)}
            },
        )
        assert warnings == {w["row_number"] for w in entry["warnings"]}, file["path"]
        assert len(read.rows) == entry["rows_total"]
        assert read.empty_rows == entry["empty_rows"], file["path"]
        assert status_of(reasons, len(read.rows)) == entry["status"], file["path"]
        extra = set(read.header) - set(SPECS[dataset].columns)
        assert extra == set(entry["unexpected_columns"]), file["path"]
        judged += 1
    assert judged > 100


def test_file_level_faults_are_really_in_the_files(faulty) -> None:
    out, manifest = faulty
    for fault in manifest["faults"]:
        paths = [out / p for p in fault["paths"]]
        kind = fault["kind"]
        entry = (
            manifest["periods"][fault["period"]]["submissions"]
            .get(fault["district"], {})
            .get(fault["dataset"])
        )
        if kind == "zero_byte":
            assert paths[0].stat().st_size == 0
        elif kind == "nul_bytes":
            assert b"\x00" in paths[0].read_bytes() and paths[0].suffix.lower() == ".csv"
        elif kind == "corrupt_xlsx":
            assert not zipfile.is_zipfile(paths[0]) or _broken_zip(paths[0])
        elif kind == "missing_columns":
            read = read_file(paths[0], fault["dataset"])
            assert entry["missing_columns"][0] not in read.header
        elif kind == "header_only":
            read = read_file(paths[0], fault["dataset"])
            assert read.header and not read.rows
        elif kind == "ambiguous_pair":
            assert sorted(p.suffix for p in paths) == [".csv", ".xlsx"]
            assert all(read_file(p, fault["dataset"]).rows for p in paths)
            assert all(p.stem == fault["dataset"] for p in paths)
        elif kind == "missing_dataset":
            folder = out / fault["period"] / fault["district"]
            assert fault["dataset"] not in {
                p.name.lower().rsplit(".", 1)[0] for p in folder.iterdir()
            }
        elif kind == "misnamed_file":
            assert paths[0].exists() and paths[0].stem.lower() not in SPECS
        elif kind in ("extra_file", "unknown_district_folder"):
            assert paths[0].exists()
            assert paths[0].name.lower().rsplit(".", 1)[0] not in SPECS or (
                paths[0].parent.name not in district_codes()
            )
        elif kind == "extra_column":
            header = read_file(paths[0], fault["dataset"]).header
            assert set(header) - set(SPECS[fault["dataset"]].columns)
        assert all(p.exists() for p in paths)
    # XLSX submissions carry title rows above the header, which the reader must skip.
    xlsx = [
        out / f["path"]
        for *_, e in entries(manifest)
        for f in dataset_files(e)
        if f["format"] == "xlsx" and e["status"] == "ACCEPTED"
    ]
    assert xlsx and all(read_file(p, p.stem.lower()).title_rows >= 1 for p in xlsx)


def _broken_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        return True
    return False


# --- determinism ---------------------------------------------------------------------------------
def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(root).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_give_identical_bytes_and_times(tmp_path: Path) -> None:
    """A regenerated inbox must not look like a resubmission (versions go by SHA-256)."""
    args = {"seed": 3, "scale": 0.001, "faults": True}
    first = generate_inbox(tmp_path / "a", ["2025-03"], **args)
    second = generate_inbox(tmp_path / "b", ["2025-03"], **args)
    assert first == second
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    generate_inbox(tmp_path / "c", ["2025-03"], **(args | {"seed": 4}))
    a, c = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "c")
    assert sum(a[k] != c.get(k) for k in a) > len(a) // 2


def test_the_one_command_line_writes_an_inbox_and_refuses_a_bad_period(tmp_path, capsys):
    from sinergi.cli import main

    out = tmp_path / "inbox"
    assert main(["generate", "--out", str(out), "--periods", "2025-01", "--scale", "0.001"]) == 0
    assert (out / MANIFEST_NAME).is_file() and list(out.glob("2025-01/*/*.*"))
    capsys.readouterr()
    assert main(["generate", "--out", str(out), "--periods", "2025-13"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sinergi: ") and "Traceback" not in err
