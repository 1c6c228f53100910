"""Lineage: who copied whom, as reuse edges with evidence, stories and one lineage tree per story.

From the documents (their times, URLs and what their pages say: canonical, credit lines, bylines,
links) and what each pair of documents shares, :func:`build_stories` works in named stages:

1. **evidence** — what two documents of different sites share outside boilerplate (the site's
   learned template and the blocks the extractor marked); a pair sharing less than
   ``min_evidence_chars`` on either side is no relation at all. Two documents of one site are
   never related: a site repeating itself is its template, not a story.
2. **direction** — each signal votes for one side as the source with a weight (see ``WEIGHTS``):
   ``canonical`` (a rel=canonical to the other page), ``credit`` (a credit line naming its URL, or
   its outlet), ``byline`` (an author that is the other outlet), ``link`` (a link to the other
   page), ``dates`` (published, else modified, feed or sitemap time, each an interval at its
   precision: the one ending before the other begins is the source; overlapping ones, such as a
   date-only stamp and a time that day, do not vote), ``first_seen`` (a page seen before the
   earliest instant of the other's stated publication existed first) and
   ``containment`` (one text is the other plus the copying site's boilerplate). The votes for
   each side combine as a noisy-or; when both sides get 0.5 or more the evidence conflicts and
   the edge stays undirected, as it does without any vote.
3. **shared upstream** — a pair whose shared text both also share with an earlier third document
   that is the source of both, and that neither credits nor links, took it from that document: no
   direct edge (relation ``shared_upstream``, ``via`` the third). A pair published within
   ``upstream_window_minutes`` (both times known to the minute) without any credit cannot have
   copied each other: both hang from an unseen upstream node (relation ``unseen_upstream``).
4. **stories** — connected groups of related documents; a document related to nothing is in no story.
5. **tree** — each story's lineage tree is the minimum-cost arborescence (Chu–Liu/Edmonds) over
   the candidate edges, under a virtual root: a copy hangs from the source with the most
   confident direction that explains most of what it shares.

Pure: no I/O. The pipeline loads the facts from the warehouse and stores what comes out.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from reuse.config import Settings
from reuse.engine.boilerplate import subtract, union_length
from reuse.lineage.edits import url_key
from reuse.models import Evidence, Match, Span, TimePrecision, shown_time, time_interval

__all__ = [
    "ROOT_COST",
    "WEIGHTS",
    "Attribution",
    "DocFacts",
    "Edge",
    "Node",
    "SharedText",
    "Signal",
    "Story",
    "When",
    "attribution",
    "build_stories",
    "doc_time",
    "doc_when",
    "min_arborescence",
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
ROOT_COST = 10.0
_UNDIRECTED_PENALTY = 0.5
_UPSTREAM_COST = 0.5
_SPECIFIC = frozenset({"canonical", "credit", "byline", "link"})
_NAME = re.compile(r"[^0-9a-z]+")
_WORD = re.compile(r"\w+")
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DocFacts:
    """What lineage knows of one document: its version used, identity, times and page evidence.

    ``boilerplate`` holds the spans of its text that are boilerplate (marked or learned).
    """

    doc_id: int
    version_id: int
    url: str
    site: str | None
    chars: int
    published: datetime | None = None
    first_seen: datetime | None = None
    evidence: Evidence = field(default_factory=Evidence)
    boilerplate: tuple[Span, ...] = ()
    text: str = ""  # when given, shared spans are checked word by word (see ``_verified``)
    published_precision: str | None = None  # a TimePrecision value ("day" for a date); None: an instant

    @property
    def own_chars(self) -> int:
        """Characters of the text outside boilerplate."""
        return max(0, self.chars - union_length(self.boilerplate))


@dataclass(frozen=True)
class SharedText:
    """What two documents share: the matches between their versions (side ``a`` is ``doc_a``)."""

    doc_a: int
    doc_b: int
    matches: tuple[Match, ...]
    in_order: bool = True


@dataclass(frozen=True)
class Signal:
    """One piece of direction evidence: which document it says is the source, and how strongly."""

    name: str
    source: int | None  # None: the signal was looked at and says neither (e.g. simultaneous)
    weight: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``evidence`` column)."""
        return {"signal": self.name, "source": self.source, "weight": self.weight, "detail": self.detail}


