"""URL canonicalisation and crawl scope.

:func:`canonicalize` gives every URL one spelling, so that the frontier fetches an article once
however it was linked (10,000 links with tracking parameters, fragments and host case to 1,000
articles give 1,000 fetches)::

    HTTP://Example.COM:80/a/./b/../c?utm_source=x&b=2&a=1#top  →  http://example.com/a/c?a=1&b=2

- the scheme and host are lower-cased, the host IDNA-encoded and stripped of a trailing dot, the
  default port and any user name and password removed;
- dot segments are resolved and an empty path becomes ``/``;
- percent-encodings are made uniform: unreserved characters decoded, the rest upper-case hex,
  characters that may not appear raw (spaces, non-ASCII) encoded as UTF-8;
- the fragment is dropped; query parameters are sorted by key (values of one key keep their
  order) and empty ones dropped;
- tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``mc_cid``...) are removed, and **only**
  those: every other parameter is kept, since ``?id=``, ``?p=``, ``?cid=``, ``?story=`` name
  different articles (courlan 1.4.0 merges ``?cid=1001`` and ``?cid=1002`` into one URL).

The function is idempotent (``canonicalize(canonicalize(u)) == canonicalize(u)``, property-tested)
and works on the raw query string, so no parameter is decoded and re-encoded lossily.

Document identity is decided here too, once for every input path (:func:`document_url`): a
document is the page at the URL it was read from; a ``rel=canonical`` (or ``og:url``) on the same
site (:func:`same_site`) merges aliases, one on another site is evidence, never identity. Lookups
accept the usual variants of a URL through :func:`page_key`.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from reuse.errors import InputError, SettingsError

__all__ = [
    "FETCHABLE_SCHEMES",
    "TRACKING_PARAMS",
    "Scope",
    "canonicalize",
    "document_url",
    "host_key",
    "is_tracking_param",
    "page_key",
    "same_site",
    "site_key",
]

#: The only schemes ever fetched: ``file:``, ``data:``, ``ftp:``, ``javascript:`` are refused.
FETCHABLE_SCHEMES = frozenset({"http", "https"})

#: Query keys removed as tracking (compared case-insensitively); ``utm_*`` and ``mc_*``-style
#: prefixes are in :data:`_TRACKING_PREFIXES`.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "vero_id", "vero_conv", "rb_clickid", "s_cid", "ncid", "cmpid", "wt_mc", "wt.mc_id", "ref_src",
        "ref_url", "__twitter_impression", "spm", "share", "amp",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "__hs", "matomo_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters left raw in a path (RFC 3986 pchar plus "/"), and in a query component. "&", "=" and
# "+" are kept raw in the query because they carry its structure; "%" is handled separately.
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _UNRESERVED | frozenset("!$'()*+,;:@/?")
_HEX = frozenset("0123456789abcdefABCDEF")
# A host whose last label is a number (decimal, octal or hex) is an IPv4 address (WHATWG URL standard).
_NUMERIC_HOST = re.compile(r"(?:[0-9a-fx]*\.)*(?:0x[0-9a-f]*|[0-9]+)\.?")


def is_tracking_param(key: str) -> bool:
    """Whether a query key (raw or percent-encoded) only tracks the click, naming no content."""
    low = _normalize_percent(key, _QUERY_SAFE).lower()
    return low in TRACKING_PARAMS or low.startswith(_TRACKING_PREFIXES)


def _normalize_percent(text: str, safe: frozenset[str]) -> str:
    """One spelling for every character: unreserved ones raw, ``%XX`` upper-case, unsafe ones encoded."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            value = chr(int(text[i + 1 : i + 3], 16))
            out.append(value if value in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        if char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on an absolute path."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments[1:], start=1):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def _host(raw: str, url: str) -> str:
    host = raw.lower().rstrip(".")
    if not host:
        raise InputError(url, "no host in URL")
    if ":" in host:  # an IPv6 literal (urlsplit drops its brackets)
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise InputError(url, "host is not a valid IPv6 address") from None
    if any(ord(c) > 127 for c in host):
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as err:
            raise InputError(url, f"host is not a valid international domain name: {err}") from None
    if not re.fullmatch(r"[a-z0-9._~!$&'()*+,;=%-]+", host):
        raise InputError(url, "host has characters a host name cannot have")
    if _NUMERIC_HOST.fullmatch(host):
        # Browsers read 0177.0.0.1, 127.1 and 2130706433 as 127.0.0.1 (WHATWG IPv4 parser, like
        # inet_aton): write them so, so that every address rule sees the address.
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            raise InputError(url, "host looks like an IPv4 address but is not one") from None
    return host


def canonicalize(url: str, base: str | None = None) -> str:
    """The one spelling of ``url`` (resolved against ``base`` when relative) that the frontier keys on.

    Raises :class:`~reuse.errors.InputError` for what cannot be fetched: another scheme than
    http(s), no host, a bad port.
    """
    raw = url.strip()
    if base is not None:
        raw = urljoin(base, raw)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as err:
        raise InputError(url, f"not a valid URL: {err}") from None
    scheme = parts.scheme.lower()
    if scheme not in FETCHABLE_SCHEMES:
        raise InputError(url, f"scheme {scheme + ':' if scheme else '(none)'} is not fetched (only http and https)")
    hostname = parts.hostname
    if hostname is None:
        raise InputError(url, "no host in URL")
    host = _host(hostname, url)
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(_normalize_percent(parts.path or "/", _PATH_SAFE))
    if not path.startswith("/"):
        path = "/" + path
    kept: list[tuple[str, str]] = []
    for item in parts.query.split("&"):
        if not item:
            continue
        key, eq, value = item.partition("=")
        key = _normalize_percent(key, _QUERY_SAFE - {"="})
        if not key and not value:
            continue
        if is_tracking_param(key):
            continue
        kept.append((key, eq + _normalize_percent(value, _QUERY_SAFE | {"="})))
    kept.sort(key=lambda kv: kv[0])  # stable: the values of one key keep their order
    query = "&".join(key + value for key, value in kept)
    return urlunsplit((scheme, netloc, path, query, ""))


def host_key(url: str) -> str:
    """The politeness key of a canonical URL: its host, with the port when not the default.

    One connection and one delay apply per key; two ports of one address are two servers.
    """
    return urlsplit(url).netloc


def _web_url(url: str | None) -> str | None:
    """``url`` canonicalised, or None when it is no http(s) URL (a local file, a bad URL)."""
    if not url:
        return None
    try:
        return canonicalize(url)
    except InputError:
        return None


@cache
def _registrable_domain() -> Callable[[str], str]:
    """The registrable domain of a host name by the public suffix list ("" when none applies).

    publicsuffixlist's bundled copy of the list is read, never fetched; its private section
    counts, so two blogs on ``blogspot.com`` are two sites, and a name under no listed suffix
    (``localhost``, ``.example``) has none. Read on first use (tens of milliseconds): commands
    that never decide identity skip it.
    """
    from publicsuffixlist import PublicSuffixList

    suffixes = PublicSuffixList(only_icann=False, accept_unknown=False)

    @lru_cache(maxsize=65536)  # a crawl or an archive asks about few hosts, many times each
    def domain(host: str) -> str:
        return suffixes.privatesuffix(host) or ""

    return domain


def site_key(url: str) -> str | None:
    """The publisher of a web URL, for deciding identity: its registrable domain (``amp.example.com``
    and ``www.example.com`` are ``example.com``; ``news.bbc.co.uk`` is ``bbc.co.uk``), or its host
    without ``www.`` where no public suffix applies (an address, ``localhost``, ``.example``), with
    the port when not the default (two servers are two sites). None for what is no http(s) URL."""
    canonical = _web_url(url)
    return None if canonical is None else _site_of_canonical(canonical)


def _site_of_canonical(canonical: str) -> str:
    """:func:`site_key` of a URL already canonical."""
    parts = urlsplit(canonical)
    host = parts.hostname or ""
    name = ("" if host.startswith("[") or _NUMERIC_HOST.fullmatch(host) else _registrable_domain()(host)) or (
        host.removeprefix("www.")
    )
    return name if parts.port is None else f"{name}:{parts.port}"


def same_site(a: str, b: str) -> bool:
    """Whether two web URLs belong to one publisher (:func:`site_key`); never for a non-web URL."""
    key = site_key(a)
    return key is not None and key == site_key(b)


def document_url(read_from: str, canonical: str | None = None, og_url: str | None = None) -> str:
    """The URL a page read from ``read_from`` is stored under: its identity, one rule for every input.

    A document is the page at the URL it was read from (the fetched URL after redirects, a WARC
    record's target URI, a JSONL record's own ``url``), canonicalised. The page's ``canonical``
    (``rel=canonical`` or ``og:url``) names it only when it is on the same site: an AMP twin or
    a URL with tracking parameters is one document with its article. A canonical on another site
    is what a syndication partner is asked to set: evidence of the source (kept with the page's
    evidence for lineage), never identity, or the copy would replace the original.

    A page with no web URL of its own (``read_from`` is a local file's ``file://`` URL) is named by
    the web address it states for itself: its ``og_url``, which a CMS fills with the page's own
    URL, when that is on another site than its canonical (a syndicated copy saved as a file: the
    canonical names the original and stays evidence); else its canonical (a saved page); without
    either it keeps ``read_from``.
    """
    own = _web_url(read_from)
    named = _web_url(canonical)
    if own is None:
        stated = _web_url(og_url)
        if stated is not None and named is not None and _site_of_canonical(stated) != _site_of_canonical(named):
            return stated
        return named or stated or read_from
    return named if named is not None and _site_of_canonical(own) == _site_of_canonical(named) else own


def page_key(url: str) -> str | None:
    """The key under which the usual variants of a web URL are one page, for looking documents up:
    the canonical URL (host case, default port, fragment and tracking parameters made uniform)
    without its scheme, ``www.`` and trailing slash. None for what is no http(s) URL."""
    canonical = _web_url(url)
    if canonical is None:
        return None
    parts = urlsplit(canonical)
    path = parts.path.rstrip("/") or "/"
    return parts.netloc.removeprefix("www.") + path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class Scope:
    """Which URLs a crawl may follow: hosts, and path patterns (regular expressions, searched).

    A URL is in scope when its host key is one of ``hosts`` (empty: any host), its path and query
    match one of ``allow`` (empty: any) and none of ``deny``.
    """

    hosts: frozenset[str] = frozenset()
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    _allow: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _deny: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
        for name, patterns in (("allow", self.allow), ("deny", self.deny)):
            try:
                compiled[name] = tuple(re.compile(p) for p in patterns)
            except re.error as err:
                raise SettingsError(
                    f"scope {name} pattern {err.pattern!r} is not a regular expression: {err}"
                ) from None
        object.__setattr__(self, "_allow", compiled["allow"])
        object.__setattr__(self, "_deny", compiled["deny"])

    def contains(self, url: str) -> bool:
        """Whether the canonical ``url`` is inside this scope."""
        parts = urlsplit(url)
        if self.hosts and parts.netloc not in self.hosts:
            return False
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if self._allow and not any(p.search(target) for p in self._allow):
            return False
        return not any(p.search(target) for p in self._deny)
