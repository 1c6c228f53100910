"""The persistent DuckDB warehouse, on real files in tmp_path.

Migrations and the schema version, the fingerprint settings a file is bound to, DuckDB's write
lock held by another process, incremental ingest (several runs give what one run gives, and the
stored band keys give exactly the candidates of a datasketch ``MinHashLSH`` built over every
passage at once), re-ingest, new versions, what survives an interrupted run, bulk loads through
Arrow, and the views. The in-memory LSH equality is tested in ``test_lsh_candidates.py``; here
the band keys are read back from the warehouse.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from datasketch import MinHashLSH
from hypothesis import given
from hypothesis import strategies as st

from reuse.config import Settings
from reuse.engine.lsh import band_keys, band_params
from reuse.engine.signatures import MinHasher
from reuse.errors import InputError, SettingsMismatch, WarehouseError, WarehouseLocked
from reuse.models import Document
from reuse.pipeline import ingest as ingest_module
from reuse.pipeline.ingest import IngestReport, _batched, ingest
from reuse.stages import StageClock
from warehouse import db as db_module
from warehouse.db import SCHEMA_VERSION, Warehouse, fixed_width_rows, open_warehouse, rows_with_values
from warehouse.migrations import VIEWS_KEY, apply_migrations, migrations
from warehouse.scans import execute_with

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings()
TABLES = ("documents", "versions", "passages", "signatures", "band_keys", "matches", "doc_pairs", "runs")


# -- a synthetic corpus with planted reuse ----------------------------------------------------------


def _corpus(seed: int = 7) -> tuple[list[Document], dict[str, set[tuple[str, str]]]]:
    """40 documents: originals, copies inside site chrome, excerpts, edited copies, unrelated
    pages and one too short to fingerprint. Returns them and the planted (copy, source) URL pairs
    by kind. Some words are outside the BMP or carry combining marks, so that character offsets
    are checked beyond ASCII."""
    rng = random.Random(seed)
    letters = "abcdefghiklmnoprstuvwyz"
    vocab = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(600)]
    vocab += ["café", "nai\u0308ve", "Zürich", "smile😀", "👍🏽ok", "Ærøskøbing", "straße"]

    def para(n: int) -> str:
        return " ".join(rng.choice(vocab) for _ in range(n)) + "."

    def url(kind: str, k: int) -> str:
        return f"https://site{k % 4}.example/{kind}/{k}"

    docs: list[Document] = []
    originals: list[Document] = []
    for k in range(21):
        text = "\n\n".join(para(rng.randint(20, 70)) for _ in range(rng.randint(2, 4)))
        doc = Document(url=url("original", k), text=text, title=f"Original {k}", site=f"site{k % 4}.example")
        originals.append(doc)
        docs.append(doc)
    planted: dict[str, set[tuple[str, str]]] = {"copy": set(), "excerpt": set(), "edited": set()}
    for k in range(5):  # whole copies inside a page's chrome
        src = originals[k]
        text = f"Home News World Sport {para(12)}\n\n{src.text}\n\nFooter {para(18)}"
        doc = Document(url=url("copy", k), text=text, title=f"Copy of {k}", site="mirror.example")
        planted["copy"].add((doc.url, src.url))
        docs.append(doc)
    for k in range(5):  # an excerpt of 30-45 words inside new text
        src = originals[5 + k]
        words = src.text.split()
        n = rng.randint(30, 45)
        start = rng.randrange(max(1, len(words) - n))
        text = f"{para(25)}\n\n{' '.join(words[start : start + n])}\n\n{para(20)}"
        doc = Document(url=url("excerpt", k), text=text, site="quotes.example")
        planted["excerpt"].add((doc.url, src.url))
        docs.append(doc)
    for k in range(5):  # one word in ten replaced, paragraphs merged into one
        src = originals[10 + k]
        words = src.text.split()
        for _ in range(len(words) // 10):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        doc = Document(url=url("edited", k), text=" ".join(words), site="rewrite.example")
        planted["edited"].add((doc.url, src.url))
        docs.append(doc)
    docs.append(Document(url=url("unrelated", 0), text="\n\n".join(para(40) for _ in range(3))))
    docs.append(Document(url=url("unrelated", 1), text=para(50) + "\n\n" + para(30)))
    docs.append(
        Document(url=url("cjk", 2), text="東京都は今日新しい図書館を開館した。多くの市民が朝から列を作った。" * 3)
    )
    docs.append(Document(url=url("short", 3), text="Too short to fingerprint."))
    rng.shuffle(docs)  # sources and copies arrive in any order, across the runs below
    assert len(docs) == 40
    return docs, planted


DOCS, PLANTED = _corpus()


# -- reading a warehouse back, independently of the ids it assigned ----------------------------------


def _counts(path: Path) -> dict[str, int]:
    with open_warehouse(path, read_only=True) as wh:
        return wh.counts()


def _passage_names(wh: Warehouse) -> dict[int, tuple[str, int]]:
    """``passage_id → (url, position)``."""
    _, rows = wh.query(
        "SELECT p.passage_id, d.url, p.position FROM passages p"
        " JOIN versions v USING (version_id) JOIN documents d USING (doc_id)"
    )
    return {int(pid): (url, int(pos)) for pid, url, pos in rows}


def _stored_band_keys(wh: Warehouse) -> set[tuple[str, int, int]]:
    names = _passage_names(wh)
    _, rows = wh.query("SELECT key, passage_id FROM band_keys")
    return {(*names[int(pid)], int(key)) for key, pid in rows}


def _sql_candidate_ids(wh: Warehouse, *, main_only: bool = False) -> set[tuple[int, int]]:
    """Passage pairs sharing a stored key, across different versions; with ``main_only``, a key
    of the main family (the MinHash bands, not the anchors or content bands)."""
    main = np.array(sorted(_main_band_rows(wh)[0]) if main_only else [], dtype=np.uint64)
    keys = "(SELECT * FROM band_keys SEMI JOIN main_keys USING (key))" if main_only else "band_keys"
    rows = execute_with(
        wh.con,
        "SELECT DISTINCT least(x.passage_id, y.passage_id), greatest(x.passage_id, y.passage_id)"
        f" FROM {keys} x JOIN {keys} y ON x.key = y.key"
        " WHERE x.passage_id <> y.passage_id AND x.version_id <> y.version_id",
        main_keys={"key": main},
    ).fetchall()
    return {(int(a), int(b)) for a, b in rows}


def _main_band_rows(wh: Warehouse) -> tuple[set[int], int]:
    """The main family's keys, recomputed from the stored signatures, and how many stored
    ``band_keys`` rows hold one of them under its own passage."""
    _, rows = wh.query("SELECT passage_id, minhash FROM signatures ORDER BY passage_id")
    signatures = np.stack([np.frombuffer(blob, dtype="<u4").astype(np.uint32) for _, blob in rows])
    expected = band_keys(signatures, *band_params(SETTINGS))
    wanted = {(int(key), int(pid)) for (pid, _), keys in zip(rows, expected, strict=True) for key in keys}
    _, stored = wh.query("SELECT key, passage_id FROM band_keys")
    return {key for key, _ in wanted}, sum((int(k), int(p)) in wanted for k, p in stored)


def _named_pairs(wh: Warehouse, pairs: set[tuple[int, int]]) -> set[tuple[tuple[str, int], tuple[str, int]]]:
    names = _passage_names(wh)
    out: set[tuple[tuple[str, int], tuple[str, int]]] = set()
    for a, b in pairs:
        x, y = sorted((names[a], names[b]))
        out.add((x, y))
    return out


def _matches(wh: Warehouse) -> set[tuple[Any, ...]]:
    """Every match as (url, start, end, url, start, end, kind, similarity), smaller URL first."""
    _, rows = wh.query("SELECT url_a, a_start, a_end, url_b, b_start, b_end, kind, similarity FROM match_details")
    out = set()
    for ua, a0, a1, ub, b0, b1, kind, sim in rows:
        a, b = (ua, a0, a1), (ub, b0, b1)
        out.add((*min(a, b), *max(a, b), kind, round(sim, 9)))
    return out


def _matched_url_pairs(wh: Warehouse) -> set[frozenset[str]]:
    return {frozenset((m[0], m[3])) for m in _matches(wh)}


def _ingest(path: Path, docs: list[Document], batch_size: int = 200, settings: Settings = SETTINGS) -> IngestReport:
    with open_warehouse(path, settings) as wh:
        return ingest(wh, docs, settings, batch_size=batch_size)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The corpus ingested in three runs (small batches) into one file and at once into another."""
    root = tmp_path_factory.mktemp("warehouses")
    incremental, at_once = root / "incremental.duckdb", root / "at_once.duckdb"
    reports = [
        _ingest(incremental, DOCS[:13], batch_size=4),
        _ingest(incremental, DOCS[13:27], batch_size=5),
        _ingest(incremental, DOCS[27:], batch_size=3),
    ]
    whole = _ingest(at_once, DOCS)
    return {"incremental": incremental, "at_once": at_once, "reports": reports, "whole": whole}


