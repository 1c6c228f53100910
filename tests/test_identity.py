"""Document identity (README: Document identity) and the one document resolver.

A document is the page at the URL it was read from; a canonical on the same site merges aliases,
one on another site is evidence (credit and direction), never identity: the same rule for HTML
files, WARC records, JSONL records and the crawler. Every command that takes a document finds it
by its doc_id, stored URL, fetched URL, and the usual variants of those, and they agree.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fixtureweb import FixtureWeb, article_html
from hypothesis import given, settings
from hypothesis import strategies as st
from test_warc import STORY  # the same article text as the archive tests
from typer.testing import CliRunner, Result
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawlers.files import read_file
from crawlers.urls import document_url, page_key, same_site
from reuse.cli import app
from warehouse.db import open_warehouse

ORIGINAL = "https://www.example.com/news/fish-market"
AMP = "https://amp.example.com/news/fish-market.amp"  # the original's AMP twin: same site, another host
COPY = "https://news.example.net/syndicated/fish-market"  # a syndication partner, another site


def page(canonical: str, published: str, *, saved_from: str | None = None, og_url: str | None = None) -> bytes:
    """An article page naming ``canonical`` (and ``og_url``), optionally saved by a browser from ``saved_from``."""
    mark = f"<!-- saved from url=({len(saved_from):04d}){saved_from} -->\n" if saved_from else ""
    body = "".join(f"<p>{p}</p>" for p in STORY)
    og = f'<meta property="og:url" content="{og_url}">' if og_url else ""
    return (
        f"<!doctype html>\n{mark}<html><head><title>Fish market to close</title>"
        f'<link rel="canonical" href="{canonical}">{og}'
        f'<meta property="article:published_time" content="{published}"></head>'
        f"<body><article><h1>Fish market to close</h1>{body}</article></body></html>"
    ).encode()


# The original, its AMP twin (canonical: the original), and the partner's copy (canonical: the
# original, as syndication partners are asked to set it; published a day later).
READ = [(ORIGINAL, "2020-11-04T08:00:00Z"), (AMP, "2020-11-04T08:00:00Z"), (COPY, "2020-11-05T09:30:00Z")]
PAGES = [(url, page(ORIGINAL, published)) for url, published in READ]


def warc(path: Path, pages: list[tuple[str, bytes]]) -> Path:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for uri, body in pages:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                uri, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": "2020-11-06T12:00:00Z"},
            )
        )  # fmt: skip
    path.write_bytes(buffer.getvalue())
    return path


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--db", str(db), *args])


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with open_warehouse(db, read_only=True) as wh:
        return wh.query(sql)[1]


def assert_two_documents_and_a_credited_canonical_edge(db: Path, original: str, copy: str) -> None:
    """The original and the copy are two documents (the AMP twin merged into the original), and
    lineage has the copy under the original by its canonical, credited."""
    assert sorted(url for (url,) in rows(db, "SELECT url FROM documents")) == sorted([original, copy])
    edges = rows(
        db,
        "SELECT s.url, t.url, e.method, e.credited, e.directed FROM reuse_edges e"
        " JOIN documents s ON s.doc_id = e.source_doc JOIN documents t ON t.doc_id = e.target_doc",
    )
    assert len(edges) == 1, edges
    source, target, method, credited, directed = edges[0]
    assert (source, target, credited, directed) == (original, copy, "credited", True)
    assert method.split("+")[0] == "canonical"
    # The copy's canonical is kept as evidence, where lineage read it.
    meta = rows(db, f"SELECT m.canonical_url FROM version_meta m JOIN current_documents c USING (version_id)"
                    f" WHERE c.url = '{copy}'")  # fmt: skip
    assert meta == [(ORIGINAL,)]


# -- the rule ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("read_from", "canonical", "identity"),
    [
        (COPY, ORIGINAL, COPY),  # another site: evidence, never identity
        (AMP, ORIGINAL, ORIGINAL),  # same registrable domain: an alias
        ("https://www.example.com/news/fish-market?utm_source=x", ORIGINAL, ORIGINAL),
        ("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a", "http://127.0.0.1:8001/a"),  # two servers
        ("https://alice.blogspot.com/p", "https://bob.blogspot.com/p", "https://alice.blogspot.com/p"),
        ("https://news.bbc.co.uk/a", "https://www.bbc.co.uk/news/a", "https://www.bbc.co.uk/news/a"),
        ("https://Example.COM:443/a?b=2&a=1#top", None, "https://example.com/a?a=1&b=2"),
        # A local file has no site of its own: the web address it states is the only one it has.
        ("file:///tmp/saved.html", ORIGINAL, ORIGINAL),
        ("file:///tmp/saved.html", None, "file:///tmp/saved.html"),
        ("file:///tmp/saved.html", "not a url", "file:///tmp/saved.html"),
    ],
)
def test_document_url(read_from: str, canonical: str | None, identity: str) -> None:
    assert document_url(read_from, canonical) == identity


@pytest.mark.parametrize(
    ("canonical", "og_url", "identity"),
    [
        (ORIGINAL, COPY, COPY),  # a syndicated copy saved as a file: its og:url is its own, on another site
        (ORIGINAL, AMP, ORIGINAL),  # same site: the canonical, as without og:url
        (None, COPY, COPY),  # only one of them: that one
        (ORIGINAL, None, ORIGINAL),
        (ORIGINAL, "not a url", ORIGINAL),
    ],
)
def test_a_file_is_named_by_its_og_url_when_its_canonical_is_another_sites(
    canonical: str | None, og_url: str | None, identity: str
) -> None:
    assert document_url("file:///tmp/saved.html", canonical, og_url) == identity
    # A page read from a web URL keeps the rule it had: og:url never names it.
    assert document_url(COPY, ORIGINAL, og_url) == COPY


def test_same_site_and_page_key() -> None:
    assert same_site("https://amp.example.com/x", "http://www.example.com/y")
    assert not same_site("https://example.com/x", "https://example.net/x")
    assert not same_site("file:///a", "file:///a")
    variants = [
        "https://www.example.com/a",
        "http://www.example.com/a",
        "https://WWW.Example.COM/a/",
        "https://example.com:443/a#top",
        "https://www.example.com/a?utm_source=tw&fbclid=1&gclid=2",
    ]
    assert {page_key(v) for v in variants} == {"example.com/a"}
    assert page_key("https://www.example.com/a?id=2") != page_key("https://www.example.com/a?id=3")
    assert page_key("file:///a") is None and page_key("42") is None


_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    host=st.lists(_LABEL, min_size=1, max_size=3).map(".".join),
    path=st.lists(_LABEL, max_size=3).map(lambda parts: "/" + "/".join(parts)),
    query=st.dictionaries(_LABEL, _LABEL, max_size=2).map(lambda d: list(d.items())),  # order of keys: any
    scheme=st.sampled_from(["http", "https"]),
    www=st.booleans(),
    upper=st.booleans(),
    slash=st.booleans(),
    port=st.booleans(),
    tracking=st.booleans(),
    fragment=st.booleans(),
)
def test_every_usual_variant_has_the_pages_key(
    host: str, path: str, query: list[tuple[str, str]], scheme: str, www: bool, upper: bool,
    slash: bool, port: bool, tracking: bool, fragment: bool,
) -> None:  # fmt: skip
    params = [(k, v) for k, v in query if k != "amp"]  # ?amp is a tracking parameter
    plain = f"https://{host}.com{path}" + ("?" + "&".join(f"q{k}={v}" for k, v in params) if params else "")
    name = ("www." if www else "") + (f"{host}.com".upper() if upper else f"{host}.com")
    variant = f"{scheme}://{name}" + (f":{80 if scheme == 'http' else 443}" if port else "") + path
    variant += "/" if slash and not path.endswith("/") else ""
    pairs = [f"q{k}={v}" for k, v in reversed(params)] + (["utm_source=x", "fbclid=y"] if tracking else [])
    variant += ("?" + "&".join(pairs) if pairs else "") + ("#part" if fragment else "")
    assert page_key(variant) == page_key(plain)


# -- every input path --------------------------------------------------------------------------------


def test_a_syndicated_copy_in_a_warc_keeps_its_own_url(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    result = run(db, "ingest", "--json", str(warc(tmp_path / "crawl.warc.gz", PAGES)))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ingested"], report["failed"]) == (2, 0)  # the AMP twin is the original again
    assert_two_documents_and_a_credited_canonical_edge(db, ORIGINAL, COPY)


def test_a_syndicated_copy_saved_as_a_file_keeps_its_own_url(tmp_path: Path) -> None:
    """Pages saved by a browser carry the URL they were read from; the same rule applies to them."""
    folder = tmp_path / "saved"
    folder.mkdir()
    for number, (url, published) in enumerate(READ):
        (folder / f"{number}.html").write_bytes(page(ORIGINAL, published, saved_from=url))
    db = tmp_path / "w.duckdb"
    result = run(db, "ingest", str(folder))
    assert result.exit_code == 0, result.output
    assert_two_documents_and_a_credited_canonical_edge(db, ORIGINAL, COPY)
    # `extract` shows the rule: the copy's canonical is printed, the document is the copy's URL.
    shown = CliRunner().invoke(app, ["extract", "--json", str(folder / "2.html")])
    assert json.loads(shown.stdout)["document_url"] == COPY


def test_a_syndicated_copy_saved_without_its_url_is_named_by_its_og_url(tmp_path: Path) -> None:
    """A file with no URL of its own used to be stored under its canonical, so a partner's copy
    (og:url its own page, canonical the original's) became the original: one document, no reuse."""
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "original.html").write_bytes(page(ORIGINAL, "2020-11-04T08:00:00Z", og_url=ORIGINAL))
    (folder / "copy.html").write_bytes(page(ORIGINAL, "2020-11-05T09:30:00Z", og_url=COPY))
    db = tmp_path / "w.duckdb"
    result = run(db, "ingest", str(folder))
    assert result.exit_code == 0, result.output
    assert_two_documents_and_a_credited_canonical_edge(db, ORIGINAL, COPY)
    shown = CliRunner().invoke(app, ["extract", str(folder / "copy.html")])
    assert f"document: {COPY}" in shown.stdout.splitlines(), shown.output
    # The copy credits the original by its canonical, and is not taken for the original's site.
    from crawlers.extract import extract

    copy = extract((folder / "copy.html").read_bytes(), None, (folder / "copy.html").as_uri())
    assert [c.kind for c in copy.attribution] == ["canonical"] and copy.site_name == "news.example.net"


