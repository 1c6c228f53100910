"""Article extraction: from a fetched page (bytes, headers, URL) to an :class:`~crawlers.article.Article`.

::

    bytes ─ sniff (binary? → not_text) ─ decode (BOM > header > meta > UTF-8 > detection)
          ─ parse (lxml; depth and element caps → too_complex)
          ─ metadata (meta tags, JSON-LD, <time>, visible dates)
          ─ main content (crawlers.content) ─ boilerplate and credit lines marked (crawlers.attribution)
          ─ JSON-LD articleBody when the page's markup gives less ─ state (ok, or empty with a reason)

:func:`extract` never raises on bad input: every page gives an Article whose ``state`` says what
became of it. :func:`article_to_dict` is the JSON shape shown by ``reusetrack extract --json``.

The parser is lxml's (libxml2) rather than BeautifulSoup's tree: it is several times faster, the
same parser bs4 would drive, and its nesting limit (256 levels, 2,048 with ``huge_tree``) bounds
the work on hostile input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from crawlers.article import Article, ArticleState, Block, BlockKind, Credit, Link, Stamp
from crawlers.attribution import boilerplate_of, credit_of, outlet_name, stub_reason
from crawlers.charset import decode_text, sniff_binary
from crawlers.content import SUBTITLE_HINT, Segment, clean, main_blocks
from crawlers.dates import visible_time
from crawlers.metadata import Metadata, read_metadata
from crawlers.urls import document_url, site_key

__all__ = ["MAX_ELEMENTS", "MAX_PAGE_BYTES", "MIN_ARTICLE_CHARS", "article_to_dict", "extract"]

#: Pages larger than this are not parsed (the fetcher's cap is smaller; this bounds direct callers).
MAX_PAGE_BYTES = 20 * 1024 * 1024
#: More elements than this gives state ``too_complex`` (an 8 MiB page of paragraphs has about 40,000).
MAX_ELEMENTS = 400_000
#: An article with less text of its own than this is ``empty`` (trafilatura's MIN_EXTRACTED_SIZE).
MIN_ARTICLE_CHARS = 250
# Boilerplate that is kept as marked blocks when it follows the body (newsletter boxes and cookie
# notices there are the site's chrome, not additions to the article).
_TAIL_LABELS = frozenset({"attribution", "donation", "share_prompt", "copyright", "disclaimer", "promo"})
_TAIL_SCAN = 40
_BINARY_TYPES = re.compile(r"^\s*(?:image|audio|video|font)/|^\s*application/(?:pdf|zip|gzip|x-gzip|"
                           r"x-tar|msword|vnd\.|x-7z|x-rar|wasm|x-shockwave)", re.I)  # fmt: skip
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_SOURCE_HINT = re.compile(r"(?:^|[\s_-])(?:source|original|via|credit|syndicat\w*|origin)(?:$|[\s_-])", re.I)
_DATE_HINT = re.compile(r"date|time|posted|publish|byline|meta|dateline|updated", re.I)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_BYLINE = re.compile(r"^(?:by|von|par|por|автор:?)\s+(.{2,80})$", re.I)
_TAG_LINE = re.compile(
    r"^(?:tags?|topics?|regions?|themes?|categor(?:y|ies)|filed under|subjects?|keywords|schlagwörter|"
    r"étiquettes|etiquetas|теги)\s*:\s*(.+)$",
    re.I,
)
_TAG_SPLIT = re.compile(r"\s*(?:,|;|\||\band\b|\bund\b|\bet\b|\by\b|\bи\b)\s*", re.I)
# Header lines made only of these words are share and comment buttons, not part of the article.
_BUTTON_WORDS = frozenset(
    [
        "share",
        "tweet",
        "email",
        "e-mail",
        "print",
        "facebook",
        "twitter",
        "whatsapp",
        "telegram",
        "linkedin",
        "reddit",
        "pinterest",
        "copy",
        "link",
        "comments",
        "comment",
        "save",
        "listen",
    ]
)
_HEADER_LINE_MAX = 300
_HEADER_SCAN = 10


def _parse(text: str) -> tuple[HtmlElement | None, ArticleState | None, str | None]:
    """Parse HTML; on depth overflow retry with libxml2's larger limit, then give up as too complex."""
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        return None, ArticleState.EMPTY, "no_html"
    for huge in (False, True):
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=huge, default_doctype=False)
        try:
            doc = lxml.html.document_fromstring(text, parser=parser)
        except (etree.ParserError, ValueError):
            return None, ArticleState.EMPTY, "no_html"
        if not any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log):
            break
    else:
        return None, ArticleState.TOO_COMPLEX, "nesting deeper than the parser's limit"
    for count, _ in enumerate(doc.iter(), start=1):
        if count > MAX_ELEMENTS:
            return None, ArticleState.TOO_COMPLEX, f"more than {MAX_ELEMENTS:,} elements"
    return doc, None, None


