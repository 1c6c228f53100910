"""What a snapshot folder is: its file formats and the manifest every writer of one (``export``,
``spark``) leaves beside the tables, and every reader (``load``, ``sql --snapshot``) reads first.

One :class:`Manifest` type for all of them, written and read as ``manifest.json``::

    {"format": "parquet", "reusetrack_version": ..., "schema_version": 6,
     "duckdb_version": ... (export) | "spark_version": ... (spark),
     "exported_at": "2026-...", "warehouse": ... (export), "fingerprint_key": ..., "settings": {...},
     "stages": {...} (spark),
     "tables": {"documents": {"kind": "table", "file": "documents.parquet", "rows": 9,
                              "columns": [{"name": "doc_id", "type": "BIGINT"}, ...]}, ...}}

Free of DuckDB, so the command line can offer the formats without loading it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from reuse.errors import WarehouseError

__all__ = ["MANIFEST", "ExportFormat", "Manifest", "SnapshotTable"]

MANIFEST = "manifest.json"


class ExportFormat(StrEnum):
    """The file formats a snapshot can be written in; Parquet alone keeps every type exactly."""

    PARQUET = "parquet"
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class SnapshotTable:
    """One table or view of a snapshot: its ``kind`` ("table" or "view"), its file (a path or a
    glob relative to the folder), its row count and its ``(name, DuckDB type)`` columns as stored."""

    kind: str
    file: str
    rows: int
    columns: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        """The table's entry in ``manifest.json``."""
        return {
            "kind": self.kind,
            "file": self.file,
            "rows": self.rows,
            "columns": [{"name": name, "type": kind} for name, kind in self.columns],
        }

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> SnapshotTable:
        """The table an entry of ``manifest.json`` describes."""
        columns = tuple((str(c["name"]), str(c["type"])) for c in entry["columns"])
        return cls(str(entry["kind"]), str(entry["file"]), int(entry["rows"]), columns)

    @property
    def types(self) -> dict[str, str]:
        """Column name → DuckDB type."""
        return dict(self.columns)


@dataclass(frozen=True)
class Manifest:
    """A snapshot's description; the fields one writer does not know (``duckdb_version`` and
    ``warehouse`` for Spark, ``spark_version`` and ``stages`` for an export) are None and left out
    of the file."""

    format: ExportFormat
    reusetrack_version: str
    schema_version: int | None
    exported_at: str
    fingerprint_key: str | None
    settings: dict[str, Any] | None
    tables: dict[str, SnapshotTable] = field(default_factory=dict)
    duckdb_version: str | None = None
    spark_version: str | None = None
    warehouse: str | None = None
    stages: dict[str, dict[str, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The manifest as ``manifest.json`` holds it (and ``export --json`` prints it)."""
        found: dict[str, Any] = {
            "format": str(self.format),
            "reusetrack_version": self.reusetrack_version,
            "schema_version": self.schema_version,
            "duckdb_version": self.duckdb_version,
            "spark_version": self.spark_version,
            "exported_at": self.exported_at,
            "warehouse": self.warehouse,
            "fingerprint_key": self.fingerprint_key,
            "settings": self.settings,
            "stages": self.stages,
            "tables": {name: table.to_dict() for name, table in self.tables.items()},
        }
        optional = ("duckdb_version", "spark_version", "warehouse", "stages")
        return {k: v for k, v in found.items() if v is not None or k not in optional}

    def dumps(self) -> str:
        """The text of ``manifest.json``."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """The manifest ``data`` (a parsed ``manifest.json``) describes; raises ``ValueError``,
        ``KeyError`` or ``TypeError`` when it is not one."""
        return cls(
            format=ExportFormat(data["format"]),
            reusetrack_version=str(data.get("reusetrack_version") or ""),
            schema_version=data.get("schema_version"),
            exported_at=str(data.get("exported_at") or ""),
            fingerprint_key=data.get("fingerprint_key"),
            settings=data.get("settings"),
            tables={str(name): SnapshotTable.from_dict(entry) for name, entry in data["tables"].items()},
            duckdb_version=data.get("duckdb_version"),
            spark_version=data.get("spark_version"),
            warehouse=data.get("warehouse"),
            stages=data.get("stages"),
        )

    @classmethod
    def read(cls, folder: str | Path) -> Manifest:
        """The manifest of the snapshot in ``folder``; :class:`~reuse.errors.WarehouseError` if it
        has none or it is not one."""
        path = Path(folder) / MANIFEST
        if not path.is_file():
            raise WarehouseError(
                f"{folder} is not a reusetrack snapshot (no {MANIFEST}): make one with 'reusetrack export'"
            )
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise WarehouseError(f"{path} is not a valid snapshot manifest ({err})") from err
