"""The second stage of alignment: edited, rewritten and summarised copies, found sentence by sentence.

Word trigrams and shared content words (:mod:`reuse.engine.align`) pin copies that keep their
wording; a copy whose words were substituted, whose sentences were reordered or which was
summarised keeps little of either, though each of its sentences still says what one of the
source's says. This stage follows the mechanism of the best PAN text-alignment systems (Sanchez-Perez,
Sidorov and Gelbukh 2014): it runs only on a pair of documents the first stage has already
verified (never on all pairs), and

1. cuts both documents into **sentences** (a sentence with fewer than
   :data:`MIN_SENTENCE_WORDS` content words joins the next one);
2. **seeds**: every pair of sentences, one of each document, sharing at least
   :data:`SEED_SHARED_WORDS` content words, whose content words' **stems** (their first
   :data:`~reuse.engine.shingles.STEM_CHARS` characters) agree by tf-isf cosine *and* by Dice
   above :data:`SEED_SIMILARITY`: a reworded sentence keeps its source's word stems more often
   than their endings ("convincingly" for "convincing", a plural for a singular);
3. **extends** seeds into fragments: seeds within :data:`MAX_GAP_SENTENCES` sentences of each
   other on both sides, in any order, are one fragment, as long as the two sides of the fragment
   stay similar (tf-isf cosine of all their words of at least :data:`FRAGMENT_SIMILARITY`);
   a fragment that does not hold together is regrouped with a smaller gap, and an edge
   sentence that only a sentence's second-best seed reaches, adding nothing to its best, is
   left out of the fragment (:func:`_trimmed_box`);
4. does the same in **summary** mode, where the gap on the longer side is
   :data:`SUMMARY_GAP_SENTENCES` (a summary keeps a few sentences of a long passage, far apart)
   and each sentence of the shorter side keeps only its best seed. A summary copies clauses of
   its source's sentences word for word, so a seed the first stage explains (see
   :func:`_explained_elsewhere`) still counts here. A summary fragment holds together when its short side
   agrees with the long side's seeded sentences (the text between them is what the summary
   left out, so it does not count against it); it is kept only when it is one (its shorter
   side at most :data:`SUMMARY_RATIO` of its longer side), and its long side is the whole
   document when both its start and its end are no further than the summary gap (a summary
   of a whole text condenses its lead and close as it condenses what lies between its seeds;
   a summary near one end of a long text says nothing of the rest); otherwise its long side
   spans at least :data:`SUMMARY_SPAN_SHARE` of its document, or it is no summary;
5. **filters**: a fragment needs :data:`MIN_SEEDS` seeds and the edited floor of tokens
   (``Settings.min_edited_tokens``) on both sides, or, when its two sides agree strongly (tf-isf
   cosine of all their words of at least :data:`STRONG_SIMILARITY`), :data:`MIN_STRONG_SEEDS`
   seeds and :data:`STRONG_FLOOR_SHARE` of that floor: less evidence must agree more, as the
   first stage lets a verbatim copy count at fewer tokens than an edited one. Overlapping
   fragments keep the best supported (the ordinary reading before a summary of as many seeds);
6. **merges** each fragment with the first stage's matches it overlaps on both sides, so one
   copy is one match (granularity near 1).

Negatives stay clean because a seed needs both measures above a third and two shared content
words, a fragment three seeds and a cosine above a third over its whole text (or two and half
of it), and the pair must
already hold a verified passage pair: two texts on one topic share words, but seldom whole
sentences' worth, twice, close together.

:func:`second_stage` is the Python reference; the native engine computes the same inside its
alignment (``reuse/engine/native/src/seeds.rs``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import regex

from reuse.models import MatchKind

__all__ = [
    "FRAGMENT_SIMILARITY",
    "MAX_GAP_SENTENCES",
    "MAX_SEEDS_PER_SENTENCE",
    "MIN_SEEDS",
    "MIN_SENTENCE_WORDS",
    "MIN_STRONG_SEEDS",
    "SEED_SHARED_WORDS",
    "SEED_SIMILARITY",
    "STRONG_FLOOR_SHARE",
    "STRONG_SIMILARITY",
    "SUMMARY_GAP_SENTENCES",
    "SUMMARY_RATIO",
    "SUMMARY_SPAN_SHARE",
    "Fragment",
    "Side",
    "fragments",
    "sentence_starts",
]

#: A sentence with fewer content words than this is joined to the next one: a heading or a
#: three-word sentence says too little to be matched on its own (Sanchez-Perez et al. join
#: sentences under three words).
MIN_SENTENCE_WORDS = 3
#: A seed's two sentences agree by tf-isf cosine and by Dice of their content words above this:
#: a third of what each says, the threshold of Sanchez-Perez et al. for both measures.
SEED_SIMILARITY = 0.33
#: A seed shares at least this many content words: one word in common between two short
#: sentences is a topic, not a copy.
SEED_SHARED_WORDS = 2
#: Seeds this many sentences apart or closer (on both sides) extend into one fragment
#: (Sanchez-Perez et al.'s maxgap for copies that keep their length).
MAX_GAP_SENTENCES = 4
#: In summary mode the gap allowed on the longer side: a summary keeps one sentence of every
#: few of its source (Sanchez-Perez et al.'s summary maxgap).
SUMMARY_GAP_SENTENCES = 24
#: A summary fragment's shorter side is at most this share of its longer side: anything closer
#: in length is an edited copy, found by the ordinary gap.
SUMMARY_RATIO = 1 / 3
#: A summary fragment whose long side does not reach within :data:`SUMMARY_GAP_SENTENCES` of
#: both ends of its document spans at least this share of the document's sentences. A summary
#: condenses a text; three sentences of a short text pairing with sentences a few apart in one
#: corner of a long document on its topic are a copy of something else read as a summary (with
#: the pairs given, PAN13 training, the rule drops 28 of the 46 summary matches outside 05 and
#: 2 of 05's 122; of the characters outside every case, 02's summary matches held 35,000 and
#: now 14,000, 03's 36,000 and now 20,000). A quarter: 02 0.9671 → 0.9692, 03 0.9077 → 0.9108,
#: 04 0.9019 → 0.9047, 05 0.6440 → 0.6432; a fifth to a third give 03 the same, a tenth
#: 0.9093, a half 05 0.6284.
SUMMARY_SPAN_SHARE = Fraction(1, 4)
#: A fragment's two sides, all their words, agree by tf-isf cosine at least this much; past it
#: the extension bridged text that was not copied (Sanchez-Perez et al.'s validation threshold).
FRAGMENT_SIMILARITY = 0.34
#: A sentence seeding with more sentences of the other side than this is ambiguous (a line of a
#: page's template repeated under every post, a list of near-equal items): none of its seeds is
#: used. A summary sentence condenses two or three of its source's, so three are allowed, as the
#: first stage allows a content word three occurrences.
MAX_SEEDS_PER_SENTENCE = 3
#: A fragment holds at least this many seeds. One similar sentence pair is as often two texts
#: on one topic as a copy, and two in a row are what two accounts of one fact share (a name, a
#: date, a place: two encyclopaedic texts on one fruit both say who planted it first and when);
#: three sentences in a row saying what three of another text say are taken from it.
MIN_SEEDS = 3
#: A fragment whose two sides agree strongly (all their words, tf-isf cosine at least
#: :data:`STRONG_SIMILARITY`) needs this many seeds and :data:`STRONG_FLOOR_SHARE` of the edited
#: floor of tokens. A copy cut short keeps two or three of its source's sentences, often under
#: the floor on its shortened side (PAN13's randomly obfuscated copies lose words as well as
#: change them); what two accounts of one fact share agrees on the fact's words, not on half of
#: everything the two passages say. With the pairs given, PAN13 training: 03 0.9028 → 0.9077,
#: 04 0.9001 → 0.9019, 05 0.6425 → 0.6440, 02 0.9679 → 0.9671, no more detections in 01; a
#: cosine of 0.4 instead: 03 0.9097 but one more false alarm in 01.
MIN_STRONG_SEEDS = 2
#: See :data:`MIN_STRONG_SEEDS`: half of what the two sides say, against a third for the others.
STRONG_SIMILARITY = 0.5
#: See :data:`MIN_STRONG_SEEDS`: the share of the edited floor a strongly agreeing fragment's
#: shorter side needs (16 tokens of the default 24; a half, 12, let two more false alarms in 01).
STRONG_FLOOR_SHARE = Fraction(2, 3)

# Characters ending a sentence (or a line: a heading or a list item ends without a stop): every
# character Unicode gives the Sentence_Terminal property (UAX #29), so that the full stops of
# other scripts end sentences as "." does: the Urdu "\u06d4", the Arabic question mark, the
# Devanagari danda "\u0964", the Armenian, Ethiopic, Myanmar and Khmer stops, CJK "\u3002". A text
# cut at none of them would be one sentence a line, and a rewrite of it out of the second
# stage's reach.
_SENTENCE_END = regex.compile(r"[\p{Sentence_Terminal}\n]")


def sentence_starts(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The token positions where the sentences of ``text`` start (int64, 0 first when there is
    a token): each token with a sentence stop or a line break between it and the token before.
    The native analysis finds them (``Analysis.sentences``); this is its reference, the tests'
    oracle."""
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    stops = np.fromiter((m.start() for m in _SENTENCE_END.finditer(text)), dtype=np.int64)
    after = np.searchsorted(starts, stops, side="right")  # the first token starting after each stop
    inside = after < len(starts)
    after, stops = after[inside], stops[inside]
    # A stop inside a token (a decimal point kept in a number) starts nothing.
    gap = (after == 0) | (ends[np.maximum(after - 1, 0)] <= stops)
    return np.unique(np.concatenate([np.zeros(1, dtype=np.int64), after[gap].astype(np.int64)]))


