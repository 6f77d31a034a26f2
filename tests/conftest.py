"""Shared test set-up.

Airflow reads its configuration on first import, so every test process (each pytest-xdist
worker) gets its own AIRFLOW_HOME and data folder here, before anything imports airflow.
Tests never touch the developer's ``.airflow`` / ``.data`` folders or each other's files.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_ROOT = Path(tempfile.mkdtemp(prefix=f"sinergi-tests-{_WORKER}-"))
os.environ["AIRFLOW_HOME"] = str(_ROOT / "airflow")
os.environ["SINERGI_DATA_DIR"] = str(_ROOT / "data")
os.environ["SINERGI_PII_KEY"] = "test-only-pii-key-" + uuid.uuid4().hex
os.environ.setdefault("SINERGI_DEADLINE_ALERTS", "false")
# A task per dbt model adds Airflow's per-task cost (~60 tasks a run); tests that are not about
# the dbt task group run dbt as the single task (test_cli_run.py runs the default: one build
# and a task per model).
os.environ.setdefault("SINERGI_DBT_TASKS", "single")

from sinergi.airflow_env import apply_airflow_defaults  # noqa: E402

apply_airflow_defaults()

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata database for this worker (about 5 s, once)."""
    from sinergi.airflow_env import ensure_metadata_db

    ensure_metadata_db()
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture
def settings_env(tmp_path, monkeypatch):
    """Point every SINERGI_* folder at this test's tmp_path; returns that folder."""
    monkeypatch.setenv("SINERGI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SINERGI_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("SINERGI_WAREHOUSE", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    return tmp_path


def postgres_available() -> bool:
    try:
        return (
            subprocess.run(
                ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False, timeout=10
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def postgres_url():
    """A fresh, uniquely named PostgreSQL database, dropped after the test."""
    yield from _scratch_database()


@pytest.fixture(scope="module")
def module_postgres_url():
    """Like ``postgres_url``, shared by a module's tests (for an expensive set-up)."""
    yield from _scratch_database()


def _scratch_database():
    """Yield the URL of a new uniquely named database; drop it (connections too) afterwards."""
    if not postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    import psycopg

    name = f"sinergi_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


# For a module that needs several scratch databases at once (``with scratch_database() as url``).
scratch_database = contextlib.contextmanager(_scratch_database)
