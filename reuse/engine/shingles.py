"""Token and shingle hashes: the items a passage's MinHash is taken over.

A token is hashed once, to 64 bits, with xxHash's XXH3-64 of its UTF-8 bytes (xxh3 rather than
xxh64 because it is the faster of the two on short inputs such as words, and its output is
frozen since xxHash 0.8). A shingle of ``n`` consecutive tokens is then hashed from its tokens'
hashes, never from its text, so that all shingles of a document come out of a few numpy
operations::

    h = t[0];  h = h * P + t[i]  for i = 1 .. n-1   (mod 2^64)
    shingle hash = low 32 bits of fmix64(h)          (MurmurHash3's 64-bit finalizer)

The polynomial keeps token order: two shingles with the same tokens in another order collide
only if the difference of two token hashes is divisible by 2^61, because ``P`` is odd with
``P^2 - 1`` divisible by exactly 2^3. ``fmix64`` avalanches the sum before it is folded to the
32 bits that datasketch's ``affine32`` scheme takes as input.

:func:`shingle_hash` computes the same value from a shingle's text (its tokens joined by one
space, UTF-8 encoded); it is the ``hashfunc`` to give ``datasketch.MinHash`` to get signatures
equal to ours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash

__all__ = [
    "STEM_CHARS",
    "TOKEN_CACHE_LIMIT",
    "clear_token_cache",
    "shingle_hash",
    "shingle_hashes",
    "stem_hashes",
    "token_hashes",
]

_MASK32 = (1 << 32) - 1
_MASK64 = (1 << 64) - 1

#: Odd multiplier of the shingle polynomial (the 64-bit golden ratio, 5 mod 8; see the module doc).
_P = 0x9E3779B97F4A7C15
#: MurmurHash3 fmix64 constants.
_FMIX_C1 = 0xFF51AFD7ED558CCD
_FMIX_C2 = 0xC4CEB9FE1A85EC53

_P_U64 = np.uint64(_P)
_FMIX_C1_U64 = np.uint64(_FMIX_C1)
_FMIX_C2_U64 = np.uint64(_FMIX_C2)
_SHIFT_U64 = np.uint64(33)

#: Entries after which the token cache starts afresh: bounds its memory (roughly 150 MB with the
#: token strings it keeps alive) while a natural-language vocabulary of a few hundred thousand
#: words stays cached.
TOKEN_CACHE_LIMIT = 1_000_000

#: A token's stem is its first this many characters: a crude, language-blind stemmer that puts
#: "convincing" with "convincingly" and "government" with "governments" (and "governor"), for
#: the second stage of alignment to compare reworded sentences by (:mod:`reuse.engine.seeds`).
#: Five characters measured best on PAN13's obfuscated categories (four and six less well).
STEM_CHARS = 5


class _TokenCache(dict[str, int]):
    """token -> XXH3-64 of its UTF-8 bytes, hashed on first lookup.

    A hit is one C-level dict lookup, which is why :func:`token_hashes` maps
    ``cache.__getitem__`` over the tokens: a miss goes through :meth:`__missing__` without a
    Python-level test on every token.
    """

    def __missing__(self, token: str) -> int:
        if len(self) >= TOKEN_CACHE_LIMIT:
            self.clear()
        value = xxhash.xxh3_64_intdigest(token.encode("utf-8"))
        self[token] = value
        return value


_TOKEN_CACHE = _TokenCache()


def token_hashes(tokens: Sequence[str]) -> np.ndarray:
    """The XXH3-64 hash of each token's UTF-8 bytes, as a uint64 array of ``len(tokens)``.

    Hashes are memoised in a module-level cache of at most :data:`TOKEN_CACHE_LIMIT` tokens, so
    a word already seen costs one dict lookup.
    """
    return np.fromiter(map(_TOKEN_CACHE.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def stem_hashes(tokens: Sequence[str]) -> np.ndarray:
    """The XXH3-64 hash of each token's first :data:`STEM_CHARS` characters (its
    :func:`token_hashes` value when it is no longer), as a uint64 array of ``len(tokens)``."""
    return token_hashes([token[:STEM_CHARS] for token in tokens])


def clear_token_cache() -> None:
    """Empty the token-hash cache (for cold-cache benchmarks and tests; hashes do not change)."""
    _TOKEN_CACHE.clear()


def shingle_hashes(tok_hashes: np.ndarray, n: int) -> np.ndarray:
    """The 32-bit hashes of all ``n``-token shingles of a token-hash array, in order.

    Element ``i`` hashes tokens ``i .. i+n-1``, so the result has ``max(0, len - n + 1)``
    elements (uint32). Element ``i`` equals ``shingle_hash`` of those tokens joined by spaces.
    """
    if n < 1:
        raise ValueError(f"shingle size must be at least 1, got {n}")
    th = np.asarray(tok_hashes, dtype=np.uint64)
    if th.ndim != 1:
        raise ValueError(f"token hashes must be a 1-d array, got shape {th.shape}")
    count = th.size - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint32)
    # Horner's rule over sliding views: n-1 multiply-adds on whole arrays, wrapping mod 2^64.
    h = th[:count].copy()
    for i in range(1, n):
        h *= _P_U64
        h += th[i : i + count]
    h ^= h >> _SHIFT_U64
    h *= _FMIX_C1_U64
    h ^= h >> _SHIFT_U64
    h *= _FMIX_C2_U64
    h ^= h >> _SHIFT_U64
    return h.astype(np.uint32)


def _fmix64(h: int) -> int:
    """MurmurHash3's 64-bit finalizer on a Python int in [0, 2^64)."""
    h ^= h >> 33
    h = (h * _FMIX_C1) & _MASK64
    h ^= h >> 33
    h = (h * _FMIX_C2) & _MASK64
    return h ^ (h >> 33)


def shingle_hash(shingle: bytes) -> int:
    """The 32-bit hash of one shingle given as its tokens joined by single spaces, UTF-8 encoded.

    Equal to the matching element of :func:`shingle_hashes`; pass it as ``hashfunc`` to
    ``datasketch.MinHash`` and ``update_batch`` it with ``b"the quick brown"``-style shingles to
    reproduce our signatures with datasketch alone.
    """
    tokens = shingle.split(b" ")
    h = xxhash.xxh3_64_intdigest(tokens[0])
    for token in tokens[1:]:
        h = (h * _P + xxhash.xxh3_64_intdigest(token)) & _MASK64
    return _fmix64(h) & _MASK32
