"""Key families beside the MinHash bands: more ways for an edited or short copy to meet its source.

The main family (:mod:`reuse.engine.lsh`) bands each passage's word-pair signature, 64 bands of
3 rows tuned for Jaccard 0.3. Three copies it misses, and why:

* **A short exact copy inside a longer passage.** Ten copied words in a window of 40 share 9 of
  its 39 word pairs: Jaccard about 0.13, where a band of 3 rows agrees with probability 0.002
  and 64 of them find the pair about one time in nine. **Anchors** find it whatever surrounds
  it: every word ``anchor_words``-gram is hashed and winnowed (Schleimer, Wilkerson and Aiken
  2003: of each run of ``anchor_tokens - anchor_words + 1`` consecutive ``k``-grams the least
  hash is kept), so two texts sharing ``anchor_tokens`` consecutive words keep one equal
  anchor, by construction rather than by chance. An anchor is filed under the shortest passage
  holding its ``k``-gram (a window, or a short paragraph), so the passage pair it proposes holds
  the copy whole and passes the exact verification (9 of 39 word pairs is containment 0.23,
  above ``verify_containment``). Scripts without spaces get none (a ``k``-gram holding one of
  their characters is skipped): their character trigrams are short already.
* **A copy with words replaced.** Replacing a share ``q`` of the words keeps ``(1 - q)^2`` of the
  word pairs (Jaccard ``s / (2 - s)`` with ``s = (1 - q)^2``: 0.29 for ``q = 1/3``), where the
  main family's 64 bands of 3 rows miss a pair with probability ``(1 - 0.29^3)^64``, 0.21.
  Unrelated passages share word pairs too: "of the", "in a", the stop-word pairs, about
  Jaccard 0.05 between unrelated windows, which is why the main family needs 3 rows a band.
  **Content bands** are a second, independent chance: they sign only the passage's content-word
  pairs (two consecutive words of ``content_chars`` characters or more once the shorter ones
  are dropped: language independent, since function words are short in the languages written
  with spaces, and an inserted or dropped function word, common in edits, breaks no content
  pair) and band them with 2 rows: unrelated passages share almost no content-word pair, so a
  band of 2 rows stays quiet on them (the chance grows with the square of their Jaccard),
  while the copy above escapes 32 bands of 2 rows with probability ``(1 - 0.29^2)^32``, 0.06:
  both families miss it about one time in eighty. The content signature takes the first
  ``content_bands * content_rows`` permutations of the main one (it is datasketch's
  ``MinHash(num_perm, seed)`` of the content-word pairs, cut to those values); its bands are
  numbered from :data:`CONTENT_FIRST_BAND`, past any main band, so no key of one family equals
  a key of the other.
* **A copy with its words replaced and moved.** A translated or paraphrased sentence keeps many
  of its source's content words but puts them in another order, and pairs of consecutive words
  do not survive that: both families above see little of it. **Word bands** sign the *set* of a
  passage's content words (of ``content_chars`` characters or more, order and repeats aside),
  with more rows a band: two passages on one topic share content words too (Jaccard about 0.1,
  above 0.2 for one pair in ten of PAN13's same-topic documents), so with ``word_rows`` 4 the
  32 bands meet them with probability 0.003 (0.05 at 0.2), while replacing a third of a
  passage's content words leaves Jaccard 0.5, found with probability 0.87 (0.32 at Jaccard
  0.33, the median of PAN13's translated copies that the other families missed). A passage
  needs :data:`MIN_WORDS` distinct content words. The signature takes the first ``word_bands *
  word_rows`` permutations of the main one (datasketch's ``MinHash`` of the content words,
  cut), and its bands are numbered from :data:`WORD_FIRST_BAND`.

All families are rows of the one ``band_keys`` table, looked up, capped (``max_key_versions``)
and filtered (``candidate_filter``: the pair's main signatures must allow the verification bar)
as the main family's are. The native engine computes them (:func:`family_keys_many`); the
functions here are its reference, the tests' oracle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.lsh import band_keys_from
from reuse.engine.shingles import shingle_hashes
from reuse.engine.signatures import MinHasher

__all__ = [
    "ANCHOR_SALT",
    "CONTENT_FIRST_BAND",
    "MIN_CONTENT_SHINGLES",
    "MIN_WORDS",
    "WORD_FIRST_BAND",
    "anchor_keys",
    "banded_keys",
    "family_keys",
    "family_keys_many",
    "winnowed",
]

#: The first band number of the content family (the main family's bands are ``0 .. num_perm``).
CONTENT_FIRST_BAND = 1 << 16
#: Mixed into a ``k``-gram's hash to make its anchor key, so that no anchor equals a band key.
ANCHOR_SALT = 0x5EEDA9C40F2B7D13
#: A content signature needs at least this many content-word pairs: fewer are a stock phrase.
MIN_CONTENT_SHINGLES = 4
#: The first band number of the word family (past any content band).
WORD_FIRST_BAND = 2 << 16
#: A word signature needs at least this many distinct content words: fewer say too little.
MIN_WORDS = 8

_MASK64 = (1 << 64) - 1
_P = 0x9E3779B97F4A7C15
_EMPTY = (np.zeros(0, np.uint64), np.zeros(0, np.int64))


def _fmix64(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def winnowed(hashes: Sequence[int | None], w: int) -> list[tuple[int, int]]:
    """``(position, hash)`` of the least hash (the rightmost of equals, ``None`` never) of each
    run of ``w`` consecutive hashes, each position once, in order; none when fewer than ``w``."""
    out: list[tuple[int, int]] = []
    for start in range(len(hashes) - w + 1 if w > 0 else 0):
        best: tuple[int, int] | None = None
        for i in range(start, start + w):
            h = hashes[i]
            if h is not None and (best is None or h <= best[1]):
                best = (i, h)
        if best is not None and (not out or out[-1][0] < best[0]):
            out.append(best)
    return out


def anchor_keys(
    tokens: np.ndarray, unspaced: np.ndarray, passages: Sequence[tuple[int, int]], settings: Settings
) -> tuple[np.ndarray, np.ndarray]:
    """The anchor keys of a document (its token hashes and unspaced flags, its passages'
    ``(token_start, token_end)`` in position order) and the passage position of each."""
    k, span, window = settings.anchor_words, settings.anchor_tokens, settings.window_tokens
    if not k or not passages:
        return _EMPTY
    hashes: list[int | None] = []
    values = [int(t) for t in tokens]
    for i in range(len(values) - k + 1):
        if any(bool(u) for u in unspaced[i : i + k]):
            hashes.append(None)
            continue
        h = values[i]
        for t in values[i + 1 : i + k]:
            h = (h * _P + t) & _MASK64
        hashes.append(_fmix64(h ^ ANCHOR_SALT))
    keys, owners = [], []
    for p, h in winnowed(hashes, span - k + 1):
        holding = [j for j, (s, e) in enumerate(passages) if s <= p and e >= p + k]
        short = [j for j in holding if passages[j][1] - passages[j][0] <= window]
        # The shortest holder, then the one centred nearest the k-gram, then the first.
        ranked = sorted(
            short or holding, key=lambda j: (passages[j][1] - passages[j][0], abs(sum(passages[j]) - 2 * p - k), j)
        )
        if ranked:
            keys.append(h)
            owners.append(ranked[0])
    return np.array(keys, np.uint64), np.array(owners, np.int64)


def banded_keys(
    tokens: np.ndarray,
    unspaced: np.ndarray,
    lengths: np.ndarray,
    passages: Sequence[tuple[int, int]],
    settings: Settings,
    hasher: MinHasher,
    *,
    words: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The content-band keys of a document (``settings.content_band_count`` per passage with at
    least :data:`MIN_CONTENT_SHINGLES` content-word pairs) or, with ``words``, its word-band keys
    (``settings.word_band_count`` per passage with at least :data:`MIN_WORDS` distinct content
    words), and the passage position of each."""
    if words:
        bands, rows, first = settings.word_band_count, settings.word_rows, WORD_FIRST_BAND
    else:
        bands, rows, first = settings.content_band_count, settings.content_rows, CONTENT_FIRST_BAND
    if not settings.content_chars or not bands:
        return _EMPTY
    before, content = _content_words(tokens, unspaced, lengths, settings.content_chars)
    if words:
        shingles = shingle_hashes(content, 1)
        spans = [(int(before[s]), int(before[e]), j) for j, (s, e) in enumerate(passages)]
        spans = [x for x in spans if len(np.unique(shingles[x[0] : x[1]])) >= MIN_WORDS]
    else:
        shingles = shingle_hashes(content, 2)
        spans = [(int(before[s]), int(before[e]) - 1, j) for j, (s, e) in enumerate(passages)]
        spans = [x for x in spans if x[1] - x[0] >= MIN_CONTENT_SHINGLES]
    return _signed_bands(shingles, spans, bands, rows, first, hasher)


