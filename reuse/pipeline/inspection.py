"""Looking at documents without storing them: the passages and signatures of a file, and what two texts
or two stored documents share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crawlers.files import read_file
from crawlers.urls import page_key
from reuse.config import Settings
from reuse.engine.analysis import Analysis, analyse, analyse_many
from reuse.engine.matching import PairResult, graded, match_pair
from reuse.engine.signatures import MinHasher
from reuse.errors import InputError, NoSuchDocument
from reuse.models import Document

__all__ = [
    "FINGERPRINT_BATCH_CHARS",
    "ComparedText",
    "Comparison",
    "compare_documents",
    "compare_texts",
    "fingerprint_file",
]

#: Characters of text a file's documents are fingerprinted in at once: enough for the engine to
#: keep every core busy, few enough that a batch's analyses are a few MB.
FINGERPRINT_BATCH_CHARS = 1 << 20


def _first_document(path: Path) -> Document:
    """The first document of a file, or the error that kept the file from giving any."""
    errors = []
    for item in read_file(path):
        if isinstance(item, Document):
            return item
        errors.append(item)
    raise errors[0] if errors else InputError(str(path), "no document in file")


def fingerprint_file(path: Path, settings: Settings) -> Iterator[tuple[Document, Analysis] | InputError]:
    """Every document in the file at ``path`` with its analysis: passages and their signatures.

    A broken item inside the file (a JSONL line) is yielded as its
    :class:`~reuse.errors.InputError`; a file that gives no document at all raises it. No
    warehouse is involved (:mod:`reuse.pipeline.fingerprints` writes the results out).
    """
    if not path.is_file():
        raise InputError(str(path), "no such file" if not path.exists() else "not a file")
    items = list(read_file(path))
    if not any(isinstance(item, Document) for item in items):
        raise next((item for item in items if isinstance(item, InputError)), InputError(str(path), "no document"))
    hasher = MinHasher.from_settings(settings)
    batch: list[Document] = []
    chars = 0
    for item in [*items, None]:
        # Documents go to the engine a batch at a time (it analyses a batch on every core); an
        # error is yielded in its place in the file, after the documents before it.
        if isinstance(item, Document):
            batch.append(item)
            chars += len(item.text)
            if chars < FINGERPRINT_BATCH_CHARS:
                continue
        yield from zip(
            batch, analyse_many([doc.text for doc in batch], settings, hasher, key_families=False), strict=True
        )
        batch, chars = [], 0
        if isinstance(item, InputError):
            yield item


def _shared_band_keys(a: Analysis, b: Analysis, settings: Settings) -> list[tuple[int, int]]:
    """``(position in a, position in b)`` of the passages that share an LSH band key or a key of
    another family (``reuse.engine.families``)."""
    if not a.passages or not b.passages:
        return []
    holders: dict[int, set[int]] = defaultdict(set)
    for key, position in zip(*(x.tolist() for x in a.lookup_keys()), strict=True):
        holders[key].add(position)
    pairs: set[tuple[int, int]] = set()
    for key, position in zip(*(x.tolist() for x in b.lookup_keys()), strict=True):
        pairs.update((held, position) for held in holders.get(key, ()))
    return sorted(pairs)


def compare_texts(text_a: str, text_b: str, settings: Settings) -> PairResult:
    """Find what two texts share, as ingest would find it between two stored documents.

    The passages that share an LSH band key are the candidates; they are verified and the two
    texts aligned by :func:`~reuse.engine.matching.match_pair`. Offsets refer to ``text_a`` and ``text_b``.
    The summary is graded also when nothing aligns: a heavy rewrite still has a similarity.
    """
    hasher = MinHasher.from_settings(settings)
    a, b = analyse(text_a, settings, hasher), analyse(text_b, settings, hasher)
    result = match_pair(a.comparable, b.comparable, _shared_band_keys(a, b, settings), settings)
    return graded(result.matches, a.comparable, b.comparable, result.candidates, result.verified)


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
        from warehouse.db import open_when_free  # DuckDB is loaded only when a document is stored

        if not Path(db).exists():
            raise InputError(stored[0], f"no such file, and no warehouse at {db} to look it up in")
        with open_when_free(db, read_only=True, wait=15.0) as warehouse:
            for ref in stored:
                try:
                    doc = warehouse.resolve_document(ref, page_key)
                except NoSuchDocument as err:
                    raise InputError(ref, f"no such file, and no document with this URL or doc_id in {db}") from err
                found[ref] = ComparedText(doc.url, warehouse.version_texts([doc.version_id])[doc.version_id])
    a, b = found[ref_a], found[ref_b]
    return Comparison(a, b, compare_texts(a.text, b.text, settings))
