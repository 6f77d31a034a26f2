"""Which files of a period get which faults (only with ``faults=True``).

Every period gets every fault kind at least once, so a one-month inbox already exercises the
whole contract: each row-level reason code inside PARTIAL files (at most 20% bad rows), files
over the threshold, and every file-level outcome. The remaining files stay clean, so the
share of affected files is realistic (roughly 10-20%), not a torture test where nothing is
ACCEPTED. Assignment is a pure function of (seed, period, sizes): no iteration-order effects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sinergi.datasets import SPECS
from sinergi.periods import Period
from sinergi.synthetic.common import ordinal, rng
from sinergi.synthetic.styles import Profile

Slot = tuple[str, str]  # (district code, dataset)

_COMMON = ["period_mismatch", "district_mismatch", "exact_duplicate", "duplicate_key"]
ROW_KINDS: dict[str, list[str]] = {
    "ppks": _COMMON
    + [
        "invalid_subdistrict_code",
        "unknown_code:kode_ppks",
        "unknown_code:lokasi",
        "negative_value:jumlah_laki_laki",
        "negative_value:jumlah_perempuan",
        "invalid_integer:jumlah_laki_laki",
        "invalid_integer:jumlah",
        "total_mismatch",
    ],
    "psks": _COMMON + ["unknown_code:kode_psks", "negative_value:jumlah", "invalid_integer:jumlah"],
    "penerima_bantuan": _COMMON
    + [
        "invalid_nik",
        "invalid_kk",
        "invalid_village_code",
        "unknown_code:jenis_kelamin",
        "invalid_date:tanggal_lahir",
        "implausible_birthdate",
        "unknown_code:kode_program",
        "unknown_code:status_salur",
        "amount_out_of_range",
        "disbursement_outside_period",
        "invalid_date:tanggal_salur",
        "invalid_integer:nilai_bantuan",
        "missing_value:nilai_bantuan",
        "missing_value:tanggal_salur",
    ],
    "dtks": _COMMON
    + [
        "invalid_kk",
        "invalid_nik",
        "invalid_village_code",
        "out_of_range:jumlah_anggota",
        "out_of_range:desil",
        "unknown_code:status_dtks",
        "invalid_integer:jumlah_anggota",
        "invalid_integer:desil",
    ],
}
# Two independent faults on one row: the reader must collect every reason (§6 step 2).
COMBOS: dict[str, list[str]] = {
    "ppks": ["invalid_subdistrict_code+unknown_code:kode_ppks", "period_mismatch+total_mismatch"],
    "psks": ["district_mismatch+unknown_code:kode_psks"],
    "penerima_bantuan": [
        "invalid_nik+unknown_code:kode_program",
        "period_mismatch+invalid_kk",
        "unknown_code:jenis_kelamin+invalid_date:tanggal_lahir",
        "district_mismatch+amount_out_of_range",
    ],
    "dtks": ["out_of_range:desil+unknown_code:status_dtks", "invalid_nik+invalid_village_code"],
}
# File-level faults: (kind, status, rejection reason or None).
FILE_FAULTS: dict[str, tuple[str, str | None]] = {
    "zero_byte": ("REJECTED", "unreadable"),
    "nul_bytes": ("REJECTED", "unreadable"),
    "corrupt_xlsx": ("REJECTED", "unreadable"),
    "missing_columns": ("REJECTED", "missing_columns"),
    "header_only": ("REJECTED", "empty"),
    "ambiguous_pair": ("REJECTED", "ambiguous_submission"),
    "missing_dataset": ("MISSING", None),
    "misnamed_file": ("MISSING", None),
    "too_many_invalid_rows": ("REJECTED", "too_many_invalid_rows"),
}
VARIANTS: dict[str, tuple[str, ...]] = {
    "nul_bytes": ("utf16", "nul_padding"),
    "corrupt_xlsx": ("truncated", "html"),
    "missing_columns": ("dropped", "renamed"),
    "header_only": ("bare", "blank_rows"),
    "extra_column": ("row_number", "keterangan"),
}
UNKNOWN_DISTRICT_FOLDER = "3599"
PARTIAL_MAX_SHARE = 0.2  # bad rows <= 20% of data rows keeps a file PARTIAL (contract §3)


def cost(kind: str) -> int:
    """Bad rows a kind produces (a duplicate key rejects the original and the copy)."""
    return 2 if kind == "duplicate_key" else 1


@dataclass
class FilePlan:
    row_kinds: list[str] = field(default_factory=list)  # one entry per injected fault
    file_fault: str | None = None
    variant: str | None = None
    extra_column: str | None = None
    empty_rows: int = 0
    warnings: int = 0

    @property
    def touched(self) -> bool:
        return bool(
            self.row_kinds
            or self.file_fault
            or self.extra_column
            or self.empty_rows
            or self.warnings
        )


@dataclass
class PeriodPlan:
    files: dict[Slot, FilePlan] = field(default_factory=dict)
    stray: dict[str, list[str]] = field(default_factory=dict)
    unknown_folder: str | None = None

    def for_slot(self, slot: Slot) -> FilePlan:
        return self.files.get(slot, FilePlan())


def _mandatory(dataset: str, gen: np.random.Generator) -> list[str]:
    """This period's row-level kinds for one dataset.

    Every dataset-specific reason code every period; the rules common to all datasets in
    full for the two row-level datasets, and one rotating pick (a common rule, a missing
    column or a two-fault row) for the small aggregate files, whose few rows leave little
    room under the 20% threshold.
    """
    specific = [k for k in ROW_KINDS[dataset] if k not in _COMMON]
    missing = [f"missing_value:{c}" for c in SPECS[dataset].required]
    if dataset in ("ppks", "psks"):
        pool = _COMMON + missing + COMBOS[dataset]
        return specific + [str(gen.choice(pool))]
    return specific + _COMMON + [str(gen.choice(missing)), str(gen.choice(COMBOS[dataset]))]


def plan_period(
    seed: int,
    period: Period,
    sizes: dict[Slot, int],
    profile_of: dict[str, Profile],
    stray_names: list[str],
) -> PeriodPlan:
    """Assign every fault kind of this period to (district, dataset) slots.

    ``sizes`` holds the expected data rows of every file that will be sent (DTKS only for
    districts that send it this month); capacity for bad rows is derived from it.
    """
    gen = rng(seed, ordinal(period), "fault-plan")
    plan = PeriodPlan()
    keys = sorted(sizes)
    free = set(keys)

    def take(predicate) -> Slot | None:
        candidates = [k for k in keys if k in free and predicate(k)]
        if not candidates:
            return None
        slot = candidates[int(gen.integers(0, len(candidates)))]
        free.discard(slot)
        return slot

    def file_fault(kind: str, predicate, variant: str | None = None) -> None:
        slot = take(predicate)
        if slot is None:
            return
        options = VARIANTS.get(kind)
        chosen = variant or (str(gen.choice(options)) if options else None)
        plan.files[slot] = FilePlan(file_fault=kind, variant=chosen)

    def is_csv(slot: Slot) -> bool:
        return profile_of[slot[0]].fmt == "csv"

    def has_rows(slot: Slot) -> bool:
        return sizes[slot] > 0

    file_fault("zero_byte", has_rows)
    file_fault("nul_bytes", is_csv)
    file_fault("corrupt_xlsx", lambda k: not is_csv(k))
    file_fault("missing_columns", has_rows)
    file_fault("header_only", has_rows)
    file_fault("ambiguous_pair", has_rows)
    file_fault("missing_dataset", lambda k: k[1] != "dtks")
    file_fault("misnamed_file", has_rows)
    file_fault("too_many_invalid_rows", lambda k: sizes[k] >= 5, "mixed")
    # Whole-file mistakes: Excel's 3.57801E+15 identifiers, or last month's file re-sent.
    if gen.random() < 0.5:
        file_fault(
            "too_many_invalid_rows",
            lambda k: is_csv(k) and k[1] in ("penerima_bantuan", "dtks") and has_rows(k),
            "scientific",
        )
    else:
        file_fault("too_many_invalid_rows", has_rows, "stale_period")
    for _ in range(2):
        slot = take(has_rows)
        if slot:
            plan.files[slot] = FilePlan(extra_column=str(gen.choice(VARIANTS["extra_column"])))

    for dataset in SPECS:
        _plan_partials(gen, dataset, sizes, keys, free, plan)

    # Valid oddities, mostly in files that already have faults (keeps the touched share low).
    partial = [k for k in keys if plan.files.get(k, FilePlan()).row_kinds]
    clean = [k for k in keys if k in free]
    receivers = [partial[i] for i in gen.permutation(len(partial))[:3]]
    receivers += [clean[i] for i in gen.permutation(len(clean))[:1]]
    for slot in receivers:
        plan.files.setdefault(slot, FilePlan()).empty_rows = int(gen.integers(1, 4))
    rosters = [k for k in partial if k[1] == "penerima_bantuan" and sizes[k] >= 10]
    for index in gen.permutation(len(rosters))[:2].tolist():
        plan.files[rosters[index]].warnings = int(gen.integers(1, 4))
    codes = sorted({k[0] for k in keys})
    for code in gen.choice(codes, size=2, replace=False).tolist():
        plan.stray[code] = [str(gen.choice(stray_names))]
    plan.unknown_folder = UNKNOWN_DISTRICT_FOLDER
    return plan


def _capacity(rows: int) -> int:
    """Bad rows a file can take and stay PARTIAL (inserted duplicate copies only add room)."""
    return int(math.floor(rows * PARTIAL_MAX_SHARE))


def _plan_partials(
    gen: np.random.Generator,
    dataset: str,
    sizes: dict[Slot, int],
    keys: list[Slot],
    free: set[Slot],
    plan: PeriodPlan,
) -> None:
    """Spread the dataset's row-level kinds over a few PARTIAL files, within capacity."""
    kinds = _mandatory(dataset, gen)
    gen.shuffle(kinds)
    candidates = [k for k in keys if k[1] == dataset and k in free and _capacity(sizes[k]) >= 1]
    if not candidates:
        return
    order = gen.permutation(len(candidates))
    candidates = [candidates[i] for i in order]
    # Favour files with room, but not always the largest district.
    candidates.sort(key=lambda k: -min(_capacity(sizes[k]), 6))
    n_files = max(2, min(len(candidates), math.ceil(len(kinds) / 6)))
    opened: list[Slot] = candidates[:n_files]
    spare = candidates[n_files:]
    load = {slot: 0 for slot in opened}
    assigned: dict[Slot, list[str]] = {slot: [] for slot in opened}
    for kind in kinds:
        need = cost(kind)
        fitting = [s for s in opened if _capacity(sizes[s]) - load[s] >= need]
        if not fitting and spare:
            slot = spare.pop(0)
            opened.append(slot)
            load[slot] = 0
            assigned[slot] = []
            fitting = [slot] if _capacity(sizes[slot]) >= need else []
        target = (
            min(fitting, key=lambda s: (load[s], s))
            if fitting
            else max(opened, key=lambda s: (_capacity(sizes[s]) - load[s], s))
        )
        assigned[target].append(kind)
        load[target] += need
    for slot, chosen in assigned.items():
        if not chosen:
            continue
        room = _capacity(sizes[slot])
        share = gen.uniform(0.005, 0.08)
        budget = min(room, max(load[slot], int(sizes[slot] * share)))
        extra = [k for k in chosen if "+" not in k and k != "duplicate_key"] or chosen
        while load[slot] < budget:
            kind = str(gen.choice(extra))
            chosen.append(kind)
            load[slot] += cost(kind)
        free.discard(slot)
        plan.files[slot] = FilePlan(row_kinds=chosen)
