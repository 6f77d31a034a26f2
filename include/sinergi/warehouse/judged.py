"""The judged-version record: the one contract between the judge and the loader.

The judge (``sinergi.judgement``) leaves each file version it judged in a folder of its own:

* ``judged-version.json`` (this module's format, ``sinergi.judged-version/1``):

  - ``file_version``: the version's row of ``audit.file_versions`` by column name, except
    ``judged_at`` (stamped when it commits): who sent which file when, its SHA-256, its status
    and its row counts, already decided;
  - ``rows``: for each table to append to (``raw.<dataset>``, ``audit.row_rejections``,
    ``audit.row_warnings``, ``audit.validation_results``), the Parquet files of this folder
    holding its rows, already shaped like the table (``sinergi.warehouse.spill``);
  - ``summary``: what reports and logs want besides (reason and warning counts, ignored
    columns). The loader does not read it.

* the Parquet files it names.

The loader (``sinergi.warehouse.loader.load_judged_version``) copies exactly that into the
warehouse in one transaction. It decides nothing: which rows are accepted, which are
duplicates and how a REJECTED version counts its rows were all settled when the folder was
written, so a loader test needs only a fixture folder and a judge test needs no warehouse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sinergi.warehouse.schema import AUDIT_TABLES, FILE_VERSIONS, RAW_TABLES, Table

RECORD_NAME = "judged-version.json"
FORMAT = "sinergi.judged-version/1"
STAMPED_AT_LOAD = ("judged_at",)

TABLES: dict[str, Table] = {t.qualified: t for t in (*RAW_TABLES.values(), *AUDIT_TABLES)}


class JudgedVersionError(ValueError):
    """The folder does not hold a judged version this loader understands."""


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _from_json(value: Any, sql_type: str) -> Any:
    if value is None:
        return None
    kind = sql_type.split()[0]
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "timestamptz":
        return datetime.fromisoformat(value)
    return value


@dataclass
class JudgedVersion:
    """One judged file version as it waits in its folder to be loaded."""

    folder: Path
    file_version: dict[str, Any]
    rows: dict[str, list[str]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def write(self) -> Path:
        """Write ``judged-version.json`` into the folder (the Parquet files are already there)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {
            "format": FORMAT,
            "file_version": {k: _to_json(v) for k, v in self.file_version.items()},
            "rows": self.rows,
            "summary": self.summary,
        }
        path = self.folder / RECORD_NAME
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: Path) -> JudgedVersion:
        """Read and check a folder's record; ``JudgedVersionError`` says what is wrong."""
        path = folder / RECORD_NAME
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as problem:
            raise JudgedVersionError(f"{path}: not readable: {problem}") from None
        if record.get("format") != FORMAT:
            raise JudgedVersionError(f"{path}: format {record.get('format')!r}, want {FORMAT!r}")
        types = dict(FILE_VERSIONS.columns)
        wanted = set(types) - set(STAMPED_AT_LOAD)
        given = record.get("file_version") or {}
        if set(given) != wanted:
            raise JudgedVersionError(
                f"{path}: file_version columns differ from audit.file_versions: "
                f"missing {sorted(wanted - set(given))}, unknown {sorted(set(given) - wanted)}"
            )
        rows = record.get("rows") or {}
        unknown = sorted(set(rows) - set(TABLES))
        if unknown:
            raise JudgedVersionError(f"{path}: rows for unknown table(s) {unknown}")
        outside = [n for names in rows.values() for n in names if Path(n).name != n or n == ".."]
        if outside:
            raise JudgedVersionError(f"{path}: row files must be in the folder: {outside}")
        return cls(
            folder,
            {name: _from_json(value, types[name]) for name, value in given.items()},
            {table: list(names) for table, names in rows.items()},
            dict(record.get("summary") or {}),
        )

    def parts(self, table: str) -> list[Path]:
        """The Parquet files holding ``table``'s rows (qualified name), in load order."""
        return [self.folder / name for name in self.rows.get(table, [])]
