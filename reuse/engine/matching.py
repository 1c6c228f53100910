"""From candidate passage pairs of two documents to verified, aligned matches.

Matching runs in the native engine (``reuse.engine._native``, Rust): :func:`match_pairs` verifies
and aligns a whole batch of document pairs in one call, on all cores, without the GIL
(:func:`match_grouped` takes a batch's pairs as columns and gives back those with a match).
:func:`reference_match_pair` (with :func:`reuse.engine.align.align` and
:func:`~reuse.engine.align.verify`) is the Python reference it equals, kept as the tests' oracle
and never called at run time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.align import AlignInput, verify, words_verified
from reuse.engine.align import align as reference_align
from reuse.engine.analysis import Comparable
from reuse.engine.grade import Grade, combine, grade, similarity_of
from reuse.engine.pairs import summarize, summary_columns
from reuse.models import DocumentPair, Match, MatchKind, Passage, Span

__all__ = [
    "MatchedColumns",
    "PairResult",
    "align",
    "grade_many",
    "graded",
    "match_grouped",
    "match_pair",
    "match_pairs",
    "reference_match_pair",
]

#: The summary of two documents without a match (most pairs a batch verifies): the same for
#: any lengths, made once.
_NOTHING_SHARED = summarize([], 0, 0)
#: The native engine's match kinds, by their code.
_KINDS = (MatchKind.VERBATIM, MatchKind.NEAR_VERBATIM, MatchKind.EDITED, MatchKind.REWRITTEN, MatchKind.SUMMARY)
#: Their stored values, by code (an array, to read a batch's codes at once).
_KIND_VALUES = np.array([kind.value for kind in _KINDS], object)


@dataclass(frozen=True)
class PairResult:
    """The outcome of matching two documents."""

    candidates: int  # passage pairs proposed by the LSH
    verified: int  # of those, confirmed exactly (shared shingles, or shared content words)
    matches: list[Match]
    summary: DocumentPair
    grade: Grade | None = None  # the parts of summary.similarity; None when not graded (no match)


@dataclass(frozen=True)
class MatchedColumns:
    """The pairs of a batch with a match, as columns (:func:`match_grouped`).

    ``pairs`` indexes them among the pairs given; ``proposed``, ``verified`` and the ``summary``
    columns (the fields of :class:`~reuse.models.DocumentPair`) hold one value a pair. The
    ``matches`` columns (``a_start``, ``a_end``, ``b_start``, ``b_end``, ``similarity``,
    ``kind`` as stored, ``a_tokens``, ``b_tokens``) hold one a match, each pair's in its order, the
    pairs in theirs; ``match_pairs`` says which of these pairs each belongs to. They equal what
    :func:`match_pairs` gives as objects."""

    pairs: np.ndarray
    proposed: np.ndarray
    verified: np.ndarray
    summary: dict[str, Any]
    matches: dict[str, Any]
    match_pairs: np.ndarray


def _matches(rows: list[tuple[int, int, int, int, float, int, int, int]]) -> list[Match]:
    return [Match(Span(a0, a1), Span(b0, b1), sim, _KINDS[kind], at, bt) for a0, a1, b0, b1, sim, kind, at, bt in rows]


def align(a: AlignInput, b: AlignInput, settings: Settings) -> list[Match]:
    """Every passage of ``a`` reused in ``b`` (and vice versa), aligned to character offsets, in
    the order of side ``a``: :func:`reuse.engine.align.align`, computed by the native engine."""
    native = (
        settings.min_match_tokens,
        settings.min_similarity,
        settings.max_gap_tokens,
        settings.min_verbatim_tokens,
        settings.min_edited_tokens,
    )
    return _matches(_native.align(a.arrays, b.arrays, native))


def match_pair(a: Comparable, b: Comparable, candidates: Iterable[tuple[int, int]], settings: Settings) -> PairResult:
    """Verify the candidate passage pairs ``(position in a, position in b)`` exactly, and if any
    holds, align the two documents to find every reused span, extended to its full length."""
    return match_pairs([(a, b, candidates)], settings)[0]


def graded(matches: Sequence[Match], a: Comparable, b: Comparable, proposed: int, verified: int) -> PairResult:
    """The result of matching ``a`` and ``b``: what they share (:func:`reuse.engine.pairs.summarize`)
    with their graded similarity (:func:`reuse.engine.grade.grade`, computed by the native engine)
    and its parts."""
    spans = [(m.a.start, m.a.end, m.b.start, m.b.end, m.similarity) for m in matches]
    return _result(matches, a, b, proposed, verified, grade_many([(a, b, spans)])[0])


def _result(
    matches: Sequence[Match], a: Comparable, b: Comparable, proposed: int, verified: int, parts: Grade
) -> PairResult:
    return PairResult(proposed, verified, list(matches), summarize(matches, a.chars, b.chars, parts.similarity), parts)


_Spans = Sequence[tuple[int, int, int, int, float]]


def grade_many(pairs: Sequence[tuple[Comparable, Comparable, _Spans]]) -> list[Grade]:
    """:func:`reuse.engine.grade.grade` of each ``(a, b, matches)`` (each match as ``(a_start,
    a_end, b_start, b_end, similarity)``), in one native call on all cores; a document in
    several pairs is handed over once."""
    slot: dict[int, int] = {}
    documents: list[tuple[np.ndarray, np.ndarray]] = []
    jobs: list[tuple[int, int, int, int, _Spans]] = []
    for a, b, spans in pairs:
        for doc in (a, b):
            if id(doc) not in slot:
                slot[id(doc)] = len(documents)
                view = doc.align_input
                documents.append(
                    (
                        np.ascontiguousarray(view.token_hashes, dtype=np.uint64),
                        np.ascontiguousarray(view.content, dtype=np.bool_),
                    )
                )
        jobs.append((slot[id(a)], slot[id(b)], a.chars, b.chars, spans))
    return [combine(*parts) for parts in _native.grade_pairs(documents, jobs)]


def match_pairs(
    pairs: Sequence[tuple[Comparable, Comparable, Iterable[tuple[int, int]] | np.ndarray]], settings: Settings
) -> list[PairResult]:
    """:func:`match_pair` on each ``(a, b, candidates)`` (pairs of positions, or an ``(n, 2)``
    array of them), in one native call that spreads the pairs over all cores; results in the
    order of ``pairs``. A document in several pairs is handed over once."""
    slot: dict[int, int] = {}
    documents: list[Comparable] = []
    for a, b, _ in pairs:
        for doc in (a, b):
            if id(doc) not in slot:
                slot[id(doc)] = len(documents)
                documents.append(doc)
    # An iterable of position pairs (a generator, say) is read into a list first: numpy would
    # take it as one object, not as rows.
    rows = [np.asarray(c if isinstance(c, np.ndarray) else list(c), np.int64).reshape(-1, 2) for _, _, c in pairs]
    starts = np.cumsum([0, *(len(r) for r in rows)], dtype=np.int64)
    places = np.concatenate(rows) if rows else np.zeros((0, 2), np.int64)
    slots = np.array([(slot[id(a)], slot[id(b)]) for a, b, _ in pairs], np.int64).reshape(-1, 2)
    proposed, verified, matched = _matched(documents, slots, starts, places, settings)
    results = [PairResult(p, v, [], _NOTHING_SHARED) for p, v in zip(proposed.tolist(), verified.tolist(), strict=True)]
    for index, result in matched:
        results[index] = result
    return results


def match_grouped(
    documents: Sequence[Comparable], pairs: np.ndarray, starts: np.ndarray, places: np.ndarray, settings: Settings
) -> MatchedColumns:
    """:func:`match_pairs` of a batch's pairs given as columns: ``pairs`` an ``(n, 2)`` array of
    each pair's two documents (indices into ``documents``), pair ``i``'s candidate positions the
    rows ``starts[i]:starts[i + 1]`` of ``places`` (``(k, 2)``). Only the pairs with a match
    come back, as columns: most pairs a batch verifies match nothing (93% of PAN13's), and in a
    bulk batch of reposts most of the rest match once; an array, a tuple, a result and a summary
    for each were most of the Python around the native call."""
    found = _native_matched(documents, pairs, starts, places, settings)
    sides = np.asarray(pairs, np.int64).reshape(-1, 2)[found.index]
    chars = np.array([doc.chars for doc in documents], np.int64)
    similarity = [similarity_of(*_parts(row)) for row in found.parts.tolist()]
    return MatchedColumns(
        found.index,
        found.proposed[found.index],
        found.verified[found.index],
        summary_columns(found.counts, found.spans, chars[sides[:, 0]], chars[sides[:, 1]], similarity),
        {
            "a_start": found.spans[:, 0],
            "a_end": found.spans[:, 1],
            "b_start": found.spans[:, 2],
            "b_end": found.spans[:, 3],
            "similarity": found.similarity,
            "kind": _KIND_VALUES[found.kinds].tolist(),
            "a_tokens": found.tokens[:, 0],
            "b_tokens": found.tokens[:, 1],
        },
        np.repeat(np.arange(len(found.index)), found.counts),
    )


@dataclass(frozen=True)
class _Found:
    """What the native call gives back (see ``_native.match_pairs``): each pair's candidates and
    verified candidates; the pairs with a match (their indices, match counts and grade parts,
    NaN for a part without evidence) and their matches as columns."""

    proposed: np.ndarray
    verified: np.ndarray
    index: np.ndarray
    counts: np.ndarray
    parts: np.ndarray
    spans: np.ndarray
    similarity: np.ndarray
    kinds: np.ndarray
    tokens: np.ndarray


def _parts(row: list[float]) -> tuple[float, float | None, float | None]:
    """A grade's parts as :func:`~reuse.engine.grade.combine` takes them (NaN: no evidence)."""
    aligned, fivegrams, word_pairs = row
    return aligned, None if math.isnan(fivegrams) else fivegrams, None if math.isnan(word_pairs) else word_pairs


def _native_matched(
    documents: Sequence[Comparable], pairs: np.ndarray, starts: np.ndarray, places: np.ndarray, settings: Settings
) -> _Found:
    """The native call: verified, aligned and graded on all cores."""
    native = (
        settings.min_match_tokens,
        settings.min_similarity,
        settings.max_gap_tokens,
        settings.verify_containment,
        settings.min_verbatim_tokens,
        settings.min_edited_tokens,
    )
    return _Found(
        *_native.match_pairs(
            [doc.native for doc in documents],
            np.ascontiguousarray(pairs, np.int64).reshape(-1, 2),
            np.ascontiguousarray(starts, np.int64),
            np.ascontiguousarray(places, np.int64).reshape(-1, 2),
            native,
        )
    )


def _matched(
    documents: Sequence[Comparable], pairs: np.ndarray, starts: np.ndarray, places: np.ndarray, settings: Settings
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, PairResult]]]:
    """:func:`match_pairs` before its results are laid out: each pair's candidates and verified
    candidates (two arrays), and the graded results of the pairs with a match."""
    found = _native_matched(documents, pairs, starts, places, settings)
    sides = np.asarray(pairs, np.int64).reshape(-1, 2)[found.index].tolist()
    ends = np.cumsum(found.counts).tolist()
    columns = (found.spans.tolist(), found.similarity.tolist(), found.kinds.tolist(), found.tokens.tolist())
    matches = _matches([(*span, sim, kind, *tokens) for span, sim, kind, tokens in zip(*columns, strict=True)])
    results = []
    for k, (i, (a, b), parts) in enumerate(zip(found.index.tolist(), sides, found.parts.tolist(), strict=True)):
        pair = matches[ends[k - 1] if k else 0 : ends[k]]
        grade_of = combine(*_parts(parts))
        results.append(
            (i, _result(pair, documents[a], documents[b], int(found.proposed[i]), int(found.verified[i]), grade_of))
        )
    return found.proposed, found.verified, results


