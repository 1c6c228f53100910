"""Site templates are what a site repeats across different articles, never what one article's twins share.

Every case is ingested into a real DuckDB file through the pipeline, which learns each touched
site's boilerplate after the run (warehouse.lineage.learn_site_boilerplate) and builds lineage on it.
"""

from __future__ import annotations

import random
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reuse.config import Settings
from reuse.engine.boilerplate import block_hash
from reuse.models import Document
from reuse.pipeline.ingest import ingest, refresh_lineage
from warehouse import lineage as lineage_db
from warehouse.db import Warehouse, open_warehouse

SETTINGS = Settings()
DAY = datetime(2022, 5, 2, 8, tzinfo=UTC)
# The copied story: two paragraphs of a wire report.
STORY = [
    "The harbour board approved a new deepwater berth after two years of hearings, saying the larger quay would "
    "let container ships call without waiting for the tide and would bring three hundred jobs to the port.",
    "Fishermen who opposed the plan said the dredging would ruin the mussel beds at the river mouth, and their "
    "association promised to take the board to court before the first contract is signed in the autumn.",
]
# A statement many articles quote in full.
QUOTE = (
    "“We have listened to every objection and we are confident the berth can be built without harm to the "
    "estuary,” the chair of the harbour board said in a statement released on Tuesday evening."
)
TEMPLATE = (
    "Sign up for the Morning Tide newsletter to get the coast's top stories, opinion and analysis in your inbox "
    "before breakfast, every weekday, free of charge, and unsubscribe at any time with one click."
)
_VOCABULARY = (  # noqa: SIM905
    "council river ferry school market bridge station harvest festival museum library hospital tram orchard "
    "lighthouse quarry bakery tunnel parish village mayor budget teachers nurses farmers volunteers tourists "
    "residents approved delayed opened closed rebuilt funded praised criticised expanded visited reported "
    "weekend morning winter summer yesterday north south coast valley hills harbour island road"
).split()


def _prose(rng: random.Random, sentences: int = 3) -> str:
    """A paragraph of made-up news prose, different for every seed."""
    said = [" ".join(rng.choice(_VOCABULARY) for _ in range(rng.randint(12, 18))) for _ in range(sentences)]
    return " ".join(s[0].upper() + s[1:] + "." for s in said)


def _doc(url: str, paragraphs: list[str], hours: float) -> Document:
    site = url.split("/")[2]
    return Document(url, "\n\n".join(paragraphs), paragraphs[0][:40], DAY + timedelta(hours=hours), site)


def _rows(wh: Warehouse, sql: str) -> list[dict[str, Any]]:
    columns, found = wh.query(sql)
    return [dict(zip(columns, row, strict=True)) for row in found]


def _learned(wh: Warehouse, site: str) -> set[int]:
    return {int(r["text_hash"]) for r in _rows(wh, "SELECT site, text_hash FROM site_boilerplate") if r["site"] == site}


def _copies(wh: Warehouse) -> set[tuple[str, str]]:
    found = _rows(
        wh,
        "SELECT s.url AS source, t.url AS target FROM reuse_edges e JOIN documents s ON s.doc_id = e.source_doc"
        " JOIN documents t ON t.doc_id = e.target_doc WHERE e.relation = 'copy'",
    )
    return {(r["source"], r["target"]) for r in found}


@pytest.mark.parametrize("others", [0, 1])
def test_a_site_holding_a_copy_twice_still_copies(tmp_path: Path, others: int) -> None:
    """An article and its AMP twin on a site of two (or three) documents: the copied text is the
    article's, not the site's template, and the copy keeps its source."""
    rng = random.Random(others)
    source = _doc("https://wire.example/berth", STORY, 0)
    intro = _prose(rng)
    article = _doc("https://coast.example/news/berth", [intro, *STORY, "Reporting by our harbour desk."], 5)
    amp = _doc("https://coast.example/amp/news/berth", [intro, *STORY], 5)
    unrelated = [_doc("https://coast.example/news/fair", [_prose(rng), _prose(rng)], 9)][:others]
    with open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh:
        ingest(wh, [source, article, amp, *unrelated], SETTINGS)
        learned, copies = _learned(wh, "coast.example"), _copies(wh)
    assert learned == set()
    assert {(source.url, article.url), (source.url, amp.url)} & copies


