"""Peak memory of a whole process tree: the sum of RSS over a process and its descendants.

``os.wait4`` gives a child's ``ru_maxrss``: the peak of the largest *single* process among the
child and the descendants it reaped. ``sinergi run`` starts worker processes (the judge task's
process pool, dbt's threads in the same process, cosmos' subprocesses), so the memory a
machine needs is the peak of their *sum*. Nothing reports that after the fact: a thread samples
it (psutil, every ``interval`` seconds) while the parent waits for the child.

RSS counts a page shared by several processes (the shared libraries every Python process of
the tree maps: numpy, pyarrow, pandas, psycopg; pages a forked worker still shares) once per
process, so the sum of RSS is an upper bound of what they use together. The sum of PSS
(proportional set size, from ``/proc/<pid>/smaps_rollup``: each shared page divided among the
processes sharing it) is what the tree occupies in memory; the target is judged on it. A spike
shorter than the interval can be missed (``ru_maxrss`` of the largest process is exact and
reported next to both).
"""

from __future__ import annotations

import threading

import psutil

MB = 1024 * 1024


def tree_memory(root: psutil.Process) -> tuple[int, int, int]:
    """(sum of RSS, sum of PSS, number of processes) of ``root`` and all its descendants now,
    in bytes; PSS is 0 for a process whose ``smaps_rollup`` cannot be read."""
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:  # the root is gone (or a zombie): nothing left to count
        return 0, 0, 0
    rss = pss = count = 0
    for process in processes:
        try:
            info = process.memory_full_info()
        except psutil.AccessDenied:
            try:
                rss += process.memory_info().rss
            except psutil.Error:
                continue
            count += 1
            continue
        except psutil.Error:  # ended between the listing and the reading
            continue
        rss += info.rss
        pss += getattr(info, "pss", 0)
        count += 1
    return rss, pss, count


class TreeSampler:
    """Samples :func:`tree_memory` of ``pid`` in a daemon thread until :meth:`stop`."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.interval = interval
        try:
            self.root: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self.root = None
        self.peak_bytes = 0
        self.peak_pss_bytes = 0
        self.processes_at_peak = 0
        self.max_processes = 0
        self.samples = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"tree-rss-{pid}", daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            self.sample()
            if self._stopped.wait(self.interval):
                return

    def sample(self) -> None:
        if self.root is None:
            return
        total, pss, count = tree_memory(self.root)
        if not count:
            return
        self.samples += 1
        if total > self.peak_bytes:
            self.peak_bytes, self.processes_at_peak = total, count
        self.peak_pss_bytes = max(self.peak_pss_bytes, pss)
        self.max_processes = max(self.max_processes, count)

    def stop(self) -> dict:
        """Stop sampling (call once the child has ended); returns :meth:`summary`."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.summary()

    def summary(self) -> dict:
        return {
            "peak_mb": round(self.peak_bytes / MB, 1),
            "peak_pss_mb": round(self.peak_pss_bytes / MB, 1),
            "processes_at_peak": self.processes_at_peak,
            "max_processes": self.max_processes,
            "samples": self.samples,
            "interval_s": self.interval,
        }