@dataclass(frozen=True)
class Edge:
    """A reuse edge of a story. ``source``/``target`` are doc_ids; for an undirected edge in the
    tree they follow the tree, otherwise the earlier document is ``source``."""

    source: int
    target: int
    relation: str  # copy, undirected, shared_upstream, unseen_upstream
    directed: bool
    in_tree: bool
    confidence: float
    method: str | None
    signals: tuple[Signal, ...]
    lag_seconds: int | None
    shared_chars_source: int
    shared_chars_target: int
    coverage_source: float
    coverage_target: float
    in_order: bool
    via: int | None = None
    upstream: str | None = None


@dataclass(frozen=True)
class Node:
    """A document's place in its story's lineage tree."""

    doc_id: int
    parent: int | None  # None for a root, and for a child of an unseen upstream
    upstream: str | None
    depth: int
    time: datetime | None
    time_source: str | None
    time_precision: str | None = None  # a TimePrecision value; None when the time is unknown


@dataclass(frozen=True)
class Story:
    """A connected group of documents that share text, with its lineage tree and edges."""

    story_id: int  # the smallest doc_id of the story
    docs: tuple[int, ...]
    root: int
    earliest: int
    sites: tuple[str, ...]
    first_time: datetime | None
    last_time: datetime | None
    nodes: dict[int, Node]
    edges: tuple[Edge, ...]
    first_precision: str | None = None  # of ``first_time`` (a TimePrecision value)
    last_precision: str | None = None

    def ancestors(self, doc_id: int) -> list[int]:
        """The documents above ``doc_id`` in the tree, nearest first."""
        found, node = [], self.nodes[doc_id]
        while node.parent is not None:
            found.append(node.parent)
            node = self.nodes[node.parent]
        return found


