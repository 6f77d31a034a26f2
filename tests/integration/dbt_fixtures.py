"""Hand-made warehouse contents for the dbt mart tests, and the warehouses to put them in.

Small enough to compute every mart figure by hand (the expected values live in
``test_dbt_marts.py``, next to the reasoning). Keys are readable stand-ins for HMAC
pseudonyms: ``P…`` a person (pseudonymised NIK), ``K…`` a household (pseudonymised No. KK).

The story, three processed periods (2025-11, 2025-12, 2026-01) over a year boundary:

* 3507 Malang sends everything in 2025-11 (dtks twice: v1 is a decoy that v2 replaces),
  skips dtks in 2025-12 (carry-forward) and ppks after 2025-11, resubmits penerima_bantuan in
  2026-01 (v2 replaces v1, a REJECTED v3 must not replace v2) and sends a new dtks.
* 3578 Surabaya never has a served dtks (no eligibility), pays a person that 3507 also paid
  under PKH in 2025-11 (cross-district duplicate), sends an unreadable dtks in 2025-12 and a
  REJECTED roster in 2026-01.
* 3501 Pacitan pays nobody in 2025-11 (GAGAL / TUNDA only), sends its roster exactly at the
  deadline in 2025-12, nothing in 2026-01 (its dtks still carries forward).
* 3571 Kota Kediri sends nothing at all.
* 2026-02 has data but was never processed: it must not appear anywhere.

``CORRECTION`` is a later re-run of 2025-11 for 3507 (new dtks and roster versions) that
must change the carry-forward and year-to-date figures of 2025-12.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sinergi.warehouse.schema import FILE_VERSIONS, PROCESSED_PERIODS, RAW_TABLES, all_ddl

PG_ADMIN_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"

P1, P2, P3, P4 = date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)
PROCESSED = (P1, P2, P3)


def utc(year: int, month: int, day: int, hour: int = 3, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def deadline(period: date) -> datetime:
    """Day 10 of the next month, 23:59:59 Asia/Jakarta (UTC+7), in UTC."""
    next_month = date(period.year + period.month // 12, period.month % 12 + 1, 10)
    return datetime(next_month.year, next_month.month, 10, 16, 59, 59, tzinfo=UTC)


# ---------------------------------------------------------------- file versions (audit)


def version(
    period: date,
    district: str,
    dataset: str,
    number: int,
    status: str,
    received_at: datetime,
    rows: tuple[int, int, int],
    reason: str | None = None,
) -> dict[str, Any]:
    total, accepted, rejected = rows
    return {
        "period": period,
        "district_code": district,
        "dataset": dataset,
        "version": number,
        "file_name": f"{dataset}.csv",
        "sha256": uuid.uuid4().hex * 2,
        "size_bytes": 100 + total,
        "received_at": received_at,
        "deadline_at": deadline(period),
        "status": status,
        "rejection_reason": reason,
        "rejection_detail": reason and f"detail of {reason}",
        "rows_total": total,
        "rows_accepted": accepted,
        "rows_rejected": rejected,
        "archive_path": f"archive/{period:%Y-%m}/{district}/{dataset}/v{number}.csv",
        "judged_at": received_at + timedelta(minutes=5),
        "rejection_params": None,
    }


PB = "penerima_bantuan"
FILE_VERSION_ROWS = [
    # 3507 Malang
    version(P1, "3507", PB, 1, "ACCEPTED", utc(2025, 12, 3), (8, 8, 0)),
    version(P1, "3507", "dtks", 1, "ACCEPTED", utc(2025, 12, 2), (9, 9, 0)),
    version(P1, "3507", "dtks", 2, "ACCEPTED", utc(2025, 12, 4), (5, 5, 0)),
    version(P1, "3507", "ppks", 1, "ACCEPTED", utc(2025, 12, 5), (3, 3, 0)),
    version(P1, "3507", "psks", 1, "PARTIAL", utc(2025, 12, 5), (5, 4, 1)),
    version(P2, "3507", PB, 1, "ACCEPTED", utc(2026, 1, 12), (2, 2, 0)),
    version(P2, "3507", "psks", 1, "REJECTED", utc(2026, 1, 5), (4, 2, 2), "too_many_invalid_rows"),
    version(P2, "3507", "psks", 2, "ACCEPTED", utc(2026, 1, 15), (1, 1, 0)),
    version(P3, "3507", PB, 1, "ACCEPTED", utc(2026, 2, 1), (1, 1, 0)),
    version(P3, "3507", PB, 2, "ACCEPTED", utc(2026, 2, 5), (2, 2, 0)),
    version(P3, "3507", PB, 3, "REJECTED", utc(2026, 2, 20), (10, 7, 3), "too_many_invalid_rows"),
    version(P3, "3507", "dtks", 1, "ACCEPTED", utc(2026, 2, 2), (4, 4, 0)),
    version(P4, "3507", PB, 1, "ACCEPTED", utc(2026, 3, 1), (1, 1, 0)),
    # 3578 Surabaya
    version(P1, "3578", PB, 1, "ACCEPTED", utc(2025, 12, 9), (4, 4, 0)),
    version(P2, "3578", "dtks", 1, "REJECTED", utc(2026, 1, 3), (0, 0, 0), "unreadable"),
    version(P3, "3578", PB, 1, "REJECTED", utc(2026, 2, 3), (4, 0, 0), "missing_columns"),
    version(P4, "3578", PB, 1, "ACCEPTED", utc(2026, 3, 2), (1, 1, 0)),
    # 3501 Pacitan
    version(P1, "3501", "dtks", 1, "ACCEPTED", utc(2025, 12, 11), (3, 3, 0)),
    version(P1, "3501", PB, 1, "ACCEPTED", utc(2025, 12, 1), (2, 2, 0)),
    version(P2, "3501", PB, 1, "ACCEPTED", deadline(P2), (1, 1, 0)),  # exactly on the deadline
]

# ---------------------------------------------------------------- raw rows


def disbursement(person: str, household: str, program: str, amount: int | None, status: str):
    return (person, household, program, amount, status)


PENERIMA = {
    (P1, "3507", 1): [
        disbursement("P1a", "K1", "PKH", 750_000, "SALUR"),
        disbursement("P1b", "K1", "SEMBAKO", 200_000, "SALUR"),
        disbursement("P2a", "K2", "PKH", 750_000, "SALUR"),
        disbursement("P3a", "K3", "PKH", 750_000, "SALUR"),  # K3 is not eligible (decile 5)
        disbursement("P9x", "K99", "SEMBAKO", 200_000, "SALUR"),  # outside the register
        disbursement("P4a", "K4", "PKH", None, "GAGAL"),
        disbursement("PDUP", "K50", "PKH", 750_000, "SALUR"),  # also paid by 3578
        disbursement("P1c", "K1", "PKH", 750_000, "SALUR"),  # second member of K1
    ],
    (P2, "3507", 1): [
        disbursement("P5a", "K5", "BLT_DD", 300_000, "SALUR"),
        disbursement("P1a", "K1", "PKH", 750_000, "SALUR"),
    ],
    (P3, "3507", 1): [disbursement("P1a", "K1", "PKH", 999, "SALUR")],  # replaced by v2
    (P3, "3507", 2): [
        disbursement("P6a", "K6", "PKH", 750_000, "SALUR"),
        disbursement("P2a", "K2", "PKH", 750_000, "SALUR"),
    ],
    (P4, "3507", 1): [disbursement("PDUP", "K50", "PKH", 750_000, "SALUR")],
    (P1, "3578", 1): [
        disbursement("PDUP", "K50", "PKH", 600_000, "SALUR"),
        disbursement("P7a", "K70", "PBI_JK", 42_000, "SALUR"),
        disbursement("P7b", "K71", "PBI_JK", None, "TUNDA"),
        disbursement("P1b", "K1", "SEMBAKO", None, "GAGAL"),  # failed: not a duplicate
    ],
    (P4, "3578", 1): [disbursement("PDUP", "K50", "PKH", 600_000, "SALUR")],
    (P1, "3501", 1): [
        disbursement("P31a", "K31", "PKH", None, "GAGAL"),
        disbursement("P32a", "K32", "PKH", None, "TUNDA"),
    ],
    (P2, "3501", 1): [disbursement("P33a", "K33", "SEMBAKO", 200_000, "SALUR")],
}

# household, status_dtks, desil, jumlah_anggota
DTKS = {
    (P1, "3507", 1): [(f"K{i}", "AKTIF", 1, 2) for i in range(1, 10)],  # decoy, replaced by v2
    (P1, "3507", 2): [
        ("K1", "AKTIF", 1, 4),
        ("K2", "AKTIF", 4, 3),  # decile 4 is still eligible
        ("K3", "AKTIF", 5, 5),
        ("K4", "NONAKTIF", 2, 2),
        ("K5", "AKTIF", 3, 1),
    ],
    (P3, "3507", 1): [
        ("K1", "AKTIF", 2, 4),
        ("K2", "AKTIF", 6, 3),
        ("K5", "AKTIF", 3, 2),
        ("K6", "AKTIF", 1, 6),
    ],
    (P1, "3501", 1): [("K31", "AKTIF", 1, 3), ("K32", "AKTIF", 2, 2), ("K33", "AKTIF", 9, 4)],
}

# kecamatan, kode_ppks, lokasi, laki-laki, perempuan
PPKS = {
    (P1, "3507", 1): [
        ("350701", "PPKS01", "LUAR_UPT", 3, 2),
        ("350702", "PPKS01", "LUAR_UPT", 1, 1),
        ("350701", "PPKS08", "DALAM_UPT", 0, 4),
    ],
}

PSKS = {
    (P1, "3507", 1): [("PSKS01", 12), ("PSKS02", 0), ("PSKS04", 3), ("PSKS05", 1)],
    (P2, "3507", 2): [("PSKS01", 15)],
}

# A re-run of 2025-11 for 3507, after the three periods were built: new dtks (K2 no longer
# eligible) and a corrected roster without the duplicate payment.
CORRECTION_VERSIONS = [
    version(P1, "3507", "dtks", 3, "ACCEPTED", utc(2026, 2, 25), (3, 3, 0)),
    version(P1, "3507", PB, 2, "ACCEPTED", utc(2026, 2, 25), (7, 7, 0)),
]
CORRECTION_DTKS = {
    (P1, "3507", 3): [("K1", "AKTIF", 1, 4), ("K2", "AKTIF", 7, 3), ("K5", "AKTIF", 3, 1)],
}
CORRECTION_PENERIMA = {
    (P1, "3507", 2): [row for row in PENERIMA[(P1, "3507", 1)] if row[0] != "PDUP"],
}


def raw_rows(
    penerima: dict, dtks: dict, ppks: dict, psks: dict
) -> dict[str, list[tuple[Any, ...]]]:
    """Rows for each raw table, in the column order of ``RAW_TABLES``."""
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in RAW_TABLES}
    for (period, district, number), items in penerima.items():
        for row_number, (person, household, program, amount, status) in enumerate(items, 2):
            paid = status == "SALUR"
            rows["penerima_bantuan"].append(
                (period, district, number, row_number, person, household, "L",
                 date(1980, 5, 17), f"{district}010001", program,
                 amount if paid else None, period + timedelta(days=4) if paid else None,
                 status)
            )  # fmt: skip
    for (period, district, number), items in dtks.items():
        for row_number, (household, status, decile, members) in enumerate(items, 2):
            rows["dtks"].append(
                (period, district, number, row_number, household, f"head-of-{household}",
                 f"{district}010001", members, decile, status)
            )  # fmt: skip
    for (period, district, number), items in ppks.items():
        for row_number, (subdistrict, code, location, male, female) in enumerate(items, 2):
            rows["ppks"].append(
                (period, district, number, row_number, subdistrict, code, location,
                 male, female, male + female)
            )  # fmt: skip
    for (period, district, number), items in psks.items():
        for row_number, (code, count) in enumerate(items, 2):
            rows["psks"].append((period, district, number, row_number, code, count))
    return rows


# ---------------------------------------------------------------- warehouses


@dataclass
class Warehouse:
    """One test warehouse: its URL, and plain SQL in and out (no sinergi code involved)."""

    engine: str
    url: str
    duckdb_path: Path | None = None
    pg_conninfo: str | None = None

    def execute_many(self, statements: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        """Run ``(sql with %s placeholders, rows)`` pairs in one transaction."""
        if self.engine == "duckdb":
            import duckdb

            conn = duckdb.connect(str(self.duckdb_path))
            try:
                conn.execute("begin")
                for sql, rows in statements:
                    sql = sql.replace("%s", "?")
                    if rows:
                        conn.executemany(sql, rows)
                    else:
                        conn.execute(sql)
                conn.execute("commit")
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(self.pg_conninfo) as conn, conn.cursor() as cur:
                for sql, rows in statements:
                    if rows:
                        cur.executemany(sql, rows)
                    else:
                        cur.execute(sql)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows as dicts; numerics as float, timestamps in UTC."""
        if self.engine == "duckdb":
            import duckdb

            # read-only, as BI tools and auditors open it: this also fails if dbt left the
            # file open in this process
            conn = duckdb.connect(str(self.duckdb_path), read_only=True)
            try:
                cursor = conn.execute(sql)
                names = [d[0] for d in cursor.description]
                records = cursor.fetchall()
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(self.pg_conninfo) as conn, conn.cursor() as cur:
                cur.execute(sql)
                names = [d.name for d in cur.description]
                records = cur.fetchall()
        return [{n: _plain(v) for n, v in zip(names, r, strict=True)} for r in records]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def insert_statements(
    versions: list[dict[str, Any]], raw: dict[str, list[tuple[Any, ...]]]
) -> list[tuple[str, list[tuple[Any, ...]]]]:
    statements = []
    columns = FILE_VERSIONS.column_names
    statements.append(
        (
            f"insert into {FILE_VERSIONS.qualified} ({', '.join(columns)}) "
            f"values ({', '.join(['%s'] * len(columns))})",
            [tuple(v[c] for c in columns) for v in versions],
        )
    )
    for name, rows in raw.items():
        if rows:
            table = RAW_TABLES[name]
            statements.append(
                (
                    f"insert into {table.qualified} ({', '.join(table.column_names)}) "
                    f"values ({', '.join(['%s'] * len(table.column_names))})",
                    rows,
                )
            )
    return statements


