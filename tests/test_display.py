"""Terminal output people read: URLs as site and short path fitted to 80–100 columns (``--wide``
for whole URLs), durations as days, hours and minutes, never seconds."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import chromium
from typer.testing import CliRunner

from reuse.cli import app
from reuse.cli.display import duration_text, short_path, short_url

SF = "https://southfront.org/presence-of-turkish-backed-syrian-militants-in-nagorno-karabakh-gives-armenia-additional-chances-in-war/"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


# -- the pure helpers ----------------------------------------------------------------------------------------


def test_short_url_keeps_the_site_and_the_slug() -> None:
    assert short_url(SF) == SF.removeprefix("https://")
    assert short_url(SF, 40) == "southfront.org/presence-of-turkish-back…"
    mf = "https://morningfold.example/2020/11/06/karabakh-armenia-leans-on-mercenary-argument/"
    assert short_url(mf, 45) == "morningfold.example/…/karabakh-armenia-leans…"
    assert short_url("https://www.example.org/") == "example.org"
    assert short_url("file:///home/me/corpus/original.txt", 16) == "…us/original.txt"
    assert short_path(mf, 30) == "/…/karabakh-armenia-leans-on-…"


_hosts = st.from_regex(r"(www\.)?[a-z]{1,20}(-[a-z]{1,10})?\.(org|example|co\.uk)", fullmatch=True)
_paths = st.lists(st.from_regex(r"[a-z0-9-]{1,60}", fullmatch=True), max_size=5).map("/".join)


@settings(max_examples=150, deadline=None)
@given(host=_hosts, path=_paths, query=st.sampled_from(["", "?id=7", "?utm_source=x&p=2"]), width=st.integers(1, 120))
def test_short_url_fits_and_shows_the_site(host: str, path: str, query: str, width: int) -> None:
    url = f"https://{host}/{path}{query}"
    shown = short_url(url, width)
    assert len(shown) <= width
    site = host.removeprefix("www.")
    if width >= len(site) + 2:
        assert shown.startswith(site)
    if len(site) + len(path) + len(query) + 1 <= width:
        assert shown == short_url(url)  # nothing is cut when it fits
    assert len(short_path(url, width)) <= width


def test_durations_read_as_days_hours_minutes() -> None:
    assert duration_text(78242.0) == "21h 44m"
    assert duration_text(3 * 86400 + 14 * 3600 + 15 * 60) == "3d 14h 15m"
    assert duration_text(-600) == "10m"
    assert duration_text(42) == "42s"


# -- the commands at 80 and 100 columns ----------------------------------------------------------------------


def _terminal(runner: CliRunner, db: Path, width: int, *args: str) -> list[str]:
    """The command's stdout as a terminal of ``width`` columns shows it (rich sees a terminal)."""
    env = {"COLUMNS": str(width), "LINES": "50", "TTY_COMPATIBLE": "1", "NO_COLOR": "1"}
    result = runner.invoke(app, ["--db", str(db), *args], env=env)
    assert result.exit_code == 0, result.output
    return [ANSI.sub("", line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("width", [80, 100])
def test_listings_fit_the_terminal_and_show_each_site(live: Path, width: int) -> None:
    runner = CliRunner()
    pairs = json.loads(runner.invoke(app, ["--db", str(live), "pairs", "--json"]).stdout)
    shared = json.loads(runner.invoke(app, ["--db", str(live), "matches", "--json", SF]).stdout)
    stories = json.loads(runner.invoke(app, ["--db", str(live), "stories", "--json"]).stdout)
    expected = {
        ("pairs",): [_site(u) for p in pairs for u in (p["url_a"], p["url_b"])],
        ("matches", SF): [_site(m["other_url"]) for m in shared],
        ("stories",): [_site(s["root_url"]) for s in stories],
        ("lineage", SF): ["southfront.org", "globalresearch.ca", "morningfold.example", "northgate-herald.example"],
        ("sites",): ["southfront.org", "globalresearch.ca"],
        ("status",): [],
    }
    for args, sites in expected.items():
        lines = _terminal(runner, live, width, *args)
        too_wide = [line for line in lines if len(line) > width]
        assert not too_wide, (args, too_wide)
        text = "\n".join(lines)
        for site in sites:
            # Each row shows its URL's site whole, followed by part of the path (sites: the site).
            after = r"\b" if args == ("sites",) else r"(/|\s+/)(…/)?\w"
            assert re.search(re.escape(site) + after, text), (args, site, text)
        assert "https://w…" not in text and "https://" not in text.split("\n", 1)[-1], args


def test_wide_shows_whole_urls(live: Path) -> None:
    runner = CliRunner()
    pairs = json.loads(runner.invoke(app, ["--db", str(live), "pairs", "--json"]).stdout)
    urls = {u for p in pairs for u in (p["url_a"], p["url_b"])}
    for args in (("pairs", "--wide"), ("matches", "--wide", SF), ("stories", "--wide"), ("lineage", "--wide", SF)):
        text = "\n".join(_terminal(runner, live, 80, *args))
        shown = {u for u in urls if u in text}
        assert shown == (urls if args[0] == "pairs" else shown) and shown, args
        assert SF in text, args
    # --json is the same with and without --wide.
    for args in (["pairs", "--json"], ["stories", "--json"], ["lineage", "--json", SF], ["matches", "--json", SF]):
        plain = runner.invoke(app, ["--db", str(live), *args]).stdout
        assert runner.invoke(app, ["--db", str(live), *args, "--wide"]).stdout == plain, args


def test_sql_tables_show_durations_not_seconds(live: Path) -> None:
    runner = CliRunner()
    query = "SELECT site, lag FROM lineage WHERE site = 'globalresearch.ca' AND hops = 1"
    table = runner.invoke(app, ["--db", str(live), "sql", query])
    assert table.exit_code == 0, table.output
    assert "21h 44m" in table.stdout and "78242" not in table.stdout
    network = runner.invoke(app, ["--db", str(live), "sql", "SELECT median_lag FROM site_network"]).stdout
    assert "3d 14h 15m" in network and "." not in network.split("median_lag")[1]
    # For programs, CSV and JSON keep the number of seconds.
    assert json.loads(runner.invoke(app, ["--db", str(live), "sql", "--json", query]).stdout)[0]["lag"] == 78242.0
    assert runner.invoke(app, ["--db", str(live), "sql", "--csv", query]).stdout.splitlines()[1].endswith(",78242.0")


# -- the report's graph --------------------------------------------------------------------------------------


def _story_corpus(folder: Path, copies: int) -> str:
    """One wire story and ``copies`` copies of it on other sites (some copying a copy), with long
    site names and headlines; returns the original's URL."""
    import random

    rnd = random.Random(7)
    words = [f"{rnd.choice('bcdfghklmnprstvz')}{rnd.choice('aeiou')}{rnd.choice('nrstlm')}{i % 97}" for i in range(400)]
    paragraphs = [" ".join(rnd.choice(words) for _ in range(60)) + "." for _ in range(6)]
    rows = []
    original = (
        "https://www.international-wire-service-of-record.example/2021/03/01/a-very-long-headline-slug-about-the-story"
    )
    title = "A very long headline about the story that no drawing box could ever hold whole"
    rows.append(
        {"url": original, "site": "international-wire-service-of-record.example", "published": "2021-03-01T10:00:00Z",
         "title": title, "text": "\n\n".join(paragraphs)}
    )  # fmt: skip
    for n in range(copies):
        site = f"regional-newspaper-number-{n:02d}-with-a-long-name.example"
        intro = " ".join(rnd.choice(words) for _ in range(30)) + "."
        rows.append(
            {"url": f"https://{site}/news/{n}/copied-story-{'x' * (n % 5)}", "site": site,
             "published": f"2021-03-0{2 + n % 7}T{8 + n % 10:02d}:00:00Z", "title": f"Copy {n}: " + "headline " * 12,
             "text": intro + "\n\n" + "\n\n".join(paragraphs[: 4 + n % 3])}
        )  # fmt: skip
    (folder / "story.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return original


_TEXT = re.compile(r'<text x="([\d.]+)" y="([\d.]+)" font-size="(\d+)"([^>]*)>([^<]*)</text>')
_RECT = re.compile(r'<rect x="([\d.]+)" y="([\d.]+)" width="(\d+)" height="(\d+)"')


def _big_story_report(tmp_path: Path) -> tuple[Path, str]:
    """The HTML report of a generated story of 24 documents, and what `report` printed."""
    (tmp_path / "in").mkdir()
    original = _story_corpus(tmp_path / "in", 23)
    db, out = tmp_path / "w.duckdb", tmp_path / "report.html"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", str(db), "ingest", str(tmp_path / "in")]).exit_code == 0
    result = runner.invoke(app, ["--db", str(db), "report", original, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.stdout


def test_the_report_graph_of_a_big_story_fits_its_labels(tmp_path: Path) -> None:
    import html

    from reuse.cli.report import text_width

    out, printed = _big_story_report(tmp_path)
    documents = int(re.search(r"(\d+) documents", printed).group(1))  # type: ignore[union-attr]
    assert documents >= 22
    svg = re.search(r"<svg[^>]*>.*</svg>", out.read_text(encoding="utf-8"), re.S).group(0)  # type: ignore[union-attr]
    head = svg[: svg.index(">")]
    assert ' width="' not in head and ' height="' not in head  # no fixed size: it scales to the page
    _, _, vw, vh = (float(v) for v in re.search(r'viewBox="([^"]+)"', head).group(1).split())  # type: ignore[union-attr]
    assert "max-width" in head and "width:100%" in head
    nodes = re.findall(r'<g class="node[^"]*".*?</g>', svg, re.S)
    assert len(nodes) == documents
    for node in nodes:
        assert "<title>" in node  # the whole URL, as a tooltip
        x, y, w, h = (float(v) for v in _RECT.search(node).groups())  # type: ignore[union-attr]
        assert x >= 0 and x + w <= vw and y >= 0 and y + h <= vh
        for tx, ty, size, attributes, text in _TEXT.findall(node):
            left, base, size_ = float(tx), float(ty), float(size)
            right = left + text_width(html.unescape(text), size_, 'font-weight="600"' in attributes)
            # Each label's estimated box lies inside its node, so inside the drawing.
            assert x <= left and right <= x + w and y <= base - size_ and base <= y + h, (text, node)


def test_the_report_of_a_big_story_never_scrolls_sideways(tmp_path: Path) -> None:
    browser = chromium()
    out, _ = _big_story_report(tmp_path)
    # A copy of the page that writes its laid-out widths into the DOM, read back with --dump-dom.
    probe = tmp_path / "probe.html"
    script = (
        "<script>const g = document.getElementById('lineage-graph').getBoundingClientRect();"
        "document.body.setAttribute('data-widths', [document.documentElement.scrollWidth, g.right].join(' '));"
        "</script></body>"
    )
    probe.write_text(out.read_text(encoding="utf-8").replace("</body>", script), encoding="utf-8")
    for window in (800, 1400):
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={window},900", "--dump-dom",
             probe.as_uri()],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        page_width, graph_right = (float(v) for v in re.search(r'data-widths="([^"]+)"', dom.stdout).group(1).split())  # type: ignore[union-attr]
        assert page_width <= window and graph_right <= window, (window, page_width, graph_right)
