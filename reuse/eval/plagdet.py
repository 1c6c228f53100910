"""Detection quality measures: plagdet, pair retrieval and per-category scoring.

plagdet is the measure of Potthast, Stein, Barrón-Cedeño and Rosso, "An Evaluation Framework for
Plagiarism Detection" (COLING 2010), computed with the semantics of the PAN evaluation script
(``perfmeasures.py``, macro-averaged):

- a detection *r* detects a case *s* when both belong to the same (suspicious, source) document pair
  and their spans overlap on both sides;
- characters are counted on both sides together, e.g. a case's recall is
  ``(|s.susp ∩ R.susp| + |s.src ∩ R.src|) / (|s.susp| + |s.src|)`` where *R* are the detections that
  detect *s*;
- precision and recall are means over detections and cases, granularity is the mean number of
  detections per detected case, and ``plagdet = F1 / log2(1 + granularity)``.

Everything here is pure: no file or network I/O. Reading the corpus and writing detections live in
:mod:`reuse.eval.pan13_corpus`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from reuse.models import Span

__all__ = [
    "ENTIRE",
    "Annotation",
    "Case",
    "CategoryScores",
    "Detection",
    "Pair",
    "Scores",
    "count_detections_in",
    "pair_retrieval",
    "plagdet",
    "score_by_category",
]

#: A (suspicious document name, source document name) pair, e.g.
#: ``("suspicious-document00005.txt", "source-document01090.txt")``.
Pair = tuple[str, str]

#: Key of the row of :func:`score_by_category` that scores all categories together.
ENTIRE = "entire"


@dataclass(frozen=True, slots=True)
class Annotation:
    """A pair of passages: a span of a suspicious document and a span of a source document.

    Base of :class:`Case` and :class:`Detection`; a case never equals a detection.
    """

    susp: str
    susp_span: Span
    src: str
    src_span: Span

    def __post_init__(self) -> None:
        # An empty span would make a detection's precision 0/0 and could "overlap" nothing or
        # everything depending on the convention, so it is rejected where an annotation is made.
        if not (len(self.susp_span) and len(self.src_span)):
            raise ValueError(
                f"an annotation needs non-empty spans (start < end), got {self.susp_span}, {self.src_span}"
            )

    @property
    def pair(self) -> Pair:
        """The (suspicious, source) document pair the annotation belongs to."""
        return (self.susp, self.src)

    def __len__(self) -> int:
        """Both sides' characters: the denominator of a case's recall or a detection's precision."""
        return len(self.susp_span) + len(self.src_span)

    def overlaps(self, other: Annotation) -> bool:
        """Whether ``other`` is in the same document pair and overlaps this one on both sides."""
        return (
            self.pair == other.pair
            and self.susp_span.overlaps(other.susp_span)
            and self.src_span.overlaps(other.src_span)
        )


@dataclass(frozen=True, slots=True)
class Case(Annotation):
    """A labelled reuse (ground truth): ``src_span`` of ``src`` was reused as ``susp_span`` of ``susp``."""


@dataclass(frozen=True, slots=True)
class Detection(Annotation):
    """A reuse the system reports: ``susp_span`` of ``susp`` matches ``src_span`` of ``src``."""


@dataclass(frozen=True, slots=True)
class Scores:
    """plagdet and its parts for one set of cases and detections.

    ``cases`` and ``detections`` count distinct annotations (see :func:`plagdet`);
    ``detected_cases`` is how many cases at least one detection detects.
    """

    plagdet: float
    precision: float
    recall: float
    granularity: float
    cases: int
    detections: int
    detected_cases: int


@dataclass(frozen=True, slots=True)
class CategoryScores:
    """The scores of one corpus category (or of all of them, the :data:`ENTIRE` row).

    ``positive_pairs`` are the category's pairs with at least one case, ``retrieved_pairs`` those of
    them with at least one detection, and ``pair_recall`` their ratio, ``None`` when the category has
    no positive pair. ``negative_detections`` counts the distinct detections in the
    ``negative_pairs`` (the pairs without a case).
    """

    scores: Scores
    positive_pairs: int
    retrieved_pairs: int
    pair_recall: float | None
    negative_pairs: int
    negative_detections: int


