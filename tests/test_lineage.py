"""Lineage: direction, shared upstream sources, stories, lineage trees, edit labels and versions.

The acceptance test is the seeds demo corpus (seeds/README.md, "Expected reuse relations"),
ingested into a real DuckDB file; the rest are unit tests of the pure core (reuse.lineage.stories,
reuse.lineage.edits, reuse.engine.boilerplate) and end-to-end tests of learned boilerplate and versions.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import chromium
from pngsummary import png_summary
from test_lineage_state import assert_same_lineage, corpus, lineage_content, write_corpus

from reuse.config import Settings
from reuse.engine.boilerplate import block_hash, subtract
from reuse.lineage import edits as edits_module
from reuse.lineage.arborescence import min_arborescence
from reuse.lineage.edits import TextView, compare, word_diff
from reuse.lineage.facts import DocFacts, SharedText
from reuse.lineage.stories import build_stories, story_batches
from reuse.models import CreditLine, Document, Evidence, Match, MatchKind, PageLink, Span, TextBlock
from reuse.pipeline import lineage as lineage_pipeline
from reuse.pipeline.ingest import ingest, ingest_files, refresh_lineage
from warehouse import lineage as lineage_db
from warehouse.db import Warehouse, open_warehouse

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "seeds" / "demo"
SETTINGS = Settings()

SF = "https://southfront.org/presence-of-turkish-backed-syrian-militants-in-nagorno-karabakh-gives-armenia-additional-chances-in-war/"
GR = "https://www.globalresearch.ca/video-presence-turkish-backed-syrian-militants-nagorno-karabakh-gives-armenia-additional-chances-war/5728812"
MF = "https://morningfold.example/2020/11/06/karabakh-armenia-leans-on-mercenary-argument/"
NG = "https://www.northgate-herald.example/world/armenia-says-azerbaijani-losses-top-7800.html"
EC = "https://energy-corridor.example/pipelines/karabakh-war-southern-gas-corridor-risk"
UNRELATED = (
    "https://morningfold.example/2020/11/03/korvik-lumen-tab-3-colour-e-paper/",
    "https://www.northgate-herald.example/news/council/council-unveils-draft-budget-libraries-spared.html",
    "https://www.northgate-herald.example/sport/rovers-come-from-behind-to-beat-ashby-town.html",
    "https://energy-corridor.example/science/satellites-spot-methane-abandoned-oil-wells",
)


def rows(wh: Warehouse, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    columns, found = wh.query(sql, params)
    return [dict(zip(columns, row, strict=True)) for row in found]


# -- the seeds demo corpus ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(live: Path) -> Path:
    """The demo corpus ingested: the session's shared warehouse (conftest's ``live``, which checks
    that all 9 pages were stored, none skipped or failed); tests copy it before they write."""
    return live


@pytest.fixture(scope="module")
def edges(demo: Path) -> dict[tuple[str, str], dict[str, Any]]:
    with open_warehouse(demo, read_only=True) as wh:
        found = rows(
            wh,
            "SELECT e.*, s.url AS source_url, t.url AS target_url FROM reuse_edges e"
            " JOIN documents s ON s.doc_id = e.source_doc JOIN documents t ON t.doc_id = e.target_doc",
        )
    return {(e["source_url"], e["target_url"]): e for e in found}


def edits_of(demo: Path, source: str, target: str) -> list[dict[str, Any]]:
    with open_warehouse(demo, read_only=True) as wh:
        found = rows(
            wh, "SELECT * FROM edits WHERE source_url = ? AND target_url = ? ORDER BY position", [source, target]
        )
    for edit in found:
        edit["detail"] = json.loads(edit["detail"])
    return found


def test_demo_has_one_story_of_the_five_related_pages(demo: Path) -> None:
    with open_warehouse(demo, read_only=True) as wh:
        stories = rows(wh, "SELECT * FROM stories")
        members = rows(wh, "SELECT d.url FROM lineage_nodes n JOIN documents d USING (doc_id)")
    assert len(stories) == 1
    story = stories[0]
    assert story["documents"] == 5
    assert story["root_url"] == story["earliest_url"] == SF
    assert sorted(story["sites"]) == [
        "energy-corridor.example", "globalresearch.ca", "morningfold.example", "northgate-herald.example",
        "southfront.org",
    ]  # fmt: skip
    assert {m["url"] for m in members} == {SF, GR, MF, NG, EC}
    assert not {m["url"] for m in members} & set(UNRELATED)


def test_demo_lineage_tree(demo: Path) -> None:
    with open_warehouse(demo, read_only=True) as wh:
        tree = {
            r["url"]: r
            for r in rows(
                wh,
                "SELECT d.url, p.url AS parent, n.depth FROM lineage_nodes n JOIN documents d USING (doc_id)"
                " LEFT JOIN documents p ON p.doc_id = n.parent_doc",
            )
        }
        descendants = rows(wh, "SELECT url, hops FROM lineage WHERE ancestor_url = ? ORDER BY hops, url", [SF])
    assert tree[SF]["parent"] is None and tree[SF]["depth"] == 0
    assert tree[GR]["parent"] == SF
    assert tree[MF]["parent"] == GR  # credited intermediary: 2 -> 3 -> 4, the preferred reading
    assert tree[NG]["parent"] == SF  # not a copy of the earlier excerpt, nor of GR (identical bodies)
    assert tree[EC]["parent"] == SF
    assert {(d["url"], d["hops"]) for d in descendants} == {(GR, 1), (NG, 1), (EC, 1), (MF, 2)}


def test_southfront_to_global_research(demo: Path, edges: dict[tuple[str, str], dict[str, Any]]) -> None:
    edge = edges[(SF, GR)]
    assert (edge["relation"], edge["directed"], edge["in_tree"]) == ("copy", True, True)
    assert edge["coverage_source"] >= 0.99 and edge["in_order"]  # in full, in order
    assert edge["lag_seconds"] == 21 * 3600 + 44 * 60 + 2  # one day later: 21 h 44 min
    assert edge["confidence"] >= 0.9
    assert edge["method"].startswith("credit")
    evidence = json.loads(edge["evidence"])
    assert any(s["signal"] == "credit" and "original source" in s["detail"] for s in evidence)
    assert {s["signal"] for s in evidence} >= {"credit", "dates"}
    assert edge["credited"] == "credited"
    attribution = json.loads(edge["attribution"])
    assert attribution["agrees"] is True
    assert any(c["kind"] == "original_source" and c["is_source"] for c in attribution["credited"])
    assert set(edge["labels"]) >= {
        "headline_changed", "preamble_added", "tags_added", "footer_added", "site_boilerplate_added",
    }  # fmt: skip
    assert not set(edge["labels"]) & {"paragraphs_dropped", "paragraphs_reordered", "numbers_changed"}
    found = edits_of(demo, SF, GR)
    headline = next(e for e in found if e["label"] == "headline_changed")
    assert headline["detail"]["prefix_added"] == "Video:"
    tags = next(e for e in found if e["label"] == "tags_added")
    assert tags["detail"]["tags"] == ["Asia", "Europe", "Intelligence", "Military", "WMD"]
    footer = {
        e["target_text"].split(":")[0]: e["detail"].get("boilerplate") for e in found if e["label"] == "footer_added"
    }
    assert footer["Note to readers"] == "share_prompt"
    assert footer["Disclaimer"] == "disclaimer"
    assert "The original source of this article is South Front" in footer
    # SouthFront's own appeal (D1, D2) is shared text, not a Global Research addition.
    added = " ".join(e["target_text"] or "" for e in found if e["label"].endswith("_added"))
    assert "SUPPORT SOUTHFRONT" not in added and "PayPal" not in added


def test_excerpt_attached_with_its_edits(demo: Path, edges: dict[tuple[str, str], dict[str, Any]]) -> None:
    tree_edge = edges[(GR, MF)]
    assert tree_edge["in_tree"] and tree_edge["credited"] == "credited"
    direct = edges[(SF, MF)]  # also a directed copy edge: the cite names South Front
    assert direct["directed"] and not direct["in_tree"] and direct["credited"] == "credited"
    assert 0.3 <= direct["coverage_source"] <= 0.4  # about 35% of the body
    assert "paragraphs_dropped" in tree_edge["labels"]
    dropped = [e["source_text"][:20] for e in edits_of(demo, GR, MF) if e["label"] == "paragraph_dropped"]
    assert any(text.startswith("Armenia, from its") for text in dropped)  # B2 is not in the excerpt


def test_edited_copy_attached_with_its_number_edits(demo: Path, edges: dict[tuple[str, str], dict[str, Any]]) -> None:
    edge = edges[(SF, NG)]
    assert edge["in_tree"] and edge["credited"] == "uncredited" and edge["method"] == "dates"
    assert {"headline_changed", "numbers_changed", "paragraphs_dropped"} <= set(edge["labels"])
    found = edits_of(demo, SF, NG)
    changed = [e for e in found if e["label"] == "paragraph_changed"]
    assert len(changed) == 5  # B2, B3, B5, B8, B9
    changes = [(c["from"], c["to"]) for e in changed for c in e["detail"]["changes"]]
    assert ("7,095.", "7,840.") in changes and ("2,000.", "2,500.") in changes and ("", "and a half") in changes
    assert all("numbers" in c["kinds"] for e in changed for c in e["detail"]["changes"])
    dropped = [e["source_text"] for e in found if e["label"] == "paragraph_dropped"]
    assert dropped[0].endswith("04.11.20_IMR_Armenia.mp4") and len(dropped) == 3  # V, D1, D2


def test_splice_attached_to_the_original(edges: dict[tuple[str, str], dict[str, Any]]) -> None:
    edge = edges[(SF, EC)]
    assert edge["in_tree"] and edge["credited"] == "uncredited"
    assert 0.25 <= edge["coverage_source"] <= 0.35
    assert "paragraphs_inserted" in edge["labels"] or "preamble_added" in edge["labels"]


def test_copies_of_copies_share_only_through_the_upstream(edges: dict[tuple[str, str], dict[str, Any]]) -> None:
    for x, y in itertools.combinations((GR, MF, NG, EC), 2):
        edge = edges.get((x, y)) or edges.get((y, x))
        assert edge is not None, (x, y)
        if {x, y} == {GR, MF}:
            continue  # the credited intermediary
        assert edge["relation"] == "shared_upstream" and not edge["in_tree"], (x, y)


def test_site_boilerplate_in_no_edge(demo: Path) -> None:
    with open_warehouse(demo, read_only=True) as wh:
        same_site = rows(
            wh,
            "SELECT e.edge_id FROM reuse_edges e JOIN documents s ON s.doc_id = e.source_doc"
            " JOIN documents t ON t.doc_id = e.target_doc WHERE s.site = t.site",
        )
        network = rows(wh, "SELECT * FROM site_network ORDER BY source_site, target_site")
    assert same_site == []
    assert [(n["source_site"], n["target_site"], n["copies"]) for n in network] == [
        ("globalresearch.ca", "morningfold.example", 1),
        ("southfront.org", "energy-corridor.example", 1),
        ("southfront.org", "globalresearch.ca", 1),
        ("southfront.org", "northgate-herald.example", 1),
    ]


def test_reingesting_the_demo_keeps_the_lineage(demo: Path, tmp_path: Path) -> None:
    db = tmp_path / "again.duckdb"
    db.write_bytes(demo.read_bytes())
    with open_warehouse(db, read_only=True) as wh:
        before = rows(wh, "SELECT * EXCLUDE (run_id) FROM reuse_edges ORDER BY edge_id")
    report = ingest_files(db, [DEMO], SETTINGS)
    assert (report.ingested, report.unchanged) == (0, 9)
    with open_warehouse(db, read_only=True) as wh:
        assert rows(wh, "SELECT * EXCLUDE (run_id) FROM reuse_edges ORDER BY edge_id") == before


def _lineage_by_url(db: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with open_warehouse(db, read_only=True) as wh:
        edges = rows(
            wh,
            "SELECT s.url AS source, t.url AS target, e.relation, e.directed, e.in_tree, e.labels, e.credited"
            " FROM reuse_edges e JOIN documents s ON s.doc_id = e.source_doc"
            " JOIN documents t ON t.doc_id = e.target_doc ORDER BY 1, 2",
        )
        nodes = rows(
            wh,
            "SELECT d.url, p.url AS parent, n.depth, r.url AS story_root FROM lineage_nodes n"
            " JOIN documents d ON d.doc_id = n.doc_id LEFT JOIN documents p ON p.doc_id = n.parent_doc"
            " JOIN lineage_stories s USING (story_id) JOIN documents r ON r.doc_id = s.root_doc ORDER BY 1",
        )
    return edges, nodes


def test_the_demo_one_file_per_run_has_the_lineage_of_one_run(demo: Path, tmp_path: Path) -> None:
    """Each run rebuilds only the stories its documents reach: run after run, they add up to
    the stories one run over everything finds."""
    db = tmp_path / "runs.duckdb"
    files = sorted(p for p in DEMO.rglob("*") if p.is_file())
    for path in reversed(files):  # the copies first, their sources later
        ingest_files(db, [path], SETTINGS)
    assert _lineage_by_url(db) == _lineage_by_url(demo)


# -- learned site boilerplate, end to end ----------------------------------------------------------------------

CHROME = (
    "Sign up for the Daily Brief newsletter to get the morning's top stories, opinion and analysis in your "
    "inbox before breakfast, every weekday, free of charge, and unsubscribe at any time with one click."
)
MENU = "Home News World Business Sport Culture Opinion Podcasts Newsletters Events Jobs Subscribe"
TOPICS = [
    "The harbour board approved a new deepwater berth after two years of hearings, saying the larger quay would "
    "let container ships call without waiting for the tide and would bring three hundred jobs to the port.",
    "Volunteers at the mountain rescue post answered a record number of call-outs this summer, most of them to "
    "walkers caught out by fog on the ridge path after setting off too late in the afternoon without a map.",
    "A bakery chain pledged to cut the sugar in its bread and buns by a fifth within two years, following a "
    "campaign by parents who found that a single breakfast roll held more sugar than a chocolate bar.",
    "The city's night trains return next month after a four-year gap, with sleeper cars to the coast on Fridays "
    "and a new timetable that the operator says will suit theatre audiences and late shift workers alike.",
    "Researchers counted more than forty species of wild bee in the city's allotments, far more than expected, "
    "and said that leaving patches of bare earth and dead stems over winter gave the bees somewhere to nest.",
    "The library reopened with a makerspace of laser cutters, sewing machines and 3D printers, which staff say "
    "drew more teenagers through the doors in its first week than the old reading room did in a whole year.",
]


def _page(url: str, site: str, body: list[str], published: datetime) -> Document:
    blocks, texts, offset = [], [], 0
    for text in [MENU, *body, CHROME]:
        blocks.append(TextBlock(offset, offset + len(text)))
        texts.append(text)
        offset += len(text) + 2
    evidence = Evidence(blocks=tuple(blocks))
    return Document(url, "\n\n".join(texts), body[0][:30], published, site, evidence=evidence)


def test_a_chain_reached_at_its_head_is_rebuilt_whole(tmp_path: Path) -> None:
    """c shares text only with b, b with a: when a comes last, its run reaches b directly and c
    through b's stored story, so the chain stays one story, as one run would find it."""
    day = datetime(2021, 3, 1, tzinfo=UTC)
    chain = [
        Document(f"https://{site}.example/1", f"{TOPICS[k]}\n\n{TOPICS[k + 1]}", site, day + timedelta(days=k), site)
        for k, site in enumerate("abc")
    ]
    for path, order in (("one.duckdb", [chain]), ("runs.duckdb", [[doc] for doc in reversed(chain)])):
        with open_warehouse(tmp_path / path, SETTINGS) as wh:
            for docs in order:
                ingest(wh, docs, SETTINGS)
    edges, nodes = _lineage_by_url(tmp_path / "runs.duckdb")
    assert (edges, nodes) == _lineage_by_url(tmp_path / "one.duckdb")
    assert [(n["url"], n["parent"]) for n in nodes] == [
        ("https://a.example/1", None),
        ("https://b.example/1", "https://a.example/1"),
        ("https://c.example/1", "https://b.example/1"),
    ]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """A warehouse of a generated corpus of copying networks with new versions of some pages,
    stored in batches of three, and its lineage (stories built all at once)."""
    folder = tmp_path_factory.mktemp("generated")
    rows = corpus(21, stories=7, unrelated=1)
    updated = [{**row, "text": row["text"].replace(".", ". Revised 2022.", 1)} for row in rows[::4]]
    db = folder / "generated.duckdb"
    ingest_files(db, write_corpus(folder / "first", rows), SETTINGS, batch_size=3)
    ingest_files(db, write_corpus(folder / "second", updated), SETTINGS)
    return db, lineage_content(db)


