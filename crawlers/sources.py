"""The sites a crawl watches: a TOML sources file, or URLs given on the command line.

A sources file (see ``seeds/sources.toml``)::

    [crawler]                        # optional: CrawlSettings fields (delay, contact, user_agent...)
    contact = "mailto:desk@example.org"
    delay = 5.0

    [[site]]
    name = "southfront"              # unique; frontier rows and documents name it
    site = "southfront.org"          # the publisher label of its documents (default: the host)
    start = ["https://southfront.org/"]
    feeds = ["https://southfront.org/feed/"]
    sitemaps = ["https://southfront.org/sitemap_index.xml"]
    hosts = ["southfront.org"]       # scope (default: the hosts of the URLs above)
    allow = ["^/[a-z0-9-]+/$"]       # path patterns to follow (regular expressions, searched)
    deny = ["^/tag/", "^/wp-"]
    max_depth = 1                    # links followed from start pages
    max_pages = 500                  # pages fetched per run
    delay = 10.0                     # seconds between requests to its hosts

A URL on the command line becomes a source of its own whose scope is its host; whether it is a
page, a feed or a sitemap is decided by what it serves.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from crawlers.frontier import Kind
from crawlers.settings import CrawlSettings
from crawlers.urls import Scope, canonicalize, host_key
from reuse.errors import InputError, SettingsError

__all__ = ["Source", "load_sources", "source_for_url"]

_SITE_KEYS = frozenset(
    {"name", "site", "start", "feeds", "sitemaps", "hosts", "allow", "deny", "max_depth", "max_pages", "delay"}
)


@dataclass(frozen=True)
class Source:
    """One watched site: where to start, what is in scope, and its limits and politeness."""

    name: str
    seeds: tuple[tuple[str, Kind], ...]
    scope: Scope
    site: str | None = None
    max_depth: int | None = None  # None: the crawl's setting
    max_pages: int | None = None
    delay: float | None = None
    config: dict[str, Any] = field(default_factory=dict, compare=False)

    def hosts(self) -> frozenset[str]:
        """The host keys of its seeds and scope."""
        return frozenset(host_key(url) for url, _ in self.seeds) | self.scope.hosts


def source_for_url(url: str) -> Source:
    """A source for one URL given on the command line: its host is the scope, with or without
    ``www.`` (sites redirect between the two, and the redirect must stay in scope)."""
    canonical = canonicalize(url)
    host = host_key(canonical)
    twin = host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"
    hosts = frozenset({host, twin}) if not host[:1].isdigit() and not host.startswith("[") else frozenset({host})
    return Source(host, ((canonical, Kind.PAGE),), Scope(hosts), config={"url": url})


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{where} must be a list of strings")
    return list(value)


def _site(raw: Any, number: int, path: Path) -> Source:
    where = f"{path}: [[site]] number {number}"
    if not isinstance(raw, dict):
        raise SettingsError(f"{where} is not a table")
    unknown = sorted(set(raw) - _SITE_KEYS)
    if unknown:
        raise SettingsError(f"{where} has unknown keys {unknown}; known keys: {sorted(_SITE_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SettingsError(f"{where} needs a name")
    where = f"{path}: site {name!r}"
    seeds: list[tuple[str, Kind]] = []
    for key, kind in (("start", Kind.PAGE), ("feeds", Kind.FEED), ("sitemaps", Kind.SITEMAP)):
        for url in _strings(raw.get(key), f"{where}: {key}"):
            try:
                seeds.append((canonicalize(url), kind))
            except InputError as err:
                raise SettingsError(f"{where}: {key}: {err}") from None
    if not seeds:
        raise SettingsError(f"{where} has no start, feeds or sitemaps URL")
    hosts = _strings(raw.get("hosts"), f"{where}: hosts")
    host_keys = {host_key(canonicalize(f"http://{h}/")) for h in hosts} or {host_key(u) for u, _ in seeds}
    scope = Scope(
        frozenset(host_keys),
        tuple(_strings(raw.get("allow"), f"{where}: allow")),
        tuple(_strings(raw.get("deny"), f"{where}: deny")),
    )
    limits: dict[str, Any] = {}
    for key, kind_of in (("max_depth", int), ("max_pages", int), ("delay", float)):
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SettingsError(f"{where}: {key} must be a non-negative number, got {value!r}")
        limits[key] = kind_of(value)
    site = raw.get("site")
    if site is not None and not isinstance(site, str):
        raise SettingsError(f"{where}: site must be a string")
    return Source(name.strip(), tuple(seeds), scope, site, config=dict(raw), **limits)


def load_sources(path: str | Path) -> tuple[dict[str, Any], list[Source]]:
    """The ``[crawler]`` settings (CrawlSettings field → value) and the sites of a sources file.

    Raises :class:`~reuse.errors.InputError` if the file cannot be read or parsed, and
    :class:`~reuse.errors.SettingsError` (saying what to fix) if its content is wrong.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError(str(file), f"cannot read: {err.strerror or err}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(str(file), f"not a valid TOML file: {err}") from None
    crawler = data.get("crawler", {})
    if not isinstance(crawler, dict):
        raise SettingsError(f"{file}: [crawler] must be a table")
    known = {f.name for f in fields(CrawlSettings)} - {"allow_private", "insecure_hosts"}
    unknown = sorted(set(crawler) - known)
    if unknown:
        raise SettingsError(f"{file}: [crawler] has unknown keys {unknown}; known keys: {sorted(known)}")
    sites = data.get("site", [])
    if not isinstance(sites, list) or not sites:
        raise SettingsError(f"{file} lists no [[site]]")
    sources = [_site(raw, number, file) for number, raw in enumerate(sites, start=1)]
    names = [s.name for s in sources]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SettingsError(f"{file}: site names must be unique; repeated: {duplicated}")
    return dict(crawler), sources
