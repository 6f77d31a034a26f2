"""A month's datasets judged in worker processes, up to the cores (the ``judge`` task).

Judging is CPU-bound Python (reading, preparing, Great Expectations, pseudonymising) and was
~40 % of a province month on one core while the other core idled. The four datasets are
independent (each has its own suites and folders; the judge never touches the warehouse), so
``judge_datasets`` gives parts of them to workers, largest first.

Why *spawn*d workers, not forked ones: the task's process holds threads (the in-process
execution API's event loop, database pools) and, under a scheduler, a socket to its
supervisor that carries its log lines; a forked child could inherit a held lock or write into
that socket. A spawned worker imports the judge afresh (~3-5 s), so a month whose files are
small (below ``SINERGI_JUDGE_PARALLEL_MIN_MB``, default 32 MB) is judged in the task's own
process, as before. Each worker's log lines go to the inherited stderr, which the task log
captures, scrubbed like every ``sinergi`` line.

What a worker leaves is what ``judge_together`` leaves: one judged-version folder per version.
A worker that dies (killed, out of memory) breaks the pool: the parts not finished by
then are not counted, the task still succeeds, and the district tasks find no folder for those
versions and judge them on their own, as they do for any version ``judge`` could not judge.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from sinergi.judgement import FileVersion, JudgeOptions, judge_together

log = logging.getLogger(__name__)

PROCESSES_ENV = "SINERGI_JUDGE_PROCESSES"
MIN_MB_ENV = "SINERGI_JUDGE_PARALLEL_MIN_MB"
DEFAULT_MIN_MB = 32

Jobs = dict[str, list[tuple[FileVersion, Path, bool]]]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as bad:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from bad
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, not {value}")
    return value


def _item_bytes(item: tuple[FileVersion, Path, bool]) -> int:
    version = item[0]
    try:
        return version.archive_path.stat().st_size if version.archive_path else 0
    except OSError:
        return 0


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
    """How many worker processes judge ``jobs``: 0 (judge here) for a small month or one
    dataset, else up to ``SINERGI_JUDGE_PROCESSES`` (default: the cores), one per dataset."""
    wanted = _env_int(PROCESSES_ENV, os.cpu_count() or 1)
    small = sum(dataset_bytes(items) for items in jobs.values()) < (
        _env_int(MIN_MB_ENV, DEFAULT_MIN_MB) * 1024 * 1024
    )
    if wanted <= 1 or len(jobs) <= 1 or small:
        return 0
    return min(wanted, len(jobs))


def judge_datasets(jobs: Jobs, options: JudgeOptions) -> dict[str, int]:
    """Judge each dataset's new versions (``judge_together``); dataset -> versions judged.

    In worker processes when :func:`worker_count` says so, in :func:`parts`, largest first;
    the versions of a part whose worker failed (or was lost with a dead one) are logged and
    not counted: their district tasks judge them.
    """
    workers = worker_count(jobs)
    if not workers:
        return {dataset: len(judge_together(items, options)) for dataset, items in jobs.items()}
    work = parts(jobs, workers)
    log.info("judging %d datasets in %d worker processes (%d parts)", len(jobs), workers, len(work))
    judged = dict.fromkeys(jobs, 0)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_start) as pool:
        futures = {pool.submit(_judge_one, items, options): dataset for dataset, items in work}
        for future in as_completed(futures):
            dataset = futures[future]
            try:
                judged[dataset] += future.result()
            except Exception:  # noqa: BLE001 - a dead worker must not stop the other datasets
                log.exception(
                    "judging part of %s in a worker process failed; its district tasks judge "
                    "its versions on their own",
                    dataset,
                )
    return judged


def _quiet_start() -> None:
    """A worker's logging: ``sinergi`` lines at INFO on the inherited stderr."""
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s [judge worker %(process)d]: %(message)s",
    )
    logging.getLogger("sinergi").setLevel(logging.INFO)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _judge_one(items: list[tuple[FileVersion, Path, bool]], options: JudgeOptions) -> int:
    return len(judge_together(items, options))
