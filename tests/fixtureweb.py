"""A small web on 127.0.0.1 for the crawler's tests and benchmark: real HTTP servers, faults on demand.

Each :class:`Site` is a threaded HTTP/1.1 server on its own loopback port (one port, one host to
the crawler's politeness), serving whatever routes a test adds: article pages, RSS and Atom
feeds, sitemaps, robots.txt. A route can misbehave on chosen attempts or always:

=============  ======================================================================================
fault          what the server does
=============  ======================================================================================
``"503"``      answers with that status (any 3-digit code); ``"429:3"`` adds ``Retry-After: 3``
``reset``      closes the connection with a TCP reset instead of answering
``drip``       sends the headers, then the body one byte every ``drip_interval`` seconds
``hang``       accepts and never answers (until the client gives up or the site closes)
``short``      declares a ``Content-Length`` larger than the body, sends the body and closes
=============  ======================================================================================

Every request is logged (site, path, start and end times, headers, attempt number, a POST's body) and each
site counts accepted connections and the most requests it ever served at once, so tests can
check politeness and that no connection was made at all.
"""

from __future__ import annotations

import gzip
import random
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "Blackhole",
    "FixtureWeb",
    "Request",
    "Route",
    "Site",
    "article_html",
    "atom_feed",
    "days_ago",
    "gzip_bomb",
    "http_date",
    "news_web",
    "paragraphs",
    "rss_feed",
    "sitemap",
    "sitemap_index",
    "sources_toml",
]

_WORDS = [
    "council",
    "budget",
    "river",
    "harbour",
    "school",
    "village",
    "market",
    "road",
    "bridge",
    "station",
    "train",
    "ferry",
    "library",
    "museum",
    "minister",
    "election",
    "parliament",
    "report",
    "border",
    "army",
    "troops",
    "ceasefire",
    "talks",
    "treaty",
    "region",
    "province",
    "city",
    "mayor",
    "police",
    "court",
    "judge",
    "trial",
    "witness",
    "evidence",
    "company",
    "factory",
    "workers",
    "union",
    "strike",
    "wages",
    "prices",
    "energy",
    "pipeline",
    "gas",
    "oil",
    "grid",
    "storm",
    "flood",
    "drought",
    "harvest",
    "farmers",
    "wheat",
    "cattle",
    "forest",
    "mountain",
    "valley",
    "coast",
    "island",
    "north",
    "south",
    "east",
    "west",
    "winter",
    "summer",
    "spring",
    "autumn",
    "morning",
    "evening",
    "night",
    "week",
    "month",
    "year",
    "announced",
    "said",
    "confirmed",
    "denied",
    "reported",
    "claimed",
    "warned",
    "promised",
    "agreed",
    "rejected",
    "delayed",
    "opened",
    "closed",
    "new",
    "old",
    "large",
    "small",
    "local",
    "national",
    "foreign",
    "official",
    "independent",
    "public",
    "private",
    "early",
    "late",
    "major",
    "minor",
    "spokesman",
    "ministry",
    "agency",
    "committee",
    "survey",
    "study",
    "data",
    "figures",
    "numbers",
    "losses",
    "gains",
    "costs",
    "plans",
    "hopes",
    "fears",
    "doubts",
    "questions",
    "answers",
    "sources",
    "officials",
    "residents",
    "visitors",
    "students",
    "teachers",
    "doctors",
    "nurses",
    "through",
    "across",
    "between",
    "against",
    "during",
    "after",
    "before",
    "without",
    "within",
    "around",
    "under",
    "over",
    "above",
    "behind",
    "quickly",
    "slowly",
    "finally",
    "already",
    "again",
    "still",
    "never",
    "often",
    "rarely",
    "openly",
    "quietly",
    "sharply",
    "widely",
    "largely",
]


def paragraphs(seed: int | str, count: int = 5, words: int = 60) -> list[str]:
    """``count`` paragraphs of made-up news prose, the same for the same seed, unlike for another."""
    rng = random.Random(str(seed))
    out = []
    for _ in range(count):
        picked = [rng.choice(_WORDS) for _ in range(words)]
        sentences, start = [], 0
        while start < len(picked):
            end = min(len(picked), start + rng.randint(9, 16))
            sentences.append(" ".join(picked[start:end]).capitalize() + ".")
            start = end
        out.append(" ".join(sentences))
    return out


