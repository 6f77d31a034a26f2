"""The one warehouse URL convention (issue 11 §2): where a DuckDB URL writes, what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinergi.dbt import dbt_env, dbt_target
from sinergi.warehouse.connection import DuckDBWarehouse, PostgresWarehouse, open_warehouse
from sinergi.warehouse.url import WarehouseURLError, duckdb_url, parse_warehouse_url, redact


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory that is not where the warehouse should go."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def _files(folder: Path) -> list[Path]:
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_three_slashes_write_exactly_at_the_absolute_path(tmp_path: Path, elsewhere: Path):
    target = tmp_path / "srv" / "w.duckdb"
    url = f"duckdb://{target}"  # duckdb:///…/srv/w.duckdb
    assert url.startswith("duckdb:///") and not url.startswith("duckdb:////")

    open_warehouse(url).ensure_schema()

    assert target.is_file()
    assert _files(elsewhere) == []  # nothing under the current directory (the old bug)


def test_four_slashes_name_the_same_absolute_path(tmp_path: Path, elsewhere: Path):
    target = tmp_path / "w.duckdb"
    url = f"duckdb:///{target}"  # what f"duckdb:///{abs_path}" produces: four slashes
    assert url.startswith("duckdb:////")

    open_warehouse(url).ensure_schema()

    assert target.is_file()
    assert parse_warehouse_url(url).path == target
    assert _files(elsewhere) == []


def test_relative_form_is_relative_to_the_current_directory(elsewhere: Path):
    open_warehouse("duckdb:data/w.duckdb").ensure_schema()

    assert (elsewhere / "data" / "w.duckdb").is_file()
    assert parse_warehouse_url("duckdb:data/w.duckdb").path == elsewhere / "data" / "w.duckdb"


def test_canonical_url_round_trips(tmp_path: Path, elsewhere: Path):
    assert duckdb_url(tmp_path / "w.duckdb") == f"duckdb://{tmp_path}/w.duckdb"
    assert parse_warehouse_url(duckdb_url("rel.duckdb")).path == elsewhere / "rel.duckdb"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("duckdb://srv/w.duckdb", "names a host ('srv')"),
        ("duckdb://localhost/tmp/w.duckdb", "names a host ('localhost')"),
        ("duckdb:/srv/w.duckdb", "ambiguous"),
        ("duckdb://///srv/w.duckdb", "ambiguous"),
        ("duckdb:", "names no database file"),
        ("duckdb:///", "names no database file"),
        ("duckdb:///srv/", "names no database file"),
        ("duckdb::memory:", "names no database file"),
        ("sqlite:///w.db", "is not a warehouse URL"),
        ("/srv/w.duckdb", "is not a warehouse URL"),
        ("postgresql://u@h:5432/", "names no database"),
    ],
)
def test_bad_forms_fail_with_the_right_form_shown(url: str, says: str):
    with pytest.raises(WarehouseURLError) as caught:
        open_warehouse(url)
    message = str(caught.value)
    assert says in message
    if url.startswith("postgres"):
        assert "postgresql://user:password@host:5432/dbname" in message
    else:
        assert "duckdb:///absolute/path/warehouse.duckdb" in message
        assert "duckdb:relative/path/warehouse.duckdb" in message


def test_a_password_never_appears_in_messages_or_repr():
    url = "postgresql://etl:s3cr%40t@db.example:6543/"
    with pytest.raises(WarehouseURLError) as caught:
        parse_warehouse_url(url)
    assert "s3cr" not in str(caught.value)
    with pytest.raises(WarehouseURLError) as caught:
        parse_warehouse_url("mysql://etl:s3cret@db/x")
    assert "s3cret" not in str(caught.value)

    location = parse_warehouse_url("postgresql://etl:s3cr%40t@db.example:6543/sinergi")
    assert "s3cr" not in repr(location) and "s3cr" not in str(location)
    assert location.redacted == "postgresql://etl:***@db.example:6543/sinergi"
    assert redact("postgresql://etl@db/x") == "postgresql://etl@db/x"


def test_postgres_forms():
    for scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        location = parse_warehouse_url(f"{scheme}://etl:p%40ss@db:6543/sinergi")
        assert location.kind == "postgres"
        assert location.conninfo == "postgresql://etl:p%40ss@db:6543/sinergi"
        assert (location.host, location.port, location.user) == ("db", 6543, "etl")
        assert (location.password, location.dbname) == ("p@ss", "sinergi")
    socket = parse_warehouse_url("postgresql:///sinergi?host=/var/run/postgresql")
    assert (socket.host, socket.port, socket.user) == ("/var/run/postgresql", 5432, "postgres")
    assert isinstance(open_warehouse("postgres://u@h/d"), PostgresWarehouse)


def test_dbt_env_for_both_engines(tmp_path: Path, elsewhere: Path):
    three = dbt_env(f"duckdb://{tmp_path}/w.duckdb")
    assert three == {"SINERGI_DBT_TARGET": "duckdb", "SINERGI_DUCKDB_PATH": f"{tmp_path}/w.duckdb"}
    assert dbt_env(f"duckdb:///{tmp_path}/w.duckdb") == three
    relative = dbt_env("duckdb:rel/w.duckdb")
    assert relative["SINERGI_DUCKDB_PATH"] == str(elsewhere / "rel" / "w.duckdb")

    assert dbt_env("postgresql+psycopg://etl:p%40ss@db:6543/sinergi") == {
        "SINERGI_DBT_TARGET": "postgres",
        "SINERGI_PG_HOST": "db",
        "SINERGI_PG_PORT": "6543",
        "SINERGI_PG_USER": "etl",
        "SINERGI_PG_PASSWORD": "p@ss",
        "SINERGI_PG_DBNAME": "sinergi",
    }
    assert dbt_target("duckdb:w.duckdb") == "duckdb"
    with pytest.raises(WarehouseURLError, match="names a host"):
        dbt_env("duckdb://srv/w.duckdb")


def test_settings_parse_the_url_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from sinergi.config import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SINERGI_DATA_DIR", "rel-data")
    monkeypatch.delenv("SINERGI_WAREHOUSE", raising=False)
    settings = load_settings()
    assert settings.warehouse.path == tmp_path / "rel-data" / "warehouse.duckdb"
    assert settings.is_duckdb
    assert isinstance(open_warehouse(settings.warehouse), DuckDBWarehouse)


def test_redact_text_masks_every_url_password_in_free_text():
    from sinergi.warehouse.url import redact_text

    text = "failed: postgresql://bob:s3cr@t@db:5432/x, then redis://:pw@cache/0; duckdb:///a/b"
    shown = redact_text(text)
    assert "s3cr" not in shown and ":pw@" not in shown
    assert "postgresql://bob:***@db:5432/x," in shown and "duckdb:///a/b" in shown
