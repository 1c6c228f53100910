"""Benchmark: the graded check of ``reuse.eval.graded`` on a larger sample than the test's.

Samples ``--per-category`` pairs (default 100) of each PAN13 training category with ``--seed``
(default 15), grades each as ``compare`` does, and prints each category's median graded
similarity and word 5-gram containment (the baseline), and the Spearman correlation of each with
the categories' grades (02 > 03 > 04 = 05 > 01), and how well each tells an obfuscated copy
(03, 04, 05) from a negative pair (01), as the area under the ROC curve: first of the whole
documents, then of one case's two passages of each pair (a passage of each document for a
negative pair; see ``reuse.eval.graded``).

Usage (from the repository root, with the package installed)::

    python bench/graded.py [--per-category N] [--seed S] [PAN13_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sampling import sample_arguments  # noqa: E402

from reuse.eval.graded import GradedCheck, graded_case_check, graded_check  # noqa: E402
from reuse.eval.pan13_corpus import load_corpus  # noqa: E402


def main() -> None:
    """Run the checks and print their figures."""
    args = sample_arguments(__doc__.splitlines()[0])
    corpus = load_corpus(args.corpus)
    for title, check in (
        ("whole documents", graded_check(corpus, args.per_category, args.seed)),
        ("one case's passages", graded_case_check(corpus, args.per_category, args.seed)),
    ):
        _table(title, check)


def _table(title: str, check: GradedCheck) -> None:
    measures = {"similarity": "similarity", "fivegrams": "word 5-gram containment", "coverage": "coverage"}
    print(f"{title}:")
    print(f"{'category':12}" + "  ".join(f"{label:>24}" for label in measures.values()) + "   (medians)")
    medians = {of: check.medians(of) for of in measures}
    for category in check.similarity:
        print(f"{category:12}" + "  ".join(f"{medians[of][category]:24.3f}" for of in measures))
    print(f"{'Spearman':12}" + "  ".join(f"{check.rho(of):24.3f}" for of in measures))
    print(f"{'AUC 03-05/01':12}" + "  ".join(f"{check.rewrites_auc(of):24.3f}" for of in measures))
    print()


if __name__ == "__main__":
    main()
