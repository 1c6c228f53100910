"""From an HTML page to the plain text the engine fingerprints (a simple paragraph reader).

Paragraphs come from ``<p>``-like blocks (``p``, headings, list items, block quotes, ``pre``)
outside navigation, headers, footers, asides, forms and scripts; each becomes one paragraph of
the text, separated by blank lines. The title, canonical URL and published time come from the
usual meta tags. The article-extraction layer replaces this behind the same function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bs4 import BeautifulSoup, Tag

__all__ = ["ExtractedPage", "extract_page"]

_BLOCKS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"]
_CHROME = ["nav", "header", "footer", "aside", "form", "script", "style", "noscript", "template", "svg"]


@dataclass(frozen=True)
class ExtractedPage:
    """What the simple reader takes from a page."""

    text: str
    title: str | None
    canonical_url: str | None
    published: datetime | None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _json_ld_date(soup: BeautifulSoup) -> str | None:
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.get_text())
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get("datePublished"), str):
                return str(item["datePublished"])
    return None


def _meta(soup: BeautifulSoup, **attrs: str) -> str | None:
    tag = soup.find("meta", attrs=dict(attrs.items()))
    value = tag.get("content") if isinstance(tag, Tag) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def extract_page(html: str) -> ExtractedPage:
    """Read the paragraphs and basic metadata of an HTML page."""
    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    title = _meta(soup, property="og:title") or (title_tag.get_text(" ", strip=True) if title_tag else None)
    link = soup.find("link", rel="canonical")
    href = link.get("href") if isinstance(link, Tag) else None
    canonical = href.strip() if isinstance(href, str) and href.strip() else _meta(soup, property="og:url")
    published = _parse_time(_meta(soup, property="article:published_time") or _json_ld_date(soup))
    body = soup.body or soup
    for tag in body.find_all(_CHROME):
        tag.decompose()
    paragraphs = []
    for block in body.find_all(_BLOCKS):
        # Nested blocks (a <p> inside an <li>) are read once, at the innermost level.
        if block.find(_BLOCKS):
            continue
        text = " ".join(block.get_text(" ", strip=True).split())
        if text:
            paragraphs.append(text)
    return ExtractedPage("\n\n".join(paragraphs), title or None, canonical or None, published)
