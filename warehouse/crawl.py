"""The crawler's tables: frontier, fetch log, raw pages and sources, loaded in bulk through Arrow.

Every function here runs inside the caller's transaction; the crawl pipeline commits a batch's
documents and the frontier rows they change together. Rows go in and out as plain column dicts
(column name → values), so this module knows nothing of the crawler's classes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from warehouse.db import Warehouse

__all__ = [
    "FETCH_SCHEMA",
    "FRONTIER_SCHEMA",
    "crawl_runs",
    "due_frontier",
    "frontier_rows",
    "frontier_summary",
    "insert_fetches",
    "insert_new_frontier",
    "insert_raw_pages",
    "make_due",
    "raw_page",
    "save_sources",
    "update_frontier",
]

_TS = pa.timestamp("us", tz="UTC")
# Rows that come due at their next_fetch_at (blocked ones wait for the settings to change).
_SCHEDULED = "state IN ('todo', 'done', 'failed', 'alias')"

FRONTIER_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("host", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("depth", pa.int32()),
        ("state", pa.string()),
        ("reason", pa.string()),
        ("attempts", pa.int32()),
        ("discovered_at", _TS),
        ("discovered_from", pa.string()),
        ("next_fetch_at", _TS),
        ("last_fetched_at", _TS),
        ("last_status", pa.int32()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("content_sha256", pa.string()),
        ("unchanged", pa.int32()),
        ("interval_s", pa.float64()),
        ("doc_id", pa.int64()),
        ("final_url", pa.string()),
        ("hint_published", _TS),
        ("hint_source", pa.string()),
        ("hint_title", pa.string()),
        ("hint_precision", pa.string()),
    ]
)

FETCH_SCHEMA = pa.schema(
    [
        ("run_id", pa.int64()),
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("started_at", _TS),
        ("elapsed_ms", pa.int32()),
        ("attempt", pa.int32()),
        ("outcome", pa.string()),
        ("status", pa.int32()),
        ("error", pa.string()),
        ("redirects", pa.string()),
        ("peer", pa.string()),
        ("bytes", pa.int64()),
        ("raw_sha256", pa.string()),
        ("content_type", pa.string()),
        ("kind", pa.string()),
        ("result", pa.string()),
        ("version_id", pa.int64()),
    ]
)

_RAW_SCHEMA = pa.schema(
    [
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("compression", pa.string()),
        ("body", pa.binary()),
        ("first_url", pa.string()),
        ("first_seen", _TS),
    ]
)


def _table(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)


def _with(wh: Warehouse, name: str, table: pa.Table, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    wh.con.register(name, table)
    try:
        return wh.con.execute(sql, list(params)).fetchall()
    finally:
        wh.con.unregister(name)


def insert_new_frontier(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Add the rows whose URL the frontier does not hold yet; return those URLs (the first row of a URL wins)."""
    if not rows:
        return []
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["url"], row)
    cols = ", ".join(FRONTIER_SCHEMA.names)
    found = _with(
        wh,
        "incoming_frontier",
        _table(list(unique.values()), FRONTIER_SCHEMA),
        f"INSERT INTO frontier ({cols}) SELECT {cols} FROM incoming_frontier i"
        " WHERE NOT EXISTS (SELECT 1 FROM frontier f WHERE f.url = i.url) RETURNING url",
    )
    return [str(r[0]) for r in found]


