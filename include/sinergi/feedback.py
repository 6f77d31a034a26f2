"""A district's feedback: what each of its files became and what to fix, in Bahasa Indonesia.

The feedback file is the only thing a district operator sees (docs/feedback.md). It must be
complete (every file sent, every dataset not sent, every file that was ignored and why) and
actionable (the value found and the values allowed; one line for one systemic cause instead
of hundreds of row lines). Texts come from the catalogue :mod:`sinergi.messages`; this module
only gathers the facts for its parameters. The contract's code stays in the ``kode`` column.

Personal data never leaves: a NIK / No. KK value is described by its shape (length, province
code, date part), never shown, and every shown text goes through ``scrub_identifiers``.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sinergi import reference
from sinergi.datasets import SPECS
from sinergi.messages import (
    FILE_MESSAGES,
    FILE_STATUS_MESSAGES,
    NOTICE_FALLBACK,
    NOTICE_MESSAGES,
    OUTLIER_MESSAGES,
    OUTLIER_WORDS,
    PHRASES,
    ROW_MESSAGES,
    SHAPE_MESSAGES,
    STATUS_LABELS,
    SYSTEMIC_MESSAGES,
    render,
)
from sinergi.periods import JAKARTA
from sinergi.reason_codes import CATALOGUE
from sinergi.scrub import scrub_identifiers
from sinergi.xlsx import Sheet, write_workbook

if TYPE_CHECKING:
    from sinergi.approvals import Standing

#: Indonesian Excel uses ``,`` as decimal separator and therefore ``;`` as list separator: a
#: ``;``-separated UTF-8 CSV with BOM opens in columns on a double-click (docs/feedback.md).
DELIMITER = ";"
HEADER = ("berkas", "versi", "status_berkas", "baris", "kolom", "nilai", "masalah", "tindakan")
CODE_COLUMN = "kode"
COLUMNS = (*HEADER, CODE_COLUMN)
#: The XLSX's summary sheet: one row per file (its own line and its file-level causes).
SUMMARY_COLUMNS = ("berkas", "status_berkas", "masalah", "tindakan")

# Reason codes without a ``:<column>`` suffix that always concern one contract column: the
# column the operator should look at (the catalogue behind ``marts.dim_reason_codes``).
_CODE_COLUMNS = {code.reason_code: code.column for code in CATALOGUE if code.column}
_SCIENTIFIC = re.compile(r"^\s*\d+(?:[.,]\d+)?\s*[eE]\s*[+]?\s*\d+\s*$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Systemic causes (docs/feedback.md, "Systemic causes"). Scientific notation proves itself
# by the value's shape: two rows are enough (one odd row is a typo). An empty column or a
# shared reason is a cause of the file only when it explains nearly all of its rejections:
# at least _SHARED_MIN_ROWS rejected rows and _SHARED_MIN_SHARE of them.
_SYSTEMIC_MIN_ROWS = 2
_SHARED_MIN_ROWS = 3
_SHARED_MIN_SHARE = 0.9


@dataclass
class FileFacts:
    """One latest file version of a district, as ``audit.file_versions`` holds it."""

    dataset: str
    version: int
    file_name: str
    status: str
    reason: str | None
    detail: str | None
    rows_total: int
    rows_accepted: int
    rows_rejected: int
    # the standing approval that holds this (servable, newer) version back (issue 17)
    held_by: Standing | None = None
    # ``audit.file_versions.rejection_params``: the rejection's facts as data (cause,
    # columns, header_row, limit_pct); None for versions judged before the column existed
    params: dict | None = None


@dataclass
class RowFacts:
    """One rejected row: its number, its reason codes and its original cells (JSON)."""

    dataset: str
    version: int
    row_number: int
    codes: str
    original_values: str


@dataclass
class OutlierFacts:
    """One row of ``marts.fct_outliers`` for the district and period (no personal data)."""

    dataset: str
    indicator: str
    breakdown: str
    method: str
    value: float
    previous_value: float | None
    relative_change: float | None
    history_months: int | None
    baseline_median: float
    direction: str


#: The contract column an outlier's figure is counted from (the feedback's ``kolom``).
_OUTLIER_COLUMNS = {
    "recipients": "nik",
    "amount_disbursed_idr": "nilai_bantuan",
    "total_count": "jumlah",
    "resource_count": "jumlah",
    "eligible_households": "no_kk",
}


def number(value: float | None, digits: int = 0) -> str:
    """A figure as an Indonesian reader writes it: ``1.250.000``, ``12,5``; ``-`` when None."""
    if value is None:
        return PHRASES["none"]
    text = f"{value:,.{digits}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def percent(fraction: float | None, digits: int = 1, signed: bool = True) -> str:
    """``+12,5 %`` for 0.125 (``12,5 %`` unsigned); ``-`` when None."""
    if fraction is None:
        return PHRASES["none"]
    return ("+" if signed and fraction > 0 else "") + number(fraction * 100, digits) + " %"


def outlier_lines(file: FileFacts, outliers: list[OutlierFacts]) -> list[list[str]]:
    """One warning line per figure of the file far from the district's usual ones: the
    data stays loaded, the operator is asked to check it (``marts.fct_outliers``)."""
    lines = []
    for outlier in sorted(outliers, key=lambda o: (o.indicator, o.breakdown, o.method)):
        params = {
            "indicator": OUTLIER_WORDS.get(outlier.indicator, outlier.indicator),
            "breakdown": "" if outlier.breakdown == "ALL" else outlier.breakdown,
            "value": number(outlier.value),
            "direction": OUTLIER_WORDS.get(outlier.direction, outlier.direction),
            "months": outlier.history_months,
            "previous": number(outlier.previous_value),
        }
        if outlier.method == "province_change":
            params["change"] = percent(outlier.relative_change)
            params["median"] = percent(outlier.baseline_median)
        else:
            params["median"] = number(outlier.baseline_median, 1).removesuffix(",0")
        message = OUTLIER_MESSAGES[outlier.method]
        problem = " ".join(render(message["problem"], **params).split())
        lines.append(
            [file.file_name, file.version, STATUS_LABELS["WARNING"], "",
             _OUTLIER_COLUMNS.get(outlier.indicator, ""), params["value"],
             problem, render(message["action"], **params), f"outlier:{outlier.method}"]
        )  # fmt: skip
    return lines


def column_of(code: str, dataset: str = "") -> str:
    """The column(s) a reason code like ``invalid_date:tanggal_lahir`` points at."""
    base, _, column = code.partition(":")
    if column:
        return column
    if base == "invalid_nik":
        return "nik_kepala_keluarga" if dataset == "dtks" else "nik"
    if base == "nik_birthdate_mismatch":
        return "nik, tanggal_lahir"
    if base in ("exact_duplicate", "duplicate_key") and dataset in SPECS:
        return ", ".join(SPECS[dataset].key)
    return _CODE_COLUMNS.get(base, "")


@cache
def _allowed(dataset: str) -> dict[str, dict]:
    """Per reason code of ``dataset``'s suite: its allowed set or range (from the suite)."""
    from sinergi.suites import suite_definition  # the suites import GX-facing helpers

    out: dict[str, dict] = {}
    for expectation in suite_definition(dataset)["expectations"]:
        code = expectation["meta"]["reason_code"]
        kwargs = expectation["kwargs"]
        if "value_set" in kwargs:
            out[code] = {"allowed": ", ".join(map(str, kwargs["value_set"]))}
        elif code.startswith("out_of_range:"):
            out[code] = {"range": f"{kwargs['min_value']} sampai {kwargs['max_value']}"}
    return out


