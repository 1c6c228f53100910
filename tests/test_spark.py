"""``reusetrack spark`` in ``local[2]`` mode against ``reusetrack ingest`` on the same corpus.

The corpus is the seeds demo plus generated copies (an excerpt, an edited copy, a URL read twice,
one paragraph held by more documents than a band key proposes) and two unusable items. The Spark run
and an ingest into a real DuckDB file must give the same passages, signatures, band keys, matches
and document pairs (their ids too: the Spark run numbers them as an ingest into a new warehouse
does), and ``load`` of the Spark output must answer ``matches`` and ``lineage`` as the ingested
warehouse does.

Needs the spark extra and Java: without them these tests skip, unless REUSETRACK_REQUIRE_SPARK
is set (CI's Spark step sets it), where they fail instead. One Spark session serves the module.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from keycap import expected_pairs, write_key_cap_feed
from typer.testing import CliRunner

from crawlers.files import read_file
from reuse.cli import app
from reuse.models import Document
from warehouse.db import open_warehouse
from warehouse.manifest import Manifest

ROOT = Path(__file__).resolve().parents[1]
SF_PAGE = ROOT / "seeds" / "demo" / "southfront.org"
SF = "https://southfront.org/presence-of-turkish-backed-syrian-militants-in-nagorno-karabakh-gives-armenia-additional-chances-in-war/"
runner = CliRunner()
STAGES = ("read", "analyse", "candidates", "match", "write")


def _missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return 'pyspark is not installed (pip install "reusetrack[spark]")'
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java on PATH and no JAVA_HOME"
    return None


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local[2] session for the module, small enough for CI: 4 shuffle partitions, no UI."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("REUSETRACK_REQUIRE_SPARK"):
            pytest.fail(f"REUSETRACK_REQUIRE_SPARK is set but {missing}")
        pytest.skip(missing)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("reusetrack-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


def _southfront() -> Document:
    found = next(iter(read_file(next(SF_PAGE.glob("*.html")))))
    assert isinstance(found, Document)
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo pages, an excerpt and an edited copy of the SouthFront report, a JSONL file with a
    URL read twice (the last copy counts), an empty file, a broken JSONL line and the documents
    of tests/keycap.py, which reach the per-key cap."""
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(ROOT / "seeds" / "demo", root / "demo")
    paragraphs = _southfront().text.split("\n\n")
    extra = root / "extra"
    extra.mkdir()
    excerpt = "Our readers asked about the war.\n\n" + "\n\n".join(paragraphs[2:5]) + "\n\nShare this story."
    (extra / "excerpt.txt").write_text(excerpt, encoding="utf-8")
    edited = "\n\n".join(p.replace("Armenia", "Yerevan").replace("militants", "fighters") for p in paragraphs[1:6])
    (extra / "edited.md").write_text(edited, encoding="utf-8")
    rows = [
        {"url": "https://copies.example/a", "title": "first copy", "text": "A short note that is replaced later."},
        {"url": "https://copies.example/b", "title": "other", "published": "2020-11-07T10:00:00Z", "text": edited},
        {"url": "https://copies.example/a", "title": "second copy", "text": "\n\n".join(paragraphs[3:7])},
    ]
    lines = [json.dumps(row) for row in rows]
    lines.insert(1, "{not json")
    (extra / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (extra / "empty.txt").write_text("", encoding="utf-8")
    write_key_cap_feed(extra / "holders.jsonl")
    return root


@pytest.fixture(scope="module")
def ingested(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The corpus ingested into a new warehouse, and the ingest's JSON report."""
    db = tmp_path_factory.mktemp("ingest") / "ingest.duckdb"
    result = runner.invoke(app, ["--db", str(db), "ingest", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    return db, json.loads(result.stdout)


@pytest.fixture(scope="module")
def spark_out(spark: Any, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("spark") / "out"
    result = runner.invoke(app, ["spark", str(corpus), "--out", str(out), "--partitions", "4"])
    assert result.exit_code == 0, result.output
    return out, result


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


# Each query reads the same names from the warehouse and from views over the Spark output.
PARITY = {
    "passages": "SELECT d.url, p.* FROM passages p JOIN versions v USING (version_id) JOIN documents d USING (doc_id)",
    "signatures": "SELECT s.passage_id, s.minhash FROM signatures s",
    "band_keys": "SELECT key, passage_id, version_id FROM band_keys",
    "matches": "SELECT da.url AS url_a, db.url AS url_b, m.* EXCLUDE (run_id) FROM matches m"
    " JOIN versions va ON va.version_id = m.version_a JOIN documents da ON da.doc_id = va.doc_id"
    " JOIN versions vb ON vb.version_id = m.version_b JOIN documents db ON db.doc_id = vb.doc_id",
    "doc_pairs": "SELECT * EXCLUDE (run_id) FROM doc_pairs",
    "documents": "SELECT doc_id, url, site FROM documents",
    "versions": "SELECT * EXCLUDE (run_id, fetched_at) FROM versions",
    "evidence": "SELECT b.*, m.* EXCLUDE (version_id) FROM blocks b LEFT JOIN version_meta m USING (version_id)",
}


def _spark_views(out: Path, wh: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The Spark output's tables as views, the bits of UBIGINT columns read back as ``load`` reads them."""
    con = duckdb.connect()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, entry in manifest["tables"].items():
        types = dict(
            _rows(wh, f"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{name}'")
        )
        columns = [f"{c}::BIT::UBIGINT AS {c}" if types[c] == "UBIGINT" else c for c in types]
        con.read_parquet(str(out / entry["file"])).project(", ".join(columns)).create_view(name)
    return con


def test_spark_and_ingest_give_the_same_rows(spark_out: tuple[Path, Any], ingested: tuple[Path, Any]) -> None:
    out, _ = spark_out
    with duckdb.connect(str(ingested[0]), read_only=True) as wh, _spark_views(out, wh) as sp:
        for name, query in PARITY.items():
            expected = _rows(wh, f"{query} ORDER BY ALL")
            assert expected, name
            assert _rows(sp, f"{query} ORDER BY ALL") == expected, name
        texts = _rows(wh, "SELECT d.url, v.title FROM versions v JOIN documents d USING (doc_id) ORDER BY 1")
        assert ("https://copies.example/a", "first copy") in texts  # the first copy of a URL is kept, as by ingest


def test_spark_caps_what_a_band_key_proposes(spark_out: tuple[Path, Any], ingested: tuple[Path, Any]) -> None:
    """25 documents hold one paragraph: each meets the first 20 holders and no later one, as in
    ingest (README: a band key proposes only the first 20 versions holding it)."""
    out, _ = spark_out
    with duckdb.connect(str(ingested[0]), read_only=True) as wh, _spark_views(out, wh) as sp:
        pairs = _rows(
            sp,
            "SELECT da.url, db.url FROM doc_pairs p"
            " JOIN versions va ON va.version_id = p.version_a JOIN documents da ON da.doc_id = va.doc_id"
            " JOIN versions vb ON vb.version_id = p.version_b JOIN documents db ON db.doc_id = vb.doc_id"
            " WHERE da.url LIKE 'https://holder%' AND db.url LIKE 'https://holder%'",
        )
    assert {tuple(sorted(pair)) for pair in pairs} == expected_pairs()


def test_spark_reports_what_ingest_reports(spark_out: tuple[Path, Any], ingested: tuple[Path, Any]) -> None:
    out, result = spark_out
    _, report = ingested
    assert report["skipped"] == 2 and report["failed"] == 1 and report["matches"] > 0  # skipped: a repeated URL too
    assert result.stderr.splitlines() == [f"{p['status']}: {p['source']}: {p['reason']}" for p in report["problems"]]
    first, stages = result.stdout.splitlines()
    assert first == (
        f"read {report['ingested']} documents (skipped 2, failed 1); {report['passages']} passages, "
        f"{report['candidates']} candidate pairs, {report['matches']} matches in {report['pairs']} document pairs; "
        f"wrote {out}"
    )
    assert [part.split()[0] for part in stages.removeprefix("stages: ").split(", ")] == list(STAGES)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "parquet" and list(manifest["stages"]) == list(STAGES)
    assert manifest["stages"]["analyse"]["passages"] == report["passages"]
    assert manifest["tables"]["documents"]["rows"] == report["ingested"]
    assert manifest["tables"]["matches"]["rows"] == report["matches"]
    assert manifest["tables"]["band_keys"]["columns"][0] == {"name": "key", "type": "BIGINT"}


def test_spark_writes_every_table_with_the_warehouse_catalogs_columns_and_types(spark_out: tuple[Path, Any]) -> None:
    """Spark's schema is read from the warehouse's own catalog: each Parquet folder holds the
    table's columns, in its order, with its types as Parquet stores them (Spark has no unsigned
    integer: a UBIGINT's bits are in a BIGINT; a JSON column is its text)."""
    out, _ = spark_out
    stored = {"UBIGINT": "BIGINT", "JSON": "VARCHAR"}
    manifest = Manifest.read(out)
    with open_warehouse(":memory:") as wh, duckdb.connect() as con:
        assert {"documents", "band_keys", "matches", "version_meta", "runs"} <= set(manifest.tables)
        for name, entry in manifest.tables.items():
            catalog = wh.column_types(name)
            assert entry.columns == tuple((c, "BIGINT" if t == "UBIGINT" else t) for c, t in catalog), name
            written = con.read_parquet(str(out / entry.file))
            assert list(zip(written.columns, map(str, written.types), strict=True)) == [
                (c, stored.get(t, t)) for c, t in catalog
            ], name


def test_load_of_spark_output_answers_like_ingest(
    spark_out: tuple[Path, Any], ingested: tuple[Path, Any], tmp_path: Path
) -> None:
    out, _ = spark_out
    db = ingested[0]
    loaded = tmp_path / "loaded.duckdb"
    result = runner.invoke(app, ["--db", str(loaded), "load", str(out)])
    assert result.exit_code == 0, result.output
    for command in (["matches", SF, "--json"], ["lineage", SF, "--json"], ["stories", "--json"], ["pairs", "--json"]):
        expected = runner.invoke(app, ["--db", str(db), *command])
        found = runner.invoke(app, ["--db", str(loaded), *command])
        assert found.exit_code == 0, found.output
        assert _without_times(json.loads(found.stdout)) == _without_times(json.loads(expected.stdout)), command
    assert json.loads(runner.invoke(app, ["--db", str(loaded), "lineage", SF, "--json"]).stdout)["edges"]


def _without_times(value: Any) -> Any:
    """``value`` without run ids, and without the times (and lags) that come from the first-seen
    time of a document without a date: each run sees it at its own start."""
    if isinstance(value, dict):
        return {
            k: _without_times(v)
            for k, v in value.items()
            if k not in ("run_id", "first_seen", "fetched_at", "span") and "time" not in k and "lag" not in k
        }
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def test_spark_ships_the_built_wheel_to_its_executors(
    spark: Any, corpus: Path, ingested: tuple[Path, Any], tmp_path: Path
) -> None:
    """--ship builds the wheel (maturin) and sends it to the executors, which import reusetrack from
    it (the engine core from a local copy: its folder appears in the executors' TMPDIR) and give
    ingest's rows. A run of its own: the module's session has its workers' imports already done."""
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYSPARK_PYTHON": sys.executable}
    command = [sys.executable, "-m", "reuse", "spark", str(corpus), "--out", str(out), "--master", "local[2]"]
    # Run away from the source tree, which the workers would import first from their working directory.
    done = subprocess.run([*command, "--partitions", "4", "--ship"], env=env, cwd=tmp, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp.glob("reusetrack-native-*/_native.*")], "no executor loaded the shipped core"
    with duckdb.connect(str(ingested[0]), read_only=True) as wh, _spark_views(out, wh) as sp:
        for name, query in PARITY.items():
            assert _rows(sp, f"{query} ORDER BY ALL") == _rows(wh, f"{query} ORDER BY ALL"), name


def test_spark_refuses_a_wheel_that_is_not_reusetracks(spark: Any, corpus: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("other/__init__.py", "")
    for wheel, message in ((tmp_path / "none.whl", "no such wheel"), (other, "not a reusetrack wheel")):
        result = runner.invoke(app, ["spark", str(corpus), "--out", str(tmp_path / "out"), "--wheel", str(wheel)])
        assert result.exit_code == 1 and result.stderr == f"Error: {wheel}: {message}" + (
            " with its engine core (reuse.engine._native)\n" if wheel == other else "\n"
        )


def test_spark_refuses_an_output_folder_that_is_not_empty(spark: Any, corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["spark", str(corpus), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path} exists and is not an empty folder: write into a new or empty folder\n"


def test_spark_without_pyspark_says_how_to_install_it(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs in the default suite too: without the extra, one line says what to install."""
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    result = runner.invoke(app, ["spark", str(corpus), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr == 'Error: pyspark is not installed: pip install "reusetrack[spark]"\n'
    missing = runner.invoke(app, ["spark", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert missing.stderr == f"Error: {tmp_path / 'nowhere'}: no such file or directory\n"
