"""The ingest pipeline: read → analyse → store → find candidates → verify and align → store.

This module, the other ``*_pipeline`` modules (lineage, crawl), ``inspection``, ``pan13_eval`` and
the CLI are the only places that wire the pure core (``reuse``) to the readers (``crawlers``) and
the warehouse (``warehouse``). Each batch of documents is committed in one
transaction together with its passages, signatures, band keys and matches, so an interrupted
run loses at most the batches in flight (the one being stored and the next, being analysed) and
never leaves half a document behind.
"""

from __future__ import annotations

import gc
import hashlib
import os
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crawlers.files import SUFFIXES, has_input_files, iter_documents
from reuse import reusetrack_version
from reuse.config import Settings
from reuse.engine.analysis import Analysis, Comparable
from reuse.engine.lsh import may_verify
from reuse.engine.matching import MatchedColumns, PairResult, match_grouped
from reuse.errors import InputError, Problem, RepeatedInput, WarehouseError
from reuse.models import Document, TimePrecision
from reuse.pipeline.analyser import Analyser
from reuse.pipeline.batch_rows import BatchRows
from reuse.pipeline.lineage import LineageSummary, lineage_summary, rebuild_lineage, store_evidence, update_lineage
from reuse.stages import StageClock
from warehouse.db import SCHEMA_VERSION, StoredVersion, Warehouse, fixed_width_blobs, open_when_free
from warehouse.lineage import pending_count
from warehouse.load import is_empty, load_tables
from warehouse.manifest import Manifest

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "BATCH_CHARS",
    "BATCH_DOCUMENTS",
    "IngestReport",
    "Ingestor",
    "Prepared",
    "RecentComparables",
    "RunReport",
    "append_row",
    "content_hash",
    "default_batch_size",
    "document_row",
    "first_of_each_url",
    "ingest",
    "ingest_files",
    "load_snapshot",
    "match_columns",
    "match_rows",
    "pair_columns",
    "pair_row",
    "record_url",
    "refresh_lineage",
    "repeated_input",
    "signature_blobs",
    "signature_column",
    "snapshot_settings",
    "version_row",
]

ProgressHook = Callable[[str], None]


@dataclass(kw_only=True)
class RunReport:
    """What a run that reads, stores and matches documents did (``ingest`` and ``spark``):
    ``problems`` lists every item counted as skipped or failed."""

    skipped: int = 0
    failed: int = 0
    passages: int = 0
    candidates: int = 0
    pairs: int = 0
    matches: int = 0
    problems: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The counts, the run's own first (what it read), without its id, flags and problem list."""
        shared = [f.name for f in fields(RunReport)]
        names = [f.name for f in fields(self) if f.name not in shared] + shared
        values = {name: getattr(self, name) for name in names if name != "run_id"}
        return {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}

    def add_problem(self, problem: Problem) -> None:
        """Count and list an item the run could not use."""
        if problem.status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1
        self.problems.append(problem)


@dataclass
class IngestReport(RunReport):
    """What one ingest run did."""

    run_id: int
    ingested: int = 0
    unchanged: int = 0
    clock: StageClock = field(default_factory=StageClock)
    interrupted: bool = False  # stopped before the end of its input (Ctrl-C, SIGTERM)

    @property
    def read(self) -> int:
        """Documents that could be read: stored now, or already stored unchanged."""
        return self.ingested + self.unchanged


#: Documents an ingest batch holds at most (``REUSETRACK_BATCH_SIZE``), before it grows (below).
BATCH_DOCUMENTS = 200
#: Characters of text an ingest batch holds at most, whatever its document count, before it
#: grows (below): a batch's memory grows with its text (its band keys, the rows they find, its
#: candidates), so a corpus of long documents (reports, books) is stored in batches of fewer of
#: them. 200 documents of PAN13's mean length (6,000 characters); 200 news articles hold about
#: half of it.
BATCH_CHARS = 1_200_000
#: A batch of the default limits grows to at most this many times them while the warehouse holds
#: little text (see :func:`batch_growth`).
MAX_GROWTH = 2.0
#: Stored characters at which a batch of the default limits holds them exactly: below it, a batch
#: grows by ``GROWTH_TEXT / stored text`` (up to :data:`MAX_GROWTH`, reached at half of it).
#: Each batch searches the whole band-key index once and is one transaction, so fewer, larger
#: batches are faster; but the rows a batch's keys find grow with the index as well as with the
#: batch, and with them its memory. Growing a batch as the stored text shrinks keeps a batch's
#: text times the stored text at most ``BATCH_CHARS * GROWTH_TEXT``: half of what the last
#: batches of the four-times scale corpus (240M characters) hold, whose peak RSS is under the
#: 4 GB target (see bench/README.md, "Batch sizes" and "Batches that grow while the warehouse
#: is small").
GROWTH_TEXT = 120_000_000