def describe_identifier(value: object) -> str:
    """What is wrong with a NIK / No. KK's shape, without its value (contract §4)."""
    text = "" if value is None else str(value).strip()
    if not text:
        return SHAPE_MESSAGES["empty"]
    if _SCIENTIFIC.match(text):
        return SHAPE_MESSAGES["scientific"]
    if not text.isascii() or not text.isdigit():
        return SHAPE_MESSAGES["not_digits"]
    if len(text) != 16:
        return render(SHAPE_MESSAGES["length"], length=len(text))
    if text[:2] not in reference.nik_province_codes():
        return SHAPE_MESSAGES["province"]
    day, month = int(text[6:8]), int(text[8:10])
    if day > 40:
        day -= 40
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return SHAPE_MESSAGES["date_part"]
    return SHAPE_MESSAGES["other"]


def shown(value: object) -> str:
    """A cell value as the operator may see it: scrubbed, bounded, ``(kosong)`` when empty.

    Markup a district typed into a cell is shown with ``<`` and ``>`` escaped: the feedback
    may be pasted into a web page or an e-mail, so it never carries live HTML.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        return "(kosong)"
    text = scrub_identifiers(text).replace("<", "&lt;").replace(">", "&gt;")
    return text if len(text) <= 60 else text[:59] + "…"


def _row_params(code: str, row: RowFacts, cells: dict, context: dict) -> dict:
    dataset = row.dataset
    spec = SPECS[dataset]
    base = code.partition(":")[0]
    column = column_of(code, dataset)
    params = dict(context) | {"column": column}
    if base in ("invalid_nik", "invalid_kk"):
        params["shape"] = describe_identifier(cells.get(column))
        params["value"] = ""
        return params
    if column in spec.personal or "," in column:
        params["value"] = ""
    elif base == "total_mismatch":
        params["value"] = (
            f"{shown(cells.get('jumlah'))} ≠ {shown(cells.get('jumlah_laki_laki'))} + "
            f"{shown(cells.get('jumlah_perempuan'))}"
        )
    else:
        params["value"] = shown(cells.get(column))
    params |= context["allowed"].get(dataset, {}).get(code, {})
    if base == "amount_out_of_range":
        program = str(cells.get("kode_program") or "").strip().upper()
        ceiling = reference.program_max_amounts().get(program)
        params["program"] = program or "-"
        params["range"] = f"1 sampai {ceiling:,}".replace(",", ".") if ceiling else "-"
    return params


def row_lines(file: FileFacts, rows: list[RowFacts], context: dict) -> list[list[str]]:
    """One line per reason of each rejected row, in row order."""
    label = STATUS_LABELS.get(file.status, file.status)
    lines = []
    for row in sorted(rows, key=lambda r: r.row_number):
        cells = json.loads(row.original_values or "{}")
        for code in row.codes.split(";"):
            message = ROW_MESSAGES.get(code.partition(":")[0])
            params = _row_params(code, row, cells, context)
            problem = render(message["problem"], **params) if message else code
            action = render(message["action"], **params) if message else ""
            value = "" if params.get("shape") is not None else params.get("value", "")
            lines.append(
                [file.file_name, file.version, label, row.row_number, params["column"], value]
                + [problem, action, code]
            )
    return lines


def _scope(count: int, rejected: int, total: int) -> str:
    """How many rows a systemic cause covers, literally: the whole file or its rejections."""
    if count >= total:
        return render(PHRASES["scope_every_row"], count=count)
    if count >= rejected:
        return render(PHRASES["scope_every_rejected"], count=count)
    return render(PHRASES["scope_share"], count=count, rejected=rejected)


def _shared(counts: dict[str, int], rejected: int) -> list[tuple[str, int]]:
    """The keys of ``counts`` that explain nearly every rejected row (module constants)."""
    floor = max(_SHARED_MIN_ROWS, _SHARED_MIN_SHARE * rejected)
    return [(key, count) for key, count in counts.items() if count >= floor]


def systemic_lines(file: FileFacts, rows: list[RowFacts], context: dict) -> list[list[str]]:
    """Causes behind many rejected rows, said once at file level above the row lines.

    Scientific notation in a NIK / No. KK column (two rows or more); a required column empty,
    or one reason code (a shifted column, a wrong date format), in at least
    ``_SHARED_MIN_ROWS`` rejected rows and ``_SHARED_MIN_SHARE`` of them: in a PARTIAL file
    too, where the accepted rows hide that the rejected ones have one cause.
    """
    if len(rows) < _SYSTEMIC_MIN_ROWS:
        return []
    label = STATUS_LABELS.get(file.status, file.status)
    spec = SPECS[file.dataset]
    scientific, empty, per_code = _cause_counts(spec, rows)
    found: list[tuple[str, str, dict]] = [
        ("scientific_notation", column, {"count": count})
        for column, count in scientific.items()
        if count >= _SYSTEMIC_MIN_ROWS
    ]
    scope = {"rejected": len(rows), "total": max(file.rows_total, len(rows))}
    for column, count in _shared(empty, len(rows)):
        found.append(("empty_column", column, {"scope": _scope(count, **scope)}))
    ordered = sorted(rows, key=lambda r: r.row_number)
    for code, count in _shared(per_code, len(rows)):
        column = column_of(code, file.dataset)
        if column in {named for _, named, _ in found}:
            continue  # said already: its scientific notation or its empty column
        example = next(r for r in ordered if code in r.codes.split(";"))
        params = _same_reason_params(code, example, context)
        found.append(("same_reason", column, params | {"scope": _scope(count, **scope)}))
    lines = []
    for cause, column, params in found:
        message = SYSTEMIC_MESSAGES[cause]
        problem, action = (render(message[part], column=column, **params)
                           for part in ("problem", "action"))  # fmt: skip
        head = [file.file_name, file.version, label, "", column, ""]
        lines.append([*head, problem, action, cause])
    return lines


def _cause_counts(spec, rows: list[RowFacts]) -> tuple[dict, dict, dict]:
    """(rows with scientific notation per personal column, rows with each required column
    empty, rows per reason code, codes sorted) of ``rows``. One row's cells are decoded at a
    time: the largest district's ~100,000 rejected rows decoded together took ~200 MB."""
    scientific = dict.fromkeys(spec.personal, 0)
    empty = dict.fromkeys(spec.required, 0)
    per_code: Counter[str] = Counter()
    for row in rows:
        cells = json.loads(row.original_values or "{}")
        for column in scientific:
            scientific[column] += bool(_SCIENTIFIC.match(str(cells.get(column) or "")))
        for column in empty:
            empty[column] += not str(cells.get(column) or "").strip()
        per_code.update(set(row.codes.split(";")))
    return scientific, empty, {code: per_code[code] for code in sorted(per_code)}


