"""dbt build on hand-made warehouse contents, on DuckDB and on PostgreSQL: exact mart values.

The fixtures (``dbt_fixtures.py``) are small enough that every expected figure below is
worked out by hand in a comment; nothing is computed with the project's own code. Each
engine gets one fresh warehouse and two builds: the three processed periods, then a re-run of
the first period (a correction) that must change later periods' carry-forward, year-to-date
and duplicate figures.

One test per engine runs every ``check_*`` below and reports all that fail (not just the
first). A build costs ~8 s, and with pytest 9.2 / pytest-xdist 3.8 ``xdist_group`` does not
keep tests together (pytest 9 ignores xdist's node-id suffix), so module-scoped fixtures shared
by many small tests would be rebuilt on every worker.
"""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from sinergi.bulletin import build as build_bulletin
from sinergi.dbt import DbtRunError, run_dbt
from sinergi.periods import Period
from tests.integration.bulletin_checks import check_bulletin as bulletin_matches_marts
from tests.integration.bulletin_checks import reach_labels, render_in_chromium
from tests.integration.dbt_fixtures import (
    FILE_VERSION_ROWS,
    P1,
    P2,
    P3,
    P4,
    deadline,
    load_correction,
    load_story,
    scratch_warehouse,
    utc,
)
from tests.reason_codes import ROW_REASON_CODES

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("engine", ["duckdb", "postgres"]),
]

MARTS = (
    "dim_districts",
    "dim_programs",
    "dim_ppks_categories",
    "dim_psks_types",
    "fct_submissions",
    "fct_reporting_rates",
    "fct_program_reach",
    "fct_household_reach",
    "fct_ppks",
    "fct_psks",
    "fct_poverty",
    "fct_cross_district_duplicates",
    "fct_cross_district_duplicate_pairs",
    "fct_outliers",
    "dim_reason_codes",
    "fct_district_reporting",
    "fct_household_reach_latest",
    "fct_poverty_bps_reference",
)
#: The auditors' tables dbt builds in the schema ``audit`` (models/audit).
AUDIT_VIEWS = ("version_history", "duplicate_payments")


class Marts:
    """Every mart's rows, read once right after a build."""

    def __init__(self, warehouse, outcome, seconds: float, sessions_opened: int = 0) -> None:
        self.outcome = outcome
        self.seconds = seconds
        self.sessions_opened = sessions_opened  # PostgreSQL sessions the build opened
        self.tables = {name: warehouse.query(f"select * from marts.{name}") for name in MARTS}
        for name in AUDIT_VIEWS:
            self.tables[name] = warehouse.query(f"select * from audit.{name}")
        self.columns = warehouse.query(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts'"
        )
        self.served_disbursements = warehouse.query(
            "select period, district_code, version, count(*) as n "
            "from intermediate.int_disbursements_served group by 1, 2, 3"
        )

    def rows(self, table: str, **keys: Any) -> list[dict[str, Any]]:
        return [r for r in self.tables[table] if all(r[k] == v for k, v in keys.items())]

    def one(self, table: str, **keys: Any) -> dict[str, Any]:
        found = self.rows(table, **keys)
        assert len(found) == 1, f"{table} {keys}: {len(found)} rows"
        return found[0]


def assert_values(row: dict[str, Any], **expected: Any) -> None:
    """Exact comparison that tells NULL from 0 and true from 1; floats to 1e-9."""
    for column, want in expected.items():
        got = row[column]
        if want is None:
            assert got is None, f"{column}: expected NULL, got {got!r}"
        elif isinstance(want, bool):
            assert got is want, f"{column}: expected {want}, got {got!r}"
        elif isinstance(want, float):
            assert got is not None and got == pytest.approx(want, rel=1e-9, abs=1e-12), (
                f"{column}: expected {want}, got {got!r}"
            )
        else:
            assert got == want and got is not None, f"{column}: expected {want!r}, got {got!r}"


def _sessions_opened(warehouse) -> int:
    """Sessions ever opened on the warehouse's database (PostgreSQL's own count)."""
    if warehouse.engine != "postgres":
        return 0
    rows = warehouse.query(
        "select sessions from pg_stat_database where datname = current_database()"
    )
    return int(rows[0]["sessions"])


def build(warehouse, work) -> Marts:
    sessions = _sessions_opened(warehouse)
    started = time.perf_counter()
    outcome = run_dbt(["build"], warehouse.url, target_path=work / "target", log_path=work / "logs")
    seconds = time.perf_counter() - started
    sessions = _sessions_opened(warehouse) - sessions
    print(f"\ndbt build on {warehouse.engine}: {seconds:.1f} s, {len(outcome.nodes)} nodes")
    return Marts(warehouse, outcome, seconds, sessions)


# ---------------------------------------------------------------- the build itself


def check_build_runs_every_node_including_unit_and_data_tests(marts):
    assert marts.outcome.success
    kinds = {n.resource_type for n in marts.outcome.nodes}
    assert not marts.outcome.failed_nodes
    assert {"model", "seed", "test", "unit_test"} <= kinds
    assert len([n for n in marts.outcome.nodes if n.resource_type == "unit_test"]) >= 8


def check_marts_have_no_person_or_household_keys(marts):
    names = {c["column_name"].lower() for c in marts.columns}
    assert {t.lower() for t in MARTS} == {c["table_name"].lower() for c in marts.columns}
    assert not {n for n in names if "key" in n or "hmac" in n or "nik" in n or "kk" in n}


# ---------------------------------------------------------------- dimensions


def check_dimensions_keep_codes_as_text(marts):
    assert len(marts.tables["dim_districts"]) == 38
    assert len(marts.tables["dim_programs"]) == 8
    assert len(marts.tables["dim_ppks_categories"]) == 26
    assert len(marts.tables["dim_psks_types"]) == 12
    # "35.10" would become 35.1 if the seed were inferred as a number.
    assert_values(marts.one("dim_districts", district_code="3510"), kemendagri_code="35.10")
    assert_values(marts.one("dim_districts", district_code="3520"), kemendagri_code="35.20")
    assert all(isinstance(r["district_code"], str) for r in marts.tables["dim_districts"])
    assert_values(marts.one("dim_ppks_categories", ppks_code="PPKS08"), abbreviation="LUT")
    assert_values(
        marts.one("dim_programs", program_code="PKH"), max_amount_per_disbursement_idr=3000000
    )


