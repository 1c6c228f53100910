"""The fetcher against the fixture web on 127.0.0.1: politeness, faults, caps, redirects, robots, SSRF.

Each test states the figure it checks. Times are scaled down (delays of
a fraction of a second, caps of 1 MiB) so the whole file runs in seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import ssl
import subprocess
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import brotli
import httpcore
import pytest
import zstandard
from fixtureweb import Blackhole, FixtureWeb, Route, article_html, gzip_bomb, http_date, paragraphs
from needs import missing

from crawlers.addresses import AddressBlocked, AddressPolicy, GuardedBackend, parse_networks
from crawlers.fetch import Fetcher, FetchResult, Outcome, parse_retry_after
from crawlers.robots import RobotsRules
from crawlers.settings import CrawlSettings
from crawlers.urls import canonicalize

LOCAL = parse_networks(["127.0.0.1/32"])
MiB = 1024 * 1024
T = TypeVar("T")


def fast(**kwargs: Any) -> CrawlSettings:
    """Settings scaled for tests: loopback allowed, short delays and deadlines, a 1 MiB cap."""
    base: dict[str, Any] = {
        "delay": 0.0,
        "allow_private": LOCAL,
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
        "total_timeout": 5.0,
        "max_page_bytes": MiB,
        "backoff_base": 0.05,
    }
    base.update(kwargs)
    return CrawlSettings(**base)


def run(settings: CrawlSettings, web: FixtureWeb, body: Callable[[Fetcher], Awaitable[T]]) -> T:
    async def main() -> T:
        async with Fetcher(settings, resolver=web.resolver) as fetcher:
            return await body(fetcher)

    return asyncio.run(main())


def fetch_one(settings: CrawlSettings, web: FixtureWeb, url: str, **kwargs: Any) -> Any:
    return run(settings, web, lambda f: f.fetch(canonicalize(url), **kwargs))


async def fetch_plain(settings: CrawlSettings, url: str) -> FetchResult:
    """One fetch of ``url`` (an address literal) without robots.txt."""
    async with Fetcher(settings) as fetcher:
        return await fetcher.fetch(canonicalize(url), robots=False)


def article(seed: str) -> bytes:
    return article_html(seed, paragraphs(seed))


#: Tests that bound wall-clock times: scripts/check runs them alone, after the others have run on
#: every core (pytest-xdist), so that no other test's work makes them late.
TIMED = pytest.mark.timed


# -- politeness ---------------------------------------------------------------------------------


@TIMED
@pytest.mark.parametrize(
    ("per_host", "delay"),
    [(10, 0.2), pytest.param(100, 0.5, marks=pytest.mark.slow, id="400-urls")],
)
def test_one_connection_and_a_minimum_gap_per_host_while_hosts_run_in_parallel(
    web: FixtureWeb, per_host: int, delay: float
) -> None:
    """One connection per host and a minimum gap, hosts in parallel: 4 hosts, concurrency 16, every
    URL asked for at once (scaled: 40 URLs and 0.2 s;
    the full figure, marked slow: 400 URLs and 0.5 s)."""
    sites = [web.site(f"h{n}") for n in range(4)]
    urls = []
    for site in sites:
        for i in range(per_host):
            site.page(f"/p{i}", article(f"{site.name}{i}"))
            urls.append(site.url(f"/p{i}"))
    started = time.monotonic()
    results = run(fast(delay=delay), web, lambda f: asyncio.gather(*(f.fetch(canonicalize(u)) for u in urls)))
    wall = time.monotonic() - started
    assert all(r.outcome is Outcome.OK for r in results)
    for site in sites:
        assert site.max_active == 1
        starts = [r.start for r in site.requests()]
        assert len(starts) == per_host + 1  # robots.txt and the pages
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert min(gaps) >= delay * 0.95, gaps
    assert wall < 1.3 * (per_host + 1) * delay + 0.5


@TIMED
def test_retry_after_holds_the_host_back_and_no_other(web: FixtureWeb) -> None:
    """Retry-After is obeyed: 429 with Retry-After in seconds and as an HTTP-date; a huge value is
    clamped to the cap."""
    a, b = web.site("a"), web.site("b")
    a.page("/busy", article("busy"), faults=["429:1"])
    a.page("/later", article("later"))
    b.page("/free", article("free"))
    a.page("/date", article("date"), faults=[f"503:{http_date(None)}"])

    async def body(f: Fetcher) -> list[Any]:
        first = await f.fetch(canonicalize(a.url("/busy")))
        other = await f.fetch(canonicalize(b.url("/free")))
        again = await f.fetch(canonicalize(a.url("/later")))
        return [first, other, again]

    first, other, _ = run(fast(), web, body)
    assert first.outcome is Outcome.HTTP_ERROR and first.status == 429 and first.retryable
    assert first.retry_at is not None
    busy = a.requests("/busy")[0]
    later = a.requests("/later")[0]
    assert later.start - busy.start >= 1.0
    assert b.requests("/free")[0].start - busy.start < 0.5  # the other host did not wait
    assert other.outcome is Outcome.OK

    a.page("/huge", article("huge"), faults=["429:600"])
    started = time.monotonic()
    (huge,) = run(fast(retry_after_cap=0.3), web, lambda f: asyncio.gather(f.fetch(canonicalize(a.url("/huge")))))
    assert huge.error == "HTTP 429; Retry-After 600 s clamped to 0.3 s"

    async def twice(f: Fetcher) -> None:
        await f.fetch(canonicalize(a.url("/date")))
        await f.fetch(canonicalize(a.url("/later")))

    run(fast(retry_after_cap=0.3), web, twice)
    assert time.monotonic() - started < 5


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    value = parse_retry_after(http_date(None))
    assert value is not None and 0 <= value <= 1


# -- faults ----------------------------------------------------------------------------------------


def test_fault_outcomes_and_which_are_retryable(web: FixtureWeb) -> None:
    site = web.site("f")
    site.page("/p", article("p"), faults=["500", "503", "reset", "drip", "short", "404", None])
    site.drip_interval = 0.2

    async def body(f: Fetcher) -> list[Any]:
        return [await f.fetch(canonicalize(site.url("/p"))) for _ in range(7)]

    results = run(fast(total_timeout=1.0), web, body)
    got = [(r.outcome, r.status, r.retryable) for r in results]
    assert got == [
        (Outcome.HTTP_ERROR, 500, True),
        (Outcome.HTTP_ERROR, 503, True),
        (Outcome.RESET, None, True),
        (Outcome.TIMEOUT, 200, True),
        (Outcome.RESET, 200, True),
        (Outcome.HTTP_ERROR, 404, False),
        (Outcome.OK, 200, False),
    ]
    assert results[-1].body == article("p")


@TIMED
def test_total_deadline_stops_a_slow_drip(web: FixtureWeb) -> None:
    """A total deadline: every read is quick (0.2 s apart) but the whole response is cut at total_timeout."""
    site = web.site("drip")
    site.page("/slow", b"x" * 1000, always="drip")
    site.drip_interval = 0.2
    started = time.monotonic()
    result = fetch_one(fast(total_timeout=1.5, read_timeout=1.0), web, site.url("/slow"))
    took = time.monotonic() - started
    assert result.outcome is Outcome.TIMEOUT and result.retryable
    assert 1.4 <= took <= 2.5


@TIMED
def test_a_connect_that_never_completes_is_cut_at_the_connect_timeout() -> None:
    """A connect deadline: the SYN is never answered (a listener whose accept queue is full), so
    the fetch ends at connect_timeout ± 1 s, as a retryable timeout, long before total_timeout."""
    hole = Blackhole()
    try:
        started = time.monotonic()
        result = asyncio.run(fetch_plain(fast(connect_timeout=2.0, total_timeout=10.0), hole.url("/a")))
        took = time.monotonic() - started
    finally:
        hole.close()
    assert result.outcome is Outcome.TIMEOUT and result.retryable, result
    assert result.status is None and "ConnectTimeout" in (result.error or "")
    assert 1.0 <= took <= 3.0 and 1.0 <= result.elapsed <= 3.0, (took, result.elapsed)


def test_size_caps(web: FixtureWeb) -> None:
    """A size cap: a declared length over the cap stops after the headers; an endless chunked body stops
    at the cap; a Content-Length shorter than what is sent is read as declared, no further."""
    site = web.site("big")
    site.page("/declared", b"x" * 1000, headers={"Content-Length": str(50 * MiB)})

    def endless() -> Any:
        chunk = b"a" * 65536
        for _ in range(16 * 1024):  # 1 GiB at most
            yield chunk

    site.add("/chunked", Route(stream=endless))
    site.page("/lying", b"y" * (2 * MiB), headers={"Content-Length": "1000"})

    async def body(f: Fetcher) -> list[Any]:
        return [await f.fetch(canonicalize(site.url(p))) for p in ("/declared", "/chunked", "/lying")]

    declared, chunked, lying = run(fast(), web, body)
    assert declared.outcome is Outcome.TOO_LARGE and declared.raw_bytes <= 64 * 1024
    assert chunked.outcome is Outcome.TOO_LARGE and chunked.raw_bytes <= MiB + 64 * 1024
    assert lying.outcome is Outcome.OK and lying.body == b"y" * 1000


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "br", "zstd", "gzip-in-gzip"])
def test_decompression_bombs_stop_under_1_1_times_the_cap(web: FixtureWeb, coding: str) -> None:
    """Decompression bombs stop at the cap: 64 MiB of zeros behind each coding, with a 1 MiB cap."""
    zeros = b"\0" * (64 * MiB)
    if coding == "gzip":
        bomb, header = gzip_bomb(64 * MiB), "gzip"
    elif coding == "deflate":
        bomb, header = zlib.compress(zeros, 6), "deflate"
    elif coding == "raw-deflate":
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        bomb, header = packer.compress(zeros) + packer.flush(), "deflate"
    elif coding == "br":
        bomb, header = brotli.compress(zeros, quality=5), "br"
    elif coding == "zstd":
        bomb, header = zstandard.ZstdCompressor(level=3).compress(zeros), "zstd"
    else:
        bomb, header = zlib.compress(gzip_bomb(64 * MiB)), "gzip, deflate"
    site = web.site("bomb")
    site.page("/bomb", bomb, headers={"Content-Encoding": header})
    result = fetch_one(fast(), web, site.url("/bomb"))
    assert result.outcome is Outcome.TOO_LARGE
    assert result.body is None


def test_long_coding_chains_and_unknown_codings_are_refused(web: FixtureWeb) -> None:
    site = web.site("codings")
    site.page("/six", b"whatever", headers={"Content-Encoding": "gzip, gzip, gzip, gzip, gzip, gzip"})
    site.page("/odd", b"whatever", headers={"Content-Encoding": "compress"})
    site.page("/corrupt", b"not gzip at all", headers={"Content-Encoding": "gzip"})
    for path in ("/six", "/odd", "/corrupt"):
        assert fetch_one(fast(), web, site.url(path)).outcome is Outcome.BAD_ENCODING


def test_binary_served_as_html_is_fetched_as_bytes(web: FixtureWeb) -> None:
    """Binary served as text/html starts here: the fetcher hands the bytes on; extraction calls them not_text."""
    site = web.site("bin")
    site.page("/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    result = fetch_one(fast(), web, site.url("/png"))
    assert result.outcome is Outcome.OK and result.body.startswith(b"\x89PNG")


# -- redirects -------------------------------------------------------------------------------------


def test_redirects_are_checked_at_every_hop(web: FixtureWeb) -> None:
    """Redirects: long chains stop, loops are caught at hop 2, other schemes and private targets refused,
    and a cross-host hop obeys that host's robots.txt."""
    a, b = web.site("a"), web.site("b")
    for i in range(25):
        a.page(f"/chain{i}", b"", status=301, headers={"Location": f"/chain{i + 1}"})
    a.page("/chain25", article("end"))
    a.page("/short", b"", status=302, headers={"Location": "/chain23"})
    a.page("/loop-a", b"", status=301, headers={"Location": "/loop-b"})
    a.page("/loop-b", b"", status=301, headers={"Location": "/loop-a"})
    a.page("/file", b"", status=301, headers={"Location": "file:///etc/passwd"})
    a.page("/ftp", b"", status=301, headers={"Location": "ftp://x.org/"})
    a.page("/data", b"", status=301, headers={"Location": "data:text/html,hi"})
    a.page("/meta", b"", status=301, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    a.page("/other-loopback", b"", status=301, headers={"Location": f"http://127.0.0.2:{b.port}/open"})
    a.page("/to-b", b"", status=307, headers={"Location": b.url("/private/x")})
    a.page("/no-location", b"", status=301)
    b.robots("User-agent: *\nDisallow: /private\n")
    b.page("/private/x", article("secret"))

    async def body(f: Fetcher) -> dict[str, Any]:
        paths = ["/chain0", "/short", "/loop-a", "/file", "/ftp", "/data", "/meta", "/other-loopback", "/to-b"]
        return {p: await f.fetch(canonicalize(a.url(p))) for p in [*paths, "/no-location"]}

    got = run(fast(max_redirects=10), web, body)
    assert got["/chain0"].outcome is Outcome.TOO_MANY_REDIRECTS and len(got["/chain0"].redirects) == 10
    assert got["/short"].outcome is Outcome.OK and got["/short"].redirects[-1].endswith("/chain25")
    assert got["/loop-a"].outcome is Outcome.REDIRECT_LOOP and len(got["/loop-a"].redirects) == 1
    for path in ("/file", "/ftp", "/data"):
        assert got[path].outcome is Outcome.BLOCKED_SCHEME, path
    assert got["/meta"].outcome is Outcome.BLOCKED_ADDRESS
    assert got["/other-loopback"].outcome is Outcome.BLOCKED_ADDRESS
    assert got["/to-b"].outcome is Outcome.ROBOTS_DISALLOWED
    assert got["/no-location"].outcome is Outcome.BAD_REDIRECT
    assert b.requests("/private/x") == []
    assert not [r for r in b.requests() if r.path == "/open"]


def test_a_redirect_out_of_scope_is_not_followed(web: FixtureWeb) -> None:
    a, b = web.site("a"), web.site("b")
    a.page("/away", b"", status=301, headers={"Location": b.url("/x")})
    b.page("/x", article("x"))
    scope_host = canonicalize(a.url("/")).split("/")[2]
    result = fetch_one(fast(), web, a.url("/away"), in_scope=lambda url: url.split("/")[2] == scope_host)
    assert result.outcome is Outcome.OUT_OF_SCOPE
    assert b.requests("/x") == []


# -- robots.txt ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("case", "allowed"),
    [
        ("rules", None),
        ("404", True),
        ("410", True),
        ("401", True),
        ("403", True),
        ("500", False),
        ("503", False),
        ("timeout", False),
        ("3-hop", None),
        ("6-hop", True),
        ("html-200", True),
        ("600KiB", None),
    ],
)
def test_robots_status_matrix(web: FixtureWeb, case: str, allowed: bool | None) -> None:
    """What robots.txt answers mean (RFC 9309): 4xx allows all; 5xx and timeouts allow nothing;
    redirects are followed up to
    5 hops (more means unavailable, so allowed); an HTML page is no rules; the first 500 KiB count."""
    site = web.site("r")
    site.page("/open", article("open"))
    site.page("/private/p", article("private"))
    site.drip_interval = 0.5
    rules = "User-agent: *\nDisallow: /private\n"
    if case == "rules":
        site.robots(rules)
    elif case.isdigit():
        site.add("/robots.txt", Route(b"x", always=case))
    elif case == "timeout":
        site.add("/robots.txt", Route(rules.encode(), always="drip"))
    elif case.endswith("-hop"):
        hops = int(case[0])
        for i in range(hops):
            target = f"/r{i + 1}" if i + 1 < hops else "/real-robots.txt"
            site.page("/robots.txt" if i == 0 else f"/r{i}", b"", status=301, headers={"Location": target})
        site.text("/real-robots.txt", rules, "text/plain")
    elif case == "html-200":
        site.page("/robots.txt", b"<html><body><h1>Oops</h1><p>Error page</p></body></html>")
    else:
        site.text("/robots.txt", rules + "#" * 600 * 1024 + "\nDisallow: /open\n",
                  "text/plain")  # fmt: skip

    async def body(f: Fetcher) -> tuple[Any, Any]:
        return await f.fetch(canonicalize(site.url("/open"))), await f.fetch(canonicalize(site.url("/private/p")))

    open_, private = run(fast(total_timeout=1.0), web, body)
    if allowed is None:  # the rules are read: /private is disallowed, /open allowed
        assert open_.outcome is Outcome.OK, open_
        assert private.outcome is Outcome.ROBOTS_DISALLOWED
    elif allowed:
        assert open_.outcome is Outcome.OK and private.outcome is Outcome.OK
    else:
        assert open_.outcome is Outcome.ROBOTS_UNAVAILABLE and private.outcome is Outcome.ROBOTS_UNAVAILABLE
        assert open_.deferred and open_.retry_at is not None
        assert site.requests("/open") == [] and site.requests("/private/p") == []