def _same_reason_params(code: str, example: RowFacts, context: dict) -> dict:
    """The shared reason as its own row message, on the first row that has it (its value
    shown as a row line would show it: never a NIK / No. KK)."""
    message = ROW_MESSAGES.get(code.partition(":")[0])
    cells = json.loads(example.original_values or "{}")
    params = _row_params(code, example, cells, context)
    reason = render(message["problem"], **params) if message else code
    action = render(message["action"], **params) if message else ""
    return {"reason": reason, "row": example.row_number, "fix": action}


def _limit_text(percent: float) -> str:
    """``20%``, ``12,5%``: the threshold as the share beside it is written."""
    return number(percent, 2).rstrip("0").removesuffix(",") + "%"


def _legacy_params(reason: str | None, detail: str) -> dict:
    """The facts of a version judged before ``rejection_params`` existed, from its English
    detail (the wording of that time); whatever does not match shows as ``-``."""
    if reason == "missing_columns":
        found = re.search(r"missing column\(s\): ([a-z0-9_, ]+)", detail)
        row = re.search(r"(?:header (?:line|row)|likely header row) (\d+)", detail)
        return {
            "columns": found.group(1).strip().split(", ") if found else [],
            "header_row": int(row.group(1)) if row else None,
        }
    if reason == "too_many_invalid_rows":
        limit = re.search(r">\s*(\d+)%", detail)
        return {"limit_pct": int(limit.group(1))} if limit else {}
    return {}


