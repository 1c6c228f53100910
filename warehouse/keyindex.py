"""The band-key index: candidate lookups that read a small part of the stored keys.

``band_keys`` in DuckDB stays the truth (analysts query it); this is a derived index beside the
warehouse file, in the folder ``<warehouse>.keyindex/``. A batch's keys are random over the key
space, so any layout of ``band_keys`` sorted by key still has every row group touched by a few
hundred keys; what reads little is a binary search. The index is a few immutable **segments**,
each the band keys of one range of passage ids ``[lo, hi)`` sorted by key, memory-mapped and
searched by a compiled merge; a segment unmaps the pages its searches read once they add up to
about one key a page, so the process's resident memory does not grow with the index (the page
cache keeps them). The keys stored after the last segment (the **tail**) are read from DuckDB
with ``passage_id >= covered``: rows are appended in passage-id order, so zone maps skip every
older row group.

Which segments are trusted is said by the warehouse itself: the ``meta`` row ``key_index``
(JSON: each segment's range, row count and a random token written in the file's header and
name). It is written in the caller's transaction, so it commits or rolls back with the batch, and
a warehouse restored from a copy, loaded from a snapshot (``meta`` is not loaded) or whose WAL
lost transactions names only segments built from the rows it holds. Files it does not name are
deleted (an aborted build, a rolled-back record, a merge's inputs); a named file that is
missing, of the wrong size or has a header that disagrees is rebuilt from ``band_keys`` at once;
a block whose checksum fails when a lookup reads it (every row a lookup uses is in a checked
block, and the binary search's answer is checked on them) has its segment rebuilt and the lookup
run again. Segments are written to a temporary name, fsynced and renamed: a kill leaves only
files the record does not name. Only the warehouse's writer (DuckDB's file lock) maintains the
index; segments are merged, size-tiered, when ``FANOUT`` of one size follow each other, so a lookup
touches few of them; a merge is written in a background thread while batches go on, and a later
batch's transaction names it in the record in place of its parts. Each segment ends with a
membership filter of its keys (a Bloom filter, each page of it checked against its checksum when
a search first reads it): a search for one article's few keys, most of them in no segment,
searches only the keys it may hold rather than faulting in a page for each. After the filter come
the segment's fences (every ``KEYS_PER_PAGE``-th key, checksummed), which a search for few keys
goes through to each key's page, so that a new process does not read them from every page of
the keys (format 4; format 3 files, which lack both, are read as before until a merge or a
rebuild replaces them). Segments are sorted,
ranked and checksummed by the native engine (``_native.segment_build``); a new one is built from the
rows the writer's batches read as their probes (kept in memory, checked against the table's counts
and sums), a lost one from ``band_keys`` read in stored order. A large new segment (a bulk
ingest's) is built ahead: once a batch has committed, it is written in a background thread while
the next batch is read and stored, and that batch's sync waits for it and takes it in (checking
the table's counts and sums once more: rows read in a transaction rolled back since are not the
table's).
"""

from __future__ import annotations

import json
import mmap
import os
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

import reuse.engine._native as _native
from warehouse.meta import read_meta, write_meta
from warehouse.scans import Table, execute_with
from warehouse.sigstore import FILE_NAME as SIGNATURE_FILE
from warehouse.sigstore import SignatureStore

__all__ = [
    "BLOCK",
    "FANOUT",
    "FILTER_BITS",
    "MAX_FILTERED_KEYS",
    "MAX_MERGED_PASSAGES",
    "MAX_SEGMENT_PASSAGES",
    "SEGMENT_PASSAGES",
    "KeyIndex",
]

#: Rows per checksummed block.
BLOCK = 32
#: The tail (in passages) at which a new segment is written: about a million band keys
#: (``REUSETRACK_SEGMENT_PASSAGES`` overrides it, for tests).
SEGMENT_PASSAGES = 16384
#: Segments of one size tier that are merged into one.
FANOUT = 4
#: No segment built from rows spans more passages than this (bounds the memory of a build: ~16M
#: keys; ``REUSETRACK_MAX_SEGMENT_PASSAGES`` overrides it). A lost segment is rebuilt in pieces of
#: this size.
MAX_SEGMENT_PASSAGES = 262144
#: No merge makes a segment spanning more passages than this (``REUSETRACK_MAX_MERGED_PASSAGES``
#: overrides it). A merge streams its rows a chunk at a time, so its memory does not grow with the
#: segments; the bound keeps one merge's rewrite to a few GB while the segments a lookup reads
#: stay few (about ``FANOUT - 1`` of each size below it).
MAX_MERGED_PASSAGES = 4194304
#: Rows a merge writes at a time.
MERGE_CHUNK_ROWS = 1 << 22
#: A tail of at least this many rows (``REUSETRACK_BACKGROUND_BUILD_ROWS`` overrides it, for tests)
#: is built ahead (:meth:`KeyIndex.build_ahead`): sorted and written in a thread of its own after
#: its batch commits, while the next batch is read and stored. In a bulk ingest each batch's sync
#: built one (about two million rows, sorted, checksummed, written and fsynced: 12.6 s of the 1M
#: scale ingest's 210 s, 5.5 s of the PAN13 job's 70 s, all on the batches' path). Started in the
#: sync instead, with the tail read from the table until it was taken in, it saved nothing: the
#: larger tail's join cost as much. A smaller tail (a crawl's batch, the tests' tiny segments) is
#: written by the next sync.
BACKGROUND_BUILD_ROWS = 1 << 20
#: The most rows a merge may hold for a run's end to wait for it (see :meth:`KeyIndex.stop`):
#: a merge writes about ten million rows a second, and the warehouse stays locked while its close
#: waits, so readers and the next batch of a crawl would wait with it; this bounds that to a few
#: seconds (the merges of the two smallest size tiers).
CLOSE_MERGE_ROWS = 1 << 26
#: Version ranks are stored up to this (a byte); a larger ``max_versions`` reads every row of a key.
RANK_CAP = 255
#: Keys in a page of a segment's key column. Once a segment has been searched for this many keys
#: per page of it since it last unmapped its pages, the searches have read most of its pages,
#: and it unmaps them; a search for fewer keys than it has pages goes through its fences (every
#: ``KEYS_PER_PAGE``-th key, kept in memory).
KEYS_PER_PAGE = 512
#: Bytes of a segment a search or a check maps before it unmaps them: a bulk batch's search of a
#: large segment, or a merge's check of its parts, goes a part of the segment at a time, so the
#: pages the process holds stay under this whatever the segments grow to. A bulk batch's search
#: is its ingest's peak of memory; 96 MB against 256 MB: the 1M scale ingest's peak RSS 150 MB
#: lower, its time the same (each page is read once a search either way).
MAPPED_BYTES = 96 * 2**20
#: Bytes a segment's row takes (key, passage and version offsets, rank).
_ROW_BYTES = 17
#: Bits a key of a segment's membership filter: a search for fewer keys than the segment has
#: pages (one article's) first drops the keys the filter says the segment does not hold. Most of
#: a new article's keys are in no segment (its text is new), and each of them would otherwise
#: fault in a page of the segment (on a 1M-passage warehouse 95% of one article's 4,000 keys were
#: in none); six bits a key let about 6% of the absent ones through, in 0.75 bytes a key (the
#: filter is searched where the file is mapped, its pages checked as searches first read them).
FILTER_BITS = 6
#: A search for more keys than this does not use the filter, however large the segment: a bulk
#: batch's search (hundreds of thousands of keys) reads the segment a range at a time anyway,
#: and would make the process hold the filter of every large segment (at four times the 1M
#: corpus, 210 MB); one article's is 4,000 keys.
MAX_FILTERED_KEYS = 1 << 16


