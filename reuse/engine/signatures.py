"""MinHash signatures of many overlapping passages of a document, equal to datasketch's.

A signature is exactly the ``hashvalues`` of a ``datasketch.MinHash`` (scheme ``"affine32"``,
the default since datasketch 2.0) updated with the passage's shingle hashes: each 32-bit input
hash ``x`` is pre-mixed with MurmurHash3's 32-bit finalizer, ``h = fmix32(x)``, then permutation
``k`` maps it to ``a[k] * h + b[k] mod 2^32``, and the signature keeps the minimum over the
passage's shingles. The ``a`` and ``b`` parameters are drawn here as datasketch draws them from
``numpy.random.RandomState(seed)``; drawing them ourselves pins our stored signatures to this
definition even if a later datasketch changes its draws, and the tests check that the two agree.

Passages overlap (a paragraph and the windows inside it), so :meth:`MinHasher.signatures` never
permutes a shingle once per passage. The span boundaries cut the document's shingles into
elementary segments (of at most ``_MAX_SEGMENT`` shingles); each shingle is permuted once, in
chunks that fit in the CPU cache, and reduced to its segment's minima in the same chunk; a
passage's signature is then the minimum over the segments it covers, read from a sparse table
of segment minima. Permuted values are laid out shingle-major, ``(shingles, num_perm)``, so that
every reduction runs over contiguous rows of ``num_perm`` values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from reuse.engine.shingles import shingle_hash

if TYPE_CHECKING:
    from datasketch import MinHash

    from reuse.config import Settings

__all__ = ["MinHasher", "estimate_jaccard"]

_MAX_HASH = np.uint32(0xFFFFFFFF)

#: MurmurHash3 fmix32 shifts and multipliers, as datasketch's ``_fmix`` applies them.
_S16 = np.uint32(16)
_S13 = np.uint32(13)
_M1 = np.uint32(0x85EBCA6B)
_M2 = np.uint32(0xC2B2AE35)

#: Bytes of permuted values worked on at a time: large enough that per-chunk Python overhead is
#: negligible, small enough to stay in cache between the multiply, the add and the minima.
_CHUNK_BYTES = 4 << 20
#: Longest elementary segment, in shingles: bounds the padding of the segment gather.
_MAX_SEGMENT = 32
#: Mean segment length (shingles) above which reduceat beats the gather (measured with numpy 2).
_GATHER_MEAN = 16


def _fmix32(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer on a uint32 array (a new array; multiplication wraps)."""
    h = x ^ (x >> _S16)
    h *= _M1
    h ^= h >> _S13
    h *= _M2
    h ^= h >> _S16
    return h


def _as_shingles(shingles: np.ndarray) -> np.ndarray:
    """``shingles`` as a 1-d uint32 array; integers outside [0, 2^32) are an error."""
    arr = np.asarray(shingles)
    if arr.ndim != 1:
        raise ValueError(f"shingles must be a 1-d array, got shape {arr.shape}")
    if arr.dtype == np.uint32:
        return arr
    if arr.size == 0:
        return arr.astype(np.uint32)
    if arr.dtype.kind not in "iu" or int(arr.min()) < 0 or int(arr.max()) > 0xFFFFFFFF:
        raise ValueError("shingles must be 32-bit unsigned hashes (as shingle_hashes returns)")
    return arr.astype(np.uint32)