@dataclass(frozen=True)
class Attribution:
    """Whether a copy credits its source: ``status`` is credited, credited_other or uncredited.

    ``how`` lists the ways it credits the source (canonical, credit, byline, link); ``credited``
    every outlet or URL it credits, each with the stored document it names (``doc_id``) and
    whether that is the source or an ancestor in the lineage; ``agrees`` whether the credits
    agree with the inferred lineage (None when there are none).
    """

    status: str
    how: tuple[str, ...]
    credited: tuple[dict[str, Any], ...]
    agrees: bool | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``attribution`` column)."""
        return {"status": self.status, "how": list(self.how), "credited": list(self.credited), "agrees": self.agrees}


# -- times ------------------------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class When(NamedTuple):
    """A document's time as stated (``value``, UTC), where it comes from and how exactly it is known.

    ``interval`` holds the instants it may stand for (see :func:`reuse.models.time_interval`): a
    date-only stamp is its whole day, widened by the time zones, not its midnight.
    """

    value: datetime | None
    source: str | None
    precision: TimePrecision | None

    @property
    def interval(self) -> tuple[datetime, datetime] | None:
        """``[start, end)`` in UTC, None when the time is unknown."""
        return None if self.value is None else time_interval(self.value, self.precision)

    @property
    def shown(self) -> str:
        """The time with its precision ("2021-03-01 (date only)")."""
        return shown_time(self.value, self.precision)

    @property
    def precise(self) -> bool:
        """Known to the minute: minutes between two such times mean something."""
        return self.precision is not None and self.precision.precise


def doc_when(doc: DocFacts) -> When:
    """The best time for a document, where it comes from and its precision: published, else
    modified, else the earliest feed or sitemap date, else first seen (an instant)."""
    if doc.published is not None:
        return When(_utc(doc.published), "published", TimePrecision(doc.published_precision or "second"))
    if doc.evidence.modified is not None:
        precision = TimePrecision(doc.evidence.modified_precision or "second")
        return When(_utc(doc.evidence.modified), "modified", precision)
    if doc.evidence.other_dates:
        source, value = min(doc.evidence.other_dates, key=lambda item: _utc(item[1]) or _NEVER)
        return When(_utc(value), source, TimePrecision(dict(doc.evidence.other_precisions).get(source, "second")))
    if doc.first_seen is not None:
        return When(_utc(doc.first_seen), "first_seen", TimePrecision.SECOND)
    return When(None, None, None)


def doc_time(doc: DocFacts) -> tuple[datetime | None, str | None]:
    """The best time for a document and where it comes from (:func:`doc_when` without the precision)."""
    when = doc_when(doc)
    return when.value, when.source


def _order(doc: DocFacts) -> tuple[bool, datetime, datetime, int]:
    """A total, deterministic time order of documents: by the start, then the end, of their time
    interval, unknown times last, ties by doc_id. Overlapping intervals are not "earlier" than
    each other; this order only picks one of them the same way every time."""
    interval = doc_when(doc).interval
    start, end = interval if interval is not None else (_NEVER, _NEVER)
    return interval is None, start, end, doc.doc_id


def _minutes_apart(wa: When, wb: When, settings: Settings) -> float | None:
    """Minutes between two times known to the minute and at most ``upstream_window_minutes`` apart:
    too close for one to have copied the other. None otherwise (a date-only stamp is never close,
    and when a page was first seen says nothing of when it was published)."""
    if (
        wa.value is None
        or wb.value is None
        or not (wa.precise and wb.precise)
        or "first_seen" in (wa.source, wb.source)
    ):
        return None
    gap = abs((wb.value - wa.value).total_seconds()) / 60
    return gap if gap <= settings.upstream_window_minutes else None


# -- identity -------------------------------------------------------------------------------------


def _name_key(name: str | None) -> str:
    return _NAME.sub("", (name or "").lower())


def _site_keys(doc: DocFacts) -> set[str]:
    keys = set()
    if doc.site:
        host = doc.site.lower().removeprefix("www.")
        keys.add(_name_key(host))
        keys.add(_name_key(host.rsplit(".", 1)[0]))
    if doc.evidence.site_name:
        keys.add(_name_key(doc.evidence.site_name))
    keys.discard("")
    return keys


def _url_keys(doc: DocFacts) -> set[str]:
    # Not its canonical: a same-site one is already its URL (crawlers.urls.document_url), another
    # site's names the page it copies, so a credit to that page must not count as one to this.
    urls = (doc.url, doc.evidence.fetched_url)
    return {url_key(u) for u in urls if u and u.startswith(("http://", "https://"))}


def _credits_of(target: DocFacts, source: DocFacts) -> list[Signal]:
    """How ``target``'s page credits ``source``: one signal per way, the strongest of each kind."""
    urls, names = _url_keys(source), _site_keys(source)
    own = _site_keys(target)
    found: dict[str, Signal] = {}

    def keep(signal: Signal) -> None:
        if signal.name not in found or found[signal.name].weight < signal.weight:
            found[signal.name] = signal

    ev = target.evidence
    if ev.canonical_url and url_key(ev.canonical_url) in urls and not (own & _site_keys(source)):
        keep(Signal("canonical", source.doc_id, WEIGHTS["canonical"], f"rel=canonical {ev.canonical_url}"))
    credited_urls = set()
    for credit in ev.credits:
        if credit.url and url_key(credit.url) in urls:
            keep(Signal("credit", source.doc_id, WEIGHTS["credit_url"], f"{credit.kind}: {credit.text}"))
            credited_urls.add(url_key(credit.url))
        elif credit.outlet and _name_key(credit.outlet) in names:
            keep(Signal("credit", source.doc_id, WEIGHTS["credit_outlet"], f"{credit.kind} names {credit.outlet}"))
    for author in ev.authors:
        if _name_key(author) in names and _name_key(author) not in own:
            keep(Signal("byline", source.doc_id, WEIGHTS["byline"], f"byline {author}"))
    for link in ev.links:
        key = url_key(link.href)
        if key in urls and key not in credited_urls:
            keep(Signal("link", source.doc_id, WEIGHTS["link"], f"links {link.href}"))
    return list(found.values())


# -- evidence and direction -----------------------------------------------------------------------


@dataclass
class _Relation:
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


