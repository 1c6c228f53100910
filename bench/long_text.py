"""Write a long generated text file: random words in sentences and paragraphs (for memory runs).

python bench/long_text.py big15.txt 15000000
"""

from __future__ import annotations

import random
import sys
from pathlib import Path


def long_text(size: int, seed: int = 1) -> str:
    """About ``size`` characters of paragraphs of 3 to 9 sentences over 20,000 random words."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(20000)]
    paragraphs: list[str] = []
    total = 0
    while total < size:
        sentences = [
            " ".join(rng.choice(words) for _ in range(rng.randint(5, 25))).capitalize() + "."
            for _ in range(rng.randint(3, 9))
        ]
        paragraphs.append(" ".join(sentences))
        total += len(paragraphs[-1]) + 2
    return "\n\n".join(paragraphs)


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(long_text(int(sys.argv[2])))