def _file_params(file: FileFacts, context: dict) -> dict:
    params = dict(context) | {
        "dataset": file.dataset,
        "total": file.rows_total,
        "rejected": file.rows_rejected,
        "loaded": file.rows_accepted,
    }
    legacy = file.params is None
    facts = _legacy_params(file.reason, file.detail or "") if legacy else file.params
    if file.reason == "missing_columns":
        params["columns"] = ", ".join(facts.get("columns") or []) or PHRASES["none"]
        row = facts.get("header_row")
        where = "" if legacy else PHRASES["header_not_found"]
        params["where"] = render(PHRASES["header_where"], row=row) if row else where
        params["expected"] = ", ".join(SPECS[file.dataset].columns)
    elif file.reason == "too_many_invalid_rows":
        share = file.rows_rejected / file.rows_total if file.rows_total else 0
        params["share"] = f"{share:.1%}".replace(".", ",")
        limit = facts.get("limit_pct")
        params["limit"] = _limit_text(limit) if limit is not None else PHRASES["none"]
    elif file.reason == "unreadable":
        cause = facts.get("cause")
        params["cause"] = PHRASES.get(f"unreadable_{cause}", PHRASES["unreadable_other"])
    return params


def file_line(file: FileFacts, context: dict) -> list[str]:
    """The file's own line: its status and, for a rejection or a PARTIAL file, what to do."""
    label = STATUS_LABELS.get(file.status, file.status)
    params = _file_params(file, context)
    if file.reason:
        message, code = FILE_MESSAGES.get(file.reason), file.reason
    elif file.status == "PARTIAL":
        message, code = FILE_STATUS_MESSAGES["partial"], "PARTIAL"
    else:
        message, code = FILE_STATUS_MESSAGES["accepted"], file.status
    problem = render(message["problem"], **params) if message else label
    action = render(message["action"], **params) if message else ""
    return [file.file_name, file.version, label, "", "", "", problem, action, code]


