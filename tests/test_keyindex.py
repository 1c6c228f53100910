"""The band-key index (``warehouse.keyindex``) gives exactly the candidates of the DuckDB join.

``Warehouse.candidates`` of a warehouse file's writer reads stored band keys through sorted
segments beside the file; ``Warehouse.candidates_by_join`` is the reference (the SQL the engine
used before: a scan of every stored key). On generated band-key sets (few distinct keys, so that
keys are shared by many passages and versions, the ``max_versions`` cap included), stored batch
by batch with segments written and merged after every few passages, the two agree after every
batch, and after what a crash or an operator can do to the index or the warehouse: segment files
deleted, truncated, corrupted, extra ones, a record naming what is gone, a batch rolled back after
its segments were written, the warehouse file replaced by an older copy of itself. Whole
``ingest`` processes killed at random points are in ``test_keyindex_kills.py``.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from unittest.mock import patch

import duckdb
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_lineage_state import corpus

import reuse.engine._native as _native
import reuse.pipeline.ingest as ingest_pipeline
import reuse.pipeline.lineage as lineage_pipeline
from reuse.config import Settings
from reuse.models import Document
from reuse.pipeline.ingest import ingest
from warehouse import keyindex
from warehouse.db import Warehouse, open_warehouse
from warehouse.keyindex import BLOCK, FILTER_BITS, KeyIndex, Segment, SegmentInfo, merge_segments, write_segment

# A batch: versions, each a list of passages, each a list of keys from a small pool.
PASSAGE = st.lists(st.integers(0, 40), min_size=0, max_size=6)
VERSION = st.lists(PASSAGE, min_size=0, max_size=4)
BATCH = st.lists(VERSION, min_size=1, max_size=4)
FAULTS = ("none", "delete", "truncate", "corrupt", "header", "extra", "rollback", "restore", "forget")


def _small(index: KeyIndex | None, background: bool = False) -> KeyIndex:
    """The index with segments every few passages, so that builds and merges happen often; with
    ``background``, :meth:`KeyIndex.build_ahead` writes any tail in the background (as it does a
    bulk ingest's large ones)."""
    assert index is not None
    index.segment_passages = 3
    index.max_segment_passages = 40
    if background:
        index.background_build_rows = 1
    return index


class Store:
    """A warehouse file and the ids of what is stored in it."""

    def __init__(self, path: Path, background: bool = False) -> None:
        self.path = path
        self.background = background
        self.wh = open_warehouse(path)
        _small(self.wh.key_index, background)
        self.next_passage = 1
        self.next_version = 1

    def insert(self, batch: list[list[list[int]]], keyspace: int) -> int:
        """Store the band keys of ``batch`` (keys scaled over the whole uint64 range); return
        its first passage id."""
        first = self.next_passage
        keys, passages, versions = [], [], []
        for version in batch:
            for passage in version:
                for key in passage:
                    keys.append((key * keyspace) % 2**64)
                    passages.append(self.next_passage)
                    versions.append(self.next_version)
                self.next_passage += 1
            self.next_version += 1
        self.rows = (np.array(keys, np.uint64), np.array(passages, np.int64), np.array(versions, np.int64))
        self.wh.insert("band_keys", {"key": self.rows[0], "passage_id": self.rows[1], "version_id": self.rows[2]})
        return first

    def reopen(self) -> None:
        self.wh.close()
        self.wh = open_warehouse(self.path)
        _small(self.wh.key_index, self.background)


Rows = tuple[np.ndarray, np.ndarray, np.ndarray]


def _index(store: Store) -> KeyIndex:
    assert store.wh.key_index is not None
    return store.wh.key_index


def _same(wh: Warehouse, first: int, cap: int | None, probe: Rows | None = None) -> None:
    """The index's candidates (the batch's rows read back, or ``probe``, as stored) are the join's."""
    assert wh.candidates(first, cap, probe).tolist() == wh.candidates_by_join(first, cap).tolist()


def _segment_files(path: Path) -> list[Path]:
    folder = Path(str(path) + ".keyindex")
    return sorted(folder.glob("seg-*")) if folder.is_dir() else []


def _damage(store: Store, fault: str, pick: int) -> None:
    """Do ``fault`` to the index or the warehouse of the closed ``store``."""
    files = _segment_files(store.path)
    target = files[pick % len(files)] if files else None
    if fault == "delete" and target:
        target.unlink()
    elif fault == "truncate" and target:
        data = target.read_bytes()
        target.write_bytes(data[: len(data) - 1 - pick % 50])
    elif fault == "corrupt" and target and target.stat().st_size > 4096:  # a segment of no rows is all header
        data = bytearray(target.read_bytes())
        at = 4096 + (pick * 7919) % max(1, len(data) - 4096)
        data[at] ^= 1 + pick % 255
        target.write_bytes(bytes(data))
    elif fault == "header" and target:
        data = bytearray(target.read_bytes())
        data[10 + pick % 40] ^= 0x20
        target.write_bytes(bytes(data))
    elif fault == "extra":
        folder = Path(str(store.path) + ".keyindex")
        folder.mkdir(exist_ok=True)
        (folder / f"seg-0-{pick}-{pick:016x}.seg").write_bytes(b"\0" * 4096)
        (folder / f".tmp-{pick}").write_bytes(b"torn")
    elif fault == "forget":  # a warehouse without the record: every file beside it is stale
        with open_warehouse(store.path) as wh:
            wh.con.execute("DELETE FROM meta WHERE key = 'key_index'")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(BATCH, min_size=1, max_size=8),
    faults=st.lists(st.tuples(st.sampled_from(FAULTS), st.integers(0, 10**6)), min_size=8, max_size=8),
    cap=st.one_of(st.none(), st.integers(1, 4)),
    keyspace=st.sampled_from([1, 0x9E3779B97F4A7C15]),
    background=st.booleans(),
)
def test_index_gives_the_joins_candidates_through_builds_merges_and_damage(
    tmp_path_factory: pytest.TempPathFactory,
    batches: list[list[list[list[int]]]],
    faults: list[tuple[str, int]],
    cap: int | None,
    keyspace: int,
    background: bool,
) -> None:
    folder = tmp_path_factory.mktemp("keys")
    store = Store(folder / "w.duckdb", background)
    saved: Path | None = None
    try:
        for batch, (fault, pick) in zip(batches, faults, strict=False):
            if fault == "rollback":
                # A batch whose segments are written in its transaction, then rolled back: its
                # passage ids are given again to other keys.
                ids = (store.next_passage, store.next_version)
                store.wh.con.execute("BEGIN TRANSACTION")
                first = store.insert([[[k + 1 for k in p] for p in v] for v in batch], keyspace)
                store.wh.candidates(first, cap, store.rows if pick % 2 else None)
                if background and pick % 3 == 0:
                    # A build started from rows of the batch rolled back (a caller's misuse).
                    _index(store).build_ahead()
                store.wh.con.execute("ROLLBACK")
                store.next_passage, store.next_version = ids
            elif fault == "restore" and saved is not None:
                # The warehouse replaced by an older copy of itself; the index folder is newer.
                store.wh.close()
                shutil.copy(saved, store.path)
                store.next_passage, store.next_version = _next_ids(saved)
                store.wh = open_warehouse(store.path)
                _small(store.wh.key_index, background)
            elif fault != "none":
                # Damage is done between processes (what a crash or an operator leaves): a process
                # trusts the blocks it has checked, as it trusts its page cache.
                store.wh.close()
                _damage(store, fault, pick)
                store.wh = open_warehouse(store.path)
                _small(store.wh.key_index, background)
            store.wh.con.execute("BEGIN TRANSACTION")
            first = store.insert(batch, keyspace)
            # Half the batches give their rows as the ingest does; the others are read back.
            _same(store.wh, first, cap, store.rows if pick % 2 else None)
            store.wh.con.execute("COMMIT")
            if background:
                _index(store).build_ahead()  # as ingest does after each batch
            if saved is None and store.next_passage > 8:
                store.wh.con.execute("CHECKPOINT")
                saved = folder / "saved.duckdb"
                shutil.copy(store.path, saved)
            # Every older start too: the candidates of the last several batches at once.
            _same(store.wh, max(1, first - 5), cap)
        store.reopen()
        for first in range(1, store.next_passage + 1, 3):
            _same(store.wh, first, cap)
    finally:
        store.wh.close()


