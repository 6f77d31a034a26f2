"""Finding the submissions of one period in the inbox (contract §1 and §7).

Only ``<inbox>/<P>/`` is looked at when period P runs. Anything that is not a recognised
district folder or dataset file is reported as a notice, never silently dropped, so the
district can be told its upload went to the wrong place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sinergi import reference
from sinergi.datasets import SPECS
from sinergi.periods import Period

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Notice:
    """Something in the inbox that was not processed, and why (a warning, not an error)."""

    path: str  # relative to the inbox
    code: str  # ignored_file | unknown_district_folder | unexpected_columns
    detail: str


@dataclass
class DistrictFiles:
    """The dataset files one district uploaded for one period."""

    district_code: str
    files: dict[str, list[Path]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)


def dataset_of(path: Path) -> str | None:
    """``PPKS.CSV`` -> ``ppks``; None for a name that is no dataset file (case-insensitive)."""
    name = path.name.lower()
    stem, _, ext = name.rpartition(".")
    if ext in FORMATS and stem in SPECS:
        return stem
    return None


def _relative(inbox: Path, path: Path) -> str:
    try:
        return str(path.relative_to(inbox))
    except ValueError:
        return str(path)


def scan_period_notices(inbox: Path, period: Period) -> list[Notice]:
    """Period-level notices: unknown district folders, stray files beside the districts."""
    folder = inbox / str(period)
    if not folder.is_dir():
        return []
    notices = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and entry.name not in reference.district_codes():
            notices.append(
                Notice(
                    _relative(inbox, entry),
                    "unknown_district_folder",
                    f"folder {entry.name!r} is not one of the 38 district codes; not processed",
                )
            )
        elif not entry.is_dir():
            notices.append(
                Notice(_relative(inbox, entry), "ignored_file", "file outside a district folder")
            )
    return notices


def scan_district(inbox: Path, period: Period, district_code: str) -> DistrictFiles:
    """The dataset files of one district folder, and notices for everything else in it."""
    result = DistrictFiles(district_code)
    folder = inbox / str(period) / district_code
    if not folder.is_dir():
        return result
    for entry in sorted(folder.iterdir()):
        dataset = dataset_of(entry) if entry.is_file() else None
        if dataset is None:
            result.notices.append(
                Notice(
                    _relative(inbox, entry),
                    "ignored_file",
                    "not a dataset file (expected ppks, psks, penerima_bantuan or dtks "
                    "as .csv or .xlsx)",
                )
            )
            continue
        result.files.setdefault(dataset, []).append(entry)
    return result


def received_at(path: Path) -> datetime:
    """Received time = the file's last-modified time in the inbox (contract §1)."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
