"""Turning the bench's raw measurements into medians, slopes, targets and a markdown report."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterable

GB = 1024.0  # MB per GB

TARGETS = {
    "marginal": "marginal cost per row <= 4x bare copy",
    "fixed": "fixed cost of a monthly run <= 60 s",
    "e2e": "province month end to end <= 3 min on 2 cores",
    "memory": "peak memory of any task <= 1.5 GB",
    "history": "month N <= 1.2x month 1",
}


def median(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def least_squares(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """(slope, intercept) of y = slope * x + intercept; None without two distinct x."""
    points = [(x, y) for x, y in points if x is not None and y is not None]
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(value, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}{suffix}"
    if isinstance(value, float):
        if abs(value) >= 100_000:
            return f"{value:,.0f}{suffix}"
        return f"{value:,.{digits}f}{suffix}"
    return f"{value}{suffix}"


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _workarounds(names) -> str:
    return f", with bench work-arounds: {', '.join(names)}" if names else ""


def table(headers: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c) for c in row) + " |")
    return out


def _header(data: dict) -> list[str]:
    """Title and the run's conditions: machine, git, scales, repeats, versions."""
    meta = data["meta"]
    machine = meta["machine"]
    config = meta["config"]
    if config["baseline"]:
        copy_label = meta.get("psql_version", "psql")
    else:
        copy_label = f"skipped ({config.get('baseline_skip_reason', '')})"
    if config.get("bytecode_cache"):
        bytecode = "children use a bytecode cache (PYTHONPYCACHEPREFIX under bench/work), as an "
        bytecode += "image with compiled packages would"
        if config.get("caller_pythondontwritebytecode"):
            bytecode += "; the calling shell had PYTHONDONTWRITEBYTECODE set"
    else:
        bytecode = "caller's setting kept"
        if config.get("caller_pythondontwritebytecode"):
            bytecode += " (PYTHONDONTWRITEBYTECODE: every process compiles its imports)"
    dirty = " (working tree has uncommitted changes)" if meta["git"]["dirty"] else ""
    lines = [
        f"# Sinergi bench — {meta['started_at']} — {meta['git']['sha']}",
        "",
        f"- Machine: {machine['cores']} cores ({machine.get('cpu_model') or '?'}), "
        f"{machine['ram_gb']:.1f} GB RAM; load average at start {machine['load_start']}, "
        f"at end {machine.get('load_end')}, highest seen {machine.get('load_max')} "
        "(the machine is shared: treat absolute times as noisy, compare ratios)",
        f"- Git: `{meta['git']['sha']}`{dirty}, branch `{meta['git'].get('branch')}`",
        f"- Scales: {', '.join(str(s) for s in config['scales'])} (1 = province month, ~2M "
        f"roster + ~2M register rows); districts: {config['districts_label']}; "
        f"period {config['period']}",
        f"- Repeats: {config['repeats']} for cheap stages (read, load, bare copy, roster), "
        f"{config['repeats_big']} for big ones (validate, dbt, DAG runs, history months); "
        "times are medians of the repeats",
        f"- Engines: {', '.join(config['engines']) or 'none'}; bare copy: {copy_label}",
        f"- Python bytecode: {bytecode}",
        f"- Versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}",
        f"- Command: `{meta['command']}`",
        f"- Total bench wall time: {fmt(meta.get('total_seconds'), 0)} s",
        "",
    ]
    return lines


def _pipeline_broke(data: dict) -> list[str]:
    """A warning line on top when the pipeline broke during the run."""
    lines: list[str] = []
    if data.get("findings"):
        lines += [
            '**The pipeline broke during this run: see "Problems found in the pipeline" below.**',
            "",
        ]
    return lines


def _targets(data: dict) -> list[str]:
    """The issue's targets and what this run measured for each."""
    lines: list[str] = []
    lines += [
        "## Targets",
        "",
    ]
    rows = []
    for target in data.get("targets", []):
        rows.append([target["target"], target["measured"], target["status"], target.get("how", "")])
    lines += table(["target", "measured", "status", "how it was measured"], rows)
    return lines


