"""Benchmark: the graded check of ``reuse.eval.graded`` on a larger sample than the test's.

Samples ``--per-category`` pairs (default 100) of each PAN13 training category with ``--seed``
(default 15), grades each as ``compare`` does, and prints each category's median graded
similarity and word 5-gram containment (the baseline), and the Spearman correlation of each with
the categories' grades (02 > 03 > 04 = 05 > 01).

Usage (from the repository root, with the package installed)::

    python bench/graded.py [--per-category N] [--seed S] [PAN13_DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from reuse.eval.graded import graded_check  # noqa: E402
from reuse.eval.pan13_corpus import load_corpus  # noqa: E402

DEFAULT = REPO.parent / "shared/data/pan13-text-alignment-training-corpus-2013-01-21"


def main() -> None:
    """Run the check and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--per-category", type=int, default=100)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    check = graded_check(load_corpus(args.corpus), args.per_category, args.seed)
    graded, baseline = check.medians(), check.medians("fivegrams")
    print("category  median similarity  median word 5-gram containment")
    for category in graded:
        print(f"{category:8}  {graded[category]:17.3f}  {baseline[category]:30.3f}")
    print(f"Spearman with the grades: similarity {check.rho:.3f}, word 5-gram containment {check.rho_fivegrams:.3f}")


if __name__ == "__main__":
    main()