def test_unreachable_robots_is_fetched_again_after_the_error_ttl(web: FixtureWeb) -> None:
    """The disallow after a 5xx is not cached for the run."""
    site = web.site("r")
    site.add("/robots.txt", Route(b"User-agent: *\nAllow: /\n", content_type="text/plain", faults=["503"]))
    site.page("/p", article("p"))

    async def body(f: Fetcher) -> list[Any]:
        first = await f.fetch(canonicalize(site.url("/p")))
        await asyncio.sleep(0.35)
        return [first, await f.fetch(canonicalize(site.url("/p")))]

    first, second = run(fast(robots_error_ttl=0.3), web, body)
    assert first.outcome is Outcome.ROBOTS_UNAVAILABLE
    assert second.outcome is Outcome.OK
    assert len(site.requests("/robots.txt")) == 2


def test_refused_robots_connection_blocks_the_host() -> None:
    port = _free_port()
    result = asyncio.run(_fetch_plain(fast(), f"http://127.0.0.1:{port}/p"))
    assert result.outcome is Outcome.ROBOTS_UNAVAILABLE


async def _fetch_plain(settings: CrawlSettings, url: str) -> Any:
    async with Fetcher(settings) as fetcher:
        return await fetcher.fetch(canonicalize(url))


def test_robots_semantics_follow_rfc_9309() -> None:
    """robots.txt rules: wildcards and the longest match, which urllib.robotparser gets wrong."""
    rules = RobotsRules.parse(
        "User-agent: *\nDisallow: /*?utm_\nDisallow: /private\nAllow: /private/press\n"
        "User-agent: reusetrack\nDisallow: /only-us\nCrawl-delay: 2\n",
        expires=1e12,
    )
    assert not rules.allows("http://x.org/a?utm_source=x", "othercrawler")
    assert rules.allows("http://x.org/private/press/1", "othercrawler")
    assert not rules.allows("http://x.org/private/other", "othercrawler")
    assert not rules.allows("http://x.org/only-us", "reusetrack")
    assert rules.crawl_delay("reusetrack") == 2.0


