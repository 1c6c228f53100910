"""The ingest pipeline: read → analyse → store → find candidates → verify and align → store.

This module and the CLI are the only places that wire the pure core (``reuse``) to the readers
(``crawlers``) and the warehouse (``warehouse``). Each batch of documents is committed in one
transaction together with its passages, signatures, band keys and matches, so an interrupted
run loses at most the batch in flight and never leaves half a document behind.
"""

from __future__ import annotations

import hashlib
import json
import resource
import tempfile
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from crawlers.files import SUFFIXES, iter_documents, read_file
from crawlers.pan13 import Pan13Corpus, read_document, write_detections
from reuse.analysis import Analysis, analyse
from reuse.boilerplate import block_hash, text_blocks
from reuse.config import Settings
from reuse.edits import EditReport, TextView, compare
from reuse.errors import InputError, UnsupportedInput
from reuse.evaluate import CategoryScores, Detection, score_by_category
from reuse.evaluate import Span as EvalSpan
from reuse.lineage import DocFacts, SharedText, Story, attribution, build_stories
from reuse.lsh import band_keys, band_params
from reuse.matching import PairResult, match_pair
from reuse.models import CreditLine, Document, Evidence, Match, MatchKind, PageLink, Span, TextBlock
from reuse.signatures import MinHasher
from warehouse import lineage as lineage_db
from warehouse.db import Warehouse, open_warehouse, open_when_free

__all__ = [
    "ComparedText",
    "Comparison",
    "IngestReport",
    "Pan13Result",
    "Problem",
    "StoryReport",
    "compare_documents",
    "compare_texts",
    "evaluate_pan13",
    "evaluate_pan13_fresh",
    "fingerprint_file",
    "ingest",
    "ingest_files",
    "pan13_detections",
    "reusetrack_version",
    "story_report",
    "update_lineage",
]

ProgressHook = Callable[[str], None]


def reusetrack_version() -> str:
    """The installed version of reusetrack."""
    try:
        return version("reusetrack")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Problem:
    """One input item a run could not use.

    ``status`` is ``"skipped"`` for items reusetrack does not read on purpose (an empty file, a
    binary or unsupported one) and ``"failed"`` for items it tried and could not read.
    """

    status: str
    source: str
    reason: str

    @classmethod
    def of(cls, error: InputError) -> Problem:
        """The problem an :class:`~reuse.errors.InputError` reports."""
        skipped = isinstance(error, UnsupportedInput) or error.reason == "empty file"
        return cls("skipped" if skipped else "failed", error.source, error.reason)

    def __str__(self) -> str:
        return f"{self.status}: {self.source}: {self.reason}"