@settings(max_examples=8, deadline=None)
@given(limit=st.integers(1, 12))
def test_stories_built_a_batch_at_a_time_are_those_built_at_once(
    generated: tuple[Path, dict[str, list[str]]], limit: int
) -> None:
    """A lineage update reads, builds and stores its stories (and version diffs) a batch of
    whole connected groups at a time: any batch size gives what one batch gives."""
    db, expected = generated
    assert expected["version_diffs"] and len(expected["lineage_stories"]) >= 4
    with patch.object(lineage_pipeline, "STORY_BATCH_DOCS", limit):
        refresh_lineage(db, SETTINGS, rebuild=True)
    assert_same_lineage(db, expected)


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=60),
    limit=st.integers(1, 15),
)
def test_story_batches_hold_whole_connected_groups(pairs: list[tuple[int, int]], limit: int) -> None:
    batches = story_batches(pairs, limit)
    docs = [doc for batch in batches for doc in batch]
    assert sorted(docs) == sorted({doc for pair in pairs for doc in pair})  # each document once
    batch_of = {doc: k for k, batch in enumerate(batches) for doc in batch}
    assert all(batch_of[a] == batch_of[b] for a, b in pairs)
    for batch in batches:
        # Over the limit only when the batch is one connected group (no pair leaves it).
        if len(batch) > limit:
            inside = [(a, b) for a, b in pairs if a in batch]
            assert len(_groups(inside)) == 1, batch