def _content_words(x: Comparable, p: Passage) -> set[int]:
    """The distinct content words of passage ``p`` of ``x``."""
    view = x.align_input
    return set(view.token_hashes[p.token_start : p.token_end][view.content[p.token_start : p.token_end]].tolist())


def reference_match_pair(
    a: Comparable, b: Comparable, candidates: Iterable[tuple[int, int]], settings: Settings
) -> PairResult:
    """The Python reference of :func:`match_pair`: the tests' oracle, not used at run time."""
    proposed = list(candidates)
    verified = 0
    # One passage is proposed with many others: make each one's shingle set once.
    sets_a: dict[int, frozenset[int]] = {}
    sets_b: dict[int, frozenset[int]] = {}
    for pa, pb in proposed:
        passage_a, passage_b = a.passages[pa], b.passages[pb]
        if passage_a.unspaced != passage_b.unspaced:
            continue
        sa = sets_a.get(pa)
        if sa is None:
            sa = sets_a[pa] = frozenset(a.shingles(passage_a).tolist())
        sb = sets_b.get(pb)
        if sb is None:
            sb = sets_b[pb] = frozenset(b.shingles(passage_b).tolist())
        _, contained_a, contained_b = verify(sa, sb)
        # A reported match is at least ``min_match_tokens`` long, but a short passage reaches
        # ``verify_containment`` with two or three common word pairs ("of the", "it was"), and
        # aligning its documents finds nothing: half that many shared shingles are required too.
        # (On 5,424 articles of the scale benchmark's corpus no aligned pair whose best passage
        # pair shared fewer than 6 had a match; they were a third of the alignments.)
        shared = round(contained_a * len(sa))
        by_shingles = max(contained_a, contained_b) >= settings.verify_containment
        if (by_shingles and 2 * shared >= settings.min_match_tokens) or words_verified(
            _content_words(a, passage_a), _content_words(b, passage_b)
        ):
            verified += 1
    matches = reference_align(a.align_input, b.align_input, settings) if verified else []
    if not matches:
        return PairResult(len(proposed), verified, [], _NOTHING_SHARED)
    # The grade's Python reference too: this function is the oracle of the whole result.
    parts = grade(matches, a.evidence, b.evidence, a.chars, b.chars)
    return _result(matches, a, b, len(proposed), verified, parts)
