"""Bulk loads of a snapshot folder into an empty warehouse.

A snapshot is what ``reusetrack export`` writes (one Parquet, CSV or JSON Lines file per table)
or what ``reusetrack spark`` writes (one folder of Parquet parts per table); both describe
themselves in the same ``manifest.json`` (see :mod:`warehouse.export`). Each table is inserted
in one statement from DuckDB's own reader, by column name, so a snapshot written before a later
migration added columns still loads. Spark has no unsigned 64-bit integer: it stores the bits of
a ``UBIGINT`` column in a ``BIGINT``, and they are read back bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from reuse.errors import WarehouseError
from warehouse.db import Warehouse
from warehouse.export import snapshot_relation
from warehouse.manifest import Manifest

__all__ = ["is_empty", "load_tables"]

#: Tables a snapshot may hold that are not loaded: the migrations and ``open_warehouse`` write them.
_NOT_LOADED = frozenset({"meta", "schema_migrations"})


def is_empty(wh: Warehouse) -> bool:
    """Whether the warehouse holds no row in any table but ``meta`` and ``schema_migrations``."""
    tables = _tables(wh)
    sql = " UNION ALL ".join(f'SELECT count(*) FROM "{t}"' for t in sorted(tables - _NOT_LOADED))
    return all(n == 0 for (n,) in wh.con.execute(sql).fetchall())


def _tables(wh: Warehouse) -> set[str]:
    rows = wh.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()
    return {name for (name,) in rows}


def _column_types(relation: duckdb.DuckDBPyRelation) -> dict[str, str]:
    return dict(zip(relation.columns, map(str, relation.types), strict=True))


def _select(target: list[tuple[str, str]], source: dict[str, str]) -> str:
    """The projection that turns the source's columns into the target table's, in its order."""
    exprs = []
    for name, kind in target:
        quoted = '"' + name.replace('"', '""') + '"'
        if name not in source:
            exprs.append(f"NULL AS {quoted}")
        elif kind == "UBIGINT" and source[name] == "BIGINT":
            exprs.append(f"{quoted}::BIT::UBIGINT")  # the same 64 bits, read as unsigned
        else:
            exprs.append(quoted)
    return ", ".join(exprs)


def load_tables(wh: Warehouse, folder: str | Path, manifest: Manifest) -> dict[str, int]:
    """Insert every table of the snapshot in ``folder`` into the warehouse; return the rows per table.

    Call it inside a transaction. Raises :class:`~reuse.errors.WarehouseError` when the snapshot
    holds a table this warehouse does not have, a file cannot be read or its rows do not fit, or a
    table's row count differs from the manifest's (a folder copied in part).
    """
    folder = Path(folder)
    known = _tables(wh)
    loaded: dict[str, int] = {}
    for name, entry in sorted(manifest.tables.items()):
        if entry.kind != "table" or name in _NOT_LOADED:
            continue
        if name not in known:
            raise WarehouseError(f"the snapshot has a table {name!r} this warehouse does not: upgrade reusetrack")
        target = wh.column_types(name)
        try:
            relation = snapshot_relation(wh.con, folder, manifest.format, entry)
            relation.project(_select(target, _column_types(relation))).insert_into(name)
            count = wh.con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
        except duckdb.Error as err:
            raise WarehouseError(f"cannot load {name} from {folder}: {str(err).strip().splitlines()[0]}") from err
        if count != entry.rows:
            raise WarehouseError(f"{folder}: {name} holds {count} rows, its manifest says {entry.rows}")
        loaded[name] = int(count)
    return loaded