def _stages(data: dict) -> list[str]:
    """Every stage per scale: wall, rows/s, peak memory, where the time went inside."""
    lines: list[str] = []
    stages = data.get("stages", [])
    if not stages:
        return lines
    lines += [
        "",
        "## Stages per scale",
        "",
        "Each stage ran in its own child process; wall = the process's wall time (start-up "
        "included), median of n runs; rows/s = rows of the month's files / wall; peak RSS = "
        "`ru_maxrss` of that process from `os.wait4` (largest of the runs). `validate` is "
        "the receive and judge stages for every district (`arrivals.receive`, "
        "`judgement.judge_version`: archive, read, judge, write the judged-version folders) "
        "plus the Data Docs results; `load` hands those folders to "
        "`loader.load_judged_version`. Inside validate, timers around `open_table` + "
        "`chunks` (read), `SuiteRunner` set-up and `validate` (gx), `save_results` "
        "(datadocs) and `archive_file`; other = rules preparation, pseudonymising, "
        "duplicates keys, Parquet spill, imports. The bare copy's peak RSS is psql's own "
        "(the server backend does the parsing). * = measured with a bench work-around "
        'for a pipeline bug (see "Problems found in the pipeline").',
        "",
    ]
    rows = []
    for s in stages:
        breakdown = s.get("breakdown") or {}
        extra = ""
        if breakdown:
            extra = ", ".join(f"{k} {fmt(v, 1)} s" for k, v in breakdown.items())
        rows.append(
            [
                s["scale"],
                s["stage"],
                (s.get("engine") or "") + (" *" if s.get("workarounds") else ""),
                fmt(s.get("rows")),
                fmt(s.get("wall_median"), 2),
                s.get("n"),
                fmt(s.get("rows_per_s"), 0),
                fmt(s.get("max_rss_mb"), 0),
                fmt(s.get("cpu_median"), 1),
                extra,
            ]
        )
    lines += table(
        [
            "scale",
            "stage",
            "engine",
            "rows",
            "wall s (median)",
            "n",
            "rows/s",
            "peak RSS MB",
            "CPU s",
            "inside the stage (median run)",
        ],
        rows,
    )
    return lines


def _comparison(data: dict) -> list[str]:
    """Pipeline and load time as ratios to the bare `psql \\copy` of the same files."""
    lines: list[str] = []
    comparison = data.get("comparison", [])
    if comparison:
        lines += [
            "",
            "## Pipeline vs bare `psql \\copy`",
            "",
            "pipeline = validate + load + dbt (medians) on that engine; bare copy = one psql "
            "process copying every CSV file psql accepts into unindexed text tables.",
            "",
        ]
        rows = []
        for c in comparison:
            rows.append(
                [
                    c["scale"],
                    c["engine"],
                    fmt(c.get("rows")),
                    fmt(c.get("pipeline_seconds"), 1),
                    fmt(c.get("load_seconds"), 1),
                    fmt(c.get("baseline_seconds"), 2),
                    fmt(c.get("baseline_rows")),
                    fmt_ratio(c.get("pipeline_over_baseline")),
                    fmt_ratio(c.get("load_over_baseline")),
                    c.get("baseline_files", ""),
                ]
            )
        lines += table(
            [
                "scale",
                "engine",
                "rows",
                "pipeline s",
                "load s",
                "bare copy s",
                "rows copied",
                "pipeline / copy",
                "load / copy",
                "copy files: copied / xlsx skipped / psql rejected",
            ],
            rows,
        )
    return lines


def _fixed_marginal(data: dict) -> list[str]:
    """Least-squares fixed and marginal cost, and the real DAG on the tiny / largest month."""
    lines: list[str] = []
    fm = data.get("fixed_marginal")
    if fm:
        lines += [
            "",
            "## Fixed and marginal cost",
            "",
            "Marginal = least-squares slope of time vs rows over the scales (s per million "
            "rows); intercept = the fitted time at zero rows. Fixed cost = the real DAG "
            "(`sinergi.cli.run_period`, `dag.test`, cosmos task per dbt node) in a child "
            f"process on a tiny month (scale {fm.get('fixed_scale')}, every district and file "
            "still present).",
            "",
        ]
        rows = []
        for item in fm.get("fits", []):
            rows.append(
                [
                    item["what"],
                    fmt(item.get("slope_s_per_mrows"), 2),
                    fmt(item.get("intercept_s"), 1),
                    fmt_ratio(item.get("slope_over_copy")),
                    item.get("points", ""),
                ]
            )
        lines += table(
            ["series", "marginal s / M rows", "intercept s", "marginal / copy marginal", "points"],
            rows,
        )
        if fm.get("dag_fixed_seconds") is not None:
            lines += [
                "",
                f"Real DAG on the tiny month: {fmt(fm['dag_fixed_seconds'], 1)} s wall (median of "
                f"{fm.get('dag_fixed_n')}; {fm.get('dag_fixed_rows')} rows; "
                f"{fm.get('dag_fixed_engine')}{_workarounds(fm.get('dag_fixed_workarounds'))}), "
                f"peak RSS {fmt(fm.get('dag_fixed_rss_mb'), 0)} MB.",
            ]
        if fm.get("e2e_seconds") is not None:
            lines += [
                f"Real DAG on the scale-{fm.get('e2e_scale')} month: "
                f"{fmt(fm['e2e_seconds'], 1)} s wall ({fm.get('e2e_engine')}"
                f"{_workarounds(fm.get('e2e_workarounds'))}), peak RSS "
                f"{fmt(fm.get('e2e_rss_mb'), 0)} MB.",
            ]
    return lines


