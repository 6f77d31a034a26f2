"""The quarantine's original values, built column by column, are the text ``json.dumps`` wrote.

``audit.row_rejections.original_values`` is what an auditor reads of a rejected row; the
vectorised build (``judged_rows.original_texts``) must give it byte for byte as one
``json.dumps`` per row does: quotes, backslashes, non-ASCII text, control characters, cells
over the stored length, empty and missing cells, and a column that is not text.
"""

from __future__ import annotations

import json

import pandas as pd

from sinergi import judged_rows
from sinergi.judged_rows import _texts_row_by_row, original_texts

AWKWARD = [
    "plain",
    'a "quoted" cell',
    "back\\slash \\\\ two",
    "Kabupaten Sumenep – é ✓ 👍",
    "line\nbreak",
    "tab\there and \x01 control",
    "\u2028 line separator",
    "",
    None,
    "x" * 1_200,
    "é" * 1_001,
    "  spaced  ",
]


def _frame(cells: list, columns: tuple[str, ...] = ("nik", 'nama "kolom"', "kode_desa")):
    rows = [[cells[(i + j) % len(cells)] for j in range(len(columns))] for i in range(len(cells))]
    return pd.DataFrame(rows, columns=list(columns), dtype=object).set_axis(range(2, 2 + len(rows)))


def test_every_awkward_cell_is_stored_as_json_dumps_stores_it(monkeypatch):
    rows = _frame(AWKWARD)
    by_dumps = []

    def row_by_row(part):
        by_dumps.extend(part.index)
        return _texts_row_by_row(part)

    monkeypatch.setattr(judged_rows, "_texts_row_by_row", row_by_row)
    built = original_texts(rows)
    assert built == _texts_row_by_row(rows)
    # only the rows with a control character took json.dumps; the rest were built
    controls = [
        i
        for i, row in rows.iterrows()
        if any("\n" in c or "\x01" in c for c in row if isinstance(c, str))
    ]
    assert sorted(by_dumps) == controls and len(controls) < len(rows)
    assert json.loads(built[0]) == {
        "nik": "plain",
        'nama "kolom"': 'a "quoted" cell',
        "kode_desa": "back\\slash \\\\ two",
    }
    assert all(len(v) <= 1_000 for text in built for v in json.loads(text).values() if v)


def test_a_column_that_is_not_text_is_stored_as_before():
    rows = _frame(["1", None, "3"])
    rows["kode_desa"] = [1, 2.5, None]
    assert original_texts(rows) == _texts_row_by_row(rows)


def test_missing_columns_and_no_rows():
    rows = _frame([None, None])
    assert (
        original_texts(rows) == ['{"nik": null, "nama \\"kolom\\"": null, "kode_desa": null}'] * 2
    )
    assert original_texts(rows.iloc[:0]) == []
