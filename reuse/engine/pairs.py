"""Document pairs: what two documents share, summed over their matches."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from reuse.models import DocumentPair, Match, Span

__all__ = ["summarize"]


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
