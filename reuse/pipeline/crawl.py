"""The crawl pipeline: frontier → fetch → extract → store and match → frontier, batch by batch.

::

    seeds ─ frontier (warehouse) ─ due URLs ─ one lane per host ─ Fetcher (robots, delay, caps)
        ─ digest (thread, :mod:`crawlers.digest`): feed items / sitemap entries / article + links,
          robots.txt sitemaps; the new body compressed ─ pending batch
        ─ commit (DB thread, one transaction): documents, passages, signatures, band keys and
          matches (reuse.pipeline.ingest), raw pages, fetch log, frontier rows changed and found
        ─ new and retried URLs back to their lanes

Durability (nothing lost or duplicated by a kill or a crash): nothing the crawler learns is written
anywhere but in a batch's single transaction, and a URL stays ``todo`` in the warehouse until the
batch holding its result is committed. A crawl killed at any moment therefore keeps every committed
document with its frontier state, and on restart re-fetches only what was in flight or pending.

Readers (analysts may query while a crawl runs): DuckDB lets one process hold a file for writing and
then nobody else may open it, not even read-only. The crawler therefore opens the warehouse only to
commit a batch (about a second every ``batch_seconds``) and closes it, with a ``CHECKPOINT``, right
after; analysts' commands wait for it (``open_when_free``) instead of failing. A second crawl on the
same file is refused by a lock file naming the running one's PID.

Redirects (one document per page, whatever redirects led to it): a page is stored under the URL it
ends at, and the URL asked for becomes an alias of it (:func:`crawlers.frontier.as_alias`); a
redirect to a URL this run already fetched is not followed again, and a URL fetched through a
redirect is not fetched again from its own row. Every robots.txt fetch goes into the fetch log, and
the sitemaps it lists join the frontier.

This module and :mod:`reuse.pipeline.ingest` are the only ones that wire crawlers and warehouse together.
"""

from __future__ import annotations

import asyncio
import fcntl
import heapq
import itertools
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import zstandard

from crawlers.addresses import Resolver
from crawlers.article import Article
from crawlers.digest import Content, Digest, digest
from crawlers.extract import extract
from crawlers.fetch import Fetcher, FetchResult, Outcome
from crawlers.frontier import Entry, Kind, State
from crawlers.schedule import Schedule
from crawlers.settings import CrawlSettings
from crawlers.sources import Source
from crawlers.urls import canonicalize, host_key
from reuse import reusetrack_version
from reuse.config import Settings
from reuse.errors import InputError, WarehouseLocked
from reuse.models import Document
from reuse.pipeline.ingest import Ingestor, IngestReport
from reuse.pipeline.lineage import update_lineage
from warehouse.crawl import (
    due_frontier,
    insert_fetches,
    insert_new_frontier,
    insert_raw_pages,
    make_due,
    save_sources,
    update_frontier,
)
from warehouse.db import Warehouse, open_when_free

__all__ = ["CrawlReport", "Crawler", "crawl_lock", "fetch_article", "run_crawl"]

ProgressHook = Callable[["CrawlReport"], None]


@dataclass
class CrawlReport:
    """What one crawl run did, updated live (``progress`` hooks see it after every fetch and commit).

    ``fetched`` counts fetches (one per URL try, redirects included); ``stored`` documents stored
    as new documents or versions; ``unchanged`` fetches that found nothing new (304 or same
    content); ``failed`` URLs that used up their retries or failed for good in this run;
    ``retries`` retries scheduled; ``scheduled_later`` URLs left due after this run; ``aliases``
    URLs that redirected (stored as aliases of where they lead).
    """

    run_id: int = 0
    fetched: int = 0
    stored: int = 0
    unchanged: int = 0
    failed: int = 0
    retries: int = 0
    blocked: int = 0
    deferred: int = 0
    no_article: int = 0
    discovered: int = 0
    errors: int = 0
    matches: int = 0
    pairs: int = 0
    batches: int = 0
    scheduled_later: int = 0
    aliases: int = 0
    stopped: bool = False
    outcomes: Counter[str] = field(default_factory=Counter)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (state, url, reason)

    def counts(self) -> dict[str, Any]:
        """The counts as JSON-ready values (stored with the run)."""
        out: dict[str, Any] = {k: v for k, v in vars(self).items() if isinstance(v, int) and k != "run_id"}
        out["outcomes"] = dict(sorted(self.outcomes.items()))
        return out


