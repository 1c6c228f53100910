"""When to fetch a URL again: adaptive re-crawl intervals and retry backoff (exponential with jitter).

A page that comes back unchanged is checked less and less often: after ``k`` unchanged fetches in
a row its interval is ``base × (1 + increase)^k``, kept within ``[min, max]`` of its kind. A change
starts it over at ``base``. Feeds are polled far more often than articles (their whole range lies
below the articles'), and sitemaps in between. Failures have their own growing interval, and
retries within a run wait ``backoff_base × 2^(n-1)`` seconds with jitter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from reuse.errors import SettingsError

__all__ = ["Schedule", "backoff_delay"]

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True)
class Schedule:
    """Re-crawl intervals in seconds, per kind of URL; every default is documented here.

    page_*: articles, first rechecked a day later, at most every 90 days once they stop changing.
    feed_*: feeds, polled every 15 minutes, backing off to 6 hours when quiet.
    sitemap_*: sitemaps, every 6 hours up to 2 days.
    increase: the factor an unchanged fetch adds to the interval (Nutch's INC_RATE is 0.4).
    error_base, error_max: after a permanent failure, try again after ``error_base × 2^(n-1)``.
    """

    page_base: float = DAY
    page_min: float = DAY
    page_max: float = 90 * DAY
    feed_base: float = 15 * 60.0
    feed_min: float = 5 * 60.0
    feed_max: float = 6 * HOUR
    sitemap_base: float = 6 * HOUR
    sitemap_min: float = HOUR
    sitemap_max: float = 2 * DAY
    increase: float = 0.5
    error_base: float = DAY
    error_max: float = 30 * DAY

    def __post_init__(self) -> None:
        for kind in ("page", "feed", "sitemap"):
            low, base, high = (getattr(self, f"{kind}_{part}") for part in ("min", "base", "max"))
            if not 0 < low <= base <= high:
                raise SettingsError(f"{kind} intervals must satisfy 0 < min <= base <= max, got {low}, {base}, {high}")
        if self.feed_max >= self.page_min:
            raise SettingsError("feeds must be polled more often than articles: feed_max must be below page_min")
        if self.increase <= 0:
            raise SettingsError(f"increase must be positive, got {self.increase}")
        if not 0 < self.error_base <= self.error_max:
            raise SettingsError("error intervals must satisfy 0 < error_base <= error_max")

    def bounds(self, kind: str) -> tuple[float, float, float]:
        """``(min, base, max)`` for ``kind`` (``page``, ``feed`` or ``sitemap``; anything else is a page)."""
        prefix = kind if kind in ("feed", "sitemap") else "page"
        return (getattr(self, f"{prefix}_min"), getattr(self, f"{prefix}_base"), getattr(self, f"{prefix}_max"))

    def interval(self, kind: str, unchanged: int) -> float:
        """Seconds until the next fetch after ``unchanged`` unchanged fetches in a row (0 after a change)."""
        low, base, high = self.bounds(kind)
        # Computed in the log domain's spirit: stop multiplying once past the cap (no overflow).
        value = base
        for _ in range(max(0, unchanged)):
            value *= 1 + self.increase
            if value >= high:
                return high
        return min(high, max(low, value))

    def error_interval(self, failures: int) -> float:
        """Seconds until a URL that failed ``failures`` times in a row (after its retries) is tried again."""
        value = self.error_base
        for _ in range(max(0, failures - 1)):
            value *= 2
            if value >= self.error_max:
                return self.error_max
        return value


def backoff_delay(attempt: int, base: float, cap: float, jitter: float, rng: random.Random) -> float:
    """Seconds before retry number ``attempt`` (1 for the first): ``base × 2^(attempt-1)``, capped,
    times a random factor in ``[1 - jitter, 1 + jitter]`` so that many URLs failing together do
    not come back together."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay * rng.uniform(1 - jitter, 1 + jitter)
