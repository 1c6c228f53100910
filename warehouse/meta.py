"""The ``meta`` table: the warehouse's records of its own state (settings, the views' digest, the
index's and the signature store's records), one text value a key."""

from __future__ import annotations

import duckdb

__all__ = ["read_meta", "write_meta"]


def read_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return str(row[0][0]) if row else None


def write_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Store ``value`` under ``key``, in the caller's transaction if any. An existing record is
    updated in place: ``INSERT OR REPLACE`` deletes the row and inserts it again, through the
    key's index (3 ms on a warehouse file against 1 ms, and the signature store writes its
    record in every batch of every run)."""
    ((updated,),) = con.execute("UPDATE meta SET value = ? WHERE key = ?", [value, key]).fetchall()
    if not updated:
        con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])
