"""One (period, district, dataset): cells -> faults -> file(s) on disk -> manifest entry.

The manifest entry states what the contract says the pipeline must conclude about the
file(s) written here: status, rejection reason, rows_total / rejected / accepted, and for
each injected bad row its row number (as the operator sees it: header on row 1 of a CSV,
title rows counted in an XLSX) with its reason codes. ``stats`` are computed from the rows
the pipeline should accept, so mart tests can compare against them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sinergi.datasets import SPECS
from sinergi.periods import Period
from sinergi.synthetic.common import name_of, ordinal, rng
from sinergi.synthetic.faults import FILE_FAULTS, ROW_KINDS, FilePlan
from sinergi.synthetic.inject import RowFaults
from sinergi.synthetic.population import programs
from sinergi.synthetic.styles import (
    TITLES,
    Formatter,
    Profile,
    column_order,
    format_table,
    header_names,
    month_title,
)
from sinergi.synthetic.tables import GAGAL, SALUR, Table, psks_list
from sinergi.synthetic.timing import received_at
from sinergi.synthetic.writers import csv_bytes, html_disguised_as_xlsx, write_file, xlsx_bytes

_RENAMED = {
    "kode_desa": "Kode Kel/Desa",
    "no_kk": "Nomor KK",
    "tanggal_lahir": "Tgl Lahir",
    "kode_kecamatan": "Kode Kec",
    "jumlah": "Total",
    "status_dtks": "Status",
    "kode_psks": "Jenis PSKS",
    "desil": "Desil Kesejahteraan",
}
_MISNAMED = {
    "ppks": "data_ppks.csv",
    "psks": "psks_{month}.csv",
    "penerima_bantuan": "penerima-bantuan.csv",
    "dtks": "DTKS {period}.csv",
}
_NOTES = ("pindahan", "lansia tunggal", "data baru", "cek ulang NIK", "disabilitas berat")


@dataclass
class Job:
    """Everything needed to write one dataset file of one district and period."""

    seed: int
    period: Period
    code: str
    dataset: str
    profile: Profile
    out: Path


@dataclass
class Rendered:
    """A file's content in file order, ready to be turned into bytes."""

    header: list[str]
    columns: list[list[object]]
    row_numbers: dict[int, int]  # row index (base rows, then copies) -> row number in file
    header_row: int
    title_rows: list[list[object]]
    rows_total: int


def _order(gen: np.random.Generator, n: int, copies: list[int], empty_rows: int) -> np.ndarray:
    """File order of base rows (0..n-1), copies (n..) after their source, and empties (-1)."""
    keys = [np.arange(n, dtype=float)]
    if copies:
        src = np.array(copies, dtype=float)
        reach = np.minimum(30, n - 1 - src)
        keys.append(src + np.floor(gen.random(len(copies)) * (reach + 1)) + 0.5)
    if empty_rows:
        keys.append(gen.uniform(-0.5, max(n, 1) - 0.5, empty_rows))
    ids = np.concatenate(
        [np.arange(n), np.arange(n, n + len(copies)), np.full(empty_rows, -1)]
    ).astype(np.int64)
    return ids[np.argsort(np.concatenate(keys), kind="stable")]


def _render(
    job: Job,
    fmt: Formatter,
    cells: dict[str, np.ndarray],
    faults: RowFaults,
    plan: FilePlan,
    gen: np.random.Generator,
) -> Rendered:
    n = len(faults.table)
    names = column_order(job.dataset, fmt.profile, job.seed, job.code)
    full = {}
    for name in names:
        extra = [values[name] for _, values in faults.copies]
        full[name] = (
            np.concatenate([cells[name], np.array(extra, dtype=object)]) if extra else cells[name]
        )
    order = _order(gen, n, [src for src, _ in faults.copies], plan.empty_rows)
    blank = fmt.missing()
    columns = []
    for name in names:
        picked = full[name][np.maximum(order, 0)] if len(order) else np.zeros(0, dtype=object)
        picked = picked.astype(object)
        picked[order < 0] = blank
        columns.append(picked.tolist())
    header = header_names(job.dataset, names, fmt.profile)
    data_rows = int((order >= 0).sum())
    if plan.extra_column == "row_number":
        numbers, count = [], 0
        for index in order.tolist():
            count += index >= 0
            numbers.append(fmt.identifier(count) if index >= 0 else blank)
        header, columns = ["No"] + header, [numbers] + columns
    elif plan.extra_column == "keterangan":
        notes = [
            str(gen.choice(_NOTES)) if index >= 0 and gen.random() < 0.1 else blank
            for index in order.tolist()
        ]
        header, columns = header + ["Keterangan"], columns + [notes]
    titles: list[list[object]] = []
    if fmt.xlsx:
        titles = [
            [TITLES[job.dataset]],
            [f"{name_of(job.code).upper()} - PERIODE {month_title(job.period)}"],
        ][: max(1, fmt.profile.title_rows)]
        if fmt.profile.blank_after_title:
            titles.append([])
    header_row = len(titles) + 1
    row_numbers = {
        int(index): header_row + 1 + pos for pos, index in enumerate(order.tolist()) if index >= 0
    }
    return Rendered(header, columns, row_numbers, header_row, titles, data_rows)


