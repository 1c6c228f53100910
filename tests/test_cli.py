"""The command line through typer's CliRunner, on real DuckDB files in tmp_path.

Each command is run as a user would run it: its exit code, its stdout (tables, or the JSON that
``--json`` promises) and its stderr (one line per problem, one ``Error:`` line per user error).
The runs on the real PAN13 corpus skip when ../shared is not there (and fail in CI).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from keycap import expected_pairs, write_key_cap_feed
from needs import PAN13, shared_data
from typer.testing import CliRunner

import crawlers.files
from reuse.cli import app
from reuse.config import Settings
from warehouse.db import SCHEMA_VERSION

README = Path(__file__).resolve().parents[1] / "README.md"

BUDGET = (
    "The county council met on Tuesday evening to discuss the proposed budget for the coming fiscal "
    "year, which includes significant increases for road maintenance, school repairs and the bus routes "
    "that connect the outlying villages with the market town."
)
LIBRARY = (
    "Councillors spent more than three hours debating whether the new library on the east side of town "
    "should be funded this year or postponed until the economic outlook becomes clearer for the small "
    "businesses that line the high street and pay most of the local rates."
)
VOTE = (
    "In the end the motion to fund the library passed by seven votes to four, with the mayor casting a "
    "decisive vote after a long and sometimes heated discussion about priorities, pensions and the cost "
    "of heating older public buildings through another winter."
)
RESIDENTS = (
    "Residents who attended the meeting said they were relieved that the project would finally go ahead "
    "after years of delays, broken promises and consultations that never seemed to reach any conclusion "
    "anyone in the audience could remember."
)
WEATHER = (
    "Forecasters expect heavy rain across the northern hills on Saturday, with gusts strong enough to "
    "close the coastal ferry for most of the afternoon, before drier air moves in from the west and "
    "brings sunshine back to the valleys by Sunday lunchtime."
)
FOOTBALL = (
    "The visiting side scored twice in the opening quarter of an hour and then defended with eleven men "
    "behind the ball, frustrating a home crowd that had hoped to celebrate the captain's two hundredth "
    "appearance with something more than a late consolation goal."
)
RIVER = (
    "Barges once carried coal and grain along the river every day of the week, and the towpath that now "
    "attracts cyclists and dog walkers was worn smooth by horses pulling heavy loads between the mills "
    "and the warehouses near the estuary."
)
HISTORY = (
    "The old customs house was built in seventeen ninety with stone quarried a few miles upstream, and "
    "for almost a century its clerks recorded every cargo of timber, wool and wine that passed through "
    "the harbour, in ledgers that still survive in the county archive."
)
HARBOUR = (
    "Today the harbour is home to a sailing club, two seafood restaurants and a small museum whose "
    "volunteers guide school parties around the restored lifeboat and the lighthouse lantern rescued "
    "from the scrapyard by a retired engineer."
)
GARDEN = (
    "Gardeners are advised to sow broad beans before the first frost, to mulch rhubarb crowns with well "
    "rotted manure and to leave seed heads standing for the birds, which will repay the favour by eating "
    "aphids when the warmer weather returns."
)
TRAIN = (
    "Passengers on the branch line faced another week of replacement buses while engineers finished "
    "rebuilding the viaduct, a job the railway company had promised would take a fortnight when the "
    "work began in the middle of the summer holidays."
)

COPY_URL = "https://gazette.example/library-vote"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, db: Path | None, *args: str, **kwargs: Any) -> Any:
    """Invoke the app as ``reusetrack [--db DB] ARGS``."""
    prefix = ["--db", str(db)] if db is not None else []
    return runner.invoke(app, [*prefix, *args], **kwargs)


def assert_user_error(result: Any, *fragments: str) -> None:
    """Exit code 1 and exactly one line on stderr, ``Error: ...``, with no traceback anywhere."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """A text original, an HTML page (with site chrome) that copies two of its paragraphs, and a
    JSONL file with an unrelated article and a Markdown note."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "original.txt").write_text("\n\n".join([BUDGET, LIBRARY, VOTE, RESIDENTS]) + "\n")
    (root / "copy.html").write_text(
        "<html><head><title>Library vote</title>"
        f'<link rel="canonical" href="{COPY_URL}"></head><body>'
        "<nav><ul><li>Home</li><li>News</li><li>Sport</li></ul></nav>"
        "<h1>Library finally approved</h1>"
        "<p>Breaking news from our partners at the Daily Gazette.</p>"
        f"<p>{LIBRARY}</p><p>{VOTE}</p>"
        "<footer><p>Copyright the Gazette. All rights reserved.</p></footer></body></html>"
    )
    rows = [
        {"url": "https://weather.example/rain", "title": "Rain", "published": "2020-11-05T10:00:00Z", "text": WEATHER},
        {"url": "https://sport.example/match", "text": FOOTBALL},
    ]
    (root / "feed.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (root / "notes").mkdir()
    (root / "notes" / "garden.md").write_text(f"# Garden\n\n{GARDEN}\n")
    return root


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "wh.duckdb"


@pytest.fixture()
def ingested(runner: CliRunner, corpus: Path, db: Path) -> Path:
    result = run(runner, db, "ingest", str(corpus))
    assert result.exit_code == 0, result.output
    return db


def sql_json(runner: CliRunner, db: Path, query: str) -> list[dict[str, Any]]:
    result = run(runner, db, "sql", "--json", query)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


# --- ingest ----------------------------------------------------------------------------------------


def test_ingest_finds_the_planted_copy(runner: CliRunner, corpus: Path, db: Path) -> None:
    result = run(runner, db, "ingest", str(corpus))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    (summary,) = result.stdout.splitlines()
    assert summary.startswith("ingested 5, unchanged 0, skipped 0, failed 0; ")
    assert "1 match in 1 document pair (run 1)" in summary

    (match,) = sql_json(runner, db, "SELECT url_a, url_b, text_a, text_b FROM match_details")
    original = (corpus / "original.txt").resolve().as_uri()
    assert {match["url_a"], match["url_b"]} == {original, COPY_URL}
    for text in (match["text_a"], match["text_b"]):
        assert "new library on the east side" in text
        assert "older public buildings" in text
        assert "Residents" not in text and "county council met" not in text


def test_a_band_key_proposes_only_its_first_versions(
    runner: CliRunner, tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One paragraph held by 25 documents, read in batches of 7: each document meets the first 20
    holders and no later one (README: a band key proposes only the first 20 versions holding it)."""
    monkeypatch.setenv("REUSETRACK_BATCH_SIZE", "7")  # the cap holds across batches too
    feed = write_key_cap_feed(tmp_path / "holders.jsonl")
    result = run(runner, db, "ingest", "--json", str(feed))
    assert result.exit_code == 0, result.output
    pairs = sql_json(
        runner,
        db,
        "SELECT da.url AS a, db.url AS b FROM doc_pairs p"
        " JOIN versions va ON va.version_id = p.version_a JOIN documents da ON da.doc_id = va.doc_id"
        " JOIN versions vb ON vb.version_id = p.version_b JOIN documents db ON db.doc_id = vb.doc_id",
    )
    assert {tuple(sorted((row["a"], row["b"]))) for row in pairs} == expected_pairs()


def test_reingest_changes_nothing(runner: CliRunner, corpus: Path, ingested: Path) -> None:
    before = json.loads(run(runner, ingested, "stats", "--json").stdout)["tables"]
    result = run(runner, ingested, "ingest", "--json", str(corpus))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report.pop("seconds")) <= {"read", "commit"}  # nothing else to do
    assert report == {
        "run_id": 2,
        "ingested": 0,
        "unchanged": 5,
        "skipped": 0,
        "failed": 0,
        "passages": 0,
        "candidates": 0,
        "pairs": 0,
        "matches": 0,
        "interrupted": False,
        "problems": [],
    }
    after = json.loads(run(runner, ingested, "stats", "--json").stdout)["tables"]
    assert after == {**before, "runs": before["runs"] + 1}


def test_ingest_a_changed_file_adds_a_version(runner: CliRunner, corpus: Path, ingested: Path) -> None:
    (corpus / "notes" / "garden.md").write_text(f"# Garden\n\n{GARDEN}\n\n{TRAIN}\n")
    report = json.loads(run(runner, ingested, "ingest", "--json", str(corpus)).stdout)
    assert (report["ingested"], report["unchanged"]) == (1, 4)
    rows = sql_json(runner, ingested, "SELECT count(*) AS n FROM versions")
    assert rows == [{"n": 6}]


def test_default_warehouse_and_environment(
    runner: CliRunner, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REUSETRACK_DB", raising=False)
    assert run(runner, None, "ingest", str(corpus / "original.txt")).exit_code == 0
    assert (tmp_path / "reusetrack.duckdb").is_file()

    other = tmp_path / "other.duckdb"
    result = run(runner, None, "ingest", str(corpus / "original.txt"), env={"REUSETRACK_DB": str(other)})
    assert result.exit_code == 0 and other.is_file()
    stats = json.loads(run(runner, None, "stats", "--json", env={"REUSETRACK_DB": str(other)}).stdout)
    assert stats["path"] == str(other)
    assert stats["tables"]["documents"] == 1


# --- bad input -------------------------------------------------------------------------------------


def test_each_bad_item_is_one_line_and_the_rest_is_ingested(
    runner: CliRunner, tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "good.txt").write_text(BUDGET)
    (root / "empty.txt").write_text("  \n")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    (root / "undecodable.txt").write_bytes(bytes(range(128, 256)) * 4)
    (root / "huge.txt").write_text(HARBOUR * 20)
    (root / "vanished.txt").write_text(RIVER)
    (root / "ignored.pdf").write_bytes(b"%PDF-1.4")  # not a kind reusetrack reads: said so
    (root / "feed.jsonl").write_text(json.dumps({"url": "https://x.example/1", "text": TRAIN}) + "\n{broken\n")

    monkeypatch.setattr(crawlers.files, "MAX_FILE_BYTES", 2000)
    real_read_file = crawlers.files.read_file

    def read_after_deletion(path: Path) -> Any:
        if path.name == "vanished.txt":
            path.unlink()  # deleted between discovery and reading
        return real_read_file(path)

    monkeypatch.setattr(crawlers.files, "read_file", read_after_deletion)

    result = run(runner, db, "ingest", str(root))
    assert result.exit_code == 0, result.output
    huge = len((HARBOUR * 20).encode())
    assert result.stderr.splitlines() == [
        f"skipped: {root}/binary.txt: binary file (NUL bytes), not text",
        f"skipped: {root}/empty.txt: empty file",
        f"failed: {root}/feed.jsonl:2: broken JSON (Expecting property name enclosed in double quotes at column 2)",
        f"failed: {root}/huge.txt: file too large ({huge:,} bytes; the limit is 2,000)",
        f"skipped: {root}/ignored.pdf: unsupported file type '.pdf' (use .txt, .md, .html, .jsonl, .warc[.gz])",
        f"failed: {root}/undecodable.txt: cannot decode: not UTF-8 and no other encoding fits",
        f"failed: {root}/vanished.txt: cannot read: No such file or directory",
    ]
    assert result.stdout.startswith("ingested 2, unchanged 0, skipped 3, failed 4; ")

    stored = sql_json(runner, db, "SELECT url FROM documents ORDER BY url")
    assert [row["url"] for row in stored] == [(root / "good.txt").resolve().as_uri(), "https://x.example/1"]
    (run_row,) = sql_json(runner, db, "SELECT stats FROM runs")
    assert json.loads(run_row["stats"])["failed"] == 4


def test_bad_items_in_json(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text(VOTE)
    (root / "b.txt").write_text("")
    report = json.loads(run(runner, db, "ingest", "--json", str(root)).stdout)
    assert report["problems"] == [{"status": "skipped", "source": f"{root}/b.txt", "reason": "empty file"}]
    assert (report["ingested"], report["skipped"]) == (1, 1)


def test_a_directory_of_ten_thousand_files(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    root = tmp_path / "many"
    for shard in range(10):
        folder = root / f"shard{shard}"
        folder.mkdir(parents=True)
        for n in range(1000):
            (folder / f"note{n:04d}.txt").write_text(f"note {shard} {n}: a short line")
    (root / "shard3" / "note0007.txt").write_text("")
    result = run(runner, db, "ingest", "--json", str(root))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ingested"], report["skipped"], report["failed"]) == (9999, 1, 0)
    assert report["problems"] == [
        {"status": "skipped", "source": f"{root}/shard3/note0007.txt", "reason": "empty file"}
    ]
    assert json.loads(run(runner, db, "stats", "--json").stdout)["tables"]["documents"] == 9999


def test_nothing_readable_is_an_error_after_the_report(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = run(runner, db, "ingest", str(empty))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"skipped: {empty}: empty file",
        "Error: none of the 1 input items could be read",
    ]
    assert result.stdout.startswith("ingested 0, unchanged 0, skipped 1, failed 0; ")


# --- user errors -----------------------------------------------------------------------------------


def test_missing_path_is_a_user_error(runner: CliRunner, corpus: Path, tmp_path: Path, db: Path) -> None:
    missing = tmp_path / "nope"
    assert_user_error(run(runner, db, "ingest", str(corpus), str(missing)), f"Error: {missing}: no such file")
    assert not db.exists()  # checked before anything was opened or written


def test_folder_without_input_files_is_a_user_error(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "a.pdf").write_bytes(b"%PDF")
    assert_user_error(run(runner, db, "ingest", str(tmp_path / "pdfs")), "no input files found", ".jsonl")


def test_read_only_commands_need_a_warehouse(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    for args in (["stats"], ["sql", "SELECT 1"], ["matches", "https://x.example/"], ["stats", "--json"]):
        assert_user_error(run(runner, db, *args), f"no warehouse at {db}", "reusetrack ingest")
    assert not db.exists()


def test_bad_sql_is_a_user_error(runner: CliRunner, ingested: Path) -> None:
    assert_user_error(run(runner, ingested, "sql", "SELEC url FROM documents"), "Error: query failed:")
    assert_user_error(run(runner, ingested, "sql", "SELECT nope FROM documents"), "nope")
    assert_user_error(run(runner, ingested, "sql", "DELETE FROM documents"), "read-only")
    assert_user_error(run(runner, ingested, "sql", "--csv", "--json", "SELECT 1"), "--csv", "--json")
    assert sql_json(runner, ingested, "SELECT count(*) AS n FROM documents") == [{"n": 5}]


def test_unknown_document_is_a_user_error(runner: CliRunner, ingested: Path, tmp_path: Path) -> None:
    assert_user_error(run(runner, ingested, "matches", "https://nowhere.example/"), "no document", "nowhere")
    assert_user_error(run(runner, ingested, "matches", "999"), "no document", "999")
    assert_user_error(
        run(runner, ingested, "compare", COPY_URL, "https://nowhere.example/"), "https://nowhere.example/"
    )
    missing = tmp_path / "missing.txt"
    assert_user_error(run(runner, tmp_path / "none.duckdb", "compare", str(missing), COPY_URL), "no warehouse")
    assert_user_error(run(runner, ingested, "fingerprint", str(missing)), f"{missing}: no such file")


# --- sql and stats ---------------------------------------------------------------------------------


def test_sql_table_csv_and_json(runner: CliRunner, ingested: Path) -> None:
    query = "SELECT doc_id, url, site, first_seen FROM documents ORDER BY doc_id"
    table = run(runner, ingested, "sql", query)
    assert table.exit_code == 0
    assert "doc_id" in table.stdout and "weather.example" in table.stdout

    rows = list(csv.reader(io.StringIO(run(runner, ingested, "sql", "--csv", query).stdout)))
    assert rows[0] == ["doc_id", "url", "site", "first_seen"]
    assert len(rows) == 6
    assert {row[2] for row in rows[1:]} == {"", "gazette.example", "weather.example", "sport.example"}

    objects = sql_json(runner, ingested, query)
    assert [o["doc_id"] for o in objects] == [1, 2, 3, 4, 5]
    assert all(isinstance(datetime.fromisoformat(o["first_seen"]), datetime) for o in objects)
    assert {o["url"] for o in objects} == {r[1] for r in rows[1:]}

    (blob,) = sql_json(runner, ingested, "SELECT minhash, 1.5 AS d, NULL AS n FROM signatures LIMIT 1")
    assert len(bytes.fromhex(blob["minhash"])) == Settings().num_perm * 4
    assert (blob["d"], blob["n"]) == (1.5, None)

    assert run(runner, ingested, "sql", "--json", "SELECT 1 WHERE false").stdout.strip() == "[]"


def test_stats(runner: CliRunner, ingested: Path) -> None:
    result = run(runner, ingested, "stats", "--json")
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["tables"]["documents"] == 5
    assert stats["tables"]["matches"] == 1
    assert stats["runs"] == 1
    assert stats["last_run"]["command"] == "ingest"
    assert datetime.fromisoformat(stats["last_run"]["finished_at"]) >= datetime.fromisoformat(
        stats["last_run"]["started_at"]
    )
    assert stats["settings"]["num_perm"] == Settings().num_perm
    assert stats["schema_version"] == SCHEMA_VERSION
    assert len(stats["fingerprint_key"]) == 16

    text = run(runner, ingested, "stats").stdout
    assert "documents" in text and "runs: 1; last: run 1 (ingest)" in text and f"num_perm={Settings().num_perm}" in text


# --- matches and compare ---------------------------------------------------------------------------


def test_matches_of_a_document(runner: CliRunner, corpus: Path, ingested: Path) -> None:
    original = (corpus / "original.txt").resolve().as_uri()
    result = run(runner, ingested, "matches", "--json", COPY_URL)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["other_url"] == original
    assert row["other_site"] is None
    assert row["kind"] in {"verbatim", "near-verbatim"}
    assert row["similarity"] > 0.9
    assert row["text"].startswith("Councillors") and row["other_text"].startswith("Councillors")
    assert row["end"] - row["start"] == len(row["text"])

    (doc,) = sql_json(runner, ingested, f"SELECT doc_id FROM documents WHERE url = '{original}'")
    (back,) = json.loads(run(runner, ingested, "matches", "--json", str(doc["doc_id"])).stdout)
    assert back["other_url"] == COPY_URL
    assert (back["start"], back["other_start"]) == (row["other_start"], row["start"])

    table = run(runner, ingested, "matches", COPY_URL).stdout
    assert table.splitlines()[0].startswith(f"{COPY_URL} (doc ")
    assert "1 match with 1 document" in table
    unrelated = run(runner, ingested, "matches", "https://weather.example/rain")
    assert unrelated.exit_code == 0 and "0 matches with 0 documents" in unrelated.stdout
    assert json.loads(run(runner, ingested, "matches", "--json", "https://weather.example/rain").stdout) == []


def test_pairs_lists_what_shares_text(runner: CliRunner, corpus: Path, ingested: Path) -> None:
    original = (corpus / "original.txt").resolve().as_uri()
    result = run(runner, ingested, "pairs", "--json")
    assert result.exit_code == 0, result.output
    (pair,) = json.loads(result.stdout)
    assert {pair["url_a"], pair["url_b"]} == {original, COPY_URL}
    coverage = {pair["url_a"]: pair["coverage_a"], pair["url_b"]: pair["coverage_b"]}
    # Two of the original's four paragraphs were copied; the copy is mostly those two.
    assert 0.4 < coverage[original] < 0.6
    assert coverage[COPY_URL] > 0.6
    assert pair["matches"] == 1 and pair["in_order"] is True
    # Graded: two verbatim paragraphs, half of the original: between unrelated and a whole copy.
    assert 0.3 < pair["similarity"] < 0.9

    table = run(runner, ingested, "pairs").stdout
    assert table.splitlines()[0] == "1 pair of documents share text"
    assert COPY_URL in table
    assert json.loads(run(runner, ingested, "pairs", "--json", "--limit", "1").stdout) == [pair]


def test_compare_two_files(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.md"
    a.write_text(f"{BUDGET}\n\n{LIBRARY}\n\n{RESIDENTS}\n")
    edited = LIBRARY.replace("three hours", "four hours").replace("small businesses", "shops")
    b.write_text(f"{WEATHER}\n\n{edited}\n\n{FOOTBALL}\n")

    result = run(runner, db, "compare", "--json", str(a), str(b))
    assert result.exit_code == 0, result.output
    assert not db.exists()  # two files need no warehouse
    out = json.loads(result.stdout)
    assert (out["a"], out["b"]) == (str(a), str(b))
    (match,) = out["matches"]
    assert set(match) == {"a_start", "a_end", "b_start", "b_end", "similarity", "kind", "a_text", "b_text"}
    assert match["a_text"] == a.read_text()[match["a_start"] : match["a_end"]]
    assert match["b_text"] == b.read_text()[match["b_start"] : match["b_end"]]
    assert "debating whether the new library" in match["a_text"]
    assert "debating whether the new library" in match["b_text"]
    assert match["kind"] in {"near-verbatim", "edited"}
    summary = out["summary"]
    assert summary["matches"] == 1 and summary["in_order"] is True
    assert 0 < summary["coverage_a"] < 1 and 0 < summary["coverage_b"] < 1
    assert 0 < summary["similarity"] < 1  # one lightly edited paragraph of three
    assert set(out["grade"]) == {"similarity", "aligned", "fivegrams", "word_pairs"}
    assert out["grade"]["similarity"] == summary["similarity"]

    shown = run(runner, db, "compare", str(a), str(b))
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[:2] == [f"A: {a}", f"B: {b}"]
    assert "[-three-]" in shown.stdout and "{+four+}" in shown.stdout  # plain markers: not a terminal
    assert "1 match; A covered" in shown.stdout
    assert f"similarity {summary['similarity']:.2f}" in shown.stdout

    unrelated = run(runner, db, "compare", str(a), str(b.with_name("w.txt")))
    assert unrelated.exit_code == 1  # w.txt does not exist, and there is no warehouse to look in
    b.with_name("w.txt").write_text(WEATHER)
    nothing = run(runner, db, "compare", str(a), str(b.with_name("w.txt")))
    assert nothing.exit_code == 0 and "no shared passages; similarity 0.0" in nothing.stdout


def test_compare_stored_documents(runner: CliRunner, corpus: Path, ingested: Path) -> None:
    (doc,) = sql_json(runner, ingested, f"SELECT doc_id FROM documents WHERE url = '{COPY_URL}'")
    by_url = json.loads(run(runner, ingested, "compare", "--json", str(corpus / "original.txt"), COPY_URL).stdout)
    by_id = json.loads(
        run(runner, ingested, "compare", "--json", str(corpus / "original.txt"), str(doc["doc_id"])).stdout
    )
    assert by_url == by_id
    assert by_url["b"] == COPY_URL
    assert by_url["summary"]["matches"] >= 1
    assert all("library" in m["b_text"] for m in by_url["matches"])


# --- fingerprint -----------------------------------------------------------------------------------


def test_fingerprint_json_lines(runner: CliRunner, corpus: Path, ingested: Path, db: Path) -> None:
    path = corpus / "original.txt"
    result = run(runner, db, "fingerprint", str(path))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records
    text = path.read_text()
    for r in records:
        assert set(r) == {
            "source", "url", "position", "kind", "char_start", "char_end", "token_start", "token_end",
            "text", "num_perm", "seed", "minhash",
        }  # fmt: skip
        assert r["text"] == text[r["char_start"] : r["char_end"]]
        assert (r["num_perm"], r["seed"], r["url"]) == (Settings().num_perm, 1, path.resolve().as_uri())
        assert len(r["minhash"]) == Settings().num_perm and all(0 <= v < 2**32 for v in r["minhash"])
    assert [r["position"] for r in records] == list(range(len(records)))

    # The same signatures as ingest stored for the same file.
    stored = sql_json(
        runner,
        db,
        "SELECT p.position, s.minhash FROM passages p JOIN signatures s USING (passage_id)"
        f" JOIN versions v USING (version_id) WHERE v.source = '{path}' ORDER BY p.position",
    )
    assert [row["position"] for row in stored] == [r["position"] for r in records]
    for row, r in zip(stored, records, strict=True):
        assert bytes.fromhex(row["minhash"]) == b"".join(v.to_bytes(4, "little") for v in r["minhash"])


def test_fingerprint_parquet_and_out_files_hold_the_json_lines(runner: CliRunner, corpus: Path, tmp_path: Path) -> None:
    """--format parquet --out and --out for JSON lines give the records stdout gives, field for field."""
    import pyarrow.parquet as pq

    path = corpus / "original.txt"
    printed = [json.loads(line) for line in run(runner, None, "fingerprint", str(path)).stdout.splitlines()]
    (tmp_path / "out").mkdir()
    lines, table = tmp_path / "out" / "fp.jsonl", tmp_path / "out" / "fp.parquet"
    assert run(runner, None, "fingerprint", str(path), "--out", str(lines)).exit_code == 0
    assert [json.loads(line) for line in lines.read_text().splitlines()] == printed
    result = run(runner, None, "fingerprint", str(path), "--format", "parquet", "--out", str(table))
    assert result.exit_code == 0 and result.stdout == ""
    parquet = pq.read_table(table)
    minhash = parquet.schema.field("minhash").type
    assert (minhash.list_size, str(minhash.value_type)) == (Settings().num_perm, "uint32")
    assert parquet.to_pylist() == printed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fp.jsonl", "fp.parquet"]  # no partial file left


def test_parquet_row_groups_written_in_the_background_hold_every_passage_in_order(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row groups are written in a thread of their own while the next documents are analysed:
    a file of many row groups holds the records the JSON lines give, in their order, and a
    row group that cannot be written is a one-line error that leaves no file behind."""
    import pyarrow.parquet as pq

    from reuse.pipeline import fingerprints

    monkeypatch.setattr(fingerprints, "ROW_GROUP", 5)
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(
            json.dumps({"url": f"https://x.example/{k}", "text": "\n\n".join([TRAIN[k * 7 :]] * 4)}) + "\n"
            for k in range(6)
        )
    )
    printed = [json.loads(line) for line in run(runner, None, "fingerprint", str(feed)).stdout.splitlines()]
    table = tmp_path / "fp.parquet"
    assert run(runner, None, "fingerprint", str(feed), "--format", "parquet", "--out", str(table)).exit_code == 0
    assert pq.ParquetFile(table).metadata.num_row_groups > 2
    assert pq.read_table(table).to_pylist() == printed

    real = pq.ParquetWriter.write_table
    calls: list[int] = []

    def failing(self: pq.ParquetWriter, written: object, *args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(self, written, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pq.ParquetWriter, "write_table", failing)
    broken = tmp_path / "out" / "broken.parquet"
    broken.parent.mkdir()
    result = run(runner, None, "fingerprint", str(feed), "--format", "parquet", "--out", str(broken))
    assert_user_error(result, f"{broken}: cannot write: No space left on device")
    assert list(broken.parent.iterdir()) == []


def test_fingerprint_output_errors_are_one_line(runner: CliRunner, corpus: Path, tmp_path: Path) -> None:
    path = corpus / "original.txt"
    assert_user_error(run(runner, None, "fingerprint", str(path), "--format", "parquet"), "needs --out FILE")
    missing = tmp_path / "no" / "fp.parquet"
    result = run(runner, None, "fingerprint", str(path), "--format", "parquet", "--out", str(missing))
    assert_user_error(result, f"{missing}: cannot write")
    assert not missing.parent.exists()


def test_fingerprint_reports_broken_lines_and_refuses_unreadable_files(runner: CliRunner, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"url": "https://x.example/", "text": TRAIN}) + "\nnot json\n")
    result = run(runner, None, "fingerprint", str(feed))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [f"failed: {feed}:2: broken JSON (Expecting value at column 1)"]
    assert {json.loads(line)["url"] for line in result.stdout.splitlines()} == {"https://x.example/"}

    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert_user_error(run(runner, None, "fingerprint", str(empty)), f"Error: {empty}: empty file")
    binary = tmp_path / "b.html"
    binary.write_bytes(b"\x00\x01\x02")
    assert_user_error(run(runner, None, "fingerprint", str(binary)), "binary file")