def article_html(
    title: str,
    body: list[str],
    *,
    published: datetime | None = None,
    links: list[str] = (),  # type: ignore[assignment]
    canonical: str | None = None,
) -> bytes:
    """An article page: a menu of ``links``, the title, the paragraphs, a footer."""
    menu = "".join(f'<li><a href="{escape(href)}">{escape(href)}</a></li>' for href in links)
    meta = f'<meta property="article:published_time" content="{published.isoformat()}">' if published else ""
    canon = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    paras = "".join(f"<p>{escape(p)}</p>" for p in body)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>{meta}{canon}</head>"
        f"<body><nav><ul>{menu}</ul></nav><article><h1>{escape(title)}</h1>{paras}</article>"
        f"<footer><p>Copyright the fixture web.</p></footer></body></html>"
    ).encode()


def rss_feed(items: list[tuple[str, str, datetime | None]], title: str = "Fixture feed") -> bytes:
    """An RSS 2.0 feed of ``(link, title, published)`` items."""
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        + (f"<pubDate>{format_datetime(d)}</pubDate>" if d else "")
        + "</item>"
        for link, t, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>http://fixture/</link><description>d</description>{entries}</channel></rss>"
    ).encode()


def atom_feed(items: list[tuple[str, str, datetime | None]], base: str | None = None) -> bytes:
    """An Atom feed of ``(link, title, published)`` items; ``base`` becomes its ``xml:base``."""
    xml_base = f' xml:base="{escape(base)}"' if base else ""
    entries = "".join(
        f'<entry><title>{escape(t)}</title><link href="{escape(link)}"/><id>{escape(link)}</id>'
        + (f"<published>{d.isoformat()}</published><updated>{d.isoformat()}</updated>" if d else "")
        + "</entry>"
        for link, t, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"{xml_base}>'
        f"<title>Fixture</title><id>urn:fixture</id><updated>2020-11-05T00:00:00Z</updated>{entries}</feed>"
    ).encode()


def sitemap(urls: list[tuple[str, datetime | None]], *, news: bool = False) -> bytes:
    """A sitemap of ``(loc, date)``; with ``news`` the date is a news ``publication_date``."""
    parts = []
    for loc, when in urls:
        extra = ""
        if when is not None and news:
            extra = (
                "<news:news><news:publication><news:name>F</news:name><news:language>en</news:language>"
                f"</news:publication><news:publication_date>{when.isoformat()}</news:publication_date>"
                "<news:title>t</news:title></news:news>"
            )
        elif when is not None:
            extra = f"<lastmod>{when.isoformat()}</lastmod>"
        parts.append(f"<url><loc>{escape(loc)}</loc>{extra}</url>")
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>'
        f"{''.join(parts)}</urlset>"
    ).encode()


def sitemap_index(locs: list[str]) -> bytes:
    """A sitemap index listing ``locs``."""
    body = "".join(f"<sitemap><loc>{escape(loc)}</loc></sitemap>" for loc in locs)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>'
    ).encode()


@dataclass
class Route:
    """What one path answers: a status, headers and a body, and the faults to play first.

    ``faults[i]`` is played on attempt ``i + 1`` (None: behave); ``always`` on every attempt.
    ``etag``/``last_modified`` make the route answer conditional GETs with 304. ``stream`` is
    a generator of body chunks sent chunked, without a length (for endless bodies). ``gate``, when
    set, must be acquired before the route answers: a test paces a crawl by releasing it.
    """

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    faults: list[str | None] = field(default_factory=list)
    always: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    stream: Callable[[], Iterator[bytes]] | None = None
    gate: threading.Semaphore | None = None
    attempts: int = 0


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    site: str
    path: str
    start: float  # time.monotonic()
    end: float
    attempt: int
    headers: dict[str, str]
    status: int | None  # None when the fault sent no status line (reset, hang)
    fault: str | None
    method: str = "GET"
    body: bytes = b""  # what a POST sent


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, site: Site) -> None:
        self.site = site
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is part of the tests, not an error to print

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        with self.site.lock:
            self.site.accepts += 1
            # The first request of a connection is timed from the accept, which this thread does as
            # soon as the client connects; a handler thread may start a little later.
            self.site.accepted[id(conn)] = time.monotonic()
        return conn, addr


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the site keeps its own log

    def do_GET(self) -> None:
        site = self.server.site
        start = time.monotonic()
        sent = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command == "POST" else b""
        with site.lock:
            start = min(start, site.accepted.pop(id(self.request), start))
            site.active += 1
            site.max_active = max(site.max_active, site.active)
            route = site.routes.get(self.path) or site.routes.get(self.path.split("?", 1)[0])
            attempt = 0
            if route is not None:
                route.attempts += 1
                attempt = route.attempts
        status: int | None = None
        fault: str | None = None
        try:
            if route is None:
                status = 404
                self._send(404, b"not found", "text/plain")
                return
            if route.gate is not None:
                route.gate.acquire(timeout=60)
            fault = route.always or (route.faults[attempt - 1] if attempt <= len(route.faults) else None)
            status = self._serve(site, route, fault)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            with site.lock:
                site.active -= 1
                site.web.log.append(
                    Request(
                        site.name,
                        self.path,
                        start,
                        time.monotonic(),
                        attempt,
                        dict(self.headers),
                        status,
                        fault,
                        self.command,
                        sent,
                    )
                )

    # A POST (a webhook's) is answered as a GET of the same route, its body kept in the log.
    do_POST = do_GET

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, site: Site, route: Route, fault: str | None) -> int | None:
        if fault == "reset":
            # SO_LINGER with a zero timeout turns close() into a TCP reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return None
        if fault == "hang":
            site.closing.wait(site.hang_limit)
            self.close_connection = True
            return None
        if fault is not None and fault[:3].isdigit():
            code, _, after = fault.partition(":")
            extra = {"Retry-After": after} if after else {}
            self._send(int(code), f"fault {code}".encode(), "text/plain", extra)
            return int(code)
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
            route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
        ):
            self.send_response(304)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 304
        if route.stream is not None:
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            for chunk in route.stream():
                if site.closing.is_set():
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return route.status
        if fault == "drip":
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            for byte in route.body:
                if site.closing.wait(site.drip_interval):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            return route.status
        if fault == "short":
            headers["Content-Length"] = str(len(route.body) + 1000)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(route.body)
            self.close_connection = True
            return route.status
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        if "Content-Length" not in headers:
            headers["Content-Length"] = str(len(route.body))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(route.body)
        return route.status


