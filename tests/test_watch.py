"""Watchlists and alerts (issue 16): ``watch add|list|remove``, the alerts every run that stores
documents raises in its lineage update, ``alerts`` (--since, --unseen, --mark-seen, --json, --atom)
and ``crawl --webhook``, on real DuckDB files, through the CLI's runner, with webhooks POSTed to
servers on 127.0.0.1.

The rules: one alert per watch and new copy, raised in the transaction of the lineage it is read
from (a SIGKILL at any moment neither loses nor doubles one, and the next run completes what a
killed one left: the hypothesis test at the end); a copy that only repeats a site's template raises
nothing; a rebuilt lineage raises nothing again; a delivered alert is not POSTed again and an
undelivered one is POSTed at the next run.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from fixtureweb import FixtureWeb, Route, article_html, paragraphs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lineage_state import ENV, SETTINGS, SITES, _killable, _started, _stored, corpus, write_corpus
from typer.testing import CliRunner

from crawlers.files import iter_documents
from reuse.cli import app
from reuse.cli.watch import parse_since
from reuse.config import Settings
from reuse.engine.analysis import analyse_many
from reuse.engine.lsh import band_keys, band_params
from reuse.pipeline.ingest import ingest, ingest_files
from reuse.pipeline.webhook import WebhookSettings, deliver_alerts, register_webhook
from warehouse.alerts import ATOM_NS, list_alerts
from warehouse.db import open_warehouse

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "seeds" / "demo"
SOUTHFRONT = "https://southfront.org/presence-of-turkish-backed-syrian-militants-in-nagorno-karabakh-gives-armenia-additional-chances-in-war/"
runner = CliRunner()


def cli(db: Path, *args: str | Path, code: int = 0) -> str:
    """``reusetrack --db DB ARGS`` through the runner; its stdout, the exit code checked."""
    result = runner.invoke(app, ["--db", str(db), *map(str, args)], env=ENV)
    assert result.exit_code == code, result.output
    return result.stdout


def error(db: Path, *args: str | Path) -> str:
    """The one ``Error:`` line a refused command prints (exit code 1)."""
    result = runner.invoke(app, ["--db", str(db), *map(str, args)])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output, result.output
    return lines[0]


def alerts_json(db: Path, *args: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(cli(db, "alerts", "--json", *args))
    return items


def demo_part(tmp_path: Path, *sites: str) -> Path:
    """A folder holding the demo pages of ``sites``."""
    folder = tmp_path / "-".join(sites)
    for site in sites:
        shutil.copytree(DEMO / site, folder / site)
    return folder


def test_done_when_a_southfront_watch_alerts_the_global_research_copy(tmp_path: Path) -> None:
    """The issue's case on the seeds: watch southfront.org, ingest the Global Research copy: one
    alert, credited, with its edits, in ``alerts --json`` and in the Atom feed."""
    db = tmp_path / "w.duckdb"
    cli(db, "ingest", demo_part(tmp_path, "southfront.org"))
    assert cli(db, "watch", "add", "southfront.org", "--name", "SouthFront", "--note", "all of it") == (
        "watch 1: site southfront.org\n"
    )
    cli(db, "ingest", demo_part(tmp_path, "globalresearch.ca"))
    (alert,) = alerts_json(db)
    assert alert["watch"] == {"watch_id": 1, "kind": "site", "target": "southfront.org", "name": "SouthFront"}
    assert alert["copy"]["site"] == "globalresearch.ca" and alert["copy"]["url"].startswith(
        "https://www.globalresearch.ca/video-presence-turkish-backed"
    )
    assert alert["copy"]["time"] == "2020-11-05T14:14:02+00:00" and alert["copy"]["time_precision"] == "second"
    assert alert["source"]["url"] == SOUTHFRONT and alert["source"]["site"] == "southfront.org"
    assert alert["credited"] == "credited" and alert["relation"] == "copy" and alert["directed"] is True
    assert alert["labels"] == [
        "headline_changed",
        "preamble_added",
        "tags_added",
        "footer_added",
        "site_boilerplate_added",
    ]
    assert alert["coverage_source"] > 0.99 and alert["lag_seconds"] == 78242 and alert["seen_at"] is None
    assert {e["signal"] for e in alert["evidence"]} >= {"credit", "dates"}
    # The same as the lineage says of the copy.
    lineage = json.loads(cli(db, "lineage", "--json", SOUTHFRONT))
    (edge,) = lineage["edges"]
    assert (edge["target_url"], edge["credited"], edge["labels"]) == (alert["copy"]["url"], "credited", alert["labels"])

    feed_file = tmp_path / "feed" / "alerts.atom"
    feed_file.parent.mkdir()
    assert cli(db, "alerts", "--atom", feed_file) == f"1 alert written to {feed_file}\n"
    assert [p.name for p in feed_file.parent.iterdir()] == ["alerts.atom"]  # no temporary file left
    feed = ET.parse(feed_file).getroot()
    ns = {"a": ATOM_NS}
    assert feed.tag == f"{{{ATOM_NS}}}feed"
    for required in ("id", "title", "updated", "author/a:name"):
        assert feed.find(f"a:{required}", ns) is not None, required
    (entry,) = feed.findall("a:entry", ns)
    assert entry.findtext("a:title", namespaces=ns) == "globalresearch.ca copies southfront.org (credited)"
    assert entry.find("a:link[@rel='alternate']", ns).get("href") == alert["copy"]["url"]  # type: ignore[union-attr]
    assert [c.get("term") for c in entry.findall("a:category", ns)] == alert["labels"]
    assert json.loads(entry.findtext("a:content", namespaces=ns) or "") == alert
    assert entry.findtext("a:id", namespaces=ns).endswith(":alert:1")  # type: ignore[union-attr]

    # Running again, or rebuilding the lineage, raises nothing again.
    cli(db, "ingest", DEMO)
    after = alerts_json(db)
    assert len(after) == 4 and after[-1] == alert  # and the other direct copies of SouthFront, newest first
    assert {a["copy"]["site"] for a in after} == {
        "globalresearch.ca", "northgate-herald.example", "energy-corridor.example", "morningfold.example"
    }  # fmt: skip
    cli(db, "lineage", "--rebuild")
    cli(db, "ingest", DEMO)
    assert alerts_json(db) == after
    watches = json.loads(cli(db, "watch", "list", "--json"))
    assert [(w["watch_id"], w["alerts"], w["unseen"], w["note"]) for w in watches] == [(1, 4, 4, "all of it")]


def _text(rng: random.Random, sentences: int = 5) -> str:
    words = [
        "harbour",
        "council",
        "ferry",
        "budget",
        "river",
        "station",
        "minister",
        "bridge",
        "market",
        "village",
        "school",
        "museum",
        "library",
    ]
    return " ".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(10, 16))).capitalize() + f" {rng.randint(2, 999)}."
        for _ in range(sentences)
    )


def _page(site: str, slug: str, paragraphs: list[str], day: int) -> dict[str, Any]:
    return {
        "url": f"https://{site}/{slug}",
        "site": site,
        "title": paragraphs[0][:40],
        "published": f"2021-03-{day:02d}T10:00:00Z",
        "text": "\n\n".join(paragraphs),
    }


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_copy_that_only_repeats_a_template_raises_nothing(tmp_path: Path) -> None:
    """A site whose every page carries a paragraph of a watched article in its sidebar (its own
    template) copies nothing; a page on another site that takes the article does. A text watch on
    a site's template fires on none of that site's pages."""
    rng = random.Random(5)
    article = [_text(rng) for _ in range(4)]
    sidebar = article[1]
    template = _text(rng, 3)  # the watched site's own footer
    db = tmp_path / "w.duckdb"
    cli(db, "ingest", _jsonl(tmp_path / "a.jsonl", [_page("origin.example", "article", [*article, template], 1)]))
    cli(db, "watch", "add", "origin.example")
    passage = tmp_path / "footer.txt"
    passage.write_text(template + "\n", encoding="utf-8")
    cli(db, "watch", "add", "--text", passage)
    rows = [_page("sidebar.example", f"p{k}", [_text(rng), sidebar, _text(rng)], 2 + k) for k in range(6)]
    rows += [_page("origin.example", f"o{k}", [_text(rng), _text(rng), template], 2 + k) for k in range(6)]
    rows.append(_page("copier.example", "taken", ["Republished.", *article[:3]], 9))
    cli(db, "ingest", _jsonl(tmp_path / "b.jsonl", rows))
    found = alerts_json(db)
    assert [(a["watch"]["kind"], a["copy"]["url"]) for a in found] == [("site", "https://copier.example/taken")]
    assert found[0]["credited"] == "uncredited" and found[0]["source"]["url"] == "https://origin.example/article"
    boilerplate = cli(db, "sql", "--csv", "SELECT DISTINCT site FROM site_boilerplate ORDER BY 1")
    assert boilerplate.split() == ["site", "origin.example", "sidebar.example"]  # both templates were learned


def test_a_text_watch_fires_on_new_documents_holding_the_passage(tmp_path: Path) -> None:
    """A passage of the SouthFront report (its second paragraph, lightly reworded): the documents
    stored after the watch that hold it raise one alert each, with the spans found; the others none."""
    db, probe = tmp_path / "w.duckdb", tmp_path / "probe.duckdb"
    cli(db, "ingest", demo_part(tmp_path, "morningfold.example"))
    cli(probe, "ingest", demo_part(tmp_path, "southfront.org"))
    text = json.loads(cli(probe, "sql", "--json", "SELECT text FROM versions"))[0]["text"]
    paragraph = text.split("\n\n")[1].replace("at least 6 troops", "at least six troops")
    passage = tmp_path / "passage.txt"
    passage.write_text(paragraph, encoding="utf-8")
    assert cli(db, "watch", "add", "--text", passage, "--name", "Karvachar") == f"watch 1: text {passage}\n"
    cli(db, "ingest", DEMO)
    found = alerts_json(db)
    assert {a["copy"]["site"] for a in found} >= {"southfront.org", "globalresearch.ca"}
    assert "morningfold.example" not in {a["copy"]["site"] for a in found}  # stored before the watch
    assert all(a["watch"]["kind"] == "text" and a["source"] is None and a["relation"] == "text" for a in found)
    sf = next(a for a in found if a["copy"]["site"] == "southfront.org")
    assert sf["coverage_source"] > 0.9 and sf["evidence"][0]["kind"] in ("near-verbatim", "edited")
    assert "Karvachar area" in sf["evidence"][0]["text"]
    unrelated = {"council-unveils", "rovers-come", "satellites-spot", "korvik-lumen"}
    assert not any(u in a["copy"]["url"] for a in found for u in unrelated)
    cli(db, "lineage", "--rebuild")
    assert alerts_json(db) == found


def test_a_document_watch_and_removing_it(tmp_path: Path) -> None:
    """A document named by a variant of its URL: its new copies raise alerts (not a copy stored
    before the watch, though its story is rebuilt); removed, it raises no more and the ones raised stay."""
    db = tmp_path / "w.duckdb"
    cli(db, "ingest", demo_part(tmp_path, "southfront.org", "globalresearch.ca"))
    variant = SOUTHFRONT.replace("https://", "http://www.").rstrip("/") + "?utm_source=x"
    out = json.loads(cli(db, "watch", "add", variant, "--json"))
    assert out == {"watch_id": 1, "kind": "document", "target": SOUTHFRONT}
    cli(db, "ingest", demo_part(tmp_path, "northgate-herald.example", "energy-corridor.example"))
    found = alerts_json(db)
    assert sorted(a["copy"]["site"] for a in found) == ["energy-corridor.example", "northgate-herald.example"]
    northgate = next(a for a in found if a["copy"]["site"] == "northgate-herald.example")
    assert northgate["credited"] == "uncredited" and "numbers_changed" in northgate["labels"]
    assert cli(db, "watch", "remove", "1") == "watch 1 removed\n"
    assert json.loads(cli(db, "watch", "list", "--json")) == []
    cli(db, "ingest", DEMO)
    assert alerts_json(db) == found


def test_watch_errors_are_one_line(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    cli(db, "ingest", demo_part(tmp_path, "southfront.org"))
    cli(db, "watch", "add", "southfront.org")
    empty, binary, short = tmp_path / "empty.txt", tmp_path / "binary.txt", tmp_path / "short.txt"
    empty.write_text("  \n", encoding="utf-8")
    binary.write_bytes(b"\x00\x01\x02" * 100)
    short.write_text("Five words are too few.", encoding="utf-8")
    for args, message in [
        (["southfront.org"], "southfront.org: already watched (watch 1)"),
        (["WWW.SouthFront.org"], "already watched (watch 1)"),
        (["https://nowhere.example/story"], "no document with URL or doc_id 'https://nowhere.example/story'"),
        (["999"], "no document with URL or doc_id '999'"),
        ([], "give one of a site, a document (URL or doc_id) or --text FILE"),
        (["southfront.org", "--text", str(short)], "give one of"),
        (["--text", str(tmp_path / "missing.txt")], "missing.txt"),
        (["--text", str(empty)], "too short to watch"),
        (["--text", str(binary)], "binary file"),
        (["--text", str(short)], "too short to watch: a passage needs 8 words or more"),
    ]:
        assert message in error(db, "watch", "add", *args), args
    passage = tmp_path / "p.txt"
    passage.write_text(" ".join(["watched words here"] * 10), encoding="utf-8")
    cli(db, "watch", "add", "--text", passage)
    assert "already watched (watch 2)" in error(db, "watch", "add", "--text", passage)
    assert "7: no such watch" in error(db, "watch", "remove", "7")
    cli(db, "watch", "remove", "2")
    assert "2: no such watch" in error(db, "watch", "remove", "2")
    assert "--since: 'soon' is neither" in error(db, "alerts", "--since", "soon")
    assert len(json.loads(cli(db, "watch", "list", "--json"))) == 1


def test_unseen_mark_seen_and_since(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    cli(db, "ingest", demo_part(tmp_path, "southfront.org"))
    cli(db, "watch", "add", "southfront.org")
    before = time.time()
    cli(db, "ingest", demo_part(tmp_path, "globalresearch.ca"))
    assert len(alerts_json(db, "--unseen")) == 1
    marked = alerts_json(db, "--unseen", "--mark-seen")
    assert len(marked) == 1 and marked[0]["seen_at"] is None  # listed as they were, then marked
    assert alerts_json(db, "--unseen") == [] and alerts_json(db)[0]["seen_at"] is not None
    cli(db, "ingest", DEMO)
    unseen = alerts_json(db, "--unseen")
    assert len(unseen) == 3 and len(alerts_json(db)) == 4
    assert [a["alert_id"] for a in unseen] == [4, 3, 2]  # newest first
    assert len(alerts_json(db, "--since", "1h")) == 4 and len(alerts_json(db, "--limit", "2")) == 2
    assert alerts_json(db, "--since", "2999-01-01") == []
    since = parse_since("2020-01-01")
    assert since.isoformat() == "2020-01-01T00:00:00+00:00" and len(alerts_json(db, "--since", "2020-01-01")) == 4
    assert abs(parse_since("2h").timestamp() - (time.time() - 7200)) < 5 and before < time.time()
    assert cli(db, "alerts", "--unseen", "--mark-seen").count("new") == 3  # the table marks them new
    assert cli(db, "alerts", "--unseen") == "no alerts\n"


def _hook(web: FixtureWeb) -> tuple[str, Route]:
    site = web.site("hook")
    return site.url("/hook"), site.add("/hook", Route(body=b"{}", content_type="application/json"))


def _posted(web: FixtureWeb) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in web.sites["hook"].requests("/hook") if r.status == 200]


FAST = WebhookSettings(attempts=3, backoff=0.01, timeout=5.0)


def test_webhook_retries_with_backoff_and_never_sends_twice(web: FixtureWeb, tmp_path: Path) -> None:
    """Each owed alert POSTed as its ``alerts --json`` item; a 503 and a reset are retried; a
    delivered alert is not sent again; alerts raised before the webhook was first given are not
    owed to it."""
    db = tmp_path / "w.duckdb"
    url, route = _hook(web)
    cli(db, "ingest", demo_part(tmp_path, "southfront.org"))
    cli(db, "watch", "add", "southfront.org")
    cli(db, "ingest", demo_part(tmp_path, "globalresearch.ca"))  # alert 1, before the webhook
    register_webhook(db, url)
    cli(db, "ingest", DEMO)  # alerts 2, 3, 4
    route.faults = ["503", "reset"]
    sent = deliver_alerts(db, url, FAST)
    assert (sent.delivered, sent.owed, sent.error) == (3, 0, None)
    requests = web.sites["hook"].requests("/hook")
    assert [(r.method, r.status, r.fault) for r in requests[:3]] == [
        ("POST", 503, "503"), ("POST", None, "reset"), ("POST", 200, None)
    ]  # fmt: skip
    # Backed off, doubling: each request reaches the server after the client had the answer to
    # the one before (which came after that request arrived) and waited. (Measured from the
    # server's end of a request, the wait could look shorter: the server notes the end after
    # the client already has the answer.)
    assert requests[1].start - requests[0].start >= 0.01
    assert requests[2].start - requests[1].start >= 0.02
    expected = sorted(alerts_json(db), key=lambda a: a["alert_id"])[1:]
    assert _posted(web) == expected
    assert [r.headers["X-Reusetrack-Alert"] for r in requests if r.status == 200] == ["2", "3", "4"]
    assert all(r.headers["Content-Type"] == "application/json" for r in requests)
    assert deliver_alerts(db, url, FAST) == type(sent)(0, 0, None)
    register_webhook(db, url)  # given again: nothing new is owed
    assert deliver_alerts(db, url, FAST).delivered == 0 and len(_posted(web)) == 3
    rows = cli(
        db, "sql", "--csv", "SELECT alert_id, attempts, delivered_at IS NOT NULL FROM alert_deliveries ORDER BY 1"
    )
    assert rows.split() == ["alert_id,attempts,(delivered_at", "IS", "NOT", "NULL)", "2,3,true", "3,1,true", "4,1,true"]


def test_a_dead_webhook_keeps_its_alerts_owed_until_the_next_run(web: FixtureWeb, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    url, route = _hook(web)
    cli(db, "ingest", demo_part(tmp_path, "southfront.org"))
    cli(db, "watch", "add", "southfront.org")
    register_webhook(db, url)
    cli(db, "ingest", DEMO)
    route.always = "500"
    failed = deliver_alerts(db, url, FAST)
    # The first alert fails every attempt; the rest are not tried this run.
    assert (failed.delivered, failed.owed, failed.error) == (0, 4, "HTTP 500")
    assert len(web.sites["hook"].requests("/hook")) == 3
    route.always = None
    assert deliver_alerts(db, url, FAST).delivered == 4
    assert sorted(a["alert_id"] for a in _posted(web)) == [1, 2, 3, 4]
    # A refusal (4xx) is not retried within the run, and stays owed too.
    route.always = "404"
    cli(db, "ingest", _copy_of_southfront(db, tmp_path, "late.example"))
    refused = deliver_alerts(db, url, FAST)
    assert (refused.delivered, refused.owed, refused.error) == (0, 1, "HTTP 404")
    assert [r.status for r in web.sites["hook"].requests("/hook")][-2:] == [200, 404]  # one attempt
    route.always = None
    assert deliver_alerts(db, url, FAST).delivered == 1 and sorted(a["alert_id"] for a in _posted(web)) == [
        1,
        2,
        3,
        4,
        5,
    ]


def _copy_of_southfront(db: Path, tmp_path: Path, site: str) -> Path:
    """A text file on ``site`` holding the stored SouthFront report's text: a new copy of it."""
    (text,) = json.loads(
        cli(
            db,
            "sql",
            "--json",
            f"SELECT text FROM current_documents JOIN versions USING (version_id) WHERE url = '{SOUTHFRONT}'",
        )
    )
    path = tmp_path / site / "copy.md"
    path.parent.mkdir()
    front = f"---\nurl: https://{site}/copy\nsite: {site}\npublished: 2020-12-01T10:00:00Z\n---\n"
    path.write_text(front + text["text"], encoding="utf-8")
    return path.parent