# ---------------------------------------------------------------- completeness register


def check_submissions_cover_every_processed_period_district_and_dataset(marts):
    rows = marts.tables["fct_submissions"]
    assert len(rows) == 3 * 38 * 4
    assert {r["period"] for r in rows} == {P1, P2, P3}  # 2026-02 was never processed


def check_submission_rejected_resubmission_keeps_served_version(marts):
    # 3507 2026-01: v1, v2 ACCEPTED, v3 REJECTED (10 rows: 7 passed, but REJECTED loads none).
    assert_values(
        marts.one("fct_submissions", period=P3, district_code="3507", dataset="penerima_bantuan"),
        status="REJECTED",
        versions_received=3,
        served_version=2,
        first_received_at=utc(2026, 2, 1),
        last_received_at=utc(2026, 2, 20),
        is_on_time=True,  # v1, the first servable version, arrived before 2026-02-10
        rows_total=10,
        rows_accepted=0,
        rows_rejected=10,
        rejection_reason="too_many_invalid_rows",
    )


def check_submission_late_accepted_after_on_time_rejection_is_not_on_time(marts):
    assert_values(
        marts.one("fct_submissions", period=P2, district_code="3507", dataset="psks"),
        status="ACCEPTED",
        versions_received=2,
        served_version=2,
        first_received_at=utc(2026, 1, 5),
        last_received_at=utc(2026, 1, 15),
        is_on_time=False,
        rows_total=1,
        rows_accepted=1,
        rows_rejected=0,
        rejection_reason=None,
    )


def check_submission_statuses_partial_rejected_missing_and_deadline(marts):
    assert_values(
        marts.one("fct_submissions", period=P1, district_code="3507", dataset="psks"),
        status="PARTIAL", served_version=1, rows_total=5, rows_accepted=4, rows_rejected=1,
        is_on_time=True, rejection_reason=None,
    )  # fmt: skip
    assert_values(
        marts.one("fct_submissions", period=P1, district_code="3507", dataset="dtks"),
        status="ACCEPTED", versions_received=2, served_version=2, is_on_time=True,
    )  # fmt: skip
    assert_values(
        marts.one("fct_submissions", period=P2, district_code="3578", dataset="dtks"),
        status="REJECTED", versions_received=1, served_version=None, is_on_time=False,
        rows_total=0, rows_accepted=0, rows_rejected=0, rejection_reason="unreadable",
        first_received_at=utc(2026, 1, 3), last_received_at=utc(2026, 1, 3),
    )  # fmt: skip
    assert_values(
        marts.one("fct_submissions", period=P3, district_code="3578", dataset="penerima_bantuan"),
        status="REJECTED", served_version=None, is_on_time=False,
        rows_total=4, rows_accepted=0, rows_rejected=4, rejection_reason="missing_columns",
    )  # fmt: skip
    # Received at exactly 23:59:59 Asia/Jakarta on day 10: on time (inclusive).
    assert_values(
        marts.one("fct_submissions", period=P2, district_code="3501", dataset="penerima_bantuan"),
        status="ACCEPTED", is_on_time=True, first_received_at=deadline(P2),
    )  # fmt: skip
    assert_values(
        marts.one("fct_submissions", period=P1, district_code="3501", dataset="dtks"),
        status="ACCEPTED", is_on_time=False,  # 2025-12-11: a day late
    )  # fmt: skip
    for dataset in ("ppks", "psks", "penerima_bantuan", "dtks"):
        assert_values(
            marts.one("fct_submissions", period=P3, district_code="3571", dataset=dataset),
            status="MISSING", versions_received=0, served_version=None,
            first_received_at=None, last_received_at=None, is_on_time=False,
            rows_total=0, rows_accepted=0, rows_rejected=0, rejection_reason=None,
        )  # fmt: skip


def check_reporting_rates(marts):
    rows = marts.tables["fct_reporting_rates"]
    assert len(rows) == 12
    expected = {
        # (period, dataset): (actual, on time) — see the story in dbt_fixtures.py
        (P1, "ppks"): (1, 1),
        (P1, "psks"): (1, 1),
        (P1, "penerima_bantuan"): (3, 3),
        (P1, "dtks"): (2, 1),  # 3501's dtks was late
        (P2, "ppks"): (0, 0),
        (P2, "psks"): (1, 0),  # served v2 late; the on-time v1 was REJECTED
        (P2, "penerima_bantuan"): (2, 1),  # 3507 late, 3501 exactly on the deadline
        (P2, "dtks"): (0, 0),  # 3578's was unreadable
        (P3, "ppks"): (0, 0),
        (P3, "psks"): (0, 0),
        (P3, "penerima_bantuan"): (1, 1),  # 3578 REJECTED
        (P3, "dtks"): (1, 1),
    }
    for (period, dataset), (actual, on_time) in expected.items():
        assert_values(
            marts.one("fct_reporting_rates", period=period, dataset=dataset),
            expected_reports=38,
            actual_reports=actual,
            reports_on_time=on_time,
            reporting_rate=actual / 38,
            reporting_rate_on_time=on_time / 38,
        )


# ---------------------------------------------------------------- programme reach


def check_program_reach_has_every_period_district_programme(marts):
    assert len(marts.tables["fct_program_reach"]) == 3 * 38 * 8


