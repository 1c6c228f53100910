"""Numbering within runs: what several columnar builders need of rows grouped end to end."""

from __future__ import annotations

import numpy as np

__all__ = ["offsets_within"]


def offsets_within(counts: np.ndarray) -> np.ndarray:
    """For runs of ``counts`` rows laid end to end, each row's offset in its run: ``[2, 0, 3]``
    gives ``[0, 1, 0, 1, 2]``."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