def _generated_copies(seed: int) -> list[Document]:
    """Pages of three sites, one of them unknown (a file's), each a source's words or a stretch
    of them (12 to 40 words) between words of its own: pairs of one site and of two, sharing
    around ``min_evidence_chars``."""
    rng = random.Random(seed)
    syllables = ("ka", "ro", "mi", "ten", "sul", "var", "po", "dre", "lin", "qua", "zo", "fer", "nik", "bo")

    def words(n: int) -> list[str]:
        return ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(n)]

    sources = [words(60) for _ in range(2)]
    docs = []
    for k in range(rng.randint(4, 8)):
        source = rng.choice(sources)
        length = rng.randint(12, 40)
        start = rng.randrange(len(source) - length + 1)
        text = " ".join(words(rng.randint(0, 30)) + source[start : start + length] + words(rng.randint(0, 30)))
        site = rng.choice(["a.example", "b.example", None])
        url = f"https://{site}/{k}" if site else f"file:///pages/{k}.txt"
        docs.append(Document(url, text, None, datetime(2021, 3, 1, tzinfo=UTC) + timedelta(hours=k), site))
    return docs


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32), data=st.data())
def test_the_pairs_a_lineage_update_leaves_unread_relate_nothing(
    tmp_path_factory: pytest.TempPathFactory, seed: int, data: st.DataObject
) -> None:
    """A lineage update reads only the stored pairs that may relate (of two sites or a site
    unknown, each side's matches covering the floor): its stories are those built from every
    stored pair, with the floor at one of the pairs' own shared lengths (or one off it)."""
    db = tmp_path_factory.mktemp("unread") / "w.duckdb"
    with open_warehouse(db, SETTINGS) as wh:
        ingest(wh, _generated_copies(seed), SETTINGS)
        _, lengths = wh.query("SELECT shared_chars_a, shared_chars_b FROM doc_pairs")
    # A pair relates only when the shorter side reaches the floor: the floor at that length, or one off.
    shared_lengths = sorted({min(pair) for pair in lengths}) or [100]
    floor = max(1, data.draw(st.sampled_from(shared_lengths)) + data.draw(st.sampled_from([0, 1, -1])))
    floored = replace(SETTINGS, min_evidence_chars=floor)
    refresh_lineage(db, floored, rebuild=True)
    with open_warehouse(db, read_only=True) as wh:
        _, stored_docs = wh.query("SELECT doc_id FROM documents")
        current = lineage_db.current_versions(wh, [doc for (doc,) in stored_docs])
        found = lineage_db.load_versions(wh, current.values())
        boilerplate = lineage_db.site_boilerplate_hashes(wh, {r["site"] for r in found.values() if r["site"]})
        docs = {doc: lineage_pipeline._facts(found[v], boilerplate) for doc, v in current.items()}
        doc_of = {v: doc for doc, v in current.items()}
        _, pairs = wh.query("SELECT version_a, version_b, in_order FROM doc_pairs")
        _, stored_matches = wh.query(
            "SELECT version_a, version_b, a_start, a_end, b_start, b_end, similarity, kind, a_tokens, b_tokens"
            " FROM matches ORDER BY a_start, b_start"
        )
        shared_texts = [
            SharedText(
                doc_of[va],
                doc_of[vb],
                tuple(
                    Match(Span(m[2], m[3]), Span(m[4], m[5]), m[6], MatchKind(m[7]), m[8], m[9])
                    for m in stored_matches
                    if (m[0], m[1]) == (va, vb)
                ),
                in_order,
            )
            for va, vb, in_order in pairs
        ]
        expected = {
            (e.source, e.target, e.relation, e.directed, e.in_tree, e.shared_chars_source, e.shared_chars_target)
            for story in build_stories(docs, shared_texts, floored)
            for e in story.edges
        }
        _, edges = wh.query(
            "SELECT source_doc, target_doc, relation, directed, in_tree, shared_chars_source, shared_chars_target"
            " FROM reuse_edges"
        )
    assert {tuple(edge) for edge in edges} == expected