def plagdet(cases: Iterable[Case], detections: Iterable[Detection]) -> Scores:
    """Score ``detections`` against the ground-truth ``cases`` (Potthast et al., COLING 2010).

    Identical cases and identical detections are counted once, as the PAN script does by reading
    annotations into a set. Conventions for empty inputs, also the PAN script's: with neither cases
    nor detections precision and recall are 1 (nothing to find, nothing wrongly found); with cases
    but no detections both are 0; with detections but no cases both are 0 (every detection is
    wrong, and recall is set to 0 rather than left undefined). Granularity is 1 when no case is
    detected; plagdet is 0 when precision and recall are both 0.
    """
    unique_cases = list(dict.fromkeys(cases))
    unique_detections = list(dict.fromkeys(detections))
    if not unique_cases or not unique_detections:
        empty = 1.0 if not unique_cases and not unique_detections else 0.0
        return Scores(empty, empty, empty, 1.0, len(unique_cases), len(unique_detections), 0)

    # Which detections detect which cases; only annotations of the same pair can overlap.
    by_pair: dict[Pair, tuple[list[Case], list[Detection]]] = defaultdict(lambda: ([], []))
    for case in unique_cases:
        by_pair[case.pair][0].append(case)
    for detection in unique_detections:
        by_pair[detection.pair][1].append(detection)
    detectors: dict[Case, list[Detection]] = defaultdict(list)
    detected: dict[Detection, list[Case]] = defaultdict(list)
    for pair_cases, pair_detections in by_pair.values():
        for case, detection in _overlapping(pair_cases, pair_detections):
            detectors[case].append(detection)
            detected[detection].append(case)

    case_recalls = [_covered_share(case, detectors.get(case, [])) for case in unique_cases]
    detection_precisions = [_covered_share(det, detected.get(det, [])) for det in unique_detections]
    recall = sum(case_recalls) / len(case_recalls)
    precision = sum(detection_precisions) / len(detection_precisions)
    granularity = sum(len(found_by) for found_by in detectors.values()) / len(detectors) if detectors else 1.0
    return Scores(
        plagdet=_plagdet_score(precision, recall, granularity),
        precision=precision,
        recall=recall,
        granularity=granularity,
        cases=len(unique_cases),
        detections=len(unique_detections),
        detected_cases=len(detectors),
    )


def pair_retrieval(positive_pairs: Iterable[Pair], detected_pairs: Iterable[Pair]) -> float:
    """Share of the distinct ``positive_pairs`` that appear among ``detected_pairs``.

    ``detected_pairs`` are the pairs of the detections (e.g. ``d.pair for d in detections``).
    Raises ``ValueError`` when there is no positive pair: the share is undefined, not 0 or 1.
    """
    positives = set(positive_pairs)
    if not positives:
        raise ValueError("pair retrieval is undefined without positive pairs")
    return len(positives & set(detected_pairs)) / len(positives)


def count_detections_in(pairs: Iterable[Pair], detections: Iterable[Detection]) -> int:
    """Number of distinct detections that fall in one of ``pairs`` (e.g. the negative pairs)."""
    wanted = set(pairs)
    return sum(1 for detection in set(detections) if detection.pair in wanted)


