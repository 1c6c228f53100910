"""Stored passages' signatures beside the warehouse, read by passage id: the candidate filter's store.

The candidate filter (``Ingestor._likely``) reads the signature and token count of every stored
passage a batch's candidates name. From DuckDB that is a join that reads the whole ``signatures``
table, whatever the batch (a PAN13 batch's 57,000 passages of up to 570,000 stored: the table read
in every one of the job's 30 batches; one article against 1M passages: 8–90 ms, 240 ms in a new
process). ``signatures`` stays the truth; this store, a file in the key index's folder, holds a
copy of each passage's signature and token count as a record of fixed size at
``HEADER + passage_id * record`` bytes, so that reading a passage is reading its record.

Which records are trusted is said by the warehouse itself: the ``meta`` row ``signature_store``
(JSON: the file's random token, the signatures' width and ``covered``, below which every stored
passage has its record written), written in the writer's transaction with the batch whose records
it adds, so that it commits or rolls back with it; records at or above ``covered`` (a rolled-back
batch's) are written over. Each record ends with a checksum of its words and passage id, checked
whenever it is read: a record that fails (the file lost or cut short, bytes changed, or pages a
power cut kept from the disk) is read again from ``signatures`` and written again. Records are
not fsynced: a commit's durability is DuckDB's, and a record that did not reach the disk fails its
checksum. A file whose header disagrees with the record (another warehouse's file, or none) is
started afresh; passages the record does not cover (stored by a snapshot load, by a reader's
upgrade, or before the store existed) are copied from DuckDB when a batch first needs them.

Only the warehouse's writer (DuckDB's file lock) keeps the store; a read maps the file for its
own records and unmaps it, so the process's resident memory does not grow with the store (the
page cache keeps the pages).
"""

from __future__ import annotations

import json
import mmap
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

import reuse.engine._native as _native
from warehouse.meta import read_meta, write_meta
from warehouse.scans import Table, relation_with

__all__ = [
    "COPY_PASSAGES",
    "FILE_NAME",
    "HEADER",
    "MAPPED_BYTES",
    "META_KEY",
    "SignatureStore",
    "fixed_width_rows",
    "record_checksums",
    "signature_rows",
]

#: The store's file, in the key index's folder.
FILE_NAME = "signatures.store"
#: The ``meta`` row saying which records are trusted.
META_KEY = "signature_store"
#: Bytes before the first record: the file's header (JSON, padded with spaces).
HEADER = 4096
#: Passages copied from DuckDB a query at a time (about 50 MB of records at 192 permutations).
COPY_PASSAGES = 65536
#: Bytes of the file a read maps at a time (see :meth:`SignatureStore._gather`).
MAPPED_BYTES = 96 * 2**20
_FORMAT = 1
_MAGIC = "reusetrack-signatures"

# The stored rows of a range of passages, or of given passages, as the filter reads them.
_SELECT = (
    "SELECT s.passage_id, s.minhash, p.token_end - p.token_start AS tokens"
    " FROM signatures s JOIN passages p USING (passage_id)"
)


def record_checksums(rows: np.ndarray, passage_ids: np.ndarray) -> np.ndarray:
    """The checksum of each record (a row of 64-bit words, its last the checksum's place): XXH3-64
    of the bytes of its other words seeded with its passage id, so a record changed, or written at
    another passage's place, fails (computed by the native engine, on all cores)."""
    return _native.record_checksums(
        np.ascontiguousarray(rows, dtype=np.uint64),
        np.ascontiguousarray(passage_ids, dtype=np.int64),
        rows.shape[1] - 1,
    )


@dataclass(frozen=True)
class _Record:
    """What the warehouse says of the store."""

    token: str
    width: int  # signature values (uint32) a passage
    covered: int

    @property
    def data_words(self) -> int:
        """Words (of 64 bits) of a record's signature and token count, padded to whole words."""
        return (self.width + 1 + 1) // 2

    @property
    def words(self) -> int:
        return self.data_words + 1  # and the checksum