def test_a_jsonl_record_is_its_own_url_canonicalised(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"url": "HTTPS://Example.COM:443/a?utm_source=x#top", "text": STORY[0]}) + "\n")
    (doc,) = read_file(path)
    assert (doc.url, doc.site) == ("https://example.com/a", "example.com")  # type: ignore[union-attr]


def test_a_file_without_a_url_of_its_own_is_named_by_its_canonical(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    saved.write_bytes(page(COPY, "2020-11-05T09:30:00Z"))
    bare = tmp_path / "bare.html"
    bare.write_bytes(page("", "2020-11-05T09:30:00Z"))
    found = [doc.url for path in (saved, bare) for doc in read_file(path)]  # type: ignore[union-attr]
    assert found == [COPY, bare.resolve().as_uri()]


def test_the_crawler_obeys_the_same_rule(web: FixtureWeb, tmp_path: Path) -> None:
    """On the fixture web two sites are two ports of 127.0.0.1: the partner's canonical to the
    origin is another site's (the crawler used to compare host names only and took it as the
    copy's identity), the origin's AMP twin's canonical is its own."""
    origin, partner = web.site("origin"), web.site("partner")
    story = origin.url("/news/fish-market")
    origin.page("/news/fish-market", article_html("Fish market", STORY, canonical=story))
    origin.page("/news/fish-market.amp", article_html("Fish market", STORY, canonical=story))
    partner.page("/syndicated", article_html("Fish market", STORY, canonical=story))
    for site in (origin, partner):
        site.robots("User-agent: *\nAllow: /\n")
    db = tmp_path / "w.duckdb"
    result = run(db, "fetch", "--allow-private", "127.0.0.1/32",
                 story, origin.url("/news/fish-market.amp"), partner.url("/syndicated"))  # fmt: skip
    assert result.exit_code == 0, result.output
    documents = sorted(url for (url,) in rows(db, "SELECT url FROM documents"))
    assert documents == sorted([story, partner.url("/syndicated")])
    assert rows(db, "SELECT count(*) FROM reuse_edges") == [(1,)]


# -- every URL a document was read from ---------------------------------------------------------------

QUERY_ALIAS = "https://www.example.com/news/fish-market?outputType=amp"  # same site, a parameter kept


def test_an_alias_read_after_its_document_names_it(tmp_path: Path) -> None:
    """An alias with its document's text stored nothing of its own (a repeat within the run, or
    "unchanged" in a later one), so no command knew its URL: now every URL read is recorded."""
    db = tmp_path / "w.duckdb"
    first = warc(tmp_path / "first.warc.gz", PAGES)  # the original, its AMP twin, the partner's copy
    later = warc(tmp_path / "later.warc.gz", [(QUERY_ALIAS, page(ORIGINAL, "2020-11-04T08:00:00Z"))])
    for archive in (first, later):
        result = run(db, "ingest", str(archive))
        assert result.exit_code == 0, result.output
    assert rows(db, "SELECT count(*) FROM documents") == [(2,)]
    recorded = rows(db, "SELECT d.url, u.url FROM document_urls u JOIN documents d USING (doc_id) ORDER BY u.url")
    expected = [(ORIGINAL, AMP), (ORIGINAL, ORIGINAL), (ORIGINAL, QUERY_ALIAS), (COPY, COPY)]
    assert recorded == sorted(expected, key=lambda r: r[1])
    for alias in (AMP, QUERY_ALIAS, "http://amp.example.com/news/fish-market.amp/"):
        for command in ("matches", "lineage", "report"):
            found = look_up(db, command, alias, tmp_path)
            assert found.exit_code == 0, (command, alias, found.output)
        assert run(db, "matches", alias).stdout.startswith(f"{ORIGINAL} (doc "), alias
    # Reading the same inputs again records nothing new.
    before = rows(db, "SELECT * FROM document_urls ORDER BY url")
    for archive in (first, later):
        assert run(db, "ingest", str(archive)).exit_code == 0
    assert rows(db, "SELECT * FROM document_urls ORDER BY url") == before
    # An export carries them; a snapshot without the table (Spark output) is given them from its versions.
    snapshot = tmp_path / "snapshot"
    assert run(db, "export", "--out", str(snapshot)).exit_code == 0
    loaded = tmp_path / "loaded.duckdb"
    assert run(loaded, "load", str(snapshot)).exit_code == 0, "load"
    assert rows(loaded, "SELECT * FROM document_urls ORDER BY url") == before
    manifest = json.loads((snapshot / "manifest.json").read_text())
    del manifest["tables"]["document_urls"]
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    bare = tmp_path / "bare.duckdb"
    assert run(bare, "load", str(snapshot)).exit_code == 0
    # The stored versions' URLs only.
    assert rows(bare, "SELECT url FROM document_urls ORDER BY url") == sorted([(COPY,), (ORIGINAL,)])


# -- one resolver for every command --------------------------------------------------------------------

STORED = "https://www.example.org/world/story"  # stored under its same-site canonical
FETCHED = "https://www.example.org/world/story?ref=home"  # the URL it was read from
PARTNER = "https://copier.example.net/s/1"
VARIANTS = [
    STORED,
    "http://www.example.org/world/story",
    "https://WWW.Example.ORG/world/story",
    "https://example.org/world/story",
    "https://www.example.org/world/story/",
    "https://www.example.org:443/world/story",
    "https://www.example.org/world/story#comments",
    "https://www.example.org/world/story?utm_source=tw&fbclid=x1&gclid=x2",
    FETCHED,
    "http://example.org/world/story/?utm_medium=mail&ref=home",
    " https://www.example.org/world/story ",
]
COMMANDS = ["matches", "lineage", "report", "compare"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An original read from a URL with a parameter (its canonical on the same site names it), a
    partner's copy, and two documents one URL apart but for the scheme."""
    root = tmp_path_factory.mktemp("resolver")
    archive = warc(
        root / "pages.warc.gz",
        [(FETCHED, page(STORED, "2020-11-04T08:00:00Z")), (PARTNER, page(PARTNER, "2020-11-05T09:30:00Z"))],
    )
    records = [
        {"url": "http://twin.example.com/a", "text": " ".join(STORY[:2])},
        {"url": "https://twin.example.com/a", "text": " ".join(STORY[1:])},
    ]
    jsonl = root / "twins.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
    db = root / "w.duckdb"
    result = run(db, "ingest", str(archive), str(jsonl))
    assert result.exit_code == 0, result.output
    return db


def look_up(db: Path, command: str, ref: str, tmp_path: Path) -> Result:
    if command == "report":
        return run(db, "report", ref, "-o", str(tmp_path / "report.html"))
    if command == "compare":
        return run(db, "compare", "--json", ref, PARTNER)
    return run(db, command, "--json", ref)


def doc_id(db: Path, url: str) -> str:
    return str(rows(db, f"SELECT doc_id FROM documents WHERE url = '{url}'")[0][0])


@pytest.fixture(scope="module")
def by_doc_id(stored: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str | None]]:
    """What each command prints (and the report it writes) for the document given by its doc_id."""
    out = tmp_path_factory.mktemp("by_doc_id")
    expected = {}
    for command in COMMANDS:
        result = look_up(stored, command, doc_id(stored, STORED), out)
        assert result.exit_code == 0, result.output
        written = (out / "report.html").read_text() if command == "report" else None
        expected[command] = (result.stdout.replace(str(out), "OUT"), written)
    return expected


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("ref", VARIANTS)
def test_every_command_finds_a_document_by_any_variant_of_its_urls(
    stored: Path, by_doc_id: dict[str, tuple[str, str | None]], command: str, ref: str, tmp_path: Path
) -> None:
    found = look_up(stored, command, ref, tmp_path)
    assert found.exit_code == 0, found.output
    printed, written = by_doc_id[command]
    assert found.stdout.replace(str(tmp_path), "OUT") == printed
    if written is not None:
        assert (tmp_path / "report.html").read_text() == written


@pytest.mark.parametrize("command", COMMANDS)
def test_unknown_and_ambiguous_documents_are_one_error_line(stored: Path, command: str, tmp_path: Path) -> None:
    for ref, fragments in [
        ("https://www.example.org/world/other", ["no document", "https://www.example.org/world/other"]),
        ("999", ["no document", "999"]),
        ("https://TWIN.example.com/a/", ["2 documents", "http://twin.example.com/a", "https://twin.example.com/a"]),
    ]:
        result = look_up(stored, command, ref, tmp_path)
        assert result.exit_code == 1, result.output
        (line,) = result.stderr.splitlines()
        assert line.startswith("Error: ") and all(f in line for f in fragments), line
    # Spelled exactly, each of the two is found.
    for url in ("http://twin.example.com/a", "https://twin.example.com/a"):
        exact = run(stored, "matches", url)
        assert exact.exit_code == 0 and exact.stdout.startswith(f"{url} (doc {doc_id(stored, url)},"), exact.output


def test_only_another_sites_canonical_is_a_credit_line() -> None:
    """The extractor's canonical credit uses the same site rule: an AMP twin on a subdomain does
    not credit its own site (it compared host names, so amp. and www. were two outlets)."""
    from crawlers.extract import extract

    kinds = {
        url: [c.kind for c in extract(page(ORIGINAL, published), None, url).attribution] for url, published in READ
    }
    assert kinds == {ORIGINAL: [], AMP: [], COPY: ["canonical"]}
