"""Fail the image build unless every pin of the exported uv.lock is what is installed.

Run at build time after ``pip install -r requirements.txt``: the Airflow base image comes with
its own packages, and this proves the lock's versions won for every package the lock names.
Usage: python verify_lock.py requirements.txt
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version

from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import Version

# name[extras]==version [; marker] [\]   (one line of `uv export --format requirements-txt`)
PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$"
)


def pins(path: str) -> list[tuple[str, str]]:
    found = []
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in lines:
        match = PIN.match(line.strip())
        if not match:
            continue
        name, wanted, marker = match.groups()
        if marker and not Marker(marker).evaluate():
            continue
        found.append((canonicalize_name(name), wanted))
    return found


def main(path: str) -> int:
    wanted = pins(path)
    if not wanted:
        print(f"verify_lock: no pins found in {path}", file=sys.stderr)
        return 1
    problems = []
    for name, pinned in wanted:
        try:
            installed = version(name)
        except PackageNotFoundError:
            problems.append(f"{name}: not installed (lock pins {pinned})")
            continue
        if Version(installed) != Version(pinned):
            problems.append(f"{name}: installed {installed}, lock pins {pinned}")
    if problems:
        print("verify_lock: the image does not match uv.lock:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"verify_lock: {len(wanted)} packages match uv.lock")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