def check_program_reach_malang_first_month(marts):
    # Served dtks v2 (not the decoy v1): eligible K1 (d1), K2 (d4), K5 (d3) -> 3.
    # PKH paid: P1a/P1c (K1), P2a (K2), P3a (K3, decile 5), PDUP (K50, not registered).
    assert_values(
        marts.one("fct_program_reach", period=P1, district_code="3507", program_code="PKH"),
        is_reported=True, recipients=5, households_reached=4, amount_disbursed_idr=3_750_000,
        failed_disbursements=1, dtks_period=P1, eligible_households=3,
        eligible_households_reached=2, coverage_rate=2 / 3, inclusion_error_rate=0.5,
    )  # fmt: skip
    # SEMBAKO: P1b (K1, eligible) and P9x (K99, outside the register).
    assert_values(
        marts.one("fct_program_reach", period=P1, district_code="3507", program_code="SEMBAKO"),
        recipients=2, households_reached=2, amount_disbursed_idr=400_000,
        failed_disbursements=0, eligible_households_reached=1, coverage_rate=1 / 3,
        inclusion_error_rate=0.5,
    )  # fmt: skip
    # A programme the roster does not mention: zeros, coverage 0, inclusion error 0/0 = NULL.
    assert_values(
        marts.one("fct_program_reach", period=P1, district_code="3507", program_code="RTLH"),
        is_reported=True, recipients=0, households_reached=0, amount_disbursed_idr=0,
        failed_disbursements=0, dtks_period=P1, eligible_households=3,
        eligible_households_reached=0, coverage_rate=0.0, inclusion_error_rate=None,
    )  # fmt: skip


def check_program_reach_nobody_paid_gives_zeros_not_nulls(marts):
    # 3501 2025-11: PKH rows are GAGAL and TUNDA only; TUNDA is not a failure.
    assert_values(
        marts.one("fct_program_reach", period=P1, district_code="3501", program_code="PKH"),
        is_reported=True, recipients=0, households_reached=0, amount_disbursed_idr=0,
        failed_disbursements=1, dtks_period=P1, eligible_households=2,
        eligible_households_reached=0, coverage_rate=0.0, inclusion_error_rate=None,
    )  # fmt: skip


def check_program_reach_without_snapshot_has_null_eligibility(marts):
    assert_values(
        marts.one("fct_program_reach", period=P1, district_code="3578", program_code="PKH"),
        is_reported=True, recipients=1, households_reached=1, amount_disbursed_idr=600_000,
        failed_disbursements=0, dtks_period=None, eligible_households=None,
        eligible_households_reached=None, coverage_rate=None, inclusion_error_rate=None,
    )  # fmt: skip
    assert_values(
        marts.one("fct_program_reach", period=P1, district_code="3578", program_code="SEMBAKO"),
        recipients=0, households_reached=0, amount_disbursed_idr=0, failed_disbursements=1,
    )  # fmt: skip


def check_program_reach_not_reported_keeps_only_the_snapshot(marts):
    # 3501 sent nothing in 2026-01; its 2025-11 dtks is still in effect.
    assert_values(
        marts.one("fct_program_reach", period=P3, district_code="3501", program_code="PKH"),
        is_reported=False, recipients=None, households_reached=None, amount_disbursed_idr=None,
        failed_disbursements=None, dtks_period=P1, eligible_households=2,
        eligible_households_reached=None, coverage_rate=None, inclusion_error_rate=None,
    )  # fmt: skip
    # 3578's roster of 2026-01 was REJECTED: not reported either.
    assert_values(
        marts.one("fct_program_reach", period=P3, district_code="3578", program_code="PKH"),
        is_reported=False, recipients=None, dtks_period=None, eligible_households=None,
    )  # fmt: skip
    assert_values(
        marts.one("fct_program_reach", period=P2, district_code="3571", program_code="PKH"),
        is_reported=False, recipients=None, dtks_period=None, eligible_households=None,
    )  # fmt: skip


def check_program_reach_serves_the_resubmission_and_carries_dtks_forward(marts):
    # 2025-12: no dtks from 3507, the 2025-11 snapshot carries forward.
    assert_values(
        marts.one("fct_program_reach", period=P2, district_code="3507", program_code="BLT_DD"),
        is_reported=True, recipients=1, households_reached=1, amount_disbursed_idr=300_000,
        dtks_period=P1, eligible_households=3, eligible_households_reached=1,
        coverage_rate=1 / 3, inclusion_error_rate=0.0,
    )  # fmt: skip
    # 2026-01: v2 served (v1's 999 rupiah row is ignored, v3 REJECTED); new snapshot in which
    # K2 (decile 6) is no longer eligible but K6 is.
    assert_values(
        marts.one("fct_program_reach", period=P3, district_code="3507", program_code="PKH"),
        is_reported=True, recipients=2, households_reached=2, amount_disbursed_idr=1_500_000,
        failed_disbursements=0, dtks_period=P3, eligible_households=3,
        eligible_households_reached=1, coverage_rate=1 / 3, inclusion_error_rate=0.5,
    )  # fmt: skip


# ---------------------------------------------------------------- household reach


def check_household_reach_month_and_year_to_date(marts):
    assert len(marts.tables["fct_household_reach"]) == 3 * 38
    # 2025-11: paid K1, K2, K3, K99, K50; eligible {K1, K2, K5}: K5 unreached.
    assert_values(
        marts.one("fct_household_reach", period=P1, district_code="3507"),
        is_reported=True, dtks_period=P1, eligible_households=3, households_reached=5,
        eligible_households_reached=2, unreached_eligible_households=1, unreached_rate=1 / 3,
        eligible_households_reached_ytd=2, unreached_rate_ytd=1 / 3,
    )  # fmt: skip
    # 2025-12: paid K5, K1 (K2 unreached this month, but reached in November: YTD 3 of 3).
    assert_values(
        marts.one("fct_household_reach", period=P2, district_code="3507"),
        is_reported=True, dtks_period=P1, eligible_households=3, households_reached=2,
        eligible_households_reached=2, unreached_eligible_households=1, unreached_rate=1 / 3,
        eligible_households_reached_ytd=3, unreached_rate_ytd=0.0,
    )  # fmt: skip
    # 2026-01: a new year restarts the count; new snapshot {K1, K5, K6}; paid K6, K2.
    assert_values(
        marts.one("fct_household_reach", period=P3, district_code="3507"),
        is_reported=True, dtks_period=P3, eligible_households=3, households_reached=2,
        eligible_households_reached=1, unreached_eligible_households=2, unreached_rate=2 / 3,
        eligible_households_reached_ytd=1, unreached_rate_ytd=2 / 3,
    )  # fmt: skip


