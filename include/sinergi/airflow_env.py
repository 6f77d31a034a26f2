"""The local Airflow set-up shared by ``sinergi run``, ``make airflow`` and the tests.

Airflow reads its configuration when first imported, so these variables are applied before
any ``airflow`` import. Values already set in the environment win (production sets its own).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sinergi.paths import DAGS_DIR, REPO_ROOT

DEFAULT_AIRFLOW_HOME = REPO_ROOT / ".airflow"


def airflow_defaults() -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(DEFAULT_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__OPENLINEAGE__DISABLED": "True",
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Jakarta",
        "GX_ANALYTICS_ENABLED": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


def apply_airflow_defaults() -> None:
    for name, value in airflow_defaults().items():
        os.environ.setdefault(name, value)


def metadata_db_path() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME", str(DEFAULT_AIRFLOW_HOME))) / "airflow.db"


def ensure_metadata_db() -> None:
    """Migrate Airflow's SQLite metadata database once (``airflow db migrate``, ~5 s)."""
    apply_airflow_defaults()
    marker = Path(os.environ["AIRFLOW_HOME"]) / ".migrated"
    if marker.exists() and metadata_db_path().exists():
        return
    Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, stdout=subprocess.DEVNULL)
    marker.write_text("ok\n", encoding="ascii")
