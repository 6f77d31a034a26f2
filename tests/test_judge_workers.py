"""A month's datasets judged in worker processes (sinergi.judge_workers).

The workers must leave exactly the folders the task's own process leaves, a small month must
stay in the task's process (a spawned worker costs seconds of imports), and a worker that
dies must not fail the task.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from sinergi import judge_workers, workers
from sinergi.judge_workers import judge_datasets, parts, worker_count
from sinergi.judgement import FileVersion, judge_together
from tests.test_judge_together import OPTIONS, _content, _folder
from tests.test_judge_together import month as month  # noqa: F401 - the shared fixture


def _jobs(month, root: Path, datasets=("psks", "ppks")) -> dict:
    jobs: dict[str, list] = {}
    for version, ambiguous in month:
        if version.dataset in datasets:
            item = (version, _folder(root, version), ambiguous)
            jobs.setdefault(version.dataset, []).append(item)
    return jobs


def _version(tmp_path: Path, dataset: str, size: int, number: int = 1) -> tuple:
    path = tmp_path / f"{dataset}-{number}.csv"
    path.write_bytes(b"x" * size)
    version = FileVersion(None, "3501", dataset, 1, path.name, "0", size, None, None, path)
    return (version, tmp_path / dataset, False)


@pytest.mark.parametrize(
    ("processes", "min_mb", "sizes", "expected"),
    [
        ("", "", {"dtks": 40 << 20, "psks": 1 << 20}, min(os.cpu_count() or 1, 2)),
        ("2", "", {"dtks": 1 << 20, "psks": 1 << 20}, 0),  # small month: judged in the task
        ("2", "1", {"dtks": 1 << 20, "psks": 1 << 20}, 2),
        ("1", "0", {"dtks": 1 << 20, "psks": 1 << 20}, 0),  # one process asked for
        ("4", "0", {"dtks": 10, "psks": 10, "ppks": 10}, 3),  # never more than parts
        ("2", "0", {"dtks": 10, "psks": 10, "ppks": 10}, 2),  # more parts than processes
        ("4", "0", {"dtks": 10}, 0),  # one file: nothing to share
    ],
)
def test_worker_count(tmp_path, monkeypatch, processes, min_mb, sizes, expected):
    monkeypatch.setenv(workers.PROCESSES_ENV, processes)
    monkeypatch.setenv(judge_workers.MIN_MB_ENV, min_mb)
    jobs = {name: [_version(tmp_path, name, size)] for name, size in sizes.items()}
    assert worker_count(jobs) == expected


def test_parts_share_the_bytes_and_keep_every_version_once(tmp_path):
    sizes = {"dtks": [30, 30, 30, 30], "penerima_bantuan": [50, 50, 20], "psks": [5]}
    jobs = {
        dataset: [_version(tmp_path, dataset, size, n) for n, size in enumerate(numbers)]
        for dataset, numbers in sizes.items()
    }
    cut = parts(jobs, workers=2)  # 245 bytes: parts of about 245 // 6 = 40 bytes or more
    sizes_of = [sum(item[0].size_bytes for item in items) for _, items in cut]
    assert sizes_of == sorted(sizes_of, reverse=True)  # largest first
    assert sizes_of == [60, 60, 50, 50, 20, 5]
    for dataset, items in jobs.items():
        again = [item for d, part in cut if d == dataset for item in part]
        assert again == items  # each version once, in its order


def test_a_bad_setting_is_named(monkeypatch):
    monkeypatch.setenv(workers.PROCESSES_ENV, "two")
    with pytest.raises(ValueError, match="SINERGI_WORKER_PROCESSES must be a whole number"):
        worker_count({})


def test_workers_leave_the_folders_the_task_leaves(month, tmp_path, monkeypatch, caplog):  # noqa: F811
    monkeypatch.setenv(workers.PROCESSES_ENV, "2")
    monkeypatch.setenv(judge_workers.MIN_MB_ENV, "0")
    here = _jobs(month, tmp_path / "here")
    there = _jobs(month, tmp_path / "workers")
    expected = {
        dataset: (len(judge_together(items, OPTIONS)), 0) for dataset, items in here.items()
    }
    with caplog.at_level(logging.INFO, logger="sinergi"):
        counts = judge_datasets(there, OPTIONS)
    assert "in 2 worker processes" in caplog.text
    assert counts == expected and all(judged for judged, _ in counts.values())
    for items in here.values():
        for version, folder, _ in items:
            one = _content(folder)
            other = _content(_folder(tmp_path / "workers", version))
            assert other["file_version"] == one["file_version"], version.name
            assert other["summary"] == one["summary"], version.name
            assert other["reports"] == one["reports"], version.name
            for table, frame in one["tables"].items():
                assert other["tables"][table].equals(frame), (version.name, table)


class _KillsTheWorker:
    """Unpickled in a worker, it ends that process at once (as the OOM killer would)."""

    def __reduce__(self):
        return (os._exit, (9,))


def test_a_dead_worker_does_not_fail_the_task(month, tmp_path, monkeypatch, caplog):  # noqa: F811
    monkeypatch.setenv(workers.PROCESSES_ENV, "2")
    monkeypatch.setenv(judge_workers.MIN_MB_ENV, "0")
    jobs = _jobs(month, tmp_path)
    jobs["dtks"] = [_KillsTheWorker()]  # type: ignore[list-item]
    monkeypatch.setattr(judge_workers, "_item_bytes", lambda item: 1 << 30)
    with caplog.at_level(logging.INFO, logger="sinergi"):
        counts = judge_datasets(jobs, OPTIONS)
    assert counts["dtks"] == (0, 0)
    assert set(counts) == set(jobs)
    assert "its district tasks judge its versions on their own" in caplog.text
    assert "WorkerDied: the worker process ended with exit code 9" in caplog.text
    # only the dead worker's part is lost: every other part was judged in its own process
    for dataset in set(jobs) - {"dtks"}:
        assert counts[dataset][0] == len(jobs[dataset]) > 0, dataset


def test_the_judge_task_process_plans_without_pandas(tmp_path):
    """The DAG's file and what its tasks up to ``judge`` import hold no pandas, pyarrow or
    Great Expectations: under ``sinergi run`` that process waits while the workers judge, and
    the imports were ~80 MB of the month's peak (``sinergi.versions``). The workers' fork
    server imports the judge (``PRELOAD``)."""
    import subprocess
    import sys

    from sinergi.paths import DAGS_DIR

    dag_file = str(DAGS_DIR / "sinergi_monthly.py")
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('dag', {dag_file!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "import sinergi.pipeline, sinergi.judge_workers, sinergi.orchestration, sinergi.alerts\n"
        "heavy = ('pandas', 'pyarrow', 'great_expectations')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert {"sinergi.judgement", "sinergi.gx_import"} <= set(judge_workers.PRELOAD)
