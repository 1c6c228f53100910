"""Ingest's inputs as a user meets them: what is read, what is skipped and said so, how a run
is stopped, waits and is fenced in (issue 12, item 8).

The CLI runs through typer's CliRunner on real DuckDB files in tmp_path; what needs a real
process (a FIFO that would hang, signals) runs ``python -m reuse`` in a
subprocess with a timeout, so that a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reuse.cli import app

ARTICLE = (
    "The county council met on Tuesday evening to discuss the proposed budget for the coming fiscal "
    "year, which includes significant increases for road maintenance, school repairs and the bus routes "
    "that connect the outlying villages with the market town."
)
OTHER = (
    "Forecasters expect heavy rain across the northern hills on Saturday, with gusts strong enough to "
    "close the coastal ferry for most of the afternoon, before drier air moves in from the west and "
    "brings sunshine back to the valleys by Sunday lunchtime."
)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "wh.duckdb"


def run(runner: CliRunner, db: Path, *args: str) -> Any:
    return runner.invoke(app, ["--db", str(db), *args])


def sql_rows(runner: CliRunner, db: Path, query: str) -> list[dict[str, Any]]:
    result = run(runner, db, "sql", "--json", query)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def reusetrack(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """``python -m reuse ARGS`` in a process of its own (its own session, so a signal sent to it
    reaches nothing else)."""
    return subprocess.Popen(
        [sys.executable, "-m", "reuse", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )


# --- what is read, and what is said about the rest ----------------------------------------------


def test_fifos_sockets_and_devices_are_skipped_not_read(tmp_path: Path, db: Path) -> None:
    """A FIFO is never opened (opening it waits for a writer forever, holding the write lock)."""
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text(ARTICLE)
    os.mkfifo(root / "pipe.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock.md"))
    try:
        proc = reusetrack("--db", str(db), "ingest", str(root), "/dev/null")
        out, err = proc.communicate(timeout=60)
    finally:
        server.close()
    assert proc.returncode == 0, err
    assert err.splitlines() == [
        f"skipped: {root}/pipe.txt: not a regular file",
        f"skipped: {root}/sock.md: not a regular file",
        "skipped: /dev/null: not a regular file",
    ]
    assert out.startswith("ingested 1, unchanged 0, skipped 3, failed 0; ")


def test_files_of_other_types_in_folders_are_reported_and_hidden_ones_are_not(
    runner: CliRunner, tmp_path: Path, db: Path
) -> None:
    root = tmp_path / "in"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "notes.txt").write_text(OTHER)  # a hidden folder is not read at all
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "a.txt").write_text(ARTICLE)
    (root / "scan.pdf").write_bytes(b"%PDF-1.4")
    (root / "README").write_text("no suffix")
    result = run(runner, db, "ingest", str(root))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"skipped: {root}/README: unsupported file type 'README' (use .txt, .md, .html, .jsonl, .warc[.gz])",
        f"skipped: {root}/scan.pdf: unsupported file type '.pdf' (use .txt, .md, .html, .jsonl, .warc[.gz])",
    ]
    assert result.stdout.startswith("ingested 1, unchanged 0, skipped 2, failed 0; ")


def test_a_repeated_url_keeps_its_first_record_on_every_run(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    url = "https://news.example/story"
    rows = [
        {"url": url, "text": ARTICLE},
        {"url": "https://news.example/rain", "text": OTHER},
        {"url": url, "text": OTHER},
    ]
    (root / "a.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (root / "b.jsonl").write_text(json.dumps({"url": url, "text": ARTICLE + " Updated."}) + "\n")
    expected = [
        f"skipped: {root}/a.jsonl:3: URL repeated from line 1",
        f"skipped: {root}/b.jsonl:1: URL repeated from {root}/a.jsonl:1",
    ]
    first = run(runner, db, "ingest", str(root))
    assert first.exit_code == 0, first.output
    assert first.stderr.splitlines() == expected
    assert first.stdout.startswith("ingested 2, unchanged 0, skipped 2, failed 0; ")
    again = run(runner, db, "ingest", str(root))
    assert again.stderr.splitlines() == expected
    assert again.stdout.startswith("ingested 0, unchanged 2, skipped 2, failed 0; ")
    stored = sql_rows(runner, db, f"SELECT v.text FROM versions v JOIN documents d USING (doc_id) WHERE url = '{url}'")
    assert stored == [{"text": ARTICLE}]


# --- stopping -------------------------------------------------------------------------------------


class _Killed(Exception):
    """What the signal's old handler raises, should ingest not install its own."""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_ingest_with_its_counts_and_keeps_what_was_read(
    runner: CliRunner, tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch, signum: int, code: int
) -> None:
    import crawlers.files

    root = tmp_path / "in"
    root.mkdir()
    for k in range(6):
        (root / f"{k}.txt").write_text(f"Number {k}. {ARTICLE}")
    real_read_file = crawlers.files.read_file

    def read_then_signal(path: Path) -> Any:
        yield from real_read_file(path)
        if path.name == "2.txt":
            os.kill(os.getpid(), signum)  # as from the terminal or a service manager

    def old_handler(*_: object) -> None:
        raise _Killed

    monkeypatch.setattr(crawlers.files, "read_file", read_then_signal)
    previous = signal.signal(signum, old_handler)
    try:
        result = run(runner, db, "ingest", str(root))
    finally:
        signal.signal(signum, previous)
    assert result.exit_code == code, result.output
    assert result.stdout.startswith("ingested 3, unchanged 0, skipped 0, failed 0; ")
    assert result.stderr.splitlines() == [
        f"interrupted by {signal.Signals(signum).name}: the documents counted above are stored; "
        "run the same ingest again to read the rest"
    ]
    assert len(sql_rows(runner, db, "SELECT doc_id FROM documents")) == 3
    monkeypatch.undo()
    again = run(runner, db, "ingest", str(root))
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("ingested 3, unchanged 3, skipped 0, failed 0; ")


