"""Hand-wired datasketch: the baseline the whole-job benchmarks compare reusetrack against.

What a datasketch user writes for passage reuse, with no alignment and no database: each line of
8+ words a passage, word 5-shingles, ``MinHash(num_perm=128)``, one ``MinHashLSH`` at threshold
0.5 in memory, each passage queried and then inserted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

WORD = re.compile(r"\w+")
MIN_WORDS = 8


def passage_lines(texts: Iterable[str], words: int | None = None) -> list[list[str]]:
    """The lines of 8+ words of ``texts`` as lower-cased word lists, until ``words`` words (all
    when None)."""
    lines: list[list[str]] = []
    total = 0
    for text in texts:
        for line in text.splitlines():
            tokens = WORD.findall(line.lower())
            if len(tokens) >= MIN_WORDS:
                lines.append(tokens)
                total += len(tokens)
        if words is not None and total >= words:
            break
    return lines


def handwired_datasketch(lines: list[list[str]]) -> tuple[float, int]:
    """Run the baseline over ``lines``; return (seconds, candidate pairs the LSH proposed)."""
    from datasketch import MinHash, MinHashLSH

    start = time.perf_counter()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    proposed = 0
    for k, words in enumerate(lines):
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(words[i : i + 5]).encode() for i in range(len(words) - 4)])
        proposed += len(lsh.query(m))
        lsh.insert(k, m)
    return time.perf_counter() - start, proposed
