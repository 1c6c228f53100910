"""What the extractor makes of a page: an :class:`Article` of typed blocks, metadata and evidence.

``paragraphs`` holds every block in reading order. Every block's ``start``/``end`` are half-open
character offsets into ``Article.text``, which is the
blocks' texts joined by blank lines (``"\\n\\n"``). Boilerplate blocks (a donation appeal, a share
prompt, a copyright line, a credit line) stay in the text, marked, so that lineage can report them
as a republisher's additions instead of silently losing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Article", "ArticleState", "Block", "BlockKind", "Credit", "Link", "Stamp"]


class BlockKind(StrEnum):
    """What a block of the article is."""

    PARAGRAPH = "paragraph"
    HEADING = "heading"
    LIST_ITEM = "list_item"
    QUOTE = "quote"  # a block quotation: evidence of quoting, not of copying
    CAPTION = "caption"


class ArticleState(StrEnum):
    """Whether the page gave an article, and if not, why."""

    OK = "ok"
    EMPTY = "empty"  # a page, but no article text (see ``Article.reason``)
    NOT_TEXT = "not_text"  # binary data, whatever the Content-Type said
    TOO_COMPLEX = "too_complex"  # nesting or element count beyond the caps


@dataclass(frozen=True)
class Block:
    """One block of the article: its text, kind, offsets into ``Article.text`` and boilerplate label.

    ``boilerplate`` is None for the article's own text, else what the block is: "donation",
    "share_prompt", "copyright", "disclaimer", "attribution", "newsletter", "promo", "cookie", "caption"
    (a picture's caption or credit line: the picture's, not the article's) or "byline" (the staff credits
    "Reporting by ...; Editing by ...").
    """

    text: str
    kind: BlockKind
    start: int
    end: int
    boilerplate: str | None = None


@dataclass(frozen=True)
class Link:
    """A link in the article: absolute ``href``, anchor text, and the index of its block (None: outside)."""

    href: str
    text: str
    block: int | None


@dataclass(frozen=True)
class Credit:
    """Attribution evidence: a line or tag crediting another outlet, with the outlet and URL when given.

    ``kind`` says what matched: "original_source", "first_published", "republished", "source",
    "via", "courtesy", "source_link" (a byline source link), "meta" (``<meta name="original-source">``
    and friends) or "canonical" (a ``rel=canonical`` to another site).
    """

    text: str
    kind: str
    outlet: str | None
    url: str | None
    block: int | None  # the block index when the line is one of the article's blocks


@dataclass(frozen=True)
class Stamp:
    """A time read from the page, where it was read (e.g. "meta:article:published_time", "json-ld")
    and how exactly it is known (a :class:`~reuse.models.TimePrecision` value: "day" for a date)."""

    value: datetime
    source: str
    precision: str = "second"


@dataclass(frozen=True)
class Article:
    """A page as the tracker sees it: title, typed blocks with offsets, metadata and attribution evidence."""

    state: ArticleState
    reason: str | None = None  # why the state is not "ok" (e.g. "paywall", "cookie_wall", "too_short")
    title: str | None = None
    subtitle: str | None = None
    paragraphs: tuple[Block, ...] = ()
    text: str = ""
    published: Stamp | None = None
    modified: Stamp | None = None
    authors: tuple[str, ...] = ()
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None  # rel=canonical, else og:url
    og_url: str | None = None  # og:url, kept apart: what a saved page with no URL of its own is named by
    url: str | None = None  # the URL the page was fetched from, when given
    links: tuple[Link, ...] = ()
    attribution: tuple[Credit, ...] = ()
    encoding: str | None = None  # the WHATWG name of the encoding the page was read with
    # The lines between the headline and the body (byline, dateline, source line, tag lines): what a
    # republisher puts in front of a copied body, kept apart from the text so offsets stay the body's.
    header: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # from ``article:tag`` meta and "Tags:/Region:/Theme:" header lines

    @property
    def body(self) -> tuple[Block, ...]:
        """The blocks that are the article's own text (boilerplate left out)."""
        return tuple(block for block in self.paragraphs if block.boilerplate is None)

    @property
    def boilerplate(self) -> tuple[Block, ...]:
        """The blocks marked as boilerplate."""
        return tuple(block for block in self.paragraphs if block.boilerplate is not None)
