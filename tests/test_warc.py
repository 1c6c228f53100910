"""Web archives in: WARC/ARC files written here with warcio, ingested through the CLI into real DuckDB files.

The archive holds what a crawl leaves: HTML pages (one a copy of another, one naming its
canonical URL), an image, a redirect, a request record, a revisit and, in some tests, a record
broken in the middle or cut short at the end.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawlers.files import iter_documents
from reuse.cli import app
from reuse.models import Document

STORY = [
    "The harbour board voted on Monday night to close the old fish market at the end of the summer, "
    "ending more than a century of early morning auctions on the quay below the customs house.",
    "Traders who have sold there for decades said they had not been consulted and would ask the county "
    "council to reverse the decision before the lease on the building runs out in September.",
    "The board said the building needed repairs it could not pay for and that a new market further "
    "along the quay would open next spring with cold stores, a loading bay and space for twenty stalls.",
]
OTHER = [
    "Volunteers planted four hundred oak saplings along the river path on Saturday, the first stage of "
    "a plan to restore the woodland that was cleared for grazing two hundred years ago.",
    "The trust that owns the land hopes to plant another thousand trees over the next three winters "
    "and has asked local schools to help look after the young trees through their first dry summer.",
]


def _page(
    title: str, paragraphs: list[str], *, canonical: str | None = None, extra: str = "", published: str | None = None
) -> bytes:
    head = f"<title>{title}</title>" + (f'<link rel="canonical" href="{canonical}">' if canonical else "")
    if published:
        head += f'<meta property="article:published_time" content="{published}">'
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head>{head}</head><body><article><h1>{title}</h1>{extra}{body}</article></body></html>".encode()


class Archive:
    """A WARC being written into memory, with each record's offset."""

    def __init__(self, gzip: bool = True) -> None:
        self.buffer = io.BytesIO()
        self.writer = WARCWriter(self.buffer, gzip=gzip)
        self.offsets: list[int] = []

    def _write(self, record: object) -> None:
        self.offsets.append(self.buffer.tell())
        self.writer.write_record(record)

    def response(self, uri: str, body: bytes, date: str, content_type: str = "text/html; charset=utf-8") -> None:
        http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
        self._write(
            self.writer.create_warc_record(
                uri, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={"WARC-Date": date}
            )
        )

    def redirect(self, uri: str, to: str, date: str) -> None:
        http = StatusAndHeaders("301 Moved Permanently", [("Location", to)], protocol="HTTP/1.1")
        self._write(
            self.writer.create_warc_record(
                uri, "response", payload=io.BytesIO(b""), http_headers=http, warc_headers_dict={"WARC-Date": date}
            )
        )

    def request(self, uri: str) -> None:
        http = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.org")], is_http_request=True)
        self._write(self.writer.create_warc_record(uri, "request", payload=io.BytesIO(b""), http_headers=http))

    def revisit(self, uri: str, date: str, refers_to: str) -> None:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        record = self.writer.create_revisit_record(
            uri, digest="sha1:AAAA", refers_to_uri=uri, refers_to_date=refers_to, http_headers=http
        )
        record.rec_headers.replace_header("WARC-Date", date)
        self._write(record)

    def data(self) -> bytes:
        return self.buffer.getvalue()

    def record(self, index: int) -> tuple[int, int]:
        """The byte range of record ``index``."""
        end = self.offsets[index + 1] if index + 1 < len(self.offsets) else len(self.data())
        return self.offsets[index], end


def _crawl(gzip: bool = True) -> Archive:
    archive = Archive(gzip)
    archive.request("https://harbour-news.example/fish-market")
    archive.response(
        "https://harbour-news.example/fish-market", _page("Fish market to close", STORY), "2020-11-04T08:00:00Z"
    )
    archive.response(
        "https://aggregator.example/story?id=7",
        _page("Fish market to close", STORY, extra="<p>Republished from Harbour News with permission.</p>"),
        "2020-11-05T09:30:00Z",
    )
    archive.response(
        "https://harbour-news.example/logo.png",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "2020-11-04T08:00:01Z",
        content_type="image/png",
    )
    archive.redirect(
        "https://harbour-news.example/old", "https://harbour-news.example/fish-market", "2020-11-04T08:00:02Z"
    )
    archive.response(
        "https://green-valley.example/p?id=3&utm_source=feed",
        _page("Oaks planted by the river", OTHER, canonical="https://green-valley.example/oaks"),
        "2020-11-06T12:00:00Z",
    )
    archive.revisit("https://harbour-news.example/fish-market", "2020-11-07T08:00:00Z", "2020-11-04T08:00:00Z")
    return archive


