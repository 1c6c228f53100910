"""Cutting a document into paragraphs and passages.

Paragraphs are blocks separated by blank lines; text without blank lines is read line by line,
unless its lines are hard-wrapped (most of similar, short length), when the whole run is one
paragraph. A paragraph longer than ``_LONG_PARAGRAPH`` characters (text with no line breaks at
all, a hard-wrapped file) is cut into runs of whole sentences.

Passages are the paragraphs with enough tokens plus overlapping windows of ``window_tokens``
tokens every ``window_step`` tokens over the whole document, so that half a paragraph, two
paragraphs merged into one, or one split in two, still shares a passage with its source.
"""

from __future__ import annotations

import re
import statistics

import numpy as np
import regex

from reuse.config import Settings
from reuse.engine.tokens import Tokens
from reuse.models import Passage, PassageKind

__all__ = ["paragraph_spans", "passages"]

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v\u00a0]*\n\s*")
_LINE = re.compile(r"\r\n|\r|\n")
# A sentence ends at . ! ? (or a closing quote after them) before a space; every other character
# Unicode calls a sentence terminal (the CJK, Urdu, Devanagari, Armenian, Ethiopic... full stops
# and question marks, as the second stage's sentences: reuse.engine.seeds) ends one with or
# without a space after it. (The spaces are str.isspace's: regex's \s leaves out U+001C..U+001F.)
_SENTENCE_END = regex.compile(
    r"[.!?][\"'\u201d\u2019)\]]*[\s\x1c-\x1f]+|[\p{Sentence_Terminal}--[.!?]][\s\x1c-\x1f]*", regex.VERSION1
)
# Longer "paragraphs" are structure lost (no line breaks), not paragraphs: cut them by sentences
# into runs of about ``_SENTENCE_RUN`` characters, the size of a typical news paragraph.
_LONG_PARAGRAPH = 1500
_SENTENCE_RUN = 500


def _is_hard_wrapped(lines: list[str]) -> bool:
    """True when the lines look wrapped at a fixed width rather than ended at paragraph ends."""
    lengths = [len(line) for line in lines if line.strip()]
    if len(lengths) < 4:
        return False
    width = max(lengths)
    if width > 120:
        return False
    near_width = sum(1 for n in lengths if n >= 0.6 * width)
    return near_width >= 0.8 * len(lengths) and statistics.median(lengths) >= 40


def _sentence_runs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` after sentence ends into runs of about ``_SENTENCE_RUN`` chars."""
    runs, run_start = [], start
    for m in _SENTENCE_END.finditer(text, start, end):
        if m.end() - run_start >= _SENTENCE_RUN:
            runs.append((run_start, m.end()))
            run_start = m.end()
    if run_start < end:
        runs.append((run_start, end))
    return runs


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the paragraphs of ``text`` (surrounding whitespace excluded)."""
    if _BLANK_LINE.search(text):
        pieces = [(m.start(), m.end()) for m in re.finditer(r"(?:[^\n]|\n(?![ \t\r\f\v\u00a0]*\n))+", text)]
    elif "\n" in text or "\r" in text:
        lines = _LINE.split(text)
        if _is_hard_wrapped(lines):
            pieces = [(0, len(text))]
        else:
            pieces, pos = [], 0
            for m in _LINE.finditer(text):
                pieces.append((pos, m.start()))
                pos = m.end()
            pieces.append((pos, len(text)))
    else:
        pieces = [(0, len(text))]
    spans = []
    for start, end in (run for piece in pieces for run in _split_long(text, *piece)):
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
    return spans


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return _sentence_runs(text, start, end) if end - start > _LONG_PARAGRAPH else [(start, end)]


def passages(text: str, tokens: Tokens, settings: Settings) -> list[Passage]:
    """The passages of a document: its paragraphs and its overlapping token windows.

    Passages with fewer than ``settings.min_tokens`` tokens are left out: they get no signature
    and can never match. A window identical to a paragraph is not repeated.
    """
    count = len(tokens)
    if count < settings.min_tokens:
        return []
    starts, ends = tokens.starts, tokens.ends
    ranges: list[tuple[PassageKind, int, int]] = []
    for char_start, char_end in paragraph_spans(text):
        t0 = int(np.searchsorted(starts, char_start, side="left"))
        t1 = int(np.searchsorted(starts, char_end, side="left"))
        if t1 - t0 >= settings.min_tokens:
            ranges.append((PassageKind.PARAGRAPH, t0, t1))
    seen = {(t0, t1) for _, t0, t1 in ranges}
    size, step = settings.window_tokens, settings.window_step
    if count > size:
        window_starts = list(range(0, count - size + 1, step))
        if window_starts[-1] != count - size:
            window_starts.append(count - size)  # the tail gets a window of full size too
        for t0 in window_starts:
            if (t0, t0 + size) not in seen:
                ranges.append((PassageKind.WINDOW, t0, t0 + size))
    elif not ranges:
        ranges.append((PassageKind.WINDOW, 0, count))
    ranges.sort(key=lambda r: (r[1], -r[2]))
    # A passage is unspaced when most of its tokens are: counted from a running sum, not per passage.
    unspaced_before = np.concatenate(([0], np.cumsum(tokens.unspaced, dtype=np.int64))).tolist()
    starts_list, ends_list = starts.tolist(), ends.tolist()
    return [
        Passage(
            position=i,
            kind=kind,
            token_start=t0,
            token_end=t1,
            char_start=starts_list[t0],
            char_end=ends_list[t1 - 1],
            unspaced=2 * (unspaced_before[t1] - unspaced_before[t0]) > t1 - t0,
        )
        for i, (kind, t0, t1) in enumerate(ranges)
    ]