def _next_ids(path: Path) -> tuple[int, int]:
    with open_warehouse(path, read_only=True) as wh:
        row = wh.con.execute("SELECT coalesce(max(passage_id), 0) + 1, coalesce(max(version_id), 0) + 1 FROM band_keys")
        passage, version = row.fetchall()[0]
    return int(passage), int(version)


def _built(tmp_path: Path, passages: int = 400) -> tuple[Store, int]:
    """A store of ``passages`` passages of 8 keys each (one shared by every tenth passage), with
    segments; returns it and the first passage of a new batch stored after them."""
    store = Store(tmp_path / "w.duckdb")
    assert store.wh.key_index is not None
    store.wh.key_index.max_segment_passages = 1000
    rng = np.random.default_rng(5)
    for start in range(0, passages, 10):
        batch = [[[int(k) for k in rng.integers(0, 10**6, 7)] + [p % 10] for p in range(start, start + 10)]]
        first = store.insert(batch, 0x9E3779B97F4A7C15)
        store.wh.candidates(first, 3)
    first = store.insert([[[int(k) for k in rng.integers(0, 10**6, 7)] + [3]]], 0x9E3779B97F4A7C15)
    return store, first


def test_files_no_record_names_are_deleted_in_the_background(tmp_path: Path) -> None:
    """A sync hands the files no record names to a thread of their own and goes on (deleting a
    large file frees its blocks: tens of milliseconds a merged part), once each while it is being
    deleted; settled, they are gone. A file whose deletion fails is deleted by a later sync."""
    store, first = _built(tmp_path, passages=40)
    index = store.wh.key_index
    assert index is not None
    index.settle(first)
    stray = index.folder / "seg-0-7-00000000000000ab.seg"
    stray.write_bytes(b"\0" * 4096)
    gate, calls = threading.Event(), []
    real = keyindex._delete_files

    def held(paths: list[Path], doomed: set[str]) -> None:
        calls.append(sorted(p.name for p in paths))
        assert gate.wait(60)
        real(paths, doomed)

    with patch.object(keyindex, "_delete_files", held):
        index.sync(first)  # returns while the deletion waits
        index.sync(first)  # not handed over again while it is being deleted
        assert stray.exists() and calls == [[stray.name]]
        gate.set()
        index.settle(first)
    assert not stray.exists() and calls == [[stray.name]]
    stray.write_bytes(b"\0" * 4096)
    with patch.object(Path, "unlink", side_effect=PermissionError("busy")):
        index.settle(first)
    assert stray.exists()
    index.settle(first)
    assert not stray.exists()
    store.wh.close()