def _absolute(href: str, base: str | None) -> str | None:
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    joined = urljoin(base, href) if base else href
    return joined if urlsplit(joined).scheme in ("http", "https") else None


def _host(url: str | None) -> str:
    host = (urlsplit(url).hostname or "") if url else ""
    return host.removeprefix("www.")


def _credit(text: str, links: list[Link], block: int | None) -> Credit | None:
    found = credit_of(text)
    if found is None:
        return None
    outlet, url = found.outlet, found.url
    if url is None and links:
        # The credited page is the link whose anchor names the outlet, else the first link.
        named = [link for link in links if outlet and link.text and (link.text in outlet or outlet in link.text)]
        chosen = (named or links)[0]
        url = chosen.href
        outlet = outlet or chosen.text or None
    return Credit(text, found.kind, outlet, url, block)


def _subtitle(kept: list[Segment], segments: list[Segment], meta: Metadata) -> tuple[str | None, Segment | None]:
    """The standfirst/dek: marked up by class near the top of the article, or by microdata."""
    if meta.subtitle:
        return meta.subtitle, next((seg for seg in kept[:3] if seg.text == meta.subtitle), None)
    first = kept[0].index if kept else len(segments)
    for seg in [*segments[max(0, first - 6) : first], *kept[:2]]:
        hints = f"{seg.owner.get('class') or ''} {seg.owner.get('id') or ''}"
        if 20 <= len(seg.text) <= 500 and seg.kind != BlockKind.CAPTION and SUBTITLE_HINT.search(hints):
            return seg.text, seg if seg.keep else None
    return None, None


def _tail(kept: list[Segment], segments: list[Segment], scope_range: tuple[int, int]) -> list[Segment]:
    """Boilerplate blocks among and after the body inside the article's scope (credit lines, disclaimers).

    They were left out as link-heavy or as chrome (a copyright line of links, a "Comment on our
    Facebook page" box) but are a republisher's additions, so they are kept, marked.
    """
    if not kept:
        return []
    found = [
        seg
        for seg in segments[kept[0].index : kept[-1].index]
        if not seg.keep and boilerplate_of(seg.text) in _TAIL_LABELS
    ]
    position = kept[-1].index + 1
    end = min(scope_range[1], position + _TAIL_SCAN)
    for seg in segments[position:end]:
        label = boilerplate_of(seg.text)
        if label in _TAIL_LABELS:
            found.append(seg)
        elif len(seg.text) >= 40 and seg.link_density < 0.5 and label is None:
            break
    return found


def _json_ld_blocks(body: str) -> list[tuple[str, BlockKind]]:
    if "<" in body and ">" in body:
        with suppress(etree.ParserError, ValueError):
            body = lxml.html.fromstring(f"<div>{body}</div>").text_content()
    return [(" ".join(line.split()), BlockKind.PARAGRAPH) for line in re.split(r"\n+", body) if line.strip()]


def _header(kept: list[Segment], segments: list[Segment], title: str | None, subtitle: str | None) -> tuple[str, ...]:
    """The short lines between the headline and the first body block: byline, dateline, source, tags.

    Only when the headline is found among the segments just above the body: without it, what
    precedes the body is as likely menus as a header.
    """
    if not kept or not title:
        return ()
    first = kept[0].index
    window = segments[max(0, first - _HEADER_SCAN) : first]
    heads = [k for k, seg in enumerate(window) if seg.kind == BlockKind.HEADING and seg.text == title]
    if not heads:
        return ()
    lines = []
    for seg in window[heads[-1] + 1 :]:
        words = {w.strip(".,:·|").lower() for w in seg.text.split()} - {""}
        if seg.text == subtitle or len(seg.text) > _HEADER_LINE_MAX or not words or words <= _BUTTON_WORDS:
            continue
        lines.append(seg.text)
    return tuple(lines)