@pytest.mark.parametrize("batch_chars", [1, 700, 1 << 30])
def test_fingerprints_come_in_the_files_order_whatever_the_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_chars: int
) -> None:
    """A file's documents are analysed a batch at a time: every document's passages and
    signatures are those of analysing it alone, documents and broken lines come in the file's
    order, and no key families are computed for output that does not hold them."""
    import numpy as np

    from reuse.engine.analysis import analyse
    from reuse.pipeline import inspection
    from reuse.pipeline.inspection import fingerprint_file

    monkeypatch.setattr(inspection, "FINGERPRINT_BATCH_CHARS", batch_chars)
    texts = [TRAIN, TRAIN[:300], "A short line.", TRAIN[::-1], TRAIN[100:900]]
    lines = [json.dumps({"url": f"https://x.example/{k}", "text": t}) for k, t in enumerate(texts)]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([lines[0], "not json", *lines[1:3], "[]", *lines[3:]]) + "\n")
    got = list(fingerprint_file(feed, Settings()))
    shape = ["doc" if isinstance(item, tuple) else "error" for item in got]
    assert shape == ["doc", "error", "doc", "doc", "error", "doc", "doc"]
    documents = [item for item in got if isinstance(item, tuple)]
    assert [doc.url for doc, _ in documents] == [f"https://x.example/{k}" for k in range(len(texts))]
    for (doc, found), text in zip(documents, texts, strict=True):
        alone = analyse(text, Settings())
        assert doc.text == text and found.passages == alone.passages
        assert np.array_equal(found.signatures, alone.signatures)
        assert len(found.family_keys[0]) == 0


