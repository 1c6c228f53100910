"""Native verification and alignment (reuse.engine.matching) against the Python reference.

``reuse.engine.align.align`` and ``reuse.engine.matching.reference_match_pair`` are the oracle:
the native engine must give the same matches (spans, similarity to the last rounded digit, kind,
token counts) and the same candidate and verified counts, on generated document pairs built to
be hard (small vocabularies, so repeated words and ambiguous anchors; copies with insertions,
deletions, substitutions, shuffled sentences and repeated passages; empty and tiny sides;
unspaced tokens) and on real text.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.align import AlignInput
from reuse.engine.align import align as reference_align
from reuse.engine.analysis import Comparable, analyse
from reuse.engine.matching import MatchedColumns, align, match_grouped, match_pair, match_pairs, reference_match_pair
from reuse.engine.shingles import shingle_hashes
from reuse.models import Passage, PassageKind

ROOT = Path(__file__).resolve().parent.parent
PAN13 = ROOT.parent / "shared" / "data" / "pan13-text-alignment-training-corpus-2013-01-21"
SETTINGS = Settings()


# -- the SequenceMatcher port ---------------------------------------------------------------------


@given(st.lists(st.integers(0, 4), max_size=40), st.lists(st.integers(0, 4), max_size=40))
@settings(max_examples=400, deadline=None)
def test_sequence_matcher_matches_difflib(a: list[int], b: list[int]) -> None:
    expected = sum(m.size for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    assert _native.sequence_matched(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)) == expected


def test_sequence_matcher_keeps_difflibs_tie_breaking() -> None:
    # Two equally long blocks; the one difflib picks first decides how the rest splits.
    a, b = [1, 2, 9, 1, 2, 3, 3], [3, 3, 1, 2, 8, 1, 2]
    expected = sum(m.size for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    assert _native.sequence_matched(np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)) == expected


# -- generated documents --------------------------------------------------------------------------


def _hash(word: int) -> int:
    """A token hash spread over 64 bits, so orientation (which compares hash bytes) varies."""
    return (word * 0x9E3779B97F4A7C15 + 0x1234567) % (1 << 64)


def _comparable(
    words: list[int], unspaced: list[bool], cuts: list[int], settings: Settings, sentences: list[int] | None = None
) -> Comparable:
    """A document of ``words`` (vocabulary ids): content words are the ids not divisible by 3
    (written with spaces), ids ``2k`` and ``2k + 1`` of one stem, tokens ``1 + id % 7`` characters
    long, one space apart; passages are
    the runs between ``cuts``, unspaced when their first token is; its sentences start at the
    tokens ``sentences`` (none: the second stage does not run)."""
    hashes = np.array([_hash(w) for w in words], dtype=np.uint64)
    lengths = np.array([1 + w % 7 for w in words], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64) if words else np.zeros(0, np.int64)
    flags = np.array(unspaced, dtype=bool)
    view = AlignInput(
        token_hashes=hashes,
        stems=np.array([_hash((w >> 1) + (1 << 40)) for w in words], dtype=np.uint64),
        trigrams=shingle_hashes(hashes, 3).astype(np.uint64),
        content=np.array([w % 3 != 0 for w in words], dtype=bool) & ~flags,
        starts=starts,
        ends=starts + lengths,
        sentences=np.array(sentences or [], dtype=np.int64),
    )
    bounds = sorted({0, len(words), *(c for c in cuts if 0 < c < len(words))})
    passages = [
        Passage(k, PassageKind.WINDOW, s, e, int(starts[s]), int(starts[e - 1] + lengths[e - 1]), bool(flags[s]))
        for k, (s, e) in enumerate(itertools.pairwise(bounds))
    ]
    chars = int(starts[-1] + lengths[-1]) if words else 0
    return Comparable(chars, passages, view, settings)


def _edited(rng: np.random.Generator, source: list[int], vocab: int, ops: list[str]) -> list[int]:
    """A document made of pieces of ``source`` copied with the edits ``ops`` names, between
    stretches of other words."""
    rate = rng.choice([0.03, 0.1, 0.3])
    out: list[int] = []
    for op in ops:
        out += rng.integers(0, vocab, int(rng.integers(0, 12))).tolist()
        if not source:
            continue
        start = int(rng.integers(0, len(source)))
        piece = source[start : start + int(rng.integers(1, 150))]
        if op == "substitute":
            piece = [int(rng.integers(0, vocab)) if rng.random() < rate else w for w in piece]
        elif op == "delete":
            piece = [w for w in piece if rng.random() > rate]
        elif op == "insert":
            piece = [x for w in piece for x in ([w, int(rng.integers(0, vocab))] if rng.random() < rate else [w])]
        elif op == "shuffle":
            sentences = [piece[k : k + 7] for k in range(0, len(piece), 7)]
            rng.shuffle(sentences)  # type: ignore[arg-type]
            piece = [w for s in sentences for w in s]
        elif op == "repeat":
            piece = piece + piece
        out += piece
    return out


OPS = st.lists(st.sampled_from(["copy", "substitute", "delete", "insert", "shuffle", "repeat"]), max_size=5)


@st.composite
def document_pairs(draw: st.DrawFn) -> tuple[Comparable, Comparable, list[tuple[int, int]], Settings]:
    """Two documents sharing edited pieces, their candidate passage pairs and the settings."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32)))
    vocab = draw(st.sampled_from([2, 5, 12, 40, 400, 5000]))
    size = draw(st.sampled_from([0, 1, 2, 3, 10, 60, 200, 400]))
    a = rng.integers(0, vocab, size).tolist()
    b = _edited(rng, a, vocab, draw(OPS))
    unspaced_share = draw(st.sampled_from([0.0, 0.0, 0.3, 1.0]))
    config = dataclasses.replace(
        SETTINGS,
        min_match_tokens=draw(st.integers(3, 14)),
        max_gap_tokens=draw(st.sampled_from([0, 5, 40])),
        min_similarity=draw(st.sampled_from([0.0, 0.3, 0.5, 0.9])),
        verify_containment=draw(st.sampled_from([0.05, 0.2, 0.6])),
    )
    # Sentences as the pipeline gives them (sorted, from 0, inside the document): none (the
    # second stage off), every 7 tokens (the shuffled pieces' sentences) or at random tokens.
    sentence_mode = draw(st.sampled_from(["none", "every 7", "random"]))
    docs = []
    for words in (a, b):
        unspaced = (rng.random(len(words)) < unspaced_share).tolist()
        cuts = rng.integers(0, max(len(words), 1), len(words) // 8 + 1).tolist()
        sentences = None
        if words and sentence_mode == "every 7":
            sentences = list(range(0, len(words), 7))
        elif words and sentence_mode == "random":
            sentences = sorted({0, *rng.integers(0, len(words), len(words) // 6 + 1).tolist()})
        docs.append(_comparable(words, unspaced, cuts, config, sentences))
    if draw(st.booleans()):
        docs.reverse()
    first, second = docs
    every = list(itertools.product(range(len(first.passages)), range(len(second.passages))))
    candidates = draw(st.lists(st.sampled_from(every), max_size=20)) if every else []
    return first, second, candidates, config


@given(document_pairs())
@settings(max_examples=250, deadline=None)
def test_align_equals_python(pair: tuple[Comparable, Comparable, list[tuple[int, int]], Settings]) -> None:
    a, b, _, config = pair
    assert align(a.align_input, b.align_input, config) == reference_align(a.align_input, b.align_input, config)
    assert align(b.align_input, a.align_input, config) == reference_align(b.align_input, a.align_input, config)


@given(document_pairs())
@settings(max_examples=150, deadline=None)
def test_match_pair_equals_python(pair: tuple[Comparable, Comparable, list[tuple[int, int]], Settings]) -> None:
    a, b, candidates, config = pair
    assert match_pair(a, b, candidates, config) == reference_match_pair(a, b, candidates, config)


@given(st.lists(document_pairs(), min_size=1, max_size=4))
@settings(max_examples=40, deadline=None)
def test_a_batch_equals_its_pairs_one_by_one(
    pairs: list[tuple[Comparable, Comparable, list[tuple[int, int]], Settings]],
) -> None:
    # One batch has one settings object; the documents keep their own shingle sizes.
    config = pairs[0][3]
    jobs = [(a, b, candidates) for a, b, candidates, _ in pairs]
    jobs += [(b, a, [(pb, pa) for pa, pb in c]) for a, b, c in jobs]  # documents shared across pairs
    assert match_pairs(jobs, config) == [reference_match_pair(a, b, c, config) for a, b, c in jobs]


@given(st.lists(document_pairs(), min_size=1, max_size=4))
@settings(max_examples=40, deadline=None)
def test_a_batch_as_columns_gives_its_pairs_with_a_match(
    pairs: list[tuple[Comparable, Comparable, list[tuple[int, int]], Settings]],
) -> None:
    """Pairs handed over as columns (documents by index, candidates as one array cut by offsets,
    some pairs without candidates) come back as the pairs with a match, by index, equal to the
    reference; the others match nothing in the reference either."""
    config = pairs[0][3]
    documents = [doc for a, b, _, _ in pairs for doc in (a, b)]
    jobs = [(2 * k, 2 * k + 1, c) for k, (_, _, c, _) in enumerate(pairs)]
    jobs += [(2 * k + 1, 2 * k, [(pb, pa) for pa, pb in c]) for k, (_, _, c, _) in enumerate(pairs)]
    jobs.append((0, 1, []))  # no candidate: nothing verified, no match
    starts = np.cumsum([0, *(len(c) for _, _, c in jobs)])
    places = np.array([place for _, _, c in jobs for place in c], np.int64).reshape(-1, 2)
    found = match_grouped(documents, np.array([(a, b) for a, b, _ in jobs]), starts, places, config)
    expected = [reference_match_pair(documents[a], documents[b], c, config) for a, b, c in jobs]
    matched = [(i, result) for i, result in enumerate(expected) if result.matches]
    assert found.pairs.tolist() == [i for i, _ in matched]
    assert found.proposed.tolist() == [result.candidates for _, result in matched]
    assert found.verified.tolist() == [result.verified for _, result in matched]
    for name, values in found.summary.items():
        assert _listed(values) == [getattr(result.summary, name) for _, result in matched], name
    matches = [(k, m) for k, (_, result) in enumerate(matched) for m in result.matches]
    assert found.match_pairs.tolist() == [k for k, _ in matches]
    fields = {
        "a_start": lambda m: m.a.start,
        "a_end": lambda m: m.a.end,
        "b_start": lambda m: m.b.start,
        "b_end": lambda m: m.b.end,
        "similarity": lambda m: m.similarity,
        "kind": lambda m: m.kind.value,
        "a_tokens": lambda m: m.a_tokens,
        "b_tokens": lambda m: m.b_tokens,
    }
    assert found.matches.keys() == fields.keys()
    for name, field in fields.items():
        assert _listed(found.matches[name]) == [field(m) for _, m in matches], name


def _listed(values: np.ndarray | list[object]) -> list[object]:
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def test_columns_that_disagree_are_errors() -> None:
    a = _comparable(list(range(30)), [False] * 30, [10], SETTINGS)
    one = np.array([[0, 0]], np.int64)
    with pytest.raises(ValueError, match="starts must rise"):
        match_grouped([a], np.array([[0, 0]]), np.array([0, 2]), one, SETTINGS)  # past the candidates
    with pytest.raises(ValueError, match="starts must rise"):
        match_grouped([a], np.array([[0, 0]]), np.array([0]), one, SETTINGS)  # no end for the pair
    with pytest.raises(ValueError, match="does not hold"):
        match_grouped([a], np.array([[0, 1]]), np.array([0, 1]), one, SETTINGS)


def test_a_reordered_passage_is_verified_by_its_content_words() -> None:
    """Its words shuffled, a passage shares almost no word pair with its source but all its
    content words: verified (align.WORD_CONTAINMENT), by both engines; seven shared content
    words (under align.WORD_SHARED), or eight of thirty (under the share), are not."""
    rng = np.random.default_rng(4)
    words = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 6)) for _ in range(120)]

    def verified(a_words: list[str], b_words: list[str]) -> int:
        a, b = (analyse(" ".join(w), SETTINGS).comparable for w in (a_words, b_words))
        assert len(a.passages) == len(b.passages) == 1
        native, reference = match_pair(a, b, [(0, 0)], SETTINGS), reference_match_pair(a, b, [(0, 0)], SETTINGS)
        assert native == reference
        return native.verified

    def apart(shared: int, length: int) -> list[str]:
        """``shared`` of the first words, each between two words of the copy's own: no pair shared."""
        own = iter(words[40:])
        return [next(own) if k % 2 or k // 2 >= shared else words[k // 2] for k in range(length)]

    source = words[:30]
    assert verified(source, [source[int(i)] for i in rng.permutation(30)]) == 1
    assert verified(words[:20], apart(7, 20)) == 0
    assert verified(words[:20], apart(8, 20)) == 1
    assert verified(words[:30], apart(8, 30)) == 0


def test_bad_batches_are_errors_not_crashes() -> None:
    a = _comparable(list(range(30)), [False] * 30, [10], SETTINGS)
    with pytest.raises(ValueError, match="outside"):
        match_pair(a, a, [(0, 5)], SETTINGS)
    with pytest.raises(ValueError, match="outside"):
        match_pair(a, a, [(-1, 0)], SETTINGS)
    broken = dataclasses.replace(a.align_input, trigrams=a.align_input.trigrams[:-1])
    with pytest.raises(ValueError, match="trigrams"):
        align(broken, a.align_input, SETTINGS)
    assert match_pairs([], SETTINGS) == []


def _strided(array: np.ndarray) -> np.ndarray:
    """The same values as a view every other element of a larger array (not contiguous)."""
    spread = np.repeat(array, 2, axis=0)
    view = spread[::2]
    assert len(array) < 2 or not view.flags.c_contiguous
    return view


def test_a_kept_documents_native_form_is_its_analysis_arrays_made_once() -> None:
    """What the native matcher is handed of a document shares the analysis's arrays (no copy:
    kept documents are counted by their arrays' bytes) and is made once, however many batches
    hand it over."""
    doc = analyse(" ".join(f"w{k % 37} x{k}" for k in range(90)), SETTINGS).comparable
    arrays, rows, *_ = doc.native
    view = doc.align_input
    assert all(
        given_array is getattr(view, f.name)
        for given_array, f in zip(arrays, dataclasses.fields(AlignInput), strict=True)
    )
    assert rows is doc.passage_rows
    assert doc.native is doc.native and view.arrays is arrays


def test_strided_arrays_are_read_as_their_values() -> None:
    """The batch calls read their arrays without numpy's borrow registry: a view that is not
    contiguous is copied, not read as if it were, and a wrong dtype is still refused."""
    a = analyse(" ".join(f"w{k % 37} x{k}" for k in range(90)), SETTINGS).comparable
    b = analyse(" ".join(f"w{k % 37} x{k}" for k in range(20, 110)), SETTINGS).comparable
    native = (12, 0.5, 40, 0.5, 10, 24)
    docs = [a.native, b.native]
    strided = [(tuple(_strided(x) for x in arrays), _strided(rows), w, c, n) for arrays, rows, w, c, n in docs]
    candidates = np.array([[0, 0], [0, 1], [1, 0]], np.int64)
    pair, starts = np.array([[0, 1]], np.int64), np.array([0, 3], np.int64)
    expected = _native.match_pairs(docs, pair, starts, candidates, native)
    assert expected[2].tolist() == [0]  # something to compare
    again = _native.match_pairs(strided, _strided(pair), _strided(starts), _strided(candidates), native)
    assert all(np.array_equal(x, y, equal_nan=x.dtype.kind == "f") for x, y in zip(again, expected, strict=True))
    graded = [(x[0][0], x[0][3]) for x in docs]
    spans = [(*span, similarity) for span, similarity in zip(expected[5].tolist(), expected[6].tolist(), strict=True)]
    assert _native.grade_pairs([(_strided(h), _strided(c)) for h, c in graded], [(0, 1, 90, 90, spans)]) == (
        _native.grade_pairs(graded, [(0, 1, 90, 90, spans)])
    )
    wrong = (docs[0][0][0].astype(np.int64), *docs[0][0][1:])
    with pytest.raises(TypeError):
        _native.match_pairs(
            [(wrong, *docs[0][1:])], np.zeros((0, 2), np.int64), np.zeros(1, np.int64), candidates[:0], native
        )


@pytest.mark.parametrize(
    "sentences",
    [[-5, 0, 7, 14, 10**6], [10**9], [-1], [0, 500, 9, 3, 3], [0, 299, 300, 301]],
    ids=["negative-and-beyond", "beyond-only", "negative-only", "unsorted", "at-the-end"],
)
def test_sentence_starts_outside_the_document_neither_crash_nor_differ(sentences: list[int]) -> None:
    """Sentence starts the pipeline never makes (negative, past the last token, unsorted):
    the native engine gives what the reference gives, and every match stays inside both
    documents."""
    rng = np.random.default_rng(5)
    words = rng.integers(0, 400, 300).tolist()
    copy = _edited(rng, words, 400, ["substitute", "copy", "delete"])
    a = _comparable(words, [False] * len(words), [100, 200], SETTINGS, sentences).align_input
    b = _comparable(copy, [False] * len(copy), [100], SETTINGS, list(range(0, len(copy), 7))).align_input
    found = align(a, b, SETTINGS)
    assert found and found == reference_align(a, b, SETTINGS)
    for m in found:
        assert 0 <= m.a.start < m.a.end <= int(a.ends[-1]) and 0 <= m.b.start < m.b.end <= int(b.ends[-1])


# -- real text ------------------------------------------------------------------------------------


def _every_pair(a: Comparable, b: Comparable) -> list[tuple[int, int]]:
    return list(itertools.product(range(len(a.passages)), range(len(b.passages))))


def _seed_texts() -> list[str]:
    from crawlers.extract import extract

    pages = sorted((ROOT / "seeds" / "demo").rglob("*.html"))
    if not pages:
        pytest.skip("no seeds/demo pages in this checkout")
    return [extract(p.read_bytes()).text for p in pages]


def test_seed_articles_match_as_in_python() -> None:
    comparables = [analyse(text, SETTINGS).comparable for text in _seed_texts()]
    jobs = [(a, b, _every_pair(a, b)) for a, b in itertools.combinations(comparables, 2)]
    native = match_pairs(jobs, SETTINGS)
    assert native == [reference_match_pair(a, b, c, SETTINGS) for a, b, c in jobs]
    assert any(result.matches for result in native)  # the demo holds reposts


@pytest.mark.parametrize("category", ["02-no-obfuscation", "03-random-obfuscation", "05-summary-obfuscation"])
def test_pan13_pairs_match_as_in_python(category: str) -> None:
    if not PAN13.is_dir():
        pytest.skip(f"the PAN13 training corpus is not at {PAN13}")
    names = (PAN13 / category / "pairs").read_text().splitlines()[:6]
    jobs = []
    for line in names:
        susp, src = line.split()
        a = analyse((PAN13 / "susp" / susp).read_text(), SETTINGS).comparable
        b = analyse((PAN13 / "src" / src).read_text(), SETTINGS).comparable
        jobs.append((a, b, _every_pair(a, b)))
    native = match_pairs(jobs, SETTINGS)
    assert native == [reference_match_pair(a, b, c, SETTINGS) for a, b, c in jobs]
    assert any(result.matches for result in native)


def test_ingest_matches_a_whole_batch_in_one_native_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reuse.models import Document
    from reuse.pipeline import ingest as ingest_module
    from warehouse.db import open_warehouse

    calls: list[int] = []

    def counted(
        documents: list[Comparable], pairs: np.ndarray, starts: np.ndarray, places: np.ndarray, config: Settings
    ) -> MatchedColumns:
        calls.append(len(pairs))
        return match_grouped(documents, pairs, starts, places, config)

    monkeypatch.setattr(ingest_module, "match_grouped", counted)
    documents = [Document(url=f"https://demo.example/{k}", text=text) for k, text in enumerate(_seed_texts())]
    with open_warehouse(tmp_path / "demo.duckdb", SETTINGS) as warehouse:
        report = ingest_module.ingest(warehouse, documents, SETTINGS, lineage=False)
    assert len(calls) == 1 and calls[0] > 1  # every document pair of the batch, at once
    assert report.matches > 0
