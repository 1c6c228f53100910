"""Lineage and time: ties within minutes never crash anything, and a time has a precision.

A wire story's copies appear within minutes of each other (the normal case), and a date-only
stamp is a whole day of possible instants, not midnight UTC: the commands are run through the
CLI on real DuckDB files, the direction rule on generated documents (hypothesis).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fixtureweb import FixtureWeb, article_html, paragraphs, sitemap
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crawlers.addresses import parse_networks
from crawlers.dates import parse_time
from crawlers.settings import CrawlSettings
from crawlers.sources import load_sources
from reuse.cli import app
from reuse.config import Settings
from reuse.lineage.facts import DocFacts, Edge, SharedText, Signal
from reuse.lineage.stories import build_stories
from reuse.models import CreditLine, Evidence, Match, MatchKind, Span, iso_precision, shown_time, time_interval
from reuse.pipeline.crawl import run_crawl
from warehouse.db import SCHEMA_VERSION, open_warehouse

PARAS = [
    "The city council approved a new budget on Tuesday that spares the libraries and raises spending on roads"
    " by twelve million over the next three years, officials said after a long session.",
    "Opponents argued the plan relies on optimistic revenue forecasts and warned that a downturn would force"
    " cuts to services that residents depend on every day, including buses and parks.",
    "The mayor said the budget balances competing needs and promised a review in the spring, when updated"
    " figures on tax receipts and federal grants are expected to be published by the treasury.",
]
CRAWL_FAST: dict[str, Any] = {
    "delay": 0.0,
    "batch_seconds": 0.3,
    "total_timeout": 5.0,
    "contact": "mailto:t@example.org",
}
WIRE = [
    ("https://a.example/budget", "2021-03-01T10:00:00Z"),
    ("https://b.example/budget", "2021-03-01T10:03:00Z"),
    ("https://c.example/budget", "2021-03-01T10:05:00Z"),
]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _cli(db: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--db", str(db), *args])


def _ingest(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    db = tmp_path / "w.duckdb"
    done = _cli(db, "ingest", str(_jsonl(tmp_path / "in.jsonl", rows)))
    assert done.exit_code == 0, done.output
    return db


def test_wire_copies_minutes_apart_show_in_every_command(tmp_path: Path) -> None:
    """Three copies 3 and 5 minutes apart, none crediting another, hang from an unseen upstream:
    lineage (text and --json) used to end in StopIteration for every one of them."""
    text = "\n\n".join(PARAS)
    db = _ingest(tmp_path, [{"url": u, "title": "Budget", "published": p, "text": text} for u, p in WIRE])
    urls = [u for u, _ in WIRE]
    for url in urls:
        shown = _cli(db, "lineage", url)
        assert shown.exit_code == 0, shown.output
        assert shown.stdout.startswith("story 1: 3 documents on 3 sites")
        assert "(unseen upstream source unseen-1-1)" in shown.stdout
        assert all(other in shown.stdout for other in urls)
        data = json.loads(_cli(db, "lineage", "--json", url).stdout)
        assert set(data) == {"root", "edges"}
        # The top of the tree is unseen: the root is the earliest document under it.
        assert (data["root"]["url"], data["root"]["upstream"]) == (urls[0], "unseen-1-1")
        assert sorted(e["target_url"] for e in data["edges"]) == urls  # no document missing
        for edge in data["edges"]:
            assert {"source_url", "target_url", "confidence", "method", "credited", "labels"} <= set(edge)
            assert edge["method"] == "unseen_upstream"
    stories = json.loads(_cli(db, "stories", "--json").stdout)
    assert [(s["documents"], s["root_url"]) for s in stories] == [(3, urls[0])]
    assert _cli(db, "stories").exit_code == 0
    assert _cli(db, "sites").exit_code == 0
    report = _cli(db, "report", urls[1], "-o", str(tmp_path / "r.html"))
    assert report.exit_code == 0, report.output
    exported = _cli(db, "export", "--out", str(tmp_path / "snap"))
    assert exported.exit_code == 0, exported.output


def test_report_and_lineage_of_a_tie_at_the_same_second(tmp_path: Path) -> None:
    """Two copies stamped the same second, a third an hour later: ties are ordered by doc_id."""
    text = "\n\n".join(PARAS)
    t0 = datetime(2021, 3, 1, 10, tzinfo=UTC)
    rows = [
        {"url": "https://a.example/x", "published": t0.isoformat(), "text": text},
        {"url": "https://b.example/x", "published": t0.isoformat(), "text": text},
        {"url": "https://c.example/x", "published": (t0 + timedelta(hours=1)).isoformat(), "text": text},
    ]
    db = _ingest(tmp_path, rows)
    for row in rows:
        assert _cli(db, "lineage", row["url"]).exit_code == 0
        data = json.loads(_cli(db, "lineage", "--json", row["url"]).stdout)
        assert data["root"]["url"] == "https://a.example/x"
        assert sorted(e["target_url"] for e in data["edges"]) == sorted(r["url"] for r in rows)


# -- time precision: the pure core ------------------------------------------------------------------------------

DAY = datetime(2021, 3, 1, tzinfo=UTC)


def _fact(doc_id: int, published: datetime | None, precision: str | None, *credits: CreditLine) -> DocFacts:
    site = f"s{doc_id}.example"
    evidence = Evidence(credits=credits)
    seen = datetime(2021, 6, 1, tzinfo=UTC)
    return DocFacts(doc_id, doc_id * 10, f"https://{site}/story-{doc_id}", site, 1000, published, seen, evidence,
                    published_precision=precision)  # fmt: skip


def _credit(doc_id: int) -> CreditLine:
    return CreditLine(
        "original_source", f"Originally published by S{doc_id}", None, f"https://s{doc_id}.example/story-{doc_id}"
    )


def _pairs(ids: list[int]) -> list[SharedText]:
    matches = (Match(Span(0, 800), Span(0, 800), 1.0, MatchKind.VERBATIM, 50, 50),)
    return [SharedText(a, b, matches) for a, b in itertools.combinations(ids, 2)]


def _dates(edge: Edge) -> Signal | None:
    return next((s for s in edge.signals if s.name == "dates"), None)


def test_a_date_only_stamp_is_not_midnight_utc() -> None:
    """A blog stamped 2021-03-01 is not the source of a wire story stamped 10:00 that day."""
    docs = {1: _fact(1, DAY, "day"), 2: _fact(2, DAY + timedelta(hours=10), "second")}
    (story,) = build_stories(docs, _pairs([1, 2]), Settings())
    (edge,) = story.edges
    assert not edge.directed and edge.relation == "undirected" and edge.lag_seconds is None
    signal = _dates(edge)
    assert signal is not None and signal.source is None and "2021-03-01 (date only)" in signal.detail
    assert story.nodes[1].time_precision == "day" and story.first_precision in ("day", "second")
    # With a credit line, the credit decides: the wire story credits the blog, or the other way round.
    for source, target in ((1, 2), (2, 1)):
        credited = {**docs, target: replace(docs[target], evidence=Evidence(credits=(_credit(source),)))}
        (edge,) = build_stories(credited, _pairs([1, 2]), Settings())[0].edges
        assert (edge.source, edge.target, edge.method) == (source, target, "credit")


def test_two_date_only_stamps_of_one_day_are_not_an_unseen_upstream() -> None:
    docs = {1: _fact(1, DAY, "day"), 2: _fact(2, DAY, "day")}
    (edge,) = build_stories(docs, _pairs([1, 2]), Settings())[0].edges
    assert edge.relation == "undirected" and edge.upstream is None
    # Two instants three minutes apart are: neither can have copied the other.
    docs = {1: _fact(1, DAY, "second"), 2: _fact(2, DAY + timedelta(minutes=3), "minute")}
    (edge,) = build_stories(docs, _pairs([1, 2]), Settings())[0].edges
    assert edge.relation == "unseen_upstream"


def test_intervals_apart_decide_and_first_seen_respects_the_day() -> None:
    docs = {1: _fact(1, DAY + timedelta(days=3, hours=10), "second"), 2: _fact(2, DAY, "day")}
    (edge,) = build_stories(docs, _pairs([1, 2]), Settings())[0].edges
    assert (edge.source, edge.target, edge.method, edge.lag_seconds) == (2, 1, "dates", None)
    # A page seen at 03:00 on 1 March is not "seen before" a page dated 1 March (some zone's day had begun).
    seen = DAY + timedelta(hours=3)
    early = {1: replace(_fact(1, None, None), first_seen=seen), 2: _fact(2, DAY, "day")}
    (edge,) = build_stories(early, _pairs([1, 2]), Settings())[0].edges
    assert not any(s.name == "first_seen" for s in edge.signals)
    earlier = {1: replace(_fact(1, None, None), first_seen=DAY - timedelta(days=1)), 2: _fact(2, DAY, "day")}
    (edge,) = build_stories(earlier, _pairs([1, 2]), Settings())[0].edges
    assert (edge.source, edge.method) == (1, "first_seen")


def test_time_intervals_and_iso_precision() -> None:
    assert (
        iso_precision("2021-03-01") == "day" and iso_precision("2021-03") == "month" and iso_precision("2021") == "year"
    )
    assert iso_precision("2021-03-01T10:00Z") == "minute" and iso_precision("2021-03-01T10:00:05+02:00") == "second"
    assert time_interval(DAY, "day") == (DAY - timedelta(hours=14), DAY + timedelta(days=1, hours=12))
    assert time_interval(datetime(2021, 12, 9), "month") == (
        datetime(2021, 11, 30, 10, tzinfo=UTC),
        datetime(2022, 1, 1, 12, tzinfo=UTC),
    )
    assert time_interval(DAY, None) == (DAY, DAY + timedelta(seconds=1))
    assert shown_time(DAY, "day") == "2021-03-01 (date only)" and shown_time(DAY, None) == "2021-03-01 00:00 UTC"
    assert parse_time("2021-03-01") == (datetime(2021, 3, 1), "day")
    assert parse_time("Mon, 01 Mar 2021 10:00:00 GMT") == (DAY + timedelta(hours=10), "second")
    assert parse_time("1 March 2021") == (datetime(2021, 3, 1), "day")
    assert parse_time("March 1, 2021 09:14") == (datetime(2021, 3, 1, 9, 14), "minute")


PRECISIONS = ["second", "minute", "day", "month", None]  # None: no published time at all


@st.composite
def _documents(draw: st.DrawFn) -> tuple[dict[int, DocFacts], list[int]]:
    count = draw(st.integers(2, 3))
    docs: dict[int, DocFacts] = {}
    for doc_id in range(1, count + 1):
        precision = draw(st.sampled_from(PRECISIONS))
        # Offsets from minutes to weeks, so that ties, near ties and clear gaps all come up.
        offset = timedelta(minutes=draw(st.sampled_from([0, 3, 9, 11, 60, 600, 1440, 2880, 20000, 60000])))
        published = None if precision is None else DAY + offset
        if precision in ("day", "month"):
            published = datetime(published.year, published.month, 1 if precision == "month" else published.day)  # type: ignore[union-attr]
        credits = ()
        if draw(st.booleans()) and count > 1:
            credits = (_credit(draw(st.sampled_from([d for d in range(1, count + 1) if d != doc_id]))),)
        docs[doc_id] = _fact(doc_id, published, precision, *credits)
    return docs, list(docs)


@settings(max_examples=150, deadline=None)
@given(_documents())
def test_dates_direct_an_edge_only_when_the_intervals_do_not_overlap(
    found: tuple[dict[int, DocFacts], list[int]],
) -> None:
    docs, ids = found
    stories = build_stories(docs, _pairs(ids), Settings())
    assert sorted(d for s in stories for d in s.docs) == ids  # nobody lost
    for story in stories:
        assert story.root in story.docs and story.earliest in story.docs
        for edge in story.edges:
            s, t = docs[edge.source], docs[edge.target]
            if s.published is None or t.published is None:
                continue
            i_s = time_interval(s.published, s.published_precision)
            i_t = time_interval(t.published, t.published_precision)
            dates = _dates(edge)
            assert dates is not None
            if i_s[1] > i_t[0] and i_t[1] > i_s[0]:
                assert dates.source is None, dates  # overlapping intervals never vote
                continue
            close = s.published_precision in ("second", "minute") and t.published_precision in ("second", "minute")
            if close and abs((t.published - s.published).total_seconds()) <= 600:
                assert dates.source is None
                continue
            earlier = edge.source if i_s[1] <= i_t[0] else edge.target
            assert dates.source == earlier
            if not any(sig.name == "credit" for sig in edge.signals):
                assert edge.directed and edge.source == earlier


# -- time precision: stored, and shown ---------------------------------------------------------------------------


def test_a_date_only_blog_and_a_wire_story_that_day_through_the_cli(tmp_path: Path) -> None:
    text = "\n\n".join(PARAS)
    rows = [
        {"url": "https://blog.example/budget", "published": "2021-03-01", "text": text},
        {"url": "https://wire.example/budget", "published": "2021-03-01T10:00:00Z", "text": text},
        {"url": "https://monthly.example/budget", "published": "2021-05", "text": text},
    ]
    db = _ingest(tmp_path, rows)
    shown = _cli(db, "lineage", rows[0]["url"])
    assert shown.exit_code == 0, shown.output
    assert "https://blog.example/budget  2021-03-01 (date only)" in shown.stdout
    assert "2021-05 (month only)" in shown.stdout
    data = json.loads(_cli(db, "lineage", "--json", rows[1]["url"]).stdout)
    by_target = {e["target_url"]: e for e in data["edges"]}
    # The month-only copy is clearly later than both; the blog and the wire story stay undecided.
    monthly = by_target[rows[2]["url"]]
    assert monthly["target_time_precision"] == "month" and monthly["lag_seconds"] is None
    pair = rows[0]["url"], rows[1]["url"]
    edges = _cli(db, "sql", "--json", "SELECT s.url AS s, t.url AS t, relation, directed, evidence FROM reuse_edges"
                 " JOIN documents s ON s.doc_id = source_doc JOIN documents t ON t.doc_id = target_doc")  # fmt: skip
    found = {frozenset((e["s"], e["t"])): e for e in json.loads(edges.stdout)}
    blog_wire = found[frozenset(pair)]
    assert (blog_wire["relation"], blog_wire["directed"]) == ("undirected", False)
    stored = json.loads(
        _cli(db, "sql", "--json", "SELECT published_precision FROM versions ORDER BY version_id").stdout
    )
    assert [r["published_precision"] for r in stored] == ["day", "second", "month"]
    stories = json.loads(_cli(db, "stories", "--json").stdout)
    assert stories[0]["last_precision"] == "month"


def test_the_migration_reads_old_midnights_as_dates(tmp_path: Path) -> None:
    """Before schema 4 a date-only stamp was stored as midnight UTC with nothing saying so."""
    import duckdb

    from warehouse.migrations import migrations

    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    steps = migrations()
    for step in steps[:3]:
        con.execute(step.sql)
    con.execute(
        "INSERT INTO versions VALUES (1, 1, 1, now(), 'h', NULL, '2021-03-01 00:00:00+00', NULL, 't', 1, 1, 'ok'),"
        " (2, 2, 1, now(), 'h', NULL, '2021-03-01 10:00:00+00', NULL, 't', 1, 1, 'ok'),"
        " (3, 3, 1, now(), 'h', NULL, NULL, NULL, 't', 1, 1, 'ok')"
    )
    (step,) = [s for s in steps if s.name == "time_precision"]
    con.execute(step.sql)
    found = con.execute("SELECT version_id, published_precision FROM versions ORDER BY 1").fetchall()
    assert found == [(1, "day"), (2, None), (3, None)]


def test_a_crawl_keeps_the_precision_of_sitemap_and_page_dates(web: FixtureWeb, tmp_path: Path) -> None:
    """A news sitemap's date-only publication_date and a page's date-only meta stay dates through
    the frontier into the warehouse; a sitemap lastmod's precision is kept with the evidence."""
    from datetime import date

    site = web.site("news")
    site.robots("User-agent: *\nAllow: /\n")
    site.page("/a", article_html("A", paragraphs("a")))  # no date on the page: the sitemap's counts
    site.page("/b", article_html("B", paragraphs("b"), published=date(2021, 3, 1)))  # type: ignore[arg-type]
    site.page("/c", article_html("C", paragraphs("c")))
    site.text("/news.xml", sitemap([(site.url("/a"), date(2021, 3, 1))], news=True), "application/xml")  # type: ignore[list-item]
    site.text("/sitemap.xml", sitemap([(site.url(u), date(2021, 3, 2)) for u in ("/b", "/c")]), "application/xml")  # type: ignore[misc]
    sources = tmp_path / "sources.toml"
    sitemaps = [site.url("/news.xml"), site.url("/sitemap.xml")]
    sources.write_text(f'[[site]]\nname = "news"\nsitemaps = {json.dumps(sitemaps)}\n', encoding="utf-8")
    overrides, found = load_sources(sources)
    settings_ = CrawlSettings(**{**CRAWL_FAST, "allow_private": parse_networks(["127.0.0.1/32"]), **overrides})
    run_crawl(tmp_path / "w.duckdb", Settings(), settings_, found)
    with open_warehouse(tmp_path / "w.duckdb", read_only=True) as wh:
        _, stored = wh.query(
            "SELECT d.url, v.published_at, v.published_precision, m.other_dates FROM versions v"
            " JOIN documents d USING (doc_id) LEFT JOIN version_meta m USING (version_id) ORDER BY d.url"
        )
    by_url = {
        url: (published, precision, json.loads(other) if other else None) for url, published, precision, other in stored
    }
    assert by_url[site.url("/a")][1] == "day" and by_url[site.url("/a")][2][0][2] == "day"
    assert by_url[site.url("/b")][1] == "day"
    assert by_url[site.url("/c")][1] is None and by_url[site.url("/c")][2] == [
        ["sitemap", "2021-03-02T00:00:00+00:00", "day"]
    ]


