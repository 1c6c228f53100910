"""The crawl frontier's entries and what a fetch does to them (pure: the warehouse stores them).

Every URL the crawler knows is one :class:`Entry` with a :class:`State`:

=========  ==========================================================================================
state      meaning
=========  ==========================================================================================
todo       to fetch at ``next_fetch_at`` (new, being retried, or deferred by its host)
done       fetched; rechecked at ``next_fetch_at`` (adaptive interval, conditional GET)
failed     retries used up, or a failure retrying cannot fix; ``reason`` says which; tried again
           much later (``next_fetch_at``)
blocked    never to be fetched as things stand: robots.txt, a private address, a scheme, the scope
alias      redirects to ``final_url``, whose own row holds the content; rechecked at ``next_fetch_at``
           in case the redirect changes (a 302 to a login page must not hide an article for good)
=========  ==========================================================================================

A URL that redirects is stored once: the document and the content's row are the final URL's
(:func:`redirect_target`), and the URL asked for becomes an alias (:func:`as_alias`), so finding
either again later fetches nothing.

No state says "in progress": a URL being fetched is still ``todo`` in the warehouse until the
batch holding its result is committed, so a crawl killed at any moment re-fetches exactly what was
in flight (a SIGKILL repeats only in-flight work) and leaves nothing stuck.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from crawlers.fetch import FetchResult, Outcome
from crawlers.schedule import Schedule, backoff_delay
from crawlers.settings import CrawlSettings
from crawlers.urls import host_key

__all__ = ["BLOCKING", "Entry", "Kind", "State", "after_fetch", "as_alias", "redirect_target"]


class State(StrEnum):
    """Where a frontier entry stands."""

    TODO = "todo"
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"
    ALIAS = "alias"


class Kind(StrEnum):
    """What a URL is expected to be; ``page`` also covers "not known yet" (the body decides)."""

    PAGE = "page"
    FEED = "feed"
    SITEMAP = "sitemap"


#: Outcomes that block a URL instead of failing it.
BLOCKING = frozenset({Outcome.ROBOTS_DISALLOWED, Outcome.BLOCKED_ADDRESS, Outcome.BLOCKED_SCHEME, Outcome.OUT_OF_SCOPE})


@dataclass(frozen=True)
class Entry:
    """One frontier row. ``attempts`` counts failed fetches since the last success."""

    url: str
    host: str
    kind: Kind
    depth: int
    state: State = State.TODO
    source: str | None = None
    reason: str | None = None
    attempts: int = 0
    discovered_at: datetime | None = None
    discovered_from: str | None = None
    next_fetch_at: datetime | None = None
    last_fetched_at: datetime | None = None
    last_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_sha256: str | None = None
    unchanged: int = 0
    interval_s: float | None = None
    doc_id: int | None = None
    final_url: str | None = None
    hint_published: datetime | None = None  # a date from where it was found (see hint_source)
    hint_source: str | None = None  # "feed", "sitemap-news" (publication date) or "sitemap" (lastmod)
    hint_title: str | None = None
    hint_precision: str | None = None  # of hint_published (a TimePrecision value; "day" for a date)

    def validators(self) -> dict[str, str]:
        """The conditional-GET headers for this URL (weak ETags are sent back as they came)."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def after_fetch(
    entry: Entry,
    result: FetchResult,
    now: datetime,
    settings: CrawlSettings,
    schedule: Schedule,
    rng: random.Random,
    *,
    changed: bool | None = None,
    monotonic_now: float | None = None,
) -> Entry:
    """The entry after ``result``; ``changed`` says, for a successful fetch, whether the content changed.

    Success resets ``attempts`` and schedules the recheck by the adaptive interval. A retryable
    failure is retried after an exponential backoff with jitter (or the server's Retry-After,
    whichever is later) until ``max_retries`` retries are used, then ``failed``. A deferral
    (robots.txt unreachable, a Crawl-delay over the cap) waits without counting an attempt.
    """
    base = replace(entry, last_fetched_at=now, last_status=result.status, final_url=result.final_url)
    if result.outcome is Outcome.ALIAS:
        return as_alias(entry, result, now, schedule)
    if result.outcome in (Outcome.OK, Outcome.NOT_MODIFIED):
        unchanged = entry.unchanged + 1 if not changed else 0
        interval = schedule.interval(entry.kind, unchanged)
        headers = result.headers
        return replace(
            base,
            state=State.DONE,
            reason=None,
            attempts=0,
            unchanged=unchanged,
            interval_s=interval,
            next_fetch_at=now + timedelta(seconds=interval),
            etag=headers.get("etag", entry.etag if result.outcome is Outcome.NOT_MODIFIED else None),
            last_modified=headers.get(
                "last-modified", entry.last_modified if result.outcome is Outcome.NOT_MODIFIED else None
            ),
        )
    reason = result.outcome.value + (f": {result.error}" if result.error else "")
    if result.deferred:
        wait = settings.max_crawl_delay
        if result.retry_at is not None and monotonic_now is not None:
            wait = max(1.0, result.retry_at - monotonic_now)
        return replace(base, state=State.TODO, reason=reason, next_fetch_at=now + timedelta(seconds=wait))
    if result.outcome in BLOCKING:
        # robots.txt may change; an address or scheme rule will not, until the settings do.
        later = schedule.error_base if result.outcome is Outcome.ROBOTS_DISALLOWED else None
        return replace(
            base,
            state=State.BLOCKED,
            reason=reason,
            next_fetch_at=now + timedelta(seconds=later) if later is not None else None,
        )
    attempts = entry.attempts + 1
    if result.retryable and attempts <= settings.max_retries:
        wait = backoff_delay(attempts, settings.backoff_base, settings.backoff_max, settings.jitter, rng)
        if result.retry_at is not None and monotonic_now is not None:
            wait = max(wait, result.retry_at - monotonic_now)
        return replace(
            base, state=State.TODO, reason=reason, attempts=attempts, next_fetch_at=now + timedelta(seconds=wait)
        )
    failures = max(1, attempts - settings.max_retries)
    return replace(
        base,
        state=State.FAILED,
        reason=reason,
        attempts=attempts,
        next_fetch_at=now + timedelta(seconds=schedule.error_interval(failures)),
    )


