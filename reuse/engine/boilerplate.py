"""Site boilerplate: the blocks of text a site repeats across its own documents.

A site's template (menus, cookie notices, donation appeals, disclaimers, "most read" lists) is
learned from its documents, as passim's max-DF filter and Churnalism's common-fragment filter do:
a block whose normalised text (digits folded, so "Sunday, 8 November" and "Friday, 6 November"
are one line) appears in enough different articles of one site (an article's twins, such as its AMP
version, counted once) is boilerplate there. Boilerplate is
never evidence of reuse, and a copy's boilerplate is reported as its site's addition.

Everything here is pure: the warehouse counts block hashes per site, these functions say what
the counts mean and which character spans of a document they cover.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import xxhash

from reuse.engine import _native
from reuse.models import Evidence, Span, TextBlock

__all__ = ["block_hash", "block_hashes", "boilerplate_spans", "subtract", "text_blocks", "union_length"]

_DIGITS = re.compile(r"\d+")


def block_hash(text: str) -> int:
    """A 64-bit hash of a block's normalised text with every run of digits folded to ``0``: the
    Python reference of :func:`block_hashes`."""
    folded = _DIGITS.sub("0", _native.normalize(text)[0].strip())
    return xxhash.xxh64_intdigest(folded.encode("utf-8", "surrogatepass"))


def block_hashes(texts: Sequence[str], owner: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """:func:`block_hash` of each block ``texts[owner[k]][start[k]:end[k]]`` (int64 arrays), as
    uint64, in one native call on all cores."""
    columns = (np.ascontiguousarray(column, dtype=np.int64) for column in (owner, start, end))
    return _native.block_hashes(list(texts), *columns)


def text_blocks(text: str, evidence: Evidence | None = None) -> tuple[np.ndarray, list[str], list[str | None]]:
    """The blocks of a document, the extractor's when the page gave them, else its paragraphs:
    their ``[start, end)`` spans as a ``(k, 2)`` int64 array, their kinds and their boilerplate
    labels."""
    if evidence is not None and evidence.blocks:
        given = evidence.blocks
        spans = np.array([(b.start, b.end) for b in given], dtype=np.int64)
        return spans, [b.kind for b in given], [b.boilerplate for b in given]
    paragraphs = _native.paragraph_spans(text)
    return paragraphs, ["paragraph"] * len(paragraphs), [None] * len(paragraphs)


def boilerplate_spans(blocks: Sequence[TextBlock], hashes: Sequence[int], learned: Iterable[int]) -> list[Span]:
    """The spans of a document that are boilerplate: blocks the extractor marked, and blocks whose
    hash is among the ``learned`` boilerplate hashes of the document's site."""
    site = set(learned)
    return [
        Span(block.start, block.end)
        for block, digest in zip(blocks, hashes, strict=True)
        if block.boilerplate is not None or digest in site
    ]


def _merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if span.end <= span.start:
            continue
        if out and span.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, span.end))
        else:
            out.append(span)
    return out


def union_length(spans: Iterable[Span]) -> int:
    """Characters covered by the union of ``spans``."""
    return sum(len(s) for s in _merged(spans))


def subtract(spans: Iterable[Span], holes: Iterable[Span]) -> list[Span]:
    """The union of ``spans`` without the characters of ``holes``, as sorted disjoint spans."""
    cut = _merged(holes)
    out: list[Span] = []
    for span in _merged(spans):
        start = span.start
        for hole in cut:
            if hole.end <= start or hole.start >= span.end:
                continue
            if hole.start > start:
                out.append(Span(start, hole.start))
            start = max(start, hole.end)
        if start < span.end:
            out.append(Span(start, span.end))
    return out
