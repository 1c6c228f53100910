"""From a page to a :class:`~reuse.models.Document`: the one path for HTML files, WARC records and the crawl.

Every input that reads a web page (an ``.html`` file, a WARC/ARC record, a page the crawler
fetched) extracts it (:func:`crawlers.extract.extract`) and builds its Document here, so the three
agree on

- identity: the URL the page was read from, canonicalised; a canonical on the same site names the
  page, another site's canonical is evidence, not a name (:func:`crawlers.urls.document_url`);
- evidence: dates, header, blocks, links, credits (:func:`evidence_of`), and the dates known from
  where the page was found rather than from the page (:class:`Found`: a feed's or a sitemap's
  date, an archive's capture time);
- the publisher (:func:`site_of`), and the publication date: the page's own, else a publication
  date from where it was found (:data:`PUBLICATION_SOURCES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from crawlers.article import Article, ArticleState
from crawlers.urls import document_url
from reuse.errors import InputError, UnsupportedInput
from reuse.models import CreditLine, Document, Evidence, PageLink, TextBlock

__all__ = ["PUBLICATION_SOURCES", "Found", "evidence_of", "html_document", "page_document", "site_of"]

#: The sources of outside dates that are publication dates (a feed item's pubDate, a news sitemap's
#: publication_date), unlike a sitemap's lastmod or an archive's capture time.
PUBLICATION_SOURCES = frozenset({"feed", "sitemap-news"})


@dataclass(frozen=True)
class Found:
    """What is known of a page from where it was found rather than from the page itself.

    ``dates`` are ``(source, time, precision)`` triples (the precision a
    :class:`~reuse.models.TimePrecision` value, None for an instant): kept as lineage evidence,
    and the first from a :data:`PUBLICATION_SOURCES` source is the page's publication date when
    the page gives none. ``title`` stands in for a page without one; ``site`` names the publisher
    (a crawl source's ``site``) instead of the document URL's host.
    """

    dates: tuple[tuple[str, datetime, str | None], ...] = ()
    title: str | None = None
    site: str | None = None


def site_of(url: str) -> str | None:
    """The publisher of a URL: its host without ``www.`` (with its port when not the scheme's
    default: two servers on one host are two sites); None for local files."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    host = host[4:] if host.startswith("www.") else host
    try:
        port = parts.port
    except ValueError:
        port = None
    return host if port in (None, 80, 443) else f"{host}:{port}"


def evidence_of(article: Article) -> Evidence:
    """What lineage needs of an extracted page: dates, URLs, header, tags, blocks, links and credits."""
    return Evidence(
        fetched_url=article.url,
        canonical_url=article.canonical_url,
        site_name=article.site_name,
        published_source=article.published.source if article.published else None,
        modified=article.modified.value if article.modified else None,
        modified_precision=article.modified.precision if article.modified else None,
        authors=article.authors,
        tags=article.tags,
        header=article.header,
        blocks=tuple(TextBlock(b.start, b.end, str(b.kind), b.boilerplate) for b in article.paragraphs),
        links=tuple(PageLink(link.href, link.text, link.block) for link in article.links),
        credits=tuple(CreditLine(c.kind, c.text, c.outlet, c.url, c.block) for c in article.attribution),
    )


def page_document(article: Article, source: str, found: Found | None = None) -> Document:
    """The Document of an extracted page (its state ``ok``), read from ``article.url``.

    ``source`` says where it was read (a path, ``PATH@OFFSET`` of a WARC record, the fetched URL).
    """
    if article.url is None:
        raise ValueError("a page without the URL it was read from has no identity")
    found = found or Found()
    url = document_url(article.url, article.canonical_url, article.og_url)
    published = article.published.value if article.published else None
    precision = article.published.precision if article.published else None
    if published is None:
        stated = next((d for d in found.dates if d[0] in PUBLICATION_SOURCES), None)
        if stated is not None:
            _, published, precision = stated
    evidence = evidence_of(article)
    if found.dates:
        evidence = replace(
            evidence,
            other_dates=tuple((name, time) for name, time, _ in found.dates),
            other_precisions=tuple((name, p) for name, _, p in found.dates if p is not None),
        )
    metadata = {
        key: value
        for key, value in (
            ("subtitle", article.subtitle),
            ("authors", "; ".join(article.authors)),
            ("site_name", article.site_name),
            ("language", article.language),
            ("modified", article.modified.value.isoformat() if article.modified else None),
        )
        if value
    }
    return Document(
        url=url,
        text=article.text,
        title=article.title or found.title,
        published=published,
        site=found.site or site_of(url),
        source=source,
        metadata=metadata,
        evidence=evidence,
        published_precision=precision,
    )


def html_document(
    data: bytes, url: str, source: str, headers: Mapping[str, str] | None = None, found: Found | None = None
) -> Document | InputError:
    """The article of an HTML page read from ``url`` as a Document, or why there is none.

    ``headers`` are the page's HTTP response headers when known (their charset counts); a
    local file is read as ``text/html``.
    """
    # Imported here: the extractor's stack (lxml, its compiled patterns) costs a command that reads
    # only text or JSON lines 40 ms of its start.
    from crawlers.extract import extract

    article = extract(data, headers or {"Content-Type": "text/html"}, url)
    if article.state is ArticleState.NOT_TEXT:
        return UnsupportedInput(source, f"binary file, not an HTML page ({article.reason})")
    if article.state is not ArticleState.OK:
        return InputError(source, f"no article text ({article.state}: {article.reason})")
    return page_document(article, source, found)
