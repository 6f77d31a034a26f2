"""dbt's Jinja templates are compiled once and kept across processes (sinergi.dbt_templates).

Every template of this project (its macros, dbt's and the adapters', and every node's SQL, as
the manifest holds them) is compiled by Jinja itself and through the kept code, after a
round trip through the file a later process reads: the code objects must be equal. That a
real build renders the same marts with kept code is what every integration test's builds do
(the suite's first build compiles, the later ones read the file).
"""

from __future__ import annotations

import json
import logging
import marshal

import jinja2
import pytest
from dbt_common.clients.jinja import get_environment

from sinergi import dbt_templates
from sinergi.dbt import manifest_path

_JINJA_COMPILE = jinja2.Environment.compile  # what dbt's environment inherits


def _new_process(monkeypatch) -> dbt_templates._Store:
    """What a (later) process starts with: an empty store, before it reads the file."""
    fresh = dbt_templates._Store()
    monkeypatch.setattr(dbt_templates, "_store", fresh)
    return fresh


@pytest.fixture
def store(monkeypatch):
    """A process-fresh store: nothing compiled, nothing read."""
    return _new_process(monkeypatch)


def _kept_compile():
    return dbt_templates._kept(_JINJA_COMPILE)


def _project_templates() -> list[str]:
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    sources = [m["macro_sql"] for m in manifest["macros"].values()]
    sources += [n["raw_code"] for n in manifest["nodes"].values() if n.get("raw_code")]
    return sources


@pytest.mark.parametrize("native", [False, True], ids=["text", "native"])
def test_kept_code_is_what_jinja_compiles_for_every_template_of_the_project(
    native, store, tmp_path, monkeypatch
):
    sources = _project_templates()
    assert len(sources) > 500  # dbt's macros, the adapters', ours and the nodes'
    compile_ = _kept_compile()
    environment = get_environment(native=native)
    for source in sources:
        compile_(environment, source)
    assert store.compiled == len(set(sources)) and store.hits == len(sources) - len(set(sources))
    cache = dbt_templates.cache_file(tmp_path)
    dbt_templates.save(cache)

    later = _new_process(monkeypatch)
    dbt_templates.load(cache)
    environment = get_environment(native=native)  # dbt makes a new one per template
    for source in sources:
        kept = compile_(environment, source)
        assert kept == _JINJA_COMPILE(environment, source), source[:200]
    assert later.compiled == 0 and later.hits == len(sources)


def test_text_and_native_environments_keep_their_own_code(store):
    """dbt's native-types environment generates other code for the same source."""
    compile_ = _kept_compile()
    source = "{{ value }}"
    text, native = get_environment(), get_environment(native=True)
    codes = [compile_(environment, source) for environment in (text, native)]
    assert codes[0] != codes[1]
    assert codes == [_JINJA_COMPILE(text, source), _JINJA_COMPILE(native, source)]
    assert store.compiled == 2 and store.hits == 0


def test_an_unreadable_file_is_compiled_again_and_replaced(store, tmp_path, monkeypatch, caplog):
    cache = dbt_templates.cache_file(tmp_path)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not marshal data \x00\xff")
    with caplog.at_level(logging.WARNING, logger="sinergi.dbt_templates"):
        dbt_templates.load(cache)
    assert "not read" in caplog.text and str(cache) in caplog.text
    environment = get_environment()
    code = _kept_compile()(environment, "select {{ 1 }}")
    dbt_templates.save(cache)
    assert list(marshal.loads(cache.read_bytes()).values()) == [code]

    _new_process(monkeypatch)
    dbt_templates.load(cache)
    _kept_compile()(environment, "select {{ 1 }}")
    assert dbt_templates.stats() == {"hits": 1, "compiled": 0}


def test_a_file_of_something_else_is_not_used(store, tmp_path, caplog):
    cache = dbt_templates.cache_file(tmp_path)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(marshal.dumps(["a list, not a table of code"]))
    with caplog.at_level(logging.WARNING, logger="sinergi.dbt_templates"):
        dbt_templates.load(cache)
    assert "not a table of code" in caplog.text
    assert store.codes == {} and store.unsaved == 1  # written anew after the invocation


def test_saving_removes_other_versions_files_and_writes_only_when_something_is_new(store, tmp_path):
    cache = dbt_templates.cache_file(tmp_path)
    old = cache.with_name("an-older-jinja.marshal")
    old.parent.mkdir(parents=True)
    old.write_bytes(marshal.dumps({}))
    dbt_templates.save(cache)
    assert not cache.exists() and old.exists()  # nothing compiled: nothing written
    _kept_compile()(get_environment(), "{{ 'x' }}")
    dbt_templates.save(cache)
    assert cache.exists() and not old.exists()
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no temporary file left


def test_beyond_the_bound_only_what_the_process_used_is_kept(store, tmp_path, monkeypatch):
    monkeypatch.setattr(dbt_templates, "MAX_KEPT", 2)
    environment = get_environment()
    compile_ = _kept_compile()
    for n in range(3):
        compile_(environment, f"select {n}")
    cache = dbt_templates.cache_file(tmp_path)
    dbt_templates.save(cache)
    assert len(marshal.loads(cache.read_bytes())) == 2

    later = _new_process(monkeypatch)
    dbt_templates.load(cache)
    compile_(environment, "select 3")  # new; the two read from the file are not used
    dbt_templates.save(cache)
    kept = marshal.loads(cache.read_bytes())
    assert list(kept) == [k for k in later.codes if k in later.used] and len(kept) == 1


def test_macro_debugging_compiles_as_dbt_does(store, monkeypatch):
    monkeypatch.setattr("dbt_common.clients.jinja.MACRO_DEBUGGING", "1")
    _kept_compile()(get_environment(), "{{ 1 }}")
    assert store.codes == {} and dbt_templates.stats() == {"hits": 0, "compiled": 0}


def test_run_dbt_installs_the_kept_compile():
    from dbt_common.clients.jinja import MacroFuzzEnvironment

    from sinergi.library_wraps import is_wrapped

    dbt_templates.install()
    dbt_templates.install()  # idempotent
    assert is_wrapped(MacroFuzzEnvironment.compile)
    assert MacroFuzzEnvironment.compile.__wrapped__ is _JINJA_COMPILE
