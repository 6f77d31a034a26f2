"""Finding the submissions of one period in the inbox (contract §1 and §7).

Only ``<inbox>/<P>/`` is looked at when period P runs. Anything that is not a recognised
district folder or dataset file is reported as a notice, never silently dropped, so the
district can be told its upload went to the wrong place.

Only *regular files* inside real folders ``<inbox>/<P>/<district>/`` are ever read. The inbox
is written by the districts (an SFTP/SMB share), so a symbolic link there could make the
pipeline read, archive and even load a file from anywhere on the server (``/etc/passwd``,
``/proc/self/environ`` with the PII key). Entries are examined with ``lstat`` (links are not
followed), and a file is opened by :func:`open_submission` one path component at a time with
``O_NOFOLLOW``, so a folder or file swapped for a link after the scan is refused too.
Refused entries become notices with their own codes:

``symlink_refused``
    a symbolic link (to a file or a folder, inside or outside the inbox), at any level;
``not_a_regular_file``
    a FIFO, socket or device file (reading a FIFO would block the task forever).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sinergi import reference
from sinergi.datasets import SPECS
from sinergi.periods import Period
from sinergi.scrub import printable, scrub_identifiers

FORMATS = ("csv", "xlsx")

SYMLINK_REFUSED = "symlink_refused"
NOT_A_REGULAR_FILE = "not_a_regular_file"

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO swapped in after the scan must not block (fstat refuses it then).
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# What open(2) answers for a link under O_NOFOLLOW (ELOOP) or O_DIRECTORY (ENOTDIR).
_LINK_ERRORS = (errno.ELOOP, errno.ENOTDIR)


@dataclass(frozen=True)
class Notice:
    """Something in the inbox that was not processed, and why (a warning, not an error).

    ``path`` and ``detail`` may quote names a district chose: write them to a log line with
    :func:`sinergi.scrub.printable` (a name may hold a line break).
    """

    path: str  # relative to the inbox
    code: str  # ignored_file | unknown_district_folder | unexpected_columns | symlink_refused
    #            | not_a_regular_file
    detail: str


class RefusedEntry(Exception):
    """An inbox entry that is not a regular file in a real folder: never read."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


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


def notice(inbox: Path, path: Path, code: str, detail: str) -> Notice:
    """A notice whose path and detail carry no 16-digit identifier (a NIK as a file name)."""
    return Notice(scrub_identifiers(_relative(inbox, path)), code, scrub_identifiers(detail))


def _refusal(mode: int) -> tuple[str, str] | None:
    """(code, detail) for an entry that must not be read; None for a file or a folder."""
    if stat.S_ISLNK(mode):
        return SYMLINK_REFUSED, "a symbolic link; upload the file itself (links are not read)"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return NOT_A_REGULAR_FILE, "not a regular file (a device, FIFO or socket); not read"
    return None


def _real_folder(path: Path) -> bool:
    """Whether ``path`` is a folder and not a link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def scan_period_notices(inbox: Path, period: Period) -> list[Notice]:
    """Period-level notices: unknown district folders, stray files, links beside the districts."""
    folder = inbox / str(period)
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return []
    if refused := _refusal(mode):
        return [notice(inbox, folder, *refused)]
    if not stat.S_ISDIR(mode):
        return []
    notices = []
    for entry in sorted(folder.iterdir()):
        mode = os.lstat(entry).st_mode
        if refused := _refusal(mode):
            notices.append(notice(inbox, entry, *refused))
        elif stat.S_ISDIR(mode) and entry.name not in reference.district_codes():
            name = printable(entry.name, 80)
            notices.append(
                notice(
                    inbox,
                    entry,
                    "unknown_district_folder",
                    f"folder '{name}' is not one of the 38 district codes; not processed",
                )
            )
        elif not stat.S_ISDIR(mode):
            notices.append(notice(inbox, entry, "ignored_file", "file outside a district folder"))
    return notices


def scan_district(inbox: Path, period: Period, district_code: str) -> DistrictFiles:
    """The dataset files of one district folder, and notices for everything else in it.

    A period or district folder that is a link is not looked into at all (the period-level
    scan reports it).
    """
    result = DistrictFiles(district_code)
    folder = inbox / str(period) / district_code
    if not (_real_folder(inbox / str(period)) and _real_folder(folder)):
        return result
    for entry in sorted(folder.iterdir()):
        mode = os.lstat(entry).st_mode
        if refused := _refusal(mode):
            result.notices.append(notice(inbox, entry, *refused))
            continue
        dataset = dataset_of(entry) if stat.S_ISREG(mode) else None
        if dataset is None:
            result.notices.append(
                notice(
                    inbox,
                    entry,
                    "ignored_file",
                    "not a dataset file (expected ppks, psks, penerima_bantuan or dtks "
                    "as .csv or .xlsx)",
                )
            )
            continue
        result.files.setdefault(dataset, []).append(entry)
    return result


def open_submission(inbox: Path, path: Path) -> int:
    """A read-only descriptor of ``path`` (under ``inbox``), opened without following links.

    Every folder between the inbox and the file is opened with ``O_NOFOLLOW`` relative to the
    previous one, so no component can be a link, whenever it was swapped in. Raises
    :class:`RefusedEntry` for a link or anything that is not a regular file; the caller owns
    (and closes) the descriptor.
    """
    parts = path.relative_to(inbox).parts
    folder = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=folder)
            except OSError as exc:
                if exc.errno not in _LINK_ERRORS:
                    raise
                raise RefusedEntry(
                    SYMLINK_REFUSED, f"folder '{printable(part, 80)}' is a link, not a folder"
                ) from exc
            os.close(folder)
            folder = inner
        try:
            descriptor = os.open(parts[-1], _FILE_FLAGS, dir_fd=folder)
        except OSError as exc:
            if exc.errno not in _LINK_ERRORS:
                raise
            raise RefusedEntry(*_refusal(stat.S_IFLNK)) from exc
    finally:
        os.close(folder)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise RefusedEntry(NOT_A_REGULAR_FILE, "not a regular file; not read")
    return descriptor


def received_at(path: Path) -> datetime:
    """Received time = the file's last-modified time in the inbox (contract §1; no link followed).

    The pipeline takes it from the descriptor it copies (:mod:`sinergi.archive`); this is for
    reports that only look at the inbox (deadline alerts, benchmarks).
    """
    return datetime.fromtimestamp(os.lstat(path).st_mtime, tz=UTC)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file (benchmarks; the pipeline hashes while archiving)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
