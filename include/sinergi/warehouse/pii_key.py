"""Bind a warehouse to the PII key its pseudonyms were made with (issue 12 §6).

Every NIK / No. KK reaches the warehouse as HMAC(key, value). Loaded with another key, the
same person gets another pseudonym: nothing fails, but households are counted twice and the
marts' figures change silently (February's households reached fell from 514 to 300 when a
run lost its key). So the first run stores a *keyed fingerprint* of the key,
HMAC(key, "sinergi-pii-key-fingerprint"), in ``audit.pii_key_binding`` (never the key,
never a plain hash of it), and every later run compares before it reads or loads anything.

A fresh development warehouse binds to the local development key (``.data/dev-pii-key``),
so a clone with no configuration keeps working; a warehouse bound to a configured
``SINERGI_PII_KEY`` refuses to run when the variable is unset instead of quietly falling
back to the development key.

The refusal is a :class:`PiiKeyMismatch`. Under Airflow it is also an
``AirflowFailException``, so the task fails at once instead of retrying a problem only an
operator can fix (the import costs seconds, so it happens only when refusing).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from sinergi.warehouse.connection import Warehouse
from sinergi.warehouse.schema import FILE_VERSIONS, PII_KEY_BINDING

if TYPE_CHECKING:
    from sinergi.config import Settings

log = logging.getLogger(__name__)

FINGERPRINT_LABEL = b"sinergi-pii-key-fingerprint"
CONFIGURED = "configured"  # SINERGI_PII_KEY
DEVELOPMENT = "development"  # the local development key file
ROTATION_DOC = "docs/production.md, 'Rotating the PII key'"


class PiiKeyMismatch(RuntimeError):
    """The PII key of this run is not the one the warehouse was loaded with (or is missing)."""


@dataclass(frozen=True)
class KeyBinding:
    """The stored binding: a keyed fingerprint, where the key came from, and when."""

    fingerprint: str
    key_source: str
    bound_at: str


def fingerprint(key: bytes) -> str:
    """HMAC-SHA256 of a fixed label under ``key``: identifies the key, reveals nothing of it."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def check_pii_key(wh: Warehouse, settings: Settings) -> None:
    """Refuse to run with a key other than the warehouse's; bind a fresh warehouse to it.

    Call before anything is judged or loaded (the DAG's discover task and every district
    task). Raises :class:`PiiKeyMismatch` (an ``AirflowFailException`` under Airflow).
    """
    source = CONFIGURED if settings.pii_key_value else DEVELOPMENT
    bound = read_binding(wh)
    if bound is not None and bound.key_source == CONFIGURED and source == DEVELOPMENT:
        # Checked before settings.pii_key: that would create a development key file.
        _refuse(
            f"SINERGI_PII_KEY is not set, but the warehouse {wh.location.redacted} was loaded "
            f"with a configured SINERGI_PII_KEY (bound {bound.bound_at}). Without it every "
            "NIK / No. KK would get a different pseudonym and the marts would silently change. "
            "Set SINERGI_PII_KEY to the same value as before (from the backup of .env) and run "
            "again; nothing was loaded."
        )
    mine = fingerprint(settings.pii_key)
    if bound is None:
        bound = _bind(wh, mine, source)
    if hmac.compare_digest(bound.fingerprint, mine):
        return
    _refuse(_mismatch_message(wh, settings, bound, source))


def read_binding(wh: Warehouse) -> KeyBinding | None:
    """The warehouse's key binding, or None if it has none yet (fresh or older warehouse)."""
    with wh.transaction() as conn:
        conn.execute(PII_KEY_BINDING.ddl())  # the audit schema exists (ensure_schema)
        rows = wh.execute(
            conn,
            f"select fingerprint, key_source, cast(bound_at as varchar) "
            f"from {PII_KEY_BINDING.qualified} where binding = %s",
            ("pii_key",),
        )
    return KeyBinding(*rows[0]) if rows else None


def _bind(wh: Warehouse, mine: str, source: str) -> KeyBinding:
    """Store this run's fingerprint unless another process bound one first; return the binding."""
    with wh.transaction() as conn:
        loaded = wh.execute(conn, f"select count(*) from {FILE_VERSIONS.qualified}")[0][0]
        wh.execute(
            conn,
            f"insert into {PII_KEY_BINDING.qualified} "
            "(binding, fingerprint, key_source, bound_at) values (%s, %s, %s, %s) "
            "on conflict (binding) do nothing",
            ("pii_key", mine, source, datetime.now(UTC)),
        )
    bound = read_binding(wh)
    assert bound is not None
    if loaded and bound.fingerprint == mine:
        log.warning(
            "warehouse %s already held %d file version(s) but no PII key binding (loaded before "
            "the binding existed): bound it to the %s key of this run. If those versions were "
            "loaded with another key, their pseudonyms do not match: rebuild the warehouse (%s).",
            wh.location.redacted,
            loaded,
            "SINERGI_PII_KEY" if source == CONFIGURED else "development",
            ROTATION_DOC,
        )
    else:
        log.info("warehouse %s bound to this run's PII key", wh.location.redacted)
    return bound


def _mismatch_message(wh: Warehouse, settings: Settings, bound: KeyBinding, source: str) -> str:
    where = f"the warehouse {wh.location.redacted}"
    if source == CONFIGURED and bound.key_source == CONFIGURED:
        problem = (
            f"SINERGI_PII_KEY is not the key {where} was loaded with (bound {bound.bound_at})."
        )
        fix = (
            "Set SINERGI_PII_KEY back to the original value (from the backup of .env). To "
            f"change the key on purpose, build a new warehouse with it ({ROTATION_DOC})."
        )
    elif source == CONFIGURED:
        problem = (
            f"{where} was loaded with the local development key (bound {bound.bound_at}), "
            "not with SINERGI_PII_KEY."
        )
        fix = (
            "Unset SINERGI_PII_KEY to keep using the development key, or point "
            "SINERGI_WAREHOUSE at a new, empty warehouse to start one with SINERGI_PII_KEY."
        )
    else:
        problem = (
            f"the development key in {settings.development_key_file} is not the key {where} "
            f"was loaded with (bound {bound.bound_at}): was the file deleted or replaced?"
        )
        fix = (
            "Restore the file, or, for a development warehouse, delete the warehouse file to "
            "start again with the current key."
        )
    return (
        f"{problem} NIK / No. KK pseudonyms made with another key would not match those already "
        f"loaded and would silently change the marts. {fix} Nothing was loaded."
    )


def _refuse(message: str) -> NoReturn:
    log.error("%s", message)
    raise _refusal_type()(message)


@functools.cache
def _refusal_type() -> type[PiiKeyMismatch]:
    """PiiKeyMismatch that is also Airflow's AirflowFailException (no retries), if installed."""
    try:
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # pragma: no cover - Airflow is in the lock; plain use keeps working
        return PiiKeyMismatch
    return type(
        "PiiKeyRefused",
        (PiiKeyMismatch, AirflowFailException),
        {"__module__": __name__, "__doc__": PiiKeyMismatch.__doc__},
    )