@pytest.mark.parametrize("articles", [2, 3, 4])
def test_a_small_crawl_of_one_site_learns_no_template(tmp_path: Path, articles: int) -> None:
    """A few different articles of one site that all quote the same statement: the quote is not the
    site's template, and each quoting article still takes it from the statement's source."""
    rng = random.Random(articles)
    source = _doc("https://board.example/statement", [QUOTE, _prose(rng)], 0)
    docs = [_doc(f"https://coast.example/{k}", [_prose(rng), QUOTE, _prose(rng)], 2 + k) for k in range(articles)]
    with open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh:
        ingest(wh, [source, *docs], SETTINGS)
        learned, copies = _learned(wh, "coast.example"), _copies(wh)
    assert block_hash(QUOTE) not in learned and learned == set()
    assert {(source.url, doc.url) for doc in docs} <= copies


def test_a_template_repeated_on_six_articles_is_learned(tmp_path: Path) -> None:
    """A newsletter box on six different articles (one of them also held as an AMP twin) is the
    site's template, and the site's copy of another site's story is still a copy."""
    rng = random.Random(6)
    source = _doc("https://wire.example/berth", STORY, 0)
    docs = [_doc(f"https://coast.example/{k}", [_prose(rng), _prose(rng), TEMPLATE], 1 + k) for k in range(5)]
    copy = _doc("https://coast.example/berth", [_prose(rng), *STORY, TEMPLATE], 8)
    amp = _doc("https://coast.example/amp/berth", [copy.text.split("\n\n")[0], *STORY, TEMPLATE], 8)
    with open_warehouse(tmp_path / "w.duckdb", SETTINGS) as wh:
        ingest(wh, [source, *docs, copy, amp], SETTINGS)
        learned, copies = _learned(wh, "coast.example"), _copies(wh)
    assert learned == {block_hash(TEMPLATE)}
    assert {(source.url, copy.url), (source.url, amp.url)} & copies


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Six pages carrying the template but only three articles; a copy held at five URLs.
@example(articles=3, twins=[2] * 7, with_template=3, twins_keep_template=True, seed=0)
@example(articles=1, twins=[5] * 7, with_template=0, twins_keep_template=True, seed=1)
@given(
    articles=st.integers(1, 7),
    twins=st.lists(st.integers(1, 3), min_size=7, max_size=7),
    with_template=st.integers(0, 7),
    twins_keep_template=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_twins_never_make_a_template_and_enough_articles_do(
    tmp_path_factory: pytest.TempPathFactory,
    articles: int,
    twins: list[int],
    with_template: int,
    twins_keep_template: bool,
    seed: int,
) -> None:
    """A generated site of ``articles`` different articles, each held ``twins`` times (its AMP and
    print versions, with or without the site's chrome), the first ``with_template`` carrying the
    template block, and the last copying a wire story: the template is learned exactly when at least
    ``boilerplate_docs`` different articles carry it, no article's own text ever is, and the copy
    always keeps its source."""
    rng = random.Random(seed)
    source = _doc("https://wire.example/berth", STORY, 0)
    docs = []
    for k in range(articles):
        body = [_prose(rng), _prose(rng)] + (STORY if k == articles - 1 else [])
        chrome = [TEMPLATE] if k < with_template else []
        for t in range(twins[k]):
            keep = chrome if t == 0 or twins_keep_template else []
            docs.append(_doc(f"https://coast.example/{k}/v{t}", [*body, *keep], 1 + k))
    with open_warehouse(tmp_path_factory.mktemp("site") / "w.duckdb", SETTINGS) as wh:
        ingest(wh, [source, *docs], SETTINGS)
        learned, copies = _learned(wh, "coast.example"), _copies(wh)
    template_learned = min(with_template, articles) >= SETTINGS.boilerplate_docs
    assert learned == ({block_hash(TEMPLATE)} if template_learned else set())
    copied = {doc.url for doc in docs if doc.url.startswith(f"https://coast.example/{articles - 1}/")}
    assert {target for src, target in copies if src == source.url} & copied


#: Paragraphs that several pages of a site may share (a template, a quote, a standing box).
_SHARED = [
    TEMPLATE,
    QUOTE,
    *STORY,
    "Follow the harbour board's hearings live on our website and on the radio every Tuesday.",
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pages=st.lists(
        st.tuples(
            st.sampled_from(["coast.example", "tide.example"]),
            st.lists(st.one_of(st.none(), st.integers(0, len(_SHARED) - 1)), min_size=1, max_size=4),
            st.integers(0, 2),  # which earlier page of the site a new version replaces, if any
        ),
        min_size=2,
        max_size=12,
    ),
    runs=st.lists(st.integers(1, 3), min_size=12, max_size=12),
    seed=st.integers(0, 2**16),
)
def test_runs_of_a_few_pages_learn_what_relearning_and_a_rebuild_learn(
    tmp_path_factory: pytest.TempPathFactory, pages: list[tuple[str, list[int | None], int]], runs: list[int], seed: int
) -> None:
    """Pages of two sites, each of paragraphs of its own (None) or shared with other pages (an
    index of ``_SHARED``), some of them new versions of an earlier page, ingested a few at a time:
    after every run each site's learned boilerplate is what relearning it from all its documents
    gives, and at the end every lineage row is what a rebuild of the whole warehouse gives."""
    learn_early = Settings(boilerplate_docs=2)  # a paragraph on two articles is a template: learned often
    rng = random.Random(seed)
    docs: list[Document] = []
    urls: dict[str, list[str]] = {}
    for k, (site, paragraphs, replaces) in enumerate(pages):
        earlier = urls.setdefault(site, [])
        url = earlier[replaces - 1] if 0 < replaces <= len(earlier) else f"https://{site}/{k}"
        earlier.append(url)
        text = [_prose(rng) if p is None else _SHARED[p] for p in paragraphs]
        docs.append(_doc(url, [_prose(rng), *text], k))
    db = tmp_path_factory.mktemp("relearn") / "w.duckdb"
    start = 0
    for size in runs:
        if start < len(docs):
            with open_warehouse(db, learn_early) as wh:
                ingest(wh, docs[start : start + size], learn_early)
                # After every run, what a relearn of every site gives (then rolled back).
                stored = _rows(wh, "SELECT * FROM site_boilerplate ORDER BY ALL")
                wh.con.execute("BEGIN TRANSACTION")
                lineage_db.learn_site_boilerplate(wh, urls, learn_early.boilerplate_docs, learn_early.boilerplate_share)
                relearned = _rows(wh, "SELECT * FROM site_boilerplate ORDER BY ALL")
                wh.con.execute("ROLLBACK")
                assert stored == relearned
            start += size
    queries = {
        "boilerplate": "SELECT * FROM site_boilerplate",
        "diffs": "SELECT doc_id, old_version, new_version, labels, changes FROM version_diffs",
        "stories": "SELECT story_id, root_doc, documents, sites FROM lineage_stories",
        "edges": "SELECT source_doc, target_doc, relation, labels FROM reuse_edges",
    }

    def lineage() -> dict[str, list[str]]:
        with open_warehouse(db, SETTINGS, read_only=True) as wh:
            return {name: sorted(map(str, wh.query(sql)[1])) for name, sql in queries.items()}

    incremental = lineage()
    refresh_lineage(db, learn_early, rebuild=True)
    assert lineage() == incremental


# -- the rule against its statement in SQL ------------------------------------------------------------

#: The rule as the one SQL statement that ran it before it ran natively: the reference the native
#: rule (warehouse.lineage.learn_site_boilerplate) is held to.
_REFERENCE = textwrap.dedent(
    """
    INSERT INTO site_boilerplate (site, text_hash, docs, site_docs, sample)
    WITH cur AS (
        -- current_documents, read for the wanted sites only (the view ranks every document)
        SELECT d.doc_id, d.site, max(v.version_id) AS version_id
        FROM documents d JOIN wanted_sites w USING (site) JOIN versions v USING (doc_id)
        GROUP BY d.doc_id, d.site
    ), sizes AS (
        SELECT site, count(*) AS site_docs FROM cur GROUP BY site
    ), held AS (
        SELECT cur.site, cur.doc_id, b.text_hash, max(b.char_end - b.char_start) AS chars,
               count(*) OVER (PARTITION BY cur.site, b.text_hash) AS holders,
               min(struct_pack(v := b.version_id, s := b.char_start, e := b.char_end)) AS block
        FROM blocks b JOIN cur USING (version_id) GROUP BY cur.site, cur.doc_id, b.text_hash
    ), weight AS (
        SELECT doc_id, sum(chars / holders) AS weight FROM held GROUP BY doc_id
    ), rare AS (
        SELECT * FROM held WHERE holders <= $pair_limit
    ), shared AS (
        SELECT a.doc_id AS a, b.doc_id AS b, sum(least(a.chars, b.chars) / a.holders) AS weight
        FROM rare a JOIN rare b ON a.site = b.site AND a.text_hash = b.text_hash AND a.doc_id < b.doc_id
        GROUP BY a.doc_id, b.doc_id
    ), twins AS (
        SELECT s.a, s.b FROM shared s
        JOIN weight wa ON wa.doc_id = s.a JOIN weight wb ON wb.doc_id = s.b
        WHERE s.weight >= $share * greatest(wa.weight, wb.weight)
    ), article AS (
        SELECT cur.doc_id, least(cur.doc_id, min(t.a)) AS article
        FROM cur LEFT JOIN twins t ON t.b = cur.doc_id GROUP BY cur.doc_id
    ), learned AS (
        SELECT h.site, h.text_hash, count(*) AS docs FROM held h JOIN article USING (doc_id)
        GROUP BY h.site, h.text_hash HAVING count(DISTINCT article.article) >= $cap
    ), first AS (
        SELECT l.site, l.text_hash, any_value(l.docs) AS docs, min(h.block) AS block
        FROM learned l JOIN held h USING (site, text_hash) GROUP BY l.site, l.text_hash
    )
    SELECT f.site, f.text_hash, f.docs, s.site_docs,
           substr(v.text, f.block.s + 1, least(f.block.e - f.block.s, 300))
    FROM first f JOIN sizes s USING (site) JOIN versions v ON v.version_id = f.block.v
    """
)
#: Block lengths are multiples of this (the least common multiple of 1 to 8), and no site has
#: more than eight documents: every weight is then a whole number, so the SQL's sums and the
#: native ones agree exactly whatever order each adds in.
_UNIT = 840


def _template_tables(docs: list[tuple[int, list[list[tuple[int, int]]]]]) -> duckdb.DuckDBPyConnection:
    """An in-memory database of just the tables the rule reads: ``docs`` lists each document's
    site and its versions, each a list of blocks ``(hash, length in units)``."""
    con = duckdb.connect()
    con.execute("CREATE TABLE documents (doc_id BIGINT, site VARCHAR)")
    con.execute("CREATE TABLE versions (version_id BIGINT, doc_id BIGINT, text VARCHAR)")
    con.execute("CREATE TABLE blocks (version_id BIGINT, char_start INTEGER, char_end INTEGER, text_hash UBIGINT)")
    con.execute(
        "CREATE TABLE site_boilerplate (site VARCHAR, text_hash UBIGINT, docs INTEGER, site_docs INTEGER,"
        " sample VARCHAR, PRIMARY KEY (site, text_hash))"
    )
    version = 0
    for doc, (site, versions) in enumerate(docs):
        con.execute("INSERT INTO documents VALUES (?, ?)", [doc, f"site{site}.example"])
        for blocks in versions:
            version += 1
            text, at = "", 0
            for hash_, units in blocks:
                start, at = at, at + units * _UNIT
                text += f"{hash_}-{doc}-".ljust(units * _UNIT, "x")
                con.execute("INSERT INTO blocks VALUES (?, ?, ?, ?)", [version, start, at, hash_])
            con.execute("INSERT INTO versions VALUES (?, ?, ?)", [version, doc, text])
    return con


@settings(max_examples=150, deadline=None)
@given(
    docs=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.lists(st.lists(st.tuples(st.integers(0, 5), st.integers(1, 3)), max_size=5), min_size=1, max_size=2),
        ),
        max_size=16,
    ).filter(lambda docs: all(sum(site == s for site, _ in docs) <= 8 for s in range(3))),
    cap=st.integers(1, 3),
    share=st.sampled_from([0.25, 0.5, 0.75, 1.0]),
)
def test_the_native_rule_learns_what_the_sql_statement_learns(
    docs: list[tuple[int, list[list[tuple[int, int]]]]], cap: int, share: float
) -> None:
    """Generated sites (up to eight documents each, some of two versions, blocks drawn from six
    hashes, repeated within a version or not): the native rule stores exactly the rows the SQL
    statement stores (site, hash, documents, the site's documents, the sample of the first
    occurrence), for every cap and share."""
    con = _template_tables(docs)
    sites = [f"site{s}.example" for s in range(3)]
    lineage_db.learn_site_boilerplate(Warehouse(con, ":memory:"), sites, cap, share)
    native = con.execute("SELECT * FROM site_boilerplate ORDER BY ALL").fetchall()
    con.execute("DELETE FROM site_boilerplate")
    con.execute("CREATE TEMP TABLE wanted_sites AS SELECT unnest(?::VARCHAR[]) AS site", [sites])
    pair_limit = lineage_db._TWIN_BLOCK_DOCS * cap
    con.execute(_REFERENCE, {"cap": cap, "share": share, "pair_limit": pair_limit})
    assert native == con.execute("SELECT * FROM site_boilerplate ORDER BY ALL").fetchall()
