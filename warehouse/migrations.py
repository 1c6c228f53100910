"""A small migration runner: applies ``sql/NNNN_name.sql`` files in order, once each.

What was applied is recorded in ``schema_migrations`` together with the DuckDB version that
applied it. The macros of ``sql/macros.sql`` and the views in ``sql/views/`` (which may use them)
hold no data and are recreated on every open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import duckdb

__all__ = ["Migration", "apply_migrations", "macro_sql", "migrations", "view_sql"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One schema step: its version number, name and SQL."""

    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    found = []
    for entry in resources.files("warehouse").joinpath("sql").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def macro_sql() -> str:
    """The SQL of the macros the views share."""
    return resources.files("warehouse").joinpath("sql", "macros.sql").read_text(encoding="utf-8")


def view_sql() -> list[tuple[str, str]]:
    """``(file name, SQL)`` of every view definition, in name order."""
    views = resources.files("warehouse").joinpath("sql", "views")
    return sorted((e.name, e.read_text(encoding="utf-8")) for e in views.iterdir() if e.name.endswith(".sql"))


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply the migrations ``con`` lacks, each in its own transaction; return those applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), duckdb_version VARCHAR NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for migration in migrations():
        if migration.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name, duckdb_version) VALUES (?, ?, ?)",
                [migration.version, migration.name, duckdb.__version__],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(migration)
    con.execute(macro_sql())
    for _, sql in view_sql():
        con.execute(sql)
    return applied