def test_lookups_use_segments_and_a_small_tail(tmp_path: Path) -> None:
    """Stored keys are in segments, merged so that few are read, and the tail is below the
    segment size: the join's DuckDB scan is left to the new rows and the tail."""
    store, first = _built(tmp_path)
    index = store.wh.key_index
    assert index is not None
    segments = index.settle(first)
    # 400 passages in batches of 10, a segment per batch, four of a tier merged (in the
    # background, taken in by later syncs): 40 segments become at most FANOUT - 1 of each tier.
    assert 1 < len(segments) <= 3 * 3, [s.info for s in segments]
    assert first - segments[-1].info.hi < index.segment_passages
    # Built from the rows the batches' probes read, none read back from band_keys.
    assert index.read_back == 0
    _same(store.wh, first, 3)
    store.wh.close()


@pytest.mark.parametrize("then", ["stored without a probe", "rolled back again"])
def test_rows_kept_from_a_rolled_back_batch_are_not_built_into_a_segment(tmp_path: Path, then: str) -> None:
    """A batch's probe is kept to build its segment; when the batch is rolled back and its
    passage ids hold other keys, stored by a writer that did not probe them (a load, another
    tool), the kept rows disagree with the table and the segment is read from band_keys."""
    store = Store(tmp_path / "w.duckdb")
    index = _small(store.wh.key_index)
    batch = [[[1, 2, 3], [4, 5]], [[6, 7, 8]]]
    store.wh.candidates(store.insert(batch, 0x9E3779B97F4A7C15), None)
    ids = (store.next_passage, store.next_version)
    store.wh.con.execute("BEGIN TRANSACTION")
    store.wh.candidates(store.insert(batch, 0x9E3779B97F4A7C15), None)
    store.wh.con.execute("ROLLBACK")
    store.next_passage, store.next_version = ids
    # The same shape (passages, keys a passage, versions) under other keys.
    store.insert([[[k + 20 for k in p] for p in v] for v in batch], 0x9E3779B97F4A7C15)
    if then == "rolled back again":
        store.wh.con.execute("BEGIN TRANSACTION")
        store.wh.candidates(store.insert(batch, 1), None)
        store.wh.con.execute("ROLLBACK")
    before = index.read_back
    first = store.insert([[[1, 21, 35]]], 0x9E3779B97F4A7C15)
    _same(store.wh, first, None)
    assert index.read_back > before
    store.wh.close()


@pytest.mark.parametrize("where", ["keys", "passages", "versions", "ranks", "sums"])
def test_a_corrupted_block_is_found_when_read_and_its_segment_rebuilt(tmp_path: Path, where: str) -> None:
    """A flipped bit in any part of a segment a lookup reads is caught by its block checksum: the
    segment is rebuilt from ``band_keys`` and the candidates are still the join's."""
    store, first = _built(tmp_path)
    expected = store.wh.candidates_by_join(first, 3)
    index = store.wh.key_index
    assert index is not None
    segment = index.sync(first)[0]
    n = segment.info.rows
    # A row of the key the new passage shares with every tenth stored one.
    row = int(np.searchsorted(segment.keys, np.uint64((3 * 0x9E3779B97F4A7C15) % 2**64)))
    offsets = {"keys": 4096 + 8 * row, "passages": 4096 + 8 * n + 4 * row, "versions": 4096 + 12 * n + 4 * row}
    offsets["ranks"] = 4096 + 16 * n + row - 1  # the rank byte of the row: no "+ 1" below
    offsets["sums"] = -(-(4096 + 17 * n) // 8) * 8 + 8 * (row // BLOCK)
    path = index.folder / segment.info.name
    store.reopen()  # nothing of the file checked or cached yet
    data = bytearray(path.read_bytes())
    data[offsets[where] + 1] ^= 0x10
    path.write_bytes(bytes(data))
    index = store.wh.key_index
    assert index is not None
    assert store.wh.candidates(first, 3).tolist() == expected.tolist()
    assert index.rebuilt == 1
    assert len(index.settle(first)) == len(_segment_files(store.path)) and not path.exists()
    store.wh.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3)), max_size=200), min_size=1, max_size=5),
    chunk=st.integers(1, 300),
)
@example(parts=[[(k % 31, k % 2) for k in range(150)], [], [(k % 7, k % 3) for k in range(90)]], chunk=40)
def test_a_merge_writes_the_segment_a_build_of_all_its_rows_writes(
    tmp_path: Path, parts: list[list[tuple[int, int]]], chunk: int
) -> None:
    """Segments merged a chunk at a time (every chunk size, empty parts, versions spanning two
    parts, keys shared across them) make the same file as one build of all their rows."""
    folder = tmp_path / f"merge-{chunk}-{len(parts)}"
    built, rows, lo, version = [], [], 0, 0
    for part in parts:
        keys, passages, versions = [], [], []
        for k, (key, step) in enumerate(part):
            version += step  # a version's passages may continue into the next part
            keys.append(key * 0x9E3779B97F4A7C15 % 2**64)
            passages.append(lo + k)
            versions.append(version)
        hi = lo + len(part) + 1
        arrays = np.array(keys, np.uint64), np.array(passages, np.int64), np.array(versions, np.int64)
        built.append(write_segment(folder, lo, hi, *arrays))
        rows.append(arrays)
        lo = hi
    whole = write_segment(folder, 0, lo, *(np.concatenate(c) for c in zip(*rows, strict=True)))
    with patch.object(keyindex, "MERGE_CHUNK_ROWS", chunk):
        merged = merge_segments(folder, [Segment(folder / info.name, info) for info in built])
    assert (merged.lo, merged.hi, merged.rows, merged.vlo) == (whole.lo, whole.hi, whole.rows, whole.vlo)
    body = [(folder / info.name).read_bytes()[4096:] for info in (merged, whole)]
    assert body[0] == body[1]
    shutil.rmtree(folder)


