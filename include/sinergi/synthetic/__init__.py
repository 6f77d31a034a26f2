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

It is test and demo tooling, not part of the monthly pipeline: nothing in the pipeline
imports it. Command line: ``sinergi generate --out DIR --periods 2025-01:2025-03 [--seed 42]
[--scale 0.01] [--faults] [--overwrite]``.

The parts, each small enough to read in one sitting:

* ``common``      seeded randomness, sizes, calendar helpers;
* ``population``  the stable people and households of one district (same every month);
* ``tables``      what one district reports for one period, as typed columns;
* ``styles``      how a district writes values (dates, grouping, headers, encodings);
* ``faults``      which files of a period get which faults (the plan);
* ``inject``      the row-level fault injectors and their reason codes;
* ``timing``      received times (file mtimes) around the deadline;
* ``writers``     CSV / XLSX bytes (deterministic) and stray files;
* ``files``       one submission: cells -> faults -> files -> manifest entry;
* ``province``    the orchestration over districts and periods, and the manifest;
* ``hostile``     hostile files (XLSX bombs, huge cells) for the input-limit tests and bench.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sinergi.periods import Period
from sinergi.synthetic.province import MANIFEST_NAME, generate

__all__ = ["MANIFEST_NAME", "generate_inbox"]


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
