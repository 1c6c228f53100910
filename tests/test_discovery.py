"""Discovery: feeds (broken ones too), sitemaps (XML attacks, size limits), page links and what a body is."""

from __future__ import annotations

import gzip
import resource
from datetime import UTC, datetime

import pytest
from fixtureweb import atom_feed, rss_feed, sitemap, sitemap_index

from crawlers.feeds import parse_feed
from crawlers.links import page_links, sniff_kind
from crawlers.sitemaps import MAX_SITEMAP_URLS, parse_sitemap, parse_w3c_date

WHEN = datetime(2020, 11, 4, 16, 30, tzinfo=UTC)


def test_rss_items_keep_their_dates_and_links_are_canonical() -> None:
    body = rss_feed([("https://x.org/a?utm_source=rss", "A", WHEN), ("https://x.org/b", "B", None)])
    feed = parse_feed(body, "https://x.org/feed/")
    assert feed.state == "ok" and not feed.bozo
    assert [(i.url, i.title, i.published) for i in feed.items] == [
        ("https://x.org/a", "A", WHEN),
        ("https://x.org/b", "B", None),
    ]


def test_atom_relative_links_resolve_against_xml_base() -> None:
    body = atom_feed([("2020/11/story", "S", WHEN)], base="https://x.org/news/")
    feed = parse_feed(body, "https://feeds.x.org/atom")
    assert [i.url for i in feed.items] == ["https://x.org/news/2020/11/story"]
    assert feed.items[0].published == WHEN


def test_relative_links_without_base_resolve_against_the_feed_url() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    body += b"<item><link>/a</link></item></channel></rss>"
    assert [i.url for i in parse_feed(body, "https://x.org/feed/").items] == ["https://x.org/a"]


@pytest.mark.parametrize("version", ["0.91", "2.0"])
def test_rss_versions(version: str) -> None:
    body = (
        f'<?xml version="1.0"?><rss version="{version}"><channel><title>t</title><link>https://x.org/</link>'
        "<description>d</description><item><title>i</title><link>https://x.org/i</link></item></channel></rss>"
    ).encode()
    assert [i.url for i in parse_feed(body, "https://x.org/feed").items] == ["https://x.org/i"]


def test_rss_1_0() -> None:
    body = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://x.org/"><title>t</title><link>https://x.org/</link><description>d</description></channel>
<item rdf:about="https://x.org/r1"><title>r1</title><link>https://x.org/r1</link><dc:date>2020-11-04T16:30:00Z</dc:date></item>
</rdf:RDF>"""
    feed = parse_feed(body, "https://x.org/rdf")
    assert [(i.url, i.published) for i in feed.items] == [("https://x.org/r1", WHEN)]


@pytest.mark.parametrize(
    ("name", "body", "items"),
    [
        ("unclosed tags", b'<rss version="2.0"><channel><item><link>https://x.org/u</link><title>x', 1),
        ("undefined entity", b'<rss version="2.0"><channel><item><title>a&nbsp;b</title><link>https://x.org/e</link>'
         b"</item></channel></rss>", 1),
        ("wrong encoding", '<?xml version="1.0" encoding="ascii"?><rss version="2.0"><channel><item><title>ü</title>'
         "<link>https://x.org/w</link></item></channel></rss>".encode(), 1),
        ("empty body", b"", 0),
        ("zero-byte gzip", gzip.compress(b"", mtime=0), 0),  # no time in it: pytest-xdist workers must collect one id
        ("garbage", bytes(range(256)) * 4, 0),
    ],
)  # fmt: skip
def test_broken_feeds_never_crash(name: str, body: bytes, items: int) -> None:
    """Broken feeds: lenient parsing recovers items where it can; nothing readable gives feed_unparseable."""
    feed = parse_feed(body, "https://x.org/feed")
    assert len(feed.items) == items, name
    if items == 0:
        assert feed.state == "feed_unparseable"


def test_html_served_as_a_feed_is_unparseable() -> None:
    feed = parse_feed(b"<html><body><p>Not a feed</p></body></html>", "https://x.org/feed", "text/html")
    assert feed.state == "feed_unparseable" and feed.items == ()


def test_feed_links_with_other_schemes_are_dropped() -> None:
    """Only http(s) is fetched: file:, javascript:, data: links in a feed are never queued."""
    links = ["file:///etc/passwd", "javascript:alert(1)", "data:text/html,x", "https://x.org/ok"]
    body = rss_feed([(link, "t", None) for link in links])
    assert [i.url for i in parse_feed(body, "https://x.org/feed").items] == ["https://x.org/ok"]


def test_feed_xxe_reads_no_file() -> None:
    """XML attacks: an external entity is not expanded into any field."""
    body = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&x;</title><item><title>&x;</title><link>https://x.org/x</link></item></channel></rss>"""
    feed = parse_feed(body, "https://x.org/feed")
    assert "root:" not in repr(feed)


