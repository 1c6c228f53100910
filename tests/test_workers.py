"""Tests of reuse.pipeline.workers: analysis in worker processes equals analysis in this process."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from reuse.config import Settings
from reuse.engine.analysis import analyse
from reuse.pipeline.workers import MIN_PARALLEL, Analyser
from reuse.stages import StageClock

SETTINGS = Settings()
TEXTS = [
    f"Report {k}. The council met on Tuesday to discuss the new library on the east side of town, "
    f"and the plan number {k} for older public buildings was approved after a long debate." * 3
    for k in range(MIN_PARALLEL + 4)
]


def _same(got: list, texts: list[str]) -> None:
    assert len(got) == len(texts)
    for analysis, text in zip(got, texts, strict=True):
        expected = analyse(text, SETTINGS)
        assert analysis.text == text
        assert analysis.passages == expected.passages
        assert np.array_equal(analysis.signatures, expected.signatures)
        assert np.array_equal(analysis.token_hashes, expected.token_hashes)


def test_worker_processes_give_the_analyses_of_this_process() -> None:
    clock = StageClock()
    analyser = Analyser(SETTINGS, clock, workers=2)
    try:
        _same(analyser.analyse_all(TEXTS), TEXTS)
        comparables = analyser.comparables(TEXTS)
    finally:
        analyser.close()
    assert "analysis" in clock.seconds  # the workers did it
    for got, text in zip(comparables, TEXTS, strict=True):
        expected = analyse(text, SETTINGS, signatures=False).comparable
        assert (got.chars, got.passages) == (expected.chars, expected.passages)
        for name in ("token_hashes", "trigrams", "content", "starts", "ends"):
            assert np.array_equal(getattr(got.align_input, name), getattr(expected.align_input, name))


def test_only_a_batch_of_new_documents_starts_the_workers() -> None:
    analyser = Analyser(SETTINGS, StageClock(), workers=2)
    try:
        analyser.comparables(TEXTS)  # stored documents analysed again: not worth starting them
        assert analyser._pool is None
        analyser.analyse_all(TEXTS)
        assert analyser._pool is not None
    finally:
        analyser.close()


def test_small_batches_stay_in_this_process() -> None:
    clock = StageClock()
    analyser = Analyser(SETTINGS, clock, workers=2)
    _same(analyser.analyse_all(TEXTS[:3]), TEXTS[:3])
    assert analyser._pool is None
    assert {"passages", "signatures"} <= set(clock.seconds)


def test_workers_that_cannot_start_leave_the_work_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def map(self, *args: object, **kwargs: object) -> list[object]:
            raise BrokenProcessPool("a child process terminated abruptly")

        def shutdown(self, **kwargs: object) -> None:
            pass

    analyser = Analyser(SETTINGS, StageClock(), workers=2)
    monkeypatch.setattr(analyser, "_workers", lambda: Broken())
    _same(analyser.analyse_all(TEXTS), TEXTS)
    assert analyser.workers == 1
