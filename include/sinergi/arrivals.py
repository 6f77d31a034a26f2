"""Receiving a district's files: archive each once, number the new versions (§2, §3).

Every inbox file is opened without following links (:func:`sinergi.inbox.open_submission`)
and copied once into the archive while it is hashed: the version's SHA-256, size and
received time, and later its judged rows, all come from that one read. Bytes already recorded
for (period, district, dataset) are UNCHANGED; other bytes get the next version number, in
the order they were received.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from sinergi.archive import Archived, archive_file, sha256_of
from sinergi.config import Settings
from sinergi.inbox import DistrictFiles, Notice, RefusedEntry, notice, open_submission
from sinergi.periods import Period
from sinergi.scrub import printable
from sinergi.versions import FileVersion, summary_line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Arrival:
    """A new file version to judge; ``ambiguous`` when a .csv and a .xlsx came together."""

    version: FileVersion
    inbox_path: Path  # where it arrived (for notices about it)
    ambiguous: bool = False


@dataclass
class Arrivals:
    """What one district sent for one period, once archived and numbered."""

    new: list[Arrival] = field(default_factory=list)
    unchanged: list[dict] = field(default_factory=list)  # summary lines of known bytes
    notices: list[Notice] = field(default_factory=list)


def receive(
    found: DistrictFiles,
    known: dict[str, dict[str, int]],
    period: Period,
    settings: Settings,
) -> Arrivals:
    """Archive the district's files and number them against the ``known`` versions.

    ``known`` is dataset -> {sha256: version} of what the warehouse already recorded.
    """
    arrivals = Arrivals(notices=list(found.notices))
    deadline = period.deadline(settings.deadline_day, settings.deadline_time)
    for dataset, paths in sorted(found.files.items()):
        copies = _archive_all(settings, paths, arrivals.notices)
        seen = dict(known.get(dataset, {}))
        for path, copied in sorted(copies, key=lambda pc: (pc[1].received_at, pc[0].name)):
            if copied.sha256 in seen:
                line = summary_line(dataset, path.name, seen[copied.sha256], "UNCHANGED")
                arrivals.unchanged.append(line)
                continue
            number = max(seen.values(), default=0) + 1
            seen[copied.sha256] = number
            version = FileVersion(
                period=period,
                district_code=found.district_code,
                dataset=dataset,
                version=number,
                file_name=path.name,
                sha256=copied.sha256,
                size_bytes=copied.size,
                received_at=copied.received_at,
                deadline_at=deadline,
                archive_path=copied.path,
            )
            arrivals.new.append(Arrival(version, path, ambiguous=len(copies) > 1))
    return arrivals


def has_something_new(
    found: DistrictFiles,
    known: dict[str, dict[str, int]],
    inbox: Path,
    reported: set[tuple[str, str]] = frozenset(),
) -> bool:
    """Whether :func:`receive` would find anything to do for this district: bytes not yet
    recorded as a version, or an inbox entry (a link, a stray file) not yet reported.

    ``reported`` holds the (path, code) of the notices already stored. Reads each file once
    through the same no-follow descriptor, archives nothing. Whatever cannot be read here
    counts as new: the district task then receives it and says why.
    """
    if any((n.path, n.code) not in reported for n in found.notices):
        return True
    for dataset, paths in found.files.items():
        recorded = known.get(dataset, {})
        for path in paths:
            try:
                descriptor = open_submission(inbox, path)
            except (RefusedEntry, OSError):
                return True
            try:
                if sha256_of(descriptor) not in recorded:
                    return True
            except OSError:
                return True
            finally:
                os.close(descriptor)
    return False


def _archive_all(
    settings: Settings, paths: list[Path], notices: list[Notice]
) -> list[tuple[Path, Archived]]:
    """Archive each path; a path swapped for a link or removed since the scan is skipped."""
    copies = []
    for path in paths:
        try:
            copies.append((path, _archive(settings, path)))
        except RefusedEntry as refused:  # swapped for a link or a FIFO after the scan
            notices.append(notice(settings.inbox, path, refused.code, refused.detail))
        except FileNotFoundError:
            log.warning("inbox %s vanished during the run", printable(path.name))
    return copies


def _archive(settings: Settings, path: Path) -> Archived:
    """Copy one inbox file into the archive through a no-follow descriptor (read once)."""
    descriptor = open_submission(settings.inbox, path)
    try:
        return archive_file(
            descriptor, path.suffix, settings.archive_dir, settings.limits.max_file_bytes
        )
    finally:
        os.close(descriptor)
