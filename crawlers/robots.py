"""robots.txt per RFC 9309, parsed by Protego.

Protego gets the RFC's matching right where Python's ``urllib.robotparser`` does not (wildcards, the longest match): a
wildcard ``Disallow: /*?utm_`` blocks ``/a?utm_source=x``, and the longest match wins, so
``Allow: /private/press`` beats ``Disallow: /private`` for ``/private/press/1``.

What a fetch of robots.txt means for the host (RFC 9309 sections 2.3 to 2.5):

======================================  =============================================================
robots.txt fetch                        the host
======================================  =============================================================
2xx                                     its rules (the first 500 KiB parsed), trusted 24 h
4xx (404, 410, 401, 403...)             everything allowed, trusted 24 h
429, 5xx, timeout, refused, reset       **nothing** fetched; robots.txt tried again after a short
                                        time (``robots_error_ttl``), never cached for the run
======================================  =============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

__all__ = ["RobotsRules", "robots_url"]


def robots_url(url: str) -> str:
    """The robots.txt URL that governs ``url``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


@dataclass(frozen=True)
class RobotsRules:
    """What robots.txt says for one host, and until when it is trusted (a monotonic time).

    ``state`` is ``"rules"`` (a parsed file), ``"allow_all"`` (a 4xx answer) or ``"unavailable"``
    (5xx, timeout, refused: nothing may be fetched until ``expires``).
    """

    state: str
    expires: float
    parser: Protego | None = None
    reason: str | None = None

    @classmethod
    def parse(cls, text: str, expires: float) -> RobotsRules:
        """Rules from the text of a robots.txt fetched with status 2xx."""
        return cls("rules", expires, Protego.parse(text))

    def allows(self, url: str, token: str) -> bool:
        """Whether ``token`` may fetch ``url``."""
        if self.state == "unavailable":
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, token))

    def crawl_delay(self, token: str) -> float | None:
        """The ``Crawl-delay`` for ``token`` in seconds, if the file gives one."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(token)
        return float(delay) if delay is not None else None

    def sitemaps(self) -> list[str]:
        """The ``Sitemap:`` URLs the file lists."""
        return list(self.parser.sitemaps) if self.parser is not None else []