def _whole_line(name: str, label: str, message: dict, params: dict, code: str) -> list[str]:
    """A line about a whole file or dataset (no row, column or value)."""
    problem, action = (render(message[part], **params) for part in ("problem", "action"))
    return [name, "", STATUS_LABELS[label], "", "", "", problem, action, code]


def held_line(file: FileFacts, context: dict) -> list[str]:
    """A servable version held back by the province's approval: which version stays used."""
    held = file.held_by
    params = dict(context) | {
        "dataset": file.dataset,
        "approved_at": f"{held.approved_at.astimezone(JAKARTA):%d-%m-%Y %H:%M} WIB",
        "approved_by": held.approved_by,
        "served": held.approved_version or PHRASES["none"],
    }
    message = FILE_STATUS_MESSAGES["held"]
    label = STATUS_LABELS["HELD"]
    problem, action = (render(message[part], **params) for part in ("problem", "action"))
    return [file.file_name, file.version, label, "", "", "", problem, action, "held_by_approval"]


def missing_line(dataset: str, carried_forward: bool, context: dict) -> list[str]:
    """A dataset the district did not send (DTKS: information when an earlier one holds)."""
    params = dict(context) | {"dataset": dataset}
    if carried_forward:
        message, label = FILE_STATUS_MESSAGES["dtks_carried_forward"], "INFO"
        code = "carried_forward"
    else:
        message, label, code = FILE_STATUS_MESSAGES["missing"], "MISSING", "missing"
    return _whole_line(f"{dataset}.csv / {dataset}.xlsx", label, message, params, code)


def suggested_name(name: str) -> tuple[str, str] | None:
    """(dataset, right file name) for a name close to a dataset's (``penerima-bantuan.csv``,
    ``PSKS.CSV``, ``dtks (1).xlsx``, ``data_ppks.csv``); None for an unrelated file."""
    if name.startswith(("~$", ".")):
        return None  # an Excel lock file or a hidden file: not a misnamed dataset
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix.lower()
    extension = suffix if suffix in ("csv", "xlsx") else "xlsx" if suffix in ("xls", "ods") else ""
    if not extension:
        return None
    key = re.sub(r"\(\d+\)", "", stem.lower())
    key = re.sub(r"[^a-z]+", "_", key).strip("_")
    for dataset in SPECS:
        if re.search(rf"(^|_){dataset}($|_)", key):
            return dataset, f"{dataset}.{extension}"
    close = difflib.get_close_matches(key, list(SPECS), n=1, cutoff=0.75)
    return (close[0], f"{close[0]}.{extension}") if close else None


def notice_line(path: str, code: str, detail: str) -> list[str]:
    """An inbox notice (a file or folder not processed, extra columns) for the operator."""
    name = path.rsplit("/", 1)[-1]
    params: dict[str, object] = {}
    suggestion = suggested_name(name) if code == "ignored_file" else None
    if suggestion:
        code_shown, (params["dataset"], params["expected"]) = "misnamed_file", suggestion
    else:
        code_shown = code
    if code == "unexpected_columns":
        params["columns"] = (detail or "").partition(":")[2].strip() or "-"
    message = NOTICE_MESSAGES.get(code_shown, NOTICE_FALLBACK)
    label = "INFO" if code == "unexpected_columns" else "IGNORED"
    return _whole_line(name, label, message, params, code)


def neutralise(cell: object) -> str:
    """A cell safe to open in a spreadsheet: scrubbed, and a leading ``= + - @`` (formula
    injection: ``=HYPERLINK(...)`` typed by anyone into a district file) made plain text."""
    text = scrub_identifiers("" if cell is None else str(cell))
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_district_feedback(folder: Path, *facts) -> Path:
    """``umpan-balik-<district>.csv`` and its ``.xlsx`` twin (docs/feedback.md) in ``folder``;
    ``facts`` are :func:`district_lines`' arguments, the district first. From those alone:
    it runs in a worker process as well as in the task's (``sinergi.reports``).

    Each cell is neutralised once for both files: a province district has over a million
    cells, and :func:`neutralise` is a regular expression per cell. The lines become their
    cells in place, so the district's lines are held once, not twice (~40 MB for the largest
    district of a province month).
    """
    district = facts[0]
    lines, overview = district_lines(*facts)
    for line in lines:
        line[:] = _line_cells(line)
    path = _write_csv(folder / f"umpan-balik-{district}.csv", lines)
    _write_xlsx(path.with_suffix(".xlsx"), lines, _cells(overview))
    return path


