"""LSH banding: which passages become candidates of each other.

The number of bands and rows comes from datasketch's own optimiser for the configured threshold
and weights, so two passages collide here exactly when they would in a ``datasketch.MinHashLSH``
with the same parameters. A band key is a 64-bit hash of the band's number and its values; the
warehouse stores and joins these keys instead of in-memory hash tables.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from datasketch.lsh import _optimal_param

from reuse.config import Settings

__all__ = ["band_keys", "band_params"]

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=64)
def _params(threshold: float, num_perm: int, fp_weight: float, fn_weight: float) -> tuple[int, int]:
    bands, rows = _optimal_param(threshold, num_perm, fp_weight, fn_weight)
    return int(bands), int(rows)


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
    if signatures.ndim != 2 or signatures.shape[1] < bands * rows:
        raise ValueError(f"signatures must have at least {bands * rows} columns, got shape {signatures.shape}")
    m = signatures.shape[0]
    values = signatures[:, : bands * rows].astype(np.uint64).reshape(m, bands, rows)
    with np.errstate(over="ignore"):
        h = np.broadcast_to((np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _GOLDEN, (m, bands)).copy()
        for r in range(rows):
            h = _mix(h ^ values[:, :, r])
    return h
