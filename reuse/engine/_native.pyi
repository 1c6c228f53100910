"""Type stub of the compiled engine core, built from reuse/engine/native (Rust, PyO3)."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["align", "match_pairs", "minhash_signatures", "sequence_matched", "shingle_hashes"]

def shingle_hashes(token_hashes: npt.NDArray[np.uint64], n: int, /) -> npt.NDArray[np.uint32]: ...
def minhash_signatures(
    shingles: npt.NDArray[np.uint32], spans: npt.NDArray[np.int64], permutations: npt.NDArray[np.uint32], /
) -> npt.NDArray[np.uint32]: ...

_Doc = tuple[
    npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]
]
_Match = tuple[int, int, int, int, float, int, int, int]

def align(a: _Doc, b: _Doc, settings: tuple[int, float, int], /) -> list[_Match]: ...
def match_pairs(
    documents: Sequence[tuple[_Doc, npt.NDArray[np.int64], int, int]],
    pairs: Sequence[tuple[int, int, npt.NDArray[np.int64]]],
    settings: tuple[int, float, int, float],
    /,
) -> list[tuple[int, int, list[_Match]]]: ...
def sequence_matched(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64], /) -> int: ...