# --- waiting ----------------------------------------------------------------------------------------


def _hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """A process holding DuckDB's write lock on ``db`` for ``seconds``, once it has printed ready."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
            f"time.sleep({seconds}); c.close()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
    return holder


@pytest.mark.parametrize("command", ["ingest", "load"])
def test_a_second_writer_says_it_is_waiting(runner: CliRunner, tmp_path: Path, db: Path, command: str) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    source = tmp_path / "a.txt"
    if command == "load":
        assert run(runner, tmp_path / "first.duckdb", "ingest", str(source)).exit_code == 0
        source = tmp_path / "snap"
        assert run(runner, tmp_path / "first.duckdb", "export", "--out", str(source)).exit_code == 0
    holder = _hold_lock(db, 3)
    try:
        result = run(runner, db, command, str(source))
    finally:
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"waiting for the warehouse {db}: another process (PID {holder.pid}) is writing it (up to 60 s)"
    ]


# --- sql reads only ---------------------------------------------------------------------------------


def test_sql_only_reads_the_warehouse_and_snapshots(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    assert run(runner, db, "ingest", str(tmp_path / "a.txt")).exit_code == 0
    snapshot = tmp_path / "snap"
    assert run(runner, db, "export", "--out", str(snapshot)).exit_code == 0
    out = tmp_path / "out.csv"
    writes = {
        f"COPY (SELECT * FROM documents) TO '{out}'": "not COPY",
        f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{out}'": "not EXPLAIN",
        f"SELECT 1; COPY documents TO '{out}'": "not COPY",
        f"EXPORT DATABASE '{tmp_path / 'dump'}'": "not EXPORT",
        f"ATTACH '{tmp_path / 'other.duckdb'}' AS other": "not ATTACH",
        "INSTALL httpfs": "not LOAD",
        "SET threads = 1": "not SET",
        "CREATE TABLE t (a INTEGER)": "not CREATE",
    }
    for where in ([], ["--snapshot", str(snapshot)]):
        for query, why in writes.items():
            result = run(runner, db, "sql", *where, query)
            assert result.exit_code == 1, (query, result.output)
            assert result.stderr.splitlines() == [
                f"Error: sql is read-only: only queries that read are allowed (SELECT, EXPLAIN), {why}"
            ], query
        for blank in ("", " ; ", "/* nothing */"):
            result = run(runner, db, "sql", *where, blank)
            assert (result.exit_code, result.stderr.splitlines()) == (
                1,
                ["Error: sql: the query holds no statement (only blanks, semicolons or comments)"],
            ), result.output
        ok = run(runner, db, "sql", *where, "--csv", "SELECT count(*) AS n FROM documents")
        assert ok.stdout == "n\n1\n", ok.output
        assert run(runner, db, "sql", *where, "EXPLAIN SELECT * FROM documents").exit_code == 0
    assert not out.exists() and not (tmp_path / "dump").exists() and not (tmp_path / "other.duckdb").exists()
    outside = run(runner, db, "sql", f"SELECT * FROM read_csv('{tmp_path / 'a.txt'}')")
    assert outside.exit_code == 1 and "Permission Error" in outside.stderr, outside.output


# --- site and date of plain text ---------------------------------------------------------------------


def test_text_files_give_their_site_and_date_in_front_matter_or_options(
    runner: CliRunner, tmp_path: Path, db: Path
) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "wire.txt").write_text(
        '---\nurl: https://wire.example/story\ntitle: "Budget: the vote"\nsite: wire.example\n'
        f"published: 2021-03-01T10:00:00Z\n---\n{ARTICLE}\n"
    )
    (root / "blog.md").write_text(f"{OTHER}\n")
    (root / "bad.md").write_text(f"---\npublished: last tuesday\n---\n{OTHER} More.\n")
    (root / "typo.txt").write_text(f"---\nsite: a.example\nauthor: me\n---\n{OTHER} Again.\n")
    result = run(runner, db, "ingest", "--site", "blog.example", "--published", "2021-03-02", str(root))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"failed: {root}/bad.md: front matter: 'published' is not a date: 'last tuesday'",
        f"failed: {root}/typo.txt: front matter line 3: unknown field 'author' (use url, title, site, published)",
    ]
    rows = sql_rows(
        runner, db, "SELECT d.url, d.site, v.title, v.published_at, v.published_precision AS precision,"
        " left(v.text, 10) AS head FROM documents d JOIN versions v USING (doc_id) ORDER BY d.url",
    )  # fmt: skip
    assert (
        rows
        == [
            {
                "url": (root / "blog.md").resolve().as_uri(),
                "site": "blog.example",  # from --site: the file names none
                "title": None,
                "published_at": "2021-03-02T00:00:00+00:00",
                "precision": "day",  # a date given is that day, not its midnight
                "head": OTHER[:10],
            },
            {
                "url": "https://wire.example/story",
                "site": "wire.example",  # its own, before --site
                "title": "Budget: the vote",
                "published_at": "2021-03-01T10:00:00+00:00",
                "precision": "second",
                "head": ARTICLE[:10],  # the front matter is not text
            },
        ]
    )
    bad = run(runner, db, "ingest", "--published", "someday", str(root))
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: --published: not a date: 'someday'"), bad.output


# --- memory of a long text ------------------------------------------------------------------------

_MEASURE = """
import random, resource, sys
from reuse.engine.analysis import analyse
from reuse.config import Settings
random.seed(7)
vocabulary = ["".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(random.randint(2, 10)))
              for _ in range(5000)]
paragraphs = [" ".join(random.choice(vocabulary) for _ in range(random.randint(30, 120))) + "."
              for _ in range(4000)]
text = "\\n\\n".join(paragraphs)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
analysis = analyse(text, Settings())
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(text), (after - before) * 1024)
"""


def test_a_long_text_is_analysed_in_memory_proportionate_to_it() -> None:
    """A 2 MB text took 128 bytes of peak memory a character (a 15 MB file near 3 GB for the
    whole ingest): signatures are now made a chunk of passages at a time and the offset map
    holds 4-byte offsets, about 50 bytes a character. Measured in a fresh process."""
    out = subprocess.run([sys.executable, "-c", _MEASURE], capture_output=True, text=True, check=True).stdout
    chars, grown = map(int, out.split())
    assert chars > 1_500_000
    assert grown / chars < 80, f"{grown / chars:.0f} bytes of peak memory a character"
