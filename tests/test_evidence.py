"""Shared text checked word for word before it counts as evidence of a relation (reuse.lineage.evidence)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reuse.lineage.evidence import TextWords, WordCache, _verified, _word_runs
from reuse.models import Span

WORD = re.compile(r"\w+")

# Few distinct words (some of which fold: ß, Σ, İ), so that texts share runs of three.
words = st.sampled_from(["ab", "AB", "Straße", "STRASSE", "ΣΑΣ", "σας"])
texts = st.lists(st.one_of(words, st.sampled_from([" ", ", ", "—", "\n"])), max_size=40).map("".join)


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(texts)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    return text, [Span(cuts[k], cuts[k + 1]) for k in range(0, len(cuts) - 1, 2)]


def _trigrams(text: str, spans: list[Span]) -> list[tuple[int, int, tuple[str, ...]]]:
    """Every run of three words inside one span, as (start, end, the words case-folded)."""
    out = []
    for span in spans:
        found = list(WORD.finditer(text, span.start, span.end))
        for k in range(len(found) - 2):
            out.append((found[k].start(), found[k + 2].end(), tuple(m.group().casefold() for m in found[k : k + 3])))
    return out


@settings(max_examples=300, deadline=None)
@given(text_and_spans(), text_and_spans())
def test_kept_text_is_exactly_the_runs_of_three_words_both_sides_share(
    a: tuple[str, list[Span]], b: tuple[str, list[Span]]
) -> None:
    """Each side keeps the stretches covered by its runs of three words (within one span) that
    the other side's spans also hold, joined across gaps of up to three characters, and nothing
    else; on both sides from the same words."""
    (text_a, spans_a), (text_b, spans_b) = a, b
    kept = _verified(_word_runs(text_a, spans_a), _word_runs(text_b, spans_b))
    for (text, spans, other), got in zip(((text_a, spans_a, b), (text_b, spans_b, a)), kept, strict=True):
        theirs = {gram for _, _, gram in _trigrams(*other)}
        shared = [(start, end) for start, end, gram in _trigrams(text, spans) if gram in theirs]
        expected: list[Span] = []
        for start, end in shared:
            if expected and start <= expected[-1].end + 3:
                expected[-1] = Span(expected[-1].start, max(expected[-1].end, end))
            else:
                expected.append(Span(start, end))
        assert got == expected


@settings(max_examples=300, deadline=None)
@given(text_and_spans())
def test_a_text_read_once_gives_each_span_the_words_read_from_it(case: tuple[str, list[Span]]) -> None:
    """TextWords (a document in many pairs of a story, read once): the words of each span, cut
    ones cut (their folded forms folded from what the span holds: "Straße" cut to "Stra" folds to
    "stra", not to the start of "strasse"), as reading the span alone finds them."""
    text, spans = case
    assert TextWords(text).runs(spans) == _word_runs(text, spans)


def test_a_document_is_read_once_while_it_has_pairs_left() -> None:
    """WordCache: document 1 is in three pairs, read once and held until its last one is done;
    2 and 3, each in one pair, are never held; past the budget of characters held, a document
    is read where it shares text until another is let go."""
    text, span = "one two three four", [Span(4, 18)]
    words = WordCache([(1, 2), (1, 3), (1, 4), (4, 5)])
    assert words.runs(2, text, span) == words.runs(1, text, span) == _word_runs(text, span)
    assert words.held == {1}
    words.done(1, 2)
    words.done(1, 3)
    assert words.held == {1}
    words.done(1, 4)
    assert words.held == frozenset()
    # A budget of one text: 2 is read where it shares text until 1's words are let go.
    within = WordCache([(1, 2), (1, 3), (2, 3), (2, 4)], budget=len(text))
    for doc in (1, 2):
        assert within.runs(doc, text, span) == _word_runs(text, span)
    assert within.held == {1}
    within.done(1, 2)
    within.done(1, 3)
    assert within.runs(2, text, span) == _word_runs(text, span)
    assert within.held == {2}


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


def test_a_run_of_three_words_lies_within_one_span() -> None:
    """Words of two shared spans (boilerplate cut out between them) never make a run together."""
    text = "one two three four"
    kept = _verified(_word_runs(text, [Span(0, len(text))]), _word_runs(text, [Span(0, 7), Span(8, 18)]))
    assert kept == ([], [])