def _tags(doc: HtmlElement, header: tuple[str, ...]) -> tuple[str, ...]:
    """Tags from ``article:tag`` meta and from "Tags: a, b" / "Region: a and b" lines of the header."""
    found = [str(value).strip() for value in doc.xpath('//meta[@property="article:tag"]/@content')]
    for line in header:
        if (m := _TAG_LINE.match(line)) is not None:
            found.extend(_TAG_SPLIT.split(m.group(1)))
    return tuple(dict.fromkeys(tag for tag in found if tag))


def _published_from_text(meta: Metadata, segments: list[Segment], kept: list[Segment]) -> Stamp | None:
    first = kept[0].index if kept else 0
    near = segments[max(0, first - 15) : first + 3]
    day_first = not (meta.language or "").lower().startswith("en-us")
    hinted = [seg for seg in near if _DATE_HINT.search(f"{seg.owner.get('class') or ''} {seg.owner.get('id') or ''}")]
    for seg in [*hinted, *near]:
        if len(seg.text) <= 200 and (value := visible_time(seg.text, day_first)) is not None:
            return Stamp(value[0], "text", value[1].value)
    return None


def _source_links(scope: HtmlElement | None, page_host: str, base: str | None) -> list[Credit]:
    """Links to another site inside an element named like a source or credit (a byline's source line).

    One credit per URL, with the text of the smallest such element around it.
    """
    if scope is None:
        return []
    found: dict[str, Credit] = {}
    for element in scope.iter():
        if not isinstance(element.tag, str) or not _SOURCE_HINT.search(
            f"{element.get('class') or ''} {element.get('id') or ''}"
        ):
            continue
        text = " ".join(element.text_content().split())
        for anchor in element.iter("a"):
            href = _absolute(anchor.get("href") or "", base)
            if not href or _host(href) in ("", page_host) or (href in found and len(found[href].text) <= len(text)):
                continue
            found[href] = Credit(text, "source_link", " ".join(anchor.text_content().split()) or None, href, None)
    return list(found.values())


