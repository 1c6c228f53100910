"""A small migration runner: applies ``sql/NNNN_name.sql`` files in order, once each.

What was applied is recorded in ``schema_migrations`` together with the DuckDB version that
applied it. The macros of ``sql/macros.sql`` and the views in ``sql/views/`` (which may use them)
hold no data: they are defined again whenever their SQL differs from what defined them in the file
(recorded in ``meta`` as :data:`VIEWS_KEY`), so that a new version of reusetrack brings its views.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

import duckdb

from warehouse.meta import read_meta, write_meta

__all__ = ["VIEWS_KEY", "Migration", "apply_migrations", "macro_sql", "migrations", "view_sql", "views_current"]

#: The ``meta`` key holding the digest of the macros' and views' SQL that defined them in the file.
VIEWS_KEY = "views_sha256"

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


@functools.cache
def _views_digest() -> str:
    """The SHA-256 of the macros' and views' SQL this version of reusetrack ships (read once)."""
    digest = hashlib.sha256(macro_sql().encode())
    for name, sql in view_sql():
        digest.update(f"\0{name}\0{sql}".encode())
    return digest.hexdigest()


def views_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file's macros and views were defined by the SQL this version ships."""
    return read_meta(con, VIEWS_KEY) == _views_digest()


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The body's statements in one transaction: all committed, or none (rolled back, re-raised)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[Migration]:
    """Apply the migrations ``con`` lacks, each in its own transaction, and define the macros and
    views again if they changed (defining them all costs a writer's open some 20 ms and a
    checkpoint's worth of catalog changes); return the migrations applied."""
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
        with _transaction(con):
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name, duckdb_version) VALUES (?, ?, ?)",
                [migration.version, migration.name, duckdb.__version__],
            )
        applied.append(migration)
    if applied or not views_current(con):
        with _transaction(con):
            con.execute(macro_sql())
            for _, sql in view_sql():
                con.execute(sql)
            write_meta(con, VIEWS_KEY, _views_digest())
    return applied
