"""Hostile inputs through a real district task: refused with their reason, bounded in cost.

Part ``hostile`` of ``make bench`` (also ``python -m bench.hostile [WORKDIR]`` alone). Each
input of issue 12 §4 (an XLSX bomb of 20 million cells, 3.5 million shared strings, a
1,000,000-column CSV header, a 50 MB cell, a file over the size limit) is put alone in a
district folder and judged by ``pipeline.process_district`` in its own child process, next to
a normal small file for comparison. Reported per case: file status and reason, wall time and
the child's peak RSS (``os.wait4``). Times are measured, never asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sinergi.synthetic import hostile

PERIOD = "2025-03"
DISTRICT = "3578"


def _cases(folder: Path) -> dict[str, Path]:
    """Write every hostile input (and a normal file) under ``folder``; name -> file.

    Runs in a child of its own (``--build``): building 3.5 M shared strings takes about a
    gigabyte, and a process forked afterwards would inherit that peak in its ``ru_maxrss``.
    """
    builders = {
        "normal file (12 rows)": hostile.normal_csv,
        "XLSX bomb: 20 M cells in one row": lambda p: hostile.xlsx_bomb(p, 20_000_000),
        "XLSX: 3.5 M shared strings": lambda p: hostile.shared_strings_workbook(p, 3_500_000),
        "CSV header of 1,000,000 columns": lambda p: hostile.wide_header_csv(p, 1_000_000),
        "CSV cell of 50 MB": lambda p: hostile.huge_cell_csv(p, 50_000_000),
        "CSV of 250 MB (over the size limit)": lambda p: hostile.oversized_csv(p, 250 * 2**20),
    }
    files = {}
    for number, (name, build) in enumerate(builders.items()):
        suffix = ".xlsx" if name.startswith("XLSX") else ".csv"
        target = folder / f"case{number}" / "inbox" / PERIOD / DISTRICT / f"psks{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        files[name] = build(target)
    return files


def _judge_in_child(path: Path) -> dict:
    """Run the district task on the inbox holding ``path``; outcome, wall time, peak RSS."""
    case = path.parents[3]
    env = dict(
        os.environ,
        SINERGI_DATA_DIR=str(case / "data"),
        SINERGI_INBOX=str(case / "inbox"),
        SINERGI_WAREHOUSE=f"duckdb://{case / 'warehouse.duckdb'}",
        SINERGI_PII_KEY="bench-hostile-key",
    )
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.hostile", "--child"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    result = {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit_status": os.waitstatus_to_exitcode(status),
        "file_bytes": path.stat().st_size,
    }
    try:
        result.update(json.loads(output.decode("utf-8").strip().splitlines()[-1]))
    except (ValueError, IndexError):
        result["status"] = "task failed"
    return result


def _child() -> None:
    """In the child: prepare the period, then one district task; print its file outcome."""
    from sinergi.config import load_settings
    from sinergi.periods import Period
    from sinergi.pipeline import prepare_period, process_district

    settings = load_settings()
    period = Period.parse(PERIOD)
    prepare_period(period, settings)
    outcome = process_district(period, DISTRICT, settings)
    (line,) = outcome["files"]
    print(json.dumps({k: line[k] for k in ("status", "rejection_reason", "rows_total")}))


def measure(work: Path) -> list[dict]:
    """Every case in ``work`` (created, then removed); one result dict per case."""
    work.mkdir(parents=True, exist_ok=True)
    try:
        built = subprocess.run(
            [sys.executable, "-m", "bench.hostile", "--build", str(work)],
            check=True,
            capture_output=True,
            text=True,
        )
        cases = json.loads(built.stdout.strip().splitlines()[-1])
        results = []
        for name, file in cases.items():
            path = Path(file)
            print(f"hostile: {name} ...", flush=True)
            results.append({"case": name, **_judge_in_child(path)})
            shutil.rmtree(path.parents[3], ignore_errors=True)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(results: list[dict]) -> str:
    """The markdown table of :func:`measure`'s results."""
    lines = [
        "| input | file MB | status | reason | wall s | peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['case']} | {r['file_bytes'] / 2**20:.1f} | {r.get('status')} | "
            f"{r.get('rejection_reason') or ''} | {r['seconds']} | {r['peak_rss_mb']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        _child()
    elif sys.argv[1:2] == ["--build"]:
        print(json.dumps({name: str(path) for name, path in _cases(Path(sys.argv[2])).items()}))
    else:
        folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/work/hostile")
        print(render(measure(folder)))