def as_alias(entry: Entry, result: FetchResult, now: datetime, schedule: Schedule) -> Entry:
    """The entry of a URL whose fetch was redirected to ``result.final_url``: an alias of it.

    Its validators and content hash are dropped (they are the target's); the recheck interval
    grows while the URL keeps redirecting to the same target.
    """
    same = entry.state is State.ALIAS and entry.final_url == result.final_url
    unchanged = entry.unchanged + 1 if same else 0
    interval = schedule.interval(entry.kind, unchanged)
    return replace(
        entry,
        state=State.ALIAS,
        reason=f"alias: redirects to {result.final_url}",
        attempts=0,
        last_fetched_at=now,
        last_status=result.status,
        final_url=result.final_url,
        etag=None,
        last_modified=None,
        content_sha256=None,
        unchanged=unchanged,
        interval_s=interval,
        next_fetch_at=now + timedelta(seconds=interval),
    )


def redirect_target(entry: Entry, final_url: str, now: datetime) -> Entry:
    """A new entry for ``final_url``, where ``entry``'s URL redirected: found there, and standing
    in for it (same source, kind, depth and the hints it was found with)."""
    return Entry(
        final_url,
        host_key(final_url),
        entry.kind,
        entry.depth,
        source=entry.source,
        discovered_at=now,
        discovered_from=entry.url,
        next_fetch_at=now,
        hint_published=entry.hint_published,
        hint_source=entry.hint_source,
        hint_title=entry.hint_title,
        hint_precision=entry.hint_precision,
    )
