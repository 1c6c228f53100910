"""The DuckDB warehouse: schema, migrations, bulk loads and the queries the engine needs."""

from warehouse.db import SCHEMA_VERSION, Warehouse, open_warehouse

__all__ = ["SCHEMA_VERSION", "Warehouse", "open_warehouse"]
