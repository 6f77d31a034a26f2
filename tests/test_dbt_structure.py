"""The dbt project as dbt-labs' dbt-project-evaluator reads it (its rules, checked here).

The evaluator package cannot be installed (no dbt hub here), so the rules that apply to this
project are restated on the parsed manifest: a failure names the model and the rule, like
the evaluator's ``fct_*`` models would.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import PurePosixPath

import pytest
import yaml

from sinergi.dbt import write_manifest
from sinergi.dbt_report import enforced_not_null, enforces_constraints
from sinergi.paths import DBT_PROJECT_DIR

PROJECT = "sinergi"
PREFIXES = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("fct_", "dim_")}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    import json

    folder = tmp_path_factory.mktemp("structure")
    path = write_manifest(f"duckdb:///{folder / 'parse.duckdb'}", folder / "manifest.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _models(manifest: dict) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == PROJECT
    }


def _folder(node: dict) -> PurePosixPath:
    return PurePosixPath(node["original_file_path"]).parent


def _layer(node: dict) -> str:
    parts = PurePosixPath(node["original_file_path"]).parts
    return parts[1] if len(parts) > 2 else "other"


def test_staging_models_live_in_one_folder_per_source(manifest):
    """fct_model_directories: a staging model sits in models/staging/<its source>/."""
    wrong = []
    for node in _models(manifest).values():
        for parent in node["depends_on"]["nodes"]:
            if parent.startswith("source."):
                source = manifest["sources"][parent]["source_name"]
                if _folder(node) != PurePosixPath("models/staging") / source:
                    wrong.append(f"{node['name']} (source {source}) in {_folder(node)}")
    assert not wrong, wrong


def test_sources_are_declared_in_their_own_staging_folder(manifest):
    """fct_source_directories: source yml in models/staging/<source name>/."""
    wrong = [
        f"{s['source_name']}.{s['name']} declared in {s['original_file_path']}"
        for s in manifest["sources"].values()
        if PurePosixPath(s["original_file_path"]).parent
        != PurePosixPath("models/staging") / s["source_name"]
    ]
    assert not wrong, wrong


def test_generic_tests_are_declared_beside_their_model(manifest):
    """fct_test_directories: a model's yml tests live in the model's own folder."""
    models = _models(manifest)
    wrong = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("test_metadata"):
            continue
        model = models.get(node.get("attached_node") or "")
        if model and _folder(node) != _folder(model):
            wrong.append(f"{node['name']}: {_folder(node)} != {_folder(model)}")
    assert not wrong, wrong[:10]


def _primary_key_macros() -> list[list[str]]:
    config = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return config["vars"]["dbt_project_evaluator"]["primary_key_test_macros"]


def test_every_model_has_a_primary_key_test_the_evaluator_recognises(manifest):
    """fct_missing_primary_key_tests, with the project's primary_key_test_macros."""
    macro_sets = _primary_key_macros()
    per_column: dict[tuple[str, str], set[str]] = defaultdict(set)
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        for macro in node["depends_on"].get("macros", []):
            name = macro.removeprefix("macro.")
            per_column[(node["attached_node"], node.get("column_name") or "")].add(name)
    missing = []
    for uid, node in _models(manifest).items():
        found = [macros for (model, _), macros in per_column.items() if model == uid]
        recognised = any(set(wanted) <= macros for macros in found for wanted in macro_sets)
        if not recognised:
            missing.append(node["name"])
    assert not missing, f"no recognised primary-key test: {sorted(missing)}"


def test_every_source_table_has_freshness(manifest):
    """fct_sources_without_freshness."""
    stale = [
        f"{s['source_name']}.{s['name']}"
        for s in manifest["sources"].values()
        if not (s.get("freshness") or {}).get("warn_after", {}).get("count")
        and not (s.get("freshness") or {}).get("error_after", {}).get("count")
    ]
    assert not stale, stale


def test_exposures_depend_on_marts_tables_only(manifest):
    """fct_exposure_parents_materializations: no source, no view or ephemeral model."""
    wrong = []
    for exposure in manifest["exposures"].values():
        for parent in exposure["depends_on"]["nodes"]:
            node = manifest["nodes"].get(parent) or manifest["sources"].get(parent)
            materialized = (node.get("config") or {}).get("materialized")
            if parent.startswith("source.") or materialized in ("view", "ephemeral"):
                wrong.append(f"{exposure['name']} <- {parent} ({materialized or 'source'})")
    assert not wrong, wrong


def _dag(manifest: dict) -> dict[str, set[str]]:
    """parent -> direct children among models, seeds and sources (tests left out)."""
    children: dict[str, set[str]] = defaultdict(set)
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] in ("model", "seed", "snapshot"):
            for parent in node.get("depends_on", {}).get("nodes", []):
                children[parent].add(uid)
    return children


