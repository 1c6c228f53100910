"""Benchmark: a million passages on one machine (issue 7).

Builds the deterministic corpus of ``bench/scalecorpus.py`` from the PAN13 training texts
(resampled paragraphs with planted verbatim and edited copies and messy text), then reports:

* **full ingest** into a fresh warehouse, in a child process of its own so that its peak RSS is
  its own: wall time, passages/s per stage (read, passages, signatures, load, candidates,
  align, commit, lineage), peak RSS and its anonymous part (without the mapped index files);
* **words/s against hand-wired datasketch** on a sample of the same corpus, in this process:
  each line of 8+ words a passage, word 5-shingles, 128 permutations, ``MinHashLSH`` at 0.5,
  query then insert, in memory, no alignment, no database;
* **incremental**: into the warehouses of 10k, 100k and the full count of passages, 100 new
  articles ingested one per run (time per run, p50 and p95) and 100 more in one run (time per
  article);
* **planted copies found** (recall, verbatim and edited): a plant is found when the matches
  stored between its two articles cover at least half of the planted span's characters on the
  copy's side (:data:`FOUND_COVERAGE`); all plants, and those of ``SHORT_WORDS`` and of
  ``REPORTED_WORDS`` words or more;
* the one-article ``ingest`` command against the full warehouse, ``COMMAND_RUNS`` new articles,
  each a process of its own (``--command-ingest DB`` times only this, against a copy);
* warehouse bytes per million passages, and the latency of ``matches DOC`` on the full warehouse
  both in this process (the warehouse query alone) and as a whole command (``reusetrack matches
  DOC`` in a process of its own: start-up, opening the warehouse, printing), and of the lineage
  views.

Usage (from the repository root)::

    python bench/scale.py [--passages 1000000] [--work DIR]

The corpus is cached in ``--work`` (default ``~/.cache/reusetrack-scale``) and rebuilt when the
size changes; warehouses are always made afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import scalecorpus  # noqa: E402
from baselines import handwired_datasketch, passage_lines  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

from crawlers.files import iter_documents  # noqa: E402
from reuse.config import Settings  # noqa: E402
from reuse.models import Document  # noqa: E402
from reuse.pipeline.ingest import ingest  # noqa: E402
from warehouse.db import open_warehouse  # noqa: E402

PAN13 = REPO.parent / "shared/data/pan13-text-alignment-training-corpus-2013-01-21"
#: The command installed beside this Python (a virtual environment's), else ``python -m reuse``.
REUSETRACK = Path(sys.executable).with_name("reusetrack")
#: Engine passages per generated article (paragraphs plus 40-token windows every 10 tokens),
#: measured on the corpus: used to size it for ``--passages``.
PASSAGES_PER_ARTICLE = 51
#: Warehouse sizes, in passages, at which the incremental figure is taken besides the full one.
CURVE = (10_000, 100_000)
BASELINE_WORDS = 500_000
#: Plants at least this long count in the second recall figure: a single short line is under what
#: the engine reports (12 aligned tokens; 24 for an edited match).
REPORTED_WORDS = 25
#: And plants at least this long in a third: an exact copy counts from ``min_verbatim_tokens``
#: (10) tokens, and anchors give every exact copy of ``anchor_tokens`` (10) words a shared key.
SHORT_WORDS = 10
#: New articles ingested one per run, and as many again in one run, for the incremental figure.
INCREMENTAL = 100
#: A planted copy is found when matches between its two articles cover this share of its span (copy's side).
FOUND_COVERAGE = 0.5
#: Documents whose ``matches DOC`` is timed as a whole command (each run starts a process).
COMMAND_RUNS = 5


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _AnonPeak:
    """The peak of this process's anonymous resident memory (``RssAnon`` of /proc, sampled every
    half second in a thread; 0 where /proc is missing). Peak RSS also counts the file pages of
    the band-key index the lookups have mapped: page cache, which the kernel takes back under
    pressure, and which grows with the index; the anonymous part is what the process holds."""

    def __init__(self) -> None:
        self.mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        status = Path("/proc/self/status")
        while status.exists():
            line = next((x for x in status.read_text().splitlines() if x.startswith("RssAnon:")), None)
            if line is None:
                return
            self.mb = max(self.mb, int(line.split()[1]) / 1024)
            if self._stop.wait(0.5):
                return

    def stop(self) -> float:
        """Stop sampling; the peak seen, in MB."""
        self._stop.set()
        self._thread.join()
        return self.mb


def _corpus(work: Path, passages: int) -> tuple[Path, dict[str, Any]]:
    """The cached corpus for ``passages``, generated in a child process when missing."""
    articles = -(-passages // PASSAGES_PER_ARTICLE)
    folder = work / f"corpus-{articles}"
    truth = folder / "truth.json"
    if not truth.exists():
        command = [sys.executable, str(REPO / "bench/scalecorpus.py"), str(PAN13), str(folder), str(articles)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return folder, json.loads(truth.read_text())["corpus"]


# -- full ingest (child process) -------------------------------------------------------------


def _child_ingest(db: Path, corpus: Path, documents: int | None) -> None:
    """Ingest the first ``documents`` of ``corpus`` (all when None) into ``db``; print JSON."""
    settings = Settings()
    console = Console(stderr=True)
    items = iter_documents([corpus])
    if documents is not None:
        items = islice(items, documents)
    anon = _AnonPeak()
    start = time.perf_counter()
    with (
        Progress(TextColumn("ingest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar,
        open_warehouse(db, settings) as wh,
    ):
        task = bar.add_task("ingest", total=documents)
        report = ingest(wh, items, settings, progress=lambda _s: bar.advance(task))
    seconds = time.perf_counter() - start
    out = {
        "seconds": seconds,
        "peak_rss_mb": round(_rss_mb()),
        "peak_anon_mb": round(anon.stop()),
        **report.counts(),
        "stages": report.clock.rounded(),
    }
    print(json.dumps(out))


def _ingest(db: Path, corpus: Path, documents: int | None = None) -> dict[str, Any]:
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--child-ingest", str(db), str(corpus)]
    if documents is not None:
        command += ["--documents", str(documents)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return dict(json.loads(done.stdout.splitlines()[-1]))


# -- baseline -------------------------------------------------------------------------------


# -- incremental ----------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _incremental(db: Path, extra: list[dict[str, str]]) -> dict[str, Any]:
    """Ingest half of the ``extra`` articles one per run into ``db`` (per-article wall time of
    the run: store, match, lineage; and the part before lineage), then the other half in one
    run (its wall time per article)."""
    settings = Settings()
    half = len(extra) // 2
    docs = [Document(url=row["url"], text=row["text"], site=row["site"]) for row in extra]
    totals, before_lineage = [], []
    with open_warehouse(db, settings) as wh:
        for doc in docs[:half]:
            start = time.perf_counter()
            report = ingest(wh, [doc], settings, command="bench")
            totals.append(time.perf_counter() - start)
            before_lineage.append(totals[-1] - report.clock.seconds.get("lineage", 0.0))
        start = time.perf_counter()
        ingest(wh, docs[half:], settings, command="bench")
        together = time.perf_counter() - start
    return {
        "one_per_run": {
            "articles": half,
            "p50_ms": round(1000 * statistics.median(totals), 1),
            "p95_ms": round(1000 * _percentile(totals, 95), 1),
            "p50_ms_before_lineage": round(1000 * statistics.median(before_lineage), 1),
        },
        "in_one_run": {"articles": len(docs) - half, "ms_per_article": round(1000 * together / (len(docs) - half), 1)},
    }


def _command_ingest(db: Path, articles: list[dict[str, str]]) -> dict[str, Any]:
    """Wall time of ``reusetrack ingest FILE`` as the whole command a user runs (start-up, opening
    the warehouse and its index, storing, matching, lineage, closing), one new article a run."""
    command = [str(REUSETRACK)] if REUSETRACK.exists() else [sys.executable, "-m", "reuse"]
    times = []
    with tempfile.TemporaryDirectory(prefix="scale-command-") as scratch:
        for k, article in enumerate(articles):
            path = Path(scratch) / f"article-{k}.jsonl"
            path.write_text(json.dumps(article) + "\n", encoding="utf-8")
            start = time.perf_counter()
            subprocess.run([*command, "--db", str(db), "ingest", str(path)], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    return {"runs": len(times), "p50_ms": round(1000 * statistics.median(times), 1)}


# -- findings on the full warehouse ---------------------------------------------------------


def _recall(db: Path, corpus: Path) -> dict[str, Any]:
    """Share of planted copies found: whose target span is at least ``FOUND_COVERAGE`` covered by
    matches between the two articles (on the target's side): of all plants, and of those of
    ``SHORT_WORDS`` and of ``REPORTED_WORDS`` words or more."""
    found: dict[str, list[bool]] = {}
    with open_warehouse(db, read_only=True) as wh:
        for plant in scalecorpus.plants(corpus):
            rows = wh.con.execute(
                "SELECT CASE WHEN d.url = ? THEN m.b_start ELSE m.a_start END,"
                " CASE WHEN d.url = ? THEN m.b_end ELSE m.a_end END"
                " FROM matches m JOIN versions va ON va.version_id = m.version_a"
                " JOIN versions vb ON vb.version_id = m.version_b"
                " JOIN documents d ON d.doc_id = va.doc_id JOIN documents e ON e.doc_id = vb.doc_id"
                " WHERE (d.url = ? AND e.url = ?) OR (d.url = ? AND e.url = ?)",
                [plant.source, plant.source, plant.source, plant.target, plant.target, plant.source],
            ).fetchall()
            covered = _covered([(s, e) for s, e in rows], plant.target_start, plant.target_end)
            hit = covered >= FOUND_COVERAGE * (plant.target_end - plant.target_start)
            found.setdefault(plant.kind, []).append(hit)
            text = wh.con.execute(
                "SELECT v.text FROM versions v JOIN documents d USING (doc_id) WHERE d.url = ?", [plant.target]
            ).fetchone()
            words = len(text[0][plant.target_start : plant.target_end].split()) if text else 0
            for least in (SHORT_WORDS, REPORTED_WORDS):
                if words >= least:
                    found.setdefault(f"{plant.kind}, {least}+ words", []).append(hit)
    return {
        kind: {"planted": len(v), "found": sum(v), "recall": round(sum(v) / max(1, len(v)), 4)}
        for kind, v in found.items()
    }


def _covered(spans: list[tuple[int, int]], start: int, end: int) -> int:
    """Characters of ``[start, end)`` inside the union of ``spans``."""
    total, reach = 0, start
    for s, e in sorted(spans):
        s, e = max(s, reach), min(e, end)
        if e > s:
            total += e - s
            reach = e
    return total


def _latency(db: Path) -> dict[str, Any]:
    """Median wall time of ``matches DOC`` for 20 documents with matches (the warehouse query in
    this process) and for ``COMMAND_RUNS`` of them as the whole command a user runs, of the lineage
    view for those documents as ancestors, and of the whole site network."""

    def timed(call: Callable[[], object]) -> float:
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    with open_warehouse(db, read_only=True) as wh:
        urls = [
            u
            for (u,) in wh.con.execute(
                "SELECT DISTINCT d.url FROM matches m JOIN versions v ON v.version_id = m.version_b"
                " JOIN documents d USING (doc_id) ORDER BY d.url LIMIT 20"
            ).fetchall()
        ]
        timings = {
            "matches DOC": [timed(partial(wh.document_matches, u)) for u in urls],
            "lineage view, one ancestor": [
                timed(partial(wh.query, "SELECT * FROM lineage WHERE ancestor_url = ?", [u])) for u in urls
            ],
            "site_network view": [timed(partial(wh.query, "SELECT * FROM site_network")) for _ in range(3)],
        }
    # After the connection above is closed: the command opens the warehouse itself.
    command = [str(REUSETRACK)] if REUSETRACK.exists() else [sys.executable, "-m", "reuse"]
    run_command = partial(subprocess.run, check=True, capture_output=True)
    timings["reusetrack matches DOC (whole command)"] = [
        timed(partial(run_command, [*command, "--db", str(db), "matches", u])) for u in urls[:COMMAND_RUNS]
    ]
    return {name: round(1000 * statistics.median(v), 1) for name, v in timings.items() if v}


def run(passages: int, work: Path) -> dict[str, Any]:
    """Every figure of the benchmark, as one JSON-ready dict."""
    work.mkdir(parents=True, exist_ok=True)
    corpus, description = _corpus(work, passages)
    full = _ingest(work / "full.duckdb", corpus)
    words = int(description["words"])
    lines = passage_lines((d.text for d in iter_documents([corpus]) if isinstance(d, Document)), BASELINE_WORDS)
    seconds, _ = handwired_datasketch(lines)
    baseline = sum(map(len, lines)) / seconds
    ours = words / full["seconds"]
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "corpus": description,
        "full_ingest": {
            **full,
            "passages_per_second": round(full["passages"] / full["seconds"]),
            "stage_passages_per_second": {k: round(full["passages"] / v) for k, v in full["stages"].items() if v},
        },
        "words_per_second": {
            "reusetrack_full_ingest": round(ours),
            "datasketch_hand_wired": round(baseline),
            "baseline_sample_words": sum(map(len, lines)),
            "ratio": round(ours / baseline, 2),
        },
        "recall": _recall(work / "full.duckdb", corpus),
        "found_means": f"matches between the two articles cover >= {FOUND_COVERAGE:.0%} of the plant (copy's side)",
        "warehouse_bytes_per_million_passages": round((work / "full.duckdb").stat().st_size / full["passages"] * 1e6),
        "latency_ms": _latency(work / "full.duckdb"),
    }
    extra = scalecorpus.extra_articles(PAN13, corpus, 2 * INCREMENTAL + COMMAND_RUNS)
    curve: dict[str, Any] = {}
    for size in CURVE:
        db = work / f"prefix-{size}.duckdb"
        prefix = _ingest(db, corpus, documents=-(-size // PASSAGES_PER_ARTICLE))
        curve[str(prefix["passages"])] = _incremental(db, extra[: 2 * INCREMENTAL])
    curve[str(full["passages"])] = _incremental(work / "full.duckdb", extra[: 2 * INCREMENTAL])
    result["incremental"] = curve
    result["one_article_command"] = _command_ingest(work / "full.duckdb", extra[2 * INCREMENTAL :])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=1_000_000, help="corpus size in engine passages")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache/reusetrack-scale")
    parser.add_argument("--child-ingest", nargs=2, metavar=("DB", "CORPUS"), help=argparse.SUPPRESS)
    parser.add_argument("--documents", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--command-ingest",
        type=Path,
        metavar="DB",
        help="only time the one-article ingest command against DB (a copy of a full warehouse: it grows)",
    )
    args = parser.parse_args()
    if args.child_ingest:
        db, corpus = args.child_ingest
        _child_ingest(Path(db), Path(corpus), args.documents)
        return
    if not PAN13.is_dir():
        sys.exit(f"Error: the PAN13 training corpus is not at {PAN13}")
    if args.command_ingest:
        corpus, _ = _corpus(args.work, args.passages)
        extra = scalecorpus.extra_articles(PAN13, corpus, 2 * INCREMENTAL + COMMAND_RUNS)
        print(json.dumps(_command_ingest(args.command_ingest, extra[2 * INCREMENTAL :])))
        return
    print(json.dumps(run(args.passages, args.work), indent=2))


if __name__ == "__main__":
    main()
