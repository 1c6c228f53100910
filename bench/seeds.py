"""The second stage of alignment (``reuse/engine/seeds.py``): what it adds and what it costs, in one run.

Document pairs of the PAN13 training corpus (``--pairs`` of each category, sampled with a fixed
seed; 05's pairs with a case first, its case-less pairs after), analysed once, each pair aligned
three times by the native engine: without sentences (the first stage alone, as before the second
stage), with them but each token's stem set to the token's own hash (the second stage comparing
exact words, as before it compared stems), and as shipped. Prints plagdet, precision, recall and
granularity per category for each (pairs given: every listed pair is aligned, verified or not,
so this is stricter on the negatives than corpus mode), the detections in case-less pairs, and
the ratios of the alignment times (best of ``--repeats``).

    python bench/seeds.py --pairs 200
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from pathlib import Path

import numpy as np

from reuse.config import Settings
from reuse.engine.align import AlignInput
from reuse.engine.analysis import analyse_many
from reuse.engine.matching import align
from reuse.eval.pan13_corpus import load_corpus, read_document
from reuse.eval.plagdet import Detection, score_by_category

PAN13 = Path(__file__).resolve().parents[2] / "shared" / "data" / "pan13-text-alignment-training-corpus-2013-01-21"
_NONE = np.zeros(0, dtype=np.int64)


def main() -> None:
    """Run the comparison and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PAN13)
    parser.add_argument("--pairs", type=int, default=200, help="pairs a category (default 200)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    corpus = load_corpus(args.corpus)
    rng = random.Random(15)
    chosen: dict[str, list[tuple[str, str]]] = {}
    for name, pairs in corpus.categories.items():
        shuffled = list(pairs)
        rng.shuffle(shuffled)
        with_case = [p for p in shuffled if corpus.cases[p]]
        without = [p for p in shuffled if not corpus.cases[p]]
        chosen[name] = (with_case + without)[: args.pairs]
    names = sorted({n for pairs in chosen.values() for pair in pairs for n in pair})
    texts = [read_document(corpus.suspicious.get(n) or corpus.sources[n]) for n in names]
    analysed = analyse_many(texts, settings, signatures=False)
    views = {n: a.comparable.align_input for n, a in zip(names, analysed, strict=True)}
    jobs = [(name, pair) for name, pairs in chosen.items() for pair in pairs]

    def run(variant: str) -> tuple[float, list[Detection]]:
        def view(n: str) -> AlignInput:
            if variant == "first stage":
                return dataclasses.replace(views[n], sentences=_NONE)
            if variant == "second stage on exact words":
                return dataclasses.replace(views[n], stems=views[n].token_hashes)
            return views[n]

        inputs = [(pair, view(pair[0]), view(pair[1])) for _, pair in jobs]
        best, found = float("inf"), []
        for _ in range(args.repeats):
            started = time.perf_counter()
            found = [Detection(susp, m.a, src, m.b) for (susp, src), a, b in inputs for m in align(a, b, settings)]
            best = min(best, time.perf_counter() - started)
        return best, found

    truth = {name: (tuple(pairs), tuple(c for p in pairs for c in corpus.cases[p])) for name, pairs in chosen.items()}
    timed = {}
    for label in ("first stage", "second stage on exact words", "with the second stage"):
        seconds, found = run(label)
        timed[label] = seconds
        print(f"{label}: {seconds:.2f} s to align {len(jobs)} pairs")
        for name, row in score_by_category(truth, found).items():
            s = row.scores
            print(
                f"  {name[:26]:26s} plagdet {s.plagdet:.3f}  P {s.precision:.3f}  R {s.recall:.3f}"
                f"  G {s.granularity:.3f}  detections in case-less pairs {row.negative_detections}"
            )
    ratio = timed["with the second stage"] / timed["first stage"]
    print(f"alignment time, with/without the second stage: {ratio:.2f}x")
    stems = timed["with the second stage"] / timed["second stage on exact words"]
    print(f"alignment time, second stage on stems/on exact words: {stems:.2f}x")


if __name__ == "__main__":
    main()
