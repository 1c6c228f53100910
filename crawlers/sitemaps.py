"""Sitemaps and sitemap indexes (sitemaps.org), with news sitemaps' publication dates.

Parsed with lxml's incremental parser with entities, DTDs and the network off (XXE and
billion-laughs documents give nothing). Limits from the protocol: at most 50,000 URLs
taken from one file and 50 MiB decoded (the fetcher's cap for sitemaps); a ``.xml.gz`` body is
un-gzipped within the same cap. A plain-text sitemap (one URL a line) is read too.
"""

from __future__ import annotations

import io
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from crawlers.compression import DecodingError, decode_body
from crawlers.urls import canonicalize
from reuse.errors import InputError
from reuse.models import TimePrecision, iso_precision

__all__ = ["MAX_SITEMAP_URLS", "Sitemap", "SitemapEntry", "parse_sitemap", "parse_w3c_date", "w3c_precision"]

#: URLs taken from one sitemap file (the protocol's limit).
MAX_SITEMAP_URLS = 50_000


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` (or ``<sitemap>``): its canonical location, ``<lastmod>`` and news publication date."""

    url: str
    lastmod: datetime | None = None
    published: datetime | None = None
    title: str | None = None
    lastmod_precision: str | None = None  # a TimePrecision value ("day" for "2020-11-04")
    published_precision: str | None = None


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: ``kind`` is ``"urlset"``, ``"index"`` or ``"unparseable"``."""

    kind: str
    entries: tuple[SitemapEntry, ...]
    truncated: bool = False
    error: str | None = None


def parse_w3c_date(value: str | None) -> datetime | None:
    """A W3C datetime (``2020-11-04``, ``2020-11-04T19:30:00+03:00``, ``...Z``) in UTC; None if unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def w3c_precision(value: str | None) -> str | None:
    """The precision of a W3C datetime as :func:`parse_w3c_date` reads it ("day" for "2020-11-04")."""
    if parse_w3c_date(value) is None:
        return None
    found = iso_precision(value or "")
    return (found or TimePrecision.SECOND).value


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_sitemap(body: bytes, url: str, cap: int = 50 * 1024 * 1024) -> Sitemap:
    """The entries of the sitemap ``body`` fetched from ``url``; never raises on bad input."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = decode_body(body, ["gzip"], cap)
        except DecodingError as err:
            return Sitemap("unparseable", (), error=str(err))
    head = body.lstrip()[:1]
    if head and head != b"<":
        return _text_sitemap(body, url)
    entries: list[SitemapEntry] = []
    kind = "unparseable"
    truncated = False
    error: str | None = None
    fields: dict[str, str] = {}
    parser = etree.iterparse(
        io.BytesIO(body),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=False,
    )
    try:
        for event, element in parser:
            name = _local(element.tag)
            if event == "start":
                if name in ("urlset", "sitemapindex") and kind == "unparseable":
                    kind = "urlset" if name == "urlset" else "index"
                continue
            if name in ("loc", "lastmod", "publication_date", "title"):
                fields[name] = (element.text or "").strip()
            elif name in ("url", "sitemap"):
                if len(entries) >= MAX_SITEMAP_URLS:
                    truncated = True
                    break
                loc = fields.get("loc")
                if loc:
                    with suppress(InputError):  # not http(s), or no host: never fetched
                        entries.append(
                            SitemapEntry(
                                canonicalize(loc, base=url),
                                parse_w3c_date(fields.get("lastmod")),
                                parse_w3c_date(fields.get("publication_date")),
                                fields.get("title") or None,
                                lastmod_precision=w3c_precision(fields.get("lastmod")),
                                published_precision=w3c_precision(fields.get("publication_date")),
                            )
                        )
                fields = {}
                element.clear()
    except etree.XMLSyntaxError as err:
        error = str(err)
    if kind == "unparseable" and error is None:
        error = "not a sitemap (no <urlset> or <sitemapindex>)"
    return Sitemap(kind, tuple(entries), truncated, error)


def _text_sitemap(body: bytes, url: str) -> Sitemap:
    entries = []
    for line in body.decode("utf-8", "replace").splitlines()[: MAX_SITEMAP_URLS + 1]:
        line = line.strip()
        if not line.startswith(("http://", "https://")):
            continue
        try:
            entries.append(SitemapEntry(canonicalize(line, base=url)))
        except InputError:
            continue
    truncated = len(entries) > MAX_SITEMAP_URLS
    return Sitemap("urlset" if entries else "unparseable", tuple(entries[:MAX_SITEMAP_URLS]), truncated)