#: B -> C pairs where B feeds only C and is kept apart on purpose, with why.
KEPT_APART = {
    # a stored table of another grain (one row per household and year) that later months'
    # builds read instead of every paid row of the year; both take the (period, district)
    # pairs and their fingerprints from the same models (macros/reach_inputs.sql)
    ("int_households_first_paid_in_year", "int_households_reached_ytd"),
}


def test_no_model_rejoins_an_upstream_concept(manifest):
    """fct_rejoining_of_upstream_concepts: A -> B -> C and A -> C where B feeds only C."""
    children = _dag(manifest)
    found = []
    for a, direct in children.items():
        for b in direct:
            if len(children.get(b, ())) == 1:
                (c,) = children[b]
                kept_apart = (b.split(".")[-1], c.split(".")[-1]) in KEPT_APART
                if c in direct and not kept_apart:
                    found.append(f"{a.split('.')[-1]} -> {b.split('.')[-1]} -> {c.split('.')[-1]}")
    assert not found, found


def test_models_are_named_for_their_layer(manifest):
    """fct_model_naming_conventions: stg_ / int_ / fct_ or dim_ by folder."""
    wrong = [
        f"{node['name']} in {_layer(node)}"
        for node in _models(manifest).values()
        if _layer(node) in PREFIXES and not node["name"].startswith(PREFIXES[_layer(node)])
    ]
    assert not wrong, wrong


def _not_null_tests(manifest: dict) -> list[tuple[dict, dict]]:
    """(test, the model it tests) of every ``not_null`` data test on a model whose
    constraints the database enforces (``sinergi.dbt_report.enforces_constraints``)."""
    nodes = manifest["nodes"]
    found = []
    for test in nodes.values():
        if test["resource_type"] != "test" or _kind(test) != "not_null":
            continue
        model = nodes.get(test.get("attached_node") or "") or {}
        if enforces_constraints(model):
            found.append((test, model))
    return found


def _kind(test: dict) -> str:
    return (test.get("test_metadata") or {}).get("name", "")


def _not_null_tested_non_keys(manifest: dict) -> list[str]:
    """``model.column`` of every ``not_null`` data test on a non-key column of a table whose
    contract is enforced: the database already refuses a NULL there (the column's
    ``not_null`` constraint), so the test is one more query per build for nothing."""
    keys = {
        (n["attached_node"], n.get("column_name"))
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and _kind(n) == "unique"
    }
    return sorted(
        f"{model['name']}.{test['column_name']}"
        for test, model in _not_null_tests(manifest)
        if (test["attached_node"], test.get("column_name")) not in keys
    )


def _unconstrained_not_null_columns(manifest: dict) -> list[str]:
    """Key columns (``unique`` + ``not_null`` tests) of enforced tables without the constraint."""
    return sorted(
        f"{model['name']}.{test['column_name']}"
        for test, model in _not_null_tests(manifest)
        if test["column_name"] not in enforced_not_null(model)
    )


def test_enforced_tables_state_not_null_as_a_constraint_not_a_test(manifest):
    """A non-key column of an enforced table is NOT NULL by its constraint (dbt writes it into
    the table's DDL; a NULL fails the model's own task, naming the column), not by a data
    test: 85 such tests were a quarter of the build's nodes. Key columns keep their
    ``unique`` + ``not_null`` tests (the evaluator's primary-key rule) and the constraint."""
    assert _not_null_tested_non_keys(manifest) == []
    assert _unconstrained_not_null_columns(manifest) == []


def test_the_not_null_rule_sees_a_redundant_test_and_a_missing_constraint():
    def test(name: str, column: str) -> dict:
        return {
            "resource_type": "test",
            "test_metadata": {"name": name},
            "attached_node": "model.sinergi.fct_x",
            "column_name": column,
        }

    manifest = {
        "nodes": {
            "model.sinergi.fct_x": {
                "resource_type": "model",
                "name": "fct_x",
                "config": {"materialized": "table", "contract": {"enforced": True}},
                "columns": {"period": {"constraints": []}, "key": {"constraints": []}},
            },
            "test.1": test("not_null", "period"),
            "test.2": test("unique", "key"),
            "test.3": test("not_null", "key"),
        }
    }
    assert _not_null_tested_non_keys(manifest) == ["fct_x.period"]
    assert _unconstrained_not_null_columns(manifest) == ["fct_x.key", "fct_x.period"]


