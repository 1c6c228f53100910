"""Benchmark: ``reusetrack eval pan13`` as a whole job against hand-wired datasketch on the same corpus.

Ours: the command as users run it (a process of its own: start-up, reading every PAN13 document,
analysis, candidates, verification and alignment, storing into a fresh warehouse, lineage,
scoring), wall time and plagdet from its ``--json``. The baseline, in this process on the same
documents (source and suspicious): hand-wired datasketch (``bench/baselines.py``: each line of 8+
words a passage, word 5-shingles, 128 permutations, one in-memory ``MinHashLSH`` at 0.5, query
then insert; no alignment, no storage, no score). Both run in one invocation, so the ratio holds
on a shared machine.

Usage (from the repository root, with the package installed)::

    python bench/pan13_job.py [PAN13_DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from baselines import handwired_datasketch, passage_lines

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared/data/pan13-text-alignment-training-corpus-2013-01-21"


def main() -> int:
    """Run both sides (alternately, ``--rounds`` times) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--rounds", type=int, default=1, help="times each side runs, alternately")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    corpus: Path = args.corpus
    if not (corpus / "src").is_dir():
        sys.exit(f"no PAN13 corpus at {corpus}")
    exe = shutil.which("reusetrack") or sys.exit("reusetrack is not installed (pip install -e .)")
    files = sorted((corpus / "src").glob("*.txt")) + sorted((corpus / "susp").glob("*.txt"))
    lines = passage_lines(path.read_text(encoding="utf-8", errors="replace") for path in files)
    ours, baselines, reports = [], [], []
    for number in range(1, args.rounds + 1):
        began = time.perf_counter()
        done = subprocess.run([exe, "eval", "pan13", str(corpus), "--json"], check=True, capture_output=True, text=True)
        ours.append(time.perf_counter() - began)
        reports.append(json.loads(done.stdout))
        baseline, proposed = handwired_datasketch(lines)
        baselines.append(baseline)
        if args.rounds > 1:
            print(f"round {number}: ours {ours[-1]:.1f} s, baseline {baseline:.1f} s, {baseline / ours[-1]:.2f}×")
    ratio = statistics.median(b / o for b, o in zip(baselines, ours, strict=True))
    median = f"medians of {args.rounds} rounds: " if args.rounds > 1 else ""
    print(
        f"documents: {len(files)}; baseline passages (lines of 8+ words): {len(lines):,}, pairs proposed: {proposed:,}"
    )
    print("| | wall | plagdet (entire) | × hand-wired datasketch |")
    print("|---|---|---|---|")
    print(f"| hand-wired datasketch (no alignment, no storage) | {statistics.median(baselines):.1f} s | - | 1 |")
    entire = {round(r["entire"]["plagdet"], 6) for r in reports}
    shown = " / ".join(f"{e:.3f}" for e in sorted(entire))
    print(f"| `reusetrack eval pan13`, whole job | {statistics.median(ours):.1f} s | {shown} | **{ratio:.2f}×** |")
    seconds = statistics.median(r["seconds"] for r in reports)
    peak = max(r["peak_rss_mb"] for r in reports)
    print(f"(eval's own figures: {median}{seconds:.1f} s, peak RSS {peak:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