def _encode(fmt: Formatter, rendered: Rendered, stamp: datetime, **csv_options) -> bytes:
    if fmt.xlsx:
        return xlsx_bytes(rendered.title_rows, rendered.header, rendered.columns, stamp=stamp)
    p = fmt.profile
    options = {
        "delimiter": p.delimiter,
        "encoding": p.encoding,
        "quote_all": p.quote_all,
        "crlf": p.crlf,
        "blank_lines": p.crlf,  # Excel-made CSVs end empty rows with bare line breaks
    } | csv_options
    return csv_bytes(rendered.header, rendered.columns, **options)


def _file_name(job: Job, ext: str) -> str:
    if job.profile.upper_filename:
        return f"{job.dataset.upper()}.{ext.upper()}"
    return f"{job.dataset}.{ext}"


def _stats(table: Table, accepted: np.ndarray) -> dict[str, object]:
    """What the warehouse should serve from this file (accepted rows only)."""
    c = table.columns
    if table.dataset == "dtks":
        aktif = c["aktif"] & accepted
        desil = c["desil"]
        eligible = aktif & (desil <= 4)
        return {
            "rows": int(accepted.sum()),
            "aktif": int(aktif.sum()),
            "aktif_by_desil": [int((aktif & (desil == d)).sum()) for d in range(1, 11)],
            "eligible_households": int(eligible.sum()),
            "eligible_individuals": int(c["jumlah_anggota"][eligible].sum()),
        }
    if table.dataset == "penerima_bantuan":
        paid = accepted & (c["status_salur"] == SALUR)
        by_program = {}
        for index, code in enumerate(programs()):
            mine = c["kode_program"] == index
            paid_here = paid & mine
            by_program[code] = {
                "rows": int((accepted & mine).sum()),
                "paid_rows": int(paid_here.sum()),
                "recipients": int(len(np.unique(c["nik"][paid_here]))),
                "households_reached": int(len(np.unique(c["no_kk"][paid_here]))),
                "amount_idr": int(c["nilai_bantuan"][paid_here].sum()),
                "failed": int((accepted & mine & (c["status_salur"] == GAGAL)).sum()),
            }
        return {
            "rows": int(accepted.sum()),
            "paid_rows": int(paid.sum()),
            "households_reached": int(len(np.unique(c["no_kk"][paid]))),
            "amount_idr": int(c["nilai_bantuan"][paid].sum()),
            "by_program": by_program,
        }
    if table.dataset == "ppks":
        return {
            "rows": int(accepted.sum()),
            "male": int(c["jumlah_laki_laki"][accepted].sum()),
            "female": int(c["jumlah_perempuan"][accepted].sum()),
        }
    names = psks_list()
    return {
        "rows": int(accepted.sum()),
        "by_type": {
            names[t]: int(v)
            for t, v in zip(c["kode_psks"][accepted], c["jumlah"][accepted], strict=True)
        },
    }


