"""Immutable, content-addressed archive of every file version that arrived.

Stored before the file is judged, so that nothing that arrived is ever lost, whatever the
verdict. The path is derived from the SHA-256 alone: the same bytes are stored once, and a
stored file is never rewritten (it is written to a temporary name, then renamed, and made
read-only).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def archive_file(source: Path, sha256: str, archive_dir: Path) -> Path:
    """Copy ``source`` to ``<archive>/<sha[:2]>/<sha>.<ext>`` unless it is already there."""
    suffix = source.suffix.lower()
    target = archive_dir / sha256[:2] / f"{sha256}{suffix}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, temporary)
    temporary.chmod(0o444)
    os.replace(temporary, target)
    return target