@dataclass
class IngestReport:
    """What one ingest run did; ``problems`` lists every item counted as skipped or failed."""

    run_id: int
    ingested: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    passages: int = 0
    candidates: int = 0
    pairs: int = 0
    matches: int = 0
    problems: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The counts, without the problem list."""
        return {k: v for k, v in vars(self).items() if isinstance(v, int) and k != "run_id"}

    @property
    def read(self) -> int:
        """Documents that could be read: stored now, or already stored unchanged."""
        return self.ingested + self.unchanged


def _batched(items: Iterable[Document | InputError], size: int) -> Iterator[list[Document | InputError]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _seen_at(doc: Document, now: datetime) -> datetime:
    """When the document's text was seen: an archive's capture time (a ``first_seen`` date of its
    evidence, from a WARC record) when it has one, else now."""
    seen = [t for source, t in doc.evidence.other_dates if source == "first_seen"] if doc.evidence else []
    return min(seen, default=now)


def _content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class _RecentAnalyses:
    """The analyses of recently matched versions, so that a stored document proposed as a
    candidate in batch after batch is analysed once, within a memory budget counted in tokens
    (about 250 bytes each with their passages, shingles and alignment views)."""

    def __init__(self, max_tokens: int = 2_000_000) -> None:
        self.max_tokens = max_tokens
        self.tokens = 0
        self.items: OrderedDict[int, Analysis] = OrderedDict()

    def get(self, version_id: int) -> Analysis | None:
        """The analysis of ``version_id`` if kept, marked as just used."""
        found = self.items.get(version_id)
        if found is not None:
            self.items.move_to_end(version_id)
        return found

    def add(self, version_id: int, analysis: Analysis) -> None:
        """Keep ``analysis``, forgetting the least recently used ones beyond the budget; the
        newest is always kept, so the pair being matched has both of its sides."""
        self.items[version_id] = analysis
        self.items.move_to_end(version_id)
        self.tokens += len(analysis.tokens)
        while self.tokens > self.max_tokens and len(self.items) > 2:
            _, old = self.items.popitem(last=False)
            self.tokens -= len(old.tokens)


class _Ingestor:
    """Holds what one ingest run shares across its batches."""

    def __init__(self, warehouse: Warehouse, settings: Settings, report: IngestReport) -> None:
        self.wh = warehouse
        self.settings = settings
        self.report = report
        self.hasher = MinHasher.from_settings(settings)
        self.recent = _RecentAnalyses()
        self.bands, self.rows = band_params(settings)

    def batch(
        self,
        items: list[Document | InputError],
        progress: ProgressHook,
        also: Callable[[Warehouse], None] | None = None,
    ) -> None:
        """Store and match one batch in one transaction; ``also(warehouse)`` runs inside the same
        transaction after the documents are stored (the crawler writes its frontier rows there)."""
        latest: dict[str, Document] = {}
        for item in items:
            if isinstance(item, InputError):
                self._problem(item)
                progress(item.source)
            else:
                latest[item.url] = item  # the last copy of a URL in one batch wins
        stored = self.wh.latest_versions(list(latest))
        fresh: list[tuple[Document, str]] = []
        for url, doc in latest.items():
            digest = _content_hash(doc.text)
            if url in stored and stored[url].content_hash == digest:
                self.report.unchanged += 1
                progress(doc.source or url)
            else:
                fresh.append((doc, digest))
        analyses = []
        for doc, _ in fresh:
            analyses.append(analyse(doc.text, self.settings, self.hasher))
            progress(doc.source or doc.url)
        if fresh or also is not None:
            with self.wh.transaction():
                if fresh:
                    self._store_and_match(fresh, analyses, {u: s.doc_id for u, s in stored.items()})
                if also is not None:
                    also(self.wh)

    def _problem(self, error: InputError) -> None:
        problem = Problem.of(error)
        if problem.status == "skipped":
            self.report.skipped += 1
        else:
            self.report.failed += 1
        self.report.problems.append(problem)

    def _store_and_match(
        self, fresh: list[tuple[Document, str]], analyses: list[Analysis], known_docs: dict[str, int]
    ) -> None:
        wh, run_id = self.wh, self.report.run_id
        now = datetime.now(UTC)
        next_doc = wh.next_id("documents", "doc_id")
        first_version = wh.next_id("versions", "version_id")
        first_passage = wh.next_id("passages", "passage_id")
        new_docs: dict[str, list[object]] = defaultdict(list)
        versions: dict[str, list[object]] = defaultdict(list)
        passage_cols: dict[str, list[object]] = defaultdict(list)
        keys: list[np.ndarray] = []
        key_passages: list[np.ndarray] = []
        key_versions: list[np.ndarray] = []
        blobs: list[bytes] = []
        passage_id = first_passage
        version_of_new: dict[int, Analysis] = {}
        for k, ((doc, digest), analysis) in enumerate(zip(fresh, analyses, strict=True)):
            version_id = first_version + k
            version_of_new[version_id] = analysis
            doc_id = known_docs.get(doc.url)
            if doc_id is None:
                doc_id = next_doc
                next_doc += 1
                for name, value in (
                    ("doc_id", doc_id),
                    ("url", doc.url),
                    ("site", doc.site),
                    ("first_seen", _seen_at(doc, now)),
                ):
                    new_docs[name].append(value)
            row: dict[str, object] = {
                "version_id": version_id,
                "doc_id": doc_id,
                "run_id": run_id,
                "fetched_at": _seen_at(doc, now),
                "content_hash": digest,
                "title": doc.title,
                "published_at": doc.published,
                "source": doc.source,
                "text": doc.text,
                "chars": len(doc.text),
                "tokens": len(analysis.tokens),
                "state": "ok" if analysis.passages else "too_short",
            }
            for name, cell in row.items():
                versions[name].append(cell)
            count = len(analysis.passages)
            for p in analysis.passages:
                for name, value in (
                    ("passage_id", passage_id + p.position),
                    ("version_id", version_id),
                    ("position", p.position),
                    ("kind", p.kind.value),
                    ("token_start", p.token_start),
                    ("token_end", p.token_end),
                    ("char_start", p.char_start),
                    ("char_end", p.char_end),
                    ("unspaced", p.unspaced),
                ):
                    passage_cols[name].append(value)
            if count:
                ids = np.arange(passage_id, passage_id + count, dtype=np.int64)
                blobs.extend(analysis.signatures[i].astype("<u4").tobytes() for i in range(count))
                bk = band_keys(analysis.signatures, self.bands, self.rows)
                keys.append(bk.ravel())
                key_passages.append(np.repeat(ids, self.bands))
                key_versions.append(np.full(count * self.bands, version_id, dtype=np.int64))
            passage_id += count
        wh.insert("documents", dict(new_docs))
        wh.insert("versions", dict(versions))
        _store_evidence(wh, [(first_version + k, doc) for k, (doc, _) in enumerate(fresh)])
        wh.insert("passages", dict(passage_cols))
        wh.insert(
            "signatures",
            {
                "passage_id": pa.array(np.arange(first_passage, passage_id, dtype=np.int64)),
                "minhash": pa.array(blobs, pa.binary()),
            },
        )
        if keys:
            wh.insert(
                "band_keys",
                {
                    "key": pa.array(np.concatenate(keys)),
                    "passage_id": pa.array(np.concatenate(key_passages)),
                    "version_id": pa.array(np.concatenate(key_versions)),
                },
            )
        self.report.ingested += len(fresh)
        self.report.passages += passage_id - first_passage
        self._match(first_passage, version_of_new)

    def _analysis(self, version_id: int, texts: dict[int, str]) -> Analysis:
        """The analysis of a version: kept from a recent batch, or made again from its text."""
        found = self.recent.get(version_id)
        if found is None:
            text = texts[version_id] if version_id in texts else self.wh.version_texts([version_id])[version_id]
            found = analyse(text, self.settings, self.hasher)
            self.recent.add(version_id, found)
        return found

    def _match(self, first_passage: int, new: dict[int, Analysis]) -> None:
        wh, settings = self.wh, self.settings
        candidates = wh.candidates(first_passage)
        self.report.candidates += len(candidates)
        if not candidates:
            return
        versions = sorted({c[1] for c in candidates} | {c[3] for c in candidates})
        documents = wh.version_documents(versions)
        positions = {pid: pos for pid, pos in wh.passage_positions(versions).items()}
        grouped: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for old_p, old_v, new_p, new_v in candidates:
            if documents[old_v][0] == documents[new_v][0]:
                continue  # two versions of one document are not reuse
            grouped[(old_v, new_v)].append((positions[old_p], positions[new_p]))
        for version_id, analysis in new.items():
            self.recent.add(version_id, analysis)
        wanted = {v for pair in grouped for v in pair}
        texts = wh.version_texts([v for v in sorted(wanted) if self.recent.get(v) is None])
        match_cols: dict[str, list[object]] = defaultdict(list)
        pair_cols: dict[str, list[object]] = defaultdict(list)
        match_id = wh.next_id("matches", "match_id")
        for (va, vb), pairs in sorted(grouped.items()):
            result = match_pair(self._analysis(va, texts), self._analysis(vb, texts), pairs, settings)
            if not result.matches:
                continue
            for m in result.matches:
                for name, value in (
                    ("match_id", match_id),
                    ("run_id", self.report.run_id),
                    ("version_a", va),
                    ("a_start", m.a.start),
                    ("a_end", m.a.end),
                    ("version_b", vb),
                    ("b_start", m.b.start),
                    ("b_end", m.b.end),
                    ("similarity", m.similarity),
                    ("kind", m.kind.value),
                    ("a_tokens", m.a_tokens),
                    ("b_tokens", m.b_tokens),
                ):
                    match_cols[name].append(value)
                match_id += 1
            s = result.summary
            for name, value in (
                ("version_a", va),
                ("version_b", vb),
                ("run_id", self.report.run_id),
                ("candidates", result.candidates),
                ("shared_passages", result.verified),
                ("matches", s.matches),
                ("shared_chars_a", s.shared_chars_a),
                ("shared_chars_b", s.shared_chars_b),
                ("coverage_a", s.coverage_a),
                ("coverage_b", s.coverage_b),
                ("longest_chars", s.longest_chars),
                ("in_order", s.in_order),
            ):
                pair_cols[name].append(value)
            self.report.pairs += 1
            self.report.matches += len(result.matches)
        wh.insert("matches", dict(match_cols))
        wh.insert("doc_pairs", dict(pair_cols))


def ingest(
    warehouse: Warehouse,
    items: Iterable[Document | InputError],
    settings: Settings,
    *,
    command: str = "ingest",
    batch_size: int = 200,
    progress: ProgressHook | None = None,
    lineage: bool = True,
) -> IngestReport:
    """Store every document of ``items`` and match it against everything already stored.

    Unreadable items (``InputError``) are counted and listed in the report; the rest go on.
    Re-ingesting an unchanged document changes nothing; a changed one becomes a new version.
    With ``lineage``, the stories holding the stored documents are rebuilt after the last batch
    (see :func:`update_lineage`).
    """
    with warehouse.transaction():
        run_id = warehouse.start_run(command, settings, reusetrack_version())
    report = IngestReport(run_id)
    ingestor = _Ingestor(warehouse, settings, report)
    hook = progress or (lambda _source: None)
    for batch in _batched(items, batch_size):
        ingestor.batch(batch, hook)
    if lineage and report.ingested:
        with warehouse.transaction():
            update_lineage(warehouse, settings, run_id)
    with warehouse.transaction():
        warehouse.finish_run(run_id, report.counts())
    return report


def ingest_files(
    db: str | Path,
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    batch_size: int = 200,
    progress: ProgressHook | None = None,
) -> IngestReport:
    """Ingest every document under ``paths`` (files, directories recursively) into the warehouse at ``db``.

    A path that does not exist, or paths holding no file of a kind reusetrack reads, are the
    caller's mistake: :class:`~reuse.errors.InputError` is raised before the warehouse is opened.
    Problems with single items (an empty, binary, undecodable, oversized or vanished file, a
    broken JSONL line) are listed in the report and the rest goes on.
    """
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise InputError(str(root), "no such file or directory")
    items = iter_documents(roots)
    first = next(items, None)
    if first is None:
        kinds = ", ".join(sorted(SUFFIXES))
        raise InputError(", ".join(map(str, roots)), f"no input files found (reusetrack reads {kinds})")
    # Waits for a crawl's batch commit to finish instead of failing on its lock.
    with open_when_free(db, settings, wait=60.0) as warehouse:
        return ingest(warehouse, chain([first], items), settings, batch_size=batch_size, progress=progress)


def _first_document(path: Path) -> Document:
    """The first document of a file, or the error that kept the file from giving any."""
    errors = []
    for item in read_file(path):
        if isinstance(item, Document):
            return item
        errors.append(item)
    raise errors[0] if errors else InputError(str(path), "no document in file")


def fingerprint_file(path: Path, settings: Settings) -> Iterator[dict[str, Any] | InputError]:
    """The passages of every document in the file at ``path``, each with its MinHash signature.

    Yields one JSON-ready record per passage: ``source``, ``url``, ``position``, ``kind``,
    ``char_start``, ``char_end``, ``token_start``, ``token_end``, ``text`` (the passage's characters
    of the original text), ``num_perm``, ``seed`` and ``minhash`` (``num_perm`` uint32 values,
    datasketch's ``hashvalues`` for the same settings). A broken item inside the file (a JSONL
    line) is yielded as its :class:`~reuse.errors.InputError`; a file that gives no document at
    all raises it. No warehouse is involved.
    """
    if not path.is_file():
        raise InputError(str(path), "no such file" if not path.exists() else "not a file")
    items = list(read_file(path))
    if not any(isinstance(item, Document) for item in items):
        raise next((item for item in items if isinstance(item, InputError)), InputError(str(path), "no document"))
    hasher = MinHasher.from_settings(settings)
    for item in items:
        if isinstance(item, InputError):
            yield item
            continue
        analysis = analyse(item.text, settings, hasher)
        for passage, signature in zip(analysis.passages, analysis.signatures, strict=True):
            yield {
                "source": item.source,
                "url": item.url,
                "position": passage.position,
                "kind": passage.kind.value,
                "char_start": passage.char_start,
                "char_end": passage.char_end,
                "token_start": passage.token_start,
                "token_end": passage.token_end,
                "text": item.text[passage.char_start : passage.char_end],
                "num_perm": settings.num_perm,
                "seed": settings.seed,
                "minhash": [int(v) for v in signature],
            }


def _shared_band_keys(a: Analysis, b: Analysis, settings: Settings) -> list[tuple[int, int]]:
    """``(position in a, position in b)`` of the passages that share an LSH band key."""
    if not a.passages or not b.passages:
        return []
    bands, rows = band_params(settings)
    holders: dict[int, set[int]] = defaultdict(set)
    for position, keys in enumerate(band_keys(a.signatures, bands, rows).tolist()):
        for key in keys:
            holders[key].add(position)
    pairs: set[tuple[int, int]] = set()
    for position, keys in enumerate(band_keys(b.signatures, bands, rows).tolist()):
        for key in keys:
            pairs.update((held, position) for held in holders.get(key, ()))
    return sorted(pairs)


def compare_texts(text_a: str, text_b: str, settings: Settings) -> PairResult:
    """Find what two texts share, as ingest would find it between two stored documents.

    The passages that share an LSH band key are the candidates; they are verified and the two
    texts aligned by :func:`~reuse.matching.match_pair`. Offsets refer to ``text_a`` and ``text_b``.
    """
    hasher = MinHasher.from_settings(settings)
    a, b = analyse(text_a, settings, hasher), analyse(text_b, settings, hasher)
    return match_pair(a, b, _shared_band_keys(a, b, settings), settings)


@dataclass(frozen=True)
class ComparedText:
    """One side of a comparison: where the text came from (a path or a URL) and the text."""

    label: str
    text: str


@dataclass(frozen=True)
class Comparison:
    """Two texts and what they share."""

    a: ComparedText
    b: ComparedText
    result: PairResult


def compare_documents(ref_a: str, ref_b: str, settings: Settings, db: str | Path) -> Comparison:
    """Compare two documents, each given as a file path or as a URL or doc_id in the warehouse at ``db``.

    A file gives its first document; a stored document gives the text of its latest version. The
    warehouse is opened read-only, and only if a reference is not a file. Raises
    :class:`~reuse.errors.InputError` for a reference that is neither.
    """
    found: dict[str, ComparedText] = {}
    for ref in (ref_a, ref_b):
        if Path(ref).is_file():
            found[ref] = ComparedText(ref, _first_document(Path(ref)).text)
    stored = [ref for ref in (ref_a, ref_b) if ref not in found]
    if stored:
        if not Path(db).exists():
            raise InputError(stored[0], f"no such file, and no warehouse at {db} to look it up in")
        with open_when_free(db, read_only=True, wait=15.0) as warehouse:
            for ref in stored:
                doc = warehouse.find_document(ref)
                if doc is None:
                    raise InputError(ref, f"no such file, and no document with this URL or doc_id in {db}")
                found[ref] = ComparedText(doc.url, warehouse.version_texts([doc.version_id])[doc.version_id])
    a, b = found[ref_a], found[ref_b]
    return Comparison(a, b, compare_texts(a.text, b.text, settings))


@dataclass(frozen=True)
class Pan13Result:
    """The scores of one corpus-mode PAN13 run, and what it cost."""

    rows: dict[str, CategoryScores]
    detections: list[Detection]
    report: IngestReport
    seconds: float
    peak_rss_mb: float

    def scores(self) -> dict[str, Any]:
        """The JSON-ready summary: for each category folder name and ``entire``, ``plagdet``,
        ``precision``, ``recall``, ``granularity`` and ``pair_recall`` (None without positive pairs);
        plus ``seconds`` and ``peak_rss_mb``."""
        summary: dict[str, Any] = {
            name: {
                "plagdet": row.scores.plagdet,
                "precision": row.scores.precision,
                "recall": row.scores.recall,
                "granularity": row.scores.granularity,
                "pair_recall": row.pair_recall,
            }
            for name, row in self.rows.items()
        }
        summary["seconds"] = round(self.seconds, 3)
        summary["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        return summary


def pan13_detections(warehouse: Warehouse) -> list[Detection]:
    """Every stored match between a suspicious and a source document, oriented as PAN wants."""
    _, rows = warehouse.query(
        "SELECT url_a, a_start, a_end, url_b, b_start, b_end FROM match_details"
        " WHERE starts_with(url_a, 'pan13:') AND starts_with(url_b, 'pan13:')"
    )
    detections = []
    for url_a, a0, a1, url_b, b0, b1 in rows:
        name_a, name_b = url_a.removeprefix("pan13:"), url_b.removeprefix("pan13:")
        if name_a.startswith("suspicious") and name_b.startswith("source"):
            detections.append(Detection(name_a, EvalSpan(a0, a1), name_b, EvalSpan(b0, b1)))
        elif name_b.startswith("suspicious") and name_a.startswith("source"):
            detections.append(Detection(name_b, EvalSpan(b0, b1), name_a, EvalSpan(a0, a1)))
    return detections


def evaluate_pan13(
    warehouse: Warehouse, corpus: Pan13Corpus, settings: Settings, progress: ProgressHook | None = None
) -> Pan13Result:
    """Corpus mode: ingest every document of ``corpus`` into ``warehouse`` (meant to be fresh),
    match as for any corpus, and score the matches that fall inside the listed pairs."""
    started = time.perf_counter()

    def documents() -> Iterator[Document | InputError]:
        for name, path in [*sorted(corpus.sources.items()), *sorted(corpus.suspicious.items())]:
            try:
                yield Document(url=f"pan13:{name}", text=read_document(path), source=str(path))
            except InputError as err:
                yield err

    report = ingest(warehouse, documents(), settings, command="eval pan13", progress=progress, lineage=False)
    detections = pan13_detections(warehouse)
    rows = score_by_category(corpus.truth(), detections)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Pan13Result(rows, detections, report, time.perf_counter() - started, peak)


def evaluate_pan13_fresh(
    corpus: Pan13Corpus,
    settings: Settings,
    *,
    out: Path | None = None,
    progress: ProgressHook | None = None,
) -> Pan13Result:
    """:func:`evaluate_pan13` in a fresh warehouse of its own, deleted afterwards.

    With ``out``, the detections are also written there as PAN XML files; the folder is checked
    (and created) before the run, so a folder holding earlier results fails fast.
    """
    if out is not None:
        write_detections(out, [])  # raises now, not after the run, if out holds earlier detections
    with (
        tempfile.TemporaryDirectory(prefix="reusetrack-pan13-") as scratch,
        open_warehouse(Path(scratch) / "pan13.duckdb", settings) as warehouse,
    ):
        result = evaluate_pan13(warehouse, corpus, settings, progress)
    if out is not None:
        write_detections(out, result.detections)
    return result


# -- page evidence and lineage ------------------------------------------------------------------------
#
# Ingest stores what each page says about itself (blocks, links, credits, dates); after the last
# batch of a run, the lineage stage relearns the boilerplate of the sites the run touched, writes
# the version diffs, and rebuilds the stories holding any document the run stored.


def _store_evidence(wh: Warehouse, stored: list[tuple[int, Document]]) -> None:
    """Store the blocks (with their boilerplate hashes), page metadata, links and credits of new versions."""
    meta: dict[str, Any] = defaultdict(list)
    blocks: dict[str, Any] = defaultdict(list)
    links: dict[str, Any] = defaultdict(list)
    credits: dict[str, Any] = defaultdict(list)
    for version_id, doc in stored:
        for position, block in enumerate(text_blocks(doc.text, doc.evidence)):
            for name, value in (
                ("version_id", version_id),
                ("position", position),
                ("kind", block.kind),
                ("char_start", block.start),
                ("char_end", block.end),
                ("boilerplate", block.boilerplate),
                ("text_hash", block_hash(doc.text[block.start : block.end])),
            ):
                blocks[name].append(value)
        ev = doc.evidence
        if ev is None:
            continue
        row: dict[str, Any] = {
            "version_id": version_id,
            "fetched_url": ev.fetched_url,
            "canonical_url": ev.canonical_url,
            "site_name": ev.site_name,
            "published_source": ev.published_source,
            "modified_at": ev.modified,
            "other_dates": json.dumps([[s, t.isoformat()] for s, t in ev.other_dates]) if ev.other_dates else None,
            "authors": list(ev.authors),
            "tags": list(ev.tags),
            "header": list(ev.header),
        }
        for name, value in row.items():
            meta[name].append(value)
        for position, link in enumerate(ev.links):
            for name, value in (
                ("version_id", version_id),
                ("position", position),
                ("href", link.href),
                ("text", link.text),
                ("block", link.block),
            ):
                links[name].append(value)
        for position, credit in enumerate(ev.credits):
            for name, value in (
                ("version_id", version_id),
                ("position", position),
                ("kind", credit.kind),
                ("text", credit.text),
                ("outlet", credit.outlet),
                ("url", credit.url),
                ("block", credit.block),
            ):
                credits[name].append(value)
    if blocks:
        blocks["text_hash"] = pa.array(blocks["text_hash"], pa.uint64())
    if meta:
        meta["modified_at"] = pa.array(meta["modified_at"], pa.timestamp("us", tz="UTC"))
        for name in ("authors", "tags", "header"):
            meta[name] = pa.array(meta[name], pa.list_(pa.string()))
    for table, columns in (("blocks", blocks), ("version_meta", meta), ("links", links), ("credits", credits)):
        wh.insert(table, dict(columns))


def _evidence(row: dict[str, Any]) -> Evidence:
    """The :class:`Evidence` of a version as :func:`warehouse.lineage.load_versions` read it."""
    return Evidence(
        fetched_url=row["fetched_url"],
        canonical_url=row["canonical_url"],
        site_name=row["site_name"],
        published_source=row["published_source"],
        modified=row["modified"],
        other_dates=tuple((s, datetime.fromisoformat(t)) for s, t in row["other_dates"]),
        authors=tuple(row["authors"]),
        tags=tuple(row["tags"]),
        header=tuple(row["header"]),
        blocks=tuple(TextBlock(b["char_start"], b["char_end"], b["kind"], b["boilerplate"]) for b in row["blocks"]),
        links=tuple(PageLink(k["href"], k["text"] or "", k["block"]) for k in row["links"]),
        credits=tuple(CreditLine(c["kind"], c["text"], c["outlet"], c["url"], c["block"]) for c in row["credits"]),
    )


def _learned(row: dict[str, Any], boilerplate: dict[str, set[int]]) -> frozenset[int]:
    """Indexes of the version's blocks that are its site's learned boilerplate."""
    site = boilerplate.get(row["site"] or "", set())
    return frozenset(k for k, b in enumerate(row["blocks"]) if int(b["text_hash"]) in site)


def _view(row: dict[str, Any], boilerplate: dict[str, set[int]]) -> TextView:
    ev = _evidence(row)
    return TextView(row["text"], row["title"], ev.blocks, _learned(row, boilerplate), ev.links, ev.header, ev.tags)


def _facts(row: dict[str, Any], boilerplate: dict[str, set[int]]) -> DocFacts:
    ev = _evidence(row)
    learned = _learned(row, boilerplate)
    spans = tuple(Span(b.start, b.end) for k, b in enumerate(ev.blocks) if b.boilerplate is not None or k in learned)
    return DocFacts(
        doc_id=row["doc_id"],
        version_id=row["version_id"],
        url=row["url"],
        site=row["site"],
        chars=len(row["text"]),
        published=row["published"],
        first_seen=row["first_seen"],
        evidence=ev,
        boilerplate=spans,
        text=row["text"],
    )


def _edit_dicts(report: EditReport) -> list[dict[str, Any]]:
    """Each edit of ``report`` as a row: label, spans on both sides, texts and the detail."""
    return [
        {
            "position": position,
            "label": edit.label,
            "source_start": edit.source.start if edit.source else None,
            "source_end": edit.source.end if edit.source else None,
            "target_start": edit.target.start if edit.target else None,
            "target_end": edit.target.end if edit.target else None,
            "source_text": edit.source_text,
            "target_text": edit.target_text,
            "detail": edit.detail,
        }
        for position, edit in enumerate(report.edits)
    ]


def _edit_rows(edge_id: int, report: EditReport) -> list[dict[str, Any]]:
    return [
        {"edge_id": edge_id, **row, "detail": json.dumps(row["detail"], ensure_ascii=False)}
        for row in _edit_dicts(report)
    ]


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        for name, value in row.items():
            columns[name].append(value)
    return dict(columns)


def _corrections(scores: list[tuple[int, int, float]], target_version: int) -> tuple[int | None, str | None]:
    """The source version the target matches best, and whether the target picked up later
    corrections ('picked_up': it matches the latest version better than an older one) or not
    ('missed': an older version matches better); None when the versions match it equally."""
    mine = sorted((sv, score) for sv, tv, score in scores if tv == target_version)
    if not mine:
        return None, None
    best = max(mine, key=lambda item: (item[1], item[0]))[0]
    if len(mine) < 2 or len({round(score, 6) for _, score in mine}) == 1:
        return best, None
    return best, "picked_up" if best == mine[-1][0] else "missed"


def update_lineage(wh: Warehouse, settings: Settings, run_id: int) -> None:
    """Bring lineage up to date after run ``run_id``: version diffs of the documents it changed,
    the boilerplate of the sites it touched, and every story holding a document it stored."""
    fresh = lineage_db.new_versions(wh, run_id)
    if not fresh:
        return
    sites = {site for _, _, site, _ in fresh if site}
    before = lineage_db.site_boilerplate_hashes(wh, sites)
    lineage_db.learn_site_boilerplate(wh, sites, settings.boilerplate_docs, settings.boilerplate_share)
    after = lineage_db.site_boilerplate_hashes(wh, sites)
    seeds = {doc for _, doc, _, _ in fresh}
    changed_sites = [site for site in sites if before.get(site) != after.get(site)]
    if changed_sites:
        # New site boilerplate changes the evidence of every pair the site's documents are in.
        _, docs_of_sites = wh.query("SELECT doc_id FROM documents WHERE list_contains(?, site)", [changed_sites])
        seeds.update(int(doc) for (doc,) in docs_of_sites)
    members = lineage_db.component_of(wh, seeds)
    current = lineage_db.current_versions(wh, members)
    previous = {prev for _, _, _, prev in fresh if prev is not None}
    rows = lineage_db.load_versions(wh, [*current.values(), *previous])
    boilerplate = lineage_db.site_boilerplate_hashes(wh, {r["site"] for r in rows.values() if r["site"]})
    _store_version_diffs(wh, run_id, fresh, rows, boilerplate)
    docs = {doc: _facts(rows[v], boilerplate) for doc, v in current.items()}
    pairs = lineage_db.matches_between(wh, current.values())
    doc_of = {v: doc for doc, v in current.items()}
    shared = [
        SharedText(
            doc_of[va],
            doc_of[vb],
            tuple(
                Match(Span(a0, a1), Span(b0, b1), sim, MatchKind(kind), at, bt)
                for a0, a1, b0, b1, sim, kind, at, bt in p["matches"]
            ),
            p["in_order"],
        )
        for (va, vb), p in sorted(pairs.items())
        if p["matches"]
    ]
    found = build_stories(docs, shared, settings)
    lineage_db.delete_stories(wh, members)
    _store_stories(wh, run_id, found, docs, rows, boilerplate)


def _store_version_diffs(
    wh: Warehouse,
    run_id: int,
    fresh: list[tuple[int, int, str | None, int | None]],
    rows: dict[int, dict[str, Any]],
    boilerplate: dict[str, set[int]],
) -> None:
    diffs = []
    for version_id, doc_id, _, prev in fresh:
        if prev is None or prev not in rows or version_id not in rows:
            continue
        report = compare(_view(rows[prev], boilerplate), _view(rows[version_id], boilerplate))
        diffs.append(
            {
                "doc_id": doc_id,
                "old_version": prev,
                "new_version": version_id,
                "run_id": run_id,
                "labels": list(report.labels),
                "changes": json.dumps(_edit_dicts(report), ensure_ascii=False),
            }
        )
    if diffs:
        columns = _columns(diffs)
        columns["labels"] = pa.array(columns["labels"], pa.list_(pa.string()))
        wh.insert("version_diffs", columns)


def _store_stories(
    wh: Warehouse,
    run_id: int,
    found: list[Story],
    docs: dict[int, DocFacts],
    rows: dict[int, dict[str, Any]],
    boilerplate: dict[str, set[int]],
) -> None:
    edge_id = wh.next_id("reuse_edges", "edge_id")
    story_rows, node_rows, edge_rows, edit_rows = [], [], [], []
    for story in found:
        story_rows.append(
            {
                "story_id": story.story_id,
                "run_id": run_id,
                "root_doc": story.root,
                "earliest_doc": story.earliest,
                "documents": len(story.docs),
                "sites": list(story.sites),
                "first_time": story.first_time,
                "last_time": story.last_time,
            }
        )
        tree_edge: dict[int, int] = {}
        for edge in story.edges:
            source, target = docs[edge.source], docs[edge.target]
            source_version, corrections = source.version_id, None
            if edge.relation in ("copy", "undirected"):
                best, corrections = _corrections(
                    lineage_db.pair_scores(wh, edge.source, edge.target), target.version_id
                )
                source_version = best or source.version_id
                if source_version not in rows:
                    rows.update(lineage_db.load_versions(wh, [source_version]))
                report = compare(_view(rows[source_version], boilerplate), _view(rows[target.version_id], boilerplate))
                edit_rows.extend(_edit_rows(edge_id, report))
                labels = list(report.labels)
            else:
                labels = []
            credit = attribution(target, source, story, docs)
            edge_rows.append(
                {
                    "edge_id": edge_id,
                    "run_id": run_id,
                    "story_id": story.story_id,
                    "source_doc": edge.source,
                    "target_doc": edge.target,
                    "source_version": source_version,
                    "target_version": target.version_id,
                    "relation": edge.relation,
                    "directed": edge.directed,
                    "in_tree": edge.in_tree,
                    "via_doc": edge.via,
                    "upstream": edge.upstream,
                    "method": edge.method,
                    "confidence": edge.confidence,
                    "evidence": json.dumps([s.to_dict() for s in edge.signals], ensure_ascii=False),
                    "lag_seconds": edge.lag_seconds,
                    "shared_chars_source": edge.shared_chars_source,
                    "shared_chars_target": edge.shared_chars_target,
                    "coverage_source": edge.coverage_source,
                    "coverage_target": edge.coverage_target,
                    "in_order": edge.in_order,
                    "credited": credit.status,
                    "attribution": json.dumps(credit.to_dict(), ensure_ascii=False),
                    "labels": labels,
                    "corrections": corrections,
                }
            )
            if edge.in_tree:
                tree_edge[edge.target] = edge_id
            edge_id += 1
        for node in story.nodes.values():
            node_rows.append(
                {
                    "story_id": story.story_id,
                    "doc_id": node.doc_id,
                    "version_id": docs[node.doc_id].version_id,
                    "parent_doc": node.parent,
                    "upstream": node.upstream,
                    "edge_id": tree_edge.get(node.doc_id),
                    "depth": node.depth,
                    "doc_time": node.time,
                    "time_source": node.time_source,
                }
            )
    typed: dict[str, dict[str, pa.DataType]] = {
        "lineage_stories": {"sites": pa.list_(pa.string()), "first_time": _TIME, "last_time": _TIME},
        "lineage_nodes": {"parent_doc": pa.int64(), "upstream": pa.string(), "edge_id": pa.int64(), "doc_time": _TIME},
        "reuse_edges": {
            "labels": pa.list_(pa.string()),
            "via_doc": pa.int64(),
            "upstream": pa.string(),
            "method": pa.string(),
            "lag_seconds": pa.int64(),
            "corrections": pa.string(),
        },
        "edge_edits": {
            "source_start": pa.int64(),
            "source_end": pa.int64(),
            "target_start": pa.int64(),
            "target_end": pa.int64(),
            "source_text": pa.string(),
            "target_text": pa.string(),
        },
    }
    for table, table_rows in (
        ("lineage_stories", story_rows),
        ("lineage_nodes", node_rows),
        ("reuse_edges", edge_rows),
        ("edge_edits", edit_rows),
    ):
        if not table_rows:
            continue
        columns: dict[str, Any] = _columns(table_rows)
        for name, kind in typed[table].items():
            columns[name] = pa.array(columns[name], kind)
        wh.insert(table, columns)


_TIME = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class StoryReport:
    """A document's story as the CLI and the HTML report show it.

    ``nodes`` and ``edges`` are rows of ``lineage_nodes`` and ``reuse_edges`` with URLs and sites
    (edges with their evidence, attribution and stored edits); ``comparisons`` maps the edge_id of
    each tree edge to its source and target views and the :class:`EditReport` between them.
    """

    doc_id: int
    story_id: int | None
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    comparisons: dict[int, tuple[TextView, TextView, EditReport]]


def story_report(warehouse: Warehouse, ref: str, *, compare_texts: bool = False) -> StoryReport:
    """The story of the document ``ref`` (its URL, canonical or fetched, or its doc_id).

    Raises :class:`~reuse.errors.WarehouseError` when there is no such document; a document in
    no story gives ``story_id`` None and no nodes. With ``compare_texts``, each tree edge's two
    versions are compared again for a side-by-side view.
    """
    doc_id, story_id = lineage_db.find_story(warehouse, ref)
    if story_id is None:
        return StoryReport(doc_id, None, [], [], {})
    nodes, edges = lineage_db.story_edges(warehouse, story_id)
    comparisons: dict[int, tuple[TextView, TextView, EditReport]] = {}
    if compare_texts:
        tree = [e for e in edges if e["in_tree"]]
        rows = lineage_db.load_versions(
            warehouse, [v for e in tree for v in (e["source_version"], e["target_version"])]
        )
        sites = {r["site"] for r in rows.values() if r["site"]}
        boilerplate = lineage_db.site_boilerplate_hashes(warehouse, sites)
        for edge in tree:
            source, target = (
                _view(rows[edge["source_version"]], boilerplate),
                _view(rows[edge["target_version"]], boilerplate),
            )
            comparisons[edge["edge_id"]] = (source, target, compare(source, target))
    return StoryReport(doc_id, story_id, nodes, edges, comparisons)
