"""Lineage: who copied whom, as reuse edges with evidence, stories and one lineage tree per story.

From the documents (their times, URLs and what their pages say: canonical, credit lines, bylines,
links) and what each pair of documents shares, :func:`build_stories` works in named stages (the
first three in :mod:`reuse.lineage.evidence`, the tree by :mod:`reuse.lineage.arborescence`):

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

from collections import defaultdict
from collections.abc import Iterable, Mapping

from reuse.config import Settings
from reuse.engine.boilerplate import union_length
from reuse.lineage.arborescence import min_arborescence
from reuse.lineage.evidence import Relation, decide, mark_upstreams, method, relation
from reuse.lineage.facts import DocFacts, Edge, Node, SharedText, Story, When, doc_when, time_order
from reuse.models import Span

__all__ = ["ROOT_COST", "build_stories", "story_batches"]

#: Cost of hanging a document from the virtual root: higher than any real edge, so a document is
#: a root only when nothing in its story can be its source.
ROOT_COST = 10.0
_UNDIRECTED_PENALTY = 0.5
_UPSTREAM_COST = 0.5


def _connected(pairs: Iterable[tuple[int, int]]) -> list[set[int]]:
    """The connected groups of the graph whose edges are ``pairs`` (union-find)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[int, set[int]] = defaultdict(set)
    for x in list(parent):
        groups[find(x)].add(x)
    return list(groups.values())


def _components(rels: Iterable[Relation]) -> list[set[int]]:
    return _connected((rel.a.doc_id, rel.b.doc_id) for rel in rels)


def story_batches(pairs: Iterable[tuple[int, int]], limit: int) -> list[list[int]]:
    """The documents of ``pairs`` (pairs of doc_ids sharing text) in groups of about ``limit``
    documents, for :func:`build_stories` to take one at a time; sorted, each group sorted.

    A relation joins only two documents that share text, so every story lies within one
    connected group of ``pairs``: stories built group by group are the stories built from all
    at once. A group holds whole connected groups, as many as fit in ``limit`` documents (one
    larger than ``limit`` alone).
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for group in sorted((sorted(g) for g in _connected(pairs)), key=lambda g: g[0]):
        if current and len(current) + len(group) > limit:
            batches.append(sorted(current))
            current = []
        current.extend(group)
    if current:
        batches.append(sorted(current))
    return batches


def _arc_cost(rel: Relation, source: int, target: int, explained: float) -> float:
    """How unlikely ``target`` took its text from ``source``: the direction's doubt plus the share
    of what the target shares with anyone that this source does not hold."""
    doubt = 1.0 - rel.confidence if rel.source == source else 1.0 + _UNDIRECTED_PENALTY
    return doubt + (1.0 - explained)


def _tree(
    members: set[int], rels: list[Relation], docs: Mapping[int, DocFacts], story_id: int
) -> tuple[dict[int, tuple[int | None, str | None, Relation | None]], dict[str, set[int]]]:
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
    # One pass over the relations: a story of thousands of documents has millions of them.
    union_spans: dict[int, list[Span]] = {doc: [] for doc in ids}
    for r in rels:
        for doc in (r.a.doc_id, r.b.doc_id):
            union_spans[doc].extend(r.spans[doc])
    union_size = {doc: union_length(spans) for doc, spans in union_spans.items()}
    arcs: list[tuple[int, int, float]] = []
    meaning: list[tuple[int | str | None, int, Relation | None]] = []
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
    parents: dict[int, tuple[int | None, str | None, Relation | None]] = {}
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


def _edge(rel: Relation, source: int, target: int, in_tree: bool, docs: Mapping[int, DocFacts]) -> Edge:
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
        method=method(rel),
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
    rels: dict[frozenset[int], Relation] = {}
    firsts: dict[frozenset[int], SharedText] = {}
    for item in shared:
        key = frozenset((item.doc_a, item.doc_b))
        if len(key) == 2:
            firsts.setdefault(key, item)
    for key, item in firsts.items():
        rel = relation(docs[item.doc_a], docs[item.doc_b], item, settings)
        if rel is not None:
            decide(rel, settings)
            rels[key] = rel
    mark_upstreams(rels, docs, settings)
    stories = []
    components = _components(rels.values())
    # Each relation read once, into its story: many stories would otherwise each scan all of them.
    story_of = {doc: k for k, members in enumerate(components) for doc in members}
    within: list[list[Relation]] = [[] for _ in components]
    for rel in rels.values():
        within[story_of[rel.a.doc_id]].append(rel)
    for members, held in zip(components, within, strict=True):
        story_id = min(members)
        inside = sorted(held, key=lambda r: sorted((r.a.doc_id, r.b.doc_id)))
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
                earlier = a if time_order(docs[a]) <= time_order(docs[b]) else b
                source = rel.source if rel.source is not None else earlier
                edges.append(_edge(rel, source, rel.other(source), False, docs))
        nodes = _nodes(members, parents, docs)
        ordered = sorted(members, key=lambda d: time_order(docs[d]))
        timed = [doc for doc in ordered if doc_when(docs[doc]).value is not None]
        # The last: the interval ending last (a date-only stamp may reach past a later instant).
        latest = max(timed, key=lambda d: (time_order(docs[d])[2], time_order(docs[d])[1], d), default=None)
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


_Parents = Mapping[int, tuple[int | None, str | None, "Relation | None"]]


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