def check_household_reach_nulls_and_zeros(marts):
    # Reported, nobody paid.
    assert_values(
        marts.one("fct_household_reach", period=P1, district_code="3501"),
        is_reported=True, dtks_period=P1, eligible_households=2, households_reached=0,
        eligible_households_reached=0, unreached_eligible_households=2, unreached_rate=1.0,
        eligible_households_reached_ytd=0, unreached_rate_ytd=1.0,
    )  # fmt: skip
    # Roster not served in 2026-01: YTD NULL although earlier months were served.
    assert_values(
        marts.one("fct_household_reach", period=P3, district_code="3501"),
        is_reported=False, dtks_period=P1, eligible_households=2, households_reached=None,
        eligible_households_reached=None, unreached_eligible_households=None,
        unreached_rate=None, eligible_households_reached_ytd=None, unreached_rate_ytd=None,
    )  # fmt: skip
    # Reported without any snapshot.
    assert_values(
        marts.one("fct_household_reach", period=P1, district_code="3578"),
        is_reported=True, dtks_period=None, eligible_households=None, households_reached=2,
        eligible_households_reached=None, unreached_eligible_households=None,
        unreached_rate=None, eligible_households_reached_ytd=None, unreached_rate_ytd=None,
    )  # fmt: skip


# ---------------------------------------------------------------- PPKS / PSKS


def check_ppks_sums_over_subdistricts_with_zeros_and_nulls(marts):
    assert len(marts.tables["fct_ppks"]) == 3 * 38 * 26 * 2
    key = {"period": P1, "district_code": "3507"}
    assert_values(
        marts.one("fct_ppks", **key, ppks_code="PPKS01", location="LUAR_UPT"),
        is_reported=True, male_count=4, female_count=3, total_count=7,
    )  # fmt: skip
    assert_values(
        marts.one("fct_ppks", **key, ppks_code="PPKS08", location="DALAM_UPT"),
        male_count=0, female_count=4, total_count=4,
    )  # fmt: skip
    assert_values(
        marts.one("fct_ppks", **key, ppks_code="PPKS01", location="DALAM_UPT"),
        is_reported=True, male_count=0, female_count=0, total_count=0,
    )  # fmt: skip
    assert_values(
        marts.one("fct_ppks", period=P2, district_code="3507", ppks_code="PPKS01",
                  location="LUAR_UPT"),
        is_reported=False, male_count=None, female_count=None, total_count=None,
    )  # fmt: skip


def check_psks_served_version_with_zeros_and_nulls(marts):
    assert len(marts.tables["fct_psks"]) == 3 * 38 * 12
    expected_p1 = {"PSKS01": 12, "PSKS02": 0, "PSKS03": 0, "PSKS04": 3, "PSKS05": 1}
    for code, count in expected_p1.items():
        assert_values(
            marts.one("fct_psks", period=P1, district_code="3507", psks_code=code),
            is_reported=True,
            resource_count=count,
        )
    assert_values(
        marts.one("fct_psks", period=P2, district_code="3507", psks_code="PSKS01"),
        is_reported=True,
        resource_count=15,
    )
    assert_values(
        marts.one("fct_psks", period=P3, district_code="3507", psks_code="PSKS01"),
        is_reported=False,
        resource_count=None,
    )


# ---------------------------------------------------------------- poverty, duplicates


def check_poverty_rows_for_bps_and_processed_years(marts):
    rows = marts.tables["fct_poverty"]
    assert {r["year"] for r in rows} == set(range(2020, 2027))  # BPS 2020-2025, processed 2026
    assert len(rows) == 7 * 38
    assert_values(
        marts.one("fct_poverty", year=2025, district_code="3507"),
        poverty_rate_pct=8.78, poor_population_thousands=235.62, poverty_line_idr=436153,
        p1=0.9, p2=0.15, as_of_period=P2, eligible_households=3, eligible_individuals=8,
        eligible_households_reached_ytd=3, eligible_individuals_per_poor_person=8 / 235_620,
    )  # fmt: skip
    assert_values(
        marts.one("fct_poverty", year=2025, district_code="3501"),
        poverty_rate_pct=None, poor_population_thousands=None, poverty_line_idr=386174,
        p1=1.77, p2=0.36, as_of_period=P2, eligible_households=2, eligible_individuals=5,
        eligible_households_reached_ytd=0, eligible_individuals_per_poor_person=None,
    )  # fmt: skip
    assert_values(
        marts.one("fct_poverty", year=2026, district_code="3507"),
        poverty_rate_pct=None, poverty_line_idr=None, as_of_period=P3, eligible_households=3,
        eligible_individuals=12, eligible_households_reached_ytd=1,
        eligible_individuals_per_poor_person=None,
    )  # fmt: skip
    # 2026 for 3501: snapshot still in effect, roster not served -> YTD NULL.
    assert_values(
        marts.one("fct_poverty", year=2026, district_code="3501"),
        as_of_period=P3, eligible_households=2, eligible_individuals=5,
        eligible_households_reached_ytd=None,
    )  # fmt: skip
    assert_values(
        marts.one("fct_poverty", year=2024, district_code="3578"),
        poverty_rate_pct=3.96, poor_population_thousands=116.62, poverty_line_idr=742678,
        p1=None, p2=None, as_of_period=None, eligible_households=None,
        eligible_individuals=None, eligible_households_reached_ytd=None,
        eligible_individuals_per_poor_person=None,
    )  # fmt: skip
    assert_values(
        marts.one("fct_poverty", year=2020, district_code="3507"),
        poverty_rate_pct=None, poor_population_thousands=None, as_of_period=None,
    )  # fmt: skip


def check_cross_district_duplicates(marts):
    rows = marts.tables["fct_cross_district_duplicates"]
    assert len(rows) == 3 * 8
    # PDUP paid PKH by 3507 (750,000) and 3578 (600,000); P1b's SEMBAKO in 3578 failed.
    for row in rows:
        if (row["period"], row["program_code"]) == (P1, "PKH"):
            assert_values(
                row, duplicate_persons=1, duplicate_rows=2, duplicate_amount_idr=1_350_000
            )
        else:
            assert_values(row, duplicate_persons=0, duplicate_rows=0, duplicate_amount_idr=0)
    # The pair, one row per side, each with what that district paid.
    pairs = {
        (r["period"], r["program_code"], r["district_code"], r["other_district_code"]): r
        for r in marts.tables["fct_cross_district_duplicate_pairs"]
    }
    assert set(pairs) == {(P1, "PKH", "3507", "3578"), (P1, "PKH", "3578", "3507")}
    assert_values(
        pairs[(P1, "PKH", "3507", "3578")],
        duplicate_persons=1, duplicate_rows=1, duplicate_amount_idr=750_000,
    )  # fmt: skip
    assert_values(
        pairs[(P1, "PKH", "3578", "3507")],
        duplicate_persons=1, duplicate_rows=1, duplicate_amount_idr=600_000,
    )  # fmt: skip


