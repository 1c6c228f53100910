"""Document analysis spread over worker processes, for batches big enough to pay for them.

Analysis (normalise, tokenise, cut passages, fingerprint) is pure Python and numpy work that
holds the interpreter, so threads would not help; worker processes started by ``forkserver``
(never ``fork``: the parent holds DuckDB's threads) each analyse a share of a batch and send the
analyses back pickled. Fewer than ``MIN_PARALLEL`` documents are analysed in the calling
process, where starting workers would cost more than it saves. (Matching stays in the calling
process: sending both sides of each version pair to a worker cost more than it saved, 409 s
against 373 s for the scale benchmark's million passages.)
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import TypeVar

from reuse.config import Settings
from reuse.engine.analysis import Analysis, Comparable, analyse
from reuse.engine.signatures import MinHasher
from reuse.stages import StageClock

__all__ = ["MIN_PARALLEL", "Analyser", "default_workers"]

T = TypeVar("T")

#: Fewest documents in a batch for which worker processes are used.
MIN_PARALLEL = 16
#: Documents sent to a worker at a time: large enough to amortise the round trip.
CHUNK = 4

_worker_settings: Settings | None = None
_worker_hasher: MinHasher | None = None


def default_workers() -> int:
    """Worker processes to use: ``REUSETRACK_WORKERS`` if set, else the CPUs this process may run on."""
    configured = os.environ.get("REUSETRACK_WORKERS", "").strip()
    if configured.isdigit():
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _die_with(pid: int) -> None:
    """End this worker as soon as process ``pid`` (the ingest that started the pool) ends, even
    by ``kill -9``. Nothing else would end it: its parent is the forkserver, which waits for
    the last holder of its "alive" pipe, and the workers hold that pipe (and the pool's queue)
    themselves. Linux tells through a pidfd; elsewhere a thread looks twice a second."""
    try:
        handle: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)  # already gone
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])  # readable once the process has ended
        else:
            while _alive(pid):
                time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_worker(settings: Settings, parent: int) -> None:
    global _worker_settings, _worker_hasher
    # Ctrl-C reaches the whole process group: the ingest stops cleanly and still needs its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    _worker_settings = settings
    _worker_hasher = MinHasher.from_settings(settings)


def _analyse_in_worker(text: str, signatures: bool) -> Analysis:
    assert _worker_settings is not None
    return analyse(text, _worker_settings, _worker_hasher, signatures=signatures)


def _comparable_in_worker(text: str) -> Comparable:
    # Only the comparable crosses back: a fifth of the pickle of a whole analysis.
    return _analyse_in_worker(text, False).comparable


class Analyser:
    """Analyses documents with one settings object: in the calling process, or in ``workers``
    processes when there are two or more and the batch is large enough."""

    def __init__(self, settings: Settings, clock: StageClock, workers: int | None = None) -> None:
        self.settings = settings
        self.hasher = MinHasher.from_settings(settings)
        self.clock = clock
        self.workers = default_workers() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None

    def analyse(self, text: str, signatures: bool = True) -> Analysis:
        """One document's analysis, in this process (timed as ``passages`` and ``signatures``)."""
        return analyse(text, self.settings, self.hasher, self.clock, signatures=signatures)

    def analyse_all(self, texts: Sequence[str]) -> list[Analysis]:
        """The analyses of ``texts`` with their signatures, in order (timed as ``analysis`` when
        done by workers)."""
        return self.start(texts)()

    def start(self, texts: Sequence[str]) -> Callable[[], list[Analysis]]:
        """Start analysing ``texts`` (with their signatures) and return the call that gives the
        analyses, in order: the workers, when used, begin now and the call waits for them (timed
        as ``analysis``); in this process the work is done by the call."""
        return self._start(texts, partial(_analyse_in_worker, signatures=True), self.analyse, may_start=True)

    def comparables(self, texts: Sequence[str]) -> list[Comparable]:
        """What matching needs of each of ``texts`` (stored documents, whose signatures are
        stored: analysed again without them), in order."""
        return self._start(texts, _comparable_in_worker, lambda t: self.analyse(t, False).comparable)()

    def _start(
        self, texts: Sequence[str], remote: Callable[[str], T], local: Callable[[str], T], may_start: bool = False
    ) -> Callable[[], list[T]]:
        # Starting the workers takes about half a second: only a batch of new documents (the
        # sign of a bulk run, whose later batches reuse them) starts them; the few stored
        # documents a one-article run analyses again are done here.
        if self.workers >= 2 and len(texts) >= MIN_PARALLEL and (self._pool is not None or may_start):
            try:
                running = self._workers().map(remote, texts, chunksize=CHUNK)
            except BrokenProcessPool:
                self._give_up_workers()
            else:
                return partial(self._collect, running, texts, local)
        return lambda: [local(text) for text in texts]

    def _collect(self, running: Iterator[T], texts: Sequence[str], local: Callable[[str], T]) -> list[T]:
        try:
            with self.clock.stage("analysis"):
                return list(running)
        except BrokenProcessPool:
            self._give_up_workers()
            return [local(text) for text in texts]

    def _give_up_workers(self) -> None:
        # Workers could not start (e.g. a ``__main__`` read from stdin that forkserver cannot
        # import again) or died: the run goes on in this process.
        self.close()
        self.workers = 1

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_start_worker,
                initargs=(self.settings, os.getpid()),
            )
        return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
