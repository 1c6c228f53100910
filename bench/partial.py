"""Benchmark: the partly rewritten check of ``reuse.eval.partial`` on a larger sample than the test's.

Ingests, in one fresh warehouse and without being told the pairs, ``--per-category`` pairs
(default 100) of PAN13's training categories 02, 03, 05 and 01 sampled with ``--seed`` (default
15) and the seed case's rewrites in ``seeds/rewrites``; prints for each kind of pair (verbatim,
partial, independent) and each group the share found, the median graded similarity, the median share of the copy
inside a match, and the two baselines (shared content words, word 5-grams); then how well each
measure tells a partial copy from an independent story on the same topic (ROC area), and each
seed pair on its own line.

Usage (from the repository root, with the package installed)::

    python bench/partial.py [--per-category N] [--seed S] [PAN13_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sampling import sample_arguments  # noqa: E402

from reuse.eval.pan13_corpus import load_corpus  # noqa: E402
from reuse.eval.partial import KINDS, pan13_pairs, partial_check, seed_pairs  # noqa: E402

MEASURES = {
    "similarity": "similarity",
    "copy_coverage": "copy covered",
    "words": "content words",
    "fivegrams": "5-grams",
}


def main() -> None:
    """Run the check and print its figures."""
    args = sample_arguments(__doc__.splitlines()[0])
    pairs = seed_pairs(REPO / "seeds/rewrites", REPO / "seeds/demo")
    if args.per_category:
        pairs = pan13_pairs(load_corpus(args.corpus), args.per_category, args.seed) + pairs
    check = partial_check(pairs)
    print(
        f"{'kind':12}{'pairs':>7}{'found':>8}" + "".join(f"{label:>15}" for label in MEASURES.values()) + "   (medians)"
    )
    for kind in KINDS:
        medians = "".join(f"{check.median(kind, of):15.3f}" for of in MEASURES)
        print(f"{kind:12}{len(check.of(kind)):7d}{check.found(kind):8.3f}{medians}")
    print(f"{'AUC p/i':27}" + "".join(f"{check.auc(of):15.3f}" for of in MEASURES))
    print()
    origins = dict.fromkeys(o.pair.origin for o in check.outcomes)
    for origin in origins:
        found = [o.found for o in check.outcomes if o.pair.origin == origin]
        print(f"found, {origin:26}{sum(found) / len(found):6.3f} of {len(found)}")
    print()
    for o in check.outcomes:
        if o.pair.origin == "seed":
            values = "".join(f"{getattr(o, of):15.3f}" for of in MEASURES)
            print(
                f"{o.pair.copy.url.removeprefix('rewrites:'):34}{o.pair.kind:12}{'yes' if o.found else 'no':>5}{values}"
            )


if __name__ == "__main__":
    main()
