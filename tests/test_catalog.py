"""One truth per concept on the warehouse side: the column types of the SQL migrations are the only
statement of them (every load casts to the catalog's types), one temporary-table helper, one
snapshot manifest type."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from reuse.errors import WarehouseError
from warehouse.db import open_warehouse
from warehouse.manifest import ExportFormat, Manifest, SnapshotTable

ROOT = Path(__file__).resolve().parents[1]


def _value(kind: pa.DataType, k: int) -> Any:
    """A value of the Arrow type ``kind`` that Arrow would not infer as it (a Python int for an
    unsigned column, an ISO string nowhere: the values are what the row builders hand over)."""
    if pa.types.is_boolean(kind):
        return k % 2 == 0
    if pa.types.is_unsigned_integer(kind):
        return 2**64 - 1 - k  # above every signed 64-bit value
    if pa.types.is_integer(kind):
        return 1000 + k
    if pa.types.is_floating(kind):
        return 0.25 + k
    if pa.types.is_timestamp(kind):
        return datetime(2024, 5, 6, 7, 8, 9, 123456 + k, tzinfo=UTC)
    if pa.types.is_binary(kind):
        return bytes([k, 255, 0])
    if pa.types.is_list(kind):
        return [f"item {k}", "é"]
    assert pa.types.is_string(kind), kind
    return f'{{"k": {k}}}'  # valid JSON, for the JSON columns


def _tables(wh: Any) -> list[str]:
    rows = wh.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal ORDER BY 1"
    ).fetchall()
    return [name for (name,) in rows if name != "schema_migrations"]


def test_every_table_loads_rows_and_columns_with_its_catalog_types(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        tables = _tables(wh)
        assert {"documents", "band_keys", "frontier", "fetch_log", "version_meta", "reuse_edges"} <= set(tables)
        for table in tables:
            wh.con.execute(f"DELETE FROM {table}")  # meta holds the creator's rows
            schema = wh.schema(table)
            rows = [{f.name: _value(f.type, k) for f in schema} for k in range(2)]
            with wh.transaction():
                wh.insert(table, rows)  # as rows
                stored = wh.con.table(table).to_arrow_table().to_pylist()
                wh.con.execute(f"DELETE FROM {table}")
                # ... and as columns: plain lists, without any type of their own.
                wh.insert(table, {name: [row[name] for row in rows] for name in schema.names})
                again = wh.con.table(table).to_arrow_table().to_pylist()
            assert stored == again == rows, table


def test_a_column_left_out_is_null_and_one_the_table_does_not_hold_is_refused(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "w.duckdb") as wh, wh.transaction():
        wh.insert("documents", [{"doc_id": 1, "url": "u", "first_seen": datetime(2024, 1, 1, tzinfo=UTC)}])
        assert wh.con.execute("SELECT site FROM documents").fetchall() == [(None,)]
        with pytest.raises(WarehouseError, match="documents has no column nonsense"):
            wh.insert("documents", [{"doc_id": 1, "url": "u", "nonsense": 1}])
        with pytest.raises(WarehouseError, match="cannot load versions"):
            wh.insert("versions", {"version_id": [1], "published_at": ["not a date"]})


def test_no_module_restates_a_tables_column_types() -> None:
    """Arrow types are named only where the catalog's are read (warehouse/db.py), for values
    that are no table's columns (the ids and URLs a query is given), and for the file format of
    ``fingerprint --format parquet`` (reuse/pipeline/fingerprints.py), which is no table."""
    allowed = {"int64", "string", "uint64"}  # the one-column lists of ids, URLs, sites and band keys a query joins
    own_formats = {ROOT / "warehouse/db.py", ROOT / "reuse/pipeline/fingerprints.py"}
    found = []
    for path in [*ROOT.glob("reuse/**/*.py"), *ROOT.glob("warehouse/*.py"), *ROOT.glob("crawlers/*.py")]:
        if path in own_formats:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "pa"
                # pa.types: the predicates that inspect a type (name none)
                and node.attr not in {"array", "table", "Table", "Array", "ChunkedArray", "Schema", "types"}
                and node.attr not in allowed
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: pa.{node.attr}")
    assert not found, found


def test_the_manifest_round_trips_and_leaves_out_what_its_writer_does_not_know() -> None:
    table = SnapshotTable("table", "documents.parquet", 3, (("doc_id", "BIGINT"), ("url", "VARCHAR")))
    export = Manifest(ExportFormat.CSV, "1.0", 6, "2026-01-01T00:00:00+00:00", "k", {"num_perm": 128},
                      {"documents": table}, duckdb_version="2.0", warehouse="w.duckdb")  # fmt: skip
    data = export.to_dict()
    assert list(data) == ["format", "reusetrack_version", "schema_version", "duckdb_version", "exported_at",
                          "warehouse", "fingerprint_key", "settings", "tables"]  # fmt: skip
    assert data["tables"]["documents"] == {
        "kind": "table",
        "file": "documents.parquet",
        "rows": 3,
        "columns": [{"name": "doc_id", "type": "BIGINT"}, {"name": "url", "type": "VARCHAR"}],
    }
    assert Manifest.from_dict(data) == export
    spark = Manifest(ExportFormat.PARQUET, "1.0", 6, "t", "k", None, {}, spark_version="4.0", stages={"read": {}})
    assert list(spark.to_dict()) == ["format", "reusetrack_version", "schema_version", "spark_version",
                                     "exported_at", "fingerprint_key", "settings", "stages", "tables"]  # fmt: skip
    assert Manifest.from_dict(spark.to_dict()) == spark


@pytest.mark.parametrize(
    ("earlier", "later", "known"),
    [
        (None, None, True),
        ("minute", "second", True),
        ("day", None, False),
        (None, "day", False),
        ("year", "day", False),
    ],
)
def test_lags_and_spans_are_given_only_between_times_known_to_the_minute(
    tmp_path: Path, earlier: str | None, later: str | None, known: bool
) -> None:
    """The ``lineage`` view's lag and the ``stories`` view's span follow one rule (the macro
    ``precise_span``): a date-only time would claim a lag it does not know."""
    t0, t1 = datetime(2024, 3, 1, 8, tzinfo=UTC), datetime(2024, 3, 1, 11, 30, tzinfo=UTC)
    with open_warehouse(tmp_path / "w.duckdb") as wh, wh.transaction():
        wh.insert("documents", [{"doc_id": d, "url": f"https://{d}.example/a", "first_seen": t0} for d in (1, 2)])
        wh.insert(
            "lineage_nodes",
            [
                {"story_id": 1, "doc_id": 1, "version_id": 1, "depth": 0, "doc_time": t0, "time_precision": earlier},
                {
                    "story_id": 1,
                    "doc_id": 2,
                    "version_id": 2,
                    "depth": 1,
                    "doc_time": t1,
                    "time_precision": later,
                    "parent_doc": 1,
                },
            ],
        )
        wh.insert(
            "lineage_stories",
            [
                {
                    "story_id": 1,
                    "run_id": 1,
                    "root_doc": 1,
                    "earliest_doc": 1,
                    "documents": 2,
                    "sites": [],
                    "first_time": t0,
                    "last_time": t1,
                    "first_precision": earlier,
                    "last_precision": later,
                }
            ],
        )
        lags = wh.con.execute("SELECT lag FROM lineage").fetchall()
        spans = wh.con.execute("SELECT span FROM stories").fetchall()
    expected = t1 - t0 if known else None
    assert lags == spans == [(expected,)]


def test_arrow_tables_reach_queries_through_one_helper() -> None:
    """Arrow tables reach statements through ``warehouse.scans.execute_with`` only: no connection
    registers one (two changes of the catalog a table), and nothing else evaluates code."""
    calls = re.compile(r"\bcon\.(?:un)?register\(|\beval\(")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("reuse", "warehouse", "crawlers", "bench")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if calls.search(line) and path != ROOT / "warehouse" / "scans.py"
    ]
    assert not found, found