def _dag_breakdowns(data: dict) -> list[str]:
    """Where the real DAG's time went, per task group, from its log lines."""
    lines: list[str] = []
    fm = data.get("fixed_marginal")
    for key, title in (("dag_fixed_breakdown", "tiny month"), ("e2e_breakdown", "largest month")):
        breakdown = (fm or {}).get(key)
        if not breakdown:
            continue
        lines += [
            "",
            f"Where the real DAG's time went ({title}; from the `[DAG TEST]` log lines of the "
            f"first run; {fmt(breakdown['logged_span_seconds'], 1)} s logged, the rest of the "
            "process wall time is interpreter start-up and imports before the first log line):",
            "",
        ]
        rows = [
            [group, item["tasks"], fmt(item["seconds"], 1)]
            for group, item in sorted(
                breakdown["groups"].items(), key=lambda kv: kv[1]["seconds"], reverse=True
            )
        ]
        rows.append(
            [
                "between tasks (DAG parse, scheduling in dag.test)",
                "",
                fmt(breakdown["between_tasks_seconds"], 1),
            ]
        )
        lines += table(["task group", "tasks", "seconds"], rows)
    return lines


def _history(data: dict) -> list[str]:
    """Month N against month 1 with N-1 months already in the warehouse."""
    lines: list[str] = []
    config = data["meta"]["config"]
    history = data.get("history")
    if history:
        lines += [
            "",
            "## Growth with history",
            "",
            f"{history['months']} consecutive months at scale {history['scale']} on "
            f"{history['engine']}, loaded with the plain functions; month N = prepare + the "
            f"districts ({config['districts_label']}) + dbt build, sequential, in a child process, "
            "with N-1 months already "
            "in the warehouse (median of the repeats, each on a copy of the warehouse as it "
            "was before month N). * = measured with a bench work-around for a pipeline bug.",
            "",
        ]
        rows = []
        for m in history.get("timed", []):
            rows.append(
                [
                    f"{m['month']}{' *' if m.get('workarounds') else ''}",
                    m["period"],
                    fmt(m.get("process_seconds"), 1),
                    fmt(m.get("dbt_seconds"), 1),
                    fmt(m.get("total_seconds"), 1),
                    m.get("n"),
                    fmt_ratio(m.get("ratio_total")),
                    fmt_ratio(m.get("ratio_process")),
                    fmt_ratio(m.get("ratio_dbt")),
                    fmt(m.get("max_rss_mb"), 0),
                ]
            )
        lines += table(
            [
                "month",
                "period",
                "process s",
                "dbt s",
                "total s",
                "n",
                "total / month 1",
                "process / month 1",
                "dbt / month 1",
                "peak RSS MB",
            ],
            rows,
        )
    return lines


def _roster(data: dict) -> list[str]:
    """The one big roster file, stage by stage."""
    lines: list[str] = []
    roster = data.get("roster")
    if roster:
        lines += [
            "",
            f"## {roster['rows']:,}-row roster file (`penerima_bantuan`, all rows valid)",
            "",
        ]
        rows = []
        for item in roster.get("items", []):
            rows.append(
                [
                    item["what"] + (" *" if item.get("workarounds") else ""),
                    fmt(item.get("wall_median"), 2),
                    item.get("n"),
                    fmt(item.get("rows_per_s"), 0),
                    fmt(item.get("max_rss_mb"), 0),
                    item.get("note", ""),
                ]
            )
        lines += table(
            ["measurement", "wall s (median)", "n", "rows/s", "peak RSS MB", "note"], rows
        )
        if any(item.get("workarounds") for item in roster.get("items", [])):
            lines += [
                "",
                "\\* measured with the bench's loader work-around: the file spills in several "
                "200,000-row parts, which the pipeline's PostgreSQL loader cannot load as it is.",
            ]
    return lines