@dataclass(frozen=True)
class Fragment:
    """Tokens ``[i0, i1)`` of side a aligned to ``[j0, j1)`` of side b, from ``seeds`` sentence pairs."""

    i0: int
    i1: int
    j0: int
    j1: int
    seeds: int
    summary: bool

    @property
    def kind(self) -> MatchKind:
        """How the fragment was found: a summary, or a rewrite."""
        return MatchKind.SUMMARY if self.summary else MatchKind.REWRITTEN


@dataclass(frozen=True)
class Side:
    """What the second stage reads of one document: per token its hash, its stem's hash
    (:func:`reuse.engine.shingles.stem_hashes`) and whether it is a content word, and the tokens
    where its sentences start (:func:`sentence_starts`)."""

    hashes: np.ndarray
    stems: np.ndarray
    content: np.ndarray
    sentences: np.ndarray


@dataclass(frozen=True)
class _Sentences:
    """One document's sentences: token bounds, and the counts of their content words and of
    those words' stems."""

    bounds: list[tuple[int, int]]
    words: list[Counter[int]]
    stems: list[Counter[int]]


def _sentences(side: Side) -> _Sentences:
    """Sentences from their start positions, short ones joined to the next (the last one to the
    one before it)."""
    hashes, stems, content = side.hashes, side.stems, side.content
    n = len(hashes)
    cuts = [int(s) for s in side.sentences.tolist() if 0 <= s < n]
    bounds: list[tuple[int, int]] = []
    words: list[Counter[int]] = []
    stemmed: list[Counter[int]] = []
    open_start = -1
    bag: Counter[int] = Counter()
    stem_bag: Counter[int] = Counter()
    for k, s in enumerate(cuts):
        e = cuts[k + 1] if k + 1 < len(cuts) else n
        if e <= s:
            continue
        if open_start < 0:
            open_start = s
        bag.update(hashes[s:e][content[s:e]].tolist())
        stem_bag.update(stems[s:e][content[s:e]].tolist())
        if sum(bag.values()) >= MIN_SENTENCE_WORDS:
            bounds.append((open_start, e))
            words.append(bag)
            stemmed.append(stem_bag)
            open_start, bag, stem_bag = -1, Counter(), Counter()
    if open_start >= 0 and (bag or not bounds):
        if bounds and sum(bag.values()) < MIN_SENTENCE_WORDS:
            s0, _ = bounds[-1]
            bounds[-1] = (s0, n)
            words[-1] = words[-1] + bag
            stemmed[-1] = stemmed[-1] + stem_bag
        elif bag:
            bounds.append((open_start, n))
            words.append(bag)
            stemmed.append(stem_bag)
    return _Sentences(bounds, words, stemmed)