# ---------------------------------------------------------------- a correction re-run


def after_correction_later_periods_are_updated(corrected):
    assert corrected.outcome.success
    # (2025-11, 3507) serves v2's rows only (a view of raw); other months as they were.
    served = {
        (r["period"], r["district_code"]): (r["version"], r["n"])
        for r in corrected.served_disbursements
    }
    assert served[(P1, "3507")] == (2, 7)
    assert served[(P2, "3507")] == (1, 2)
    assert served[(P3, "3507")] == (2, 2)
    assert (P4, "3507") not in served
    # New 2025-11 snapshot: eligible {K1, K5}; corrected roster without PDUP.
    assert_values(
        corrected.one("fct_program_reach", period=P1, district_code="3507", program_code="PKH"),
        recipients=4, households_reached=3, amount_disbursed_idr=3_000_000,
        failed_disbursements=1, eligible_households=2, eligible_households_reached=1,
        coverage_rate=0.5, inclusion_error_rate=2 / 3,
    )  # fmt: skip
    # 2025-12 carries the corrected snapshot forward; YTD: K1 and K5 both reached.
    assert_values(
        corrected.one("fct_household_reach", period=P2, district_code="3507"),
        dtks_period=P1, eligible_households=2, households_reached=2,
        eligible_households_reached=2, unreached_eligible_households=0, unreached_rate=0.0,
        eligible_households_reached_ytd=2, unreached_rate_ytd=0.0,
    )  # fmt: skip
    assert_values(
        corrected.one("fct_poverty", year=2025, district_code="3507"),
        eligible_households=2, eligible_individuals=5, eligible_households_reached_ytd=2,
    )  # fmt: skip
    assert_values(
        corrected.one("fct_cross_district_duplicates", period=P1, program_code="PKH"),
        duplicate_persons=0, duplicate_rows=0, duplicate_amount_idr=0,
    )  # fmt: skip
    assert corrected.tables["fct_cross_district_duplicate_pairs"] == []  # PDUP corrected away
    assert_values(
        corrected.one("fct_submissions", period=P1, district_code="3507", dataset="dtks"),
        versions_received=3, served_version=3, status="ACCEPTED",
    )  # fmt: skip
    # 2026-01 has its own snapshot: unchanged.
    assert_values(
        corrected.one("fct_household_reach", period=P3, district_code="3507"),
        eligible_households=3, eligible_households_reached_ytd=1,
    )  # fmt: skip


# ---------------------------------------------------------------- beyond the spec (issue 15)


def check_reason_codes_are_the_feedback_catalogue(marts):
    from sinergi.messages import FILE_MESSAGES, ROW_MESSAGES

    rows = {r["reason_code"]: r for r in marts.tables["dim_reason_codes"]}
    contract = {code.split(":")[0] for code in ROW_REASON_CODES} | {
        "missing_value", "negative_value", "invalid_integer", "invalid_date",
        "nik_birthdate_mismatch", "unreadable", "missing_columns", "empty",
        "ambiguous_submission", "too_many_invalid_rows", "unexpected_columns",
    }  # fmt: skip
    assert set(rows) == contract
    for code, row in rows.items():
        messages = ROW_MESSAGES if row["level"] == "row" else FILE_MESSAGES
        if code in messages:  # unexpected_columns is an inbox notice's text
            assert row["message_id"] == messages[code]["problem"], code
            assert row["what_to_do_id"] == messages[code]["action"], code
    assert_values(rows["invalid_kk"], level="row", severity="rejection", column_name="no_kk")
    assert_values(rows["unknown_code"], column_name=None, contract_section="§5")
    assert_values(rows["nik_birthdate_mismatch"], severity="warning")
    assert_values(rows["too_many_invalid_rows"], level="file", column_name=None)


def check_district_reporting(marts):
    assert len(marts.tables["fct_district_reporting"]) == 3 * 38
    # 3507 in 2025-11: all four served, the first servable of each before 2025-12-10.
    assert_values(
        marts.one("fct_district_reporting", period=P1, district_code="3507"),
        datasets_expected=4, datasets_received=4, datasets_served=4, datasets_on_time=4,
        datasets_served_late=0, datasets_not_served=0, is_complete=True,
        is_complete_on_time=True, deadline_wib=datetime(2025, 12, 10, 23, 59, 59),
        last_served_received_at=utc(2025, 12, 5), hours_late=Decimal("0.0"),
    )  # fmt: skip
    # 3501 in 2025-11: dtks received 2025-12-11 03:00 UTC = 10 h 0 min 1 s late.
    assert_values(
        marts.one("fct_district_reporting", period=P1, district_code="3501"),
        datasets_received=2, datasets_served=2, datasets_on_time=1, datasets_served_late=1,
        datasets_not_served=2, is_complete=False, is_complete_on_time=False,
        last_served_received_at=utc(2025, 12, 11), hours_late=Decimal("10.0"),
    )  # fmt: skip
    # 3507 in 2025-12: roster 2026-01-12 and psks v2 2026-01-15 (its on-time v1 REJECTED):
    # the last became servable 4 d 10 h 0 min 1 s = 106.0 h after 2026-01-10 16:59:59 UTC.
    assert_values(
        marts.one("fct_district_reporting", period=P2, district_code="3507"),
        datasets_received=2, datasets_served=2, datasets_on_time=0, datasets_served_late=2,
        datasets_not_served=2, deadline_wib=datetime(2026, 1, 10, 23, 59, 59),
        last_served_received_at=utc(2026, 1, 15), hours_late=Decimal("106.0"),
    )  # fmt: skip
    # 3578 in 2025-12: only an unreadable dtks; 3571 never sends anything.
    assert_values(
        marts.one("fct_district_reporting", period=P2, district_code="3578"),
        datasets_received=1, datasets_served=0, datasets_on_time=0, is_complete=False,
        last_served_received_at=None, hours_late=None,
    )  # fmt: skip
    assert_values(
        marts.one("fct_district_reporting", period=P3, district_code="3571"),
        datasets_expected=4, datasets_received=0, datasets_served=0, datasets_not_served=4,
        last_served_received_at=None, hours_late=None,
    )  # fmt: skip