def test_a_search_for_few_keys_skips_those_the_filter_rules_out(tmp_path: Path) -> None:
    """FILTER_BITS: a search for few keys, fewer than the segment has pages, first drops the keys
    its membership filter says it does not hold: it still finds every row of every key it holds (a
    Bloom filter has no false negatives), and few absent keys get through (about 6% at six bits
    a key). A search for more than MAX_FILTERED_KEYS does not read the filter, nor does any later
    search of the process (KeyIndex.bulk). A damaged filter,
    which would drop held keys, fails its checksum when a search first reads it."""
    rng = np.random.default_rng(7)
    rows = 400_000
    keys = rng.integers(0, 2**62, rows, dtype=np.uint64) * np.uint64(2)  # even: an odd key is held by none
    passages = np.sort(rng.integers(0, rows // 8, rows)).astype(np.int64)
    info = write_segment(tmp_path, 0, rows // 8, keys, passages, passages // 3)
    segment = Segment(tmp_path / info.name, info)
    held = np.unique(keys[:: rows // 300])
    absent = np.unique(rng.integers(0, 2**62, 300, dtype=np.uint64) * np.uint64(2) + np.uint64(1))
    queries = np.union1d(held, absent)
    assert len(queries) * keyindex.KEYS_PER_PAGE < rows  # the filtered search
    found = segment.lookup(queries, None)
    inside = np.isin(keys, held)
    expected = sorted(
        zip(keys[inside].tolist(), passages[inside].tolist(), (passages[inside] // 3).tolist(), strict=True)
    )
    assert sorted(zip(*(c.tolist() for c in found), strict=True)) == expected
    assert len(segment._filter_select(absent)) < 0.15 * len(absent)
    # The filter is searched where the file is mapped, and only the pages read are checked.
    few = Segment(tmp_path / info.name, info)
    assert np.array_equal(few._filter_select(held[:5]), held[:5])
    words, _, checked = few.membership()
    assert not words.flags.owndata and 0 < checked.sum() <= 5 < len(checked)
    # A bulk search does not read the filter: the process would hold every large segment's.
    bulky = Segment(tmp_path / info.name, info)
    with patch.object(keyindex, "MAX_FILTERED_KEYS", len(queries) - 1):
        assert all(np.array_equal(x, y) for x, y in zip(bulky.lookup(queries, None), found, strict=True))
    assert bulky._filter is None
    # Nor does a small search in a process that searched in bulk (a bulk ingest's last batch).
    index = KeyIndex(duckdb.connect(), str(tmp_path / "w.duckdb"))
    with patch.object(keyindex, "MAX_FILTERED_KEYS", len(queries) - 1):
        index.held([bulky], np.union1d(queries, absent + np.uint64(2)), None)
        index.held([bulky], queries[:10], None)
    assert index.bulk and bulky._filter is None
    # A bit of every filter page flipped: the first page a search reads fails its checksum.
    path = tmp_path / info.name
    data = bytearray(path.read_bytes())
    layout = keyindex._layout(rows)
    for page in range(layout.filter_at, layout.pages_at, 8 * keyindex.FILTER_PAGE_WORDS):
        data[page] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(keyindex.CorruptSegment, match="filter"):
        Segment(path, info).lookup(queries, None)


def _as_format_3(path: Path, info: SegmentInfo) -> None:
    """Rewrite the segment at ``path`` as format 3 wrote it: one checksum for the whole
    membership filter after it, and no filter page checksums or fences."""
    data = bytearray(path.read_bytes())
    new, old = keyindex._layout(info.rows), keyindex._layout(info.rows, 3)
    words = np.frombuffer(bytes(data[new.filter_at : new.pages_at]), np.uint64)
    header = json.dumps({"magic": "reusetrack-keyindex", "format": 3, "block": BLOCK, **info.to_dict()})
    data[: keyindex._HEADER] = header.encode().ljust(keyindex._HEADER, b" ")
    data[old.pages_at :] = _native.segment_page_sums(words, len(words)).tobytes()
    assert len(data) == old.size
    path.write_bytes(bytes(data))


def test_fences_and_filter_pages_are_stored_and_format_3_is_still_read(tmp_path: Path) -> None:
    """Format 4 stores a segment's fences (every KEYS_PER_PAGE-th key), which a new process would
    otherwise read from every page of the keys, checksummed: damaged, they fail when a search
    first reads them. A format 3 segment (fences read from the keys, one checksum for the
    whole filter) gives every search the same rows."""
    rng = np.random.default_rng(11)
    rows = 300_000
    keys = rng.integers(0, 2**62, rows, dtype=np.uint64)
    passages = np.sort(rng.integers(0, rows // 8, rows)).astype(np.int64)
    for chunk in (keyindex.MERGE_CHUNK_ROWS, 9_984):  # written whole, and merged a chunk at a time
        folder = tmp_path / str(chunk)
        halves = []
        for lo, hi in ((0, rows // 16), (rows // 16, rows // 8)):
            held = (passages >= lo) & (passages < hi)
            halves.append(write_segment(folder, lo, hi, keys[held], passages[held], passages[held] // 3))
        with patch.object(keyindex, "MERGE_CHUNK_ROWS", chunk):
            info = merge_segments(folder, [Segment(folder / h.name, h) for h in halves])
        segment = Segment(folder / info.name, info)
        assert np.array_equal(segment._fence_keys(), np.sort(keys)[:: keyindex.KEYS_PER_PAGE])
    queries = np.unique(np.concatenate([keys[::1000], rng.integers(0, 2**62, 300, dtype=np.uint64)]))
    expected = [c.tolist() for c in Segment(folder / info.name, info).lookup(queries, None)]
    old = tmp_path / "old"
    old.mkdir()
    shutil.copyfile(folder / info.name, old / info.name)
    _as_format_3(old / info.name, info)
    former = Segment(old / info.name, info)
    assert [c.tolist() for c in former.lookup(queries, None)] == expected
    assert [c.tolist() for c in former.lookup(queries, None, filtered=False)] == expected
    few = queries[:50]  # few enough for the filtered search
    assert len(few) * keyindex.KEYS_PER_PAGE < rows
    assert [c.tolist() for c in former.lookup(few, None)] == [c.tolist() for c in segment.lookup(few, None)]
    assert np.array_equal(former._fence_keys(), segment._fence_keys())
    # A format 3 filter is checked whole: a bit flipped anywhere in it fails the first search.
    data = bytearray((old / info.name).read_bytes())
    data[keyindex._layout(rows, 3).pages_at - 1] ^= 1
    (old / info.name).write_bytes(bytes(data))
    with pytest.raises(keyindex.CorruptSegment, match="filter"):
        Segment(old / info.name, info).lookup(few, None)
    # Damaged fences (the last one's bit flipped) fail their checksum at the first search.
    data = bytearray((folder / info.name).read_bytes())
    layout = keyindex._layout(rows)
    data[layout.fences_at + 8 * (layout.fences - 1)] ^= 1
    (folder / info.name).write_bytes(bytes(data))
    with pytest.raises(keyindex.CorruptSegment, match="fences"):
        Segment(folder / info.name, info).lookup(queries, None)


def test_the_index_is_no_bigger_than_its_keys_and_checksums(tmp_path: Path) -> None:
    """17 bytes a stored key (key, passage and version offsets, version rank) and
    ``FILTER_BITS`` bits of its membership filter, 8 bytes a block of ``BLOCK``, a page of header
    and the filter's checksum a segment."""
    store, first = _built(tmp_path)
    index = store.wh.key_index
    assert index is not None
    segments = index.settle(first)
    rows = sum(s.info.rows for s in segments)
    size = sum(p.stat().st_size for p in _segment_files(store.path))
    filters = rows * FILTER_BITS // 8 + 16 * len(segments)
    pages = rows * FILTER_BITS // 64 // keyindex.FILTER_PAGE_WORDS + len(segments)
    fences = rows // keyindex.KEYS_PER_PAGE + 2 * len(segments)
    assert size <= (
        rows * 17 + filters + (rows // BLOCK + 3 * len(segments) + pages + fences) * 8 + 4096 * len(segments)
    )
    store.wh.close()


def _resident_kb(folder: Path) -> int:
    """Kilobytes of this process's resident memory mapped from files in ``folder``."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
            inside = len(fields) >= 6 and fields[5].startswith(str(folder))
        elif inside and fields[:1] == ["Rss:"]:
            total += int(fields[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads Linux's /proc/self/smaps")
def test_lookups_leave_no_segment_pages_resident(tmp_path: Path) -> None:
    """A bulk ingest's lookups read nearly every page of every segment; the pages are unmapped
    after such a search, so the process's resident memory does not grow with the index (the
    membership filters' pages that searches for few keys read stay, at most the filters). One
    passage's search leaves the few pages it read mapped for the next."""
    store, first = _built(tmp_path, passages=2000)
    index = store.wh.key_index
    assert index is not None

    def filters_kb(segments: list[Segment]) -> int:
        """Kilobytes of the pages holding the segments' filters (each with a page either side)."""
        layouts = [keyindex._layout(s.info.rows) for s in segments]
        return sum((layout.pages_at - layout.filter_at) // 4096 + 2 for layout in layouts) * 4

    segments = index.sync(first)
    for segment in segments:
        segment.release()
    left = _resident_kb(index.folder)
    assert left <= filters_kb(segments)
    assert store.wh.candidates(first, 3).tolist() == store.wh.candidates_by_join(first, 3).tolist()
    assert _resident_kb(index.folder) > left
    rng = np.random.default_rng(7)
    batch = [[[int(k) for k in rng.integers(0, 10**6, 7)] + [p % 10] for p in range(300)]]
    first = store.insert(batch, 0x9E3779B97F4A7C15)
    segments = index.sync(first)
    assert sum(s.keys.nbytes for s in segments) > 16 * 4096
    assert store.wh.candidates(first, 3).tolist() == store.wh.candidates_by_join(first, 3).tolist()
    assert _resident_kb(index.folder) <= filters_kb(segments)
    store.wh.close()


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads Linux's /proc/self/smaps")
def test_a_bulk_search_and_a_check_map_a_bounded_part_of_a_segment_at_a_time(tmp_path: Path) -> None:
    """A search of a segment (a bulk batch's, or one of fewer keys than it has pages but spread
    over all of it) and a merge's check of one go ``MAPPED_BYTES`` of it at a time, unmapping
    after each: the pages mapped at any time stay near that bound however large the segment
    (here 16 times the bound), and the answers are those of one search."""
    rng = np.random.default_rng(11)
    rows = 4_000_000
    keys = rng.integers(0, 2**63, rows, dtype=np.uint64) * np.uint64(2)
    passages = np.sort(rng.integers(0, rows // 8, rows)).astype(np.int64)
    info = write_segment(tmp_path, 0, rows // 8, keys, passages, passages // 3)
    segment = Segment(tmp_path / info.name, info)
    queries = np.unique(np.concatenate([keys[::3], keys[::7] + np.uint64(1)]))
    whole = segment.lookup(queries, None)
    size = (tmp_path / info.name).stat().st_size
    bound = size // 16
    sparse = np.unique(keys[::2048])  # fewer keys than the segment has pages
    sparse_whole = segment.lookup(sparse, None)
    peaks: dict[str, list[int]] = {"search": [], "sparse": [], "check": []}
    phase = ["search"]
    release = Segment.release

    def measured(self: Segment) -> None:
        peaks[phase[0]].append(_resident_kb(tmp_path) * 1024)
        release(self)

    with patch.object(keyindex, "MAPPED_BYTES", bound), patch.object(Segment, "release", measured):
        segment.release()
        peaks["search"].clear()
        parts = segment.lookup(queries, None)
        phase[0] = "sparse"
        sparse_parts = segment.lookup(sparse, None)
        segment.checked[:] = False  # the searches checked every block they read
        phase[0] = "check"
        segment.check_all()
    assert all(a.tolist() == b.tolist() for a, b in zip(parts, whole, strict=True))
    assert all(a.tolist() == b.tolist() for a, b in zip(sparse_parts, sparse_whole, strict=True))
    assert all(len(found) >= 16 for found in peaks.values())
    # The bound, plus what the page cache maps at once around a page read (a large folio: up to
    # a few MB on recent kernels, at the ends of each column's part and at each step of the
    # search's first gallop).
    for found in peaks.values():
        assert max(found) <= bound + 16 * 2**20 < size // 2, (max(found), bound, size)


def test_merges_are_written_in_the_background_and_taken_in_by_a_later_sync(tmp_path: Path) -> None:
    """While a merge is written (held here until released, its file written), lookups go on
    through its parts and equal the join, and its parts and its file stay; a later sync puts it
    in their place. Segments appended
    meanwhile are merged in their turn: the first run of ``FANOUT`` of one tier is merged, so
    none is stranded between larger ones."""
    gate = threading.Event()
    started: list[list[str]] = []
    real = keyindex._checked_merge

    def held(folder: Path, parts: list[keyindex.SegmentInfo], token: str, cancelled: Callable[[], bool]) -> object:
        started.append([p.name for p in parts])
        written = real(folder, parts, token, cancelled)
        assert gate.wait(60)  # written, not yet done: syncs meanwhile must leave its file
        return written

    with patch.object(keyindex, "_checked_merge", held):
        store, first = _built(tmp_path, passages=130)
        index = store.wh.key_index
        assert index is not None and len(started) == 1
        names = {s.info.name for s in index.sync(first)}
        assert set(started[0]) <= names  # the parts are still what lookups read
        assert len(names) > keyindex.FANOUT
        assert store.wh.candidates(first, 3).tolist() == store.wh.candidates_by_join(first, 3).tolist()
        gate.set()
        segments = index.settle(first)
    assert len(started) > 1
    tiers = [index._tier(s.info.hi - s.info.lo) for s in segments]
    assert tiers == sorted(tiers, reverse=True) and all(tiers.count(t) < keyindex.FANOUT for t in tiers), tiers
    assert {p.name for p in _segment_files(store.path)} == {s.info.name for s in segments}
    assert store.wh.candidates(first, 3).tolist() == store.wh.candidates_by_join(first, 3).tolist()
    store.wh.close()


def test_a_cancelled_merge_leaves_no_file(tmp_path: Path) -> None:
    """A merge stopped when its index closes raises before it writes, and removes its temporary file."""
    rng = np.random.default_rng(3)
    parts = []
    for lo in (0, 10):
        keys = rng.integers(0, 2**63, 50, dtype=np.uint64)
        ids = lo + np.arange(50) // 5
        info = write_segment(tmp_path, lo, lo + 10, keys, ids, ids)
        parts.append(Segment(tmp_path / info.name, info))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(keyindex.MergeCancelled):
        merge_segments(tmp_path, parts, "feedface", lambda: True)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_segment_built_ahead_is_written_in_the_background_and_taken_in_by_the_next_sync(
    tmp_path: Path,
) -> None:
    """After a batch commits, a large tail's segment is written in a thread of its own: until
    the next sync takes it in, the record does not name its files and a sync's collection leaves
    them; the next sync waits for it and takes it in, and the files are then the segments. A tail
    below ``background_build_rows`` is left to the syncs."""
    gate = threading.Event()
    started: list[tuple[int, int]] = []
    real = keyindex._write_pieces

    def held(folder: Path, pieces: list[keyindex._Piece]) -> list[keyindex.SegmentInfo]:
        written = real(folder, pieces)
        if threading.current_thread().name.startswith("keyindex-build"):  # not a build written at once
            started.append((pieces[0].lo, pieces[-1].hi))
            assert gate.wait(60)  # written, not yet done
        return written

    with patch.object(keyindex, "_write_pieces", held):
        store, first = _built(tmp_path, passages=60)
        index = _index(store)
        _same(store.wh, first, 3)
        rng = np.random.default_rng(11)
        batch = [[[int(k) for k in rng.integers(0, 10**6, 7)] + [3] for _ in range(5)]]
        first = store.insert(batch, 7)
        _same(store.wh, first, 3)
        index.background_build_rows = 10**9
        index.build_ahead()
        assert index._building is None  # too few rows: left to the next sync
        index.background_build_rows = 1
        index.build_ahead()
        building = index._building
        assert building is not None and building.hi == first + 5
        index._collect({s.name for s in index._record()})  # what a sync does first
        named = {s.name for s in index._record()}
        assert all(s.hi <= building.lo for s in index._record())
        gate.set()
        building.done.result()
        files = {p.name for p in _segment_files(store.path)} - named
        assert files and all(any(t in name for t in building.tokens) for name in files)
        first = store.insert([[[int(k) for k in rng.integers(0, 10**6, 7)] + [3]]], 7)
        _same(store.wh, first, 3)  # the sync takes it in
        assert index._building is None and started == [(building.lo, building.hi)]
        segments = index.settle(first)
    assert any(s.info.lo == building.lo for s in segments)
    assert {p.name for p in _segment_files(store.path)} == {s.info.name for s in segments}
    store.reopen()
    _same(store.wh, first, 3)
    store.wh.close()


def test_a_segment_built_ahead_from_rows_rolled_back_is_not_taken_in(tmp_path: Path) -> None:
    """A build ahead reads its rows as the table holds them when it starts; called inside a
    transaction that is then rolled back with passages the build holds, whose ids are then
    stored again with other keys, the build no longer matches the table (the record, unchanged,
    still ends where the build starts): the next sync leaves it out, and the lookups are still
    the join's."""
    store = Store(tmp_path / "w.duckdb", background=True)
    index = _index(store)
    index.segment_passages = 5  # neither batch alone makes a segment
    store.wh.candidates(store.insert([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], 0x9E3779B97F4A7C15), None)
    ids = (store.next_passage, store.next_version)
    store.wh.con.execute("BEGIN TRANSACTION")
    first = store.insert([[[10, 11], [12, 13], [14, 15]]], 0x9E3779B97F4A7C15)
    store.wh.candidates(first, None)
    index.build_ahead()
    building = index._building
    assert building is not None and (building.lo, building.hi) == (0, first + 3)
    written = {info.name for info in building.done.result()}
    store.wh.con.execute("ROLLBACK")
    assert not index._record()
    store.next_passage, store.next_version = ids
    store.insert([[[20, 21], [22, 23], [24, 25]]], 0x9E3779B97F4A7C15)
    first = store.insert([[[10, 20]]], 0x9E3779B97F4A7C15)
    _same(store.wh, first, None)
    assert not written & {s.info.name for s in index.settle(first)}
    store.reopen()
    for start in range(1, first + 1):
        _same(store.wh, start, None)
    store.wh.close()


def test_closing_the_warehouse_takes_in_the_segment_built_ahead(tmp_path: Path) -> None:
    """A run's last batch builds ahead with no batch after it to take the segment in: closing
    the warehouse waits for it and takes it in, in a transaction of its own."""
    store, first = _built(tmp_path, passages=40)
    index = _index(store)
    rng = np.random.default_rng(5)
    first = store.insert([[[int(k) for k in rng.integers(0, 10**6, 7)] for _ in range(5)]], 7)
    _same(store.wh, first, 3)
    index.background_build_rows = 1
    index.build_ahead()
    building = index._building
    assert building is not None
    store.reopen()
    recorded = _index(store)._record()
    assert recorded[-1].hi == building.hi and any(t in recorded[-1].name for t in building.tokens)
    assert {p.name for p in _segment_files(store.path)} >= {s.name for s in recorded}
    _same(store.wh, first, 3)
    store.wh.close()


def test_closing_the_warehouse_takes_in_the_merge_being_written(tmp_path: Path) -> None:
    """A writer that opens the warehouse for each batch (as a crawl does) keeps its merges:
    closing waits for the merge being written and takes it in, in a transaction of its own."""
    gate = threading.Event()
    real = keyindex._checked_merge

    def held(folder: Path, parts: list[keyindex.SegmentInfo], token: str, cancelled: Callable[[], bool]) -> object:
        assert gate.wait(60)
        return real(folder, parts, token, cancelled)

    with patch.object(keyindex, "_checked_merge", held):
        store, first = _built(tmp_path, passages=40)
        index = store.wh.key_index
        assert index is not None
        before = len(index.sync(first))  # the fourth segment: a merge starts
        assert index._merging is not None
        gate.set()
        store.reopen()
    index = store.wh.key_index
    assert index is not None
    after = index.sync(first)
    assert len(after) == before - keyindex.FANOUT + 1
    # The merged parts are deleted in the background: settled, the files are the segments.
    assert [s.info.name for s in index.settle(first)] == [s.info.name for s in after]
    assert {p.name for p in _segment_files(store.path)} == {s.info.name for s in after}
    assert store.wh.candidates(first, 3).tolist() == store.wh.candidates_by_join(first, 3).tolist()
    store.wh.close()


@pytest.mark.parametrize(("bulk", "large"), [(True, False), (False, False), (False, True)])
def test_an_ingest_in_bulk_stops_the_merge_being_written_and_a_small_one_takes_it_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool, large: bool
) -> None:
    """Once an ingest's batches are stored no sync would take a merge in. After a bulk search
    the lineage update that follows is the run's memory peak: the merge is stopped, its thread
    ended, before it. A small run (one article's keys) lets it go on through the lineage update
    and closing the warehouse takes it in: stopped, it would start again in the next such run
    and never finish. Unless the merge is large (``CLOSE_MERGE_ROWS``): waiting for it would
    keep the warehouse locked."""
    monkeypatch.setenv("REUSETRACK_SEGMENT_PASSAGES", "4")
    monkeypatch.setattr(keyindex, "MAX_FILTERED_KEYS", 0 if bulk else 1 << 30)
    monkeypatch.setattr(keyindex, "CLOSE_MERGE_ROWS", 0 if large else 1 << 30)
    rows = corpus(3)
    gate = threading.Event()
    running: list[bool] = []
    real = lineage_pipeline.update_lineage

    def update(wh: Warehouse, *args: object, **kwargs: object) -> object:
        assert wh.key_index is not None
        running.append(wh.key_index._merger is not None)
        gate.set()  # a merge left running may finish from here on
        return real(wh, *args, **kwargs)  # type: ignore[arg-type]

    merges: list[str] = []
    real_merge = keyindex._checked_merge

    def merge(folder: Path, parts: list[keyindex.SegmentInfo], token: str, cancelled: Callable[[], bool]) -> object:
        merges.append(token)
        # Still being written when the batches end, until the lineage update or a stop.
        while not (gate.wait(0.01) or cancelled()):
            pass
        return real_merge(folder, parts, token, cancelled)

    with (
        open_warehouse(tmp_path / "w.duckdb") as wh,
        patch.object(ingest_pipeline, "update_lineage", update),
        patch.object(keyindex, "_checked_merge", merge),
    ):
        documents = [Document(url=r["url"], text=r["text"], site=r["site"], title=r["title"]) for r in rows]
        ingest(wh, documents, Settings(), batch_size=4)
    stopped = bulk or large
    assert len(merges) == 1 and running == [not stopped]
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        assert wh.key_index is not None
        assert (merges[0] in {s.token for s in wh.key_index._record()}) is not stopped


def test_a_segment_stores_ids_as_offsets_and_refuses_ids_beyond_their_range() -> None:
    """Passages and versions are stored as 32-bit offsets from the segment's ``lo`` and ``vlo``;
    an id below them, or 2**32 or more above, is refused, not wrapped."""
    keys = np.array([30, 10, 20], np.uint64)
    passages = np.array([1_000_002, 1_000_000, 1_000_001], np.int64)
    versions = np.array([500, 500, 501], np.int64)
    sorted_keys, prel, vrel, _rank, _sums = _native.segment_build(keys, passages, versions, 1_000_000, 500, 4)
    assert sorted_keys.tolist() == [10, 20, 30]
    assert prel.tolist() == [0, 1, 2]
    assert vrel.tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match=r"passage ids must lie in \[1000001, "):
        _native.segment_build(keys, passages, versions, 1_000_001, 500, 4)
    with pytest.raises(ValueError, match="version ids must lie in"):
        _native.segment_build(keys, passages, versions + 2**32, 1_000_000, 500, 4)
