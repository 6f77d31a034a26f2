"""Province-scale benchmark of the monthly pipeline: ``python -m bench.run`` (``make bench``).

What it measures (each stage in its own child process, reaped with ``os.wait4`` for its wall
time, CPU time and peak RSS of its largest process, while a thread samples the sum of RSS over
its whole process tree (bench/memory.py); medians of repeated runs):

scales    For each scale in BENCH_SCALES (1 = a province month, ~2M roster + ~2M register
          rows, with the generator's usual faults): generate the inbox, then the stages
          read, validate (``process_district`` minus the load), load (the real loader on
          what validate produced) and dbt (``build_marts``) on PostgreSQL and DuckDB.
baseline  Side by side: one ``psql`` process ``\\copy``-ing the same CSV files into unindexed
          text tables (bench/baseline.py); pipeline / copy ratios.
fixed     The real DAG (``sinergi.cli.run_period``) on a tiny month: the fixed cost of a run;
          the first repeat is run again with nothing changed (same inbox, data dir, warehouse
          and Airflow home).
e2e       The real DAG on the largest scale: the province month end to end, then the same
          month again with nothing changed.
demo      ``sinergi demo`` (what ``make demo`` runs after ``make setup``) in a fresh data dir,
          DuckDB warehouse and Airflow home of its own (set up as ``make setup`` does, untimed),
          then again with nothing changed. Never the repository's .data or .airflow.
history   BENCH_HISTORY_MONTHS consecutive months at a small scale; months 1, 6, 12 timed
          (prepare + districts + dbt + publish) with their history already loaded.
roster    A 500,000-row roster file: read vs Great Expectations time, the pipeline's loader
          vs a bare ``psql \\copy`` of the same file.
gxbatch   Great Expectations on the tiny month's files: one validation per file (today) vs
          one validation of every district's rows of a dataset (the batching alternative).
profile   cProfile of the validate and load stages at the largest scale: hotspots.

The markdown judges issue #14's targets (report.TARGETS) from what the run measured.

Results: ``bench/results/<UTC timestamp>-<git short sha>.{json,md}`` and ``latest.md``.
Generated data lives in ``bench/work/`` (git-ignored) and is removed at the end unless
BENCH_KEEP_WORK=1; PostgreSQL databases are created as ``sinergi_bench_<run id>_*`` and
dropped at the end.

Environment (defaults in brackets):
  BENCH_SCALES [0.25,0.5,1]  BENCH_REPEATS [3]  BENCH_REPEATS_BIG [= BENCH_REPEATS]
  BENCH_PARTS [scales,baseline,fixed,e2e,demo,gxbatch,history,roster,hostile,profile]
  BENCH_ENGINES [postgres,duckdb]  BENCH_DISTRICTS [all; N = the first N codes, or a list]
  BENCH_FIXED_SCALE [0.0005]  BENCH_HISTORY_SCALE [0.2]  BENCH_HISTORY_MONTHS [12]
  BENCH_HISTORY_TIMED [1,6,12]  BENCH_HISTORY_ENGINE [postgres, else duckdb]
  BENCH_HISTORY_REPEATS [3]: repeats of each timed history month, whatever
      BENCH_REPEATS_BIG says: the month N / month 1 ratio is judged against 1.1, and one
      repeat of a ~60 s month varies by more than that (1.18x and 0.95x for the same code)
  BENCH_ROSTER_ROWS [500000]  BENCH_WORKERS [2] (untimed history loading only)
  BENCH_PERIOD [2025-03]  BENCH_SEED [42]  BENCH_PG_ADMIN [postgresql://postgres@127.0.0.1:5432/postgres]
  BENCH_RESULTS_DIR [bench/results]  BENCH_WORK_DIR [bench/work]  BENCH_KEEP_WORK [0]
  BENCH_TIMEOUT [3600] s per child process; BENCH_TIMEOUT_DBT [480] s per dbt build
  BENCH_RSS_INTERVAL [0.2] s between samples of a child's process-tree RSS
  BENCH_PG_WORKAROUND [auto]: auto = if a PostgreSQL dbt build runs past BENCH_TIMEOUT_DBT,
      report what was running and measure later PostgreSQL dbt builds with PGOPTIONS="-c
      enable_mergejoin=off -c enable_nestloop=off". 0 = never (failures are reported),
      1 = always.
  BENCH_BYTECODE_CACHE [1]: children run with PYTHONPYCACHEPREFIX=bench/work/pycache (and
      without PYTHONDONTWRITEBYTECODE), like an image whose packages were installed with
      compiled bytecode; 0 keeps the caller's setting (every process compiles from source).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from bench import baseline as copy_baseline
from bench.memory import TreeSampler
from bench.report import judge_targets, least_squares, median, ratio, render_markdown

REPO = Path(__file__).resolve().parents[1]
PG_PLANNER_WORKAROUND = "-c enable_mergejoin=off -c enable_nestloop=off"
DBT_STAGES = {"dbt", "dag", "dag_rerun", "month", "month_parallel"}
ALL_PARTS = (
    "scales",
    "baseline",
    "fixed",
    "e2e",
    "demo",
    "gxbatch",
    "history",
    "roster",
    "hostile",
    "profile",
)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def _scale_name(scale: float) -> str:
    return f"{scale:g}"


class Config:
    def __init__(self) -> None:
        self.scales = sorted(_floats(_env("BENCH_SCALES", "0.25,0.5,1")))
        self.repeats = max(1, int(_env("BENCH_REPEATS", "3")))
        self.repeats_big = max(1, int(_env("BENCH_REPEATS_BIG", str(self.repeats))))
        self.parts = [p.strip() for p in _env("BENCH_PARTS", ",".join(ALL_PARTS)).split(",")]
        unknown = set(self.parts) - set(ALL_PARTS)
        if unknown:
            raise SystemExit(f"BENCH_PARTS: unknown part(s) {sorted(unknown)}; known {ALL_PARTS}")
        self.engines = [e.strip() for e in _env("BENCH_ENGINES", "postgres,duckdb").split(",")]
        self.fixed_scale = float(_env("BENCH_FIXED_SCALE", "0.0005"))
        self.history_scale = float(_env("BENCH_HISTORY_SCALE", "0.2"))
        self.history_months = int(_env("BENCH_HISTORY_MONTHS", "12"))
        self.history_timed = [int(x) for x in _env("BENCH_HISTORY_TIMED", "1,6,12").split(",")]
        self.history_repeats = max(1, int(_env("BENCH_HISTORY_REPEATS", "3")))
        self.history_engine = os.environ.get("BENCH_HISTORY_ENGINE", "").strip()
        self.roster_rows = int(_env("BENCH_ROSTER_ROWS", "500000"))
        self.workers = int(_env("BENCH_WORKERS", "2"))
        self.period = _env("BENCH_PERIOD", "2025-03")
        self.seed = int(_env("BENCH_SEED", "42"))
        self.pg_admin = _env("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
        self.results_dir = Path(_env("BENCH_RESULTS_DIR", str(REPO / "bench" / "results")))
        self.work_root = Path(_env("BENCH_WORK_DIR", str(REPO / "bench" / "work")))
        self.keep_work = _env("BENCH_KEEP_WORK", "0") in ("1", "true", "yes")
        self.districts = self._districts(_env("BENCH_DISTRICTS", ""))
        self.bytecode_cache = _env("BENCH_BYTECODE_CACHE", "1") in ("1", "true", "yes")
        self.timeout = float(_env("BENCH_TIMEOUT", "3600"))
        self.timeout_dbt = float(_env("BENCH_TIMEOUT_DBT", "480"))
        self.rss_interval = float(_env("BENCH_RSS_INTERVAL", "0.2"))
        self.pg_workaround_mode = _env("BENCH_PG_WORKAROUND", "auto")
        if self.pg_workaround_mode not in ("auto", "0", "1"):
            raise SystemExit("BENCH_PG_WORKAROUND must be auto, 0 or 1")

    @staticmethod
    def _districts(text: str) -> list[str]:
        if not text:
            return []
        from sinergi import reference

        codes = sorted(reference.district_codes())
        if text.isdigit() and len(text) < 4:
            return codes[: int(text)]
        chosen = [c.strip() for c in text.split(",") if c.strip()]
        unknown = set(chosen) - set(codes)
        if unknown:
            raise SystemExit(f"BENCH_DISTRICTS: unknown district code(s) {sorted(unknown)}")
        return chosen

    def as_dict(self) -> dict:
        return {
            "scales": self.scales,
            "repeats": self.repeats,
            "repeats_big": self.repeats_big,
            "history_repeats": self.history_repeats,
            "parts": self.parts,
            "engines": self.engines,
            "fixed_scale": self.fixed_scale,
            "history_scale": self.history_scale,
            "history_months": self.history_months,
            "history_timed": self.history_timed,
            "roster_rows": self.roster_rows,
            "period": self.period,
            "seed": self.seed,
            "districts": self.districts,
            "districts_label": ", ".join(self.districts) if self.districts else "all 38",
            "bytecode_cache": self.bytecode_cache,
            "rss_interval": self.rss_interval,
            "caller_pythondontwritebytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
        }


# -- machine, git, versions ------------------------------------------------------------------


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


_DAG_EVENT = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT[\d:.]+)Z .*\[DAG TEST\] (?P<what>starting|end task) "
    r"task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)"
)
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+)Z ")


def tasks_running_at(log: Path, when: float | None) -> list[str]:
    """The tasks a ``dag.test`` run had started and not yet ended at ``when`` (epoch seconds),
    from its ``[DAG TEST]`` log lines (UTC); a mapped task as ``task[index]``."""
    if when is None:
        return []
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    moment = datetime.fromtimestamp(when, tz=UTC).replace(tzinfo=None)
    running: dict[tuple[str, str], None] = {}
    for line in lines:
        event = _DAG_EVENT.match(line)
        if not event:
            continue
        if datetime.fromisoformat(event.group("ts")) > moment:
            break
        key = (event.group("task"), event.group("index"))
        if event.group("what") == "starting":
            running[key] = None
        else:
            running.pop(key, None)
    return [task if index == "-1" else f"{task}[{index}]" for task, index in running]


def dbt_target_dir(data_dir: Path) -> Path:
    """A stage's dbt target folder (``$DBT_TARGET_PATH``), inside its data dir."""
    return data_dir / "dbt-target"


