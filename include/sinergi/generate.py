"""Deterministic synthetic inbox: what 38 district offices would upload, month after month.

The warehouse cannot be tested on real submissions (they hold personal data), and hand-made
fixtures only contain the mistakes their author thought of. This generator writes a whole
province's monthly uploads following ``submission-contract.md``: a stable population per
district (so carry-forward, year-to-date reach and cross-district duplicates are
meaningful), every valid spelling of a value that real spreadsheets use, and, with
``faults=True``, every reason code and file-level outcome of the contract in realistic
proportions. A manifest beside the period folders records what the pipeline must conclude
about every file; the pipeline never reads it (it is outside every period folder).

Same arguments, same bytes and same modification times: a regenerated inbox must not look
like a resubmission to a pipeline that versions files by SHA-256.

Command line: ``python -m sinergi.generate OUT 2025-01:2025-03 [--seed 42] [--scale 0.01]
[--faults] [--overwrite]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sinergi.generation.inbox import MANIFEST_NAME, generate
from sinergi.periods import Period, period_range

__all__ = ["MANIFEST_NAME", "generate_inbox", "parse_periods"]


def parse_periods(text: str) -> list[str]:
    """``"2025-01:2025-03"`` -> ``["2025-01", "2025-02", "2025-03"]``; ``"2025-01"`` -> one.

    A comma-separated list of such items is accepted too (``"2025-01,2025-03:2025-04"``).
    Raises ValueError with a message fit for a command line.
    """
    if not text or not text.strip():
        raise ValueError("no period given: expected YYYY-MM or YYYY-MM:YYYY-MM")
    result: list[str] = []
    for item in text.split(","):
        start, sep, end = item.strip().partition(":")
        if sep and not end.strip():
            raise ValueError(f"period range {item.strip()!r} has no end: expected YYYY-MM:YYYY-MM")
        found = period_range(start, end) if sep else [Period.parse(start)]
        result.extend(str(p) for p in found)
    if len(set(result)) != len(result):
        raise ValueError(f"periods repeat in {text!r}")
    return result


def generate_inbox(
    out: Path,
    periods: list[str],
    *,
    seed: int = 42,
    scale: float = 0.01,
    faults: bool = False,
    progress: Callable[[str], None] | None = None,
    overwrite: bool = False,
) -> dict:
    """Write ``<out>/<YYYY-MM>/<district>/<dataset>.<csv|xlsx>`` and the manifest.

    ``scale=1.0`` is a province-scale month (about 2,000,000 roster rows and 2,000,000
    register households over the 38 districts, shared by registered population); the demo
    default 0.01 is about 20,000 + 20,000. ``faults`` adds the contract's faults to roughly
    10-20% of the files. Existing period folders are replaced only with ``overwrite=True``.
    Returns the manifest, also written to ``<out>/generator-manifest.json``.
    """
    if not periods:
        raise ValueError("at least one period is required")
    parsed = sorted(Period.parse(p) for p in periods)
    if len(set(parsed)) != len(parsed):
        raise ValueError(f"periods repeat: {periods}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    return generate(
        Path(out),
        parsed,
        seed=seed,
        scale=float(scale),
        faults=faults,
        progress=progress,
        overwrite=overwrite,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sinergi.generate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("out", type=Path, help="inbox folder to write")
    parser.add_argument("periods", help="YYYY-MM or YYYY-MM:YYYY-MM")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        periods = parse_periods(args.periods)
    except ValueError as error:
        parser.error(str(error))
    started = time.perf_counter()
    report = None if args.quiet else (lambda message: print(message, file=sys.stderr))
    manifest = generate_inbox(
        args.out,
        periods,
        seed=args.seed,
        scale=args.scale,
        faults=args.faults,
        progress=report,
        overwrite=args.overwrite,
    )
    summary = manifest["summary"]
    print(
        f"{summary['files_written']} files, rows {summary['rows_by_dataset']}, "
        f"statuses {summary['submissions_by_status']} in {time.perf_counter() - started:.1f}s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