def _ingest(tmp_path: Path, *paths: Path) -> tuple[Result, Path]:
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["--db", str(db), "ingest", "--json", *map(str, paths)])
    return result, db


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("gzip", [True, False], ids=["warc.gz", "warc"])
def test_ingest_a_warc_finds_pages_and_the_copy_between_them(tmp_path: Path, gzip: bool) -> None:
    path = tmp_path / ("crawl.warc.gz" if gzip else "crawl.warc")
    path.write_bytes(_crawl(gzip).data())
    result, db = _ingest(tmp_path, path)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # 3 pages; the image, the redirect and the revisit are skipped; the request is no document.
    assert (report["ingested"], report["skipped"], report["failed"]) == (3, 3, 0)
    reasons = sorted(p["reason"].split(" ")[0] for p in report["problems"])
    assert reasons == ["HTTP", "not", "revisit"]
    revisit = next(p for p in report["problems"] if p["reason"].startswith("revisit"))
    assert revisit["reason"] == (
        "revisit of https://harbour-news.example/fish-market: unchanged since 2020-11-04T08:00:00Z"
    )
    assert revisit["source"].startswith(f"{path}@")
    urls = {url for (url,) in _rows(db, "SELECT url FROM documents")}
    # The target URI is the document's URL, unless the page names its canonical URL.
    assert urls == {
        "https://harbour-news.example/fish-market",
        "https://aggregator.example/story?id=7",
        "https://green-valley.example/oaks",
    }
    assert report["matches"] >= 1 and report["pairs"] == 1
    pairs = _rows(db, "SELECT url_a, url_b, coverage_a, coverage_b FROM pair_details")
    assert len(pairs) == 1
    assert {pairs[0][0], pairs[0][1]} == {
        "https://harbour-news.example/fish-market",
        "https://aggregator.example/story?id=7",
    }
    assert min(pairs[0][2], pairs[0][3]) > 0.8


