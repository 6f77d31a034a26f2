"""Runtime configuration from environment variables (see ``.env.example``).

Everything has a development default so that a fresh clone runs with no configuration at
all; where a default is unfit for production (the PII key above all) the first use logs a
warning that says which variable to set.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import time
from functools import cached_property
from pathlib import Path

from sinergi.paths import DATA_DIR, EXPECTATIONS_DIR

log = logging.getLogger(__name__)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _parse_time(text: str) -> time:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return time(hours, minutes, seconds)


@dataclass(frozen=True)
class Settings:
    """One snapshot of the configuration; build it with :func:`load_settings`."""

    inbox: Path
    warehouse_url: str
    reports_dir: Path
    archive_dir: Path
    work_dir: Path
    gx_root: Path
    deadline_day: int
    deadline_time: time
    reject_threshold: float
    eligible_max_decile: int
    pii_key_value: str | None
    deadline_alerts: bool
    data_dir: Path

    @cached_property
    def pii_key(self) -> bytes:
        """The HMAC key for NIK / No. KK; a persistent local dev key when none is configured."""
        if self.pii_key_value:
            return self.pii_key_value.encode("utf-8")
        return _development_key(self.data_dir / "dev-pii-key")

    @property
    def is_duckdb(self) -> bool:
        return self.warehouse_url.startswith("duckdb:")


def _development_key(key_file: Path) -> bytes:
    """Create (once) and reuse a random local key, so pseudonyms stay stable between runs."""
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
        key_file.chmod(0o600)
        log.warning(
            "SINERGI_PII_KEY is not set: created a local development key in %s. "
            "Set SINERGI_PII_KEY in production (pseudonyms depend on it).",
            key_file,
        )
    else:
        log.warning("SINERGI_PII_KEY is not set: using the development key in %s", key_file)
    return key_file.read_text(encoding="ascii").strip().encode("utf-8")


def default_warehouse_url() -> str:
    return f"duckdb:///{DATA_DIR / 'warehouse.duckdb'}"


def load_settings() -> Settings:
    """Read the environment now (tests and the CLI change it between runs)."""
    threshold = float(_env("SINERGI_REJECT_THRESHOLD", "0.20"))
    if not 0 <= threshold <= 1:
        raise ValueError(f"SINERGI_REJECT_THRESHOLD must be a fraction in [0, 1], got {threshold}")
    data_dir = Path(_env("SINERGI_DATA_DIR", str(DATA_DIR)))
    return Settings(
        inbox=Path(_env("SINERGI_INBOX", str(data_dir / "inbox"))),
        warehouse_url=_env("SINERGI_WAREHOUSE", default_warehouse_url()),
        reports_dir=Path(_env("SINERGI_REPORTS_DIR", str(data_dir / "reports"))),
        archive_dir=Path(_env("SINERGI_ARCHIVE_DIR", str(data_dir / "archive"))),
        work_dir=Path(_env("SINERGI_WORK_DIR", str(data_dir / "work"))),
        gx_root=Path(_env("SINERGI_GX_ROOT", str(EXPECTATIONS_DIR))),
        deadline_day=int(_env("SINERGI_DEADLINE_DAY", "10")),
        deadline_time=_parse_time(_env("SINERGI_DEADLINE_TIME", "23:59:59")),
        reject_threshold=threshold,
        eligible_max_decile=int(_env("SINERGI_ELIGIBLE_MAX_DECILE", "4")),
        pii_key_value=os.environ.get("SINERGI_PII_KEY") or None,
        deadline_alerts=_env("SINERGI_DEADLINE_ALERTS", "false").lower() in ("1", "true", "yes"),
        data_dir=data_dir,
    )
