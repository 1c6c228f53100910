"""Shared text checked word for word before it counts as evidence of a relation
(reuse.lineage.evidence.shared_words, native), against the rule read out in Python."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reuse.lineage.evidence import shared_words
from reuse.models import Span

WORD = re.compile(r"\w+")

# Few distinct words, most of them folding to another (ß, Σ), so that texts share runs of three;
# now and then one that is a word to ``re`` but not to the engine's tokens or the other way round
# (a combining mark, "_", digits of other scripts, "²", "½"), a lone surrogate, or any text at all.
folding = st.sampled_from(["ab", "AB", "Straße", "STRASSE", "ΣΑΣ", "σας"])
rare = st.one_of(st.sampled_from(["İi", "e\u0301", "a_b", "٣٤", "x²", "½", "\ud800"]), st.text(max_size=3))
words = st.one_of(folding, folding, folding, rare)
separators = st.sampled_from([" ", ", ", "—", "\n", ""])
texts = st.lists(st.tuples(words, separators).map("".join), min_size=3, max_size=40).map("".join)


def _spans(draw: st.DrawFn, text: str) -> list[Span]:
    """Spans of ``text``: the whole of it, or pieces between random cuts."""
    if draw(st.booleans()):
        return [Span(0, len(text))]
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=8)))
    return [Span(cuts[k], cuts[k + 1]) for k in range(0, len(cuts) - 1, 2)]


@st.composite
def two_sides(draw: st.DrawFn) -> tuple[tuple[str, list[Span]], tuple[str, list[Span]]]:
    """Two texts with spans: unrelated, or the second the first with its case changed (``ß``
    upper-cased is ``SS``: offsets move), so that runs of three words are shared."""
    text_a = draw(texts)
    change = draw(st.sampled_from([None, str.upper, str.swapcase, str.lower, str]))
    text_b = draw(texts) if change is None else change(text_a)
    return (text_a, _spans(draw, text_a)), (text_b, _spans(draw, text_b))


def _trigrams(text: str, spans: list[Span]) -> list[tuple[int, int, tuple[str, ...]]]:
    """Every run of three words inside one span (a word the span cuts cut with it), as (start,
    end, the words case-folded)."""
    out = []
    for span in spans:
        found = list(WORD.finditer(text, span.start, span.end))
        for k in range(len(found) - 2):
            out.append((found[k].start(), found[k + 2].end(), tuple(m.group().casefold() for m in found[k : k + 3])))
    return out


@settings(max_examples=400, deadline=None)
@given(two_sides())
def test_kept_text_is_exactly_the_runs_of_three_words_both_sides_share(
    sides: tuple[tuple[str, list[Span]], tuple[str, list[Span]]],
) -> None:
    """Each side keeps the stretches covered by its runs of three words (within one span) that
    the other side's spans also hold, joined across gaps of up to three characters, and nothing
    else; on both sides from the same words."""
    a, b = sides
    (text_a, spans_a), (text_b, spans_b) = a, b
    kept = shared_words(text_a, spans_a, text_b, spans_b)
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


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=1))
def test_a_word_is_what_re_reads_as_one(character: str) -> None:
    """Every character is a word character exactly when ``re``'s ``\\w`` matches it: three of
    it in a row are kept."""
    text = " ".join([character] * 3)
    kept, _ = shared_words(text, [Span(0, len(text))], text, [Span(0, len(text))])
    assert bool(kept) == bool(WORD.fullmatch(character))


def test_only_text_shared_three_words_in_a_row_is_kept() -> None:
    """A match that bridged an unshared stretch keeps the shared parts on each side only."""
    a = "The bridge will close for repairs in June. Subscribe now! Ferries run every hour from the pier."
    b = "The bridge will close for repairs in June, officials said. Ferries run every hour from the pier."
    kept_a, kept_b = shared_words(a, [Span(0, len(a))], b, [Span(0, len(b))])
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
    kept = shared_words(text, [Span(0, len(text))], text, [Span(0, 7), Span(8, 18)])
    assert kept == ([], [])


def test_stretches_three_characters_apart_are_joined_and_four_apart_are_not() -> None:
    """Shared stretches (here of two spans, boilerplate cut out between them) join across a gap
    of up to three characters."""
    for gap, joined in ((" - ", True), (" -- ", False)):
        text = f"aa bb cc{gap}dd ee ff"
        spans = [Span(0, 8), Span(8 + len(gap), len(text))]
        kept, _ = shared_words(text, spans, text, [Span(0, len(text))])
        assert kept == ([Span(0, len(text))] if joined else spans)