def batch_growth(stored: int) -> float:
    """How many times the default limits a batch stored after ``stored`` characters of text
    holds: ``GROWTH_TEXT / stored``, at least 1 and at most :data:`MAX_GROWTH`."""
    return min(MAX_GROWTH, max(1.0, GROWTH_TEXT / max(stored, 1)))


def _growth_in(warehouse: Warehouse) -> Callable[[int], float]:
    """:func:`batch_growth` of a batch after ``read`` characters of a run into ``warehouse``.

    The warehouse's text is read when the run's first batch reaches the default limits, before
    anything of the run is stored (a batch ends short of them only at the input's end), or never:
    a run of one article pays no statement for it."""
    text_before = cache(warehouse.stored_text)
    return lambda read: batch_growth(text_before() + read)


def _batched(
    items: Iterable[Document | InputError],
    size: int,
    chars: int,
    clock: StageClock,
    growth: Callable[[int], float] | None = None,
) -> Iterator[list[Document | InputError]]:
    """``items`` in lists of ``size``, each ended early by the document that takes its text to
    ``chars`` characters; the time spent producing them is the stage ``read``.

    With ``growth``, a batch that reaches those limits goes on to ``growth(read)`` times them
    (asked then only: a run of one article asks nothing), ``read`` being the text of the batches
    before it."""
    iterator = iter(items)
    read = 0
    while True:
        batch: list[Document | InputError] = []
        held = 0
        cap, budget, grow = size, chars, growth
        with clock.stage("read"):
            for item in iterator:
                batch.append(item)
                held += len(item.text) if isinstance(item, Document) else 0
                if (len(batch) >= cap or held >= budget) and grow is not None:
                    scale, grow = grow(read), None  # once a batch
                    cap, budget = round(size * scale), round(chars * scale)
                if len(batch) >= cap or held >= budget:
                    break
        if not batch:
            return
        read += held
        yield batch


def first_of_each_url(items: Iterable[Document | InputError]) -> Iterator[Document | InputError]:
    """``items`` with each document whose URL an earlier one of them had replaced by the
    :class:`~reuse.errors.RepeatedInput` saying where the URL was first read.

    The first record of a URL is the one kept, in one file or across the files of a run, so
    that reading the same input again never changes the warehouse (a later copy kept instead
    would be stored as a new version on each run after the first)."""
    first: dict[str, tuple[str, str]] = {}
    for item in items:
        if isinstance(item, InputError):
            yield item
        elif item.url in first:
            yield repeated_input(item, *first[item.url])
        else:
            first[item.url] = (item.source or item.url, record_url(item))
            yield item


def record_url(doc: Document) -> str:
    """The URL a document's record was read from (an alias when its same-site canonical differs)."""
    return (doc.evidence.fetched_url if doc.evidence else None) or doc.url


def repeated_input(item: Document, earlier: str, earlier_from: str) -> RepeatedInput:
    """What a later record of a URL first read at ``earlier`` (a source), from the URL
    ``earlier_from``, reports; records read from two URLs are one document when a same-site
    canonical names it, and the message says so."""
    source = item.source or item.url
    path, _, line = earlier.rpartition(":")
    same_file = line.isdigit() and source.rpartition(":")[0] == path
    where = f"line {line}" if same_file else earlier
    read_from = record_url(item)
    if item.url in (read_from, earlier_from) and read_from == earlier_from:
        return RepeatedInput(source, f"URL repeated from {where}", item)
    message = f"{item.url} again, read from {read_from}; first read at {where} from {earlier_from}"
    return RepeatedInput(source, message, item)


def _until(items: Iterable[Document | InputError], stop: threading.Event) -> Iterator[Document | InputError]:
    """``items`` until ``stop`` is set."""
    for item in items:
        if stop.is_set():
            return
        yield item


def _filled(
    items: Iterable[Document | InputError], site: str | None, published: tuple[datetime, TimePrecision] | None
) -> Iterator[Document | InputError]:
    """``items`` with ``site`` and ``published`` (a time and its precision) given to the documents
    that have none."""
    for item in items:
        if isinstance(item, Document) and site and not item.site:
            item = replace(item, site=site)
        if isinstance(item, Document) and published and not item.published:
            item = replace(item, published=published[0], published_precision=published[1].value)
        yield item


def _seen_at(doc: Document, now: datetime) -> datetime:
    """When the document's text was seen: an archive's capture time (a ``first_seen`` date of its
    evidence, from a WARC record) when it has one, else now."""
    seen = [t for source, t in doc.evidence.other_dates if source == "first_seen"] if doc.evidence else []
    return min(seen, default=now)