def _tests_reading_new_periods_only(manifest: dict) -> tuple[set[str], list[str]]:
    """(models whose generic tests all read only new periods, tests that do not)."""
    tests_of: dict[str, list[dict]] = defaultdict(list)
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            tests_of[node.get("attached_node") or ""].append(node)
    scoped, unscoped = set(), []
    for uid, tests in tests_of.items():
        wheres = [(t["name"], _reads_new_periods_only(t["config"].get("where"))) for t in tests]
        if all(new_only for _, new_only in wheres):
            scoped.add(uid)
        unscoped += [name for name, new_only in wheres if not new_only]
    return scoped, unscoped


def _reads_new_periods_only(where: str | None) -> bool:
    """The `where` of macros/new_rows.sql: the periods built, judged or otherwise changed in
    their sources since the last pass."""
    where = where or ""
    return (
        ("__new_rows__" in where and "__this__" in where)
        or "__first_new_period__" in where
        or "__first_period_with_new_sources__" in where
    )


def test_incremental_tables_write_built_at_and_are_tested_in_new_periods_only(manifest):
    """macros/new_rows.sql: every incremental model documents the `built_at` it writes, and
    each of its generic tests reads only the periods written since it last passed (a test
    that reads the whole history grows with every month)."""
    models = _models(manifest)
    incremental = {
        uid for uid, node in models.items() if node["config"]["materialized"] == "incremental"
    }
    assert len(incremental) >= 8
    without = sorted(
        models[uid]["name"] for uid in incremental if "built_at" not in models[uid]["columns"]
    )
    assert not without, f"incremental models without a built_at column: {without}"
    scoped, _ = _tests_reading_new_periods_only(manifest)
    read_everything = sorted(models[uid]["name"] for uid in incremental - scoped)
    assert not read_everything, f"tests that read every period: {read_everything}"


def test_raw_staging_views_are_tested_in_newly_judged_periods_only(manifest):
    """`raw` is append-only: the tests of its staging views read the periods with a file
    version judged since they last passed (dbt_project.yml, macros/new_rows.sql)."""
    staging_raw = {
        uid for uid, node in _models(manifest).items() if node["name"].startswith("stg_raw__")
    }
    assert len(staging_raw) == 4
    scoped, _ = _tests_reading_new_periods_only(manifest)
    assert staging_raw <= scoped, sorted(staging_raw - scoped)


def test_views_of_raw_rows_are_tested_in_periods_with_new_sources_only(manifest):
    """The served rows are views of `raw` (macros/served_rows.sql), and so are the views over
    them: each of their generic tests reads only the periods whose sources changed since it
    last passed. A test of such a view that read every period would read every row of `raw`'s
    history at every build."""
    models, children = _models(manifest), _dag(manifest)
    frontier = [uid for uid, node in models.items() if node["name"].startswith("stg_raw__")]
    views: set[str] = set()
    while frontier:  # the views downstream of raw's staging views, through views only
        for child in children.get(frontier.pop(), ()):
            if (
                child not in views
                and models.get(child, {}).get("config", {}).get("materialized") == "view"
            ):
                views.add(child)
                frontier.append(child)
    names = {models[uid]["name"] for uid in views}
    assert {
        "int_disbursements_served",
        "int_dtks_households_served",
        "int_ppks_counts_served",
        "int_psks_counts_served",
        "int_person_payments_filtered_to_paid",
        "int_dtks_households_eligible",
    } <= names, sorted(names)
    scoped, _ = _tests_reading_new_periods_only(manifest)
    tested = {uid for uid in views if _has_generic_tests(manifest, uid)}
    assert tested - scoped == set(), sorted(models[uid]["name"] for uid in tested - scoped)


def _has_generic_tests(manifest: dict, uid: str) -> bool:
    return any(
        node["resource_type"] == "test" and node.get("attached_node") == uid
        for node in manifest["nodes"].values()
    )


def test_the_new_period_rule_sees_a_test_that_reads_every_period():
    def test(model: str, where: str | None) -> dict:
        return {
            "resource_type": "test",
            "test_metadata": {"name": "not_null"},
            "attached_node": f"model.sinergi.{model}",
            "name": f"not_null_{model}",
            "config": {"where": where},
        }

    where = "period >= (select min(period) from __this__ where __new_rows__)"
    manifest = {"nodes": {"a": test("served", where), "b": test("served", None)}}
    assert _tests_reading_new_periods_only(manifest) == (set(), ["not_null_served"])
    manifest = {"nodes": {"a": test("served", where)}}
    assert _tests_reading_new_periods_only(manifest) == ({"model.sinergi.served"}, [])
    where = "period >= __first_period_with_new_sources__"
    manifest = {"nodes": {"a": test("served", where), "b": test("served", "period > 1")}}
    assert _tests_reading_new_periods_only(manifest) == (set(), ["not_null_served"])
