"""Evidence and direction: what two documents of different sites share outside boilerplate, which
of them each signal names as the source (canonical, credit, byline, link, dates, first seen,
containment), how the votes combine, and which pairs took their text from a shared upstream.

Pure: no I/O. See :mod:`reuse.lineage.stories` for the stages in order.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.boilerplate import subtract, union_length
from reuse.lineage.edits import url_key
from reuse.lineage.facts import DocFacts, SharedText, Signal, as_utc, doc_when, minutes_apart, time_order
from reuse.models import Span

__all__ = [
    "WEIGHTS",
    "Relation",
    "credits_of",
    "decide",
    "mark_upstreams",
    "method",
    "name_key",
    "reads_words",
    "relation",
    "shared_words",
    "site_keys",
    "url_keys",
]

#: The weight of each kind of direction evidence: roughly how often it names the right source.
WEIGHTS = {
    "canonical": 0.95,
    "credit_url": 0.9,
    "credit_outlet": 0.6,
    "byline": 0.5,
    "link": 0.5,
    "dates": 0.6,
    "first_seen": 0.4,
    "containment": 0.3,
}
#: Cost of hanging a document from the virtual root: higher than any real edge, so a document is
#: a root only when nothing in its story can be its source.
_SPECIFIC = frozenset({"canonical", "credit", "byline", "link"})
_NAME = re.compile(r"[^0-9a-z]+")


def name_key(name: str | None) -> str:
    return _NAME.sub("", (name or "").lower())


def site_keys(doc: DocFacts) -> set[str]:
    keys = set()
    if doc.site:
        host = doc.site.lower().removeprefix("www.")
        keys.add(name_key(host))
        keys.add(name_key(host.rsplit(".", 1)[0]))
    if doc.evidence.site_name:
        keys.add(name_key(doc.evidence.site_name))
    keys.discard("")
    return keys


def url_keys(doc: DocFacts) -> set[str]:
    # Not its canonical: a same-site one is already its URL (crawlers.urls.document_url), another
    # site's names the page it copies, so a credit to that page must not count as one to this.
    urls = (doc.url, doc.evidence.fetched_url)
    return {url_key(u) for u in urls if u and u.startswith(("http://", "https://"))}


def credits_of(target: DocFacts, source: DocFacts) -> list[Signal]:
    """How ``target``'s page credits ``source``: one signal per way, the strongest of each kind."""
    urls, names = url_keys(source), site_keys(source)
    own = site_keys(target)
    found: dict[str, Signal] = {}

    def keep(signal: Signal) -> None:
        if signal.name not in found or found[signal.name].weight < signal.weight:
            found[signal.name] = signal

    ev = target.evidence
    if ev.canonical_url and url_key(ev.canonical_url) in urls and not (own & site_keys(source)):
        keep(Signal("canonical", source.doc_id, WEIGHTS["canonical"], f"rel=canonical {ev.canonical_url}"))
    credited_urls = set()
    for credit in ev.credits:
        if credit.url and url_key(credit.url) in urls:
            keep(Signal("credit", source.doc_id, WEIGHTS["credit_url"], f"{credit.kind}: {credit.text}"))
            credited_urls.add(url_key(credit.url))
        elif credit.outlet and name_key(credit.outlet) in names:
            keep(Signal("credit", source.doc_id, WEIGHTS["credit_outlet"], f"{credit.kind} names {credit.outlet}"))
    for author in ev.authors:
        if name_key(author) in names and name_key(author) not in own:
            keep(Signal("byline", source.doc_id, WEIGHTS["byline"], f"byline {author}"))
    for link in ev.links:
        key = url_key(link.href)
        if key in urls and key not in credited_urls:
            keep(Signal("link", source.doc_id, WEIGHTS["link"], f"links {link.href}"))
    return list(found.values())


# -- evidence and direction -----------------------------------------------------------------------


@dataclass
class Relation:
    a: DocFacts
    b: DocFacts
    shared: SharedText
    spans: dict[int, list[Span]]  # non-boilerplate shared spans, per doc
    raw: dict[int, int]  # shared characters including boilerplate, per doc
    signals: list[Signal] = field(default_factory=list)
    source: int | None = None  # the direction's source, None when undirected
    confidence: float = 0.0
    conflict: bool = False
    kind: str = "copy"
    via: int | None = None
    upstream: str | None = None
    simultaneous: bool = False  # both published, to the minute, within upstream_window_minutes

    def other(self, doc_id: int) -> int:
        return self.b.doc_id if doc_id == self.a.doc_id else self.a.doc_id

    def chars(self, doc_id: int) -> int:
        return union_length(self.spans[doc_id])

    def specific(self) -> bool:
        """Whether either page credits, links or canonicalises to the other."""
        return any(s.name in _SPECIFIC for s in self.signals)


