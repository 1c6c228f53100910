"""What a fetch means: from a fetch's :class:`~crawlers.fetch.FetchResult` and its frontier entry to
the document (if any), the frontier update, the URLs discovered and the fetch-log rows.

Pure but for the clock and the random jitter it is given: no network, no warehouse. The crawl loop
(:mod:`reuse.pipeline.crawl`) runs :func:`digest` in a thread for every fetch and commits what it
gives, batch by batch::

    FetchResult ─┬─ robots.txt fetches on the way ── fetch-log rows, the sitemaps they list
                 ├─ ok, new content ── sniffed kind ─┬─ feed: its items (with their dates and titles)
                 │                                   ├─ sitemap: its URLs, or its sitemaps (nested ≤ 3)
                 │                                   └─ page: its links (≤ max_depth), its Document
                 ├─ ok, same content / 304 ── "unchanged", rescheduled
                 └─ anything else ── retried, deferred, blocked or failed (crawlers.frontier.after_fetch)

Redirects: a page is stored under the URL it ends at, and the URL asked for becomes an alias of it
(:func:`crawlers.frontier.as_alias`).
"""

from __future__ import annotations

import hashlib
import random
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from crawlers.article import ArticleState
from crawlers.extract import extract
from crawlers.feeds import parse_feed
from crawlers.fetch import FetchResult, Outcome
from crawlers.frontier import Entry, Kind, after_fetch, as_alias, redirect_target
from crawlers.links import page_links, sniff_kind
from crawlers.pages import Found, page_document
from crawlers.schedule import Schedule
from crawlers.settings import CrawlSettings
from crawlers.sitemaps import parse_sitemap
from crawlers.sources import Source
from crawlers.urls import canonicalize, host_key
from reuse.errors import InputError
from reuse.models import Document

__all__ = ["MAX_SITEMAP_DEPTH", "Content", "Digest", "digest", "fetch_log_row"]

#: Sitemap indexes nested deeper than this are not followed (a hostile site could nest them forever).
MAX_SITEMAP_DEPTH = 3


@dataclass(frozen=True)
class Content:
    """A body the warehouse does not have yet (its ``sha256`` differs from the URL's last), to be
    stored once under its hash; ``url`` and ``seen`` say where and when it was first fetched."""

    sha256: str
    body: bytes
    url: str
    seen: datetime


@dataclass
class Digest:
    """One fetch, digested: what its batch's commit writes.

    ``entry`` is the frontier row after the fetch; after a redirect it is the final URL's row (new,
    or written over the stored one) and ``alias`` the row of the URL asked for. ``fetch_row`` is
    the fetch-log row, ``robots_rows`` those of the robots.txt fetches made on the way;
    ``discovered`` the URLs found (in scope; the frontier keeps those it has not seen).
    """

    entry: Entry
    fetch_row: dict[str, Any]
    content: Content | None = None
    document: Document | None = None
    discovered: list[Entry] = field(default_factory=list)
    alias: Entry | None = None
    robots_rows: list[dict[str, Any]] = field(default_factory=list)


def fetch_log_row(result: FetchResult, run_id: int, kind: str, attempt: int) -> dict[str, Any]:
    """The fetch-log row of one fetch (its body size, result and version are filled in after)."""
    return {
        "run_id": run_id,
        "url": result.url,
        "final_url": result.final_url,
        "started_at": result.started_at,
        "elapsed_ms": int(result.elapsed * 1000),
        "attempt": attempt,
        "outcome": result.outcome.value,
        "status": result.status,
        "error": result.error,
        "redirects": list(result.redirects),
        "peer": result.peer,
        "content_type": result.headers.get("content-type"),
        "kind": kind,
    }


def digest(
    entry: Entry,
    source: Source | None,
    result: FetchResult,
    *,
    run_id: int,
    crawl: CrawlSettings,
    schedule: Schedule,
    rng: random.Random,
    now: datetime,
    monotonic_now: float,
) -> Digest:
    """What the fetch ``result`` of the frontier ``entry`` (found for ``source``) means.

    ``now`` is the wall-clock time of the digest (stored), ``monotonic_now`` the monotonic one
    (a deferral's ``retry_at`` is monotonic); ``rng`` draws the retry jitter.
    """
    fetch_row = fetch_log_row(result, run_id, entry.kind.value, entry.attempts + 1)
    item = Digest(entry, fetch_row)
    _robots(item, source, result, run_id, now)
    if result.outcome is Outcome.OK and result.body is not None:
        if result.final_url != entry.url:
            # Stored once, under the URL it ended at; the URL asked for becomes its alias, so
            # that finding either of them again fetches nothing.
            item.alias = as_alias(entry, result, now, schedule)
            entry = item.entry = redirect_target(entry, result.final_url, now)
        body = result.body
        sha256 = hashlib.sha256(body).hexdigest()
        fetch_row.update(bytes=len(body), raw_sha256=sha256)
        changed = sha256 != entry.content_sha256
        updated = after_fetch(entry, result, now, crawl, schedule, rng, changed=changed)
        item.entry = replace(updated, content_sha256=sha256)
        if not changed:
            fetch_row["result"] = "unchanged"
            return item
        item.content = Content(sha256, body, result.final_url, now)
        kind = entry.kind if entry.kind is not Kind.PAGE else Kind(sniff_kind(body, result.headers.get("content-type")))
        fetch_row["kind"] = kind.value
        if kind is Kind.FEED:
            _feed(item, source, result, now)
        elif kind is Kind.SITEMAP:
            _sitemap(item, source, result, now, crawl)
        else:
            _page(item, source, result, now, crawl)
        return item
    if result.outcome is Outcome.NOT_MODIFIED:
        item.entry = after_fetch(entry, result, now, crawl, schedule, rng, changed=False)
        fetch_row["result"] = "not_modified"
        return item
    item.entry = after_fetch(entry, result, now, crawl, schedule, rng, monotonic_now=monotonic_now)
    return item


