"""Shared text checked word for word before it counts as evidence of a relation (reuse.lineage.evidence)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reuse.lineage.evidence import _verified, _word_runs
from reuse.models import Span

WORD = re.compile(r"\w+")

# Words of a few letters (some of which fold: ß, Σ, İ), separated by spaces and punctuation.
words = st.sampled_from(["ab", "Straße", "ΣΑΣ", "İx", "été", "42", "x_y"])
texts = st.lists(st.one_of(words, st.sampled_from([" ", ", ", "—", "\n"])), max_size=30).map("".join)


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(texts)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    return text, [Span(cuts[k], cuts[k + 1]) for k in range(0, len(cuts) - 1, 2)]


@settings(max_examples=300, deadline=None)
@given(text_and_spans())
def test_word_runs_are_the_words_found_in_each_span_alone(case: tuple[str, list[Span]]) -> None:
    """A document's words are found once and sliced for each span; each run must be what the
    word pattern finds in that span alone, a word the span cuts cut with it."""
    text, spans = case
    runs = _word_runs(text, spans)
    for span, run in zip(spans, runs, strict=True):
        found = list(WORD.finditer(text, span.start, span.end))
        assert run.starts == [m.start() for m in found]
        assert run.ends == [m.end() for m in found]
        assert run.folded == [m.group().casefold() for m in found]


def test_only_text_shared_three_words_in_a_row_is_kept() -> None:
    """A match that bridged an unshared stretch keeps the shared parts on each side only."""
    a = "The bridge will close for repairs in June. Subscribe now! Ferries run every hour from the pier."
    b = "The bridge will close for repairs in June, officials said. Ferries run every hour from the pier."
    kept_a, kept_b = _verified(_word_runs(a, [Span(0, len(a))]), _word_runs(b, [Span(0, len(b))]))
    assert [a[s.start : s.end] for s in kept_a] == [
        "The bridge will close for repairs in June",
        "Ferries run every hour from the pier",
    ]
    assert [b[s.start : s.end] for s in kept_b] == [
        "The bridge will close for repairs in June",
        "Ferries run every hour from the pier",
    ]
