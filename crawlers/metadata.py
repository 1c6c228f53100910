"""Metadata of a news page: title, dates, authors, site, language, canonical URL, JSON-LD.

Each value is read from the most explicit source first: ``<meta>`` tags (Open Graph, ``article:*``,
Dublin Core, Parse.ly...), then JSON-LD, then microdata and ``<time datetime>``, and visible text
only as a last resort. Dates keep the source that gave them (:class:`~crawlers.article.Stamp`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from crawlers.article import Stamp
from crawlers.dates import parse_time

__all__ = ["JsonLd", "Metadata", "clean_title", "read_json_ld", "read_metadata"]

_PUBLISHED_META = (
    "article:published_time", "og:published_time", "og:article:published_time", "datepublished",
    "article.published", "published_time", "publish-date", "publish_date", "publishdate", "pubdate",
    "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date",
    "dcterms.created", "dc.date.created", "date", "citation_publication_date", "article_date_original",
    "cxenseparse:recs:publishtime", "originalpublicationdate",
)  # fmt: skip
_MODIFIED_META = (
    "article:modified_time", "og:updated_time", "og:article:modified_time", "datemodified", "article.updated",
    "modified_time", "last-modified", "dcterms.modified", "dc.date.modified", "lastmod", "revised",
)  # fmt: skip
_AUTHOR_META = ("author", "article:author", "dc.creator", "dcterms.creator", "parsely-author", "sailthru.author",
                "byl", "twitter:creator")  # fmt: skip
_TITLE_SEPARATORS = re.compile(r"\s+[|–—·•»:/\\-]+\s+|\s*\|\s*|\s+::\s+")
_BY = re.compile(r"^\s*(?:by|von|par|por|de|автор[:]?)\s+", re.I)
_NAME_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bund\b|\bet\b|\by\b|\bи\b)\s*", re.I)
_ROLE = re.compile(r"\b(?:reporter|correspondent|editor|writer|columnist|contributor|journalist|photographer|"
                   r"redakteur|rédacteur|correspons?al|корреспондент)\b", re.I)  # fmt: skip
_BYLINE_STOP = re.compile(r"\s[|·•—–]|published|updated|posted|\d|\n", re.I)


@dataclass(frozen=True)
class JsonLd:
    """What the page's JSON-LD says about its article."""

    headline: str | None = None
    published: str | None = None
    modified: str | None = None
    authors: tuple[str, ...] = ()
    publisher: str | None = None
    language: str | None = None
    article_body: str | None = None
    url: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Metadata:
    """The page-level metadata the extractor reads before looking at the body."""

    title: str | None
    h1: str | None
    subtitle: str | None
    site_name: str | None
    language: str | None
    canonical_url: str | None  # rel=canonical, else og:url
    og_url: str | None  # og:url alone: the URL a CMS states as the page's own, where a canonical may name another
    base_url: str | None
    published: Stamp | None
    modified: Stamp | None
    authors: tuple[str, ...]
    json_ld: JsonLd
    original_source: tuple[tuple[str, str], ...]  # (meta name, URL) of original-source/syndication-source


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _names(value: Any) -> list[str]:
    names = []
    for item in _as_list(value):
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            names.append(item["name"])
    return [" ".join(name.split()) for name in names if name.strip()]


