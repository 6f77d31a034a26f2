"""The spawned worker pool of the month tasks (sinergi.workers)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys

import psutil
import pytest

from sinergi import workers
from sinergi.workers import env_count, run_pieces


def _square_and_log(number: int) -> int:
    """Runs in a worker: logs one line (with an identifier to scrub) and answers."""
    logging.getLogger("sinergi.test_workers").info("worker squares %d for 3578014501900001", number)
    if number < 0:
        raise ValueError("no negative numbers")
    return number * number


def test_pieces_run_in_workers_and_their_log_lines_reach_this_process(caplog):
    with caplog.at_level(logging.INFO, logger="sinergi"):
        done = {
            key: (result, problem)
            for key, result, problem in run_pieces(
                _square_and_log, [("a", (3,)), ("b", (-1,)), ("c", (5,))], 2
            )
        }
    assert done["a"] == (9, None) and done["c"] == (25, None)
    assert done["b"][0] is None and isinstance(done["b"][1], ValueError)
    lines = [r for r in caplog.records if r.name == "sinergi.test_workers"]
    assert sorted(r.getMessage() for r in lines) == [
        f"worker squares {n} for <16 digits>" for n in (-1, 3, 5)
    ]
    assert {r.levelno for r in lines} == {logging.INFO}
    assert {r.process for r in lines}.isdisjoint({multiprocessing.current_process().pid})


class _BilliardKey(bytes):
    """Like billiard's AuthenticationString: only billiard's own spawning may pickle it."""

    def __reduce__(self):
        raise TypeError("Pickling an AuthenticationString object is disallowed")


def test_a_celery_pool_process_may_start_workers(monkeypatch):
    """A task on a Celery worker runs in a daemonic process forked by billiard, with
    billiard's authentication key."""
    me = multiprocessing.current_process()
    key = _BilliardKey(bytes(me.authkey))
    monkeypatch.setitem(me._config, "daemon", True)
    monkeypatch.setitem(me._config, "authkey", key)
    assert [result for _, result, _ in run_pieces(_square_and_log, [("a", (4,))], 1)] == [16]
    assert me.daemon is True and me._config["authkey"] is key  # put back


def test_workers_do_not_run_the_main_script_again(tmp_path):
    """Under Airflow ``__main__`` is the ``airflow`` command; a worker must not run it (nor
    any script without a ``__main__`` guard) again."""
    script = tmp_path / "no_guard.py"
    script.write_text(
        "import os\n"
        "from sinergi.workers import run_pieces\n"
        "print('script ran', flush=True)\n"
        "pids = [r for _, r, p in run_pieces(os.getpid, [('a', ()), ('b', ())], 2)]\n"
        "assert len(pids) == 2 and os.getpid() not in pids, pids\n"
        "print('done', flush=True)\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["script ran", "done"]


def _pid_and_modules(name: str) -> tuple[int, bool]:
    """Runs in a worker: its process id, and whether module ``name`` is imported there."""
    return os.getpid(), name in sys.modules


def _dies_on_zero(number: int) -> int:
    """Runs in a worker: ends the process at once for 0 (as the OOM killer would)."""
    if number == 0:
        os._exit(9)
    return number


@pytest.mark.parametrize(("per_process", "processes"), [(1, 4), (None, 1)])
def test_pieces_per_process(per_process, processes):
    """1: every piece in a fresh process (its memory back when done); None: a process serves
    piece after piece."""
    pieces = [(n, ("json.tool",)) for n in range(4)]
    done = list(run_pieces(_pid_and_modules, pieces, 1, pieces_per_process=per_process))
    assert sorted(key for key, _, _ in done) == [0, 1, 2, 3]
    assert all(problem is None for _, _, problem in done)
    pids = {result[0] for _, result, _ in done}
    assert len(pids) == processes and os.getpid() not in pids
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids)


def test_the_fork_server_imports_the_preloaded_modules_and_stops():
    from multiprocessing import forkserver

    [(_, (_, preloaded), _)] = run_pieces(
        _pid_and_modules, [("a", ("json.tool",))], 1, preload=("json.tool",)
    )
    [(_, (_, not_preloaded), _)] = run_pieces(_pid_and_modules, [("a", ("json.tool",))], 1)
    assert preloaded and not not_preloaded
    assert forkserver._forkserver._forkserver_pid is None  # stopped: it holds nothing after


@pytest.mark.parametrize("per_process", [1, None])
def test_a_dead_worker_loses_only_its_piece(per_process):
    pieces = [(n, (n,)) for n in (3, 0, 5, 7)]
    done = {
        key: (result, problem)
        for key, result, problem in run_pieces(
            _dies_on_zero, pieces, 1, pieces_per_process=per_process
        )
    }
    assert done[0][0] is None and isinstance(done[0][1], workers.WorkerDied)
    assert "exit code 9" in str(done[0][1])
    assert {key: result for key, (result, _) in done.items() if key} == {3: 3, 5: 5, 7: 7}


@pytest.mark.parametrize(("raw", "expected"), [("", 7), ("0", 0), (" 3 ", 3)])
def test_env_count(monkeypatch, raw, expected):
    monkeypatch.setenv("SINERGI_TEST_COUNT", raw)
    assert env_count("SINERGI_TEST_COUNT", 7) == expected


@pytest.mark.parametrize("raw", ["-1", "two", "1.5"])
def test_env_count_refuses(monkeypatch, raw):
    monkeypatch.setenv("SINERGI_TEST_COUNT", raw)
    with pytest.raises(ValueError, match="SINERGI_TEST_COUNT must be"):
        env_count("SINERGI_TEST_COUNT", 7)


def test_processes_wanted_defaults_to_the_cores(monkeypatch):
    monkeypatch.delenv(workers.PROCESSES_ENV, raising=False)
    assert workers.processes_wanted() == (multiprocessing.cpu_count() or 1)