class Site:
    """One host of the fixture web: an HTTP server on ``127.0.0.1:port`` and its routes."""

    def __init__(self, web: FixtureWeb, name: str, tls: ssl.SSLContext | None = None) -> None:
        self.web = web
        self.name = name
        self.routes: dict[str, Route] = {}
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.active = 0
        self.max_active = 0
        self.accepts = 0
        self.accepted: dict[int, float] = {}
        self.drip_interval = 0.2
        self.hang_limit = 30.0
        self.server = _Server(self)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.base = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this site."""
        return self.base + path

    def add(self, path: str, route: Route) -> Route:
        """Serve ``route`` at ``path`` (a path, with its query if any)."""
        self.routes[path] = route
        return route

    def page(self, path: str, body: bytes, **kwargs: Any) -> Route:
        """Serve an HTML page at ``path``; ``kwargs`` are :class:`Route` fields."""
        return self.add(path, Route(body=body, **kwargs))

    def text(self, path: str, body: bytes | str, content_type: str, **kwargs: Any) -> Route:
        """Serve ``body`` with ``content_type`` at ``path``."""
        data = body.encode() if isinstance(body, str) else body
        return self.add(path, Route(body=data, content_type=content_type, **kwargs))

    def robots(self, text: str) -> Route:
        """Serve ``text`` as /robots.txt."""
        return self.text("/robots.txt", text, "text/plain")

    def requests(self, path: str | None = None) -> list[Request]:
        """The requests this site served (to ``path`` only, if given), in order of start.

        A handler logs its request after the response is sent, so a client can have its answer
        before the entry exists: wait (up to 2 s) for the handlers still running to finish.
        """
        deadline = time.monotonic() + 2.0
        while self.active and time.monotonic() < deadline:
            time.sleep(0.005)
        with self.lock:
            found = [r for r in self.web.log if r.site == self.name and (path is None or r.path == path)]
        return sorted(found, key=lambda r: r.start)

    def close(self) -> None:
        """Stop serving, ending drips and hangs."""
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


class FixtureWeb:
    """A set of :class:`Site` servers sharing one request log; close it when done."""

    def __init__(self) -> None:
        self.sites: dict[str, Site] = {}
        self.log: list[Request] = []

    def site(self, name: str, tls: ssl.SSLContext | None = None) -> Site:
        """The site called ``name``, started on first use (over TLS with ``tls``, a server context)."""
        if name not in self.sites:
            self.sites[name] = Site(self, name, tls)
        return self.sites[name]

    async def resolver(self, host: str, port: int) -> list[str]:
        """Resolve ``NAME.test`` to 127.0.0.1 (fixture host names) and anything else as the system does."""
        if host.endswith(".test"):
            return ["127.0.0.1"]
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [str(info[4][0]) for info in infos]

    def close(self) -> None:
        """Close every site."""
        for site in self.sites.values():
            site.close()


class Blackhole:
    """A listener on 127.0.0.1 whose connects never complete (for the connect deadline), without leaving loopback.

    It listens with a backlog of 0 and never accepts; its accept queue is filled first with
    connections of its own. Linux then drops every further SYN (``tcp_abort_on_overflow`` is 0 by
    default), so a client's connect waits, retransmitting, until its own timeout, as it would for
    a non-routable address, which a test must not send packets to.
    """

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.fillers: list[socket.socket] = []
        while len(self.fillers) < 8:  # the queue holds backlog + 1 (more on some kernels)
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(0.3)
            try:
                filler.connect(("127.0.0.1", self.port))
            except TimeoutError:
                filler.close()
                return  # full: this connect hung as the client's will
            self.fillers.append(filler)
        raise RuntimeError("the blackhole's accept queue never filled up")

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on the blackhole."""
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        """Close the fillers and the listener."""
        for filler in self.fillers:
            filler.close()
        self.listener.close()


