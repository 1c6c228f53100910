"""What a snapshot folder is: its file formats and the name of the manifest every writer of one
(``export``, ``spark``) leaves beside the tables, and every reader (``load``, ``sql --snapshot``)
reads first. Free of DuckDB, so the command line can offer the formats without loading it."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MANIFEST", "ExportFormat"]

MANIFEST = "manifest.json"


class ExportFormat(StrEnum):
    """The file formats a snapshot can be written in; Parquet alone keeps every type exactly."""

    PARQUET = "parquet"
    CSV = "csv"
    JSON = "json"
