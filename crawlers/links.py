"""What kind of document a fetched body is, and the links of an HTML page, for discovery."""

from __future__ import annotations

import re
from contextlib import suppress

import lxml.html
from lxml import etree

from crawlers.charset import decode_text
from crawlers.urls import canonicalize
from reuse.errors import InputError

__all__ = ["page_links", "sniff_kind"]

_FEED_TYPES = re.compile(r"application/(?:rss|atom|rdf)\+xml", re.I)
_PROLOG = re.compile(rb"^(?:\xef\xbb\xbf)?(?:\s+|<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S | re.I)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")


def sniff_kind(body: bytes, content_type: str | None = None) -> str:
    """``"feed"``, ``"sitemap"`` or ``"page"``, from the root element (the Content-Type only helps).

    A URL given on the command line may be any of the three; servers label feeds and sitemaps
    ``text/xml``, ``application/xml`` or even ``text/html``, so the body decides.
    """
    if body[:2] == b"\x1f\x8b":
        return "sitemap"  # a .xml.gz served without Content-Encoding: only sitemaps come so
    head = body[:4096]
    prolog = _PROLOG.match(head)
    rest = head[prolog.end() if prolog else 0 :]
    root = _ROOT.match(rest)
    if root:
        name = root.group(1).split(b":")[-1].lower()
        if name in (b"rss", b"feed", b"rdf"):
            return "feed"
        if name in (b"urlset", b"sitemapindex"):
            return "sitemap"
    if content_type and _FEED_TYPES.search(content_type):
        return "feed"
    return "page"


def page_links(body: bytes, content_type: str | None, url: str) -> list[str]:
    """The canonical http(s) links of an HTML page, in order, once each; ``rel=nofollow`` left out."""
    text = decode_text(body, content_type).text
    try:
        doc = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1))
    except (etree.ParserError, ValueError):
        return []
    base = url
    for element in doc.iter("base"):
        if href := (element.get("href") or "").strip():
            with suppress(InputError):
                base = canonicalize(href, base=url)
            break
    found: dict[str, None] = {}
    for anchor in doc.iter("a", "area"):
        href = anchor.get("href")
        if not href or href.startswith("#") or "nofollow" in (anchor.get("rel") or "").lower():
            continue
        try:
            found.setdefault(canonicalize(href, base=base))
        except InputError:
            continue  # javascript:, mailto:, file: ...: only http(s) is fetched
    return list(found)
