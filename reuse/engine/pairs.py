"""Document pairs: what two documents share, summed over their matches."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from reuse.models import DocumentPair, Match, Span

__all__ = ["summarize", "summary_columns"]


def _union_length(spans: Sequence[Span]) -> int:
    total, reach = 0, -1
    for span in sorted(spans, key=lambda s: s.start):
        start = max(span.start, reach)
        if span.end > start:
            total += span.end - start
        reach = max(reach, span.end)
    return total


def summarize(matches: Sequence[Match], chars_a: int, chars_b: int, similarity: float = 0.0) -> DocumentPair:
    """Coverage of each side, the longest match and whether the order of matches is kept, with the
    pair's graded ``similarity`` (:func:`reuse.engine.grade.grade`)."""
    shared_a = _union_length([m.a for m in matches])
    shared_b = _union_length([m.b for m in matches])
    by_a = sorted(matches, key=lambda m: m.a.start)
    in_order = all(x.b.start <= y.b.start for x, y in itertools.pairwise(by_a))
    return DocumentPair(
        matches=len(matches),
        shared_chars_a=shared_a,
        shared_chars_b=shared_b,
        coverage_a=round(shared_a / chars_a, 4) if chars_a else 0.0,
        coverage_b=round(shared_b / chars_b, 4) if chars_b else 0.0,
        longest_chars=max((len(m.a) for m in matches), default=0),
        in_order=in_order,
        similarity=similarity,
    )


def _coverage(shared: np.ndarray, chars: np.ndarray) -> list[float]:
    """:func:`summarize`'s coverage of each pair: Python's ``round`` of Python's division, so
    that the columns equal the objects to the last bit (numpy's rounding differs at halves)."""
    return [round(s / c, 4) if c else 0.0 for s, c in zip(shared.tolist(), chars.tolist(), strict=True)]


def _union_lengths(group: np.ndarray, starts: np.ndarray, ends: np.ndarray, groups: int) -> np.ndarray:
    """:func:`_union_length` of each group's spans (spans ``k`` of group ``group[k]``, any order)."""
    if not len(group):
        return np.zeros(groups, np.int64)
    order = np.lexsort((starts, group))
    g, s, e = group[order], starts[order], ends[order]
    # The reach before each span: the running maximum of the ends, kept within its group by
    # lifting each group above every end of the groups before it.
    lift = g * (int(e.max()) + 2)
    reach = np.maximum.accumulate(e + lift) - lift
    before = np.r_[-1, reach[:-1]]
    before[np.r_[True, g[1:] != g[:-1]]] = -1
    taken = np.maximum(e - np.maximum(s, before), 0)
    return np.bincount(g, weights=taken, minlength=groups).astype(np.int64)


def summary_columns(
    counts: np.ndarray, spans: np.ndarray, chars_a: np.ndarray, chars_b: np.ndarray, similarity: Sequence[float]
) -> dict[str, Any]:
    """:func:`summarize` of many pairs at once, as columns (the fields of
    :class:`~reuse.models.DocumentPair`): pair ``i`` has ``counts[i]`` matches (at least one),
    the next rows of ``spans`` (``(a_start, a_end, b_start, b_end)``, in the pair's order), and
    documents of ``chars_a[i]`` and ``chars_b[i]`` characters. A batch's pairs with a match run to
    hundreds of thousands; an object and a sort for each were most of the Python around them."""
    pairs = len(counts)
    group = np.repeat(np.arange(pairs), counts)
    a0, a1, b0, b1 = (np.asarray(spans[:, k], np.int64) for k in range(4))
    shared_a = _union_lengths(group, a0, a1, pairs)
    shared_b = _union_lengths(group, b0, b1, pairs)
    # In order: side b's starts never fall along side a's (a stable sort by a's start, as summarize).
    order = np.lexsort((a0, group))
    g, b = group[order], b0[order]
    disordered = np.zeros(pairs, bool)
    disordered[g[1:][(b[1:] < b[:-1]) & (g[1:] == g[:-1])]] = True
    firsts = np.cumsum(np.r_[0, counts[:-1]]).astype(np.int64)
    return {
        "matches": np.asarray(counts, np.int64),
        "shared_chars_a": shared_a,
        "shared_chars_b": shared_b,
        "coverage_a": _coverage(shared_a, chars_a),
        "coverage_b": _coverage(shared_b, chars_b),
        "longest_chars": np.maximum.reduceat(a1 - a0, firsts) if pairs else np.zeros(0, np.int64),
        "in_order": ~disordered,
        "similarity": list(similarity),
    }
