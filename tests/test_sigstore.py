"""The signature store (``warehouse.sigstore``) gives exactly the signatures DuckDB holds.

A warehouse file's writer reads stored passages' signatures and token spans for the candidate
filter from the store beside the file; ``Warehouse.passage_signatures_from_tables`` is the
reference. On generated batches of passages (random signatures and spans), stored in
transactions, the two agree on every stored passage after every batch, and after what a crash or
an operator can do: the store's file deleted, cut short, a byte of a record or of its header
changed, another warehouse's store put in its place, the record forgotten, the warehouse file
replaced by an older copy of itself, a batch rolled back after its records were written, and
passages stored without the store (as a snapshot load stores them). Whole ``ingest`` processes
killed at random points are in ``test_keyindex_kills.py``.
"""

from __future__ import annotations

import mmap
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xxhash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse import sigstore
from warehouse.db import Warehouse, open_warehouse
from warehouse.sigstore import FILE_NAME, HEADER, record_checksums

WIDTH = 6
FAULTS = ("none", "delete", "truncate", "corrupt", "header", "foreign", "forget", "restore", "bypass", "rollback")


class _RolledBack(Exception):
    pass


class Stored:
    """A warehouse file whose batches store passages with generated signatures."""

    def __init__(self, path: Path, seed: int) -> None:
        self.path = path
        self.wh = open_warehouse(path)
        self.next = 1
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int, keep: bool = True, roll_back: bool = False) -> None:
        """Store ``size`` passages in one transaction (kept in the store unless not ``keep``;
        rolled back after everything was written if ``roll_back``)."""
        first = self.next
        signatures = self.rng.integers(0, 2**32, (size, WIDTH), dtype=np.uint32)
        tokens = self.rng.integers(1, 500, size)
        ids = np.arange(first, first + size)
        try:
            with self.wh.transaction():
                self.wh.insert(
                    "passages",
                    {
                        "passage_id": ids,
                        "version_id": np.ones(size, np.int64),
                        "position": ids,
                        "kind": ["paragraph"] * size,
                        "token_start": np.zeros(size, np.int64),
                        "token_end": tokens,
                        "char_start": np.zeros(size, np.int64),
                        "char_end": np.ones(size, np.int64),
                        "unspaced": np.zeros(size, bool),
                    },
                )
                self.wh.insert(
                    "signatures", {"passage_id": ids, "minhash": [row.astype("<u4").tobytes() for row in signatures]}
                )
                if keep:
                    self.wh.keep_signatures(first, signatures, tokens)
                if roll_back:
                    raise _RolledBack
        except _RolledBack:
            return
        self.next += size

    def reopen(self) -> None:
        self.wh.close()
        self.wh = open_warehouse(self.path)