def check_household_reach_latest_fills_the_holes(marts):
    assert len(marts.tables["fct_household_reach_latest"]) == 2 * 38  # 2025 and 2026
    # 3507: December 2025 is the latest month of 2025 (YTD 3 of 3 eligible reached).
    assert_values(
        marts.one("fct_household_reach_latest", year=2025, district_code="3507"),
        latest_processed_period=P2, as_of_period=P2, is_current=True, reported_periods=2,
        dtks_period=P1, eligible_households=3, eligible_households_reached_ytd=3,
        unreached_eligible_households_ytd=0, unreached_rate_ytd=0.0,
    )  # fmt: skip
    # 3501: no roster in January 2026 (NULL in fct_household_reach): nothing this year;
    # in 2025 its December roster holds (eligible {2 households}, none paid).
    assert_values(
        marts.one("fct_household_reach_latest", year=2026, district_code="3501"),
        latest_processed_period=P3, as_of_period=None, is_current=False, reported_periods=0,
        eligible_households=None, eligible_households_reached_ytd=None,
    )  # fmt: skip
    assert_values(
        marts.one("fct_household_reach_latest", year=2025, district_code="3501"),
        as_of_period=P2, is_current=True, reported_periods=2, eligible_households=2,
    )  # fmt: skip
    # 3578: roster served in November only, no snapshot: as of November, no eligibility.
    assert_values(
        marts.one("fct_household_reach_latest", year=2025, district_code="3578"),
        as_of_period=P1, is_current=False, reported_periods=1, dtks_period=None,
        eligible_households=None, eligible_households_reached_ytd=None,
        unreached_rate_ytd=None,
    )  # fmt: skip


def check_poverty_bps_reference(marts):
    assert len(marts.tables["fct_poverty_bps_reference"]) == len(marts.tables["fct_poverty"])
    source = "BPS Susenas March figures as reported in regional news releases"
    row = marts.one("fct_poverty_bps_reference", year=2024, district_code="3578")
    assert_values(row, bps_reference_year=2024, bps_status="BPS figures of this year")
    assert row["bps_source"].startswith(source)
    assert_values(
        marts.one("fct_poverty_bps_reference", year=2025, district_code="3501"),
        bps_reference_year=2025, bps_status="BPS row without a poverty rate",
    )  # fmt: skip
    assert_values(
        marts.one("fct_poverty_bps_reference", year=2026, district_code="3507"),
        bps_reference_year=None, bps_source=None, bps_status="no BPS figure for this year",
    )  # fmt: skip


def check_version_history_states_the_served_version(marts):
    versions = marts.rows(
        "version_history", period=P3, district_code="3507", dataset="penerima_bantuan"
    )
    by_number = {r["version"]: r for r in versions}
    assert sorted(by_number) == [1, 2, 3]
    assert_values(by_number[1], is_served=False, is_latest=False, served_version=2)
    assert_values(by_number[2], is_served=True, is_latest=False, rows_loaded=2)
    # the REJECTED v3 (threshold): latest, not served, none of its 10 rows loaded
    assert_values(
        by_number[3], status="REJECTED", is_served=False, is_latest=True, rows_total=10,
        rows_loaded=0, rows_not_loaded=10, rows_quarantined=0,
    )  # fmt: skip
    assert len(marts.tables["version_history"]) == len(FILE_VERSION_ROWS)  # 2026-02 included
    served = [r for r in marts.tables["version_history"] if r["is_served"]]
    submissions = [r for r in marts.tables["fct_submissions"] if r["served_version"]]
    assert len(served) == len(submissions)


def check_duplicate_payments_list_the_person_pseudonymously(marts):
    rows = sorted(marts.tables["duplicate_payments"], key=lambda r: r["district_code"])
    assert [(r["period"], r["program_code"], r["district_code"]) for r in rows] == [
        (P1, "PKH", "3507"),
        (P1, "PKH", "3578"),
    ]
    assert {r["person_key"] for r in rows} == {"PDUP"}  # the fixture's stand-in pseudonym
    assert_values(rows[0], version=1, paid_rows=1, amount_idr=750_000, paying_districts=2,
                  person_amount_idr=1_350_000)  # fmt: skip
    assert_values(rows[1], version=1, paid_rows=1, amount_idr=600_000, paying_districts=2)


def after_correction_check_duplicate_payments_empty(corrected):
    assert corrected.tables["duplicate_payments"] == []  # PDUP corrected away


def run_checks(marts: Marts, prefix: str = "check_") -> list[str]:
    """Run every module-level ``check_*`` function; the failures, by name."""
    failures = []
    for name, check in globals().items():
        if name.startswith(prefix) and callable(check):
            try:
                check(marts)
            except AssertionError as error:
                failures.append(f"{name}: {error}")
    return failures


def _bulletin(warehouse, reports, period) -> Any:
    return build_bulletin(Period(period.year, period.month), reports, warehouse.url)


# ---------------------------------------------------------------- what a data test reads

SERVED = "intermediate.int_disbursements_served"
RAW = "raw.penerima_bantuan"
UNIQUE_SERVED_ROW = (
    "test.sinergi.unique_combination_of_columns_int_disbursements_served_period__district_code"
    "__file_row_number"
)
UNIQUE_RAW_ROW = (
    "test.sinergi.unique_combination_of_columns_stg_raw__disbursements_period__district_code"
    "__version__file_row_number"
)