# --- eval pan13 ------------------------------------------------------------------------------------

SUSP1, SRC1 = "suspicious-document00001.txt", "source-document00001.txt"
SUSP2, SRC2 = "suspicious-document00002.txt", "source-document00002.txt"


def _synthetic_pan13(root: Path) -> Path:
    """A PAN13-layout corpus: one verbatim case in 02, one negative pair in 01 (paragraphs are lines)."""
    (root / "src").mkdir(parents=True)
    (root / "susp").mkdir()
    source = f"{RIVER}\n{HISTORY}\n{HARBOUR}\n"
    suspicious = f"{FOOTBALL}\n{HISTORY}\n{WEATHER}\n"
    (root / "src" / SRC1).write_text(source)
    (root / "susp" / SUSP1).write_text(suspicious)
    (root / "src" / SRC2).write_text(f"{TRAIN}\n")
    (root / "susp" / SUSP2).write_text(f"{GARDEN}\n")
    case = (
        f'<feature name="plagiarism" obfuscation="none" this_offset="{suspicious.index(HISTORY)}"'
        f' this_length="{len(HISTORY)}" source_reference="{SRC1}" source_offset="{source.index(HISTORY)}"'
        f' source_length="{len(HISTORY)}" />\n'
    )
    for folder, susp, src, features in [
        ("01-no-plagiarism", SUSP2, SRC2, ""),
        ("02-no-obfuscation", SUSP1, SRC1, case),
    ]:
        (root / folder).mkdir()
        (root / folder / "pairs").write_text(f"{susp} {src}\n")
        (root / folder / f"{susp[:-4]}-{src[:-4]}.xml").write_text(
            f'<document reference="{susp}">\n{features}</document>\n'
        )
    return root