@dataclass
class _Pending(Digest):
    """A digested fetch waiting for its batch's commit, its new body (if any) compressed for raw_pages."""

    raw: dict[str, Any] | None = None


@contextmanager
def crawl_lock(db: str | Path) -> Iterator[None]:
    """Hold ``DB.crawl.lock`` for the body: one crawl per warehouse, the second told who runs.

    The lock is the kernel's (``flock``), so it goes away with the process, even on SIGKILL.
    """
    if str(db) == ":memory:":
        yield
        return
    path = Path(f"{db}.crawl.lock")
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
            who = f" (PID {holder})" if holder.isdigit() else ""
            raise WarehouseLocked(f"another crawl{who} is running on warehouse {db}; wait for it or stop it") from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(handle)  # closing drops the flock


def _entry(row: dict[str, Any]) -> Entry:
    values = dict(row)
    values["kind"] = Kind(values["kind"])
    values["state"] = State(values["state"])
    return Entry(**values)


def _row(entry: Entry) -> dict[str, Any]:
    row = dict(vars(entry))
    row["kind"] = entry.kind.value
    row["state"] = entry.state.value
    return row


class Crawler:
    """One crawl run over ``sources`` into the warehouse at ``db``; :meth:`run` it once.

    ``force_seeds`` makes every seed URL due now (start pages and feeds are where new articles
    appear; conditional GET keeps re-asking cheap). With ``follow=False`` (``reusetrack fetch``)
    only the seeds are fetched; what they lead to is added to the frontier for a later crawl.
    ``resolver`` is for tests (fixture host names).
    """

    def __init__(
        self,
        db: str | Path,
        settings: Settings,
        crawl: CrawlSettings,
        sources: list[Source],
        *,
        schedule: Schedule | None = None,
        command: str = "crawl",
        force_seeds: bool = True,
        follow: bool = True,
        resolver: Resolver | None = None,
        progress: ProgressHook | None = None,
        seed: int | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.crawl = crawl
        self.sources = {source.name: source for source in sources}
        self.schedule = schedule or Schedule()
        self.command = command
        self.force_seeds = force_seeds
        self.follow = follow
        self.resolver = resolver
        self.progress = progress or (lambda _report: None)
        self.rng = random.Random(seed)
        self.report = CrawlReport()
        self.ingest_report: IngestReport | None = None
        self.ingestor: Ingestor | None = None
        self.fetcher: Fetcher | None = None
        self.queues: dict[str, list[tuple[float, int, Entry]]] = {}
        self.lanes: dict[str, asyncio.Task[None]] = {}
        self.lane_wake: dict[str, asyncio.Event] = {}
        self.pending: list[_Pending] = []
        self.pending_since = 0.0
        self.pages: Counter[str] = Counter()
        self.queued: set[str] = set()
        self.fetched: set[str] = set()  # URLs whose content this run has (not to be fetched again)
        self.sequence = itertools.count()
        self.wake = asyncio.Event()
        self.room = asyncio.Event()  # set when the pending batch has room again
        self.stopping = False
        self.stop_event = stop
        self.deadline = 0.0
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reusetrack-db")
        # Extraction and parsing get threads of their own, so that name lookups (asyncio's default
        # executor) never queue behind them and delay a request.
        self.digest_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reusetrack-digest")
        # zstandard's compressors must not be shared between threads (sharing one crashed the
        # process under load): one per digest thread.
        self.local = threading.local()

    # -- the warehouse side (always on the DB thread) -----------------------------------------

    def _open(self) -> Warehouse:
        return open_when_free(self.db, self.settings, wait=self.crawl.lock_wait)

    def _start(self, now: datetime) -> list[Entry]:
        """Record the run and the sources, add the seeds to the frontier, and return the due URLs."""
        with self._open() as wh:
            with wh.transaction():
                run_id = wh.start_run(self.command, self.settings, reusetrack_version())
                save_sources(
                    wh,
                    [
                        {"name": s.name, "site": s.site, "config": s.config, "updated_at": now}
                        for s in self.sources.values()
                    ],
                )
                seeds = [
                    Entry(url, host_key(url), kind, 0, source=source.name, discovered_at=now, next_fetch_at=now)
                    for source in self.sources.values()
                    for url, kind in source.seeds
                ]
                insert_new_frontier(wh, [_row(e) for e in seeds])
                if self.force_seeds:
                    make_due(wh, [e.url for e in seeds], now)
                due = due_frontier(wh, now + timedelta(seconds=self.crawl.linger), list(self.sources))
            self.report.run_id = run_id
            self.ingest_report = IngestReport(run_id)
            # Pages land a few at a time between fetches: analysed in this process.
            self.ingestor = Ingestor(wh, self.settings, self.ingest_report)
        return [_entry(row) for row in due]

    def _commit(self, batch: list[_Pending]) -> list[Entry]:
        """Commit one batch in one transaction; return the URLs it added to the frontier."""
        assert self.ingestor is not None
        documents = [item.document for item in batch if item.document is not None]
        discovered: list[Entry] = []

        def frontier(wh: Warehouse) -> None:
            versions = wh.latest_versions([d.url for d in documents])
            rows, targets = [], []
            for item in batch:
                if item.document is not None and item.document.url in versions:
                    stored = versions[item.document.url]
                    item.fetch_row["version_id"] = stored.version_id
                    item.entry = replace(item.entry, doc_id=stored.doc_id)
                rows.append(_row(item.entry))
                if item.alias is not None:
                    targets.append(rows[-1])
                    rows.append(_row(item.alias))
            insert_raw_pages(wh, [item.raw for item in batch if item.raw is not None])
            insert_fetches(wh, [row for item in batch for row in (*item.robots_rows, item.fetch_row)])
            # A redirect target gets its row if it has none; the update below then writes this
            # fetch's result over it either way.
            insert_new_frontier(wh, targets)
            update_frontier(wh, rows)
            found = [e for item in batch for e in item.discovered]
            new = set(insert_new_frontier(wh, [_row(e) for e in found]))
            for entry in found:
                if entry.url in new:
                    discovered.append(entry)
                    new.discard(entry.url)

        with self._open() as wh:
            self.ingestor.wh = wh  # a fresh connection per batch: the file is free between batches
            items: list[Document | InputError] = list(documents)
            self.ingestor.batch(items, lambda _source: None, also=frontier)
        self.report.discovered += len(discovered)
        return discovered

    def _finish(self) -> None:
        with self._open() as wh, wh.transaction():
            # As after an ingest: the stories holding the pages this run (or a killed one) stored are rebuilt.
            update_lineage(wh, self.settings, self.report.run_id)
            wh.finish_run(self.report.run_id, self.report.counts())

    # -- the fetching side (event loop) --------------------------------------------------------

    def stop(self) -> None:
        """Stop taking new URLs; in-flight ones are abandoned (they stay ``todo``) and the pending
        batch is committed. Call it on the event loop; from elsewhere, set the ``stop`` event."""
        self.stopping = True
        self.report.stopped = True
        for task in self.lanes.values():
            task.cancel()
        self.wake.set()

    def _enqueue(self, entry: Entry, now: datetime) -> None:
        if entry.url in self.queued or self.stopping:
            return
        wait = 0.0 if entry.next_fetch_at is None else (entry.next_fetch_at - now).total_seconds()
        due = time.monotonic() + max(0.0, wait)
        if due > self.deadline:
            self.report.scheduled_later += 1  # left in the frontier for a later run
            return
        self.queued.add(entry.url)
        heapq.heappush(self.queues.setdefault(entry.host, []), (due, next(self.sequence), entry))
        if entry.host in self.lanes:
            self.lane_wake[entry.host].set()
        else:
            self.lane_wake[entry.host] = asyncio.Event()
            lane = self.lanes[entry.host] = asyncio.create_task(self._lane(entry.host))
            lane.add_done_callback(partial(self._lane_gone, entry.host))

    def _lane_gone(self, host: str, lane: asyncio.Task[None]) -> None:
        """Forget a lane that was cancelled before it ever ran (:meth:`stop` right after a commit
        created it): it never reaches its own ``finally``, and the run would wait for it for ever.
        A lane that ran has already removed itself there, at once, so that no URL is queued for a
        lane that is ending."""
        if self.lanes.get(host) is lane:
            del self.lanes[host]
            self.wake.set()

    async def _lane(self, host: str) -> None:
        """Fetch ``host``'s URLs one at a time, each when due (the Fetcher keeps the delay)."""
        queue, wake = self.queues[host], self.lane_wake[host]
        try:
            while queue and not self.stopping:
                due, _, entry = queue[0]
                wait = due - time.monotonic()
                if wait > 0:
                    wake.clear()
                    with suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), wait)
                    continue
                if len(self.pending) >= 2 * self.crawl.batch_size:
                    # Back-pressure: while commits lag behind, fetch no more. This bounds memory
                    # and the work a crash can lose (what is fetched but not yet committed).
                    self.room.clear()
                    self.wake.set()
                    await self.room.wait()
                    continue
                heapq.heappop(queue)
                self.queued.discard(entry.url)
                if entry.url in self.fetched:
                    continue  # fetched through a redirect: that fetch's batch writes its row
                source = self.sources.get(entry.source or "")
                limit = source.max_pages if source and source.max_pages is not None else self.crawl.max_pages
                if self.pages[entry.source or ""] >= limit:
                    continue  # the source's page cap for this run: the URL stays todo
                self.pages[entry.source or ""] += 1
                digested = await self._fetch_one(entry, source)
                if digested.entry.state is State.DONE:
                    self.fetched.add(digested.entry.url)
                if digested.entry.state is State.TODO:
                    # A retry or a deferral is queued now, so its backoff is kept to the second; its
                    # frontier row is written with the batch (a crash just means fetching it again).
                    self._enqueue(digested.entry, datetime.now(UTC))
                if not self.pending:
                    self.pending_since = time.monotonic()
                self.pending.append(digested)
                self.progress(self.report)
                if len(self.pending) >= self.crawl.batch_size:
                    self.wake.set()
        finally:
            del self.lanes[host]
            self.wake.set()

    async def _fetch_one(self, entry: Entry, source: Source | None) -> _Pending:
        assert self.fetcher is not None
        caps = {Kind.FEED: self.crawl.max_feed_bytes, Kind.SITEMAP: self.crawl.max_sitemap_bytes}
        result = await self.fetcher.fetch(
            entry.url,
            max_bytes=caps.get(entry.kind, self.crawl.max_page_bytes),
            headers=entry.validators() or None,
            in_scope=source.scope.contains if source else None,
            have=self.fetched.__contains__,
        )
        loop = asyncio.get_running_loop()
        digested = await loop.run_in_executor(self.digest_pool, self._digest, entry, source, result, time.monotonic())
        self._count(digested, result)
        return digested

    def _digest(self, entry: Entry, source: Source | None, result: FetchResult, mono: float) -> _Pending:
        """What a fetch means for the frontier and the warehouse (:func:`crawlers.digest.digest`),
        its new body compressed: CPU work, run in a digest thread."""
        item = digest(entry, source, result, run_id=self.report.run_id, crawl=self.crawl, schedule=self.schedule,
                      rng=self.rng, now=datetime.now(UTC), monotonic_now=mono)  # fmt: skip
        return _Pending(**vars(item), raw=self._raw_row(item.content) if item.content is not None else None)

    def _raw_row(self, content: Content) -> dict[str, Any]:
        """The raw_pages row of a new body, compressed with zstd."""
        return {
            "sha256": content.sha256,
            "size": len(content.body),
            "compression": "zstd",
            "body": self._compressor().compress(content.body),
            "first_url": content.url,
            "first_seen": content.seen,
        }

    def _compressor(self) -> zstandard.ZstdCompressor:
        found: zstandard.ZstdCompressor | None = getattr(self.local, "compressor", None)
        if found is None:
            found = self.local.compressor = zstandard.ZstdCompressor(level=3)
        return found

    def _count(self, item: Digest, result: FetchResult) -> None:
        """Count one digested fetch in the live report (on the event loop, so counts never race)."""
        report = self.report
        report.fetched += 1
        report.outcomes[result.outcome.value] += 1
        if item.alias is not None or result.outcome is Outcome.ALIAS:
            report.aliases += 1
        if result.outcome is Outcome.ALIAS:
            return
        if result.outcome in (Outcome.OK, Outcome.NOT_MODIFIED):
            if item.fetch_row.get("result") in ("unchanged", "not_modified"):
                report.unchanged += 1
            elif item.fetch_row.get("kind") == Kind.PAGE.value and item.document is None:
                report.no_article += 1
            return
        report.errors += 1
        state = item.entry.state
        if state is State.FAILED:
            report.failed += 1
            report.problems.append(("failed", item.entry.url, item.entry.reason or ""))
        elif state is State.BLOCKED:
            report.blocked += 1
            report.problems.append(("blocked", item.entry.url, item.entry.reason or ""))
        elif result.deferred:
            report.deferred += 1
        else:
            report.retries += 1

    async def _commit_pending(self) -> None:
        batch, self.pending = self.pending, []
        self.room.set()
        loop = asyncio.get_running_loop()
        queue = await loop.run_in_executor(self.db_thread, self._commit, batch)
        self.report.batches += 1
        if self.ingest_report is not None:
            self.report.stored = self.ingest_report.ingested
            self.report.matches = self.ingest_report.matches
            self.report.pairs = self.ingest_report.pairs
        now = datetime.now(UTC)
        for entry in queue if self.follow else ():
            self._enqueue(entry, now)
        self.progress(self.report)

    async def run(self) -> CrawlReport:
        """Crawl until nothing is due within ``linger`` seconds (or :meth:`stop`); return the report."""
        loop = asyncio.get_running_loop()
        with crawl_lock(self.db):
            now = datetime.now(UTC)
            due = await loop.run_in_executor(self.db_thread, self._start, now)
            self.deadline = time.monotonic() + self.crawl.linger
            if self.stop_event is not None and self.stop_event.is_set():
                self.stop()
            async with Fetcher(self.crawl, version=reusetrack_version(), resolver=self.resolver) as fetcher:
                self.fetcher = fetcher
                for source in self.sources.values():
                    if source.delay is not None:
                        for host in source.hosts():
                            fetcher.set_delay(host, source.delay)
                seeds = {url for source in self.sources.values() for url, _ in source.seeds}
                for entry in due:
                    if self.follow or entry.url in seeds:
                        self._enqueue(entry, now)
                self.progress(self.report)
                while True:
                    if self.stop_event is not None and self.stop_event.is_set() and not self.stopping:
                        self.stop()
                    self.deadline = max(self.deadline, time.monotonic() + self.crawl.linger)
                    age = time.monotonic() - self.pending_since
                    if self.pending and (
                        len(self.pending) >= self.crawl.batch_size
                        or age >= self.crawl.batch_seconds
                        or not self.lanes
                        or self.stopping
                    ):
                        await self._commit_pending()
                        continue
                    if not self.lanes and not self.pending:
                        break
                    self.wake.clear()
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), self.crawl.batch_seconds / 4)
            await loop.run_in_executor(self.db_thread, self._finish)
        self.db_thread.shutdown()
        self.digest_pool.shutdown()
        return self.report


