#!/usr/bin/env bash
# One-shot initialisation, run by the airflow-init service (docker-compose.yml) through the
# image's entrypoint, which has already waited for the metadata database. Safe to repeat: it
# runs on every `make up` and leaves existing data alone.
set -euo pipefail

echo "[1/4] migrating Airflow's metadata database"
airflow db migrate

# Airflow 3.3's default auth manager is the Simple auth manager (FAB is not installed): users
# and roles come from AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS, passwords from a JSON file.
# Writing the file from .env on every start keeps the admin password what .env says.
echo "[2/4] writing the admin password for the Simple auth manager"
python - <<'PY'
import json
import os
from pathlib import Path

path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
user = os.environ["AIRFLOW_ADMIN_USER"]
password = os.environ["AIRFLOW_ADMIN_PASSWORD"]
if not user or not password:
    raise SystemExit("AIRFLOW_ADMIN_USER and AIRFLOW_ADMIN_PASSWORD must be set")
path.parent.mkdir(parents=True, exist_ok=True)
temporary = path.with_name(f".{path.name}.tmp")
temporary.write_text(json.dumps({user: password}) + "\n", encoding="utf-8")
temporary.chmod(0o660)
os.replace(temporary, path)
print(f"  {path}: user {user!r} (role admin)")
PY

echo "[3/4] creating the warehouse schemas (sinergi db init)"
sinergi db init
python -m sinergi.dbt parse  # the manifest the DAG renders its per-model dbt tasks from

echo "[4/4] checking the folders"
mkdir -p "${SINERGI_REPORTS_DIR}" "${SINERGI_ARCHIVE_DIR}" "${SINERGI_WORK_DIR}" \
    "${DBT_TARGET_PATH}" "${DBT_LOG_PATH}"
for folder in "${SINERGI_REPORTS_DIR}" "${SINERGI_ARCHIVE_DIR}" "${SINERGI_WORK_DIR}"; do
    if [[ ! -w "${folder}" ]]; then
        echo "ERROR: ${folder} is not writable by uid $(id -u) (gid $(id -g))" >&2
        exit 1
    fi
done
if [[ ! -r "${SINERGI_INBOX}" || ! -x "${SINERGI_INBOX}" ]]; then
    echo "WARNING: the inbox ${SINERGI_INBOX} is not readable by uid $(id -u):" \
        "fix the permissions of SINERGI_INBOX_HOST on the host (docs/production.md)" >&2
fi
echo "airflow-init: done"
