"""Parquet out: ``export`` snapshots of a real warehouse, and ``sql --snapshot`` over them, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from reuse.cli import app
from warehouse.db import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _live_counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in names}


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_export_writes_every_table_and_view_with_a_manifest(live: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "snapshots" / fmt  # a folder that does not exist yet, nor its parent
    result = runner.invoke(app, ["--db", str(live), "export", "--format", fmt, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == manifest
    assert manifest["format"] == fmt
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["settings"]["num_perm"] > 0 and manifest["fingerprint_key"]
    assert manifest["reusetrack_version"] and manifest["exported_at"]
    live_counts = _live_counts(live)
    tables = manifest["tables"]
    assert set(tables) == set(live_counts)
    for view in ("current_documents", "match_details", "lineage", "site_network"):
        assert tables[view]["kind"] == "view"
    assert tables["documents"]["kind"] == "table"
    assert {name: entry["rows"] for name, entry in tables.items()} == live_counts
    assert live_counts["matches"] > 0 and live_counts["reuse_edges"] > 0
    suffix = {"parquet": ".parquet", "csv": ".csv", "json": ".jsonl"}[fmt]
    assert sorted(p.name for p in out.iterdir()) == sorted(["manifest.json", *(n + suffix for n in tables)])
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # no scratch folder left behind
    # Any DuckDB reads the files as they are, without reusetrack.
    reader = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json"}[fmt]
    with duckdb.connect() as con:
        for name, entry in tables.items():
            path = str(out / entry["file"])
            assert con.execute(f"SELECT count(*) FROM {reader}(?)", [path]).fetchall()[0][0] == entry["rows"], name


@pytest.mark.parametrize("fmt", ["parquet", "csv", "json"])
def test_sql_on_a_snapshot_answers_as_on_the_live_warehouse(live: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "snap"
    assert runner.invoke(app, ["--db", str(live), "export", "--format", fmt, "--out", str(out)]).exit_code == 0
    queries = [
        "SELECT url, site, first_seen, title FROM current_documents ORDER BY url",
        "SELECT url_a, url_b, a_start, a_end, b_start, b_end, similarity, kind FROM match_details ORDER BY match_id",
        "SELECT v.version_id, m.authors, m.other_dates FROM versions v JOIN version_meta m USING (version_id)"
        " ORDER BY v.version_id",
        "SELECT site_a, site_b, count(*) AS n FROM pair_details GROUP BY ALL ORDER BY ALL",
    ]
    if fmt == "parquet":  # blobs and every type survive only in Parquet
        queries.append("SELECT passage_id, minhash FROM signatures ORDER BY passage_id LIMIT 20")
    for query in queries:
        on_live = runner.invoke(app, ["--db", str(live), "sql", "--json", query])
        # --db names a file that does not exist: the snapshot alone answers.
        on_snapshot = runner.invoke(
            app, ["--db", str(tmp_path / "none.duckdb"), "sql", "--snapshot", str(out), "--json", query]
        )
        assert on_live.exit_code == 0, on_live.output
        assert on_snapshot.exit_code == 0, on_snapshot.output
        assert json.loads(on_snapshot.stdout) == json.loads(on_live.stdout), query
        assert json.loads(on_live.stdout), query
    assert not (tmp_path / "none.duckdb").exists()


def test_export_refuses_a_folder_that_is_not_empty(live: Path, tmp_path: Path) -> None:
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["--db", str(live), "export", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {out} is not empty: export into a new or empty folder\n"
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_export_where_no_folder_can_be_made_names_the_folder_asked_for(live: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("mine", encoding="utf-8")
    out = tmp_path / "a-file" / "full"
    result = runner.invoke(app, ["--db", str(live), "export", "--out", str(out)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {out}: cannot write there ({out.parent}: File exists)\n"


def test_export_into_an_empty_folder_and_without_a_warehouse(live: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    result = runner.invoke(app, ["--db", str(live), "export", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("exported ") and result.stdout.rstrip().endswith(f"as csv to {out}")
    missing = tmp_path / "missing.duckdb"
    result = runner.invoke(app, ["--db", str(missing), "export", "--out", str(tmp_path / "other")])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: no warehouse at")
    assert not (tmp_path / "other").exists() and not missing.exists()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_sql_snapshot_needs_a_manifest(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sql", "--snapshot", str(tmp_path), "SELECT 1"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path} is not a reusetrack snapshot (no manifest.json)")
    assert result.stderr.count("\n") == 1
