"""The lineage stage: store each version's evidence, then decide who copied whom in the stories a run
touched, with edits, credits and version diffs, and read a story back for the CLI and the report.
"""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from crawlers.urls import page_key
from reuse.config import Settings
from reuse.engine.boilerplate import block_hashes, text_blocks
from reuse.engine.runs import offsets_within
from reuse.lineage.attribution import attribution
from reuse.lineage.edits import EditReport, TextView, compare
from reuse.lineage.facts import DocFacts, SharedText, Story
from reuse.lineage.stories import build_stories, story_batches
from reuse.models import CreditLine, Document, Evidence, Match, MatchKind, PageLink, Span, TextBlock
from reuse.pipeline.alerts import raise_alerts
from warehouse import lineage as lineage_db
from warehouse.db import Columns, Warehouse, column_rows

__all__ = [
    "EVIDENCE_TABLES",
    "STORY_BATCH_DOCS",
    "LineageSummary",
    "StoryReport",
    "block_columns",
    "compare_edges",
    "evidence_rows",
    "lineage_summary",
    "page_rows",
    "rebuild_lineage",
    "store_evidence",
    "story_report",
    "update_lineage",
]


#: About how many documents a lineage update reads, builds the stories of and stores at a time.
STORY_BATCH_DOCS = 4000

#: The tables of a version's evidence, one row builder for all of them (:func:`evidence_rows`).
EVIDENCE_TABLES = ("blocks", "version_meta", "links", "credits")


def block_columns(stored: Sequence[tuple[int, Document]]) -> dict[str, Any]:
    """The ``blocks`` rows of new versions (``(version_id, document)`` each) as columns: each
    document's :func:`~reuse.engine.boilerplate.text_blocks`, with their boilerplate hashes,
    made natively for all of them at once."""
    spans: list[np.ndarray] = []
    kinds: list[str] = []
    labels: list[str | None] = []
    for _, doc in stored:
        found, kind, label = text_blocks(doc.text, doc.evidence)
        spans.append(found)
        kinds.extend(kind)
        labels.extend(label)
    counts = np.array([len(found) for found in spans], dtype=np.int64)
    table = np.concatenate(spans) if spans else np.zeros((0, 2), np.int64)
    owner = np.repeat(np.arange(len(stored)), counts)
    return {
        "version_id": np.repeat(np.array([v for v, _ in stored], dtype=np.int64), counts),
        "position": offsets_within(counts),
        "kind": kinds,
        "char_start": table[:, 0],
        "char_end": table[:, 1],
        "boilerplate": labels,
        "text_hash": block_hashes([doc.text for _, doc in stored], owner, table[:, 0], table[:, 1]),
    }


def evidence_rows(version_id: int, doc: Document) -> dict[str, list[dict[str, Any]]]:
    """The rows of each table of :data:`EVIDENCE_TABLES` for one version: its blocks (with their
    boilerplate hashes, :func:`block_columns`), page metadata, links and credits."""
    return {"blocks": column_rows(block_columns([(version_id, doc)])), **page_rows(version_id, doc)}


def page_rows(version_id: int, doc: Document) -> dict[str, list[dict[str, Any]]]:
    """The rows of each table of :data:`EVIDENCE_TABLES` but ``blocks`` for one version: what its
    page said of itself (metadata, links, credits); none for a document that is not a page."""
    tables: dict[str, list[dict[str, Any]]] = {table: [] for table in EVIDENCE_TABLES if table != "blocks"}
    ev = doc.evidence
    if ev is None:
        return tables
    tables["version_meta"].append(
        {
            "version_id": version_id,
            "fetched_url": ev.fetched_url,
            "canonical_url": ev.canonical_url,
            "site_name": ev.site_name,
            "published_source": ev.published_source,
            "modified_at": ev.modified,
            "modified_precision": ev.modified_precision if ev.modified is not None else None,
            "other_dates": _other_dates_json(ev),
            "authors": list(ev.authors),
            "tags": list(ev.tags),
            "header": list(ev.header),
        }
    )
    for position, link in enumerate(ev.links):
        tables["links"].append(
            {"version_id": version_id, "position": position, "href": link.href, "text": link.text, "block": link.block}
        )
    for position, credit in enumerate(ev.credits):
        tables["credits"].append(
            {
                "version_id": version_id,
                "position": position,
                "kind": credit.kind,
                "text": credit.text,
                "outlet": credit.outlet,
                "url": credit.url,
                "block": credit.block,
            }
        )
    return tables