def _groups(pairs: list[tuple[int, int]]) -> list[set[int]]:
    """Connected groups by repeated merging: the slow, obvious reference."""
    groups: list[set[int]] = []
    for a, b in pairs:
        joined = {a, b}
        for group in [g for g in groups if g & joined]:
            joined |= group
            groups.remove(group)
        groups.append(joined)
    return groups


def test_site_template_is_learned_and_never_evidence(tmp_path: Path) -> None:
    day = datetime(2021, 3, 1, tzinfo=UTC)
    # Five different articles on each site (a template is what a site repeats across articles).
    docs = [
        _page("https://a.example/1", "a.example", [TOPICS[0], TOPICS[1]], day),
        *(_page(f"https://a.example/{k}", "a.example", [TOPICS[k]], day + timedelta(days=k)) for k in (2, 3, 4)),
        _page("https://a.example/5", "a.example", ["The ferry timetable changes on Sunday."], day + timedelta(days=5)),
        *(_page(f"https://b.example/{k}", "b.example", [PARAS[k - 1]], day + timedelta(days=k)) for k in (1, 2, 3, 4)),
        # b.example copies a.example/1's first paragraph; both sites carry the same menu and newsletter box.
        _page("https://b.example/5", "b.example", [TOPICS[5], TOPICS[0]], day + timedelta(days=6)),
    ]
    with open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh:
        report = ingest(wh, docs, SETTINGS)
        assert report.pairs > 0  # the shared chrome does match, page against page
        templates = rows(wh, "SELECT site, sample, docs FROM site_boilerplate ORDER BY site, sample")
        edges = rows(
            wh,
            "SELECT s.url AS source, t.url AS target, e.relation FROM reuse_edges e"
            " JOIN documents s ON s.doc_id = e.source_doc JOIN documents t ON t.doc_id = e.target_doc",
        )
        members = rows(wh, "SELECT d.url FROM lineage_nodes JOIN documents d USING (doc_id) ORDER BY 1")
    assert {(t["site"], t["sample"]) for t in templates} == {
        ("a.example", CHROME), ("a.example", MENU), ("b.example", CHROME), ("b.example", MENU),
    }  # fmt: skip
    assert edges == [{"source": "https://a.example/1", "target": "https://b.example/5", "relation": "copy"}]
    assert [m["url"] for m in members] == ["https://a.example/1", "https://b.example/5"]


def test_a_story_reaches_a_sites_other_pages_only_through_other_sites(tmp_path: Path) -> None:
    """A family of one site's near-identical pages is matched page against page, but a lineage
    update reaches only across sites: a copy of one family page does not pull the whole family
    into its story, and the pairs' version scores are read for every edge at once."""
    day = datetime(2021, 3, 1, tzinfo=UTC)

    def page(url: str, site: str, body: list[str], days: int) -> Document:
        return Document(url, "\n\n".join(body), body[0][:30], day + timedelta(days=days), site)

    family = [page(f"https://a.example/{k}", "a.example", [TOPICS[0], TOPICS[k]], k) for k in (1, 2, 3)]
    copy = page("https://b.example/1", "b.example", [TOPICS[4], TOPICS[2]], 9)
    with open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh:
        ingest(wh, [*family, copy], SETTINGS)
        same_site = rows(
            wh,
            "SELECT count(*) AS n FROM doc_pairs p JOIN versions va ON va.version_id = p.version_a"
            " JOIN versions vb ON vb.version_id = p.version_b JOIN documents da ON da.doc_id = va.doc_id"
            " JOIN documents db ON db.doc_id = vb.doc_id WHERE da.site = db.site",
        )
        urls = {r["url"]: r["doc_id"] for r in rows(wh, "SELECT url, doc_id FROM documents")}
        component = lineage_db.lineage_reach(wh, [urls["https://b.example/1"]], SETTINGS.min_evidence_chars)
        scores = lineage_db.pair_scores(wh, [(urls["https://a.example/2"], urls["https://b.example/1"])])
        members = rows(wh, "SELECT d.url FROM lineage_nodes JOIN documents d USING (doc_id) ORDER BY 1")
    assert same_site[0]["n"] >= 3  # the family's shared paragraph is found on every pair of its pages
    assert component == {urls["https://a.example/2"], urls["https://b.example/1"]}
    [(_, _, score)] = scores[(urls["https://a.example/2"], urls["https://b.example/1"])]
    assert score > 0
    assert [m["url"] for m in members] == ["https://a.example/2", "https://b.example/1"]


def test_boilerplate_thresholds_and_spans() -> None:
    assert block_hash("Sunday, 8 November 2020 | 9°C") == block_hash("Sunday, 15 November 2020 | 11°C")
    assert block_hash("Share this") != block_hash("Share that")
    assert subtract([Span(0, 100)], [Span(10, 20), Span(15, 30), Span(90, 120)]) == [Span(0, 10), Span(30, 90)]


