"""Create ``.env`` from ``.env.example`` with a fresh random value for every ``change-me``.

    python3 docker/make_env.py [.env]      (``make env``; standard library only)

Never overwrites an existing file: the database keeps the passwords it was created with and
the PII key must never change once data is loaded. Prints variable names, never values.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / ".env.example"
PLACEHOLDER = "change-me"
ASSIGNMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")


def secret_for(name: str) -> str:
    """A value that passes docker/preflight.sh for ``name``."""
    if name == "AIRFLOW__CORE__FERNET_KEY":
        return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
    if name == "AIRFLOW_ADMIN_PASSWORD":
        return secrets.token_urlsafe(18)
    return secrets.token_hex(32)


def render(example: str) -> tuple[str, list[str]]:
    lines, generated = [], []
    for line in example.splitlines():
        match = ASSIGNMENT.match(line)
        if match and match["value"] == PLACEHOLDER:
            line = f"{match['name']}={secret_for(match['name'])}"
            generated.append(match["name"])
        lines.append(line)
    return "\n".join(lines) + "\n", generated


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else REPO / ".env"
    if target.exists():
        print(f"{target} exists: not touched (delete it first to start over)", file=sys.stderr)
        return 1
    text, generated = render(EXAMPLE.read_text(encoding="utf-8"))
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote {target} (mode 600) with generated values for: {', '.join(generated)}")
    print("Review the other settings in it, then: make up")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