def _other_dates_json(ev: Evidence) -> str | None:
    """``version_meta.other_dates``: ``[[source, time]]``, with the precision third when not an instant."""
    if not ev.other_dates:
        return None
    precision = dict(ev.other_precisions)
    rows = [[s, t.isoformat(), *([precision[s]] if s in precision else [])] for s, t in ev.other_dates]
    return json.dumps(rows)


def store_evidence(wh: Warehouse, stored: list[tuple[int, Document]], blocks: Columns) -> None:
    """Store the blocks (``blocks``, their :func:`block_columns`), page metadata, links and
    credits of new versions."""
    wh.insert("blocks", blocks)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for version_id, doc in stored:
        for table, found in page_rows(version_id, doc).items():
            rows[table].extend(found)
    for table, table_rows in rows.items():
        wh.insert(table, table_rows)


def _evidence(row: dict[str, Any]) -> Evidence:
    """The :class:`Evidence` of a version as :func:`warehouse.lineage.load_versions` read it."""
    return Evidence(
        fetched_url=row["fetched_url"],
        canonical_url=row["canonical_url"],
        site_name=row["site_name"],
        published_source=row["published_source"],
        modified=row["modified"],
        modified_precision=row["modified_precision"],
        other_dates=tuple((s, datetime.fromisoformat(t)) for s, t, *_ in row["other_dates"]),
        other_precisions=tuple((s, p[0]) for s, _, *p in row["other_dates"] if p),
        authors=tuple(row["authors"]),
        tags=tuple(row["tags"]),
        header=tuple(row["header"]),
        blocks=tuple(TextBlock(b["char_start"], b["char_end"], b["kind"], b["boilerplate"]) for b in row["blocks"]),
        links=tuple(PageLink(k["href"], k["text"] or "", k["block"]) for k in row["links"]),
        credits=tuple(CreditLine(c["kind"], c["text"], c["outlet"], c["url"], c["block"]) for c in row["credits"]),
    )


def _learned(row: dict[str, Any], boilerplate: dict[str, set[int]]) -> frozenset[int]:
    """Indexes of the version's blocks that are its site's learned boilerplate."""
    site = boilerplate.get(row["site"] or "", set())
    return frozenset(k for k, b in enumerate(row["blocks"]) if int(b["text_hash"]) in site)


def _view(row: dict[str, Any], boilerplate: dict[str, set[int]]) -> TextView:
    ev = _evidence(row)
    return TextView(row["text"], row["title"], ev.blocks, _learned(row, boilerplate), ev.links, ev.header, ev.tags)


#: How many characters of text :class:`_Views` holds the views of at most (each view's folded
#: blocks about as many again).
VIEW_CHARS = 2_000_000


class _Views:
    """The :class:`TextView` of each version a lineage update compares, made once and held while
    the texts held stay within ``budget`` characters (the least recently used let go first): a
    story's source is compared with each of its copies, and a view folds its blocks once.
    Stories are compared one after the other, so a story's views are held while it is."""

    def __init__(self, boilerplate: dict[str, set[int]], budget: int = VIEW_CHARS) -> None:
        self._boilerplate = boilerplate
        self._held: OrderedDict[int, TextView] = OrderedDict()
        self._chars = 0
        self._budget = budget

    def __call__(self, row: dict[str, Any]) -> TextView:
        """The view of ``row`` (of :func:`warehouse.lineage.load_versions`)."""
        version = row["version_id"]
        view = self._held.get(version)
        if view is not None:
            self._held.move_to_end(version)
            return view
        view = self._held[version] = _view(row, self._boilerplate)
        self._chars += len(view.text)
        while self._chars > self._budget and len(self._held) > 1:
            _, gone = self._held.popitem(last=False)
            self._chars -= len(gone.text)
        return view


