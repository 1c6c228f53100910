"""Native normalisation, tokens, token hashes and passages against the Python engine, in one run.

Two corpora of a few MB, each cut into documents analysed one at a time as the engine does:

- **English**: the source documents of the PAN13 text-alignment training corpus (real text), when
  ../shared/data holds it, else synthetic English sentences;
- **spaceless**: realistic synthetic Chinese, Japanese and Thai (sentences of common ideographs,
  kana, and Thai with its vowel and tone marks, with their punctuation, in paragraphs).

For each: Python ``tokenize`` + ``shingles.token_hashes`` against ``_native.tokenize``, and Python
``tokenize`` + ``token_hashes`` + ``passages`` against ``_native.passages`` (which tokenises itself);
outputs are checked equal. Each figure is the best of ``--repeats`` runs (the Python token-hash
cache is warm after the first), in CPU time of this process: both sides run on one core, and CPU
time keeps the other jobs of a shared machine out of the figures.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.passages import passages
from reuse.engine.shingles import token_hashes
from reuse.engine.tokens import tokenize
from reuse.models import PassageKind

PAN13 = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
PAN13 /= "pan13-text-alignment-training-corpus-2013-01-21/src"
_ENGLISH = [
    "the",
    "harbour",
    "bridge",
    "council",
    "said",
    "on",
    "Tuesday",
    "that",
    "engineers",
    "had",
    "found",
    "cracks",
    "in",
    "two",
    "of",
    "its",
    "piers",
    "and",
    "that",
    "the",
    "crossing",
    "would",
    "close",
    "for",
    "repairs",
    "lasting",
    "several",
    "months",
    "while",
    "commuters",
    "take",
    "the",
    "ferry",
]


def english(megabytes: float) -> tuple[str, list[str]]:
    """PAN13 source documents up to ``megabytes`` (or synthetic English when absent)."""
    docs: list[str] = []
    size = 0
    if PAN13.is_dir():
        for path in sorted(PAN13.glob("*.txt")):
            docs.append(path.read_text(encoding="utf-8", errors="replace"))
            size += len(docs[-1])
            if size >= megabytes * 1e6:
                return "PAN13 source documents", docs
    rng = random.Random(1)
    while size < megabytes * 1e6:
        paragraphs = [
            " ".join(" ".join(rng.choices(_ENGLISH, k=rng.randint(8, 30))).capitalize() + "." for _ in range(5))
            for _ in range(rng.randint(3, 12))
        ]
        docs.append("\n\n".join(paragraphs))
        size += len(docs[-1])
    return "synthetic English", docs


def spaceless(megabytes: float) -> list[str]:
    """Synthetic Chinese, Japanese and Thai documents of ``megabytes`` characters in all."""
    rng = random.Random(2)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    kana = [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x30A1, 0x30FB)]
    thai_consonants = [chr(c) for c in range(0x0E01, 0x0E2F)]
    thai_marks = ["", "", "\u0e48", "\u0e49", "\u0e31", "\u0e34", "\u0e35", "\u0e38", "\u0e31\u0e49"]

    def sentence(script: str) -> str:
        n = rng.randint(15, 60)
        if script == "zh":
            return "".join(rng.choices(hanzi, k=n)) + rng.choice(["\u3002", "\uff01", "\uff1f", "\uff0c"])
        if script == "ja":
            return "".join(rng.choice(kana) if rng.random() < 0.5 else rng.choice(hanzi) for _ in range(n)) + "\u3002"
        return "".join(rng.choice(thai_consonants) + rng.choice(thai_marks) for _ in range(n)) + " "

    docs: list[str] = []
    size = 0
    while size < megabytes * 1e6:
        script = rng.choice(["zh", "ja", "th"])
        paragraphs = ["".join(sentence(script) for _ in range(rng.randint(2, 8))) for _ in range(rng.randint(3, 12))]
        docs.append("\n\n".join(paragraphs))
        size += len(docs[-1])
    return docs


def _best(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.process_time()
        out = run()
        times.append(time.process_time() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=3.0, help="characters of each corpus, in millions")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    name, english_docs = english(args.megabytes)
    corpora = {name: english_docs, "synthetic Chinese, Japanese and Thai": spaceless(args.megabytes)}
    for corpus, docs in corpora.items():
        chars = sum(map(len, docs))
        mbytes = sum(len(d.encode("utf-8")) for d in docs) / 1e6

        def py_tokens(docs: list[str] = docs) -> list[Any]:
            out = []
            for d in docs:
                t = tokenize(d)
                out.append((token_hashes(t.words), t.starts, t.ends, t.unspaced))
            return out

        def py_passages(docs: list[str] = docs) -> list[np.ndarray]:
            out = []
            for d in docs:
                t = tokenize(d)
                token_hashes(t.words)
                rows = [
                    (0 if p.kind is PassageKind.PARAGRAPH else 1, p.token_start, p.token_end, p.char_start, p.char_end,
                     int(p.unspaced))
                    for p in passages(d, t, settings)
                ]  # fmt: skip
                out.append(np.array(rows, dtype=np.int64).reshape(-1, 6))
            return out

        def native_tokens(docs: list[str] = docs) -> list[Any]:
            return [_native.tokenize(d) for d in docs]

        def native_passages(docs: list[str] = docs) -> list[np.ndarray]:
            return [
                _native.passages(d, settings.min_tokens, settings.window_tokens, settings.window_step) for d in docs
            ]

        t_py, expected = _best(py_tokens, args.repeats)
        t_nat, got = _best(native_tokens, args.repeats)
        for e, g in zip(expected, got, strict=True):
            assert all(np.array_equal(a, b) for a, b in zip(e, g[:4], strict=True)), corpus
        t_py_p, expected_p = _best(py_passages, args.repeats)
        t_nat_p, got_p = _best(native_passages, args.repeats)
        assert all(np.array_equal(e, g) for e, g in zip(expected_p, got_p, strict=True)), corpus
        tokens = sum(len(g[0]) for g in got)
        print(
            f"{corpus}: {len(docs)} documents, {chars / 1e6:.1f}M characters ({mbytes:.1f} MB UTF-8), {tokens:,} tokens"
        )
        for what, tp, tn in (
            ("tokens + token hashes", t_py, t_nat),
            ("tokens + token hashes + passages", t_py_p, t_nat_p),
        ):
            print(
                f"  {what}: python {tp:.2f} s ({mbytes / tp:.1f} MB/s), native {tn:.3f} s "
                f"({mbytes / tn:.1f} MB/s), ×{tp / tn:.1f}"
            )


if __name__ == "__main__":
    main()
