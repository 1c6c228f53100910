"""What a fetch means (crawlers.digest), without a network or a warehouse: fetch results made by
hand, digested into the document, the frontier update, the URLs found and the fetch-log rows."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from fixtureweb import article_html, paragraphs, rss_feed, sitemap, sitemap_index

from crawlers.digest import MAX_SITEMAP_DEPTH, Digest, digest
from crawlers.fetch import FetchResult, Outcome, RobotsFetch
from crawlers.frontier import Entry, Kind, State
from crawlers.robots import RobotsRules
from crawlers.schedule import Schedule
from crawlers.settings import CrawlSettings
from crawlers.sources import Source
from crawlers.urls import Scope, host_key

SITE = "https://news.example.com"
NOW = datetime(2020, 11, 6, 12, tzinfo=UTC)
HTML = {"content-type": "text/html; charset=utf-8"}


def entry(path: str, kind: Kind = Kind.PAGE, **fields: Any) -> Entry:
    url = SITE + path
    return Entry(url, host_key(url), kind, fields.pop("depth", 0), source="news", **fields)


def fetched(url: str, body: bytes | None = None, outcome: Outcome = Outcome.OK, **fields: Any) -> FetchResult:
    headers = fields.pop("headers", HTML)
    return FetchResult(url, fields.pop("final_url", url), outcome, NOW, 0.25, fields.pop("status", 200), headers,
                       body, **fields)  # fmt: skip


def run(item: Entry, result: FetchResult, source: Source | None = None, **crawl: Any) -> Digest:
    return digest(item, source, result, run_id=7, crawl=CrawlSettings(**crawl), schedule=Schedule(),
                  rng=random.Random(1), now=NOW, monotonic_now=100.0)  # fmt: skip


def page(title: str = "Fish market to close", **kwargs: Any) -> bytes:
    return article_html(title, paragraphs(title), **kwargs)


def test_a_new_page_gives_its_document_links_and_log_row() -> None:
    links = [f"{SITE}/next", "https://elsewhere.example.org/out"]
    body = page(links=links)
    item = run(entry("/fish"), fetched(f"{SITE}/fish", body))
    assert item.document is not None and item.document.url == f"{SITE}/fish"
    assert item.document.title == "Fish market to close" and item.document.site == "news.example.com"
    assert [e.url for e in item.discovered] == links  # no source: no scope to keep to
    assert all(e.depth == 1 and e.discovered_from == f"{SITE}/fish" for e in item.discovered)
    assert item.entry.state is State.DONE and item.entry.content_sha256 == hashlib.sha256(body).hexdigest()
    assert item.content is not None and item.content.body == body and item.content.url == f"{SITE}/fish"
    row = item.fetch_row
    assert (row["run_id"], row["outcome"], row["kind"], row["attempt"], row["bytes"]) == (7, "ok", "page", 1, len(body))
    assert row["result"] == "article, 2 links" and row["raw_sha256"] == item.content.sha256


def test_links_are_kept_to_the_sources_scope_and_depth() -> None:
    source = Source("news", ((f"{SITE}/", Kind.PAGE),), Scope(frozenset({host_key(SITE)})), site="The News")
    body = page(links=[f"{SITE}/next", "https://elsewhere.example.org/out"])
    item = run(entry("/fish"), fetched(f"{SITE}/fish", body), source)
    assert [e.url for e in item.discovered] == [f"{SITE}/next"]
    assert item.document is not None and item.document.site == "The News"  # the source names the publisher
    deep = run(entry("/fish", depth=2), fetched(f"{SITE}/fish", body), source, max_depth=2)
    assert deep.discovered == [] and deep.fetch_row["result"] == "article"


def test_the_same_content_again_is_unchanged_and_gives_no_document() -> None:
    body = page()
    item = run(entry("/fish", content_sha256=hashlib.sha256(body).hexdigest()), fetched(f"{SITE}/fish", body))
    assert item.document is None and item.content is None and item.discovered == []
    assert item.fetch_row["result"] == "unchanged" and item.entry.unchanged == 1


def test_not_modified_reschedules_without_a_body() -> None:
    item = run(entry("/fish", etag='"a"'), fetched(f"{SITE}/fish", None, Outcome.NOT_MODIFIED, status=304, headers={}))
    assert item.fetch_row["result"] == "not_modified" and item.entry.state is State.DONE
    assert item.entry.etag == '"a"' and item.document is None


def test_a_redirect_stores_the_page_under_where_it_ended_and_aliases_the_url_asked_for() -> None:
    item = run(entry("/short"), fetched(f"{SITE}/short", page(), final_url=f"{SITE}/fish"))
    assert item.alias is not None and item.alias.url == f"{SITE}/short" and item.alias.state is State.ALIAS
    assert item.entry.url == f"{SITE}/fish" and item.entry.discovered_from == f"{SITE}/short"
    assert item.document is not None and item.document.url == f"{SITE}/fish"
    assert item.fetch_row["url"] == f"{SITE}/short" and item.fetch_row["final_url"] == f"{SITE}/fish"


def test_a_failure_is_retried_and_logged() -> None:
    item = run(entry("/fish"), fetched(f"{SITE}/fish", None, Outcome.HTTP_ERROR, status=503), max_retries=2)
    assert item.entry.state is State.TODO and item.entry.attempts == 1 and item.entry.reason == "http_error"
    assert item.fetch_row["outcome"] == "http_error" and "result" not in item.fetch_row and item.document is None


def test_a_page_without_an_article_says_why() -> None:
    body = b"<html><body><div id='app'><p>Please enable JavaScript to view this page.</p></div></body></html>"
    item = run(entry("/app"), fetched(f"{SITE}/app", body))
    assert item.document is None and item.fetch_row["result"] == "empty: js_required"
    assert item.entry.reason == item.fetch_row["result"] and item.content is not None  # the body is kept


def test_feed_items_carry_their_dates_and_titles_to_the_page_they_become() -> None:
    day = datetime(2020, 11, 4, 8, tzinfo=UTC)
    feed = rss_feed([(f"{SITE}/fish", "Fish market to close", day), (f"{SITE}/undated", "Undated", None)])
    rss = {"content-type": "application/rss+xml"}
    item = run(entry("/feed", Kind.FEED), fetched(f"{SITE}/feed", feed, headers=rss))
    assert item.fetch_row["result"] == "feed: 2 items" and item.fetch_row["kind"] == "feed"
    listed, undated = item.discovered
    assert (listed.hint_source, listed.hint_published, listed.hint_title) == ("feed", day, "Fish market to close")
    assert (undated.hint_source, undated.hint_published) == (None, None)
    # The page has no date of its own: the feed's is its publication date, and stays evidence.
    doc = run(listed, fetched(listed.url, page())).document
    assert doc is not None and doc.published == day
    assert doc.evidence is not None and doc.evidence.other_dates == (("feed", day),)


def test_a_sitemaps_lastmod_is_evidence_never_the_publication_date() -> None:
    day = datetime(2020, 11, 4, tzinfo=UTC)
    listed = run(entry("/sitemap.xml", Kind.SITEMAP), fetched(f"{SITE}/sitemap.xml", sitemap([(f"{SITE}/fish", day)])))
    (found,) = listed.discovered
    assert found.hint_source == "sitemap" and listed.fetch_row["result"] == "sitemap urlset: 1 URLs"
    doc = run(found, fetched(found.url, page())).document
    assert doc is not None and doc.published is None
    assert doc.evidence is not None and doc.evidence.other_dates == (("sitemap", found.hint_published),)


@pytest.mark.parametrize("depth", [MAX_SITEMAP_DEPTH - 1, MAX_SITEMAP_DEPTH])
def test_nested_sitemap_indexes_are_followed_to_a_depth(depth: int) -> None:
    index = sitemap_index([f"{SITE}/a.xml", f"{SITE}/b.xml"])
    item = run(entry("/index.xml", Kind.SITEMAP, depth=depth), fetched(f"{SITE}/index.xml", index))
    assert [e.depth for e in item.discovered] == ([depth + 1] * 2 if depth < MAX_SITEMAP_DEPTH else [])
    assert item.fetch_row["result"] == "sitemap index: 2 URLs"


def test_robots_fetches_are_logged_and_their_sitemaps_found() -> None:
    text = f"User-agent: *\nAllow: /\nSitemap: {SITE}/s.xml\nSitemap: {SITE}/s.xml?utm_source=x\nSitemap: ftp://x/s"
    robots = fetched(f"{SITE}/robots.txt", text.encode(), headers={"content-type": "text/plain"})
    result = fetched(f"{SITE}/fish", page(), robots_fetches=(RobotsFetch(robots, RobotsRules.parse(text, 0.0)),))
    item = run(entry("/fish"), result)
    (row,) = item.robots_rows
    assert (row["kind"], row["url"]) == ("robots", f"{SITE}/robots.txt")
    assert row["result"] == "robots: rules, lists 3 sitemaps"
    sitemaps = [(e.url, e.kind, e.discovered_from) for e in item.discovered if e.kind is Kind.SITEMAP]
    # Canonical (the tracking parameter gone), ftp: not fetched; the frontier keeps one of the two.
    assert sitemaps == [(f"{SITE}/s.xml", Kind.SITEMAP, f"{SITE}/robots.txt")] * 2