def test_crawl_delay_is_obeyed_and_one_over_the_cap_defers_the_host(web: FixtureWeb) -> None:
    """Crawl-delay is kept up to a cap (scaled): Crawl-delay 0.5 s is kept; Crawl-delay 3600 with a
    30 s cap defers the host."""
    a, b = web.site("a"), web.site("b")
    a.robots("User-agent: *\nCrawl-delay: 0.5\n")
    b.robots("User-agent: *\nCrawl-delay: 3600\n")
    for i in range(3):
        a.page(f"/p{i}", article(f"a{i}"))
        b.page(f"/p{i}", article(f"b{i}"))
    urls = [s.url(f"/p{i}") for s in (a, b) for i in range(3)]
    results = run(fast(), web, lambda f: asyncio.gather(*(f.fetch(canonicalize(u)) for u in urls)))
    starts = [r.start for r in a.requests() if r.path != "/robots.txt"]
    assert all(y - x >= 0.5 * 0.95 for x, y in itertools.pairwise(starts))
    assert [r.outcome for r in results[3:]] == [Outcome.CRAWL_DELAY_EXCEEDS_CAP] * 3
    assert [r.path for r in b.requests()] == ["/robots.txt"]


# -- addresses (SSRF) ---------------------------------------------------------------------------

SSRF_TARGETS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://[::1]:{port}/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/",
    "http://100.100.100.200/",
    "http://0.0.0.0:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://2130706433:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://loopback.test:{port}/",
]