class SignatureStore:
    """The signatures and token counts of one warehouse's stored passages, for its writer."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path) -> None:
        self.con = con
        self.path = folder / FILE_NAME
        #: Records copied from DuckDB: those a record did not cover, and repairs (for tests).
        self.copied = 0
        #: Records whose checksum failed when read (for tests).
        self.repaired = 0

    # -- the record ---------------------------------------------------------------------------

    def _record(self) -> _Record | None:
        value = read_meta(self.con, META_KEY)
        if value is None:
            return None
        try:
            found = json.loads(value)
            record = _Record(str(found["token"]), int(found["width"]), int(found["covered"]))
        except (ValueError, KeyError, TypeError):
            return None
        if found.get("format") != _FORMAT or record.width <= 0 or record.covered < 0:
            return None
        return record if self._header() == self._header_of(record) else None

    def _write_record(self, record: _Record) -> None:
        value = json.dumps({"format": _FORMAT, "token": record.token, "width": record.width, "covered": record.covered})
        write_meta(self.con, META_KEY, value)

    @staticmethod
    def _header_of(record: _Record) -> dict[str, object]:
        return {"magic": _MAGIC, "format": _FORMAT, "token": record.token, "width": record.width}

    def _header(self) -> dict[str, object] | None:
        try:
            with self.path.open("rb") as handle:
                found = json.loads(handle.read(HEADER).rstrip(b" "))
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def _fresh(self, width: int) -> _Record:
        """A new, empty file for signatures of ``width`` values (any old one replaced)."""
        record = _Record(secrets.token_hex(8), width, 0)
        self.path.parent.mkdir(exist_ok=True)
        header = json.dumps(self._header_of(record)).encode()
        temp = self.path.with_name(f".tmp-{record.token}")
        temp.write_bytes(header.ljust(HEADER, b" "))
        os.replace(temp, self.path)
        return record

    # -- writing ------------------------------------------------------------------------------

    def add(self, first: int, signatures: np.ndarray, tokens: np.ndarray) -> None:
        """Keep the signatures and token counts of the passages ``first, first + 1, ...`` just
        stored in the caller's transaction; any stored passage below ``first`` the store lacks
        is copied from DuckDB first. The record is written in that transaction."""
        if not len(signatures):
            return
        record = self._trusted(signatures.shape[1])
        assert record is not None
        if record.covered < first:
            self._copy(record, record.covered, first)
        ids = np.arange(first, first + len(signatures))
        self._write(record, first, self._records(record, ids, signatures, tokens))
        self._write_record(_Record(record.token, record.width, max(record.covered, first + len(signatures))))

    def _trusted(self, width: int | None) -> _Record | None:
        """The trusted record, its records all in the file (those a cut-short file lost are
        copied again); else a fresh file's, for signatures of ``width`` values or of the stored
        passages' (None when ``width`` is None and nothing is stored)."""
        record = self._record()
        if record is None or (width is not None and record.width != width):
            width = width if width is not None else self._stored_width()
            return None if width is None else self._fresh(width)
        held = self._held(record)
        if held < record.covered:
            self._copy(record, held, record.covered)
        return record

    def _held(self, record: _Record) -> int:
        """Whole records the file holds (passage ids below it have a place in it)."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return 0
        return max(0, size - HEADER) // (8 * record.words)

    def _records(self, record: _Record, ids: np.ndarray, signatures: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """The records of passages ``ids``, as rows of 64-bit words."""
        words = np.zeros((len(ids), record.words), np.uint64)
        values = words.view(np.uint32)
        values[:, : record.width] = signatures
        values[:, record.width] = tokens
        words[:, -1] = record_checksums(words, ids)
        return words

    def _write(self, record: _Record, first: int, rows: np.ndarray) -> None:
        """Write ``rows``, the records of consecutive passages from ``first``."""
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.pwrite(fd, np.ascontiguousarray(rows).data, HEADER + 8 * record.words * first)  # no copy
        finally:
            os.close(fd)

    def _copy(self, record: _Record, lo: int, hi: int) -> None:
        """Copy the stored passages ``[lo, hi)`` from DuckDB into the store, a range at a time."""
        for start in range(lo, hi, COPY_PASSAGES):
            end = min(start + COPY_PASSAGES, hi)
            ids, signatures, tokens = signature_rows(
                self.con,
                " WHERE s.passage_id >= ? AND s.passage_id < ? AND p.passage_id >= ? AND p.passage_id < ?",
                [start, end, start, end],
            )
            if len(ids):
                # The range's records in one write; a passage id no passage has stays zeros,
                # which fail their checksum.
                base = int(ids.min())
                rows = np.zeros((int(ids.max()) + 1 - base, record.words), np.uint64)
                rows[ids - base] = self._records(record, ids, signatures, tokens)
                self._write(record, base, rows)
                self.copied += len(ids)

    # -- reading ------------------------------------------------------------------------------

    def read(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ids, signatures, token counts)`` of the given stored passages (ids distinct), in
        their order, as :meth:`~warehouse.db.Warehouse.passage_signatures` gives them. Call it in
        the writer's transaction: passages the store lacks are copied in, records that fail their
        checksum repaired, and the record written."""
        ids = np.asarray(passage_ids, np.int64)
        record = self._trusted(None) if len(ids) else None
        if record is None:  # nothing asked, or nothing stored: no rows
            none = np.zeros(0, np.int64)
            return none, np.zeros((0, 0), np.uint32), none
        wanted = int(ids.max()) + 1
        if record.covered < wanted:
            self._copy(record, record.covered, wanted)
            record = _Record(record.token, record.width, wanted)
            self._write_record(record)
        rows = self._gather(record, ids)
        failed = np.flatnonzero(record_checksums(rows, ids) != rows[:, -1])
        if len(failed):
            rows[failed] = self._repair(record, ids[failed])
        values = rows.view(np.uint32)
        return ids, values[:, : record.width], values[:, record.width].astype(np.int64)

    def _gather(self, record: _Record, ids: np.ndarray) -> np.ndarray:
        """The records of ``ids`` as the file holds them (a copy), read through mappings of at
        most :data:`MAPPED_BYTES` of the file at a time, each unmapped before the next: the pages a
        bulk batch reads (most of the file) would otherwise all count in the process's memory."""
        rows = np.zeros((len(ids), record.words), np.uint64)
        size = 8 * record.words
        span = max(1, MAPPED_BYTES // size)
        order = np.argsort(ids, kind="stable")
        ordered = ids[order]
        fd = os.open(self.path, os.O_RDONLY)
        try:
            start = 0
            while start < len(ordered):
                lo = int(ordered[start])
                end = int(np.searchsorted(ordered, lo + span))
                hi = int(ordered[end - 1]) + 1
                # A mapping starts at a page: the window's first record lies ``skip`` bytes in.
                at = HEADER + lo * size
                page = at - at % mmap.ALLOCATIONGRANULARITY
                skip = at - page
                with mmap.mmap(fd, skip + (hi - lo) * size, access=mmap.ACCESS_READ, offset=page) as mapped:
                    window = np.frombuffer(mapped, np.uint64, count=(hi - lo) * record.words, offset=skip)
                    rows[order[start:end]] = window.reshape(-1, record.words)[ordered[start:end] - lo]
                    del window  # the mapping closes only once no array views it
                start = end
        finally:
            os.close(fd)
        return rows

    def _repair(self, record: _Record, ids: np.ndarray) -> np.ndarray:
        """Read ``ids`` from DuckDB, write their records again and return them (in ``ids``' order)."""
        found, signatures, tokens = signature_rows(
            self.con, " JOIN (SELECT unnest(?::BIGINT[]) AS passage_id) w USING (passage_id)", [ids.tolist()]
        )
        order = np.argsort(found)
        at = order[np.searchsorted(found[order], ids).clip(max=max(0, len(found) - 1))]
        if len(found) != len(ids) or not np.array_equal(found[at], ids):
            raise ValueError("a passage asked for is not stored")
        rows = self._records(record, ids, signatures[at], tokens[at])
        for k, passage in enumerate(ids.tolist()):
            self._write(record, passage, rows[k : k + 1])
        self.repaired += len(ids)
        return rows

    def _stored_width(self) -> int | None:
        """Signature values a stored passage has (None when none is stored)."""
        row = self.con.execute("SELECT octet_length(minhash) FROM signatures LIMIT 1").fetchall()
        return int(row[0][0]) // 4 if row else None


def signature_rows(
    con: duckdb.DuckDBPyConnection, where: str, params: Sequence[object] = (), **tables: Table
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, signatures, token spans)`` of the stored passages that ``where`` (a clause on the
    tables ``signatures s`` and ``passages p``, and on ``tables``, see
    :func:`~warehouse.scans.relation_with`) picks, read from DuckDB, rows in any order."""
    table = relation_with(con, _SELECT + where, params, **tables).to_arrow_table()
    ids = table.column("passage_id").to_numpy().astype(np.int64, copy=False)
    if not len(ids):
        return ids, np.zeros((0, 0), np.uint32), ids
    signatures = fixed_width_rows(table.column("minhash"), np.dtype("<u4"))
    return ids, signatures, table.column("tokens").to_numpy().astype(np.int64, copy=False)


def fixed_width_rows(blobs: pa.ChunkedArray, dtype: np.dtype[Any]) -> np.ndarray:
    """A column of blobs of one length (e.g. stored signatures) as a matrix of ``dtype``, a row
    a blob, read in place from each chunk's data buffer where there is one chunk (read-only):
    not a Python bytes object a row, joined and copied, which took half of a bulk batch's read."""
    parts = []
    for chunk in blobs.chunks:
        _, offsets, data = chunk.buffers()
        width = np.int64 if pa.types.is_large_binary(chunk.type) else np.int32
        first, last = np.frombuffer(offsets, width)[[chunk.offset, chunk.offset + len(chunk)]]
        parts.append(np.frombuffer(data, dtype=dtype, count=int(last - first) // dtype.itemsize, offset=int(first)))
    values = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return values.reshape(len(blobs), -1)
