"""What a copy changed: edit labels and word-level diffs between a source text and a target text.

The two texts are compared block by block (paragraphs, headings, list items as the extractor or
the paragraph splitter cut them). Each source block is paired with the target block that shares
most of its word pairs; paired blocks that differ get a word-level diff whose changes are sorted
into numbers, names, quotes and other wording. Unpaired source blocks were dropped; unpaired
target blocks were added, as a preamble (before the first copied body block), a footer (after
the last) or an insertion (between), and as the site's boilerplate when the extractor marked
them or the site repeats them. Headline, header lines (byline, source line, tags) and links are
compared too.

The same comparison between two versions of one document is that document's version diff.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from reuse.engine import _native
from reuse.models import PageLink, Span, TextBlock

__all__ = ["LABELS", "Edit", "EditReport", "TextView", "compare", "url_key", "word_diff", "word_sides"]

#: Every edge label, in the order reports list them.
LABELS = (
    "headline_changed",
    "preamble_added",
    "tags_added",
    "paragraphs_dropped",
    "paragraphs_inserted",
    "paragraphs_reordered",
    "numbers_changed",
    "names_changed",
    "quotes_changed",
    "wording_changed",
    "links_removed",
    "links_rewritten",
    "links_added",
    "footer_added",
    "site_boilerplate_added",
)

_EDGE_PUNCT = ".,;:!?()[]'\"*"
_NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "billion",
        "trillion",
        "dozen",
        "half",
        "quarter",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
    ]
)
# Words that only join a number's parts ("two and a half", "5 per cent"): not a change of wording.
_NUMBER_GLUE = frozenset(["and", "a", "an", "point", "per", "cent", "percent"])
_QUOTED = re.compile(r"[\"“”„«»][^\"“”„«»]{1,2000}[\"“”„«»]")
# A paired block shares at least this share of the shorter block's word pairs, and three of them.
_PAIR_SHARE = 0.4
_PAIR_MIN = 3
# A run of changed words is of a kind (numbers, names, quotes) when at least this share of its words is.
_MOSTLY = 0.5


@dataclass(frozen=True)
class TextView:
    """One side of a comparison: a document version's text and what the page said around it.

    ``site_boilerplate`` holds the indexes of ``blocks`` learned as the site's boilerplate.
    """

    text: str
    title: str | None = None
    blocks: tuple[TextBlock, ...] = ()
    site_boilerplate: frozenset[int] = frozenset()
    links: tuple[PageLink, ...] = ()
    header: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def block_text(self, index: int) -> str:
        """The text of block ``index``."""
        block = self.blocks[index]
        return self.text[block.start : block.end]

    def is_boilerplate(self, index: int) -> bool:
        """Whether block ``index`` was marked by the extractor or learned as the site's template."""
        return self.blocks[index].boilerplate is not None or index in self.site_boilerplate

    @cached_property
    def folded_blocks(self) -> tuple[str, ...]:
        """Each block's text folded for comparison (:func:`_fold`), once a view: a view is
        compared with several others (a story's source with each of its copies)."""
        return tuple(_fold(self.block_text(i)) for i in range(len(self.blocks)))


@dataclass(frozen=True)
class Edit:
    """One change: its label, where it is on each side (when it has a span) and its detail.

    ``detail`` holds, for a changed block, ``diff`` (word-level ops: ``["=", text]``,
    ``["-", text]``, ``["+", text]``; shared text as the target writes it, see :func:`word_sides`
    for each side in its own characters), ``changes`` (each replaced, removed or added run with its
    ``kinds``: numbers, names, quotes, wording) and ``kinds`` (their union).
    """

    label: str
    source: Span | None = None
    target: Span | None = None
    source_text: str | None = None
    target_text: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EditReport:
    """Everything a target changed against a source: the labels and the edits behind them.

    ``pairs`` are the ``(source block, target block)`` index pairs found to be the same text.
    """

    labels: tuple[str, ...]
    edits: tuple[Edit, ...]
    pairs: tuple[tuple[int, int], ...]