def _facts(row: dict[str, Any], boilerplate: dict[str, set[int]]) -> DocFacts:
    ev = _evidence(row)
    learned = _learned(row, boilerplate)
    spans = tuple(Span(b.start, b.end) for k, b in enumerate(ev.blocks) if b.boilerplate is not None or k in learned)
    return DocFacts(
        doc_id=row["doc_id"],
        version_id=row["version_id"],
        url=row["url"],
        site=row["site"],
        chars=len(row["text"]),
        published=row["published"],
        first_seen=row["first_seen"],
        published_precision=row["published_precision"],
        evidence=ev,
        boilerplate=spans,
        text=row["text"],
    )


def _edit_dicts(report: EditReport) -> list[dict[str, Any]]:
    """Each edit of ``report`` as a row: label, spans on both sides, texts and the detail."""
    return [
        {
            "position": position,
            "label": edit.label,
            "source_start": edit.source.start if edit.source else None,
            "source_end": edit.source.end if edit.source else None,
            "target_start": edit.target.start if edit.target else None,
            "target_end": edit.target.end if edit.target else None,
            "source_text": edit.source_text,
            "target_text": edit.target_text,
            "detail": edit.detail,
        }
        for position, edit in enumerate(report.edits)
    ]


def _edits(
    edge_id: int,
    source: dict[str, Any],
    target: dict[str, Any],
    views: _Views,
    kept: _Kept,
    edit_rows: list[dict[str, Any]],
    taken: list[tuple[int, int, int]],
) -> list[str]:
    """The labels of a copy edge from version ``source`` to ``target``, and its ``edge_edits``:
    those its story held before when they still hold (``taken`` gets ``(edge_id, source version,
    target version)`` to copy them by), else compared now (their rows added to ``edit_rows``)."""
    labels = kept.labels(source, target)
    if labels is not None:
        taken.append((edge_id, source["version_id"], target["version_id"]))
        return labels
    report = compare(views(source), views(target))
    edit_rows.extend(_edit_rows(edge_id, report))
    return list(report.labels)


def _edit_rows(edge_id: int, report: EditReport) -> list[dict[str, Any]]:
    return [
        {"edge_id": edge_id, **row, "detail": json.dumps(row["detail"], ensure_ascii=False)}
        for row in _edit_dicts(report)
    ]


def _corrections(scores: list[tuple[int, int, float]], target_version: int) -> tuple[int | None, str | None]:
    """The source version the target matches best, and whether the target picked up later
    corrections ('picked_up': it matches the latest version better than an older one) or not
    ('missed': an older version matches better); None when the versions match it equally."""
    mine = sorted((sv, score) for sv, tv, score in scores if tv == target_version)
    if not mine:
        return None, None
    best = max(mine, key=lambda item: (item[1], item[0]))[0]
    if len(mine) < 2 or len({round(score, 6) for _, score in mine}) == 1:
        return best, None
    return best, "picked_up" if best == mine[-1][0] else "missed"


@dataclass(frozen=True)
class LineageSummary:
    """What a lineage update took in (``versions``) and what the warehouse then holds."""

    versions: int
    stories: int
    edges: int