def fetch_article(url: str, settings: CrawlSettings, *, resolver: Resolver | None = None) -> Article:
    """The article of the page at ``url``, fetched once under the crawler's rules (robots.txt,
    address policy, size and time caps) and extracted, without storing anything.

    Raises :class:`~reuse.errors.InputError` when the page cannot be fetched.
    """

    async def fetch_once() -> FetchResult:
        async with Fetcher(settings, version=reusetrack_version(), resolver=resolver) as fetcher:
            return await fetcher.fetch(canonicalize(url))

    result = asyncio.run(fetch_once())
    if result.outcome is not Outcome.OK or result.body is None:
        status = f" HTTP {result.status}" if result.status else ""
        raise InputError(url, f"not fetched: {result.outcome}{status}" + (f" ({result.error})" if result.error else ""))
    return extract(result.body, result.headers, result.final_url)


def run_crawl(
    db: str | Path,
    settings: Settings,
    crawl: CrawlSettings,
    sources: list[Source],
    *,
    command: str = "crawl",
    schedule: Schedule | None = None,
    resolver: Resolver | None = None,
    progress: ProgressHook | None = None,
    stop: threading.Event | None = None,
    follow: bool = True,
) -> CrawlReport:
    """Run one crawl to its end and return its report. Setting ``stop`` (from a signal handler,
    another thread...) ends it cleanly within a moment: the pending batch is committed and URLs in
    flight stay ``todo``."""
    crawler = Crawler(db, settings, crawl, sources, command=command, schedule=schedule, resolver=resolver,
                      progress=progress, stop=stop, follow=follow)  # fmt: skip
    return asyncio.run(crawler.run())
