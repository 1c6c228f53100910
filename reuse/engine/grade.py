"""Graded similarity of two documents: *how much* of one the other took, and how closely.

A match's ``similarity`` says how close its two spans are (the share of their tokens in the same
order, difflib's ratio: 1.0 exactly when verbatim); a document pair's ``coverage`` says how much of
each side lies inside a match, however edited. Neither grades a pair: coverage counts an edited
copy as much as a verbatim one, and a rewrite that the alignment's length and similarity floors
miss counts as nothing at all. :func:`grade` combines three kinds of evidence, each the share of
the *smaller* document (the one that can be wholly taken) found in the other, each in ``[0, 1]``,
1 for a verbatim copy of it and near 0 for unrelated text:

* ``aligned``: the aligned matches' coverage of that side, each match weighted by its similarity
  (the best of the two sides). It stays high under light edits and is what the spans shown by
  ``compare`` and ``matches`` amount to; it falls to 0 when a rewrite leaves no span long and
  similar enough to align.
* ``fivegrams``: containment of word 5-grams (distinct), the plain measure of text reuse (Clough
  and Stevenson's short-answer corpus, PAN). It needs five words unchanged in a row, so it falls
  fastest as the edits thicken: it separates verbatim from lightly edited text.
* ``word_pairs``: containment of content-word bigrams (distinct): two content words (4 characters
  or more, as the aligner's) next to each other once the shorter words between them are dropped.
  Word pairs survive reordered clauses and changed function words, and a word swapped breaks only
  the two pairs around it, so they still see a heavy rewrite; unlike single shared words, pairs of them are rare
  between texts that merely share a topic (on PAN13's negative pairs the median is 0.00, where
  shared content words are 0.16).

``similarity`` is their mean (a kind of evidence the smaller side cannot hold, word pairs in a
script written without spaces, 5-grams in a text under five words, is left out). Equal weights, no
constant fitted: each term decays with editing at its own rate (5-grams first, aligned spans when
the floors give up, word pairs last), so a light edit keeps two and a half terms, a heavy rewrite
about one, unrelated text none, and the mean orders verbatim > light edit > heavy rewrite >
unrelated. Taking the mean rather than the maximum keeps a single strong term (one long verbatim
quote in a long text, or a heavy rewrite aligned whole as one ``edited`` match) from grading as a
whole copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reuse.engine import _native
from reuse.models import Match

__all__ = ["Evidence", "Grade", "combine", "evidence", "grade", "similarity_of"]

#: Words in a row of the verbatim evidence (word 5-grams, as the text-reuse literature uses).
FIVE = 5


@dataclass(frozen=True)
class Evidence:
    """What grading needs of one document, each a sorted array of distinct hashes."""

    fivegrams: np.ndarray
    word_pairs: np.ndarray


@dataclass(frozen=True)
class Grade:
    """The graded similarity of two documents and its three parts (see the module's docstring)."""

    similarity: float
    aligned: float
    fivegrams: float | None  # None: the smaller side has no word 5-gram (under five words)
    word_pairs: float | None  # None: it has no content-word pair (a script without spaces, a few words)


def evidence(token_hashes: np.ndarray, content: np.ndarray) -> Evidence:
    """A document's grading evidence from its token hashes and its content-word flags."""
    hashes = np.ascontiguousarray(token_hashes, dtype=np.uint64)
    words = np.ascontiguousarray(hashes[np.asarray(content, dtype=np.bool_)])
    return Evidence(_distinct(hashes, FIVE), _distinct(words, 2))


def _distinct(hashes: np.ndarray, n: int) -> np.ndarray:
    if len(hashes) < n:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(_native.shingle_hashes(hashes, n).astype(np.uint64))


def _containment(x: np.ndarray, y: np.ndarray) -> float | None:
    """Share of the smaller of two sorted distinct arrays found in the other; None when it is empty."""
    small, large = (x, y) if len(x) <= len(y) else (y, x)
    if not len(small):
        return None
    at = np.searchsorted(large, small).clip(max=len(large) - 1)
    return float(np.count_nonzero(large[at] == small)) / len(small)


def _weighted_coverage(spans: Sequence[tuple[int, int, float]], chars: int) -> float:
    """Share of ``chars`` inside the spans, each character weighted by the similarity of the first
    span holding it (matches rarely overlap, but a character never counts twice)."""
    if not chars:
        return 0.0
    total, reach = 0.0, 0
    for start, end, weight in sorted(spans, key=lambda s: (s[0], -s[2])):
        begin = max(start, reach)
        if end > begin:
            total += (end - begin) * weight
            reach = end
    return min(1.0, total / chars)


def grade(matches: Sequence[Match], a: Evidence, b: Evidence, chars_a: int, chars_b: int) -> Grade:
    """The graded similarity of documents ``a`` and ``b`` (``chars_*`` characters long) given
    their aligned ``matches``; every part is rounded to 4 places, as coverage is."""
    aligned = max(
        _weighted_coverage([(m.a.start, m.a.end, m.similarity) for m in matches], chars_a),
        _weighted_coverage([(m.b.start, m.b.end, m.similarity) for m in matches], chars_b),
    )
    return combine(aligned, _containment(a.fivegrams, b.fivegrams), _containment(a.word_pairs, b.word_pairs))


def combine(aligned: float, fivegrams: float | None, word_pairs: float | None) -> Grade:
    """The grade of the unrounded parts: their mean (:func:`similarity_of`) and each part
    rounded to 4 places (the native engine gives the parts, :func:`grade` computes them in
    Python)."""
    similarity = similarity_of(aligned, fivegrams, word_pairs)
    return Grade(similarity, round(aligned, 4), _rounded(fivegrams), _rounded(word_pairs))


def similarity_of(aligned: float, fivegrams: float | None, word_pairs: float | None) -> float:
    """The graded similarity of the unrounded parts: their mean, rounded to 4 places."""
    # A kind of evidence the smaller side cannot have is no evidence either way: left out.
    parts = [aligned, *(part for part in (fivegrams, word_pairs) if part is not None)]
    return round(sum(parts) / len(parts), 4)


def _rounded(part: float | None) -> float | None:
    return None if part is None else round(part, 4)
