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

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from baselines import handwired_datasketch, passage_lines

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared/data/pan13-text-alignment-training-corpus-2013-01-21"


def main() -> int:
    """Run both sides and print the table."""
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not (corpus / "src").is_dir():
        sys.exit(f"no PAN13 corpus at {corpus}")
    exe = shutil.which("reusetrack") or sys.exit("reusetrack is not installed (pip install -e .)")
    began = time.perf_counter()
    done = subprocess.run([exe, "eval", "pan13", str(corpus), "--json"], check=True, capture_output=True, text=True)
    ours = time.perf_counter() - began
    report = json.loads(done.stdout)
    files = sorted((corpus / "src").glob("*.txt")) + sorted((corpus / "susp").glob("*.txt"))
    lines = passage_lines(path.read_text(encoding="utf-8", errors="replace") for path in files)
    baseline, proposed = handwired_datasketch(lines)
    print(
        f"documents: {len(files)}; baseline passages (lines of 8+ words): {len(lines):,}, pairs proposed: {proposed:,}"
    )
    print("| | wall | plagdet (entire) | × hand-wired datasketch |")
    print("|---|---|---|---|")
    print(f"| hand-wired datasketch (no alignment, no storage) | {baseline:.1f} s | - | 1 |")
    entire = report["entire"]["plagdet"]
    print(f"| `reusetrack eval pan13`, whole job | {ours:.1f} s | {entire:.3f} | **{baseline / ours:.2f}×** |")
    print(f"(eval's own figures: {report['seconds']:.1f} s, peak RSS {report['peak_rss_mb']:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
