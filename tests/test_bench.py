"""Smoke test of the benchmark harness (``python -m bench.run``): tiny, one repeat, DuckDB.

Checks the plumbing only (child processes, rusage, JSON, markdown), never timings: one
district of a tiny generated month goes through read, validate, load and dbt, plus the bare
``psql \\copy`` baseline when PostgreSQL and psql are there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # runs dbt against a DuckDB warehouse (~30 s)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    env = dict(os.environ)
    env.update(
        {
            "BENCH_SCALES": "0.002",
            "BENCH_REPEATS": "1",
            "BENCH_REPEATS_BIG": "1",
            "BENCH_ENGINES": "duckdb",
            "BENCH_DISTRICTS": "1",
            "BENCH_PARTS": "scales,baseline",
            "BENCH_RESULTS_DIR": str(root / "results"),
            "BENCH_WORK_DIR": str(root / "work"),
            "BENCH_BYTECODE_CACHE": "0",  # no cold cache to fill: the caller's setting
        }
    )
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    results = root / "results"
    jsons = sorted(results.glob("*.json"))
    assert jsons, f"no results written\n{completed.stdout}\n{completed.stderr}"
    data = json.loads(jsons[-1].read_text(encoding="utf-8"))
    return completed, data, results, root


def test_bench_runs_without_errors(bench_run):
    completed, data, _, _ = bench_run
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert data["errors"] == []


def test_every_stage_measured_with_positive_times(bench_run):
    _, data, _, _ = bench_run
    stages = {(s["stage"], s.get("engine")) for s in data["stages"]}
    for expected in [("read", None), ("validate", None), ("load", "duckdb"), ("dbt", "duckdb")]:
        assert expected in stages
    for row in data["stages"]:
        assert row["wall_median"] > 0, row
        assert row["max_rss_mb"] > 0, row
        assert row["n"] == 1
    validate = next(s for s in data["stages"] if s["stage"] == "validate")
    assert validate["rows"] > 0
    assert validate["breakdown"]["gx"] > 0
    for run in data["runs"]:
        # the PostgreSQL loader probe may fail: that is a finding about the pipeline
        assert run["ok"] or run["stage"] == "pg_multipart_probe", run
        assert run["wall_seconds"] > 0
    assert data["meta"]["git"]["sha"]
    assert data["meta"]["machine"]["cores"] >= 1


def test_baseline_measured_when_psql_is_there(bench_run):
    _, data, _, _ = bench_run
    copies = [s for s in data["stages"] if s["stage"] == "bare copy (psql)"]
    baseline_on = data["meta"]["config"]["baseline"]
    if shutil.which("psql") is None:
        assert not baseline_on  # skipped, not failed, without psql
    if not baseline_on:
        assert copies == []
        assert data["meta"]["config"]["baseline_skip_reason"]
        return
    assert len(copies) == 1 and copies[0]["wall_median"] > 0
    comparison = data["comparison"][0]
    assert comparison["engine"] == "duckdb"
    assert comparison["pipeline_over_baseline"] > 0


def test_markdown_renders(bench_run):
    _, data, results, root = bench_run
    stem = sorted(results.glob("*.json"))[-1].stem
    assert stem.endswith("-" + data["meta"]["git"]["sha"])
    markdown = (results / f"{stem}.md").read_text(encoding="utf-8")
    assert markdown == (results / "latest.md").read_text(encoding="utf-8")
    assert "## Targets" in markdown and "## Stages per scale" in markdown
    for target in ("bare copy", "fixed cost", "end to end", "peak memory", "month N"):
        assert target in markdown
    table_lines = [line for line in markdown.splitlines() if line.startswith("| 0.002 | validate")]
    assert len(table_lines) == 1
    assert not any(root.joinpath("work").iterdir()), "work folder not cleaned up"


def test_month_stages_take_the_jobs_from_the_periods_plan(monkeypatch):
    """``prepare_period`` returns the run's plan ({period, jobs, loads}); the history stages
    (``month``, and ``prepare``) must take its jobs, not iterate the dict's keys (the bench's
    history part failed so from the third session to the fifth)."""
    import bench.stages as stages
    import sinergi.pipeline

    plan = {"period": "2025-03", "jobs": [{"district_code": "3501"}], "loads": []}
    processed = []
    monkeypatch.setattr(stages, "_settings", lambda: None)
    monkeypatch.setattr(sinergi.pipeline, "prepare_period", lambda period, settings: plan)
    monkeypatch.setattr(
        sinergi.pipeline,
        "process_district",
        lambda period, code, settings: processed.append(code) or {"files": [{"rows_total": 3}]},
    )
    monkeypatch.setattr(
        sinergi.pipeline, "build_marts", lambda jobs, s: {"success": jobs == plan["jobs"]}
    )
    assert stages.STAGES["prepare"]({"period": "2025-03"}) == {"districts": 1}
    assert stages.STAGES["month"]({"period": "2025-03"})["rows"] == 3
    assert processed == ["3501"]
