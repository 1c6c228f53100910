"""Benchmark: crawl throughput (pages/s) through fetch → extract → match → commit, on the fixture web.

The fixture web of the tests (tests/fixtureweb.py) serves ``--pages`` generated articles over
``--hosts`` loopback servers, each with robots.txt and a sitemap; one article in ten on every
host but the first copies the first host's article of the same number, so matching has real work.
A crawl of all of it runs into a fresh warehouse with no politeness delay (``delay = 0``; the
real default is 2 s per host, which bounds a real crawl long before the machine does), and the
wall time from start to the last commit gives pages/s. The stages are timed too: fetch
(network and decoding), digest (extraction, link and feed parsing) and commit (fingerprints,
candidates, alignment, the warehouse transaction).

Usage (from the repository root)::

    python bench/crawl.py [--pages N] [--hosts H] [--batch B] [--faults]

``--faults`` adds the fault-injected crawl's mix (10% 5xx, 5% timeouts, 2% resets on the first try, 1% always
500) and checks its figure: all but 1% stored, 1% failed, nothing dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from fixtureweb import FixtureWeb, f4_faults, news_web  # noqa: E402

from crawlers.addresses import parse_networks  # noqa: E402
from crawlers.fetch import Fetcher, FetchResult  # noqa: E402
from crawlers.frontier import Kind  # noqa: E402
from crawlers.settings import CrawlSettings  # noqa: E402
from crawlers.sources import Source  # noqa: E402
from crawlers.urls import Scope, canonicalize, host_key  # noqa: E402
from reuse.config import Settings  # noqa: E402
from reuse.pipeline import crawl as crawl_pipeline  # noqa: E402
from warehouse.db import open_warehouse  # noqa: E402

STAGES: defaultdict[str, float] = defaultdict(float)
_LOCK = threading.Lock()


class _TimedFetcher(Fetcher):
    """The fetcher, timing each page fetch (robots.txt fetches inside it included)."""

    async def fetch(self, url: str, **kwargs: Any) -> FetchResult:
        if kwargs.get("robots") is False:
            return await super().fetch(url, **kwargs)
        started = time.perf_counter()
        try:
            return await super().fetch(url, **kwargs)
        finally:
            STAGES["fetch"] += time.perf_counter() - started


class _Timed(crawl_pipeline.Crawler):
    """The crawler with its digest and commit stages timed (seconds, summed over calls)."""

    def _digest(self, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return super()._digest(*args)
        finally:
            with _LOCK:
                STAGES["digest"] += time.perf_counter() - started

    def _commit(self, batch: Any) -> Any:
        started = time.perf_counter()
        try:
            return super()._commit(batch)
        finally:
            STAGES["commit"] += time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--faults", action="store_true")
    args = parser.parse_args()

    web = FixtureWeb()
    try:
        sites = news_web(web, hosts=args.hosts, pages=args.pages, faults=f4_faults if args.faults else None)
        for site in sites:
            site.drip_interval = 0.2
        sources = [
            Source(site.name, ((canonicalize(site.url("/sitemap.xml")), Kind.SITEMAP),),
                   Scope(frozenset({host_key(canonicalize(site.base))})))
            for site in sites
        ]  # fmt: skip
        settings = CrawlSettings(
            delay=0.0,
            allow_private=parse_networks(["127.0.0.1/32"]),
            batch_size=args.batch,
            batch_seconds=2.0,
            backoff_base=0.3,
            total_timeout=1.0 if args.faults else 30.0,
            linger=30.0,
        )
        with tempfile.TemporaryDirectory(prefix="reusetrack-bench-") as scratch:
            db = Path(scratch) / "bench.duckdb"
            crawl_pipeline.Fetcher = _TimedFetcher  # type: ignore[misc]
            crawler = _Timed(db, Settings(), settings, sources)
            started = time.perf_counter()
            report = asyncio.run(crawler.run())
            wall = time.perf_counter() - started
            with open_warehouse(db, read_only=True) as wh:
                counts = wh.counts()
                states = dict(wh.query("SELECT state, count(*) FROM frontier GROUP BY ALL")[1])
    finally:
        web.close()
    stages = STAGES
    result = {
        "pages": args.pages,
        "hosts": args.hosts,
        "wall_s": round(wall, 2),
        "pages_per_s": round(report.stored / wall, 1),
        "fetches": report.fetched,
        "stored": report.stored,
        "failed": report.failed,
        "matches": report.matches,
        "pairs": report.pairs,
        "documents": counts["documents"],
        "frontier": states,
        "stage_seconds": {
            "fetch (summed over host lanes, which overlap)": round(stages["fetch"], 2),
            "digest (extract and parse; 2 threads)": round(stages["digest"], 2),
            "commit (analyse, match, store; 1 thread)": round(stages["commit"], 2),
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result, indent=2))
    if args.faults:
        failing = args.pages // 100
        ok = report.stored == args.pages - failing and report.failed == failing
        ok = ok and states.get("todo", 0) == 0 and sum(states.values()) == args.pages + args.hosts
        print("fault figure (990 stored, 10 failed, 0 dropped):", "PASS" if ok else "FAIL")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