def update_lineage(
    wh: Warehouse, settings: Settings, run_id: int, progress: Callable[[str], None] | None = None
) -> int:
    """Bring lineage up to date with every version it still owes (``lineage_pending``): those run
    ``run_id`` stored and those of any run that died before its lineage update committed; return
    how many it took in. Call it in a transaction: the owed versions are settled in the same one.

    The invariant: lineage is derived state. After any sequence of runs, some of them killed at
    any point, followed by one completed run (every writing run calls this at its end, even one
    that stored nothing) or ``reusetrack lineage --stale``, every lineage table and view holds
    what one clean run over the same inputs gives, and what :func:`rebuild_lineage` gives.

    The update relearns the boilerplate of the sites the owed versions are on, diffs each owed
    version against its previous one (and every version of a site whose boilerplate changed),
    and rebuilds every story holding a document they reach (see
    :func:`warehouse.lineage.lineage_reach`), then raises the alerts the watchlists are owed (see
    :func:`reuse.pipeline.alerts.raise_alerts`). ``progress`` is called once per story stored.
    """
    fresh = lineage_db.pending_versions(wh)
    if not fresh:
        return 0
    sites = {v.site for v in fresh if v.site}
    before = lineage_db.site_boilerplate_hashes(wh, sites)
    after = lineage_db.learn_site_boilerplate(wh, sites, settings.boilerplate_docs, settings.boilerplate_share)
    seeds = {v.doc_id for v in fresh}
    diffed = [v for v in fresh if v.previous is not None]
    changed_sites = [site for site in sites if before.get(site) != after.get(site)]
    if changed_sites:
        # New site boilerplate changes the evidence of every pair the site's documents are in,
        # and what their version diffs call boilerplate.
        _, docs_of_sites = wh.query("SELECT doc_id FROM documents WHERE list_contains(?, site)", [changed_sites])
        on_sites = {int(doc) for (doc,) in docs_of_sites}
        seeds |= on_sites
        owed = {v.version_id for v in diffed}
        diffed += [v for v in lineage_db.later_versions(wh, on_sites) if v.version_id not in owed]
    members = lineage_db.lineage_reach(wh, seeds, settings.min_evidence_chars)
    current = lineage_db.current_versions(wh, members)
    _store_version_diffs(wh, diffed)
    stored = lineage_db.delete_stories(wh, members)
    doc_of = {v: doc for doc, v in current.items()}
    # Only pairs that may relate join documents into batches: pairs of one site, or sharing less
    # than the floor, relate nothing (see reuse.lineage.evidence.relation).
    graph = lineage_db.pair_graph(wh, current.values(), settings.min_evidence_chars)
    pairs = [(doc_of[va], doc_of[vb]) for va, vb in graph]
    # An edge's edits are taken back from the story it was in unless a site's new boilerplate
    # changes what its versions compare to.
    kept = _Kept(stored, frozenset(changed_sites))
    # Stories are built and stored a batch of whole connected groups at a time: a bulk run's
    # update would otherwise hold every document's facts and every match at once.
    for batch in story_batches(pairs, STORY_BATCH_DOCS):
        _update_stories(wh, settings, run_id, {doc: current[doc] for doc in batch}, kept, progress)
    lineage_db.forget_kept_edits(wh)
    # Alerts are read from the edges just stored, in this transaction: a run killed before it
    # commits leaves them owed with its lineage, and one alert per watch and copy is ever raised.
    raise_alerts(wh, settings, run_id, {v.doc_id for v in fresh})
    lineage_db.settle_pending(wh, [v.version_id for v in fresh])
    return len(fresh)


def rebuild_lineage(
    wh: Warehouse, settings: Settings, run_id: int, progress: Callable[[str], None] | None = None
) -> int:
    """Rebuild all lineage from the stored documents and matches: every site's boilerplate, every
    version diff, every story (``reusetrack lineage --rebuild``, and ``load``); return how many
    versions it took in. Call it in a transaction."""
    lineage_db.forget_lineage(wh)
    return update_lineage(wh, settings, run_id, progress)


def lineage_summary(wh: Warehouse, versions: int) -> LineageSummary:
    """What an update that took in ``versions`` versions leaves: the stories and edges stored."""
    _, ((stories, edges),) = wh.query(
        "SELECT (SELECT count(*) FROM lineage_stories), (SELECT count(*) FROM reuse_edges)"
    )
    return LineageSummary(versions, int(stories), int(edges))


def _store_version_diffs(wh: Warehouse, diffed: list[lineage_db.OwedVersion]) -> None:
    """Store the diff of each of ``diffed`` against its previous version (replacing any stored),
    reading the versions :data:`STORY_BATCH_DOCS` at a time."""
    lineage_db.delete_version_diffs(wh, [v.version_id for v in diffed])
    for start in range(0, len(diffed), STORY_BATCH_DOCS):
        batch = [v for v in diffed[start : start + STORY_BATCH_DOCS] if v.previous is not None]
        rows = lineage_db.load_versions(wh, [i for v in batch for i in (v.previous, v.version_id) if i is not None])
        boilerplate = lineage_db.site_boilerplate_hashes(wh, {r["site"] for r in rows.values() if r["site"]})
        diffs = []
        for version in batch:
            prev = version.previous
            if prev is None or prev not in rows or version.version_id not in rows:
                continue
            report = compare(_view(rows[prev], boilerplate), _view(rows[version.version_id], boilerplate))
            diffs.append(
                {
                    "doc_id": version.doc_id,
                    "old_version": prev,
                    "new_version": version.version_id,
                    "run_id": version.run_id,
                    "labels": list(report.labels),
                    "changes": json.dumps(_edit_dicts(report), ensure_ascii=False),
                }
            )
        wh.insert("version_diffs", diffs)