def _robots(item: Digest, source: Source | None, result: FetchResult, run_id: int, now: datetime) -> None:
    """Log the robots.txt fetches made on the way to ``result``; the sitemaps they list join the
    frontier like any sitemap found (canonical, in scope, once)."""
    for robots in result.robots_fetches:
        row = fetch_log_row(robots.result, run_id, "robots", 1)
        item.robots_rows.append(row)
        if robots.result.body is not None:
            row["bytes"] = len(robots.result.body)
        if robots.rules is None:
            continue
        sitemaps = robots.rules.sitemaps()
        row["result"] = f"robots: {robots.rules.state}"
        if sitemaps:
            row["result"] += f", lists {len(sitemaps)} sitemap" + ("s" if len(sitemaps) > 1 else "")
        for url in sitemaps:
            with suppress(InputError):  # a scheme not fetched (only http(s)) or no URL at all
                canonical = canonicalize(url, base=robots.result.final_url)
                _found(item, source, canonical, Kind.SITEMAP, 0, now, found_on=robots.result.url)


def _found(item: Digest, source: Source | None, url: str, kind: Kind, depth: int, now: datetime,
           hint: tuple[str, datetime | None, str | None] | None = None, title: str | None = None,
           found_on: str | None = None) -> None:  # fmt: skip
    """Add ``url`` to what ``item`` discovered, when in ``source``'s scope; ``hint`` is the
    ``(source, date, precision)`` it was listed with."""
    if source is not None and not source.scope.contains(url):
        return
    dated = hint is not None and hint[1] is not None
    item.discovered.append(
        Entry(
            url,
            host_key(url),
            kind,
            depth,
            source=item.entry.source,
            discovered_at=now,
            discovered_from=found_on or item.entry.url,
            next_fetch_at=now,
            hint_published=hint[1] if hint and dated else None,
            hint_source=hint[0] if hint and dated else None,
            hint_title=title,
            hint_precision=hint[2] if hint and dated else None,
        )
    )


def _feed(item: Digest, source: Source | None, result: FetchResult, now: datetime) -> None:
    feed = parse_feed(result.body or b"", result.final_url, result.headers.get("content-type"))
    for feed_item in feed.items:
        hint = ("feed", feed_item.published, None)  # feed dates carry a time (RFC 822)
        _found(item, source, feed_item.url, Kind.PAGE, 0, now, hint, feed_item.title)
    item.fetch_row["result"] = f"feed: {len(feed.items)} items" if feed.state == "ok" else feed.state
    if feed.bozo and feed.error:
        item.fetch_row["error"] = f"bozo: {feed.error}"[:500]
    if feed.state != "ok":
        item.entry = replace(item.entry, reason=feed.state)


def _sitemap(item: Digest, source: Source | None, result: FetchResult, now: datetime, crawl: CrawlSettings) -> None:
    parsed = parse_sitemap(result.body or b"", result.final_url, crawl.max_sitemap_bytes)
    depth = item.entry.depth
    for entry in parsed.entries:
        if parsed.kind == "index":
            if depth + 1 <= MAX_SITEMAP_DEPTH:
                _found(item, source, entry.url, Kind.SITEMAP, depth + 1, now)
        else:
            hint = (
                ("sitemap-news", entry.published, entry.published_precision)
                if entry.published
                else ("sitemap", entry.lastmod, entry.lastmod_precision)
            )
            _found(item, source, entry.url, Kind.PAGE, 0, now, hint, entry.title)
    item.fetch_row["result"] = (
        f"sitemap {parsed.kind}: {len(parsed.entries)} URLs" + (" (truncated)" if parsed.truncated else "")
        if parsed.kind != "unparseable"
        else "sitemap_unparseable"
    )
    if parsed.kind == "unparseable":
        item.entry = replace(item.entry, reason=f"sitemap_unparseable: {parsed.error}")


def _page(item: Digest, source: Source | None, result: FetchResult, now: datetime, crawl: CrawlSettings) -> None:
    body, url = result.body or b"", result.final_url
    article = extract(body, result.headers, url)
    max_depth = source.max_depth if source and source.max_depth is not None else crawl.max_depth
    links = 0
    if item.entry.depth < max_depth and article.state is not ArticleState.NOT_TEXT:
        for link in page_links(body, result.headers.get("content-type"), url):
            _found(item, source, link, Kind.PAGE, item.entry.depth + 1, now)
            links += 1
    if article.state is not ArticleState.OK:
        why = f"{article.state.value}" + (f": {article.reason}" if article.reason else "")
        item.fetch_row["result"] = why
        item.entry = replace(item.entry, reason=why)
        return
    item.document = page_document(article, url, _found_with(item.entry, source))
    item.fetch_row["result"] = "article" + (f", {links} links" if links else "")


def _found_with(entry: Entry, source: Source | None) -> Found:
    """What the crawl knows of a page from where it found it: the date and title a feed or sitemap
    listed it with (kept as lineage evidence: when the site said, outside the page, that it
    published it), and the publisher its source names."""
    dates: tuple[tuple[str, datetime, str | None], ...] = ()
    if entry.hint_published is not None and entry.hint_source is not None:
        dates = ((entry.hint_source, entry.hint_published, entry.hint_precision),)
    return Found(
        dates=dates,
        title=entry.hint_title,
        site=source.site if source else None,
    )