def write_csv(path: Path, lines: list[list]) -> Path:
    """UTF-8 with BOM (Excel then reads it as UTF-8), ``;``-separated (docs/feedback.md)."""
    return _write_csv(path, _cells(lines))


def write_xlsx(path: Path, lines: list[list], files: list[list]) -> Path:
    """The same lines as an XLSX: a summary sheet first (one row per file), then the detail,
    frozen header and set column widths. Cells are written as text (no formula is read),
    whole numbers as numbers."""
    return _write_xlsx(path, _cells(lines), _cells(files))


def _cells(lines: list[list]) -> list[list[int | str]]:
    """The lines' cells as both files take them: an ``int`` stays a number (for the XLSX; the
    CSV neutralises it as it writes it), any other cell becomes its :func:`neutralise` text
    (``None`` is empty, a ``bool`` is ``True``/``False``). The lines hold plain ints (row
    numbers, versions): a subclass of int other than bool would be text here."""
    return [_line_cells(line) for line in lines]


def _line_cells(line: list) -> list[int | str]:
    return [cell if cell.__class__ is int else neutralise(cell) for cell in line]


def _write_csv(path: Path, cells: list[list[int | str]]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle, delimiter=DELIMITER)
        out.writerow(COLUMNS)
        # a number is neutralised too, as text: -1 is '-1 (a formula to Excel otherwise)
        out.writerows(
            [neutralise(cell) if cell.__class__ is int else cell for cell in line] for line in cells
        )
    return path


def _write_xlsx(path: Path, cells: list[list[int | str]], summary: list[list[int | str]]) -> Path:
    """Written with :mod:`sinergi.xlsx`, streamed: a province district's feedback has up to
    ~260,000 lines, which openpyxl took ~1 s per 10,000 lines to write and XlsxWriter still
    ~7 s per 130,000 (docs/performance.md)."""
    sheets = [
        Sheet("Ringkasan", SUMMARY_COLUMNS, summary, (36, 20, 80, 80)),
        Sheet("Rincian", COLUMNS, cells, (36, 7, 20, 8, 24, 28, 80, 80, 30)),
    ]
    return write_workbook(path, sheets)


def district_lines(
    district: str,
    period_text: str,
    files: list[FileFacts],
    rows: list[RowFacts],
    notices: list[tuple[str, str, str]],
    dtks_before: bool,
    warnings: list[RowFacts] = (),
    outliers: list[OutlierFacts] = (),
) -> tuple[list[list], list[list]]:
    """(detail lines, summary lines) of one district's feedback, grouped by file.

    ``warnings`` are kept rows with a warning code (no cell values): listed after the file's
    rejected rows, never counted among its causes. ``outliers`` are the period's figures far
    from the district's usual ones: warnings after those, on the file of their dataset.
    """
    context = {"district": district, "period": period_text, "allowed": {}}
    context["allowed"] = {ds: _allowed(ds) for ds in SPECS}
    lines: list[list] = []
    summary: list[list] = []
    sent = {f.dataset for f in files}
    for file in sorted(files, key=lambda f: (list(SPECS).index(f.dataset), f.version)):
        own = [r for r in rows if r.dataset == file.dataset and r.version == file.version]
        head = file_line(file, context)
        lines.append(head)
        summary.append([head[0], head[2], head[6], head[7]])
        if file.held_by is not None:
            held = held_line(file, context)
            lines.append(held)
            summary.append([held[0], held[2], held[6], held[7]])
        causes = systemic_lines(file, own, context)
        summary += [[line[0], line[2], line[6], line[7]] for line in causes]
        lines += causes
        lines += row_lines(file, own, context)
        kept = [w for w in warnings if w.dataset == file.dataset and w.version == file.version]
        lines += row_lines(file, kept, context)
        far = [o for o in outliers if o.dataset == file.dataset]
        if far and file.status in ("ACCEPTED", "PARTIAL"):
            lines += outlier_lines(file, far)
            message = OUTLIER_MESSAGES["summary"]
            summary.append(
                [head[0], STATUS_LABELS["WARNING"]]
                + [render(message[part], count=len(far)) for part in ("problem", "action")]
            )
    for dataset in SPECS:
        if dataset not in sent:
            line = missing_line(dataset, dataset == "dtks" and dtks_before, context)
            lines.append(line)
            summary.append([line[0], line[2], line[6], line[7]])
    for notice in notices:
        line = notice_line(*notice)
        lines.append(line)
        summary.append([line[0], line[2], line[6], line[7]])
    return lines, summary
