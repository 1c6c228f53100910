"""The second stage of alignment (reuse.engine.seeds): edited, reordered and summarised copies
found sentence by sentence, mapped to the right offsets, merged with the first stage's matches,
and nothing found between texts that share no content; the native engine equal to the Python
reference on generated pairs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reuse.cli import app
from reuse.config import Settings
from reuse.engine.align import AlignInput, with_fragments
from reuse.engine.align import align as reference_align
from reuse.engine.analysis import Comparable
from reuse.engine.matching import align, match_pair, reference_match_pair
from reuse.engine.seeds import Fragment, fragments, sentence_starts
from reuse.engine.shingles import shingle_hashes
from reuse.models import Match, MatchKind, Passage, PassageKind, Span

SETTINGS = Settings()

# A source of fourteen sentences, each with words of its own.
SOURCE = (
    "The regional water authority approved a new reservoir near Millbrook on Tuesday evening after "
    "three years of planning and public hearings. "
    "Engineers expect the dam to hold enough water for forty thousand households through the driest "
    "summer months. "
    "Construction will begin next spring and should last about thirty months, weather permitting. "
    "Farmers downstream worried that irrigation allotments would shrink while the basin fills. "
    "The authority promised compensation payments for any orchard losing more than a tenth of its "
    "usual supply. "
    "Environmental groups asked for a fish ladder so that migrating trout can still reach their "
    "spawning grounds upstream. "
    "The final design includes the ladder and a monitoring station staffed by university biologists. "
    "Funding comes from a state infrastructure grant, municipal bonds and a modest surcharge on "
    "residential bills. "
    "Critics argued that repairing leaking pipes across the district would save more water at lower cost. "
    "The chairwoman replied that both projects are needed because the population keeps growing quickly. "
    "A citizens committee will review quarterly progress reports and publish them online. "
    "Archaeologists will survey the flooded valley first, since old mill foundations lie beneath the "
    "meadows. "
    "Any artefacts recovered will be displayed at the county museum in Harlow. "
    "The next public meeting about the reservoir is scheduled for the first week of March."
)

# Sentences 2-9 of the source, reordered in pairs, with words substituted; the second sentence
# of the copy stays verbatim, as most edited copies keep a stretch (it is what the first stage
# verifies the pair by).
EDITED_COPY = (
    "Farmers living downstream feared that their irrigation allotments would be reduced while the "
    "basin is filling. "
    "The authority promised compensation payments for any orchard losing more than a tenth of its "
    "usual supply. "
    "According to engineers, the dam should store sufficient water for forty thousand homes during "
    "the driest summer months. "
    "Building work starts next spring and is expected to take roughly thirty months, if the weather "
    "allows. "
    "The approved design contains the ladder plus a monitoring station run by university biologists. "
    "Conservation groups had requested a fish ladder so migrating trout could keep reaching their "
    "spawning grounds further upstream. "
    "Opponents said that fixing leaking pipes throughout the district would save more water for less "
    "money. "
    "Money for the project comes from a state infrastructure grant, municipal bonds and a small "
    "surcharge on household bills."
)

# A summary of the whole source in three sentences, one of them kept word for word.
SUMMARY = (
    "Millbrook is getting a reservoir: the regional water authority approved it after years of "
    "planning, and construction starts next spring. "
    "The authority promised compensation payments for any orchard losing more than a tenth of its "
    "usual supply. "
    "Trout get a fish ladder, critics preferred repairing leaking pipes, and archaeologists will "
    "survey the valley's old mill foundations before flooding."
)

# Text around the copies, on other subjects.
BEFORE = (
    "Local football results were mixed this weekend as the youth league wrapped up its autumn season. "
    "The under twelve team celebrated a late winning goal against their rivals from Eastfield. "
)
AFTER = (
    " In other news, the bakery on Queen Street reopened with a new owner and longer opening hours. "
    "Customers queued before dawn to taste the famous cinnamon buns again."
)


def _matches(db: Path, url: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["--db", str(db), "matches", "--json", url])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _write(folder: Path, name: str, text: str) -> str:
    url = f"https://{name}.example/story"
    (folder / f"{name}.txt").write_text(f"---\nurl: {url}\nsite: {name}.example\n---\n{text}")
    return url


def test_edited_and_summarised_copies_are_aligned_to_their_offsets(tmp_path: Path) -> None:
    """Through the CLI on a real DuckDB file: the reordered, reworded copy is one match over the
    whole copy and the source sentences it took; the summary one ``summary`` match over the
    summary and most of the source."""
    folder = tmp_path / "in"
    folder.mkdir()
    source_url = _write(folder, "source", SOURCE)
    edited_url = _write(folder, "edited", BEFORE + EDITED_COPY + AFTER)
    summary_url = _write(folder, "summary", BEFORE + SUMMARY + AFTER)
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["--db", str(db), "ingest", str(folder)])
    assert result.exit_code == 0, result.output

    edited = [m for m in _matches(db, edited_url) if m["other_url"] == source_url]
    assert len(edited) == 1  # one copy, one match
    match = edited[0]
    assert match["kind"] == MatchKind.REWRITTEN.value
    copy_start, copy_end = len(BEFORE), len(BEFORE) + len(EDITED_COPY)
    assert abs(int(match["start"]) - copy_start) <= 12 and abs(int(match["end"]) - copy_end) <= 12  # type: ignore[call-overload]
    taken_start = SOURCE.index("Engineers expect")
    taken_end = SOURCE.index("The chairwoman")
    assert taken_start - 12 <= int(match["other_start"]) <= taken_start + 12  # type: ignore[call-overload]
    assert taken_end - 40 <= int(match["other_end"]) <= taken_end  # type: ignore[call-overload]

    summarised = [m for m in _matches(db, summary_url) if m["other_url"] == source_url]
    assert len(summarised) == 1
    match = summarised[0]
    assert match["kind"] == MatchKind.SUMMARY.value
    assert abs(int(match["start"]) - len(BEFORE)) <= 12  # type: ignore[call-overload]
    # Its last words ("before flooding") are not in the source: the match ends at the last that is.
    assert 0 <= len(BEFORE) + len(SUMMARY) - int(match["end"]) <= 24  # type: ignore[call-overload]
    # The summary draws on the source from its first sentence to its archaeologists.
    assert int(match["other_start"]) <= 20  # type: ignore[call-overload]
    assert int(match["other_end"]) >= SOURCE.index("Archaeologists will survey") + 40  # type: ignore[call-overload]


# -- generated pairs ------------------------------------------------------------------------------


def _hash(word: int) -> int:
    return (word * 0x9E3779B97F4A7C15 + 0x1234567) % (1 << 64)


def _document(words: list[int], every: int) -> AlignInput:
    """Tokens of vocabulary ids (content words: ids not divisible by 3), one space apart, a
    sentence every ``every`` tokens; ids ``2k`` and ``2k + 1`` have one stem."""
    hashes = np.array([_hash(w) for w in words], dtype=np.uint64)
    stems = np.array([_hash((w >> 1) + (1 << 40)) for w in words], dtype=np.uint64)
    lengths = np.array([1 + w % 7 for w in words], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64) if words else np.zeros(0, np.int64)
    return AlignInput(
        token_hashes=hashes,
        stems=stems,
        trigrams=shingle_hashes(hashes, 3).astype(np.uint64),
        content=np.array([w % 3 != 0 for w in words], dtype=bool),
        starts=starts,
        ends=starts + lengths,
        sentences=np.arange(0, len(words), every, dtype=np.int64),
    )


@st.composite
def edited_pairs(draw: st.DrawFn) -> tuple[AlignInput, AlignInput]:
    """A document and a copy of some of its sentences, reordered, with words substituted,
    dropped or summarised away, among sentences of its own."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    vocab = draw(st.sampled_from([12, 60, 400, 5000]))
    every = draw(st.sampled_from([5, 9, 16]))
    source = rng.integers(0, vocab, draw(st.sampled_from([0, 10, 80, 300]))).tolist()
    sentences = [source[k : k + every] for k in range(0, len(source), every)]
    copy: list[int] = []
    rate = draw(st.sampled_from([0.0, 0.2, 0.5]))
    keep = draw(st.sampled_from([1.0, 0.5, 0.2]))
    for s in sentences:
        if rng.random() < 0.2:
            copy += rng.integers(0, vocab, every).tolist()
        if rng.random() < keep:
            copy += [int(rng.integers(0, vocab)) if rng.random() < rate else w for w in s]
    if draw(st.booleans()) and len(copy) > 2 * every:
        half = len(copy) // 2
        copy = copy[half:] + copy[:half]
    a, b = _document(source, every), _document(copy, every)
    return (b, a) if draw(st.booleans()) else (a, b)


