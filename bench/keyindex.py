"""Benchmark: candidate lookups through the band-key index against the DuckDB join (issue 14).

On a warehouse of ``--passages`` passages of ``bench/scale.py``'s corpus (ingested in a child
process, kept in ``--work`` for the next run), new articles of the same corpus (held out) are
stored as an ingest stores them, their band keys inserted in a transaction, and their candidates
looked up both ways in this process: ``Warehouse.candidates_by_join`` (the SQL join of every
stored key, the engine's lookup before) and ``Warehouse.candidates`` (the index), then rolled
back. Reported: one article at a time (p50, p95, the first call of the process apart), 200 (an
ingest's batch) and 1,000 articles in one batch; the ratio join / index of each; the index's size
on disk and the time to build it from ``band_keys`` (as after its files are lost). Both answers
are checked equal.

Usage (from the repository root)::

    python bench/keyindex.py [--passages 200000] [--work DIR] [--articles 100] [--batch 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
import scale  # noqa: E402
import scalecorpus  # noqa: E402

from reuse.config import Settings  # noqa: E402
from reuse.engine.analysis import analyse  # noqa: E402
from reuse.engine.lsh import band_keys, band_params  # noqa: E402
from warehouse.db import Warehouse, open_warehouse  # noqa: E402
from warehouse.keyindex import META_KEY  # noqa: E402


def _keys_of(texts: list[str], settings: Settings) -> list[np.ndarray]:
    """Each text's band keys, one row of ``bands`` keys per passage."""
    bands, rows = band_params(settings)
    return [band_keys(analyse(text, settings).signatures, bands, rows) for text in texts]


def _store(wh: Warehouse, articles: list[np.ndarray]) -> int:
    """Insert the band keys of ``articles`` as new versions (in the open transaction); return
    the first new passage id."""
    first = wh.next_id("band_keys", "passage_id")
    version = wh.next_id("band_keys", "version_id")
    keys, passages, versions = [], [], []
    passage = first
    for k, rows in enumerate(articles):
        count, bands = rows.shape
        keys.append(rows.ravel())
        passages.append(np.repeat(np.arange(passage, passage + count), bands))
        versions.append(np.full(count * bands, version + k))
        passage += count
    wh.insert(
        "band_keys",
        {"key": np.concatenate(keys), "passage_id": np.concatenate(passages), "version_id": np.concatenate(versions)},
    )
    return first


def _both(wh: Warehouse, articles: list[np.ndarray], cap: int) -> tuple[float, float, int]:
    """Seconds of the join and of the index for the candidates of ``articles`` stored in one
    transaction (rolled back after); and how many pairs they found (the same, checked)."""
    assert wh.key_index is not None
    wh.con.execute("BEGIN TRANSACTION")
    try:
        first = _store(wh, articles)
        start = time.perf_counter()
        joined = wh.candidates_by_join(first, cap)
        middle = time.perf_counter()
        indexed = wh.candidates(first, cap)
        end = time.perf_counter()
    finally:
        wh.con.execute("ROLLBACK")
    assert joined.tolist() == indexed.tolist(), "the index and the join disagree"
    return middle - start, end - middle, len(joined)


def _replicated(db: Path, copies: int) -> Path:
    """A copy of ``db`` whose ``band_keys`` hold ``copies`` times its rows: the others shifted to
    new passage and version ids (the same keys, so every key is held ``copies`` times as often)."""
    out = db.with_name(f"{db.stem}-x{copies}.duckdb")
    if out.exists():
        return out
    temp = out.with_suffix(".partial")
    shutil.copy(db, temp)
    with open_warehouse(temp) as wh:
        passages, versions = wh.con.execute("SELECT max(passage_id), max(version_id) FROM band_keys").fetchall()[0]
        for k in range(1, copies):
            wh.con.execute(
                "INSERT INTO band_keys SELECT key, passage_id + ?, version_id + ? FROM band_keys WHERE passage_id <= ?",
                [k * passages, k * versions, passages],
            )
    temp.rename(out)
    return out


def _index_size(wh: Warehouse) -> dict[str, Any]:
    assert wh.key_index is not None
    files = [p for p in wh.key_index.folder.iterdir() if p.name.startswith("seg-")]
    rows = int(wh.con.execute("SELECT count(*) FROM band_keys").fetchall()[0][0])
    size = sum(p.stat().st_size for p in files)
    return {"segments": len(files), "band_keys": rows, "bytes": size, "bytes_per_key": round(size / max(rows, 1), 2)}


def _rebuild(wh: Warehouse) -> float:
    """Seconds to build the whole index from ``band_keys``, as when its files are lost."""
    assert wh.key_index is not None
    committed = wh.next_id("band_keys", "passage_id")
    wh.con.execute("DELETE FROM meta WHERE key = ?", [META_KEY])
    start = time.perf_counter()
    wh.key_index.sync(committed)
    return time.perf_counter() - start


def run(passages: int, work: Path, articles: int, batch: int, copies: int = 1) -> dict[str, Any]:
    """Every figure of the benchmark, as one JSON-ready dict."""
    work.mkdir(parents=True, exist_ok=True)
    corpus, description = scale._corpus(work, passages)
    db = work / "keyindex.duckdb"
    ingest: dict[str, Any] | None = None
    if not db.exists():
        ingest = scale._ingest(db, corpus)
    if copies > 1:
        db = _replicated(db, copies)
    settings = Settings()
    extra = scalecorpus.extra_articles(scale.PAN13, corpus, articles + batch)
    keys = _keys_of([row["text"] for row in extra], settings)
    cap = settings.max_key_versions
    with open_warehouse(db, settings) as wh:
        rebuild = _rebuild(wh)
        size = _index_size(wh)
        stored = wh.next_id("band_keys", "passage_id") - 1
        one = [_both(wh, [k], cap) for k in keys[:articles]]
        joined, indexed = [t[0] for t in one[1:]], [t[1] for t in one[1:]]
        batches = {size: _both(wh, keys[articles : articles + size], cap) for size in (200, batch)}
    ms = 1000.0
    return {
        "warehouse_passages": stored,
        "copies": copies,
        "corpus": description,
        "ingest": ingest,
        "index": {**size, "build_seconds": round(rebuild, 2)},
        "one_article": {
            "articles": len(joined),
            "join_p50_ms": round(ms * statistics.median(joined), 2),
            "index_p50_ms": round(ms * statistics.median(indexed), 2),
            "ratio_p50": round(statistics.median(joined) / statistics.median(indexed), 1),
            "join_p95_ms": round(ms * scale._percentile(joined, 95), 2),
            "index_p95_ms": round(ms * scale._percentile(indexed, 95), 2),
            "first_call_ms": {"join": round(ms * one[0][0], 2), "index": round(ms * one[0][1], 2)},
            "pairs_p50": statistics.median(t[2] for t in one),
        },
        "batches": [
            {
                "articles": size,
                "join_ms": round(ms * joined, 1),
                "index_ms": round(ms * indexed, 1),
                "ratio": round(joined / indexed, 2),
                "pairs": pairs,
            }
            for size, (joined, indexed, pairs) in batches.items()
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache/reusetrack-scale")
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--copies", type=int, default=1, help="measure on band_keys repeated this many times (shifted ids)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.passages, args.work, args.articles, args.batch, args.copies)
    print(json.dumps(result, indent=None if args.json else 2, default=str))


if __name__ == "__main__":
    main()
