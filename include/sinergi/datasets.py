"""The four datasets of the submission contract (§5): the one declarative spec of each.

This is the one place that says what a dataset is. Everything else is derived from it:

* the reader takes the column names and which of them are optional;
* the rules (``sinergi.rules``) normalise each cell by its column's ``normalise`` kind and
  add typed companions for the ``integer`` and ``date`` columns;
* the suites (``sinergi.suites``) state the type rules for exactly those columns, under the
  paid-row condition for ``paid_only`` ones, and the duplicate rule on the ``key``;
* the warehouse (``sinergi.warehouse.schema``) creates ``raw.<table>`` from the same columns:
  the folder columns (``periode``, ``kode_kabkota``) become the version's ``_period`` and
  ``_district_code``, a personal column becomes ``<name>_hmac``, a typed one gets its SQL type;
* the judge (``sinergi.judged_rows``) shapes accepted rows like that table.

Adding a dataset is adding one ``DatasetSpec`` here (then its suite rules, staging model and
marts: see the README).
"""

from __future__ import annotations

from dataclasses import dataclass

# How a cell is normalised before the rules see it (sinergi.rules.prepare_chunk).
TEXT = "text"  # trimmed only
REGION = "region"  # a region code: trimmed, upper-cased, dots removed
CODE = "code"  # a code-list value: trimmed, upper-cased
LOCATION = "location"  # a code whose words may be separated by spaces: joined with "_"
SEX = "sex"  # L / P, with the long forms LAKI-LAKI / PEREMPUAN accepted

# What the column holds, which decides its typed companion and its warehouse type.
STRING, INTEGER, DATE = "string", "integer", "date"


@dataclass(frozen=True)
class Column:
    """One column of a dataset file and of its warehouse table."""

    name: str
    normalise: str = TEXT
    type: str = STRING
    sql_type: str = "varchar"  # in raw.<table>; integers are bigint unless small by contract
    optional: bool = False  # may be empty (contract: every column is required unless stated)
    personal: bool = False  # NIK / No. KK: pseudonymised before leaving the quarantine
    paid_only: bool = False  # its rules apply to paid rows only (status_salur = SALUR)
    folder: bool = False  # repeats the folder's period or district: not stored per row


def _folder_columns() -> tuple[Column, ...]:
    return (Column("periode", folder=True), Column("kode_kabkota", REGION, folder=True))


def _count(name: str, sql_type: str = "bigint", **options) -> Column:
    return Column(name, TEXT, INTEGER, sql_type, **options)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its file's columns in contract order, its row key and its warehouse table."""

    name: str
    spec_columns: tuple[Column, ...]
    key: tuple[str, ...]
    table: str  # raw.<table>

    def column(self, name: str) -> Column:
        return next(c for c in self.spec_columns if c.name == name)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.spec_columns)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.spec_columns if c.optional)

    @property
    def required(self) -> tuple[str, ...]:
        """Columns that must hold a value (contract: every column unless stated otherwise)."""
        return tuple(c.name for c in self.spec_columns if not c.optional)

    @property
    def personal(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.spec_columns if c.personal)

    @property
    def integer_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.spec_columns if c.type == INTEGER)

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.spec_columns if c.type == DATE)

    @property
    def paid_only(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.spec_columns if c.paid_only)

    @property
    def stored_columns(self) -> tuple[Column, ...]:
        """The columns kept per row in ``raw.<table>`` (the folder columns are not)."""
        return tuple(c for c in self.spec_columns if not c.folder)

    @staticmethod
    def stored_name(column: Column) -> str:
        """The column's name in ``raw.<table>``: a personal column holds its pseudonym."""
        return f"{column.name}_hmac" if column.personal else column.name

    @staticmethod
    def stored_sql_type(column: Column) -> str:
        return "varchar" if column.personal else column.sql_type


PPKS = DatasetSpec(
    "ppks",
    (
        *_folder_columns(),
        Column("kode_kecamatan", REGION),
        Column("kode_ppks", CODE),
        Column("lokasi", LOCATION),
        _count("jumlah_laki_laki"),
        _count("jumlah_perempuan"),
        _count("jumlah"),
    ),
    key=("kode_kecamatan", "kode_ppks", "lokasi"),
    table="ppks",
)

PSKS = DatasetSpec(
    "psks",
    (*_folder_columns(), Column("kode_psks", CODE), _count("jumlah")),
    key=("kode_psks",),
    table="psks",
)

PENERIMA_BANTUAN = DatasetSpec(
    "penerima_bantuan",
    (
        *_folder_columns(),
        Column("nik", personal=True),
        Column("no_kk", personal=True),
        Column("jenis_kelamin", SEX),
        Column("tanggal_lahir", type=DATE, sql_type="date"),
        Column("kode_desa", REGION),
        Column("kode_program", CODE),
        _count("nilai_bantuan", optional=True, paid_only=True),
        Column("tanggal_salur", type=DATE, sql_type="date", optional=True, paid_only=True),
        Column("status_salur", CODE),
    ),
    key=("nik", "kode_program"),
    table="penerima_bantuan",
)

DTKS = DatasetSpec(
    "dtks",
    (
        *_folder_columns(),
        Column("no_kk", personal=True),
        Column("nik_kepala_keluarga", personal=True),
        Column("kode_desa", REGION),
        _count("jumlah_anggota", "integer"),
        _count("desil", "integer"),
        Column("status_dtks", CODE),
    ),
    key=("no_kk",),
    table="dtks",
)

SPECS: dict[str, DatasetSpec] = {s.name: s for s in (PPKS, PSKS, PENERIMA_BANTUAN, DTKS)}