@given(edited_pairs(), st.sampled_from([8, 24, 40]))
@settings(max_examples=200, deadline=None)
def test_native_second_stage_equals_python(pair: tuple[AlignInput, AlignInput], floor: int) -> None:
    a, b = pair
    config = dataclasses.replace(SETTINGS, min_edited_tokens=floor)
    assert align(a, b, config) == reference_align(a, b, config)
    assert align(b, a, config) == reference_align(b, a, config)


def _whole(doc: AlignInput) -> Comparable:
    """A document of one passage holding all its tokens."""
    n = len(doc.token_hashes)
    passages = [Passage(0, PassageKind.WINDOW, 0, n, 0, int(doc.ends[-1]), False)] if n else []
    return Comparable(int(doc.ends[-1]) if n else 0, passages, doc, SETTINGS)


@given(edited_pairs())
@settings(max_examples=100, deadline=None)
def test_match_pair_with_sentences_equals_python(pair: tuple[AlignInput, AlignInput]) -> None:
    """Verified or not (then nothing is aligned), the native batch equals the reference."""
    a, b = _whole(pair[0]), _whole(pair[1])
    candidates = [(0, 0)] if a.passages and b.passages else []
    assert match_pair(a, b, candidates, SETTINGS) == reference_match_pair(a, b, candidates, SETTINGS)


