"""Tests of reuse.pipeline.analyser: a batch analysed in the background equals each document analysed alone."""

from __future__ import annotations

import numpy as np

from reuse.config import Settings
from reuse.engine.analysis import analyse
from reuse.pipeline.analyser import Analyser
from reuse.stages import StageClock

SETTINGS = Settings()
TEXTS = [
    f"Report {k}. The council met on Tuesday to discuss the new library on the east side of town, "
    f"and the plan number {k} for older public buildings was approved after a long debate." * (1 + k % 4)
    for k in range(24)
]


def test_a_batch_started_ahead_gives_each_documents_own_analysis_in_order() -> None:
    clock = StageClock()
    analyser = Analyser(SETTINGS, clock)
    try:
        first, second = analyser.start(TEXTS[:12]), analyser.start(TEXTS[12:])
        got = second() + first()
        comparables = analyser.comparables(TEXTS)
    finally:
        analyser.close()
    assert "analysis" in clock.seconds
    for analysis, text in zip(got, TEXTS[12:] + TEXTS[:12], strict=True):
        expected = analyse(text, SETTINGS)
        assert analysis.text == text and analysis.passages == expected.passages
        assert np.array_equal(analysis.signatures, expected.signatures)
        assert np.array_equal(analysis.token_hashes, expected.token_hashes)
    for found, text in zip(comparables, TEXTS, strict=True):
        expected = analyse(text, SETTINGS, signatures=False).comparable
        assert (found.chars, found.passages) == (expected.chars, expected.passages)
        for name in ("token_hashes", "trigrams", "content", "starts", "ends"):
            assert np.array_equal(getattr(found.align_input, name), getattr(expected.align_input, name))


def test_nothing_to_analyse_takes_no_time_and_no_thread() -> None:
    clock = StageClock()
    analyser = Analyser(SETTINGS, clock)
    assert analyser.start([])() == []
    assert analyser._ahead is None and "analysis" not in clock.seconds
