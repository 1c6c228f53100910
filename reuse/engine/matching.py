"""From candidate passage pairs of two documents to verified, aligned matches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reuse.config import Settings
from reuse.engine.align import align, verify
from reuse.engine.analysis import Comparable
from reuse.engine.pairs import summarize
from reuse.models import DocumentPair, Match

__all__ = ["PairResult", "match_pair"]


@dataclass(frozen=True)
class PairResult:
    """The outcome of matching two documents."""

    candidates: int  # passage pairs proposed by the LSH
    verified: int  # of those, confirmed by exact shingle overlap
    matches: list[Match]
    summary: DocumentPair


def match_pair(a: Comparable, b: Comparable, candidates: Iterable[tuple[int, int]], settings: Settings) -> PairResult:
    """Verify the candidate passage pairs ``(position in a, position in b)`` exactly, and if any
    holds, align the two documents to find every reused span, extended to its full length."""
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
        if max(contained_a, contained_b) >= settings.verify_containment and 2 * shared >= settings.min_match_tokens:
            verified += 1
    matches = align(a.align_input, b.align_input, settings) if verified else []
    return PairResult(len(proposed), verified, matches, summarize(matches, a.chars, b.chars))