@given(st.integers(0, 2**32), st.sampled_from([5, 9, 16]), st.sampled_from([60, 300]))
@settings(max_examples=150, deadline=None)
def test_texts_sharing_no_content_give_no_fragment(seed: int, every: int, size: int) -> None:
    """Two texts from disjoint vocabularies (function words aside: ids divisible by 3 are
    shared by both) have no seed, so no fragment, whatever their sentences."""
    rng = np.random.default_rng(seed)

    def words(low: int, high: int) -> list[int]:
        return [int(3 * rng.integers(0, 30) if rng.random() < 0.4 else rng.integers(low, high)) for _ in range(size)]

    a, b = _document(words(1, 5000), every), _document(words(5000, 10000), every)
    assert _fragments(a, b) == []
    assert [m for m in align(a, b, SETTINGS) if m.kind in (MatchKind.REWRITTEN, MatchKind.SUMMARY)] == []


def test_sentences_start_after_stops_and_line_breaks_not_inside_numbers() -> None:
    text = "One two. Three 3.5 four!\nFive six"
    starts = np.array([0, 4, 9, 15, 19, 25, 30], dtype=np.int64)
    ends = np.array([3, 7, 14, 18, 23, 29, 33], dtype=np.int64)
    assert sentence_starts(text, starts, ends).tolist() == [0, 2, 5]


@pytest.mark.parametrize("stop", ["\u06d4", "\u0964", "\u0589", "\u1362", "\u3002"])
def test_the_full_stops_of_other_scripts_end_sentences_as_a_period_does(stop: str) -> None:
    """Urdu, Devanagari, Armenian, Ethiopic and CJK full stops cut sentences where "." does, so the
    edited copy and the summary are found as they are in the same texts with periods (the stop
    replaced one for one, so every offset stays)."""
    from reuse.pipeline.inspection import compare_texts

    def found(text_a: str, text_b: str) -> list[tuple[str, int, int, int, int]]:
        result = compare_texts(text_a, text_b, SETTINGS)
        return [(m.kind.value, m.a.start, m.a.end, m.b.start, m.b.end) for m in result.matches]

    for copy in (BEFORE + EDITED_COPY + AFTER, BEFORE + SUMMARY + AFTER):
        with_periods = found(copy, SOURCE)
        assert {kind for kind, *_ in with_periods} & {MatchKind.REWRITTEN.value, MatchKind.SUMMARY.value}
        assert found(copy.replace(".", stop), SOURCE.replace(".", stop)) == with_periods
    text = f"One two{stop} Three four{stop}\nFive"
    starts = np.array([0, 4, 9, 15, 21], dtype=np.int64)
    assert sentence_starts(text, starts, starts + np.array([3, 3, 5, 4, 4])).tolist() == [0, 2, 4]


# -- each rule, on sentences made to test it -------------------------------------------------------


def _sentence(base: int, n: int = 8) -> list[int]:
    """``n`` content words (ids not divisible by 3) of their own, numbered from ``base``."""
    return [3 * (base + i) + 1 for i in range(n)]


