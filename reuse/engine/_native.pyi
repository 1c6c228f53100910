"""Type stub of the compiled engine core, built from reuse/engine/native (Rust, PyO3)."""

import numpy as np
import numpy.typing as npt

__all__ = ["band_keys", "minhash_signatures", "shingle_hashes"]

def shingle_hashes(token_hashes: npt.NDArray[np.uint64], n: int, /) -> npt.NDArray[np.uint32]: ...
def minhash_signatures(
    shingles: npt.NDArray[np.uint32], spans: npt.NDArray[np.int64], permutations: npt.NDArray[np.uint32], /
) -> npt.NDArray[np.uint32]: ...
def band_keys(signatures: npt.NDArray[np.uint32], bands: int, rows: int, /) -> npt.NDArray[np.uint64]: ...
