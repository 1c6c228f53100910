"""The PAN13 text-alignment evaluation in corpus mode: ingest every document, then score the matches
inside the listed pairs (../shared/docs/EVALUATION.md).
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reuse.config import Settings
from reuse.errors import InputError
from reuse.eval.pan13_corpus import Pan13Corpus, read_document, write_detections
from reuse.eval.plagdet import CategoryScores, Detection, score_by_category
from reuse.models import Document, Span
from reuse.pipeline.ingest import IngestReport, ProgressHook, ingest
from warehouse.db import Warehouse, open_warehouse

__all__ = ["Pan13Result", "evaluate_pan13", "evaluate_pan13_fresh", "pan13_detections"]


@dataclass(frozen=True)
class Pan13Result:
    """The scores of one corpus-mode PAN13 run, and what it cost."""

    rows: dict[str, CategoryScores]
    detections: list[Detection]
    report: IngestReport
    seconds: float
    peak_rss_mb: float

    def scores(self) -> dict[str, Any]:
        """The JSON-ready summary: for each category folder name and ``entire``, ``plagdet``,
        ``precision``, ``recall``, ``granularity``, ``pair_recall`` (None without positive pairs)
        and ``negative_detections`` (detections inside the category's pairs without a case, such
        as all of 01's: each is a false alarm); plus ``seconds`` and ``peak_rss_mb``."""
        summary: dict[str, Any] = {
            name: {
                "plagdet": row.scores.plagdet,
                "precision": row.scores.precision,
                "recall": row.scores.recall,
                "granularity": row.scores.granularity,
                "pair_recall": row.pair_recall,
                "negative_detections": row.negative_detections,
            }
            for name, row in self.rows.items()
        }
        summary["seconds"] = round(self.seconds, 3)
        summary["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        return summary


def pan13_detections(warehouse: Warehouse) -> list[Detection]:
    """Every stored match between a suspicious and a source document, oriented as PAN wants."""
    _, rows = warehouse.query(
        "SELECT url_a, a_start, a_end, url_b, b_start, b_end FROM match_details"
        " WHERE starts_with(url_a, 'pan13:') AND starts_with(url_b, 'pan13:')"
    )
    detections = []
    for url_a, a0, a1, url_b, b0, b1 in rows:
        name_a, name_b = url_a.removeprefix("pan13:"), url_b.removeprefix("pan13:")
        if name_a.startswith("suspicious") and name_b.startswith("source"):
            detections.append(Detection(name_a, Span(a0, a1), name_b, Span(b0, b1)))
        elif name_b.startswith("suspicious") and name_a.startswith("source"):
            detections.append(Detection(name_b, Span(b0, b1), name_a, Span(a0, a1)))
    return detections


def evaluate_pan13(
    warehouse: Warehouse, corpus: Pan13Corpus, settings: Settings, progress: ProgressHook | None = None
) -> Pan13Result:
    """Corpus mode: ingest every document of ``corpus`` into ``warehouse`` (meant to be fresh),
    match as for any corpus, and score the matches that fall inside the listed pairs."""
    started = time.perf_counter()

    def documents() -> Iterator[Document | InputError]:
        for name, path in [*sorted(corpus.sources.items()), *sorted(corpus.suspicious.items())]:
            try:
                yield Document(url=f"pan13:{name}", text=read_document(path), source=str(path))
            except InputError as err:
                yield err

    report = ingest(warehouse, documents(), settings, command="eval pan13", progress=progress, lineage=False)
    detections = pan13_detections(warehouse)
    rows = score_by_category(corpus.truth(), detections)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Pan13Result(rows, detections, report, time.perf_counter() - started, peak)


def evaluate_pan13_fresh(
    corpus: Pan13Corpus,
    settings: Settings,
    *,
    out: Path | None = None,
    progress: ProgressHook | None = None,
) -> Pan13Result:
    """:func:`evaluate_pan13` in a fresh warehouse of its own, deleted afterwards.

    With ``out``, the detections are also written there as PAN XML files; the folder is checked
    (and created) before the run, so a folder holding earlier results fails fast.
    """
    if out is not None:
        write_detections(out, [])  # raises now, not after the run, if out holds earlier detections
    with (
        tempfile.TemporaryDirectory(prefix="reusetrack-pan13-") as scratch,
        open_warehouse(Path(scratch) / "pan13.duckdb", settings) as warehouse,
    ):
        result = evaluate_pan13(warehouse, corpus, settings, progress)
    if out is not None:
        write_detections(out, result.detections)
    return result


# -- page evidence and lineage ------------------------------------------------------------------------
#
# Ingest stores what each page says about itself (blocks, links, credits, dates); after the last
# batch of a run, the lineage stage relearns the boilerplate of the sites the run touched, writes
# the version diffs, and rebuilds the stories holding any document the run stored.