def _kept(sentence: list[int], kept: int, base: int) -> list[int]:
    """The sentence with its words after the first ``kept`` replaced by words of its own."""
    return sentence[:kept] + _sentence(base, len(sentence) - kept)


def _reworded(sentence: list[int], base: int) -> list[int]:
    """The sentence with its last three words replaced by words of its own."""
    return _kept(sentence, len(sentence) - 3, base)


def _text(*sentences: list[int]) -> AlignInput:
    """A document of these sentences, in order."""
    words = [w for s in sentences for w in s]
    doc = _document(words, max(len(words), 1))
    lengths = np.cumsum([0, *(len(s) for s in sentences[:-1])])
    return dataclasses.replace(doc, sentences=lengths.astype(np.int64))


def _fragments(a: AlignInput, b: AlignInput, aligned: list[tuple[int, int, int, int]] | None = None) -> list[Fragment]:
    return fragments(a.side, b.side, aligned or [], 1)


P1, P2, P3, R = _sentence(100), _sentence(200), _sentence(300), _sentence(400)
U1, U2, U3, V1, V2, V3 = (_sentence(1000 * k) for k in range(1, 7))


def test_three_reworded_sentences_are_a_fragment_two_are_not() -> None:
    """MIN_SEEDS: two sentences saying what two of another text say (five words of eight kept:
    the two passages agree by a cosine under STRONG_SIMILARITY) are shared facts as often as a
    copy; three are a copy."""
    two = _fragments(_text(U1, P1, P2, U2), _text(V1, _reworded(P1, 500), _reworded(P2, 600), V2))
    assert two == []
    three = _fragments(
        _text(U1, P1, P2, P3, U2), _text(V1, _reworded(P1, 500), _reworded(P2, 600), _reworded(P3, 700), V2)
    )
    assert [(f.i0, f.i1, f.j0, f.j1, f.seeds) for f in three] == [(8, 29, 8, 29, 3)]


def test_two_sentences_agreeing_strongly_are_a_fragment() -> None:
    """MIN_STRONG_SEEDS: two sentences keeping six words of eight (the passages' cosine 0.59)
    are a copy; five of eight (0.45, the test above) are not."""
    found = _fragments(_text(U1, P1, P2, U2), _text(V1, _kept(P1, 6, 500), _kept(P2, 6, 600), V2))
    assert [(f.i0, f.i1, f.j0, f.j1, f.seeds) for f in found] == [(8, 22, 8, 22, 2)]


def test_a_fragment_under_the_edited_floor_counts_when_its_sides_agree_strongly() -> None:
    """STRONG_FLOOR_SHARE: three sentences of eight words, each keeping six (22 tokens once the
    replaced ending is cut off, cosine 0.59), are a copy under a floor of 30 tokens, as its two
    thirds (20) are met and the sides agree strongly; keeping five (21 tokens, cosine 0.45) they
    are not, though they are under a floor of 21, which needs no strong agreement; and 22 tokens
    are not enough under a floor of 34 (two thirds: 23)."""
    source = _text(U1, P1, P2, P3, U2)

    def found(kept: int, min_tokens: int) -> list[tuple[int, int, int]]:
        copy = _text(V1, _kept(P1, kept, 500), _kept(P2, kept, 600), _kept(P3, kept, 700), V2)
        return [(f.i0, f.i1, f.seeds) for f in fragments(source.side, copy.side, [], min_tokens)]

    assert found(6, 30) == [(8, 30, 3)]
    assert found(5, 30) == []
    assert found(5, 21) == [(8, 29, 3)]
    assert found(6, 34) == []
    for kept in (5, 6):
        copy = _text(V1, _kept(P1, kept, 500), _kept(P2, kept, 600), _kept(P3, kept, 700), V2)
        config = dataclasses.replace(SETTINGS, min_edited_tokens=30)
        assert align(source, copy, config) == reference_align(source, copy, config)


def _stemmed(base: int, n: int = 8) -> list[int]:
    """``n`` content words whose stem siblings (the id plus one) are content words too."""
    return [6 * (base + i) + 4 for i in range(n)]


def _to_stems(sentence: list[int], kept: int) -> list[int]:
    """The sentence with its words after the first ``kept`` replaced by others of their stem."""
    return sentence[:kept] + [w + 1 for w in sentence[kept:]]