def rows_by_passage(read: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[int, tuple[list[int], int]]:
    """``passage_signatures``' rows as passage id → (signature, token span), in no order."""
    ids, signatures, tokens = read
    return {int(p): (signatures[k].tolist(), int(tokens[k])) for k, p in enumerate(ids.tolist())}


def _agrees(wh: Warehouse, ids: np.ndarray) -> None:
    """The store's rows of ``ids`` (read in a transaction, as the ingest reads them) are DuckDB's."""
    with wh.transaction():
        got = rows_by_passage(wh.passage_signatures(ids))
    assert got == rows_by_passage(wh.passage_signatures_from_tables(ids))
    assert sorted(got) == sorted(ids.tolist())


def _store_file(path: Path) -> Path:
    return Path(f"{path}.keyindex") / FILE_NAME


def _damage(stored: Stored, fault: str, pick: int, tmp: Path, older: Path) -> None:
    """Do ``fault`` to the closed warehouse of ``stored`` or to its store."""
    target = _store_file(stored.path)
    if fault == "delete":
        target.unlink(missing_ok=True)
    elif fault == "truncate" and target.exists():
        kept = target.read_bytes()
        target.write_bytes(kept[: max(0, len(kept) - 1 - pick % 3000)])
    elif fault == "corrupt" and target.exists() and target.stat().st_size > HEADER:
        data = bytearray(target.read_bytes())
        at = HEADER + (pick * 7919) % (len(data) - HEADER)
        data[at] ^= 1 + pick % 255
        target.write_bytes(bytes(data))
    elif fault == "header" and target.exists():
        data = bytearray(target.read_bytes())
        data[2 + pick % 60] ^= 0x20
        target.write_bytes(bytes(data))
    elif fault == "foreign":
        other = Stored(tmp / f"other-{len(list(tmp.iterdir()))}.duckdb", pick)
        other.batch(stored.next + 3)
        other.wh.close()
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(_store_file(other.path), target)
    elif fault == "forget":
        with open_warehouse(stored.path) as wh:
            wh.con.execute("DELETE FROM meta WHERE key = 'signature_store'")
    elif fault == "restore" and older.exists():
        # The warehouse as it was some batches ago, beside a store that has gone on since.
        shutil.copyfile(older, stored.path)
        with open_warehouse(stored.path) as wh:
            stored.next = wh.next_id("passages", "passage_id")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(0, 12), min_size=1, max_size=8),
    faults=st.lists(st.tuples(st.sampled_from(FAULTS), st.integers(0, 10**6)), min_size=8, max_size=8),
    seed=st.integers(0, 1000),
)
def test_the_store_gives_duckdbs_signatures_through_rollbacks_and_damage(
    tmp_path_factory: object, sizes: list[int], faults: list[tuple[str, int]], seed: int
) -> None:
    tmp = tmp_path_factory.mktemp("sigstore")  # type: ignore[attr-defined]
    stored = Stored(tmp / "w.duckdb", seed)
    older = tmp / "older.duckdb"
    rng = np.random.default_rng(seed)
    for step, (size, (fault, pick)) in enumerate(zip(sizes, faults, strict=False)):
        if step == 1:
            stored.wh.close()
            shutil.copyfile(stored.path, older)
            stored.reopen()
        stored.batch(size, keep=fault != "bypass", roll_back=fault == "rollback")
        if fault not in ("bypass", "rollback"):
            stored.wh.close()
            _damage(stored, fault, pick, tmp, older)
            stored.reopen()
        if stored.next > 1:
            ids = np.arange(1, stored.next)
            _agrees(stored.wh, rng.permutation(ids)[: max(1, len(ids) // 2)])
            _agrees(stored.wh, ids)
    stored.wh.close()


def test_a_damaged_record_is_read_again_from_duckdb_and_written_again(tmp_path: Path) -> None:
    stored = Stored(tmp_path / "w.duckdb", 1)
    stored.batch(20)
    stored.wh.close()
    target = _store_file(stored.path)
    data = bytearray(target.read_bytes())
    record = (len(data) - HEADER) // 21  # passages 0..20 have places
    data[HEADER + 7 * record + 3] ^= 0x10  # passage 7's signature
    target.write_bytes(bytes(data))
    stored.reopen()
    index = stored.wh.key_index
    assert index is not None
    _agrees(stored.wh, np.array([7, 8]))
    assert index.signatures.repaired == 1
    _agrees(stored.wh, np.array([7]))
    assert index.signatures.repaired == 1  # written again: it reads right now
    stored.wh.close()


def test_a_warehouse_stored_without_the_store_is_copied_in_once(tmp_path: Path) -> None:
    stored = Stored(tmp_path / "w.duckdb", 2)
    stored.batch(30, keep=False)
    index = stored.wh.key_index
    assert index is not None
    _agrees(stored.wh, np.array([3, 29]))
    assert index.signatures.copied == 29  # up to the largest asked for
    stored.batch(5)  # the one left below the new batch first
    assert index.signatures.copied == 30
    _agrees(stored.wh, np.arange(1, 36))
    assert index.signatures.copied == 30
    stored.wh.close()


def test_reads_leave_no_page_of_the_store_mapped(tmp_path: Path) -> None:
    stored = Stored(tmp_path / "w.duckdb", 3)
    stored.batch(50)
    _agrees(stored.wh, np.arange(1, 51))
    maps = Path("/proc/self/maps")
    if maps.exists():
        assert FILE_NAME not in maps.read_text()
    stored.wh.close()


def test_a_read_maps_a_bounded_part_of_the_file_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read goes through windows of at most ``MAPPED_BYTES`` of records (a page more for the
    window's start), ids in any order, and gives DuckDB's rows."""
    stored = Stored(tmp_path / "w.duckdb", 5)
    stored.batch(60)
    record = 8 * ((WIDTH + 2) // 2 + 1)
    monkeypatch.setattr(sigstore, "MAPPED_BYTES", 3 * record)
    lengths: list[int] = []
    real = mmap.mmap

    def spied(fd: int, length: int, **kwargs: Any) -> mmap.mmap:
        lengths.append(length)
        return real(fd, length, **kwargs)

    monkeypatch.setattr(sigstore.mmap, "mmap", spied)
    _agrees(stored.wh, np.random.default_rng(6).permutation(np.arange(1, 61))[:40])
    assert len(lengths) > 5 and max(lengths) <= 3 * record + mmap.ALLOCATIONGRANULARITY
    stored.wh.close()


def test_a_records_checksum_is_xxh3_of_its_bytes_seeded_with_its_passage() -> None:
    """The native checksums against their definition (the record's words but the last, the
    checksum's place); a changed word, a record read at another passage's place and a zeroed
    record all fail."""
    rng = np.random.default_rng(4)
    rows = rng.integers(0, 2**63, (200, 98), dtype=np.uint64)
    ids = np.arange(5, 205)
    sums = record_checksums(rows, ids)
    expected = [
        xxhash.xxh3_64_intdigest(r[:-1].astype("<u8").tobytes(), seed=int(p)) for r, p in zip(rows, ids, strict=True)
    ]
    assert sums.tolist() == expected
    assert not np.any(record_checksums(rows, ids + 1) == sums)
    for word in (0, 50, 96):
        changed = rows.copy()
        changed[:, word] ^= np.uint64(1) << rng.integers(0, 64, 200).astype(np.uint64)
        assert not np.any(record_checksums(changed, ids) == sums)
    assert not np.any(record_checksums(np.zeros_like(rows), ids) == sums)
