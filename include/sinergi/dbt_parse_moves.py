"""A kept dbt parse moved to another warehouse of the same kind, instead of a full parse.

dbt refuses a saved parse (``partial_parse.msgpack``) whose profile differs from the current
one: ``state_check.profile_hash`` covers the connection's host, port, user and database. So
every new warehouse (each test's scratch database, the bench's fresh warehouse, a new
deployment) paid a full parse of the project, ~6 s on 2 cores, although the project and the
vars were the same as a parse kept a minute earlier for another database.

What a parse of this project holds of the connection is the database's name: in every node's
and source's ``database``, and at the head of its ``relation_name`` (``"db"."schema"."t"``).
:func:`move_parse` copies a kept parse of the same project, vars and kind of warehouse with
those rewritten and with the profile hash dbt computes for the new profile; dbt then checks
the copy as it checks any saved parse (its own version, the vars, every project file). When
the parse holds the name anywhere else, or anything differs from what is expected, nothing
is written and dbt parses in full, as before.

``tests/test_dbt_parse_moves.py`` checks that a moved parse equals, field for field, a full
parse made on the new warehouse, and that dbt accepts it without parsing.
"""

from __future__ import annotations

import contextvars
import logging
import os
import pprint
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

#: The manifest sections whose entries name their database (nodes: models, seeds, tests, ...).
_RELATIONS = ("nodes", "sources")


class NotMovable(Exception):
    """The kept parse holds the database's name where :func:`move_parse` does not rewrite it."""


def connection(project_dir: Path, environ: Mapping[str, str]) -> tuple[str, str]:
    """The database and the ``profile_hash`` dbt records for the profile ``profiles.yml``
    renders with ``environ`` (a digest of the connection's keys, as ``ManifestLoader``
    computes it)."""

    def compute() -> tuple[str, str]:
        from dbt.config.profile import Profile, read_profile
        from dbt.config.renderer import ProfileRenderer
        from dbt.contracts.files import FileHash
        from dbt_common.context import set_invocation_context

        set_invocation_context(environ)  # env_var() reads it; only in this copied context
        raw = read_profile(str(project_dir))
        target, data = Profile.render_profile(raw["sinergi"], "sinergi", None, ProfileRenderer({}))
        data.pop("threads", None)
        credentials = Profile._credentials_from_profile(data, "sinergi", target)
        keys = sorted(credentials.connection_info())
        return credentials.database, FileHash.from_contents(pprint.pformat(keys)).checksum

    return contextvars.copy_context().run(compute)


def _quoted(name: str, quoting: Mapping[str, Any]) -> str:
    return f'"{name}"' if quoting.get("database", True) else name


def relocate(manifest: dict, database: str, new_profile_hash: str) -> dict:
    """``manifest`` (a saved parse, as msgpack decodes it) with its one database renamed to
    ``database`` and its profile hash replaced; raises :class:`NotMovable` otherwise."""
    quoting = manifest.get("metadata", {}).get("quoting") or {}
    names = {
        entry.get("database")
        for section in _RELATIONS
        for entry in manifest.get(section, {}).values()
    }
    if len(names) != 1 or not isinstance(old := next(iter(names)), str) or not old:
        raise NotMovable(f"the parse names {len(names)} databases")
    old_head, new_head = f"{_quoted(old, quoting)}.", f"{_quoted(database, quoting)}."
    for section in _RELATIONS:
        for entry in manifest[section].values():
            entry["database"] = database
            relation = entry.get("relation_name")
            if relation is None:
                continue
            if not relation.startswith(old_head):
                raise NotMovable(f"relation {relation!r} does not start with {old_head!r}")
            entry["relation_name"] = new_head + relation[len(old_head) :]
    manifest["state_check"]["profile_hash"]["checksum"] = new_profile_hash
    if old != database and _names(manifest, old, old_head):
        raise NotMovable(f"the parse names database {old!r} elsewhere")
    return manifest


def _names(value: Any, name: str, head: str) -> bool:
    """Whether a string of ``value`` (the rewritten parse) is ``name`` or holds a relation
    under it (``head``: ``"name".``): what the parse would still say of the old database."""
    if isinstance(value, str):
        return value == name or head in value
    if isinstance(value, dict):
        return any(_names(k, name, head) or _names(v, name, head) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_names(item, name, head) for item in value)
    return False


def parse_is_for(path: Path, *, project_dir: Path, environ: Mapping[str, str]) -> bool:
    """Whether the parse saved at ``path`` was made for the profile ``environ`` renders (the
    same profile hash dbt checks before it takes a saved parse)."""
    import msgpack

    try:
        manifest = msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)
        saved = manifest["state_check"]["profile_hash"]["checksum"]
        return saved == connection(project_dir, environ)[1]
    except Exception:  # noqa: BLE001 - unreadable or another form: not kept, dbt parses again
        return False


def move_parse(source: Path, dest: Path, *, project_dir: Path, environ: Mapping[str, str]) -> bool:
    """Write at ``dest`` the parse kept at ``source`` (same project, vars and kind of
    warehouse) moved to the warehouse of the profile ``environ`` renders. Returns whether it
    was written; on any problem the caller lets dbt parse in full."""
    import msgpack

    try:
        manifest = msgpack.unpackb(source.read_bytes(), raw=False, strict_map_key=False)
        relocate(manifest, *connection(project_dir, environ))
        partial = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            partial.write_bytes(msgpack.packb(manifest, use_bin_type=True))
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
    except NotMovable as reason:
        _log.info("dbt parse of %s not reused for this warehouse: %s", source.name, reason)
        return False
    except Exception as problem:  # a parse dbt wrote in another form: parse in full instead
        _log.warning("dbt parse not moved to this warehouse (%s): dbt parses in full", problem)
        return False
    return True
