"""A parse kept for one warehouse, moved to another: what real dbt would have parsed there."""

from __future__ import annotations

import copy
import uuid

import msgpack
import pytest

from sinergi import dbt as sdbt
from sinergi.dbt_parse_moves import NotMovable, relocate

#: What differs between two parses of the same project for reasons other than the warehouse:
#: when dbt ran (the manifest's metadata) and when it read each node and macro (``created_at``).
VOLATILE = ("generated_at", "invocation_id", "invocation_started_at", "run_started_at")


def saved_parse(database: str = "old_db") -> dict:
    """A saved parse as msgpack decodes it, cut down to the parts :func:`relocate` reads."""
    return {
        "metadata": {"quoting": {"database": True}},
        "nodes": {
            "model.sinergi.m": {
                "database": database,
                "relation_name": f'"{database}"."marts"."m"',
                "description": "a mart",
            },
            "test.sinergi.t": {"database": database, "relation_name": None},
        },
        "sources": {
            "source.sinergi.raw.r": {
                "database": database,
                "relation_name": f'"{database}"."raw"."r"',
            }
        },
        "state_check": {"profile_hash": {"name": "sha256", "checksum": "before"}},
    }


def test_relocate_renames_the_database_and_the_profile_hash():
    moved = relocate(saved_parse(), "new_db", "after")
    assert moved["nodes"]["model.sinergi.m"]["relation_name"] == '"new_db"."marts"."m"'
    assert moved["sources"]["source.sinergi.raw.r"]["relation_name"] == '"new_db"."raw"."r"'
    assert {e["database"] for e in moved["nodes"].values()} == {"new_db"}
    assert moved["nodes"]["model.sinergi.m"]["description"] == "a mart"
    assert moved["state_check"]["profile_hash"]["checksum"] == "after"


def test_relocate_follows_the_projects_quoting():
    parse = saved_parse()
    parse["metadata"]["quoting"]["database"] = False
    parse["nodes"]["model.sinergi.m"]["relation_name"] = 'old_db."marts"."m"'
    parse["sources"]["source.sinergi.raw.r"]["relation_name"] = 'old_db."raw"."r"'
    moved = relocate(parse, "new_db", "after")
    assert moved["nodes"]["model.sinergi.m"]["relation_name"] == 'new_db."marts"."m"'


@pytest.mark.parametrize(
    "spoil",
    [
        lambda p: p["nodes"]["test.sinergi.t"].update(database="elsewhere"),  # two databases
        lambda p: p["nodes"]["model.sinergi.m"].update(relation_name='"marts"."m"'),
        lambda p: p["nodes"]["model.sinergi.m"].update(description='reads "old_db"."raw"."r"'),
        lambda p: p["nodes"]["model.sinergi.m"].update(config={"database": "old_db"}),
        lambda p: [e.update(database=None) for e in p["nodes"].values()],
    ],
    ids=["two-databases", "relation-without-it", "named-in-text", "named-in-config", "none"],
)
def test_a_parse_that_names_its_database_elsewhere_is_not_moved(spoil):
    parse = saved_parse()
    for entry in parse["sources"].values():
        entry["database"] = parse["nodes"]["model.sinergi.m"]["database"]
    spoil(parse)
    if all(e["database"] is None for e in parse["nodes"].values()):
        for entry in parse["sources"].values():
            entry["database"] = None
    with pytest.raises(NotMovable):
        relocate(parse, "new_db", "after")


def _without_times(value):
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if k != "created_at"}
    if isinstance(value, list):
        return [_without_times(item) for item in value]
    return value


def _decoded(path) -> dict:
    parse = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
    for name in VOLATILE:
        parse["metadata"].pop(name, None)
    return _without_times(parse)


def _warehouses(kind: str, tmp_path) -> tuple[str, str]:
    if kind == "duckdb":
        return (f"duckdb:///{tmp_path / 'first.duckdb'}", f"duckdb:///{tmp_path / 'second.duckdb'}")
    names = [f"sinergi_test_moves_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    return tuple(f"postgresql://postgres@127.0.0.1:5432/{name}" for name in names)


@pytest.mark.parametrize("kind", ["duckdb", "postgres"])
def test_a_moved_parse_is_what_dbt_parses_for_the_other_warehouse(kind, tmp_path, monkeypatch):
    """The project parsed in full for one warehouse, then for a second: the second gets the
    first's parse moved, dbt accepts it without parsing, and it equals (every node, source,
    file, macro and check) the parse dbt makes for the second warehouse from scratch."""
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))  # its own kept parses
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    first, second = _warehouses(kind, tmp_path)
    saved = tmp_path / "target" / sdbt.PARTIAL_PARSE_FILE

    sdbt.run_dbt(["parse"], first)  # nothing kept: parsed in full, and kept
    assert sdbt.parse_cache_file(first).is_file()
    full_first = saved.read_bytes()

    sdbt.run_dbt(["parse"], second)
    moved = sdbt.parse_cache_file(second)
    assert moved.is_file() and moved.parent == sdbt.parse_cache_file(first).parent
    assert saved.read_bytes() == full_first, "dbt parsed again instead of taking the moved parse"

    sdbt.run_dbt(["parse"], second, reuse_parse=False, target_path=tmp_path / "scratch")
    from_scratch = _decoded(tmp_path / "scratch" / sdbt.PARTIAL_PARSE_FILE)
    assert _decoded(moved) == from_scratch
    assert _decoded(moved) != _decoded(sdbt.parse_cache_file(first))  # not a plain copy


def test_a_parse_moved_back_is_the_original():
    original = saved_parse()
    there = relocate(copy.deepcopy(original), "new_db", "after")
    assert relocate(there, "old_db", "before") == original