def test_crawl_posts_each_new_alert_and_a_dead_endpoint_never_stops_it(web: FixtureWeb, tmp_path: Path) -> None:
    """``crawl --webhook``: the alert a crawl raises is POSTed after the run; with the endpoint
    down the crawl still stores and matches everything, and the alert is sent at the next run."""
    db = tmp_path / "w.duckdb"
    url, route = _hook(web)
    origin, copier = web.site("origin"), web.site("copier")
    body = paragraphs("story", 4)
    origin.page("/story", article_html("The story", body))
    copier.page("/taken", article_html("Taken", ["Republished here.", *body[:3]]))
    crawl = ["crawl", "--allow-private", "127.0.0.1/32", "--delay", "0", "--json", "--webhook", url]
    cli(db, *crawl, origin.url("/story"))
    site = origin.base.removeprefix("http://")
    cli(db, "watch", "add", site)
    route.always = "503"
    down = json.loads(cli(db, *crawl, copier.url("/taken")))
    assert down["stored"] == 1 and down["webhook"]["delivered"] == 0 and down["webhook"]["owed"] == 1
    assert down["webhook"]["error"] == "HTTP 503"
    (alert,) = alerts_json(db)
    assert alert["copy"]["url"] == copier.url("/taken") and alert["source"]["url"] == origin.url("/story")
    route.always = None
    up = json.loads(cli(db, *crawl, copier.url("/taken")))
    assert up["webhook"] == {"delivered": 1, "owed": 0, "error": None}
    assert _posted(web) == [alert]
    again = json.loads(cli(db, *crawl, copier.url("/taken")))
    assert again["webhook"] == {"delivered": 0, "owed": 0, "error": None} and len(_posted(web)) == 1
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    copier.page("/second", article_html("Taken again", ["Our view.", *body[1:]]))
    result = json.loads(cli(db, *crawl[:-1], dead, copier.url("/second")))
    assert result["stored"] == 1 and len(alerts_json(db)) == 2  # the crawl went on
    assert result["webhook"]["owed"] == 1 and result["webhook"]["error"].startswith("ConnectError")
    bad = runner.invoke(app, ["--db", str(db), "crawl", "--webhook", "ftp://x/", origin.url("/story")])
    assert bad.exit_code == 1 and "a webhook must be an http:// or https:// URL" in bad.stderr