def test_sentences_reworded_to_other_words_of_their_stems_seed_a_fragment() -> None:
    """Seeds compare stems: two sentences keeping two words of eight and the stems of the rest
    (exact words' Dice 0.25), between two copied whole, are four seeds, a copy; with the rest
    replaced by unrelated words, or only one word kept exactly (seeds share SEED_SHARED_WORDS
    words), they seed nothing and the copy is the two sentences copied whole (two seeds, agreeing
    strongly) and what lies between them."""
    source = [_stemmed(100 * k) for k in (1, 2, 3, 4)]

    def copy(first: list[int], third: list[int]) -> AlignInput:
        return _text(V1, first, source[1], third, source[3], V2)

    original = _text(U1, *source, U2)
    found = _fragments(original, copy(_to_stems(source[0], 2), _to_stems(source[2], 2)))
    assert [(f.i0, f.i1, f.j0, f.j1, f.seeds) for f in found] == [(8, 40, 8, 40, 4)]
    unrelated = [s[:2] + _stemmed(5000 + 100 * k, 6) for k, s in enumerate(source)]
    copied_whole = [(16, 40, 16, 40, 2)]
    found = _fragments(original, copy(unrelated[0], unrelated[2]))
    assert [(f.i0, f.i1, f.j0, f.j1, f.seeds) for f in found] == copied_whole
    found = _fragments(original, copy(_to_stems(source[0], 1), _to_stems(source[2], 1)))
    assert [(f.i0, f.i1, f.j0, f.j1, f.seeds) for f in found] == copied_whole
    reworded = copy(_to_stems(source[0], 2), _to_stems(source[2], 2))
    for config in (SETTINGS, dataclasses.replace(SETTINGS, min_edited_tokens=8)):
        assert align(original, reworded, config) == reference_align(original, reworded, config)


def test_a_sentence_seeding_everywhere_is_no_evidence() -> None:
    """MAX_SEEDS_PER_SENTENCE: a line repeated under every post (a template) seeds with each
    repeat; none of those seeds counts."""
    assert _fragments(_text(U1, R, U2), _text(V1, R, V2, R, R, R, V3)) == []


def test_a_verbatim_match_is_not_stretched_over_a_neighbour_on_its_topic() -> None:
    """_explained_elsewhere: P3, aligned word for word to its copy, also seeds with a rewording
    of it further on; that seed would stretch the match over text that is not the copy."""
    a = _text(U1, P1, P2, P3, U2, U3)
    b = _text(V1, P1, P2, P3, V2, _reworded(P3, 800))
    found = _fragments(a, b, [(8, 32, 8, 32)])
    assert [(f.i0, f.i1, f.j0, f.j1) for f in found] == [(8, 32, 8, 32)]


def test_a_neighbour_explaining_nothing_more_does_not_stretch_a_rewritten_match() -> None:
    """_trimmed_box: the source sentence N before P1 holds five of P1's words (in another
    order) and three of its own. The copy's first sentence, six words of P1, seeds with P1 and,
    by those five words, with N; P1 explains all it shares with N, so the copy starts at P1 in
    both engines. A copy whose first sentence also holds two of N's own words took them from N
    and starts at N; one word of N's own is less than a seed shares."""
    own = _sentence(900, 3)
    neighbour = own + P1[4::-1]
    source = _text(U1, neighbour, P1, P2, P3, U2)

    def copy(first: list[int]) -> AlignInput:
        return _text(V1, first, _reworded(P2, 600), _reworded(P3, 700), V2)

    def starts(first: list[int]) -> list[tuple[int, int, int]]:
        return [(f.i0, f.j0, f.seeds) for f in _fragments(source, copy(first))]

    assert starts(P1[:6] + _sentence(500, 2)) == [(16, 8, 4)]
    assert starts(own[:2] + P1) == [(8, 8, 4)]
    assert starts(own[:1] + P1) == [(16, 9, 4)]
    config = dataclasses.replace(SETTINGS, min_edited_tokens=8)
    for first, start in ((P1[:6] + _sentence(500, 2), 16), (own[:2] + P1, 8)):
        found = align(source, copy(first), config)
        assert found == reference_align(source, copy(first), config)
        assert [m.a.start for m in found] == [int(source.starts[start])]


def test_a_copy_starting_inside_a_sentence_starts_where_the_copy_does() -> None:
    """_pulled_in: the sentence holding the copy's first words begins with words of its own,
    which are not part of the match."""
    a = _text(U1, _sentence(900, 3) + P1, P2, P3, U2)
    b = _text(V1, _reworded(P1, 500), _reworded(P2, 600), _reworded(P3, 700), V2)
    found = _fragments(a, b)
    assert [(f.i0, f.j0) for f in found] == [(8 + 3, 8)]


