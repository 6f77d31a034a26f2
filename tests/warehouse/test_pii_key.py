"""The warehouse is bound to its PII key (issue 12 §6): another or a missing key is refused."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from sinergi.config import load_settings
from sinergi.periods import Period
from sinergi.pipeline import prepare_period, process_district
from sinergi.warehouse.connection import Warehouse, open_warehouse
from sinergi.warehouse.pii_key import PiiKeyMismatch, check_pii_key, read_binding

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

KEY_A = "key-a-" + "1" * 40
KEY_B = "key-b-" + "2" * 40


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """A fresh warehouse of each engine, with this test's data folder (development key)."""
    if request.param == "duckdb":
        url = f"duckdb://{tmp_path}/w.duckdb"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("SINERGI_WAREHOUSE", url)
    monkeypatch.setenv("SINERGI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SINERGI_INBOX", str(tmp_path / "inbox"))
    wh = open_warehouse(url)
    wh.ensure_schema()
    return wh


def _check(wh: Warehouse, monkeypatch: pytest.MonkeyPatch, key: str | None) -> None:
    if key is None:
        monkeypatch.delenv("SINERGI_PII_KEY", raising=False)
    else:
        monkeypatch.setenv("SINERGI_PII_KEY", key)
    check_pii_key(wh, load_settings())


def test_fresh_warehouse_binds_and_the_same_key_passes(warehouse, monkeypatch):
    assert read_binding(warehouse) is None
    _check(warehouse, monkeypatch, KEY_A)
    bound = read_binding(warehouse)
    assert bound is not None and bound.key_source == "configured"
    assert (
        bound.fingerprint
        == hmac.new(KEY_A.encode(), b"sinergi-pii-key-fingerprint", hashlib.sha256).hexdigest()
    )
    assert KEY_A not in bound.fingerprint
    assert bound.fingerprint != hashlib.sha256(KEY_A.encode()).hexdigest()  # keyed, not a hash

    _check(warehouse, monkeypatch, KEY_A)
    _check(warehouse, monkeypatch, KEY_A)
    assert read_binding(warehouse) == bound  # written once, never updated


def test_a_different_key_is_refused_without_retries(warehouse, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    _check(warehouse, monkeypatch, KEY_A)
    with pytest.raises(PiiKeyMismatch) as refused:
        _check(warehouse, monkeypatch, KEY_B)
    message = str(refused.value)
    assert "SINERGI_PII_KEY is not the key" in message
    assert "Set SINERGI_PII_KEY back to the original value" in message
    assert "Rotating the PII key" in message
    assert KEY_A not in message and KEY_B not in message
    assert isinstance(refused.value, AirflowFailException)  # the task fails, no retries


def test_a_missing_key_is_refused_on_a_warehouse_bound_to_a_configured_key(
    warehouse, monkeypatch, tmp_path
):
    _check(warehouse, monkeypatch, KEY_A)
    with pytest.raises(PiiKeyMismatch, match="SINERGI_PII_KEY is not set"):
        _check(warehouse, monkeypatch, None)
    assert not (tmp_path / "data" / "dev-pii-key").exists()  # no silent fallback key made


def test_a_fresh_development_warehouse_keeps_working_with_the_dev_key(
    warehouse, monkeypatch, tmp_path
):
    _check(warehouse, monkeypatch, None)
    _check(warehouse, monkeypatch, None)
    assert read_binding(warehouse).key_source == "development"

    with pytest.raises(PiiKeyMismatch, match="loaded with the local development key"):
        _check(warehouse, monkeypatch, KEY_A)

    (tmp_path / "data" / "dev-pii-key").unlink()  # lost: a new dev key would be made
    with pytest.raises(PiiKeyMismatch, match="was the file deleted or replaced"):
        _check(warehouse, monkeypatch, None)


def test_an_older_loaded_warehouse_is_bound_with_a_warning(warehouse, monkeypatch, caplog):
    with warehouse.transaction() as conn:
        warehouse.execute(
            conn,
            "insert into audit.file_versions values "
            "(%s, %s, %s, 1, %s, %s, 1, %s, %s, %s, null, null, 1, 1, 0, %s, %s, null)",
            (
                "2025-01-01",
                "3578",
                "psks",
                "psks.csv",
                "0" * 64,
                "2025-01-05 00:00:00+00",
                "2025-02-10 16:59:59+00",
                "ACCEPTED",
                "archive/x",
                "2025-01-05 00:00:00+00",
            ),
        )
    _check(warehouse, monkeypatch, KEY_A)
    assert read_binding(warehouse).key_source == "configured"
    assert "already held 1 file version(s) but no PII key binding" in caplog.text


def test_the_pipeline_steps_refuse_before_loading(warehouse, monkeypatch):
    period = Period.parse("2025-01")
    monkeypatch.setenv("SINERGI_PII_KEY", KEY_A)
    jobs = prepare_period(period, load_settings())  # binds
    assert jobs and read_binding(warehouse).key_source == "configured"

    monkeypatch.setenv("SINERGI_PII_KEY", KEY_B)
    with pytest.raises(PiiKeyMismatch):
        prepare_period(period, load_settings())
    with pytest.raises(PiiKeyMismatch):
        process_district(period, "3578", load_settings())
    with warehouse.connect() as conn:
        assert warehouse.execute(conn, "select count(*) from audit.file_versions") == [(0,)]