def _copy(src: Path, dst_dir: Path) -> Path:
    dst = dst_dir / src.name
    shutil.copyfile(src, dst)
    return dst


# -- 1. migrations ---------------------------------------------------------------------------------------


def test_new_file_records_each_migration_once(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with open_warehouse(db, SETTINGS) as wh:
        _, first = wh.query("SELECT version, name, duckdb_version, applied_at FROM schema_migrations ORDER BY 1")
    shipped = migrations()
    assert shipped and shipped[-1].version == SCHEMA_VERSION
    assert [(v, n, dv) for v, n, dv, _ in first] == [(m.version, m.name, duckdb.__version__) for m in shipped]
    assert all(applied is not None for *_, applied in first)

    with open_warehouse(db, SETTINGS) as wh:
        _, again = wh.query("SELECT version, name, duckdb_version, applied_at FROM schema_migrations ORDER BY 1")
        assert apply_migrations(wh.con) == []
        assert wh.stats()["schema_version"] == SCHEMA_VERSION
    assert again == first  # nothing re-applied, applied_at untouched


def _stories_view(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return str(con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'stories'").fetchall()[0][0])
    finally:
        con.close()


def _tamper_views(db: Path, digest: str | None) -> None:
    """Redefine the ``stories`` view as another version of reusetrack might have, and record
    ``digest`` (None: keep the file's) as the digest of the views' SQL."""
    con = duckdb.connect(str(db))
    con.execute("CREATE OR REPLACE VIEW stories AS SELECT 1 AS from_another_version")
    if digest is not None:
        con.execute("UPDATE meta SET value = ? WHERE key = ?", [digest, VIEWS_KEY])
    con.close()


def test_views_are_defined_again_only_when_their_sql_changed(tmp_path: Path) -> None:
    """A writer's open defines the macros and views when the SQL recorded for them is not this
    version's, and leaves them alone when it is; a reader of a file whose views another version
    defined brings this version's, or reads with the old ones when it cannot write the file."""
    db = tmp_path / "w.duckdb"
    open_warehouse(db, SETTINGS).close()
    shipped = _stories_view(db)
    assert "from_another_version" not in shipped
    _tamper_views(db, None)  # the digest still says this version's SQL: not redefined
    open_warehouse(db, SETTINGS).close()
    assert "from_another_version" in _stories_view(db)
    _tamper_views(db, "an older version's")
    open_warehouse(db, SETTINGS).close()
    assert _stories_view(db) == shipped
    _tamper_views(db, "an older version's")
    with open_warehouse(db, read_only=True) as wh:
        assert "from_another_version" not in wh.column_types("stories")[0][0]
    assert _stories_view(db) == shipped
    _tamper_views(db, "an older version's")
    other = duckdb.connect(str(db), read_only=True)  # a reader: the file cannot be opened to write
    try:
        with open_warehouse(db, read_only=True) as wh:
            assert wh.column_types("stories") == [("from_another_version", "INTEGER")]
    finally:
        other.close()


def _signature_table(db: Path) -> tuple[str, list[tuple[int, bytes]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        (sql,) = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'signatures'").fetchone() or ("",)
        return str(sql), con.execute("SELECT passage_id, minhash FROM signatures ORDER BY 1").fetchall()


def test_signatures_are_stored_uncompressed_and_an_older_file_is_rebuilt(built: dict[str, Any], tmp_path: Path) -> None:
    """Signatures are random bytes, which DuckDB's string compression only pays to try at every
    commit (migration 9): a new file declares them uncompressed, and a file from before migration 9
    has its table rebuilt at the first writer's open, the same rows, its key kept."""
    sql, rows = _signature_table(built["at_once"])
    assert "USING COMPRESSION Uncompressed" in sql and "PRIMARY KEY" in sql and rows
    db = _copy(built["at_once"], tmp_path)
    with duckdb.connect(str(db)) as con:  # as migrations 1-8 left it
        con.execute("CREATE TABLE old_signatures (passage_id BIGINT PRIMARY KEY, minhash BLOB NOT NULL)")
        con.execute("INSERT INTO old_signatures SELECT * FROM signatures")
        con.execute("DROP TABLE signatures; ALTER TABLE old_signatures RENAME TO signatures")
        con.execute("DELETE FROM schema_migrations WHERE version >= 9")
    assert "COMPRESSION" not in _signature_table(db)[0]
    open_warehouse(db, SETTINGS).close()
    assert _signature_table(db) == (sql, rows)


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_newer_schema_is_refused(tmp_path: Path, read_only: bool) -> None:
    db = tmp_path / "w.duckdb"
    open_warehouse(db, SETTINGS).close()
    con = duckdb.connect(str(db))
    con.execute(
        "INSERT INTO schema_migrations (version, name, duckdb_version) VALUES (?, 'from_the_future', '9.9.9')",
        [SCHEMA_VERSION + 1],
    )
    con.close()
    with pytest.raises(WarehouseError, match=rf"schema version {SCHEMA_VERSION + 1}, newer .*upgrade reusetrack"):
        open_warehouse(db, SETTINGS, read_only=read_only)
    # The refusal released the file: a plain DuckDB connection can still write to it.
    duckdb.connect(str(db)).close()


def test_newer_schema_opened_for_writing_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    open_warehouse(db, SETTINGS).close()
    con = duckdb.connect(str(db))
    con.execute(
        "INSERT INTO schema_migrations (version, name, duckdb_version) VALUES (?, 'rename_title', '9.9.9')",
        [SCHEMA_VERSION + 1],
    )
    con.execute("DROP VIEW pair_details")
    con.execute("DROP VIEW current_documents")
    con.execute("ALTER TABLE versions RENAME COLUMN title TO headline")  # what a newer schema might do
    views_before = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()
    con.close()
    with pytest.raises(WarehouseError, match="newer"):
        open_warehouse(db, SETTINGS)
    con = duckdb.connect(str(db), read_only=True)
    views_after = con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()
    con.close()
    assert views_after == views_before


def test_duckdb_memory_is_bounded_and_the_bound_can_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's default buffer pool (80% of the machine) would let an ingest grow with the warehouse."""
    db = tmp_path / "wh.duckdb"

    def limit() -> str:
        with open_warehouse(db) as wh:
            return str(wh.con.execute("SELECT current_setting('memory_limit')").fetchone()[0])

    monkeypatch.delenv("REUSETRACK_DUCKDB_MEMORY", raising=False)
    assert limit() == "953.6 MiB"  # 1 GB
    monkeypatch.setenv("REUSETRACK_DUCKDB_MEMORY", "3GB")
    assert limit() == "2.7 GiB"
    monkeypatch.setenv("REUSETRACK_DUCKDB_MEMORY", "lots")
    with pytest.raises(WarehouseError, match="REUSETRACK_DUCKDB_MEMORY='lots' is not a memory size"):
        open_warehouse(db)


def test_read_only_open_of_missing_file_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "missing.duckdb"
    with pytest.raises(WarehouseError, match="no warehouse at"):
        open_warehouse(db, SETTINGS, read_only=True)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(WarehouseError, match="does not exist"):
        open_warehouse(tmp_path / "no-such-folder" / "w.duckdb", SETTINGS)


def test_foreign_duckdb_file_read_only_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE sales (id INTEGER, amount DOUBLE)")
    con.close()
    with pytest.raises(WarehouseError, match="is not a reusetrack warehouse"):
        open_warehouse(db, SETTINGS, read_only=True)
    con = duckdb.connect(str(db), read_only=True)  # and it was left as it was
    assert con.execute("SELECT table_name FROM information_schema.tables").fetchall() == [("sales",)]
    con.close()


def test_file_that_is_not_duckdb_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "notes.duckdb"
    db.write_text("these are my notes, not a database\n" * 200, encoding="utf-8")
    for read_only in (False, True):
        with pytest.raises(WarehouseError, match="cannot open warehouse"):
            open_warehouse(db, SETTINGS, read_only=read_only)


def test_foreign_duckdb_file_opened_for_writing_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE documents (id INTEGER, body VARCHAR)")
    con.close()
    with pytest.raises(WarehouseError):
        open_warehouse(db, SETTINGS)


# -- 2. fingerprint settings ---------------------------------------------------------------------------


def test_first_open_records_the_fingerprint_settings(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with open_warehouse(db, SETTINGS) as wh:
        stats = wh.stats()
    assert stats["fingerprint_key"] == SETTINGS.fingerprint_key()
    assert stats["settings"] == SETTINGS.to_dict()
    with open_warehouse(db, read_only=True) as wh:  # no settings given: nothing to check
        _, meta = wh.query("SELECT key, value FROM meta ORDER BY key")
    assert dict(meta)["fingerprint_key"] == SETTINGS.fingerprint_key()
    assert dict(meta)["created_by_duckdb"] == duckdb.__version__


@pytest.mark.parametrize(
    "other",
    [Settings(num_perm=64), Settings(threshold=0.5), Settings(shingle_words=3), Settings(seed=2)],
    ids=["num_perm", "threshold", "shingle_words", "seed"],
)
@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_other_fingerprint_settings_are_refused(tmp_path: Path, other: Settings, read_only: bool) -> None:
    db = tmp_path / "w.duckdb"
    open_warehouse(db, SETTINGS).close()
    with pytest.raises(SettingsMismatch, match="other fingerprint settings"):
        open_warehouse(db, other, read_only=read_only)
    with open_warehouse(db, read_only=True) as wh:  # the file still belongs to the first settings
        assert wh.stats()["fingerprint_key"] == SETTINGS.fingerprint_key()


def test_settings_that_do_not_change_fingerprints_are_accepted_and_stored_per_run(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    loose = Settings(min_similarity=0.9, max_gap_tokens=5, min_match_tokens=20, verify_containment=0.5)
    assert loose.fingerprint_key() == SETTINGS.fingerprint_key()
    first = _ingest(db, DOCS[:3])
    second = _ingest(db, DOCS[3:6], settings=loose)
    with open_warehouse(db, loose, read_only=True) as wh:
        _, rows = wh.query("SELECT run_id, command, fingerprint_key, settings, stats, finished_at FROM runs ORDER BY 1")
        meta_settings = wh.stats()["settings"]
    assert [r[0] for r in rows] == [first.run_id, second.run_id]
    for (_, command, key, settings_json, stats_json, finished), used, report in zip(
        rows, (SETTINGS, loose), (first, second), strict=True
    ):
        assert command == "ingest"
        assert key == used.fingerprint_key()
        assert json.loads(settings_json) == used.to_dict()
        assert json.loads(stats_json) == report.counts()
        assert finished is not None
    assert meta_settings == SETTINGS.to_dict()  # the file's settings are those it was created with


# -- 3. the write lock -----------------------------------------------------------------------------------

_HOLDER = """
import sys
from reuse.config import Settings
from warehouse.db import open_warehouse
wh = open_warehouse(sys.argv[1], Settings())
print("ready", flush=True)
sys.stdin.read()
wh.close()
"""


@pytest.fixture()
def held(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A warehouse file held open for writing by another process, until the test ends."""
    db = tmp_path / "w.duckdb"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
        yield db, proc
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.mark.parametrize("read_only", [False, True], ids=["read-write", "read-only"])
def test_file_held_by_another_writer_raises_warehouse_locked(
    held: tuple[Path, subprocess.Popen[str]], read_only: bool
) -> None:
    db, _proc = held
    with pytest.raises(WarehouseLocked, match="being written by another process") as err:
        open_warehouse(db, SETTINGS, read_only=read_only)
    assert str(db) in str(err.value)
    assert isinstance(err.value.__cause__, duckdb.IOException)


def test_lock_is_released_when_the_holder_closes(held: tuple[Path, subprocess.Popen[str]]) -> None:
    db, proc = held
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    with open_warehouse(db, SETTINGS) as wh:
        assert wh.stats()["schema_version"] == SCHEMA_VERSION


def test_warehouse_locked_names_the_holder_pid(held: tuple[Path, subprocess.Popen[str]]) -> None:
    db, proc = held
    try:
        duckdb.connect(str(db)).close()
    except duckdb.IOException as raw:
        assert f"PID {proc.pid}" in str(raw)  # DuckDB does tell who holds the lock
    with pytest.raises(WarehouseLocked) as err:
        open_warehouse(db, SETTINGS)
    assert f"PID {proc.pid}" in str(err.value)


# -- 4. incremental ingest equals ingest at once, and equals datasketch's MinHashLSH ----------------------


def test_incremental_runs_store_what_one_run_stores(built: dict[str, Any]) -> None:
    reports: list[IngestReport] = built["reports"]
    whole: IngestReport = built["whole"]
    assert sum(r.ingested for r in reports) == whole.ingested == len(DOCS)
    assert sum(r.passages for r in reports) == whole.passages
    assert len({r.run_id for r in reports}) == 3

    inc, once = _counts(built["incremental"]), _counts(built["at_once"])
    assert inc["runs"] == 3
    assert once["runs"] == 1
    assert {k: v for k, v in inc.items() if k != "runs"} == {k: v for k, v in once.items() if k != "runs"}
    assert inc["documents"] == inc["versions"] == len(DOCS)
    assert inc["signatures"] == inc["passages"]
    # Every passage's main-family keys are stored, and the key families add more rows beside them.
    with open_warehouse(built["incremental"], SETTINGS, read_only=True) as wh:
        assert _main_band_rows(wh)[1] == inc["passages"] * band_params(SETTINGS)[0]
    assert inc["band_keys"] > inc["passages"] * band_params(SETTINGS)[0]

    with (
        open_warehouse(built["incremental"], SETTINGS, read_only=True) as a,
        open_warehouse(built["at_once"], SETTINGS, read_only=True) as b,
    ):
        assert _stored_band_keys(a) == _stored_band_keys(b)
        cand_a, cand_b = _named_pairs(a, _sql_candidate_ids(a)), _named_pairs(b, _sql_candidate_ids(b))
        assert cand_a == cand_b
        # What the engine matched on: the pairs its incremental candidate query proposed, run by run.
        assert _named_pairs(a, {(o, n) for o, _, n, _ in a.candidates(1).tolist()}) == cand_a
        assert sum(r.candidates for r in reports) == whole.candidates == len(cand_a)
        matches_a, matches_b = _matches(a), _matches(b)
        assert matches_a == matches_b
        _, pairs_a = a.query("SELECT count(*) FROM doc_pairs")
        assert pairs_a[0][0] == sum(r.pairs for r in reports) == whole.pairs


def test_the_signature_filter_changes_no_match(
    built: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filtering candidates by their signatures' estimated containment drops no match, whatever
    order the warehouse returns the stored signatures in."""
    unfiltered = Settings(candidate_filter=False)
    with open_warehouse(tmp_path / "unfiltered.duckdb", unfiltered) as wh:
        ingest(wh, DOCS, unfiltered)
    read = Warehouse.passage_signatures

    def reversed_rows(wh: Warehouse, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids, signatures, tokens = read(wh, passage_ids)
        return ids[::-1], signatures[::-1], tokens[::-1]

    monkeypatch.setattr(Warehouse, "passage_signatures", reversed_rows)
    with open_warehouse(tmp_path / "reversed.duckdb", SETTINGS) as wh:
        ingest(wh, DOCS, SETTINGS, batch_size=7)  # small batches: most candidates are stored passages
    with open_warehouse(built["at_once"], SETTINGS, read_only=True) as once:
        expected_keys, expected_matches = _stored_band_keys(once), _matches(once)
    for path in ("unfiltered.duckdb", "reversed.duckdb"):
        with open_warehouse(tmp_path / path, read_only=True) as wh:
            assert _stored_band_keys(wh) == expected_keys
            assert _matches(wh) == expected_matches, path


def test_the_places_aligned_are_the_positions_of_passages_that_share_a_band_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each candidate handed to the alignment, ``(position in old, position in new)`` of a pair of
    versions, names two passages holding one band key, whether the older passage was stored
    before its batch or is the batch's own (small batches: both)."""
    handed: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    grouped = ingest_module.Ingestor._grouped

    def kept(self: ingest_module.Ingestor, *args: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        handed.append(grouped(self, *args))
        return handed[-1]

    monkeypatch.setattr(ingest_module.Ingestor, "_grouped", kept)
    with open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh:
        ingest(wh, DOCS, SETTINGS, batch_size=5)
        _, shared = wh.query(
            "SELECT DISTINCT a.version_id, pa.position, b.version_id, pb.position"
            " FROM band_keys a JOIN band_keys b USING (key)"
            " JOIN passages pa ON pa.passage_id = a.passage_id JOIN passages pb ON pb.passage_id = b.passage_id"
            " WHERE a.passage_id < b.passage_id"
        )
    sharing = set(shared)
    places = [
        (int(va), int(p_old), int(vb), int(p_new))
        for pairs, starts, rows in handed
        for (va, vb), lo, hi in zip(pairs.tolist(), starts[:-1].tolist(), starts[1:].tolist(), strict=True)
        for p_old, p_new in rows[lo:hi].tolist()
    ]
    assert len(handed) > 1 and places
    assert set(places) <= sharing


@pytest.mark.parametrize("lookup_ids", [0, 10**9])
def test_stored_signatures_are_read_back_row_for_row(
    built: dict[str, Any], lookup_ids: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """passage_signatures, by a join or by primary keys: each row is the passage's stored blob
    and its token span, whatever the order the rows come in; no id, no row."""
    monkeypatch.setattr(db_module, "LOOKUP_IDS", lookup_ids)
    with open_warehouse(built["at_once"], SETTINGS, read_only=True) as wh:
        assert [len(column) for column in wh.passage_signatures(np.zeros(0, np.int64))] == [0, 0, 0]
        _, stored = wh.query(
            "SELECT passage_id, minhash, token_end - token_start FROM signatures JOIN passages USING (passage_id)"
        )
        wanted = np.array(sorted(p for p, _, _ in stored)[::3], dtype=np.int64)
        ids, signatures, tokens = wh.passage_signatures(wanted)
    expected = {int(p): (np.frombuffer(blob, "<u4"), int(t)) for p, blob, t in stored}
    assert sorted(ids.tolist()) == wanted.tolist()
    for k, passage in enumerate(ids.tolist()):
        assert np.array_equal(signatures[k], expected[passage][0]) and tokens[k] == expected[passage][1]


@given(st.integers(0, 30), st.integers(1, 12), st.booleans(), st.integers(0, 2**32 - 1))
def test_signature_column_holds_each_rows_little_endian_bytes(rows: int, width: int, strided: bool, seed: int) -> None:
    """The signatures' blobs, made over one buffer for a whole batch, are each row's values as
    little-endian uint32 bytes, as ``signatures.minhash`` holds them; a view is read as its values."""
    table = np.random.default_rng(seed).integers(0, 2**32, (rows, 2 * width if strided else width), dtype=np.uint32)
    view = table[:, ::2] if strided else table
    expected = [row.astype("<u4").tobytes() for row in view]
    column = ingest_module.signature_column(view)
    assert column.type == pa.binary() and column.to_pylist() == expected


@given(st.integers(0, 30), st.integers(1, 6), st.integers(1, 100))
def test_signature_blobs_are_chunks_of_whole_rows_under_the_blob_limit(rows: int, width: int, limit: int) -> None:
    """A batch whose blobs pass the 32-bit offsets' limit is cut into chunks of whole rows, each
    under the limit (at least one row a chunk), in order, of BLOB's own type (no cast)."""
    table = np.arange(rows * width, dtype=np.uint32).reshape(rows, width)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db_module, "BLOB_CHUNK_BYTES", limit)
        column = db_module.fixed_width_blobs(table)
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    assert column.type == pa.binary() and column.to_pylist() == [row.tobytes() for row in table]
    assert all(chunk.type == pa.binary() for chunk in chunks)
    assert all(len(chunk) == 1 or chunk.nbytes - 4 * (len(chunk) + 1) <= limit for chunk in chunks)
    if rows:  # the rows of no blobs have no width to read
        assert np.array_equal(fixed_width_rows(pa.chunked_array(chunks), np.dtype("<u4")), table)


def test_signature_blobs_in_chunks_are_stored_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch's blobs cut into chunks (see above) are stored as one column, in order."""
    table = np.arange(7 * 3, dtype=np.uint32).reshape(7, 3)
    monkeypatch.setattr(db_module, "BLOB_CHUNK_BYTES", 25)  # two rows of 12 bytes a chunk
    column = db_module.fixed_width_blobs(table)
    assert isinstance(column, pa.ChunkedArray) and column.num_chunks == 4
    with open_warehouse(":memory:", SETTINGS) as wh:
        wh.insert("signatures", {"passage_id": np.arange(7), "minhash": column})
        stored = wh.con.execute("SELECT minhash FROM signatures ORDER BY passage_id").fetchall()
    assert [blob for (blob,) in stored] == [row.tobytes() for row in table]


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_blobs_of_one_length_are_rows_whatever_their_chunks(kind: pa.DataType) -> None:
    """fixed_width_rows: chunks of either offset width, one of them a slice (an offset into its
    buffers), make one matrix in order."""
    rows = np.arange(24, dtype="<u4").reshape(6, 4)
    blobs = [row.tobytes() for row in rows]
    whole = pa.array([b"\0" * 16, *blobs[2:]], kind)
    column = pa.chunked_array([pa.array(blobs[:2], kind), whole.slice(1)])
    assert np.array_equal(fixed_width_rows(column, np.dtype("<u4")), rows)
    assert fixed_width_rows(pa.chunked_array([pa.array(blobs, kind)]), np.dtype("<u4")).shape == (6, 4)


def test_planted_reuse_is_found_and_unrelated_documents_match_nothing(built: dict[str, Any]) -> None:
    with open_warehouse(built["incremental"], SETTINGS, read_only=True) as wh:
        matched = _matched_url_pairs(wh)
    for kind in ("copy", "excerpt", "edited"):
        for copy, source in PLANTED[kind]:
            assert frozenset((copy, source)) in matched, (kind, copy, source)
    involved = {url for pair in matched for url in pair}
    assert not {d.url for d in DOCS if "/unrelated/" in d.url or "/cjk/" in d.url or "/short/" in d.url} & involved


def test_stored_candidates_equal_datasketch_minhashlsh_over_all_passages(built: dict[str, Any]) -> None:
    bands, rows = band_params(SETTINGS)
    hasher = MinHasher.from_settings(SETTINGS)
    for path in (built["incremental"], built["at_once"]):
        with open_warehouse(path, SETTINGS, read_only=True) as wh:
            _, sig_rows = wh.query(
                "SELECT s.passage_id, p.version_id, s.minhash FROM signatures s JOIN passages p USING (passage_id)"
                " ORDER BY 1"
            )
            ours = _sql_candidate_ids(wh, main_only=True)
            # The key families only add candidates to those of the bands.
            assert ours < _sql_candidate_ids(wh)
        assert len(sig_rows) > 200
        version_of = {int(pid): int(vid) for pid, vid, _ in sig_rows}
        lsh = MinHashLSH(threshold=SETTINGS.threshold, num_perm=SETTINGS.num_perm, params=(bands, rows))
        minhashes = {}
        for pid, _, blob in sig_rows:
            assert len(blob) == 4 * SETTINGS.num_perm
            minhashes[int(pid)] = hasher.to_datasketch(np.frombuffer(blob, dtype="<u4").astype(np.uint32))
        with lsh.insertion_session() as session:
            for pid, minhash in minhashes.items():
                session.insert(pid, minhash)
        theirs = {
            (min(pid, other), max(pid, other))
            for pid, minhash in minhashes.items()
            for other in lsh.query(minhash)
            if version_of[other] != version_of[pid]
        }
        # Meaningful only between "none" and "all": the planted copies give many, most pairs none.
        n = len(minhashes)
        assert 100 < len(ours) < n * (n - 1) // 20
        assert ours == theirs


# -- 5. re-ingest and new versions ----------------------------------------------------------------------


def _table_contents(path: Path) -> dict[str, Any]:
    with open_warehouse(path, read_only=True) as wh:
        out: dict[str, Any] = {}
        for table in TABLES:
            if table != "runs":
                _, rows = wh.query(f"SELECT * FROM {table} ORDER BY ALL")
                out[table] = rows
        return out


def test_reingesting_the_same_documents_changes_nothing(built: dict[str, Any], tmp_path: Path) -> None:
    db = _copy(built["incremental"], tmp_path)
    counts_before, contents_before = _counts(db), _table_contents(db)
    report = _ingest(db, DOCS, batch_size=7)
    assert report.unchanged == len(DOCS)
    assert (report.ingested, report.passages, report.candidates, report.matches, report.pairs) == (0, 0, 0, 0, 0)
    assert (report.skipped, report.failed, report.problems) == (0, 0, [])
    counts_after = _counts(db)
    assert counts_after == {**counts_before, "runs": counts_before["runs"] + 1}
    assert _table_contents(db) == contents_before


def test_changed_document_is_a_new_version_matched_against_the_others(built: dict[str, Any], tmp_path: Path) -> None:
    db = _copy(built["incremental"], tmp_path)
    copy_url, source_url = sorted(PLANTED["copy"])[0]
    source = next(d for d in DOCS if d.url == source_url)
    changed = Document(
        url=source.url,
        text=source.text + "\n\nA correction was added to this article on Friday, after readers wrote to us "
        "about the figures in the second paragraph, which we have now checked against the council minutes.",
        title=source.title,
        site=source.site,
    )
    before = _counts(db)
    with open_warehouse(db, SETTINGS) as wh:
        doc = wh.resolve_document(source.url)
        report = ingest(wh, [changed, *DOCS[:5]], SETTINGS, batch_size=3)
    assert (report.ingested, report.unchanged) == (1, 5)
    assert report.matches > 0
    after = _counts(db)
    assert after["documents"] == before["documents"]
    assert after["versions"] == before["versions"] + 1

    with open_warehouse(db, SETTINGS, read_only=True) as wh:
        current = wh.resolve_document(source.url)
        assert current.doc_id == doc.doc_id
        assert current.version_id > doc.version_id
        # The old and the new version share band keys (so the engine saw them as candidates) ...
        _, shared = wh.query(
            "SELECT count(*) FROM band_keys x JOIN band_keys y ON x.key = y.key"
            " WHERE x.version_id = ? AND y.version_id = ?",
            [doc.version_id, current.version_id],
        )
        assert shared[0][0] > 0
        # ... but two versions of one document never match, anywhere in the warehouse.
        for table in ("matches", "doc_pairs"):
            _, same_doc = wh.query(
                f"SELECT count(*) FROM {table} t JOIN versions va ON va.version_id = t.version_a"
                " JOIN versions vb ON vb.version_id = t.version_b WHERE va.doc_id = vb.doc_id"
            )
            assert same_doc[0][0] == 0, table
        # The new version was matched against the copy stored in an earlier run.
        _, new = wh.query(
            "SELECT url_a, url_b, run_id FROM match_details JOIN matches USING (match_id)"
            " WHERE ? IN (match_details.version_a, match_details.version_b)",
            [current.version_id],
        )
        assert {frozenset((a, b)) for a, b, _ in new} >= {frozenset((copy_url, source_url))}
        assert {run for *_, run in new} == {report.run_id}
        _, doc_matches = wh.document_matches(source.url)
        assert copy_url in {m["other_url"] for m in doc_matches}


# -- 6. nothing committed is lost --------------------------------------------------------------------------


def _with_copy_in_first_batch(batch_size: int) -> list[Document]:
    """Documents whose first batch holds a planted copy and its source, so it commits matches."""
    copy_url, source_url = sorted(PLANTED["copy"])[1]
    first = [d for d in DOCS if d.url in (copy_url, source_url)]
    rest = [d for d in DOCS if d.url not in (copy_url, source_url)]
    assert batch_size > len(first) == 2
    return first + rest


def test_exception_in_the_items_keeps_every_committed_batch(tmp_path: Path) -> None:
    batch_size = 5
    docs = _with_copy_in_first_batch(batch_size)

    def items() -> Iterator[Document]:
        yield from docs[: batch_size + 2]  # the first batch, and part of the second
        raise RuntimeError("reader crashed")

    db = tmp_path / "w.duckdb"
    with pytest.raises(RuntimeError, match="reader crashed"), open_warehouse(db, SETTINGS) as wh:
        ingest(wh, items(), SETTINGS, batch_size=batch_size)
    assert not Path(f"{db}.wal").exists()

    reference = tmp_path / "reference.duckdb"
    expected = _ingest(reference, docs[:batch_size])
    assert expected.matches > 0
    counts = _counts(db)
    assert counts["versions"] == counts["documents"] == batch_size
    # Lineage is rebuilt when a run ends, so a crashed run leaves it to the next one.
    later = {"runs", "reuse_edges", "lineage_stories"}
    assert {k: v for k, v in counts.items() if k not in later} == {
        k: v for k, v in _counts(reference).items() if k not in later
    }
    with (
        open_warehouse(db, SETTINGS, read_only=True) as wh,
        open_warehouse(reference, SETTINGS, read_only=True) as ref,
    ):
        assert _matches(wh) == _matches(ref)
        assert _stored_band_keys(wh) == _stored_band_keys(ref)
        _, texts = wh.query("SELECT d.url, v.text FROM versions v JOIN documents d USING (doc_id)")
        assert dict(texts) == {d.url: d.text for d in docs[:batch_size]}
        _, runs = wh.query("SELECT finished_at, stats FROM runs")
        assert runs == [(None, None)]  # the interrupted run is recorded as unfinished


def test_failure_inside_a_batch_rolls_back_that_batch_only(tmp_path: Path) -> None:
    batch_size = 4
    docs = _with_copy_in_first_batch(batch_size)
    # The second batch's last document cannot be stored (a date that is no date, refused as the
    # versions column's type): its batch fails inside the transaction, after its documents rows
    # were inserted.
    broken = Document(url="https://broken.example/x", text=docs[0].text, published="not a date")  # type: ignore[arg-type]
    items = [*docs[:batch_size], *docs[batch_size : 2 * batch_size - 1], broken, *docs[2 * batch_size :]]
    db = tmp_path / "w.duckdb"
    with pytest.raises(WarehouseError, match="cannot load versions"), open_warehouse(db, SETTINGS) as wh:
        ingest(wh, items, SETTINGS, batch_size=batch_size)
    assert not Path(f"{db}.wal").exists()
    counts = _counts(db)
    assert counts["documents"] == counts["versions"] == batch_size
    assert counts["matches"] > 0
    with open_warehouse(db, SETTINGS, read_only=True) as wh:
        _, urls = wh.query("SELECT url FROM documents")
        assert {u for (u,) in urls} == {d.url for d in docs[:batch_size]}
        _, orphans = wh.query(
            "SELECT (SELECT count(*) FROM passages WHERE version_id NOT IN (SELECT version_id FROM versions))"
            " + (SELECT count(*) FROM signatures WHERE passage_id NOT IN (SELECT passage_id FROM passages))"
            " + (SELECT count(*) FROM band_keys WHERE passage_id NOT IN (SELECT passage_id FROM passages))"
            " + (SELECT count(*) FROM matches WHERE version_b NOT IN (SELECT version_id FROM versions))"
        )
        assert orphans[0][0] == 0


def test_closing_leaves_no_wal(built: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    _ingest(db, DOCS[:6])
    assert db.exists()
    assert not Path(f"{db}.wal").exists()
    assert not Path(f"{built['incremental']}.wal").exists()


# -- 7. bulk loads -----------------------------------------------------------------------------------------


class _SpyConnection:
    """A real DuckDB connection that records the statements made through it, and the Arrow tables
    each could read by name (those :func:`execute_with` gave it)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        # The statement is run from this spy's frame: DuckDB must look further up for its tables.
        con.execute("SET python_scan_all_frames = true")
        self.statements: list[str] = []
        self.scanned: list[tuple[str, int]] = []

    def execute(self, sql: str, *args: Any) -> Any:
        self.statements.append(sql)
        names = sys._getframe(1).f_locals  # execute_with's namespace, when it runs the statement
        self.scanned += [(name, table.num_rows) for name, table in names.items() if isinstance(table, pa.Table)]
        return self._con.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:  # row-by-row loading: must not happen
        raise AssertionError(f"executemany used: {sql}")

    def register(self, name: str, table: Any) -> Any:  # a change of the catalog per table: must not happen
        raise AssertionError(f"register used: {name}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _spied(db: Path) -> tuple[Warehouse, _SpyConnection]:
    wh = open_warehouse(db, SETTINGS)
    spy = _SpyConnection(wh.con)
    return Warehouse(spy, wh.path), spy  # type: ignore[arg-type]


def test_insert_loads_100k_rows_with_one_statement_through_arrow(tmp_path: Path) -> None:
    wh, spy = _spied(tmp_path / "w.duckdb")
    n = 100_000
    keys = np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    with wh:
        with wh.transaction():
            wh.insert(
                "band_keys",
                {
                    "key": pa.array(keys),
                    "passage_id": pa.array(np.arange(n, dtype=np.int64)),
                    "version_id": [k // 10 for k in range(n)],  # a plain list is converted too
                },
            )
        inserts = [s for s in spy.statements if s.lstrip().upper().startswith("INSERT")]
        assert inserts == ["INSERT INTO band_keys (key, passage_id, version_id) "
                           "SELECT key, passage_id, version_id FROM incoming_band_keys"]  # fmt: skip
        assert spy.scanned == [("incoming_band_keys", n)]
        _, rows = wh.query("SELECT count(*), sum(passage_id), max(version_id), bit_xor(key) FROM band_keys")
        assert rows[0][:3] == (n, n * (n - 1) // 2, (n - 1) // 10)
        assert rows[0][3] == int(np.bitwise_xor.reduce(keys))
        with pytest.raises(duckdb.CatalogException):  # nothing was registered: the name reads nothing
            wh.con.execute("SELECT count(*) FROM incoming_band_keys").fetchall()
        issued = len(spy.statements)
        wh.insert("matches", {"match_id": []})  # nothing to load: no statement at all
        assert len(spy.statements) == issued


def test_ingest_issues_a_bounded_number_of_bulk_statements_per_batch(tmp_path: Path) -> None:
    wh, spy = _spied(tmp_path / "w.duckdb")
    with wh:
        report = ingest(wh, DOCS, SETTINGS, batch_size=len(DOCS))
    assert report.ingested == len(DOCS)
    assert report.matches > 0
    inserts = [s for s in spy.statements if s.lstrip().upper().startswith("INSERT")]
    # One statement per table for the whole batch (documents, versions, passages, signatures, band
    # keys, blocks, matches, doc pairs), one per lineage table for the run, and the run row: the count
    # does not grow with the rows.
    tables = [sql.split()[2] for sql in inserts]
    assert len(tables) == len(set(tables)) <= 16, tables
    for sql in inserts:
        table = sql.split()[2]
        if table in ("runs", "site_boilerplate"):  # learned boilerplate: INSERT ... SELECT over the blocks
            continue
        assert f"FROM incoming_{table}" in sql, sql
    loaded = dict(spy.scanned)
    counts = _counts(tmp_path / "w.duckdb")
    for table in ("documents", "versions", "passages", "signatures", "band_keys", "matches", "doc_pairs"):
        assert loaded[f"incoming_{table}"] == counts[table] > 0


def test_a_run_records_itself_in_its_first_transaction(tmp_path: Path) -> None:
    """A run's row is written in the first transaction of it that commits, not in one of its own:
    a run of one article commits twice (its batch, then its lineage with its end), and its row
    says it finished; so does a run that stores nothing new. An interrupted run that committed
    nothing is recorded too, unfinished."""
    wh, spy = _spied(tmp_path / "w.duckdb")
    with wh:
        for expected_run in (1, 2):  # the second reads the same document: nothing new is stored
            before = len(spy.statements)
            report = ingest(wh, DOCS[:1], SETTINGS)
            commits = [s for s in spy.statements[before:] if s.strip().upper() == "COMMIT"]
            assert (report.run_id, len(commits)) == (expected_run, 2)
        stop = threading.Event()
        stop.set()
        assert ingest(wh, DOCS[1:2], SETTINGS, stop=stop).interrupted
        _, runs = wh.query("SELECT run_id, finished_at IS NOT NULL, stats IS NOT NULL FROM runs ORDER BY run_id")
    assert runs == [(1, True, True), (2, True, True), (3, False, False)]


def test_a_copy_joining_a_story_changes_the_catalog_only_to_keep_its_edits(
    built: dict[str, Any], tmp_path: Path
) -> None:
    """The lineage update of a copy that joins a stored story reads the story's ids and hands
    them to its deletes as values: the one temporary table it makes holds the edges' edits
    kept for the rebuilt story (each table made and dropped is two changes of the catalog)."""
    from warehouse.lineage import story_of

    db = _copy(built["incremental"], tmp_path)
    _, source_url = sorted(PLANTED["copy"])[0]
    source = next(d for d in DOCS if d.url == source_url)
    copy = Document(url="https://another.example/copy", text=source.text, site="another.example")
    wh, spy = _spied(db)
    with wh:
        before = story_of(wh, wh.resolve_document(source_url).doc_id)
        ingest(wh, [copy], SETTINGS)
        after = story_of(wh, wh.resolve_document(source_url).doc_id)
        joined = story_of(wh, wh.resolve_document(copy.url).doc_id)
    assert before is not None and joined == after is not None
    made = [s.split(" AS ")[0] for s in spy.statements if s.lstrip().upper().startswith(("CREATE", "DROP"))]
    assert made == ["CREATE OR REPLACE TEMP TABLE kept_edits", "DROP TABLE IF EXISTS kept_edits"]


# -- 8. the views ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_new_versions(built: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The incremental warehouse after two documents changed (so old versions exist)."""
    db = _copy(built["incremental"], tmp_path_factory.mktemp("versions"))
    sources = sorted(source for _, source in PLANTED["copy"])[:2]
    changed = [
        Document(url=d.url, text=d.text + "\n\nUpdate: " + d.text.split("\n\n")[0][::-1], title="v2", site=d.site)
        for d in DOCS
        if d.url in sources
    ]
    when = datetime(2024, 5, 1, tzinfo=UTC)
    changed.append(Document(url="https://new.example/dated", text=DOCS[0].text, title="Dated", published=when))
    report = _ingest(db, changed)
    assert report.ingested == 3
    return db


def test_current_documents_has_one_row_per_document_with_its_latest_version(with_new_versions: Path) -> None:
    with open_warehouse(with_new_versions, read_only=True) as wh:
        _, current = wh.query("SELECT doc_id, url, version_id, title, chars, tokens, state FROM current_documents")
        _, latest = wh.query(
            "SELECT d.doc_id, d.url, max(v.version_id) FROM documents d JOIN versions v USING (doc_id) GROUP BY ALL"
        )
        _, versions = wh.query("SELECT version_id, title, text, chars, state FROM versions")
        _, multi = wh.query("SELECT count(*) FROM (SELECT doc_id FROM versions GROUP BY doc_id HAVING count(*) > 1)")
    assert multi[0][0] == 2
    assert len(current) == len({row[0] for row in current}) == len(DOCS) + 1
    assert {(d, u, v) for d, u, v, *_ in current} == {(d, u, v) for d, u, v in latest}
    by_version = {v: (title, text, chars, state) for v, title, text, chars, state in versions}
    for _, url, version_id, title, chars, _, state in current:
        v_title, text, _, v_state = by_version[version_id]
        assert (title, chars, state) == (v_title, len(text), v_state)
        if "/short/" in url:
            assert state == "too_short"
        if title == "v2":
            assert "\n\nUpdate: " in text


def test_match_details_texts_are_the_versions_text_at_the_offsets(with_new_versions: Path) -> None:
    with open_warehouse(with_new_versions, read_only=True) as wh:
        _, texts = wh.query("SELECT v.version_id, d.url, v.text FROM versions v JOIN documents d USING (doc_id)")
        _, rows = wh.query(
            "SELECT match_id, url_a, version_a, a_start, a_end, text_a, url_b, version_b, b_start, b_end, text_b"
            " FROM match_details"
        )
        _, n_matches = wh.query("SELECT count(*) FROM matches")
    version = {v: (url, text) for v, url, text in texts}
    assert len(rows) == n_matches[0][0] > 10
    non_ascii = 0
    for _, url_a, va, a0, a1, text_a, url_b, vb, b0, b1, text_b in rows:
        assert va < vb
        assert 0 <= a0 < a1 <= len(version[va][1])
        assert 0 <= b0 < b1 <= len(version[vb][1])
        assert (url_a, text_a) == (version[va][0], version[va][1][a0:a1])
        assert (url_b, text_b) == (version[vb][0], version[vb][1][b0:b1])
        non_ascii += not (text_a + text_b).isascii()
    assert non_ascii > 0  # offsets were checked on text beyond ASCII (combining marks, emoji)


def test_pair_details_are_the_doc_pairs_of_current_versions(with_new_versions: Path) -> None:
    with open_warehouse(with_new_versions, read_only=True) as wh:
        _, details = wh.query(
            "SELECT version_a, version_b, doc_a, url_a, doc_b, url_b, matches, shared_chars_a, shared_chars_b,"
            " coverage_a, coverage_b, longest_chars, in_order, published_a, published_b FROM pair_details"
        )
        _, pairs = wh.query(
            "SELECT version_a, version_b, matches, shared_chars_a, shared_chars_b, coverage_a, coverage_b,"
            " longest_chars, in_order FROM doc_pairs"
        )
        _, current = wh.query("SELECT version_id, doc_id, url, published_at FROM current_documents")
        _, match_counts = wh.query("SELECT version_a, version_b, count(*) FROM matches GROUP BY ALL")
        listed = wh.document_pairs()
    cur = {v: (d, u, p) for v, d, u, p in current}
    stored = {(va, vb): rest for va, vb, *rest in pairs}
    assert {(va, vb): n for va, vb, n in match_counts} == {k: v[0] for k, v in stored.items()}
    expected_keys = {k for k in stored if k[0] in cur and k[1] in cur}
    assert len(expected_keys) < len(stored)  # some pairs involve replaced versions: hidden here
    assert {(r[0], r[1]) for r in details} == expected_keys
    assert len(details) == len(expected_keys) == len(listed)
    dated = 0
    for va, vb, doc_a, url_a, doc_b, url_b, *numbers, pub_a, pub_b in details:
        assert (doc_a, url_a, pub_a) == cur[va]
        assert (doc_b, url_b, pub_b) == cur[vb]
        assert doc_a != doc_b
        assert tuple(numbers) == tuple(stored[(va, vb)])
        dated += pub_a is not None or pub_b is not None
    assert dated > 0


def test_an_ingest_forgets_its_recent_comparables_before_its_lineage_update(tmp_path: Path) -> None:
    """The comparables kept for matching (up to 384 MB) are of no use to the lineage update that
    ends a run, which is its memory peak: they are forgotten when the batches are stored."""
    from unittest.mock import patch

    import reuse.pipeline.ingest as ingest_pipeline

    caches: list[ingest_pipeline.RecentComparables] = []
    real_init = ingest_pipeline.RecentComparables.__init__
    real_update = ingest_pipeline.update_lineage
    kept_while_matching: list[int] = []
    kept_at_lineage: list[int] = []

    def init(self: ingest_pipeline.RecentComparables, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        caches.append(self)

    def update(*args: Any, **kwargs: Any) -> object:
        kept_at_lineage.extend(cache.bytes + len(cache.items) for cache in caches)
        return real_update(*args, **kwargs)

    real_match = ingest_pipeline.Ingestor._match

    def match(self: ingest_pipeline.Ingestor, *args: Any, **kwargs: Any) -> None:
        real_match(self, *args, **kwargs)
        kept_while_matching.append(self.recent.bytes)

    docs = _with_copy_in_first_batch(3)
    with (
        patch.object(ingest_pipeline.RecentComparables, "__init__", init),
        patch.object(ingest_pipeline, "update_lineage", update),
        patch.object(ingest_pipeline.Ingestor, "_match", match),
        open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh,
    ):
        report = ingest(wh, docs, SETTINGS, batch_size=3)
    assert report.matches > 0 and max(kept_while_matching) > 0  # matching kept some
    assert len(caches) == 1 and kept_at_lineage == [0]


@pytest.mark.parametrize("crash", [False, True])
def test_a_run_spaces_cyclic_collections_and_restores_the_thresholds(tmp_path: Path, crash: bool) -> None:
    """While a run reads, stores and updates lineage, young collections wait for
    ``RUN_GC_THRESHOLD`` allocations; the thresholds are as they were once it ends, whether it
    ended well or its reader failed."""
    import gc
    from unittest.mock import patch

    docs = _with_copy_in_first_batch(3)
    seen: list[int] = []
    real_update = ingest_module.update_lineage

    def items() -> Iterator[Document]:
        for doc in docs:
            seen.append(gc.get_threshold()[0])
            yield doc
        if crash:
            raise RuntimeError("reader crashed")

    def update(*args: Any, **kwargs: Any) -> object:
        seen.append(gc.get_threshold()[0])
        return real_update(*args, **kwargs)

    before = gc.get_threshold()
    gc.set_threshold(700, *before[1:])  # the interpreter's default, whatever a test set before
    try:
        with (
            patch.object(ingest_module, "update_lineage", update),
            open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh,
            pytest.raises(RuntimeError) if crash else nullcontext(),
        ):
            ingest(wh, items(), SETTINGS, batch_size=3)
        assert gc.get_threshold() == (700, *before[1:])
    finally:
        gc.set_threshold(*before)
    assert len(seen) == len(docs) + (0 if crash else 1)
    assert set(seen) == {ingest_module.RUN_GC_THRESHOLD}


# -- batches ------------------------------------------------------------------------------------


def _batch_items(lengths: list[int | None]) -> list[Document | InputError]:
    """Documents of the given text lengths, an unreadable item for each None."""
    return [
        InputError(f"bad-{k}", "unreadable") if n is None else Document(url=f"https://t.example/{k}", text="x" * n)
        for k, n in enumerate(lengths)
    ]


def _text(batch: list[Document | InputError]) -> int:
    return sum(len(item.text) for item in batch if isinstance(item, Document))


@given(
    lengths=st.lists(st.one_of(st.none(), st.integers(1, 50)), max_size=40),
    size=st.integers(1, 8),
    chars=st.integers(1, 120),
)
def test_batches_end_at_their_document_cap_or_their_text_budget(
    lengths: list[int | None], size: int, chars: int
) -> None:
    items = _batch_items(lengths)
    batches = list(_batched(items, size, chars, StageClock()))
    assert [item for batch in batches for item in batch] == items  # each item once, in order
    for batch in batches:
        assert 0 < len(batch) <= size
        assert _text(batch[:-1]) < chars  # only a batch's last item takes it to the budget
    for batch in batches[:-1]:
        assert len(batch) == size or _text(batch) >= chars  # a batch ends early only at the budget


@given(
    lengths=st.lists(st.one_of(st.none(), st.integers(1, 50)), max_size=60),
    size=st.integers(1, 8),
    chars=st.integers(1, 120),
    scales=st.lists(st.floats(1.0, 3.0), min_size=1, max_size=5),
)
def test_batches_grow_once_they_reach_the_base_limits_by_what_growth_says_of_the_text_before(
    lengths: list[int | None], size: int, chars: int, scales: list[float]
) -> None:
    items = _batch_items(lengths)
    asked: list[int] = []

    def growth(read: int) -> float:
        asked.append(read)
        return scales[read % len(scales)]

    batches = list(_batched(items, size, chars, StageClock(), growth))
    assert [item for batch in batches for item in batch] == items
    read, expected_asks = 0, []
    for k, batch in enumerate(batches):
        reached = len(batch) >= size or _text(batch) >= chars  # the base limits
        cap, budget = size, chars
        if reached:
            expected_asks.append(read)
            scale = scales[read % len(scales)]
            cap, budget = round(size * scale), round(chars * scale)
        assert 0 < len(batch) <= cap
        assert _text(batch[:-1]) < budget
        if k < len(batches) - 1:
            assert len(batch) == cap or _text(batch) >= budget
        read += _text(batch)
    assert asked == expected_asks  # once a batch that reaches the base limits, with the text before it


def test_batch_growth_keeps_a_batch_times_the_stored_text_within_its_room() -> None:
    """Larger batches only while the warehouse is small: a grown batch's text times the stored
    text stays within ``BATCH_CHARS * GROWTH_TEXT``; growth falls as the text grows, 1 to 2."""
    stored = [0, 1, 10**6, 30 * 10**6, 59 * 10**6, 60 * 10**6, 61 * 10**6, 90 * 10**6, 119 * 10**6, 10**9]
    growths = [ingest_module.batch_growth(n) for n in stored]
    assert growths[0] == ingest_module.MAX_GROWTH and growths[-1] == 1.0
    assert all(a >= b for a, b in itertools.pairwise(growths))
    for n, g in zip(stored, growths, strict=True):
        assert 1.0 <= g <= ingest_module.MAX_GROWTH
        if g > 1.0:
            assert g * n <= ingest_module.GROWTH_TEXT * (1 + 1e-9)  # BATCH_CHARS * g * n within the room


def _batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches ingests prepare from now on, in order (a list that fills)."""
    sizes: list[int] = []
    prepare = ingest_module.Ingestor.prepare

    def counted(self: ingest_module.Ingestor, items: list[Document | InputError], progress: Any) -> Any:
        sizes.append(len(items))
        return prepare(self, items, progress)

    monkeypatch.setattr(ingest_module.Ingestor, "prepare", counted)
    return sizes


def test_an_ingest_grows_its_batches_while_the_warehouse_is_small_and_never_asks_for_one_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Default limits: the first batch of an empty warehouse holds twice the default documents;
    with the warehouse's text past ``GROWTH_TEXT`` it holds the default; a given batch size is
    kept as given; a run of one article reads nothing to know."""
    monkeypatch.setattr(ingest_module, "BATCH_DOCUMENTS", 3)
    sizes = _batch_sizes(monkeypatch)
    db = tmp_path / "w.duckdb"
    with open_warehouse(db, SETTINGS) as wh:
        ingest(wh, DOCS[:8], SETTINGS)
        assert sizes == [6, 2]  # an empty warehouse: twice the default
        stored = wh.stored_text()
        assert stored == sum(len(d.text) for d in DOCS[:8])
        sizes.clear()
        monkeypatch.setattr(ingest_module, "GROWTH_TEXT", stored)  # the warehouse is now large
        ingest(wh, DOCS[8:16], SETTINGS)
        assert sizes == [3, 3, 2]
        sizes.clear()
        ingest(wh, DOCS[16:24], SETTINGS, batch_size=4)
        assert sizes == [4, 4]

        def unasked() -> int:
            raise AssertionError("a run of one article read the warehouse's text")

        monkeypatch.setattr(wh, "stored_text", unasked)
        sizes.clear()
        ingest(wh, DOCS[24:25], SETTINGS)
        assert sizes == [1]


def test_an_ingest_batches_by_text_with_the_results_of_one_batch(
    built: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long documents fill a batch's text budget before its document cap: the run stores the
    corpus in several batches and finds what one batch of all of it finds."""
    monkeypatch.setattr(ingest_module, "BATCH_CHARS", sum(len(d.text) for d in DOCS) // 4)
    sizes = _batch_sizes(monkeypatch)
    _ingest(tmp_path / "w.duckdb", DOCS, batch_size=len(DOCS))
    assert sum(sizes) == len(DOCS) and 4 <= len(sizes) <= 5
    with (
        open_warehouse(tmp_path / "w.duckdb", SETTINGS, read_only=True) as wh,
        open_warehouse(built["at_once"], SETTINGS, read_only=True) as ref,
    ):
        assert _matches(wh) == _matches(ref)
        assert _stored_band_keys(wh) == _stored_band_keys(ref)


def test_a_batch_analysed_before_the_batch_that_stores_one_of_its_documents_stores_the_rest_alike(
    built: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch is analysed, and its rows built, while the batch before it is stored: a document
    of it that batch stored meanwhile (the same URL and text) is counted unchanged when its turn
    comes, and the others' rows are built again without it: the warehouse holds what one batch
    of the corpus gives (matches, band keys, blocks)."""

    def blocks(wh: Warehouse) -> set[tuple[Any, ...]]:
        sql = (
            "SELECT d.url, b.position, b.char_start, b.char_end, b.text_hash FROM blocks b"
            " JOIN versions v USING (version_id) JOIN documents d USING (doc_id)"
        )
        return set(wh.query(sql)[1])

    monkeypatch.setattr(ingest_module, "first_of_each_url", lambda items: items)  # let the repeat through
    report = _ingest(tmp_path / "w.duckdb", [*DOCS[:5], DOCS[3], *DOCS[5:]], batch_size=5)
    assert (report.ingested, report.unchanged) == (len(DOCS), 1)
    with (
        open_warehouse(tmp_path / "w.duckdb", SETTINGS, read_only=True) as wh,
        open_warehouse(built["at_once"], SETTINGS, read_only=True) as ref,
    ):
        assert _matches(wh) == _matches(ref)
        assert _stored_band_keys(wh) == _stored_band_keys(ref)
        assert blocks(wh) == blocks(ref) and len(blocks(ref)) > len(DOCS)


@pytest.mark.parametrize("listed", [10**6, 0])
def test_a_query_reads_its_values_as_a_list_of_parameters_or_an_arrow_table_alike(
    listed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rows_with_values: the same rows whether the values come as ``IN`` lists of parameters or
    as an Arrow table, for integers and strings, with the statement's own parameters before,
    between and after its membership tests, in a statement with its own WITH, with no values at
    all; a DELETE deletes the same rows; nothing is left in the catalog; a statement without the
    membership test, or given the wrong number of parameters, is refused."""
    monkeypatch.setattr(db_module, "LISTED_VALUES", listed)
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE t AS SELECT range AS id, 'site-' || (range % 5) AS site FROM range(100)")
    ids = [3, 7, 50, 99]
    twice = (
        "SELECT t.id FROM t WHERE t.id > ? AND t.id IN (SELECT id FROM w) AND t.id < ?"
        " AND t.id + ? IN (SELECT id FROM w) ORDER BY 1"
    )
    assert rows_with_values(con, "w", "id", ids, twice, [5, 99, 0]) == [(7,), (50,)]
    with_own = "WITH big AS (SELECT id FROM t WHERE id >= ?) SELECT count(*) FROM big WHERE id IN (SELECT id FROM w)"
    assert rows_with_values(con, "w", "id", ids, with_own, [10]) == [(2,)]
    sites = "SELECT count(*) FROM t WHERE site IN (SELECT site FROM s)"
    assert rows_with_values(con, "s", "site", ["site-1", "site-4"], sites) == [(40,)]
    none = "SELECT count(*) FILTER (id IN (SELECT id FROM w)), count(*) FILTER (id NOT IN (SELECT id FROM w)) FROM t"
    assert rows_with_values(con, "w", "id", [], none) == [(0, 100)]
    rows_with_values(con, "gone", "id", ids, "DELETE FROM t WHERE id IN (SELECT id FROM gone)")
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(96,)]
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchall() == [(0,)]
    with pytest.raises(ValueError, match="membership"):
        rows_with_values(con, "w", "id", ids, "SELECT t.id FROM t JOIN w USING (id)")
    with pytest.raises(ValueError, match="parameters"):
        rows_with_values(con, "w", "id", ids, twice, [5])


def test_a_statement_reads_arrow_tables_by_name_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """execute_with: each table given (an Arrow table or columns) is read by its name, in a
    transaction too, beside the statement's own parameters; the catalog is never changed, so
    nothing is left to read after the statement, even when it fails; the names the helper uses
    itself are refused."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t (id BIGINT, site VARCHAR)")
    catalog = "SELECT count(*) FROM duckdb_views() WHERE NOT internal UNION ALL SELECT count(*) FROM duckdb_tables()"
    before = con.execute(catalog).fetchall()
    rows = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "site": ["a", "b", "a"]})
    con.execute("BEGIN")
    execute_with(con, "INSERT INTO t SELECT id, site FROM incoming", incoming=rows)
    got = execute_with(
        con,
        "SELECT t.id FROM t JOIN keep USING (site) WHERE t.id >= ?"
        " AND t.id NOT IN (SELECT id FROM drop_ids) ORDER BY 1",
        [2],
        keep={"site": ["a"]},
        drop_ids={"id": pa.array([], pa.int64())},
    ).fetchall()
    con.execute("COMMIT")
    assert got == [(3,)]
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(3,)]
    with pytest.raises(duckdb.BinderException):
        execute_with(con, "SELECT no_such_column FROM incoming", incoming=rows)
    for name in ("incoming", "keep"):
        with pytest.raises(duckdb.CatalogException):
            con.execute(f"SELECT * FROM {name}").fetchall()
    assert con.execute(catalog).fetchall() == before
    with pytest.raises(ValueError, match="params"):
        execute_with(con, "SELECT * FROM params", params={"x": [1]})


def test_meta_records_are_written_in_place_and_rolled_back_with_their_transaction(tmp_path: Path) -> None:
    """write_meta adds a record, then updates it in place (one row a key); a rolled-back write
    leaves the value before it. No code replaces a meta row (a delete and an insert through the
    key's index, 3 ms a record on a warehouse file)."""
    from warehouse.meta import read_meta, write_meta

    with open_warehouse(tmp_path / "m.duckdb", SETTINGS) as wh:
        assert read_meta(wh.con, "test_record") is None
        write_meta(wh.con, "test_record", "one")
        write_meta(wh.con, "test_record", "two")
        assert read_meta(wh.con, "test_record") == "two"
        assert wh.con.execute("SELECT count(*) FROM meta WHERE key = 'test_record'").fetchall() == [(1,)]
        with pytest.raises(RuntimeError), wh.transaction():
            write_meta(wh.con, "test_record", "three")
            write_meta(wh.con, "other_record", "x")
            raise RuntimeError
        assert (read_meta(wh.con, "test_record"), read_meta(wh.con, "other_record")) == ("two", None)
    root = Path(__file__).resolve().parents[1]
    sources = [p for d in ("reuse", "warehouse", "crawlers") for p in (root / d).rglob("*.py")]
    assert not [p.name for p in sources if "OR REPLACE INTO meta" in p.read_text(encoding="utf-8")]


def test_a_large_band_key_insert_skips_bitpacking_and_restores_the_setting(tmp_path: Path) -> None:
    """A band-key insert of a row group or more stores its rows as given, its full row groups
    without bitpacking, and leaves DuckDB's compression setting as it found it, after a failed
    insert too (which raises its own error, not the refused reset's)."""
    rows = 2 * db_module.ROW_GROUP_ROWS
    rng = np.random.default_rng(5)
    # Ids that bitpacking would take (no runs) beside random keys that nothing compresses.
    columns = {
        "key": rng.integers(0, 2**64 - 1, rows, dtype=np.uint64),
        "passage_id": rng.integers(0, 1000, rows),
        "version_id": rng.integers(0, 1000, rows),
    }

    def setting(wh: Warehouse) -> str:
        return str(wh.con.execute("SELECT current_setting('disabled_compression_methods')").fetchall()[0][0])

    with open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh:
        with wh.transaction():
            wh.insert("band_keys", columns)
        assert setting(wh) == ""
        stored = wh.con.execute("SELECT key, passage_id, version_id FROM band_keys").fetchnumpy()
        for name, values in columns.items():
            assert np.array_equal(np.asarray(stored[name]), values), name
        wh.con.execute("CHECKPOINT")
        methods = wh.con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('band_keys') WHERE segment_type <> 'VALIDITY'"
        ).fetchall()
        assert ("BitPacking",) not in methods
        with pytest.raises(duckdb.ConstraintException), wh.transaction():
            wh.insert("band_keys", {**columns, "key": pa.array([None] * rows, pa.uint64())})
        assert setting(wh) == ""
