"""Watchlists and their alerts in the warehouse: the watches, the alerts the lineage update raises
for new copies of what they watch, their read side (:func:`list_alerts`, the items of ``reusetrack
alerts --json``, and :func:`atom_feed`, its Atom feed) and the webhook delivery state.

An alert is raised once per watch and copy (``UNIQUE (watch_id, copy_doc)``), in the transaction
of the lineage update whose edges it is read from: a killed run leaves its lineage, and with it its
alerts, owed to the next run; a rebuilt lineage finds the copies it alerted already alerted.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from reuse.errors import InputError
from warehouse.db import Warehouse
from warehouse.scans import execute_with

__all__ = [
    "ATOM_NS",
    "add_watch",
    "alert_json",
    "atom_feed",
    "edge_alerts",
    "feed_id_of",
    "insert_alerts",
    "list_alerts",
    "list_watches",
    "mark_seen",
    "owed_deliveries",
    "record_deliveries",
    "register_webhook",
    "remove_watch",
    "text_watches",
    "watching",
]

ATOM_NS = "http://www.w3.org/2005/Atom"

#: The edges a site or document watch reads, best first for one copy: the lineage tree's edge,
#: a directed one, then the one holding most of the source (ties by source document).
_EDGE_ALERTS = """
WITH w AS (SELECT * FROM watches WHERE removed_at IS NULL AND kind IN ('site', 'document')),
found AS (
    SELECT w.watch_id, e.*, n.doc_time, n.time_precision
    FROM reuse_edges e
    JOIN documents s ON s.doc_id = e.source_doc
    JOIN documents t ON t.doc_id = e.target_doc
    JOIN w ON (w.kind = 'site' AND s.site = w.site AND t.site IS DISTINCT FROM w.site)
           OR (w.kind = 'document' AND e.source_doc = w.doc_id)
    LEFT JOIN lineage_nodes n ON n.doc_id = e.target_doc
    WHERE e.run_id = $run
      AND e.relation IN ('copy', 'undirected') AND (e.directed OR e.in_tree)
      AND (SELECT min(v.version_id) FROM versions v WHERE v.doc_id = e.target_doc) > w.after_version
      AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.watch_id = w.watch_id AND a.copy_doc = e.target_doc)
    QUALIFY row_number() OVER (
        PARTITION BY w.watch_id, e.target_doc
        ORDER BY e.in_tree DESC, e.directed DESC, e.coverage_source DESC, e.source_doc
    ) = 1
)
SELECT watch_id, target_doc AS copy_doc, target_version AS copy_version, doc_time AS copy_time,
       time_precision AS copy_time_precision, source_doc, source_version, relation, directed, method,
       confidence, lag_seconds, coverage_source, coverage_target, credited, labels, evidence