def test_a_copy_of_comparable_length_is_not_a_summary() -> None:
    """SUMMARY_RATIO: the long gap would join the fourth sentence, five sentences on, to the
    first three; but the two sides are then too close in length for a summary, so the copy is
    the three sentences that are one."""
    filler = [_sentence(2000 + 100 * k, 3) for k in range(5)]
    a = _text(P1, P2, P3, *filler, R)
    b = _text(_reworded(P1, 500), _reworded(P2, 600), _reworded(P3, 700), _reworded(R, 800))
    found = _fragments(a, b)
    assert [(f.i0, f.i1, f.j0, f.j1, f.summary) for f in found] == [(0, 24 - 3, 0, 24 - 3, False)]


def _filler(base: int, n: int) -> list[list[int]]:
    """``n`` sentences of words of their own."""
    return [_sentence(base + 100 * k) for k in range(n)]


def test_a_summary_is_held_together_by_the_sentences_it_draws_on() -> None:
    """_holds in summary mode: three reworded sentences, each from a different part of a long
    source with eight sentences between them. All the source's words between would outweigh
    the summary's; the sentences it draws on agree with it, so it is one summary fragment."""
    source = _text(P1, *_filler(3000, 8), P2, *_filler(4000, 8), P3)
    summary = _text(_reworded(P1, 500), _reworded(P2, 600), _reworded(P3, 700))
    found = _fragments(summary, source)
    assert [(f.i0, f.i1, f.j0, f.j1, f.summary) for f in found] == [(0, 24 - 3, 0, 19 * 8, True)]


def test_a_clause_copied_into_a_summary_is_one_of_its_seeds() -> None:
    """Summary mode keeps seeds explained elsewhere: the summary's middle sentence is a clause of
    a longer source sentence, aligned word for word by the first stage. The ordinary reading
    drops that seed (the match is all of one sentence and not most of the other); a summary
    copies clauses, so in summary mode it is one of the three seeds."""
    source = _text(P1, *_filler(3000, 4), P2 + _sentence(5000, 12), *_filler(4000, 4), P3)
    summary = _text(_reworded(P1, 500), P2, _reworded(P3, 700))
    found = _fragments(summary, source, [(8, 16, 40, 48)])  # P2 in both
    assert [(f.i0, f.i1, f.j0, f.j1, f.seeds, f.summary) for f in found] == [(0, 24 - 3, 0, 100, 3, True)]


def test_a_summary_of_a_whole_text_reaches_its_start_and_end() -> None:
    """The lead and close a summary condenses: with two sentences before its first seed and two
    after its last, its source side is the whole source. With thirty before (more than
    SUMMARY_GAP_SENTENCES), it is a summary of the end of a long text, and its side stays where
    its seeds are (cut to the last word the summary shares): eleven sentences of 41, more than
    SUMMARY_SPAN_SHARE. With thirty after too, eleven of 71 sentences in the middle of a long
    text are no summary of it."""
    middle = [P1, *_filler(3000, 4), P2, *_filler(4000, 4), P3]
    summary = _text(_reworded(P1, 500), _reworded(P2, 600), _reworded(P3, 700))
    near = _fragments(summary, _text(*_filler(6000, 2), *middle, *_filler(7000, 2)))
    assert [(f.j0, f.j1, f.summary) for f in near] == [(0, 8 * (2 + 11 + 2), True)]
    far = _fragments(summary, _text(*_filler(6000, 30), *middle))
    assert [(f.j0, f.j1, f.summary) for f in far] == [(8 * 30, 8 * (30 + 11) - 3, True)]
    deep = _text(*_filler(6000, 30), *middle, *_filler(7000, 30))
    assert _fragments(summary, deep) == []
    config = dataclasses.replace(SETTINGS, min_edited_tokens=8)
    assert [m.kind for m in align(summary, _text(*_filler(6000, 30), *middle), config)] == [MatchKind.SUMMARY]
    assert align(summary, deep, config) == reference_align(summary, deep, config) == []


