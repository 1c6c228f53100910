"""How ``reusetrack serve`` reads a warehouse that a crawl or an ingest may be writing.

DuckDB lets one process hold a file for writing, and while it does no other process can open it,
not even read-only. So the server never keeps the warehouse open: each request opens it read-only
and closes it when done (a writer waiting for its turn gets in between requests). While the file is
free, a copy of it (a *snapshot*, with its write-ahead log) is taken now and then, at most every
``refresh`` seconds and only when the file changed; a request that finds the file held by a writer
reads the latest snapshot instead and says how old it is. A reader therefore never sees a lock
error: at worst it gets the warehouse as it was before the writer took it.

Reads of the live file are kept from starving a writer (which polls for the file a few times a
second): overlapping reads stop taking new ones in once they have held the file :data:`BUSY`
seconds, and after they end new reads wait as long as those held it (up to :data:`BUSY`; a few
milliseconds, usually), so the file is free at least half of the time.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reuse.errors import WarehouseLocked
from warehouse.db import Warehouse, open_warehouse, open_when_free

__all__ = ["BUSY", "Reader", "Reading"]

#: Seconds a run of overlapping reads may go on holding the live file before new reads wait for it
#: to end; after it ends, the file is left to writers as long as the run lasted, up to this long.
BUSY = 0.25


@dataclass(frozen=True)
class Reading:
    """One request's view of the warehouse: the open warehouse and, when it is a snapshot because a
    writer holds the file, the time the snapshot was taken and the writer's PID (when known)."""

    warehouse: Warehouse
    snapshot_of: datetime | None = None
    writer: int | None = None


def _files(path: Path) -> list[Path]:
    """The warehouse file and its write-ahead log, when there is one."""
    wal = path.with_name(path.name + ".wal")
    return [path, wal] if wal.exists() else [path]


def _signature(path: Path) -> tuple[tuple[int, int], ...]:
    """What changes when a writer changes the file: size and modification time of each file."""
    out = []
    for file in _files(path):
        try:
            stat = file.stat()
        except FileNotFoundError:
            continue
        out.append((stat.st_size, stat.st_mtime_ns))
    return tuple(out)


class Reader:
    """Read-only access to the warehouse at ``path`` for concurrent requests (see the module's doc)."""

    def __init__(self, path: Path, refresh: float = 10.0) -> None:
        self.path = path
        self.refresh = refresh
        self._folder = Path(tempfile.mkdtemp(prefix="reusetrack-serve-"))
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._snapshot: Path | None = None
        self._previous: Path | None = None
        self._snapshot_time: datetime | None = None
        self._snapshot_signature: tuple[tuple[int, int], ...] = ()
        self._snapshot_taken = 0.0
        self._turn = threading.Condition()
        self._live = 0  # requests reading the live file now
        self._busy_since = 0.0  # when the run of overlapping reads now holding it began
        self._free_at = 0.0  # the live file is left to writers until then

    def start(self, wait: float, on_wait: Callable[[str], None] | None = None) -> None:
        """Open the warehouse once (waiting up to ``wait`` seconds for a writer to let go, saying so
        through ``on_wait``) to check it and take the first snapshot. Raises WarehouseError."""
        with open_when_free(self.path, read_only=True, wait=wait, on_wait=on_wait):
            self._take_snapshot()

    def close(self) -> None:
        """Remove the snapshots."""
        shutil.rmtree(self._folder, ignore_errors=True)

    @contextmanager
    def read(self) -> Iterator[Reading]:
        """The warehouse for one request: the live file, read-only, when no writer holds it; else the
        latest snapshot. Raises WarehouseLocked only when a writer held the file from the start
        and no snapshot could be taken yet."""
        self._begin_live()
        try:
            warehouse = open_warehouse(self.path, read_only=True)
        except WarehouseLocked as locked:
            self._end_live()
            snapshot = self._snapshot
            if snapshot is None:
                raise
            with open_warehouse(snapshot, read_only=True) as old:
                yield Reading(old, self._snapshot_time, locked.holder)
            return
        except BaseException:
            self._end_live()
            raise
        try:
            with warehouse:
                yield Reading(warehouse)
                self._take_snapshot()
        finally:
            self._end_live()

    def _begin_live(self) -> None:
        """Wait for this request's turn at the live file: it joins the reads holding it unless they
        began over :data:`BUSY` seconds ago; after they end, it waits out the gap left to writers."""
        with self._turn:
            while True:
                now = time.monotonic()
                if self._live:
                    if now - self._busy_since < BUSY:
                        break
                    self._turn.wait()
                elif now < self._free_at:
                    self._turn.wait(self._free_at - now)
                else:
                    self._busy_since = now
                    break
            self._live += 1

    def _end_live(self) -> None:
        with self._turn:
            self._live -= 1
            if not self._live:
                now = time.monotonic()
                self._free_at = now + min(BUSY, now - self._busy_since)
                self._turn.notify_all()

    def _take_snapshot(self) -> None:
        """Copy the warehouse file (and its log) when it changed since the last copy and that is
        ``refresh`` seconds old. Called while this process holds the file open read-only, so that
        no writer changes it during the copy. The snapshot before the previous one is removed (a
        request still reading it keeps it open; one about to open it gets the previous).
        A snapshot found equal to the file is as recent as now."""
        signature = _signature(self.path)
        with self._lock:
            if self._snapshot is not None and signature == self._snapshot_signature:
                self._snapshot_time = datetime.now(UTC)
                return
            due = self._snapshot is None or (
                signature != self._snapshot_signature and time.monotonic() - self._snapshot_taken >= self.refresh
            )
            if not due:
                return
            self._snapshot_taken = time.monotonic()
        taken = datetime.now(UTC)
        target = self._folder / f"snapshot-{next(self._numbers)}.duckdb"
        for file in _files(self.path):
            shutil.copyfile(file, target.with_name(target.name + file.name.removeprefix(self.path.name)))
        with self._lock:
            old, self._previous, self._snapshot = self._previous, self._snapshot, target
            self._snapshot_time, self._snapshot_signature = taken, signature
        if old is not None:
            for file in _files(old):
                os.unlink(file)
