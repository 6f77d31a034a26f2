"""Immutable, content-addressed archive of every file version that arrived.

Stored before the file is judged, so that nothing that arrived is ever lost, whatever the
verdict. The path is derived from the SHA-256 alone: the same bytes are stored once, and a
stored file is never rewritten (it is written to a temporary name, then renamed, and made
read-only).

The inbox file is read exactly once, through the descriptor :func:`sinergi.inbox.open_submission`
opened: the bytes are hashed while they are copied, and size and received time come from
that same descriptor. The pipeline then judges the *archived copy*, so the version's SHA-256,
its archived bytes and the rows loaded are always the same file, even when a district
replaces the inbox file while the run is in progress.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_BLOCK = 1 << 20


@dataclass(frozen=True)
class Archived:
    """One inbox file as copied: its hash, size, received time and archived path.

    ``path`` is None when the file was larger than the size limit: it is hashed (so re-sending
    the same bytes is no new version) but not stored, so one upload cannot fill the disk.
    """

    sha256: str
    size: int
    received_at: datetime  # the file's mtime at the end of the copy (contract §1)
    path: Path | None


def archive_file(
    descriptor: int, suffix: str, archive_dir: Path, max_bytes: int | None = None
) -> Archived:
    """Copy the open file ``descriptor`` to ``<archive>/<sha[:2]>/<sha><suffix>``, once.

    The copy goes to a temporary file in the archive while it is hashed, then is renamed to
    its content address (or dropped when those bytes are already archived). Beyond
    ``max_bytes`` the copy stops (the rest is only hashed) and nothing is stored. OSError
    (disk full, archive not writable) propagates: it is an infrastructure problem.
    The descriptor is not closed.
    """
    archive_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    temporary = archive_dir / f".incoming.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    try:
        with open(temporary, "xb") as out:
            os.lseek(descriptor, 0, os.SEEK_SET)
            while block := os.read(descriptor, _BLOCK):
                digest.update(block)
                size += len(block)
                if max_bytes is None or size <= max_bytes:
                    out.write(block)
        mtime = os.fstat(descriptor).st_mtime
        sha = digest.hexdigest()
        if max_bytes is not None and size > max_bytes:
            return Archived(sha, size, _utc(mtime), None)
        target = archive_dir / sha[:2] / f"{sha}{suffix.lower()}"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary.chmod(0o444)
            os.replace(temporary, target)
        return Archived(sha, size, _utc(mtime), target)
    finally:
        temporary.unlink(missing_ok=True)


def sha256_of(descriptor: int) -> str:
    """The SHA-256 of the open file ``descriptor``, from its start, as :func:`archive_file`
    hashes it (nothing is copied). The descriptor is not closed."""
    os.lseek(descriptor, 0, os.SEEK_SET)
    digest = hashlib.sha256()
    while block := os.read(descriptor, _BLOCK):
        digest.update(block)
    return digest.hexdigest()


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)
