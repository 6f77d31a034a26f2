"""The orchestration: districts one at a time, periods inside, and the manifest.

District-major order bounds memory to one district's population (the largest, Surabaya, is
about 7% of the province) and lets the population be drawn once and reused for every period.
Nothing depends on the loop order: every draw is keyed by (seed, district, period, purpose),
and the period-level pieces (fault plan, movers, boundary uploads) are pure functions.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sinergi.datasets import SPECS
from sinergi.periods import Period
from sinergi.reference import districts
from sinergi.synthetic.common import day_number, district_rows
from sinergi.synthetic.faults import FilePlan, PeriodPlan, plan_period
from sinergi.synthetic.files import Job, produce
from sinergi.synthetic.population import Population, build_population, programs
from sinergi.synthetic.styles import profiles
from sinergi.synthetic.tables import (
    Movers,
    Table,
    dtks_table,
    movers,
    ppks_structure,
    ppks_table,
    psks_structure,
    psks_table,
    roster_table,
    sends_dtks,
)
from sinergi.synthetic.timing import boundary_districts, received_at
from sinergi.synthetic.writers import STRAY_FILES, csv_bytes, write_file

MANIFEST_NAME = "generator-manifest.json"
MANIFEST_VERSION = 1


def _sizes(
    seed: int, period: Period, month_index: int, rows: dict[str, int]
) -> dict[tuple[str, str], int]:
    """Expected data rows of every file sent in a period (for the fault plan's capacity)."""
    sizes: dict[tuple[str, str], int] = {}
    for d in districts():
        sizes[(d.code, "ppks")] = len(ppks_structure(seed, d.code)[0])
        sizes[(d.code, "psks")] = len(psks_structure(seed, d.code)[0])
        sizes[(d.code, "penerima_bantuan")] = int(rows[d.code] * 0.85)
        if sends_dtks(seed, d.code, period, month_index):
            sizes[(d.code, "dtks")] = rows[d.code]
    return sizes


def generate(
    out: Path,
    periods: list[Period],
    *,
    seed: int,
    scale: float,
    faults: bool,
    progress: Callable[[str], None] | None,
    overwrite: bool,
) -> dict[str, object]:
    out = Path(out)
    _prepare(out, periods, overwrite)
    say = progress or (lambda _message: None)
    rows = district_rows(scale)
    district_profiles = profiles(seed)
    mover_sets = {p: movers(seed, p, scale) for p in periods}
    plans: dict[Period, PeriodPlan] = {}
    for index, period in enumerate(periods):
        sizes = _sizes(seed, period, index, rows)
        plans[period] = (
            plan_period(seed, period, sizes, district_profiles, sorted(STRAY_FILES))
            if faults
            else PeriodPlan()
        )
    ref_day = day_number(periods[0].first_day)
    submissions: dict[str, dict[str, dict[str, object]]] = {str(p): {} for p in periods}
    served_movers: dict[Period, dict[int, list[str]]] = {p: {} for p in periods}
    fault_list: list[dict[str, object]] = []
    extra_files: dict[str, list[dict[str, object]]] = {str(p): [] for p in periods}

    for d in districts():
        code = d.code
        pop = build_population(seed, code, rows[code], rows[code], len(periods), ref_day)
        for index, period in enumerate(periods):
            plan = plans[period]
            per_dataset: dict[str, object] = {}
            for dataset in SPECS:
                slot_plan = plan.for_slot((code, dataset))
                if dataset == "dtks" and not sends_dtks(seed, code, period, index):
                    per_dataset[dataset] = _not_sent(period, code)
                    continue
                table = _table(seed, dataset, pop, code, period, index, mover_sets[period])
                job = Job(seed, period, code, dataset, district_profiles[code], out)
                entry, accepted = produce(job, table, slot_plan)
                per_dataset[dataset] = entry
                if slot_plan.touched:
                    fault_list.extend(_fault_records(entry, slot_plan))
                if dataset == "penerima_bantuan" and entry["status"] in ("ACCEPTED", "PARTIAL"):
                    served = table.extra["mover"][accepted]
                    for mover in served[served >= 0].tolist():
                        served_movers[period].setdefault(int(mover), []).append(code)
                for ignored in entry["ignored_files"]:
                    extra_files[str(period)].append(
                        {"path": ignored, "district": code, "reason": "misnamed dataset file"}
                    )
            for name in plan.stray.get(code, []):
                path = out / str(period) / code / name
                write_file(path, STRAY_FILES[name], received_at(seed, period, code, "stray"))
                record = {
                    "path": path.relative_to(out).as_posix(),
                    "district": code,
                    "reason": "unrelated file",
                }
                extra_files[str(period)].append(record)
                fault_list.append(
                    {
                        "period": str(period),
                        "district": code,
                        "dataset": None,
                        "kind": "extra_file",
                        "status": None,
                        "paths": [record["path"]],
                    }
                )
            submissions[str(period)][code] = per_dataset
        say(f"district {code} ({d.name}): {len(periods)} period(s) written")

    unknown: dict[str, list[str]] = {}
    for period in periods:
        folder = plans[period].unknown_folder
        if folder:
            unknown[str(period)] = [_unknown_folder(out, seed, period, folder)]
            fault_list.append(
                {
                    "period": str(period),
                    "district": folder,
                    "dataset": None,
                    "kind": "unknown_district_folder",
                    "status": None,
                    "paths": unknown[str(period)],
                }
            )

    manifest = {
        "generator": "sinergi.synthetic",
        "manifest_version": MANIFEST_VERSION,
        "parameters": {
            "periods": [str(p) for p in periods],
            "seed": seed,
            "scale": scale,
            "faults": faults,
        },
        "deadline_rule": "day 10 of the following month, 23:59:59 Asia/Jakarta (inclusive)",
        "periods": {
            str(p): {
                "deadline": p.deadline().isoformat(),
                "boundary_uploads": dict(
                    zip(
                        ("at_deadline", "one_second_late"), boundary_districts(seed, p), strict=True
                    )
                ),
                "submissions": submissions[str(p)],
                "extra_files": extra_files[str(p)],
                "unknown_district_folders": unknown.get(str(p), []),
                "cross_district_duplicates": _cross_district(mover_sets[p], served_movers[p]),
            }
            for p in periods
        },
        "faults": fault_list,
    }
    manifest["summary"] = _summary(manifest)
    text = json.dumps(manifest, indent=1, ensure_ascii=False, default=_json_default) + "\n"
    # A fixed mtime too: the whole output is a pure function of the arguments.
    write_file(out / MANIFEST_NAME, text.encode("utf-8"), periods[-1].deadline())
    return manifest


def _prepare(out: Path, periods: list[Period], overwrite: bool) -> None:
    """Refuse to mix a new inbox into old period folders unless asked to replace them."""
    out.mkdir(parents=True, exist_ok=True)
    for period in periods:
        folder = out / str(period)
        if folder.exists() and any(folder.iterdir()):
            if not overwrite:
                raise FileExistsError(
                    f"{folder} already holds files; pass overwrite=True (CLI --overwrite) "
                    "to replace the generated period folders"
                )
            shutil.rmtree(folder)


def _table(
    seed: int,
    dataset: str,
    pop: Population,
    code: str,
    period: Period,
    index: int,
    mover_set: Movers,
) -> Table:
    if dataset == "ppks":
        return ppks_table(seed, code, period)
    if dataset == "psks":
        return psks_table(seed, code, period)
    if dataset == "dtks":
        return dtks_table(pop, index)
    return roster_table(seed, pop, period, mover_set)


def _not_sent(period: Period, code: str) -> dict[str, object]:
    """DTKS is a snapshot: not sending one is normal and the last served one carries forward."""
    return {
        "period": str(period),
        "district": code,
        "dataset": "dtks",
        "faults": [],
        "variant": "not_sent_this_month",
        "files": [],
        "missing_columns": [],
        "ignored_files": [],
        "status": "MISSING",
        "rejection_reason": None,
        "rows_total": 0,
        "rows_rejected": 0,
        "rows_accepted": 0,
        "bad_rows": [],
        "warnings": [],
        "empty_rows": 0,
        "unexpected_columns": [],
        "profile": None,
        "skipped_kinds": [],
        "stats": None,
    }


def _fault_records(entry: dict[str, object], plan: FilePlan) -> list[dict[str, object]]:
    base = {
        "period": entry["period"],
        "district": entry["district"],
        "dataset": entry["dataset"],
        "status": entry["status"],
        "paths": [f["path"] for f in entry["files"]],
    }
    records = []
    for kind in entry["faults"]:
        record = base | {"kind": kind}
        if kind == plan.file_fault and entry["variant"]:
            record["variant"] = entry["variant"]
        if kind == "partial_rows":
            record["reason_codes"] = sorted({c for r in entry["bad_rows"] for c in r["reasons"]})
        records.append(record)
    return records


def _unknown_folder(out: Path, seed: int, period: Period, folder: str) -> str:
    """A folder named like a district code that does not exist (reported, not processed)."""
    path = out / str(period) / folder / "psks.csv"
    header = ["periode", "kode_kabkota", "kode_psks", "jumlah"]
    columns = [[str(period)] * 3, [folder] * 3, ["PSKS01", "PSKS02", "PSKS11"], ["4", "120", "9"]]
    write_file(path, csv_bytes(header, columns), received_at(seed, period, "3501", "unknown"))
    return path.relative_to(out).as_posix()


def _cross_district(mover_set: Movers, served: dict[int, list[str]]) -> dict[str, object]:
    """Persons paid by the same programme in two districts, counted over served rows only."""
    names = programs()
    result: dict[str, dict[str, int]] = {}
    for mover, where in sorted(served.items()):
        if len(set(where)) < 2:
            continue
        code = names[int(mover_set.program[mover])]
        bucket = result.setdefault(code, {"persons": 0, "rows": 0, "amount_idr": 0})
        bucket["persons"] += 1
        bucket["rows"] += len(where)
        bucket["amount_idr"] += int(mover_set.amount[mover]) * len(where)
    return {
        "planted_persons": int(len(mover_set.nik)),
        "served_by_program": result,
    }


def _summary(manifest: dict[str, object]) -> dict[str, object]:
    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    rows_written: Counter[str] = Counter()
    files = 0
    touched = 0
    for period in manifest["periods"].values():
        for per_dataset in period["submissions"].values():
            for dataset, entry in per_dataset.items():
                statuses[entry["status"]] += 1
                files += len(entry["files"])
                touched += bool(entry["faults"])
                rows_written[dataset] += entry["rows_total"]
                for row in entry["bad_rows"]:
                    reasons.update(row["reasons"])
    kinds = Counter(f["kind"] for f in manifest["faults"])
    return {
        "files_written": files,
        "submissions_by_status": dict(sorted(statuses.items())),
        "submissions_with_faults": touched,
        "rows_by_dataset": dict(sorted(rows_written.items())),
        "reason_codes": dict(sorted(reasons.items())),
        "fault_kinds": dict(sorted(kinds.items())),
    }


def _json_default(value: object) -> object:
    """numpy scalars that slipped into the manifest become plain JSON numbers."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value))
