"""Word tokens with their offsets in the original text.

A token is a run of letters, digits and combining marks of the normalised text (the marks carry
the vowels of Indic scripts and Thai; the ``regex`` module has the Unicode class of marks, ``re``
cannot), except in scripts written without spaces between words (Chinese, Japanese kana and
kanji, Thai, Lao, Khmer, Myanmar), where each character with its marks is a token of its own;
passages in those scripts are then shingled by characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import regex

from reuse.engine.normalize import Normalized, normalize

__all__ = ["Tokens", "tokenize"]

_UNSPACED_CLASS = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\U00020000-\U0002fa1f"
)
_WORD = regex.compile(r"[\p{L}\p{N}\p{M}]+")
_UNSPACED = regex.compile(f"[{_UNSPACED_CLASS}]")
# Inside a word that mixes scripts: single unspaced characters with the marks they carry, or
# runs of anything else.
_SPLIT = regex.compile(f"[{_UNSPACED_CLASS}]\\p{{M}}*|[^{_UNSPACED_CLASS}]+")


@dataclass(frozen=True)
class Tokens:
    """The tokens of one text.

    ``words[i]`` is the normalised token; ``starts[i]``/``ends[i]`` its span in the original text;
    ``unspaced[i]`` is true when the token is a single character of a script without spaces.
    """

    words: list[str]
    starts: np.ndarray
    ends: np.ndarray
    unspaced: np.ndarray
    normalized: Normalized

    def __len__(self) -> int:
        return len(self.words)


def tokenize(text: str) -> Tokens:
    """Normalise ``text`` and cut it into tokens that keep their original offsets."""
    norm = normalize(text)
    ntext = norm.text
    if ntext.isascii() or not _UNSPACED.search(ntext):
        # Two passes, and no Match object or span tuple per token: a long text has millions.
        words = _WORD.findall(ntext)
        bounds = np.fromiter(
            (edge for m in _WORD.finditer(ntext) for edge in m.span()), dtype=np.int64, count=2 * len(words)
        ).reshape(-1, 2)
        unspaced = np.zeros(len(words), dtype=bool)
    else:
        words, spans, flags = [], [], []
        for m in _WORD.finditer(ntext):
            word = m.group()
            if not _UNSPACED.search(word):
                words.append(word)
                spans.append(m.span())
                flags.append(False)
                continue
            base = m.start()
            for part in _SPLIT.finditer(word):
                words.append(part.group())
                spans.append((base + part.start(), base + part.end()))
                flags.append(_UNSPACED.match(part.group()) is not None)
        unspaced = np.array(flags, dtype=bool)
        bounds = np.array(spans, dtype=np.int64).reshape(-1, 2)
    if not words:
        empty = np.zeros(0, dtype=np.int64)
        return Tokens([], empty, empty, unspaced, norm)
    offsets = np.dtype(f"i{norm.starts.itemsize}")
    starts = np.frombuffer(norm.starts, dtype=offsets)[bounds[:, 0]].astype(np.int64)
    ends = np.frombuffer(norm.ends, dtype=offsets)[bounds[:, 1] - 1].astype(np.int64)
    return Tokens(words, starts, ends, unspaced, norm)