def produce(job: Job, table: Table, plan: FilePlan) -> tuple[dict[str, object], np.ndarray]:
    """Write the file(s) of one submission; return its manifest entry and accepted mask."""
    gen = rng(job.seed, int(job.code), ordinal(job.period), job.dataset, "write")
    fault = plan.file_fault
    xlsx = fault == "corrupt_xlsx" or (job.profile.fmt == "xlsx" and fault != "nul_bytes")
    fmt = Formatter(job.profile, gen, xlsx=xlsx)
    cells = format_table(table, fmt, job.period, job.code)
    faults = _inject(job, table, cells, fmt, plan, gen)
    rendered = _render(job, fmt, cells, faults, plan, gen)
    entry: dict[str, object] = {
        "period": str(job.period),
        "district": job.code,
        "dataset": job.dataset,
        "faults": sorted(
            {k for k in (fault, plan.extra_column and "extra_column") if k}
            | ({"partial_rows"} if plan.row_kinds else set())
            | ({"empty_rows"} if plan.empty_rows else set())
            | ({"nik_birthdate_mismatch"} if faults.warnings else set())
        ),
        "variant": plan.variant,
        "files": [],
        "missing_columns": [],
        "ignored_files": [],
        "unexpected_columns": (
            ["no" if plan.extra_column == "row_number" else "keterangan"]
            if plan.extra_column
            else []
        ),
    }
    _write_files(job, table, plan, fmt, rendered, gen, entry)

    bad_rows = _bad_rows(faults, rendered)
    status, reason = _status(fault, len(bad_rows), rendered.rows_total)
    rows_total = rendered.rows_total
    header_lost = fault == "missing_columns" and xlsx  # no row holds every required column
    if (
        fault
        in (
            "missing_dataset",
            "misnamed_file",
            "zero_byte",
            "nul_bytes",
            "corrupt_xlsx",
            "header_only",
        )
        or header_lost
    ):
        rows_total = 0
    judged = status in ("ACCEPTED", "PARTIAL") or reason == "too_many_invalid_rows"
    rows_rejected = rows_total if status == "REJECTED" else len(bad_rows)
    accepted = np.zeros(len(table), dtype=bool)
    if status in ("ACCEPTED", "PARTIAL"):
        accepted = ~np.isin(np.arange(len(table)), list(faults.reasons))
    warnings = sorted(rendered.row_numbers[r] for r in faults.warnings) if judged else []
    entry |= {
        "status": status,
        "rejection_reason": reason,
        "rows_total": rows_total,
        "rows_rejected": rows_rejected,
        "rows_accepted": rows_total - rows_rejected if status != "REJECTED" else 0,
        "bad_rows": bad_rows if judged else [],
        "warnings": [{"row_number": n, "codes": ["nik_birthdate_mismatch"]} for n in warnings],
        "empty_rows": plan.empty_rows if entry["files"] else 0,
        "profile": job.profile.describe() | {"fmt": "xlsx" if xlsx else "csv"},
        "skipped_kinds": faults.skipped,
        "stats": _stats(table, accepted) if status in ("ACCEPTED", "PARTIAL") else None,
    }
    return entry, accepted


def _inject(
    job: Job,
    table: Table,
    cells: dict[str, np.ndarray],
    fmt: Formatter,
    plan: FilePlan,
    gen: np.random.Generator,
) -> RowFaults:
    """Apply the plan's row-level faults (and warnings) to the formatted cells."""
    faults = RowFaults(table, cells, fmt, job.period, job.code, gen)
    if plan.file_fault == "too_many_invalid_rows":
        if plan.variant == "mixed":
            required = [f"missing_value:{c}" for c in SPECS[job.dataset].required]
            faults.mixed(float(gen.uniform(0.3, 0.5)), ROW_KINDS[job.dataset] + required)
        else:
            faults.whole_file(str(plan.variant))
    for kind in plan.row_kinds:
        faults.inject(kind)
    for _ in range(plan.warnings):
        faults.warn()
    return faults