# -- direction, shared upstream, trees: the pure core -----------------------------------------------------------

T0 = datetime(2021, 5, 3, 8, 0, tzinfo=UTC)


def fact(doc_id: int, site: str, minutes: float | None, chars: int = 1000, **evidence: Any) -> DocFacts:
    published = None if minutes is None else T0 + timedelta(minutes=minutes)
    url = f"https://{site}/story-{doc_id}"
    return DocFacts(doc_id, doc_id * 10, url, site, chars, published, T0 + timedelta(days=30), Evidence(**evidence))


def shared(a: int, b: int, *spans: tuple[int, int, int, int]) -> SharedText:
    matches = tuple(Match(Span(a0, a1), Span(b0, b1), 1.0, MatchKind.VERBATIM, 50, 50) for a0, a1, b0, b1 in spans)
    return SharedText(a, b, matches)


def edge_map(docs: dict[int, DocFacts], pairs: list[SharedText]) -> dict[frozenset[int], Any]:
    (story,) = build_stories(docs, pairs, SETTINGS)
    return {frozenset((e.source, e.target)): e for e in story.edges}


def test_dates_decide_direction() -> None:
    docs = {1: fact(1, "a.example", 0), 2: fact(2, "b.example", 600)}
    (story,) = build_stories(docs, [shared(2, 1, (0, 800, 0, 800))], SETTINGS)
    (edge,) = story.edges
    assert (edge.source, edge.target, edge.directed, edge.method) == (1, 2, True, "dates")
    assert edge.lag_seconds == 600 * 60 and edge.in_tree and story.root == 1


def test_conflicting_evidence_stays_undirected() -> None:
    # Page 1 is dated first, but credits page 2 as the original: the evidence conflicts.
    credit = CreditLine("original_source", "Originally published by B", "B", "https://b.example/story-2")
    docs = {1: fact(1, "a.example", 0, credits=(credit,)), 2: fact(2, "b.example", 600)}
    (story,) = build_stories(docs, [shared(1, 2, (0, 800, 0, 800))], SETTINGS)
    (edge,) = story.edges
    assert not edge.directed and edge.relation == "undirected" and edge.method == "conflict"
    assert edge.confidence == 0.0
    assert {s.name for s in edge.signals} == {"credit", "dates"}
    assert edge.in_tree  # still in the tree: the two documents are one story


def test_credit_alone_decides_without_dates() -> None:
    link = PageLink("https://a.example/story-1/", "the original", 3)
    docs = {1: fact(1, "a.example", None), 2: fact(2, "b.example", None, links=(link,))}
    (edge,) = build_stories(docs, [shared(1, 2, (0, 800, 0, 800))], SETTINGS)[0].edges
    assert (edge.source, edge.target, edge.method) == (1, 2, "link")


def test_a_copy_that_dropped_a_paragraph_is_not_taken_for_the_source() -> None:
    # The source is the copy's text, plus a paragraph the copy dropped, plus its own template: it
    # is not "the copy plus boilerplate", so containment must not vote the copy the source.
    source = replace(fact(1, "a.example", None), boilerplate=(Span(820, 1000),))
    copy = replace(fact(2, "b.example", None, chars=760), boilerplate=(Span(700, 760),))
    (edge,) = build_stories({1: source, 2: copy}, [shared(1, 2, (0, 700, 0, 700))], SETTINGS)[0].edges
    assert "containment" not in {s.name for s in edge.signals}
    assert not edge.directed
    # The copy adding only its template to the whole source still says which is which.
    outer = replace(fact(2, "b.example", None, chars=1000), boilerplate=(Span(700, 1000),))
    (edge,) = build_stories(
        {1: fact(1, "a.example", None, chars=700), 2: outer}, [shared(1, 2, (0, 700, 0, 700))], SETTINGS
    )[0].edges
    assert (edge.source, edge.target, edge.method) == (1, 2, "containment")


def test_a_page_that_names_its_source_has_no_unseen_upstream() -> None:
    # 2 and its twin 4 (one site) canonicalise to 1; 3 credits 2 by URL, minutes after 4. 3 and 4
    # are simultaneous without a credit between them, but 3 names its source: no unseen upstream
    # may take it (and with it the story's root, 1, which has no date) away from 2.
    def url(doc: int, site: str) -> str:
        return f"https://{site}/story-{doc}"

    canonical = {"canonical_url": url(1, "a.example")}
    credit = CreditLine("first_published", "Originally published at", None, url(2, "b.example"))
    docs = {
        1: fact(1, "a.example", None),
        2: fact(2, "b.example", 0, **canonical),
        3: fact(3, "c.example", 3, credits=(credit,)),
        4: replace(fact(4, "b.example", 1, **canonical), url="https://b.example/amp/story-2"),
    }
    pairs = [shared(x, y, (0, 800, 0, 800)) for x, y in ((1, 2), (1, 3), (1, 4), (2, 3), (3, 4))]
    (story,) = build_stories(docs, pairs, SETTINGS)
    assert "unseen_upstream" not in {e.relation for e in story.edges}
    assert story.nodes[3].parent == 2 and story.root == 1


def test_no_evidence_is_undirected() -> None:
    docs = {1: fact(1, "a.example", None), 2: fact(2, "b.example", None)}
    (edge,) = build_stories(docs, [shared(1, 2, (0, 800, 0, 800))], SETTINGS)[0].edges
    assert not edge.directed and edge.method is None


def test_shared_upstream_gets_no_direct_edge() -> None:
    # 1 is the source of 2 and 3; what 2 and 3 share is inside what each took from 1.
    docs = {1: fact(1, "a.example", 0), 2: fact(2, "b.example", 60), 3: fact(3, "c.example", 120)}
    pairs = [shared(1, 2, (0, 900, 0, 900)), shared(1, 3, (0, 500, 100, 600)), shared(2, 3, (0, 500, 100, 600))]
    found = edge_map(docs, pairs)
    upstream = found[frozenset((2, 3))]
    assert upstream.relation == "shared_upstream" and upstream.via == 1 and not upstream.in_tree
    assert found[frozenset((1, 2))].in_tree and found[frozenset((1, 3))].in_tree


def test_a_credited_intermediary_keeps_its_edge() -> None:
    credit = CreditLine("source", "via B", "B", "https://b.example/story-2")
    docs = {1: fact(1, "a.example", 0), 2: fact(2, "b.example", 60), 3: fact(3, "c.example", 120, credits=(credit,))}
    pairs = [shared(1, 2, (0, 900, 0, 900)), shared(1, 3, (0, 500, 0, 500)), shared(2, 3, (0, 500, 0, 500))]
    (story,) = build_stories(docs, pairs, SETTINGS)
    assert story.nodes[3].parent == 2 and story.nodes[2].parent == 1


