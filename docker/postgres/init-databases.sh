#!/usr/bin/env bash
# First start of the PostgreSQL container only (docker-entrypoint-initdb.d runs when the data
# volume is empty): the Airflow metadata database and the Sinergi warehouse, each owned by its
# own login role, plus the two reader group roles.
#
# Passwords come from the container environment (docker-compose.yml, from .env) and are passed
# to psql as variables, so they are quoted by psql (:'name'), never pasted into SQL.
# Changing a password in .env later does NOT change it here: see docs/production.md.
# Executable, so the postgres entrypoint runs it rather than sourcing it (no `set -u`, which
# would leak into the entrypoint's own shell if it were ever sourced).
set -eo pipefail

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is not set}"
: "${SINERGI_ETL_PASSWORD:?SINERGI_ETL_PASSWORD is not set}"

psql --set ON_ERROR_STOP=1 --no-psqlrc \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    --set airflow_password="${AIRFLOW_DB_PASSWORD}" \
    --set etl_password="${SINERGI_ETL_PASSWORD}" <<'SQL'
-- Airflow's metadata database.
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE airflow FROM PUBLIC;

-- The warehouse. sinergi_etl owns it (and so its public schema): the pipeline and dbt
-- create the raw, audit and mart schemas as this role.
CREATE ROLE sinergi_etl LOGIN PASSWORD :'etl_password';
CREATE DATABASE sinergi OWNER sinergi_etl ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE sinergi FROM PUBLIC;

-- Reader group roles (NOLOGIN). Creating roles needs CREATEROLE, which the ETL role does not
-- get; `sinergi db init` (run as sinergi_etl) grants them their schema privileges. People log
-- in with their own roles: CREATE ROLE name LOGIN PASSWORD '...' IN ROLE sinergi_bi;
CREATE ROLE sinergi_bi NOLOGIN;
CREATE ROLE sinergi_auditor NOLOGIN;
GRANT CONNECT ON DATABASE sinergi TO sinergi_bi, sinergi_auditor;
SQL

echo "init-databases: created databases airflow and sinergi, roles airflow, sinergi_etl, sinergi_bi, sinergi_auditor"
