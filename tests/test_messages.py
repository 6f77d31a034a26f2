"""The message catalogue: every code an operator can meet has an Indonesian message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sinergi import inbox
from sinergi import messages as m
from tests.contract_oracle import FILE_REASONS
from tests.reason_codes import ROW_REASON_CODES, ROW_REASON_PREFIXES

INCLUDE = Path(__file__).resolve().parents[1] / "include" / "sinergi"
# Words of the English details that must not turn up in a message an operator reads.
ENGLISH = re.compile(r"\b(of|rows?|missing|columns?|header|file|line|the|sent|rejected)\b")
PARAMETERS = {
    "column", "value", "allowed", "range", "period", "district", "program", "shape", "cause",
    "columns", "where", "expected", "dataset", "rejected", "total", "share", "limit", "loaded",
    "count", "length", "row", "scope", "reason", "fix",
    "indicator", "breakdown", "direction", "median", "months", "change", "previous",
    "approved_at", "approved_by", "served",
}  # fmt: skip
CATALOGUES = {
    "row": m.ROW_MESSAGES,
    "file": m.FILE_MESSAGES,
    "status": m.FILE_STATUS_MESSAGES,
    "notice": m.NOTICE_MESSAGES,
    "systemic": m.SYSTEMIC_MESSAGES,
    "outlier": m.OUTLIER_MESSAGES,
}


def _notice_codes() -> set[str]:
    """Every notice code the code can raise: literal ones in ``notice(...)`` calls and the
    refusal constants of ``sinergi.inbox``."""
    found = {inbox.SYMLINK_REFUSED, inbox.NOT_A_REGULAR_FILE}
    for path in INCLUDE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"notice\(\s*[^()]*?\"([a-z]+(?:_[a-z]+)+)\"", text, re.S))
    return found


def test_every_row_reason_code_has_a_message():
    for code in ROW_REASON_CODES | ROW_REASON_PREFIXES | {"negative_value"}:
        assert code.partition(":")[0] in m.ROW_MESSAGES, code


def test_every_file_reason_code_has_a_message():
    assert set(FILE_REASONS) <= set(m.FILE_MESSAGES)


def test_every_notice_code_has_a_message():
    codes = _notice_codes()
    assert {"ignored_file", "unexpected_columns", "unknown_district_folder"} <= codes
    assert codes <= set(m.NOTICE_MESSAGES), codes - set(m.NOTICE_MESSAGES)


def test_every_status_has_an_indonesian_label():
    assert set(m.STATUS_LABELS) >= {"ACCEPTED", "PARTIAL", "REJECTED", "MISSING"}
    assert m.STATUS_LABELS["PARTIAL"] == "DITERIMA SEBAGIAN"
    assert m.STATUS_LABELS["MISSING"] == "TIDAK ADA"


@pytest.mark.parametrize("kind", sorted(CATALOGUES))
def test_templates_use_known_parameters_and_no_english(kind):
    for code, message in CATALOGUES[kind].items():
        assert set(message) == {"problem", "action"}, code
        assert message["problem"], code
        for text in message.values():
            assert m.template_fields(text) <= PARAMETERS, (code, m.template_fields(text))
            assert not ENGLISH.search(re.sub(r"\{\w+\}", "", text)), (code, text)
    for text in [*m.SHAPE_MESSAGES.values(), *m.PHRASES.values(), *m.OUTLIER_WORDS.values()]:
        assert not ENGLISH.search(re.sub(r"\{\w+\}", "", text)), text


def test_render_fills_named_parameters_and_marks_missing_ones():
    template = m.ROW_MESSAGES["unknown_code"]["problem"]
    assert m.render(template, column="status_salur", value="TIDAK AKTIF") == (
        "Kode tidak dikenal pada kolom status_salur: TIDAK AKTIF"
    )
    assert m.render(template, column="x") == "Kode tidak dikenal pada kolom x: -"
    assert m.render("{value}", value="{column}") == "{column}"  # a value is never a template
