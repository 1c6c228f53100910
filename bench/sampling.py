"""What the benchmarks that sample PAN13's training pairs share: where the corpus is, and their
command line (the corpus, how many pairs a category, the sampling seed)."""

from __future__ import annotations

import argparse
from pathlib import Path

#: The PAN13 training corpus beside the repository (``../shared/data``).
PAN13 = Path(__file__).resolve().parents[2] / "shared/data/pan13-text-alignment-training-corpus-2013-01-21"


def sample_arguments(description: str, per_category: int = 100, seed: int = 15) -> argparse.Namespace:
    """Parse ``[CORPUS] [--per-category N] [--seed S]`` for a benchmark described by ``description``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("corpus", nargs="?", type=Path, default=PAN13)
    parser.add_argument("--per-category", type=int, default=per_category)
    parser.add_argument("--seed", type=int, default=seed)
    return parser.parse_args()
