"""The graded check: does a pair's graded similarity order the PAN13 categories by how much of the
source survives in the copy (02 no obfuscation > 03 random > 04 translation, 05 summary > 01 no
plagiarism)? Pairs are sampled from each category with a fixed seed and graded as ``compare``
grades them; word 5-gram containment, the plain measure of text reuse, is the baseline.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

import numpy as np

from reuse.config import Settings
from reuse.eval.pan13_corpus import Pan13Corpus, read_document
from reuse.pipeline.inspection import compare_texts

__all__ = ["GRADES", "GradedCheck", "graded_check", "spearman"]

#: The grade each PAN13 category stands for (by its folder's number): how much of the source
#: survives in the copy. Translation and summary share a grade.
GRADES = {"01": 0, "02": 3, "03": 2, "04": 1, "05": 1}


@dataclass(frozen=True)
class GradedCheck:
    """Each category's graded similarities and word 5-gram containments (in sampling order), and
    the Spearman correlation of each with the categories' grades."""

    similarity: dict[str, list[float]]
    fivegrams: dict[str, list[float]]
    rho: float
    rho_fivegrams: float

    def medians(self, of: str = "similarity") -> dict[str, float]:
        """The median of each category, of the graded similarity or (``of="fivegrams"``) the baseline."""
        values: dict[str, list[float]] = getattr(self, of)
        return {category: statistics.median(found) for category, found in values.items()}


def _ranks(values: list[float]) -> np.ndarray:
    """Ranks from 1, ties given their mean rank."""
    x = np.asarray(values, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    for value in np.unique(x):
        tied = x == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation (Pearson's on the ranks, ties at their mean rank); 0 when
    either side is constant."""
    rx, ry = _ranks(x), _ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def graded_check(corpus: Pan13Corpus, per_category: int, seed: int, settings: Settings | None = None) -> GradedCheck:
    """Grade ``per_category`` pairs sampled (with ``random.Random(seed)``) from each category of
    ``corpus`` as ``compare`` would (:func:`reuse.pipeline.inspection.compare_texts`)."""
    settings = settings or Settings()
    rng = random.Random(seed)
    similarity: dict[str, list[float]] = {}
    fivegrams: dict[str, list[float]] = {}
    for name, pairs in sorted(corpus.categories.items()):
        category = name[:2]
        for suspicious, source in rng.sample(list(pairs), min(per_category, len(pairs))):
            a, b = read_document(corpus.suspicious[suspicious]), read_document(corpus.sources[source])
            result = compare_texts(a, b, settings)
            assert result.grade is not None  # compare_texts always grades
            similarity.setdefault(category, []).append(result.grade.similarity)
            fivegrams.setdefault(category, []).append(result.grade.fivegrams or 0.0)
    grades = [float(GRADES[category]) for category, found in similarity.items() for _ in found]

    def flat(values: dict[str, list[float]]) -> list[float]:
        return [value for found in values.values() for value in found]

    return GradedCheck(similarity, fivegrams, spearman(grades, flat(similarity)), spearman(grades, flat(fivegrams)))