@dataclass(frozen=True)
class _Kept:
    """The copy edges' labels of the stories an update deleted (their edits kept in DuckDB, see
    :func:`warehouse.lineage.delete_stories`), and the sites whose boilerplate it changed."""

    edge_labels: dict[tuple[int, int], list[str]]
    changed_sites: frozenset[str]

    def labels(self, source: dict[str, Any], target: dict[str, Any]) -> list[str] | None:
        """The kept labels of the versions ``source`` and ``target`` (rows of
        :func:`warehouse.lineage.load_versions`), when their report still holds."""
        if source["site"] in self.changed_sites or target["site"] in self.changed_sites:
            return None
        return self.edge_labels.get((source["version_id"], target["version_id"]))


def _update_stories(
    wh: Warehouse,
    settings: Settings,
    run_id: int,
    current: dict[int, int],
    kept: _Kept,
    progress: Callable[[str], None] | None,
) -> None:
    """Build and store the stories among the documents of ``current`` (``doc_id → version_id``),
    whole connected groups of what they share (see :func:`story_batches`)."""
    rows = lineage_db.load_versions(wh, current.values())
    boilerplate = lineage_db.site_boilerplate_hashes(wh, {r["site"] for r in rows.values() if r["site"]})
    docs = {doc: _facts(rows[v], boilerplate) for doc, v in current.items()}
    doc_of = {v: doc for doc, v in current.items()}
    floor = settings.min_evidence_chars
    shared = [
        SharedText(
            doc_of[va],
            doc_of[vb],
            tuple(
                Match(Span(a0, a1), Span(b0, b1), sim, MatchKind(kind), at, bt)
                for a0, a1, b0, b1, sim, kind, at, bt in p["matches"]
            ),
            p["in_order"],
        )
        for (va, vb), p in sorted(lineage_db.matches_between(wh, current.values(), floor).items())
    ]
    found = build_stories(docs, shared, settings)
    _store_stories(wh, run_id, found, docs, rows, boilerplate, kept, progress or (lambda _story: None))


def _store_stories(
    wh: Warehouse,
    run_id: int,
    found: list[Story],
    docs: dict[int, DocFacts],
    rows: dict[int, dict[str, Any]],
    boilerplate: dict[str, set[int]],
    kept: _Kept,
    progress: Callable[[str], None],
) -> None:
    edge_id = wh.next_id("reuse_edges", "edge_id")
    copied = [(e.source, e.target) for story in found for e in story.edges if e.relation in ("copy", "undirected")]
    # The source version each copy matches best, and the versions' texts, read for all edges at once.
    best_of = {
        (s, t): _corrections(scored, docs[t].version_id)
        for (s, t), scored in lineage_db.pair_scores(wh, copied).items()
    }
    rows.update(lineage_db.load_versions(wh, {b for b, _ in best_of.values() if b is not None} - rows.keys()))
    story_rows, node_rows, edge_rows = [], [], []
    views = _Views(boilerplate)
    edit_rows: list[dict[str, Any]] = []
    taken: list[tuple[int, int, int]] = []
    for story in found:
        story_rows.append(
            {
                "story_id": story.story_id,
                "run_id": run_id,
                "root_doc": story.root,
                "earliest_doc": story.earliest,
                "documents": len(story.docs),
                "sites": list(story.sites),
                "first_time": story.first_time,
                "last_time": story.last_time,
                "first_precision": story.first_precision,
                "last_precision": story.last_precision,
            }
        )
        tree_edge: dict[int, int] = {}
        for edge in story.edges:
            source, target = docs[edge.source], docs[edge.target]
            source_version, corrections = source.version_id, None
            if edge.relation in ("copy", "undirected"):
                best, corrections = best_of[(edge.source, edge.target)]
                source_version = best or source.version_id
                source_row, target_row = rows[source_version], rows[target.version_id]
                labels = _edits(edge_id, source_row, target_row, views, kept, edit_rows, taken)
            else:
                labels = []
            credit = attribution(target, source, story, docs)
            edge_rows.append(
                {
                    "edge_id": edge_id,
                    "run_id": run_id,
                    "story_id": story.story_id,
                    "source_doc": edge.source,
                    "target_doc": edge.target,
                    "source_version": source_version,
                    "target_version": target.version_id,
                    "relation": edge.relation,
                    "directed": edge.directed,
                    "in_tree": edge.in_tree,
                    "via_doc": edge.via,
                    "upstream": edge.upstream,
                    "method": edge.method,
                    "confidence": edge.confidence,
                    "evidence": json.dumps([s.to_dict() for s in edge.signals], ensure_ascii=False),
                    "lag_seconds": edge.lag_seconds,
                    "shared_chars_source": edge.shared_chars_source,
                    "shared_chars_target": edge.shared_chars_target,
                    "coverage_source": edge.coverage_source,
                    "coverage_target": edge.coverage_target,
                    "in_order": edge.in_order,
                    "credited": credit.status,
                    "attribution": json.dumps(credit.to_dict(), ensure_ascii=False),
                    "labels": labels,
                    "corrections": corrections,
                }
            )
            if edge.in_tree:
                tree_edge[edge.target] = edge_id
            edge_id += 1
        progress(str(story.story_id))
        for node in story.nodes.values():
            node_rows.append(
                {
                    "story_id": story.story_id,
                    "doc_id": node.doc_id,
                    "version_id": docs[node.doc_id].version_id,
                    "parent_doc": node.parent,
                    "upstream": node.upstream,
                    "edge_id": tree_edge.get(node.doc_id),
                    "depth": node.depth,
                    "doc_time": node.time,
                    "time_source": node.time_source,
                    "time_precision": node.time_precision,
                }
            )
    for table, table_rows in (
        ("lineage_stories", story_rows),
        ("lineage_nodes", node_rows),
        ("reuse_edges", edge_rows),
        ("edge_edits", edit_rows),
    ):
        wh.insert(table, table_rows)
    lineage_db.insert_kept_edits(wh, taken)