def url_key(url: str) -> str:
    """A URL reduced to what identifies a page: host without ``www.``, path without trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    query = "&".join(q for q in parts.query.split("&") if q and not q.lower().startswith(("utm_", "fbclid")))
    return f"{host}{path}" + (f"?{query}" if query else "")


def _fold(text: str) -> str:
    return _native.normalize(text)[0].strip()


def _numeric(word: str) -> bool:
    """Whether ``word`` is a number: digits in it, or a number word ("twelve", "million")."""
    bare = word.strip(".,;:!?()[]'\"“”‘’«»")
    return any(c.isdigit() for c in bare) or bare.lower() in _NUMBER_WORDS


def _kinds(changed: int, numbers: int, names: int, quoted: int) -> list[str]:
    """What kind of change a run of ``changed`` removed and added words is, given how many of them
    are numbers, names (capitalised inside a sentence) and inside quotation marks.

    A kind needs at least half of the run's words (``_MOSTLY``): a replaced sentence that happens
    to hold a figure, a name or a quoted word is a change of wording, not of numbers, names or
    quotes.
    """
    kinds = [
        kind
        for kind, count in (("numbers", numbers), ("names", names), ("quotes", quoted))
        if count and count >= _MOSTLY * changed
    ]
    if "numbers" not in kinds and "names" not in kinds:
        kinds.append("wording")
    return kinds


def _name_like(words: Sequence[str], k: int) -> bool:
    """Whether ``words[k]`` is capitalised inside a sentence (not after . ! ? : or an opening quote)."""
    word = words[k].lstrip("(\"'“‘«")
    if not word[:1].isupper() or any(c.isdigit() for c in word):
        return False
    return k > 0 and not words[k - 1].endswith((".", "!", "?", ":", '"', "“", "'"))


def _quote_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _QUOTED.finditer(text)]


def _key(word: str) -> str:
    """What a word compares as: normalised, without the punctuation attached to it ("2,000."
    against "2,000:" is not a change of the word)."""
    folded = _fold(word)
    return folded.strip(_EDGE_PUNCT) or folded


def _word_opcodes(words_s: Sequence[str], words_t: Sequence[str]) -> Sequence[tuple[str, int, int, int, int]]:
    """``difflib`` opcodes aligning two word lists by their keys."""
    return SequenceMatcher(None, list(map(_key, words_s)), list(map(_key, words_t)), autojunk=False).get_opcodes()


def word_sides(source: str, target: str) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """Each text cut into the pieces a side-by-side view shows: ``(op, start, end)`` offsets into
    that text itself, ``"="`` for text both share (by the same word alignment as :func:`word_diff`),
    ``"-"`` for source words the target lacks and ``"+"`` for target words the source lacks.

    The pieces of a side cover its text exactly, whitespace included, so each column shows its own
    document's characters: a copy's straight quotes never stand in for the source's curly ones.
    """
    words_s, words_t = source.split(), target.split()
    ops_s, ops_t = [], []
    for tag, i1, i2, j1, j2 in _word_opcodes(words_s, words_t):
        ops_s += ["=" if tag == "equal" else "-"] * (i2 - i1)
        ops_t += ["=" if tag == "equal" else "+"] * (j2 - j1)
    return _pieces(source, words_s, ops_s), _pieces(target, words_t, ops_t)


def _pieces(text: str, words: Sequence[str], ops: Sequence[str]) -> list[tuple[str, int, int]]:
    """``text`` cut into runs of one op: each word takes its op, the whitespace between two words
    of one op takes theirs, and any other whitespace is shared."""
    pieces: list[tuple[str, int, int]] = []
    end = 0
    for word, start, op in zip(words, _offsets(text, words), ops, strict=True):
        gap = op if pieces and pieces[-1][0] == op else "="
        for piece_op, a, b in ((gap, end, start), (op, start, start + len(word))):
            if a == b:
                continue
            if pieces and pieces[-1][0] == piece_op:
                a = pieces.pop()[1]
            pieces.append((piece_op, a, b))
        end = start + len(word)
    if end < len(text):
        if pieces and pieces[-1][0] == "=":
            end = pieces.pop()[1]
        pieces.append(("=", end, len(text)))
    return pieces


def word_diff(source: str, target: str) -> dict[str, Any]:
    """The word-level diff of two texts: ``diff`` ops, the ``changes`` with their kinds, and ``kinds``.

    Words compare after normalisation (case, quotes, dashes, Unicode forms), so a copy that only
    changed curly quotes to straight ones has no change. Figures replaced by as many figures are
    split word by word, so "7,095. 251" → "7,840. 268" is two number changes; any other replaced
    run is one change, of the kinds most of its words are (see :func:`_kinds`).
    """
    words_s, words_t = source.split(), target.split()
    # Character offset of every word, to tell whether a change lies inside quotation marks.
    offsets_s, offsets_t = _offsets(source, words_s), _offsets(target, words_t)
    quotes_s, quotes_t = _quote_spans(source), _quote_spans(target)
    diff: list[list[str]] = []
    changes: list[dict[str, Any]] = []

    def inside(offsets: list[int], quotes: list[tuple[int, int]], i: int, j: int) -> int:
        return sum(any(q0 < offsets[k] < q1 for q0, q1 in quotes) for k in range(i, j))

    def named(words: list[str], i: int, j: int) -> int:
        return sum(_name_like(words, k) for k in range(i, j))

    def kinds_of(i1: int, i2: int, j1: int, j2: int) -> list[str]:
        words = [*words_s[i1:i2], *words_t[j1:j2]]
        numbers = sum(map(_numeric, words))
        glue = sum(_fold(w).strip(_EDGE_PUNCT) in _NUMBER_GLUE for w in words) if numbers else 0
        return _kinds(
            len(words) - glue,
            numbers,
            named(words_s, i1, i2) + named(words_t, j1, j2),
            inside(offsets_s, quotes_s, i1, i2) + inside(offsets_t, quotes_t, j1, j2),
        )

    def change(i1: int, i2: int, j1: int, j2: int) -> None:
        removed, added = words_s[i1:i2], words_t[j1:j2]
        changes.append({"from": " ".join(removed), "to": " ".join(added), "kinds": kinds_of(i1, i2, j1, j2)})
        if removed:
            diff.append(["-", " ".join(removed)])
        if added:
            diff.append(["+", " ".join(added)])

    for tag, i1, i2, j1, j2 in _word_opcodes(words_s, words_t):
        if tag == "equal":
            diff.append(["=", " ".join(words_t[j1:j2])])
        elif tag == "replace" and i2 - i1 == j2 - j1 > 1 and kinds_of(i1, i2, j1, j2)[0] == "numbers":
            # Figures replaced one for one are as many number changes; a replaced sentence is one change.
            for k in range(i2 - i1):
                change(i1 + k, i1 + k + 1, j1 + k, j1 + k + 1)
        else:
            change(i1, i2, j1, j2)
    merged: list[list[str]] = []
    for op in diff:
        if merged and merged[-1][0] == op[0] == "=":
            merged[-1][1] += " " + op[1]
        else:
            merged.append(op)
    kinds = sorted({k for c in changes for k in c["kinds"]}, key=["numbers", "names", "quotes", "wording"].index)
    return {"diff": merged, "changes": changes, "kinds": kinds}


def _offsets(text: str, words: Sequence[str]) -> list[int]:
    found, pos = [], 0
    for word in words:
        pos = text.index(word, pos)
        found.append(pos)
        pos += len(word)
    return found


def _pair_blocks(source: TextView, target: TextView) -> list[tuple[int, int]]:
    """Pair each source block with at most one target block: equal texts first, then the most
    shared pairs of consecutive words (at least ``_PAIR_MIN`` and ``_PAIR_SHARE`` of the smaller
    block's), greedily, ties to the nearest position; natively (``_native.pair_blocks``: each
    unpaired block against each)."""
    return _native.pair_blocks(source.folded_blocks, target.folded_blocks, _PAIR_MIN, _PAIR_SHARE)


def _longest_increasing(values: Sequence[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence of ``values`` (patience sorting)."""
    tails: list[int] = []
    tail_index: list[int] = []
    previous = [-1] * len(values)
    for k, v in enumerate(values):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if tails[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        previous[k] = tail_index[lo - 1] if lo else -1
        if lo == len(tails):
            tails.append(v)
            tail_index.append(k)
        else:
            tails[lo] = v
            tail_index[lo] = k
    keep, k = set(), tail_index[-1] if tail_index else -1
    while k >= 0:
        keep.add(k)
        k = previous[k]
    return keep


def _links_of(view: TextView, block: int) -> dict[str, PageLink]:
    return {url_key(link.href): link for link in view.links if link.block == block}


def compare(source: TextView, target: TextView) -> EditReport:
    """What ``target`` changed against ``source``: labels, and one :class:`Edit` per change."""
    pairs = _pair_blocks(source, target)
    edits: list[Edit] = []
    labels: set[str] = set()

    if source.title and target.title and _fold(source.title) != _fold(target.title):
        # Headlines are title-cased: the kinds of their changes (names...) would mislead; the diff does not.
        detail = {"diff": word_diff(source.title, target.title)["diff"]}
        # A prefix or suffix is cut from the target's own characters: folding may change lengths ("…").
        kept, extra = word_sides(source.title, target.title)
        inserted = [(a, b) for op, a, b in extra if op == "+"]
        if all(op == "=" for op, _, _ in kept) and len(inserted) == 1:
            a, b = inserted[0]
            if not target.title[:a].strip():
                detail["prefix_added"] = target.title[a:b]
            elif not target.title[b:].strip():
                detail["suffix_added"] = target.title[a:b]
        edits.append(Edit("headline_changed", source_text=source.title, target_text=target.title, detail=detail))
        labels.add("headline_changed")

    known = {_fold(line) for line in source.header} | set(source.folded_blocks)
    for line in target.header:
        if _fold(line) not in known:
            edits.append(Edit("preamble_added", target_text=line, detail={"where": "header"}))
            labels.add("preamble_added")
    new_tags = [tag for tag in target.tags if _fold(tag) not in {_fold(t) for t in source.tags}]
    if new_tags:
        edits.append(Edit("tags_added", target_text=", ".join(new_tags), detail={"tags": new_tags}))
        labels.add("tags_added")

    # The copied body: paired blocks whose source block is the source's own text (not its boilerplate).
    body = [(i, j) for i, j in pairs if not source.is_boilerplate(i)] or pairs
    first = min((j for _, j in body), default=len(target.blocks))
    last = max((j for _, j in body), default=-1)
    paired_t = {j for _, j in pairs}
    for j in range(len(target.blocks)):
        if j in paired_t:
            continue
        block = target.blocks[j]
        where = "preamble_added" if j < first else "footer_added" if j > last else "paragraph_inserted"
        added: dict[str, Any] = {}
        if target.is_boilerplate(j):
            added["boilerplate"] = block.boilerplate or "site"
            labels.add("site_boilerplate_added")
        edits.append(Edit(where, target=Span(block.start, block.end), target_text=target.block_text(j), detail=added))
        labels.add("paragraphs_inserted" if where == "paragraph_inserted" else where)

    paired_s = {i for i, _ in pairs}
    for i, block in enumerate(source.blocks):
        if i not in paired_s:
            dropped = {"boilerplate": block.boilerplate or "site"} if source.is_boilerplate(i) else {}
            span = Span(block.start, block.end)
            edits.append(Edit("paragraph_dropped", source=span, source_text=source.block_text(i), detail=dropped))
            labels.add("paragraphs_dropped")

    in_order = _longest_increasing([j for _, j in pairs])
    for k, (i, j) in enumerate(pairs):
        edits.extend(_paired_edits(source, target, i, j, moved=k not in in_order, labels=labels))
    return EditReport(tuple(label for label in LABELS if label in labels), tuple(edits), tuple(pairs))


def _paired_edits(source: TextView, target: TextView, i: int, j: int, moved: bool, labels: set[str]) -> list[Edit]:
    """The edits between source block ``i`` and the target block ``j`` paired with it."""
    sb, tb = source.blocks[i], target.blocks[j]
    at_s, at_t = Span(sb.start, sb.end), Span(tb.start, tb.end)
    text_s, text_t = source.block_text(i), target.block_text(j)
    edits = []
    if moved:
        edits.append(Edit("paragraph_moved", at_s, at_t, text_s, text_t, {"source_block": i, "target_block": j}))
        labels.add("paragraphs_reordered")
    if source.folded_blocks[i] != target.folded_blocks[j]:
        detail = word_diff(text_s, text_t)
        if detail["changes"]:
            edits.append(Edit("paragraph_changed", at_s, at_t, text_s, text_t, detail))
            labels.update(f"{kind}_changed" for kind in detail["kinds"])
    links_s, links_t = _links_of(source, i), _links_of(target, j)
    anchors_t = {_fold(link.text): link for link in links_t.values()}
    rewritten_to = set()
    for key, link in links_s.items():
        if key in links_t:
            continue
        rewritten = anchors_t.get(_fold(link.text))
        if rewritten is not None and url_key(rewritten.href) not in links_s:
            edits.append(Edit("link_rewritten", at_s, at_t, detail={"from": link.href, "to": rewritten.href}))
            rewritten_to.add(url_key(rewritten.href))
            labels.add("links_rewritten")
        else:
            edits.append(Edit("link_removed", at_s, at_t, detail={"href": link.href, "text": link.text}))
            labels.add("links_removed")
    for key, link in links_t.items():
        if key not in links_s and key not in rewritten_to:
            edits.append(Edit("link_added", at_s, at_t, detail={"href": link.href, "text": link.text}))
            labels.add("links_added")
    return edits
