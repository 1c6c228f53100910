"""The warehouse side of lineage: page evidence, learned site boilerplate, stories, edges and edits.

Plain rows in and out (dicts and tuples): turning them into the pure core's values, and deciding
anything, is the pipeline's and :mod:`reuse.lineage`'s job. Every load is one bulk statement per
table; every query binds its values.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

import reuse.engine._native as _native
from warehouse.db import Warehouse, rows_with_values
from warehouse.scans import execute_with

__all__ = [
    "LINEAGE_TABLES",
    "OwedVersion",
    "current_versions",
    "delete_stories",
    "delete_version_diffs",
    "forget_kept_edits",
    "forget_lineage",
    "insert_kept_edits",
    "later_versions",
    "learn_site_boilerplate",
    "lineage_reach",
    "load_versions",
    "matches_between",
    "pair_graph",
    "pair_scores",
    "pending_count",
    "pending_versions",
    "settle_pending",
    "site_boilerplate_hashes",
    "site_network",
    "stories",
    "story_edges",
    "story_of",
]

#: Blocks held by more than this many times ``boilerplate_docs`` documents pair no twins.
_TWIN_BLOCK_DOCS = 4

#: The derived tables a lineage update rewrites, in the order rows are deleted.
LINEAGE_TABLES = ("edge_edits", "reuse_edges", "lineage_nodes", "lineage_stories")


def _rows(wh: Warehouse, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    columns, rows = wh.query(sql, params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _with_ids(wh: Warehouse, name: str, ids: Iterable[int], sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of ``sql``, which tests membership in ``ids`` with ``IN (SELECT id FROM name)`` (see
    :func:`~warehouse.db.rows_with_values`)."""
    values = sorted(set(ids))
    if not values:
        return []
    return rows_with_values(wh.con, name, "id", values, sql, params)


class OwedVersion(NamedTuple):
    """A version a lineage update takes in: its document, site, the document's previous version
    (None for its first) and the run that stored it."""

    version_id: int
    doc_id: int
    site: str | None
    previous: int | None
    run_id: int


def _versions(where: str, *, diffed_only: bool = False) -> str:
    """The SQL of the :class:`OwedVersion` rows of the versions ``v`` that ``where`` picks, in
    version order; with ``diffed_only``, only those with a previous version. The picked versions
    are joined to the others of their documents (not a correlated subquery: that one would rank
    every stored version)."""
    return (
        f"WITH picked AS (SELECT v.version_id, v.doc_id, v.run_id FROM versions v WHERE {where})"
        " SELECT p.version_id, p.doc_id, d.site, max(o.version_id) AS previous, p.run_id"
        " FROM picked p JOIN documents d USING (doc_id)"
        " LEFT JOIN versions o ON o.doc_id = p.doc_id AND o.version_id < p.version_id"
        " GROUP BY p.version_id, p.doc_id, d.site, p.run_id"
        f"{' HAVING previous IS NOT NULL' if diffed_only else ''} ORDER BY p.version_id"
    )


def _owed(rows: list[Any]) -> list[OwedVersion]:
    return [OwedVersion(int(v), int(d), s, None if p is None else int(p), int(r)) for v, d, s, p, r in rows]


def pending_versions(wh: Warehouse) -> list[OwedVersion]:
    """The versions lineage still owes (``lineage_pending``): stored by the running run, or by
    one that died before its lineage update committed."""
    return _owed(wh.con.execute(_versions("v.version_id IN (SELECT version_id FROM lineage_pending)")).fetchall())


def later_versions(wh: Warehouse, doc_ids: Iterable[int]) -> list[OwedVersion]:
    """Every version of ``doc_ids`` that has a previous one (each has a version diff)."""
    return _owed(
        _with_ids(wh, "diffed_docs", doc_ids, _versions("v.doc_id IN (SELECT id FROM diffed_docs)", diffed_only=True))
    )


def pending_count(wh: Warehouse) -> int:
    """How many stored versions lineage still owes (see :func:`pending_versions`)."""
    return int(wh.con.execute("SELECT count(*) FROM lineage_pending").fetchall()[0][0])


def settle_pending(wh: Warehouse, version_ids: Iterable[int]) -> None:
    """Record that lineage is up to date with ``version_ids``: call it in the lineage update's transaction."""
    _with_ids(wh, "settled", version_ids, "DELETE FROM lineage_pending WHERE version_id IN (SELECT id FROM settled)")