def score_by_category(
    categories: Mapping[str, tuple[Sequence[Pair], Sequence[Case]]],
    detections: Iterable[Detection],
) -> dict[str, CategoryScores]:
    """Score ``detections`` per category and over all categories together (corpus mode).

    ``categories`` maps a category name (e.g. ``"02-no-obfuscation"``) to its listed pairs and its
    cases. Each detection is judged in the category that lists its pair; detections in pairs that
    no category lists are ignored, since corpus mode does not judge a match between documents not
    given as a pair. The result keeps the order of ``categories`` and ends with the :data:`ENTIRE`
    row, which scores every listed pair, so detections in case-less pairs (e.g. all of
    ``01-no-plagiarism``) lower its precision.

    Raises ``ValueError`` if a pair is listed in two categories, a case's pair is not listed in its
    category, or a category is named :data:`ENTIRE`.
    """
    category_of: dict[Pair, str] = {}
    for name, (pairs, cases) in categories.items():
        if name == ENTIRE:
            raise ValueError(f"{ENTIRE!r} is reserved for the row over all categories")
        for pair in pairs:
            if category_of.setdefault(pair, name) != name:
                raise ValueError(f"pair {pair} is listed in {category_of[pair]!r} and {name!r}")
        for case in cases:
            if category_of.get(case.pair) != name:
                raise ValueError(f"case {case} belongs to a pair not listed in {name!r}")

    judged: dict[str, list[Detection]] = defaultdict(list)
    for detection in detections:
        category = category_of.get(detection.pair)
        if category is not None:
            judged[category].append(detection)

    rows = {name: _category_scores(pairs, cases, judged[name]) for name, (pairs, cases) in categories.items()}
    rows[ENTIRE] = _category_scores(
        [pair for pairs, _ in categories.values() for pair in pairs],
        [case for _, cases in categories.values() for case in cases],
        [detection for found in judged.values() for detection in found],
    )
    return rows


def _category_scores(pairs: Sequence[Pair], cases: Sequence[Case], detections: Sequence[Detection]) -> CategoryScores:
    positives = {case.pair for case in cases}
    negatives = set(pairs) - positives
    retrieved = positives & {detection.pair for detection in detections}
    return CategoryScores(
        scores=plagdet(cases, detections),
        positive_pairs=len(positives),
        retrieved_pairs=len(retrieved),
        pair_recall=pair_retrieval(positives, retrieved) if positives else None,
        negative_pairs=len(negatives),
        negative_detections=count_detections_in(negatives, detections),
    )


def _plagdet_score(precision: float, recall: float, granularity: float) -> float:
    if precision + recall == 0:
        return 0.0
    f1 = 2 * precision * recall / (precision + recall)
    return f1 / math.log2(1 + granularity)


_A = TypeVar("_A", bound=Annotation)
_B = TypeVar("_B", bound=Annotation)


def _overlapping(left: Sequence[_A], right: Sequence[_B]) -> list[tuple[_A, _B]]:
    """All (a, b) with a in ``left`` and b in ``right`` that overlap on both sides (same pair assumed).

    A sweep over the suspicious side: walking the spans in start order, each span is compared only
    with the spans of the other list that are still open, so the cost is the sort plus the number of
    suspicious-side overlaps, not ``len(left) * len(right)``.
    """
    events = sorted(
        [(a.susp_span.start, 0, i) for i, a in enumerate(left)]
        + [(b.susp_span.start, 1, j) for j, b in enumerate(right)]
    )
    open_left: list[_A] = []
    open_right: list[_B] = []
    found: list[tuple[_A, _B]] = []
    for start, side, index in events:
        # Spans that ended at or before this start cannot overlap it or any later one.
        open_left = [a for a in open_left if a.susp_span.end > start]
        open_right = [b for b in open_right if b.susp_span.end > start]
        if side == 0:
            a = left[index]
            found.extend((a, b) for b in open_right if a.src_span.overlaps(b.src_span))
            open_left.append(a)
        else:
            b = right[index]
            found.extend((a, b) for a in open_left if a.src_span.overlaps(b.src_span))
            open_right.append(b)
    return found


def _covered_share(annotation: Annotation, others: Sequence[Annotation]) -> float:
    """Share of ``annotation``'s characters, both sides together, covered by the union of ``others``."""
    covered = _covered(annotation.susp_span, [o.susp_span for o in others]) + _covered(
        annotation.src_span, [o.src_span for o in others]
    )
    return covered / len(annotation)


def _covered(span: Span, others: Iterable[Span]) -> int:
    """Number of characters of ``span`` inside the union of ``others``, by merging sorted intervals."""
    clipped = sorted((max(span.start, o.start), min(span.end, o.end)) for o in others if o.overlaps(span))
    total = 0
    run_start, run_end = -1, -1
    for start, end in clipped:
        if start > run_end:
            total += run_end - run_start
            run_start, run_end = start, end
        else:
            run_end = max(run_end, end)
    return total + run_end - run_start
