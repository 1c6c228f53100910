"""Fuzzing the parsers that read what strangers send (0 crashes on any bytes), with hypothesis.

Each parser must turn any input into a result or a documented error, never an unhandled
exception. ``canonicalize`` may reject a string that is no fetchable URL with ``InputError`` (its
documented refusal); the feed, sitemap and page parsers must accept any bytes.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers.extract import extract
from crawlers.feeds import parse_feed
from crawlers.sitemaps import parse_sitemap
from crawlers.urls import canonicalize
from reuse.errors import InputError

# Pieces of feeds and sitemaps, so that random strings of them reach deep into the parsers.
PIECES = [
    b"<?xml version='1.0'?>", b"<rss>", b"<channel>", b"<item>", b"<link>", b"http://a.example/x", b"</item>",
    b"<feed xmlns='http://www.w3.org/2005/Atom'>", b"<entry>", b"<urlset>", b"<url>", b"<loc>", b"</loc>",
    b"<sitemapindex>", b"<lastmod>2020-13-45</lastmod>", b"&nbsp;", b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
    b"&a;", b"\x00", b"\xff\xfe", b"]]>", b"<![CDATA[",
]  # fmt: skip
XMLISH = st.one_of(st.binary(max_size=2000), st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join))


@settings(max_examples=300, deadline=None)
@given(XMLISH)
def test_parse_feed_takes_any_bytes(body: bytes) -> None:
    parse_feed(body, "https://a.example/feed")


@settings(max_examples=300, deadline=None)
@given(XMLISH)
def test_parse_sitemap_takes_any_bytes(body: bytes) -> None:
    parse_sitemap(body, "https://a.example/sitemap.xml")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([None, "text/html", "text/html; charset=koi8-r", "text/plain"]))
def test_extract_takes_any_bytes_and_headers(body: bytes, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else None
    article = extract(body, headers, "https://a.example/page")
    assert article.text == "\n\n".join(block.text for block in article.paragraphs)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_canonicalize_takes_any_string(text: str) -> None:
    try:
        once = canonicalize(text)
    except InputError:
        return
    assert canonicalize(once) == once
