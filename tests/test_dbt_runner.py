"""The dbt glue without a warehouse: paths, profile variables, manifest checks, fail-fast rules."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from types import SimpleNamespace

import msgpack
import pytest

from sinergi import dbt as sdbt
from sinergi import orchestration as orch

PG_URL = "postgresql://etl:pw-s3cret@db.example:6543/sinergi"


def test_dbt_target_names_the_engine_only():
    assert sdbt.dbt_target("duckdb:///tmp/x.duckdb") == "duckdb"
    assert sdbt.dbt_target(PG_URL) == "postgres"
    assert sdbt.dbt_target("postgresql+psycopg://u@h/d") == "postgres"
    with pytest.raises(ValueError):
        sdbt.dbt_target("mysql://u@h/d")


def test_paths_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    assert sdbt.manifest_path() == sdbt.DBT_PROJECT_DIR / "target" / "dag" / "manifest.json"
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "t"))  # production: read-only project
    assert sdbt.default_target_dir() == tmp_path / "t"
    assert sdbt.manifest_path() == tmp_path / "t" / "dag" / "manifest.json"


def test_warehouse_session_holds_the_duckdb_lock(tmp_path):
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    with sdbt.warehouse_session(url) as env:
        assert env["SINERGI_DUCKDB_PATH"] == str(tmp_path / "wh.duckdb")
        with (
            open(tmp_path / "wh.duckdb.lock", "a+b") as other,
            pytest.raises(BlockingIOError),  # a second writer has to wait
        ):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(tmp_path / "wh.duckdb.lock", "a+b") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released afterwards


def test_profile_config_takes_the_connection_at_run_time(monkeypatch):
    monkeypatch.setenv("SINERGI_WAREHOUSE", PG_URL)
    monkeypatch.setenv("SINERGI_ELIGIBLE_MAX_DECILE", "3")
    monkeypatch.delenv("SINERGI_PG_PASSWORD", raising=False)
    profile = orch.WarehouseProfileConfig(
        profile_name="sinergi", target_name="duckdb", profiles_yml_filepath=orch.PROFILES_YML
    )
    with profile.ensure_profile() as (path, variables):
        assert path == orch.PROFILES_YML
        assert profile.target_name == "postgres"  # re-read in the task, not at parse time
        assert variables["SINERGI_PG_PASSWORD"] == "pw-s3cret"
        assert variables["SINERGI_PG_PORT"] == "6543"
        assert variables["SINERGI_ELIGIBLE_MAX_DECILE"] == "3"
        os.environ.update(variables)  # what cosmos does for its OpenLineage step
    assert "SINERGI_PG_PASSWORD" not in os.environ  # nothing outlives the invocation


def manifest_node(name, resource_type, parents):
    return {"name": name, "resource_type": resource_type, "depends_on": {"nodes": parents}}


def test_cross_model_tests_are_those_not_about_exactly_one_node():
    manifest = {
        "nodes": {
            "model.p.a": manifest_node("a", "model", []),
            "test.p.not_null_a.1": manifest_node("not_null_a", "test", ["model.p.a"]),
            "test.p.seed_test.2": manifest_node("seed_test", "test", ["seed.p.s"]),
            "test.p.rel.3": manifest_node("rel", "test", ["model.p.a", "model.p.b"]),
            "test.p.twice.4": manifest_node("twice", "test", ["model.p.a", "model.p.a"]),
            "test.p.on_source.5": manifest_node("on_source", "test", ["source.p.raw.x"]),
            "test.p.singular": manifest_node("singular", "test", ["model.p.a", "source.p.r.y"]),
        }
    }
    assert orch.cross_model_tests(manifest) == {
        "on_source": ["source.p.raw.x"],
        "rel": ["model.p.a", "model.p.b"],
        "singular": ["model.p.a", "source.p.r.y"],
    }


def test_read_manifest_refuses_missing_stale_and_broken_files(tmp_path, caplog):
    missing = tmp_path / "missing.json"
    assert orch.read_manifest(missing) is None
    assert "not found" in caplog.text
    broken = tmp_path / "broken.json"
    broken.write_text('{"nodes": {', encoding="utf-8")
    assert orch.read_manifest(broken) is None
    assert "unreadable" in caplog.text
    good = tmp_path / "good.json"
    good.write_text('{"nodes": {}}', encoding="utf-8")
    assert orch.read_manifest(good) == {"nodes": {}}
    os.utime(good, (0, 0))
    assert sdbt.newer_project_file(good) is not None
    assert orch.read_manifest(good) is None
    assert "older than" in caplog.text


def finished(unique_id, status):
    return SimpleNamespace(
        info=SimpleNamespace(name="NodeFinished"),
        data=SimpleNamespace(
            node_info=SimpleNamespace(unique_id=unique_id),
            run_result=SimpleNamespace(status=status),
        ),
    )


def replay(*events):
    orch._node_results.clear()
    for event in events:
        orch.record_node_result(event)
    orch.record_node_result(SimpleNamespace(info=SimpleNamespace(name="MainReportVersion")))


def test_failed_data_tests_fail_without_retry():
    from airflow.sdk.exceptions import AirflowFailException

    replay(
        finished("model.sinergi.fct_ppks", "success"),
        finished("test.sinergi.not_null_fct_ppks_period.1a2b", "fail"),
        finished("unit_test.sinergi.fct_ppks.null_versus_zero", "fail"),
    )
    with pytest.raises(AirflowFailException, match="not_null_fct_ppks_period") as raised:
        orch.fail_fast_on_data_tests("/nowhere")
    assert "fct_ppks.null_versus_zero" in str(raised.value)
    assert orch._node_results == []


@pytest.mark.parametrize(
    "events",
    [
        [finished("model.sinergi.fct_ppks", "success"), finished("test.sinergi.t.1", "pass")],
        [finished("model.sinergi.fct_ppks", "error"), finished("test.sinergi.t.1", "skipped")],
        [finished("model.sinergi.a", "error"), finished("test.sinergi.t.1", "fail")],
        [finished("test.sinergi.t.1", "warn")],
        [],  # dbt did not start: left to cosmos and Airflow's retries
    ],
)
def test_everything_else_is_left_to_retries(events):
    replay(*events)
    orch.fail_fast_on_data_tests("/nowhere")


def test_fallback_build_fails_fast_on_data_tests_only(monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    import sinergi.pipeline

    def outcome(*statuses):
        nodes = tuple(
            sdbt.NodeResult(f"test.sinergi.t{i}.x", f"t{i}", "test", status, 0.1, "Got 1 result")
            for i, status in enumerate(statuses)
        )
        return sdbt.DbtOutcome(args=("build",), success=False, nodes=nodes)

    def failing(result):
        def build_marts(jobs, settings):
            raise sdbt.DbtRunError(result.describe_failure(), result)

        return build_marts

    monkeypatch.setattr(sinergi.pipeline, "build_marts", failing(outcome("fail", "pass")))
    with pytest.raises(AirflowFailException, match="t0"):
        orch.build_marts_once([{"period": "2025-01"}], None)
    monkeypatch.setattr(sinergi.pipeline, "build_marts", failing(outcome("error", "fail")))
    with pytest.raises(sdbt.DbtRunError):
        orch.build_marts_once([{"period": "2025-01"}], None)


def test_generate_docs_publishes_the_site_atomically(monkeypatch, tmp_path):
    calls = []

    def fake_run_dbt(args, url, **kwargs):
        calls.append((args, kwargs))
        target = Path(kwargs["target_path"])
        target.mkdir(parents=True)
        for name in sdbt.DOCS_FILES:
            (target / name).write_text(name, encoding="utf-8")

    monkeypatch.setattr(sdbt, "run_dbt", fake_run_dbt)
    out = tmp_path / "reports" / "dbt-docs"
    out.mkdir(parents=True)
    (out / "stale.html").write_text("old", encoding="utf-8")
    index = sdbt.generate_docs("duckdb:///x.duckdb", out)
    assert index == out / "index.html"
    assert sorted(p.name for p in out.iterdir()) == sorted([*sdbt.DOCS_FILES, sdbt.DOCS_KEY_NAME])
    assert calls[0][0] == ["docs", "generate", "--static"]
    assert [p.name for p in out.parent.iterdir()] == ["dbt-docs"]  # no scratch left behind

    # the same project, vars and warehouse: the site is kept, dbt does not run again
    assert sdbt.generate_docs("duckdb:///x.duckdb", out) == index
    assert len(calls) == 1
    # another var value, another warehouse, or force: generated again
    sdbt.generate_docs("duckdb:///x.duckdb", out, vars={"eligible_max_decile": 3})
    sdbt.generate_docs("duckdb:///y.duckdb", out)
    sdbt.generate_docs("duckdb:///y.duckdb", out, force=True)
    assert len(calls) == 4


def test_docs_key_ignores_the_password_but_not_the_database():
    key = sdbt.docs_key
    assert key("postgresql://u:one@h:5432/db") == key("postgresql://u:two@h:5432/db")
    assert key("postgresql://u:one@h:5432/db") != key("postgresql://u:one@h:5432/other")


def test_cli_reports_dbt_failures_without_traceback(monkeypatch, capsys):
    def fail(*args, **kwargs):
        outcome = sdbt.DbtOutcome(args=("parse",), success=False, error="CompilationError: bad")
        raise sdbt.DbtRunError(outcome.describe_failure(), outcome)

    monkeypatch.setattr(sdbt, "write_manifest", fail)
    assert sdbt.main(["parse"]) == 1
    err = capsys.readouterr().err
    assert "dbt parse failed" in err and "Traceback" not in err


def _saved_parse(call: int, environ=None) -> bytes:
    """What the fake dbt saves after a full parse: which call made it, and the profile hash
    of the profile it ran with (``environ``, by default the process's), as dbt records it."""
    from sinergi.dbt_parse_moves import connection

    profile_hash = connection(sdbt.DBT_PROJECT_DIR, dict(environ or os.environ))[1]
    return msgpack.packb(
        {"call": call, "state_check": {"profile_hash": {"checksum": profile_hash}}}
    )


def _parse_call(path: Path) -> int:
    """The number of the fake dbt's call whose parse is kept at ``path``."""
    return msgpack.unpackb(path.read_bytes())["call"]


class _FakeRunner:
    """Stands in for ``dbtRunner``: records each invocation's arguments and the manifest it
    was given; when told to parse (and not handed a manifest, nor a saved parse it accepts),
    saves a manifest into the target folder as dbt does after every full parse, and a
    ``parse`` returns it."""

    calls: list[list[str]] = []
    manifests: list[object] = []
    parses = True
    refuses = False  # a saved parse is refused (another dbt version, another profile)
    foreign: bytes | None = None  # another process's parse lands in the target folder last
    fails: set[str] = set()  # commands that fail (their first argument)

    def __init__(self, manifest=None):
        self.manifest = manifest

    def invoke(self, args):
        _FakeRunner.calls.append(list(args))
        _FakeRunner.manifests.append(self.manifest)
        result = None
        handed = "--partial-parse-file-path" in args and not _FakeRunner.refuses
        if _FakeRunner.parses and self.manifest is None and not handed:
            target = Path(args[args.index("--target-path") + 1])
            target.mkdir(parents=True, exist_ok=True)
            saved = _FakeRunner.foreign or _saved_parse(len(self.calls))
            (target / sdbt.PARTIAL_PARSE_FILE).write_bytes(saved)
            result = f"manifest of call {len(self.calls)}" if args[0] == "parse" else None
            if args[0] == "parse":
                (target / "manifest.json").write_text("{}", encoding="utf-8")
        if args[0] == "docs":
            target = Path(args[args.index("--target-path") + 1])
            target.mkdir(parents=True, exist_ok=True)
            for name in sdbt.DOCS_FILES:
                (target / name).write_text(name, encoding="utf-8")
        success = args[0] not in _FakeRunner.fails
        return SimpleNamespace(result=result, success=success, exception=None)


@pytest.fixture
def fake_dbt(monkeypatch, tmp_path):
    import dbt.cli.main

    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setattr(dbt.cli.main, "dbtRunner", _FakeRunner)
    _FakeRunner.calls, _FakeRunner.manifests, _FakeRunner.parses = [], [], True
    _FakeRunner.refuses, _FakeRunner.foreign = False, None
    _FakeRunner.fails = set()
    sdbt._BUILT_MANIFEST.clear()
    return _FakeRunner


def _read_from(call: list[str]) -> str | None:
    """The saved parse an invocation was handed, or None when it was told to parse in full."""
    if "--partial-parse-file-path" in call:
        assert "--partial-parse" in call
        return call[call.index("--partial-parse-file-path") + 1]
    assert "--no-partial-parse" in call
    return None


def test_a_parse_is_reused_only_for_the_same_project_vars_and_warehouse(fake_dbt, tmp_path):
    url, vars = f"duckdb:///{tmp_path / 'a.duckdb'}", {"eligible_max_decile": 4}
    sdbt.run_dbt(["build"], url, vars=vars)  # nothing kept yet: a full parse, then kept
    cache = sdbt.parse_cache_file(url, vars)
    assert _read_from(fake_dbt.calls[0]) is None
    assert _parse_call(cache) == 1
    # the same inputs, another command and target folder (the docs): handed the kept parse
    sdbt.run_dbt(["docs", "generate"], url, vars=vars, target_path=tmp_path / "scratch")
    assert _read_from(fake_dbt.calls[1]) == str(cache)
    assert _parse_call(cache) == 1  # kept as it was
    # another threshold, another warehouse, or asked not to: parsed in full
    sdbt.run_dbt(["build"], url, vars={"eligible_max_decile": 3})
    sdbt.run_dbt(["build"], f"duckdb:///{tmp_path / 'b.duckdb'}", vars=vars)
    sdbt.run_dbt(["build"], url, vars=vars, reuse_parse=False)
    assert [_read_from(call) for call in fake_dbt.calls[2:]] == [None, None, None]
    assert sdbt.parse_cache_file(url, {"eligible_max_decile": 3}) != cache


def test_a_kept_parse_dbt_refuses_is_replaced_by_its_full_parse(fake_dbt, tmp_path):
    """dbt checks a handed parse itself (its version, the profile) and parses in full when
    it refuses it; that parse is kept instead, so the next invocation does not parse again."""
    url = f"duckdb:///{tmp_path / 'a.duckdb'}"
    sdbt.run_dbt(["build"], url)
    cache = sdbt.parse_cache_file(url)
    assert _parse_call(cache) == 1
    fake_dbt.refuses = True  # e.g. dbt was upgraded since
    sdbt.run_dbt(["build"], url)
    assert _read_from(fake_dbt.calls[1]) == str(cache)
    assert _parse_call(cache) == 2
    fake_dbt.refuses = False
    sdbt.run_dbt(["build"], url)
    assert _read_from(fake_dbt.calls[2]) == str(cache)
    assert _parse_call(cache) == 2  # accepted: dbt did not parse, nothing replaced


def test_a_parse_another_process_saved_meanwhile_is_not_kept(fake_dbt, tmp_path):
    """The target folder may be shared with processes on other warehouses (the suite's
    workers): the last parse saved there is kept only if it is this warehouse's."""
    url = f"duckdb:///{tmp_path / 'a.duckdb'}"
    elsewhere = {**os.environ, **sdbt.dbt_env(f"duckdb:///{tmp_path / 'b.duckdb'}")}
    fake_dbt.foreign = _saved_parse(0, elsewhere)  # the other process's parse lands last
    sdbt.run_dbt(["build"], url)
    assert not sdbt.parse_cache_file(url).exists()
    fake_dbt.foreign = None
    sdbt.run_dbt(["build"], url)  # its own parse: kept
    assert _parse_call(sdbt.parse_cache_file(url)) == 2


def test_the_dags_manifest_leaves_the_parse_the_months_build_reuses(fake_dbt, tmp_path):
    """``python -m sinergi.dbt parse`` (``make setup``) parses with the build's vars, so the
    first month's build on that warehouse is handed the kept parse instead of parsing again."""
    from sinergi.config import load_settings

    url, dest = f"duckdb:///{tmp_path / 'a.duckdb'}", tmp_path / "dag" / "manifest.json"
    assert sdbt.main(["parse", "--manifest", str(dest), "--warehouse", url]) == 0
    assert dest.is_file()
    assert _read_from(fake_dbt.calls[0]) is None  # the set-up parses in full
    vars = load_settings().dbt_vars
    sdbt.run_dbt(["build"], url, vars=vars)
    assert _read_from(fake_dbt.calls[1]) == str(sdbt.parse_cache_file(url, vars))
    sdbt.run_dbt(["build"], url, vars={**vars, "eligible_max_decile": 9})  # another threshold
    assert _read_from(fake_dbt.calls[2]) is None


def test_a_changed_project_file_is_another_key(monkeypatch, tmp_path):
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    model = project / "models" / "m.sql"
    model.write_text("select 1", encoding="utf-8")
    monkeypatch.setattr(sdbt, "DBT_PROJECT_DIR", project)
    before = sdbt.parse_cache_file("duckdb:///x.duckdb")
    model.write_text("select 2", encoding="utf-8")
    assert sdbt.parse_cache_file("duckdb:///x.duckdb") != before


def test_nothing_is_kept_when_dbt_did_not_parse(fake_dbt, tmp_path, caplog):
    url = f"duckdb:///{tmp_path / 'a.duckdb'}"
    target = sdbt.default_target_dir()
    target.mkdir(parents=True)
    (target / sdbt.PARTIAL_PARSE_FILE).write_bytes(b"an older parse, maybe of another warehouse")
    os.utime(target / sdbt.PARTIAL_PARSE_FILE, (1, 1))
    fake_dbt.parses = False  # e.g. a syntax error: dbt stops before saving a manifest
    sdbt.run_dbt(["build"], url, raise_on_failure=False)
    assert not sdbt.parse_cache_file(url).exists()
    (target / sdbt.PARTIAL_PARSE_FILE).unlink()  # none at all: nothing kept, nothing said
    with caplog.at_level(logging.WARNING, logger="sinergi.dbt"):
        sdbt.run_dbt(["build"], url, raise_on_failure=False)
    assert not sdbt.parse_cache_file(url).exists() and not caplog.records


def test_only_the_newest_parses_are_kept(fake_dbt, tmp_path):
    for number in range(sdbt.PARSE_CACHE_SIZE + 3):
        sdbt.run_dbt(["parse"], f"duckdb:///{tmp_path / f'w{number}.duckdb'}")
    kept = list(sdbt.parse_cache_file("duckdb:///x.duckdb").parent.iterdir())
    assert len(kept) == sdbt.PARSE_CACHE_SIZE
    newest = sdbt.parse_cache_file(f"duckdb:///{tmp_path / f'w{sdbt.PARSE_CACHE_SIZE + 2}.duckdb'}")
    assert newest in kept


def test_a_months_build_leaves_out_unit_tests(monkeypatch):
    import sinergi.pipeline

    seen = []

    def fake_run_dbt(args, url, **kwargs):
        if args[0] != "parse":  # the whole project's build parses first (build_project)
            seen.append(args)
        return SimpleNamespace(success=True, result=None)

    monkeypatch.setattr(sdbt, "run_dbt", fake_run_dbt)
    settings = SimpleNamespace(warehouse_url="duckdb:///x.duckdb", dbt_vars={})
    sinergi.pipeline.dbt_build(settings)
    sinergi.pipeline.dbt_build(settings, select=["fct_poverty"])  # a model's retry
    assert len(seen) == 2
    for args in seen:
        assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
    assert seen[1][:3] == ["build", "--select", "fct_poverty"]


def test_dbt_sessions_on_postgres_get_work_mem_and_keep_the_callers_options(monkeypatch):
    monkeypatch.delenv("SINERGI_PG_WORK_MEM", raising=False)
    monkeypatch.delenv("PGOPTIONS", raising=False)
    with sdbt.warehouse_session(PG_URL) as env:
        assert env["PGOPTIONS"] == f"-c work_mem={sdbt.DEFAULT_PG_WORK_MEM}"
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=1GB -c enable_nestloop=off")
    monkeypatch.setenv("SINERGI_PG_WORK_MEM", "512MB")
    with sdbt.warehouse_session(PG_URL) as env:  # the caller's own options come last: they win
        assert env["PGOPTIONS"] == "-c work_mem=512MB -c work_mem=1GB -c enable_nestloop=off"
    monkeypatch.setenv("SINERGI_PG_WORK_MEM", "")  # empty: the server's setting
    monkeypatch.delenv("PGOPTIONS")
    with sdbt.warehouse_session(PG_URL) as env:
        assert env["PGOPTIONS"] == ""
    with sdbt.warehouse_session("duckdb:///tmp/x.duckdb") as env:
        assert "PGOPTIONS" not in env


@pytest.mark.parametrize("value", ["128", "128 MB", "-1MB", "lots", "1TB; drop"])
def test_a_malformed_work_mem_is_refused_with_what_to_write(monkeypatch, value):
    monkeypatch.setenv("SINERGI_PG_WORK_MEM", value)
    with pytest.raises(ValueError, match="SINERGI_PG_WORK_MEM=.*such as 64MB"):
        sdbt.pg_session_options()


def _written_manifests(monkeypatch) -> list[tuple[object, str]]:
    """Stands in for dbt's ``write_manifest``: records (manifest, target folder)."""
    import dbt.parser.manifest

    written: list[tuple[object, str]] = []
    monkeypatch.setattr(
        dbt.parser.manifest, "write_manifest", lambda m, path: written.append((m, path))
    )
    return written


def test_docs_are_written_from_the_manifest_the_build_compiled(fake_dbt, monkeypatch, tmp_path):
    written = _written_manifests(monkeypatch)
    url, vars = f"duckdb:///{tmp_path / 'a.duckdb'}", {"eligible_max_decile": 4}
    outcome = sdbt.build_project(["build"], url, vars=vars)
    assert outcome.success
    assert [call[0] for call in fake_dbt.calls] == ["parse", "build"]
    parsed = "manifest of call 1"
    assert fake_dbt.manifests == [None, parsed]  # the build runs on the parse's manifest
    sdbt.generate_docs(url, tmp_path / "site", vars=vars)
    docs = fake_dbt.calls[2]
    assert docs[:4] == ["docs", "generate", "--static", "--no-compile"]
    assert fake_dbt.manifests[2] == parsed
    assert written == [(parsed, docs[docs.index("--target-path") + 1])]
    # another threshold: not what the build compiled, so the docs compile for themselves
    sdbt.generate_docs(url, tmp_path / "other", vars={"eligible_max_decile": 3})
    assert fake_dbt.calls[3][:3] == ["docs", "generate", "--static"]
    assert "--no-compile" not in fake_dbt.calls[3] and fake_dbt.manifests[3] is None
    assert len(written) == 1


def test_a_failed_build_leaves_no_manifest_for_the_docs(fake_dbt, monkeypatch, tmp_path):
    written = _written_manifests(monkeypatch)
    url = f"duckdb:///{tmp_path / 'a.duckdb'}"
    sdbt.build_project(["build"], url, vars={})
    fake_dbt.fails = {"build"}
    assert not sdbt.build_project(["build"], url, vars={}).success  # no raise: the outcome
    sdbt.generate_docs(url, tmp_path / "site", vars={})
    assert "--no-compile" not in fake_dbt.calls[-1] and not written
    # a project dbt cannot parse: the build runs without a manifest and says what is wrong
    fake_dbt.fails = {"parse"}
    assert sdbt.build_project(["build"], url, vars={}).success
    assert fake_dbt.manifests[-1] is None


@pytest.mark.parametrize(("level", "debug_lines"), [(None, False), ("debug", True)])
def test_dbts_log_file_holds_what_the_task_log_shows_unless_asked_for_more(
    monkeypatch, tmp_path, level, debug_lines
):
    """dbt's default DEBUG file log (every statement) was a sixth of its thread time: by
    default ``dbt.log`` gets INFO lines; ``DBT_LOG_LEVEL_FILE=debug`` brings the rest back."""
    if level is None:
        monkeypatch.delenv(sdbt.LOG_FILE_LEVEL_ENV, raising=False)
    else:
        monkeypatch.setenv(sdbt.LOG_FILE_LEVEL_ENV, level)
    logs = tmp_path / "logs"
    outcome = sdbt.run_dbt(
        ["parse"],
        f"duckdb:///{tmp_path / 'wh.duckdb'}",  # a parse opens no connection
        target_path=tmp_path / "target",
        log_path=logs,
        reuse_parse=False,
    )
    assert outcome.success, outcome.error
    text = (logs / "dbt.log").read_text(encoding="utf-8")
    assert "Performance info" in text or "Running with dbt" in text, text[:500]
    assert ("[debug]" in text) is debug_lines, text[:2000]


def test_dbt_runs_with_what_existed_before_frozen(fake_dbt, tmp_path, monkeypatch):
    """dbt's modules and the parsed manifest are not walked by the collections of its build
    (``sinergi.collector``); nothing stays frozen afterwards where nothing was before."""
    import gc

    counts: list[int] = []
    invoke = fake_dbt.invoke

    def counting(self, args):
        counts.append(gc.get_freeze_count())
        return invoke(self, args)

    monkeypatch.setattr(fake_dbt, "invoke", counting)
    gc.unfreeze()
    sdbt.run_dbt(["build"], f"duckdb:///{tmp_path / 'a.duckdb'}", vars={})
    assert counts and counts[0] > 1000
    assert gc.get_freeze_count() == 0