def test_private_addresses_are_refused_by_default_without_a_single_connection(web: FixtureWeb) -> None:
    """No private address is reached: the whole table with default settings: every URL blocked_address, 0 accepts."""
    listener = web.site("listener")
    listener.page("/", article("never"))
    urls = [canonicalize(u.format(port=listener.port)) for u in SSRF_TARGETS]

    async def body(f: Fetcher) -> list[Any]:
        return [await f.fetch(u) for u in urls]

    results = run(CrawlSettings(delay=0, connect_timeout=1, total_timeout=2), web, body)
    assert [(u, r.outcome) for u, r in zip(urls, results, strict=True)] == [(u, Outcome.BLOCKED_ADDRESS) for u in urls]
    assert listener.accepts == 0


def test_allow_private_opens_only_the_listed_range(web: FixtureWeb) -> None:
    listener = web.site("listener")
    listener.page("/", article("ok"))
    ok = fetch_one(fast(), web, f"http://127.0.0.1:{listener.port}/")
    assert ok.outcome is Outcome.OK and ok.peer == "127.0.0.1"
    before = listener.accepts
    for url in (f"http://[::1]:{listener.port}/", "http://10.0.0.1/", f"http://127.0.0.2:{listener.port}/"):
        assert fetch_one(fast(), web, url).outcome is Outcome.BLOCKED_ADDRESS
    assert listener.accepts == before


