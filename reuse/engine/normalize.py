"""Unicode normalisation that remembers where every character came from.

``normalize`` applies NFKC, case folding, removal of format characters (zero-width joiners,
soft hyphens, bidi marks, BOM) and control characters, unifies quotes and dashes, drops the
optional marks of the Arabic and Hebrew scripts and unifies the letters they (and Russian ё)
write in more than one way, writes the decimal digits of every script as ASCII digits, and
collapses runs of whitespace to one space.
The result carries ``origin``: for every character of the normalised text, the index of the
original character it came from (plus one entry for the end), so a span found in normalised text
is reported in offsets of the original text.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Normalized", "normalize"]

# ASCII words separated by single spaces need only lower-casing and map one to one: taking them
# as whole runs keeps the per-match Python work to about one step per paragraph of English text.
_RUN = re.compile(r"[!-~]+(?: [!-~]+)*|\s+|.", re.DOTALL)

_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
}  # fmt: skip
_ASCII_QUOTES = str.maketrans({"`": "'"})
_DASHES = dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-")
# Optional marks and letters written in more than one way, as text retrieval in these scripts
# normalises them; applied after NFKC, which composes a letter with its marks and unfolds
# presentation forms. Arabic (Larkey, Ballesteros and Connell 2002): the same word comes with or
# without its short vowels (harakat, optional in news text) or a justifying tatweel, with or
# without the hamza on its alef, and with the final alef maqsura typed as a yeh; Persian and Urdu
# keyboards type yeh and kaf as letters of their own (U+06CC, U+06A9) where Arabic ones type
# U+064A and U+0643, so an agency's story and a newspaper's copy of it may differ in nothing
# else; Persian and Urdu text types the heh as a letter of its own too (heh goal, U+06C1, and its
# forms with hamza), which Arabic and Persian keyboards type as U+0647, and Larkey's
# normalisation writes the teh marbuta (Arabic U+0629, Urdu U+06C3) as heh. The hamza is dropped
# from its seats as from alef: Urdu writes one word with a precomposed yeh barree with hamza
# (U+06D3) or with a yeh with hamza before the barree, and a hamza typed apart from a Persian yeh
# is a mark, dropped, where the composed Arabic letter would keep it. Hebrew: vowel points
# and cantillation, absent from unpointed modern text. Russian: ё, written as е in most text.
_SCRIPT_VARIANTS = str.maketrans(
    {
        "\u0640": None,  # tatweel
        **dict.fromkeys(map(chr, range(0x064B, 0x0660)), None),  # harakat: tanween, vowels, shadda, sukun...
        "\u0670": None,  # superscript alef
        **dict.fromkeys("\u0622\u0623\u0625\u0671", "\u0627"),  # alef with madda, hamza above/below, wasla
        **dict.fromkeys("\u0649\u06cc\u0626", "\u064a"),  # alef maqsura, the Persian yeh, yeh with hamza as yeh
        "\u06d3": "\u064a\u06d2",  # yeh barree with hamza: the seat's yeh and the barree
        "\u0624": "\u0648",  # waw with hamza as waw
        "\u06a9": "\u0643",  # keheh (the Persian and Urdu kaf) as kaf
        **dict.fromkeys("\u06c0\u06c1\u06c2\u0629\u06c3", "\u0647"),  # heh goal and its hamza forms, teh marbuta
        **dict.fromkeys(map(chr, range(0x0591, 0x05BE)), None),  # Hebrew accents and points to meteg
        **dict.fromkeys("\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7", None),  # rafe, shin and sin dots, ...
        "\u0451": "\u0435",  # ё as е
    }
)


@dataclass(frozen=True)
class Normalized:
    """Normalised text and, for each of its characters, the original characters it came from.

    ``starts[i]`` and ``ends[i]`` delimit the original characters that normalised character ``i``
    was made from (one character, a character with its combining marks, or a collapsed run of
    whitespace); ``source_length`` is the length of the original text.
    """

    text: str
    starts: array[int]
    ends: array[int]
    source_length: int

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span ``[start, end)`` of the normalised text to the original text."""
        if start >= end:
            at = self.starts[start] if start < len(self.text) else self.source_length
            return at, at
        return self.starts[start], self.ends[end - 1]


@lru_cache(maxsize=65536)
def _fold(cluster: str) -> str:
    """Normalise one character together with its combining marks."""
    first = cluster[0]
    if first in _QUOTES:
        return _QUOTES[first]
    if first in _DASHES:
        return _DASHES[first]
    if unicodedata.category(first) in ("Cf", "Cc", "Cs", "Co", "Cn") and len(cluster) == 1:
        return ""
    # NFKC may itself produce format characters, quotes, or spaces (U+00A8 DIAERESIS becomes a
    # space and a combining mark): keep whitespace collapsing's promise by trimming the latter.
    folded = " ".join(unicodedata.normalize("NFKC", cluster).casefold().split())
    out = "".join(_QUOTES.get(c, _DASHES.get(c, c)) for c in folded if unicodedata.category(c) != "Cf")
    unified = out.translate(_SCRIPT_VARIANTS)
    if not unified.isascii():
        # Decimal digits (Unicode's Nd: Arabic-Indic, Persian and Urdu, Devanagari, Bengali,
        # Thai...) as ASCII digits, as search engines fold them: a newspaper writes the figures of
        # the agency story it copies in its own script's digits, or the other way round.
        unified = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in unified)
    # A mark NFKC set apart by a space ("\ufe70" is " \u064b") leaves the space when dropped.
    return unified if unified == out else " ".join(unified.split())


def normalize(text: str) -> Normalized:
    """Normalise ``text`` for fingerprinting and keep the map back to its characters."""
    n = len(text)
    # Four bytes an offset where they fit: the map is the largest part of a long text's analysis.
    typecode = "i" if n < 2**31 else "q"
    out: list[str] = []
    starts: array[int] = array(typecode)
    ends: array[int] = array(typecode)
    pos = 0
    pending_space = -1  # start of a whitespace run not yet written (written only between words)
    while pos < n:
        m = _RUN.match(text, pos)
        assert m is not None  # the last alternative matches any character
        end = m.end()
        first = text[pos]
        if first.isspace():
            if pending_space < 0:
                pending_space = pos
            pos = end
            continue
        if first.isascii() and end < n and unicodedata.combining(text[end]):
            # The run's last letter carries combining marks: fold it with them (NFD == NFC).
            end -= 1
        if end > pos and first.isascii() and not (end - pos == 1 and not first.isprintable()):
            piece = text[pos:end].lower().translate(_ASCII_QUOTES)
            span_starts: range | list[int] = range(pos, end)
            span_ends: range | list[int] = range(pos + 1, end + 1)
        else:
            end = pos + 1
            while end < n and unicodedata.combining(text[end]):
                end += 1
            piece = _fold(text[pos:end])
            span_starts = [pos] * len(piece)
            span_ends = [end] * len(piece)
        if piece:
            if pending_space >= 0 and out:
                out.append(" ")
                starts.append(pending_space)
                ends.append(pos)
            pending_space = -1
            out.append(piece)
            starts.extend(span_starts)
            ends.extend(span_ends)
        pos = end
    return Normalized("".join(out), starts, ends, n)
