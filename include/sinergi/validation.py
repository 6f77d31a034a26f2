"""Running the Great Expectations suites and turning their results into reason codes.

One GX context per process (created lazily: importing GX costs seconds), with the suites
loaded from the reviewed JSON files in ``expectations/suites``. ``result_format`` COMPLETE is
required: row-level rejection needs every unexpected index, not GX's partial list.

Results are stored for auditors (Data Docs) only after ``sanitise``: GX puts the failing
*values* into its results, and values of NIK / No. KK columns must never reach a report, nor
a NIK typed into any other column (scrubbed by shape), nor markup from a cell (escaped).

GX gives every expectation a new random id when a suite is added to a context; the stable ids
of the committed suites travel in ``meta.expectation_id`` and are what ``outcomes`` reports.
"""

from __future__ import annotations

import html
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sinergi.scrub import scrub_identifiers

log = logging.getLogger(__name__)

# COMPLETE for every unexpected index; no "unexpected_index_query" (a pandas filter string
# spelling out every failing index, which nobody reads and which costs time to build).
COMPLETE = {"result_format": "COMPLETE", "return_unexpected_index_query": False}
# Result keys that carry cell values; dropped from stored results of personal columns and
# trimmed elsewhere (the full row list is in audit.row_rejections, not in the HTML).
_VALUE_KEYS = ("unexpected_list", "partial_unexpected_list", "partial_unexpected_counts")
_INDEX_KEYS = ("unexpected_index_list", "partial_unexpected_index_list")


@dataclass
class ExpectationOutcome:
    """One expectation's verdict on one frame: which rows failed, under which reason code."""

    expectation_id: str
    reason_code: str
    severity: str
    expectation_type: str
    column: str
    success: bool
    element_count: int
    unexpected_index: list = field(default_factory=list)


def _skip_batch_fingerprint() -> None:
    """Stop GX from fingerprinting every batch (MD5 over a hash of every cell).

    GX does it for any frame under ``HASH_THRESHOLD`` (1 GB), twice per validation: 0.35 s of
    a 200,000-row roster chunk, as much as the rest of the suite. Nothing reads the marker;
    the arriving file's SHA-256 is in ``audit.file_versions``. With the threshold at 0 every
    batch is treated as GX treats a large one: no ``pandas_data_fingerprint`` batch marker.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


class SuiteRunner:
    """Validates prepared frames against the stored suites; one per process (see ``runner``)."""

    def __init__(self, suites_dir: Path) -> None:
        from sinergi import gx_domains
        from sinergi.gx_import import gx

        _skip_batch_fingerprint()
        gx_domains.install()

        self.suites_dir = suites_dir
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = {"globally": False, "metric_calculations": False}
        asset = self.context.data_sources.add_pandas("sinergi_files").add_dataframe_asset("file")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole_file")
        self.suites: dict[str, Any] = {}

    def suite(self, name: str):
        if name not in self.suites:
            from sinergi.gx_import import gx

            path = self.suites_dir / f"sinergi.{name}.json"
            if not path.exists():
                raise FileNotFoundError(
                    f"expectation suite {path} is missing: run `sinergi expectations`"
                )
            definition = json.loads(path.read_text(encoding="utf-8"))
            for expectation in definition.get("expectations", []):
                expectation.setdefault("meta", {})["expectation_id"] = expectation["id"]
            self.suites[name] = self.context.suites.add(gx.ExpectationSuite(**definition))
        return self.suites[name]

    def gx_frame(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` as suite ``name`` is run on it (see :func:`_vectorisable`)."""
        return _vectorisable(frame, self._between_columns(name))

    def validate(
        self, name: str, frame: pd.DataFrame, parameters: dict[str, Any], *, ready: bool = False
    ):
        """Run suite ``name`` on ``frame`` (index = the file's row numbers); ``ready``: the
        frame is already :meth:`gx_frame`'s."""
        if not ready:
            frame = self.gx_frame(name, frame)
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(
            self.suite(name), expectation_parameters=parameters, result_format=COMPLETE
        )

    def _between_columns(self, name: str) -> set[str]:
        return {
            e.column
            for e in self.suite(name).expectations
            if e.expectation_type == "expect_column_values_to_be_between"
        }


