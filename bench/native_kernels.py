"""Native kernels (reuse.engine._native) against the Python engine they replace, in one run.

Signatures of 20,000 passages of one synthetic document (random shingle hashes, 192
permutations), as overlapping windows (40 shingles every 10, the engine's default windows) and as
disjoint paragraphs of 60 shingles; and shingle hashes of 1M tokens. The Python side signs 4,096
passages at a time, as ``analyse`` does. Each figure is the best of ``--repeats`` runs; outputs are
checked equal. Set RAYON_NUM_THREADS=1 to measure the native side on one core.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

from reuse.engine import _native
from reuse.engine.shingles import shingle_hashes
from reuse.engine.signatures import MinHasher

#: Passages the Python side signs at a time, as the Python engine's analysis did.
SIGNATURE_CHUNK = 4096


def _line(what: str, t_python: float, t_native: float) -> str:
    return f"{what}: python {t_python * 1e3:.1f} ms, native {t_native * 1e3:.1f} ms, ×{t_python / t_native:.1f}"


def _best(run: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    times = []
    out = np.empty(0)
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--num-perm", type=int, default=192)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    hasher = MinHasher(args.num_perm, 1)
    rng = np.random.default_rng(1)
    n = args.passages
    windows = rng.integers(0, 1 << 32, n * 10 + 40, dtype=np.uint32)
    paragraphs = rng.integers(0, 1 << 32, n * 60, dtype=np.uint32)
    cases = {
        "windows of 40 every 10": (windows, np.array([(s, s + 39) for s in range(0, n * 10, 10)], dtype=np.int64)),
        "paragraphs of 60": (paragraphs, np.array([(s, s + 60) for s in range(0, n * 60, 60)], dtype=np.int64)),
    }
    threads = os.environ.get("RAYON_NUM_THREADS", "all")
    print(f"{n} passages, {args.num_perm} permutations, native threads: {threads}")
    for name, (shingles, spans) in cases.items():

        def python(shingles: np.ndarray = shingles, spans: np.ndarray = spans) -> np.ndarray:
            parts = [hasher.signatures(shingles, spans[i : i + SIGNATURE_CHUNK]) for i in range(0, n, SIGNATURE_CHUNK)]
            return np.concatenate(parts)

        def native(shingles: np.ndarray = shingles, spans: np.ndarray = spans) -> np.ndarray:
            return _native.minhash_signatures(shingles, spans, hasher.permutations)

        t_python, expected = _best(python, args.repeats)
        t_native, got = _best(native, args.repeats)
        assert np.array_equal(expected, got), name
        print(_line(f"signatures, {name}", t_python, t_native))
    tokens = rng.integers(0, 1 << 64, 1_000_000, dtype=np.uint64, endpoint=False)
    t_python, expected = _best(lambda: shingle_hashes(tokens, 2), args.repeats)
    t_native, got = _best(lambda: _native.shingle_hashes(tokens, 2), args.repeats)
    assert np.array_equal(expected, got)
    print(_line("shingle hashes, 1M tokens", t_python, t_native))


if __name__ == "__main__":
    main()