def _cosine(x: Counter[int], y: Counter[int], weight: dict[int, float]) -> float:
    """Cosine of two bags of words weighted tf times isf, summed in the order of the hashes."""
    dot = sum(x[w] * y[w] * weight[w] * weight[w] for w in sorted(x.keys() & y.keys()))
    if dot == 0:
        return 0.0
    nx = sum((c * weight[w]) ** 2 for w, c in sorted(x.items()))
    ny = sum((c * weight[w]) ** 2 for w, c in sorted(y.items()))
    return dot / math.sqrt(nx * ny)


def _dice(x: Counter[int], y: Counter[int]) -> float:
    """Dice of two bags' distinct words."""
    return 2 * len(x.keys() & y.keys()) / (len(x) + len(y))


def _seeds(sa: _Sentences, sb: _Sentences, stem_weight: dict[int, float]) -> list[tuple[int, int]]:
    """Every sentence pair ``(k of a, l of b)`` similar enough to be a seed, sorted: sharing
    enough words, their stems alike (weighted by ``stem_weight``).

    The shared words are counted exactly, not by stem: with shared stems counted, more
    sentences of two texts on one topic seeded (PAN13 with the pairs given: 02 and 03 lost 0.001
    to 0.002 of precision for nothing found more)."""
    holders: dict[int, list[int]] = defaultdict(list)
    for m, bag in enumerate(sb.words):
        for w in bag:
            holders[w].append(m)
    seeds = []
    for k, bag in enumerate(sa.words):
        shared: Counter[int] = Counter()
        for w in bag:
            shared.update(holders.get(w, ()))
        for m, count in sorted(shared.items()):
            if count < SEED_SHARED_WORDS:
                continue
            x, y = sa.stems[k], sb.stems[m]
            if _dice(x, y) > SEED_SIMILARITY and _cosine(x, y, stem_weight) > SEED_SIMILARITY:
                seeds.append((k, m))
    per_a = Counter(k for k, _ in seeds)
    per_b = Counter(m for _, m in seeds)
    return [(k, m) for k, m in seeds if per_a[k] <= MAX_SEEDS_PER_SENTENCE and per_b[m] <= MAX_SEEDS_PER_SENTENCE]