def forget_lineage(wh: Warehouse) -> None:
    """Delete every derived lineage row (stories, edges, edits, learned boilerplate, version diffs)
    and mark every stored version as owed, so that the next update rebuilds all of it."""
    for table in (*LINEAGE_TABLES, "site_boilerplate", "version_diffs", "lineage_pending"):
        wh.con.execute(f"DELETE FROM {table}")
    wh.con.execute("INSERT INTO lineage_pending SELECT version_id FROM versions")


def delete_version_diffs(wh: Warehouse, new_versions: Iterable[int]) -> None:
    """Delete the version diffs into ``new_versions`` (to be computed again)."""
    _with_ids(wh, "rediffed", new_versions, "DELETE FROM version_diffs WHERE new_version IN (SELECT id FROM rediffed)")


def site_boilerplate_hashes(wh: Warehouse, sites: Iterable[str]) -> dict[str, set[int]]:
    """The learned boilerplate block hashes of each of ``sites``."""
    wanted = sorted(set(sites))
    if not wanted:
        return {}
    found: dict[str, set[int]] = {site: set() for site in wanted}
    query = "SELECT site, text_hash FROM site_boilerplate WHERE site IN (SELECT site FROM wanted_sites)"
    rows = rows_with_values(wh.con, "wanted_sites", "site", wanted, query)
    for site, digest in rows:
        found[site].add(int(digest))
    return found


#: The blocks of the current version of every document of the wanted sites (``wanted_sites``:
#: site, code), with the count of the site's current documents.
_SITE_BLOCKS = """
WITH cur AS (
    SELECT w.code, d.doc_id, max(v.version_id) AS version_id
    FROM documents d JOIN wanted_sites w USING (site) JOIN versions v USING (doc_id)
    GROUP BY w.code, d.doc_id
), sized AS (
    SELECT *, count(*) OVER (PARTITION BY code) AS site_docs FROM cur
)
SELECT s.code, s.site_docs, s.doc_id, b.text_hash, b.version_id, b.char_start, b.char_end
FROM sized s JOIN blocks b USING (version_id)
"""


def learn_site_boilerplate(wh: Warehouse, sites: Iterable[str], cap: int, share: float) -> dict[str, set[int]]:
    """Relearn the boilerplate of ``sites``: every block hash held by at least ``cap`` different
    articles of the site, twins counted once. Returns the learned hashes of each site (what
    :func:`site_boilerplate_hashes` now reads).

    A site's template is what it repeats across different articles; an article the site holds
    twice or more (its AMP or print twin, the same article at two URLs, a near-duplicate) must not
    make its own text a template. Two documents are twins when each shares at least ``share`` of
    its text with the other, each block weighed by its length over the number of the
    site's documents holding it: a block all of a site's articles carry weighs little, the text
    only an article and its twins hold weighs fully. Each document counts as the article of its
    smallest twin. Pairs are formed only through blocks held by at most ``_TWIN_BLOCK_DOCS`` times
    ``cap`` documents: a block held more widely adds too little weight to make any pair twins, and
    pairing all its holders would grow with the square of the site's documents.

    The blocks are read in one plain query and the rule runs natively
    (``_native.learn_site_boilerplate``): as one SQL statement of ten stages it cost 14-16 ms
    whatever the site's size, the largest statement of a one-article run.
    """
    wanted = sorted(set(sites))
    learned_hashes: dict[str, set[int]] = {site: set() for site in wanted}
    if not wanted:
        return learned_hashes
    codes = {"site": pa.array(wanted, pa.string()), "code": pa.array(range(len(wanted)), pa.int64())}
    delete = "DELETE FROM site_boilerplate WHERE site IN (SELECT site FROM wanted_sites)"
    execute_with(wh.con, delete, wanted_sites=codes)
    got = execute_with(wh.con, _SITE_BLOCKS, wanted_sites=codes).fetchnumpy()
    code = np.asarray(got["code"], np.uint32)
    site, hashes, docs, version, start, end = _native.learn_site_boilerplate(
        code,
        np.asarray(got["doc_id"], np.int64),
        np.asarray(got["text_hash"], np.uint64),
        np.asarray(got["version_id"], np.int64),
        np.asarray(got["char_start"], np.int64),
        np.asarray(got["char_end"], np.int64),
        cap,
        share,
        _TWIN_BLOCK_DOCS * cap,
    )
    for code_of, digest in zip(site.tolist(), hashes.tolist(), strict=True):
        learned_hashes[wanted[code_of]].add(digest)
    if not len(site):
        return learned_hashes
    site_docs = np.zeros(len(wanted), np.int64)
    site_docs[code] = np.asarray(got["site_docs"], np.int64)
    learned = {
        "site": pa.array(np.array(wanted, object)[site], pa.string()),
        "text_hash": pa.array(hashes, pa.uint64()),
        "docs": pa.array(docs, pa.int64()),
        "site_docs": pa.array(site_docs[site], pa.int64()),
        "version_id": pa.array(version, pa.int64()),
        "first": pa.array(start, pa.int64()),
        "chars": pa.array(np.minimum(end - start, 300), pa.int64()),
    }
    execute_with(
        wh.con,
        "INSERT INTO site_boilerplate (site, text_hash, docs, site_docs, sample)"
        " SELECT l.site, l.text_hash, l.docs, l.site_docs, substr(v.text, l.first + 1, l.chars)"
        " FROM learned_boilerplate l JOIN versions v USING (version_id)",
        learned_boilerplate=learned,
    )
    return learned_hashes