def extract(body: bytes, headers: Mapping[str, str] | None = None, url: str | None = None) -> Article:
    """Extract the article of a fetched page: typed blocks with offsets, metadata and attribution evidence.

    ``headers`` are the response headers (only ``Content-Type`` is read); ``url`` is where the page
    was fetched from, used to resolve relative links. Never raises on bad input: binary data gives
    state ``not_text``, pathological markup ``too_complex``, a page without article text ``empty``
    with a ``reason`` ("paywall", "cookie_wall", "js_required", "not_found", "too_short"...).
    """
    content_type = next((value for key, value in (headers or {}).items() if key.lower() == "content-type"), None)
    if len(body) > MAX_PAGE_BYTES:
        return Article(ArticleState.TOO_COMPLEX, f"page larger than {MAX_PAGE_BYTES:,} bytes", url=url)
    if not body.strip():
        return Article(ArticleState.EMPTY, "empty body", url=url)
    binary = sniff_binary(body)
    if binary is None and content_type and _BINARY_TYPES.search(content_type):
        binary = f"Content-Type {content_type.split(';')[0].strip()}"
    if binary is not None:
        return Article(ArticleState.NOT_TEXT, binary, url=url)
    decoded = decode_text(body, content_type)
    doc, state, reason = _parse(decoded.text)
    if doc is None:
        return Article(state or ArticleState.EMPTY, reason, url=url, encoding=decoded.encoding)
    meta = read_metadata(doc, url)
    meta_tags = _tags(doc, ())  # read before cleaning, which drops <head>'s meta elements
    clean(doc)
    kept, segments, scope = main_blocks(doc, (meta.h1, meta.title), MIN_ARTICLE_CHARS)
    subtitle, subtitle_segment = _subtitle(kept, segments, meta)
    if subtitle_segment is not None:
        kept.remove(subtitle_segment)
    scope_range = _scope_range(scope, segments)
    chosen = kept + [seg for seg in _tail(kept, segments, scope_range) if seg not in kept]
    chosen.sort(key=lambda seg: seg.index)

    base = meta.base_url
    pieces: list[tuple[str, BlockKind, str | None, list[tuple[str, str]]]] = []
    for seg in chosen:
        label = boilerplate_of(seg.text)
        if seg.owner.tag == "cite":
            label = "attribution"
        elif label is None and seg.kind == BlockKind.CAPTION:
            # A caption belongs to its picture: a wire photo's caption turns up on every page that
            # runs the photo, so it is no evidence that the article was copied.
            label = "caption"
        pieces.append((seg.text, seg.kind, label, seg.links))
    own_chars = sum(_weight(text) for text, _, label, _ in pieces if label is None)
    article_body = meta.json_ld.article_body
    source_note: str | None = None
    if article_body and len(article_body) >= MIN_ARTICLE_CHARS and own_chars < 0.5 * len(article_body):
        pieces = [(text, kind, None, []) for text, kind in _json_ld_blocks(article_body)]
        own_chars = sum(_weight(text) for text, _, _, _ in pieces)
        source_note = "json-ld"

    header = _header(kept, segments, meta.h1 or meta.title, subtitle)
    tags = tuple(dict.fromkeys([*meta_tags, *_tags(doc, header)]))
    published = meta.published or _published_from_text(meta, segments, kept)
    authors = meta.authors
    if not authors:
        first = kept[0].index if kept else 0
        for seg in segments[max(0, first - 10) : first]:
            if (found := _BYLINE.match(seg.text)) is not None:
                authors = (found.group(1).strip(),)
                break
    # The page's own web address: where it was read from, or for a saved file what it states it is
    # (crawlers.urls.document_url), so that a syndicated copy is not taken for the site it credits.
    own_url = document_url(url or "", meta.canonical_url, meta.og_url) or None
    page_host = _host(own_url)
    common: dict[str, Any] = {
        "title": meta.title,
        "subtitle": subtitle,
        "published": published,
        "modified": meta.modified,
        "authors": authors,
        "site_name": meta.site_name or (page_host or None),
        "language": meta.language,
        "canonical_url": meta.canonical_url,
        "og_url": meta.og_url,
        "url": url,
        "encoding": decoded.encoding,
        "header": header,
        "tags": tags,
    }
    credits: list[Credit] = [
        Credit(f'<meta name="{name}">', "meta", None, href, None) for name, href in meta.original_source
    ]
    own_site, canonical_site = site_key(own_url or ""), site_key(meta.canonical_url or "")
    if own_site and canonical_site and canonical_site != own_site:
        credits.append(
            Credit('<link rel="canonical">', "canonical", _host(meta.canonical_url), meta.canonical_url, None)
        )

    if own_chars < MIN_ARTICLE_CHARS or _paywalled(own_chars, segments, kept):
        page_text = " ".join(seg.text for seg in segments)[:20_000]
        stub = stub_reason(page_text) if own_chars < MIN_ARTICLE_CHARS else "paywall"
        why = stub or ("too_short" if own_chars else "no_text")
        return Article(ArticleState.EMPTY, why, attribution=tuple(credits), **common)

    blocks: list[Block] = []
    links: list[Link] = []
    texts: list[str] = []
    offset = 0
    for index, (text, kind, label, raw_links) in enumerate(pieces):
        block_links = [Link(href, anchor, index) for raw, anchor in raw_links if (href := _absolute(raw, base))]
        links.extend(block_links)
        if label == "attribution" and (credit := _credit(text, block_links, index)) is not None:
            credits.append(credit)
        elif label == "attribution":
            # A <cite> under a quotation: "Outlet, “Title”, via Other" names the outlet first.
            first_link = block_links[0] if block_links else None
            credits.append(
                Credit(text, "quote_source", outlet_name(text), first_link.href if first_link else None, index)
            )
        blocks.append(Block(text, kind, offset, offset + len(text), label))
        texts.append(text)
        offset += len(text) + 2
    # Credit lines elsewhere in the article's scope (above the body, in a source box) are evidence too.
    in_article = {seg.index for seg in chosen}
    for seg in segments[scope_range[0] : scope_range[1]]:
        if seg.index not in in_article:
            seg_links = [Link(href, anchor, None) for raw, anchor in seg.links if (href := _absolute(raw, base))]
            if (credit := _credit(seg.text, seg_links, None)) is not None:
                credits.append(credit)
    credits.extend(_source_links(scope, page_host, base))
    for quote in (scope if scope is not None else doc).iter("blockquote"):
        if cited := _absolute(quote.get("cite") or "", base):
            credits.append(Credit(f'<blockquote cite="{cited}">', "quote_source", None, cited, None))
    unique: dict[tuple[str, str | None, str], Credit] = {}
    for credit in credits:
        unique.setdefault((credit.kind, credit.url, credit.text), credit)
    return Article(
        ArticleState.OK,
        source_note,
        paragraphs=tuple(blocks),
        text="\n\n".join(texts),
        links=tuple(links),
        attribution=tuple(unique.values()),
        **common,
    )