def _failed_unique_tests(warehouse, work, *, every_row: bool = False) -> list[str]:
    """``dbt test`` of int_disbursements_served and stg_raw__disbursements: which of their
    unique tests failed (served, raw)."""
    outcome = run_dbt(
        ["test", "--select", "int_disbursements_served", "stg_raw__disbursements"],
        warehouse.url,
        vars={"test_every_row": True} if every_row else None,
        target_path=work / "target",
        log_path=work / "logs",
        raise_on_failure=False,
    )
    ran = {n.unique_id.rsplit(".", 1)[0] for n in outcome.nodes}
    assert {UNIQUE_SERVED_ROW, UNIQUE_RAW_ROW} <= ran
    return sorted(n.unique_id.rsplit(".", 1)[0] for n in outcome.failed_nodes)


def assert_block_range_indexes_summarised(warehouse) -> None:
    """macros/planner_statistics.sql: every incremental table has its BRIN indexes on period
    and built_at, summarised up to its last block by the build (an unsummarised range would
    match every query). (raw's are made by the warehouse's set-up: tests/warehouse.)"""
    indexes = {
        r["indexname"]
        for r in warehouse.query(
            "select indexname from pg_indexes where schemaname = 'intermediate' "
            "and indexname like '%brin'"
        )
    }
    paid = {"int_households_paid__period_brin", "int_households_paid__built_at_brin"}
    assert paid <= indexes
    for name in paid:
        (left,) = warehouse.query(
            f"select brin_summarize_new_values('intermediate.{name}'::regclass) as n"
        )
        assert left["n"] == 0, name


SOURCE_CHECK = "assert_program_reach_matches_raw_served_rows"


def _source_check_fails(warehouse, work, *, every_row: bool = False) -> bool:
    outcome = run_dbt(
        ["test", "--select", SOURCE_CHECK],
        warehouse.url,
        vars={"test_every_row": True} if every_row else None,
        target_path=work / "target",
        log_path=work / "logs",
        raise_on_failure=False,
    )
    assert [n.unique_id for n in outcome.nodes if n.unique_id.startswith("test.")] == [
        f"test.sinergi.{SOURCE_CHECK}"
    ]
    return not outcome.success


def assert_source_check_reads_the_periods_with_new_sources(warehouse, work) -> None:
    """The singular test that re-derives fct_program_reach from raw compares only the periods
    whose sources changed since it last passed (macros/new_rows.sql): a paid amount changed
    in raw behind its back in December is not seen; the var test_every_row sees it, and so
    does every run once December's sources change (a period processed again counts), until
    it passes."""
    assert not _source_check_fails(warehouse, work)
    warehouse.execute_many(
        [
            (
                "update raw.penerima_bantuan set nilai_bantuan = nilai_bantuan + 1 "
                "where _period = %s and status_salur = 'SALUR'",
                [(P2,)],
            )
        ]
    )
    assert not _source_check_fails(warehouse, work)
    assert _source_check_fails(warehouse, work, every_row=True)
    warehouse.execute_many(
        [
            (
                "update audit.processed_periods set first_processed_at = %s where period = %s",
                [(utc(2999, 1, 1), P2)],
            )
        ]
    )
    for _ in range(2):
        assert _source_check_fails(warehouse, work)


def assert_tests_read_the_periods_new_since_they_last_passed(warehouse, work) -> None:
    """macros/new_rows.sql: a duplicate row in a period with nothing new since the unique tests
    last passed is not read again (the rows they passed on have not changed), neither by the
    test of raw's staging view nor by the test of the served rows' view over it; once a
    version of its period is judged since, both find it beside the row it repeats, and find
    it again in the next run (a failure records no pass); the var test_every_row reads the
    whole history."""
    passes = warehouse.query(
        "select test_id, passed_at from intermediate.data_test_passes "
        f"where test_id like '{UNIQUE_SERVED_ROW}%'"
    )
    assert len(passes) == 1
    # a row of the oldest served version: the served view serves it
    (served_row,) = warehouse.query(
        f"select period, district_code, version from {SERVED} "
        "order by period, district_code, version, file_row_number limit 1"
    )
    copied = "_period = %s and _district_code = %s and _version = %s"
    key = (served_row["period"], served_row["district_code"], served_row["version"])
    warehouse.execute_many(
        [
            (
                f"insert into {RAW} select * from {RAW} where {copied} and _row_number = "
                f"(select min(_row_number) from {RAW} where {copied})",
                [key * 2],
            ),
        ]
    )
    assert _failed_unique_tests(warehouse, work) == []
    both = sorted([UNIQUE_RAW_ROW, UNIQUE_SERVED_ROW])
    assert _failed_unique_tests(warehouse, work, every_row=True) == both
    warehouse.execute_many(
        [
            (
                "update audit.file_versions set judged_at = %s where period = %s "
                "and district_code = %s and dataset = 'penerima_bantuan' and version = %s",
                [(utc(2999, 1, 1), *key)],
            ),
        ]
    )
    for _ in range(2):
        assert _failed_unique_tests(warehouse, work) == both


# ---------------------------------------------------------------- the incremental bookkeeping

#: Every incremental model and the keys of its parts (macros/incremental_inputs.sql).
INCREMENTAL_PARTS = {
    "int_households_paid": ("period", "district_code"),
    "int_households_reached_in_period": ("period", "district_code"),
    "int_households_reached_ytd": ("period", "district_code"),
    "int_households_first_paid_in_year": ("period", "district_code"),
    "int_disbursements_aggregated_to_programs": ("period", "district_code"),
    "int_dtks_households_aggregated_to_snapshots": ("period", "district_code"),
    "int_duplicate_payments_aggregated_to_districts": ("period",),
    "int_figures_flagged": ("period",),
}


def _incremental_state(warehouse) -> dict[str, list]:
    """Each incremental table's rows and its parts (keys and fingerprint), without the
    build times, in a fixed order."""

    def rows(table: str) -> list:
        found = warehouse.query(f"select * from intermediate.{table}")
        return sorted(repr(sorted((k, v) for k, v in r.items() if k != "built_at")) for r in found)

    state = {}
    for model in INCREMENTAL_PARTS:
        state[model] = rows(model)
        state[f"{model}__parts"] = rows(f"{model}__parts")
    return state


