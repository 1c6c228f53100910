"""The partly rewritten check: are copies that took part of a source and rewrote it *found*, and
graded between a verbatim copy and an unrelated story on the same topic?

News reuse is mostly partial: a newspaper takes a wire story, keeps a quote and a few sentences,
rewrites the rest and adds its own. The check ingests such pairs in corpus mode, as any corpus is
ingested (no pair is given), and reads what the warehouse stored of each pair: whether it holds the
pair at all, its graded ``similarity`` and how much of the copy lies inside a match. Three kinds:

* ``verbatim``: PAN13's no-obfuscation pairs (02) and the seed case's full republication;
* ``partial``: PAN13's random-obfuscation (03) and summary (05) pairs, whose suspicious documents
  hold an edited or summarised extract of the source inside text of their own, and the hand-written
  partial rewrites of the seed case in ``seeds/rewrites/derived-*.txt``;
* ``independent``: PAN13's negative pairs (01); its summary category's pairs without a case,
  a summary of one news story of a DUC topic against another story of the topic; and stories on
  the seed's topic written without it, ``seeds/rewrites/independent-*.txt``, which share its
  names, places and subject.

A pair that is not stored counts as similarity 0. The baselines are computed on the two texts
alone: the share of the smaller side's distinct content words (4 characters or more) found in the
other, which is what counting shared single words does, and its word 5-gram containment.
"""

from __future__ import annotations

import random
import statistics
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from crawlers.files import read_file
from reuse.config import Settings
from reuse.engine.tokens import tokenize
from reuse.eval.graded import auc
from reuse.eval.pan13_corpus import Pan13Corpus, read_document
from reuse.models import Document
from reuse.pipeline.ingest import ingest
from warehouse.db import Warehouse, open_warehouse

__all__ = ["KINDS", "PairOutcome", "PartialCheck", "ReusePair", "pan13_pairs", "partial_check", "seed_pairs"]

T = TypeVar("T")

#: The kinds of pair, from the most taken to the least.
KINDS = ("verbatim", "partial", "independent")

#: Which PAN13 category stands for which kind (by its folder's number): the kind of its pairs with
#: a case, and of those without.
PAN13_KINDS = {
    "02": ("verbatim", None),
    "03": ("partial", None),
    "05": ("partial", "independent"),
    "01": (None, "independent"),
}

#: Content words are this long or longer, as the grade's and the aligner's are.
CONTENT_CHARS = 4


@dataclass(frozen=True)
class ReusePair:
    """A copy and the source it may have taken from, with what the pair is known to be."""

    kind: str
    origin: str  # where the pair comes from: a PAN13 category ("pan13 03") or "seed"
    copy: Document
    source: Document


@dataclass(frozen=True)
class PairOutcome:
    """What the warehouse stored of one pair, and the baselines' view of it."""

    pair: ReusePair
    found: bool
    similarity: float  # 0 when the pair was not stored
    copy_coverage: float  # share of the copy inside a match; 0 when not stored
    words: float  # content-word containment
    fivegrams: float  # word 5-gram containment


@dataclass(frozen=True)
class PartialCheck:
    """Every pair's outcome, in the order the pairs were given."""

    outcomes: list[PairOutcome]

    def of(self, kind: str) -> list[PairOutcome]:
        """The outcomes of one kind."""
        return [o for o in self.outcomes if o.pair.kind == kind]

    def found(self, kind: str) -> float:
        """The share of the kind's pairs that the warehouse stored."""
        outcomes = self.of(kind)
        return sum(o.found for o in outcomes) / len(outcomes) if outcomes else 0.0

    def median(self, kind: str, of: str = "similarity") -> float:
        """The median of a measure (an attribute of :class:`PairOutcome`) over one kind."""
        values = [float(getattr(o, of)) for o in self.of(kind)]
        return statistics.median(values) if values else 0.0

    def auc(self, of: str = "similarity", positive: str = "partial", negative: str = "independent") -> float:
        """How well a measure tells the ``positive`` kind from the ``negative`` one (ROC area)."""
        return auc([getattr(o, of) for o in self.of(positive)], [getattr(o, of) for o in self.of(negative)])


