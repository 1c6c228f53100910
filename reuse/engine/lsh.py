"""LSH banding: which passages become candidates of each other.

The number of bands and rows is what datasketch's own optimiser gives for the configured threshold
and weights, so two passages collide here exactly when they would in a ``datasketch.MinHashLSH``
with the same parameters. A band key is a 64-bit hash of the band's number and its values; the
warehouse stores and joins these keys instead of in-memory hash tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from reuse.config import Settings
from reuse.engine import _native

#: Standard errors added to a candidate pair's estimated similarity before it is dropped for
#: falling short of the verification bar: about 0.6% of pairs exactly at the bar are lost.
FILTER_SIGMAS = 2.5

__all__ = [
    "FILTER_SIGMAS",
    "band_keys",
    "band_keys_from",
    "band_params",
    "estimated_containment",
    "may_verify",
    "signature_agreement",
]

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=64)
def _params(threshold: float, num_perm: int, fp_weight: float, fn_weight: float) -> tuple[int, int]:
    """datasketch's ``_optimal_param``: the (bands, rows) of least weighted error, the first in
    its order (bands, then rows, ascending) on a tie.

    Its two integrals, of 1 - (1 - s^r)^b over [0, threshold] (false positives) and of
    (1 - s^r)^b over [threshold, 1] (false negatives), are of polynomials of degree at most
    ``num_perm``: Gauss-Legendre quadrature with ``num_perm // 2 + 1`` nodes is exact for them,
    where datasketch calls scipy (whose import alone cost every command about a second).
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    low = (nodes + 1) * threshold / 2  # the nodes mapped onto [0, threshold]
    high = threshold + (nodes + 1) * (1 - threshold) / 2  # and onto [threshold, 1]
    # Every (b, r) with b * r <= num_perm, in datasketch's order: all at once, one row each.
    b = np.repeat(np.arange(1, num_perm + 1), num_perm // np.arange(1, num_perm + 1))
    r = np.concatenate([np.arange(1, num_perm // k + 1) for k in range(1, num_perm + 1)])
    bs, rs = b[:, None].astype(np.float64), r[:, None].astype(np.float64)
    fp = (1 - (1 - low**rs) ** bs) @ weights * threshold / 2
    fn = ((1 - high**rs) ** bs) @ weights * (1 - threshold) / 2
    # argmin keeps the first of equal errors, as datasketch's strict comparison does.
    best = int(np.argmin(fp * fp_weight + fn * fn_weight))
    return int(b[best]), int(r[best])


def band_params(settings: Settings) -> tuple[int, int]:
    """``(bands, rows)`` minimising datasketch's weighted false positive/negative error."""
    return _params(
        settings.threshold, settings.num_perm, settings.false_positive_weight, settings.false_negative_weight
    )


def _mix(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: a bijection that spreads every input bit."""
    h = h ^ (h >> np.uint64(33))
    h = h * _M1
    h = h ^ (h >> np.uint64(33))
    h = h * _M2
    return h ^ (h >> np.uint64(33))


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The ``(m, bands)`` uint64 band keys of ``m`` signatures (uint32, ``num_perm`` columns).

    Keys of different bands differ even for equal values, so one key column can index all bands.
    Two signatures share key ``k`` of band ``i`` exactly when their values in band ``i`` are
    equal, up to a 2^-64 chance of a hash collision.
    """
    return band_keys_from(signatures, bands, rows, 0)


def band_keys_from(signatures: np.ndarray, bands: int, rows: int, first_band: int) -> np.ndarray:
    """:func:`band_keys` with the bands numbered from ``first_band`` (band ``i`` starts from
    ``(first_band + i + 1) * golden``): a key family of its own numbers its bands past the main
    family's, so that no key of one equals a key of the other."""
    if signatures.ndim != 2 or signatures.shape[1] < bands * rows:
        raise ValueError(f"signatures must have at least {bands * rows} columns, got shape {signatures.shape}")
    m = signatures.shape[0]
    values = signatures[:, : bands * rows].astype(np.uint64).reshape(m, bands, rows)
    with np.errstate(over="ignore"):
        starts = (np.arange(bands, dtype=np.uint64) + np.uint64(first_band + 1)) * _GOLDEN
        h = np.broadcast_to(starts, (m, bands)).copy()
        for r in range(rows):
            h = _mix(h ^ values[:, :, r])
    return h


def signature_agreement(
    signatures: np.ndarray | Sequence[np.ndarray], rows_a: np.ndarray, rows_b: np.ndarray
) -> np.ndarray:
    """The share of equal values of row ``rows_a[k]`` and row ``rows_b[k]`` of the ``(m,
    num_perm)`` uint32 signature table, for each ``k``: the estimate of the two passages'
    Jaccard similarity. Counted by the native engine, without gathering the rows (a bulk batch
    pairs millions of passages: two gathered copies of their signatures took gigabytes).

    ``signatures`` may also be several tables of one width, their rows counted end to end as if
    they were stacked: a batch's new signatures are not copied under the stored ones."""
    tables = _tables(signatures)
    shared = _native.signature_agreements(tables, np.asarray(rows_a, np.int64), np.asarray(rows_b, np.int64))
    return shared / max(_width(tables), 1)


def _tables(signatures: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """One signature table or several as a list of uint32 tables, not copied when they are
    uint32 already: the signature store's rows are views of its wider records (a bulk batch's
    stored signatures run to hundreds of megabytes), which the native engine reads in place."""
    tables = [signatures] if isinstance(signatures, np.ndarray) else list(signatures)
    return [np.asarray(t, np.uint32) for t in tables]


def _width(tables: list[np.ndarray]) -> int:
    """The number of values a signature of ``tables`` holds (0 for no table)."""
    return tables[0].shape[1] if tables else 0


def estimated_containment(
    jaccard: np.ndarray, sizes_a: np.ndarray, sizes_b: np.ndarray, num_perm: int, sigmas: float = 0.0
) -> np.ndarray:
    """Containment of the smaller of each pair of passages in the other, estimated from the share
    ``jaccard`` of their ``num_perm`` signature values that agree (the estimate of their Jaccard
    similarity ``J``; see :func:`signature_agreement`) and their shingle counts: the shared
    shingles are ``J (|A| + |B|) / (1 + J)``. With ``sigmas``, ``J`` is first raised by that many
    of its standard errors (binomial over the permutations; at least one value's worth, so that
    no agreement is not taken for certainty): an upper bound, for filters that must not drop true
    pairs."""
    if sigmas:
        spread = np.sqrt(np.maximum(jaccard, 1.0 / num_perm) * (1.0 - jaccard) / num_perm)
        jaccard = np.minimum(jaccard + sigmas * spread, 1.0)
    shared = jaccard * (sizes_a + sizes_b) / (1.0 + jaccard)
    return shared / np.maximum(np.minimum(sizes_a, sizes_b), 1)


def may_verify(
    signatures: np.ndarray | Sequence[np.ndarray],
    tokens: np.ndarray,
    rows_a: np.ndarray,
    rows_b: np.ndarray,
    settings: Settings,
) -> np.ndarray:
    """Which candidate passage pairs may reach ``verify_containment``: pair ``k`` is row
    ``rows_a[k]`` against row ``rows_b[k]`` of the passages' ``signatures`` (one table or
    several, as :func:`signature_agreement` takes them) and token counts ``tokens``; their
    containment is estimated from the signatures, raised by ``FILTER_SIGMAS`` standard errors
    (see ``Settings.candidate_filter``; every pair when the filter is off).
    Shingle counts are taken as token counts less the word shingle size: one rule for every
    pipeline that proposes candidates, so they propose the same."""
    if not settings.candidate_filter:
        return np.ones(len(rows_a), dtype=bool)
    shift = settings.shingle_words - 1
    tables = _tables(signatures)
    jaccard = signature_agreement(tables, rows_a, rows_b)
    sizes_a, sizes_b = tokens[rows_a] - shift, tokens[rows_b] - shift
    estimate = estimated_containment(jaccard, sizes_a, sizes_b, _width(tables), FILTER_SIGMAS)
    return np.asarray(estimate >= settings.verify_containment)