def dag_breakdown(log: Path) -> dict | None:
    """Per task group time of a ``dag.test`` run, from the ``[DAG TEST]`` log lines."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    first = last = None
    started: dict[tuple[str, str], datetime] = {}
    groups: dict[str, dict] = {}
    for line in lines:
        stamp = _TIMESTAMP.match(line)
        if not stamp:
            continue
        when = datetime.fromisoformat(stamp.group(1))
        first = first or when
        last = when
        event = _DAG_EVENT.match(line)
        if not event:
            continue
        key = (event.group("task"), event.group("index"))
        if event.group("what") == "starting":
            started[key] = when
        elif key in started:
            task = event.group("task")
            group = (
                "dbt (cosmos: one task per node)"
                if task.startswith("dbt.")
                else ("district tasks" if task == "validate_and_load" else task)
            )
            item = groups.setdefault(group, {"tasks": 0, "seconds": 0.0})
            item["tasks"] += 1
            item["seconds"] += (when - started.pop(key)).total_seconds()
    if first is None:
        return None
    in_tasks = sum(g["seconds"] for g in groups.values())
    span = (last - first).total_seconds()
    return {
        "logged_span_seconds": round(span, 2),
        "between_tasks_seconds": round(span - in_tasks, 2),
        "groups": {
            k: {"tasks": v["tasks"], "seconds": round(v["seconds"], 2)} for k, v in groups.items()
        },
    }


def active_workarounds(stage: str, env: dict) -> list[str]:
    """The bench work-arounds that touched this PostgreSQL stage (for the results)."""
    out = []
    if PG_PLANNER_WORKAROUND in env.get("PGOPTIONS", "") and stage in DBT_STAGES:
        out.append("pg_planner")
    return out


def machine_info() -> dict:
    ram_kb = 0
    cpu_model = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_kb = int(line.split()[1])
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gb": ram_kb / 1024 / 1024,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_start": _load(),
    }


def _load() -> str:
    try:
        return "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (
        "apache-airflow",
        "great-expectations",
        "dbt-core",
        "dbt-postgres",
        "dbt-duckdb",
        "duckdb",
        "pandas",
        "pyarrow",
        "psycopg",
    ):
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


# -- child processes ------------------------------------------------------------------------


class ChildExit(NamedTuple):
    code: int
    wall: float
    usage: Any  # os.wait4's resource.struct_rusage
    timed_out: bool
    tree: dict  # bench.memory.TreeSampler.summary(): peak of the summed RSS of the process tree


def wait_child(
    command: list[str], env: dict, log: Path, timeout: float, *, interval: float = 0.2
) -> ChildExit:
    """Start ``command`` in its own process group and reap it with ``os.wait4`` (wall time,
    CPU time, ``ru_maxrss`` of its largest process) while a thread samples the sum of RSS over
    its whole process tree; past ``timeout`` the group is killed."""
    timed_out = threading.Event()
    with open(log, "ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a timeout kills pool workers too
        )
        sampler = TreeSampler(proc.pid, interval).start()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            tree = sampler.stop()
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildExit(proc.returncode, wall, usage, timed_out.is_set(), tree)


def _tree_peak(runs: list[dict]) -> float | None:
    return max(
        (r["tree_peak_rss_mb"] for r in runs if r.get("tree_peak_rss_mb") is not None),
        default=None,
    )


# -- the bench ------------------------------------------------------------------------------


class Bench:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.started = datetime.now(UTC)
        self.stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        self.run_id = uuid.uuid4().hex[:8]
        self.work = config.work_root / f"{self.stamp}-{self.run_id}"
        self.work.mkdir(parents=True, exist_ok=True)
        self.logs = self.work / "logs"
        self.logs.mkdir()
        self.counter = 0
        self.runs: list[dict] = []
        self.errors: list[str] = []
        self.databases: list[str] = []
        self.load_max = 0.0
        sha = _git("rev-parse", "--short", "HEAD") or "nogit"
        self.git = {
            "sha": sha,
            "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        }
        self.basename = f"{self.stamp}-{sha}"
        self.psql = shutil.which("psql")
        self.pg_ok, self.pg_reason = self._postgres_available()
        self.engines = [
            e for e in config.engines if e == "duckdb" or (e == "postgres" and self.pg_ok)
        ]
        if "postgres" in config.engines and not self.pg_ok:
            self.errors.append(f"PostgreSQL engine skipped: {self.pg_reason}")
        self.primary = "postgres" if "postgres" in self.engines else "duckdb"
        self.baseline_ok = bool(self.psql) and self.pg_ok
        self.baseline_reason = (
            "" if self.baseline_ok else ("psql not found" if not self.psql else self.pg_reason)
        )
        self.data: dict[str, Any] = {}
        self.airflow_template: Path | None = None
        self.pg_planner_workaround = self.config.pg_workaround_mode == "1"
        self.pg_dbt_broken = False
        self.findings: list[str] = []

    @classmethod
    def offline(cls, config: Config, runs: list[dict], engines: list[str]) -> Bench:
        """A bench over recorded runs only (no work folder, no PostgreSQL), to summarise and
        judge them again: ``bench.summarise()`` then ``bench.data``. For the tests."""
        bench = cls.__new__(cls)
        bench.config = config
        bench.runs = list(runs)
        bench.engines = list(engines)
        bench.primary = "postgres" if "postgres" in engines else "duckdb"
        bench.errors, bench.findings, bench.databases = [], [], []
        bench.data = {"meta": {"config": dict(config.as_dict(), engines=bench.engines)}}
        return bench

    # -- infrastructure ----------------------------------------------------------------------

    def _postgres_available(self) -> tuple[bool, str]:
        try:
            import psycopg

            with psycopg.connect(self.config.pg_admin, connect_timeout=5) as conn:
                conn.execute("select 1")
            return True, ""
        except Exception as problem:  # noqa: BLE001 - any failure means: no PostgreSQL
            return False, f"PostgreSQL not reachable ({type(problem).__name__})"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.config.pg_admin, autocommit=True) as conn:
            conn.execute(statement)

    def pg_url(self, name: str) -> str:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(self.config.pg_admin)
        return urlunsplit(parts._replace(path="/" + name))

    def new_database(self, suffix: str, template: str | None = None) -> str:
        name = re.sub(r"[^a-z0-9_]", "_", f"sinergi_bench_{self.run_id}_{suffix}".lower())
        self.drop_database(name)
        extra = f' template "{template}"' if template else ""
        self._admin(f'create database "{name}"{extra}')
        self.databases.append(name)
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'drop database if exists "{name}" with (force)')
        if name in self.databases:
            self.databases.remove(name)

    def fresh_warehouse(self, engine: str, suffix: str) -> str:
        if engine == "postgres":
            return self.pg_url(self.new_database(suffix))
        path = self.work / "duckdb" / f"{suffix}.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(f"{suffix}.duckdb*"):
            leftover.unlink()
        return f"duckdb:///{path}"

    def stage_env(
        self,
        data_dir: Path,
        inbox: Path | None,
        warehouse: str,
        airflow_home: Path | None = None,
        **extra: str,
    ) -> dict:
        from sinergi.airflow_env import airflow_defaults

        env = dict(os.environ)
        for name, value in airflow_defaults().items():
            env.setdefault(name, value)
        env.update(
            {
                "AIRFLOW_HOME": str(airflow_home or self.work / "airflow-unused"),
                "SINERGI_DATA_DIR": str(data_dir),
                "SINERGI_WAREHOUSE": warehouse,
                "SINERGI_PII_KEY": "bench-only-pii-key-" + self.run_id,
                "SINERGI_DEADLINE_ALERTS": "false",
                "DBT_TARGET_PATH": str(dbt_target_dir(data_dir)),
                "DBT_LOG_PATH": str(data_dir / "dbt-logs"),
                "SINERGI_DBT_MANIFEST": str(self.work / "dbt-manifest" / "manifest.json"),
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
                ),
            }
        )
        if self.config.bytecode_cache:
            # A pip-installed image has compiled bytecode; without it every task process
            # recompiles GX, dbt and Airflow from source (seconds per process). The cache lives
            # in bench/work, never in .venv.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.config.work_root / "pycache")
        if self.pg_planner_workaround and warehouse.startswith("postgres"):
            env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " " + PG_PLANNER_WORKAROUND).strip()
        for name in ("SINERGI_WORK_DIR", "SINERGI_REPORTS_DIR", "SINERGI_ARCHIVE_DIR"):
            env.pop(name, None)  # derived from SINERGI_DATA_DIR unless given in extra
        if inbox is not None:
            env["SINERGI_INBOX"] = str(inbox)
        env.update(extra)
        return env

    def _note_load(self) -> None:
        with contextlib.suppress(OSError):
            self.load_max = max(self.load_max, os.getloadavg()[0])

    def _wait(self, command: list[str], env: dict, log: Path, timeout: float) -> ChildExit:
        return wait_child(command, env, log, timeout, interval=self.config.rss_interval)

    def child(
        self,
        stage: str,
        spec: dict,
        env: dict,
        *,
        part: str,
        scale: float | None = None,
        engine: str | None = None,
        repeat: int | None = None,
        counted: bool = True,
        label: str | None = None,
        timeout: float | None = None,
    ) -> dict:
        """Run one stage in a fresh interpreter; returns (and records) its measurement."""
        self.counter += 1
        name = f"{self.counter:03d}-{part}-{label or stage}"
        if scale is not None:
            name += f"-s{_scale_name(scale)}"
        if engine:
            name += f"-{engine}"
        if repeat is not None:
            name += f"-r{repeat}"
        spec = dict(spec, stage=stage, result=str(self.work / "specs" / f"{name}.result.json"))
        spec_path = self.work / "specs" / f"{name}.json"
        spec_path.parent.mkdir(exist_ok=True)
        spec_path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
        log = self.logs / f"{name}.log"
        print(f"  [{time.strftime('%H:%M:%S')}] {name} ...", end="", flush=True)
        code, wall, usage, timed_out, tree = self._wait(
            [sys.executable, "-m", "bench.stages", str(spec_path)],
            env,
            log,
            timeout or self.config.timeout,
        )
        self._note_load()
        try:
            result = json.loads(Path(spec["result"]).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            result = {}
        if timed_out:
            limit = timeout or self.config.timeout
            result.setdefault("error", f"killed after the {limit:.0f} s timeout")
        run = {
            "part": part,
            "stage": stage,
            "label": label or stage,
            "scale": scale,
            "engine": engine,
            "repeat": repeat,
            "counted": counted,
            "ok": code == 0 and not timed_out,
            "workarounds": active_workarounds(stage, env)
            if env.get("SINERGI_WAREHOUSE", "").startswith("postgres")
            else [],
            "exit_code": code,
            "timed_out": timed_out,
            "wall_seconds": round(wall, 4),
            "inner_seconds": result.get("seconds"),
            "cpu_user_seconds": round(usage.ru_utime, 3),
            "cpu_sys_seconds": round(usage.ru_stime, 3),
            "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
            # the sum of RSS over the whole process tree (workers included), sampled
            "tree_peak_rss_mb": tree["peak_mb"],
            # ... and of PSS (shared pages divided among the processes sharing them)
            "tree_peak_pss_mb": tree.get("peak_pss_mb"),
            "tree_processes_at_peak": tree["processes_at_peak"],
            # at the PSS peak: each process's share (MB) and when (epoch seconds)
            "tree_peak_pss_processes": tree.get("peak_pss_processes", []),
            "tree_peak_pss_at": tree.get("peak_pss_at"),
            "tree_max_processes": tree["max_processes"],
            "tree_samples": tree["samples"],
            "log": str(log.relative_to(self.work)),
            "result": {k: v for k, v in result.items() if k not in ("seconds", "profile")},
        }
        if "profile" in result:
            run["profile"] = result["profile"]
        self.runs.append(run)
        status = "ok" if run["ok"] else f"FAILED ({result.get('error', 'exit ' + str(code))})"
        print(
            f" {wall:.1f} s, {run['max_rss_mb']:.0f} MB (tree {tree['peak_mb']:.0f} MB RSS, "
            f"{tree.get('peak_pss_mb') or 0:.0f} MB PSS, {tree['max_processes']} processes), "
            f"{status}",
            flush=True,
        )
        if not run["ok"]:
            self.errors.append(f"{name}: {result.get('error') or f'exit code {code}'} (log: {log})")
        return run

    def psql_run(self, script: Path, database: str, log: Path) -> tuple[int, float, Any, str, str]:
        """``psql -f script`` as a child process (wait4); stdout/stderr kept for parsing."""
        out, err = log.with_suffix(".out"), log.with_suffix(".err")
        command = [
            self.psql,
            "-X",
            "-v",
            "ON_ERROR_STOP=0",
            "-d",
            self.pg_url(database),
            "-f",
            str(script),
        ]
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            started = time.perf_counter()
            proc = subprocess.Popen(command, cwd=REPO, stdout=stdout, stderr=stderr)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        self._note_load()
        return (
            proc.returncode,
            wall,
            usage,
            out.read_text(errors="replace"),
            err.read_text(errors="replace"),
        )

    def save(self, final: bool = False) -> None:
        """Write the JSON (after every part, so a crash keeps what was measured)."""
        self.data["meta"]["machine"]["load_max"] = f"{self.load_max:.2f}"
        self.data["runs"] = self.runs
        self.data["errors"] = self.errors
        self.data["findings"] = self.findings
        results = self.config.results_dir
        results.mkdir(parents=True, exist_ok=True)
        path = results / f"{self.basename}.json"
        path.write_text(json.dumps(self.data, indent=1, default=str), encoding="utf-8")
        if final:
            markdown = render_markdown(self.data)
            (results / f"{self.basename}.md").write_text(markdown, encoding="utf-8")
            (results / "latest.md").write_text(markdown, encoding="utf-8")

    # -- parts ---------------------------------------------------------------------------

    def run(self) -> int:
        config = self.config
        command = " ".join(
            [
                f"{k}={shlex.quote(v)}"
                for k, v in sorted(os.environ.items())
                if k.startswith("BENCH_")
            ]
            + [shlex.quote(Path(sys.executable).name), "-m", "bench.run", *sys.argv[1:]]
        )
        self.data = {
            "meta": {
                "started_at": self.started.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "run_id": self.run_id,
                "git": self.git,
                "machine": machine_info(),
                "versions": versions(),
                "config": dict(
                    config.as_dict(),
                    engines=self.engines,
                    baseline=self.baseline_ok and "baseline" in config.parts,
                    baseline_skip_reason=self.baseline_reason or "not in BENCH_PARTS",
                ),
                "command": command,
                "work_dir": str(self.work),
            }
        }
        if self.psql:
            self.data["meta"]["psql_version"] = subprocess.run(
                [self.psql, "--version"], capture_output=True, text=True
            ).stdout.strip()
        print(f"bench {self.basename}: work in {self.work}", flush=True)
        started = time.perf_counter()
        try:
            if config.bytecode_cache:  # fill the cache before anything is timed
                env = self.stage_env(
                    self.work / "warmup-data", None, f"duckdb://{self.work / 'unused.duckdb'}"
                )
                self.child("warmup", {}, env, part="setup", counted=False)
            if "scales" in config.parts:
                self.part_scales()
            if "fixed" in config.parts or "e2e" in config.parts:
                self.part_dag()
            if "demo" in config.parts:
                self.part_demo()
            if "gxbatch" in config.parts:
                self.part_gxbatch()
            if "history" in config.parts:
                self.part_history()
            if "roster" in config.parts:
                self.part_roster()
            if "hostile" in config.parts:
                from bench.hostile import measure

                self.data["hostile"] = measure(self.work / "hostile")
                self.save()
            if "profile" in config.parts:
                self.part_profile()
        except KeyboardInterrupt:
            self.errors.append("interrupted")
            raise
        except Exception as problem:  # noqa: BLE001 - keep what was measured
            import traceback

            traceback.print_exc()
            self.errors.append(f"bench aborted: {type(problem).__name__}: {problem}")
        finally:
            for name in list(self.databases):
                try:
                    self.drop_database(name)
                except Exception as problem:  # noqa: BLE001
                    self.errors.append(f"could not drop database {name}: {problem}")
            self.data["meta"]["total_seconds"] = round(time.perf_counter() - started, 1)
            self.data["meta"]["machine"]["load_end"] = _load()
            self.data["meta"]["finished_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            self.summarise()
            self.save(final=True)
            if not config.keep_work:
                shutil.rmtree(self.work, ignore_errors=True)
        results = config.results_dir
        print(f"results: {results / (self.basename + '.md')} (and .json, latest.md)")
        return 0 if not self.errors else 1

    def _districts_spec(self) -> dict:
        return {"districts": self.config.districts} if self.config.districts else {}

    def generate(self, out: Path, periods: list[str], scale: float, part: str) -> dict:
        env = self.stage_env(
            self.work / "generate-data", None, f"duckdb://{self.work / 'unused.duckdb'}"
        )
        run = self.child(
            "generate",
            {"out": str(out), "periods": periods, "scale": scale, "seed": self.config.seed},
            env,
            part=part,
            scale=scale,
            counted=False,
        )
        if not run["ok"]:
            raise RuntimeError(f"generating the scale-{scale} inbox failed (see {run['log']})")
        return run

    def part_scales(self) -> None:
        config = self.config
        period = config.period
        self.scale_dirs: dict[float, Path] = {}
        for scale in config.scales:
            print(f"scale {scale}", flush=True)
            sdir = self.work / f"scale-{_scale_name(scale)}"
            inbox = sdir / "inbox"
            self.generate(inbox, [period], scale, "scales")
            self.scale_dirs[scale] = sdir
            common = {"period": period, **self._districts_spec()}

            # validate needs the warehouse tables (known_versions); the load is captured.
            vurl = self.fresh_warehouse("duckdb", f"validate-s{_scale_name(scale)}")
            vdata = sdir / "validate-data"
            venv = self.stage_env(vdata, inbox, vurl)
            self.child("prepare", common, venv, part="scales", scale=scale, counted=False)
            for r in range(config.repeats):
                self.child("read", common, venv, part="scales", scale=scale, repeat=r)
            captured = sdir / "judged.json"
            for r in range(config.repeats_big):
                shutil.rmtree(vdata, ignore_errors=True)  # no archive/spill left from before
                self.child(
                    "validate",
                    dict(common, out=str(captured)),
                    venv,
                    part="scales",
                    scale=scale,
                    repeat=r,
                )
            if not captured.exists():
                self.errors.append(f"scale {scale}: validate produced nothing; load/dbt skipped")
            else:
                for engine in self.engines:
                    self.load_and_dbt(scale, engine, inbox, captured, common)
            # the same judging in one process: where its time goes (information, one run)
            shutil.rmtree(vdata, ignore_errors=True)
            self.child(
                "validate_one_process",
                dict(common, out=str(sdir / "judged-one-process.json")),
                venv,
                part="scales",
                scale=scale,
                repeat=0,
            )
            self.save()
            if "baseline" in config.parts and self.baseline_ok:
                self.bare_copy(scale, self.pipeline_files(inbox), f"s{_scale_name(scale)}")
                self.save()

    def load_and_dbt(self, scale, engine, inbox, captured, common) -> None:
        config = self.config
        for r in range(max(config.repeats, config.repeats_big)):
            url = self.fresh_warehouse(
                engine, f"{engine[:2]}_s{_scale_name(scale)}".replace(".", "_")
            )
            edata = inbox.parent / f"{engine}-data"
            shutil.rmtree(edata, ignore_errors=True)
            env = self.stage_env(edata, inbox, url)
            prep = self.child(
                "prepare", common, env, part="scales", scale=scale, engine=engine, counted=False
            )
            if not prep["ok"]:
                return
            self.child(
                "load",
                dict(common, captured=str(captured)),
                env,
                part="scales",
                scale=scale,
                engine=engine,
                repeat=r,
            )
            if r < config.repeats_big:
                self.dbt_stage(scale, engine, edata, inbox, url, common, r)
        if engine == "postgres":
            self.drop_database(url.rsplit("/", 1)[1])

    def dbt_stage(self, scale, engine, data_dir, inbox, url, common, repeat) -> None:
        """dbt build with a time limit; on PostgreSQL a run-away build is diagnosed and, in
        auto mode, measured again with the planner work-around (hash joins only)."""
        if engine == "postgres" and self.pg_dbt_broken:
            return
        kwargs = {"part": "scales", "scale": scale, "engine": engine, "repeat": repeat}
        env = self.stage_env(data_dir, inbox, url)
        run = self.child("dbt", common, env, timeout=self.config.timeout_dbt, **kwargs)
        if engine != "postgres" or run["ok"] or not run.get("timed_out"):
            return
        database = url.rsplit("/", 1)[1]
        running = self.pg_running(database)
        self.pg_terminate(database)
        self.errors.pop()  # a finding about the pipeline, reported as such
        earlier = [
            f"{r['wall_seconds']:.0f} s at scale {r['scale']}"
            for r in self.runs
            if r["stage"] == "dbt" and r["engine"] == "postgres" and r["ok"]
        ]
        finding = (
            f"dbt build on PostgreSQL did not finish within {self.config.timeout_dbt:.0f} s at "
            f"scale {scale}{' (it took ' + ', '.join(earlier) + ')' if earlier else ''}; "
            f"running when it was stopped: {running or 'nothing (?)'}."
        )
        if self.config.pg_workaround_mode != "auto" or self.pg_planner_workaround:
            self.pg_dbt_broken = True
            self.findings.append(finding + " PostgreSQL dbt is not measured further.")
            return
        self.pg_planner_workaround = True
        self.findings.append(
            finding + " Fresh tables have no planner statistics when the next model reads "
            "them; every later PostgreSQL stage that runs dbt (dbt, DAG runs, history months) "
            "is measured "
            f"with PGOPTIONS='{PG_PLANNER_WORKAROUND}' (bench-only; BENCH_PG_WORKAROUND=0 "
            "disables it)."
        )
        env = self.stage_env(data_dir, inbox, url)
        rerun = self.child("dbt", common, env, timeout=self.config.timeout_dbt, **kwargs)
        if not rerun["ok"]:
            self.pg_terminate(database)
            self.pg_dbt_broken = True
            self.findings.append(
                f"dbt on PostgreSQL at scale {scale} failed with the planner work-around too; "
                "PostgreSQL dbt is not measured further."
            )

    def pg_running(self, database: str) -> str:
        """What the server is executing in ``database`` (dbt's node id when it says)."""
        import psycopg

        with psycopg.connect(self.config.pg_admin, autocommit=True) as conn:
            rows = conn.execute(
                "select extract(epoch from now() - query_start)::int, query "
                "from pg_stat_activity where datname = %s and state = 'active'",
                (database,),
            ).fetchall()
        out = []
        for seconds, query in rows:
            node = re.search(r'"node_id": "([^"]+)"', query or "")
            what = node.group(1) if node else " ".join((query or "").split())[:120]
            out.append(f"{what} for {seconds} s")
        return "; ".join(out)

    def pg_terminate(self, database: str) -> None:
        self._admin(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            f"where datname = '{database}' and pid <> pg_backend_pid()"
        )

    def pipeline_files(self, inbox: Path) -> list[Path]:
        """The dataset files the pipeline judges (same scan as ``process_district``)."""
        from sinergi import reference
        from sinergi.inbox import scan_district
        from sinergi.periods import Period

        period = Period.parse(self.config.period)
        codes = self.config.districts or sorted(reference.district_codes())
        files = []
        for code in codes:
            found = scan_district(inbox, period, code)
            for _, paths in sorted(found.files.items()):
                files += sorted(paths)
        return files

    def bare_copy(
        self, scale: float | None, files: list[Path], tag: str, part: str = "scales"
    ) -> dict:
        """Probe once (untimed), then time ``psql \\copy`` of the files psql accepts."""
        database = self.new_database(f"copy_{tag}".replace(".", "_"))
        items = [copy_baseline.describe(p, f"copy_{i:04d}") for i, p in enumerate(files)]
        folder = self.work / "copy" / tag
        folder.mkdir(parents=True, exist_ok=True)
        create = folder / "create.sql"
        create.write_text(copy_baseline.create_script(items), encoding="utf-8")
        script = folder / "copy.sql"
        text, by_line = copy_baseline.copy_script(items)
        script.write_text(text, encoding="utf-8")
        self.psql_run(create, database, folder / "create.log")
        _, probe_wall, _, out, err = self.psql_run(script, database, folder / "probe.log")
        copy_baseline.apply_probe(out, err, by_line)
        text, by_line = copy_baseline.copy_script(items)
        script.write_text(text, encoding="utf-8")
        xlsx = sum(1 for i in items if i.skipped == "xlsx")
        copied_files = sum(1 for i in items if not i.skipped)
        other_skipped = len(items) - xlsx - copied_files
        summary = {
            "files": len(items),
            "copied_files": copied_files,
            "xlsx_skipped": xlsx,
            "psql_rejected": other_skipped,
            "probe_seconds": round(probe_wall, 3),
            "skipped": [
                {"file": str(Path(i.path).relative_to(self.work)), "why": i.skipped}
                for i in items
                if i.skipped
            ],
        }
        for r in range(self.config.repeats):
            self.psql_run(create, database, folder / f"create-{r}.log")
            code, wall, usage, out, err = self.psql_run(script, database, folder / f"copy-{r}.log")
            rows = copy_baseline.copied_rows(out)
            errors = [line for line in err.splitlines() if "ERROR" in line]
            run = {
                "part": part,
                "stage": "bare_copy",
                "scale": scale,
                "engine": "psql",
                "repeat": r,
                "counted": True,
                "ok": code == 0 and not errors,
                "exit_code": code,
                "wall_seconds": round(wall, 4),
                "inner_seconds": None,
                "cpu_user_seconds": round(usage.ru_utime, 3),
                "cpu_sys_seconds": round(usage.ru_stime, 3),
                "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
                "result": dict(summary, rows=rows, tag=tag),
            }
            self.runs.append(run)
            print(
                f"  [{time.strftime('%H:%M:%S')}] bare copy {tag} r{r}: {wall:.2f} s, "
                f"{rows:,} rows, {copied_files} files (skipped: {xlsx} xlsx, "
                f"{other_skipped} rejected by psql)",
                flush=True,
            )
            if errors:
                self.errors.append(f"bare copy {tag}: psql errors in a timed run: {errors[:3]}")
        self.drop_database(database)
        return summary

    # DAG runs: fixed cost (tiny month) and end to end (largest month) -----------------------

    @property
    def setup_data_dir(self) -> Path:
        """The data dir of the DAG runs' set-up (``dag_setup``: what ``make setup`` leaves)."""
        return self.work / "dag-setup-data"

    def airflow_home(self, name: str) -> Path:
        """A migrated Airflow home (the migration is set-up, not part of a run)."""
        if self.airflow_template is None:
            template = self.work / "airflow-template"
            # dbt parse opens no connection; the URL only selects the profile's target.
            url = (
                self.pg_url(f"sinergi_bench_{self.run_id}_parse_only")
                if self.primary == "postgres"
                else self.fresh_warehouse("duckdb", "dag-setup")
            )
            env = self.stage_env(self.setup_data_dir, None, url, airflow_home=template)
            run = self.child("dag_setup", {}, env, part="fixed", counted=False)
            if not run["ok"]:
                raise RuntimeError("Airflow/dbt set-up for the DAG runs failed")
            self.airflow_template = template
        home = self.work / name
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(self.airflow_template, home)
        cfg = home / "airflow.cfg"  # airflow.cfg holds absolute paths into its own home
        if cfg.exists():
            text = cfg.read_text(encoding="utf-8")
            cfg.write_text(text.replace(str(self.airflow_template), str(home)), encoding="utf-8")
        return home

    def install_dag_manifest(self, env: dict) -> None:
        """Put the set-up's dbt manifest (``dag_setup`` wrote ``$SINERGI_DBT_MANIFEST``) where
        the run's DAG reads it (``$DBT_TARGET_PATH/dag/``), as ``make setup`` or an image leaves
        it. Without it ``sinergi run`` parses the project first (``ensure_manifest``: ~8 s), a
        cost no installation pays per month. The parse that set-up kept
        (``$DBT_TARGET_PATH/parse-cache/``) goes with it, as ``make setup`` leaves it in the
        target folder: the month's build on its new warehouse gets it moved
        (``sinergi.dbt_parse_moves``) instead of parsing the project in full (~6 s), which an
        installation pays only on its first build, never per month."""
        target = Path(env["DBT_TARGET_PATH"])
        dest = target / "dag" / "manifest.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(env["SINERGI_DBT_MANIFEST"], dest)  # keeps its time: newer than the project
        kept = dbt_target_dir(self.setup_data_dir) / "parse-cache"
        if kept.is_dir():
            shutil.copytree(kept, target / "parse-cache", dirs_exist_ok=True)

    def dag_run(
        self, inbox: Path, tag: str, part: str, scale: float, repeat: int, rerun: bool = False
    ) -> dict:
        """The real DAG on a fresh warehouse, data dir and Airflow home; with ``rerun`` the same
        DAG again right after it on the same inbox, data dir, warehouse and Airflow home
        (nothing new arrived: stage ``dag_rerun``). The warehouse is dropped afterwards."""
        engine = "duckdb" if self.pg_dbt_broken else self.primary
        url = self.fresh_warehouse(engine, f"dag_{tag}".replace(".", "_"))
        data = self.work / f"dag-{tag}-data"
        shutil.rmtree(data, ignore_errors=True)
        env = self.stage_env(data, inbox, url, airflow_home=self.airflow_home(f"airflow-{tag}"))
        self.install_dag_manifest(env)
        kwargs = {"part": part, "scale": scale, "engine": engine, "repeat": repeat}
        try:
            run = self.child("dag", {"period": self.config.period}, env, **kwargs)
            run["dag_breakdown"] = dag_breakdown(self.work / run["log"])
            run["tree_peak_tasks"] = tasks_running_at(
                self.work / run["log"], run.get("tree_peak_pss_at")
            )
            if rerun and not run["ok"]:
                self.errors.append(f"{part}: the first DAG run failed, so no re-run was timed")
            elif rerun:
                again = self.child("dag_rerun", {"period": self.config.period}, env, **kwargs)
                again["dag_breakdown"] = dag_breakdown(self.work / again["log"])
                again["tree_peak_tasks"] = tasks_running_at(
                    self.work / again["log"], again.get("tree_peak_pss_at")
                )
        finally:
            if engine == "postgres":
                self.drop_database(url.rsplit("/", 1)[1])
        return run

    def part_dag(self) -> None:
        config = self.config
        if "fixed" in config.parts:
            print(f"fixed cost: real DAG on a scale-{config.fixed_scale} month", flush=True)
            inbox = self.work / "fixed" / "inbox"
            self.generate(inbox, [config.period], config.fixed_scale, "fixed")
            for r in range(config.repeats_big):
                self.dag_run(inbox, f"fixed-r{r}", "fixed", config.fixed_scale, r, rerun=r == 0)
            self.save()
        if "e2e" in config.parts:
            scale = max(config.scales)
            print(f"end to end: real DAG on the scale-{scale} month", flush=True)
            inbox = getattr(self, "scale_dirs", {}).get(scale)
            inbox = inbox / "inbox" if inbox else None
            if inbox is None or not inbox.exists():
                inbox = self.work / "e2e" / "inbox"
                self.generate(inbox, [config.period], scale, "e2e")
            self.dag_run(inbox, "e2e", "e2e", scale, 0, rerun=True)
            self.save()

    # `make demo` (sinergi demo) from a fresh clone ----------------------------------------

    def demo_env(self, root: Path) -> dict:
        """The environment ``make demo`` gives ``sinergi demo`` in a fresh clone, with every
        place it writes moved under ``root``: data dir (inbox, DuckDB warehouse, reports, the
        development PII key), Airflow home, dbt's target and log folders. No other
        ``SINERGI_*`` variable of the caller's shell is passed on (a fresh clone has none)."""
        env = self.stage_env(root / "data", None, "", airflow_home=root / "airflow")
        for name in [n for n in env if n.startswith("SINERGI_")]:
            del env[name]
        env["SINERGI_DATA_DIR"] = str(root / "data")
        return env

    def part_demo(self) -> None:
        root = self.work / "demo"
        print(
            "demo: `sinergi demo` (make demo after make setup) in a fresh data dir, warehouse "
            "and Airflow home, then again with nothing changed",
            flush=True,
        )
        shutil.rmtree(root, ignore_errors=True)
        env = self.demo_env(root)
        setup = self.child("demo_setup", {}, env, part="demo", counted=False, label="setup")
        if not setup["ok"]:
            return
        for label in ("demo-first", "demo-again"):
            run = self.child("demo", {"args": []}, env, part="demo", label=label)
            if not run["ok"]:
                break
        self.save()

    def part_gxbatch(self) -> None:
        """GX per file vs batched over the districts, on the fixed-cost (tiny) month."""
        config = self.config
        print("gx batching: one validation per file vs one per dataset", flush=True)
        inbox = self.work / "fixed" / "inbox"
        if not inbox.exists():
            self.generate(inbox, [config.period], config.fixed_scale, "gxbatch")
        env = self.stage_env(
            self.work / "gxbatch-data", inbox, f"duckdb:///{self.work / 'unused.duckdb'}"
        )
        spec = {"period": config.period, **self._districts_spec()}
        for r in range(config.repeats):
            self.child("gx_batching", spec, env, part="gxbatch", counted=False, repeat=r)
        self.save()

    # history -------------------------------------------------------------------------

    def part_history(self) -> None:
        config = self.config
        engine = config.history_engine or self.primary
        if engine not in self.engines:
            self.errors.append(f"history: engine {engine} unavailable; using {self.primary}")
            engine = self.primary
        year = int(config.period[:4])
        months = [
            f"{year + (m - 1) // 12:04d}-{(m - 1) % 12 + 1:02d}"
            for m in range(1, config.history_months + 1)
        ]
        print(
            f"history: {len(months)} months at scale {config.history_scale} on {engine}", flush=True
        )
        hdir = self.work / "history"
        inbox = hdir / "inbox"
        self.generate(inbox, months, config.history_scale, "history")
        suffix = "hist"
        url = self.fresh_warehouse(engine, suffix)
        data = hdir / "data"
        spec_extra = self._districts_spec()
        timed = []
        for number, period in enumerate(months, start=1):
            spec = {"period": period, **spec_extra}
            if number not in config.history_timed:
                env = self.stage_env(data, inbox, url)
                run = self.child(
                    "month_parallel",
                    dict(spec, workers=config.workers),
                    env,
                    part="history",
                    label=f"month{number:02d}-load",
                    counted=False,
                )
                if not run["ok"]:
                    raise RuntimeError(f"history month {period} failed to load")
                continue
            snapshot = self._snapshot(engine, url, f"{suffix}_snap")
            # the reports folder as month N found it: each repeat publishes into that
            reports, reports_before = data / "reports", hdir / "reports-before"
            shutil.rmtree(reports_before, ignore_errors=True)
            if reports.exists():
                shutil.copytree(reports, reports_before)
            runs = []
            for r in range(config.history_repeats):
                if r:
                    url = self._restore(engine, url, snapshot, suffix)
                    shutil.rmtree(reports, ignore_errors=True)
                    if reports_before.exists():
                        shutil.copytree(reports_before, reports)
                env = self.stage_env(
                    data, inbox, url, SINERGI_ARCHIVE_DIR=str(hdir / f"archive-{period}-r{r}")
                )
                run = self.child(
                    "month",
                    spec,
                    env,
                    part="history",
                    label=f"month{number:02d}",
                    engine=engine,
                    repeat=r,
                )
                run["month"] = number
                run["period"] = period
                runs.append(run)
            self._drop_snapshot(engine, snapshot)
            timed.append({"month": number, "period": period, "runs": runs})
            self.save()
        if engine == "postgres":
            self.drop_database(url.rsplit("/", 1)[1])
        self.data["history_raw"] = {
            "engine": engine,
            "scale": config.history_scale,
            "months": len(months),
        }

    def _snapshot(self, engine: str, url: str, name: str) -> str:
        if engine == "postgres":
            return self.new_database(name, template=url.rsplit("/", 1)[1])
        source = Path(url.split("///", 1)[1])
        target = source.with_name(f"{name}.duckdb")
        shutil.copyfile(source, target)
        return str(target)

    def _restore(self, engine: str, url: str, snapshot: str, suffix: str) -> str:
        if engine == "postgres":
            return self.pg_url(self.new_database(suffix, template=snapshot))
        path = Path(url.split("///", 1)[1])
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        shutil.copyfile(snapshot, path)
        return url

    def _drop_snapshot(self, engine: str, snapshot: str) -> None:
        if engine == "postgres":
            self.drop_database(snapshot)
        else:
            Path(snapshot).unlink(missing_ok=True)

    # roster --------------------------------------------------------------------------

    def part_roster(self) -> None:
        config = self.config
        print(f"roster: {config.roster_rows:,}-row penerima_bantuan file", flush=True)
        district = "3578"
        rdir = self.work / "roster"
        path = rdir / "inbox" / config.period / district / "penerima_bantuan.csv"
        env = self.stage_env(
            rdir / "data", rdir / "inbox", f"duckdb://{self.work / 'unused.duckdb'}"
        )
        run = self.child(
            "write_roster",
            {
                "file": str(path),
                "rows": config.roster_rows,
                "district": district,
                "period": config.period,
            },
            env,
            part="roster",
            counted=False,
        )
        if not run["ok"]:
            raise RuntimeError("writing the roster file failed")
        spec = {"period": config.period, "district": district, "dataset": "penerima_bantuan"}
        for r in range(config.repeats):
            self.child("read", dict(spec, files=[str(path)]), env, part="roster", repeat=r)
        captured = rdir / "judged.json"
        for r in range(config.repeats):
            shutil.rmtree(rdir / "spill", ignore_errors=True)
            self.child(
                "judge_file",
                dict(spec, file=str(path), spill_dir=str(rdir / "spill"), out=str(captured)),
                env,
                part="roster",
                repeat=r,
            )
        if self.pg_ok and captured.exists():
            for r in range(config.repeats):
                url = self.fresh_warehouse("postgres", "roster")
                penv = self.stage_env(rdir / "pg-data", rdir / "inbox", url)
                self.child("prepare", spec, penv, part="roster", engine="postgres", counted=False)
                self.child(
                    "load",
                    dict(spec, captured=str(captured)),
                    penv,
                    part="roster",
                    engine="postgres",
                    repeat=r,
                )
                self.drop_database(url.rsplit("/", 1)[1])
        if self.baseline_ok:
            self.data["roster_copy"] = self.bare_copy(None, [path], "roster", part="roster")
        self.save()

    # profile -------------------------------------------------------------------------

    def part_profile(self) -> None:
        config = self.config
        scale = max(config.scales)
        sdir = getattr(self, "scale_dirs", {}).get(scale)
        if sdir is None or not (sdir / "inbox").exists():
            sdir = self.work / f"profile-scale-{_scale_name(scale)}"
            self.generate(sdir / "inbox", [config.period], scale, "profile")
        print(f"profile: cProfile of validate and load at scale {scale}", flush=True)
        inbox = sdir / "inbox"
        common = {"period": config.period, **self._districts_spec()}
        vurl = self.fresh_warehouse("duckdb", "profile-validate")
        vdata = self.work / "profile-validate-data"
        shutil.rmtree(vdata, ignore_errors=True)
        venv = self.stage_env(vdata, inbox, vurl)
        self.child("prepare", common, venv, part="profile", counted=False)
        captured = self.work / "profile-judged.json"
        self.child(
            "validate",
            dict(common, out=str(captured), profile=str(self.work / "validate.prof")),
            venv,
            part="profile",
            scale=scale,
        )
        if captured.exists():
            engine = self.primary
            url = self.fresh_warehouse(engine, "profile_load")
            env = self.stage_env(self.work / "profile-load-data", inbox, url)
            self.child("prepare", common, env, part="profile", engine=engine, counted=False)
            self.child(
                "load",
                dict(common, captured=str(captured), profile=str(self.work / "load.prof")),
                env,
                part="profile",
                scale=scale,
                engine=engine,
            )
            if engine == "postgres":
                self.drop_database(url.rsplit("/", 1)[1])
        self.save()

    # summary -------------------------------------------------------------------------

    def _counted(self, **match) -> list[dict]:
        out = []
        for run in self.runs:
            if not run.get("counted") or not run.get("ok"):
                continue
            if all(run.get(k) == v for k, v in match.items()):
                out.append(run)
        return out

    def _stage_row(self, runs: list[dict], **fields) -> dict | None:
        if not runs:
            return None
        wall = median(r["wall_seconds"] for r in runs)
        rows = runs[0]["result"].get("rows")
        mid = sorted(runs, key=lambda r: r["wall_seconds"])[len(runs) // 2]
        row = dict(
            fields,
            rows=rows,
            n=len(runs),
            wall_median=wall,
            wall_all=[r["wall_seconds"] for r in runs],
            inner_median=median(r["inner_seconds"] for r in runs),
            cpu_median=median(r["cpu_user_seconds"] + r["cpu_sys_seconds"] for r in runs),
            rows_per_s=(rows / wall) if rows and wall else None,
            max_rss_mb=max(r["max_rss_mb"] for r in runs),
            tree_peak_rss_mb=_tree_peak(runs),
        )
        workarounds = sorted({w for r in runs for w in r.get("workarounds", [])})
        if workarounds:
            row["workarounds"] = workarounds
        if mid["result"].get("breakdown"):
            row["breakdown"] = mid["result"]["breakdown"]
        return row

    def summarise(self) -> None:
        config = self.config
        stages, comparison = [], []
        per_scale: dict[float, dict] = {}
        for scale in config.scales:
            info: dict[str, Any] = {}
            for stage in ("read", "validate", "validate_one_process"):
                row = self._stage_row(
                    self._counted(part="scales", stage=stage, scale=scale), scale=scale, stage=stage
                )
                if row:
                    stages.append(row)
                    info[stage] = row
            for engine in self.engines:
                for stage in ("load", "dbt"):
                    runs = self._counted(part="scales", stage=stage, scale=scale, engine=engine)
                    row = self._stage_row(runs, scale=scale, stage=stage, engine=engine)
                    if row:
                        if stage == "dbt" and info.get("validate"):
                            row["rows"] = info["validate"]["rows"]
                            row["rows_per_s"] = row["rows"] / row["wall_median"]
                        stages.append(row)
                        info[(stage, engine)] = row
            copy = self._stage_row(
                self._counted(part="scales", stage="bare_copy", scale=scale),
                scale=scale,
                stage="bare copy (psql)",
                engine="psql",
            )
            if copy:
                stages.append(copy)
                info["copy"] = copy
            per_scale[scale] = info
            for engine in self.engines:
                parts = [
                    info.get("validate"),
                    info.get(("load", engine)),
                    info.get(("dbt", engine)),
                ]
                if not all(parts):
                    continue
                pipeline = sum(p["wall_median"] for p in parts)
                info[("pipeline", engine)] = pipeline
                entry = {
                    "scale": scale,
                    "engine": engine,
                    "rows": info["validate"]["rows"],
                    "pipeline_seconds": pipeline,
                    "load_seconds": info[("load", engine)]["wall_median"],
                }
                if copy:
                    result = self._counted(part="scales", stage="bare_copy", scale=scale)[0][
                        "result"
                    ]
                    entry.update(
                        baseline_seconds=copy["wall_median"],
                        baseline_rows=copy["rows"],
                        pipeline_over_baseline=ratio(pipeline, copy["wall_median"]),
                        load_over_baseline=ratio(entry["load_seconds"], copy["wall_median"]),
                        baseline_files=" / ".join(
                            str(result[k])
                            for k in ("copied_files", "xlsx_skipped", "psql_rejected")
                        ),
                    )
                comparison.append(entry)
        self.data["stages"] = stages
        self.data["comparison"] = comparison
        self.data["fixed_marginal"] = self._fixed_marginal(per_scale)
        self.data["history"] = self._history()
        self.data["roster"] = self._roster()
        self.data["profile"] = self._profile()
        self.data["demo"] = self._demo()
        self.data["runs"] = self.runs  # judge_targets reads the records too
        self.data["targets"] = judge_targets(self.data)

    def _fixed_marginal(self, per_scale: dict) -> dict:
        fits = []
        copy_fit = None
        copy_points = [
            (info["copy"]["rows"] / 1e6, info["copy"]["wall_median"])
            for info in per_scale.values()
            if info.get("copy") and info["copy"].get("rows")
        ]
        if copy_points:
            # The bare copy's fixed cost is one psql start (milliseconds): its cost per million
            # rows at the largest scale is its marginal cost, and far less noisy than a slope
            # through a few sub-second points.
            rows, seconds = max(copy_points)
            copy_fit = seconds / rows
            fitted = least_squares(copy_points)
            fits.append(
                {
                    "what": "bare psql \\copy (cost per M rows at the largest scale)",
                    "slope_s_per_mrows": copy_fit,
                    "intercept_s": None,
                    "points": 1,
                }
            )
            if fitted:
                fits.append(
                    {
                        "what": "bare psql \\copy (least-squares slope)",
                        "slope_s_per_mrows": fitted[0],
                        "intercept_s": fitted[1],
                        "points": len(copy_points),
                    }
                )

        def series(what: str, key) -> None:
            points = [
                (info["validate"]["rows"] / 1e6, key(info))
                for info in per_scale.values()
                if info.get("validate") and key(info) is not None
            ]
            fitted = least_squares(points)
            if fitted:
                fits.append(
                    {
                        "what": what,
                        "slope_s_per_mrows": fitted[0],
                        "intercept_s": fitted[1],
                        "slope_over_copy": ratio(fitted[0], copy_fit),
                        "points": len(points),
                    }
                )

        for engine in self.engines:
            series(
                f"pipeline on {engine} (validate + load + dbt)",
                lambda i, e=engine: i.get(("pipeline", e)),
            )
        series("read", lambda i: i["read"]["wall_median"] if i.get("read") else None)
        series("validate", lambda i: i["validate"]["wall_median"])
        series(
            "validate, one process (information)",
            lambda i: (
                i["validate_one_process"]["wall_median"] if i.get("validate_one_process") else None
            ),
        )
        for engine in self.engines:
            series(
                f"load {engine}",
                lambda i, e=engine: i[("load", e)]["wall_median"] if i.get(("load", e)) else None,
            )
            series(
                f"dbt {engine}",
                lambda i, e=engine: i[("dbt", e)]["wall_median"] if i.get(("dbt", e)) else None,
            )
        out: dict[str, Any] = {"fits": fits, "fixed_scale": self.config.fixed_scale}
        fixed = self._counted(part="fixed", stage="dag")
        if fixed:
            out["dag_fixed_breakdown"] = fixed[0].get("dag_breakdown")
            out["dag_fixed_seconds"] = median(r["wall_seconds"] for r in fixed)
            out["dag_fixed_n"] = len(fixed)
            out["dag_fixed_engine"] = fixed[0]["engine"]
            out["dag_fixed_workarounds"] = fixed[0].get("workarounds", [])
            out["dag_fixed_rss_mb"] = max(r["max_rss_mb"] for r in fixed)
            out["dag_fixed_tree_mb"] = _tree_peak(fixed)
            gen = [r for r in self.runs if r["part"] == "fixed" and r["stage"] == "generate"]
            out["dag_fixed_rows"] = gen[0]["result"].get("rows") if gen else None
        e2e = self._counted(part="e2e", stage="dag")
        if e2e:
            out["e2e_seconds"] = median(r["wall_seconds"] for r in e2e)
            out["e2e_rss_mb"] = max(r["max_rss_mb"] for r in e2e)
            out["e2e_tree_mb"] = _tree_peak(e2e)
            out["e2e_scale"] = e2e[0]["scale"]
            out["e2e_engine"] = e2e[0]["engine"]
            out["e2e_workarounds"] = e2e[0].get("workarounds", [])
            out["e2e_breakdown"] = e2e[0].get("dag_breakdown")
        for part, prefix in (("fixed", "dag_fixed_rerun"), ("e2e", "e2e_rerun")):
            again = self._counted(part=part, stage="dag_rerun")
            if again:
                out[f"{prefix}_seconds"] = median(r["wall_seconds"] for r in again)
                out[f"{prefix}_scale"] = again[0]["scale"]
                out[f"{prefix}_engine"] = again[0]["engine"]
                out[f"{prefix}_rss_mb"] = max(r["max_rss_mb"] for r in again)
                out[f"{prefix}_tree_mb"] = _tree_peak(again)
                out[f"{prefix}_breakdown"] = again[0].get("dag_breakdown")
        return out

    def _demo(self) -> dict | None:
        """``sinergi demo`` from a fresh clone, then again with nothing changed."""
        runs = [r for r in self.runs if r["part"] == "demo"]
        if not runs:
            return None
        out: dict[str, Any] = {"runs": []}
        for run in runs:
            item = {
                "label": run["label"],
                "ok": run["ok"],
                "wall_seconds": run["wall_seconds"],
                "cpu_seconds": round(run["cpu_user_seconds"] + run["cpu_sys_seconds"], 2),
                "max_rss_mb": run["max_rss_mb"],
                "tree_peak_rss_mb": run.get("tree_peak_rss_mb"),
                "tree_peak_pss_mb": run.get("tree_peak_pss_mb"),
                "tree_max_processes": run.get("tree_max_processes"),
            }
            out["runs"].append(item)
            key = {"setup": "setup", "demo-first": "first", "demo-again": "again"}.get(run["label"])
            if key:
                out[f"{key}_seconds"] = run["wall_seconds"] if run["ok"] else None
                out[f"{key}_ok"] = run["ok"]
        return out

    def _history(self) -> dict | None:
        raw = self.data.get("history_raw")
        runs = [
            r
            for r in self.runs
            if r["part"] == "history" and r["stage"] == "month" and r.get("counted") and r["ok"]
        ]
        if not raw and not runs:
            return None
        by_month: dict[int, list[dict]] = {}
        for run in runs:
            by_month.setdefault(run["month"], []).append(run)
        timed = []
        for number in sorted(by_month):
            items = by_month[number]
            process = median(r["result"]["process_seconds"] for r in items)
            dbt = median(r["result"]["dbt_seconds"] for r in items)
            # results before the sixteenth session did not publish: 0 there
            publish = median(r["result"].get("publish_seconds", 0.0) for r in items)
            timed.append(
                {
                    "month": number,
                    "period": items[0]["period"],
                    "process_seconds": process,
                    "dbt_seconds": dbt,
                    "publish_seconds": publish,
                    "total_seconds": process + dbt + publish,
                    "wall_seconds": median(r["wall_seconds"] for r in items),
                    "n": len(items),
                    "rows": items[0]["result"].get("rows"),
                    "max_rss_mb": max(r["max_rss_mb"] for r in items),
                    "workarounds": sorted({w for r in items for w in r.get("workarounds", [])}),
                }
            )
        if timed:
            first = timed[0]
            for item in timed:
                item["ratio_total"] = ratio(item["total_seconds"], first["total_seconds"])
                item["ratio_process"] = ratio(item["process_seconds"], first["process_seconds"])
                item["ratio_dbt"] = ratio(item["dbt_seconds"], first["dbt_seconds"])
                item["ratio_publish"] = ratio(item["publish_seconds"], first["publish_seconds"])
        raw = raw or {}
        return {
            "engine": raw.get("engine", self.primary),
            "scale": raw.get("scale", self.config.history_scale),
            "months": raw.get("months", self.config.history_months),
            "timed": timed,
        }

    def _roster(self) -> dict | None:
        runs = [r for r in self.runs if r["part"] == "roster"]
        if not runs:
            return None
        items = []
        rows = None
        for stage, what in (
            ("read", "read only (open_table + chunks)"),
            ("judge_file", "judge: judge_version (read + rules + GX + duplicates + judged folder)"),
            ("load", "load into PostgreSQL: load_judged_version"),
            ("bare_copy", "bare psql \\copy of the same file"),
        ):
            row = self._stage_row(self._counted(part="roster", stage=stage), stage=stage)
            if not row:
                continue
            rows = rows or row["rows"]
            note = ""
            if stage == "judge_file" and row.get("breakdown"):
                b = row["breakdown"]
                inner = row["inner_median"] or 0
                read, gx = b.get("read", 0), b.get("gx", 0)
                other = max(inner - read - gx, 0)
                note = (
                    f"inside judge_file ({inner:.1f} s): reading {read:.1f} s "
                    f"({self._share(read, inner)}), "
                    f"Great Expectations {gx:.1f} s ({self._share(gx, inner)}, GX set-up "
                    "included), other "
                    f"(imports, rules prep, pseudonymising, duplicate keys, spill) {other:.1f} s "
                    f"({self._share(other, inner)})"
                )
            if stage == "load":
                row["rows"] = row["rows"] or rows
            items.append(dict(row, what=what, note=note))
        copy = next((i for i in items if i["stage"] == "bare_copy"), None)
        load = next((i for i in items if i["stage"] == "load"), None)
        if copy and load:
            load["note"] = f"{ratio(load['wall_median'], copy['wall_median']):.2f}× the bare copy"
        return {"rows": rows or self.config.roster_rows, "items": items}

    @staticmethod
    def _share(part: float, whole: float) -> str:
        return f"{part / whole:.0%}" if whole else "?"

    def _profile(self) -> dict | None:
        runs = [r for r in self.runs if r["part"] == "profile" and r.get("profile")]
        if not runs:
            return None
        return {
            "scale": runs[0]["scale"],
            "stages": {
                f"{r['stage']} ({r.get('engine') or 'all districts'})": r["profile"] for r in runs
            },
        }


def main() -> int:
    if any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        print(__doc__)
        return 0
    config = Config()
    return Bench(config).run()


if __name__ == "__main__":
    sys.exit(main())
