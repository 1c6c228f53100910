"""The band-key index survives SIGKILL as the warehouse does (RELIABILITY P-1, P-2).

``reusetrack ingest`` in batches of 4, with a segment written every 16 passages and merged four
at a time (so that most batches write or merge segment files: kills land while a segment is
written (at once, or in the background for every other warehouse), renamed, merged, or its
record is committed), killed with SIGKILL at random moments,
several times in a row on one warehouse, then run to completion. After every kill the index of
the damaged warehouse gives the DuckDB join's candidates (right, or rebuilt from ``band_keys``),
and its signature store gives DuckDB's signatures, and the final warehouse's matches are those
of a clean run over the same inputs.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import cliproc
import numpy as np
import pytest
from test_lineage_state import corpus, write_corpus
from test_sigstore import rows_by_passage
from typer.testing import CliRunner

from reuse.cli import app
from warehouse.db import open_warehouse
from warehouse.sigstore import FILE_NAME as SIGNATURE_FILE

pytestmark = pytest.mark.timed
runner = CliRunner()
#: Small batches and small segments, so that kills land in the index's work.
ENV = {
    "REUSETRACK_BATCH_SIZE": "4",
    "REUSETRACK_WORKERS": "1",
    "REUSETRACK_SEGMENT_PASSAGES": "16",
    "REUSETRACK_MAX_SEGMENT_PASSAGES": "512",
}


def _run(db: Path, *args: str) -> float:
    """The CLI to completion in this process; its seconds."""
    started = time.monotonic()
    result = runner.invoke(app, ["--db", str(db), *args], env=ENV)
    assert result.exit_code == 0, result.output
    return time.monotonic() - started


def _findings(db: Path) -> set[tuple[object, ...]]:
    """Every stored match, named by its documents' URLs."""
    with open_warehouse(db, read_only=True) as wh:
        _, rows = wh.query(
            "SELECT da.url, db.url, m.a_start, m.a_end, m.b_start, m.b_end, m.kind FROM matches m"
            " JOIN versions va ON va.version_id = m.version_a JOIN documents da ON da.doc_id = va.doc_id"
            " JOIN versions vb ON vb.version_id = m.version_b JOIN documents db ON db.doc_id = vb.doc_id"
        )
    return set(rows)


def _index_agrees(db: Path) -> int:
    """Open the killed run's warehouse as the next writer would and check that the index gives the
    join's candidates from every start; the passages stored."""
    with open_warehouse(db) as wh:
        assert wh.key_index is not None
        stored = wh.next_id("passages", "passage_id")
        index = wh.key_index
        for first in range(1, stored + 1, max(1, stored // 7)):
            assert wh.candidates(first, 20).tolist() == wh.candidates_by_join(first, 20).tolist(), first
        # The signature store gives DuckDB's rows (right, copied in or repaired).
        ids = np.arange(1, stored)
        with wh.transaction():
            kept = wh.passage_signatures(ids)
        assert rows_by_passage(kept) == rows_by_passage(wh.passage_signatures_from_tables(ids))
        named = {s.info.name for s in index.settle(stored)}
        left = {p.name for p in index.folder.iterdir()} if index.folder.is_dir() else set()
        assert left - {SIGNATURE_FILE} == named  # nothing else is left beside it
    return stored - 1


def test_ingest_killed_at_random_points_leaves_an_index_that_is_right_or_rebuilt(tmp_path: Path) -> None:
    rows = corpus(12)
    write_corpus(tmp_path / "in", rows, files=3)
    clean = tmp_path / "clean.duckdb"
    took = _run(clean, "ingest", str(tmp_path / "in"))
    expected = _findings(clean)
    assert expected
    assert len(list(Path(f"{clean}.keyindex").glob("seg-*"))) >= 2
    kills: list[int] = []
    # Until 20 kills: a run that ended before its kill (start-up is about 0.25 s) does not count.
    for seed in range(1, 30):
        rng = random.Random(seed)
        db = tmp_path / f"seed-{seed}.duckdb"
        # Every other seed writes its new segments in the background, as a bulk ingest does.
        env = {**ENV, "REUSETRACK_BACKGROUND_BUILD_ROWS": "1"} if seed % 2 else ENV
        for _ in range(4):
            proc = cliproc.start(["--db", str(db), "ingest", str(tmp_path / "in")], db.with_suffix(".log"), env)
            time.sleep(rng.uniform(0.1, 0.1 + took))
            if not proc.is_alive():
                break
            proc.kill()  # SIGKILL
            proc.join(timeout=30)
            kills.append(_index_agrees(db))
        _run(db, "ingest", str(tmp_path / "in"))
        assert _findings(db) == expected
        if len(kills) >= 20:
            break
    print(f"\n{len(kills)} SIGKILLs, passages stored at each: {kills}")
    assert len(kills) >= 20 and any(k > 0 for k in kills)
