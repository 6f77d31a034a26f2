"""Turning the bench's raw measurements into medians, slopes, targets and a markdown report."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterable

GB = 1024.0  # MB per GB

#: Issue #14's table ("Done when: `make bench` from a fresh clone meets every target in the
#: table"), in its order: key -> (measure, target as the issue writes it, limit in seconds,
#: times or MB).
TARGETS: dict[str, tuple[str, str, float]] = {
    "e2e": (
        "province month end to end through `sinergi run` (the real DAG, scale 1)",
        "<= 120 s",
        120.0,
    ),
    "rerun": ("the same month re-run with nothing changed", "<= 15 s", 15.0),
    "fixed": (
        "fixed cost: a tiny month (all 38 districts, few rows; bench's `fixed` part, scale 0.0005)",
        "<= 45 s",
        45.0,
    ),
    "copy_ratio": ("pipeline / bare `psql \\copy` of the same files, same run", "<= 10x", 10.0),
    "marginal": (
        "marginal cost per row / bare copy's (least-squares over 1/4, 1/2, 1x)",
        "<= 8x",
        8.0,
    ),
    "memory": ("peak memory of the process tree", "<= 1 GB", 1.0 * GB),
    "history": ("month 12 / month 1", "<= 1.1x (keep)", 1.1),
    "demo": ("`make demo` from a fresh clone (3 demo months)", "<= 4 min", 240.0),
    "demo_again": ("`make demo` again, nothing changed", "<= 30 s", 30.0),
    "ci": ("`.ci/run` from a fresh clone", "<= 8 min", 480.0),
}

#: Stages that run the real DAG: their process tree is `sinergi run`'s (or `sinergi demo`'s).
REAL_DAG_STAGES = ("dag", "dag_rerun", "demo")
#: The bench's own pipeline stage processes (no Airflow): memory shown for information.
BENCH_PIPELINE_STAGES = (
    "read",
    "validate",
    "validate_one_process",
    "load",
    "dbt",
    "judge_file",
    "month",
)


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


def _status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds:.0f} s ({seconds / 60:.1f} min)"


def _at_scale(value: float, limit: float, scale: float | None) -> tuple[bool | None, str]:
    """Judge a time or memory measured at ``scale``: over the limit is NOT met at any scale
    (the province month can only need more); under it proves something only at scale 1."""
    if value > limit:
        return False, ""
    if scale is None or scale >= 1:
        return True, ""
    return None, f" — scale {scale} is below a province month: under the limit is not judged"


def _peak_where(run: dict) -> str:
    """Where a run's PSS peaked: the tasks running then and each process's share."""
    members = run.get("tree_peak_pss_processes") or []
    tasks = run.get("tree_peak_tasks") or []
    if not members and not tasks:
        return ""
    during = f" during {', '.join(tasks)}" if tasks else ""
    shares = ", ".join(f"{name} {mb:.0f} MB" for name, mb in members)
    return f"; at the PSS peak{during}: {shares}" if shares else f"; the PSS peaked{during}"


def judge_targets(data: dict) -> list[dict]:
    """Issue #14's targets (:data:`TARGETS`, in order), each judged from what this run
    measured (``data``: the results being summarised), or "not measured" with why."""
    config = (data.get("meta") or {}).get("config") or {}
    engines = config.get("engines") or []
    primary = "postgres" if "postgres" in engines else "duckdb"
    parts = config.get("parts") or []
    scales = sorted(config.get("scales") or [])
    top = scales[-1] if scales else None
    fm = data.get("fixed_marginal") or {}
    runs = data.get("runs") or []
    out: list[dict] = []

    def add(key: str, measured: str, ok: bool | None, how: str) -> None:
        what, limit, _ = TARGETS[key]
        out.append(
            {
                "key": key,
                "target": what,
                "limit": limit,
                "measured": measured,
                "status": _status(ok),
                "how": how,
            }
        )

    def failed(part: str, stage: str) -> bool:
        return any(
            r.get("part") == part and r.get("stage") == stage and not r.get("ok") for r in runs
        )

    def missing(part: str) -> str:
        return f"BENCH_PARTS without '{part}'" if part not in parts else "no successful run"

    # province month end to end, through `sinergi run`
    limit = TARGETS["e2e"][2]
    seconds = fm.get("e2e_seconds")
    stages_top = next(
        (
            c
            for c in data.get("comparison", [])
            if c["scale"] == top and c["engine"] == primary and c.get("pipeline_seconds")
        ),
        None,
    )
    if seconds is not None:
        ok, note = _at_scale(seconds, limit, fm.get("e2e_scale"))
        add(
            "e2e",
            _duration(seconds),
            ok,
            "the real DAG (`sinergi.cli.run_period`, what `sinergi run` runs: `dag.test`, tasks "
            f"one after another) at scale {fm.get('e2e_scale')}, {fm.get('e2e_engine')}"
            f"{_workarounds(fm.get('e2e_workarounds'))}{note}",
        )
    elif failed("e2e", "dag"):
        add("e2e", "DAG run failed (see Errors)", False, "the real DAG (`sinergi.cli.run_period`)")
    else:
        extra = (
            f"; for comparison, validate + load + dbt child processes (no Airflow) at scale "
            f"{top}, {primary}: {stages_top['pipeline_seconds']:.0f} s"
            if stages_top
            else ""
        )
        add("e2e", "not measured", None, missing("e2e") + extra)

    # the same month again, nothing changed
    limit = TARGETS["rerun"][2]
    seconds = fm.get("e2e_rerun_seconds")
    fixed_again = fm.get("dag_fixed_rerun_seconds")
    info = (
        f"; the tiny month (`fixed`) re-run: {fixed_again:.1f} s (information)"
        if fixed_again is not None
        else ""
    )
    if seconds is not None:
        ok, note = _at_scale(seconds, limit, fm.get("e2e_rerun_scale"))
        add(
            "rerun",
            _duration(seconds),
            ok,
            "the real DAG again right after the `e2e` run: same inbox, data dir, warehouse and "
            f"Airflow home, nothing new; scale {fm.get('e2e_rerun_scale')}, "
            f"{fm.get('e2e_rerun_engine')}{note}{info}",
        )
    elif failed("e2e", "dag_rerun"):
        add("rerun", "re-run failed (see Errors)", False, "the e2e DAG run again" + info)
    elif failed("e2e", "dag"):
        add("rerun", "not measured", None, "the first `e2e` DAG run failed" + info)
    else:
        add("rerun", "not measured", None, missing("e2e") + info)

    # fixed cost: the tiny month
    limit = TARGETS["fixed"][2]
    seconds = fm.get("dag_fixed_seconds")
    if seconds is not None:
        scale = fm.get("fixed_scale")
        add(
            "fixed",
            _duration(seconds),
            seconds <= limit,
            f"the real DAG (`sinergi.cli.run_period`) on a scale-{scale} month, "
            f"{fm.get('dag_fixed_engine')}{_workarounds(fm.get('dag_fixed_workarounds'))}, "
            f"median of {fm.get('dag_fixed_n')}"
            + ("" if scale == 0.0005 else " (the target's scale is 0.0005)"),
        )
    elif failed("fixed", "dag"):
        add(
            "fixed", "DAG run failed (see Errors)", False, "the real DAG (`sinergi.cli.run_period`)"
        )
    else:
        add("fixed", "not measured", None, missing("fixed"))

    # pipeline / bare copy at the largest scale
    limit = TARGETS["copy_ratio"][2]
    entry = next(
        (
            c
            for c in data.get("comparison", [])
            if c["scale"] == top
            and c.get("pipeline_over_baseline") is not None
            and c["engine"] == primary
        ),
        None,
    )
    if entry:
        value = entry["pipeline_over_baseline"]
        judged = top >= 1
        how = (
            f"validate + load + dbt child processes (medians, {entry['engine']}) vs one psql "
            f"\\copy of the same CSV files at scale {top}: {entry['pipeline_seconds']:.1f} s "
            f"vs {entry['baseline_seconds']:.2f} s"
        )
        if dag := (fm.get("e2e_seconds") if fm.get("e2e_scale") == top else None):
            how += f"; the real DAG at that scale / copy: {dag / entry['baseline_seconds']:.1f}×"
        if not judged:
            how += (
                f" — scale {top} is below a province month (the fixed cost weighs more): not judged"
            )
        add("copy_ratio", f"{value:.1f}×", (value <= limit) if judged else None, how)
    else:
        why = []
        if "scales" not in parts:
            why.append("BENCH_PARTS without 'scales'")
        if not config.get("baseline"):
            why.append(f"no bare copy ({config.get('baseline_skip_reason') or 'skipped'})")
        add("copy_ratio", "not measured", None, "; ".join(why) or "no pipeline at the top scale")

    # marginal cost per row / the bare copy's
    limit = TARGETS["marginal"][2]
    fit = next(
        (f for f in fm.get("fits", []) if f["what"].startswith(f"pipeline on {primary}")), None
    )
    scales_note = "" if scales == [0.25, 0.5, 1] else " (the target's scales are 0.25, 0.5, 1)"
    if fit and fit.get("slope_over_copy") is not None and fit["slope_s_per_mrows"] <= 0:
        add(
            "marginal",
            f"slope {fit['slope_s_per_mrows']:.1f} s per M rows",
            None,
            "not positive: the scales are too small for the noise; use larger BENCH_SCALES",
        )
    elif fit and fit.get("slope_over_copy") is not None:
        add(
            "marginal",
            f"{fit['slope_over_copy']:.1f}× ({fit['slope_s_per_mrows']:.1f} vs "
            f"{fit['slope_s_per_mrows'] / fit['slope_over_copy']:.1f} s per M rows)",
            fit["slope_over_copy"] <= limit,
            f"least-squares slopes over scales {', '.join(map(str, scales))}, {primary}"
            + scales_note,
        )
    else:
        add("marginal", "not measured", None, "needs 2+ scales and the bare copy" + scales_note)

    # peak memory of the process tree
    limit = TARGETS["memory"][2]
    interval = config.get("rss_interval", 0.2)
    real = [
        r
        for r in runs
        if r.get("ok") and r.get("stage") in REAL_DAG_STAGES and r.get("tree_peak_rss_mb")
    ]
    bench_stages = [
        r
        for r in runs
        if r.get("ok")
        and r.get("stage") in BENCH_PIPELINE_STAGES
        and r.get("part") != "profile"
        and r.get("tree_peak_rss_mb")
    ]
    info = ""
    if bench_stages:
        top_stage = max(bench_stages, key=lambda r: r["tree_peak_rss_mb"])
        info = (
            f"; the bench's own stage processes (no Airflow; validate judges in worker "
            f"processes as the judge task does): largest tree "
            f"{top_stage['tree_peak_rss_mb']:.0f} MB ({_run_name(top_stage)})"
        )
    if real:
        # PSS where the run measured it (what the tree occupies); older results: RSS
        by_pss = all(r.get("tree_peak_pss_mb") for r in real)
        key = "tree_peak_pss_mb" if by_pss else "tree_peak_rss_mb"
        worst = max(real, key=lambda r: r[key])
        largest = max((r.get("scale") or 0 for r in real if r["stage"] != "demo"), default=0)
        ok, note = _at_scale(worst[key], limit, largest)
        if note:
            note = f" — no DAG run at scale 1 (largest {largest}): under the limit is not judged"
        measure = (
            "the sum of PSS (each shared page divided among the processes sharing it: what the "
            f"tree occupies; the sum of RSS, which counts shared pages once per process, was "
            f"{worst['tree_peak_rss_mb'] / GB:.2f} GB)"
            if by_pss
            else "the sum of RSS (a page shared by several processes counts in each: an upper "
            "bound; PSS was not measured by this bench version)"
        )
        add(
            "memory",
            f"{worst[key] / GB:.2f} GB ({_run_name(worst)}, "
            f"{worst.get('tree_processes_at_peak')} processes)",
            ok,
            "largest peak of the process tree of a real-DAG run (`sinergi run` / `sinergi demo` "
            f"and every process it starts), sampled every {interval} s: {measure}; that run's "
            f"largest single process (ru_maxrss): {worst['max_rss_mb']:.0f} MB"
            + _peak_where(worst)
            + note
            + info,
        )
    else:
        add("memory", "not measured", None, "no real-DAG run (parts fixed, e2e, demo)" + info)

    # month 12 / month 1
    limit = TARGETS["history"][2]
    history = data.get("history")
    if history and len(history.get("timed", [])) > 1:
        later = [m for m in history["timed"][1:] if m.get("ratio_total") is not None]
        last = max(later, key=lambda m: m["ratio_total"]) if later else None
        if last:
            add(
                "history",
                f"{last['ratio_total']:.2f}× (month {last['month']} / month 1; "
                + ", ".join(f"month {m['month']} {m['ratio_total']:.2f}×" for m in later)
                + ")",
                last["ratio_total"] <= limit,
                f"prepare + districts + dbt + publish, scale {history['scale']}, "
                f"{history['engine']}, "
                f"{history.get('months')} months (the largest ratio of the timed months)",
            )
        else:
            add("history", "not measured", None, "month 1 was not timed")
    else:
        add("history", "not measured", None, missing("history"))

    # `make demo` from a fresh clone, and again
    demo = data.get("demo")
    setup = (demo or {}).get("setup_seconds")
    fresh = (
        "`sinergi demo` (what `make demo` runs after `make setup`: 3 months at scale 0.01 on "
        "DuckDB) in a fresh data dir, warehouse and Airflow home, after what `make setup` "
        "leaves (Airflow's migrated metadata database and the DAG's dbt manifest"
        + (f": {setup:.0f} s, not counted" if setup is not None else "")
        + "; `uv sync` not measured)"
    )
    for key, which, how in (
        ("demo", "first", fresh),
        ("demo_again", "again", "`sinergi demo` again, same data dir, warehouse and Airflow home"),
    ):
        seconds = (demo or {}).get(f"{which}_seconds")
        if seconds is not None:
            add(key, _duration(seconds), seconds <= TARGETS[key][2], how)
        elif demo and demo.get(f"{which}_ok") is False:
            add(key, "`sinergi demo` failed (see Errors)", False, how)
        elif demo and demo.get("setup_ok") is False:
            add(key, "not measured", None, "the set-up (airflow db migrate, dbt parse) failed")
        elif demo:
            add(key, "not measured", None, "the first `sinergi demo` did not complete")
        else:
            add(key, "not measured", None, missing("demo"))

    add("ci", "not measured by the bench (CI's own timing)", None, "")
    return out


def _run_name(run: dict) -> str:
    out = f"{run.get('part')} {run.get('label') or run.get('stage')}"
    if run.get("engine"):
        out += f" {run['engine']}"
    if run.get("scale") is not None:
        out += f", scale {run['scale']}"
    return out


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
        f"{config['repeats_big']} for big ones (validate, dbt, DAG runs), "
        f"{config.get('history_repeats', config['repeats_big'])} for the timed history months; "
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
        "Issue #14's table (done when `make bench` from a fresh clone meets every target), each "
        "judged from what this run measured. A time or memory over its limit at a scale below "
        "1 is NOT met (the province month can only need more); under it there, it is not "
        "judged (n/a).",
        "",
    ]
    rows = []
    for target in data.get("targets", []):
        rows.append(
            [
                target["target"],
                target.get("limit", ""),
                target["measured"],
                target["status"],
                target.get("how", ""),
            ]
        )
    lines += table(["measure", "target", "measured", "status", "how it was measured"], rows)
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
        "`ru_maxrss` of that process from `os.wait4` (largest of the runs; the largest single "
        "process); tree peak = the peak of the sum of RSS over the process and everything it "
        "started, sampled (bench/memory.py). `validate` is "
        "what the DAG's `judge` task does for every district (`pipeline.receive_month`, then "
        "`judge_workers.judge_datasets`: archive, read, judge and write the judged-version "
        "folders, each dataset's files together, in worker processes up to the cores) plus "
        "the Data Docs results; `load` hands those folders to `loader.load_judged_version` "
        "afterwards (the judge task loads each part as soon as it is judged). "
        "`validate_one_process` is the same judging in one process (information: its timers "
        "see where the time goes). Inside it, timers around `open_table` + "
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
                fmt(s.get("tree_peak_rss_mb"), 0),
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
            "tree peak MB",
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
        if rows:  # no fit with a single scale
            lines += table(
                [
                    "series",
                    "marginal s / M rows",
                    "intercept s",
                    "marginal / copy marginal",
                    "points",
                ],
                rows,
            )
        if fm.get("dag_fixed_seconds") is not None:
            lines += [
                "",
                f"Real DAG on the tiny month: {fmt(fm['dag_fixed_seconds'], 1)} s wall (median of "
                f"{fm.get('dag_fixed_n')}; {fm.get('dag_fixed_rows')} rows; "
                f"{fm.get('dag_fixed_engine')}{_workarounds(fm.get('dag_fixed_workarounds'))}), "
                f"largest process {fmt(fm.get('dag_fixed_rss_mb'), 0)} MB, process tree "
                f"{fmt(fm.get('dag_fixed_tree_mb'), 0)} MB.",
            ]
        if fm.get("e2e_seconds") is not None:
            lines += [
                f"Real DAG on the scale-{fm.get('e2e_scale')} month: "
                f"{fmt(fm['e2e_seconds'], 1)} s wall ({fm.get('e2e_engine')}"
                f"{_workarounds(fm.get('e2e_workarounds'))}), largest process "
                f"{fmt(fm.get('e2e_rss_mb'), 0)} MB, process tree {fmt(fm.get('e2e_tree_mb'), 0)} "
                "MB.",
            ]
        for prefix, title in (("dag_fixed_rerun", "tiny month"), ("e2e_rerun", "largest month")):
            if fm.get(f"{prefix}_seconds") is not None:
                lines += [
                    f"The {title} again right after, nothing changed (same inbox, data dir, "
                    f"warehouse and Airflow home): {fmt(fm[f'{prefix}_seconds'], 1)} s wall "
                    f"(scale {fm.get(f'{prefix}_scale')}, {fm.get(f'{prefix}_engine')}), largest "
                    f"process {fmt(fm.get(f'{prefix}_rss_mb'), 0)} MB, process tree "
                    f"{fmt(fm.get(f'{prefix}_tree_mb'), 0)} MB.",
                ]
    return lines


def _dag_breakdowns(data: dict) -> list[str]:
    """Where the real DAG's time went, per task group, from its log lines."""
    lines: list[str] = []
    fm = data.get("fixed_marginal")
    for key, title in (
        ("dag_fixed_breakdown", "tiny month"),
        ("dag_fixed_rerun_breakdown", "tiny month, re-run with nothing changed"),
        ("e2e_breakdown", "largest month"),
        ("e2e_rerun_breakdown", "largest month, re-run with nothing changed"),
    ):
        which = "re-run" if "rerun" in key else "first run"
        breakdown = (fm or {}).get(key)
        if not breakdown:
            continue
        lines += [
            "",
            f"Where the real DAG's time went ({title}; from the `[DAG TEST]` log lines of the "
            f"{which}; {fmt(breakdown['logged_span_seconds'], 1)} s logged, the rest of the "
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


def _demo(data: dict) -> list[str]:
    """`sinergi demo` from a fresh clone's state, and again with nothing changed."""
    demo = data.get("demo")
    if not demo:
        return []
    lines = [
        "",
        "## `make demo` (`sinergi demo`)",
        "",
        "What `make demo` runs after `make setup`, in a data dir, DuckDB warehouse, Airflow home "
        "and dbt target folder of its own under the bench's work folder (never the "
        "repository's .data or .airflow): setup = what `make setup` leaves (`airflow db "
        "migrate`, the DAG's dbt manifest; not part of the target), then `sinergi demo` "
        "(generates the 3-month sample inbox, runs the months in one `sinergi run` process), "
        "then the same again with nothing changed.",
        "",
    ]
    rows = [
        [
            r["label"],
            "ok" if r["ok"] else "FAILED",
            fmt(r.get("wall_seconds"), 1),
            fmt(r.get("cpu_seconds"), 1),
            fmt(r.get("max_rss_mb"), 0),
            fmt(r.get("tree_peak_rss_mb"), 0),
            fmt(r.get("tree_max_processes")),
        ]
        for r in demo.get("runs", [])
    ]
    return lines + table(
        [
            "run",
            "status",
            "wall s",
            "CPU s",
            "largest process MB",
            "process tree peak MB",
            "most processes",
        ],
        rows,
    )


def _memory(data: dict) -> list[str]:
    """Both memory figures of every real-DAG run: largest process and the process tree."""
    runs = [r for r in data.get("runs", []) if r.get("stage") in REAL_DAG_STAGES and r.get("ok")]
    if not runs:
        return []
    interval = data["meta"]["config"].get("rss_interval", 0.2)
    lines = [
        "",
        "## Peak memory of the real-DAG runs",
        "",
        "largest process = `ru_maxrss` from `os.wait4`: the peak of the largest single process "
        "among the child and the descendants it reaped (exact). process tree = the peak of the "
        "sum over the child and every process it started, alive at the same moment, sampled "
        f"every {interval} s by a thread of the bench (bench/memory.py; a shorter spike can be "
        "missed): of RSS (shared pages count once per process: an upper bound) and of PSS "
        "(shared pages divided among the processes sharing them: what the tree occupies). The "
        "target (<= 1 GB) is judged on the tree's PSS.",
        "",
    ]
    rows = [
        [
            _run_name(r),
            fmt(r.get("wall_seconds"), 1),
            fmt(r.get("max_rss_mb"), 0),
            fmt(r.get("tree_peak_rss_mb"), 0),
            fmt(r.get("tree_peak_pss_mb"), 0),
            fmt(r.get("tree_processes_at_peak")),
            fmt(r.get("tree_max_processes")),
            fmt(r.get("tree_samples")),
        ]
        for r in runs
    ]
    return lines + table(
        [
            "run",
            "wall s",
            "largest process MB",
            "process tree peak MB (RSS)",
            "process tree peak MB (PSS)",
            "processes at the peak",
            "most processes",
            "samples",
        ],
        rows,
    )


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
            f"districts ({config['districts_label']}) + dbt build + the reports (`publish`: "
            "feedback, Data Docs, bulletin), sequential, in a child process, "
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
                    fmt(m.get("publish_seconds"), 1),
                    fmt(m.get("total_seconds"), 1),
                    m.get("n"),
                    fmt_ratio(m.get("ratio_total")),
                    fmt_ratio(m.get("ratio_process")),
                    fmt_ratio(m.get("ratio_dbt")),
                    fmt_ratio(m.get("ratio_publish")),
                    fmt(m.get("max_rss_mb"), 0),
                ]
            )
        lines += table(
            [
                "month",
                "period",
                "process s",
                "dbt s",
                "publish s",
                "total s",
                "n",
                "total / month 1",
                "process / month 1",
                "dbt / month 1",
                "publish / month 1",
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
    _demo,
    _memory,
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