def seed_pairs(rewrites: Path, demo: Path) -> list[ReusePair]:
    """The seed case's pairs: SouthFront's report (``demo/southfront.org``) against Global
    Research's republication of it, against each partial rewrite and each independent story in
    ``rewrites``."""
    source = _page(demo / "southfront.org", "rewrites:southfront")
    pairs = [ReusePair("verbatim", "seed", _page(demo / "globalresearch.ca", "rewrites:globalresearch"), source)]
    for path in sorted(rewrites.glob("*.txt")):
        kind = "partial" if path.name.startswith("derived-") else "independent"
        copy = Document(url=f"rewrites:{path.stem}", text=path.read_text(encoding="utf-8"), source=str(path))
        pairs.append(ReusePair(kind, "seed", copy, source))
    return pairs


def _page(site: Path, url: str) -> Document:
    """The one demo page of a site, under a URL of the check's own."""
    (path,) = sorted(site.glob("*.html"))
    doc = next(iter(read_file(path)))
    if isinstance(doc, Exception):
        raise doc
    return Document(url=url, text=doc.text, source=str(path))


def pan13_pairs(corpus: Pan13Corpus, per_category: int, seed: int) -> list[ReusePair]:
    """``per_category`` pairs of each kind of each PAN13 category that stands for one (see
    :data:`PAN13_KINDS`), sampled with ``random.Random(seed)``."""
    rng = random.Random(seed)
    pairs = []
    for name, listed in sorted(corpus.categories.items()):
        kinds = PAN13_KINDS.get(name[:2], (None, None))
        for kind, with_case in zip(kinds, (True, False), strict=True):
            group = [pair for pair in listed if bool(corpus.cases.get(pair)) == with_case]
            if kind is None or not group:
                continue
            origin = f"pan13 {name[:2]}" + ("" if with_case or kinds[0] is None else " without a case")
            for suspicious, source in rng.sample(group, min(per_category, len(group))):
                copy = _pan13(suspicious, corpus.suspicious[suspicious])
                pairs.append(ReusePair(kind, origin, copy, _pan13(source, corpus.sources[source])))
    return pairs


def _pan13(name: str, path: Path) -> Document:
    return Document(url=f"pan13:{name}", text=read_document(path), source=str(path))


def partial_check(pairs: list[ReusePair], settings: Settings | None = None) -> PartialCheck:
    """Ingest every document of ``pairs`` into a fresh warehouse of its own (deleted afterwards),
    as any corpus, and read what it stored of each pair."""
    settings = settings or Settings()
    with (
        tempfile.TemporaryDirectory(prefix="reusetrack-partial-") as scratch,
        open_warehouse(Path(scratch) / "partial.duckdb", settings) as warehouse,
    ):
        ingest(warehouse, _distinct(pairs), settings, command="eval partial", lineage=False)
        stored = _stored_pairs(warehouse)
    outcomes = []
    for pair in pairs:
        row = stored.get(frozenset((pair.copy.url, pair.source.url)))
        words, fivegrams = _baselines(pair.copy.text, pair.source.text)
        similarity, coverage = (0.0, 0.0) if row is None else (row[0], row[1].get(pair.copy.url, 0.0))
        outcomes.append(PairOutcome(pair, row is not None, similarity, coverage, words, fivegrams))
    return PartialCheck(outcomes)


def _distinct(pairs: Iterable[ReusePair]) -> Iterator[Document]:
    seen: set[str] = set()
    for pair in pairs:
        for doc in (pair.source, pair.copy):
            if doc.url not in seen:
                seen.add(doc.url)
                yield doc


def _stored_pairs(warehouse: Warehouse) -> dict[frozenset[str], tuple[float, dict[str, float]]]:
    """Each stored pair by its two URLs: its similarity and each side's coverage."""
    _, rows = warehouse.query("SELECT url_a, url_b, similarity, coverage_a, coverage_b FROM pair_details")
    return {
        frozenset((url_a, url_b)): (float(similarity or 0.0), {url_a: float(cov_a), url_b: float(cov_b)})
        for url_a, url_b, similarity, cov_a, cov_b in rows
    }


def _baselines(a: str, b: str) -> tuple[float, float]:
    """Content-word and word 5-gram containment of the smaller side in the other."""
    words_a, words_b = tokenize(a).words, tokenize(b).words
    content = _containment(
        {w for w in words_a if len(w) >= CONTENT_CHARS}, {w for w in words_b if len(w) >= CONTENT_CHARS}
    )
    return content, _containment(_grams(words_a), _grams(words_b))


def _grams(words: list[str], n: int = 5) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _containment(x: set[T], y: set[T]) -> float:
    small, large = (x, y) if len(x) <= len(y) else (y, x)
    return len(small & large) / len(small) if small else 0.0