def load_story(warehouse: Warehouse) -> None:
    """Schema, then the three processed periods (and the unprocessed 2026-02)."""
    statements = [(ddl, []) for ddl in all_ddl()]
    statements += insert_statements(FILE_VERSION_ROWS, raw_rows(PENERIMA, DTKS, PPKS, PSKS))
    statements.append(
        (
            f"insert into {PROCESSED_PERIODS.qualified} (period, first_processed_at) "
            "values (%s, %s)",
            [(p, deadline(p) + timedelta(days=1)) for p in PROCESSED],
        )
    )
    warehouse.execute_many(statements)


def load_correction(warehouse: Warehouse) -> None:
    """The re-run of 2025-11 for 3507 (new versions only, as the loader appends)."""
    warehouse.execute_many(
        insert_statements(
            CORRECTION_VERSIONS, raw_rows(CORRECTION_PENERIMA, CORRECTION_DTKS, {}, {})
        )
    )


def _postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_CONNINFO, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not available here"
        return False


@contextmanager
def scratch_warehouse(engine: str, folder: Path) -> Iterator[Warehouse]:
    """An empty DuckDB file in ``folder``, or a uniquely named PostgreSQL database that is
    dropped on exit (skips the test when PostgreSQL is not running)."""
    if engine == "duckdb":
        path = folder / "warehouse.duckdb"
        yield Warehouse("duckdb", f"duckdb:///{path}", duckdb_path=path)
        return

    if not _postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    import psycopg

    name = f"sinergi_dbt_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_CONNINFO, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        yield Warehouse(
            "postgres",
            f"postgresql://postgres@127.0.0.1:5432/{name}",
            pg_conninfo=f"host=127.0.0.1 port=5432 user=postgres dbname={name}",
        )
    finally:
        with psycopg.connect(PG_ADMIN_CONNINFO, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
