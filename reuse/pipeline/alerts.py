"""Raising alerts: what the lineage update owes the watchlists, computed in its transaction.

Site and document watches read the reuse edges the update just stored
(:func:`warehouse.alerts.edge_alerts`). A text watch is matched as any document is: its passage
is fingerprinted, its band keys and key families looked up among the new versions' stored keys, and the
candidates verified and aligned by the engine; a document holds the passage when the aligned text
outside its boilerplate (its site's learned template and the blocks the extractor marked) is at
least ``min_evidence_chars`` long, or half the passage when that is shorter. So a page that only
repeats its site's template never fires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from crawlers.files import read_text
from crawlers.pages import site_of
from crawlers.urls import page_key
from reuse.config import Settings
from reuse.engine.analysis import analyse_many
from reuse.engine.boilerplate import boilerplate_spans, subtract, union_length
from reuse.engine.matching import match_pairs
from reuse.errors import InputError
from reuse.models import Match, Span, TextBlock
from warehouse import alerts as alerts_db
from warehouse import lineage as lineage_db
from warehouse.db import Warehouse, open_when_free
from warehouse.scans import execute_with

__all__ = ["add_watch", "raise_alerts"]

#: A site as ``watch add`` takes it: a host name (with a port when not the default), no path.
_SITE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d+)?$", re.I)


def add_watch(
    db: str | Path,
    target: str | None,
    *,
    text_file: Path | None = None,
    name: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Add a watch to the warehouse at ``db`` and return it (``watch_id``, ``kind``, ``target``).

    ``target`` is a site (``southfront.org``, as :func:`crawlers.pages.site_of` names sites), a
    document (doc_id or URL, found by :meth:`Warehouse.resolve_document`); or ``text_file`` names
    a file holding a passage to watch for. Raises :class:`InputError` (or
    :class:`~reuse.errors.NoSuchDocument`) for a target that names nothing, a text too short to
    fingerprint, or one watched already.
    """
    settings = Settings()
    if (target is None) == (text_file is None):
        raise InputError("watch add", "give one of a site, a document (URL or doc_id) or --text FILE")
    watched: dict[str, Any] = {}
    if text_file is not None:
        text = read_text(text_file).strip()
        if not analyse_many([text], settings)[0].passages:
            raise InputError(str(text_file), f"too short to watch: a passage needs {settings.min_tokens} words or more")
        watched = {"kind": "text", "target": str(text_file), "text": text}
    with open_when_free(db, wait=60.0) as wh:
        if target is not None:
            watched = _target_fields(wh, target.strip())
        with wh.transaction():
            watch_id = alerts_db.add_watch(wh, **watched, name=name, note=note)
    return {"watch_id": watch_id, "kind": watched["kind"], "target": watched["target"]}


def _target_fields(wh: Warehouse, target: str) -> dict[str, Any]:
    """What ``target`` watches: a site when it is a host name, else the document it names."""
    if _SITE.match(target) and not target.isdigit():
        return {"kind": "site", "target": target, "site": site_of(f"https://{target}")}
    doc = wh.resolve_document(target, page_key)
    return {"kind": "document", "target": doc.url, "doc_id": doc.doc_id}


def raise_alerts(wh: Warehouse, settings: Settings, run_id: int, doc_ids: Iterable[int]) -> int:
    """Raise the alerts owed after lineage run ``run_id`` stored its edges, ``doc_ids`` being the
    documents whose versions it took in; return how many. Call it in the lineage update's
    transaction, after the edges are stored: an alert then exists exactly when its lineage does."""
    if not alerts_db.watching(wh):
        return 0
    rows = alerts_db.edge_alerts(wh, run_id)
    rows += _text_alerts(wh, settings, set(doc_ids))
    return alerts_db.insert_alerts(wh, run_id, rows)


