"""Lineage is derived state, always consistent (issue 12, item 2).

The invariant (README, Lineage): after any sequence of runs, some of them killed at any point,
followed by one completed run (or ``reusetrack lineage --stale``), every lineage table and view
holds what one clean run over the same inputs gives, and what ``lineage --rebuild`` gives. Checked
on a generated corpus of copying networks (sites with templates, sources, chains of copies with
edits and credit lines, unrelated pages): ``reusetrack ingest`` killed with SIGKILL at random
moments in small batches and run again, the damaged warehouse brought up to date by
``lineage --stale``, exported and loaded, and the corpus ingested one file per run.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import cliproc
import pytest
from typer.testing import CliRunner

from crawlers.files import iter_documents
from reuse.cli import app
from reuse.config import Settings
from reuse.models import Document
from reuse.pipeline.ingest import ingest, ingest_files
from warehouse import lineage as lineage_db
from warehouse.db import open_warehouse

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = Settings()
# The kill tests place their kills by the time a clean run takes: scripts/check runs this module
# alone, after the others have run on every core (under a parallel run's changing load, fewer than
# 20 kills landed).
pytestmark = pytest.mark.timed
runner = CliRunner()

#: The lineage tables and the views over them, compared row for row.
LINEAGE_RELATIONS = (
    "site_boilerplate",
    "version_diffs",
    "lineage_stories",
    "lineage_nodes",
    "reuse_edges",
    "edge_edits",
    "stories",
    "lineage",
    "copies_of",
    "edits",
    "site_network",
)

SITES = ("wire.example", "daily.example", "herald.example", "blog.example", "mirror.example", "post.example")
SYLLABLES = ("ka", "ro", "mi", "ten", "sul", "var", "po", "dre", "lin", "qua", "zo", "fer", "nik", "bo", "tas", "gu")


def _words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(n))


def _paragraph(rng: random.Random) -> str:
    sentences = [_words(rng, rng.randint(9, 16)).capitalize() + f" {rng.randint(2, 990)}." for _ in range(4)]
    return " ".join(sentences)


def corpus(seed: int, stories: int = 9, unrelated: int = 3) -> list[dict[str, Any]]:
    """Rows of a JSON Lines corpus (url, site, title, published, text) with copying networks:
    each story a source on one site and copies on others, taken from the source or from an
    earlier copy, with paragraphs dropped, numbers changed, a preamble or a credit line added;
    every site's pages carry its menu and footer (a template to learn). First ``unrelated``
    pages of each site, so that the templates are learned early and stay (as in a warehouse
    that has run for a while: a new template would make the update rebuild every story of its
    site, hiding stories a killed run lost), then the stories' pages shuffled, so that a copy
    may come before its source. Some times are date-only."""
    rng = random.Random(seed)
    chrome = {site: (f"Menu {site} " + _words(rng, 8), _paragraph(rng)) for site in SITES}
    rows: list[dict[str, Any]] = []
    start = datetime(2021, 3, 1, 8, tzinfo=UTC)

    def page(site: str, slug: str, body: list[str], when: datetime, date_only: bool = False) -> dict[str, Any]:
        menu, footer = chrome[site]
        return {
            "url": f"https://{site}/{slug}",
            "site": site,
            "title": body[0][:40],
            "published": when.date().isoformat() if date_only else when.isoformat(),
            "text": "\n\n".join([menu, *body, footer]),
        }

    for k in range(stories):
        source_site = rng.choice(SITES)
        when = start + timedelta(days=3 * k, minutes=rng.randint(0, 600))
        body = [_paragraph(rng) for _ in range(rng.randint(3, 5))]
        rows.append(page(source_site, f"story-{k}", body, when))
        taken = [(source_site, body, when)]
        for c in range(rng.randint(1, 4)):
            site = rng.choice([s for s in SITES if s not in {t[0] for t in taken}])
            origin_site, origin, origin_time = rng.choice(taken)
            copy = list(origin)
            if len(copy) > 2 and rng.random() < 0.4:
                copy.pop(rng.randrange(1, len(copy)))
            if rng.random() < 0.4:
                i = rng.randrange(len(copy))
                copy[i] = copy[i].replace(".", f" and {rng.randint(1000, 9999)}.", 1)
            if rng.random() < 0.3:
                copy.insert(0, "Republished with permission. " + _words(rng, 10).capitalize() + ".")
            if rng.random() < 0.5:
                copy.append(f"This article was originally published by {origin_site}.")
            lag = timedelta(minutes=rng.choice([3, 40, 200, 1500, 3000]))
            copy_time = origin_time + lag
            rows.append(page(site, f"copy-{k}-{c}", copy, copy_time, date_only=rng.random() < 0.15))
            taken.append((site, copy, copy_time))
    rng.shuffle(rows)
    others = [
        page(site, f"other-{u}", [_paragraph(rng) for _ in range(3)], start - timedelta(days=u))
        for u in range(unrelated)
        for site in SITES
    ]
    return others + rows


#: Documents of the corpus the kill tests ingest.
DOCUMENTS = len(corpus(12))


def write_corpus(folder: Path, rows: list[dict[str, Any]], files: int = 1) -> list[Path]:
    """The rows, in order, as ``files`` JSON Lines files (named in that order) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    size = -(-len(rows) // files)
    for f in range(files):
        path = folder / f"part-{f:03d}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows[f * size : (f + 1) * size]), encoding="utf-8")
        paths.append(path)
    return paths


def lineage_content(db: Path) -> dict[str, list[str]]:
    """Every lineage table and view as a sorted list of rows, without what a run assigns (run_id;
    an edge_id is replaced by its edge's source URL, target URL and relation)."""
    with open_warehouse(db, read_only=True) as wh:
        _, keyed = wh.query(
            "SELECT e.edge_id, s.url, t.url, e.relation FROM reuse_edges e"
            " JOIN documents s ON s.doc_id = e.source_doc JOIN documents t ON t.doc_id = e.target_doc"
        )
        edge_key = {edge: (source, target, relation) for edge, source, target, relation in keyed}
        found = {}
        for relation in LINEAGE_RELATIONS:
            columns, rows = wh.query(f"SELECT * FROM {relation}")
            kept = []
            for row in rows:
                values = []
                for name, value in zip(columns, row, strict=True):
                    if name == "run_id":
                        continue
                    values.append((name, edge_key.get(value) if name == "edge_id" else value))
                kept.append(repr(values))
            found[relation] = sorted(kept)
    return found


def assert_same_lineage(db: Path, expected: dict[str, list[str]]) -> None:
    got = lineage_content(db)
    for relation in LINEAGE_RELATIONS:
        assert got[relation] == expected[relation], f"{relation} differs from a clean run's"
    with open_warehouse(db, read_only=True) as wh:
        assert lineage_db.pending_count(wh) == 0


#: The environment of the kill tests' runs: small batches, so that a kill can land between them.
ENV = {"REUSETRACK_BATCH_SIZE": "4", "REUSETRACK_WORKERS": "1"}


def _cli(db: Path, *args: str) -> subprocess.Popen[str]:
    """The CLI in a process of its own, to be killed."""
    return subprocess.Popen(
        [sys.executable, "-m", "reuse", "--db", str(db), *args],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(db: Path, *args: str) -> None:
    """Run the CLI to completion, in this process: a run nobody kills needs no process of its
    own, and a new one costs the seconds of its imports."""
    result = runner.invoke(app, ["--db", str(db), *args], env=ENV)
    assert result.exit_code == 0, result.output


def _started(running: Callable[[], bool], db: Path) -> float:
    """Wait until the process has opened the warehouse and recorded its run (DuckDB has written
    the log beside the file: a run killed before leaves none, see :func:`_stored`); the wait."""
    started = time.monotonic()
    while running() and not Path(f"{db}.wal").exists():
        time.sleep(0.005)
    return time.monotonic() - started


def _killable(db: Path, *args: str) -> BaseProcess:
    """The CLI in a process of its own, to be killed: a forkserver child (see cliproc) rather than
    a new interpreter, as the kill tests start dozens of runs and each would import the engine
    first. Its output goes to a log beside the warehouse."""
    return cliproc.start(["--db", str(db), *args], db.with_suffix(f".{time.monotonic_ns()}.log"), ENV)


def _stored(db: Path) -> tuple[int, int]:
    """Documents stored and versions lineage still owes."""
    if not db.exists():
        return 0, 0
    with open_warehouse(db) as wh:  # writable: replays the WAL a killed run left
        _, ((docs, owed),) = wh.query("SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM lineage_pending)")
    return int(docs), int(owed)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, list[str]], float]:
    """The corpus (45 documents in three files), one clean CLI run over it, its lineage and the
    seconds it spent after opening the warehouse."""
    folder = tmp_path_factory.mktemp("corpus")
    rows = corpus(12)
    write_corpus(folder / "in", rows, files=3)
    db = folder / "clean.duckdb"
    proc = _cli(db, "ingest", str(folder / "in"))
    _started(lambda: proc.poll() is None, db)
    started = time.monotonic()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    took = time.monotonic() - started  # from the warehouse opened to the end: where kills land
    content = lineage_content(db)
    assert len(content["reuse_edges"]) >= 15 and len(content["lineage_stories"]) >= 6, content["lineage_stories"]
    assert content["site_boilerplate"]
    return folder / "in", db, content, took


