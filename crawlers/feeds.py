"""RSS and Atom feeds with feedparser: the item links, and their dates as lineage evidence.

feedparser reads RSS 0.9x, 1.0 and 2.0 and Atom leniently (a broken feed sets ``bozo`` and still
gives what it could read). Item links are resolved against ``xml:base`` or the feed's URL and
canonicalised; links with another scheme than http(s) are dropped here (no scheme but http(s) is
fetched). A body that gives no item and is not a feed at all is ``feed_unparseable`` (a broken feed
never crashes the crawl).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from crawlers.urls import canonicalize
from reuse.errors import InputError

__all__ = ["Feed", "FeedItem", "parse_feed"]


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed: its canonical link, title and publication (or update) time."""

    url: str
    title: str | None
    published: datetime | None


@dataclass(frozen=True)
class Feed:
    """A parsed feed. ``state`` is ``"ok"`` or ``"feed_unparseable"``; ``bozo`` is feedparser's flag."""

    items: tuple[FeedItem, ...]
    state: str
    bozo: bool = False
    error: str | None = None
    title: str | None = None


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                # feedparser normalises every date to UTC as a time.struct_time.
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _link(entry: Any) -> str | None:
    for link in entry.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    value = entry.get("link") or entry.get("id")
    return str(value) if value else None


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> Feed:
    """The items of the feed ``body`` fetched from ``url``; never raises on bad input."""
    if not body.strip():
        return Feed((), "feed_unparseable", error="empty body")
    # Without a content type feedparser flags every feed as bozo; the body decides anyway.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    except Exception as err:  # feedparser is lenient, but a parser bug must not stop a crawl
        return Feed((), "feed_unparseable", True, f"{type(err).__name__}: {err}")
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        raw = _link(entry)
        if not raw:
            continue
        try:
            link = canonicalize(raw, base=url)
        except InputError:
            continue  # another scheme (javascript:, file:...) or no host: never fetched
        if link in seen:
            continue
        seen.add(link)
        title = entry.get("title")
        items.append(FeedItem(link, str(title) if title else None, _when(entry)))
    bozo = bool(parsed.get("bozo"))
    error = str(parsed.get("bozo_exception")) if bozo else None
    is_feed = bool(parsed.get("version")) or bool(items)
    title = parsed.feed.get("title") if parsed.get("feed") else None
    return Feed(tuple(items), "ok" if is_feed else "feed_unparseable", bozo, error, str(title) if title else None)