def _text_alerts(wh: Warehouse, settings: Settings, doc_ids: set[int]) -> list[dict[str, Any]]:
    """An alert row for each active text watch and each of ``doc_ids`` first stored after it,
    not alerted yet, whose current version holds the watched passage outside its boilerplate."""
    watches = alerts_db.text_watches(wh)
    if not watches or not doc_ids:
        return []
    current = lineage_db.current_versions(wh, doc_ids)
    alert_docs = {"id": pa.array(sorted(current), pa.int64())}
    first = dict(
        execute_with(
            wh.con,
            "SELECT doc_id, min(version_id) FROM versions WHERE doc_id IN (SELECT id FROM alert_docs) GROUP BY 1",
            alert_docs=alert_docs,
        ).fetchall()
    )
    done = set(
        execute_with(
            wh.con, "SELECT watch_id, copy_doc FROM alerts WHERE copy_doc IN (FROM alert_docs)", alert_docs=alert_docs
        ).fetchall()
    )
    found: list[dict[str, Any]] = []
    for watch, passage in zip(watches, analyse_many([w["text"] for w in watches], settings), strict=True):
        wanted = {
            current[doc]
            for doc in current
            if first[doc] > watch["after_version"] and (watch["watch_id"], doc) not in done
        }
        if not wanted or not passage.passages:
            continue
        # The bands and the key families, as a new document's passages are looked up: a short
        # quoted line of the watched text is found by its anchors.
        keys, positions = passage.lookup_keys()
        probe = {"key": pa.array(keys, pa.uint64()), "position": pa.array(positions, pa.int64())}
        # The range lets DuckDB skip the row groups of older versions (band keys are stored in
        # version order) instead of joining every stored key.
        candidates = execute_with(
            wh.con,
            "SELECT DISTINCT b.version_id, k.position, p.position FROM band_keys b"
            " JOIN watch_keys k ON k.key = b.key JOIN passages p ON p.passage_id = b.passage_id"
            " WHERE b.version_id BETWEEN ? AND ? AND b.version_id IN (SELECT id FROM watch_versions) ORDER BY ALL",
            [min(wanted), max(wanted)],
            watch_keys=probe,
            watch_versions={"id": pa.array(sorted(wanted), pa.int64())},
        ).fetchall()
        by_version: dict[int, list[tuple[int, int]]] = {}
        for version_id, mine, theirs in candidates:
            by_version.setdefault(int(version_id), []).append((int(mine), int(theirs)))
        if not by_version:
            continue
        versions = lineage_db.load_versions(wh, by_version)
        hashes = lineage_db.site_boilerplate_hashes(wh, {r["site"] for r in versions.values() if r["site"]})
        order = sorted(by_version)
        texts = analyse_many([versions[v]["text"] for v in order], settings, signatures=False)
        results = match_pairs(
            [(passage.comparable, t.comparable, by_version[v]) for v, t in zip(order, texts, strict=True)], settings
        )
        for version_id, result in zip(order, results, strict=True):
            row = versions[version_id]
            own = subtract((m.b for m in result.matches), _boilerplate(row, hashes))
            if union_length(own) < min(settings.min_evidence_chars, len(watch["text"]) / 2):
                continue
            found.append(_text_row(watch["watch_id"], row, result.matches, len(watch["text"])))
    return found


def _boilerplate(row: dict[str, Any], hashes: dict[str, set[int]]) -> list[Span]:
    """The spans of a version (a row of :func:`warehouse.lineage.load_versions`) that are never
    evidence of reuse: blocks the extractor marked and its site's learned boilerplate."""
    blocks = [TextBlock(b["char_start"], b["char_end"], b["kind"], b["boilerplate"]) for b in row["blocks"]]
    learned = hashes.get(row["site"] or "", set())
    return boilerplate_spans(blocks, [int(b["text_hash"]) for b in row["blocks"]], learned)


def _text_row(watch_id: int, row: dict[str, Any], matches: list[Match], passage_chars: int) -> dict[str, Any]:
    """The alert row of a text watch found in the version ``row``: the share of the passage found
    (``coverage_source``) and of the document it makes up, and the aligned spans as evidence."""
    return {
        "watch_id": watch_id,
        "copy_doc": row["doc_id"],
        "copy_version": row["version_id"],
        "copy_time": row["published"] or row["first_seen"],
        "copy_time_precision": row["published_precision"] if row["published"] else None,
        "source_doc": None,
        "source_version": None,
        "relation": "text",
        "directed": None,
        "method": None,
        "confidence": None,
        "lag_seconds": None,
        "coverage_source": min(1.0, union_length(m.a for m in matches) / max(1, passage_chars)),
        "coverage_target": union_length(m.b for m in matches) / max(1, len(row["text"])),
        "credited": None,
        "labels": [],
        "evidence": [
            {
                "passage_start": m.a.start,
                "passage_end": m.a.end,
                "copy_start": m.b.start,
                "copy_end": m.b.end,
                "kind": m.kind.value,
                "similarity": m.similarity,
                "text": row["text"][m.b.start : m.b.end],
            }
            for m in matches
        ],
    }