def _mapped_rows(row_bytes: int) -> int:
    """Rows of ``row_bytes`` each that fill ``MAPPED_BYTES``, in whole pages of keys (so whole
    blocks too): how far a search, a check or a read of the fences goes before unmapping."""
    return max(KEYS_PER_PAGE, MAPPED_BYTES // row_bytes // KEYS_PER_PAGE * KEYS_PER_PAGE)


#: Words (of 64 bits) of a page of a segment's membership filter, each page with its checksum:
#: a search for few keys checks the pages it reads, not the whole filter (tens of MB for a large
#: segment, which a new process would read and checksum whole at its first search).
FILTER_PAGE_WORDS = 512

#: The ``meta`` row naming the trusted segments.
META_KEY = "key_index"
#: The format of the record in ``meta``.
_RECORD_FORMAT = 3
#: The format of the segment files written. Format 4 adds a checksum a page of the membership
#: filter (format 3 has one for the whole filter) and the fences (every ``KEYS_PER_PAGE``-th
#: key, with their checksum), which format 3 leaves to be read from every page of the keys.
_FORMAT = 4
#: The segment formats read: a format 3 file is searched as before until a merge or a rebuild
#: replaces it (rewriting every segment of a large warehouse would cost its next run minutes).
_READ_FORMATS = (3, 4)
_HEADER = 4096
_MAGIC = "reusetrack-keyindex"
_SUFFIX = ".seg"


class CorruptSegment(Exception):
    """A segment's bytes disagree with what its header, name or block checksums say."""


@dataclass(frozen=True)
class SegmentInfo:
    """What the warehouse's record says of one segment."""

    lo: int
    hi: int
    rows: int
    vlo: int
    token: str

    @property
    def name(self) -> str:
        return f"seg-{self.lo}-{self.hi}-{self.token}{_SUFFIX}"

    def to_dict(self) -> dict[str, Any]:
        return {"lo": self.lo, "hi": self.hi, "rows": self.rows, "vlo": self.vlo, "token": self.token}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SegmentInfo:
        return cls(int(d["lo"]), int(d["hi"]), int(d["rows"]), int(d["vlo"]), str(d["token"]))


def _filter_words(rows: int) -> int:
    """Words (of 64 bits) of the membership filter of a segment of ``rows`` rows."""
    return -(-rows * FILTER_BITS // 64)


@dataclass(frozen=True)
class _Layout:
    """Where each part of a segment file lies, in bytes, in format ``version``."""

    version: int
    #: The keys, passage offsets, version offsets, version ranks and block sums.
    columns: tuple[int, int, int, int, int]
    filter_at: int
    filter_words: int
    #: Format 4: each filter page's checksum, then the fences and their checksum (format 3: the
    #: filter's checksum at ``pages_at``, and no fences).
    pages_at: int
    fences_at: int
    fences: int
    size: int


def _whole_sum(words: np.ndarray) -> np.ndarray:
    """The XXH3-64 of all of ``words`` (as an array of one; none for no words): the checksum of
    a segment's fences, and of a format 3 segment's whole filter."""
    return _native.segment_page_sums(words, max(1, len(words)))


def _layout(rows: int, version: int = _FORMAT) -> _Layout:
    """The :class:`_Layout` of a segment of ``rows`` rows in format ``version``."""
    blocks = -(-rows // BLOCK)
    keys = _HEADER
    prel = keys + 8 * rows
    vrel = prel + 4 * rows
    rank = vrel + 4 * rows
    sums = -(-(rank + rows) // 8) * 8
    filter_at = sums + 8 * blocks
    words = _filter_words(rows)
    pages_at = filter_at + 8 * words
    if version == 3:
        return _Layout(3, (keys, prel, vrel, rank, sums), filter_at, words, pages_at, pages_at + 8, 0, pages_at + 8)
    fences_at = pages_at + 8 * -(-words // FILTER_PAGE_WORDS)
    fences = -(-rows // KEYS_PER_PAGE)
    columns = (keys, prel, vrel, rank, sums)
    return _Layout(version, columns, filter_at, words, pages_at, fences_at, fences, fences_at + 8 * fences + 8)


class Segment:
    """One immutable, memory-mapped segment: the band keys of passages ``[lo, hi)`` sorted by
    key, version and passage, each row with its version's rank among the key's versions; its
    blocks are checked as lookups first read them, its membership filter when a search first
    reads it."""

    def __init__(self, path: Path, info: SegmentInfo) -> None:
        self.info = info
        try:
            actual = path.stat().st_size
            with path.open("rb") as handle:
                header = json.loads(handle.read(_HEADER).rstrip(b" \n\0"))
        except (OSError, ValueError) as err:
            raise CorruptSegment(f"{path.name}: {err}") from err
        version = header.get("format") if isinstance(header, dict) else None
        layout = _layout(info.rows, version if version in _READ_FORMATS else _FORMAT)
        expected = {"magic": _MAGIC, "format": version, "block": BLOCK, **info.to_dict()}
        if version not in _READ_FORMATS or actual != layout.size or header != expected:
            raise CorruptSegment(f"{path.name}: size {actual} (expected {layout.size}) or header {header} disagrees")
        self._layout = layout
        n = info.rows
        blocks = -(-n // BLOCK)
        kinds = ((np.uint64, n), (np.uint32, n), (np.uint32, n), (np.uint8, n), (np.uint64, blocks))
        # One read-only shared mapping of the file; the columns are views of it.
        self._map: mmap.mmap | None = None
        if n:
            with path.open("rb") as handle:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self.keys, self.prel, self.vrel, self.rank, self.sums = (
            np.frombuffer(self._map, kind, count, offset) if self._map is not None else np.zeros(0, kind)
            for offset, (kind, count) in zip(layout.columns, kinds, strict=True)
        )
        # The membership filter's words, their pages' checksums and which pages are checked:
        # read at the first search for few keys.
        self._filter: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.checked = np.zeros(blocks, bool)
        self._offsets = (info.lo, info.vlo)
        self._searched = 0  # keys searched for since the pages were last unmapped
        self._fences: np.ndarray | None = None  # every KEYS_PER_PAGE-th key, made at the first search

    def check_all(self) -> None:
        """Verify every block not verified before, ``MAPPED_BYTES`` of rows at a time, unmapping
        the pages after each."""
        step = _mapped_rows(_ROW_BYTES) // BLOCK
        try:
            for first in range(0, len(self.checked), step):
                args = (self.keys, self.prel, self.vrel, self.rank, self.sums, self.checked)
                _native.segment_check(*args, first, first + step)
                self.release()
        except ValueError as err:
            raise CorruptSegment(f"{self.info.name}: {err}") from err
        finally:
            self.release()

    def release(self) -> None:
        """Unmap the pages of the columns searches read (they stay in the page cache, and a later
        search maps them again). Without this, a bulk ingest's lookups, each touching nearly every
        page of every key column, leave the whole index counted in the process's resident
        memory, which then grows with the corpus; with it the process holds at most one
        segment's pages. The membership filter's pages stay: only searches for few keys read
        them, a few pages each, and each would otherwise map its pages again (as much as the
        filter's search itself)."""
        self._searched = 0
        if self._map is not None and hasattr(mmap, "MADV_DONTNEED"):  # not on Windows
            columns = self._layout.filter_at // mmap.PAGESIZE * mmap.PAGESIZE
            if columns:
                self._map.madvise(mmap.MADV_DONTNEED, 0, columns)

    def lookup(
        self, queries: np.ndarray, max_versions: int | None, filtered: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows whose key is one of ``queries`` (sorted, unique) and whose version is one of
        the first ``max_versions`` of the segment holding the key: keys, passage ids, version ids
        (:meth:`lookup_parts` joined)."""
        return _rows_joined(self.lookup_parts(queries, max_versions, filtered))

    def lookup_parts(
        self, queries: np.ndarray, max_versions: int | None, filtered: bool = True
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """:meth:`lookup`'s rows as consecutive parts (keys, passage ids, version ids each), so
        that a caller joining several segments' rows copies them once.

        A compiled merge of the sorted queries with the sorted keys (``_native.segment_lookup``):
        its searches read unchecked bytes, and an answer is trusted only once the rows on both
        sides of each boundary are in checked blocks and bound it, which on the sorted rows that
        were written means the boundary is right whatever else the file holds. A segment larger
        than ``MAPPED_BYTES`` is searched a range of its rows at a time, each about that size,
        its pages unmapped after each: however many keys a search has, it maps no more. A search
        for few keys (``MAX_FILTERED_KEYS``), fewer than the segment has pages, searches only
        those its membership filter may hold (``FILTER_BITS``), unless not ``filtered``."""
        if filtered and len(queries) <= MAX_FILTERED_KEYS and len(queries) * KEYS_PER_PAGE < self.info.rows:
            # Few keys, fewer than pages: each would map a page, most of them to find nothing.
            queries = self._filter_select(queries)
        if not self.info.rows or not len(queries):
            return []
        cap = max_versions if max_versions is not None and max_versions < RANK_CAP else None
        # A key beyond the last one's page goes to its own through the fences (one read of a
        # page) rather than galloping from the last key, whose long strides miss the cache and
        # map pages far apart.
        fences = self._fence_keys()
        span = _mapped_rows(_ROW_BYTES)
        if self.info.rows <= span:
            found = self._search(queries, cap, fences)
            # A small segment's pages stay mapped for the next search (mapping them again cost
            # one article's lookup as much as the search itself) until the searches add up to
            # about a key a page.
            self._searched += len(queries)
            if self._searched * KEYS_PER_PAGE >= self.info.rows:
                self.release()
            return [found]
        starts = fences[span // KEYS_PER_PAGE :: span // KEYS_PER_PAGE]  # the first key of each range but the first
        found_parts = []
        for chunk in np.split(queries, np.searchsorted(queries, starts)):
            if len(chunk):
                found_parts.append(self._search(chunk, cap, fences))
                self.release()
        return found_parts

    def membership(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The membership filter (see ``FILTER_BITS``): its words, the checksum of each page of
        ``FILTER_PAGE_WORDS`` of them, and which pages are checked, for
        ``_native.segment_filter_select`` to check the pages a search reads as it first reads
        them (a damaged filter would drop keys the segment holds). The words are searched where
        the file is mapped; format 4 has a checksum a page, format 3 one for the whole filter,
        checked whole here. Only searches for few keys read it, so a bulk run never holds the
        filters."""
        if self._filter is None:
            layout = self._layout
            words = layout.filter_words
            if self._map is None or not words:
                self._filter = np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(1, bool)
                return self._filter
            pages = -(-words // FILTER_PAGE_WORDS)
            view = np.frombuffer(self._map, np.uint64, words, layout.filter_at)
            if layout.version >= 4:
                sums = np.array(np.frombuffer(self._map, np.uint64, pages, layout.pages_at))
                self._filter = view, sums, np.zeros(pages, bool)
            else:
                stored = np.frombuffer(self._map, np.uint64, 1, layout.pages_at)
                if not np.array_equal(_whole_sum(view), stored):
                    raise CorruptSegment(f"{self.info.name}: the membership filter's checksum fails")
                self._filter = view, np.zeros(0, np.uint64), np.ones(pages, bool)
        return self._filter

    def _filter_select(self, queries: np.ndarray) -> np.ndarray:
        """The ``queries`` the membership filter may hold (every key the segment holds)."""
        words, sums, checked = self.membership()
        try:
            return _native.segment_filter_select(words, sums, checked, FILTER_PAGE_WORDS, queries)
        except ValueError as err:
            raise CorruptSegment(f"{self.info.name}: {err}") from err

    def _fence_keys(self) -> np.ndarray:
        """Every ``KEYS_PER_PAGE``-th key, kept in memory: format 4 stores them, checksummed; a
        format 3 file's are read from the keys, ``MAPPED_BYTES`` of them at a time (a key of
        every page: a large segment's take a new process tens of milliseconds)."""
        if self._fences is None:
            layout = self._layout
            if self._map is not None and layout.version >= 4:
                fences = np.array(np.frombuffer(self._map, np.uint64, layout.fences, layout.fences_at))
                stored = np.frombuffer(self._map, np.uint64, 1, layout.fences_at + 8 * layout.fences)
                if not np.array_equal(_whole_sum(fences), stored):
                    raise CorruptSegment(f"{self.info.name}: the fences' checksum fails")
                self._fences = fences
                return fences
            step = _mapped_rows(8)  # only the keys are read
            parts = []
            for first in range(0, self.info.rows, step):
                parts.append(np.array(self.keys[first : first + step : KEYS_PER_PAGE]))
                self.release()
            self._fences = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
        return self._fences

    def _search(
        self, queries: np.ndarray, cap: int | None, fences: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        try:
            return _native.segment_lookup(
                self.keys,
                self.prel,
                self.vrel,
                self.rank,
                self.sums,
                self.checked,
                queries,
                cap,
                *self._offsets,
                fences,
                KEYS_PER_PAGE,
            )
        except ValueError as err:
            raise CorruptSegment(f"{self.info.name}: {err}") from err


def write_segment(
    folder: Path,
    lo: int,
    hi: int,
    keys: np.ndarray,
    passages: np.ndarray,
    versions: np.ndarray,
    token: str | None = None,
) -> SegmentInfo:
    """Write the band keys of passages ``[lo, hi)`` (rows in any order) as a segment, sorted,
    ranked and checksummed by the native engine (see :func:`_write_file`); return what the
    record says of it. ``token`` names the segment (a random one by default)."""
    n = len(keys)
    vlo = int(versions.min()) if n else 0
    info = SegmentInfo(lo, hi, n, vlo, token or secrets.token_hex(8))
    columns: tuple[np.ndarray, ...] = _native.segment_build(
        np.ascontiguousarray(keys, np.uint64),
        np.ascontiguousarray(passages, np.int64),
        np.ascontiguousarray(versions, np.int64),
        lo,
        vlo,
        RANK_CAP,
    )
    return _write_file(folder, info, [columns])


class MergeCancelled(Exception):
    """A background merge was stopped (its index closed) before it was written."""


def merge_segments(
    folder: Path, parts: list[Segment], token: str | None = None, cancelled: Callable[[], bool] = lambda: False
) -> SegmentInfo:
    """Write the merge of ``parts`` (segments of consecutive passage ranges, in order) as one
    segment, the same as :func:`write_segment` of all their rows: the native engine merges the
    sorted parts a chunk of ``MERGE_CHUNK_ROWS`` rows at a time, and each part's pages are
    unmapped after every chunk, so neither the parts nor the merge are ever whole in memory.
    ``token`` names the new segment (a random one by default); once ``cancelled()`` is true, the
    next chunk raises :class:`MergeCancelled` instead."""
    held = [part for part in parts if part.info.rows]
    vlo = min((part.info.vlo for part in held), default=0)
    rows = sum(p.info.rows for p in held)
    info = SegmentInfo(parts[0].info.lo, parts[-1].info.hi, rows, vlo, token or secrets.token_hex(8))
    merge = _native.SegmentMerge(len(held))
    shifts = [(part.info.lo - info.lo, part.info.vlo - vlo) for part in held]
    columns = [p.keys for p in held], [p.prel for p in held], [p.vrel for p in held]

    def chunks() -> Iterator[tuple[np.ndarray, ...]]:
        while True:
            if cancelled():
                raise MergeCancelled(info.name)
            chunk = merge.next(*columns, shifts, MERGE_CHUNK_ROWS, RANK_CAP)
            for part in held:
                part.release()
            if not len(chunk[0]):
                return
            yield chunk

    return _write_file(folder, info, chunks())


def _write_file(folder: Path, info: SegmentInfo, chunks: Iterable[tuple[np.ndarray, ...]]) -> SegmentInfo:
    """Write the segment ``info`` from its columns' consecutive chunks (keys, passage offsets,
    version offsets, ranks, block sums; every chunk but the last whole blocks), and the
    membership filter of its keys with the filter's checksum: to a temporary file, fsynced, then
    renamed (a failed write removes it)."""
    folder.mkdir(exist_ok=True)
    temp = folder / f".tmp-{info.token}"
    try:
        _write_columns(temp, info, chunks)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    os.replace(temp, folder / info.name)
    _sync_folder(folder)
    return info


def _write_columns(temp: Path, info: SegmentInfo, chunks: Iterable[tuple[np.ndarray, ...]]) -> None:
    """:func:`_write_file`'s writing of the file ``temp``, fsynced."""
    layout = _layout(info.rows)
    words = np.zeros(layout.filter_words, np.uint64)
    fences = []
    widths = (8, 4, 4, 1)
    header = json.dumps({"magic": _MAGIC, "format": _FORMAT, "block": BLOCK, **info.to_dict()}).encode()
    with temp.open("wb") as handle:
        handle.write(header.ljust(_HEADER, b" "))
        row = 0
        for chunk in chunks:
            *columns, sums = chunk
            for offset, width, array in zip(layout.columns[:-1], widths, columns, strict=True):
                handle.seek(offset + width * row)
                handle.write(array.data)
            handle.seek(layout.columns[-1] + 8 * (row // BLOCK))
            handle.write(sums.data)
            _native.segment_filter_add(words, columns[0])
            fences.append(np.array(columns[0][-row % KEYS_PER_PAGE :: KEYS_PER_PAGE], np.uint64))
            row += len(columns[0])
        if row != info.rows:
            raise ValueError(f"a segment of {info.rows} rows was given {row}")
        fence_keys = np.concatenate(fences) if fences else np.zeros(0, np.uint64)
        handle.seek(layout.filter_at)
        handle.write(words.data)
        handle.write(_native.segment_page_sums(words, FILTER_PAGE_WORDS).data)
        handle.write(fence_keys.data)
        handle.write(_whole_sum(fence_keys).data)
        handle.truncate(layout.size)
        handle.flush()
        os.fsync(handle.fileno())


def _delete_files(paths: list[Path], doomed: set[str]) -> None:
    """Delete ``paths`` (files no record names), each name then taken out of ``doomed``: one
    that could not be deleted is tried again by the next collection."""
    for path in paths:
        with suppress(OSError):
            path.unlink(missing_ok=True)
        doomed.discard(path.name)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rows_joined(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parts of rows (keys, passage ids, version ids each) end to end; one part as it is."""
    if not parts:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(parts) == 1:
        return parts[0]
    keys, passages, versions = (np.concatenate(c) for c in zip(*parts, strict=True))
    return keys, passages, versions


def _row_sums(keys: np.ndarray, passages: np.ndarray, versions: np.ndarray) -> tuple[int, ...]:
    """Rows' count and the sums of their columns, the keys' high and low 32 bits apart (exact in
    64 bits): what tells rows kept in memory from the rows the table holds (see
    :meth:`KeyIndex._fresh_rows`)."""
    # Summed in place through a view of the halves: a shifted copy of the keys costs more.
    halves = np.ascontiguousarray(keys, np.uint64).view(np.uint32)
    high, low = (halves[1::2], halves[0::2]) if sys.byteorder == "little" else (halves[0::2], halves[1::2])
    return (
        len(keys),
        int(high.sum(dtype=np.uint64)),
        int(low.sum(dtype=np.uint64)),
        int(passages.sum()),
        int(versions.sum()),
    )


def _columns(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any], **tables: Table
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``key, passage_id, version_id`` of a query (which may read ``tables``, see
    :func:`~warehouse.scans.execute_with`) as uint64, int64 and int64 arrays."""
    got = execute_with(con, sql, params, **tables).fetchnumpy()
    return (
        np.asarray(got["key"], np.uint64),
        np.asarray(got["passage_id"], np.int64),
        np.asarray(got["version_id"], np.int64),
    )


@dataclass(frozen=True)
class _Fresh:
    """The band keys of passages ``[first, end)`` as a batch's probe read them."""

    first: int
    end: int
    keys: np.ndarray
    passages: np.ndarray
    versions: np.ndarray

    @property
    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.keys, self.passages, self.versions


@dataclass(frozen=True)
class _Merging:
    """A merge of ``parts`` being written in the background as the segment named by ``token``."""

    parts: list[SegmentInfo]
    token: str
    cancel: threading.Event
    done: Future[SegmentInfo]


@dataclass(frozen=True)
class _Building:
    """New segments of passages ``[lo, hi)`` being written in the background, named by ``tokens``."""

    lo: int
    hi: int
    tokens: list[str]
    #: Each piece's passage range and :func:`_row_sums`, to check against the table at take-in.
    sums: list[tuple[int, int, tuple[int, ...]]]
    done: Future[list[SegmentInfo]]


@dataclass(frozen=True)
class _Piece:
    """The band keys of passages ``[lo, hi)``, to be written as the segment named ``token``."""

    lo: int
    hi: int
    rows: tuple[np.ndarray, np.ndarray, np.ndarray]
    #: :func:`_row_sums` of the rows, which the table held when they were read.
    sums: tuple[int, ...]
    token: str


def _write_pieces(folder: Path, pieces: list[_Piece]) -> list[SegmentInfo]:
    """Write each piece's rows as its segment (:func:`write_segment`), in order."""
    return [write_segment(folder, p.lo, p.hi, *p.rows, token=p.token) for p in pieces]


def _checked_merge(folder: Path, parts: list[SegmentInfo], token: str, cancelled: Callable[[], bool]) -> SegmentInfo:
    """Check every block of ``parts`` (mapped here, apart from the writer's mappings), then
    :func:`merge_segments` them as the segment ``token``."""
    opened = [Segment(folder / info.name, info) for info in parts]
    for part in opened:
        part.check_all()
    return merge_segments(folder, opened, token, cancelled)


class KeyIndex:
    """The segments of one warehouse file, for its writer connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, warehouse: str) -> None:
        self.con = con
        self.folder = Path(warehouse + ".keyindex")
        env = os.environ.get
        self.segment_passages = int(env("REUSETRACK_SEGMENT_PASSAGES", SEGMENT_PASSAGES))
        self.max_segment_passages = int(env("REUSETRACK_MAX_SEGMENT_PASSAGES", MAX_SEGMENT_PASSAGES))
        self.max_merged_passages = int(env("REUSETRACK_MAX_MERGED_PASSAGES", MAX_MERGED_PASSAGES))
        self._open: dict[str, Segment] = {}
        #: The probes of recent batches, in passage order, to build segments from (derived from
        #: rows read in the writer's transactions; lost with the process, then read again).
        self._fresh: list[_Fresh] = []
        #: Segments rebuilt because their file was lost or damaged, for tests and the benchmark.
        self.rebuilt = 0
        #: Segments built from rows read back from ``band_keys`` rather than kept from the probes.
        self.read_back = 0
        #: Whether this process has searched in bulk (more than ``MAX_FILTERED_KEYS`` keys): a
        #: bulk ingest's last, small batch then does not load the membership filters, which the
        #: process would hold through the run's lineage update (its peak of memory).
        self.bulk = False
        #: The merge being written in the background, if any (see :meth:`_merge`).
        self._merging: _Merging | None = None
        self._merger: ThreadPoolExecutor | None = None
        self.background_build_rows = int(env("REUSETRACK_BACKGROUND_BUILD_ROWS", BACKGROUND_BUILD_ROWS))
        #: New segments being written in the background, if any (see :meth:`build_ahead`).
        self._building: _Building | None = None
        self._builder: ThreadPoolExecutor | None = None
        #: Files no record names, being deleted in the background (see :meth:`_collect`).
        self._doomed: set[str] = set()
        self._deleter: ThreadPoolExecutor | None = None
        #: The stored passages' signatures, for the candidate filter (in the same folder).
        self.signatures = SignatureStore(con, self.folder)

    # -- the record ---------------------------------------------------------------------------

    def _record(self) -> list[SegmentInfo]:
        value = read_meta(self.con, META_KEY)
        if value is None:
            return []
        try:
            found = json.loads(value)
            segments = sorted((SegmentInfo.from_dict(d) for d in found["segments"]), key=lambda s: s.lo)
        except (ValueError, KeyError, TypeError):
            return []
        # The segments must cover [0, covered) end to end: any other record is not ours.
        bounds = [0] + [s.hi for s in segments]
        if found.get("format") != _RECORD_FORMAT or any(
            s.lo != b or s.hi <= s.lo for s, b in zip(segments, bounds, strict=False)
        ):
            return []
        return segments

    def _write_record(self, segments: list[SegmentInfo]) -> None:
        value = json.dumps({"format": _RECORD_FORMAT, "segments": [s.to_dict() for s in segments]})
        write_meta(self.con, META_KEY, value)

    # -- keeping it up to date ----------------------------------------------------------------

    def sync(self, committed: int) -> list[Segment]:
        """Bring the index up to date with the passages below ``committed`` (their band keys may
        not change any more) and return its segments in passage order: files the record does not
        name are deleted, named ones that are lost or damaged rebuilt, a new segment written when
        the tail reaches ``SEGMENT_PASSAGES`` (or the one :meth:`build_ahead` started taken in,
        once written), and segments merged. Call it where the record may be written: in the
        caller's transaction, it commits or rolls back with it."""
        recorded = self._record()
        self._collect({s.name for s in recorded})
        changed = False
        segments: list[SegmentInfo] = []
        for info in recorded:
            if info.name not in self._open:
                try:
                    self._open[info.name] = Segment(self.folder / info.name, info)
                except CorruptSegment:
                    segments += self._build(info.lo, info.hi)
                    self.rebuilt += 1
                    changed = True
                    continue
            segments.append(info)
        if self._take_build(segments):
            changed = True
        covered = segments[-1].hi if segments else 0
        if committed - covered >= self.segment_passages:
            segments += self._build(covered, committed)
            changed = True
        if self._merge(segments):
            changed = True
        if changed:
            self._write_record(segments)
        return [self._open[s.name] for s in segments]

    def stop(self) -> None:
        """At the end of a run's batches, where no sync would take in the merge being written:
        leave it to finish, for :meth:`close` to take in, unless the process searched in bulk
        (the lineage update that follows is a bulk run's memory peak) or it merges more than
        ``CLOSE_MERGE_ROWS`` rows (the close would keep the warehouse locked while it waits);
        then stop it and wait for it, and forget it (a file it finished is left to be
        collected). A run of one article, or a crawl's batch, is short beside a merge: stopped,
        the merge would start again in the next run and never finish (each run paying for its
        start and its stop), while the segments it would have merged keep every lookup reading
        one more of them. A segment built ahead is left to finish, for :meth:`close` to take in
        (waited for here when the merge is stopped)."""
        merging = self._merging
        if merging is not None:
            if not self.bulk and sum(p.rows for p in merging.parts) <= CLOSE_MERGE_ROWS:
                return
            merging.cancel.set()
        self._shut()
        self._merging = None

    def close(self) -> None:
        """Wait for a merge and a build ahead being written in the background and take them in,
        in a transaction of their own (a writer that opens the warehouse for each batch, as a crawl
        does, would otherwise never keep one); left to be collected if the connection cannot."""
        self._shut()
        if self._merging is None and self._building is None:
            return
        try:
            self.con.execute("BEGIN TRANSACTION")
        except duckdb.Error:  # a failed connection, or one in a transaction of its caller's
            self._merging = self._building = None
            return
        try:
            segments = self._record()
            built = self._take_build(segments)
            if self._take_merge(segments) or built:
                self._write_record(segments)
            self.con.execute("COMMIT")
        except (duckdb.Error, CorruptSegment, OSError):
            with suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
        self._merging = self._building = None

    def _shut(self) -> None:
        """Wait for the background threads (merges, builds, deletions) to end."""
        if self._merger is not None:
            self._merger.shutdown(wait=True)
            self._merger = None
        if self._builder is not None:
            self._builder.shutdown(wait=True)
            self._builder = None
        self._wait_deletions()

    def _wait_deletions(self) -> None:
        """Wait for the files :meth:`_collect` handed over to be deleted."""
        if self._deleter is not None:
            self._deleter.shutdown(wait=True)
            self._deleter = None

    def settle(self, committed: int) -> list[Segment]:
        """:meth:`sync` until no merge or build is being written, and once more to delete the
        merged parts (waiting for the deletions): the files beside the warehouse are then the
        segments returned (tests)."""
        self.sync(committed)
        while self._merging is not None or self._building is not None:
            pending: list[Future[Any]] = [w.done for w in (self._merging, self._building) if w is not None]
            wait(pending)
            self.sync(committed)
        segments = self.sync(committed)
        self._wait_deletions()
        return segments

    def _collect(self, named: set[str]) -> None:
        """Forget the files the record does not name and delete them in a thread of their own
        (but the files of the merge and the build being written, and the signature store's,
        which has a record of its own). Deleting a large file frees its blocks: about 80 ms a
        merged part in the PAN13 job, 2.5 s of the writer's time there. A file whose deletion
        fails, or that a killed process leaves, is deleted by a later collection."""
        for name in list(self._open):
            if name not in named:
                del self._open[name]
        if not self.folder.is_dir():
            return
        writing = [self._merging.token] if self._merging is not None else []
        writing += self._building.tokens if self._building is not None else []
        doomed = [
            path
            for path in self.folder.iterdir()
            if path.name != SIGNATURE_FILE
            and path.name not in named
            and path.name not in self._doomed
            and not any(token in path.name for token in writing)
        ]
        if doomed:
            self._doomed.update(path.name for path in doomed)
            if self._deleter is None:
                self._deleter = ThreadPoolExecutor(1, thread_name_prefix="keyindex-delete")
            self._deleter.submit(_delete_files, doomed, self._doomed)

    def _build(self, lo: int, hi: int) -> list[SegmentInfo]:
        """New segments of ``band_keys`` for passages ``[lo, hi)``, in pieces of at most
        ``max_segment_passages``: each from the rows this writer read as its batches' probes when
        they cover the piece and DuckDB holds as many rows there (:meth:`_fresh_rows`), else read
        from the warehouse (in stored order: the native build sorts them)."""
        return [self._keep(info) for info in _write_pieces(self.folder, self._pieces(lo, hi))]

    def _pieces(self, lo: int, hi: int) -> list[_Piece]:
        """The rows of passages ``[lo, hi)`` in pieces of at most ``max_segment_passages`` (see
        :meth:`_build`), each with the token of its segment to be."""
        pieces = []
        for start in range(lo, hi, self.max_segment_passages):
            end = min(start + self.max_segment_passages, hi)
            fresh = self._fresh_rows(start, end)
            if fresh is None:
                self.read_back += 1
                rows = _columns(
                    self.con,
                    "SELECT key, passage_id, version_id FROM band_keys WHERE passage_id >= ? AND passage_id < ?",
                    [start, end],
                )
                fresh = rows, _row_sums(*rows)
            pieces.append(_Piece(start, end, *fresh, secrets.token_hex(8)))
        return pieces

    def build_ahead(self) -> None:
        """After a batch has committed: when the tail then reaches ``SEGMENT_PASSAGES`` and holds
        ``background_build_rows`` rows or more, start writing its segments in a thread of their
        own (see ``BACKGROUND_BUILD_ROWS``), from the rows kept from the batches' probes (or read
        back), for the next batch's sync to take in; meanwhile the writer reads and analyses the
        next batch and stores it. Every passage the probes kept is committed when it is called.
        Smaller tails are left to the syncs, which write them at once."""
        # Fewer rows kept from the probes than the threshold (every run of a few articles):
        # nothing to build ahead, and the record is not read. (A tail this process did not probe
        # is left to the syncs, which read it back.)
        if self._building is not None or sum(len(f.keys) for f in self._fresh) < self.background_build_rows:
            return
        committed = max(f.end for f in self._fresh)
        segments = self._record()
        covered = segments[-1].hi if segments else 0
        if committed - covered < self.segment_passages:
            return
        pieces = self._pieces(covered, committed)
        if self._builder is None:
            self._builder = ThreadPoolExecutor(1, thread_name_prefix="keyindex-build")
        done = self._builder.submit(_write_pieces, self.folder, pieces)
        sums = [(p.lo, p.hi, p.sums) for p in pieces]
        self._building = _Building(covered, committed, [p.token for p in pieces], sums, done)

    def _take_build(self, segments: list[SegmentInfo]) -> bool:
        """Add the segments :meth:`build_ahead` started to ``segments``, once written (waited for
        here), if they start where ``segments`` end and the table still holds their rows (a
        transaction rolled back since may have changed the record or the rows: then their files
        are left to be collected); whether it added them. A failed write raises here, in the
        batch whose sync takes it in, as a write at once would have."""
        building = self._building
        if building is None:
            return False
        self._building = None
        written = building.done.result()
        if (segments[-1].hi if segments else 0) != building.lo:
            return False
        # Rows read outside the batch that committed them (a caller's transaction rolled back
        # since, rows deleted) are no longer what the table holds.
        if any(self._table_sums(lo, hi) != sums for lo, hi, sums in building.sums):
            return False
        segments += [self._keep(info) for info in written]
        return True

    def _remember(self, first: int, probe: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Keep a batch's probe (every stored row from passage ``first`` on) to build the segment
        of its range later without reading it back; a probe from ``first`` replaces the rows
        kept from there on (a rolled-back batch's: its ids are given again)."""
        self._fresh = [f for f in self._fresh if f.end <= first]
        if len(probe[0]):
            self._fresh.append(_Fresh(first, int(probe[1].max()) + 1, *probe))

    def _fresh_rows(self, lo: int, hi: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[int, ...]] | None:
        """The rows of passages ``[lo, hi)`` from the kept probes, with their :func:`_row_sums`,
        if the warehouse holds the same there (equal counts and column sums: a scan of a few row
        groups), else None. Probes wholly below ``hi`` are forgotten: the range is built."""
        parts = [f for f in self._fresh if f.end > lo and f.first < hi]
        self._fresh = [f for f in self._fresh if f.end > hi]
        if not parts:
            return None
        keys, passages, versions = _rows_joined([f.rows for f in parts])
        if any(f.first < lo or f.end > hi for f in parts):
            inside = (passages >= lo) & (passages < hi)
            keys, passages, versions = keys[inside], passages[inside], versions[inside]
        # Rows the probes missed (stored by other means, or before this process's first probe) or
        # kept from a batch rolled back make the table's counts or sums of the columns differ
        # from the kept rows'.
        sums = _row_sums(keys, passages, versions)
        if self._table_sums(lo, hi) != sums:
            return None
        return (keys, passages, versions), sums

    def _table_sums(self, lo: int, hi: int) -> tuple[int, ...]:
        """:func:`_row_sums` of the rows ``band_keys`` holds for passages ``[lo, hi)`` (a scan
        of a few row groups)."""
        stored = self.con.execute(
            "SELECT count(*), coalesce(sum(key >> 32), 0), coalesce(sum(key & 4294967295), 0),"
            " coalesce(sum(passage_id), 0), coalesce(sum(version_id), 0)"
            " FROM band_keys WHERE passage_id >= ? AND passage_id < ?",
            [lo, hi],
        ).fetchall()[0]
        return tuple(int(v) for v in stored)

    def _keep(self, info: SegmentInfo) -> SegmentInfo:
        self._open[info.name] = Segment(self.folder / info.name, info)
        return info

    def _merge(self, segments: list[SegmentInfo]) -> bool:
        """Take in the merge written in the background if it is done, and start the next that is
        due; whether ``segments`` changed.

        A merge is due for the first run of ``FANOUT`` consecutive segments of one size tier
        (that spans at most ``max_merged_passages``). It is written in a thread of its own from
        mappings of its own, while the writer goes on; a later sync puts it in place of its
        parts, in that call's transaction, if they are still in the record (else its file is
        left to be collected). Its parts are checked whole before they are merged, so nothing
        unchecked is copied; a damaged part is rebuilt here instead."""
        changed = self._take_merge(segments)
        if self._merging is None and (at := self._due(segments)) is not None:
            parts = segments[at : at + FANOUT]
            token = secrets.token_hex(8)
            cancel = threading.Event()
            if self._merger is None:
                self._merger = ThreadPoolExecutor(1, thread_name_prefix="keyindex-merge")
            done = self._merger.submit(_checked_merge, self.folder, parts, token, cancel.is_set)
            self._merging = _Merging(parts, token, cancel, done)
        return changed

    def _due(self, segments: list[SegmentInfo]) -> int | None:
        """Where the first run of ``FANOUT`` segments due for a merge starts (see :meth:`_merge`)."""
        for at in range(len(segments) - FANOUT + 1):
            run = segments[at : at + FANOUT]
            tiers = {self._tier(s.hi - s.lo) for s in run}
            if len(tiers) == 1 and run[-1].hi - run[0].lo <= self.max_merged_passages:
                return at
        return None

    def _take_merge(self, segments: list[SegmentInfo]) -> bool:
        """Put the merge written in the background in place of its parts, if it is done and they
        are still consecutive in ``segments``; whether it did (or rebuilt a damaged part)."""
        merging = self._merging
        if merging is None or not merging.done.done():
            return False
        self._merging = None
        at = next((k for k in range(len(segments)) if segments[k : k + FANOUT] == merging.parts), None)
        try:
            info = merging.done.result()
        except MergeCancelled:
            return False
        except CorruptSegment:
            if at is None:
                return False
            for k, part in enumerate(merging.parts):
                try:
                    self._open[part.name].check_all()
                except CorruptSegment:
                    self.rebuilt += 1
                    segments[at + k : at + k + 1] = self._build(part.lo, part.hi)
                    return True
            return False
        if at is None:
            (self.folder / info.name).unlink(missing_ok=True)
            return False
        segments[at : at + FANOUT] = [self._keep(info)]
        return True

    def _tier(self, span: int) -> int:
        """The size tier of a segment of ``span`` passages."""
        tier = 0
        while span >= self.segment_passages * FANOUT ** (tier + 1):
            tier += 1
        return tier

    # -- lookups ------------------------------------------------------------------------------

    def held(
        self, segments: list[Segment], queries: np.ndarray, max_versions: int | None
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The rows of every segment whose key is one of ``queries`` (sorted, unique), of the
        first ``max_versions`` versions holding the key in that segment (a superset of the first
        of all segments), as parts in the segments' order (see :meth:`Segment.lookup_parts`);
        a segment found damaged is rebuilt (and the record rewritten) and read again."""
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.bulk = self.bulk or len(queries) > MAX_FILTERED_KEYS
        for segment in list(segments):
            try:
                found += segment.lookup_parts(queries, max_versions, not self.bulk)
            except CorruptSegment:
                self.rebuilt += 1
                pieces = self._build(segment.info.lo, segment.info.hi)
                records = self._record()
                at = [r.name for r in records].index(segment.info.name)
                records[at : at + 1] = pieces
                self._write_record(records)
                at = segments.index(segment)
                segments[at : at + 1] = [self._open[info.name] for info in pieces]
                for info in pieces:
                    found += self._open[info.name].lookup_parts(queries, max_versions, not self.bulk)
        return found

    def candidates(
        self, first: int, max_versions: int | None, given: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """``Warehouse.candidates`` through the index, as an ``(n, 4)`` int64 array, sorted.

        The new rows (``passage_id >= first``: ``given``, else read from DuckDB) and the rows of
        the tail before them holding their keys (from DuckDB); the segments give the rows before
        the tail. A segment later written from the new rows is checked against ``band_keys``
        (see :meth:`sync`)."""
        if given is None:
            new_rows = "SELECT key, passage_id, version_id FROM band_keys WHERE passage_id >= ?"
            given = _columns(self.con, new_rows, [first])
        probe = (
            np.asarray(given[0], np.uint64),
            np.asarray(given[1], np.int64),
            np.asarray(given[2], np.int64),
        )
        if not len(probe[0]):
            return np.zeros((0, 4), np.int64)
        # Sorted once: for the distinct keys, the pairing and the segment built from them later.
        probe = _native.sort_band_rows(*probe)
        # Passages are stored after the largest id (ingest's next_id): once some at or above
        # ``first`` are stored, none below it will be, and the index may cover them.
        segments = self.sync(first)
        self._remember(first, probe)
        covered = segments[-1].info.hi if segments else 0
        keys = probe[0]
        queries = keys[np.r_[True, keys[1:] != keys[:-1]]]
        tail = _columns(
            self.con,
            "SELECT b.key, b.passage_id, b.version_id FROM band_keys b SEMI JOIN probe_keys USING (key)"
            " WHERE b.passage_id >= ? AND b.passage_id < ?",
            [covered, first],
            probe_keys={"key": pa.array(queries, pa.uint64())},
        )
        # The probe's own rows are held rows too: the compiled pairing counts them once, even
        # where a segment holds them (``first < covered``).
        # The segments' rows and the tail's, handed over as they are: the pairing reads each
        # segment's sorted rows where they lie (a bulk batch's run to 130 MB) and sorts only the
        # tail's into a copy.
        return _native.candidate_pairs([*self.held(segments, queries, max_versions), tail], *probe, max_versions)
