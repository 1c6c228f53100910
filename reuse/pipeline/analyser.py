"""Document analysis for a run: on every core, one batch ahead of the caller.

The native engine analyses a batch of documents on all cores without the GIL
(:func:`reuse.engine.analysis.analyse_many`), so one background thread is all a run needs to
analyse the next batch while the calling thread stores and matches the one before; no worker
process, and no pickling of analyses between processes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from reuse.config import Settings
from reuse.engine.analysis import Analysis, Comparable, analyse, analyse_many
from reuse.engine.signatures import MinHasher
from reuse.stages import StageClock

__all__ = ["Analyser"]

T = TypeVar("T")


class Analyser:
    """Analyses documents with one settings object, timing the waits as the stage ``analysis``."""

    def __init__(self, settings: Settings, clock: StageClock) -> None:
        self.settings = settings
        self.hasher = MinHasher.from_settings(settings)
        self.clock = clock
        self._ahead: ThreadPoolExecutor | None = None

    def analyse(self, text: str, signatures: bool = True) -> Analysis:
        """One document's analysis, now."""
        return analyse(text, self.settings, self.hasher, self.clock, signatures=signatures)

    def analyse_all(self, texts: Sequence[str]) -> list[Analysis]:
        """The analyses of ``texts`` with their signatures, in order."""
        return self.start(texts, list)()

    def start(self, texts: Sequence[str], then: Callable[[list[Analysis]], T]) -> Callable[[], T]:
        """Start analysing ``texts`` (with their signatures) in the background, and ``then`` of
        the analyses (in order) there too; return the call that waits for what ``then`` gives."""
        if not texts:
            return lambda: then([])
        if self._ahead is None:
            self._ahead = ThreadPoolExecutor(1, thread_name_prefix="reusetrack-analysis")
        running = self._ahead.submit(lambda: then(analyse_many(list(texts), self.settings, self.hasher)))

        def result() -> T:
            with self.clock.stage("analysis"):
                return running.result()

        return result

    def comparables(self, texts: Sequence[str]) -> list[Comparable]:
        """What matching needs of each of ``texts`` (stored documents, whose signatures are
        stored: analysed again without them), in order."""
        with self.clock.stage("analysis"):
            return [a.comparable for a in analyse_many(texts, self.settings, self.hasher, signatures=False)]

    def close(self) -> None:
        """Stop the background thread (an analysis under way is let finish)."""
        if self._ahead is not None:
            self._ahead.shutdown(cancel_futures=True)
            self._ahead = None