def test_of_as_many_seeds_the_ordinary_reading_comes_first() -> None:
    """Three sentences kept from a source, five apart: the ordinary gap joins them and the
    two sides agree, and the summary's gap joins them too. Of two readings of the same seeds
    the ordinary one is kept: a summary would also take the source's start and end, and an
    edited copy read as a summary takes text that was not copied (measured on PAN13: 03 and 04
    lose more than 05 gains)."""
    between = [_sentence(3000 + 100 * k, 7) for k in range(8)]
    source = _text(*_filler(6000, 2), P1, *between[:4], P2, *between[4:], P3, *_filler(7000, 2))
    found = _fragments(_text(P1, P2, P3), source)
    assert [(f.j0, f.j1, f.seeds, f.summary) for f in found] == [(16, 16 + 8 * 3 + 7 * 8, 3, False)]


def test_the_parts_of_a_summary_are_one_match() -> None:
    """summaries_joined: two sentences copied word for word, next to each other in the copy and
    eight sentences apart in their source, are found as two verbatim matches; together they are
    a summary of the source between them (a third of its length), so they are one ``summary``
    match. Five times as far apart (past SUMMARY_GAP_SENTENCES), or overlapping in the copy,
    they stay two."""
    first, second = _sentence(100, 12), _sentence(200, 12)
    between = [_sentence(3000 + 100 * k, 7) for k in range(8)]
    summary = _text(first, second)
    near = reference_align(summary, _text(first, *between, second), SETTINGS)
    assert [(m.kind, m.a_tokens, m.b_tokens) for m in near] == [(MatchKind.SUMMARY, 24, 12 + 7 * 8 + 12)]
    far_between = [_sentence(3000 + 100 * k, 7) for k in range(40)]
    far = reference_align(summary, _text(first, *far_between, second), SETTINGS)
    assert [m.kind for m in far] == [MatchKind.VERBATIM, MatchKind.VERBATIM]
    # One sentence found twice in its source: not two parts of anything.
    repeated = reference_align(_text(first), _text(first, *between, first), SETTINGS)
    assert [m.kind for m in repeated] == [MatchKind.VERBATIM, MatchKind.VERBATIM]
    assert align(summary, _text(first, *between, second), SETTINGS) == near


def test_two_rewritten_copies_close_on_both_sides_are_one_match() -> None:
    """rewrites_joined: three reworded sentences, three sentences of other words on each side,
    three more reworded sentences. The second stage finds two fragments (all six with the text
    between fail the fragment's test), 27 tokens apart on both sides: as the first stage joins
    hits closer than max_gap_tokens, they are one copy. Five sentences apart (43 tokens), two.
    Each ends at its sentences' bounds (edges_to_sentences): whole sentences of 8 tokens."""
    q1, q2, q3 = _sentence(1100), _sentence(1200), _sentence(1300)

    def pair(between: int) -> tuple[AlignInput, AlignInput]:
        a = _text(U1, P1, P2, P3, *_filler(7000, between), q1, q2, q3, U2)
        b = _text(
            V1,
            _reworded(P1, 500),
            _reworded(P2, 600),
            _reworded(P3, 700),
            *_filler(8000, between),
            _reworded(q1, 510),
            _reworded(q2, 610),
            _reworded(q3, 710),
            V2,
        )
        return a, b

    near = reference_align(*pair(3), SETTINGS)
    assert [(m.kind, m.a_tokens, m.b_tokens) for m in near] == [(MatchKind.REWRITTEN, 72, 72)]
    far = reference_align(*pair(5), SETTINGS)
    assert [(m.kind, m.a_tokens) for m in far] == [(MatchKind.REWRITTEN, 24), (MatchKind.REWRITTEN, 24)]
    assert [align(*pair(k), SETTINGS) for k in (3, 5)] == [near, far]


def test_fragments_overlapping_one_match_merge_into_one() -> None:
    """with_fragments: two fragments side by side, each overlapping the same first-stage match on
    both sides, are one copy: one match over all three (before, each fragment took the match
    into a match of its own, and the copy was reported twice over nearly the same text)."""
    doc = _text(*(_sentence(100 * k) for k in range(1, 7)))

    def match(t0: int, t1: int) -> Match:
        span = Span(int(doc.starts[t0]), int(doc.ends[t1 - 1]))
        return Match(span, span, 1.0, MatchKind.VERBATIM, t1 - t0, t1 - t0)

    found = [Fragment(8, 20, 8, 20, 3, False), Fragment(20, 40, 20, 40, 4, False)]
    merged = with_fragments(doc, doc, [match(16, 24), match(44, 48)], found)
    assert merged == [match(8, 40), match(44, 48)]
