"""Scrubbing text that leaves the quarantine: identifiers by their shape, not their column.

A NIK or No. KK can turn up anywhere a district typed it: in a shifted row, in the wrong
column, glued to a letter (``3578014501900001x``), in an error message quoting a cell. Every
value that leaves the quarantine and the archive (GX results, Data Docs, feedback, audit
messages, logs) goes through :func:`scrub_identifiers`, which hides any run of 16 or more
digits whatever column it came from. :func:`printable` makes a name safe for one log line
(a folder called ``"x\\nINFO forged"`` must not forge a second line).
"""

from __future__ import annotations

import re

# Any run of 16+ digits (``\\d`` also matches full-width and other Unicode digits, which the
# contract rejects but a district may still type).
_IDENTIFIER = re.compile(r"\d{16,}")


def _mask(match: re.Match[str]) -> str:
    return f"<{len(match.group())} digits>"


def scrub_identifiers(text: str) -> str:
    """``text`` with every run of 16 or more digits replaced by ``<N digits>``."""
    if len(text) < 16:  # most strings of a report (codes, names): no regex call
        return text
    return _IDENTIFIER.sub(_mask, text)


def printable(text: str, limit: int = 200) -> str:
    """One-line, identifier-free form of an untrusted name, at most ``limit`` characters."""
    escaped = text.encode("unicode_escape").decode("ascii")
    escaped = scrub_identifiers(escaped)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


_DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def lettered(hexdigest: str) -> str:
    """A hex digest spelled without decimal digits (``0``-``9`` become ``g``-``p``).

    Digests the reports folder keeps (feedback ledger, Data Docs ledger, dbt docs key) would
    otherwise now and then hold a run of 16 digits, which reads as a NIK to an auditor
    searching the published files for leaked identifiers (and to the test that does so).
    """
    return hexdigest.translate(_DIGITS_AS_LETTERS)
