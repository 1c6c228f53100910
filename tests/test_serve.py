"""``reusetrack serve``, for real: the command started in its own process on a free port of
127.0.0.1 over the demo warehouse, pages and API fetched over HTTP, the story page rendered in
headless Chromium, and a real writer process holding or writing the warehouse while pages load."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import duckdb
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from needs import chromium
from pngsummary import png_summary
from typer.testing import CliRunner

from reuse.cli import app
from reuse.cli.output import percent
from reuse.cli.serve import is_loopback
from reuse.cli.web.reader import Reader
from warehouse.alerts import ATOM_NS, list_alerts, list_watches
from warehouse.db import SCHEMA_VERSION, Warehouse, open_warehouse

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "seeds" / "demo"
SF = "https://southfront.org/presence-of-turkish-backed-syrian-militants-in-nagorno-karabakh-gives-armenia-additional-chances-in-war/"
GR = "https://www.globalresearch.ca/video-presence-turkish-backed-syrian-militants-nagorno-karabakh-gives-armenia-additional-chances-war/5728812"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(
    db: Path, *options: str, started: Callable[[], None] | None = None, output: list[str] | None = None
) -> Iterator[httpx.Client]:
    """``reusetrack --db DB serve`` in its own process on a free port; a client for it, once it
    answers. ``started`` is called once the process is started; ``output`` gets what it printed.
    Stopped by SIGTERM, as a service manager stops it, it must exit with 143 and leave none of its
    snapshot copies in its temporary folder."""
    port = _free_port()
    scratch = Path(tempfile.mkdtemp(prefix="served-"))
    process = subprocess.Popen(
        [sys.executable, "-m", "reuse", "--db", str(db), "serve", "--port", str(port), *options],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if started is not None:
            started()
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/api/sites", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as client:
            yield client
    finally:
        process.terminate()
        printed = process.communicate(timeout=30)[0]
        assert "Traceback" not in printed, printed
        if output is not None:
            output.append(printed)
        left = list(scratch.iterdir())
        shutil.rmtree(scratch)
        assert (process.returncode, left) == (143, []), printed


@pytest.fixture(scope="module")
def site(live: Path) -> Iterator[httpx.Client]:
    """The server over the demo warehouse (which only reads it)."""
    with served(live) as client:
        yield client


def _cli(db: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


# -- pages --------------------------------------------------------------------------------------------


def test_home_searches_urls_titles_and_words(site: httpx.Client) -> None:
    home = site.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert "Latest stories" in home.text and "Presence of Turkish-backed Syrian Militants" in home.text
    found = site.get("/", params={"q": "Armenia"})
    assert found.status_code == 200 and "5 documents for “Armenia”" in found.text
    words = site.get("/", params={"q": "mercenary argument karabakh"}).text  # every word, anywhere
    assert "1 document for" in words and "morningfold.example/2020/11/06" in words
    assert "0 documents for" in site.get("/", params={"q": "armenia zzzunknownword"}).text
    # A URL (any usual spelling) or doc_id names one document: straight to its story.
    jump = site.get("/", params={"q": GR.replace("https://www.", "http://")})
    assert jump.status_code == 303 and jump.headers["location"].startswith("/doc?doc=")
    assert site.get(jump.headers["location"]).status_code == 200
    bounded = site.get("/", params={"q": "e", "limit": "2"}).text
    assert "2+ documents for" in bounded and bounded.count('<li><a href="/doc?doc=') == 2


def test_story_page_shows_the_tree_each_copy_beside_its_source_and_versions(site: httpx.Client) -> None:
    page = site.get("/doc", params={"doc": GR})
    assert page.status_code == 200
    text = page.text
    assert 'id="lineage-graph"' in text and text.count('class="node"') == 5 and text.count('class="edge"') == 4
    assert text.count('<a href="/doc?doc=') >= 5  # every node links to its own story page
    assert "southfront.org → globalresearch.ca" in text and "globalresearch.ca → morningfold.example" in text
    assert "<ins>Video:</ins>" in text  # the headline's added prefix, marked
    assert "<del>7,095. 251</del>" in text and "<ins>7,840. 268</ins>" in text  # Northgate's changed figures
    assert "<b>credited</b>" in text and "<b>uncredited</b>" in text
    assert "headline_changed" in text and "numbers_changed" in text  # edit labels
    assert "<h2>Versions</h2>" in text and "first version" in text
    alone = site.get("/doc", params={"doc": "2"}).text  # the methane story copies nothing
    assert "it is in no story" in alone and "lineage-graph" not in alone


def test_site_and_network_pages(site: httpx.Client) -> None:
    network = site.get("/sites").text
    assert '<a href="/site?site=southfront.org">southfront.org</a>' in network
    assert network.count("<tr>") == 5  # the head and the 4 copying relations
    two = site.get("/sites", params={"limit": "2"}).text
    assert two.count("<tr>") == 3 and "2 more pairs of sites, with fewer copies" in two
    assert "globalresearch.ca" in network and "+21h 44m" in network  # the republication's lag
    copier = site.get("/site", params={"site": "globalresearch.ca"}).text
    assert "Whom it copies" in copier and "credits its source in 100.0% of its 1 copy" in copier
    source = site.get("/site", params={"site": "southfront.org"}).text
    who = source.split("Who copies it")[1].split("Its learned template")[0]
    assert all(s in who for s in ("globalresearch.ca", "northgate-herald.example", "energy-corridor.example"))
    assert "None learned" in source  # the demo holds too few articles per site for a template
    assert site.get("/site", params={"site": "nowhere.example"}).status_code == 404


# -- the JSON API ---------------------------------------------------------------------------------------


def test_api_lineage_is_exactly_lineage_json(site: httpx.Client, live: Path) -> None:
    """For every document (by doc_id and by URL), /api/lineage answers byte for byte what
    ``lineage --json`` prints."""
    for ref in [*map(str, range(1, 10)), SF, GR]:
        answer = site.get("/api/lineage", params={"doc": ref})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert answer.text == _cli(live, "lineage", "--json", ref), ref
    assert json.loads(site.get("/api/lineage", params={"doc": GR}).text)["root"]["url"] == SF


def test_api_matches_stories_and_sites_are_the_cli_json(site: httpx.Client, live: Path) -> None:
    assert site.get("/api/matches", params={"doc": GR}).text == _cli(live, "matches", "--json", GR)
    assert site.get("/api/stories").text == _cli(live, "stories", "--json", "--limit", "100")
    assert site.get("/api/sites").text == _cli(live, "sites", "--json")
    two = json.loads(site.get("/api/matches", params={"doc": GR, "limit": "2"}).text)
    assert two == json.loads(_cli(live, "matches", "--json", GR))[:2]


# -- hostile input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/doc", {}, 400, "missing parameter doc"),
        ("/doc", {"doc": "999999"}, 404, "No document with URL or doc_id &#39;999999&#39;"),
        ("/doc", {"doc": "https://nowhere.example/x"}, 404, "No document with URL"),
        ("/doc", {"doc": "x" * 2001}, 400, "longer than 2000"),
        ("/doc", {"doc": "a\x00b"}, 400, "control characters"),
        ("/site", {}, 400, "missing parameter site"),
        ("/", {"q": "a", "limit": "0"}, 400, "limit must be a whole number from 1 to 200"),
        ("/", {"q": "a", "limit": "１"}, 400, "limit must be a whole number"),  # a full-width digit
        ("/nowhere", {}, 404, "There is no such page."),
        ("/alerts", {"since": "soon"}, 400, "since: &#39;soon&#39; is neither a time ago (24h, 7d) nor an ISO date"),
        ("/alerts", {"since": "<b>x</b>"}, 400, "since: &#39;&lt;b&gt;x&lt;/b&gt;&#39; is neither"),
        ("/alerts", {"unseen": "yes"}, 400, "unseen must be a whole number from 0 to 1"),
        ("/alerts", {"limit": "1001"}, 400, "limit must be a whole number from 1 to 1000"),
        ("/alerts.atom", {"since": "99999999999d"}, 400, "since: &#39;99999999999d&#39; is further back than any date"),
    ],
)
def test_bad_parameters_are_answered_with_a_clear_status(
    site: httpx.Client, path: str, params: dict[str, str], status: int, says: str
) -> None:
    answer = site.get(path, params=params)
    assert answer.status_code == status and says in answer.text, answer.text


@pytest.mark.parametrize(
    ("path", "params", "status", "error"),
    [
        ("/api/lineage", {"doc": "999999"}, 404, "No document with URL or doc_id '999999' in this warehouse."),
        ("/api/matches", {}, 400, "missing parameter doc"),
        ("/api/stories", {"limit": "abc"}, 400, "limit must be a whole number from 1 to 1000"),
        ("/api/stories", {"limit": "100000"}, 400, "limit must be a whole number from 1 to 1000"),
        (
            "/api/alerts",
            {"since": "2020-13-01"},
            400,
            "since: '2020-13-01' is neither a time ago (24h, 7d) nor an ISO date or time",
        ),
        ("/api/alerts", {"unseen": "2"}, 400, "unseen must be a whole number from 0 to 1"),
    ],
)
def test_api_errors_are_json(site: httpx.Client, path: str, params: dict[str, str], status: int, error: str) -> None:
    answer = site.get(path, params=params)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_a_repeated_parameter_and_a_write_method_are_refused(site: httpx.Client) -> None:
    assert site.get("/doc?doc=1&doc=2").status_code == 400
    assert site.post("/doc", params={"doc": "1"}).status_code == 405


def test_what_a_query_string_holds_is_never_sql(site: httpx.Client, live: Path) -> None:
    """Quotes, comments, wildcards and SQL in a search or a document are characters to look for,
    nothing more."""
    for query in ["' OR 1=1 --", "'; DROP TABLE documents; --", "\\", "Armenia' OR 'a'='a", "Armen%", "Armeni_"]:
        answer = site.get("/", params={"q": query})
        assert answer.status_code == 200 and "0 documents for" in answer.text, query
    with open_warehouse(live, read_only=True) as warehouse:
        _, rows = warehouse.query(
            "SELECT c.url, c.title, v.text FROM current_documents c JOIN versions v USING (version_id)"
        )
    for char in "%_":
        holding = sum(any(char in (field or "") for field in row) for row in rows)
        assert f"{holding} document" in site.get("/", params={"q": char}).text, char
    assert site.get("/doc", params={"doc": "1 OR 1=1"}).status_code == 404
    assert "5 documents for" in site.get("/", params={"q": "Armenia"}).text  # and the warehouse is intact


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=40).filter(lambda t: t.strip() and t.isprintable()))
def test_any_text_is_escaped_and_never_breaks_a_page(site: httpx.Client, text: str) -> None:
    """Whatever is searched for or asked as a document, a site or a time, the answer is a page
    (200, 303, 404, or 400 for a time it cannot read; never a server error) and shows what was
    given only escaped."""
    marked = f"<b>{text}</b>"
    for path, name in (("/", "q"), ("/doc", "doc"), ("/site", "site"), ("/alerts", "since")):
        answer = site.get(path, params={name: marked})
        assert answer.status_code in ((400,) if name == "since" else (200, 303, 404)), (path, marked, answer.text)
        assert (f"<b>{text}" not in answer.text and "&lt;b&gt;" in answer.text) or answer.status_code == 303


def test_only_its_own_host_names_are_served_and_pages_run_nothing(site: httpx.Client) -> None:
    """A page elsewhere that rebinds its own name to 127.0.0.1 gets nothing (the Host header names
    it); every answer forbids scripts, framing and loading from elsewhere."""
    port = site.base_url.port
    assert site.get("/", headers={"Host": f"evil.example:{port}"}).status_code == 400
    assert "Host 'evil.example' is not served here." in site.get("/api/sites", headers={"Host": "evil.example"}).text
    assert site.get("/", headers={"Host": f"localhost:{port}"}).status_code == 200
    for path in ("/", "/doc?doc=1", "/api/sites", "/nowhere"):
        headers = site.get(path).headers
        assert (
            "default-src 'none'" in headers["content-security-policy"]
            and "script-src" not in headers["content-security-policy"]
        )
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    assert "<script" not in site.get("/doc", params={"doc": GR}).text


def test_public_addresses_need_the_public_flag(tmp_path: Path, live: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.8.0.1")
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "8.8.8.8", "nowhere.invalid"))
    result = CliRunner().invoke(app, ["--db", str(live), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: 0.0.0.0: not a loopback address: the server has no login and no TLS")
    assert result.stderr.count("\n") == 1 and "--public" in result.stderr
    missing = CliRunner().invoke(app, ["--db", str(tmp_path / "none.duckdb"), "serve"])
    assert missing.exit_code == 1 and missing.stderr.startswith("Error: no warehouse at")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = CliRunner().invoke(app, ["--db", str(live), "serve", "--port", str(port)])
    assert busy.exit_code == 1
    assert busy.stderr == f"Error: 127.0.0.1:{port}: cannot listen there: Address already in use\n"


# -- alerts -----------------------------------------------------------------------------------------------

ATOM = {"a": ATOM_NS}


@pytest.fixture(scope="module")
def alerting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, httpx.Client]]:
    """The issue's done-when case, as the README's Watching section runs it: SouthFront's report
    ingested, ``watch add southfront.org``, then the Global Research copy ingested (one alert);
    and the server over that warehouse."""
    db = tmp_path_factory.mktemp("alerting") / "watched.duckdb"
    _cli(db, "ingest", str(DEMO / "southfront.org"))
    _cli(db, "watch", "add", "southfront.org", "--name", "SouthFront")
    _cli(db, "ingest", str(DEMO / "globalresearch.ca"))
    with served(db) as client:
        yield db, client


def _entries(feed: bytes) -> list[ET.Element]:
    root = ET.fromstring(feed)
    assert root.tag == f"{{{ATOM_NS}}}feed"
    return root.findall("a:entry", ATOM)


def _link(entry: ET.Element, rel: str) -> str | None:
    found = entry.find(f"a:link[@rel='{rel}']", ATOM)
    return None if found is None else found.get("href")


def test_done_when_the_alert_is_in_the_cli_the_api_the_feed_and_the_pages(
    alerting: tuple[Path, httpx.Client], tmp_path: Path
) -> None:
    """Issue 16's "Done when", over HTTP: the one alert (credited, with its edits) in ``alerts
    --json``, /api/alerts, /alerts.atom, the home page's unseen alerts and /alerts; the copy's story
    page shows it beside the SouthFront report. Reading marks nothing seen."""
    db, client = alerting
    printed = _cli(db, "alerts", "--json")
    (alert,) = json.loads(printed)
    copy, source = alert["copy"], alert["source"]
    assert (copy["url"], source["url"], alert["credited"]) == (GR, SF, "credited")
    assert "headline_changed" in alert["labels"] and alert["seen_at"] is None
    answer = client.get("/api/alerts")
    assert answer.headers["content-type"] == "application/json" and answer.text == printed

    # The feed: what `alerts --atom` writes, its entry linking to the copy's story page here.
    served_feed = client.get("/alerts.atom")
    assert served_feed.status_code == 200 and served_feed.headers["content-type"] == "application/atom+xml"
    (entry,) = _entries(served_feed.content)
    story = f"{client.base_url}/doc?doc={copy['doc_id']}"
    assert _link(entry, "alternate") == story and {e.get("href") for e in entry.findall("a:link", ATOM)} == {
        story,
        GR,
        SF,
    }
    assert json.loads(entry.findtext("a:content", namespaces=ATOM) or "") == alert
    written = tmp_path / "alerts.atom"
    _cli(db, "alerts", "--atom", str(written))
    (cli_entry,) = _entries(written.read_bytes())
    assert _link(cli_entry, "alternate") == GR  # the file links to the copy itself, having no server
    for tag in ("id", "title", "updated", "summary", "content"):
        assert entry.findtext(f"a:{tag}", namespaces=ATOM) == cli_entry.findtext(f"a:{tag}", namespaces=ATOM), tag
    assert ET.fromstring(served_feed.content).findtext("a:id", namespaces=ATOM) == ET.fromstring(
        written.read_bytes()
    ).findtext("a:id", namespaces=ATOM)

    # The home page's unseen alerts, first, and the alerts page: each row links to both stories.
    home = client.get("/").text
    assert home.index("<h2>Unseen alerts</h2>") < home.index("<h2>Latest stories</h2>")
    unseen = home.split("<h2>Unseen alerts</h2>")[1].split("<h2>Latest stories</h2>")[0]
    page = client.get("/alerts").text
    for shown in (unseen, page):
        assert shown.count('<tr class="alert">') == 1
        assert f'href="/doc?doc={copy["doc_id"]}"' in shown and f'href="/doc?doc={source["doc_id"]}"' in shown
        assert '<a href="/site?site=globalresearch.ca">globalresearch.ca</a>' in shown
        assert "2020-11-05 14:14 UTC" in shown and percent(alert["coverage_source"]) in shown
        assert "<td>credited</td>" in shown and ", ".join(alert["labels"]) in shown and 'class="new"' in shown
    assert "<td>SouthFront</td>" in page and 'href="/alerts.atom"' in page  # the watches, the feed
    assert '<link rel="alternate" type="application/atom+xml" title="reusetrack alerts" href="/alerts.atom">' in home

    # The copy's story: SouthFront's report beside Global Research's copy, the differing words marked.
    story_page = client.get(story)
    assert story_page.status_code == 200 and "southfront.org → globalresearch.ca" in story_page.text
    assert '<table class="diff">' in story_page.text and "<ins>Video:</ins>" in story_page.text
    assert json.loads(_cli(db, "alerts", "--json", "--unseen")) == [alert]  # the server only reads


def test_api_alerts_and_the_feed_are_exactly_alerts_json(alerting: tuple[Path, httpx.Client], tmp_path: Path) -> None:
    """/api/alerts answers byte for byte what ``alerts --json`` prints with the same since,
    unseen and limit (100 unless given); /alerts.atom and /alerts hold the same alerts."""
    db = tmp_path / "watched.duckdb"
    shutil.copyfile(alerting[0], db)
    _cli(db, "ingest", str(DEMO))  # the other three copies of SouthFront's report: alerts 2 to 4
    _cli(db, "alerts", "--mark-seen", "--limit", "1")  # alert 4 seen
    cases: list[tuple[dict[str, str], list[str], list[int]]] = [
        ({}, ["--limit", "100"], [4, 3, 2, 1]),
        ({"unseen": "1"}, ["--unseen", "--limit", "100"], [3, 2, 1]),
        ({"unseen": "0", "limit": "2"}, ["--limit", "2"], [4, 3]),
        ({"since": "1h", "unseen": "1", "limit": "1"}, ["--since", "1h", "--unseen", "--limit", "1"], [3]),
        ({"since": "2020-01-01"}, ["--since", "2020-01-01", "--limit", "100"], [4, 3, 2, 1]),
        ({"since": "2999-01-01T00:00:00+02:00"}, ["--since", "2999-01-01T00:00:00+02:00", "--limit", "100"], []),
    ]
    with served(db) as client:
        for params, options, ids in cases:
            printed = _cli(db, "alerts", "--json", *options)
            assert [a["alert_id"] for a in json.loads(printed)] == ids, params
            assert client.get("/api/alerts", params=params).text == printed, params
            feed = _entries(client.get("/alerts.atom", params=params).content)
            assert [e.findtext("a:id", namespaces=ATOM).rsplit(":", 1)[1] for e in feed] == list(map(str, ids))  # type: ignore[union-attr]
            page = client.get("/alerts", params=params).text
            assert page.count('<tr class="alert">') == len(ids) and page.count('class="new"') == len(set(ids) - {4})
        home = client.get("/").text.split("<h2>Latest stories</h2>")[0]
        assert home.count('<tr class="alert">') == 3  # the unseen ones


def test_a_warehouse_older_than_watches_is_served(live: Path, tmp_path: Path) -> None:
    """A warehouse written before migration 7 (no watches, no alerts): the read side finds no
    alerts and no watches in it as it is, and the server, whose first read-only open brings it up
    to date (migrations only add), shows none either."""
    db = tmp_path / "old.duckdb"
    shutil.copyfile(live, db)
    with duckdb.connect(str(db)) as con:
        con.execute("DROP VIEW alert_details; DROP TABLE alert_deliveries; DROP TABLE webhooks; DROP TABLE alerts")
        con.execute("DROP TABLE watches; DROP VIEW pair_details; ALTER TABLE doc_pairs DROP COLUMN similarity")
        con.execute("DELETE FROM schema_migrations WHERE version >= 7")
    with Warehouse(duckdb.connect(str(db), read_only=True), str(db)) as old:
        assert list_alerts(old) == [] and list_watches(old) == []
    with served(db) as client:
        home = client.get("/")
        assert home.status_code == 200 and '<h2>Unseen alerts</h2>\n<p class="meta">None.' in home.text
        page = client.get("/alerts")
        assert page.status_code == 200 and "No alerts." in page.text and "None: watch a site" in page.text
        assert client.get("/api/alerts").text == "[]\n"
        assert _entries(client.get("/alerts.atom").content) == []
    assert json.loads(_cli(db, "sql", "--json", "SELECT max(version) AS v FROM schema_migrations")) == [
        {"v": SCHEMA_VERSION}
    ]


# -- a writer on the same warehouse ---------------------------------------------------------------------

_HOLD = """
import sys
from warehouse.db import open_warehouse
warehouse = open_warehouse(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()
warehouse.close()
"""


@contextmanager
def _writer_holding(db: Path) -> Iterator[int]:
    """A process holding the warehouse open for writing, as an ingest or a crawl's commit does; its PID."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        assert process.stdout.readline().strip() == "holding"
        yield process.pid
    finally:
        process.stdin.close()
        assert process.wait(timeout=60) == 0


def test_pages_keep_coming_while_a_writer_holds_the_warehouse(live: Path, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(live, db)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "copy.txt").write_text(
        "---\nurl: https://late.example/republished\ntitle: Late republication\n---\n"
        + "\n\n".join(open_text(live, SF)),
        encoding="utf-8",
    )
    with served(db, "--refresh", "1") as client:
        before = {path: client.get(path, params={"doc": GR}).text for path in ("/api/lineage", "/api/stories")}
        assert "X-Reusetrack-Snapshot" not in client.get("/").headers
        with _writer_holding(db) as pid:
            for _ in range(3):
                for path in ("/api/lineage", "/api/stories"):
                    answer = client.get(path, params={"doc": GR})
                    assert answer.status_code == 200 and answer.text == before[path]
                    assert "X-Reusetrack-Snapshot" in answer.headers
                page = client.get("/doc", params={"doc": GR})
                assert page.status_code == 200 and 'id="lineage-graph"' in page.text
                assert f"The warehouse is being written by another process (PID {pid}): this page shows it" in page.text
        # The writer gone, an ingest writes a new copy; the next page reads the warehouse as it is now.
        assert _cli(db, "ingest", str(extra)).startswith("ingested 1,")
        fresh = client.get("/", params={"q": "Late republication"})
        assert "1 document for" in fresh.text and "X-Reusetrack-Snapshot" not in fresh.headers
        assert "late.example" in client.get("/api/lineage", params={"doc": GR}).text


def test_started_while_a_writer_holds_the_warehouse_it_waits_for_it(live: Path, tmp_path: Path) -> None:
    """Started while a writer holds the file, the server waits for it (saying so) instead of failing."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(live, db)
    printed: list[str] = []
    with ExitStack() as writer:
        pid = writer.enter_context(_writer_holding(db))

        def release() -> None:
            time.sleep(2)  # the server is waiting for the file meanwhile
            writer.close()

        with served(db, started=release, output=printed) as client:
            assert client.get("/api/stories").status_code == 200
    assert f"waiting for the warehouse {db}: another process (PID {pid}) is writing it" in printed[0]


def open_text(db: Path, url: str) -> list[str]:
    """The paragraphs of the stored text of ``url``."""
    with open_warehouse(db, read_only=True) as warehouse:
        doc = warehouse.resolve_document(url)
        text = warehouse.version_texts([doc.version_id])[doc.version_id]
    return [p for p in text.split("\n\n") if p.strip()]


_WRITE = """
import sys
from warehouse.db import open_when_free
open_when_free(sys.argv[1], wait=float(sys.argv[2])).close()
"""


def test_reads_without_pause_never_starve_a_writer(live: Path, tmp_path: Path) -> None:
    """Four threads reading the warehouse back to back, each read overlapping the next: a writer
    waiting for the file (as a crawl's commit does) still gets it within seconds, and every read
    gets an answer, from the file or from its snapshot."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(live, db)
    reader = Reader(db, refresh=1.0)
    reader.start(5)
    stop = threading.Event()
    answers: list[int] = []

    def read() -> None:
        while not stop.is_set():
            with reader.read() as reading:
                answers.append(reading.warehouse.query("SELECT count(*) FROM documents")[1][0][0])
                time.sleep(0.03)

    threads = [threading.Thread(target=read) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        writer = subprocess.run(
            [sys.executable, "-c", _WRITE, str(db), "10"], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert writer.returncode == 0, writer.stderr
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        reader.close()
    assert len(answers) > 20 and set(answers) == {9}


def test_pages_keep_coming_while_an_ingest_writes(live: Path, tmp_path: Path) -> None:
    """A real ingest, committing batch after batch, while pages are fetched as fast as they come:
    every answer is a page (from the warehouse or its snapshot), and the ingest is never starved."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(live, db)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    paragraphs = open_text(live, SF)
    for n in range(60):
        (corpus / f"doc{n}.txt").write_text(
            f"---\nurl: https://copies{n % 7}.example/story-{n}\ntitle: Copy {n}\n---\n"
            + "\n\n".join(paragraphs[n % 5 : n % 5 + 4]),
            encoding="utf-8",
        )
    with served(db, "--refresh", "1") as client:
        env = {**os.environ, "REUSETRACK_BATCH_SIZE": "4"}
        ingest = subprocess.Popen(
            [sys.executable, "-m", "reuse", "--db", str(db), "ingest", str(corpus)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        statuses: list[int] = []
        snapshots = 0
        while ingest.poll() is None:
            for path, params in (("/doc", {"doc": SF}), ("/api/stories", {}), ("/", {"q": "Copy"})):
                answer = client.get(path, params=params)
                statuses.append(answer.status_code)
                snapshots += "X-Reusetrack-Snapshot" in answer.headers
        out, err = ingest.communicate()
        assert ingest.returncode == 0, err
        assert out.startswith("ingested 60,"), out
        assert set(statuses) == {200} and len(statuses) >= 3
        assert snapshots > 0  # some pages were answered while the ingest held the file
        stories = json.loads(client.get("/api/stories").text)
        assert stories[0]["documents"] > 61  # the copies joined the story: the server reads what was written
        # A story of more copies than a page shows side by side: the first 60, the rest in the graph.
        page = client.get("/doc", params={"doc": SF}).text
        assert page.count('class="edge-report"') == 60 and page.count('class="node"') == stories[0]["documents"]
        assert f"{stories[0]['documents'] - 61} more copies are in the graph above" in page


# -- in a browser ---------------------------------------------------------------------------------------


def test_story_page_in_headless_chromium(site: httpx.Client, tmp_path: Path) -> None:
    """Debian's Chromium draws the story page: the graph (credited green and uncredited red edges,
    the root's node) and the side-by-side diff with its marked words; on a phone's width too."""
    browser = chromium()
    url = f"{site.base_url}/doc?doc={GR}"
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run(
        [*base, "--window-size=1280,1400", "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert dom.count('class="node"') == 5 and dom.count('class="edge"') == 4
    assert '<table class="diff">' in dom and "<ins>Video:</ins>" in dom and "<del>7,095. 251</del>" in dom
    for width in (1280, 390):
        shot = tmp_path / f"story-{width}.png"
        subprocess.run(
            [*base, f"--window-size={width},1400", f"--screenshot={shot}", url],
            capture_output=True,
            timeout=120,
            check=True,
        )
        size_x, size_y, colours = png_summary(shot.read_bytes())
        assert (size_x, size_y) == (width, 1400)
        assert colours["green"] > 50 and colours["red"] > 50 and colours["node"] > 500, (width, colours)


def test_alerts_page_in_headless_chromium(alerting: tuple[Path, httpx.Client], tmp_path: Path) -> None:
    """Chromium draws the alerts page, on a laptop's width and a phone's: the alert's row, with the
    links to the copy's and the source's stories."""
    browser = chromium()
    url = f"{alerting[1].base_url}/alerts"
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    for width in (1280, 390):
        dom = subprocess.run(
            [*base, f"--window-size={width},900", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        assert dom.count('<tr class="alert">') == 1 and "globalresearch.ca" in dom and "headline_changed" in dom
        shot = tmp_path / f"alerts-{width}.png"
        subprocess.run(
            [*base, f"--window-size={width},900", f"--screenshot={shot}", url],
            capture_output=True,
            timeout=120,
            check=True,
        )
        assert png_summary(shot.read_bytes())[:2] == (width, 900)
