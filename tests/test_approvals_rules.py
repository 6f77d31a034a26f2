"""sinergi.approvals: what an approval locks, and what the command refuses (issue 17)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sinergi import approvals
from sinergi.approvals import ApprovalError
from sinergi.cli import main
from sinergi.periods import Period
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.schema import APPROVALS, FILE_VERSIONS

P = Period(2025, 3)


def _version(dataset: str, version: int, status: str) -> dict:
    at = datetime(2025, 4, 2, tzinfo=UTC)
    return {
        "period": P.first_day, "district_code": "3507", "dataset": dataset, "version": version,
        "file_name": f"{dataset}.csv", "sha256": f"{dataset}{version}".ljust(64, "0"),
        "size_bytes": 10, "received_at": at, "deadline_at": at, "status": status,
        "rejection_reason": None, "rejection_detail": None, "rows_total": 1,
        "rows_accepted": 1, "rows_rejected": 0, "archive_path": "x", "judged_at": at,
        "rejection_params": None,
    }  # fmt: skip


@pytest.fixture
def wh(tmp_path):
    warehouse = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    warehouse.ensure_schema()
    rows = [
        _version("penerima_bantuan", 1, "ACCEPTED"),
        _version("penerima_bantuan", 2, "PARTIAL"),
        _version("penerima_bantuan", 3, "REJECTED"),
        _version("psks", 1, "ACCEPTED"),
    ]
    columns = FILE_VERSIONS.column_names
    with warehouse.transaction() as conn:
        for row in rows:
            warehouse.execute(
                conn,
                f"insert into {FILE_VERSIONS.qualified} ({', '.join(columns)}) "
                f"values ({', '.join(['%s'] * len(columns))})",
                [row[c] for c in columns],
            )
    return warehouse


def test_approving_a_district_locks_the_served_version_of_each_dataset(wh):
    locked = approvals.approve(wh, P, "3507", None, "dicek", "kabid", "cli")
    # the greatest ACCEPTED / PARTIAL version; a dataset with nothing served locks nothing
    assert locked == {"ppks": None, "psks": 1, "penerima_bantuan": 2, "dtks": None}
    held = approvals.standing(wh, P, "3507")
    assert held["penerima_bantuan"].approved_version == 2
    assert held["psks"].approved_by == "kabid" and held["psks"].note == "dicek"
    with wh.connect() as conn:
        rows = wh.execute(conn, f"select distinct event_id, scope from {APPROVALS.qualified}")
    assert len(rows) == 1 and rows[0][1] == "district"  # one event, one row per dataset


def test_unapproving_is_a_new_event_and_releases_the_hold(wh):
    approvals.approve(wh, P, "3507", "psks", "dicek", "kabid", "cli")
    assert approvals.unapprove(wh, P, "3507", None, "dibuka", "kabid", "cli") == ["psks"]
    assert approvals.standing(wh, P, "3507") == {}
    with wh.connect() as conn:
        actions = wh.execute(conn, f"select action from {APPROVALS.qualified} order by event_at")
    assert [a for (a,) in actions] == ["approve", "unapprove"]  # nothing updated or deleted
    approvals.approve(wh, P, "3507", "psks", "lagi", "kabid", "cli")  # approvable again
    assert set(approvals.standing(wh, P, "3507")) == {"psks"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda wh: approvals.approve(wh, P, "9999", None, "x", "a", "cli"), "unknown district"),
        (lambda wh: approvals.approve(wh, P, "3578", None, "x", "a", "cli"), "nothing is served"),
        (lambda wh: approvals.approve(wh, P, "3507", "dtks", "x", "a", "cli"), "nothing is served"),
        (lambda wh: approvals.approve(wh, P, "3507", "foo", "x", "a", "cli"), "unknown dataset"),
        (lambda wh: approvals.approve(wh, P, "3507", None, " ", "a", "cli"), "needs a note"),
        (lambda wh: approvals.unapprove(wh, P, "3507", None, "x", "a", "cli"), "is not approved"),
    ],
)
def test_what_cannot_be_recorded_is_refused_with_a_reason(wh, call, message):
    with pytest.raises(ApprovalError, match=message):
        call(wh)
    with wh.connect() as conn:
        assert wh.execute(conn, f"select count(*) from {APPROVALS.qualified}") == [(0,)]


def test_a_double_approval_is_refused_whole_district_or_one_dataset(wh):
    approvals.approve(wh, P, "3507", "penerima_bantuan", "dicek", "kabid", "cli")
    with pytest.raises(ApprovalError, match="already approved .* by kabid"):
        approvals.approve(wh, P, "3507", None, "semua", "kabid", "cli")
    with pytest.raises(ApprovalError, match="already approved"):
        approvals.approve(wh, P, "3507", "penerima_bantuan", "lagi", "kabid", "cli")


def test_the_command_line_says_what_it_locked_and_refuses_in_one_line(wh, capsys):
    url = f"duckdb:///{wh.location.path}"
    base = ["--period", "2025-03", "--district", "3507", "--warehouse", url]
    assert main(["approve", *base, "--note", "dicek", "--by", "kabid"]) == 0
    out = capsys.readouterr().out
    assert "approved 3507 2025-03 by kabid" in out and "penerima_bantuan v2" in out
    assert main(["approve", *base, "--note", "lagi"]) == 2
    assert "already approved" in capsys.readouterr().err
    assert main(["unapprove", *base, "--note", "dibuka"]) == 0
    assert "released ppks, psks, penerima_bantuan, dtks" in capsys.readouterr().out


def test_the_trigger_form_records_the_airflow_user(wh, monkeypatch):
    monkeypatch.setenv("SINERGI_WAREHOUSE", f"duckdb:///{wh.location.path}")
    form = {"period": "2025-03", "district": "3507", "dataset": "ALL", "action": "approve",
            "note": "dicek di UI"}  # fmt: skip
    result = approvals.from_form(form, "siti")
    assert result["locked"]["penerima_bantuan"] == 2 and result["by"] == "siti"
    assert approvals.standing(wh, P, "3507")["psks"].approved_by == "siti"
    with pytest.raises(ApprovalError, match="action must be"):
        approvals.from_form(form | {"action": "delete"}, "siti")


def test_the_feedback_says_in_indonesian_that_a_version_is_held_and_which_stays_served():
    from sinergi.approvals import Standing
    from sinergi.feedback import FileFacts, district_lines

    held = Standing("penerima_bantuan", 1, datetime(2025, 3, 15, 2, 0, tzinfo=UTC), "kabid", "x")
    file = FileFacts(
        "penerima_bantuan", 2, "penerima_bantuan.csv", "ACCEPTED", None, None, 36, 36, 0, held
    )
    lines, summary = district_lines("3507", "2025-01", [file], [], [], False)
    (line,) = [line for line in lines if line[2] == "DITAHAN"]
    assert line[:2] == ["penerima_bantuan.csv", 2] and line[-1] == "held_by_approval"
    assert "15-03-2025 09:00 WIB, oleh kabid" in line[6]  # WIB, as the operator reads time
    assert "versi 1 tetap dipakai" in line[6] and "hubungi Dinas Sosial Provinsi" in line[7]
    assert any(row[1] == "DITAHAN" for row in summary)
    unheld = FileFacts("penerima_bantuan", 2, "penerima_bantuan.csv", "ACCEPTED", *[None] * 2,
                       36, 36, 0)  # fmt: skip
    lines, _ = district_lines("3507", "2025-01", [unheld], [], [], False)
    assert not [line for line in lines if line[2] == "DITAHAN"]
