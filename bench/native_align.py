"""Native verification and alignment (``matching.match_pairs``) against the Python reference, in one run.

Document pairs of the PAN13 training corpus (the first ``--pairs`` listed pairs of each
plagiarism category, 02 to 05: verbatim, randomly obfuscated, translated and summarised copies),
each with its candidate passage pairs as ingest proposes them (passages sharing an LSH band
key). The reference verifies and aligns the pairs one by one (``reference_match_pair``, as ingest
did); the native engine takes them all in one call. Analysis is done before either is timed.
Each figure (wall time, and CPU time of all threads) is the best of ``--repeats`` runs; the
results are checked equal. Set RAYON_NUM_THREADS=1 to measure the native side on one core.

With ``--ingest N``, corpus-mode ``eval pan13`` on the first N pairs of each category instead,
twice in this process: ingest matching with the Python reference one pair at a time (as before
issue 14), then with one native call per batch; the "align" stage of each run, its whole time
and its scores (checked equal) are printed.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reuse.config import Settings
from reuse.engine.analysis import Comparable, analyse
from reuse.engine.matching import PairResult, match_grouped, match_pairs, reference_match_pair
from reuse.engine.signatures import MinHasher
from reuse.eval.pan13 import evaluate_pan13_fresh
from reuse.eval.pan13_corpus import load_corpus
from reuse.pipeline import ingest
from reuse.pipeline.inspection import _shared_band_keys

PAN13 = Path(__file__).resolve().parents[2] / "shared" / "data" / "pan13-text-alignment-training-corpus-2013-01-21"
CATEGORIES = ("02-no-obfuscation", "03-random-obfuscation", "04-translation-obfuscation", "05-summary-obfuscation")

Job = tuple[Comparable, Comparable, list[tuple[int, int]]]


def _jobs(corpus: Path, per_category: int, settings: Settings) -> list[Job]:
    hasher = MinHasher.from_settings(settings)
    jobs = []
    for category in CATEGORIES:
        for line in (corpus / category / "pairs").read_text().splitlines()[:per_category]:
            susp, src = line.split()
            a = analyse((corpus / "susp" / susp).read_text(), settings, hasher)
            b = analyse((corpus / "src" / src).read_text(), settings, hasher)
            jobs.append((a.comparable, b.comparable, _shared_band_keys(a, b, settings)))
    return jobs


def _best(run: Callable[[], list[PairResult]], repeats: int) -> tuple[float, float, list[PairResult]]:
    """Best wall time and best CPU time (all threads) of ``repeats`` runs, and the last result."""
    walls, cpus, out = [], [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        out = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), out


def _reference_batch(
    documents: list[Comparable], pairs: np.ndarray, starts: np.ndarray, places: np.ndarray, settings: Settings
) -> list[tuple[int, PairResult]]:
    """``match_grouped`` by the Python reference, one pair at a time."""
    results = (
        reference_match_pair(documents[a], documents[b], [tuple(p) for p in places[s:e].tolist()], settings)
        for (a, b), s, e in zip(pairs.tolist(), starts[:-1].tolist(), starts[1:].tolist(), strict=True)
    )
    return [(i, result) for i, result in enumerate(results) if result.matches]


def _ingest_stages(corpus: Path, limit: int, settings: Settings) -> None:
    """The "align" stage of corpus-mode PAN13 with the reference, then with the native engine."""
    scores = []
    for name, batch in (("python, pair by pair", _reference_batch), ("native, one call a batch", match_grouped)):
        ingest.match_grouped = batch  # type: ignore[assignment]
        result = evaluate_pan13_fresh(load_corpus(corpus, limit=limit), settings)
        scores.append({k: v for k, v in result.scores().items() if k not in ("seconds", "peak_rss_mb")})
        align = result.report.clock.seconds.get("align", 0.0)
        print(f"{name}: align stage {align:.1f} s of {result.seconds:.1f} s")
    ingest.match_grouped = match_grouped
    assert scores[0] == scores[1], "the native engine scores differently"
    print(f"plagdet, entire corpus: {scores[1]['entire']['plagdet']:.4f} (both)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=PAN13)
    parser.add_argument("--pairs", type=int, default=50, help="document pairs per category")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ingest", type=int, metavar="N", help="corpus-mode eval pan13 on N pairs per category")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"the PAN13 training corpus is not at {args.corpus} (--corpus)")
    settings = Settings()
    if args.ingest:
        _ingest_stages(args.corpus, args.ingest, settings)
        return
    jobs = _jobs(args.corpus, args.pairs, settings)
    candidates = sum(len(c) for _, _, c in jobs)
    t_python, c_python, expected = _best(
        lambda: [reference_match_pair(a, b, c, settings) for a, b, c in jobs], args.repeats
    )
    t_native, c_native, got = _best(lambda: match_pairs(jobs, settings), args.repeats)
    assert got == expected, "the native engine differs from the Python reference"
    matches = sum(len(r.matches) for r in got)
    threads = os.environ.get("RAYON_NUM_THREADS", "all")
    print(f"{len(jobs)} document pairs, {candidates} candidate passage pairs, {matches} matches")
    print(f"native threads: {threads}")
    for what, py, native in (("wall", t_python, t_native), ("cpu", c_python, c_native)):
        print(f"verify + align, {what}: python {py * 1e3:.0f} ms, native {native * 1e3:.0f} ms, ×{py / native:.1f}")


if __name__ == "__main__":
    main()
