"""Benchmark: passage fingerprints with datasketch (stock SHA1, and our hash) versus reuse.engine.shingles +
reuse.engine.signatures.

Passages are the first ``--passages`` lines (default 20,000) of the PAN13 source documents that
have at least 8 words. Both sides tokenise each line with ``re.findall(r"\\w+", line.lower())``
and take word shingles of the engine's default size (``Settings().shingle_words``):

* baselines, side by side: shingles joined by spaces and UTF-8 encoded, ``update_batch``, one
  ``datasketch.MinHash(num_perm, seed=1)`` per passage, (a) stock: its default ``hashfunc``
  (``sha1_hash32``, SHA1 of each shingle), and (b) same hash: ``hashfunc=shingle_hash``, the hash
  our signatures use, so that (b) gives our very values and the ratio against it is the
  fingerprinting method alone, not the choice of hash;
* ours: ``token_hashes`` -> ``shingle_hashes(...)`` -> ``MinHasher(num_perm, 1).signatures``, a
  block of lines at a time: the block's tokens are concatenated and each line is a span, so the
  shingles that straddle two lines belong to no passage.

A second scenario fingerprints the passages exactly as the engine cuts them (paragraphs plus
overlapping windows, ``reuse.engine.passages``) from the first ``--documents`` PAN13 source documents:
the baseline builds one datasketch MinHash per passage from its shingles' text, as a user of
datasketch would; ours hashes each document's tokens once and every passage from them.

Each measurement is repeated (default 3 times, token cache emptied first) and the median
reported, end to end and for the fingerprinting alone (given the tokens). A sample of our
signatures is checked against ``datasketch.MinHash(num_perm, seed=1, hashfunc=shingle_hash)``.

Usage (from the repository root)::

    python bench/fingerprint.py [SRC_DIR] [--passages N] [--repeats R]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from itertools import chain
from pathlib import Path

import numpy as np
from datasketch import MinHash
from datasketch.hashfunc import sha1_hash32

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from reuse.config import Settings  # noqa: E402
from reuse.engine.passages import passages as cut_passages  # noqa: E402
from reuse.engine.shingles import clear_token_cache, shingle_hash, shingle_hashes, token_hashes  # noqa: E402
from reuse.engine.signatures import MinHasher  # noqa: E402
from reuse.engine.tokens import tokenize  # noqa: E402

DEFAULT_SRC = REPO.parent / "shared/data/pan13-text-alignment-training-corpus-2013-01-21/src"
#: datasketch's default, which the baseline is run with; --num-perm runs both sides with another.
NUM_PERM = 128
SEED = 1  # datasketch's default seed, so the baseline and ours use the same permutations
SHINGLE = Settings().shingle_words
MIN_WORDS = 8
#: Lines fingerprinted per call of the numpy kernel (about 110,000 tokens of PAN13 text).
BLOCK_LINES = 2000
WORD = re.compile(r"\w+")


def load_passages(src: Path, count: int) -> list[str]:
    """The first ``count`` lines with at least ``MIN_WORDS`` words of ``src/*.txt``, in name order."""
    lines: list[str] = []
    for path in sorted(src.glob("*.txt")):
        with path.open(encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                line = raw.rstrip("\r\n")
                if len(WORD.findall(line.lower())) >= MIN_WORDS:
                    lines.append(line)
                    if len(lines) == count:
                        return lines
    return lines


def tokenise(lines: Sequence[str]) -> list[list[str]]:
    """The words of each line, exactly as both sides tokenise."""
    return [re.findall(r"\w+", line.lower()) for line in lines]


Hash = Callable[[bytes], int]
#: The two datasketch baselines: its stock hash, and the hash our signatures use.
HASHES: dict[str, Hash] = {"stock (sha1)": sha1_hash32, "same hash": shingle_hash}


def baseline_from_words(
    words_per_line: Sequence[list[str]], num_perm: int = NUM_PERM, hashfunc: Hash = sha1_hash32
) -> np.ndarray:
    """datasketch, one MinHash per passage, hashing each shingle with ``hashfunc``."""
    out = np.empty((len(words_per_line), num_perm), dtype=np.uint32)
    for i, words in enumerate(words_per_line):
        shingles = [" ".join(words[j : j + SHINGLE]).encode("utf-8") for j in range(len(words) - SHINGLE + 1)]
        m = MinHash(num_perm=num_perm, seed=SEED, hashfunc=hashfunc)
        m.update_batch(shingles)
        out[i] = m.hashvalues
    return out


def baseline(lines: Sequence[str], num_perm: int = NUM_PERM, hashfunc: Hash = sha1_hash32) -> np.ndarray:
    """Baseline end to end: tokenise, then :func:`baseline_from_words`."""
    return baseline_from_words(tokenise(lines), num_perm, hashfunc)


def ours_from_words(words_per_line: Sequence[list[str]], hasher: MinHasher) -> np.ndarray:
    """Our signatures of each line's word shingles, computed a block of lines at a time."""
    out = np.empty((len(words_per_line), hasher.num_perm), dtype=np.uint32)
    for lo in range(0, len(words_per_line), BLOCK_LINES):
        block = words_per_line[lo : lo + BLOCK_LINES]
        counts = np.fromiter(map(len, block), dtype=np.int64, count=len(block))
        starts = np.cumsum(counts) - counts
        # Shingle j of the concatenation covers tokens j .. j+SHINGLE-1, so line k owns shingles
        # [start_k, start_k + count_k - SHINGLE + 1); the ones across a line break are in no span.
        spans = np.column_stack((starts, starts + counts - SHINGLE + 1))
        hashes = token_hashes(list(chain.from_iterable(block)))
        out[lo : lo + len(block)] = hasher.signatures(shingle_hashes(hashes, SHINGLE), spans)
    return out


def ours(lines: Sequence[str], hasher: MinHasher) -> np.ndarray:
    """Ours end to end: the same tokenisation, then :func:`ours_from_words`."""
    return ours_from_words(tokenise(lines), hasher)


def engine_documents(src: Path, count: int) -> list[tuple[list[str], np.ndarray]]:
    """``(words, spans)`` of the first ``count`` documents of ``src``: the engine's tokens and
    passages, each passage as a [start, end) slice of the document's shingles."""
    settings = Settings()
    out = []
    for path in sorted(src.glob("*.txt"))[:count]:
        text = path.read_text(encoding="utf-8", errors="replace")
        tokens = tokenize(text)
        cut = [p for p in cut_passages(text, tokens, settings) if not p.unspaced]
        if cut:
            spans = np.array([(p.token_start, p.token_end - SHINGLE + 1) for p in cut], dtype=np.int64)
            out.append((tokens.words, spans))
    return out


def baseline_engine(
    docs: Sequence[tuple[list[str], np.ndarray]], num_perm: int = NUM_PERM, hashfunc: Hash = sha1_hash32
) -> int:
    """datasketch, one MinHash per engine passage hashing with ``hashfunc``; returns the count."""
    done = 0
    for words, spans in docs:
        shingles = [" ".join(words[j : j + SHINGLE]).encode("utf-8") for j in range(len(words) - SHINGLE + 1)]
        for start, end in spans.tolist():
            m = MinHash(num_perm=num_perm, seed=SEED, hashfunc=hashfunc)
            m.update_batch(shingles[start:end])
            done += 1
    return done


def ours_engine(docs: Sequence[tuple[list[str], np.ndarray]], hasher: MinHasher) -> int:
    """Our signatures of every engine passage, one document at a time; returns the count."""
    done = 0
    for words, spans in docs:
        done += len(hasher.signatures(shingle_hashes(token_hashes(words), SHINGLE), spans))
    return done


def median_seconds(run: Callable[[], object], repeats: int, before: Callable[[], None] | None = None) -> float:
    """Median wall time of ``repeats`` calls of ``run`` (``before`` runs untimed before each)."""
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def check_sample(lines: Sequence[str], signatures: np.ndarray, every: int) -> int:
    """Compare every ``every``-th signature with datasketch + ``shingle_hash``; return the count."""
    checked = 0
    for i in range(0, len(lines), every):
        words = re.findall(r"\w+", lines[i].lower())
        m = MinHash(num_perm=len(signatures[i]), seed=SEED, hashfunc=shingle_hash)
        m.update_batch(" ".join(words[j : j + SHINGLE]).encode("utf-8") for j in range(len(words) - SHINGLE + 1))
        if not np.array_equal(m.hashvalues, signatures[i]):
            raise SystemExit(f"MISMATCH: passage {i} differs from datasketch with hashfunc=shingle_hash")
        checked += 1
    return checked


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC, help="PAN13 src/ folder of .txt")
    parser.add_argument("--passages", type=int, default=20_000, help="number of passages (default 20000)")
    parser.add_argument(
        "--num-perm", type=int, default=NUM_PERM, help="permutations on both sides (datasketch's default, 128)"
    )
    parser.add_argument("--documents", type=int, default=300, help="documents of the engine scenario (300)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (default 3)")
    args = parser.parse_args(argv)

    if not args.src.is_dir() or not any(args.src.glob("*.txt")):
        print(f"error: no PAN13 source documents (*.txt) in {args.src}; pass the src/ folder", file=sys.stderr)
        return 2
    lines = load_passages(args.src, args.passages)
    if not lines:
        print(f"error: no line of {args.src} has {MIN_WORDS} words or more", file=sys.stderr)
        return 2
    words = tokenise(lines)
    n_tokens = sum(map(len, words))
    n_shingles = n_tokens - (SHINGLE - 1) * len(lines)
    hasher = MinHasher(args.num_perm, SEED)
    print(f"{len(lines):,} passages, {n_tokens:,} words, {n_shingles:,} shingles; num_perm={args.num_perm}")

    signatures = ours(lines, hasher)
    checked = check_sample(lines, signatures, max(1, len(lines) // 500))
    print(f"check: {checked} sampled passages equal datasketch MinHash(hashfunc=shingle_hash)")

    r = args.repeats
    t_tok = median_seconds(lambda: tokenise(lines), r)
    t_base = {name: median_seconds(partial(baseline, lines, args.num_perm, h), r) for name, h in HASHES.items()}
    t_ours = median_seconds(lambda: ours(lines, hasher), r, before=clear_token_cache)
    t_base_fp = {
        name: median_seconds(partial(baseline_from_words, words, args.num_perm, h), r) for name, h in HASHES.items()
    }
    t_ours_fp = median_seconds(lambda: ours_from_words(words, hasher), r, before=clear_token_cache)

    n = len(lines)
    names = list(HASHES)
    print(
        f"\nmedian of {r} runs, passages/s         "
        + "".join(f"{'datasketch ' + name:>24}" for name in names)
        + f"{'ours':>10}"
        + "".join(f"{'x ' + name:>16}" for name in names)
    )
    rows = [
        ("end to end (tokenise + fingerprint)", t_base, t_ours),
        ("fingerprint only (given the words)", t_base_fp, t_ours_fp),
    ]
    for label, tb, to in rows:
        print(_row(label, n, [tb[name] for name in names], to))
    print(f"{'tokenisation alone (shared)':<37}{n / t_tok:>24,.0f}")
    print(
        f"\nbound: with the shared tokenisation, end to end cannot exceed {t_base[names[0]] / t_tok:.1f}x "
        f"(stock baseline time / tokenisation time)"
    )

    docs = engine_documents(args.src, args.documents)
    m = sum(len(spans) for _, spans in docs)
    t_base_e = [median_seconds(partial(baseline_engine, docs, args.num_perm, h), r) for h in HASHES.values()]
    t_ours_e = median_seconds(lambda: ours_engine(docs, hasher), r, before=clear_token_cache)
    print(f"\nengine passages: {len(docs)} documents, {m:,} passages (paragraphs and overlapping windows)")
    print(_row("fingerprint only (given the tokens)", m, t_base_e, t_ours_e))
    return 0


def _row(label: str, count: int, baselines: Sequence[float], ours_seconds: float) -> str:
    """One table row: passages/s of each baseline and of ours, then our speed-up over each."""
    rates = "".join(f"{count / t:>24,.0f}" for t in baselines)
    ratios = "".join(f"{t / ours_seconds:>15.1f}x" for t in baselines)
    return f"{label:<37}{rates}{count / ours_seconds:>10,.0f}{ratios}"


if __name__ == "__main__":
    sys.exit(main())