def content_hash(text: str) -> str:
    """The ``versions.content_hash`` of a text: its SHA-256, hex."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class RecentComparables:
    """What matching needs of recently matched versions (:class:`~reuse.engine.analysis.Comparable`),
    so that a stored document proposed as a candidate in batch after batch is analysed once,
    within a memory budget in bytes (the default holds about eight million tokens)."""

    def __init__(self, max_bytes: int = 384 * 2**20) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict[int, Comparable] = OrderedDict()

    def get(self, version_id: int) -> Comparable | None:
        """The comparable of ``version_id`` if kept, marked as just used."""
        found = self.items.get(version_id)
        if found is not None:
            self.items.move_to_end(version_id)
        return found

    def clear(self) -> None:
        """Forget every kept comparable."""
        self.items.clear()
        self.bytes = 0

    def add(self, version_id: int, comparable: Comparable) -> None:
        """Keep ``comparable``, forgetting the least recently used ones beyond the budget; the
        newest two are always kept, so the pair being matched has both of its sides."""
        if version_id in self.items:
            self.items.move_to_end(version_id)
            return
        self.items[version_id] = comparable
        self.bytes += comparable.nbytes
        while self.bytes > self.max_bytes and len(self.items) > 2:
            _, old = self.items.popitem(last=False)
            self.bytes -= old.nbytes


@dataclass(frozen=True)
class Prepared:
    """A batch ready to store: its documents not stored before with the same text (with their
    :func:`content_hash`), and their analyses with the rows they store, made when asked for or
    already under way."""

    fresh: list[tuple[Document, str]]
    analyses: Callable[[], tuple[list[Analysis], BatchRows]]
    stored: dict[str, StoredVersion]  # the latest stored version of its URLs, when prepared
    after: int  # batches the ingestor had stored when it was prepared
    read: list[Document] = field(default_factory=list)  # every document read, stored or not, repeats too


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is stored and matched: the batch makes
    millions of small objects (match rows, lists of pairs) that live until it ends, and the
    collector's passes over them and over the caches of stored documents took 4% of the PAN13
    job and found a few thousand cyclic objects in all (reference counting frees the rest).
    Collection resumes, as it was, when the batch ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


#: The allocation count between young collections while a run goes on (Python's default is 700).
RUN_GC_THRESHOLD = 50_000


@contextmanager
def _collections_spaced() -> Iterator[None]:
    """Cyclic garbage collection at most every :data:`RUN_GC_THRESHOLD` allocations while a run
    goes on, outside the batches' pauses too (the analysis of the next batch, the lineage
    update): a run's objects are nearly all freed by reference counting, and at the default
    threshold the collector's passes, each older one walking every live object (the caches of
    stored documents and of their words), took 7.1 s of the 1M scale ingest to free about ten
    thousand objects. The thresholds are restored as they were when the run ends."""
    was = gc.get_threshold()
    gc.set_threshold(RUN_GC_THRESHOLD, *was[1:])
    try:
        yield
    finally:
        gc.set_threshold(*was)


class Ingestor:
    """Stores and matches batches of documents for one run: what its batches share (the
    warehouse, the analyser, the comparables of recent versions, the report). ``ingest`` drives
    it over an iterable; the crawler drives it batch by batch as pages land."""

    def __init__(
        self,
        warehouse: Warehouse,
        settings: Settings,
        report: IngestReport,
        unrecorded: Callable[[Warehouse], None] | None = None,
    ) -> None:
        self.wh = warehouse
        self.settings = settings
        self.report = report
        self.analyser = Analyser(settings, report.clock)
        self.recent = RecentComparables()
        self.stored_batches = 0
        #: Writes the run's row, until a transaction holding it has committed (see :func:`ingest`).
        self.unrecorded = unrecorded

    def record_run(self) -> None:
        """Write the run's row in the caller's transaction, unless a committed one holds it."""
        if self.unrecorded is not None:
            self.unrecorded(self.wh)

    def batch(
        self,
        items: list[Document | InputError],
        progress: ProgressHook,
        also: Callable[[Warehouse], None] | None = None,
    ) -> None:
        """Store and match one batch in one transaction; ``also(warehouse)`` runs inside the same
        transaction after the documents are stored (the crawler writes its frontier rows there)."""
        self.store(self.prepare(items, progress), progress, also)

    def prepare(self, items: list[Document | InputError], progress: ProgressHook) -> Prepared:
        """Report a batch's unreadable items, count the documents stored before with the same
        text, and start analysing the others in the background, while the caller stores an
        earlier batch."""
        latest: dict[str, Document] = {}
        read: list[Document] = []
        # The first copy of a URL in one batch is kept, as across an ingest (the crawler's
        # batches are not read through first_of_each_url before: a page and its alias land in one).
        for item in first_of_each_url(items):
            if isinstance(item, InputError):
                self.report.add_problem(Problem.of(item))
                progress(item.source)
                if isinstance(item, RepeatedInput) and isinstance(item.document, Document):
                    read.append(item.document)
            else:
                latest[item.url] = item
                read.append(item)
        stored = self.wh.latest_versions(list(latest))
        fresh: list[tuple[Document, str]] = []
        for url, doc in latest.items():
            digest = content_hash(doc.text)
            if url in stored and stored[url].content_hash == digest:
                self._unchanged(doc, progress)
            else:
                fresh.append((doc, digest))
        documents = [doc for doc, _ in fresh]

        def with_rows(analyses: list[Analysis]) -> tuple[list[Analysis], BatchRows]:
            return analyses, BatchRows.of(documents, analyses)

        analysed = self.analyser.start([doc.text for doc in documents], with_rows)
        return Prepared(fresh, analysed, stored, self.stored_batches, read)

    def store(
        self, prepared: Prepared, progress: ProgressHook, also: Callable[[Warehouse], None] | None = None
    ) -> None:
        """Store and match a prepared batch in one transaction (see :meth:`batch`)."""
        analysed, rows = prepared.analyses()
        stored = prepared.stored
        if prepared.after != self.stored_batches:
            # Looked up again: a batch stored since this one was prepared may hold its URLs.
            stored = self.wh.latest_versions([doc.url for doc, _ in prepared.fresh])
        fresh, analyses = [], []
        for (doc, digest), analysis in zip(prepared.fresh, analysed, strict=True):
            if doc.url in stored and stored[doc.url].content_hash == digest:
                self._unchanged(doc, progress)
            else:
                fresh.append((doc, digest))
                analyses.append(analysis)
        if len(fresh) < len(prepared.fresh):  # some were stored since: their rows are left out
            rows = BatchRows.of([doc for doc, _ in fresh], analyses)
        for doc, _ in fresh:
            progress(doc.source or doc.url)
        if fresh or prepared.read or also is not None:
            with _cyclic_gc_paused(), self.wh.transaction(self.report.clock):
                self.record_run()
                if fresh:
                    self._store_and_match(fresh, analyses, rows, {u: s.doc_id for u, s in stored.items()})
                # Every URL a document was read from, stored now or unchanged: an alias read after
                # its document (an AMP twin with the same text) is found by it too.
                now = datetime.now(UTC)
                self.wh.record_read_urls([(doc.url, record_url(doc), _seen_at(doc, now)) for doc in prepared.read])
                if also is not None:
                    also(self.wh)
            self.unrecorded = None
            self.stored_batches += 1
            if self.wh.key_index is not None:
                # Committed: a large tail's segment is written while the next batch is read and stored.
                self.wh.key_index.build_ahead()

    def _unchanged(self, doc: Document, progress: ProgressHook) -> None:
        self.report.unchanged += 1
        progress(doc.source or doc.url)

    def close(self) -> None:
        """Stop the background analysis, and the index's background merge if the run stored in
        bulk or the merge is large (see ``KeyIndex.stop``): once the batches are stored no sync
        would take it in, and it would hold memory through the lineage update, or the warehouse
        while its close waits. The comparables of recent versions are forgotten for the same
        reason (up to ``RecentComparables.max_bytes``: the lineage update does not use them)."""
        self.analyser.close()
        if self.wh.key_index is not None:
            self.wh.key_index.stop()
        self.recent.clear()

    def _store_and_match(
        self,
        fresh: list[tuple[Document, str]],
        analyses: list[Analysis],
        rows: BatchRows,
        known_docs: dict[str, int],
    ) -> None:
        wh, run_id = self.wh, self.report.run_id
        now = datetime.now(UTC)
        next_doc, first_version, first_passage, first_match = wh.next_ids(
            ("documents", "doc_id"), ("versions", "version_id"), ("passages", "passage_id"), ("matches", "match_id")
        )
        new_docs: dict[str, list[object]] = defaultdict(list)
        versions: dict[str, list[object]] = defaultdict(list)
        version_of_new: dict[int, Analysis] = {}
        for k, ((doc, digest), analysis) in enumerate(zip(fresh, analyses, strict=True)):
            version_id = first_version + k
            version_of_new[version_id] = analysis
            doc_id = known_docs.get(doc.url)
            if doc_id is None:
                doc_id = next_doc
                next_doc += 1
                append_row(new_docs, document_row(doc, doc_id, now))
            append_row(versions, version_row(doc, digest, analysis, version_id, doc_id, run_id, now))
        rows = rows.numbered(first_passage, first_version)
        passage_id = first_passage + len(rows.passages["passage_id"])
        with self.report.clock.stage("load"):
            wh.insert("documents", dict(new_docs))
            wh.insert("versions", dict(versions))
            # Owed to lineage until a lineage update takes them in (in its own transaction).
            wh.insert("lineage_pending", {"version_id": versions["version_id"]})
            store_evidence(wh, [(first_version + k, doc) for k, (doc, _) in enumerate(fresh)], rows.blocks)
            wh.insert("passages", rows.passages)
            kept = rows.signatures
            minhash = signature_column(kept[0])
            wh.insert("signatures", {"passage_id": np.arange(first_passage, passage_id), "minhash": minhash})
            probe = None
            if len(rows.keys[0]):
                probe = rows.keys
                wh.insert("band_keys", {"key": probe[0], "passage_id": probe[1], "version_id": probe[2]})
            wh.keep_signatures(first_passage, *kept)
        self.report.ingested += len(fresh)
        self.report.passages += passage_id - first_passage
        self._match(first_passage, first_match, version_of_new, probe, kept, rows.passages["position"])

    def _comparables(self, version_ids: list[int]) -> dict[int, Comparable]:
        """What matching needs of the given versions: kept from a recent batch, or analysed again
        from their texts, read in one query."""
        found: dict[int, Comparable] = {}
        missing = []
        for version_id in version_ids:
            kept = self.recent.get(version_id)
            if kept is None:
                missing.append(version_id)
            else:
                found[version_id] = kept
        with self.report.clock.stage("load"):
            texts = self.wh.version_texts(missing)
        # Stored documents have their signatures stored: only their tokens are needed again.
        again = self.analyser.comparables([texts[v] for v in missing])
        for version_id, comparable in zip(missing, again, strict=True):
            found[version_id] = comparable
            self.recent.add(version_id, comparable)
        return found

    def _likely(self, candidates: np.ndarray, first_passage: int, new: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """The candidates (rows of ``Warehouse.candidates``) whose containment, estimated from the
        two signatures with a margin of error, may reach ``settings.verify_containment`` (see
        ``Settings.candidate_filter`` and :func:`~reuse.engine.lsh.may_verify`); ``new`` holds
        the signatures and token spans of the batch's passages, from ``first_passage`` on."""
        if not self.settings.candidate_filter or not len(candidates):
            return candidates
        rows = candidates
        new_signatures, new_tokens = new
        # The rows come sorted (``Warehouse.candidates``): the older passages stored before the
        # batch are a prefix of the first column, their distinct ids its changes.
        count = int(np.searchsorted(rows[:, 0], first_passage))
        changes = np.r_[True, rows[1:count, 0] != rows[: count - 1, 0]] if count else np.zeros(0, bool)
        stored = rows[:count, 0][changes]
        ids, signatures, tokens = self.wh.passage_signatures(stored)
        # The stored signatures and the new ones are two tables, their rows counted end to end
        # (not stacked: a bulk batch's stored signatures run to hundreds of megabytes). Each
        # candidate's rows follow from the ids' order, not from searches: the k-th stored id is
        # row ``at[k]`` (the ids come back as ``stored`` in some order) and passage
        # ``first_passage + j`` of the batch is row ``len(ids) + j``.
        at = np.argsort(ids)
        old = np.empty(len(rows), np.int64)
        old[:count] = at[np.cumsum(changes) - 1]
        old[count:] = rows[count:, 0] + (len(ids) - first_passage)
        fresh = rows[:, 2] + (len(ids) - first_passage)
        tables = [signatures, new_signatures] if len(ids) else [new_signatures]
        tokens = np.concatenate([tokens, new_tokens])
        return rows[may_verify(tables, tokens, old, fresh, self.settings)]

    def _grouped(
        self, candidates: np.ndarray, first_passage: int, positions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The candidates by pair of versions, as columns: the pairs ``(old, new)`` (an ``(n, 2)``
        array, sorted), and pair ``i``'s ``(position in old, position in new)`` rows
        ``starts[i]:starts[i + 1]`` of ``places``, in the candidates' order; two versions of one
        document are not reuse and are left out. Passage ``first_passage + j`` of the batch is at
        ``positions[j]`` in its version; the stored passages' positions are read."""
        versions = np.unique(candidates[:, [1, 3]])
        documents = self.wh.version_documents(versions.tolist())
        doc_of = np.array([documents[v][0] for v in versions.tolist()], np.int64)
        rows = candidates[
            doc_of[np.searchsorted(versions, candidates[:, 1])] != doc_of[np.searchsorted(versions, candidates[:, 3])]
        ]
        if not len(rows):
            return np.zeros((0, 2), np.int64), np.zeros(1, np.int64), np.zeros((0, 2), np.int64)
        # The rows come sorted: the older passages stored before the batch are a prefix of the
        # first column; every newer passage is the batch's.
        count = int(np.searchsorted(rows[:, 0], first_passage))
        old = np.empty(len(rows), np.int64)
        old[count:] = positions[rows[count:, 0] - first_passage]
        if count:
            ids, stored = self.wh.passage_positions(rows[:count, 0])
            old[:count] = stored[np.searchsorted(ids, rows[:count, 0])]
        places = np.stack([old, positions[rows[:, 2] - first_passage]], 1)
        order = np.lexsort((rows[:, 3], rows[:, 1]))  # stable: each pair's rows keep their order
        rows, places = rows[order], places[order]
        pairs = rows[:, [1, 3]]
        firsts = np.flatnonzero(np.r_[True, (pairs[1:] != pairs[:-1]).any(axis=1)])
        return pairs[firsts], np.r_[firsts, len(rows)], places

    def _match(
        self,
        first_passage: int,
        match_id: int,
        new: dict[int, Analysis],
        probe: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        signatures: tuple[np.ndarray, np.ndarray],
        positions: np.ndarray,
    ) -> None:
        """Find, verify, align and store what the batch's new versions (``new``, passages from
        ``first_passage`` on, their band keys ``probe`` as stored, their ``signatures`` and token
        spans, their ``positions`` in their versions) share with what is stored, as matches
        numbered from ``match_id``."""
        wh, settings, clock = self.wh, self.settings, self.report.clock
        with clock.stage("candidates"):
            candidates = wh.candidates(first_passage, settings.max_key_versions, probe)
            self.report.candidates += len(candidates)
            candidates = self._likely(candidates, first_passage, signatures)
            if not len(candidates):
                return
            pairs, starts, places = self._grouped(candidates, first_passage, positions)
        for version_id, analysis in new.items():
            self.recent.add(version_id, analysis.comparable)
        versions = np.unique(pairs)
        comparables = self._comparables(versions.tolist())
        with clock.stage("align"):
            # One native call verifies and aligns every pair of the batch, on all cores, and
            # gives back the pairs with a match, as columns.
            found = match_grouped(
                [comparables[v] for v in versions.tolist()],
                np.searchsorted(versions, pairs),
                starts,
                places,
                settings,
            )
        matched = pairs[found.pairs]
        count = len(found.match_pairs)
        self.report.pairs += len(matched)
        self.report.matches += count
        with clock.stage("load"):
            wh.insert("matches", match_columns(found, matched, self.report.run_id, match_id))
            wh.insert("doc_pairs", pair_columns(found, matched, self.report.run_id))


# -- warehouse rows of the core's results: shared by the Ingestor and the Spark jobs --------------


def append_row(columns: dict[str, list[object]], row: dict[str, object]) -> None:
    """Append one row (column name → value) to ``columns`` (column name → values)."""
    for name, value in row.items():
        columns[name].append(value)


def document_row(doc: Document, doc_id: int, now: datetime) -> dict[str, object]:
    """The ``documents`` row of a document first stored ``now``."""
    return {"doc_id": doc_id, "url": doc.url, "site": doc.site, "first_seen": _seen_at(doc, now)}


def version_row(
    doc: Document, digest: str, analysis: Analysis, version_id: int, doc_id: int, run_id: int, now: datetime
) -> dict[str, object]:
    """The ``versions`` row of a document's text (``digest`` is :func:`content_hash` of it)."""
    return {
        "version_id": version_id,
        "doc_id": doc_id,
        "run_id": run_id,
        "fetched_at": _seen_at(doc, now),
        "content_hash": digest,
        "title": doc.title,
        "published_at": doc.published,
        "published_precision": doc.published_precision if doc.published is not None else None,
        "source": doc.source,
        "text": doc.text,
        "chars": len(doc.text),
        "tokens": len(analysis.tokens),
        "state": "ok" if analysis.passages else "too_short",
    }


def signature_column(signatures: np.ndarray) -> pa.Array | pa.ChunkedArray:
    """The ``signatures.minhash`` values (each row's values as little-endian uint32) of the rows
    of an ``(m, num_perm)`` signature table, as one Arrow column."""
    return fixed_width_blobs(np.asarray(signatures, "<u4"))


def signature_blobs(analysis: Analysis) -> list[bytes]:
    """The ``signatures.minhash`` value of each passage, in position order."""
    blobs: list[bytes] = signature_column(analysis.signatures[: len(analysis.passages)]).to_pylist()
    return blobs


def match_rows(
    result: PairResult, version_a: int, version_b: int, run_id: int, first_match_id: int
) -> list[dict[str, object]]:
    """The ``matches`` rows of a matched version pair, with ids from ``first_match_id`` on."""
    return [
        {
            "match_id": first_match_id + k,
            "run_id": run_id,
            "version_a": version_a,
            "a_start": m.a.start,
            "a_end": m.a.end,
            "version_b": version_b,
            "b_start": m.b.start,
            "b_end": m.b.end,
            "similarity": m.similarity,
            "kind": m.kind.value,
            "a_tokens": m.a_tokens,
            "b_tokens": m.b_tokens,
        }
        for k, m in enumerate(result.matches)
    ]


def match_columns(found: MatchedColumns, versions: np.ndarray, run_id: int, first_match_id: int) -> dict[str, Any]:
    """The ``matches`` rows of a batch's matched pairs (:func:`match_rows` of each, as columns):
    ``versions`` the ``(version_a, version_b)`` of each of ``found.pairs``, the match ids from
    ``first_match_id`` on."""
    count = len(found.match_pairs)
    return {
        "match_id": np.arange(first_match_id, first_match_id + count, dtype=np.int64),
        "run_id": np.full(count, run_id, np.int64),
        "version_a": versions[found.match_pairs, 0],
        "version_b": versions[found.match_pairs, 1],
        **found.matches,
    }


def pair_columns(found: MatchedColumns, versions: np.ndarray, run_id: int) -> dict[str, Any]:
    """The ``doc_pairs`` rows of a batch's matched pairs (:func:`pair_row` of each, as columns)."""
    return {
        "version_a": versions[:, 0],
        "version_b": versions[:, 1],
        "run_id": np.full(len(versions), run_id, np.int64),
        "candidates": found.proposed,
        "shared_passages": found.verified,
        **found.summary,
    }


def pair_row(result: PairResult, version_a: int, version_b: int, run_id: int) -> dict[str, object]:
    """The ``doc_pairs`` row of a matched version pair."""
    s = result.summary
    return {
        "version_a": version_a,
        "version_b": version_b,
        "run_id": run_id,
        "candidates": result.candidates,
        "shared_passages": result.verified,
        "matches": s.matches,
        "shared_chars_a": s.shared_chars_a,
        "shared_chars_b": s.shared_chars_b,
        "coverage_a": s.coverage_a,
        "coverage_b": s.coverage_b,
        "longest_chars": s.longest_chars,
        "in_order": s.in_order,
        "similarity": s.similarity,
    }


def _store_all(ingestor: Ingestor, batches: Iterable[list[Document | InputError]], progress: ProgressHook) -> None:
    """Store every batch, each one's analysis started (in the background) before the batch ahead
    of it is stored; when reading the next batch fails, the one already read is stored first."""
    pending: Prepared | None = None
    try:
        for batch in batches:
            prepared = ingestor.prepare(batch, progress)
            if pending is not None:
                earlier, pending = pending, None
                ingestor.store(earlier, progress)
            pending = prepared
    except Exception:
        if pending is not None:
            ingestor.store(pending, progress)
        raise
    if pending is not None:
        ingestor.store(pending, progress)


def ingest(
    warehouse: Warehouse,
    items: Iterable[Document | InputError],
    settings: Settings,
    *,
    command: str = "ingest",
    batch_size: int | None = None,
    progress: ProgressHook | None = None,
    lineage: bool = True,
    stop: threading.Event | None = None,
) -> IngestReport:
    """Store every document of ``items`` and match it against everything already stored, in
    batches of at most ``batch_size`` documents and about :data:`BATCH_CHARS` of text, each
    one transaction; without ``batch_size``, of :data:`BATCH_DOCUMENTS` and :data:`BATCH_CHARS`
    grown while the warehouse holds little text (:func:`batch_growth`).

    Unreadable items (``InputError``) are counted and listed in the report; the rest go on.
    Of the documents with one URL only the first is read (:func:`first_of_each_url`).
    Re-ingesting an unchanged document changes nothing; a changed one becomes a new version.
    With ``lineage``, the stories holding the stored documents, and those of documents a killed
    run stored, are rebuilt after the last batch (see :func:`update_lineage`). Setting ``stop``
    (from a signal handler) ends the reading: the documents read so far are stored, and the run
    is left unfinished, its lineage owed to the next run, as after a crash (``report.interrupted``).
    """
    # The run's row is written in its first transaction that commits (its first batch's, or the
    # last one's), not in one of its own: a commit less for a run of one article. A run killed
    # before anything of it commits leaves nothing behind.
    run_id, started = warehouse.next_id("runs", "run_id"), datetime.now(UTC)
    report = IngestReport(run_id)

    def write_run_row(wh: Warehouse) -> None:
        wh.start_run(command, settings, reusetrack_version(), run_id, started)

    ingestor = Ingestor(warehouse, settings, report, write_run_row)
    hook = progress or (lambda _source: None)
    if stop is not None:
        items = _until(items, stop)
    growth = _growth_in(warehouse) if batch_size is None else None
    batches = _batched(first_of_each_url(items), batch_size or BATCH_DOCUMENTS, BATCH_CHARS, report.clock, growth)
    with _collections_spaced():
        try:
            _store_all(ingestor, batches, hook)
        finally:
            ingestor.close()
        if stop is not None and stop.is_set():
            report.interrupted = True
            if ingestor.unrecorded is not None:  # recorded as unfinished, as any interrupted run
                with warehouse.transaction():
                    ingestor.record_run()
            return report
        # Also when nothing new was stored: lineage a killed run still owes is brought up to date.
        # (What this run stored is owed: then no statement is needed to know.)
        owed = lineage and (report.ingested > 0 or pending_count(warehouse) > 0)
        # One transaction, timed as the lineage stage when there is one: the lineage update, then
        # the run recorded as finished (a commit less for a run of one article, where each is a
        # share of its time).
        with report.clock.stage("lineage") if owed else nullcontext(), warehouse.transaction():
            ingestor.record_run()
            if owed:
                update_lineage(warehouse, settings, run_id)
            warehouse.finish_run(run_id, report.counts())
    return report


def default_batch_size() -> int | None:
    """Documents an ingest batch (one transaction) holds at most: ``REUSETRACK_BATCH_SIZE`` if
    set (a batch also ends at :data:`BATCH_CHARS` of text), else None: :func:`ingest`'s default
    limits, grown while the warehouse holds little text."""
    configured = os.environ.get("REUSETRACK_BATCH_SIZE", "").strip()
    return int(configured) if configured.isdigit() and int(configured) > 0 else None


def ingest_files(
    db: str | Path,
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    batch_size: int | None = None,
    progress: ProgressHook | None = None,
    stop: threading.Event | None = None,
    on_wait: Callable[[str], None] | None = None,
    site: str | None = None,
    published: tuple[datetime, TimePrecision] | None = None,
) -> IngestReport:
    """Ingest every document under ``paths`` (files, directories recursively) into the warehouse at ``db``,
    in batches of at most ``batch_size`` documents (default :func:`default_batch_size`).

    A path that does not exist, or paths holding no file of a kind reusetrack reads, are the
    caller's mistake: :class:`~reuse.errors.InputError` is raised before the warehouse is opened.
    Problems with single items (an empty, binary, undecodable, oversized or vanished file, a
    broken JSONL line) are listed in the report and the rest goes on. ``on_wait`` is told, once,
    when the warehouse is found locked by another writer (see :func:`open_when_free`). ``site``
    and ``published`` are given to the documents that have none of their own (from a front
    matter, a JSONL field, the page or its URL).
    """
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise InputError(str(root), "no such file or directory")
    if not has_input_files(roots):
        kinds = ", ".join(sorted(SUFFIXES))
        raise InputError(", ".join(map(str, roots)), f"no input files found (reusetrack reads {kinds})")
    # Waits for a crawl's batch commit to finish instead of failing on its lock.
    with open_when_free(db, settings, wait=60.0, on_wait=on_wait) as warehouse:
        items = _filled(iter_documents(roots), site, published)
        size = batch_size or default_batch_size()
        return ingest(warehouse, items, settings, batch_size=size, progress=progress, stop=stop)


def refresh_lineage(
    db: str | Path, settings: Settings, *, rebuild: bool = False, progress: ProgressHook | None = None
) -> tuple[int, LineageSummary]:
    """Bring the lineage of the warehouse at ``db`` up to date as a run of its own, holding the
    write lock as ingest does: only what killed runs left (``lineage --stale``), or, with
    ``rebuild``, all of it from the stored documents and matches (``lineage --rebuild``).
    Returns the run's id and what the update did; ``progress`` is called once per story stored.
    """
    with open_when_free(db, settings, wait=60.0) as warehouse:
        command = "lineage --rebuild" if rebuild else "lineage --stale"
        with warehouse.transaction():
            run_id = warehouse.start_run(command, settings, reusetrack_version())
        with warehouse.transaction():
            update = rebuild_lineage if rebuild else update_lineage
            summary = lineage_summary(warehouse, update(warehouse, settings, run_id, progress))
            warehouse.finish_run(run_id, asdict(summary))
    return run_id, summary


def snapshot_settings(manifest: Manifest) -> Settings | None:
    """The fingerprint settings a snapshot's signatures were made with (None for an empty one).

    Raises :class:`~reuse.errors.WarehouseError` when the snapshot's schema is newer than this
    reusetrack, or its recorded fingerprint key is not that of its settings (another version
    of reusetrack fingerprinted it differently).
    """
    schema = manifest.schema_version
    if isinstance(schema, int) and schema > SCHEMA_VERSION:
        raise WarehouseError(
            f"the snapshot has schema version {schema}, newer than this reusetrack ({SCHEMA_VERSION}); "
            "upgrade reusetrack"
        )
    if manifest.settings is None:
        return None
    settings = Settings.from_dict(manifest.settings)
    if manifest.fingerprint_key != settings.fingerprint_key():
        raise WarehouseError(
            f"the snapshot's fingerprint key {manifest.fingerprint_key} is not that of its settings "
            f"({settings.fingerprint_key()}): it was made by another version of reusetrack"
        )
    return settings


def load_snapshot(db: str | Path, folder: str | Path, on_wait: Callable[[str], None] | None = None) -> dict[str, int]:
    """Load the snapshot in ``folder`` (``reusetrack spark`` output or an ``export``) into the
    new or empty warehouse at ``db``; return the rows loaded per table.

    The warehouse adopts the snapshot's fingerprint settings (one that already records others
    is refused with :class:`~reuse.errors.SettingsMismatch`); one that holds any row is refused.
    Every table is loaded in one transaction, and in the same transaction all lineage is rebuilt
    from the loaded documents and matches (see :func:`rebuild_lineage`): Spark output has none,
    and an export's may be what a killed run left. ``on_wait`` is told, once, when the warehouse
    is found locked by another writer.
    """
    manifest = Manifest.read(folder)
    settings = snapshot_settings(manifest)
    with open_when_free(db, settings, wait=60.0, on_wait=on_wait) as warehouse:
        if not is_empty(warehouse):
            raise WarehouseError(f"warehouse {db} is not empty: load into a new or empty warehouse (--db)")
        with warehouse.transaction():
            loaded = load_tables(warehouse, folder, manifest)
            if "document_urls" not in loaded:
                warehouse.record_stored_read_urls()  # a snapshot without it: what its versions say
            _, ((last_run,),) = warehouse.query("SELECT max(run_id) FROM versions")
            if settings is not None and last_run is not None:
                # Lineage is derived state: built again here, the snapshot's (an export's, which
                # a killed run may have left behind) are not trusted.
                rebuild_lineage(warehouse, settings, int(last_run))
    return loaded