class _FakeStream(httpcore.AsyncNetworkStream):
    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.closed = False

    def get_extra_info(self, info: str) -> Any:
        return (self.peer, 80) if info == "server_addr" else None

    async def aclose(self) -> None:
        self.closed = True


class _FakeInner:
    """Connects "successfully" to whatever it is asked, but the socket's peer is loopback:
    what a resolver answering differently the second time (DNS rebinding) would lead to."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.stream = _FakeStream("127.0.0.1")

    async def connect_tcp(self, host: str, port: int, **_: Any) -> _FakeStream:
        self.asked.append(host)
        return self.stream


def test_the_connected_peer_is_checked_not_only_the_resolved_name() -> None:
    """No DNS rebinding: the address is resolved once and connected to as a literal; the socket's peer is
    checked again, so a peer that is not the address checked is cut before any byte is sent."""
    calls: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.216.34"]

    backend = GuardedBackend(AddressPolicy(), resolver)
    fake = _FakeInner()
    backend.inner = fake  # type: ignore[assignment]
    with pytest.raises(AddressBlocked, match="loopback"):
        asyncio.run(backend.connect_tcp("rebind.example", 80, timeout=1))
    assert calls == ["rebind.example"]  # resolved once
    assert fake.asked == ["93.184.216.34"]  # connected to the literal checked
    assert fake.stream.closed
    assert backend.connected == []


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("224.0.0.1", "multicast"),
        ("100.64.1.1", "non-global"),
    ],
)
def test_address_policy(address: str, reason: str | None) -> None:
    assert AddressPolicy().refusal(address) == reason


# -- TLS -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    if shutil.which("openssl") is None:
        missing("openssl is not installed (it makes the self-signed certificate)")
    folder = Path(tmp_path_factory.mktemp("tls"))
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_self_signed_certificates_fail_unless_the_host_is_opted_out(
    web: FixtureWeb, self_signed: ssl.SSLContext
) -> None:
    """TLS is verified: tls_error by default, never retried without verification; a per-host opt-out works."""
    site = web.site("tls", tls=self_signed)
    site.page("/p", article("tls"))
    site.robots("User-agent: *\nAllow: /\n")
    failed = fetch_one(fast(), web, site.url("/p"))
    assert failed.outcome is Outcome.TLS_ERROR and not failed.retryable
    assert site.requests() == []
    host = f"127.0.0.1:{site.port}"
    ok = fetch_one(replace(fast(), insecure_hosts=frozenset({host})), web, site.url("/p"))
    assert ok.outcome is Outcome.OK


# -- the request itself ---------------------------------------------------------------------------


def test_honest_user_agent_and_accepted_codings(web: FixtureWeb) -> None:
    site = web.site("ua")
    site.page("/p", article("ua"))
    fetch_one(fast(contact="mailto:desk@example.org"), web, site.url("/p"))
    sent = site.requests("/p")[0].headers
    assert sent["User-Agent"].startswith("reusetrack/")
    assert "mailto:desk@example.org" in sent["User-Agent"]
    assert sent["Accept-Encoding"] == "gzip, deflate, br, zstd"
    assert site.requests("/robots.txt")[0].headers["User-Agent"] == sent["User-Agent"]