def _vectorisable(frame: pd.DataFrame, columns: set[str]) -> pd.DataFrame:
    """``frame`` with its nullable-integer ``between`` columns as float64, for GX only.

    GX compares numpy int/float columns in one vectorised step but calls a Python function
    per cell for any other dtype, such as pandas' nullable ``Int64`` that the rules use (so
    that an 18-digit integer stays exact in the warehouse): 3 columns of a 500,000-row roster
    cost ~1.5 s that way. Float64 is exact below 2**53 and every bound in the suites is far
    below that, so a value is in range as a float exactly when it is as an integer. Only the
    copy GX sees changes; pair-equality columns keep their exact integers.
    """
    convert = {
        c: frame[c].astype("float64")
        for c in columns
        if c in frame
        and pd.api.types.is_extension_array_dtype(frame[c].dtype)
        and pd.api.types.is_integer_dtype(frame[c].dtype)
    }
    return frame.assign(**convert) if convert else frame


_RUNNERS: dict[Path, SuiteRunner] = {}


def runner(suites_dir: Path) -> SuiteRunner:
    """The process-wide runner for ``suites_dir`` (GX import and context set-up once)."""
    if suites_dir not in _RUNNERS:
        _RUNNERS[suites_dir] = SuiteRunner(suites_dir)
    return _RUNNERS[suites_dir]


def outcomes(result) -> list[ExpectationOutcome]:
    """Per-expectation outcomes of a suite validation result, in suite order."""
    out = []
    for item in result.results:
        config = item.expectation_config
        message = _raised(item.exception_info)
        if message is not None:
            raise RuntimeError(f"expectation {config.type} could not run: {message}")
        kwargs = config.kwargs
        column = kwargs.get("column") or f"{kwargs.get('column_A')}, {kwargs.get('column_B')}"
        res = item.result or {}
        out.append(
            ExpectationOutcome(
                expectation_id=stable_id(config),
                reason_code=config.meta["reason_code"],
                severity=str(getattr(config.severity, "value", config.severity)),
                expectation_type=config.type,
                column=column,
                success=bool(item.success),
                element_count=int(res.get("element_count") or 0),
                unexpected_index=list(res.get("unexpected_index_list") or []),
            )
        )
    return out


def _raised(info: dict | None) -> str | None:
    """The message of an error GX caught while running an expectation, or None.

    GX 1.24 reports an error of the expectation itself at the top level of
    ``exception_info``, but an error while computing one of its metrics (a missing column, a
    metric function that raised) one level down, per metric; that expectation then reads as
    failed with no unexpected row. Either must stop the judging, never pass as "no rows".
    """
    if not info:
        return None
    found = [info, *(value for value in info.values() if isinstance(value, dict))]
    for entry in found:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message") or "no message")
    return None


def stable_id(config) -> str:
    """The committed suite's id of an expectation (GX replaces ``config.id`` on every load)."""
    return str((config.meta or {}).get("expectation_id") or config.id)


def contract_column(name: str) -> str:
    """The contract's column behind a prepared column (``tanggal_lahir__yyyymmdd``)."""
    return name.split("__")[0]