SCORE_KEYS = {"plagdet", "precision", "recall", "granularity", "pair_recall", "negative_detections"}


def test_eval_pan13_on_a_synthetic_corpus(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    root = _synthetic_pan13(tmp_path / "pan13")
    out = tmp_path / "detections"
    result = run(runner, db, "eval", "pan13", "--json", "--out", str(out), str(root))
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert set(scores) == {"01-no-plagiarism", "02-no-obfuscation", "entire", "seconds", "peak_rss_mb"}
    for name in ("01-no-plagiarism", "02-no-obfuscation", "entire"):
        assert set(scores[name]) == SCORE_KEYS
    assert scores["01-no-plagiarism"]["pair_recall"] is None
    assert scores["01-no-plagiarism"]["negative_detections"] == 0
    assert scores["02-no-obfuscation"]["pair_recall"] == 1.0
    assert scores["02-no-obfuscation"]["negative_detections"] == 0
    assert scores["02-no-obfuscation"]["plagdet"] > 0.9
    assert scores["seconds"] > 0 and scores["peak_rss_mb"] > 0
    assert not db.exists()  # a fresh temporary warehouse, never --db
    assert [p.name for p in out.iterdir()] == [f"{SUSP1[:-4]}-{SRC1[:-4]}.xml"]

    again = run(runner, db, "eval", "pan13", "--out", str(out), str(root))
    assert_user_error(again, "already holds XML files")

    table = run(runner, db, "eval", "pan13", "--limit", "1", str(root))
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert any("02-no-obfuscation" in line and "1.000" in line for line in lines)
    assert any(line.lstrip("│ ").startswith("entire") for line in lines)
    assert "4 documents" in table.stdout and "peak RSS" in table.stdout


def test_eval_pan13_rejects_other_folders(runner: CliRunner, tmp_path: Path) -> None:
    assert_user_error(run(runner, None, "eval", "pan13", str(tmp_path / "missing")), "not a PAN13")
    assert_user_error(run(runner, None, "eval", "pan13", str(tmp_path)), "not a PAN13")


PAN13_CATEGORIES = [
    "01-no-plagiarism",
    "02-no-obfuscation",
    "03-random-obfuscation",
    "04-translation-obfuscation",
    "05-summary-obfuscation",
]


def test_eval_pan13_on_the_real_corpus(runner: CliRunner) -> None:
    result = run(runner, None, "eval", "pan13", "--json", "--limit", "2", str(shared_data(PAN13)))
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert list(scores) == [*PAN13_CATEGORIES, "entire", "seconds", "peak_rss_mb"]
    for name in [*PAN13_CATEGORIES, "entire"]:
        assert set(scores[name]) == SCORE_KEYS
        assert 0 <= scores[name]["plagdet"] <= 1
    assert scores["01-no-plagiarism"]["pair_recall"] is None
    assert scores["02-no-obfuscation"]["pair_recall"] == 1.0


def _readme_pan13_figures() -> dict[str, dict[str, float]]:
    """The README's PAN13 table (Evaluation) as ``{category: {field: figure}}``, named as in
    ``eval pan13 --json``; cells without a figure (category 01's) are left out."""
    section = README.read_text(encoding="utf-8").split("<!-- eval:start -->")[1].split("<!-- eval:end -->")[0]
    header, _, *rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    names = {"pairs retrieved": "pair_recall", "false alarms": "negative_detections"}
    fields = [names.get(cell.strip(), cell.strip()) for cell in header[1:]]
    figures = {}
    for label, *cells in rows:
        number = label.split()[0]
        category = "entire" if number == "entire" else next(c for c in PAN13_CATEGORIES if c.startswith(number))
        values = [cell.strip().strip("*") for cell in cells]
        figures[category] = {f: float(v) for f, v in zip(fields, values, strict=True) if v.replace(".", "").isdigit()}
    return figures


@pytest.mark.slow
def test_eval_pan13_keeps_the_readme_figures(runner: CliRunner) -> None:
    """The whole training corpus in corpus mode (about 2 minutes, 4 GB): every figure of the
    README's table holds within 0.01, granularity (best at 1) no more than 0.01 above it, and no
    category has more false alarms (detections in pairs without a case) than it says."""
    readme = _readme_pan13_figures()
    assert list(readme) == [*PAN13_CATEGORIES, "entire"]  # the table was read: 01 has only false alarms
    assert [len(figures) for figures in readme.values()] == [1, 6, 6, 6, 6, 6]
    result = run(runner, None, "eval", "pan13", "--json", str(shared_data(PAN13)))
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    for category, figures in readme.items():
        for field, figure in figures.items():
            found = scores[category][field]
            if field == "negative_detections":
                assert found <= figure, (category, field, found, figure)
            elif field == "granularity":
                assert found <= figure + 0.01, (category, field, found, figure)
            else:
                assert found >= figure - 0.01, (category, field, found, figure)


# --- the program itself ----------------------------------------------------------------------------


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "compare", "fingerprint", "matches", "sql", "stats", "eval"):
        assert command in result.stdout
    assert "REUSETRACK_DB" in result.stdout
    assert "pan13" in runner.invoke(app, ["eval", "--help"]).stdout