def _as_spans(spans: np.ndarray, n_shingles: int) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(starts, ends)`` int64 arrays of an (m, 2) array of [start, end) slices."""
    arr = np.asarray(spans)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"spans must be an (m, 2) array of [start, end) slices, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"spans must be integers, got dtype {arr.dtype}")
    starts = arr[:, 0].astype(np.int64)
    ends = arr[:, 1].astype(np.int64)
    empty = np.flatnonzero(ends <= starts)
    if empty.size:
        i = int(empty[0])
        raise ValueError(f"span {i} [{starts[i]}, {ends[i]}) holds no shingle: an empty passage has no signature")
    if int(starts.min()) < 0 or int(ends.max()) > n_shingles:
        raise ValueError(f"spans must lie within the document's {n_shingles} shingles")
    return starts, ends


def _segments(cuts: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, ...]:
    """For segments between consecutive ``cuts``: each span's first and end segment, the
    segments some span covers, and each segment's rank among the covered (spans cover runs of
    consecutive covered segments, so ranks keep them consecutive)."""
    first = np.searchsorted(cuts, starts)
    last = np.searchsorted(cuts, ends)
    depth = np.cumsum(np.bincount(first, minlength=cuts.size) - np.bincount(last, minlength=cuts.size))[:-1]
    return first, last, np.flatnonzero(depth > 0), np.cumsum(depth > 0) - 1


class MinHasher:
    """datasketch-compatible ``affine32`` MinHash with fixed ``num_perm`` and ``seed``."""

    def __init__(self, num_perm: int, seed: int) -> None:
        """Draw the ``num_perm`` permutations of ``seed`` exactly as datasketch 2.x does."""
        if num_perm < 1:
            raise ValueError(f"num_perm must be positive, got {num_perm}")
        if not 0 <= seed < 1 << 32:
            raise ValueError(f"seed must be in [0, 2^32), got {seed}")
        self.num_perm = num_perm
        self.seed = seed
        # The same draws, in the same order, as MinHash._init_permutations for "affine32":
        # a = 2 * randint(0, 2^31) + 1 (odd, so h -> a*h + b is a bijection), then b.
        gen = np.random.RandomState(seed)
        a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        self._perm = np.array([a, b])
        self._perm.flags.writeable = False
        # Row vectors broadcast over the shingle-major layout of permuted values.
        self._a_row = a[None, :]
        self._b_row = b[None, :]
        self._chunk = max(256, _CHUNK_BYTES // (4 * num_perm))

    @classmethod
    def from_settings(cls, settings: Settings) -> MinHasher:
        """The MinHasher of ``settings.num_perm`` and ``settings.seed``."""
        return cls(settings.num_perm, settings.seed)

    @property
    def permutations(self) -> np.ndarray:
        """The (2, num_perm) uint32 array ``[a, b]``, equal to ``datasketch.MinHash.permutations``."""
        return self._perm.copy()

    def __repr__(self) -> str:
        return f"MinHasher(num_perm={self.num_perm}, seed={self.seed})"

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        """The signature of one passage made of all of ``shingles`` (which must not be empty)."""
        return self.signatures(shingles, np.array([[0, len(shingles)]]))[0]

    def signatures(self, shingles: np.ndarray, spans: np.ndarray) -> np.ndarray:
        """The signatures of many passages of one document.

        Args:
            shingles: the document's shingle hashes (uint32, as ``shingle_hashes`` returns).
            spans: an (m, 2) integer array; row i is the [start, end) slice of ``shingles``
                making passage i. Spans may overlap, nest and come in any order.

        Returns:
            An (m, num_perm) uint32 array whose row i equals the ``hashvalues`` of
            ``datasketch.MinHash(num_perm, seed)`` updated with ``shingles[start:end]``.

        Raises:
            ValueError: a span is empty (an empty passage has no signature, and datasketch would
                score two of them 1.0), or lies outside ``shingles``.
        """
        hashes = _as_shingles(shingles)
        starts, ends = _as_spans(spans, hashes.size)
        if starts.size == 0:
            return np.empty((0, self.num_perm), dtype=np.uint32)

        # Elementary segments between consecutive span boundaries; only segments inside some
        # span are ever permuted. Long segments (passages without windows) are reduced as they
        # are; short ones (overlapping windows) are cut to at most _MAX_SEGMENT shingles and
        # gathered, which bounds the gather's padding.
        bounds = np.concatenate((starts, ends))
        cuts = np.unique(bounds)
        first, last, covered, rank = _segments(cuts, starts, ends)
        long_segments = np.diff(cuts)[covered].mean() > _GATHER_MEAN
        if long_segments:
            minima = self._long_segment_minima(hashes, cuts[covered], cuts[covered + 1])
        else:
            grid = np.arange(int(bounds.min()), int(bounds.max()), _MAX_SEGMENT)
            cuts = np.unique(np.concatenate((cuts, grid)))
            first, last, covered, rank = _segments(cuts, starts, ends)
            minima = self._short_segment_minima(hashes, cuts[covered], cuts[covered + 1])
        return self._span_minima(minima, rank[first], rank[last - 1] + 1)

    def _long_segment_minima(self, hashes: np.ndarray, seg_starts: np.ndarray, seg_ends: np.ndarray) -> np.ndarray:
        """Segment minima by ``np.minimum.reduceat`` along the shingle axis of permutation-major
        chunks, the fast way for segments a few dozen shingles long (passages without windows)."""
        out = np.empty((self.num_perm, seg_starts.size), dtype=np.uint32)
        s0 = 0
        while s0 < seg_starts.size:
            r0 = int(seg_starts[s0])
            s1 = max(s0 + 1, int(np.searchsorted(seg_ends, r0 + self._chunk, side="right")))
            r1 = int(seg_ends[s1 - 1])
            permuted = np.multiply(self._a_row.T, _fmix32(hashes[r0:r1]))
            permuted += self._b_row.T
            # Reduce at each segment's start and end; the even results are the segments (the odd
            # ones are the gaps between them, which no span covers).
            bounds = np.column_stack((seg_starts[s0:s1] - r0, seg_ends[s0:s1] - r0)).ravel()[:-1]
            out[:, s0:s1] = np.minimum.reduceat(permuted, bounds, axis=1)[:, ::2]
            s0 = s1
        return np.ascontiguousarray(out.T)

    def _short_segment_minima(self, hashes: np.ndarray, seg_starts: np.ndarray, seg_ends: np.ndarray) -> np.ndarray:
        """Segment minima for many short segments (the overlapping windows of a document).

        The permuted values are laid out shingle-major, one row of ``num_perm`` per shingle, so
        a segment's minimum is a gather of its rows (padded to a common length with a sentinel
        row of 2^32-1) and a reduction over contiguous rows: several times faster than
        ``np.minimum.reduceat`` over segments of a few shingles. Segments are worked on in chunks
        of about ``_CHUNK_BYTES`` of permuted values.
        """
        lengths = seg_ends - seg_starts
        width = int(lengths.max())
        out = np.empty((seg_starts.size, self.num_perm), dtype=np.uint32)
        per_chunk = max(1, self._chunk // width)
        pad = np.arange(width)
        for s0 in range(0, seg_starts.size, per_chunk):
            s1 = min(s0 + per_chunk, seg_starts.size)
            r0, r1 = int(seg_starts[s0]), int(seg_ends[s1 - 1])
            rows = r1 - r0
            permuted = np.empty((rows + 1, self.num_perm), dtype=np.uint32)
            np.multiply(_fmix32(hashes[r0:r1])[:, None], self._a_row, out=permuted[:rows])
            permuted[:rows] += self._b_row
            permuted[rows] = _MAX_HASH
            offsets = (seg_starts[s0:s1] - r0)[:, None] + pad
            index = np.where(pad < lengths[s0:s1, None], offsets, rows)
            np.minimum.reduce(permuted[index], axis=1, out=out[s0:s1])
        return out

    @staticmethod
    def _span_minima(minima: np.ndarray, seg_first: np.ndarray, seg_last: np.ndarray) -> np.ndarray:
        """Row i = minimum of segment rows ``seg_first[i]:seg_last[i]`` of ``minima``.

        A sparse table: level k holds the minima of 2^k consecutive segments, and a span of n
        segments is the minimum of two (overlapping) level-floor(log2 n) entries.
        """
        count = seg_last - seg_first
        levels = np.floor(np.log2(count)).astype(np.int64)
        out = np.empty((seg_first.size, minima.shape[1]), dtype=np.uint32)
        level, width = minima, 1
        for k in range(int(levels.max()) + 1):
            if k:
                level = np.minimum(level[:-width], level[width:])
                width *= 2
            chosen = np.flatnonzero(levels == k)
            if chosen.size:
                out[chosen] = np.minimum(level[seg_first[chosen]], level[seg_last[chosen] - width])
        return out

    def to_datasketch(self, signature: np.ndarray) -> MinHash:
        """A ``datasketch.MinHash`` (scheme "affine32") holding ``signature``.

        It hashes further items with :func:`~reuse.engine.shingles.shingle_hash`, so ``update`` with
        more shingles keeps it equal to our signature of the larger passage.
        """
        # Imported here: datasketch loads scipy (about half a second), which signing never needs.
        from datasketch import MinHash

        values = np.asarray(signature)
        if values.shape != (self.num_perm,):
            raise ValueError(f"signature must have shape ({self.num_perm},), got {values.shape}")
        return MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            hashfunc=shingle_hash,
            hashvalues=values,
            permutations=self._perm,
            scheme="affine32",
        )


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The share of equal values of two signatures: an estimate of their passages' Jaccard."""
    a = np.asarray(sig_a)
    b = np.asarray(sig_b)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"signatures must be non-empty and of one length, got {a.shape} and {b.shape}")
    return float(np.count_nonzero(a == b)) / a.size