def gzip_bomb(decoded: int) -> bytes:
    """``decoded`` zero bytes gzipped (about 1,000:1)."""
    return gzip.compress(b"\0" * decoded, 6)


def http_date(when: datetime | None = None) -> str:
    """An HTTP-date, for Last-Modified and Retry-After."""
    return format_datetime(when or datetime.now(UTC), usegmt=True)


def days_ago(days: float) -> datetime:
    """A UTC time ``days`` before now."""
    return datetime.now(UTC) - timedelta(days=days)


def f4_faults(n: int) -> tuple[list[str | None], str | None]:
    """The fault-injected crawl's mix for page ``n`` of every 100: 10 answer 5xx, 5 time out and 2 reset
    the connection on the first try; 1 always answers 500; the rest are fine."""
    k = n % 100
    if k < 10:
        return ["503"], None
    if k < 15:
        return ["drip"], None
    if k < 17:
        return ["reset"], None
    if k == 17:
        return [], "500"
    return [], None


def news_web(
    web: FixtureWeb,
    *,
    hosts: int = 4,
    pages: int = 100,
    copy_every: int = 10,
    faults: Callable[[int], tuple[list[str | None], str | None]] | None = None,
) -> list[Site]:
    """``pages`` articles spread over ``hosts`` sites, each site with robots.txt, a sitemap of its
    articles and an RSS feed of its latest ten; every ``copy_every``-th article of a site after
    the first copies the first site's article of the same number (reuse to be found).

    ``faults(n)`` gives ``(faults, always)`` for article number ``n`` (0-based over all sites).
    """
    sites = [web.site(f"news{h}") for h in range(hosts)]
    per_site = [pages // hosts + (1 if h < pages % hosts else 0) for h in range(hosts)]
    number = 0
    for h, site in enumerate(sites):
        site.robots("User-agent: *\nAllow: /\n")
        entries = []
        for i in range(per_site[h]):
            path = f"/{2020 + i % 5}/article-{i}/"
            seed = f"news0-{i}" if h > 0 and copy_every and i % copy_every == 0 else f"news{h}-{i}"
            published = datetime(2020, 11, 1, tzinfo=UTC) + timedelta(hours=i, minutes=h)
            neighbours = [site.url(f"/{2020 + j % 5}/article-{j}/") for j in (i - 1, i + 1) if 0 <= j < per_site[h]]
            fault_list, always = faults(number) if faults else ([], None)
            site.add(
                path,
                Route(
                    body=article_html(f"Article {h}-{i}", paragraphs(seed), published=published, links=neighbours),
                    faults=list(fault_list),
                    always=always,
                ),
            )
            entries.append((site.url(path), published))
            number += 1
        site.text("/sitemap.xml", sitemap(entries), "application/xml")
        site.text("/feed", rss_feed([(u, f"t{n}", d) for n, (u, d) in enumerate(entries[-10:])]), "application/rss+xml")
    return sites


def sources_toml(sites: list[Site], crawler: dict[str, Any], *, feeds: bool = False) -> str:
    """A sources file for ``sites`` (their sitemaps, or feeds) with a ``[crawler]`` table."""
    lines = ["[crawler]"]
    for key, value in crawler.items():
        lines.append(f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {value}")
    for site in sites:
        lines += [
            "",
            "[[site]]",
            f'name = "{site.name}"',
            f'site = "{site.name}.example"',
            f'{"feeds" if feeds else "sitemaps"} = ["{site.url("/feed" if feeds else "/sitemap.xml")}"]',
        ]
    return "\n".join(lines) + "\n"