def _build_incremental_models(warehouse, work, *extra: str, downstream: bool = False) -> None:
    """``dbt build`` of the incremental models and their tests (so the tests' passes stay
    those of the latest rows, as assert_tests_read_the_periods_new_since_they_last_passed
    expects); ``downstream``: everything built from them too (a full refresh of a table on
    PostgreSQL drops the views that read it, and dbt builds them again)."""
    selected = "config.materialized:incremental" + ("+" if downstream else "")
    run_dbt(
        ["build", "--select", selected, *extra],
        warehouse.url,
        target_path=work / "target",
        log_path=work / "logs",
    )


def assert_parts_kept_beside_the_tables(warehouse, work) -> None:
    """macros/incremental_inputs.sql, after the correction's build: every incremental table
    has its table of parts, one row per part; the correction recomputed exactly the parts it
    changed; a build with nothing new writes nothing, except to a table whose parts table is
    gone, which it rebuilds whole; a full refresh gives the same rows and parts as the
    increments."""
    (latest,) = warehouse.query(
        "select max(built_at) as built_at from intermediate.int_households_paid__parts"
    )
    for model, keys in INCREMENTAL_PARTS.items():
        parts = warehouse.query(f"select * from intermediate.{model}__parts")
        assert parts, model
        assert len({tuple(p[k] for k in keys) for p in parts}) == len(parts), model
        assert all(p["inputs_fingerprint"] for p in parts), model
    paid = warehouse.query(
        "select period, district_code, built_at from intermediate.int_households_paid__parts"
    )
    recomputed = [p for p in paid if p["built_at"] == latest["built_at"]]
    # the corrected roster's part, and December's, whose snapshot in effect is the new one
    # of November (dbt_fixtures.CORRECTION_VERSIONS); January has a snapshot of its own
    assert sorted((p["period"], p["district_code"]) for p in recomputed) == [
        (P1, "3507"),
        (P2, "3507"),
    ]
    before = _incremental_state(warehouse)

    # one build with nothing new, after one table's parts were dropped: that table is rebuilt
    # whole with the same rows, every other one is left as it was (no row written)
    warehouse.execute_many([("drop table intermediate.int_households_paid__parts", [])])
    _build_incremental_models(warehouse, work / "parts-gone")
    assert _incremental_state(warehouse) == before
    for model in INCREMENTAL_PARTS.keys() - {"int_households_paid"}:
        (after,) = warehouse.query(f"select max(built_at) as built_at from intermediate.{model}")
        assert after["built_at"] is None or after["built_at"] <= latest["built_at"], model
    (rebuilt,) = warehouse.query(
        "select count(*) as n, min(built_at) as first from intermediate.int_households_paid"
    )
    assert rebuilt["n"] > 0 and rebuilt["first"] > latest["built_at"]

    _build_incremental_models(warehouse, work / "full-refresh", "--full-refresh", downstream=True)
    assert _incremental_state(warehouse) == before


def assert_one_session_per_thread(marts: Marts) -> None:
    """dbt kept each thread's session for its next node (sinergi.dbt_connections) instead of
    opening one per node: a build of ~280 nodes opens its 2 threads' sessions and one for the
    hooks, and the count's own query one more."""
    opened = marts.sessions_opened
    assert len(marts.outcome.nodes) > 100
    assert 1 <= opened <= 6, f"{opened} sessions for {len(marts.outcome.nodes)} nodes"


def test_marts_from_hand_made_fixtures(engine, tmp_path):
    reports = tmp_path / "reports"
    with scratch_warehouse(engine, tmp_path) as warehouse:
        load_story(warehouse)
        marts = build(warehouse, tmp_path / "first")
        if engine == "postgres":
            assert_one_session_per_thread(marts)
        failures = run_checks(marts)
        # the bulletins of November (its pair of districts paying PDUP), December and
        # January as the managers would get them
        november = _bulletin(warehouse, reports, P1)
        bulletin_matches_marts(november, marts.tables, P1)
        page = november.read_text(encoding="utf-8")
        assert "<td>PKH</td><td>3507 Kabupaten Malang</td><td>3578 Kota Surabaya</td>" in page
        assert "<td>Rp 750.000</td><td>Rp 600.000</td>" in page
        _bulletin(warehouse, reports, P2)
        bulletin_matches_marts(_bulletin(warehouse, reports, P3), marts.tables, P3)
        load_correction(warehouse)
        corrected = build(warehouse, tmp_path / "correction")
        failures += run_checks(corrected, prefix="after_correction_")
        # January's bulletin made again lists what the correction changed in December's
        index = _bulletin(warehouse, reports, P3)
        if engine == "postgres":
            assert_block_range_indexes_summarised(warehouse)
        assert_parts_kept_beside_the_tables(warehouse, tmp_path / "parts")
        assert_source_check_reads_the_periods_with_new_sources(warehouse, tmp_path / "sources")
        assert_tests_read_the_periods_new_since_they_last_passed(warehouse, tmp_path / "scope")
    assert not failures, "\n".join(failures)
    bulletin_matches_marts(index, corrected.tables, P3)
    html = index.read_text(encoding="utf-8")
    before, after = (reach_labels(m.tables["fct_household_reach"], P2) for m in (marts, corrected))
    changed = sorted(d for d in before if before[d] != after[d])
    assert changed == ["3507"]  # the corrected district, and only it
    assert "buletin Desember 2025 berubah" in html
    assert "3507 Kabupaten Malang" in html[html.index('id="perubahan"') :]
    january = reach_labels(corrected.tables["fct_household_reach"], P3)
    render_in_chromium(
        index, ["Buletin Sinergi", "3507 Kab. Malang", *filter(None, january.values())]
    )


def test_failing_build_raises_a_readable_error(engine, tmp_path):
    """A warehouse without the raw/audit schemas: dbt fails, the error names the nodes."""
    with (
        scratch_warehouse(engine, tmp_path) as bare,
        pytest.raises(DbtRunError) as info,
    ):
        run_dbt(
            ["build", "--select", "stg_audit__processed_periods"],
            bare.url,
            target_path=tmp_path / "target",
            log_path=tmp_path / "logs",
        )
    message = str(info.value)
    assert message.startswith("dbt build failed")
    assert "model.sinergi.stg_audit__processed_periods [error]" in message
    assert "Traceback" not in message
    assert info.value.outcome.success is False
