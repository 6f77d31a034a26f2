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

Where the tree peaks matters as much as how high: at the highest PSS the sampler keeps each
process's share with a short name (``sinergi run``, ``worker`` for a spawned pool process) and
the time, so a DAG run's report can say which task was running and which processes held what.
"""

from __future__ import annotations

import os
import threading
import time

import psutil

MB = 1024 * 1024


def tree_members(root: psutil.Process) -> list[tuple[str, int, int]]:
    """(short name, RSS, PSS) in bytes of ``root`` and each of its descendants now; PSS is 0
    for a process whose ``smaps_rollup`` cannot be read, and a process that ended between the
    listing and the reading is left out."""
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:  # the root is gone (or a zombie): nothing left to count
        return []
    members = []
    for process in processes:
        try:
            info = process.memory_full_info()
            rss, pss = info.rss, getattr(info, "pss", 0)
        except psutil.AccessDenied:
            try:
                rss, pss = process.memory_info().rss, 0
            except psutil.Error:
                continue
        except psutil.Error:  # ended between the listing and the reading
            continue
        members.append((process_label(process), rss, pss))
    return members


def _parent_is_fork_server(process: psutil.Process) -> bool:
    try:
        parent = process.parent()
        return parent is not None and "forkserver" in " ".join(parent.cmdline())
    except psutil.Error:  # the parent (or the process) ended meanwhile
        return False


def process_label(process: psutil.Process) -> str:
    """A short name for a report: ``worker`` for a ``multiprocessing`` worker process (spawned,
    or forked by a fork server), ``fork server``, ``resource_tracker``, ``sinergi <command>``
    for the CLI, ``python -m <module>``, else the program's name (the script's for ``python
    script``)."""
    try:
        argv = process.cmdline()
    except psutil.Error:
        return "?"
    line = " ".join(argv)
    if "--multiprocessing-fork" in line:
        return "worker"
    if "forkserver" in line:  # the server and the children it forks show the same command
        return "worker" if _parent_is_fork_server(process) else "fork server"
    if "resource_tracker" in line:
        return "resource_tracker"
    names = [os.path.basename(a) for a in argv[:3]]
    if names and names[0].startswith("python") and len(argv) > 2 and argv[1] == "-m":
        return f"python -m {argv[2]}"  # the bench's own stage processes: python -m bench.stages
    if names and names[0].startswith("python") and len(names) > 1 and not argv[1].startswith("-"):
        names = names[1:]
    if not names:
        return "?"
    if names[0] == "sinergi" and len(names) > 1:
        return f"sinergi {names[1]}"
    return names[0]


class TreeSampler:
    """Samples :func:`tree_members` of ``pid`` in a daemon thread until :meth:`stop`."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.interval = interval
        try:
            self.root: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self.root = None
        self.peak_bytes = 0
        self.peak_pss_bytes = 0
        self.peak_pss_at: float | None = None  # time.time() of the highest PSS sample
        self.peak_pss_members: list[tuple[str, int]] = []  # (name, PSS) then, largest first
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
        members = tree_members(self.root)
        if not members:
            return
        total, pss, count = sum(m[1] for m in members), sum(m[2] for m in members), len(members)
        self.samples += 1
        if total > self.peak_bytes:
            self.peak_bytes, self.processes_at_peak = total, count
        if pss > self.peak_pss_bytes:
            self.peak_pss_bytes, self.peak_pss_at = pss, time.time()
            self.peak_pss_members = sorted(((m[0], m[2]) for m in members), key=lambda m: -m[1])
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
            # when the PSS peaked (epoch seconds) and each process's share then, in MB
            "peak_pss_at": self.peak_pss_at,
            "peak_pss_processes": [
                [name, round(pss / MB, 1)] for name, pss in self.peak_pss_members
            ],
            "max_processes": self.max_processes,
            "samples": self.samples,
            "interval_s": self.interval,
        }