def _weight(text: str) -> int:
    """Length of ``text`` with CJK characters counted twice (each carries about as much as two letters)."""
    return len(text) + len(_CJK.findall(text))


def _scope_range(scope: HtmlElement | None, segments: list[Segment]) -> tuple[int, int]:
    if scope is None:
        return (0, 0)
    indexes = [seg.index for seg in segments if _within(seg.owner, scope)]
    return (indexes[0], indexes[-1] + 1) if indexes else (0, 0)


def _within(element: HtmlElement, ancestor: HtmlElement) -> bool:
    current: HtmlElement | None = element
    while current is not None:
        if current is ancestor:
            return True
        current = current.getparent()
    return False


def _paywalled(own_chars: int, segments: list[Segment], kept: list[Segment]) -> bool:
    """A short teaser followed by a subscription prompt is a paywall stub, not an article."""
    if own_chars >= 1200 or not kept:
        return False
    after = segments[kept[-1].index + 1 : kept[-1].index + 6]
    return stub_reason(" ".join(seg.text for seg in after)) == "paywall"


def _iso(stamp: Stamp | None) -> str | None:
    return stamp.value.isoformat() if stamp else None


def article_to_dict(article: Article) -> dict[str, Any]:
    """The Article as plain JSON-ready data (the shape of ``reusetrack extract --json``)."""
    return {
        "state": str(article.state),
        "reason": article.reason,
        "url": article.url,
        "title": article.title,
        "subtitle": article.subtitle,
        "published": _iso(article.published),
        "published_source": article.published.source if article.published else None,
        "published_precision": article.published.precision if article.published else None,
        "modified": _iso(article.modified),
        "modified_source": article.modified.source if article.modified else None,
        "modified_precision": article.modified.precision if article.modified else None,
        "authors": list(article.authors),
        "site": article.site_name,
        "language": article.language,
        "canonical_url": article.canonical_url,
        # What the page is stored as (crawlers.urls.document_url): the canonical only on the same site.
        "document_url": document_url(article.url, article.canonical_url, article.og_url) if article.url else None,
        "encoding": article.encoding,
        "header": list(article.header),
        "tags": list(article.tags),
        "paragraphs": [
            {
                "text": block.text,
                "kind": str(block.kind),
                "start": block.start,
                "end": block.end,
                "boilerplate": block.boilerplate,
            }
            for block in article.paragraphs
        ],
        "links": [{"href": link.href, "text": link.text, "paragraph": link.block} for link in article.links],
        "attribution": [
            {
                "text": credit.text,
                "kind": credit.kind,
                "outlet": credit.outlet,
                "url": credit.url,
                "paragraph": credit.block,
            }
            for credit in article.attribution
        ],
        "boilerplate": [
            {"paragraph": index, "label": block.boilerplate, "text": block.text}
            for index, block in enumerate(article.paragraphs)
            if block.boilerplate is not None
        ],
    }