def current_versions(wh: Warehouse, doc_ids: Iterable[int]) -> dict[int, int]:
    """``doc_id → latest version_id``."""
    rows = _with_ids(
        wh,
        "wanted_docs",
        doc_ids,
        "SELECT doc_id, max(version_id) FROM versions WHERE doc_id IN (SELECT id FROM wanted_docs) GROUP BY doc_id",
    )
    return {int(d): int(v) for d, v in rows}


def lineage_reach(wh: Warehouse, seeds: Iterable[int], min_chars: int) -> set[int]:
    """The documents whose stories a lineage update of ``seeds`` must rebuild: the seeds, every
    document sharing at least ``min_chars`` with a seed on another site (any versions; pairs
    within one site, or sharing less, relate nothing: see :func:`reuse.lineage.stories.build_stories`),
    and every document of a stored story holding any of these.

    Stories are the connected parts of the relations between documents, and a relation depends
    only on its two documents, so relations not touching a seed are those the stored stories
    already hold: the update reads the seeds' neighbours and their stories, never the whole
    connected web of weak overlaps a large warehouse grows.
    """
    start = sorted(set(seeds))
    near = _with_ids(
        wh,
        "lineage_seeds",
        start,
        # The seeds' pairs are picked by their versions first: joining every stored pair to its
        # documents costs a large warehouse more than all the rest of a small update. Each side
        # is picked by a filter of its own: an OR of the two took 6.4 ms at 1M passages, the
        # two scans 3.6 ms (a pair of two seeds, picked twice, is one relation below).
        "WITH seed_versions AS (SELECT version_id FROM versions WHERE doc_id IN (SELECT id FROM lineage_seeds)),"
        " near AS (SELECT version_a, version_b, shared_chars_a, shared_chars_b FROM doc_pairs"
        " WHERE version_a IN (SELECT version_id FROM seed_versions) UNION ALL"
        " SELECT version_a, version_b, shared_chars_a, shared_chars_b FROM doc_pairs"
        " WHERE version_b IN (SELECT version_id FROM seed_versions)),"
        " ends AS (SELECT da.doc_id AS a, db.doc_id AS b FROM near p"
        " JOIN versions va ON va.version_id = p.version_a JOIN versions vb ON vb.version_id = p.version_b"
        " JOIN documents da ON da.doc_id = va.doc_id JOIN documents db ON db.doc_id = vb.doc_id"
        " WHERE least(p.shared_chars_a, p.shared_chars_b) >= ?"
        " AND (da.site IS NULL OR db.site IS NULL OR da.site <> db.site))"
        " SELECT b FROM ends WHERE a IN (SELECT id FROM lineage_seeds)"
        " UNION SELECT a FROM ends WHERE b IN (SELECT id FROM lineage_seeds)",
        [min_chars],
    )
    reach = set(start) | {int(doc) for (doc,) in near}
    stored = _with_ids(
        wh,
        "lineage_near",
        reach,
        "SELECT DISTINCT doc_id FROM lineage_nodes WHERE story_id IN"
        " (SELECT story_id FROM lineage_nodes WHERE doc_id IN (SELECT id FROM lineage_near))",
    )
    return reach | {int(doc) for (doc,) in stored}