def _relation(a: DocFacts, b: DocFacts, shared: SharedText, settings: Settings) -> _Relation | None:
    if a.site is not None and a.site == b.site:
        return None  # one site repeating itself is its template, never a story
    spans_a = subtract([m.a for m in shared.matches], a.boilerplate)
    spans_b = subtract([m.b for m in shared.matches], b.boilerplate)
    if a.text and b.text:
        spans_a, spans_b = _verified(a.text, spans_a, b.text, spans_b), _verified(b.text, spans_b, a.text, spans_a)
    if min(union_length(spans_a), union_length(spans_b)) < settings.min_evidence_chars:
        return None
    raw = {a.doc_id: union_length([m.a for m in shared.matches]), b.doc_id: union_length([m.b for m in shared.matches])}
    return _Relation(a, b, shared, {a.doc_id: spans_a, b.doc_id: spans_b}, raw)


def _word_runs(text: str, spans: Sequence[Span]) -> list[list[tuple[int, int, str]]]:
    """The words of ``text`` inside each span, as ``(start, end, folded word)``."""
    return [
        [(m.start(), m.end(), m.group().casefold()) for m in _WORD.finditer(text, span.start, span.end)]
        for span in spans
    ]


def _verified(text: str, spans: Sequence[Span], other: str, other_spans: Sequence[Span]) -> list[Span]:
    """The parts of ``spans`` whose words are shared, three in a row, with ``other_spans`` of ``other``.

    Alignment merges hits across small gaps, so a match may bridge text that is not shared; once
    boilerplate is cut out of it (a site's menu above a body and its newsletter box below), what
    is left must still be shared word for word to count as evidence.
    """
    theirs = {
        tuple(w for _, _, w in run[k : k + 3]) for run in _word_runs(other, other_spans) for k in range(len(run) - 2)
    }
    kept: list[Span] = []
    for run in _word_runs(text, spans):
        for k in range(len(run) - 2):
            if tuple(w for _, _, w in run[k : k + 3]) in theirs:
                start, end = run[k][0], run[k + 2][1]
                if kept and start <= kept[-1].end + 3:
                    kept[-1] = Span(kept[-1].start, max(kept[-1].end, end))
                else:
                    kept.append(Span(start, end))
    return kept


def _containment(rel: _Relation, inner: DocFacts, outer: DocFacts, settings: Settings) -> Signal | None:
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
        if (close := _minutes_apart(wa, wb, settings)) is not None:
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
    seen_a, seen_b = _utc(a.first_seen), _utc(b.first_seen)
    for stated, seen, seen_doc in ((wa, seen_b, b), (wb, seen_a, a)):
        interval = stated.interval
        if interval is None or seen is None or stated.source == "first_seen":
            continue
        if (interval[0] - seen).total_seconds() > max(window, 3600):
            return [Signal("first_seen", seen_doc.doc_id, WEIGHTS["first_seen"], "seen before the other's date")]
    return []


def _decide(rel: _Relation, settings: Settings) -> None:
    a, b = rel.a, rel.b
    signals = [*_credits_of(a, b), *_credits_of(b, a), *_date_signals(a, b, settings)]
    rel.simultaneous = _minutes_apart(doc_when(a), doc_when(b), settings) is not None
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


def _method(rel: _Relation) -> str | None:
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


def _explained_by(rel: _Relation, z: int, rels: Mapping[frozenset[int], _Relation], settings: Settings) -> bool:
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


def _upstreams(rels: dict[frozenset[int], _Relation], docs: Mapping[int, DocFacts], settings: Settings) -> None:
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
            rel.via = min(explainers, key=lambda z: _order(docs[z]))
            continue
        if rel.simultaneous and not {x, y} & sourced:
            rel.kind = "unseen_upstream"


# -- the tree ---------------------------------------------------------------------------------------


def min_arborescence(nodes: Iterable[int], root: int, arcs: Sequence[tuple[int, int, float]]) -> dict[int, int] | None:
    """The minimum-cost spanning arborescence rooted at ``root`` (Chu–Liu/Edmonds).

    ``arcs`` are ``(tail, head, cost)``; returns, for every node but the root, the index in ``arcs``
    of the arc entering it, or None when some node cannot be reached from the root.
    """
    node_set = set(nodes) | {root}
    indexed = [(u, v, w, k) for k, (u, v, w) in enumerate(arcs) if u in node_set and v in node_set]
    chosen = _edmonds(node_set, root, indexed, max(node_set) + 1)
    return None if chosen is None else {arcs[k][1]: k for k in chosen}


