"""The specs in docs/spec are the shared originals, byte for byte (docs/spec/README.md)."""

from __future__ import annotations

import hashlib
import re

import pytest

from sinergi.paths import REPO_ROOT

SPEC_DIR = REPO_ROOT / "docs" / "spec"
SHARED = REPO_ROOT.parent / "shared" / "spec"
NAMES = ("submission-contract.md", "warehouse-marts.md")


def _recorded() -> dict[str, str]:
    text = (SPEC_DIR / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"\| `([\w-]+\.md)` \| v\d+ \| `([0-9a-f]{64})` \|", text))


@pytest.mark.parametrize("name", NAMES)
def test_copy_matches_its_recorded_checksum(name):
    digest = hashlib.sha256((SPEC_DIR / name).read_bytes()).hexdigest()
    assert _recorded().get(name) == digest, f"update docs/spec/README.md for {name}"


@pytest.mark.parametrize("name", NAMES)
def test_copy_matches_the_shared_original(name):
    original = SHARED / name
    if not original.is_file():
        pytest.skip(f"{original} not beside this clone (CI clones elsewhere)")
    assert (SPEC_DIR / name).read_bytes() == original.read_bytes(), (
        f"docs/spec/{name} differs from {original}: copy the new version and update the README"
    )


def test_each_copy_states_the_version_recorded():
    text = (SPEC_DIR / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        version = re.search(rf"\| `{re.escape(name)}` \| (v\d+) \|", text).group(1)
        heading = (SPEC_DIR / name).read_text(encoding="utf-8").splitlines()[0]
        assert f"({version})" in heading, (name, heading)