def load_versions(wh: Warehouse, version_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Everything stored about each version: document, text, dates, page evidence, blocks, links, credits."""
    ids = sorted(set(version_ids))
    found: dict[int, dict[str, Any]] = {}
    for row in _with_ids(
        wh,
        "wanted_versions_l",
        ids,
        "SELECT v.version_id, v.doc_id, d.url, d.site, d.first_seen, v.title, v.published_at, v.text,"
        " m.fetched_url, m.canonical_url, m.site_name, m.published_source, m.modified_at, m.other_dates,"
        " m.authors, m.tags, m.header, v.published_precision, m.modified_precision"
        " FROM versions v JOIN documents d USING (doc_id) LEFT JOIN version_meta m USING (version_id)"
        " WHERE v.version_id IN (SELECT id FROM wanted_versions_l)",
    ):
        (vid, doc, url, site, seen, title, published, text, fetched, canonical, site_name, source, modified,
         other, authors, tags, header, published_precision, modified_precision) = row  # fmt: skip
        found[int(vid)] = {
            "version_id": int(vid),
            "doc_id": int(doc),
            "url": url,
            "site": site,
            "first_seen": seen,
            "title": title,
            "published": published,
            "published_precision": published_precision,
            "text": text,
            "fetched_url": fetched,
            "canonical_url": canonical,
            "site_name": site_name,
            "published_source": source,
            "modified": modified,
            "modified_precision": modified_precision,
            "other_dates": json.loads(other) if other else [],
            "authors": list(authors or []),
            "tags": list(tags or []),
            "header": list(header or []),
            "blocks": [],
            "links": [],
            "credits": [],
        }
    for table, columns in (
        ("blocks", "position, kind, char_start, char_end, boilerplate, text_hash"),
        ("links", "position, href, text, block"),
        ("credits", "position, kind, text, outlet, url, block"),
    ):
        names = [c.strip() for c in columns.split(",")]
        for row in _with_ids(
            wh,
            "wanted_versions_l",
            ids,
            f"SELECT version_id, {columns} FROM {table} WHERE version_id IN (SELECT id FROM wanted_versions_l)"
            " ORDER BY version_id, position",
        ):
            found[int(row[0])][table].append(dict(zip(names, row[1:], strict=True)))
    return found


def _related_pairs(wanted: str) -> str:
    """A common table expression ``related(version_a, version_b, in_order)``: the stored pairs of
    the versions in ``wanted`` that may relate (:func:`reuse.lineage.evidence.relation`): of two
    sites (or a site unknown), each side's matches covering at least ``?`` characters. The
    others relate nothing, however their matches read; at 1M passages nine pairs in ten are of
    one site."""
    # The wanted versions' sites are read first and the pairs joined to them: joining the pairs
    # to all versions and documents took twice as long for a one-article update (9 against 4.5 ms).
    return (
        "WITH sited AS (SELECT v.version_id, d.site FROM versions v JOIN documents d USING (doc_id)"
        f" WHERE v.version_id IN (SELECT id FROM {wanted})),"
        " related AS (SELECT p.version_a, p.version_b, p.in_order FROM doc_pairs p"
        " JOIN sited sa ON sa.version_id = p.version_a JOIN sited sb ON sb.version_id = p.version_b"
        " WHERE least(p.shared_chars_a, p.shared_chars_b) >= ?"
        " AND (sa.site IS NULL OR sb.site IS NULL OR sa.site <> sb.site))"
    )


def pair_graph(wh: Warehouse, version_ids: Iterable[int], min_chars: int) -> list[tuple[int, int]]:
    """``(version_a, version_b)`` of every stored pair of the given versions that may relate
    (see :func:`_related_pairs`, ``min_chars`` its floor): the pairs :func:`matches_between`
    gives, without reading their matches."""
    rows = _with_ids(
        wh,
        "wanted_versions_g",
        version_ids,
        f"{_related_pairs('wanted_versions_g')} SELECT * FROM related",
        [min_chars],
    )
    return [(int(va), int(vb)) for va, vb, _ in rows]


def matches_between(wh: Warehouse, version_ids: Iterable[int], min_chars: int) -> dict[tuple[int, int], dict[str, Any]]:
    """``(version_a, version_b) → {"in_order", "matches": [(a_start, a_end, b_start, b_end, similarity,
    kind, a_tokens, b_tokens)]}`` for every stored pair of the given versions that may relate (see
    :func:`_related_pairs`, ``min_chars`` its floor) and has matches."""
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for row in _with_ids(
        wh,
        "wanted_versions_m",
        version_ids,
        f"{_related_pairs('wanted_versions_m')} SELECT m.version_a, m.version_b, r.in_order, a_start, a_end,"
        " b_start, b_end, similarity, kind, a_tokens, b_tokens"
        " FROM matches m JOIN related r USING (version_a, version_b)"
        " ORDER BY m.version_a, m.version_b, a_start, b_start",
        [min_chars],
    ):
        key = (int(row[0]), int(row[1]))
        if key not in pairs:
            pairs[key] = {"in_order": bool(row[2]), "matches": []}
        pairs[key]["matches"].append(tuple(row[3:]))
    return pairs


def pair_scores(
    wh: Warehouse, doc_pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], list[tuple[int, int, float]]]:
    """For each ``(doc_a, doc_b)``: ``(version of doc_a, version of doc_b, score)`` for every stored
    pair of their versions (in one query for all of them); the score sums each match's similarity
    times its length, so the closest version scores highest."""
    wanted = sorted(set(doc_pairs))
    found: dict[tuple[int, int], list[tuple[int, int, float]]] = {pair: [] for pair in wanted}
    if not wanted:
        return found
    pairs = {"a": pa.array([a for a, _ in wanted], pa.int64()), "b": pa.array([b for _, b in wanted], pa.int64())}
    rows = execute_with(
        wh.con,
        """
        WITH vp AS (
            SELECT w.a, w.b, va.version_id AS x, vb.version_id AS y FROM wanted_doc_pairs w
            JOIN versions va ON va.doc_id = w.a JOIN versions vb ON vb.doc_id = w.b),
        oriented AS (SELECT a, b, x, y, x AS pa, y AS pb FROM vp UNION ALL SELECT a, b, x, y, y, x FROM vp)
        SELECT o.a, o.b, o.x, o.y, coalesce(sum(m.similarity * (m.a_tokens + m.b_tokens)), 0)
        FROM oriented o JOIN doc_pairs p ON p.version_a = o.pa AND p.version_b = o.pb
        LEFT JOIN matches m ON m.version_a = p.version_a AND m.version_b = p.version_b
        GROUP BY ALL
        """,
        wanted_doc_pairs=pairs,
    ).fetchall()
    for a, b, x, y, score in rows:
        found[(int(a), int(b))].append((int(x), int(y), float(score)))
    return found


def delete_stories(wh: Warehouse, doc_ids: Iterable[int]) -> dict[tuple[int, int], list[str]]:
    """Delete the stories (nodes, edges, edits) holding any of ``doc_ids``; return the labels of
    their copy edges by ``(source_version, target_version)``, and keep the edges' ``edge_edits``
    rows in the temporary table ``kept_edits`` for :func:`insert_kept_edits`.

    An edit report depends only on its two versions and their sites' learned boilerplate, so the
    update that rebuilds these stories takes a pair's report back instead of comparing the two
    texts again, unless a site's boilerplate changed (see
    :func:`reuse.pipeline.lineage.update_lineage`): a story that gains one copy compares one
    pair, not all of them. The edits stay in DuckDB: an update reaching many stories would
    otherwise hold all their texts at once. Call :func:`forget_kept_edits` when the update is done."""
    stories = [
        int(story)
        for (story,) in _with_ids(
            wh,
            "gone_docs",
            doc_ids,
            "SELECT DISTINCT story_id FROM lineage_nodes WHERE doc_id IN (SELECT id FROM gone_docs)",
        )
    ]
    # None for a new document's first update: the deletes would scan the tables for nothing. The
    # stories' ids are read, not kept in a temporary table: creating and dropping one are two
    # changes of the catalog, and a few ids reach the statements below as constants.
    if not stories:
        return {}
    copies = "e.story_id IN (SELECT id FROM gone_stories) AND e.relation IN ('copy', 'undirected')"
    edges = f"SELECT e.source_version, e.target_version, e.labels FROM reuse_edges e WHERE {copies}"
    labels = {
        (int(source), int(target)): list(edge_labels)
        for source, target, edge_labels in _with_ids(wh, "gone_stories", stories, edges)
    }
    # The table's own columns, in its order, but the edge id (the edge is stored anew).
    _with_ids(
        wh,
        "gone_stories",
        stories,
        "CREATE OR REPLACE TEMP TABLE kept_edits AS SELECT e.source_version, e.target_version,"
        f" x.* EXCLUDE (edge_id) FROM edge_edits x JOIN reuse_edges e USING (edge_id) WHERE {copies}",
    )
    _with_ids(
        wh,
        "gone_stories",
        stories,
        "DELETE FROM edge_edits WHERE edge_id IN"
        " (SELECT edge_id FROM reuse_edges WHERE story_id IN (SELECT id FROM gone_stories))",
    )
    for table in LINEAGE_TABLES[1:]:
        _with_ids(wh, "gone_stories", stories, f"DELETE FROM {table} WHERE story_id IN (SELECT id FROM gone_stories)")
    return labels


def insert_kept_edits(wh: Warehouse, taken: Sequence[tuple[int, int, int]]) -> None:
    """Store, for each ``(edge_id, source_version, target_version)`` of ``taken``, the
    ``edge_edits`` rows :func:`delete_stories` kept for that pair of versions, under ``edge_id``."""
    if not taken:
        return
    edges, sources, targets = zip(*taken, strict=True)
    table = {
        "edge_id": pa.array(edges, pa.int64()),
        "source_version": pa.array(sources, pa.int64()),
        "target_version": pa.array(targets, pa.int64()),
    }
    # edge_edits' columns in order: the edge id first, as kept_edits took the rest.
    execute_with(
        wh.con,
        "INSERT INTO edge_edits SELECT t.edge_id, k.* EXCLUDE (source_version, target_version)"
        " FROM kept_edits k JOIN taken_edges t USING (source_version, target_version)",
        taken_edges=table,
    )


def forget_kept_edits(wh: Warehouse) -> None:
    """Drop what :func:`delete_stories` kept."""
    wh.con.execute("DROP TABLE IF EXISTS kept_edits")


# -- reading, for the CLI and reports ------------------------------------------------------------------


def story_of(wh: Warehouse, doc_id: int) -> int | None:
    """The story holding the document ``doc_id``; None when it is in none."""
    story = wh.con.execute("SELECT story_id FROM lineage_nodes WHERE doc_id = ?", [doc_id]).fetchall()
    return int(story[0][0]) if story else None


def story_edges(wh: Warehouse, story_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The nodes of a story's tree (with URL, site, title, time) and all its edges (with URLs and edits)."""
    nodes = _rows(
        wh,
        "SELECT n.doc_id, d.url, d.site, v.title, n.version_id, n.parent_doc, n.upstream, n.depth, n.doc_time,"
        " n.time_source, n.time_precision, n.edge_id FROM lineage_nodes n JOIN documents d USING (doc_id)"
        " JOIN versions v ON v.version_id = n.version_id WHERE n.story_id = ? ORDER BY n.depth, n.doc_time, n.doc_id",
        [story_id],
    )
    edges = _rows(
        wh,
        "SELECT e.*, ds.url AS source_url, ds.site AS source_site, dt.url AS target_url, dt.site AS target_site"
        " FROM reuse_edges e JOIN documents ds ON ds.doc_id = e.source_doc"
        " JOIN documents dt ON dt.doc_id = e.target_doc"
        " WHERE e.story_id = ? ORDER BY NOT e.in_tree, e.lag_seconds NULLS LAST, e.edge_id",
        [story_id],
    )
    edits = _rows(
        wh,
        "SELECT x.* FROM edge_edits x JOIN reuse_edges e USING (edge_id) WHERE e.story_id = ?"
        " ORDER BY x.edge_id, x.position",
        [story_id],
    )
    by_edge: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for edit in edits:
        edit["detail"] = json.loads(edit["detail"]) if edit["detail"] else {}
        by_edge[edit["edge_id"]].append(edit)
    for edge in edges:
        for key in ("evidence", "attribution"):
            edge[key] = json.loads(edge[key]) if edge[key] else None
        edge["edits"] = by_edge.get(edge["edge_id"], [])
    return nodes, edges


def stories(wh: Warehouse, limit: int | None = None) -> list[dict[str, Any]]:
    """Every story, largest first (the ``stories`` view)."""
    return _rows(
        wh,
        "SELECT * FROM stories ORDER BY documents DESC, first_time NULLS LAST, story_id LIMIT ?",
        [limit if limit is not None else 2**62],
    )


def site_network(wh: Warehouse) -> list[dict[str, Any]]:
    """Who copies whom (the ``site_network`` view), most copies first."""
    return _rows(wh, "SELECT * FROM site_network ORDER BY copies DESC, source_site, target_site")