def _edmonds(nodes: set[int], root: int, arcs: list[tuple[int, int, float, int]], fresh: int) -> list[int] | None:
    """The fourth fields of the arcs of the minimum arborescence over ``arcs``.

    Each node takes its cheapest entering arc; if those form a cycle, the cycle is contracted
    into one node (an arc entering it costs what it saves over the arc it would replace), the
    smaller problem is solved, and the cycle is opened where the chosen arc enters it.
    """
    best: dict[int, int] = {}
    for k, (u, v, w, _) in enumerate(arcs):
        if v != root and u != v and (v not in best or w < arcs[best[v]][2]):
            best[v] = k
    if any(v not in best for v in nodes if v != root):
        return None
    cycle = _find_cycle({v: arcs[k][0] for v, k in best.items()}, root)
    if cycle is None:
        return [arcs[k][3] for k in best.values()]
    in_cycle = set(cycle)
    contracted: list[tuple[int, int, float, int]] = []
    back: list[int] = []  # position in ``contracted`` -> index in ``arcs``
    for k, (u, v, w, _) in enumerate(arcs):
        if u in in_cycle and v in in_cycle:
            continue
        if v in in_cycle:
            contracted.append((u, fresh, w - arcs[best[v]][2], len(contracted)))
        elif u in in_cycle:
            contracted.append((fresh, v, w, len(contracted)))
        else:
            contracted.append((u, v, w, len(contracted)))
        back.append(k)
    solved = _edmonds((nodes - in_cycle) | {fresh}, root, contracted, fresh + 1)
    if solved is None:
        return None
    chosen = [back[position] for position in solved]
    opened = next(arcs[k][1] for k in chosen if arcs[k][1] in in_cycle)
    chosen.extend(best[v] for v in cycle if v != opened)
    return [arcs[k][3] for k in chosen]


def _find_cycle(parent: Mapping[int, int], root: int) -> list[int] | None:
    """A cycle of the ``parent`` pointers, if any (nodes on a path to the root are not in one)."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    for start in parent:
        path: list[int] = []
        v = start
        while v != root and v in parent and state.get(v, 0) == 0:
            state[v] = 1
            path.append(v)
            v = parent[v]
        if v in parent and state.get(v) == 1:
            return path[path.index(v) :]
        for node in path:
            state[node] = 2
    return None


# -- stories ----------------------------------------------------------------------------------------


def _components(rels: Iterable[_Relation]) -> list[set[int]]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for rel in rels:
        parent[find(rel.a.doc_id)] = find(rel.b.doc_id)
    groups: dict[int, set[int]] = defaultdict(set)
    for x in list(parent):
        groups[find(x)].add(x)
    return list(groups.values())


def _arc_cost(rel: _Relation, source: int, target: int, explained: float) -> float:
    """How unlikely ``target`` took its text from ``source``: the direction's doubt plus the share
    of what the target shares with anyone that this source does not hold."""
    doubt = 1.0 - rel.confidence if rel.source == source else 1.0 + _UNDIRECTED_PENALTY
    return doubt + (1.0 - explained)


def _tree(
    members: set[int], rels: list[_Relation], docs: Mapping[int, DocFacts], story_id: int
) -> tuple[dict[int, tuple[int | None, str | None, _Relation | None]], dict[str, set[int]]]:
    """Each member's parent (a doc, or an unseen upstream name) and the tree relation into it."""
    # Unseen upstream nodes: the groups of members joined by unseen_upstream relations.
    joined = _components([r for r in rels if r.kind == "unseen_upstream"])
    upstream_of: dict[int, str] = {}
    upstreams: dict[str, set[int]] = {}
    for k, group in enumerate(sorted(joined, key=min), start=1):
        name = f"unseen-{story_id}-{k}"
        upstreams[name] = group
        for doc in group:
            upstream_of[doc] = name
    ids = sorted(members)
    index = {doc: k + 1 for k, doc in enumerate(ids)}  # 0 is the virtual root
    for k, name in enumerate(sorted(upstreams), start=len(ids) + 1):
        index[name] = k  # type: ignore[index]
    union_spans = {doc: [s for r in rels if doc in (r.a.doc_id, r.b.doc_id) for s in r.spans[doc]] for doc in ids}
    union_size = {doc: union_length(spans) for doc, spans in union_spans.items()}
    arcs: list[tuple[int, int, float]] = []
    meaning: list[tuple[int | str | None, int, _Relation | None]] = []
    for doc in ids:
        arcs.append((0, index[doc], ROOT_COST))
        meaning.append((None, doc, None))
    for name, group in upstreams.items():
        arcs.append((0, index[name], ROOT_COST))  # type: ignore[index]
        meaning.append((None, -1, None))
        for doc in group:
            arcs.append((index[name], index[doc], _UPSTREAM_COST))  # type: ignore[index]
            meaning.append((name, doc, None))
    for rel in rels:
        if rel.kind not in ("copy", "undirected"):
            continue
        for source, target in ((rel.a.doc_id, rel.b.doc_id), (rel.b.doc_id, rel.a.doc_id)):
            if rel.source is not None and rel.source != source:
                continue
            explained = union_length(rel.spans[target]) / union_size[target] if union_size[target] else 0.0
            arcs.append((index[source], index[target], _arc_cost(rel, source, target, explained)))
            meaning.append((source, target, rel))
    chosen = min_arborescence(range(len(index) + 1), 0, arcs)
    assert chosen is not None  # every node has an arc from the root
    parents: dict[int, tuple[int | None, str | None, _Relation | None]] = {}
    for k in chosen.values():
        parent, child, via = meaning[k]
        if child < 0:
            continue
        if isinstance(parent, str):
            parents[child] = (None, parent, None)
        else:
            parents[child] = (parent, None, via)
    return parents, upstreams


