"""The feedback ledger: a district's files are rewritten exactly when a fact behind them changed."""

from __future__ import annotations

from sinergi.feedback_ledger import FeedbackLedger

FACTS = ([("3578", "psks", 1, "psks.csv", "ACCEPTED", "a" * 64)], [], False, [])


def _files(folder, district="3578"):
    for ext in ("csv", "xlsx"):
        (folder / f"umpan-balik-{district}.{ext}").write_text("x", encoding="utf-8")


def test_unchanged_facts_keep_the_files_and_any_change_rewrites_them(tmp_path):
    ledger = FeedbackLedger(tmp_path)
    assert not ledger.current("3578", FACTS)  # never written
    _files(tmp_path)
    ledger.written("3578", FACTS)
    ledger.save()

    again = FeedbackLedger(tmp_path)  # the next run reads the saved ledger
    assert again.current("3578", FACTS)
    new_version = ([*FACTS[0], ("3578", "psks", 2, "psks.csv", "PARTIAL", "b" * 64)], *FACTS[1:])
    assert not again.current("3578", new_version)
    assert not again.current(
        "3578", (FACTS[0], [("2025-03/3578/x.txt", "ignored_file", "")], False, [])
    )
    assert not again.current("3578", (*FACTS[:3], ["an outlier"]))
    assert not again.current("3501", FACTS)  # another district
    (tmp_path / "umpan-balik-3578.xlsx").unlink()  # a file removed by hand
    assert not again.current("3578", FACTS)


def test_a_change_to_the_rendering_code_rewrites_every_file(tmp_path, monkeypatch):
    _files(tmp_path)
    ledger = FeedbackLedger(tmp_path)
    ledger.written("3578", FACTS)
    ledger.save()
    monkeypatch.setattr("sinergi.feedback_ledger._code_digest", lambda: "other code")
    assert not FeedbackLedger(tmp_path).current("3578", FACTS)


def test_an_unreadable_ledger_means_everything_is_written(tmp_path):
    _files(tmp_path)
    (tmp_path / ".ledger.json").write_text("{not json", encoding="utf-8")
    assert not FeedbackLedger(tmp_path).current("3578", FACTS)