def update_frontier(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> None:
    """Write the given frontier rows over the stored ones (matched by URL; every column but the URL)."""
    if not rows:
        return
    unique = {row["url"]: row for row in rows}  # the last state of a URL wins
    sets = ", ".join(f"{name} = i.{name}" for name in FRONTIER_SCHEMA.names if name != "url")
    _with(
        wh,
        "changed_frontier",
        _table(list(unique.values()), FRONTIER_SCHEMA),
        f"UPDATE frontier SET {sets} FROM changed_frontier i WHERE frontier.url = i.url",
    )


def due_frontier(wh: Warehouse, before: datetime, sources: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Frontier rows to fetch by ``before``: todo, done, failed or alias rows whose time has come, earliest first.

    With ``sources``, only rows of those sources.
    """
    sql = (
        f"SELECT * FROM frontier WHERE {_SCHEDULED} AND next_fetch_at <= ?"
        + (" AND source IN (SELECT unnest(?))" if sources is not None else "")
        + " ORDER BY next_fetch_at, depth, url"
    )
    params: list[Any] = [before] if sources is None else [before, list(sources)]
    cursor = wh.con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def make_due(wh: Warehouse, urls: Sequence[str], now: datetime) -> None:
    """Make the frontier rows of ``urls`` due at ``now``, those blocked (robots.txt may have
    changed, or the address rules) back to ``todo``: what a run does with its seed URLs."""
    wh.con.execute(
        "UPDATE frontier SET next_fetch_at = ?, state = CASE WHEN state = 'blocked' THEN 'todo' ELSE state END"
        " WHERE url IN (SELECT unnest(?))",
        [now, list(urls)],
    )


def insert_fetches(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows to the fetch log (ids assigned here; ``redirects`` given as a list)."""
    if not rows:
        return
    first = wh.next_id("fetch_log", "fetch_id")
    prepared = [{**row, "redirects": json.dumps(list(row.get("redirects") or []))} for row in rows]
    table = _table(prepared, FETCH_SCHEMA)
    table = table.add_column(0, "fetch_id", pa.array(range(first, first + len(rows)), pa.int64()))
    cols = ", ".join(table.column_names)
    _with(wh, "incoming_fetches", table, f"INSERT INTO fetch_log ({cols}) SELECT {cols} FROM incoming_fetches")


def insert_raw_pages(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> int:
    """Store raw bodies not stored yet (content-addressed by ``sha256``); return how many were new."""
    if not rows:
        return 0
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["sha256"], row)
    cols = ", ".join(_RAW_SCHEMA.names)
    found = _with(
        wh,
        "incoming_raw",
        _table(list(unique.values()), _RAW_SCHEMA),
        f"INSERT INTO raw_pages ({cols}) SELECT {cols} FROM incoming_raw i"
        " WHERE NOT EXISTS (SELECT 1 FROM raw_pages r WHERE r.sha256 = i.sha256) RETURNING sha256",
    )
    return len(found)


def raw_page(wh: Warehouse, sha256: str) -> tuple[str, bytes] | None:
    """``(compression, body)`` of a stored raw page, or None."""
    rows = wh.con.execute("SELECT compression, body FROM raw_pages WHERE sha256 = ?", [sha256]).fetchall()
    return (str(rows[0][0]), bytes(rows[0][1])) if rows else None


def save_sources(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> None:
    """Record the sources of a crawl (``name``, ``site``, ``config`` as a dict, ``updated_at``)."""
    for row in rows:
        wh.con.execute(
            "INSERT INTO crawl_sources (name, site, config, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET site = excluded.site, config = excluded.config,"
            " updated_at = excluded.updated_at",
            [row["name"], row.get("site"), json.dumps(row["config"], default=str), row["updated_at"]],
        )


def frontier_summary(wh: Warehouse, now: datetime) -> dict[str, Any]:
    """The frontier at a glance: URLs per state, per host and state, due now, and the commonest reasons."""
    states = dict(wh.con.execute("SELECT state, count(*) FROM frontier GROUP BY ALL ORDER BY 1").fetchall())
    due_row = wh.con.execute(
        f"SELECT count(*) FROM frontier WHERE {_SCHEDULED} AND next_fetch_at <= ?", [now]
    ).fetchall()
    hosts = wh.con.execute(
        "SELECT host, count(*) FILTER (state = 'todo'), count(*) FILTER (state = 'done'),"
        " count(*) FILTER (state = 'failed'), count(*) FILTER (state = 'blocked'), min(next_fetch_at)"
        f" FILTER ({_SCHEDULED}) FROM frontier GROUP BY host ORDER BY host"
    ).fetchall()
    reasons = wh.con.execute(
        "SELECT state, split_part(reason, ':', 1) AS why, count(*) FROM frontier WHERE reason IS NOT NULL"
        " AND state <> 'done' GROUP BY ALL ORDER BY 3 DESC, 1, 2 LIMIT 10"
    ).fetchall()
    return {
        "states": {str(k): int(v) for k, v in states.items()},
        "due": int(due_row[0][0]),
        "hosts": [
            {"host": h, "todo": t, "done": d, "failed": f, "blocked": b, "next_fetch_at": n}
            for h, t, d, f, b, n in hosts
        ],
        "reasons": [{"state": s, "reason": r, "count": c} for s, r, c in reasons],
    }


def crawl_runs(wh: Warehouse, limit: int = 5) -> list[dict[str, Any]]:
    """The last crawl and fetch runs, newest first, with their counts."""
    cursor = wh.con.execute(
        "SELECT run_id, command, started_at, finished_at, stats FROM runs"
        " WHERE command IN ('crawl', 'fetch') ORDER BY run_id DESC LIMIT ?",
        [limit],
    )
    out = []
    for run_id, command, started, finished, stats in cursor.fetchall():
        out.append(
            {
                "run_id": run_id,
                "command": command,
                "started_at": started,
                "finished_at": finished,
                "stats": json.loads(stats) if stats else None,
            }
        )
    return out


def frontier_rows(wh: Warehouse, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The frontier rows of ``urls`` that exist, by URL."""
    if not urls:
        return {}
    cursor = wh.con.execute("SELECT * FROM frontier WHERE url IN (SELECT unnest(?))", [list(urls)])
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
