"""Which district feedback files are current, so a run rewrites only the districts that changed.

A district's feedback (``sinergi.feedback``) is a function of a few facts: its served file
versions (with their SHA-256: a version's rows never change once judged), its inbox notices,
whether an earlier DTKS stays in effect, its outliers, and the code that renders them. The
ledger (``<feedback folder>/.ledger.json``) keeps a digest of those facts per district; a
district whose digest is unchanged and whose files are there is not written again. At
province scale a district's feedback holds thousands of rejected rows, and writing all 38
(CSV and XLSX) cost most of a re-run with nothing new (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import sinergi.feedback
import sinergi.messages
import sinergi.reason_codes
import sinergi.xlsx
from sinergi.scrub import lettered

NAME = ".ledger.json"


def _code_digest() -> str:
    """The rendering code's own digest: a change to the texts or layout rewrites every file
    (the reason codes' catalogue names the column of a code without one; sinergi.xlsx writes
    the XLSX twin)."""
    digest = hashlib.sha256()
    for module in (sinergi.feedback, sinergi.messages, sinergi.reason_codes, sinergi.xlsx):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


class FeedbackLedger:
    """Digests of the facts each district's feedback files were last written from."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / NAME
        self.code = _code_digest()
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        self.digests: dict[str, str] = loaded if isinstance(loaded, dict) else {}

    def digest(self, facts: object) -> str:
        text = json.dumps(facts, sort_keys=True, default=str)
        return lettered(hashlib.sha256((self.code + text).encode()).hexdigest())

    def current(self, district: str, facts: object) -> bool:
        """The district's files exist and were written from exactly these facts."""
        files = [self.folder / f"umpan-balik-{district}.{ext}" for ext in ("csv", "xlsx")]
        return all(f.exists() for f in files) and self.digests.get(district) == self.digest(facts)

    def written(self, district: str, facts: object) -> None:
        self.digests[district] = self.digest(facts)

    def save(self) -> None:
        self.path.write_text(json.dumps(self.digests, sort_keys=True), encoding="utf-8")
