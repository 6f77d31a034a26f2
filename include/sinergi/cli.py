"""The ``sinergi`` command line: generate an inbox, run a month, run the demo, set up the db.

``sinergi run`` executes the real Airflow DAG in-process (``dag.test()``, wrapped by
``sinergi.dagrun``), so the command line and the scheduler run the very same code path; it
reports success only when every task of the run (each district, each dbt task) succeeded.
Errors a user can fix are printed as one line and exit with status 2; nothing prints a stack
trace for bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time as time_module
from pathlib import Path

from sinergi.airflow_env import apply_airflow_defaults, ensure_metadata_db
from sinergi.collector import collections_as_usual, no_collections_while_starting
from sinergi.config import Settings, load_settings
from sinergi.dagrun import PeriodBusy, RunResult, period_lock, reap_children, run_dag
from sinergi.periods import Period
from sinergi.task_ids import DAG_ID


class UsageError(Exception):
    """A problem the user can fix; printed without a traceback."""


def command_settings(inbox: str | None, warehouse: str | None) -> Settings:
    """The configuration a command works with: the environment, then its own options.

    A bad ``--warehouse`` is refused here, before any task runs (a ValueError: one line,
    exit 2). The DAG's tasks get the same inbox and warehouse through
    :meth:`Settings.export_targets`.
    """
    if inbox and not Path(inbox).is_dir():
        raise UsageError(f"inbox folder {inbox!r} does not exist")
    settings = load_settings().with_targets(Path(inbox) if inbox else None, warehouse or None)
    settings.export_targets()
    return settings


def run_period_checked(
    period: Period, settings: Settings, districts: list[str] | None = None
) -> RunResult:
    """Run the monthly DAG for ``period`` in-process and check every task instance
    (``districts``: only those districts of the month).

    One run of a period at a time per Airflow home: a second one is refused with a message
    (see ``sinergi.dagrun``).
    """
    try:
        with no_collections_while_starting():  # the imports and the DAG parse: sinergi.collector
            apply_airflow_defaults()
            ensure_metadata_db()
            with period_lock(period):
                from airflow.dag_processing.dagbag import DagBag

                from sinergi.dbt import ensure_manifest
                from sinergi.paths import DAGS_DIR

                # the DAG renders one task per dbt model from the current manifest; a dbt
                # parse for a stale one makes ~260,000 objects of garbage (+50 MB uncollected)
                with collections_as_usual():
                    ensure_manifest(settings.warehouse_url, vars=settings.dbt_vars)
                bag = DagBag(dag_folder=str(DAGS_DIR / f"{DAG_ID}.py"))
                if bag.import_errors:
                    raise UsageError(f"the DAG does not import: {bag.import_errors}")
                return run_dag(bag.get_dag(DAG_ID), period, districts)
    except PeriodBusy as busy:
        raise UsageError(str(busy)) from None


def run_period(period: Period, settings: Settings | None = None) -> str:
    """Run the monthly DAG for ``period``; ``"success"`` only when every task succeeded."""
    return run_period_checked(period, settings or load_settings()).state


def cmd_generate(args: argparse.Namespace) -> int:
    from sinergi.periods import parse_periods
    from sinergi.synthetic import generate_inbox

    periods = parse_periods(args.periods)
    out = Path(args.out)
    manifest = generate_inbox(
        out,
        periods,
        seed=args.seed,
        scale=args.scale,
        faults=args.faults,
        progress=print,
        overwrite=args.overwrite,
    )
    files = sum(1 for _ in out.rglob("*") if _.is_file())
    print(f"generated {files} files for {len(periods)} period(s) in {out}")
    return 0 if manifest is not None else 1


# The line ``sinergi run`` prints before each period; ``sinergi demo`` splits the log on it.
PERIOD_START = "==> monthly DAG for "


def cmd_run(args: argparse.Namespace) -> int:
    """Run each ``--period`` in turn, in this one process: Airflow, the DAG and its in-process
    execution API start once for all of them (docs/performance.md)."""
    from sinergi.reference import district_codes

    periods = [Period.parse(text) for text in args.period]
    unknown = sorted(set(args.district or ()) - district_codes())
    if unknown:
        raise UsageError(f"unknown district code(s) {', '.join(unknown)}: use 3501 … 3579")
    settings = command_settings(args.inbox, args.warehouse)
    failed = 0
    try:
        for period in periods:
            print(f"{PERIOD_START}{period}", flush=True)
            result = run_period_checked(period, settings, args.district)
            print_summary(settings, period)
            print(f"DAG run for {period}: {result.state} (run id {result.run_id})", flush=True)
            for problem in result.problems:
                print(f"  not done: {problem}")
            if result.state != "success":
                failed += 1
                ended = f"Airflow ended it {result.dag_state}"
                first = result.problems[0] if result.problems else ended
                print(f"sinergi: the run for {period} did not complete: {first}", file=sys.stderr)
    finally:
        reap_children()  # the command leaves no process behind (dbt's resource tracker)
    return 0 if not failed else 1


def print_summary(settings: Settings, period: Period) -> None:
    path = settings.reports_dir / str(period) / "summary.md"
    if path.exists():
        print(path.read_text(encoding="utf-8"))


def _run_logged(periods: list[str], logs: Path, steps: int) -> dict[str, str]:
    """Run ``sinergi run`` for every period in ONE child process, each period's log in
    ``logs/run-<period>.log``; returns {period: state}.

    One process pays Airflow's start-up (imports, DagBag, the in-process execution API)
    once instead of once per month. Airflow's task logs are long: the demo shows one
    progress line per period and keeps the whole log for whoever wants to read it.
    """
    logs.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "sinergi.cli", "run"]
    command += [f"--period={text}" for text in periods]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    states = {text: "failed" for text in periods}  # unless the run says otherwise
    current, log, done = None, None, 0
    started = time_module.monotonic()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        for line in child.stdout:
            if line.startswith(PERIOD_START):
                current = line[len(PERIOD_START) :].strip()
                if log:
                    log.close()
                    print()
                step = periods.index(current) + 2 if current in periods else "?"
                path = logs / f"run-{current}.log"
                print(f"[{step}/{steps}] monthly DAG for {current} (log: {path})")
                log = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed at the next period
                done, started = 0, time_module.monotonic()
            if log:
                log.write(line)
            if "[DAG TEST] end task" in line:
                done += 1
                elapsed = time_module.monotonic() - started
                print(f"\r    {done} task(s) finished, {elapsed:.0f} s", end="", flush=True)
            if line.startswith("DAG run for ") and current:
                states[current] = line.split(": ", 1)[1].split(" ", 1)[0]
    finally:
        child.wait()
        if log:
            log.close()
    print()
    return states


def cmd_demo(args: argparse.Namespace) -> int:
    from sinergi.periods import parse_periods
    from sinergi.synthetic import MANIFEST_NAME, generate_inbox

    periods = parse_periods(args.periods)
    settings = load_settings()
    inbox = Path(args.inbox) if args.inbox else settings.data_dir / "demo-inbox"
    steps = len(periods) + 1
    wanted = {"periods": periods, "seed": args.seed, "scale": args.scale, "faults": True}
    manifest = inbox / MANIFEST_NAME
    if manifest.exists() and json.loads(manifest.read_text())["parameters"] == wanted:
        print(f"[1/{steps}] sample inbox already in {inbox}", flush=True)
    else:
        print(f"[1/{steps}] generating a sample inbox with faulty files in {inbox} ...", flush=True)
        generate_inbox(
            inbox, periods, seed=args.seed, scale=args.scale, faults=True, overwrite=True
        )
    settings = command_settings(str(inbox), args.warehouse)
    ensure_metadata_db()
    states = _run_logged(periods, settings.data_dir / "logs", steps)
    for text in periods:
        print_summary(settings, Period.parse(text))
    print(f"Reports (summaries, district feedback, bulletins, Data Docs): {settings.reports_dir}")
    from sinergi.warehouse.url import redact

    print(f"Warehouse: {redact(settings.warehouse_url)}")
    print(
        "Inspect the runs in Airflow's UI: make airflow  (http://localhost:8080; user admin, "
        "password in .airflow/simple_auth_manager_passwords.json.generated)"
    )
    print("Run states: " + json.dumps(states))
    return 0 if all(s == "success" for s in states.values()) else 1


def cmd_db_init(args: argparse.Namespace) -> int:
    from sinergi.warehouse.connection import PostgresWarehouse, open_warehouse, redact
    from sinergi.warehouse.roles import connection_help, init_postgres

    settings = command_settings(None, args.warehouse)
    wh = open_warehouse(settings.warehouse_url)
    wh.ensure_schema()
    print(f"warehouse tables ready: {redact(settings.warehouse_url)}")
    if isinstance(wh, PostgresWarehouse):
        for line in init_postgres(wh):
            print(f"granted {line}")
        for line in connection_help(wh.location.dbname):
            print(line)
    else:
        print("DuckDB has no roles: grants apply to a PostgreSQL warehouse only")
    return 0


def _new_password(args: argparse.Namespace) -> str | None:
    """The password to set: generated, read from stdin, prompted for, or None (keep)."""
    import getpass
    import secrets

    if args.generate_password:
        return secrets.token_urlsafe(18)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise UsageError("--password-stdin: no password on standard input")
        return password
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(f"password for {args.name}: ")
    if first != getpass.getpass("again: "):
        raise UsageError("the two passwords differ; nothing changed")
    if len(first) < 12:
        raise UsageError("use a password of at least 12 characters (or --generate-password)")
    return first


def cmd_db_add_user(args: argparse.Namespace) -> int:
    from sinergi.warehouse.connection import PostgresWarehouse, open_warehouse
    from sinergi.warehouse.roles import SEARCH_PATHS, add_user, role_exists

    settings = command_settings(None, args.warehouse)
    wh = open_warehouse(settings.warehouse_url)
    if not isinstance(wh, PostgresWarehouse):
        raise UsageError("db add-user needs a PostgreSQL warehouse (DuckDB has no logins)")
    exists = role_exists(wh, args.name)
    password = _new_password(args) if (not exists or args.reset_password) else None
    if not exists and password is None:
        raise UsageError(
            f"login {args.name} is new and needs a password: run in a terminal to be asked, "
            "or pass --generate-password or --password-stdin"
        )
    created = add_user(wh, args.name, args.role, password)
    path = ", ".join((*SEARCH_PATHS[args.role], "public"))
    print(
        f"login {args.name} {'created' if created else 'exists'} in role sinergi_{args.role}; "
        f"search_path {path}; password {'set' if password else 'unchanged'}"
    )
    if args.generate_password:
        print(f"generated password (shown once): {password}")
    return 0


def cmd_expectations(args: argparse.Namespace) -> int:
    from sinergi.paths import EXPECTATIONS_DIR
    from sinergi.suites import write_suites

    for path in write_suites(EXPECTATIONS_DIR / "suites"):
        print(f"wrote {path}")
    return 0


def cmd_reason_codes(args: argparse.Namespace) -> int:
    from sinergi.paths import SEEDS_DIR
    from sinergi.reason_codes import seed_text, write_seed

    path = SEEDS_DIR / "reason_codes.csv"
    if args.check:
        current = path.exists() and path.read_text(encoding="utf-8") == seed_text()
        print(f"{path}: {'current' if current else 'out of date: run `sinergi reason-codes`'}")
        return 0 if current else 1
    print(f"{'wrote' if write_seed(path) else 'unchanged'} {path}")
    return 0


def cmd_approval(args: argparse.Namespace) -> int:
    """``sinergi approve`` / ``sinergi unapprove``: record the event, say what it locked."""
    import getpass

    from sinergi import approvals
    from sinergi.warehouse.connection import open_warehouse

    settings = command_settings(None, args.warehouse)
    wh = open_warehouse(settings.warehouse_url)
    wh.ensure_schema()
    period = Period.parse(args.period)
    actor = args.by or getpass.getuser()
    target = f"{args.district} {period}" + (f" {args.dataset}" if args.dataset else "")
    if args.command == "approve":
        locked = approvals.approve(
            wh, period, args.district, args.dataset, args.note, actor, via="cli"
        )
        shown = ", ".join(f"{d} v{v}" if v else f"{d} (nothing served)" for d, v in locked.items())
        print(f"approved {target} by {actor}: served versions locked: {shown}")
    else:
        released = approvals.unapprove(
            wh, period, args.district, args.dataset, args.note, actor, via="cli"
        )
        print(f"unapproved {target} by {actor}: released {', '.join(released)}")
    print(f"The marts follow at the next run of {period} (sinergi run --period {period}).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sinergi", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic inbox")
    gen.add_argument("--out", required=True)
    gen.add_argument("--periods", required=True, help="YYYY-MM or YYYY-MM:YYYY-MM")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--scale", type=float, default=0.01, help="1.0 = a province-scale month")
    gen.add_argument("--faults", action="store_true", help="include faulty files and rows")
    gen.add_argument("--overwrite", action="store_true", help="replace existing period folders")
    gen.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="run the monthly DAG for a period (in-process)")
    run.add_argument(
        "--period",
        required=True,
        action="append",
        help="YYYY-MM (repeatable: the periods run in turn, in one process)",
    )
    run.add_argument("--inbox", help="default: $SINERGI_INBOX")
    run.add_argument(
        "--warehouse", help="duckdb:///path or postgresql://… (default: $SINERGI_WAREHOUSE)"
    )
    run.add_argument(
        "--district",
        action="append",
        help="reprocess only this district of the month (repeatable; default: all 38)",
    )
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate a sample inbox and run three months")
    demo.add_argument("--periods", default="2025-01:2025-03")
    demo.add_argument("--inbox")
    demo.add_argument("--warehouse")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--scale", type=float, default=0.01)
    demo.set_defaults(func=cmd_demo)

    exp = sub.add_parser("expectations", help="regenerate expectations/suites/*.json from code")
    exp.set_defaults(func=cmd_expectations)

    codes = sub.add_parser(
        "reason-codes", help="regenerate the seed of marts.dim_reason_codes from the catalogue"
    )
    codes.add_argument("--check", action="store_true", help="exit 1 when the seed is stale")
    codes.set_defaults(func=cmd_reason_codes)

    for name, text in (
        ("approve", "approve (lock) a district's data for a period, or one dataset of it"),
        ("unapprove", "release an approval: the next run serves the latest version again"),
    ):
        approval = sub.add_parser(name, help=text)
        approval.add_argument("--period", required=True, help="YYYY-MM")
        approval.add_argument("--district", required=True, help="four-digit district code")
        approval.add_argument("--dataset", choices=("ppks", "psks", "penerima_bantuan", "dtks"))
        approval.add_argument("--note", required=True, help="what was checked, or why reopened")
        approval.add_argument("--by", help="who (default: the OS user)")
        approval.add_argument("--warehouse")
        approval.set_defaults(func=cmd_approval)

    db = sub.add_parser("db", help="warehouse administration")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    init = db_sub.add_parser("init", help="create schemas and tables (idempotent)")
    init.add_argument("--warehouse")
    init.set_defaults(func=cmd_db_init)
    user = db_sub.add_parser(
        "add-user", help="create a login for a BI tool or an auditor (PostgreSQL; idempotent)"
    )
    user.add_argument("name", help="login name (lower-case letters, digits, _)")
    user.add_argument("--role", required=True, choices=("bi", "auditor"))
    secret = user.add_mutually_exclusive_group()
    secret.add_argument("--generate-password", action="store_true", help="generate and print one")
    secret.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    user.add_argument(
        "--reset-password", action="store_true", help="set a new password for an existing login"
    )
    user.add_argument("--warehouse")
    user.set_defaults(func=cmd_db_add_user)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ValueError, PermissionError, FileExistsError) as problem:
        print(f"sinergi: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
