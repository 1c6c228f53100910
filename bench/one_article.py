"""Benchmark: where one new article's ingest spends its time, on a large warehouse.

New articles (written like ``bench/scale.py``'s incremental ones, on a site of their own) are
ingested one per run, in this process, into a copy of a warehouse (by default the 1M-passage
one ``bench/scale.py`` leaves in ``~/.cache/reusetrack-scale``). Reported: the p50 of each
stage (the run's own clock), and the time per article of each function on the path (the
candidate lookups, the signature reads, the lineage update's queries and steps), measured by
wrapping them. The copy is deleted afterwards.

Usage (from the repository root)::

    python bench/one_article.py [--warehouse DB] [--articles 30] [--seed 91]
"""

from __future__ import annotations

import argparse
import functools
import inspect
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import scalecorpus  # noqa: E402

import reuse.pipeline.ingest as ingest_module  # noqa: E402
import reuse.pipeline.lineage as lineage_module  # noqa: E402
from reuse.config import Settings  # noqa: E402
from reuse.models import Document  # noqa: E402
from warehouse import db as db_module  # noqa: E402
from warehouse import keyindex  # noqa: E402
from warehouse import lineage as lineage_db  # noqa: E402

PAN13 = REPO.parent / "shared/data/pan13-text-alignment-training-corpus-2013-01-21"
SCALE = Path.home() / ".cache/reusetrack-scale"

#: What is timed: (owner, attribute names, label prefix).
TIMED: list[tuple[Any, tuple[str, ...], str]] = [
    (ingest_module.Ingestor, ("_store_and_match", "_likely", "_grouped", "_comparables"), "Ingestor."),
    (keyindex.KeyIndex, ("candidates", "sync", "held"), "KeyIndex."),
    (db_module.Warehouse, ("passage_signatures", "passage_positions", "version_documents", "insert"), "Warehouse."),
    (lineage_module, ("update_lineage", "_update_stories", "_store_stories", "build_stories", "compare"), ""),
    (lineage_db, tuple(n for n in lineage_db.__all__ if inspect.isfunction(getattr(lineage_db, n))), "lineage_db."),
]


def _instrument(times: dict[str, list[float]]) -> None:
    """Wrap every function of :data:`TIMED` so that each call's seconds land in ``times``."""

    def wrapped(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                times[label].append(time.perf_counter() - started)

        return call

    for owner, names, prefix in TIMED:
        for name in names:
            setattr(owner, name, wrapped(prefix + name, getattr(owner, name)))
    # ingest imported update_lineage by name: it calls the wrapped one through the module.
    ingest_module.update_lineage = lineage_module.update_lineage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, default=SCALE / "full.duckdb")
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--seed", type=int, default=91)
    args = parser.parse_args()
    corpora = sorted(SCALE.glob("corpus-*"))
    if not args.warehouse.exists() or not corpora or not PAN13.is_dir():
        sys.exit(f"Error: needs {args.warehouse} and its corpus (run bench/scale.py first) and PAN13 at {PAN13}")
    site = f"one-article-{args.seed}.example"
    rows = scalecorpus.extra_articles(PAN13, corpora[-1], args.articles, seed=args.seed)
    docs = [Document(url=r["url"].replace("late.example", site), text=r["text"], site=site) for r in rows]
    times: dict[str, list[float]] = defaultdict(list)
    stages: dict[str, list[float]] = defaultdict(list)
    settings = Settings()
    with tempfile.TemporaryDirectory() as work:
        db = Path(work) / args.warehouse.name
        shutil.copy(args.warehouse, db)
        index = args.warehouse.with_name(args.warehouse.name + ".keyindex")
        if index.is_dir():
            shutil.copytree(index, db.with_name(db.name + ".keyindex"))
        _instrument(times)
        totals = []
        per_article: dict[str, list[float]] = defaultdict(list)
        with db_module.open_warehouse(db, settings) as wh:
            for doc in docs:
                before = {label: len(values) for label, values in times.items()}
                started = time.perf_counter()
                report = ingest_module.ingest(wh, [doc], settings, command="bench")
                totals.append(time.perf_counter() - started)
                for label, values in times.items():
                    per_article[label].append(sum(values[before.get(label, 0) :]))
                for stage, seconds in report.clock.seconds.items():
                    stages[stage].append(seconds)
    print(f"{len(docs)} articles, one per run, into a copy of {args.warehouse}")
    print(f"whole ingest p50 {1000 * statistics.median(totals):.1f} ms, mean {1000 * statistics.mean(totals):.1f} ms")
    for stage, values in sorted(stages.items(), key=lambda item: -statistics.median(item[1])):
        print(f"  stage {stage:<12} p50 {1000 * statistics.median(values):7.1f} ms")
    print("per article (all calls): mean, p50 and calls")
    for label, values in sorted(times.items(), key=lambda item: -sum(item[1])):
        p50 = statistics.median(per_article[label] + [0.0] * (len(docs) - len(per_article[label])))
        mean = 1000 * sum(values) / len(docs)
        print(f"  {label:<34} {mean:7.1f} ms {1000 * p50:7.1f} ms  ({len(values) / len(docs):.1f} calls)")


if __name__ == "__main__":
    main()