def _shown(value: Any, column: str) -> Any:
    """A failing cell value as an auditor may see it: dates as dates, no identifier, no markup.

    Numbers are written out in full first, so that a NIK read as a float (``3.5e15``) is
    scrubbed like one read as text.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if column.endswith("__yyyymmdd") and isinstance(value, int) and 10000101 <= value <= 99991231:
        text = str(value)
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if isinstance(value, int):
        text = str(value)
        return value if len(text) < 16 else scrub_identifiers(text)
    return html.escape(scrub_identifiers(str(value)), quote=True)


def _scrub_strings(value: Any) -> Any:
    """Every string of a JSON-like structure scrubbed by shape (kwargs, messages, meta)."""
    if isinstance(value, str):
        return scrub_identifiers(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return scrub_identifiers(str(value))
    if isinstance(value, list):
        return [_scrub_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_strings(v) for k, v in value.items()}
    return value


def sanitise(result, personal_columns: set[str]):
    """``result`` fit for a report, as a JSON dict: no personal values, short lists.

    - values of personal columns are dropped; every other value is scrubbed by shape (a NIK
      in ``kode_desa`` or in a shifted row), HTML-escaped (GX writes values into its pages
      unescaped) and dates are shown as dates;
    - columns are named as in the contract (``tanggal_lahir``, not ``tanggal_lahir__yyyymmdd``)
      and each expectation shows its reason code and the suite's stable id.

    The lists are trimmed *in place* before GX serialises the result: serialising every
    unexpected value and index of a province-scale file first (GX converts each element)
    was ~10 % of validation time. Call it after :func:`outcomes` has read the full lists.
    """
    for item in result.results:
        personal = is_personal(item.expectation_config.kwargs, personal_columns)
        res = item.result if isinstance(item.result, dict) else {}
        for key in _VALUE_KEYS:
            if key in res:
                res[key] = [] if personal else list(res[key])[:20]
        for key in _INDEX_KEYS:
            if key in res:
                res[key] = list(res[key])[:20]
        res.pop("unexpected_index_query", None)
    return finish_report(json.loads(json.dumps(result.to_json_dict(), default=str)))


def is_personal(kwargs: dict, personal_columns: set[str]) -> bool:
    """Whether an expectation looks at a personal column (its values are never stored)."""
    columns = {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")}
    return any(
        c and (c in personal_columns or contract_column(c) in personal_columns) for c in columns
    )


def finish_report(out: dict) -> dict:
    """A serialised result (personal values already dropped, lists trimmed) for auditors:
    contract column names, dates as dates, reason codes in the descriptions, scrubbed."""
    parameters = out.get("suite_parameters") or {}
    for name, value in parameters.items():
        if name.endswith("_yyyymmdd"):
            parameters[name] = _shown(value, "__yyyymmdd")
    for item in out.get("results", []):
        _for_auditors(item, parameters)
    return _scrub_strings(out)


def _bound(value: Any, parameters: dict) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters.get(value["$PARAMETER"])
    return value


def _description(kind: str, kwargs: dict, reason: str | None, parameters: dict) -> str:
    """``reason code — column: what the expectation checks`` for the Data Docs table."""
    what = kind.removeprefix("expect_").replace("_", " ")
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    text = f"Reason code {reason or '-'} — {', '.join(columns) or 'table'}: {what}"
    bounds = [
        f"{label} {_bound(kwargs[key], parameters)}"
        for key, label in (("min_value", "min"), ("max_value", "max"))
        if isinstance(_bound(kwargs.get(key), parameters), int | float | str)
    ]
    if isinstance(kwargs.get("value_set"), list):
        bounds.append(f"one of {len(kwargs['value_set'])} allowed values")
    if bounds:
        text += f" ({', '.join(bounds)})"
    return html.escape(text.replace("$", ""))


def _for_auditors(item: dict, parameters: dict) -> None:
    config = item.get("expectation_config") or {}
    kwargs = config.get("kwargs") or {}
    meta = config.get("meta") or {}
    column = kwargs.get("column") or ""
    res = item.get("result") or {}
    for key in ("unexpected_list", "partial_unexpected_list"):
        if key in res:
            res[key] = [_shown(v, column) for v in res[key]]
    if "partial_unexpected_counts" in res:
        res["partial_unexpected_counts"] = [
            {**c, "value": _shown(c.get("value"), column)} for c in res["partial_unexpected_counts"]
        ]
    if column.endswith("__yyyymmdd"):
        for bound in ("min_value", "max_value"):
            if isinstance(kwargs.get(bound), int | float):
                kwargs[bound] = _shown(kwargs[bound], column)
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key):
            kwargs[key] = contract_column(kwargs[key])
    if meta.get("expectation_id"):
        config["id"] = meta["expectation_id"]
    # GX renders ``description`` instead of its own sentence (its "meta properties" columns
    # fail validation in GX 1.24): lead with the reason code the district sees in its feedback.
    config["description"] = _description(
        config.get("type", ""), kwargs, meta.get("reason_code"), parameters
    )
    config["meta"] = meta
