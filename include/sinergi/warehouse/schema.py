"""Table definitions of the ``raw`` and ``audit`` schemas, shared by DuckDB and PostgreSQL.

``raw`` holds the accepted rows of every ACCEPTED or PARTIAL file version, typed and with
NIK / No. KK already replaced by their HMAC pseudonyms; dbt picks the served version. Keeping
every version (instead of overwriting) makes loading append-only, so a version becomes
visible atomically when its ``audit.file_versions`` row commits in the same transaction.

``audit`` is what auditors read: every file version that arrived, the rows that were
rejected with their original values (the quarantine, the only place raw NIKs live), and the
validation results.

The column types are the portable subset both engines understand identically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sinergi.datasets import SPECS, DatasetSpec

# Columns every raw table starts with: which served row this is.
_RAW_KEY = (
    ("_period", "date not null"),
    ("_district_code", "varchar not null"),
    ("_version", "integer not null"),
    ("_row_number", "integer not null"),
)


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]
    primary_key: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def ddl(self) -> str:
        cols = [f"    {name} {sqltype}" for name, sqltype in self.columns]
        if self.primary_key:
            cols.append(f"    primary key ({', '.join(self.primary_key)})")
        return f"create table if not exists {self.qualified} (\n" + ",\n".join(cols) + "\n)"


def raw_table(spec: DatasetSpec) -> Table:
    """``raw.<table>`` of a dataset, derived from its spec (``sinergi.datasets``)."""
    columns = tuple(
        (spec.stored_name(column), spec.stored_sql_type(column)) for column in spec.stored_columns
    )
    return Table("raw", spec.table, _RAW_KEY + columns)


RAW_TABLES: dict[str, Table] = {name: raw_table(spec) for name, spec in SPECS.items()}

FILE_VERSIONS = Table(
    "audit",
    "file_versions",
    (
        ("period", "date not null"),
        ("district_code", "varchar not null"),
        ("dataset", "varchar not null"),
        ("version", "integer not null"),
        ("file_name", "varchar not null"),
        ("sha256", "varchar not null"),
        ("size_bytes", "bigint not null"),
        ("received_at", "timestamptz not null"),
        ("deadline_at", "timestamptz not null"),
        ("status", "varchar not null"),
        ("rejection_reason", "varchar"),
        ("rejection_detail", "varchar"),
        ("rows_total", "integer not null"),
        ("rows_accepted", "integer not null"),
        ("rows_rejected", "integer not null"),
        ("archive_path", "varchar not null"),
        ("judged_at", "timestamptz not null"),
        # Added after the first warehouses were built: last, and nullable, so that
        # `added_columns_ddl` can add it to an existing table (rows before it stay NULL).
        ("rejection_params", "varchar"),
    ),
    ("period", "district_code", "dataset", "version"),
)

ROW_REJECTIONS = Table(
    "audit",
    "row_rejections",
    (
        ("period", "date not null"),
        ("district_code", "varchar not null"),
        ("dataset", "varchar not null"),
        ("version", "integer not null"),
        ("row_number", "integer not null"),
        ("reason_codes", "varchar not null"),
        ("original_values", "varchar not null"),
    ),
    ("period", "district_code", "dataset", "version", "row_number"),
)

ROW_WARNINGS = Table(
    "audit",
    "row_warnings",
    (
        ("period", "date not null"),
        ("district_code", "varchar not null"),
        ("dataset", "varchar not null"),
        ("version", "integer not null"),
        ("row_number", "integer not null"),
        ("warning_code", "varchar not null"),
    ),
    ("period", "district_code", "dataset", "version", "row_number", "warning_code"),
)

INBOX_NOTICES = Table(
    "audit",
    "inbox_notices",
    (
        ("period", "date not null"),
        ("path", "varchar not null"),
        ("notice_code", "varchar not null"),
        ("detail", "varchar not null"),
    ),
    ("period", "path", "notice_code"),
)

VALIDATION_RESULTS = Table(
    "audit",
    "validation_results",
    (
        ("period", "date not null"),
        ("district_code", "varchar not null"),
        ("dataset", "varchar not null"),
        ("version", "integer not null"),
        ("suite", "varchar not null"),
        ("expectation_id", "varchar not null"),
        ("expectation_type", "varchar not null"),
        ("column_name", "varchar not null"),
        ("reason_code", "varchar not null"),
        ("severity", "varchar not null"),
        ("success", "boolean not null"),
        ("element_count", "bigint not null"),
        ("unexpected_count", "bigint not null"),
    ),
    ("period", "district_code", "dataset", "version", "expectation_id"),
)

PROCESSED_PERIODS = Table(
    "audit",
    "processed_periods",
    (("period", "date not null"), ("first_processed_at", "timestamptz not null")),
    ("period",),
)

# The keyed fingerprint of the PII key the warehouse's pseudonyms were made with (one row,
# written once on the first run, never the key itself): see sinergi.warehouse.pii_key.
PII_KEY_BINDING = Table(
    "audit",
    "pii_key_binding",
    (
        ("binding", "varchar not null"),
        ("fingerprint", "varchar not null"),
        ("key_source", "varchar not null"),
        ("bound_at", "timestamptz not null"),
    ),
    ("binding",),
)

# One row per successful dbt build: a fingerprint of everything the marts are computed from
# (sinergi.marts_inputs), so a run with nothing new can skip the build and say so.
MART_BUILDS = Table(
    "audit",
    "mart_builds",
    (
        ("built_at", "timestamptz not null"),
        ("period", "date not null"),
        ("inputs_fingerprint", "varchar not null"),
    ),
    ("built_at", "inputs_fingerprint"),
)

# Approval events (append-only: approving and unapproving are both new rows, nothing is
# updated or deleted). One row per dataset an event covers: approving a whole (period,
# district) writes four rows sharing one event_id; `approved_version` is the version served at
# that moment (NULL when the dataset had none). See sinergi.approvals.
APPROVALS = Table(
    "audit",
    "approvals",
    (
        ("event_id", "varchar not null"),
        ("event_at", "timestamptz not null"),
        ("period", "date not null"),
        ("district_code", "varchar not null"),
        ("dataset", "varchar not null"),
        ("scope", "varchar not null"),
        ("action", "varchar not null"),
        ("approved_version", "integer"),
        ("note", "varchar not null"),
        ("actor", "varchar not null"),
        ("via", "varchar not null"),
    ),
    ("event_id", "dataset"),
)

AUDIT_TABLES: tuple[Table, ...] = (
    FILE_VERSIONS,
    ROW_REJECTIONS,
    ROW_WARNINGS,
    VALIDATION_RESULTS,
    INBOX_NOTICES,
    PROCESSED_PERIODS,
    PII_KEY_BINDING,
    MART_BUILDS,
    APPROVALS,
)

SCHEMAS: tuple[str, ...] = ("raw", "audit")


def all_ddl() -> list[str]:
    """Idempotent statements that create every schema and table."""
    statements = [f"create schema if not exists {schema}" for schema in SCHEMAS]
    statements += [t.ddl() for t in RAW_TABLES.values()]
    statements += [t.ddl() for t in AUDIT_TABLES]
    return statements


def raw_period_index_ddl(existing: set[str]) -> list[str]:
    """PostgreSQL: ``create index`` for each raw table's BRIN index on ``_period`` that is not
    among the ``existing`` index names (from pg_indexes).

    ``raw`` only grows, a version's rows appended together, so a block range of a raw table
    holds a narrow range of periods. A BRIN index (a few pages, next to nothing to maintain
    while the loader's COPY appends) lets dbt's queries bounded by a period
    (``period >= (select min(period) ...)``: the served rows of new versions, the data tests of
    the staging views) read only the newest blocks, not every month's rows again. DuckDB keeps
    min/max per row group itself. Only what is missing is created: BI users read these tables.
    """
    return [
        f"create index {table.name}__period_brin on {table.qualified} using brin (_period)"
        for table in RAW_TABLES.values()
        if f"{table.name}__period_brin" not in existing
    ]


def added_columns_ddl(existing: dict[str, set[str]]) -> list[str]:
    """``alter table ... add column`` for each nullable column a table of an older warehouse
    lacks (``existing``: qualified table -> its column names, from information_schema).

    ``create table if not exists`` leaves an existing table as it was, so a column added to a
    definition later (``audit.file_versions.rejection_params``) reaches older warehouses only
    this way. Only nullable columns can be added to rows already there; a ``not null`` one
    missing is a schema change this cannot make, and it fails loudly. Statements are issued
    only for what is missing: an ``alter table`` takes PostgreSQL's strongest lock even when
    it changes nothing, and BI users read these tables.
    """
    statements = []
    for table in (*RAW_TABLES.values(), *AUDIT_TABLES):
        have = existing.get(table.qualified)
        if not have:
            continue  # created just now (or not at all): nothing to add
        for name, sql_type in table.columns:
            if name in have:
                continue
            if "not null" in sql_type:
                raise RuntimeError(
                    f"{table.qualified} lacks the not-null column {name}: migrate it by hand"
                )
            statements.append(f"alter table {table.qualified} add column {name} {sql_type}")
    return statements


def params_text(params: dict | None) -> str | None:
    """``rejection_params`` as stored: JSON text with sorted keys, NULL when there are none.

    Text rather than a JSON type: the same on DuckDB (whose json extension may be absent)
    and PostgreSQL, and read back by Python only (``sinergi.feedback``).
    """
    return json.dumps(params, sort_keys=True, ensure_ascii=False) if params else None


def params_from_text(text: str | None) -> dict | None:
    """``rejection_params`` back as a dict (None for NULL, or for text that is no JSON object)."""
    try:
        params = json.loads(text) if text else None
    except ValueError:
        return None
    return params if isinstance(params, dict) else None
