"""A month's datasets judged in worker processes, up to the cores (the ``judge`` task).

Judging is CPU-bound Python (reading, preparing, Great Expectations, pseudonymising) and was
~40 % of a province month on one core while the other core idled. Each dataset's versions are
independent (own suites and folders; the judge never touches the warehouse), so
``judge_datasets`` cuts the month into parts by bytes and judges them in the worker processes
of ``sinergi.workers`` (a fresh process per part, forked from a server that imported pandas
and Great Expectations), largest first. Starting that server costs ~2-5 s, so a month whose
files are small (below ``SINERGI_JUDGE_PARALLEL_MIN_MB``, default 32 MB) is judged in the
task's own process, as before.

What a worker leaves is what ``judge_together`` leaves: one judged-version folder per version.
A part that fails, or is lost with a dead worker, is logged and not counted; the task still
succeeds, and the district tasks find no folder for those versions and judge them on their
own, as they do for any version ``judge`` could not judge.

Given the warehouse, each part's versions are also loaded as soon as the part is judged
(``sinergi.warehouse.loader.load_judged_folders``: one transaction per version, exactly the
district task's load). Why here: under ``sinergi run`` the 38 district tasks run one after
another, and their loads (the database server's COPY, one core) left the other core idle for
~17 s of a province month; loaded by the workers, one part's COPY runs while the other worker
judges. The district task then finds its versions recorded with their folders still there,
reports them as new and removes the folders (``sinergi.pipeline.process_district``); a
version that could not be loaded here is loaded by its district task as before.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sinergi.versions import FileVersion, JudgeOptions
from sinergi.workers import env_count, processes_wanted, run_pieces

log = logging.getLogger(__name__)

MIN_MB_ENV = "SINERGI_JUDGE_PARALLEL_MIN_MB"
# What the workers' fork server imports besides this module: the judge, the loader and Great
# Expectations (``sinergi.gx_import``, imported lazily by ``sinergi.validation``); every
# part's process needs them.
# This module imports them only where it judges, so the task's process, which only plans and
# waits while the workers judge, holds no pandas (``sinergi.versions``).
PRELOAD = ("sinergi.judgement", "sinergi.warehouse.loader", "sinergi.gx_import")
DEFAULT_MIN_MB = 32

Jobs = dict[str, list[tuple[FileVersion, Path, bool]]]


def _item_bytes(item: tuple[FileVersion, Path, bool]) -> int:
    """Bytes judging a version reads: its recorded size, 0 when it was not archived."""
    version = item[0]
    return version.size_bytes if version.archive_path is not None else 0


def dataset_bytes(items: list[tuple[FileVersion, Path, bool]]) -> int:
    """Bytes of a dataset's archived files (what judging it reads)."""
    return sum(_item_bytes(item) for item in items)


def parts(jobs: Jobs, workers: int) -> list[tuple[str, list[tuple[FileVersion, Path, bool]]]]:
    """``jobs`` cut into (dataset, versions) parts of about a third of a worker's share of the
    month's bytes, largest first: a province month's two big datasets are ~85 % of its bytes,
    so one worker per dataset left a core idle for a third of the task. A part is judged with
    ``judge_together`` like a whole dataset (a part boundary only ends a batch early)."""
    total = sum(dataset_bytes(items) for items in jobs.values())
    target = max(total // max(3 * workers, 1), 1)
    cut: list[tuple[int, str, list]] = []
    for dataset, items in jobs.items():
        part: list = []
        size = 0
        for item in items:
            part.append(item)
            size += _item_bytes(item)
            if size >= target:
                cut.append((size, dataset, part))
                part, size = [], 0
        if part:
            cut.append((size, dataset, part))
    cut.sort(key=lambda entry: -entry[0])
    return [(dataset, part) for _, dataset, part in cut]


def worker_count(jobs: Jobs) -> int:
    """How many worker processes judge ``jobs``: 0 (judge here) for a small month or a single
    part, else up to ``SINERGI_WORKER_PROCESSES`` (default: the cores), one per part."""
    return _plan(jobs)[1]


def _plan(jobs: Jobs) -> tuple[list, int]:
    """(the parts, the worker count); no parts when the month is judged in this process."""
    wanted = processes_wanted()
    small = sum(dataset_bytes(items) for items in jobs.values()) < (
        env_count(MIN_MB_ENV, DEFAULT_MIN_MB) * 1024 * 1024
    )
    if wanted <= 1 or small:
        return [], 0
    work = parts(jobs, wanted)
    count = min(wanted, len(work))
    return (work, count) if count > 1 else ([], 0)


def judge_datasets(
    jobs: Jobs, options: JudgeOptions, warehouse_url: str | None = None
) -> dict[str, tuple[int, int]]:
    """Judge each dataset's new versions (``judge_together``) and, given ``warehouse_url``,
    load each part's versions once it is judged; dataset -> (versions judged, loaded).

    In worker processes when :func:`worker_count` says so, in :func:`parts`, largest first;
    the versions of a part whose worker failed (or was lost with a dead one) are logged and
    not counted: their district tasks judge and load them.
    """
    work, workers = _plan(jobs)
    if not workers:
        return {
            dataset: judge_and_load(items, options, warehouse_url)
            for dataset, items in jobs.items()
        }
    log.info("judging %d datasets in %d worker processes (%d parts)", len(jobs), workers, len(work))
    done = dict.fromkeys(jobs, (0, 0))
    pieces = [(dataset, (items, options, warehouse_url)) for dataset, items in work]
    # a process per part: a worker kept for several parts kept what its allocators held
    finished = run_pieces(judge_and_load, pieces, workers, PRELOAD, pieces_per_process=1)
    for dataset, counts, problem in finished:
        if problem is None:
            done[dataset] = (done[dataset][0] + counts[0], done[dataset][1] + counts[1])
            continue
        log.error(
            "judging part of %s in a worker process failed (%s: %s); its district tasks judge "
            "its versions on their own",
            dataset,
            type(problem).__name__,
            problem,
        )
    return done


def judge_and_load(
    items: list[tuple[FileVersion, Path, bool]], options: JudgeOptions, warehouse_url: str | None
) -> tuple[int, int]:
    """Judge ``items`` together, then load what was judged into ``warehouse_url`` (if given);
    (versions judged, versions loaded)."""
    from sinergi.judgement import judge_together
    from sinergi.warehouse.connection import open_warehouse
    from sinergi.warehouse.loader import load_judged_folders

    verdicts = judge_together(items, options)
    if warehouse_url is None:
        return len(verdicts), 0
    wh = open_warehouse(warehouse_url)
    with wh.batch():  # one PostgreSQL session, one open DuckDB file, for the part's loads
        loaded = load_judged_folders(wh, list(verdicts))
    return len(verdicts), len(loaded)