def _groups(seeds: list[tuple[int, int]], gap_a: int, gap_b: int) -> list[list[tuple[int, int]]]:
    """Seeds within ``gap_a`` sentences on side a and ``gap_b`` on side b of each other, chained
    in any order (connected components), each group sorted, groups by their first seed."""
    parent = list(range(len(seeds)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    order = sorted(range(len(seeds)), key=lambda k: seeds[k])
    for x, k in enumerate(order):
        for m in order[x + 1 :]:
            if seeds[m][0] - seeds[k][0] > gap_a + 1:
                break
            if abs(seeds[m][1] - seeds[k][1]) <= gap_b + 1:
                a, b = root(k), root(m)
                parent[max(a, b)] = min(a, b)
    grouped: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for k in order:
        grouped[root(k)].append(seeds[k])
    return sorted(grouped.values())


@dataclass(frozen=True)
class _Box:
    """A group of seeds' sentence ranges ``[k0, k1]`` of a and ``[l0, l1]`` of b (inclusive)."""

    k0: int
    k1: int
    l0: int
    l1: int
    seeds: int


def _box(group: list[tuple[int, int]]) -> _Box:
    ks = [k for k, _ in group]
    ms = [m for _, m in group]
    return _Box(min(ks), max(ks), min(ms), max(ms), len(group))


def _bag(s: _Sentences, sentences: Iterable[int]) -> Counter[int]:
    """The words of ``sentences`` (each once) of ``s``."""
    total: Counter[int] = Counter()
    for k in sentences:
        total.update(s.words[k])
    return total


def _holds(
    group: list[tuple[int, int]], box: _Box, sa: _Sentences, sb: _Sentences, weight: dict[int, float], short: int | None
) -> bool:
    """Whether a group's two sides agree: all their words, or in summary mode (``short`` the
    summary's side, 0 for a, 1 for b) the summary's words and its source's seeded sentences."""
    bag_a = _bag(sa, {k for k, _ in group} if short == 1 else range(box.k0, box.k1 + 1))
    bag_b = _bag(sb, {m for _, m in group} if short == 0 else range(box.l0, box.l1 + 1))
    return _cosine(bag_a, bag_b, weight) >= FRAGMENT_SIMILARITY


def _extend(
    seeds: list[tuple[int, int]],
    gaps: tuple[int, int],
    sa: _Sentences,
    sb: _Sentences,
    weight: dict[int, float],
    short: int | None,
    score: dict[tuple[int, int], float],
) -> list[_Box]:
    """Seeds grouped with ``gaps`` into boxes whose two sides agree (:func:`_holds`); a group
    that does not is regrouped with both gaps one smaller, down to single seeds. An ordinary
    group's box leaves out its redundant edges (:func:`_trimmed_box`); ``score`` holds each
    seed's cosine of stems."""
    boxes = []
    for group in _groups(seeds, *gaps):
        box = _box(group) if short is not None else _trimmed_box(group, score, sa, sb)
        if len(group) == 1 or _holds(group, box, sa, sb, weight, short):
            boxes.append(box)
        elif max(gaps) > 0:
            boxes.extend(_extend(group, (max(gaps[0] - 1, 0), max(gaps[1] - 1, 0)), sa, sb, weight, short, score))
        else:
            boxes.extend(_box([seed]) for seed in group)
    return boxes


def _trimmed_box(
    group: list[tuple[int, int]], score: dict[tuple[int, int], float], sa: _Sentences, sb: _Sentences
) -> _Box:
    """The box of an ordinary group without its redundant edges, its seeds all counted.

    A reworded sentence seeds with its source sentence and, through the words of their topic,
    often with a neighbour of it too ("pour the rest of the water into the pan" and "pour half
    of the water and cover the pan"). Inside a copy that costs nothing; at its edge the
    neighbour stretches the match over text that was not copied. So an edge sentence is left
    out of the box when each of its seeds is its other sentence's second choice in the group
    and shares with that sentence fewer than :data:`SEED_SHARED_WORDS` stems the best choice's
    sentence does not hold: it explains nothing the best one does not. A sentence of the
    source merged with its neighbour by the copy shares the words of its own half, and stays.
    Edges are dropped until none is."""
    kept = list(group)
    while len(kept) > 1:
        best_a, best_b = _best_seeds(kept, score, 0), _best_seeds(kept, score, 1)
        box = _box(kept)
        dropped: set[tuple[int, int]] = set()
        # Side b's edge sentences, each seed's other sentence on a; then a's.
        for side, edges, best, own, others in (
            (1, {box.l0, box.l1}, best_a, sa.stems, sb.stems),
            (0, {box.k0, box.k1}, best_b, sb.stems, sa.stems),
        ):
            for edge in edges:
                at = [s for s in kept if s[side] == edge]
                if all(_adds_nothing(s, best[s[1 - side]], own[s[1 - side]], others, side) for s in at):
                    dropped.update(at)
        if not dropped or len(dropped) == len(kept):
            break
        kept = [s for s in kept if s not in dropped]
    trimmed = _box(kept)
    return _Box(trimmed.k0, trimmed.k1, trimmed.l0, trimmed.l1, len(group))


def _best_seeds(
    seeds: list[tuple[int, int]], score: dict[tuple[int, int], float], side: int
) -> dict[int, tuple[int, int]]:
    """Each sentence of ``side`` (0 for a, 1 for b) with its best seed among ``seeds``: the
    highest ``score``, the first of equals."""
    best: dict[int, tuple[int, int]] = {}
    for seed in seeds:
        if seed[side] not in best or score[seed] > score[best[seed[side]]]:
            best[seed[side]] = seed
    return best


def _adds_nothing(
    seed: tuple[int, int], best: tuple[int, int], own: Counter[int], others: list[Counter[int]], side: int
) -> bool:
    """Whether ``seed`` is not ``best`` (the best seed of its sentence whose stems are ``own``)
    and its sentence on ``side`` shares fewer than :data:`SEED_SHARED_WORDS` of ``own`` that
    ``best``'s sentence on that side (both in ``others``) does not hold."""
    if seed == best:
        return False
    new = (own.keys() & others[seed[side]].keys()) - others[best[side]].keys()
    return len(new) < SEED_SHARED_WORDS


def _pulled_in(side: Side, start: int, end: int, other: Counter[int]) -> tuple[int, int]:
    """Tokens ``[start, end)`` cut to the first and last content word the other side holds: a
    copy that starts or ends inside a sentence takes the sentence's shared words, not all of it."""
    shared = [k for k in range(start, end) if side.content[k] and int(side.hashes[k]) in other]
    return (shared[0], shared[-1] + 1) if shared else (start, end)


def _overlap(x0: int, x1: int, y0: int, y1: int) -> int:
    return max(0, min(x1, y1) - max(x0, y0))


def fragments(a: Side, b: Side, aligned: list[tuple[int, int, int, int]], min_tokens: int) -> list[Fragment]:
    """The fragments of ``a`` and ``b`` that say the same sentence by sentence (see the module),
    each at least ``min_tokens`` tokens on both sides, sorted by their tokens of side a.

    ``aligned`` holds the first stage's verbatim and near-verbatim matches as token ranges
    ``(i0, i1, j0, j1)``: a seed
    pairing text one of them explains with text outside its other side is not used (see
    :func:`_explained_elsewhere`)."""
    if not len(a.sentences) or not len(b.sentences):
        return []
    sa, sb = _sentences(a), _sentences(b)
    if not sa.bounds or not sb.bounds:
        return []
    weight, stem_weight = _isf(sa.words + sb.words), _isf(sa.stems + sb.stems)
    found = _seeds(sa, sb, stem_weight)
    if len(found) < MIN_STRONG_SEEDS:
        return []
    seeds = [s for s in found if not _explained_elsewhere(s, sa, sb, aligned)]
    score = {s: _cosine(sa.stems[s[0]], sb.stems[s[1]], stem_weight) for s in found}
    candidates: list[Fragment] = []
    for short, gaps, used in _modes(seeds, found, score):
        for box in _extend(used, gaps, sa, sb, weight, short, score):
            bag_a, bag_b = _bag(sa, range(box.k0, box.k1 + 1)), _bag(sb, range(box.l0, box.l1 + 1))
            i0, i1 = _pulled_in(a, sa.bounds[box.k0][0], sa.bounds[box.k1][1], bag_b)
            j0, j1 = _pulled_in(b, sb.bounds[box.l0][0], sb.bounds[box.l1][1], bag_a)
            lo, hi = sorted((i1 - i0, j1 - j0))
            if short is None:
                if not _enough(box.seeds, lo, min_tokens, _cosine(bag_a, bag_b, weight)):
                    continue
            else:
                if box.seeds < MIN_SEEDS or lo < min_tokens or lo > SUMMARY_RATIO * hi:
                    continue
                # The long side: the whole document when both its ends are within the summary
                # gap, else where its seeds are if they span enough of the document.
                first, last, bounds = (box.k0, box.k1, sa.bounds) if short == 1 else (box.l0, box.l1, sb.bounds)
                if max(first, len(bounds) - 1 - last) <= SUMMARY_GAP_SENTENCES:
                    whole = bounds[0][0], bounds[-1][1]
                    if short == 1:
                        i0, i1 = whole
                    else:
                        j0, j1 = whole
                elif last - first + 1 < SUMMARY_SPAN_SHARE * len(bounds):
                    continue
            candidates.append(Fragment(i0, i1, j0, j1, box.seeds, short is not None))
    kept: list[Fragment] = []
    # Best supported first; a summary loses ties to the ordinary reading of the same text.
    for f in sorted(candidates, key=lambda f: (-f.seeds, f.summary, f.i0, f.j0)):
        if not any(_overlap(f.i0, f.i1, k.i0, k.i1) > 0 and _overlap(f.j0, f.j1, k.j0, k.j1) > 0 for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: (f.i0, f.j0))


def _enough(seeds: int, shorter: int, min_tokens: int, similarity: float) -> bool:
    """Whether an ordinary fragment of ``seeds`` seeds whose shorter side has ``shorter`` tokens
    is evidence enough: :data:`MIN_SEEDS` and ``min_tokens``, or :data:`MIN_STRONG_SEEDS`, the
    strong floor and a ``similarity`` (the two sides' cosine) of at least
    :data:`STRONG_SIMILARITY`."""
    if seeds >= MIN_SEEDS and shorter >= min_tokens:
        return True
    strong_floor = math.ceil(STRONG_FLOOR_SHARE * min_tokens)
    return seeds >= MIN_STRONG_SEEDS and shorter >= strong_floor and similarity >= STRONG_SIMILARITY


def _isf(bags: list[Counter[int]]) -> dict[int, float]:
    """Each word's inverse sentence frequency over ``bags`` (the sentences of both sides)."""
    df: Counter[int] = Counter()
    for bag in bags:
        df.update(bag.keys())
    return {w: math.log(len(bags) / count) for w, count in df.items()}


def _explained_elsewhere(
    seed: tuple[int, int], sa: _Sentences, sb: _Sentences, aligned: list[tuple[int, int, int, int]]
) -> bool:
    """Whether a first-stage match holds most of one of the seed's sentences but not most of the
    other: the sentence was already aligned, to other text, by its words in order, and pairing
    it again with a neighbour on the same topic would stretch the match over text not copied."""
    (x0, x1), (y0, y1) = sa.bounds[seed[0]], sb.bounds[seed[1]]
    for i0, i1, j0, j1 in aligned:
        in_a, in_b = _overlap(x0, x1, i0, i1), _overlap(y0, y1, j0, j1)
        if (2 * in_a > x1 - x0) != (2 * in_b > y1 - y0):
            return True
    return False


def _modes(
    seeds: list[tuple[int, int]], found: list[tuple[int, int]], score: dict[tuple[int, int], float]
) -> list[tuple[int | None, tuple[int, int], list[tuple[int, int]]]]:
    """Each mode as (the summary's side or None, gaps, seeds): the ordinary gaps with ``seeds``;
    then the summary gaps, the long gap on the side whose seeds (all those ``found``, explained
    elsewhere or not) spread over more sentences (a summary's source is the longer side), with
    each sentence of the short side keeping only its best seed (highest ``score``, the cosine of
    their stems, the first of equals).

    A summary sentence says what one of its source's says, however many others share its topic:
    its second-best pairings are that topic, and a long gap would chain them over text never
    summarised."""
    spread_a = max(k for k, _ in found) - min(k for k, _ in found)
    spread_b = max(m for _, m in found) - min(m for _, m in found)
    short = 1 if spread_a >= spread_b else 0
    summary = sorted(_best_seeds(found, score, short).values())
    wide, narrow = SUMMARY_GAP_SENTENCES, MAX_GAP_SENTENCES
    gaps = (wide, narrow) if short == 1 else (narrow, wide)
    return [(None, (MAX_GAP_SENTENCES, MAX_GAP_SENTENCES), seeds), (short, gaps, summary)]
