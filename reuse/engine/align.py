"""Verification and alignment: from two documents' tokens to character-exact matches.

Alignment works on anchors, token positions ``(i, j)`` where the two documents agree:

* every word trigram the two share (each side holding it at most a few times), which pins
  verbatim and lightly edited text to the token;
* every shared *content word* (four characters or more, rare in both documents), which survives
  the word swaps, replacements and insertions of heavy editing where trigrams do not.

Anchors close to each other on both sides (within ``join_gap`` tokens) are chained into
clusters; a cluster long enough on both sides and similar enough (Dice of the content words of
the two spans) is a match. Matches separated by less than ``max_gap_tokens`` on both sides are
merged, so a copy edited in the middle is reported once, and overlapping matches keep the best.
The second stage (:mod:`reuse.engine.seeds`) adds what the words in order missed; last, an
edited match's end a few words short of its sentence's bound is taken to it
(:func:`edges_to_sentences`).
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from reuse.config import Settings
from reuse.engine.runs import offsets_within
from reuse.engine.seeds import MAX_GAP_SENTENCES, SUMMARY_GAP_SENTENCES, SUMMARY_RATIO, Fragment, Side, fragments
from reuse.models import Match, MatchKind, Span

__all__ = ["CONTENT_CHARS", "WORD_CONTAINMENT", "WORD_SHARED", "AlignInput", "align", "verify", "words_verified"]

# Anchors from a shingle repeated more often than this on one side are ambiguous: skipped.
_MAX_REPEAT_TRIGRAM = 8
_MAX_REPEAT_WORD = 3
# Shortest content word: shorter words are mostly function words in languages written with spaces.
CONTENT_CHARS = 4
# Anchors further apart than this (tokens, on both sides) start a new cluster.
_JOIN_GAP = 12
# A one-word anchor at a cluster's edge this far (tokens) from the cluster's other anchors is a
# coincidence of the surrounding text, not part of the copy.
_EDGE_GAP = 6
# A cluster whose tokens (side a) word-trigram anchors cover at least this share of is verbatim
# or nearly so: its two sides run in step, so anchors at one of its edges that pair text inside
# it on the other side are a phrase repeated next to the copy, not more of it (see
# :func:`_repeats_dropped`).
_IN_STEP_SHARE = 0.7
# At most this many anchors (and a quarter of the cluster's) make such a repeated edge group.
_EDGE_GROUP = 8


#: An :class:`AlignInput`'s arrays as the native engine takes them (:attr:`AlignInput.arrays`).
NativeArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class AlignInput:
    """What alignment needs of one document.

    ``token_hashes`` identifies each token (equal words, equal hashes) and ``stems`` its stem
    (:func:`reuse.engine.shingles.stem_hashes`); ``trigrams`` holds the
    hash of the trigram starting at each token; ``content`` flags the tokens that are content
    words; ``starts``/``ends`` are the tokens' character spans in the original text;
    ``sentences`` the tokens where its sentences start (:func:`reuse.engine.seeds.sentence_starts`;
    empty: the second stage, sentence by sentence, does not run).
    """

    token_hashes: np.ndarray
    stems: np.ndarray
    trigrams: np.ndarray
    content: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    sentences: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def side(self) -> Side:
        """What the second stage of alignment reads of the document."""
        return Side(self.token_hashes, self.stems, self.content, self.sentences)

    @cached_property
    def arrays(self) -> NativeArrays:
        """Its arrays in field order as the native engine takes them (contiguous, of its dtypes:
        the analysis makes them so, and then they are not copied). Made once: a document kept
        for matching is handed to the native engine batch after batch, and converting its
        arrays each time (cold in the cache by then) cost 6 µs a document at 1M passages."""
        return (
            np.ascontiguousarray(self.token_hashes, dtype=np.uint64),
            np.ascontiguousarray(self.stems, dtype=np.uint64),
            np.ascontiguousarray(self.trigrams, dtype=np.uint64),
            np.ascontiguousarray(self.content, dtype=np.bool_),
            np.ascontiguousarray(self.starts, dtype=np.int64),
            np.ascontiguousarray(self.ends, dtype=np.int64),
            np.ascontiguousarray(self.sentences, dtype=np.int64),
        )


def verify(a: Collection[int] | np.ndarray, b: Collection[int] | np.ndarray) -> tuple[float, float, float]:
    """Exact Jaccard and the containment of each side, from two passages' shingle hashes
    (arrays, or sets of them: passages are short, and Python sets beat numpy's set operations
    on a few dozen values)."""
    sa = a if isinstance(a, (set, frozenset)) else set(np.asarray(a).tolist())
    sb = b if isinstance(b, (set, frozenset)) else set(np.asarray(b).tolist())
    if not sa or not sb:
        return 0.0, 0.0, 0.0
    shared = len(sa & sb)
    return shared / (len(sa) + len(sb) - shared), shared / len(sa), shared / len(sb)


#: A candidate passage pair whose word pairs fall short of the verification bar is verified all
#: the same when this share of the smaller one's distinct content words is in the other: a
#: translated or paraphrased passage keeps its source's words, not their pairs (the word bands,
#: :mod:`reuse.engine.families`, propose such pairs). Passages on one topic share about a fifth
#: (PAN13: of 1,500 same-topic document pairs sharing a word band, 10 passed 0.4 and no
#: alignment of them found a match).
WORD_CONTAINMENT = 0.4
#: ... with at least this many content words in common: two short passages sharing four names
#: are a topic, not a copy.
WORD_SHARED = 8


def words_verified(a: Collection[int], b: Collection[int]) -> bool:
    """Whether two passages' sets of content words verify a candidate pair (see
    :data:`WORD_CONTAINMENT` and :data:`WORD_SHARED`)."""
    shared = len(set(a) & set(b))
    return shared >= WORD_SHARED and shared >= WORD_CONTAINMENT * min(len(a), len(b))


def _anchor_pairs(ha: np.ndarray, hb: np.ndarray, max_repeat: int) -> tuple[np.ndarray, np.ndarray]:
    """All ``(i, j)`` with ``ha[i] == hb[j]`` where the value occurs at most ``max_repeat`` times
    on each side."""
    if not len(ha) or not len(hb):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order_b = np.argsort(hb, kind="stable")
    sorted_b = hb[order_b]
    lo = np.searchsorted(sorted_b, ha, side="left")
    hi = np.searchsorted(sorted_b, ha, side="right")
    count_b = hi - lo
    _, inverse, counts = np.unique(ha, return_inverse=True, return_counts=True)
    count_a = counts[inverse]
    keep = (count_b > 0) & (count_b <= max_repeat) & (count_a <= max_repeat)
    idx = np.flatnonzero(keep)
    reps = count_b[idx]
    i = np.repeat(idx, reps)
    # For each kept i, the offsets 0..count_b-1 into its run of equal values in sorted_b.
    j = order_b[np.repeat(lo[idx], reps) + offsets_within(reps)]
    return i.astype(np.int64), j.astype(np.int64)


def _anchors(a: AlignInput, b: AlignInput) -> np.ndarray:
    """Anchors as rows ``(i, j, length)`` sorted by ``i`` then ``j``."""
    ti, tj = _anchor_pairs(a.trigrams, b.trigrams, _MAX_REPEAT_TRIGRAM)
    ca, cb = np.flatnonzero(a.content), np.flatnonzero(b.content)
    wi, wj = _anchor_pairs(a.token_hashes[ca], b.token_hashes[cb], _MAX_REPEAT_WORD)
    rows = np.concatenate(
        [
            np.column_stack([ti, tj, np.full(len(ti), 3, dtype=np.int64)]),
            np.column_stack([ca[wi], cb[wj], np.ones(len(wi), dtype=np.int64)]),
        ]
    )
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    return rows[order]


@dataclass
class _Cluster:
    i0: int
    i1: int
    j0: int
    j1: int
    anchors: int
    strong: list[int]  # the trigram anchors' extent (i0, i1, j0, j1), empty if none

    @classmethod
    def start(cls, i: int, j: int, length: int) -> _Cluster:
        return cls(i, i + length, j, j + length, 1, [i, i + length, j, j + length] if length > 1 else [])

    def add(self, i: int, j: int, length: int) -> None:
        self.i1 = max(self.i1, i + length)
        self.j0 = min(self.j0, j)
        self.j1 = max(self.j1, j + length)
        self.anchors += 1
        if length > 1:
            s = self.strong
            self.strong = (
                [min(s[0], i), max(s[1], i + length), min(s[2], j), max(s[3], j + length)]
                if s
                else [i, i + length, j, j + length]
            )

    def trimmed(self) -> _Cluster:
        """The cluster cut to its trigram anchors when they carry it: content-word anchors at
        the edges of verbatim text are as likely to be coincidences as part of the copy."""
        s = self.strong
        if s and (s[1] - s[0]) >= 0.8 * (self.i1 - self.i0) and (s[3] - s[2]) >= 0.8 * (self.j1 - self.j0):
            return _Cluster(s[0], s[1], s[2], s[3], self.anchors, s)
        return self


def _clusters(anchors: np.ndarray) -> list[_Cluster]:
    """Chain anchors that lie within ``_JOIN_GAP`` tokens of a cluster on both sides."""
    done: list[_Cluster] = []
    active: list[_Cluster] = []
    for i, j, length in anchors.tolist():
        still: list[_Cluster] = []
        for c in active:
            (still if i - c.i1 <= _JOIN_GAP else done).append(c)
        active = still
        best, best_dist = None, _JOIN_GAP + 1
        for c in active:
            dist = 0 if c.j0 <= j < c.j1 else (c.j0 - j - length if j < c.j0 else j - c.j1)
            if dist < best_dist:
                best, best_dist = c, dist
        if best is None:
            active.append(_Cluster.start(i, j, length))
        else:
            best.add(i, j, length)
    done.extend(active)
    return done


def _content_dice(a: AlignInput, b: AlignInput, c: _Cluster) -> float:
    """Dice coefficient of the content words of a cluster's two spans, counted with repeats."""
    wa = a.token_hashes[c.i0 : c.i1][a.content[c.i0 : c.i1]]
    wb = b.token_hashes[c.j0 : c.j1][b.content[c.j0 : c.j1]]
    if not len(wa) or not len(wb):
        # No content words (e.g. text in an unspaced script): compare all tokens.
        wa, wb = a.token_hashes[c.i0 : c.i1], b.token_hashes[c.j0 : c.j1]
    shared = sum((Counter(wa.tolist()) & Counter(wb.tolist())).values())
    return 2 * shared / (len(wa) + len(wb))