# -- crash safety -----------------------------------------------------------------------------------


def alert_content(db: Path) -> list[str]:
    """Every alert without what a run assigns (ids, times, run), sorted: what must not depend on kills."""
    with open_warehouse(db, read_only=True) as wh:
        items = list_alerts(wh)
    kept = []
    for item in items:
        for key in ("alert_id", "raised_at", "run_id", "seen_at"):
            del item[key]
        for side in ("copy", "source"):
            if item[side] is not None:
                del item[side]["doc_id"], item[side]["version_id"]
        kept.append(json.dumps(item, sort_keys=True, default=str))
    return sorted(kept)


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str], float]:
    """The kill tests' corpus (three files), a warehouse holding its first file with a watch on
    every site and one on a passage of a story in a later file, and the alerts one clean run over
    the corpus raises on a copy of it; with the seconds that run spent."""
    folder = tmp_path_factory.mktemp("watched")
    rows = corpus(12)
    inputs = folder / "in"
    write_corpus(inputs, rows, files=3)
    history = folder / "history.duckdb"
    cli(history, "ingest", inputs / "part-000.jsonl")
    for site in SITES:
        cli(history, "watch", "add", site)
    stored = {r["url"] for r in map(json.loads, (inputs / "part-000.jsonl").read_text().splitlines())}
    later = next(r for r in rows if "/story-" in r["url"] and r["url"] not in stored)
    passage = folder / "passage.txt"
    passage.write_text(later["text"].split("\n\n")[2], encoding="utf-8")
    cli(history, "watch", "add", "--text", passage)
    clean = folder / "clean.duckdb"
    shutil.copy(history, clean)
    started = time.monotonic()
    cli(clean, "ingest", inputs)
    took = time.monotonic() - started
    expected = alert_content(clean)
    kinds = {json.loads(a)["watch"]["kind"] for a in expected}
    assert len(expected) >= 10 and kinds == {"site", "text"}, expected
    return inputs, history, expected, took