def _lag(source: DocFacts, target: DocFacts) -> int | None:
    """Seconds from the source's time to the target's, when both are known to the minute: from a
    date-only (or month, year) stamp a lag in seconds would claim what nobody knows."""
    ws, wt = doc_when(source), doc_when(target)
    if ws.value is None or wt.value is None or not (ws.precise and wt.precise):
        return None
    return int((wt.value - ws.value).total_seconds())


def _edge(rel: _Relation, source: int, target: int, in_tree: bool, docs: Mapping[int, DocFacts]) -> Edge:
    s, t = docs[source], docs[target]
    lag = _lag(s, t)
    chars_s, chars_t = rel.chars(source), rel.chars(target)
    relation = rel.kind if rel.kind != "copy" or rel.source is not None else "undirected"
    return Edge(
        source=source,
        target=target,
        relation=relation,
        directed=rel.source is not None,
        in_tree=in_tree,
        confidence=rel.confidence if rel.source is not None else 0.0,
        method=_method(rel),
        signals=tuple(rel.signals),
        lag_seconds=lag,
        shared_chars_source=chars_s,
        shared_chars_target=chars_t,
        coverage_source=round(chars_s / s.own_chars, 4) if s.own_chars else 0.0,
        coverage_target=round(chars_t / t.own_chars, 4) if t.own_chars else 0.0,
        in_order=rel.shared.in_order,
        via=rel.via,
        upstream=rel.upstream,
    )


