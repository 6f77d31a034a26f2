"""Limits on what one submitted file may make the pipeline read (docs/input-limits.md).

A district file is untrusted input: a 600 KB XLSX can hold 20 million cells in one row, a
CSV header a million columns. Without limits one such file takes the whole machine's memory
and the province's run with it. Every limit is checked before the expensive step it guards
(the XLSX ones from the zip's central directory, before any parser runs) and a file beyond a
limit is ``unreadable`` with a sentence that says which limit and what to do.

Kept apart from :mod:`sinergi.config` (which reads them from the environment) so that the
reader can use them without importing configuration, and from :mod:`sinergi.reading` so that
configuration does not import pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1_000_000

#: Excel's own sheet size (XLSX cannot hold more): wider or longer sheets are not XLSX.
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True)
class InputLimits:
    """The configured limits (``SINERGI_MAX_*`` variables, defaults here and in .env.example)."""

    #: Largest file accepted, in bytes (a province-scale roster CSV is ~100 MB).
    max_file_bytes: int = 200 * MB
    #: XLSX: total uncompressed size of all parts of the zip.
    max_xlsx_uncompressed_bytes: int = 1_000 * MB
    #: XLSX: largest uncompressed/compressed ratio of one part (real sheets: 5-20).
    max_xlsx_compression_ratio: float = 100.0
    #: XLSX: uncompressed size of the shared strings part, and its number of strings.
    max_xlsx_shared_strings_bytes: int = 200 * MB
    max_xlsx_shared_strings: int = 3_000_000
    #: Columns in the header row (CSV and XLSX), blank trailing ones not counted.
    max_columns: int = 200
    #: Characters in one cell, after trimming (the longest real value is a few dozen).
    max_cell_chars: int = 1_000
