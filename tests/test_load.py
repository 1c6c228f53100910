"""``reusetrack load``: an ``export`` snapshot, or a folder laid out as ``reusetrack spark`` writes
it, into a new warehouse, through the CLI and on real DuckDB files (no Spark needed here; the
Spark run itself is tested in test_spark.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from reuse.cli import app
from reuse.config import Settings
from warehouse.db import SCHEMA_VERSION, open_warehouse

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
SF = "https://southfront.org/presence-of-turkish-backed-syrian-militants-in-nagorno-karabakh-gives-armenia-additional-chances-in-war/"
#: What must read the same from the loaded warehouse as from the one ingest filled.
QUERIES = (
    "SELECT url, site, first_seen, title, published_at, chars, tokens, state FROM current_documents ORDER BY url",
    "SELECT passage_id, version_id, position, char_start, char_end FROM passages ORDER BY passage_id",
    "SELECT passage_id, minhash FROM signatures ORDER BY passage_id",
    "SELECT key, passage_id FROM band_keys ORDER BY ALL",
    "SELECT url_a, url_b, a_start, a_end, b_start, b_end, similarity, kind FROM match_details ORDER BY match_id",
    "SELECT * FROM doc_pairs ORDER BY ALL",
    "SELECT version_id, position, text_hash FROM blocks ORDER BY ALL",
    "SELECT source_url, copy_url, relation, confidence, method, credited, labels FROM copies_of ORDER BY ALL",
    "SELECT * EXCLUDE (run_id) FROM stories ORDER BY ALL",
)


def _export(live: Path, out: Path, fmt: str = "parquet") -> Path:
    result = runner.invoke(app, ["--db", str(live), "export", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _same(live: Path, loaded: Path) -> None:
    for query in QUERIES:
        expected = runner.invoke(app, ["--db", str(live), "sql", "--json", query])
        found = runner.invoke(app, ["--db", str(loaded), "sql", "--json", query])
        assert found.exit_code == 0, found.output
        assert json.loads(found.stdout) == json.loads(expected.stdout), query
        assert json.loads(found.stdout), query


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_load_an_export_gives_the_same_warehouse(live: Path, tmp_path: Path, fmt: str) -> None:
    snapshot = _export(live, tmp_path / "snap", fmt)
    loaded = tmp_path / "loaded.duckdb"
    result = runner.invoke(app, ["--db", str(loaded), "load", str(snapshot), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    assert counts["documents"] == 9 and counts["reuse_edges"] == manifest["tables"]["reuse_edges"]["rows"] > 0
    assert "meta" not in counts and "schema_migrations" not in counts
    _same(live, loaded)
    lineage = runner.invoke(app, ["--db", str(loaded), "lineage", SF, "--json"])
    assert lineage.exit_code == 0, lineage.output
    assert lineage.stdout == runner.invoke(app, ["--db", str(live), "lineage", SF, "--json"]).stdout


#: The tables ``reusetrack spark`` writes.
SPARK_TABLES = frozenset(
    {"documents", "versions", "passages", "signatures", "band_keys", "matches", "doc_pairs", "runs"}
    | {"blocks", "version_meta", "links", "credits"}
)


def _rows(db: Path, tables: frozenset[str]) -> int:
    """How many rows ``tables`` of the warehouse ``db`` hold together."""
    with duckdb.connect(str(db), read_only=True) as con:
        return sum(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0] for name in sorted(tables))


def _spark_like(snapshot: Path) -> Path:
    """Make an export look like ``reusetrack spark`` output: each table a folder of Parquet parts,
    UBIGINT columns stored as BIGINT (Spark has no unsigned type), and no lineage tables."""
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    tables = {}
    with duckdb.connect() as con:
        for name in sorted(SPARK_TABLES):
            entry = manifest["tables"][name]
            columns = [
                f"{c['name']}::BIT::BIGINT AS {c['name']}" if c["type"] == "UBIGINT" else c["name"]
                for c in entry["columns"]
            ]
            (snapshot / name).mkdir()
            con.execute(
                f"COPY (SELECT {', '.join(columns)} FROM read_parquet(?)) TO ? (FORMAT parquet)",
                [str(snapshot / entry["file"]), str(snapshot / name / "part-00000.parquet")],
            )
            tables[name] = {**entry, "file": f"{name}/*.parquet"}
    for path in snapshot.glob("*.parquet"):
        path.unlink()
    manifest["tables"] = tables
    (snapshot / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return snapshot


def test_load_spark_layout_reads_unsigned_bits_back_and_builds_the_lineage(live: Path, tmp_path: Path) -> None:
    snapshot = _spark_like(_export(live, tmp_path / "snap"))
    with duckdb.connect() as con:
        smallest = con.execute("SELECT min(key) FROM read_parquet(?)", [str(snapshot / "band_keys" / "*.parquet")])
        assert smallest.fetchall()[0][0] < 0  # keys past 2^63 are stored as negative BIGINTs
    loaded = tmp_path / "loaded.duckdb"
    result = runner.invoke(app, ["--db", str(loaded), "load", str(snapshot)])
    assert result.exit_code == 0, result.output
    rows = _rows(live, SPARK_TABLES)  # every row of the tables the layout holds, all loaded
    assert result.stdout == f"loaded {rows} rows into 12 tables of {loaded}: 9 documents, 13 matches\n"
    _same(live, loaded)
    for command in (["matches", SF], ["lineage", SF], ["stories"], ["sites"]):
        done = runner.invoke(app, ["--db", str(loaded), *command])
        assert done.exit_code == 0, done.output
        assert done.stdout == runner.invoke(app, ["--db", str(live), *command]).stdout, command


def test_load_refuses_a_warehouse_that_is_not_empty(live: Path, tmp_path: Path) -> None:
    snapshot = _export(live, tmp_path / "snap")
    copy = tmp_path / "copy.duckdb"
    shutil.copy(live, copy)
    result = runner.invoke(app, ["--db", str(copy), "load", str(snapshot)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: warehouse {copy} is not empty: load into a new or empty warehouse (--db)\n"


def test_load_refuses_other_settings_and_a_newer_schema(live: Path, tmp_path: Path) -> None:
    snapshot = _export(live, tmp_path / "snap")
    other = tmp_path / "other.duckdb"
    open_warehouse(other, Settings(num_perm=128)).close()  # empty, but set up for other signatures
    result = runner.invoke(app, ["--db", str(other), "load", str(snapshot)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the warehouse holds signatures made with other fingerprint settings")
    assert result.stderr.count("\n") == 1
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    manifest["schema_version"] = SCHEMA_VERSION + 1
    (snapshot / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    fresh = tmp_path / "fresh.duckdb"
    result = runner.invoke(app, ["--db", str(fresh), "load", str(snapshot)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: the snapshot has schema version {SCHEMA_VERSION + 1}, newer than this reusetrack "
        f"({SCHEMA_VERSION}); upgrade reusetrack\n"
    )
    assert not fresh.exists()


def test_load_refuses_a_folder_without_manifest_or_with_missing_rows(live: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", str(tmp_path / "a.duckdb"), "load", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path} is not a reusetrack snapshot (no manifest.json)")
    snapshot = _export(live, tmp_path / "snap")
    manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"]["matches"]["rows"] += 1
    (snapshot / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "b.duckdb"
    result = runner.invoke(app, ["--db", str(target), "load", str(snapshot)])
    assert result.exit_code == 1
    rows = manifest["tables"]["matches"]["rows"]
    assert result.stderr == f"Error: {snapshot}: matches holds {rows - 1} rows, its manifest says {rows}\n"
    with duckdb.connect(str(target), read_only=True) as con:  # nothing of the failed load is kept
        assert con.execute("SELECT count(*) FROM documents").fetchall() == [(0,)]