def _write_files(
    job: Job,
    table: Table,
    plan: FilePlan,
    fmt: Formatter,
    rendered: Rendered,
    gen: np.random.Generator,
    entry: dict[str, object],
) -> None:
    """Write what the district uploaded for this dataset (nothing, one file, or a pair)."""
    folder = job.out / str(job.period) / job.code
    stamp = received_at(job.seed, job.period, job.code, job.dataset)
    fault = plan.file_fault
    ext = "xlsx" if fmt.xlsx else "csv"

    def emit(name: str, data: bytes, used: Formatter, when: datetime, header_row: int) -> None:
        path = folder / name
        write_file(path, data, when)
        kind = "xlsx" if used.xlsx or name.lower().endswith(".xlsx") else "csv"
        entry["files"].append(
            {
                "path": path.relative_to(job.out).as_posix(),
                "format": kind,
                "encoding": None if kind == "xlsx" else used.profile.encoding,
                "delimiter": None if kind == "xlsx" else used.profile.delimiter,
                "header_row": header_row,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "received_at": when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "on_time": when <= job.period.deadline(),
            }
        )

    def clean_copy(used: Formatter) -> Rendered:
        cells = format_table(table, used, job.period, job.code)
        faults = RowFaults(table, cells, used, job.period, job.code, gen)
        return _render(job, used, cells, faults, FilePlan(), gen)

    if fault == "missing_dataset":
        return
    if fault == "zero_byte":
        emit(_file_name(job, ext), b"", fmt, stamp, rendered.header_row)
    elif fault == "nul_bytes":
        data = (
            _encode(fmt, rendered, stamp, encoding="utf-16")  # "Unicode text" export
            if plan.variant == "utf16"
            else _encode(fmt, rendered, stamp) + b"\x00" * 1024  # pre-allocated upload
        )
        emit(_file_name(job, "csv"), data, fmt, stamp, 1)
    elif fault == "corrupt_xlsx":
        data = (
            _truncated(_encode(fmt, rendered, stamp))
            if plan.variant == "truncated"
            else html_disguised_as_xlsx(TITLES[job.dataset])
        )
        emit(_file_name(job, "xlsx"), data, fmt, stamp, rendered.header_row)
    elif fault == "header_only":
        rows = 3 if plan.variant == "blank_rows" else 0
        blanks = [[fmt.missing()] * rows for _ in rendered.header]
        empty = Rendered(rendered.header, blanks, {}, rendered.header_row, rendered.title_rows, 0)
        emit(_file_name(job, ext), _encode(fmt, empty, stamp), fmt, stamp, rendered.header_row)
    elif fault == "missing_columns":
        target = SPECS[job.dataset].columns[_missing_column_index(job, gen)]
        position = column_order(job.dataset, fmt.profile, job.seed, job.code).index(target)
        if plan.variant == "renamed" and target in _RENAMED:
            rendered.header[position] = _RENAMED[target]
            entry["unexpected_columns"].append(_normalise(_RENAMED[target]))
        else:
            del rendered.header[position]
            del rendered.columns[position]
            entry["variant"] = "dropped"
        entry["missing_columns"] = [target]
        emit(_file_name(job, ext), _encode(fmt, rendered, stamp), fmt, stamp, rendered.header_row)
    elif fault == "ambiguous_pair":
        for used, role in (
            (Formatter(_as_csv(job.profile), gen, xlsx=False), "first"),
            (Formatter(_as_xlsx(job.profile), gen, xlsx=True), "second"),
        ):
            shown = clean_copy(used)
            when = received_at(job.seed, job.period, job.code, job.dataset, role)
            data = _encode(used, shown, when)
            emit(
                f"{job.dataset}.{'xlsx' if used.xlsx else 'csv'}",
                data,
                used,
                when,
                shown.header_row,
            )
    elif fault == "misnamed_file":
        name = _MISNAMED[job.dataset].format(
            month=month_title(job.period).split()[0].lower(), period=str(job.period)
        )
        used = Formatter(_as_csv(job.profile), gen, xlsx=False) if fmt.xlsx else fmt
        shown = clean_copy(used) if fmt.xlsx else rendered
        emit(name, _encode(used, shown, stamp), used, stamp, 1)
        entry["ignored_files"] = [entry["files"][-1]["path"]]
    else:
        emit(_file_name(job, ext), _encode(fmt, rendered, stamp), fmt, stamp, rendered.header_row)


def _bad_rows(faults: RowFaults, rendered: Rendered) -> list[dict[str, object]]:
    n = len(faults.table)
    rows = [
        {"row_number": rendered.row_numbers[r], "reasons": sorted(set(codes))}
        for r, codes in faults.reasons.items()
    ]
    rows += [
        {"row_number": rendered.row_numbers[n + j], "reasons": sorted(set(codes))}
        for j, codes in enumerate(faults.copy_reasons)
    ]
    return sorted(rows, key=lambda r: r["row_number"])


def _status(fault: str | None, bad: int, total: int) -> tuple[str, str | None]:
    if fault and fault != "too_many_invalid_rows":
        return FILE_FAULTS[fault]
    if bad == 0:
        return "ACCEPTED", None
    if bad * 5 > total:
        return "REJECTED", "too_many_invalid_rows"
    return "PARTIAL", None


def _normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def _missing_column_index(job: Job, gen: np.random.Generator) -> int:
    """A required column to drop or misname (optional columns may legitimately be absent)."""
    columns = SPECS[job.dataset].columns
    required = set(SPECS[job.dataset].required) - {"periode", "kode_kabkota"}
    renamable = [i for i, c in enumerate(columns) if c in _RENAMED and c in required]
    others = [i for i, c in enumerate(columns) if c in required]
    pool = renamable if renamable and gen.random() < 0.6 else others
    return int(pool[int(gen.integers(0, len(pool)))])


def _as_csv(profile: Profile) -> Profile:
    return replace(profile, fmt="csv", title_rows=0, blank_after_title=False)


def _as_xlsx(profile: Profile) -> Profile:
    return replace(profile, fmt="xlsx", title_rows=max(1, profile.title_rows))


def _truncated(data: bytes) -> bytes:
    """An upload cut off half-way: the zip's central directory is missing."""
    return data[: len(data) // 2]