def _ld_objects(data: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a JSON-LD document, breadth first (``@graph`` and lists included)."""
    queue = _as_list(data)
    seen = 0
    while queue and seen < 1000:
        item = queue.pop(0)
        seen += 1
        if isinstance(item, list):
            queue.extend(item)
        elif isinstance(item, dict):
            yield item
            for key in ("@graph", "mainEntity", "itemListElement"):
                if isinstance(item.get(key), dict | list):
                    queue.extend(_as_list(item[key]))


def read_json_ld(doc: HtmlElement) -> JsonLd:
    """The article described by the page's JSON-LD scripts (the first object of an article type wins)."""
    best: dict[str, Any] | None = None
    fallback: dict[str, Any] | None = None
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = (script.text or "").strip().removeprefix("<!--").removesuffix("-->").strip()
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            try:
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
            except ValueError:
                continue
        for found in _ld_objects(data):
            kinds = " ".join(str(kind) for kind in _as_list(found.get("@type")))
            if best is None and re.search(r"article|posting|report|liveblog", kinds, re.I):
                best = found
            if fallback is None and ("datePublished" in found or "headline" in found):
                fallback = found
    item = best or fallback
    if item is None:
        return JsonLd()

    def text(key: str) -> str | None:
        value = item.get(key)
        if isinstance(value, list) and value and isinstance(value[0], str):
            value = value[0]
        return " ".join(value.split()) if isinstance(value, str) and value.strip() else None

    body = item.get("articleBody")
    page = item.get("mainEntityOfPage")
    url = text("url") or (page if isinstance(page, str) else page.get("@id") if isinstance(page, dict) else None)
    language = item.get("inLanguage")
    return JsonLd(
        headline=text("headline") or text("name"),
        published=text("datePublished") or text("dateCreated"),
        modified=text("dateModified"),
        authors=tuple(_names(item.get("author")) + _names(item.get("creator"))),
        publisher=_first(_names(item.get("publisher"))),
        language=language if isinstance(language, str) else None,
        article_body=body if isinstance(body, str) and body.strip() else None,
        url=url if isinstance(url, str) else None,
        description=text("description"),
    )


def _metas(doc: HtmlElement) -> dict[str, list[str]]:
    """``<meta>`` contents by lower-cased ``property``, ``name``, ``itemprop`` or ``http-equiv``."""
    found: dict[str, list[str]] = {}
    for meta in doc.iter("meta"):
        content = meta.get("content")
        if content is None or not content.strip():
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attribute)
            if key:
                found.setdefault(key.strip().lower(), []).append(" ".join(content.split()))
    return found


def clean_title(title: str, site_names: list[str]) -> str:
    """A ``<title>`` without its site suffix or prefix ("Headline | Site", "Site - Headline")."""
    title = " ".join(title.split())
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    sites = [" ".join(name.lower().split()) for name in site_names if name]

    def is_site(part: str) -> bool:
        lowered = part.lower()
        return any(site and (site in lowered or lowered in site) for site in sites)

    kept = [part for part in parts if part and not is_site(part)]
    if not kept:
        return title
    if len(kept) < len(parts):
        # The longest of what is left is the headline; sections ("World") and site names are short.
        return max(kept, key=len) if len(kept) > 1 and len(max(kept, key=len)) > 2 * len(kept[0]) else " ".join(kept)
    # No site name known: drop a trailing short part after the last separator (the usual "| Site" suffix).
    return title if len(parts[-1]) > 0.5 * len(parts[0]) else title[: title.rfind(parts[-1])].rstrip(" |–—-·•»:/")


def _stamp(values: list[tuple[str, str | None]], day_first: bool) -> Stamp | None:
    for source, value in values:
        parsed = parse_time(value, day_first)
        if parsed is not None:
            return Stamp(parsed[0], source, parsed[1].value)
    return None


