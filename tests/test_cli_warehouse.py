"""``--warehouse`` is checked by the command line before any task runs."""

from __future__ import annotations

import os

from sinergi.cli import main


def test_a_bad_warehouse_url_is_refused_before_the_run(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("SINERGI_WAREHOUSE", raising=False)
    (tmp_path / "inbox").mkdir()
    code = main(
        ["run", "--period", "2025-01", "--inbox", str(tmp_path / "inbox"),
         "--warehouse", "duckdb://host/x.duckdb"]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "duckdb:///absolute/path" in err and "Traceback" not in err


def test_a_relative_duckdb_path_is_fixed_to_the_starting_folder(monkeypatch, tmp_path):
    from sinergi.cli import command_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SINERGI_WAREHOUSE", "duckdb:///elsewhere.duckdb")  # undone after
    monkeypatch.setenv("SINERGI_INBOX", str(tmp_path))
    (tmp_path / "in").mkdir()
    settings = command_settings("in", "duckdb:w/x.duckdb")
    expected = f"duckdb://{tmp_path / 'w' / 'x.duckdb'}"
    assert settings.warehouse_url == expected and settings.inbox == tmp_path / "in"
    # the DAG's tasks, run in this process, read the same targets from the environment
    assert os.environ["SINERGI_WAREHOUSE"] == expected
    assert os.environ["SINERGI_INBOX"] == str(tmp_path / "in")
