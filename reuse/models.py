"""The values that flow through the engine: documents in, passages, matches and pairs out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    "TimePrecision",
    "iso_precision",
    "shown_time",
    "time_interval",
]


class TimePrecision(StrEnum):
    """How exactly a stated time is known: to the second, minute or hour, or only its day, month or year.

    A time without a precision (None) is taken as an instant (``SECOND``).
    """

    SECOND = "second"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"

    @property
    def precise(self) -> bool:
        """Known to the minute: two such times can be said to be minutes apart."""
        return self in (TimePrecision.SECOND, TimePrecision.MINUTE)

    @property
    def label(self) -> str:
        """How the precision is shown beside a time ("date only"), empty for an instant."""
        return {"day": "date only", "month": "month only", "year": "year only"}.get(self.value, "")


#: A date without a time zone is a day somewhere on Earth: local days start between UTC-12 and
#: UTC+14, so the UTC instants it may stand for run from 14 hours before its UTC day to 12 after.
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)
_ISO_TIME = re.compile(r"^\d{4}-?\d{2}-?\d{2}[T ](\d{2})(?::?(\d{2})(?::?(\d{2}))?)?")


def iso_precision(text: str) -> TimePrecision | None:
    """The precision an ISO 8601 / W3C time is written with ("2021-03-01" is a ``DAY``,
    "2021-03" a ``MONTH``, "2021-03-01T10:00Z" a ``MINUTE``); None when it is not one."""
    raw = text.strip()
    if re.fullmatch(r"\d{4}", raw):
        return TimePrecision.YEAR
    if re.fullmatch(r"\d{4}-\d{2}", raw):
        return TimePrecision.MONTH
    if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", raw):
        return TimePrecision.DAY
    found = _ISO_TIME.match(raw)
    if found is None:
        return None
    if found.group(3) is not None:
        return TimePrecision.SECOND
    return TimePrecision.MINUTE if found.group(2) is not None else TimePrecision.HOUR


def time_interval(value: datetime, precision: str | None) -> tuple[datetime, datetime]:
    """The UTC instants a time stated at ``precision`` may stand for, as ``[start, end)``.

    An instant is a point (one second wide); a minute or an hour is that minute or hour. A day,
    month or year is read from ``value``'s UTC calendar fields (a date-only stamp is stored as
    its midnight, UTC) and, its time zone being unknown, widened by every UTC offset in use (-12h..+14h).
    A time without a zone is read as UTC.
    """
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    kind = TimePrecision(precision) if precision else TimePrecision.SECOND
    if kind is TimePrecision.SECOND:
        return utc, utc + timedelta(seconds=1)
    if kind is TimePrecision.MINUTE:
        start = utc.replace(second=0, microsecond=0)
        return start, start + timedelta(minutes=1)
    if kind is TimePrecision.HOUR:
        start = utc.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    day = datetime(utc.year, utc.month, utc.day, tzinfo=UTC)
    if kind is TimePrecision.DAY:
        start, end = day, day + timedelta(days=1)
    elif kind is TimePrecision.MONTH:
        start = day.replace(day=1)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    else:
        start, end = day.replace(month=1, day=1), day.replace(year=day.year + 1, month=1, day=1)
    return start - _EARLIEST_OFFSET, end + _LATEST_OFFSET


def shown_time(value: datetime | None, precision: str | None, zone: str = " UTC") -> str:
    """A time as people read it, with its precision: "2021-03-01 10:00 UTC", "2021-03-01 (date
    only)", "2021-03 (month only)"; "time unknown" without one. ``zone`` follows a time of day."""
    if value is None:
        return "time unknown"
    kind = TimePrecision(precision) if precision else TimePrecision.SECOND
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not kind.label:
        return utc.strftime("%Y-%m-%d %H:%M") + zone
    return f"{utc.strftime({'day': '%Y-%m-%d', 'month': '%Y-%m', 'year': '%Y'}[kind.value])} ({kind.label})"


class PassageKind(StrEnum):
    """How a passage was cut from its document."""

    PARAGRAPH = "paragraph"
    WINDOW = "window"


class MatchKind(StrEnum):
    """How closely the two sides of a match agree, word for word."""

    VERBATIM = "verbatim"  # the same words in the same order (case, punctuation, spacing aside)
    NEAR_VERBATIM = "near-verbatim"  # a few words changed, added or dropped
    EDITED = "edited"  # reworded, reordered or heavily changed, but verified to share text
    REWRITTEN = "rewritten"  # aligned sentence by sentence: most words changed, the sentences kept
    SUMMARY = "summary"  # a short side aligned to a long one sentence by sentence: a summary of it


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
    as "feed", a sitemap's lastmod as "sitemap"); ``other_precisions`` the precision of those known
    only to the day or coarser (a sitemap's "2020-11-04"), by source. ``header`` holds the lines between the headline
    and the body (byline, dateline, source line, tags); ``blocks`` the text's blocks in order.
    """

    fetched_url: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    published_source: str | None = None
    modified: datetime | None = None
    modified_precision: str | None = None  # a TimePrecision value; None: an instant
    other_dates: tuple[tuple[str, datetime], ...] = ()
    other_precisions: tuple[tuple[str, str], ...] = ()  # (source, TimePrecision value) of other_dates not instants
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
    published_precision: str | None = None  # a TimePrecision value ("day" for "2021-03-01"); None: an instant


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


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range ``[start, end)`` of character offsets (Python ``str`` indices) of one text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"a span needs 0 <= start <= end, got [{self.start}, {self.end})")

    @classmethod
    def of(cls, offset: int, length: int) -> Span:
        """The span of ``length`` characters from ``offset`` (as PAN's ``*_offset`` / ``*_length``)."""
        return cls(offset, offset + length)

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        """Whether the two spans share at least one character."""
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Match:
    """Two verified spans that share text; side ``a`` and side ``b`` are two documents."""

    a: Span
    b: Span
    # How close the two spans are: the share of their tokens in the same order (difflib's ratio),
    # 1.0 exactly when verbatim, under 0.8 for kind "edited".
    similarity: float
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
    # Graded similarity, 0..1: verbatim > light edit > heavy rewrite > unrelated (reuse.engine.grade).
    similarity: float = 0.0