def _time_elements(doc: HtmlElement, *, modified: bool) -> list[tuple[str, str | None]]:
    """``<time datetime>`` values and microdata dates, the ones marked as the wanted kind first."""
    wanted = re.compile(r"updated|modified" if modified else r"publish|pubdate|posted|created|entry-date|date", re.I)
    other = re.compile(r"publish|pubdate|posted|created" if modified else r"updated|modified", re.I)
    marked: list[tuple[str, str | None]] = []
    plain: list[tuple[str, str | None]] = []
    prop = "dateModified" if modified else "datePublished"
    for element in doc.xpath(f"//*[@itemprop='{prop}']"):
        value = element.get("datetime") or element.get("content") or _text(element)
        marked.append((f"microdata:{prop}", value))
    for element in doc.iter("time"):
        value = element.get("datetime")
        if not value:
            continue
        hints = " ".join(filter(None, [element.get("class"), element.get("itemprop"), element.get("pubdate")]))
        if other.search(hints):
            continue
        if element.get("pubdate") is not None and not modified:
            marked.append(("time[pubdate]", value))
        elif wanted.search(hints):
            marked.append(("time", value))
        elif not modified:
            plain.append(("time", value))
    return marked + plain[:1]


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _language(doc: HtmlElement, metas: dict[str, list[str]], json_ld: JsonLd) -> str | None:
    for value in (
        doc.get("lang"),
        doc.get("{http://www.w3.org/XML/1998/namespace}lang"),
        _first(metas.get("content-language")),
        _first(metas.get("og:locale")),
        json_ld.language,
        _first(metas.get("language")),
    ):
        if value and re.match(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$", value.strip()):
            parts = value.strip().replace("_", "-").split("-")
            return "-".join([parts[0].lower()] + [p.upper() if len(p) == 2 else p for p in parts[1:]])
    return None


def _absolute(href: str | None, base: str | None) -> str | None:
    if not href or not href.strip():
        return None
    joined = urljoin(base, href.strip()) if base else href.strip()
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def _authors(doc: HtmlElement, metas: dict[str, list[str]], json_ld: JsonLd) -> tuple[str, ...]:
    candidates: list[str] = list(json_ld.authors)
    if not candidates:
        for key in _AUTHOR_META:
            candidates.extend(value for value in metas.get(key, []) if not value.startswith(("http", "@", "/")))
            if candidates:
                break
    if not candidates:
        specific = doc.xpath(
            "//*[@rel='author' or @itemprop='author' or contains(concat(' ', normalize-space(@class), ' '), ' author ')"
            " or contains(@class, 'author-name')][not(self::meta)][not(self::link)]"
        )
        for element in [*specific[:3], *doc.xpath("//*[contains(@class, 'byline')]")[:3]]:
            first = element.text_content()
            # A byline's first line is the name; dates and roles follow after a break or a separator.
            lines = [line for line in first.split("\n") if line.strip()]
            text = _BY.sub("", " ".join((lines[0] if lines else "").split()))
            stop = _BYLINE_STOP.search(" " + text)
            text = text[: max(stop.start() - 1, 0)] if stop else text
            if text:
                candidates.append(text)
                break
    names: list[str] = []
    for candidate in candidates:
        for name in _NAME_SPLIT.split(_BY.sub("", candidate)):
            name = name.strip(" .,;:|")
            if 1 < len(name) <= 80 and name.lower() not in (n.lower() for n in names) and not name.startswith("http"):
                names.append(name)
    people = [name for name in names if not _ROLE.search(name)]
    return tuple((people or names)[:10])


def read_metadata(doc: HtmlElement, url: str | None) -> Metadata:
    """Read the title, dates, authors, site, language and canonical URL of a parsed page."""
    metas = _metas(doc)
    json_ld = read_json_ld(doc)
    base_href = next((base.get("href") for base in doc.iter("base") if base.get("href")), None)
    base_url = _absolute(base_href, url) or url
    canonical = None
    for link in doc.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            canonical = _absolute(link.get("href"), base_url)
            if canonical:
                break
    og_url = _absolute(_first(metas.get("og:url")), base_url)
    canonical = canonical or og_url
    site_name = next(
        (values[0] for key in ("og:site_name", "application-name", "twitter:site") if (values := metas.get(key))),
        None,
    )
    site_name = site_name.lstrip("@") if site_name else json_ld.publisher
    language = _language(doc, metas, json_ld)
    day_first = not (language or "").lower().startswith("en-us")
    h1 = next((text for element in doc.iter("h1") if (text := _text(element))), None)
    host = urlsplit(canonical or url or "").hostname or ""
    site_names = [name for name in (site_name, json_ld.publisher, host.removeprefix("www.")) if name]
    page_title = next((_text(title) for title in doc.iter("title")), None)
    title = next(
        (values[0] for key in ("og:title", "twitter:title") if (values := metas.get(key))),
        json_ld.headline or h1 or page_title,
    )
    if title:
        title = clean_title(title, site_names)
    subtitle = next(
        (
            _text(element)
            for element in doc.xpath("//*[@itemprop='alternativeHeadline' or @itemprop='description'][not(self::meta)]")
            if _text(element)
        ),
        None,
    )
    published = _stamp(
        [(f"meta:{key}", value) for key in _PUBLISHED_META for value in metas.get(key, [])[:1]]
        + [("json-ld:datePublished", json_ld.published)]
        + _time_elements(doc, modified=False),
        day_first,
    )
    modified = _stamp(
        [(f"meta:{key}", value) for key in _MODIFIED_META for value in metas.get(key, [])[:1]]
        + [("json-ld:dateModified", json_ld.modified)]
        + _time_elements(doc, modified=True),
        day_first,
    )
    original = tuple(
        (key, href)
        for key in ("original-source", "syndication-source", "dc.source", "citation_source")
        for value in metas.get(key, [])
        if (href := _absolute(value, base_url))
    )
    return Metadata(
        title=title or None,
        h1=h1,
        subtitle=subtitle,
        site_name=site_name,
        language=language,
        canonical_url=canonical,
        og_url=og_url,
        base_url=base_url,
        published=published,
        modified=modified,
        authors=_authors(doc, metas, json_ld),
        json_ld=json_ld,
        original_source=original,
    )