def test_warc_date_is_first_seen_evidence(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(_crawl().data())
    result, db = _ingest(tmp_path, path)
    assert result.exit_code == 0, result.output
    seen = dict(_rows(db, "SELECT url, first_seen FROM documents"))
    assert seen["https://harbour-news.example/fish-market"] == datetime(2020, 11, 4, 8, tzinfo=UTC)
    assert seen["https://aggregator.example/story?id=7"] == datetime(2020, 11, 5, 9, 30, tzinfo=UTC)
    fetched = _rows(
        db,
        "SELECT v.fetched_at, m.other_dates FROM versions v JOIN version_meta m USING (version_id)"
        " JOIN documents d USING (doc_id) WHERE d.url = 'https://green-valley.example/oaks'",
    )
    assert fetched[0][0] == datetime(2020, 11, 6, 12, tzinfo=UTC)
    assert json.loads(fetched[0][1]) == [["first_seen", "2020-11-06T12:00:00+00:00"]]
    # Two capture times alone do not order a copy (the later page may be older than its capture),
    # so the pair stays undirected.
    edges = _rows(db, "SELECT source_doc, target_doc, directed FROM reuse_edges")
    assert len(edges) == 1 and edges[0][2] is False


def test_a_capture_before_the_other_pages_stated_date_directs_the_copy(tmp_path: Path) -> None:
    """The original was archived a day before the copy says it was published: the original came first."""
    archive = Archive()
    archive.response("https://harbour-news.example/fish-market", _page("Fish market", STORY), "2020-11-04T08:00:00Z")
    archive.response(
        "https://aggregator.example/story?id=7",
        _page("Fish market", STORY, published="2020-11-05T09:00:00Z"),
        "2020-11-06T10:00:00Z",
    )
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(archive.data())
    result, db = _ingest(tmp_path, path)
    assert result.exit_code == 0, result.output
    edges = _rows(
        db,
        "SELECT s.url, t.url, e.directed, e.method FROM reuse_edges e JOIN documents s ON s.doc_id = e.source_doc"
        " JOIN documents t ON t.doc_id = e.target_doc",
    )
    assert edges == [
        ("https://harbour-news.example/fish-market", "https://aggregator.example/story?id=7", True, "first_seen")
    ]


@pytest.mark.parametrize("gzip", [True, False], ids=["warc.gz", "warc"])
def test_a_broken_record_is_one_line_and_the_rest_goes_on(tmp_path: Path, gzip: bool) -> None:
    archive = _crawl(gzip)
    data = archive.data()
    start, end = archive.record(2)  # the aggregator's copy: a stretch of it lost
    # Wherever the loss starts (in the WARC header, the HTTP header or the body), and whatever
    # the gzip members around it inflate to, the record is one problem line and the rest is read.
    for tenth in (1, 3, 5, 7, 9):
        broken = data[:start] + data[start : start + (end - start) * tenth // 10] + data[end:]
        path = tmp_path / f"broken{tenth}.warc{'.gz' if gzip else ''}"
        path.write_bytes(broken)
        result = CliRunner().invoke(app, ["--db", str(tmp_path / f"w{tenth}.duckdb"), "ingest", str(path)])
        assert result.exit_code == 0, result.output
        failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
        assert len(failed) == 1, (tenth, result.stderr)
        assert failed[0].startswith(f"failed: {path}@{start}: broken record"), (tenth, failed)
        assert failed[0].isprintable(), (tenth, failed)
        # warcio's own warnings are not printed: one line per problem, nothing else.
        assert all(line.startswith(("skipped:", "failed:")) for line in result.stderr.splitlines()), result.stderr
        summary = result.stdout.strip().splitlines()[-1]
        # Only the broken record is lost: the next record's start is found again after the
        # gzip member cut short, or inside the bytes the cut plain record claimed.
        assert summary.startswith("ingested 2, unchanged 0, skipped 3, failed 1"), (tenth, summary)


@pytest.mark.parametrize("gzip", [True, False], ids=["warc.gz", "warc"])
def test_a_record_cut_short_at_the_end_is_reported(tmp_path: Path, gzip: bool) -> None:
    archive = Archive(gzip)
    archive.response("https://harbour-news.example/a", _page("A", STORY), "2020-11-04T08:00:00Z")
    archive.response("https://green-valley.example/b", _page("B", OTHER), "2020-11-04T09:00:00Z")
    data = archive.data()
    start, end = archive.record(1)
    path = tmp_path / ("cut.warc.gz" if gzip else "cut.warc")
    # Wherever the cut falls (in the WARC header, the HTTP header or the body), it is one
    # broken record at its offset, and the record before it is read.
    for tenth in range(1, 10):
        path.write_bytes(data[: start + (end - start) * tenth // 10])
        items = list(iter_documents([path]))
        assert [item.url for item in items if isinstance(item, Document)] == ["https://harbour-news.example/a"]
        errors = [str(item) for item in items if not isinstance(item, Document)]
        assert len(errors) == 1 and errors[0].startswith(f"{path}@{start}: broken record"), (tenth, errors)


def test_a_folder_of_archives_is_read_with_its_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "2020").mkdir(parents=True)
    first = Archive()
    first.response("https://harbour-news.example/fish-market", _page("Fish market", STORY), "2020-11-04T08:00:00Z")
    (folder / "2020" / "a.warc.gz").write_bytes(first.data())
    second = Archive(gzip=False)
    second.response("https://copy.example/fish", _page("Copied", STORY), "2020-11-09T08:00:00Z")
    (folder / "b.WARC").write_bytes(second.data())
    (folder / "notes.txt").write_text(" ".join(OTHER), encoding="utf-8")
    (folder / "skip.gz").write_bytes(b"not read")  # another type: reported as skipped
    result, _ = _ingest(tmp_path, folder)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ingested"], report["skipped"], report["failed"], report["pairs"]) == (3, 1, 0, 1)


def test_documents_are_streamed_one_record_at_a_time(tmp_path: Path) -> None:
    """The reader yields the first page before it has read the rest of the archive."""
    archive = Archive()
    for k in range(50):
        archive.response(
            f"https://many.example/{k}", _page(f"Page {k}", [STORY[k % 3], OTHER[k % 2]]), "2020-11-04T08:00:00Z"
        )
    path = tmp_path / "many.warc.gz"
    path.write_bytes(archive.data())
    items = iter_documents([path])
    first = next(items)
    assert isinstance(first, Document) and first.url == "https://many.example/0"
    assert sum(1 for _ in items) == 49