@pytest.mark.timed  # kills are placed by the time a clean run took: run alone, as scripts/check does
def test_alerts_survive_sigkills_at_any_moment(watched: tuple[Path, Path, list[str], float], tmp_path: Path) -> None:
    """Ingests killed (SIGKILL) at random moments, one to three in a row, each over the same
    inputs, then one run to completion: the alerts equal a clean run's, none lost, none twice."""
    inputs, history, expected, took = watched
    landed: list[tuple[int, int]] = []

    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.floats(0.0, 1.2), min_size=1, max_size=3), st.integers(0, 10**6))
    def killed_then_run(delays: list[float], tag: int) -> None:
        db = tmp_path / f"k{tag}-{time.monotonic_ns()}.duckdb"
        shutil.copy(history, db)
        for delay in delays:
            proc = _killable(db, "ingest", str(inputs))
            _started(proc.is_alive, db)
            time.sleep(delay * took)
            if not proc.is_alive():
                break
            proc.kill()
            proc.join(timeout=30)
            landed.append(_stored(db))
        cli(db, "ingest", inputs)
        assert alert_content(db) == expected

    killed_then_run()
    print(f"\n{len(landed)} SIGKILLs landed, (documents stored, versions owed) at each: {landed}")
    assert landed and any(owed for _, owed in landed)