def test_ingest_killed_at_random_points_then_run_again_gives_a_clean_runs_lineage(
    clean: tuple[Path, Path, dict[str, list[str]], float], tmp_path: Path
) -> None:
    """At least 20 SIGKILLs at random moments of ingests in batches of 4 (reading, storing,
    matching, committing, the lineage update), several in a row on one warehouse, each run
    starting over the same inputs; then one run to completion, whose lineage must be a clean
    run's. Each chain starts on a warehouse with history: a completed run over the first file
    (every site's template learned, some stories stored), as a warehouse that has run for a while
    (in a new one, the first templates learned make the update rebuild every story of their
    sites, which would hide what the kills lost). Seed after seed until 20 kills have landed (a
    run that ends before its kill ends its seed's chain: there is nothing left to interrupt)."""
    inputs, _, expected, took = clean
    at_kills: dict[int, list[tuple[int, int]]] = {}
    for seed in range(1, 30):
        db = tmp_path / f"seed-{seed}.duckdb"
        rng = random.Random(seed)
        at_kills[seed] = []
        _run(db, "ingest", str(inputs / "part-000.jsonl"))
        stored = _stored(db)[0]
        for _ in range(5):
            proc = _killable(db, "ingest", str(inputs))
            _started(proc.is_alive, db)
            # Within what is left to do: the documents not stored yet, and the lineage update.
            time.sleep(rng.uniform(0.0, took * (1.0 - 0.8 * stored / DOCUMENTS)))
            if not proc.is_alive():
                break
            proc.kill()  # SIGKILL
            proc.join(timeout=30)
            state = _stored(db)
            at_kills[seed].append(state)
            stored = state[0]
        _run(db, "ingest", str(inputs))
        assert_same_lineage(db, expected)
        if sum(map(len, at_kills.values())) >= 20:
            break
    kills = [state for states in at_kills.values() for state in states]
    print(f"\n{len(kills)} SIGKILLs, (documents stored, versions owed) at each, per seed: {at_kills}")
    assert len(kills) >= 20
    # Kills landed with lineage owed, part of the corpus stored, and all of it stored.
    assert any(owed for _, owed in kills) and any(0 < docs < DOCUMENTS for docs, _ in kills)


