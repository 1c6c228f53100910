"""Document analysis spread over worker processes, for batches big enough to pay for them.

Analysis (normalise, tokenise, cut passages, fingerprint) is pure Python and numpy work that
holds the interpreter, so threads would not help; worker processes started by ``forkserver``
(never ``fork``: the parent holds DuckDB's threads) each analyse a share of a batch and send the
analyses back pickled. A batch smaller than ``MIN_PARALLEL`` documents is analysed in the calling
process, where starting workers would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from reuse.analysis import Analysis, analyse
from reuse.config import Settings
from reuse.signatures import MinHasher
from reuse.stages import StageClock

__all__ = ["MIN_PARALLEL", "Analyser", "default_workers"]

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


def _start_worker(settings: Settings) -> None:
    global _worker_settings, _worker_hasher
    _worker_settings = settings
    _worker_hasher = MinHasher.from_settings(settings)


def _analyse_in_worker(text: str, signatures: bool) -> Analysis:
    assert _worker_settings is not None
    return analyse(text, _worker_settings, _worker_hasher, signatures=signatures)


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

    def analyse_all(self, texts: Sequence[str], signatures: bool = True) -> list[Analysis]:
        """The analyses of ``texts``, in order (timed as ``analysis`` when done by workers);
        see :func:`~reuse.analysis.analyse` for ``signatures``."""
        if self.workers >= 2 and len(texts) >= MIN_PARALLEL:
            try:
                with self.clock.stage("analysis"):
                    flags = [signatures] * len(texts)
                    return list(self._workers().map(_analyse_in_worker, texts, flags, chunksize=CHUNK))
            except BrokenProcessPool:
                # Workers could not start (e.g. a ``__main__`` read from stdin that forkserver cannot
                # import again) or died: the run goes on in this process.
                self.close()
                self.workers = 1
        return [self.analyse(text, signatures) for text in texts]

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_start_worker,
                initargs=(self.settings,),
            )
        return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