@dataclass(frozen=True)
class StoryReport:
    """A document's story as the CLI and the HTML report show it.

    ``nodes`` and ``edges`` are rows of ``lineage_nodes`` and ``reuse_edges`` with URLs and sites
    (edges with their evidence, attribution and stored edits); ``comparisons`` maps the edge_id of
    each tree edge to its source and target views and the :class:`EditReport` between them.
    """

    doc_id: int
    story_id: int | None
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    comparisons: dict[int, tuple[TextView, TextView, EditReport]]
    root: int | None = None  # the story's root_doc (see ``lineage_stories``)


def story_report(warehouse: Warehouse, ref: str, *, compare_texts: bool = False) -> StoryReport:
    """The story of the document ``ref`` (a doc_id or a URL, as :meth:`Warehouse.resolve_document` reads it).

    Raises :class:`~reuse.errors.WarehouseError` when there is no such document; a document in
    no story gives ``story_id`` None and no nodes. With ``compare_texts``, each tree edge's two
    versions are compared again for a side-by-side view.
    """
    doc_id = warehouse.resolve_document(ref, page_key).doc_id
    story_id = lineage_db.story_of(warehouse, doc_id)
    if story_id is None:
        return StoryReport(doc_id, None, [], [], {})
    nodes, edges = lineage_db.story_edges(warehouse, story_id)
    _, root = warehouse.query("SELECT root_doc FROM lineage_stories WHERE story_id = ?", [story_id])
    comparisons = compare_edges(warehouse, [e for e in edges if e["in_tree"]]) if compare_texts else {}
    return StoryReport(doc_id, story_id, nodes, edges, comparisons, int(root[0][0]) if root else None)


def compare_edges(
    warehouse: Warehouse, edges: Sequence[dict[str, Any]]
) -> dict[int, tuple[TextView, TextView, EditReport]]:
    """For each of ``edges`` (rows of ``reuse_edges``), its source and target versions compared again
    for a side-by-side view, keyed by edge_id."""
    rows = lineage_db.load_versions(warehouse, [v for e in edges for v in (e["source_version"], e["target_version"])])
    sites = {r["site"] for r in rows.values() if r["site"]}
    views = _Views(lineage_db.site_boilerplate_hashes(warehouse, sites))
    comparisons: dict[int, tuple[TextView, TextView, EditReport]] = {}
    for edge in edges:
        source, target = views(rows[edge["source_version"]]), views(rows[edge["target_version"]])
        comparisons[edge["edge_id"]] = (source, target, compare(source, target))
    return comparisons
