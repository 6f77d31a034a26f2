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
import re

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


#: ``sinergi db add-user --role``: the group a login joins, and the schemas it sees first.
LOGIN_ROLES = {"bi": BI_ROLE, "auditor": AUDITOR_ROLE}
SEARCH_PATHS = {"bi": ("marts",), "auditor": ("marts", "audit")}
_LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def add_user(wh: PostgresWarehouse, name: str, role: str, password: str | None) -> bool:
    """Create (or bring up to date) a login ``name`` in the reader group of ``role``.

    The group roles are NOLOGIN on purpose: a person or a BI tool gets a login of its own
    (so access can be revoked per user), a member of ``sinergi_bi`` or ``sinergi_auditor``,
    with ``search_path`` starting at ``marts`` so unqualified table names resolve to the
    marts. Idempotent: an existing login keeps its password unless ``password`` is given.
    Returns True when the login was created.
    """
    from psycopg import sql

    if role not in LOGIN_ROLES:
        raise ValueError(f"--role must be one of {', '.join(LOGIN_ROLES)}, got {role!r}")
    if not _LOGIN_NAME.match(name):
        raise ValueError(
            f"login name {name!r}: use lower-case letters, digits and _ (at most 63), "
            "starting with a letter or _"
        )
    if name in (BI_ROLE, AUDITOR_ROLE):
        raise ValueError(f"{name} is a group role and cannot log in; choose another name")
    group = LOGIN_ROLES[role]
    with wh.connect() as conn:
        for reader in (BI_ROLE, AUDITOR_ROLE):
            _ensure_role(wh, conn, reader)
        exists = _role_exists(wh, conn, name)
        if not exists and password is None:
            raise ValueError(f"login {name} does not exist yet: it needs a password")
        login = sql.Identifier(name)
        if exists:
            conn.execute(sql.SQL("alter role {} login").format(login))
        else:
            conn.execute(sql.SQL("create role {} login").format(login))
        if password is not None:
            conn.execute(sql.SQL("alter role {} password {}").format(login, sql.Literal(password)))
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(group), login))
        other = AUDITOR_ROLE if group == BI_ROLE else BI_ROLE
        conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(other), login))
        path = sql.SQL(", ").join(sql.Identifier(s) for s in (*SEARCH_PATHS[role], "public"))
        conn.execute(sql.SQL("alter role {} set search_path to {}").format(login, path))
    log.info("login %s %s in %s", name, "updated" if exists else "created", group)
    return not exists


def connection_help(database: str) -> list[str]:
    """What ``sinergi db init`` tells whoever connects a BI tool or an auditor's client."""
    return [
        f"Connecting to database {database}: the group roles {BI_ROLE} and {AUDITOR_ROLE} "
        "cannot log in.",
        "  Create a login per person or tool:  sinergi db add-user NAME --role bi|auditor",
        "  bi: reads schema marts only; auditor: marts and audit (the quarantine holds raw "
        "NIK / No. KK).",
        "  Expose schema marts to BI tools (audit too for auditors); the login's search_path "
        "starts at marts.",
    ]


def role_exists(wh: PostgresWarehouse, name: str) -> bool:
    """Whether a role (login or group) of that name exists in the cluster."""
    with wh.connect() as conn:
        return _role_exists(wh, conn, name)
