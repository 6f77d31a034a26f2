"""The loader on its own: a judged-version folder in, one committed version out."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import sinergi.warehouse
from sinergi.warehouse.connection import open_warehouse
from sinergi.warehouse.judged import RECORD_NAME, JudgedVersion, JudgedVersionError
from sinergi.warehouse.loader import load_judged_version
from tests.warehouse.judged_fixture import file_versions_row, judged_folder


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path):
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    else:
        request.applymarker(pytest.mark.postgres)
        url = request.getfixturevalue("postgres_url")
    wh = open_warehouse(url)
    wh.ensure_schema()
    return wh


def _count(wh, table: str) -> int:
    with wh.connect() as conn:
        return int(wh.execute(conn, f"select count(*) from {table}")[0][0])


@pytest.mark.integration
def test_a_judged_folder_is_loaded_as_it_is(warehouse, tmp_path):
    folder = judged_folder(tmp_path / "v1", 1, "a" * 64)
    load_judged_version(warehouse, folder)
    assert _count(warehouse, "raw.psks") == 4
    assert _count(warehouse, "audit.row_rejections") == 1
    assert _count(warehouse, "audit.row_warnings") == 1
    with warehouse.connect() as conn:
        row = warehouse.execute(
            conn,
            "select status, rows_total, rows_accepted, rows_rejected, sha256, judged_at "
            "from audit.file_versions",
        )
    assert row[0][:5] == ("PARTIAL", 5, 4, 1, "a" * 64)
    assert row[0][5] is not None  # stamped when it commits


def _broken(tmp_path: Path, change) -> Path:
    folder = judged_folder(tmp_path / "v1", 1, "a" * 64)
    path = folder / RECORD_NAME
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))
    return folder


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(format="other/9"), "format 'other/9'"),
        (lambda r: r["file_version"].pop("sha256"), "missing ['sha256']"),
        (lambda r: r["file_version"].update(extra=1), "unknown ['extra']"),
        (lambda r: r["rows"].update({"raw.nope": ["x.parquet"]}), "unknown table"),
        (lambda r: r["rows"].update({"raw.psks": ["../../etc/x.parquet"]}), "in the folder"),
    ],
)
def test_a_record_the_loader_does_not_understand_is_refused_whole(tmp_path, change, message):
    folder = _broken(tmp_path, change)
    with pytest.raises(JudgedVersionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        JudgedVersion.read(folder)


@pytest.mark.integration
def test_a_refused_record_loads_nothing(tmp_path):
    wh = open_warehouse(f"duckdb:///{tmp_path / 'w.duckdb'}")
    wh.ensure_schema()
    folder = _broken(tmp_path, lambda r: r["file_version"].pop("status"))
    with pytest.raises(JudgedVersionError):
        load_judged_version(wh, folder)
    assert _count(wh, "audit.file_versions") == 0 and _count(wh, "raw.psks") == 0


def test_record_round_trip_keeps_types(tmp_path):
    row = file_versions_row(3, "c" * 64)
    JudgedVersion(tmp_path, row, {"raw.psks": []}, {"reason_counts": {"x": 1}}).write()
    back = JudgedVersion.read(tmp_path)
    assert back.file_version == row
    assert back.summary == {"reason_counts": {"x": 1}}


def _sinergi_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sinergi"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("sinergi"))
    return names


def test_the_warehouse_package_depends_on_nothing_above_it():
    """warehouse/ may use the dataset spec, periods and settings, never the judge."""
    allowed = {"sinergi.datasets", "sinergi.periods", "sinergi.config", "sinergi.paths"}
    for path in sorted(Path(sinergi.warehouse.__file__).parent.glob("*.py")):
        above = {
            name
            for name in _sinergi_imports(path)
            if not name.startswith("sinergi.warehouse") and name not in allowed
        }
        assert not above, f"{path.name} imports {sorted(above)}"
