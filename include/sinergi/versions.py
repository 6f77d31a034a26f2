"""A file version and the judge's options, importable without pandas.

The month's ``judge`` task only plans: it receives the files and hands its parts to worker
processes (``sinergi.judge_workers``), which import the judge. Defined in
``sinergi.judgement``, these pulled pandas, pyarrow and the whole judge into the task's
process (the DAG's process under ``sinergi run``) before the first worker started: ~80 MB of
private memory that process then held through the judging, the month's peak (docs/
performance.md, "Judge workers: garbage, allocators and a lighter task process").
``sinergi.judgement`` re-exports them; ``tests/test_judge_workers.py`` checks that the task's
modules import no pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sinergi.datasets import SPECS
from sinergi.limits import InputLimits
from sinergi.periods import Period

if TYPE_CHECKING:
    from sinergi.judged_rows import VersionRef


@dataclass(frozen=True)
class FileVersion:
    """One arrived file as a numbered version of (period, district, dataset).

    ``archive_path`` is the archived copy the judge reads (never the inbox file, which may
    change meanwhile); ``None`` when the file was over the size limit and not stored.
    """

    period: Period
    district_code: str
    dataset: str
    version: int
    file_name: str
    sha256: str
    size_bytes: int
    received_at: datetime
    deadline_at: datetime
    archive_path: Path | None

    @property
    def ref(self) -> VersionRef:
        from sinergi.judged_rows import VersionRef
        from sinergi.rules import Context

        return VersionRef(
            SPECS[self.dataset], Context(self.period, self.district_code), self.version
        )

    @property
    def name(self) -> str:
        """``<P>-<district>-<dataset>-v<N>``: the version's name in reports and Data Docs."""
        return f"{self.period}-{self.district_code}-{self.dataset}-v{self.version}"


@dataclass(frozen=True)
class JudgeOptions:
    """What judging needs besides the file: the PII key, the threshold, the suites, limits."""

    pii_key: bytes
    threshold: float
    suites_dir: Path
    limits: InputLimits = field(default_factory=InputLimits)
    chunk_rows: int = 200_000
    # Rows of several small files validated together (``judge_together``): 100,000 keeps a
    # province month's judging under ~0.7 GB (200,000: 1.1 GB, 8 % faster; bench, 2026-12-05).
    batch_rows: int = 100_000

    @classmethod
    def from_settings(cls, settings) -> JudgeOptions:
        return cls(
            settings.pii_key, settings.reject_threshold, settings.suites_dir, settings.limits
        )


def summary_line(
    dataset: str,
    file_name: str,
    version: int,
    status: str,
    rows_total: int = 0,
    rows_rejected: int = 0,
    rejection_reason: str | None = None,
) -> dict:
    """One line of a district task's summary (counts and codes only, no personal data).

    ``status`` is a verdict's, or UNCHANGED for bytes already recorded as ``version``.
    """
    return {
        "dataset": dataset,
        "file_name": file_name,
        "version": version,
        "status": status,
        "rows_total": rows_total,
        "rows_rejected": rows_rejected,
        "rejection_reason": rejection_reason,
    }
