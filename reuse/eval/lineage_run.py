"""The lineage check on generated news (``reusetrack eval lineage``): write a generated world as a
web archive, ingest it into a fresh warehouse the way a user would, read back the lineage and
score it against the truth (:mod:`reuse.eval.lineage_truth`).
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawlers.files import iter_documents
from reuse.config import Settings
from reuse.eval.lineage_truth import FoundNode, LineageScores, World, generate_world, score_lineage
from reuse.pipeline.ingest import IngestReport, ProgressHook, ingest
from warehouse.db import Warehouse, open_warehouse

__all__ = ["evaluate_lineage", "found_lineage", "write_archive"]


def write_archive(world: World, path: Path) -> None:
    """Write every page of ``world`` as a gzipped WARC ``response`` record, captured at its time."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for page in world.pages:
            body = page.html.encode("utf-8")
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                page.url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": page.captured.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)


def found_lineage(warehouse: Warehouse) -> tuple[dict[str, FoundNode], dict[str, str | None]]:
    """Each stored document's story, tree parent, and the tree edge's direction, credit and labels
    (by URL); and, for every URL the documents were read from, the URL of the document it became."""
    _, rows = warehouse.query(
        "SELECT d.url, n.story_id, p.url, e.directed, e.credited, e.labels"
        " FROM documents d LEFT JOIN lineage_nodes n USING (doc_id)"
        " LEFT JOIN documents p ON p.doc_id = n.parent_doc"
        " LEFT JOIN reuse_edges e ON e.edge_id = n.edge_id"
    )
    found = {
        url: FoundNode(url, story, parent, bool(directed), credited, tuple(labels or ()))
        for url, story, parent, directed, credited, labels in rows
    }
    _, read = warehouse.query("SELECT u.url, d.url FROM document_urls u JOIN documents d USING (doc_id)")
    stored: dict[str, str | None] = {url: url for url in found}
    stored.update({fetched: url for fetched, url in read})
    return found, stored


def evaluate_lineage(
    seed: int, *, stories: int = 12, sites: int = 6, progress: ProgressHook | None = None
) -> tuple[LineageScores, IngestReport, float]:
    """Generate a world from ``seed``, ingest it into a fresh temporary warehouse with the default
    settings, and score the lineage found; also the ingest report and the seconds it all took."""
    started = time.perf_counter()
    world = generate_world(seed, stories=stories, sites=sites)
    with tempfile.TemporaryDirectory(prefix="reusetrack-lineage-eval-") as scratch:
        archive = Path(scratch) / "world.warc.gz"
        write_archive(world, archive)
        settings = Settings()
        with open_warehouse(Path(scratch) / "eval.duckdb", settings) as warehouse:
            report = ingest(warehouse, iter_documents([archive]), settings, command="eval lineage", progress=progress)
            found, stored = found_lineage(warehouse)
    return score_lineage(world, found, stored), report, time.perf_counter() - started
