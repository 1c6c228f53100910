"""The values that flow through the engine: documents in, passages, matches and pairs out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "CreditLine",
    "Document",
    "DocumentPair",
    "Evidence",
    "Match",
    "MatchKind",
    "PageLink",
    "Passage",
    "PassageKind",
    "Span",
    "TextBlock",
]


class PassageKind(StrEnum):
    """How a passage was cut from its document."""

    PARAGRAPH = "paragraph"
    WINDOW = "window"


class MatchKind(StrEnum):
    """How closely the two sides of a match agree, word for word."""

    VERBATIM = "verbatim"  # the same words in the same order (case, punctuation, spacing aside)
    NEAR_VERBATIM = "near-verbatim"  # a few words changed, added or dropped
    EDITED = "edited"  # reworded, reordered or heavily changed, but verified to share text


@dataclass(frozen=True)
class TextBlock:
    """One block of a document's text (a paragraph, heading, list item, quote...).

    ``start``/``end`` are half-open character offsets into the document's text. ``boilerplate``
    is the extractor's label for a block it marked as such ("donation", "disclaimer",
    "attribution"...), None for the article's own text.
    """

    start: int
    end: int
    kind: str = "paragraph"
    boilerplate: str | None = None


@dataclass(frozen=True)
class PageLink:
    """A link of the page: absolute ``href``, anchor text and the index of its block (None: outside)."""

    href: str
    text: str
    block: int | None = None


@dataclass(frozen=True)
class CreditLine:
    """A line, tag or link crediting another outlet ("The original source of this article is ...").

    ``kind`` says what matched (the extractor's credit kinds: "original_source", "source_link",
    "canonical", "quote_source"...); ``outlet`` and ``url`` name what is credited when known.
    """

    kind: str
    text: str
    outlet: str | None = None
    url: str | None = None
    block: int | None = None


@dataclass(frozen=True)
class Evidence:
    """What a page says about itself beyond its text: the evidence lineage decides direction with.

    ``other_dates`` are times from outside the page, as ``(source, time)`` pairs (a feed's pubDate
    as "feed", a sitemap's lastmod as "sitemap"). ``header`` holds the lines between the headline
    and the body (byline, dateline, source line, tags); ``blocks`` the text's blocks in order.
    """

    fetched_url: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    published_source: str | None = None
    modified: datetime | None = None
    other_dates: tuple[tuple[str, datetime], ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    blocks: tuple[TextBlock, ...] = ()
    links: tuple[PageLink, ...] = ()
    credits: tuple[CreditLine, ...] = ()


@dataclass(frozen=True)
class Document:
    """One article's text as read from a file, a page or a row.

    ``url`` identifies the document: the URL it was read from, canonicalised, or its canonical when
    on the same site (``crawlers.urls.document_url``); a ``file://`` URL for local files naming none;
    ``text`` is the plain text whose character offsets every passage and match refers to.
    """

    url: str
    text: str
    title: str | None = None
    published: datetime | None = None
    site: str | None = None
    source: str | None = None  # where it was read from (a path, a WARC record...)
    metadata: dict[str, str] = field(default_factory=dict)
    evidence: Evidence | None = None  # what the page says about itself (HTML pages); None for plain text


@dataclass(frozen=True)
class Passage:
    """A fingerprinted unit of a document: a paragraph, or a window of tokens.

    Offsets are half-open: tokens ``[token_start, token_end)`` and characters
    ``[char_start, char_end)`` of the document's original text.
    """

    position: int
    kind: PassageKind
    token_start: int
    token_end: int
    char_start: int
    char_end: int
    unspaced: bool  # shingled by characters (a script written without spaces)


@dataclass(frozen=True)
class Span:
    """A half-open character range of one document's original text."""

    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Match:
    """Two verified spans that share text; side ``a`` and side ``b`` are two documents."""

    a: Span
    b: Span
    similarity: float  # share of aligned tokens, 0..1
    kind: MatchKind
    a_tokens: int
    b_tokens: int


@dataclass(frozen=True)
class DocumentPair:
    """What two documents share, summed over their matches."""

    matches: int
    shared_chars_a: int
    shared_chars_b: int
    coverage_a: float  # share of document a's characters inside a match
    coverage_b: float
    longest_chars: int  # the longest match, in characters of side a
    in_order: bool  # matches appear in the same order on both sides