def test_a_run_killed_before_its_lineage_leaves_the_alerts_to_lineage_stale(
    watched: tuple[Path, Path, list[str], float], tmp_path: Path
) -> None:
    """Everything stored, no lineage (a run killed before its update committed): no alert yet;
    ``lineage --stale`` raises exactly a clean run's alerts, and ``--rebuild`` none again."""
    inputs, history, expected, _ = watched
    db = tmp_path / "w.duckdb"
    shutil.copy(history, db)
    with open_warehouse(db, SETTINGS) as wh:
        ingest(wh, iter_documents([inputs]), SETTINGS, batch_size=4, lineage=False)
    before = len(alert_content(history))
    assert len(alert_content(db)) == before
    cli(db, "lineage", "--stale")
    assert alert_content(db) == expected
    ids = [a["alert_id"] for a in alerts_json(db)]
    cli(db, "lineage", "--rebuild")
    assert alert_content(db) == expected and [a["alert_id"] for a in alerts_json(db)] == ids


def test_a_run_dying_as_it_raises_its_alerts_leaves_them_and_its_lineage_to_the_next(
    watched: tuple[Path, Path, list[str], float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run dies just after raising its alerts, before its lineage update commits (the moment
    a SIGKILL rarely hits): nothing of either is kept, and the next run raises a clean run's alerts."""
    import reuse.pipeline.lineage as lineage_stage

    inputs, history, expected, _ = watched
    db = tmp_path / "w.duckdb"
    shutil.copy(history, db)
    real = lineage_stage.raise_alerts

    def dies(*args: Any) -> int:
        real(*args)
        raise KeyboardInterrupt  # as a signal would, mid-transaction

    monkeypatch.setattr(lineage_stage, "raise_alerts", dies)
    with pytest.raises(KeyboardInterrupt):
        ingest_files(db, [inputs], SETTINGS, batch_size=4)
    monkeypatch.setattr(lineage_stage, "raise_alerts", real)
    assert len(alert_content(db)) == len(alert_content(history))
    cli(db, "ingest", inputs)
    assert alert_content(db) == expected


def test_a_text_watch_finds_a_short_quote_inside_a_long_paragraph(tmp_path: Path) -> None:
    """A watched line of 11 words quoted exactly inside a long paragraph of other words: no band
    key of the line's signature equals one of the paragraph's passages' (checked below, so the
    test keeps meaning something), but the line's anchors, key families a document's passages
    have too, find it; a paragraph without the quote raises nothing."""
    db = tmp_path / "w.duckdb"
    quote = "Drones hit the fuel depot near Shusha before dawn on Tuesday."
    passage = tmp_path / "quote.txt"
    passage.write_text(quote, encoding="utf-8")
    cli(db, "watch", "add", "--text", passage)
    own = (
        "The regional council met again this week to discuss the budget for schools, roads and the new "
        "hospital wing, and several members asked why the tender had been delayed for a third time. "
    )
    later = (
        "Residents said the ferry timetable would change from next month, and the harbour office promised "
        "to publish the new hours on its website as soon as the operator confirmed them in writing."
    )
    docs = [
        {"url": "https://quoting.example/a", "title": "Council", "text": own + quote + " " + later},
        {"url": "https://other.example/b", "title": "Depot", "text": own + "The depot near Shusha was quiet. " + later},
    ]
    line, page = analyse_many([quote, docs[0]["text"]], Settings())
    bands, rows = band_params(Settings())
    assert not set(band_keys(line.signatures, bands, rows).flat) & set(band_keys(page.signatures, bands, rows).flat)
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    cli(db, "ingest", feed)
    found = alerts_json(db)
    assert [a["copy"]["url"] for a in found] == ["https://quoting.example/a"]
    assert found[0]["coverage_source"] > 0.9 and found[0]["evidence"][0]["kind"] == "verbatim"
