"""Benchmark: what a story's lineage update costs as the story grows, one copy a run.

A scheduled crawl brings a viral story's copies in a few at a time, and every run rebuilds the
story they join (lineage is derived state: see ``reuse/pipeline/lineage.py``). This ingests the
demo corpus (``seeds/demo``) into a fresh warehouse in this process, then ``--copies`` copies of
one rewrite of the seed report (``seeds/rewrites/derived-light-shusha.txt``), one per run, each
under a URL of its own on one of three sites, and reports each run's lineage stage (the ingest's
own clock): the first and last five runs, and the ratio of their medians. The baseline is the
first runs' own update in the same process, so the ratio says how the cost grows with the story
on a machine whose load comes and goes.

Usage (from the repository root, in the environment reusetrack is installed in)::

    python bench/story_growth.py [--copies 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawlers.files import iter_documents  # noqa: E402
from reuse.config import Settings  # noqa: E402
from reuse.models import Document  # noqa: E402
from reuse.pipeline.ingest import ingest  # noqa: E402
from warehouse.db import open_warehouse  # noqa: E402

COPY = REPO / "seeds" / "rewrites" / "derived-light-shusha.txt"
#: Runs at each end of the growth compared.
ENDS = 5


def main() -> None:
    """Run the growth and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=30)
    args = parser.parse_args()
    settings = Settings()
    text = COPY.read_text(encoding="utf-8")
    seconds = []
    with (
        tempfile.TemporaryDirectory(prefix="reusetrack-growth-") as scratch,
        open_warehouse(Path(scratch) / "growth.duckdb", settings) as wh,
    ):
        demo = [d for d in iter_documents([REPO / "seeds" / "demo"]) if isinstance(d, Document)]
        ingest(wh, demo, settings, command="bench")
        for k in range(args.copies):
            copy = Document(url=f"https://copy{k % 3}.example/story-{k}", text=text, site=f"copy{k % 3}.example")
            report = ingest(wh, [copy], settings, command="bench")
            seconds.append(report.clock.seconds.get("lineage", 0.0))
        _, ((members,),) = wh.query(
            "SELECT count(*) FROM lineage_nodes WHERE story_id = (SELECT story_id FROM lineage_nodes"
            " WHERE doc_id = (SELECT max(doc_id) FROM documents))"
        )
    first, last = seconds[:ENDS], seconds[-ENDS:]
    print(f"{args.copies} copies, one a run; the story ends with {members} documents")
    print(f"lineage update, first {ENDS} runs (ms): {[round(1000 * s) for s in first]}")
    print(f"lineage update, last {ENDS} runs (ms):  {[round(1000 * s) for s in last]}")
    print(f"median of the last over the first: {statistics.median(last) / statistics.median(first):.2f}x")


if __name__ == "__main__":
    main()