def test_simultaneous_pages_hang_from_an_unseen_upstream() -> None:
    docs = {1: fact(1, "a.example", 0), 2: fact(2, "b.example", 4)}
    (story,) = build_stories(docs, [shared(1, 2, (0, 800, 0, 800))], SETTINGS)
    (edge,) = story.edges
    assert edge.relation == "unseen_upstream" and edge.upstream is not None and not edge.in_tree
    assert story.nodes[1].upstream == story.nodes[2].upstream == edge.upstream
    assert story.nodes[1].parent is None and story.nodes[1].depth == 1


def test_same_site_and_boilerplate_only_pairs_make_no_story() -> None:
    footer = (Span(800, 1000),)
    docs = {
        1: fact(1, "a.example", 0),
        2: fact(2, "a.example", 60),
        3: DocFacts(3, 30, "https://c.example/x", "c.example", 1000, T0, None, Evidence(), footer),
        4: DocFacts(4, 40, "https://d.example/y", "d.example", 1000, T0, None, Evidence(), footer),
    }
    pairs = [shared(1, 2, (0, 900, 0, 900)), shared(3, 4, (800, 1000, 800, 1000))]
    assert build_stories(docs, pairs, SETTINGS) == []


def test_the_tree_prefers_the_source_that_explains_most() -> None:
    # 3 shares 900 chars with 1 and only 300 of them with 2 (both earlier): 1 is its source.
    docs = {1: fact(1, "a.example", 0), 2: fact(2, "b.example", 30), 3: fact(3, "c.example", 600)}
    pairs = [shared(1, 2, (0, 300, 0, 300)), shared(1, 3, (0, 900, 0, 900)), shared(2, 3, (0, 300, 0, 300))]
    (story,) = build_stories(docs, pairs, SETTINGS)
    assert story.nodes[3].parent == 1


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(1, 9)), max_size=20),
        )
    )
)
def test_min_arborescence_is_minimal(case: tuple[int, list[tuple[int, int, int]]]) -> None:
    n, raw = case
    arcs = [(u, v, float(w)) for u, v, w in raw if u != v]
    chosen = min_arborescence(range(n), 0, arcs)
    best = None
    entering = {v: [k for k, a in enumerate(arcs) if a[1] == v] for v in range(1, n)}
    for combo in itertools.product(*entering.values()):
        parent = {arcs[k][1]: arcs[k][0] for k in combo}
        if all(_reaches_root(v, parent) for v in parent):
            cost = sum(arcs[k][2] for k in combo)
            best = cost if best is None else min(best, cost)
    if best is None:
        assert chosen is None
    else:
        assert chosen is not None and sum(arcs[k][2] for k in chosen.values()) == best


def _reaches_root(v: int, parent: dict[int, int]) -> bool:
    seen = set()
    while v != 0:
        if v in seen:
            return False
        seen.add(v)
        v = parent[v]
    return True


# -- edit labels -----------------------------------------------------------------------------------------------

PARAS = [
    "The council approved the budget on Monday after a long debate about the bus routes.",
    "Spending on roads will rise by 12 million pounds, the finance chief told reporters afterwards.",
    "Opposition members said the plan ignored the villages that lost their last bus last year.",
    "The mayor said she would meet residents in Ashby and Northgate before the final vote in March.",
]


def view(paragraphs: list[str], title: str = "Budget approved", **extra: Any) -> TextView:
    blocks, offset = [], 0
    for text in paragraphs:
        blocks.append(TextBlock(offset, offset + len(text), **extra.pop(text, {})))
        offset += len(text) + 2
    return TextView("\n\n".join(paragraphs), title, tuple(blocks), **extra)


def _version_row(version_id: int, paragraphs: list[str]) -> dict[str, Any]:
    """A row of ``load_versions`` for a page of ``paragraphs`` and nothing else."""
    blocks, offset = [], 0
    for text in paragraphs:
        blocks.append({"char_start": offset, "char_end": offset + len(text), "kind": "paragraph"})
        offset += len(text) + 2
    empty: dict[str, Any] = dict.fromkeys(["fetched_url", "canonical_url", "site_name", "published_source"])
    return {
        **empty,
        "version_id": version_id,
        "text": "\n\n".join(paragraphs),
        "title": paragraphs[0][:20] if paragraphs else None,
        "site": None,
        "modified": None,
        "modified_precision": None,
        "blocks": [{**b, "boilerplate": None, "text_hash": 0} for b in blocks],
        **{key: [] for key in ("other_dates", "authors", "tags", "header", "links", "credits")},
    }


@settings(max_examples=60, deadline=None)
@given(
    pages=st.lists(
        # Each paragraph, with a word changed (paired by their shared words), and in capitals.
        st.lists(
            st.sampled_from([*PARAS, *(p.replace(" the ", " a ", 1) for p in PARAS), PARAS[2].upper()]), max_size=6
        ),
        min_size=2,
        max_size=6,
    ),
    data=st.data(),
)
def test_views_held_across_comparisons_give_the_reports_of_fresh_ones(
    pages: list[list[str]], data: st.DataObject
) -> None:
    """A lineage update compares each version through one held view (its blocks folded once),
    within a budget of characters: every report is the one fresh views give, whichever pairs
    come in whatever order and whatever the budget lets go."""
    rows = [_version_row(k, paragraphs) for k, paragraphs in enumerate(pages)]
    budget = data.draw(st.integers(0, 800))
    views = lineage_pipeline._Views({}, budget)
    order = st.tuples(st.integers(0, len(rows) - 1), st.integers(0, len(rows) - 1))
    for a, b in data.draw(st.lists(order, min_size=1, max_size=12)):
        held = compare(views(rows[a]), views(rows[b]))
        assert held == compare(lineage_pipeline._view(rows[a], {}), lineage_pipeline._view(rows[b], {}))
        assert views._chars <= budget or len(views._held) == 1


def test_reordered_and_dropped_paragraphs() -> None:
    report = compare(view(PARAS), view([PARAS[0], PARAS[3], PARAS[1]]))
    assert report.labels == ("paragraphs_dropped", "paragraphs_reordered")
    assert [e.label for e in report.edits] == ["paragraph_dropped", "paragraph_moved"]
    assert report.edits[0].source_text == PARAS[2]


def test_preamble_footer_insertion_and_site_boilerplate() -> None:
    note = "Note to readers: please share this article with your friends and colleagues."
    target = view(
        ["Exclusive report from our partners.", PARAS[0], "An aside of our own, inserted.", *PARAS[1:], note],
        title="Video: Budget approved",
        **{note: {"boilerplate": "share_prompt"}},
        header=("By Our Desk",),
        tags=("Politics",),
    )
    report = compare(view(PARAS), target)
    assert report.labels == (
        "headline_changed", "preamble_added", "tags_added", "paragraphs_inserted", "footer_added",
        "site_boilerplate_added",
    )  # fmt: skip
    footer = [e for e in report.edits if e.label == "footer_added"]
    assert footer[0].target_text == note and footer[0].detail == {"boilerplate": "share_prompt"}


