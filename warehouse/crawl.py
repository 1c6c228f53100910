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

from warehouse.db import Warehouse
from warehouse.scans import execute_with

__all__ = [
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

# Rows that come due at their next_fetch_at (blocked ones wait for the settings to change).
_SCHEDULED = "state IN ('todo', 'done', 'failed', 'alias')"


def _insert_new(wh: Warehouse, table: str, key: str, rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert the rows whose ``key`` ``table`` does not hold yet (the first row of a key wins);
    return the keys inserted."""
    if not rows:
        return []
    unique: dict[Any, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row[key], row)
    incoming = wh.typed_table(table, list(unique.values()))
    cols = ", ".join(incoming.column_names)
    found = execute_with(
        wh.con,
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming_{table} i"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.{key} = i.{key}) RETURNING {key}",
        **{f"incoming_{table}": incoming},
    ).fetchall()
    return [r[0] for r in found]


def insert_new_frontier(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Add the rows whose URL the frontier does not hold yet; return those URLs (the first row of a URL wins)."""
    return [str(url) for url in _insert_new(wh, "frontier", "url", rows)]


def update_frontier(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> None:
    """Write the given frontier rows over the stored ones (matched by URL; every column but the URL)."""
    if not rows:
        return
    unique = {row["url"]: row for row in rows}  # the last state of a URL wins
    columns = wh.schema("frontier").names  # every one: a column a row leaves out becomes NULL
    sets = ", ".join(f"{name} = i.{name}" for name in columns if name != "url")
    execute_with(
        wh.con,
        f"UPDATE frontier SET {sets} FROM changed_frontier i WHERE frontier.url = i.url",
        changed_frontier=wh.typed_table("frontier", list(unique.values()), columns),
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
    wh.insert(
        "fetch_log",
        [
            {**row, "fetch_id": fetch_id, "redirects": json.dumps(list(row.get("redirects") or []))}
            for fetch_id, row in enumerate(rows, first)
        ],
    )


def insert_raw_pages(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> int:
    """Store raw bodies not stored yet (content-addressed by ``sha256``); return how many were new."""
    return len(_insert_new(wh, "raw_pages", "sha256", rows))


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