def _owed_everything(inputs: Path, db: Path) -> None:
    """What a run killed after its last batch and before its lineage update leaves: every
    document stored, no lineage."""
    with open_warehouse(db, SETTINGS) as wh:
        ingest(wh, iter_documents([inputs]), SETTINGS, batch_size=4, lineage=False)
        assert lineage_db.pending_count(wh) > 0


def test_lineage_stale_and_rebuild_and_a_rerun_storing_nothing_restore_a_dead_runs_lineage(
    clean: tuple[Path, Path, dict[str, list[str]], float], tmp_path: Path
) -> None:
    inputs, _, expected, _ = clean
    damaged = tmp_path / "damaged.duckdb"
    _owed_everything(inputs, damaged)
    stats = runner.invoke(app, ["--db", str(damaged), "stats"])
    assert "lineage: stale" in stats.stdout, stats.stdout
    for how in (["lineage", "--stale"], ["lineage", "--rebuild"], ["ingest", str(inputs)]):
        db = tmp_path / f"{how[-1].strip('-')[:8]}.duckdb"
        shutil.copy(damaged, db)
        result = runner.invoke(app, ["--db", str(db), *how])
        assert result.exit_code == 0, result.output
        if how[0] == "lineage":
            assert result.stdout.startswith("lineage "), result.stdout
            assert f"{len(expected['lineage_stories'])} stories, {len(expected['reuse_edges'])} reuse edges" in (
                result.stdout
            )
        else:
            assert "ingested 0," in result.stdout  # the re-run stores nothing, and still restores the lineage
        assert_same_lineage(db, expected)
        assert "lineage: up to date" in runner.invoke(app, ["--db", str(db), "stats"]).stdout


def test_export_and_load_of_a_damaged_warehouse_builds_full_lineage(
    clean: tuple[Path, Path, dict[str, list[str]], float], tmp_path: Path
) -> None:
    inputs, _, expected, _ = clean
    damaged = tmp_path / "damaged.duckdb"
    _owed_everything(inputs, damaged)
    out = tmp_path / "snapshot"
    assert runner.invoke(app, ["--db", str(damaged), "export", "--out", str(out)]).exit_code == 0
    loaded = tmp_path / "loaded.duckdb"
    result = runner.invoke(app, ["--db", str(loaded), "load", str(out)])
    assert result.exit_code == 0, result.output
    assert_same_lineage(loaded, expected)