def _gx_batching(data: dict) -> list[str]:
    """Great Expectations per file vs batched over the districts (issue #14 item 3)."""
    runs = [r for r in data.get("runs", []) if r.get("stage") == "gx_batching" and r.get("ok")]
    if not runs:
        return []
    lines = [
        "",
        "## Great Expectations: one validation per file vs one per dataset",
        "",
        "Tiny month (fixed-cost inbox), all districts; the same prepared rows validated "
        "file by file (the pipeline today) and concatenated into one frame per dataset "
        "(cost only: the batched verdicts use one district's parameters). Medians of "
        f"{len(runs)} run(s).",
        "",
    ]
    rows = []
    datasets = sorted({d for r in runs for d in r["result"].get("datasets", {})})
    for dataset in datasets:
        found = [
            r["result"]["datasets"][dataset] for r in runs if dataset in r["result"]["datasets"]
        ]
        per_file = median(f["per_file_s"] for f in found)
        batched = median(f["batched_s"] for f in found)
        files = found[0]["files"]
        rows.append(
            [
                dataset,
                files,
                found[0]["rows"],
                fmt(per_file, 2),
                fmt(per_file / files if per_file is not None else None, 3),
                fmt(batched, 2),
                fmt_ratio(ratio(per_file, batched)),
            ]
        )
    return lines + table(
        [
            "dataset",
            "files",
            "rows",
            "per file: total s",
            "s per file",
            "batched s",
            "per file / batched",
        ],
        rows,
    )


def _hostile(data: dict) -> list[str]:
    """Hostile inputs, rendered by `bench.hostile`."""
    lines: list[str] = []
    hostile = data.get("hostile")
    if hostile:
        from bench.hostile import render

        lines += [
            "",
            "## Hostile inputs (one district task each, `bench/hostile.py`)",
            "",
            render(hostile),
        ]
    return lines


def _profile(data: dict) -> list[str]:
    """cProfile hotspots per profiled stage."""
    lines: list[str] = []
    profile = data.get("profile")
    if profile:
        lines += ["", f"## Hotspots (cProfile at scale {profile['scale']})", ""]
        for name, summary in profile.get("stages", {}).items():
            if not summary:
                continue
            lines += [
                f"### {name} — {fmt(summary['profiled_seconds'], 1)} s profiled",
                "",
                "Top functions by self time (share of the profiled time):",
                "",
            ]
            rows = [
                [
                    i + 1,
                    f"`{r['function']}`",
                    fmt(r["self_seconds"], 1),
                    f"{r['self_share']:.1%}",
                    fmt(r["calls"]),
                    f"`{r['main_caller']}`" if r.get("main_caller") else "",
                ]
                for i, r in enumerate(summary["top_self"][:8])
            ]
            lines += table(["#", "function", "self s", "share", "calls", "main caller"], rows)
            lines += [
                "",
                "Project functions by cumulative time (nested: a caller includes its callees):",
                "",
            ]
            rows = [
                [
                    f"`{r['function']}`",
                    fmt(r["cumulative_seconds"], 1),
                    f"{r['cumulative_share']:.1%}",
                    fmt(r["calls"]),
                ]
                for r in summary["top_project_cumulative"][:12]
            ]
            lines += table(["function", "cumulative s", "share", "calls"], rows)
            lines += ["", "Self time by package:", ""]
            rows = [
                [k, fmt(v["seconds"], 1), f"{v['share']:.1%}"]
                for k, v in summary["self_by_package"].items()
            ]
            lines += table(["package", "self s", "share"], rows)
            lines.append("")
    return lines


def _problems_and_errors(data: dict) -> list[str]:
    """Pipeline problems the bench found, and its own errors."""
    lines: list[str] = []
    findings = data.get("findings", [])
    if findings:
        lines += ["", "## Problems found in the pipeline", ""]
        lines += [f"- {f}" for f in findings]
    errors = data.get("errors", [])
    lines += ["", "## Errors", ""]
    if errors:
        for e in errors:
            lines.append(f"- {e}")
    else:
        lines.append("None.")
    return lines


SECTIONS = (
    _header,
    _pipeline_broke,
    _targets,
    _stages,
    _comparison,
    _fixed_marginal,
    _dag_breakdowns,
    _history,
    _roster,
    _gx_batching,
    _hostile,
    _profile,
    _problems_and_errors,
)


def render_markdown(data: dict) -> str:
    """The whole report: each section renders itself from the results, in this order."""
    lines: list[str] = []
    for section in SECTIONS:
        lines += section(data)
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """``python -m bench.report RESULTS.json``: print the markdown of a results file again."""
    import json
    from pathlib import Path

    if len(argv) != 1:
        print("usage: python -m bench.report RESULTS.json", file=sys.stderr)
        return 2
    print(render_markdown(json.loads(Path(argv[0]).read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
