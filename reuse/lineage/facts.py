"""What lineage reads and what it produces: the facts of one document (:class:`DocFacts`), what two
documents share (:class:`SharedText`), and the story with its tree, edges and signals; with the
time of a document as stated and how exactly it is known (:class:`When`).

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from reuse.config import Settings
from reuse.engine.boilerplate import union_length
from reuse.models import Evidence, Match, Span, TimePrecision, shown_time, time_interval

__all__ = [
    "Attribution",
    "DocFacts",
    "Edge",
    "Node",
    "SharedText",
    "Signal",
    "Story",
    "When",
    "as_utc",
    "doc_time",
    "doc_when",
    "minutes_apart",
    "time_order",
]

NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DocFacts:
    """What lineage knows of one document: its version used, identity, times and page evidence.

    ``boilerplate`` holds the spans of its text that are boilerplate (marked or learned).
    """

    doc_id: int
    version_id: int
    url: str
    site: str | None
    chars: int
    published: datetime | None = None
    first_seen: datetime | None = None
    evidence: Evidence = field(default_factory=Evidence)
    boilerplate: tuple[Span, ...] = ()
    text: str = ""  # when given, shared spans are checked word by word (see ``_verified``)
    published_precision: str | None = None  # a TimePrecision value ("day" for a date); None: an instant

    @property
    def own_chars(self) -> int:
        """Characters of the text outside boilerplate."""
        return max(0, self.chars - union_length(self.boilerplate))


@dataclass(frozen=True)
class SharedText:
    """What two documents share: the matches between their versions (side ``a`` is ``doc_a``)."""

    doc_a: int
    doc_b: int
    matches: tuple[Match, ...]
    in_order: bool = True


@dataclass(frozen=True)
class Signal:
    """One piece of direction evidence: which document it says is the source, and how strongly."""

    name: str
    source: int | None  # None: the signal was looked at and says neither (e.g. simultaneous)
    weight: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``evidence`` column)."""
        return {"signal": self.name, "source": self.source, "weight": self.weight, "detail": self.detail}


@dataclass(frozen=True)
class Edge:
    """A reuse edge of a story. ``source``/``target`` are doc_ids; for an undirected edge in the
    tree they follow the tree, otherwise the earlier document is ``source``."""

    source: int
    target: int
    relation: str  # copy, undirected, shared_upstream, unseen_upstream
    directed: bool
    in_tree: bool
    confidence: float
    method: str | None
    signals: tuple[Signal, ...]
    lag_seconds: int | None
    shared_chars_source: int
    shared_chars_target: int
    coverage_source: float
    coverage_target: float
    in_order: bool
    via: int | None = None
    upstream: str | None = None


@dataclass(frozen=True)
class Node:
    """A document's place in its story's lineage tree."""

    doc_id: int
    parent: int | None  # None for a root, and for a child of an unseen upstream
    upstream: str | None
    depth: int
    time: datetime | None
    time_source: str | None
    time_precision: str | None = None  # a TimePrecision value; None when the time is unknown


@dataclass(frozen=True)
class Story:
    """A connected group of documents that share text, with its lineage tree and edges."""

    story_id: int  # the smallest doc_id of the story
    docs: tuple[int, ...]
    root: int
    earliest: int
    sites: tuple[str, ...]
    first_time: datetime | None
    last_time: datetime | None
    nodes: dict[int, Node]
    edges: tuple[Edge, ...]
    first_precision: str | None = None  # of ``first_time`` (a TimePrecision value)
    last_precision: str | None = None

    def ancestors(self, doc_id: int) -> list[int]:
        """The documents above ``doc_id`` in the tree, nearest first."""
        found, node = [], self.nodes[doc_id]
        while node.parent is not None:
            found.append(node.parent)
            node = self.nodes[node.parent]
        return found


@dataclass(frozen=True)
class Attribution:
    """Whether a copy credits its source: ``status`` is credited, credited_other or uncredited.

    ``how`` lists the ways it credits the source (canonical, credit, byline, link); ``credited``
    every outlet or URL it credits, each with the stored document it names (``doc_id``) and
    whether that is the source or an ancestor in the lineage; ``agrees`` whether the credits
    agree with the inferred lineage (None when there are none).
    """

    status: str
    how: tuple[str, ...]
    credited: tuple[dict[str, Any], ...]
    agrees: bool | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``attribution`` column)."""
        return {"status": self.status, "how": list(self.how), "credited": list(self.credited), "agrees": self.agrees}


# -- times ------------------------------------------------------------------------------------------


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class When(NamedTuple):
    """A document's time as stated (``value``, UTC), where it comes from and how exactly it is known.

    ``interval`` holds the instants it may stand for (see :func:`reuse.models.time_interval`): a
    date-only stamp is its whole day, widened by the time zones, not its midnight.
    """

    value: datetime | None
    source: str | None
    precision: TimePrecision | None

    @property
    def interval(self) -> tuple[datetime, datetime] | None:
        """``[start, end)`` in UTC, None when the time is unknown."""
        return None if self.value is None else time_interval(self.value, self.precision)

    @property
    def shown(self) -> str:
        """The time with its precision ("2021-03-01 (date only)")."""
        return shown_time(self.value, self.precision)

    @property
    def precise(self) -> bool:
        """Known to the minute: minutes between two such times mean something."""
        return self.precision is not None and self.precision.precise


def doc_when(doc: DocFacts) -> When:
    """The best time for a document, where it comes from and its precision: published, else
    modified, else the earliest feed or sitemap date, else first seen (an instant)."""
    if doc.published is not None:
        return When(as_utc(doc.published), "published", TimePrecision(doc.published_precision or "second"))
    if doc.evidence.modified is not None:
        precision = TimePrecision(doc.evidence.modified_precision or "second")
        return When(as_utc(doc.evidence.modified), "modified", precision)
    if doc.evidence.other_dates:
        source, value = min(doc.evidence.other_dates, key=lambda item: as_utc(item[1]) or NEVER)
        return When(as_utc(value), source, TimePrecision(dict(doc.evidence.other_precisions).get(source, "second")))
    if doc.first_seen is not None:
        return When(as_utc(doc.first_seen), "first_seen", TimePrecision.SECOND)
    return When(None, None, None)


def doc_time(doc: DocFacts) -> tuple[datetime | None, str | None]:
    """The best time for a document and where it comes from (:func:`doc_when` without the precision)."""
    when = doc_when(doc)
    return when.value, when.source


def time_order(doc: DocFacts) -> tuple[bool, datetime, datetime, int]:
    """A total, deterministic time order of documents: by the start, then the end, of their time
    interval, unknown times last, ties by doc_id. Overlapping intervals are not "earlier" than
    each other; this order only picks one of them the same way every time."""
    interval = doc_when(doc).interval
    start, end = interval if interval is not None else (NEVER, NEVER)
    return interval is None, start, end, doc.doc_id


def minutes_apart(wa: When, wb: When, settings: Settings) -> float | None:
    """Minutes between two times known to the minute and at most ``upstream_window_minutes`` apart:
    too close for one to have copied the other. None otherwise (a date-only stamp is never close,
    and when a page was first seen says nothing of when it was published)."""
    if (
        wa.value is None
        or wb.value is None
        or not (wa.precise and wb.precise)
        or "first_seen" in (wa.source, wb.source)
    ):
        return None
    gap = abs((wb.value - wa.value).total_seconds()) / 60
    return gap if gap <= settings.upstream_window_minutes else None
