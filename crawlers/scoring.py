"""Measures of extraction quality: the article-extraction-benchmark's shingle score and character-level F1.

:func:`shingle_scores` is the measure of the Zyte/Scrapinghub article-extraction-benchmark (tokens
are ``\\w+`` runs, each text a multiset of 4-token shingles, true and false positives and false
negatives normalised per page to sum to 1, precision averaged over pages that predicted something,
recall over pages with a true body). :func:`char_scores` is the paragraph measure of the labelled
test set: characters of expected paragraphs found in predicted ones, and the reverse.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

__all__ = ["Scores", "char_scores", "shingle_scores", "summarize"]

_TOKEN = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 (the harmonic mean of the two)."""

    precision: float
    recall: float

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(len(tokens) - n + 1, 1)) if tokens)


def shingle_scores(predicted: str, expected: str) -> tuple[float, float, float]:
    """Normalised (true positive, false positive, false negative) shares of 4-token shingles for one page."""
    pred, true = _shingles(predicted), _shingles(expected)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (1.0, 0.0, 0.0)


def summarize(pages: Sequence[tuple[str, str]]) -> Scores:
    """Benchmark scores over (predicted, expected) bodies: mean precision and mean recall, as published."""
    precisions, recalls = [], []
    for predicted, expected in pages:
        tp, fp, fn = shingle_scores(predicted, expected)
        if predicted.strip():
            precisions.append(tp / (tp + fp) if tp + fp else 0.0)
        if expected.strip():
            recalls.append(tp / (tp + fn) if tp + fn else 0.0)
    return Scores(
        sum(precisions) / len(precisions) if precisions else 0.0, sum(recalls) / len(recalls) if recalls else 0.0
    )


def _covered(paragraphs: Sequence[str], others: Sequence[str]) -> int:
    """Characters of ``paragraphs`` that also appear, in order, in ``others`` (best-matching paragraph)."""
    found = 0
    for paragraph in paragraphs:
        best = 0
        for other in others:
            if other == paragraph:
                best = len(paragraph)
                break
            if abs(len(other) - len(paragraph)) > max(len(other), len(paragraph)):
                continue
            matcher = SequenceMatcher(None, paragraph, other, autojunk=False)
            best = max(best, sum(block.size for block in matcher.get_matching_blocks()))
        found += best
    return found


def char_scores(predicted: Sequence[str], expected: Sequence[str]) -> tuple[int, int, int]:
    """(matched predicted chars, predicted chars, matched expected chars) for one page; expected total is the sum."""
    return _covered(predicted, expected), sum(map(len, predicted)), _covered(expected, predicted)