FROM found ORDER BY watch_id, copy_doc
"""


def _dicts(wh: Warehouse, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = wh.con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


# -- watches ---------------------------------------------------------------------------------------


def add_watch(
    wh: Warehouse,
    kind: str,
    target: str,
    *,
    site: str | None = None,
    doc_id: int | None = None,
    text: str | None = None,
    name: str | None = None,
    note: str | None = None,
) -> int:
    """Add a watch (``kind`` 'site', 'document' or 'text', with its ``site``, ``doc_id`` or
    ``text``) and return its id. Documents first stored after it are what it alerts on. Raises
    :class:`InputError` when an active watch already watches the same thing. Call it in a transaction."""
    same = wh.con.execute(
        "SELECT watch_id FROM watches WHERE removed_at IS NULL AND kind = ?"
        " AND site IS NOT DISTINCT FROM ? AND doc_id IS NOT DISTINCT FROM ? AND text IS NOT DISTINCT FROM ?",
        [kind, site, doc_id, text],
    ).fetchall()
    if same:
        raise InputError(target, f"already watched (watch {same[0][0]})")
    watch_id = wh.next_id("watches", "watch_id")
    (after,) = wh.con.execute("SELECT coalesce(max(version_id), 0) FROM versions").fetchall()[0]
    wh.insert(
        "watches",
        [
            {
                "watch_id": watch_id,
                "kind": kind,
                "target": target,
                "site": site,
                "doc_id": doc_id,
                "text": text,
                "name": name,
                "note": note,
                "created_at": datetime.now(UTC),
                "after_version": int(after),
            }
        ],
    )
    return watch_id


def list_watches(wh: Warehouse) -> list[dict[str, Any]]:
    """The active watches, oldest first: id, kind, target, name, note, when added, and the alerts
    each raised (``alerts``) and of those not seen yet (``unseen``). None in a warehouse without
    watches (a snapshot of one older than migration 7)."""
    if not _has_alerts(wh):
        return []
    return _dicts(
        wh,
        "SELECT w.watch_id, w.kind, w.target, w.name, w.note, w.created_at,"
        " count(a.alert_id) AS alerts, count(a.alert_id) FILTER (WHERE a.seen_at IS NULL) AS unseen"
        " FROM watches w LEFT JOIN alerts a USING (watch_id) WHERE w.removed_at IS NULL"
        " GROUP BY ALL ORDER BY w.watch_id",
    )


def remove_watch(wh: Warehouse, watch_id: int) -> None:
    """Stop the watch ``watch_id`` (its alerts stay); :class:`InputError` when there is no such active watch."""
    found = wh.con.execute(
        "UPDATE watches SET removed_at = ? WHERE watch_id = ? AND removed_at IS NULL RETURNING watch_id",
        [datetime.now(UTC), watch_id],
    ).fetchall()
    if not found:
        raise InputError(str(watch_id), "no such watch (see 'reusetrack watch list')")


def watching(wh: Warehouse) -> bool:
    """Whether any watch is active (else a lineage update has no alert to look for)."""
    return bool(wh.con.execute("SELECT 1 FROM watches WHERE removed_at IS NULL LIMIT 1").fetchall())


def text_watches(wh: Warehouse) -> list[dict[str, Any]]:
    """The active text watches: ``watch_id``, ``text`` and ``after_version``."""
    return _dicts(
        wh, "SELECT watch_id, text, after_version FROM watches WHERE removed_at IS NULL AND kind = 'text' ORDER BY 1"
    )


# -- raising alerts --------------------------------------------------------------------------------


def edge_alerts(wh: Warehouse, run_id: int) -> list[dict[str, Any]]:
    """The alerts owed by the reuse edges lineage run ``run_id`` stored: for each active site or
    document watch, each new copy (first stored after the watch) of its site or document not
    alerted yet, by its best edge. Rows of the ``alerts`` table without id, run and time."""
    return _dicts(wh, _EDGE_ALERTS, {"run": run_id})


def insert_alerts(wh: Warehouse, run_id: int, rows: Iterable[dict[str, Any]]) -> int:
    """Store new alerts raised by run ``run_id`` (in its lineage update's transaction); return how many."""
    raised = datetime.now(UTC)
    alert_id = wh.next_id("alerts", "alert_id")
    stored = []
    for row in sorted(rows, key=lambda r: (r["watch_id"], r["copy_doc"])):
        evidence = row["evidence"]
        stored.append(
            {
                **row,
                "alert_id": alert_id,
                "run_id": run_id,
                "raised_at": raised,
                "evidence": evidence if isinstance(evidence, str) else json.dumps(evidence, ensure_ascii=False),
            }
        )
        alert_id += 1
    wh.insert("alerts", stored)
    return len(stored)


# -- the read side ---------------------------------------------------------------------------------


def _has_alerts(wh: Warehouse) -> bool:
    """Whether the schema has alerts (a snapshot of an older warehouse has not)."""
    return bool(wh.con.execute("SELECT 1 FROM duckdb_views() WHERE view_name = 'alert_details'").fetchall())


def _item(row: dict[str, Any]) -> dict[str, Any]:
    """One ``alert_details`` row as an item of ``alerts --json``."""
    source = None
    if row["source_doc"] is not None:
        source = {
            "doc_id": row["source_doc"],
            "url": row["source_url"],
            "site": row["source_site"],
            "title": row["source_title"],
            "version_id": row["source_version"],
        }
    return {
        "alert_id": row["alert_id"],
        "raised_at": row["raised_at"],
        "seen_at": row["seen_at"],
        "run_id": row["run_id"],
        "watch": {
            "watch_id": row["watch_id"],
            "kind": row["watch_kind"],
            "target": row["watch_target"],
            "name": row["watch_name"],
        },
        "copy": {
            "doc_id": row["copy_doc"],
            "url": row["copy_url"],
            "site": row["copy_site"],
            "title": row["copy_title"],
            "time": row["copy_time"],
            "time_precision": row["copy_time_precision"],
            "version_id": row["copy_version"],
        },
        "source": source,
        "relation": row["relation"],
        "directed": row["directed"],
        "method": row["method"],
        "confidence": row["confidence"],
        "lag_seconds": row["lag_seconds"],
        "coverage_source": row["coverage_source"],
        "coverage_target": row["coverage_target"],
        "credited": row["credited"],
        "labels": list(row["labels"]),
        "evidence": json.loads(row["evidence"]),
    }


def list_alerts(
    wh: Warehouse,
    since: datetime | None = None,
    unseen: bool = False,
    limit: int | None = None,
    alert_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """The alerts, newest first, as the items of ``reusetrack alerts --json``: those raised at or
    after ``since``, only the ones not marked seen with ``unseen``, at most ``limit``, only
    ``alert_ids`` when given. Each item: ``alert_id``, ``raised_at``, ``seen_at``, ``run_id``,
    ``watch`` {watch_id, kind, target, name}, ``copy`` {doc_id, url, site, title, time,
    time_precision, version_id}, ``source`` (the same for the document copied; None for a text
    watch), ``relation``, ``directed``, ``method``, ``confidence``, ``lag_seconds``,
    ``coverage_source``, ``coverage_target``, ``credited``, ``labels`` and ``evidence`` (parsed)."""
    if not _has_alerts(wh):
        return []
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if since is not None:
        where.append("raised_at >= ?")
        params.append(since)
    if unseen:
        where.append("seen_at IS NULL")
    if alert_ids is not None:
        where.append("list_contains(?, alert_id)")
        params.append(list(alert_ids))
    sql = f"SELECT * FROM alert_details WHERE {' AND '.join(where)} ORDER BY alert_id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_item(row) for row in _dicts(wh, sql, params)]


def mark_seen(wh: Warehouse, alert_ids: Sequence[int]) -> None:
    """Mark the given alerts seen (now), those not seen yet. Call it in a transaction."""
    execute_with(
        wh.con,
        "UPDATE alerts SET seen_at = ? WHERE seen_at IS NULL AND alert_id IN (SELECT id FROM seen_alerts)",
        [datetime.now(UTC)],
        seen_alerts={"id": pa.array(list(alert_ids), pa.int64())},
    )


def _summary(item: dict[str, Any]) -> str:
    """One alert in a sentence, for a feed entry's title."""
    copy, source = item["copy"], item["source"]
    if source is None:
        return f"{copy['site'] or copy['url']} holds the watched text ({item['watch']['target']})"
    credit = {"credited": "credited", "credited_other": "crediting another source"}.get(item["credited"], "uncredited")
    return f"{copy['site'] or copy['url']} copies {source['site'] or source['url']} ({credit})"


def feed_id_of(warehouse: str | Path) -> str:
    """The id of the Atom feed of the alerts of the warehouse file ``warehouse``: the same for
    ``alerts --atom`` and ``serve``'s /alerts.atom, so its entries' ids are too."""
    return f"urn:reusetrack:alerts:{Path(warehouse).resolve()}"


def atom_feed(
    items: Sequence[dict[str, Any]],
    *,
    feed_id: str,
    title: str = "reusetrack alerts",
    link: str | None = None,
    page: Callable[[int], str] | None = None,
) -> bytes:
    """An Atom feed (RFC 4287) of alert items (as :func:`list_alerts` gives them), as UTF-8 XML.

    Each entry's id is ``{feed_id}:alert:{alert_id}``, stable across runs (a feed reader shows
    an alert once); its link is the copy's URL, its content the alert as JSON. ``feed_id`` names
    the feed (a ``urn:`` or the URL it is served at); ``link`` is the feed's own address if any.
    With ``page`` (a doc_id's address on ``reusetrack serve``: the copy's story, beside its
    source), an entry links to the copy's page, and to the copy's URL as a related link.
    """
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    def stamp(value: Any) -> str:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    updated = max((stamp(i["raised_at"]) for i in items), default=datetime(1970, 1, 1, tzinfo=UTC).isoformat())
    sub(feed, "updated", updated)
    sub(sub(feed, "author"), "name", "reusetrack")
    sub(feed, "generator", "reusetrack")
    if link:
        sub(feed, "link", rel="self", href=link)
    for item in items:
        entry = sub(feed, "entry")
        sub(entry, "id", f"{feed_id}:alert:{item['alert_id']}")
        sub(entry, "title", _summary(item))
        sub(entry, "updated", stamp(item["raised_at"]))
        if page is not None:
            sub(entry, "link", rel="alternate", href=page(item["copy"]["doc_id"]))
            sub(entry, "link", rel="related", href=item["copy"]["url"])
        else:
            sub(entry, "link", rel="alternate", href=item["copy"]["url"])
        if item["source"] is not None:
            sub(entry, "link", rel="related", href=item["source"]["url"])
        for label in item["labels"]:
            sub(entry, "category", term=label)
        lines = [f"copy: {item['copy']['url']}"]
        if item["source"] is not None:
            lines.append(f"source: {item['source']['url']}")
        lines.append(f"coverage: {item['coverage_source']:.0%}" if item["coverage_source"] is not None else "")
        if item["labels"]:
            lines.append("edits: " + ", ".join(item["labels"]))
        sub(entry, "summary", "\n".join(line for line in lines if line))
        sub(entry, "content", json.dumps(alert_json(item), ensure_ascii=False), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def alert_json(value: Any) -> Any:
    """An alert item (of :func:`list_alerts`) ready for ``json.dumps``: its times as ISO strings.
    What a feed entry holds and a webhook is sent."""
    if isinstance(value, dict):
        return {k: alert_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [alert_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# -- webhooks --------------------------------------------------------------------------------------


def register_webhook(wh: Warehouse, url: str) -> None:
    """Record ``url`` as a webhook the first time it is given: every alert raised after this is
    owed to it. Call it in a transaction, before the run that raises alerts."""
    wh.con.execute(
        "INSERT INTO webhooks SELECT ?, ?, (SELECT coalesce(max(alert_id), 0) FROM alerts)"
        " WHERE NOT EXISTS (SELECT 1 FROM webhooks WHERE url = ?)",
        [url, datetime.now(UTC), url],
    )


def owed_deliveries(wh: Warehouse, url: str) -> list[int]:
    """The ids of the alerts owed to the webhook ``url`` (raised since it was registered, not
    delivered to it yet), oldest first."""
    rows = wh.con.execute(
        "SELECT a.alert_id FROM alerts a JOIN webhooks h ON h.url = ? AND a.alert_id > h.after_alert"
        " WHERE NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.alert_id = a.alert_id AND d.url = h.url"
        " AND d.delivered_at IS NOT NULL) ORDER BY a.alert_id",
        [url],
    ).fetchall()
    return [int(r[0]) for r in rows]


def record_deliveries(wh: Warehouse, url: str, outcomes: Sequence[tuple[int, int, str | None]]) -> None:
    """Record what became of POSTs to ``url``: ``(alert_id, attempts, error)`` each, an error of
    None meaning delivered. Call it in a transaction."""
    now = datetime.now(UTC)
    for alert_id, attempts, error in outcomes:
        wh.con.execute(
            "INSERT INTO alert_deliveries VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id, url) DO UPDATE SET"
            " attempts = alert_deliveries.attempts + excluded.attempts, last_attempt_at = excluded.last_attempt_at,"
            " last_error = excluded.last_error, delivered_at = excluded.delivered_at",
            [alert_id, url, attempts, now, error, now if error is None else None],
        )