def test_numbers_names_quotes_and_links() -> None:
    source = view(
        [PARAS[1], PARAS[3], "He said: “We will not accept cuts to the rural service this year or next.”"],
        links=(PageLink("https://council.example/budget", "budget papers", 0),),
    )
    target = view(
        [
            PARAS[1].replace("12 million", "15 million"),
            PARAS[3].replace("Ashby", "Radford"),
            "He said: “We will never accept cuts to the rural service this year or next.”",
        ],
        links=(PageLink("https://mirror.example/budget", "budget papers", 0),),
    )
    report = compare(source, target)
    assert {"numbers_changed", "names_changed", "quotes_changed", "links_rewritten"} <= set(report.labels)
    changed = {e.source_text: e.detail["changes"] for e in report.edits if e.label == "paragraph_changed"}
    assert changed[PARAS[1]] == [{"from": "12", "to": "15", "kinds": ["numbers"]}]
    assert changed[PARAS[3]] == [{"from": "Ashby", "to": "Radford", "kinds": ["names"]}]


def test_word_diff_ignores_typographic_differences() -> None:
    assert word_diff("“Quoted” — text", '"Quoted" - text')["changes"] == []
    diff = word_diff("reached 7,095. 251 UAVs", "reached 7,840. 268 UAVs")
    assert [(c["from"], c["to"]) for c in diff["changes"]] == [("7,095.", "7,840."), ("251", "268")]
    assert diff["diff"][0] == ["=", "reached"]


def test_a_replaced_sentence_is_wording_not_numbers_names_or_quotes() -> None:
    """A sentence replaced by another is a change of wording even when either holds a figure, a
    name or a quoted phrase: only a change made mostly of numbers (names, quoted words) is one."""
    lead = "The council approved the budget on Monday after a long debate about the bus routes."
    cases = [
        (
            "Members praised the clerk for her patience with the long agenda.",
            "A second vote is expected on 14 March, when 3 wards report back.",
        ),
        (
            "The treasurer called it “a fair deal” for the town.",
            "Critics were not persuaded and promised to fight it at the next election.",
        ),
    ]
    for old, new in cases:
        report = compare(view([f"{lead} {old}"]), view([f"{lead} {new}"]))
        assert report.labels == ("wording_changed",), (old, new)
        [edit] = [e for e in report.edits if e.label == "paragraph_changed"]
        assert all(change["kinds"] == ["wording"] for change in edit.detail["changes"])
    figures = compare(view([f"{lead} Turnout was 41 per cent."]), view([f"{lead} Turnout was 44.5 per cent."]))
    assert figures.labels == ("numbers_changed",)


_PLAIN_WORDS = st.sampled_from(
    [
        "budget",
        "council",
        "roads",
        "library",
        "bus",
        "route",
        "plan",
        "said",
        "would",
        "vote",
        "meet",
        "town",
        "the",
        "of",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(_PLAIN_WORDS, st.integers(0, 10**6).map(str)), min_size=3, max_size=30).filter(
        lambda words: len({w for w in words if w.isdigit()}) == sum(w.isdigit() for w in words)
    ),
    st.data(),
)
def test_only_figures_changed_is_numbers_and_no_figure_changed_never_is(words: list[str], data: st.DataObject) -> None:
    """Changing only figures is a numbers change and nothing else; changing only words (the
    figures left alone) is never a numbers change (the kinds a paired block's labels come from).
    Figures are distinct, so the alignment cannot pair a figure with its namesake elsewhere."""
    figures = [k for k, w in enumerate(words) if w.isdigit()]
    plain = [k for k, w in enumerate(words) if not w.isdigit()]
    if figures:
        picked = data.draw(st.sets(st.sampled_from(figures), min_size=1))
        edited = [str(int(w) + 1) if k in picked else w for k, w in enumerate(words)]
        assert word_diff(" ".join(words), " ".join(edited))["kinds"] == ["numbers"]
    if plain:
        picked = data.draw(st.sets(st.sampled_from(plain), min_size=1))
        # Words the text does not hold, so the alignment keeps every figure in place.
        fresh = st.sampled_from(["harbour", "berth", "quay", "ferry", "tide"])
        edited = [data.draw(fresh) if k in picked else w for k, w in enumerate(words)]
        assert "numbers" not in word_diff(" ".join(words), " ".join(edited))["kinds"]


# -- versions ----------------------------------------------------------------------------------------------------


def _plain(url: str, site: str, paragraphs: list[str], published: datetime) -> Document:
    return Document(url, "\n\n".join(paragraphs), paragraphs[0][:20], published, site)


def test_a_changed_source_gets_a_version_diff_and_edges_record_the_best_version(tmp_path: Path) -> None:
    day = datetime(2021, 6, 1, 9, tzinfo=UTC)
    original = _plain("https://a.example/budget", "a.example", PARAS, day)
    copy = _plain("https://b.example/budget", "b.example", PARAS, day + timedelta(hours=5))
    corrected = _plain(
        original.url, "a.example", [PARAS[0], PARAS[1].replace("12 million", "21 million"), *PARAS[2:]], day
    )
    later_copy = _plain("https://c.example/budget", "c.example", corrected.text.split("\n\n"), day + timedelta(days=1))
    with open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh:
        ingest(wh, [original, copy], SETTINGS)
        ingest(wh, [corrected, later_copy], SETTINGS)
        diffs = rows(wh, "SELECT * FROM version_diffs")
        found = {
            r["target"]: r
            for r in rows(
                wh,
                "SELECT t.url AS target, e.source_version, e.corrections, e.in_tree FROM reuse_edges e"
                " JOIN documents t ON t.doc_id = e.target_doc WHERE e.source_doc = 1",
            )
        }
        versions = {r["version_id"]: r["run_id"] for r in rows(wh, "SELECT version_id, run_id FROM versions")}
    (diff,) = diffs
    assert diff["labels"] == ["numbers_changed"]
    changes = json.loads(diff["changes"])
    assert changes[0]["label"] == "paragraph_changed"
    assert changes[0]["detail"]["changes"] == [{"from": "12", "to": "21", "kinds": ["numbers"]}]
    assert versions[found[copy.url]["source_version"]] == 1  # the first copy matches the original version
    assert found[copy.url]["corrections"] == "missed"
    assert versions[found[later_copy.url]["source_version"]] == 2
    assert found[later_copy.url]["corrections"] == "picked_up"


# -- the commands -------------------------------------------------------------------------------------------------