def relation(a: DocFacts, b: DocFacts, shared: SharedText, settings: Settings) -> Relation | None:
    """What ``a`` and ``b`` share outside boilerplate, verified word for word (see
    :func:`shared_words`), when it is enough to relate them; None otherwise."""
    if a.site is not None and a.site == b.site:
        return None  # one site repeating itself is its template, never a story
    raw = {a.doc_id: union_length([m.a for m in shared.matches]), b.doc_id: union_length([m.b for m in shared.matches])}
    # What the matches cover, boilerplate included, must reach the floor too: the warehouse
    # then leaves every pair below it unread (``doc_pairs.shared_chars_*`` hold these lengths),
    # and words are read only for pairs that may relate. (The verified spans lie within the
    # matches but for gaps of up to three characters they join across.)
    if min(raw.values()) < settings.min_evidence_chars:
        return None
    spans_a = subtract([m.a for m in shared.matches], a.boilerplate)
    spans_b = subtract([m.b for m in shared.matches], b.boilerplate)
    if reads_words(a, b):
        spans_a, spans_b = shared_words(a.text, spans_a, b.text, spans_b)
    if min(union_length(spans_a), union_length(spans_b)) < settings.min_evidence_chars:
        return None
    return Relation(a, b, shared, {a.doc_id: spans_a, b.doc_id: spans_b}, raw)


def reads_words(a: DocFacts, b: DocFacts) -> bool:
    """Whether :func:`relation` checks what ``a`` and ``b`` share word for word: they are of two
    sites (or a site is unknown), and both have text."""
    return (a.site is None or a.site != b.site) and bool(a.text) and bool(b.text)


def shared_words(
    text_a: str, spans_a: Sequence[Span], text_b: str, spans_b: Sequence[Span]
) -> tuple[list[Span], list[Span]]:
    """The parts of each side's ``spans`` whose words are shared, three in a row, with the other
    side's spans (words: runs of ``re``'s ``\\w`` inside a span, a word the span cuts cut with
    it, compared case-folded), joined across gaps of up to three characters.

    Alignment merges hits across small gaps, so a match may bridge text that is not shared; once
    boilerplate is cut out of it (a site's menu above a body and its newsletter box below), what
    is left must still be shared word for word to count as evidence. Natively
    (``_native.shared_words``): a story of many copies checks every pair.
    """
    kept_a, kept_b = _native.shared_words(
        text_a, [(s.start, s.end) for s in spans_a], text_b, [(s.start, s.end) for s in spans_b]
    )
    return [Span(start, end) for start, end in kept_a], [Span(start, end) for start, end in kept_b]


def _containment(rel: Relation, inner: DocFacts, outer: DocFacts, settings: Settings) -> Signal | None:
    """``outer`` is ``inner`` plus additions that are mostly its site's boilerplate: ``inner`` is the source.

    What ``outer`` adds that is not boilerplate must stay under ``min_evidence_chars``: a source
    whose copy dropped a paragraph is the copy plus that paragraph plus its own template, which
    would otherwise read as the copy being the source.
    """
    cov_inner = rel.raw[inner.doc_id] / inner.chars if inner.chars else 0.0
    cov_outer = rel.raw[outer.doc_id] / outer.chars if outer.chars else 0.0
    if cov_inner < 0.8 or cov_outer > cov_inner - 0.15:
        return None
    shared = [m.a if outer.doc_id == rel.a.doc_id else m.b for m in rel.shared.matches]
    added = subtract([Span(0, outer.chars)], shared)
    added_chars = union_length(added)
    boiler = added_chars - union_length(subtract(added, outer.boilerplate))
    if not added_chars or boiler < 0.5 * added_chars or added_chars - boiler >= settings.min_evidence_chars:
        return None
    return Signal(
        "containment",
        inner.doc_id,
        WEIGHTS["containment"],
        f"{cov_inner:.0%} of one is in the other, whose additions ({added_chars} chars) are mostly boilerplate",
    )


