"""Fetching one URL politely and safely: robots.txt, one connection and a delay per host, redirects
checked at every hop, a total deadline, bounded decoding, and no private addresses.

::

    fetch(url) ─┬─ for each hop (at most max_redirects + 1):
                │    robots.txt of the hop's host (fetched through the same rules, cached)
                │    the host's slot: one request at a time, starts at least `delay` apart
                │    connect: resolve once, refuse non-global addresses, connect to that very
                │             address, and check the peer of the connected socket (DNS rebinding)
                │    GET under a total deadline; raw body capped; decoded in 64 KiB pulls, capped
                │    3xx: the target canonicalised, checked for scheme, loops and scope, then the next hop
                │         (or not, if the caller already has the target's content: ``alias``)
                └─ FetchResult(outcome, status, headers, body, redirects, peer, robots_fetches, ...)

:meth:`Fetcher.fetch` never raises for what a server does: every failure is an
:class:`Outcome` with a message, and :attr:`FetchResult.retryable` says whether trying again later
may help. httpx does the HTTP; its connection pool is given a network backend of ours so that the
address rules apply to every connection it opens, redirects and robots.txt included.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx

from crawlers.addresses import (
    AddressBlocked,
    AddressPolicy,
    GuardedBackend,
    GuardedTransport,
    Resolver,
    system_resolver,
)
from crawlers.compression import ACCEPT_ENCODING, DecodingError, TooLarge, decode_body, parse_codings
from crawlers.robots import RobotsRules, robots_url
from crawlers.settings import CrawlSettings
from crawlers.urls import canonicalize, host_key
from reuse.errors import InputError

__all__ = [
    "REDIRECT_STATUSES",
    "FetchResult",
    "Fetcher",
    "Outcome",
    "RobotsFetch",
    "parse_retry_after",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Statuses worth trying again later (RFC 9110: request timeout, too early, too many requests, 5xx).
_RETRY_STATUSES = frozenset({408, 425, 429})


class Outcome(StrEnum):
    """What became of a fetch."""

    OK = "ok"  # 2xx with a body
    NOT_MODIFIED = "not_modified"  # 304 to a conditional GET
    HTTP_ERROR = "http_error"  # a final 4xx or 5xx (see ``status``)
    TIMEOUT = "timeout"  # connect timeout, read timeout or the total deadline
    CONNECT_ERROR = "connect_error"  # refused, unresolvable, unreachable
    RESET = "reset"  # the connection dropped mid-exchange
    TLS_ERROR = "tls_error"  # certificate verification failed (never retried without it)
    TOO_LARGE = "too_large"  # the body passed the cap, raw or decoded
    BAD_ENCODING = "bad_encoding"  # unknown, too many or corrupt content codings
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"
    ALIAS = "alias"  # a redirect to a URL the caller already has: recorded, not followed again
    BAD_REDIRECT = "bad_redirect"  # a 3xx without a usable Location
    BLOCKED_ADDRESS = "blocked_address"  # private, loopback, link-local... not allowed
    BLOCKED_SCHEME = "blocked_scheme"  # not http(s) (file:, ftp:, data:...)
    OUT_OF_SCOPE = "out_of_scope"  # a redirect left the crawl's scope
    ROBOTS_DISALLOWED = "robots_disallowed"
    ROBOTS_UNAVAILABLE = "robots_unavailable"  # robots.txt answered 5xx or not at all: wait
    CRAWL_DELAY_EXCEEDS_CAP = "crawl_delay_exceeds_cap"


#: Outcomes that are not the URL's fault and do not count as attempts: the URL waits.
DEFERRED = frozenset({Outcome.ROBOTS_UNAVAILABLE, Outcome.CRAWL_DELAY_EXCEEDS_CAP})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP-date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class FetchResult:
    """What one fetch gave: the outcome, and the response when there was one.

    ``url`` is the URL asked for and ``final_url`` the last hop's (after redirects); ``body`` is
    the decoded body (only for ``ok``); ``headers`` have lower-case names; ``retry_at`` is a
    monotonic time before which the URL should not be tried again (deferrals, Retry-After);
    ``robots_fetches`` are the robots.txt fetches made on the way (for the fetch log and the
    sitemaps they list).
    """

    url: str
    final_url: str
    outcome: Outcome
    started_at: datetime
    elapsed: float
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    redirects: tuple[str, ...] = ()
    error: str | None = None
    peer: str | None = None
    requests: int = 0
    raw_bytes: int = 0
    retry_at: float | None = None
    robots_fetches: tuple[RobotsFetch, ...] = ()

    @property
    def retryable(self) -> bool:
        """Whether the failure may go away if the URL is tried again after a while."""
        if self.outcome in (Outcome.TIMEOUT, Outcome.CONNECT_ERROR, Outcome.RESET):
            return True
        return (
            self.outcome is Outcome.HTTP_ERROR
            and self.status is not None
            and (self.status >= 500 or self.status in _RETRY_STATUSES)
        )

    @property
    def deferred(self) -> bool:
        """Whether the URL was not tried at all for a reason of its host (robots unavailable, delay)."""
        return self.outcome in DEFERRED


@dataclass(frozen=True)
class RobotsFetch:
    """One fetch of a host's robots.txt and what it made of the host: ``rules`` is None when the
    fetch failed for a reason of address, TLS or scheme (nothing is cached then)."""

    result: FetchResult
    rules: RobotsRules | None


@dataclass
class _Host:
    """Politeness state of one host: one request at a time, starts ``delay`` apart."""

    delay: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    robots: RobotsRules | None = None


@dataclass(frozen=True)
class _Hop:
    outcome: Outcome
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error: str | None = None
    peer: str | None = None
    raw_bytes: int = 0


class Fetcher:
    """Fetches URLs under one :class:`~crawlers.settings.CrawlSettings`; use as an async context manager.

    ``resolver`` replaces the system resolver (tests map fixture host names to 127.0.0.1);
    ``version`` goes into the User-Agent.
    """

    def __init__(
        self,
        settings: CrawlSettings,
        *,
        version: str = "0",
        resolver: Resolver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.policy = AddressPolicy(settings.allow_private)
        self.backend = GuardedBackend(self.policy, resolver or system_resolver)
        self.hosts: dict[str, _Host] = {}
        self.delays: dict[str, float] = {}
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self.user_agent = settings.header_user_agent(version)
        mounts: dict[str, httpx.AsyncBaseTransport | None] = {
            f"all://{host}": GuardedTransport(self.backend, verify=False) for host in settings.insecure_hosts
        }
        self.client = httpx.AsyncClient(
            transport=GuardedTransport(self.backend, verify=True),
            mounts=mounts,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the address rules must see the real peer
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=settings.read_timeout,
                write=settings.read_timeout,
                pool=settings.total_timeout,
            ),
            headers={"User-Agent": self.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()

    def set_delay(self, host: str, delay: float) -> None:
        """Use ``delay`` seconds between requests to ``host`` (a host key) instead of the default."""
        self.delays[host] = delay
        if host in self.hosts:
            self.hosts[host].delay = max(self.hosts[host].delay, delay)

    def _host(self, key: str) -> _Host:
        found = self.hosts.get(key)
        if found is None:
            found = self.hosts[key] = _Host(self.delays.get(key, self.settings.delay))
        return found

    def host_ready_at(self, key: str) -> float:
        """The monotonic time at which ``key``'s next request may start."""
        return self._host(key).next_start

    async def fetch(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        headers: dict[str, str] | None = None,
        in_scope: Callable[[str], bool] | None = None,
        have: Callable[[str], bool] | None = None,
        truncate: bool = False,
        robots: bool = True,
    ) -> FetchResult:
        """Fetch ``url`` (canonical), following redirects, and say what became of it.

        ``headers`` (conditional-GET validators) go with the first hop only; ``in_scope`` is
        asked about every redirect target, and so is ``have``: a target it says the caller
        already has ends the fetch there with ``alias`` (``final_url`` is that target);
        ``truncate`` keeps the first ``max_bytes`` of a longer body instead of failing with
        ``too_large``; ``robots=False`` is for robots.txt itself.
        """
        started_at, started = datetime.now(UTC), self.clock()
        cap = max_bytes or self.settings.max_page_bytes
        current, seen, requests = url, {url}, 0
        redirects: list[str] = []
        robots_fetches: list[RobotsFetch] = []

        def result(hop: _Hop | None, outcome: Outcome, error: str | None = None, **extra: Any) -> FetchResult:
            return FetchResult(
                url=url,
                final_url=current,
                outcome=outcome,
                started_at=started_at,
                elapsed=self.clock() - started,
                status=hop.status if hop else None,
                headers=hop.headers if hop else {},
                body=hop.body if hop else None,
                redirects=tuple(redirects),
                error=error if error is not None else (hop.error if hop else None),
                peer=hop.peer if hop else None,
                requests=requests,
                raw_bytes=hop.raw_bytes if hop else 0,
                robots_fetches=tuple(robots_fetches),
                **extra,
            )

        for hop_number in itertools.count():
            host = self._host(host_key(current))
            if robots:
                rules = await self._robots(host, current, robots_fetches)
                if isinstance(rules, FetchResult):
                    return result(None, rules.outcome, f"robots.txt: {rules.error}")
                if rules.state == "unavailable":
                    return result(None, Outcome.ROBOTS_UNAVAILABLE, rules.reason, retry_at=rules.expires)
                if not rules.allows(current, self.settings.robots_token):
                    return result(None, Outcome.ROBOTS_DISALLOWED, "disallowed by robots.txt")
                asked = rules.crawl_delay(self.settings.robots_token)
                if asked is not None and asked > self.settings.max_crawl_delay:
                    return result(
                        None,
                        Outcome.CRAWL_DELAY_EXCEEDS_CAP,
                        f"robots.txt asks for Crawl-delay {asked:g} s (cap {self.settings.max_crawl_delay:g} s)",
                        retry_at=self.clock() + asked,
                    )
            hop = await self._request(host, current, headers if hop_number == 0 else None, cap, truncate)
            requests += 1
            retry_at = None
            if hop.status in (429, 503) and "retry-after" in hop.headers:
                retry_at = host.next_start
            if hop.outcome is not Outcome.OK or hop.status not in REDIRECT_STATUSES:
                return result(hop, hop.outcome, retry_at=retry_at)
            location = hop.headers.get("location")
            if not location:
                return result(hop, Outcome.BAD_REDIRECT, f"{hop.status} without a Location header")
            try:
                target = canonicalize(location, base=current)
            except InputError as err:
                outcome = Outcome.BLOCKED_SCHEME if "scheme" in err.reason else Outcome.BAD_REDIRECT
                return result(hop, outcome, f"redirect to {location!r}: {err.reason}")
            if target in seen:
                return result(hop, Outcome.REDIRECT_LOOP, f"redirect loop back to {target}")
            if in_scope is not None and not in_scope(target):
                return result(hop, Outcome.OUT_OF_SCOPE, f"redirect to {target}, outside the crawl's scope")
            if have is not None and have(target):
                redirects.append(target)
                current = target
                return result(hop, Outcome.ALIAS, f"redirects to {target}, already fetched")
            if len(redirects) >= self.settings.max_redirects:
                return result(hop, Outcome.TOO_MANY_REDIRECTS, f"more than {self.settings.max_redirects} redirects")
            redirects.append(target)
            seen.add(target)
            current = target
        raise AssertionError("unreachable: the loop returns")

    async def _robots(self, host: _Host, url: str, fetched: list[RobotsFetch]) -> RobotsRules | FetchResult:
        """The robots rules of ``url``'s host, fetched when missing or expired (the fetch is added
        to ``fetched``).

        A robots.txt fetch that fails for a reason of address or TLS is returned as is: the page
        fails the same way, and nothing is cached.
        """
        if host.robots is not None and host.robots.expires > self.clock():
            return host.robots
        async with host.robots_lock:  # one robots.txt fetch per host at a time
            if host.robots is not None and host.robots.expires > self.clock():
                return host.robots
            got = await self.fetch(
                robots_url(url), max_bytes=self.settings.max_robots_bytes, truncate=True, robots=False
            )
            now = self.clock()
            if got.outcome in (Outcome.BLOCKED_ADDRESS, Outcome.TLS_ERROR, Outcome.BLOCKED_SCHEME):
                fetched.append(RobotsFetch(got, None))
                return got
            if got.outcome is Outcome.OK and got.status is not None and 200 <= got.status < 300:
                rules = RobotsRules.parse((got.body or b"").decode("utf-8", "replace"), now + self.settings.robots_ttl)
                asked = rules.crawl_delay(self.settings.robots_token)
                if asked is not None and asked <= self.settings.max_crawl_delay:
                    host.delay = max(host.delay, asked)
            elif (
                got.outcome is Outcome.HTTP_ERROR
                and got.status is not None
                and 400 <= got.status < 500
                and got.status != 429
            ) or got.outcome is Outcome.TOO_MANY_REDIRECTS:
                # RFC 9309 2.3.1.3: "unavailable" (4xx, or too many redirects) allows everything.
                rules = RobotsRules("allow_all", now + self.settings.robots_ttl)
            else:
                why = f"HTTP {got.status}" if got.status else (got.error or got.outcome.value)
                rules = RobotsRules(
                    "unavailable", now + self.settings.robots_error_ttl, reason=f"robots.txt unreachable ({why})"
                )
            host.robots = rules
            fetched.append(RobotsFetch(got, rules))
            return rules

    async def _request(self, host: _Host, url: str, headers: dict[str, str] | None, cap: int, truncate: bool) -> _Hop:
        """One GET in ``host``'s slot, under the total deadline; never raises for network trouble."""
        async with host.lock:
            wait = host.next_start - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            async with self._semaphore:
                hop = await self._exchange(url, headers, cap, truncate)
            # The delay runs from the end of this exchange: a request that was slow to connect
            # (name lookup, handshake) still leaves the full gap before the next one reaches the
            # server, whatever the client's own timing.
            host.next_start = self.clock() + host.delay
            if hop.status in (429, 503):
                asked = parse_retry_after(hop.headers.get("retry-after"))
                if asked is not None:
                    # Honoured for the whole host, clamped so a hostile value cannot stall the crawl.
                    limit = self.settings.retry_after_cap
                    host.next_start = max(host.next_start, self.clock() + min(asked, limit))
                    if asked > limit:
                        hop = replace(hop, error=f"{hop.error}; Retry-After {asked:g} s clamped to {limit:g} s")
            return hop

    async def _exchange(self, url: str, headers: dict[str, str] | None, cap: int, truncate: bool) -> _Hop:
        status: int | None = None
        response_headers: dict[str, str] = {}
        peer: str | None = None
        raw = bytearray()
        codings: list[str] = []

        def answered(outcome: Outcome, error: str | None = None) -> _Hop:
            """The hop of a response, with what it gave until ``outcome`` (status, headers, peer, bytes read)."""
            return _Hop(outcome, status, response_headers, error=error, peer=peer, raw_bytes=len(raw))

        try:
            async with asyncio.timeout(self.settings.total_timeout):
                async with self.client.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    response_headers = _headers(response.headers)
                    stream = response.extensions.get("network_stream")
                    if stream is not None and (addr := stream.get_extra_info("server_addr")):
                        peer = str(addr[0])
                    if status in REDIRECT_STATUSES or status == 304:
                        return answered(Outcome.OK if status != 304 else Outcome.NOT_MODIFIED)
                    if not 200 <= status < 300:
                        return answered(Outcome.HTTP_ERROR, f"HTTP {status}")
                    codings = parse_codings(response_headers.get("content-encoding"))
                    declared = response_headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > cap and not truncate:
                        return answered(
                            Outcome.TOO_LARGE, f"Content-Length {int(declared):,} is over the cap of {cap:,} bytes"
                        )
                    async for chunk in response.aiter_raw():
                        raw += chunk
                        if len(raw) > cap:
                            if truncate:
                                break
                            return answered(Outcome.TOO_LARGE, f"body over the cap of {cap:,} bytes")
            body = decode_body(bytes(raw), codings, cap, truncate=truncate)
        except TooLarge as err:
            return answered(Outcome.TOO_LARGE, str(err))
        except DecodingError as err:
            return answered(Outcome.BAD_ENCODING, str(err))
        except AddressBlocked as err:
            return _Hop(Outcome.BLOCKED_ADDRESS, error=str(err), peer=err.address)
        except TimeoutError:
            return answered(Outcome.TIMEOUT, f"no complete response within {self.settings.total_timeout:g} s")
        except httpx.TimeoutException as err:
            return answered(Outcome.TIMEOUT, f"{type(err).__name__}: {err}")
        except httpx.ConnectError as err:
            if _is_tls_failure(err):
                return _Hop(Outcome.TLS_ERROR, error=f"TLS: {err}")
            return _Hop(Outcome.CONNECT_ERROR, error=str(err) or type(err).__name__)
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.CloseError) as err:
            return answered(Outcome.RESET, f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as err:
            return _Hop(Outcome.BLOCKED_SCHEME, error=str(err))
        except httpx.TransportError as err:
            return _Hop(Outcome.CONNECT_ERROR, error=f"{type(err).__name__}: {err}")
        return _Hop(Outcome.OK, status, response_headers, body, peer=peer, raw_bytes=len(raw))


def _headers(headers: httpx.Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers.multi_items():
        name = key.lower()
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _is_tls_failure(err: BaseException) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(err) or "SSL" in str(err)