def build_stories(docs: Mapping[int, DocFacts], shared: Iterable[SharedText], settings: Settings) -> list[Story]:
    """The stories among ``docs``: related documents, their reuse edges and lineage trees.

    ``shared`` holds what pairs of ``docs`` share (one entry per pair, any orientation). Pairs
    of one site, and pairs sharing less than ``min_evidence_chars`` outside boilerplate, relate
    nothing; a document related to nothing is in no story.
    """
    rels: dict[frozenset[int], _Relation] = {}
    for item in shared:
        key = frozenset((item.doc_a, item.doc_b))
        if len(key) < 2 or key in rels:
            continue
        rel = _relation(docs[item.doc_a], docs[item.doc_b], item, settings)
        if rel is not None:
            _decide(rel, settings)
            rels[key] = rel
    _upstreams(rels, docs, settings)
    stories = []
    for members in _components(rels.values()):
        story_id = min(members)
        inside = sorted(
            (r for r in rels.values() if r.a.doc_id in members), key=lambda r: sorted((r.a.doc_id, r.b.doc_id))
        )
        parents, upstreams = _tree(members, inside, docs, story_id)
        for name, group in upstreams.items():
            for rel in inside:
                if rel.kind == "unseen_upstream" and rel.a.doc_id in group:
                    rel.upstream = name
        in_tree = {id(rel): (parent, child) for child, (parent, _, rel) in parents.items() if rel is not None}
        edges = []
        for rel in inside:
            if id(rel) in in_tree:
                parent, child = in_tree[id(rel)]
                assert parent is not None
                edges.append(_edge(rel, parent, child, True, docs))
            else:
                a, b = rel.a.doc_id, rel.b.doc_id
                earlier = a if _order(docs[a]) <= _order(docs[b]) else b
                source = rel.source if rel.source is not None else earlier
                edges.append(_edge(rel, source, rel.other(source), False, docs))
        nodes = _nodes(members, parents, docs)
        ordered = sorted(members, key=lambda d: _order(docs[d]))
        timed = [doc for doc in ordered if doc_when(docs[doc]).value is not None]
        # The last: the interval ending last (a date-only stamp may reach past a later instant).
        latest = max(timed, key=lambda d: (_order(docs[d])[2], _order(docs[d])[1], d), default=None)
        first = doc_when(docs[timed[0]]) if timed else When(None, None, None)
        last = doc_when(docs[latest]) if latest is not None else When(None, None, None)
        roots = [doc for doc in ordered if nodes[doc].depth == 0 or (nodes[doc].depth == 1 and nodes[doc].upstream)]
        stories.append(
            Story(
                story_id=story_id,
                docs=tuple(sorted(members)),
                root=roots[0] if roots else ordered[0],
                earliest=ordered[0],
                sites=tuple(sorted({docs[d].site for d in members if docs[d].site})),  # type: ignore[misc]
                first_time=first.value,
                last_time=last.value,
                nodes=nodes,
                edges=tuple(sorted(edges, key=lambda e: (not e.in_tree, e.source, e.target))),
                first_precision=first.precision.value if first.precision else None,
                last_precision=last.precision.value if last.precision else None,
            )
        )
    return sorted(stories, key=lambda s: s.story_id)


_Parents = Mapping[int, tuple[int | None, str | None, "_Relation | None"]]


def _nodes(members: set[int], parents: _Parents, docs: Mapping[int, DocFacts]) -> dict[int, Node]:
    depth: dict[int, int] = {}

    def depth_of(doc: int) -> int:
        if doc not in depth:
            parent, upstream, _ = parents.get(doc, (None, None, None))
            depth[doc] = 1 if upstream else 0 if parent is None else depth_of(parent) + 1
        return depth[doc]

    out = {}
    for doc in sorted(members):
        parent, upstream, _ = parents.get(doc, (None, None, None))
        when = doc_when(docs[doc])
        precision = when.precision.value if when.precision else None
        out[doc] = Node(doc, parent, upstream, depth_of(doc), when.value, when.source, precision)
    return out


# -- attribution --------------------------------------------------------------------------------------


def attribution(target: DocFacts, source: DocFacts, story: Story, docs: Mapping[int, DocFacts]) -> Attribution:
    """Whether ``target`` credits ``source`` (canonical, credit line, byline or link), credits
    another outlet instead, or nobody; and whether what it credits agrees with the lineage."""
    how = tuple(s.name for s in _credits_of(target, source))
    ancestors = set(story.ancestors(target.doc_id)) if target.doc_id in story.nodes else set()
    credited: list[dict[str, Any]] = []
    own = _site_keys(target)
    for credit in target.evidence.credits:
        named = None
        for doc in docs.values():
            if doc.doc_id == target.doc_id:
                continue
            if (credit.url and url_key(credit.url) in _url_keys(doc)) or (
                not credit.url and credit.outlet and _name_key(credit.outlet) in _site_keys(doc)
            ):
                named = doc.doc_id
                break
        if credit.outlet and _name_key(credit.outlet) in own and named is None:
            continue  # a credit to the page's own site (its own copyright line) credits nobody else
        credited.append(
            {
                "kind": credit.kind,
                "text": credit.text,
                "outlet": credit.outlet,
                "url": credit.url,
                "doc_id": named,
                "is_source": named == source.doc_id,
                "is_ancestor": named in ancestors,
            }
        )
    if how:
        status = "credited"
    elif credited:
        status = "credited_other"
    else:
        status = "uncredited"
    agrees = None if not (how or credited) else bool(how) or any(c["is_ancestor"] for c in credited)
    return Attribution(status, how, tuple(credited), agrees)