def _kind(a: AlignInput, b: AlignInput, c: _Cluster) -> tuple[MatchKind, float]:
    """A match's kind and similarity: the share of its tokens the two sides have in the same
    order (difflib's ratio), 1.0 exactly when they are verbatim."""
    sa = a.token_hashes[c.i0 : c.i1].tolist()
    sb = b.token_hashes[c.j0 : c.j1].tolist()
    if sa == sb:
        return MatchKind.VERBATIM, 1.0
    ratio = difflib.SequenceMatcher(None, sa, sb, autojunk=False).ratio()
    return (MatchKind.NEAR_VERBATIM if ratio >= 0.8 else MatchKind.EDITED), min(ratio, 0.9999)


def _gap(x0: int, x1: int, y0: int, y1: int) -> int:
    """Tokens between two ranges; 0 when they touch or overlap."""
    return max(0, max(x0, y0) - min(x1, y1))


def _tightened(c: _Cluster, anchors: np.ndarray) -> _Cluster:
    """``c`` without the stray content words at its edges.

    A single shared word just outside a copy (a "will" or "once" of the text around it) chains
    onto the copy's cluster and stretches its bounds over text that was not copied. An edge
    anchor of one word lying more than ``_EDGE_GAP`` tokens from every other anchor of the
    cluster, on either side, is dropped, and the bounds are those of the anchors that remain.
    """
    box = anchors[(anchors[:, 0] >= c.i0) & (anchors[:, 0] < c.i1) & (anchors[:, 1] >= c.j0) & (anchors[:, 1] < c.j1)]
    keep = np.ones(len(box), dtype=bool)
    changed = True
    while changed:
        changed = False
        for side in (0, 1):
            live = np.flatnonzero(keep)
            if len(live) < 3:
                break
            order = live[np.argsort(box[live, side], kind="stable")]
            for edge, neighbour in ((order[0], order[1]), (order[-1], order[-2])):
                if box[edge, 2] == 1 and abs(int(box[neighbour, side]) - int(box[edge, side])) > _EDGE_GAP:
                    keep[edge] = False
                    changed = True
    repeats = _repeats_dropped(box, keep)
    kept = box[keep]
    if not len(kept):
        return c
    strong = c.strong
    if repeats:
        trigrams = kept[kept[:, 2] > 1]
        strong = _extent(trigrams) if len(trigrams) else []
    i0, i1, j0, j1 = _extent(kept)
    return _Cluster(i0, i1, j0, j1, c.anchors, strong)


