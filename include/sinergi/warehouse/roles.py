"""Schemas, reader roles and grants of the PostgreSQL warehouse (``sinergi db init``).

Who may read what (warehouse-marts.md, "Other schemas"):

* ``sinergi_bi``      — BI tools: ``marts`` only.
* ``sinergi_auditor`` — auditors: ``marts`` and ``audit`` (including the quarantine).
* the ETL owner (whoever runs the pipeline and dbt) owns every schema; ``raw``, ``staging``,
  ``intermediate`` and ``seeds`` are granted to nobody.

dbt drops and recreates mart tables on every build, so table-level grants alone would vanish:
``alter default privileges`` makes every table the owner creates later readable by the right
group as well. Everything here is idempotent and safe to run on every DAG run.
"""

from __future__ import annotations

import logging

from sinergi.warehouse.connection import PostgresWarehouse, Warehouse

log = logging.getLogger(__name__)

BI_ROLE = "sinergi_bi"
AUDITOR_ROLE = "sinergi_auditor"
WAREHOUSE_SCHEMAS = ("raw", "audit", "seeds", "staging", "intermediate", "marts")
READERS = {"marts": (BI_ROLE, AUDITOR_ROLE), "audit": (AUDITOR_ROLE,)}
PRIVATE = ("raw", "seeds", "staging", "intermediate")


def _role_exists(wh: Warehouse, conn, role: str) -> bool:
    return bool(wh.execute(conn, "select 1 from pg_roles where rolname = %s", (role,)))


def _ensure_role(wh: Warehouse, conn, role: str) -> None:
    """Create a NOLOGIN group role when allowed; production creates them at database init."""
    if _role_exists(wh, conn, role):
        return
    user, can_create = wh.execute(
        conn,
        "select current_user, rolcreaterole or rolsuper from pg_roles where rolname = current_user",
    )[0]
    if not can_create:
        raise PermissionError(
            f"role {role} does not exist and {user} may not create roles: create it as a "
            f"superuser (CREATE ROLE {role} NOLOGIN) and run `sinergi db init` again"
        )
    try:
        conn.execute(f"create role {role} nologin")
    except Exception as error:  # created concurrently by another process: fine
        if "already exists" not in str(error):
            raise


def init_postgres(wh: PostgresWarehouse) -> list[str]:
    """Create schemas, roles and grants; returns the statements' summary for the CLI."""
    done = []
    with wh.connect() as conn:
        for role in (BI_ROLE, AUDITOR_ROLE):
            _ensure_role(wh, conn, role)
        database = wh.execute(conn, "select current_database()")[0][0]
        conn.execute(f'grant connect on database "{database}" to {BI_ROLE}, {AUDITOR_ROLE}')
        for schema in WAREHOUSE_SCHEMAS:
            conn.execute(f"create schema if not exists {schema}")
        everyone = f"public, {BI_ROLE}, {AUDITOR_ROLE}"
        for schema in PRIVATE:
            conn.execute(f"revoke all on schema {schema} from {everyone}")
            conn.execute(f"revoke all on all tables in schema {schema} from {everyone}")
        conn.execute(f"revoke all on schema audit from public, {BI_ROLE}")
        conn.execute(f"revoke all on all tables in schema audit from public, {BI_ROLE}")
        for schema, roles in READERS.items():
            readers = ", ".join(roles)
            conn.execute(f"grant usage on schema {schema} to {readers}")
            conn.execute(f"grant select on all tables in schema {schema} to {readers}")
            conn.execute(
                f"alter default privileges in schema {schema} grant select on tables to {readers}"
            )
            done.append(f"{schema}: select for {readers}")
    return done
