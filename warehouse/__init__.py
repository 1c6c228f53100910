"""The DuckDB warehouse: schema, migrations, bulk loads and the queries the engine needs.

The names below are imported on first use (PEP 562), so that light modules of the package (the
snapshot formats the command line offers) can be imported without loading DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse.db import SCHEMA_VERSION, Warehouse, open_warehouse

__all__ = ["SCHEMA_VERSION", "Warehouse", "open_warehouse"]


def __getattr__(name: str) -> Any:
    """Import :mod:`warehouse.db` the first time one of its public names is asked for."""
    if name not in __all__:
        raise AttributeError(f"module 'warehouse' has no attribute {name!r}")
    from warehouse import db

    return getattr(db, name)