def _extent(rows: np.ndarray) -> list[int]:
    """The tokens ``[i0, i1, j0, j1]`` that anchors ``rows`` (``(i, j, length)``) span."""
    return [
        int(rows[:, 0].min()),
        int((rows[:, 0] + rows[:, 2]).max()),
        int(rows[:, 1].min()),
        int((rows[:, 1] + rows[:, 2]).max()),
    ]


def _repeats_dropped(box: np.ndarray, keep: np.ndarray) -> bool:
    """Unflag (in ``keep``) the repeated phrases at the edges of a cluster that runs in step
    (anchors ``box``); whether any was.

    A phrase of a verbatim copy that its source also holds just before or after the copied
    passage (a name, "you and your family") pairs the copy's inside with that other place and
    chains onto the copy's cluster, stretching it over source text that was not copied. Such a
    group: the anchors at one edge of one side, up to the first gap of more than ``_EDGE_GAP``
    tokens (at most ``_EDGE_GROUP``, and a quarter of the cluster), all lying more than
    ``_EDGE_GAP`` tokens inside the rest's span on the other side. Only a cluster whose other
    anchors' word trigrams cover most of its tokens (``_IN_STEP_SHARE``) is read so: in an
    edited copy, words out of order at an edge are the edit, not a repeat."""
    dropped = False
    changed = True
    while changed:
        changed = False
        for side in (0, 1):
            other = 1 - side
            live = np.flatnonzero(keep)
            if len(live) < 4:
                return dropped
            limit = min(_EDGE_GROUP, len(live) // 4)
            for at_start in (True, False):
                # The live anchors from this edge inward, by their distance from it.
                pos = box[live, side] if at_start else -(box[live, side] + box[live, 2])
                order = np.lexsort((live, pos))
                seq, pos = live[order], pos[order]
                gaps = np.flatnonzero(np.diff(pos[: limit + 1]) > _EDGE_GAP)
                if not len(gaps):
                    continue
                group, rest = seq[: gaps[0] + 1], seq[gaps[0] + 1 :]
                # In step: word trigrams cover most of the rest's tokens (a trigram anchor spans 3).
                trigrams = box[rest][box[rest, 2] > 1]
                covered = np.unique((trigrams[:, 0][:, None] + np.arange(3)).ravel())
                span = int((box[rest, 0] + box[rest, 2]).max() - box[rest, 0].min())
                if len(covered) < _IN_STEP_SHARE * span:
                    continue
                if at_start:
                    inside = box[group, other] > box[rest, other].min() + _EDGE_GAP
                else:
                    inside = box[group, other] + box[group, 2] < (box[rest, other] + box[rest, 2]).max() - _EDGE_GAP
                if inside.all():
                    keep[group] = False
                    dropped = changed = True
                    break
            if changed:
                break
    return dropped


def _merge(clusters: list[_Cluster], max_gap: int) -> list[list[_Cluster]]:
    """Group clusters lying within ``max_gap`` tokens of each other on both sides, in any order.

    Order is not required on purpose: a copy whose sentences or paragraphs were shuffled is one
    reused block, not many small ones. The groups are connected components (union-find).
    """
    ordered = sorted(clusters, key=lambda c: c.i0)
    parent = list(range(len(ordered)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for k, c in enumerate(ordered):
        for m in range(k + 1, len(ordered)):
            d = ordered[m]
            if d.i0 - c.i1 > max_gap:
                break  # sorted by i0: no later cluster is closer
            if _gap(c.i0, c.i1, d.i0, d.i1) <= max_gap and _gap(c.j0, c.j1, d.j0, d.j1) <= max_gap:
                parent[root(m)] = root(k)
    groups: dict[int, list[_Cluster]] = defaultdict(list)
    for k, c in enumerate(ordered):
        groups[root(k)].append(c)
    return list(groups.values())


def _bounding(group: list[_Cluster]) -> _Cluster:
    """One cluster spanning every cluster of ``group`` on both sides."""
    strong: list[int] = []
    for c in group:
        strong = _union(strong, c.strong)
    return _Cluster(
        min(c.i0 for c in group),
        max(c.i1 for c in group),
        min(c.j0 for c in group),
        max(c.j1 for c in group),
        sum(c.anchors for c in group),
        strong,
    )


def _union(s: list[int], t: list[int]) -> list[int]:
    if not s or not t:
        return s or t
    return [min(s[0], t[0]), max(s[1], t[1]), min(s[2], t[2]), max(s[3], t[3])]


def _overlap(x0: int, x1: int, y0: int, y1: int) -> int:
    return max(0, min(x1, y1) - max(x0, y0))


def _shadowed_removed(seeds: list[_Cluster]) -> list[_Cluster]:
    """Drop seeds lying mostly inside the text of a much better supported seed, on either side.

    Such a seed pairs text already explained by the stronger one with some other place that
    happens to share a few words with it (a repeated name or phrase); merging it would stretch
    the stronger seed's match over text that was not copied.
    """
    kept: list[_Cluster] = []
    for c in sorted(seeds, key=lambda c: -c.anchors):
        if not any(
            k.anchors >= 2 * c.anchors
            and (
                _overlap(c.i0, c.i1, k.i0, k.i1) * 2 > c.i1 - c.i0 or _overlap(c.j0, c.j1, k.j0, k.j1) * 2 > c.j1 - c.j0
            )
            for k in kept
        ):
            kept.append(c)
    return kept


def _drop_overlaps(clusters: list[_Cluster]) -> list[_Cluster]:
    """Of clusters covering mostly the same text on both sides, keep the best supported one.

    Overlap on one side only is kept: a source passage reused twice in one document is two
    matches.
    """
    kept: list[_Cluster] = []
    for c in sorted(clusters, key=lambda c: -c.anchors):
        if not any(
            _overlap(c.i0, c.i1, k.i0, k.i1) * 2 > c.i1 - c.i0 and _overlap(c.j0, c.j1, k.j0, k.j1) * 2 > c.j1 - c.j0
            for k in kept
        ):
            kept.append(c)
    return sorted(kept, key=lambda c: (c.i0, c.j0))


def align(a: AlignInput, b: AlignInput, settings: Settings) -> list[Match]:
    """Every passage of ``a`` reused in ``b`` (and vice versa), aligned to character offsets.

    Returns matches in the order of side ``a``; empty when the two share no verified passage.
    The result does not depend on which document is ``a``: ``align(b, a)`` gives the same
    matches with their sides swapped.
    """
    if _orientation_key(b) < _orientation_key(a):
        # Chaining walks side a in order, so each pair is aligned in one canonical orientation.
        swapped = [
            Match(m.b, m.a, m.similarity, m.kind, m.b_tokens, m.a_tokens) for m in _align_oriented(b, a, settings)
        ]
        return sorted(swapped, key=lambda m: (m.a.start, m.b.start))
    return _align_oriented(a, b, settings)


def _orientation_key(x: AlignInput) -> tuple[int, bytes]:
    return len(x.token_hashes), x.token_hashes[:64].tobytes()


def _align_oriented(a: AlignInput, b: AlignInput, settings: Settings) -> list[Match]:
    anchors = _anchors(a, b)
    if not len(anchors):
        return []
    minimum = settings.min_match_tokens
    # Blocks as short as a verbatim match may be; other kinds are held to ``minimum`` below.
    floor = min(settings.min_verbatim_tokens, minimum)

    def valid(c: _Cluster) -> bool:
        return c.i1 - c.i0 >= floor and c.j1 - c.j0 >= floor and _content_dice(a, b, c) >= settings.min_similarity

    # A lone pair of content words is a coincidence as often as not; three, or a trigram, are not.
    seeds = _shadowed_removed([c for c in _clusters(anchors) if c.anchors >= 3 or (c.strong and c.anchors >= 2)])
    blocks: list[_Cluster] = []
    for group in _merge(seeds, settings.max_gap_tokens):
        block = _tightened(_bounding(group), anchors).trimmed()
        # A block that does not hold together keeps those of its parts that do.
        if valid(block):
            blocks.append(block)
            continue
        long_enough = [c for c in group if c.i1 - c.i0 >= floor and c.j1 - c.j0 >= floor]
        blocks.extend(c for c in (_tightened(c, anchors).trimmed() for c in long_enough) if valid(c))
    matches = []
    for c in _drop_overlaps(blocks):
        kind, similarity = _kind(a, b, c)
        shorter = min(c.i1 - c.i0, c.j1 - c.j0)
        if kind is not MatchKind.VERBATIM and shorter < minimum:
            # Ten words copied exactly are a copied line; ten words merely alike are as often
            # two texts on one topic: only a verbatim match counts below ``minimum``.
            continue
        if kind is MatchKind.EDITED and shorter < settings.min_edited_tokens:
            # A short span sharing only some words in order is as often two texts on one topic
            # as an edited copy: edited matches need ``min_edited_tokens`` (by default twice ``minimum``).
            continue
        matches.append(_match(a, b, c, kind, similarity))
    # The second stage: what the words in order missed, found sentence by sentence, at the
    # edited floor (``min_edited_tokens``, as an edited first-stage match).
    found = fragments(
        a.side,
        b.side,
        # Only word-for-word matches explain their text exactly; an edited one's bounds are loose.
        token_boxes(a, b, [m for m in matches if m.kind is not MatchKind.EDITED]),
        settings.min_edited_tokens,
    )
    rewrites = rewrites_joined(a, b, with_fragments(a, b, matches, found), settings.max_gap_tokens)
    return edges_to_sentences(a, b, summaries_joined(a, b, rewrites), floor)


def _match(a: AlignInput, b: AlignInput, c: _Cluster, kind: MatchKind, similarity: float) -> Match:
    """The match a cluster of tokens makes, at character offsets."""
    return Match(
        a=Span(int(a.starts[c.i0]), int(a.ends[c.i1 - 1])),
        b=Span(int(b.starts[c.j0]), int(b.ends[c.j1 - 1])),
        similarity=round(similarity, 4),
        kind=kind,
        a_tokens=c.i1 - c.i0,
        b_tokens=c.j1 - c.j0,
    )


def token_boxes(a: AlignInput, b: AlignInput, matches: list[Match]) -> list[tuple[int, int, int, int]]:
    """Each match's tokens ``(i0, i1, j0, j1)``, half-open, of ``a`` and ``b``."""
    boxes = []
    for m in matches:
        i0, j0 = int(np.searchsorted(a.starts, m.a.start)), int(np.searchsorted(b.starts, m.b.start))
        boxes.append((i0, i0 + m.a_tokens, j0, j0 + m.b_tokens))
    return boxes


def with_fragments(a: AlignInput, b: AlignInput, matches: list[Match], found: list[Fragment]) -> list[Match]:
    """The first stage's ``matches`` with the second stage's fragments (:mod:`reuse.engine.seeds`)
    merged in: a fragment and every match it overlaps on both sides become one match spanning
    them all, so one copy is one match; two fragments overlapping one match become one with it
    (else the copy would be reported twice, over nearly the same text); a fragment overlapping
    none is a match of its own.

    A merged match keeps the kind its token order gives when that is verbatim or near-verbatim;
    otherwise it is that of its best supported fragment (the most seeds, the first of equals):
    ``summary`` (found in summary mode) or ``rewritten``.
    """
    if not found:
        return matches
    boxes = token_boxes(a, b, matches)
    group = list(range(len(found)))  # each fragment's group: the least fragment linked to it

    def root(k: int) -> int:
        while group[k] != k:
            k = group[k]
        return k

    holder: list[int | None] = [None] * len(matches)  # the group of the first fragment a match joins
    for k, f in enumerate(found):
        for m, (i0, i1, j0, j1) in enumerate(boxes):
            if _overlap(f.i0, f.i1, i0, i1) and _overlap(f.j0, f.j1, j0, j1):
                first = holder[m]
                if first is None:
                    holder[m] = k
                else:
                    x, y = root(first), root(k)
                    group[max(x, y)] = min(x, y)
    members: dict[int, list[int]] = defaultdict(list)
    for k in range(len(found)):
        members[root(k)].append(k)
    merged: list[Match] = []
    for top, fragments_in in members.items():
        parts = [(found[k].i0, found[k].i1, found[k].j0, found[k].j1) for k in fragments_in]
        parts += [boxes[m] for m, held in enumerate(holder) if held is not None and root(held) == top]
        c = _Cluster(
            min(p[0] for p in parts),
            max(p[1] for p in parts),
            min(p[2] for p in parts),
            max(p[3] for p in parts),
            0,
            [],
        )
        kind, similarity = _kind(a, b, c)
        if kind is MatchKind.EDITED:
            kind = max((found[k] for k in fragments_in), key=lambda f: f.seeds).kind
        merged.append(_match(a, b, c, kind, similarity))
    kept = [m for m, held in zip(matches, holder, strict=True) if held is None]
    return sorted(kept + merged, key=lambda m: (m.a.start, m.b.start))


def rewrites_joined(a: AlignInput, b: AlignInput, matches: list[Match], max_gap: int) -> list[Match]:
    """``matches`` with a rewritten match and the next one, in the order of their tokens, joined
    when the next starts at most ``max_gap`` tokens after it ends on both sides: one copy the
    second stage found as two fragments because the text between them, reworded past
    recognition, failed the fragment's test on the whole (the first stage joins its hits as
    close as this). Joined matches join again with the next; summaries are left to
    :func:`summaries_joined`. A joined match keeps the kind its token order gives when that is
    verbatim or near-verbatim, else it is ``rewritten``."""
    if len(matches) < 2:
        return matches
    boxes = token_boxes(a, b, matches)
    out: list[tuple[tuple[int, int, int, int], Match]] = []
    for k in sorted(range(len(matches)), key=lambda k: boxes[k]):
        (i0, i1, j0, j1), m = boxes[k], matches[k]
        if out:
            (p0, p1, q0, q1), last = out[-1]
            kinds = {last.kind, m.kind}
            if (
                MatchKind.REWRITTEN in kinds
                and MatchKind.SUMMARY not in kinds
                and 0 <= i0 - p1 <= max_gap
                and 0 <= j0 - q1 <= max_gap
            ):
                c = _Cluster(p0, max(p1, i1), q0, max(q1, j1), 0, [])
                kind, similarity = _kind(a, b, c)
                if kind is MatchKind.EDITED:
                    kind = MatchKind.REWRITTEN
                out[-1] = ((c.i0, c.i1, c.j0, c.j1), _match(a, b, c, kind, similarity))
                continue
        out.append(((i0, i1, j0, j1), m))
    return sorted((m for _, m in out), key=lambda m: (m.a.start, m.b.start))


def _sentence_gap(starts: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> int:
    """Whole sentences between token ranges ``[x0, x1)`` and ``[y0, y1)`` (0 when they overlap
    or lie in neighbouring or the same sentences); ``starts`` are the sentences' first tokens."""
    if x1 <= y0:
        last, first = x1 - 1, y0
    elif y1 <= x0:
        last, first = y1 - 1, x0
    else:
        return 0
    between = int(np.searchsorted(starts, first, "right")) - int(np.searchsorted(starts, last, "right")) - 1
    return max(0, between)


def _parts_of_a_summary(a: AlignInput, b: AlignInput, p: list[int], q: list[int]) -> bool:
    """Whether the token boxes ``p`` and ``q`` are two parts of one summary: together as uneven
    as a summary (the shorter side at most ``SUMMARY_RATIO`` of the longer), apart on the
    shorter side (a summary's sentences say different things) by at most the ordinary gap of
    sentences, and on the longer by at most the summary's gap (see :mod:`reuse.engine.seeds`)."""
    la = max(p[1], q[1]) - min(p[0], q[0])
    lb = max(p[3], q[3]) - min(p[2], q[2])
    if min(la, lb) > SUMMARY_RATIO * max(la, lb):
        return False
    short, long = ((a, p[0:2], q[0:2]), (b, p[2:4], q[2:4])) if la < lb else ((b, p[2:4], q[2:4]), (a, p[0:2], q[0:2]))
    if _overlap(*short[1], *short[2]):
        return False
    return (
        _sentence_gap(short[0].sentences, *short[1], *short[2]) <= MAX_GAP_SENTENCES
        and _sentence_gap(long[0].sentences, *long[1], *long[2]) <= SUMMARY_GAP_SENTENCES
    )


def summaries_joined(a: AlignInput, b: AlignInput, matches: list[Match]) -> list[Match]:
    """``matches`` with the parts of one summary joined (:func:`_parts_of_a_summary`): a
    summary's sentences are found apart when some keep their source's words and others do not
    (a near-verbatim line next to a rewritten one), and each alone covers a little of the
    source it condenses. Two parts join into one ``summary`` match spanning both, again until
    none do (the first joinable pair in the order of side ``a`` each time); nothing is joined
    without the documents' sentences."""
    if len(matches) < 2 or not len(a.sentences) or not len(b.sentences):
        return matches
    boxes = [list(box) for box in token_boxes(a, b, matches)]
    kept: list[Match | None] = list(matches)  # None: joined, its match made again below
    joined = True
    while joined:
        joined = False
        for x in range(len(boxes)):
            for y in range(x + 1, len(boxes)):
                p, q = boxes[x], boxes[y]
                if _parts_of_a_summary(a, b, p, q):
                    boxes[x] = [min(p[0], q[0]), max(p[1], q[1]), min(p[2], q[2]), max(p[3], q[3])]
                    kept[x] = None
                    del boxes[y], kept[y]
                    joined = True
                    break
            if joined:
                break
    out = []
    for m, box in zip(kept, boxes, strict=True):
        if m is None:
            c = _Cluster(box[0], box[1], box[2], box[3], 0, [])
            # Never verbatim or near-verbatim: one side is at most a third of the other.
            _, similarity = _kind(a, b, c)
            m = _match(a, b, c, MatchKind.SUMMARY, similarity)
        out.append(m)
    return sorted(out, key=lambda m: (m.a.start, m.b.start))


def _sentence_of(starts: np.ndarray, tokens: int, t: int) -> tuple[int, int]:
    """The tokens ``[first, end)`` of the sentence holding token ``t`` (``starts``: the
    sentences' first tokens, sorted; ``tokens``: the document's count), kept inside the
    document whatever ``starts`` holds."""
    k = int(np.searchsorted(starts, t, "right"))
    first = int(starts[k - 1]) if k else 0
    end = int(starts[k]) if k < len(starts) else tokens
    return min(max(first, 0), tokens), min(max(end, 0), tokens)


def _edges_widened(
    starts: np.ndarray, tokens: int, ranges: list[tuple[int, int]], own: int, reach: int
) -> tuple[int, int]:
    """``ranges[own]`` (tokens ``[x0, x1)``) with each end moved to its sentence's bound when
    fewer than ``reach`` tokens of the sentence lie beyond it, and no other range of ``ranges``
    (this side's matches) lies between."""
    x0, x1 = ranges[own]
    others = [r for n, r in enumerate(ranges) if n != own]
    first, _ = _sentence_of(starts, tokens, x0)
    _, end = _sentence_of(starts, tokens, x1 - 1)
    if 0 < x0 - first < reach and not any(o0 < x0 and o1 > first for o0, o1 in others):
        x0 = first
    if 0 < end - x1 < reach and not any(o1 > x1 and o0 < end for o0, o1 in others):
        x1 = end
    return x0, x1


def edges_to_sentences(a: AlignInput, b: AlignInput, matches: list[Match], reach: int) -> list[Match]:
    """``matches`` with the ends of each edited, rewritten or summary match taken to the bound of
    its sentence, on each side, when fewer than ``reach`` tokens of the sentence (the verbatim
    floor: less than any match could show on its own) lie beyond the end and no other match
    does. A copy is made of whole sentences far more often than of all but their first or last
    few words, and the words an editor changes at a sentence's edge leave the alignment no anchor
    there, so an edited match stops a few words short of its sentence's bound. Verbatim and
    near-verbatim ends are where the words stop agreeing, and stay. Nothing changes without the
    documents' sentences; a widened match keeps its kind and is measured again."""
    if not matches or not len(a.sentences) or not len(b.sentences):
        return matches
    boxes = token_boxes(a, b, matches)
    on_a, on_b = [(i0, i1) for i0, i1, _, _ in boxes], [(j0, j1) for _, _, j0, j1 in boxes]
    out = []
    for k, m in enumerate(matches):
        if m.kind in (MatchKind.VERBATIM, MatchKind.NEAR_VERBATIM):
            out.append(m)
            continue
        w0, w1 = _edges_widened(a.sentences, len(a.token_hashes), on_a, k, reach)
        v0, v1 = _edges_widened(b.sentences, len(b.token_hashes), on_b, k, reach)
        if (w0, w1, v0, v1) == boxes[k]:
            out.append(m)
            continue
        c = _Cluster(w0, w1, v0, v1, 0, [])
        _, similarity = _kind(a, b, c)
        out.append(_match(a, b, c, m.kind, similarity))
    return out
