"""Every knob of the crawler, in one frozen and validated settings object.

The defaults follow ../shared/docs/RELIABILITY.md ("Suggested defaults"): one connection per host,
a delay of at least a second between requests to it, three retries with exponential backoff and
jitter, a total deadline on every request, caps on decoded bodies, robots.txt per RFC 9309 and no
private addresses unless allowed by name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from reuse.errors import SettingsError

if TYPE_CHECKING:
    from crawlers.addresses import IPNetwork

__all__ = ["DEFAULT_USER_AGENT", "CrawlSettings"]

DEFAULT_USER_AGENT = "reusetrack/{version} (text-reuse research crawler; +{contact})"


@dataclass(frozen=True)
class CrawlSettings:
    """Settings of the fetcher and the crawl loop; every default is documented here.

    Identity
        user_agent: the User-Agent header; ``{version}`` and ``{contact}`` are filled in. Honest by
            default: it names the tool and where to reach whoever runs it.
        contact: a URL or ``mailto:`` for site owners; set it in the sources file.
        robots_token: the product token matched against robots.txt ``User-agent`` lines.

    Politeness
        delay: seconds between the starts of two requests to one host (robots ``Crawl-delay`` can
            raise it, never lower it).
        max_crawl_delay: a robots ``Crawl-delay`` above this is not obeyed by crawling slowly: the
            host's URLs are deferred with the reason ``crawl_delay_exceeds_cap``.
        concurrency: requests in flight over all hosts (one per host at most, always).
        retry_after_cap: the most a 429/503 ``Retry-After`` may hold a host back; longer values
            are clamped (and the clamp logged in the fetch log's error column).

    Deadlines and sizes
        connect_timeout, read_timeout: per socket operation, as httpx applies them.
        total_timeout: the whole request, from connect to the last body byte (httpx has no such
            deadline of its own: a server dripping a byte a second is never stopped by it).
        max_page_bytes, max_feed_bytes, max_sitemap_bytes: caps on the *decoded* body, checked
            while decoding, so a compression bomb stops under 1.1 × the cap.
        max_robots_bytes: robots.txt beyond this is cut and the start parsed (RFC 9309: 500 KiB).
        max_redirects: hops followed; each one is checked against scope, robots and address rules.

    Retries
        max_retries: retries of a retryable failure (5xx, 429, timeout, reset) before ``failed``.
        backoff_base, backoff_max: the n-th retry waits ``base × 2^(n-1)`` seconds (at most
            ``backoff_max``), times a random factor in [1 - jitter, 1 + jitter].
        robots_error_ttl: after robots.txt fails with 5xx, a timeout or a refused connection, the
            host is treated as disallowed for this long, then robots.txt is fetched again.
        robots_ttl: how long a fetched robots.txt is trusted.

    Safety
        allow_private: address ranges that may be reached although private, loopback or
            link-local (e.g. ``127.0.0.1/32`` for a local test server). Everything else that is
            not a global unicast address is refused, on the address actually connected.
        insecure_hosts: hosts whose TLS certificate is not verified (explicit opt-out only; a
            failed verification is never retried without it).

    Crawl loop
        max_depth: links followed from a start page (0: only start pages, feeds' and sitemaps'
            items).
        max_pages: pages fetched per source and run.
        batch_size, batch_seconds: a batch is committed when it holds this many pages or is
            this old, whichever comes first.
        linger: a run waits for retries and host delays due within this many seconds; URLs due
            later stay scheduled for the next run.
        lock_wait: how long a commit waits for readers to let go of the warehouse file.
    """

    user_agent: str = DEFAULT_USER_AGENT
    contact: str = "https://github.com/search?q=reusetrack"
    robots_token: str = "reusetrack"
    delay: float = 2.0
    max_crawl_delay: float = 30.0
    concurrency: int = 16
    retry_after_cap: float = 120.0
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 45.0
    max_page_bytes: int = 10 * 1024 * 1024
    max_feed_bytes: int = 5 * 1024 * 1024
    max_sitemap_bytes: int = 50 * 1024 * 1024
    max_robots_bytes: int = 500 * 1024
    max_redirects: int = 5
    max_retries: int = 2
    backoff_base: float = 5.0
    backoff_max: float = 900.0
    jitter: float = 0.25
    robots_ttl: float = 24 * 3600.0
    robots_error_ttl: float = 600.0
    allow_private: tuple[IPNetwork, ...] = ()
    insecure_hosts: frozenset[str] = field(default_factory=frozenset)
    max_depth: int = 2
    max_pages: int = 10_000
    batch_size: int = 50
    batch_seconds: float = 2.0
    linger: float = 120.0
    lock_wait: float = 120.0

    def __post_init__(self) -> None:
        positive = ("connect_timeout", "read_timeout", "total_timeout", "backoff_base", "batch_seconds")
        for name in positive:
            if not getattr(self, name) > 0:
                raise SettingsError(f"{name} must be a positive number of seconds, got {getattr(self, name)!r}")
        non_negative = ("delay", "max_crawl_delay", "retry_after_cap", "linger", "lock_wait", "robots_error_ttl",
                        "max_depth", "max_retries", "max_redirects")  # fmt: skip
        for name in non_negative:
            if getattr(self, name) < 0:
                raise SettingsError(f"{name} cannot be negative, got {getattr(self, name)!r}")
        for name in ("concurrency", "batch_size", "max_pages"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if self.max_redirects > 20:
            raise SettingsError("max_redirects above 20 only helps redirect loops; use at most 10")
        for name in ("max_page_bytes", "max_feed_bytes", "max_sitemap_bytes", "max_robots_bytes"):
            if getattr(self, name) < 1024:
                raise SettingsError(f"{name} must be at least 1024 bytes, got {getattr(self, name)!r}")
        if not 0 <= self.jitter < 1:
            raise SettingsError(f"jitter is a fraction in [0, 1), got {self.jitter!r}")
        if not self.robots_token or not self.robots_token.replace("-", "").replace("_", "").isalnum():
            raise SettingsError(f"robots_token must be a product token like 'reusetrack', got {self.robots_token!r}")

    def header_user_agent(self, version: str) -> str:
        """The User-Agent header sent with every request."""
        return self.user_agent.format(version=version, contact=self.contact)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (stored with each crawl run)."""
        out = asdict(self)
        out["allow_private"] = [str(n) for n in self.allow_private]
        out["insecure_hosts"] = sorted(self.insecure_hosts)
        return out