def _date_signals(a: DocFacts, b: DocFacts, settings: Settings) -> list[Signal]:
    """The ``dates`` vote: the document whose time interval ends before the other's begins is the
    source. Overlapping intervals (a date-only stamp and a time that day) give no vote, and
    neither do two times known to the minute within ``upstream_window_minutes``."""
    wa, wb = doc_when(a), doc_when(b)
    ia, ib = wa.interval, wb.interval
    if ia is not None and ib is not None and "first_seen" not in (wa.source, wb.source):
        if (close := minutes_apart(wa, wb, settings)) is not None:
            return [Signal("dates", None, 0.0, f"{wa.source} and {wb.source} within {close:.0f} min")]
        if ia[1] > ib[0] and ib[1] > ia[0]:
            detail = f"{wa.source} {wa.shown} and {wb.source} {wb.shown} overlap: the dates do not say"
            return [Signal("dates", None, 0.0, detail)]
        (early, we), wl = ((a, wa), wb) if ia[1] <= ib[0] else ((b, wb), wa)
        if we.precise and wl.precise:
            assert we.value is not None and wl.value is not None  # precise times are known
            detail = f"{we.source} {(wl.value - we.value).total_seconds() / 3600:.1f} h earlier"
        else:
            detail = f"{we.source} {we.shown} before {wl.source} {wl.shown}"
        return [Signal("dates", early.doc_id, WEIGHTS["dates"], detail)]
    # One side without a stated time: a page seen before the other's date (its earliest possible
    # instant, for a date-only stamp) existed first.
    window = settings.upstream_window_minutes * 60
    seen_a, seen_b = as_utc(a.first_seen), as_utc(b.first_seen)
    for stated, seen, seen_doc in ((wa, seen_b, b), (wb, seen_a, a)):
        interval = stated.interval
        if interval is None or seen is None or stated.source == "first_seen":
            continue
        if (interval[0] - seen).total_seconds() > max(window, 3600):
            return [Signal("first_seen", seen_doc.doc_id, WEIGHTS["first_seen"], "seen before the other's date")]
    return []


def decide(rel: Relation, settings: Settings) -> None:
    a, b = rel.a, rel.b
    signals = [*credits_of(a, b), *credits_of(b, a), *_date_signals(a, b, settings)]
    rel.simultaneous = minutes_apart(doc_when(a), doc_when(b), settings) is not None
    for inner, outer in ((a, b), (b, a)):
        if (found := _containment(rel, inner, outer, settings)) is not None:
            signals.append(found)
    rel.signals = sorted(signals, key=lambda s: (-s.weight, s.name))
    p = {}
    for doc in (a.doc_id, b.doc_id):
        p[doc] = 1.0 - math.prod(1.0 - s.weight for s in signals if s.source == doc)
    win = a.doc_id if p[a.doc_id] >= p[b.doc_id] else b.doc_id
    lose = rel.other(win)
    if p[win] >= 0.5 and p[lose] >= 0.5:
        rel.conflict, rel.kind = True, "undirected"
    elif p[win] == 0.0 or p[win] == p[lose]:
        rel.kind = "undirected"
    else:
        rel.source = win
        rel.confidence = round(p[win] * (1.0 - p[lose]), 3)


def method(rel: Relation) -> str | None:
    if rel.source is None:
        return "conflict" if rel.conflict else None
    names = [s.name for s in rel.signals if s.source == rel.source]
    return "+".join(dict.fromkeys(names)) or None


# -- shared upstream ------------------------------------------------------------------------------


def _overlap(x: Sequence[Span], y: Sequence[Span]) -> int:
    """Characters in both span lists (each sorted and disjoint)."""
    total, j = 0, 0
    for span in x:
        while j < len(y) and y[j].end <= span.start:
            j += 1
        k = j
        while k < len(y) and y[k].start < span.end:
            total += max(0, min(span.end, y[k].end) - max(span.start, y[k].start))
            k += 1
    return total


def _explained_by(rel: Relation, z: int, rels: Mapping[frozenset[int], Relation], settings: Settings) -> bool:
    """Whether ``z`` is the source of both sides of ``rel`` and holds what they share."""
    for doc in (rel.a.doc_id, rel.b.doc_id):
        with_z = rels.get(frozenset((doc, z)))
        if with_z is None or with_z.source != z:
            return False
        mine = rel.spans[doc]
        size = union_length(mine)
        if not size or _overlap(mine, with_z.spans[doc]) < settings.upstream_containment * size:
            return False
    return True


def mark_upstreams(rels: dict[frozenset[int], Relation], docs: Mapping[int, DocFacts], settings: Settings) -> None:
    neighbours: dict[int, set[int]] = defaultdict(set)
    for key in rels:
        x, y = tuple(key)
        neighbours[x].add(y)
        neighbours[y].add(x)
    # Documents that name their source (a credit, canonical or link directing an edge into them):
    # their text has a known origin, so publishing within minutes of a third page is no sign that
    # both took it from a source nobody has seen.
    sourced = {r.other(r.source) for r in rels.values() if r.source is not None and r.specific()}
    for rel in rels.values():
        if rel.specific():
            continue
        x, y = rel.a.doc_id, rel.b.doc_id
        explainers = [z for z in neighbours[x] & neighbours[y] if _explained_by(rel, z, rels, settings)]
        if explainers:
            rel.kind = "shared_upstream"
            rel.via = min(explainers, key=lambda z: time_order(docs[z]))
            continue
        if rel.simultaneous and not {x, y} & sourced:
            rel.kind = "unseen_upstream"
