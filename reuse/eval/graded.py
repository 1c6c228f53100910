"""The graded check: does a pair's graded similarity order the PAN13 categories by how much of the
source survives in the copy (02 no obfuscation > 03 random > 04 translation, 05 summary > 01 no
plagiarism)? Pairs are sampled from each category with a fixed seed and graded as ``compare``
grades them; word 5-gram containment, the plain measure of text reuse, is the baseline.

Two units are graded. :func:`graded_check` grades the whole documents: a PAN13 case is often a
small part of a long suspicious document, so how much of the document the case is weighs on
every measure as much as how the case was obfuscated. :func:`graded_case_check` grades each
case's two passages alone (a negative pair: a passage of each document, as long as a case drawn
at random), as a corpus of short texts each derived wholly from its source, or not at all, is
graded (verbatim cut, light edit, heavy rewrite, none).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

import numpy as np

from reuse.config import Settings
from reuse.eval.pan13_corpus import Pan13Corpus, read_document
from reuse.eval.plagdet import Case
from reuse.pipeline.inspection import compare_texts

__all__ = ["GRADES", "GradedCheck", "auc", "graded_case_check", "graded_check", "spearman"]

#: The grade each PAN13 category stands for (by its folder's number): how much of the source
#: survives in the copy. Translation and summary share a grade.
GRADES = {"01": 0, "02": 3, "03": 2, "04": 1, "05": 1}


@dataclass(frozen=True)
class GradedCheck:
    """Each category's graded similarities, word 5-gram containments and coverages (the larger of
    the two sides', as ``pairs`` shows them), in sampling order."""

    similarity: dict[str, list[float]]
    fivegrams: dict[str, list[float]]
    coverage: dict[str, list[float]]

    def rho(self, of: str = "similarity") -> float:
        """Spearman's correlation of the measure with the categories' grades (:data:`GRADES`)."""
        values: dict[str, list[float]] = getattr(self, of)
        grades = [float(GRADES[category]) for category, found in values.items() for _ in found]
        return spearman(grades, [value for found in values.values() for value in found])

    def medians(self, of: str = "similarity") -> dict[str, float]:
        """The median of each category, of the graded similarity or (``of``) another measure."""
        values: dict[str, list[float]] = getattr(self, of)
        return {category: statistics.median(found) for category, found in values.items()}

    def rewrites_auc(self, of: str = "similarity") -> float:
        """How well the measure tells an obfuscated copy (03, 04, 05) from a negative pair (01):
        the area under the ROC curve."""
        values: dict[str, list[float]] = getattr(self, of)
        derived = [value for category in ("03", "04", "05") for value in values.get(category, [])]
        return auc(derived, values.get("01", []))


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


def auc(positives: list[float], negatives: list[float]) -> float:
    """The chance that a random positive scores above a random negative, ties counting half."""
    if not positives or not negatives:
        return 0.0
    p, n = np.asarray(positives)[:, None], np.asarray(negatives)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def graded_check(corpus: Pan13Corpus, per_category: int, seed: int, settings: Settings | None = None) -> GradedCheck:
    """Grade ``per_category`` pairs sampled (with ``random.Random(seed)``) from each category of
    ``corpus`` as ``compare`` would (:func:`reuse.pipeline.inspection.compare_texts`), whole
    documents."""
    return _check(corpus, per_category, seed, settings or Settings(), cases=False)


def graded_case_check(
    corpus: Pan13Corpus, per_category: int, seed: int, settings: Settings | None = None
) -> GradedCheck:
    """:func:`graded_check` on passages: of each pair sampled, one of its cases (drawn with the
    same generator) is graded, its suspicious passage against its source passage; of a negative
    pair, a passage of each document at a random place, each as long as that side of a case
    drawn from the whole corpus (the lengths the positives have), cut to its document."""
    return _check(corpus, per_category, seed, settings or Settings(), cases=True)


def _check(corpus: Pan13Corpus, per_category: int, seed: int, settings: Settings, *, cases: bool) -> GradedCheck:
    rng = random.Random(seed)
    every_case = [case for pair in sorted(corpus.cases) for case in corpus.cases[pair]] if cases else []
    similarity: dict[str, list[float]] = {}
    fivegrams: dict[str, list[float]] = {}
    coverage: dict[str, list[float]] = {}
    for name, pairs in sorted(corpus.categories.items()):
        category = name[:2]
        # A category of reuse is sampled among its pairs with a case: most of the summary
        # category's pairs (05) have none, and stand for no reuse at all.
        group = [pair for pair in pairs if bool(corpus.cases.get(pair)) == (GRADES[category] > 0)]
        for suspicious, source in rng.sample(group, min(per_category, len(group))):
            a, b = read_document(corpus.suspicious[suspicious]), read_document(corpus.sources[source])
            if cases:
                a, b = _passages(a, b, corpus.cases[(suspicious, source)], every_case, rng)
            result = compare_texts(a, b, settings)
            assert result.grade is not None  # compare_texts always grades
            similarity.setdefault(category, []).append(result.grade.similarity)
            fivegrams.setdefault(category, []).append(result.grade.fivegrams or 0.0)
            coverage.setdefault(category, []).append(max(result.summary.coverage_a, result.summary.coverage_b))
    return GradedCheck(similarity, fivegrams, coverage)


def _passages(a: str, b: str, own: tuple[Case, ...], every_case: list[Case], rng: random.Random) -> tuple[str, str]:
    """One of the pair's cases ``own``: its two passages of ``a`` (suspicious) and ``b``
    (source); for a negative pair (no case), a passage of each as long as a case drawn from
    ``every_case``."""
    if own:
        case = rng.choice(own)
        return a[case.susp_span.start : case.susp_span.end], b[case.src_span.start : case.src_span.end]
    like = rng.choice(every_case)
    return _cut(a, len(like.susp_span), rng), _cut(b, len(like.src_span), rng)


def _cut(text: str, length: int, rng: random.Random) -> str:
    """``length`` characters of ``text`` from a random place (all of it when it is shorter)."""
    start = rng.randint(0, max(0, len(text) - length))
    return text[start : start + length]