def test_extract_says_a_date_is_a_date(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_bytes(article_html("Budget", PARAS, published=datetime(2021, 3, 1)).replace(b"T00:00:00", b""))
    shown = CliRunner().invoke(app, ["extract", str(page)])
    assert shown.exit_code == 0, shown.output
    assert "published: 2021-03-01T00:00:00 (date only)" in shown.stdout
    data = json.loads(CliRunner().invoke(app, ["extract", "--json", str(page)]).stdout)
    assert data["published_precision"] == "day"


def test_a_reader_upgrades_an_older_warehouse(tmp_path: Path) -> None:
    """A schema-3 file read by `lineage` or `sql`: the new columns are added, not a Binder error."""
    import duckdb

    text = "\n\n".join(PARAS)
    db = _ingest(tmp_path, [{"url": u, "published": p, "text": text} for u, p in WIRE])
    con = duckdb.connect(str(db))
    for table, column in (
        ("versions", "published_precision"),
        ("version_meta", "modified_precision"),
        ("lineage_nodes", "time_precision"),
        ("lineage_stories", "first_precision"),
        ("lineage_stories", "last_precision"),
        ("frontier", "hint_precision"),
    ):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("DROP VIEW stories; DROP VIEW lineage; DROP TABLE lineage_pending; DROP TABLE document_urls")
    con.execute("DROP VIEW alert_details; DROP TABLE alert_deliveries; DROP TABLE webhooks")
    con.execute("DROP TABLE alerts; DROP TABLE watches")
    con.execute("DROP VIEW pair_details; ALTER TABLE doc_pairs DROP COLUMN similarity")
    con.execute("DELETE FROM schema_migrations WHERE version >= 4")
    con.close()
    shown = _cli(db, "lineage", WIRE[0][0])
    assert shown.exit_code == 0, shown.output
    stored = _cli(db, "sql", "--json", "SELECT max(version) AS v FROM schema_migrations")
    assert json.loads(stored.stdout) == [{"v": SCHEMA_VERSION}]
    # Pairs stored before migration 8 are not graded: NULL, not a made-up 0.
    graded = _cli(db, "sql", "--json", "SELECT count(*) AS pairs, count(similarity) AS graded FROM doc_pairs")
    assert json.loads(graded.stdout) == [{"pairs": 3, "graded": 0}]
    # Its lineage was built reading dates as midnights: all of it is owed until a run rebuilds it.
    assert "lineage: stale" in _cli(db, "stats").stdout
    owed = _cli(
        db, "sql", "--json", "SELECT count(*) = (SELECT count(*) FROM versions) AS all_owed FROM lineage_pending"
    )
    assert json.loads(owed.stdout) == [{"all_owed": True}]
    assert _cli(db, "lineage", "--stale").exit_code == 0
    assert "lineage: up to date" in _cli(db, "stats").stdout


def test_pages_first_seen_minutes_apart_are_not_an_unseen_upstream() -> None:
    """Two undated pages crawled three minutes apart: when they were read says nothing of who wrote first."""
    seen = datetime(2021, 6, 1, tzinfo=UTC)
    docs = {
        1: replace(_fact(1, None, None), first_seen=seen),
        2: replace(_fact(2, None, None), first_seen=seen + timedelta(minutes=3)),
    }
    (edge,) = build_stories(docs, _pairs([1, 2]), Settings())[0].edges
    assert edge.relation == "undirected" and edge.upstream is None
