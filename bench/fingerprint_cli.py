"""Benchmark: ``reusetrack fingerprint FILE`` as a whole process against stock datasketch on the same passages.

The input is a JSON Lines file of PAN13 documents (source documents first, then suspicious ones)
of about ``--mb`` megabytes of text (13.8 by default, the size the issue measured). Ours is the
command run as users run it, start-up, reading, analysis and output included, once writing JSON
lines (to a file) and once Parquet. The baseline is what a datasketch user writes for the same
passages (their texts read back from our Parquet output): ``re.findall(r"\\w+")`` over the
lower-cased text, word pairs joined by a space and UTF-8 encoded, one
``datasketch.MinHash(num_perm=192)`` per passage, ``update_batch``. The baseline runs in this
process on a random sample of ``--sample`` passages and is scaled to all of them (passages are
independent, so its time is linear in their number); reading and writing are not counted for it.

Usage (from the repository root, with the package installed)::

    python bench/fingerprint_cli.py [--mb 13.8] [--sample 20000] [--corpus PAN13_DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq
from datasketch import MinHash

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared/data/pan13-text-alignment-training-corpus-2013-01-21"
NUM_PERM = 192  # the engine's default, asked of datasketch too
WORD = re.compile(r"\w+")


def build_input(corpus: Path, megabytes: float, out: Path) -> tuple[int, int]:
    """Write documents of ``corpus`` to ``out`` as JSON lines until ``megabytes`` of text; return
    (documents, characters)."""
    limit, chars, docs = int(megabytes * 1e6), 0, 0
    with out.open("w", encoding="utf-8") as fh:
        for path in sorted((corpus / "src").glob("*.txt")) + sorted((corpus / "susp").glob("*.txt")):
            text = path.read_text(encoding="utf-8", errors="replace")
            fh.write(json.dumps({"url": f"https://pan13.example/{path.parent.name}/{path.name}", "text": text}) + "\n")
            chars, docs = chars + len(text), docs + 1
            if chars >= limit:
                break
    return docs, chars


def run_command(args: Sequence[str]) -> float:
    """Wall seconds of one ``reusetrack`` process."""
    exe = shutil.which("reusetrack") or sys.exit("reusetrack is not installed (pip install -e .)")
    began = time.perf_counter()
    subprocess.run([exe, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def baseline(texts: Sequence[str]) -> float:
    """Seconds stock datasketch takes for these passages."""
    began = time.perf_counter()
    for text in texts:
        words = WORD.findall(text.lower())
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([f"{a} {b}".encode() for a, b in itertools.pairwise(words)])
    return time.perf_counter() - began


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--mb", type=float, default=13.8, help="megabytes of text to fingerprint")
    parser.add_argument("--sample", type=int, default=20_000, help="passages the baseline runs on")
    args = parser.parse_args(argv)
    if not (args.corpus / "src").is_dir():
        sys.exit(f"no PAN13 corpus at {args.corpus} (give --corpus)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        docs, chars = build_input(args.corpus, args.mb, work / "input.jsonl")
        jsonl = run_command(["fingerprint", str(work / "input.jsonl"), "--out", str(work / "fp.jsonl")])
        parquet = run_command(
            ["fingerprint", str(work / "input.jsonl"), "--format", "parquet", "--out", str(work / "fp.parquet")]
        )
        texts = pq.read_table(work / "fp.parquet", columns=["text"]).column("text").to_pylist()
        json_mb = (work / "fp.jsonl").stat().st_size / 1e6
    sample = random.Random(1).sample(texts, min(args.sample, len(texts)))
    stock = baseline(sample) * len(texts) / len(sample)
    print(
        f"input: {docs} documents, {chars / 1e6:.1f} M characters, {len(texts):,} passages ({json_mb:.0f} MB of JSON)"
    )
    print(f"stock datasketch MinHash({NUM_PERM}).update_batch: {stock:.1f} s (scaled from {len(sample):,} passages)")
    print("| output | whole process | passages/s | × stock datasketch |")
    print("|---|---|---|---|")
    for name, seconds in (("JSON lines (--out)", jsonl), ("Parquet", parquet)):
        print(f"| {name} | {seconds:.2f} s | {len(texts) / seconds:,.0f} | **{stock / seconds:.1f}×** |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
