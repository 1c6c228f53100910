"""Lineage and time: ties within minutes never crash anything, and a time has a precision.

A wire story's copies appear within minutes of each other (the normal case), and a date-only
stamp is a whole day of possible instants, not midnight UTC: the commands are run through the
CLI on real DuckDB files, the direction rule on generated documents (hypothesis).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from reuse.cli import app

PARAS = [
    "The city council approved a new budget on Tuesday that spares the libraries and raises spending on roads"
    " by twelve million over the next three years, officials said after a long session.",
    "Opponents argued the plan relies on optimistic revenue forecasts and warned that a downturn would force"
    " cuts to services that residents depend on every day, including buses and parks.",
    "The mayor said the budget balances competing needs and promised a review in the spring, when updated"
    " figures on tax receipts and federal grants are expected to be published by the treasury.",
]
WIRE = [
    ("https://a.example/budget", "2021-03-01T10:00:00Z"),
    ("https://b.example/budget", "2021-03-01T10:03:00Z"),
    ("https://c.example/budget", "2021-03-01T10:05:00Z"),
]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _cli(db: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--db", str(db), *args])


def _ingest(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    db = tmp_path / "w.duckdb"
    done = _cli(db, "ingest", str(_jsonl(tmp_path / "in.jsonl", rows)))
    assert done.exit_code == 0, done.output
    return db


def test_wire_copies_minutes_apart_show_in_every_command(tmp_path: Path) -> None:
    """Three copies 3 and 5 minutes apart, none crediting another, hang from an unseen upstream:
    lineage (text and --json) used to end in StopIteration for every one of them."""
    text = "\n\n".join(PARAS)
    db = _ingest(tmp_path, [{"url": u, "title": "Budget", "published": p, "text": text} for u, p in WIRE])
    urls = [u for u, _ in WIRE]
    for url in urls:
        shown = _cli(db, "lineage", url)
        assert shown.exit_code == 0, shown.output
        assert shown.stdout.startswith("story 1: 3 documents on 3 sites")
        assert "(unseen upstream source unseen-1-1)" in shown.stdout
        assert all(other in shown.stdout for other in urls)
        data = json.loads(_cli(db, "lineage", "--json", url).stdout)
        assert set(data) == {"root", "edges"}
        # The top of the tree is unseen: the root is the earliest document under it.
        assert (data["root"]["url"], data["root"]["upstream"]) == (urls[0], "unseen-1-1")
        assert sorted(e["target_url"] for e in data["edges"]) == urls  # no document missing
        for edge in data["edges"]:
            assert {"source_url", "target_url", "confidence", "method", "credited", "labels"} <= set(edge)
            assert edge["method"] == "unseen_upstream"
    stories = json.loads(_cli(db, "stories", "--json").stdout)
    assert [(s["documents"], s["root_url"]) for s in stories] == [(3, urls[0])]
    assert _cli(db, "stories").exit_code == 0
    assert _cli(db, "sites").exit_code == 0
    report = _cli(db, "report", urls[1], "-o", str(tmp_path / "r.html"))
    assert report.exit_code == 0, report.output
    exported = _cli(db, "export", "--out", str(tmp_path / "snap"))
    assert exported.exit_code == 0, exported.output


def test_report_and_lineage_of_a_tie_at_the_same_second(tmp_path: Path) -> None:
    """Two copies stamped the same second, a third an hour later: ties are ordered by doc_id."""
    text = "\n\n".join(PARAS)
    t0 = datetime(2021, 3, 1, 10, tzinfo=UTC)
    rows = [
        {"url": "https://a.example/x", "published": t0.isoformat(), "text": text},
        {"url": "https://b.example/x", "published": t0.isoformat(), "text": text},
        {"url": "https://c.example/x", "published": (t0 + timedelta(hours=1)).isoformat(), "text": text},
    ]
    db = _ingest(tmp_path, rows)
    for row in rows:
        assert _cli(db, "lineage", row["url"]).exit_code == 0
        data = json.loads(_cli(db, "lineage", "--json", row["url"]).stdout)
        assert data["root"]["url"] == "https://a.example/x"
        assert sorted(e["target_url"] for e in data["edges"]) == sorted(r["url"] for r in rows)