def test_lineage_command_json(demo: Path) -> None:
    from typer.testing import CliRunner

    from reuse.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(demo), "lineage", "--json", GR])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"root", "edges"}
    assert data["root"]["url"] == SF
    by_target = {e["target_url"]: e for e in data["edges"]}
    assert set(by_target) == {GR, MF, NG, EC}
    edge = by_target[GR]
    assert {"source_url", "target_url", "confidence", "method", "credited", "labels"} <= set(edge)
    assert (edge["source_url"], edge["credited"]) == (SF, "credited")
    assert "tags_added" in edge["labels"] and edge["confidence"] >= 0.9
    assert by_target[MF]["source_url"] == GR
    # The fetched URL (a local file here) finds the document too, and so does its doc_id.
    fetched = (DEMO / "southfront.org").glob("*.html").__next__().resolve().as_uri()
    for ref in (fetched, str(data["root"]["doc_id"])):
        again = runner.invoke(app, ["--db", str(demo), "lineage", "--json", ref])
        assert json.loads(again.stdout)["root"]["url"] == SF, ref


def test_lineage_stories_and_sites_commands(demo: Path) -> None:
    from typer.testing import CliRunner

    from reuse.cli import app

    runner = CliRunner()
    tree = runner.invoke(app, ["--db", str(demo), "lineage", SF])
    assert tree.exit_code == 0, tree.output
    lines = tree.stdout.splitlines()
    assert lines[0] == "story 1: 5 documents on 5 sites"
    assert lines[1].startswith(f"southfront.org  {SF}  2020-11-04 16:30 UTC")
    assert any(
        line.startswith("├── globalresearch.ca") and "+21h 44m" in line and " credited " in line for line in lines
    )
    assert any(line.startswith("│   └── morningfold.example") for line in lines)
    assert any("edits: headline_changed, preamble_added, tags_added, footer_added, site_boilerplate_added" in line
               for line in lines)  # fmt: skip
    alone = runner.invoke(app, ["--db", str(demo), "lineage", UNRELATED[0]])
    assert alone.exit_code == 0 and "in no story" in alone.stdout
    missing = runner.invoke(app, ["--db", str(demo), "lineage", "https://nowhere.example/"])
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: no document")
    stories = json.loads(runner.invoke(app, ["--db", str(demo), "stories", "--json"]).stdout)
    assert [(s["documents"], s["root_url"]) for s in stories] == [(5, SF)]
    sites = json.loads(runner.invoke(app, ["--db", str(demo), "sites", "--json"]).stdout)
    assert {(n["source_site"], n["target_site"]): n["share_credited"] for n in sites["network"]} == {
        ("southfront.org", "globalresearch.ca"): 1.0,
        ("globalresearch.ca", "morningfold.example"): 1.0,
        ("southfront.org", "northgate-herald.example"): 0.0,
        ("southfront.org", "energy-corridor.example"): 0.0,
    }


def test_report_in_headless_chromium(demo: Path, tmp_path: Path) -> None:
    browser = chromium()
    from typer.testing import CliRunner

    from reuse.cli import app

    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["--db", str(demo), "report", GR, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "http-equiv" not in page and 'src="http' not in page  # self-contained
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1400"]
    dom = subprocess.run([*base, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120, check=True)
    shown = dom.stdout
    assert shown.count('class="node"') == 5 and shown.count('class="edge"') == 4
    assert "globalresearch.ca → morningfold.example" in shown and "southfront.org → globalresearch.ca" in shown
    assert "<ins>Video:</ins>" in shown  # the headline's added prefix, marked in the side-by-side diff
    assert "<del>7,095. 251</del>" in shown and "<ins>7,840. 268</ins>" in shown  # each side in its own text
    shot = tmp_path / "report.png"
    subprocess.run([*base, f"--screenshot={shot}", out.as_uri()], capture_output=True, timeout=120, check=True)
    width, height, colours = png_summary(shot.read_bytes())
    assert (width, height) == (1400, 1400)
    assert colours["green"] > 200 and colours["red"] > 200 and colours["node"] > 2000  # edges and nodes are drawn


def _reference_pair_blocks(source: list[str], target: list[str]) -> list[tuple[int, int]]:
    """The block pairing of ``reuse.lineage.edits`` read out in Python: equal texts first, then
    the most shared pairs of consecutive words (``re``'s words of the folded texts; a block of
    one word is that word and ``""``), greedily, ties to the nearest position."""

    def grams(text: str) -> set[tuple[str, str]]:
        found = re.findall(r"\w+", text)
        return {(found[0], "")} if len(found) == 1 else set(itertools.pairwise(found))

    folded_t: dict[str, list[int]] = {}
    for j, text in enumerate(target):
        folded_t.setdefault(text, []).append(j)
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for i, text in enumerate(source):
        for j in folded_t.get(text, []):
            if j not in used:
                pairs[i] = j
                used.add(j)
                break
    grams_s = {i: grams(text) for i, text in enumerate(source) if i not in pairs}
    grams_t = {j: grams(text) for j, text in enumerate(target) if j not in used}
    scored = []
    for i, gs in grams_s.items():
        for j, gt in grams_t.items():
            shared = len(gs & gt)
            if shared >= 3 and shared >= 0.4 * min(len(gs), len(gt)):
                scored.append((-shared, abs(i - j), i, j))
    for _, _, i, j in sorted(scored):
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return sorted(pairs.items())


# Blocks of few words (a word ``re`` reads differently from the engine's tokens among them), so
# that blocks share pairs of words; now and then any text at all.
_BLOCK_WORDS = st.sampled_from(["the", "bus", "route", "12", "million", "a_b", "e\u0301", "٣", " ", ", "])
_BLOCKS = st.lists(st.one_of(st.lists(_BLOCK_WORDS, max_size=12).map(" ".join), st.text(max_size=6)), max_size=8)


@st.composite
def _source_and_copy(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Blocks, and a copy of some of them (each maybe with a word added or its last dropped, the
    same edited block sometimes at two places) among blocks of its own."""
    source, target = draw(_BLOCKS), draw(_BLOCKS)
    for _ in range(draw(st.integers(0, 4)) if source else 0):
        block = draw(st.sampled_from(source))
        edit = draw(st.sampled_from(["", "add", "drop"]))
        copy = block + " route" if edit == "add" else block.rsplit(" ", 1)[0] if edit == "drop" else block
        for _ in range(draw(st.integers(1, 2))):
            target.insert(draw(st.integers(0, len(target))), copy)
    return source, target


@settings(max_examples=300, deadline=None)
@given(_source_and_copy())
def test_blocks_pair_as_the_rule_reads_in_python(blocks: tuple[list[str], list[str]]) -> None:
    """Native block pairing (``_native.pair_blocks``) equals the rule read out in Python, on
    generated blocks and copies of them."""
    source, target = blocks
    assert edits_module._pair_blocks(view(source), view(target)) == _reference_pair_blocks(
        [edits_module._fold(text) for text in source], [edits_module._fold(text) for text in target]
    )
