"""marts.dim_reason_codes' seed is the reason-code catalogue joined to the feedback texts."""

from __future__ import annotations

import csv

from sinergi import reason_codes as rc
from sinergi.cli import main
from sinergi.messages import FILE_MESSAGES, ROW_MESSAGES
from sinergi.paths import SEEDS_DIR
from tests.contract_oracle import FILE_REASONS
from tests.reason_codes import ROW_REASON_CODES, ROW_REASON_PREFIXES

SEED = SEEDS_DIR / "reason_codes.csv"


def test_the_committed_seed_is_the_catalogue(capsys):
    assert SEED.read_text(encoding="utf-8") == rc.seed_text()
    assert main(["reason-codes", "--check"]) == 0
    assert "current" in capsys.readouterr().out


def test_check_fails_on_a_stale_seed(tmp_path, monkeypatch, capsys):
    from sinergi import paths

    (tmp_path / "reason_codes.csv").write_text("reason_code\n", encoding="utf-8")
    monkeypatch.setattr(paths, "SEEDS_DIR", tmp_path)
    assert main(["reason-codes", "--check"]) == 1
    assert "out of date" in capsys.readouterr().out
    assert main(["reason-codes"]) == 0
    assert (tmp_path / "reason_codes.csv").read_text(encoding="utf-8") == rc.seed_text()


def test_every_contract_reason_code_is_in_the_catalogue_once():
    codes = [c.reason_code for c in rc.CATALOGUE]
    assert len(codes) == len(set(codes))
    row_codes = {code.split(":")[0] for code in ROW_REASON_CODES} | ROW_REASON_PREFIXES
    assert row_codes | {"nik_birthdate_mismatch"} == {
        c.reason_code for c in rc.CATALOGUE if c.level == "row"
    }
    assert set(FILE_REASONS) | {"unexpected_columns"} == {
        c.reason_code for c in rc.CATALOGUE if c.level == "file"
    }


def test_seed_rows_quote_the_feedback_texts_verbatim():
    rows = list(csv.DictReader(rc.seed_text().splitlines()))
    by_code = {r["reason_code"]: r for r in rows}
    for code, message in ROW_MESSAGES.items():
        assert by_code[code]["message_id"] == message["problem"]
        assert by_code[code]["what_to_do_id"] == message["action"]
    for code, message in FILE_MESSAGES.items():
        assert by_code[code]["message_id"] == message["problem"]
    assert all(r["meaning_en"] and r["contract_section"].startswith("§") for r in rows)