def test_python_dash_m_reuse(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reuse", "--db", str(tmp_path / "none.duckdb"), "stats"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert (
        done.stderr
        == f"Error: no warehouse at {tmp_path / 'none.duckdb'}: run 'reusetrack ingest' first or pass --db\n"
    )
    assert done.stdout == ""


_BLAS_THREADS = """
import os, sys
from reuse.cli import main
sys.argv = ["reusetrack", "--db", sys.argv[1], "stats"]
try:
    main()
finally:
    print(os.environ.get("OPENBLAS_NUM_THREADS"))
"""


@pytest.mark.parametrize(("given", "kept"), [(None, "1"), ("2", "2")])
def test_the_command_line_keeps_blas_to_one_thread_unless_told(tmp_path: Path, given: str | None, kept: str) -> None:
    """numpy's OpenBLAS threads spin on the other core after its first call (about 0.2 s of CPU
    a one-article command); the command line asks for one unless OPENBLAS_NUM_THREADS says."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    done = subprocess.run(
        [sys.executable, "-c", _BLAS_THREADS, str(tmp_path / "none.duckdb")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.stdout.splitlines()[-1:] == [kept], done.stderr


def test_extract_shows_what_the_tracker_reads() -> None:
    page = next((Path(__file__).resolve().parents[1] / "seeds" / "demo" / "globalresearch.ca").glob("*.html"))
    runner = CliRunner()
    result = runner.invoke(app, ["extract", "--json", str(page)])
    assert result.exit_code == 0, result.output
    article = json.loads(result.stdout)
    assert article["title"].startswith("Video: ")
    assert article["canonical_url"].startswith("https://www.globalresearch.ca/")
    assert article["published"].startswith("2020-11-05")
    credit = next(c for c in article["attribution"] if c["kind"] == "original_source")
    assert credit["outlet"] == "South Front"
    assert all(p["end"] > p["start"] for p in article["paragraphs"])
    table = runner.invoke(app, ["extract", str(page)])
    assert table.exit_code == 0 and table.stdout.startswith("Video: ")
    missing = runner.invoke(app, ["extract", str(page.with_name("missing.html"))])
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: ")