def _content_words(
    tokens: np.ndarray, unspaced: np.ndarray, lengths: np.ndarray, content_chars: int
) -> tuple[np.ndarray, np.ndarray]:
    """How many content words come before each token (and in all, last), and the content words'
    token hashes: words, not characters of a script without spaces, of ``content_chars`` or more."""
    is_content = ~np.asarray(unspaced, bool) & (np.asarray(lengths) >= content_chars)
    return np.concatenate(([0], np.cumsum(is_content))), np.asarray(tokens, np.uint64)[is_content]


def _signed_bands(
    shingles: np.ndarray, spans: list[tuple[int, int, int]], bands: int, rows: int, first_band: int, hasher: MinHasher
) -> tuple[np.ndarray, np.ndarray]:
    """The keys of ``bands`` bands of ``rows`` numbered from ``first_band``, of the signature of
    ``shingles[start:end]`` of each ``(start, end, passage)`` span, and the passage of each key."""
    if not spans:
        return _EMPTY
    signed = hasher.signatures(shingles, np.array([(s, e) for s, e, _ in spans], np.int64))[:, : bands * rows]
    keys = band_keys_from(signed, bands, rows, first_band)
    return keys.ravel(), np.repeat(np.array([j for _, _, j in spans], np.int64), bands)


def family_keys(
    tokens: np.ndarray,
    unspaced: np.ndarray,
    lengths: np.ndarray,
    passages: Sequence[tuple[int, int]],
    settings: Settings,
    hasher: MinHasher | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every family key of a document (anchors, content bands, word bands) and the passage position of each: the
    Python reference of :func:`family_keys_many`."""
    hasher = hasher or MinHasher.from_settings(settings)
    made = [
        anchor_keys(tokens, unspaced, passages, settings),
        banded_keys(tokens, unspaced, lengths, passages, settings, hasher, words=False),
        banded_keys(tokens, unspaced, lengths, passages, settings, hasher, words=True),
    ]
    return np.concatenate([k for k, _ in made]), np.concatenate([o for _, o in made])


def family_keys_many(
    documents: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    settings: Settings,
    hasher: MinHasher,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`family_keys` of each ``(token hashes, unspaced, lengths, passage rows)`` document
    (passage rows: ``(m, 2+)`` int64, token start and end in the first two columns), in order,
    computed by the native engine on all cores."""
    return _native.family_keys_many(
        [
            (
                np.ascontiguousarray(h, np.uint64),
                np.ascontiguousarray(u, np.bool_),
                np.ascontiguousarray(n, np.int64),
                np.ascontiguousarray(rows[:, 0], np.int64),
                np.ascontiguousarray(rows[:, 1], np.int64),
            )
            for h, u, n, rows in documents
        ],
        (settings.anchor_words, settings.anchor_tokens, settings.window_tokens),
        (settings.content_chars, settings.content_band_count, settings.content_rows),
        (settings.word_band_count, settings.word_rows),
        hasher.permutations,
    )