def test_sitemap_urlset_with_lastmod_and_news_dates() -> None:
    plain = parse_sitemap(sitemap([("https://x.org/a", WHEN), ("/b", None)]), "https://x.org/sitemap.xml")
    assert plain.kind == "urlset"
    assert [(e.url, e.lastmod) for e in plain.entries] == [("https://x.org/a", WHEN), ("https://x.org/b", None)]
    news = parse_sitemap(sitemap([("https://x.org/n", WHEN)], news=True), "https://x.org/news.xml")
    assert news.entries[0].published == WHEN and news.entries[0].title == "t"


def test_sitemap_index_and_gzip_and_text() -> None:
    index = parse_sitemap(sitemap_index(["https://x.org/s1.xml", "https://x.org/s2.xml.gz"]), "https://x.org/i.xml")
    assert index.kind == "index" and [e.url for e in index.entries][1] == "https://x.org/s2.xml.gz"
    zipped = parse_sitemap(gzip.compress(sitemap([("https://x.org/z", None)])), "https://x.org/s2.xml.gz")
    assert [e.url for e in zipped.entries] == ["https://x.org/z"]
    text = parse_sitemap(b"https://x.org/t1\nnot a url\nhttps://x.org/t2\n", "https://x.org/s.txt")
    assert [e.url for e in text.entries] == ["https://x.org/t1", "https://x.org/t2"]


def test_sitemap_limits() -> None:
    """Sitemap limits: at most 50,000 URLs taken from one file; a gzip bomb is bounded by the cap."""
    many = sitemap([(f"https://x.org/{n}", None) for n in range(60_000)])
    parsed = parse_sitemap(many, "https://x.org/big.xml")
    assert len(parsed.entries) == MAX_SITEMAP_URLS and parsed.truncated
    bomb = gzip.compress(b"<urlset>" + b" " * (64 * 1024 * 1024), 6)
    assert parse_sitemap(bomb, "https://x.org/bomb.xml.gz", cap=1024 * 1024).kind == "unparseable"


def test_sitemap_xml_attacks_give_nothing() -> None:
    """XML attacks: XXE, billion laughs and an external DTD: no file content, no expansion, no request."""
    xxe = b"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.org/&x;</loc></url></urlset>"""
    parsed = parse_sitemap(xxe, "https://x.org/s.xml")
    assert "root" not in repr(parsed)
    levels = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    laughs = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY l0 "ha">{levels}]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.org/&l9;</loc></url></urlset>'
    ).encode()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    parsed = parse_sitemap(laughs, "https://x.org/l.xml")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024
    assert all(len(e.url) < 1000 for e in parsed.entries)
    dtd = b"""<?xml version="1.0"?><!DOCTYPE urlset SYSTEM "http://127.0.0.1:9/evil.dtd">
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://x.org/d</loc></url></urlset>"""
    assert [e.url for e in parse_sitemap(dtd, "https://x.org/d.xml").entries] == ["https://x.org/d"]


def test_w3c_dates() -> None:
    assert parse_w3c_date("2020-11-04") == datetime(2020, 11, 4, tzinfo=UTC)
    assert parse_w3c_date("2020-11-04T19:30:00+03:00") == WHEN
    assert parse_w3c_date("2020-11-04T16:30:00Z") == WHEN
    assert parse_w3c_date("yesterday") is None


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (rss_feed([]), "text/xml", "feed"),
        (atom_feed([]), "text/html", "feed"),
        (sitemap([]), "application/xml", "sitemap"),
        (sitemap_index([]), "text/xml", "sitemap"),
        (gzip.compress(sitemap([])), "application/octet-stream", "sitemap"),
        (b"<!doctype html><html><body>x</body></html>", "text/xml", "page"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><!-- c --><rss version='2.0'/>", None, "feed"),
        (b"{}", "application/rss+xml", "feed"),
    ],
)
def test_sniff_kind(body: bytes, content_type: str | None, kind: str) -> None:
    assert sniff_kind(body, content_type) == kind


def test_page_links() -> None:
    html = b"""<html><head><base href="https://x.org/news/"></head><body>
<a href="a?utm_source=x#c">a</a> <a href="/b">b</a> <a href="a">again</a>
<a href="javascript:void(0)">js</a> <a href="mailto:x@y.z">mail</a> <a href="https://y.org/n" rel="nofollow">n</a>
<a href="#top">top</a></body></html>"""
    assert page_links(html, "text/html", "https://x.org/") == ["https://x.org/news/a", "https://x.org/b"]