def test_a_killed_ingest_then_lineage_stale_equals_a_rebuild_and_survives_export_and_load(
    clean: tuple[Path, Path, dict[str, list[str]], float], tmp_path: Path
) -> None:
    """Killed half-way (part of the corpus stored): --stale and an export loaded elsewhere give
    what --rebuild gives, which is what a clean run over the stored part gives."""
    inputs, _, _, took = clean
    killed = tmp_path / "killed.duckdb"
    proc = _killable(killed, "ingest", str(inputs))
    _started(proc.is_alive, killed)
    time.sleep(took * 0.5)
    proc.kill()  # SIGKILL
    proc.join(timeout=30)
    _stored(killed)
    stale, rebuilt, loaded = (tmp_path / f"{name}.duckdb" for name in ("stale", "rebuilt", "loaded"))
    shutil.copy(killed, stale)
    shutil.copy(killed, rebuilt)
    assert runner.invoke(app, ["--db", str(stale), "lineage", "--stale"]).exit_code == 0
    assert runner.invoke(app, ["--db", str(rebuilt), "lineage", "--rebuild"]).exit_code == 0
    assert runner.invoke(app, ["--db", str(killed), "export", "--out", str(tmp_path / "snap")]).exit_code == 0
    assert runner.invoke(app, ["--db", str(loaded), "load", str(tmp_path / "snap")]).exit_code == 0
    expected = lineage_content(rebuilt)
    assert_same_lineage(stale, expected)
    assert_same_lineage(loaded, expected)


def test_one_file_per_run_equals_one_run_and_a_rebuild(tmp_path: Path) -> None:
    """Incremental updates (stories merging as their links arrive, templates relearned as sites
    grow, documents changed in later runs) add up to what one run and a rebuild find."""
    rows = corpus(7, stories=6, unrelated=1)
    rng = random.Random(7)
    updates = [{**row, "text": row["text"].replace(".", ". Updated 2021.", 1)} for row in rng.sample(rows, 3)]
    per_run = [
        *write_corpus(tmp_path / "runs", rows, files=-(-len(rows) // 3)),
        *write_corpus(tmp_path / "updates", updates),  # a new version of some pages, in a later file
    ]
    one, runs = tmp_path / "one.duckdb", tmp_path / "runs.duckdb"
    # Every page in one run (a run keeps the first record of a URL), then the new versions in a
    # second; and one run per file of three pages.
    ingest_files(one, per_run[:-1], SETTINGS, batch_size=3)
    ingest_files(one, per_run[-1:], SETTINGS)
    for path in per_run:
        ingest_files(runs, [path], SETTINGS)
    expected = lineage_content(one)
    assert expected["version_diffs"] and expected["reuse_edges"]
    assert_same_lineage(runs, expected)
    assert runner.invoke(app, ["--db", str(runs), "lineage", "--rebuild"]).exit_code == 0
    assert_same_lineage(runs, expected)


def test_lineage_command_arguments() -> None:
    """``lineage URL_OR_ID`` is unchanged; the document is optional only with --rebuild or --stale."""
    for args, message in (
        (["lineage"], "missing URL_OR_ID"),
        (["lineage", "--stale", "--rebuild"], "not both"),
        (["lineage", "--stale", "https://a.example/1"], "take no document"),
    ):
        result = runner.invoke(app, ["--db", "/nonexistent/w.duckdb", *args])
        assert result.exit_code == 1 and result.stderr.startswith("Error: "), result.output
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_version_diff_follows_the_template_its_site_learns_later(tmp_path: Path) -> None:
    """A block a new version added becomes the site's template only when later pages carry it:
    the diff made before then is made again, as one run (and a rebuild) makes it."""
    rng = random.Random(3)
    footer = "Support our work. " + _paragraph(rng)
    day = datetime(2021, 3, 1, tzinfo=UTC)

    def doc(slug: str, body: list[str], k: int) -> Document:
        return Document(f"https://a.example/{slug}", "\n\n".join(body), slug, day + timedelta(days=k), "a.example")

    first = [_paragraph(rng) for _ in range(3)]
    runs = [
        [doc("x", first, 0)],
        [doc("x", [*first, footer], 0)],  # a new version: the footer looks like an added paragraph
        [doc(f"p{k}", [_paragraph(rng), footer], k) for k in range(1, 6)],  # now it is the template
    ]
    one, several = tmp_path / "one.duckdb", tmp_path / "runs.duckdb"
    with open_warehouse(one, SETTINGS) as wh:
        # The new version and the pages that make its footer the template in one run, in batches
        # of one (a run keeps the first record of a URL, so the first version comes in a run before).
        ingest(wh, runs[0], SETTINGS)
        ingest(wh, [*runs[1], *runs[2]], SETTINGS, batch_size=1)
    with open_warehouse(several, SETTINGS) as wh:
        for docs in runs:
            ingest(wh, docs, SETTINGS)
    expected = lineage_content(one)
    assert len(expected["version_diffs"]) == 1 and expected["site_boilerplate"]
    assert_same_lineage(several, expected)
