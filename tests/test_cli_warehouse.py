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
    from sinergi.cli import _set_targets

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SINERGI_WAREHOUSE", raising=False)
    _set_targets(None, "duckdb:w/x.duckdb")
    assert os.environ["SINERGI_WAREHOUSE"] == f"duckdb://{tmp_path / 'w' / 'x.duckdb'}"
