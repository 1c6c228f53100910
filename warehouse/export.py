"""Snapshots of the warehouse as plain files, and SQL over such a snapshot.

:func:`export_warehouse` writes every table and view of the warehouse into a folder, one file
per table or view (Parquet, CSV with a header line, or JSON Lines), plus ``manifest.json``::

    DIR/
      manifest.json        format, reusetrack and schema versions, settings, export time, and for
                           each table and view: kind, file, row count and columns with their types
      documents.parquet    one file per table ...
      lineage.parquet      ... and per view, its rows at the time of the snapshot

All files come from one read-only transaction of the process that opened the warehouse, so they
are one consistent snapshot even while crawls wait to write. The folder appears complete or not
at all: the files are written into a hidden sibling folder that is renamed at the end.

:func:`open_snapshot` puts views over those files in an in-memory DuckDB, so the same SQL that
runs on the warehouse runs on a snapshot without touching the warehouse.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from reuse.errors import WarehouseError
from warehouse.db import Warehouse, open_when_free
from warehouse.manifest import MANIFEST, ExportFormat, Manifest, SnapshotTable

__all__ = ["export_warehouse", "open_snapshot", "snapshot_relation"]


_SUFFIX = {ExportFormat.PARQUET: ".parquet", ExportFormat.CSV: ".csv", ExportFormat.JSON: ".jsonl"}
_COPY_OPTIONS = {
    ExportFormat.PARQUET: "FORMAT parquet",
    ExportFormat.CSV: "FORMAT csv, HEADER",
    ExportFormat.JSON: "FORMAT json",
}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise WarehouseError(f"{out} is a file: export into a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        raise WarehouseError(f"{out} is not empty: export into a new or empty folder")


def export_warehouse(
    db: str | Path, out: str | Path, fmt: ExportFormat, *, version: str, wait: float = 15.0
) -> Manifest:
    """Write every table and view of the warehouse at ``db`` into the folder ``out``; return the manifest.

    ``out`` must not exist or be empty (:class:`~reuse.errors.WarehouseError` otherwise, before
    the warehouse is opened). ``version`` is the reusetrack version recorded in the manifest.
    The warehouse is opened read-only, waiting up to ``wait`` seconds for a writer to finish.
    """
    out = Path(out)
    _check_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as err:
        # Named as the user gave it: the partial folder's name would mean nothing to them.
        where = f"{err.filename}: " if err.filename else ""
        raise WarehouseError(f"{out}: cannot write there ({where}{err.strerror or err})") from None
    try:
        with open_when_free(db, read_only=True, wait=wait) as warehouse:
            manifest = _write_snapshot(warehouse, scratch, fmt, version)
        (scratch / MANIFEST).write_text(manifest.dumps(), encoding="utf-8")
        _check_out(out)  # it may have been filled meanwhile; never mix two exports
        if out.is_dir():
            out.rmdir()
        scratch.rename(out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return manifest


def _write_snapshot(warehouse: Warehouse, folder: Path, fmt: ExportFormat, version: str) -> Manifest:
    con = warehouse.con
    tables: dict[str, SnapshotTable] = {}
    # One transaction: every COPY reads the same snapshot of the database.
    with warehouse.transaction():
        exported_at = datetime.now(UTC)
        objects = con.execute(
            "SELECT table_name, table_type FROM information_schema.tables"
            " WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        for name, table_type in objects:
            file_name = f"{name}{_SUFFIX[fmt]}"
            columns = warehouse.column_types(name)
            try:
                copied = con.execute(
                    f"COPY (SELECT * FROM {_quoted(name)}) TO ? ({_COPY_OPTIONS[fmt]})", [str(folder / file_name)]
                ).fetchall()
            except duckdb.Error as err:
                raise WarehouseError(f"cannot export {name}: {str(err).strip().splitlines()[0]}") from err
            kind = "view" if table_type == "VIEW" else "table"
            tables[name] = SnapshotTable(kind, file_name, int(copied[0][0]), tuple(columns))
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        schema = con.execute("SELECT max(version) FROM schema_migrations").fetchall()
    return Manifest(
        format=fmt,
        reusetrack_version=version,
        schema_version=schema[0][0] if schema else None,
        duckdb_version=duckdb.__version__,
        exported_at=exported_at.isoformat(),
        warehouse=str(warehouse.path),
        fingerprint_key=meta.get("fingerprint_key"),
        settings=json.loads(meta["settings"]) if "settings" in meta else None,
        tables=tables,
    )


def snapshot_relation(
    con: duckdb.DuckDBPyConnection, folder: Path, fmt: ExportFormat, entry: SnapshotTable
) -> duckdb.DuckDBPyRelation:
    """The rows of one table or view of the snapshot in ``folder`` (its manifest ``entry``) as a
    relation on ``con``; CSV and JSON files are read with the column types the manifest records."""
    path = str(folder / entry.file)
    if fmt is ExportFormat.PARQUET:
        return con.read_parquet(path)
    types = entry.types
    if fmt is ExportFormat.CSV:
        return con.read_csv(path, header=True, columns=types)
    return con.read_json(path, columns=types)


def open_snapshot(folder: str | Path) -> Warehouse:
    """An in-memory DuckDB with one view per table and view of the snapshot in ``folder``.

    CSV and JSON files are read with the column types the manifest records, so queries see the
    warehouse's types. The snapshot's files are only read.
    """
    folder = Path(folder)
    manifest = Manifest.read(folder)
    con = duckdb.connect(":memory:")
    try:
        for name, entry in manifest.tables.items():
            snapshot_relation(con, folder, manifest.format, entry).create_view(name)
    except duckdb.Error as err:
        con.close()
        raise WarehouseError(f"cannot read snapshot {folder}: {str(err).strip().splitlines()[0]}") from err
    except BaseException:
        con.close()
        raise
    return Warehouse(con, f"snapshot {folder}")
