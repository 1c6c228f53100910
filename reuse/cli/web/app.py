"""The web application of ``reusetrack serve``: pages and a JSON API over the warehouse, read-only.

Each route is one function ``(request, warehouse) -> value`` listed in :data:`PAGES` (HTML: it
returns a template's name and its context, or a ready response such as a redirect or a feed) or
:data:`API` (JSON: it returns the value, printed as the CLI's ``--json`` prints it). The home page
shows the search and then each of :data:`HOME_SECTIONS`; :data:`NAV` is the menu. A new page, API
route or home section is one more entry in these lists.

Every input is hostile: parameters are checked and bounded here (:func:`text_param`,
:func:`int_param`; a bad one is a 400 with its reason), values reach SQL only as query parameters
(``warehouse.browse`` and the other reads), templates escape everything they print (Jinja2
autoescape; the story's graph and diff come from :mod:`reuse.cli.report`, which escapes its own),
an unknown document is a 404 saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawlers.urls import page_key
from reuse import reusetrack_version
from reuse.cli.display import duration_text
from reuse.cli.lineage import lineage_json, sites_json
from reuse.cli.output import json_text, percent
from reuse.cli.report import STORY_STYLE, graph_svg, lag_text, legend_html, section_order, story_sections
from reuse.cli.watch import alert_items
from reuse.cli.web.reader import Reader, Reading
from reuse.errors import InputError, NoSuchDocument, WarehouseError, WarehouseLocked
from reuse.models import shown_time
from reuse.pipeline.lineage import compare_edges, story_report
from warehouse import browse
from warehouse.alerts import atom_feed, feed_id_of, list_alerts, list_watches
from warehouse.db import Warehouse
from warehouse.lineage import stories

__all__ = [
    "API",
    "HOME_SECTIONS",
    "NAV",
    "PAGES",
    "SECURITY_HEADERS",
    "BadRequest",
    "HomeSection",
    "NotFound",
    "create_app",
    "int_param",
    "text_param",
]

#: The longest parameter value taken (a URL, a search): anything longer is a 400.
MAX_PARAM = 2000
#: Rows a page or an API answer shows at most, whatever a ``limit`` asks.
MAX_ROWS = 1000
#: Copies shown side by side on a story page; the rest are in its graph and in /api/lineage.
MAX_SECTIONS = 60
#: Alerts the alerts page, /api/alerts and /alerts.atom give unless ``limit`` says otherwise.
ALERTS_SHOWN = 100
#: Unseen alerts the home page shows; the rest are on /alerts?unseen=1.
HOME_ALERTS = 20


class BadRequest(Exception):
    """A parameter is missing or unusable: answered 400 with the message."""

    status = 400


class NotFound(Exception):
    """The thing asked for is not in the warehouse: answered 404 with the message."""

    status = 404


def text_param(request: Request, name: str, required: bool = True) -> str:
    """The query parameter ``name``, stripped; a 400 when it is missing (if ``required``), repeated,
    too long or holds control characters."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"give {name} once")
    value = values[0].strip() if values else ""
    if not value and required:
        raise BadRequest(f"missing parameter {name}")
    if len(value) > MAX_PARAM:
        raise BadRequest(f"{name} is longer than {MAX_PARAM} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadRequest(f"{name} holds control characters")
    return value


def int_param(request: Request, name: str, default: int, low: int = 1, high: int = MAX_ROWS) -> int:
    """The whole-number query parameter ``name`` (``default`` when absent); a 400 unless it is a
    number from ``low`` to ``high``."""
    value = text_param(request, name, required=False)
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(value)


Page = Callable[[Request, Warehouse], "tuple[str, dict[str, Any]] | Response"]
Api = Callable[[Request, Warehouse], Any]


@dataclass(frozen=True)
class HomeSection:
    """A section of the home page: its heading, the template that draws it (given ``data``) and
    the function loading ``data`` from the warehouse."""

    title: str
    template: str
    load: Callable[[Warehouse], Any]


def _document(wh: Warehouse, ref: str) -> int:
    """The doc_id ``ref`` names; a 404 when none, a 400 when it names several."""
    try:
        return wh.resolve_document(ref, page_key).doc_id
    except NoSuchDocument:
        raise NotFound(f"No document with URL or doc_id {ref!r} in this warehouse.") from None
    except WarehouseLocked:
        raise
    except WarehouseError as err:  # the URL names several documents: the message lists them
        raise BadRequest(str(err).replace(f" in {wh.path}", " in this warehouse")) from None


def _alerts(request: Request, wh: Warehouse) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The alert items the query string asks for, as ``alerts --json`` gives them for the same
    ``since`` (24h, 7d, an ISO date or time), ``unseen`` (1: only those not marked seen) and
    ``limit`` (:data:`ALERTS_SHOWN` unless given, at most :data:`MAX_ROWS`); and those parameters."""
    since = text_param(request, "since", required=False)
    unseen = int_param(request, "unseen", 0, low=0, high=1) == 1
    limit = int_param(request, "limit", ALERTS_SHOWN)
    try:
        items = alert_items(wh, since or None, unseen, limit)
    except InputError as err:
        raise BadRequest(f"since: {err.reason}") from None
    return items, {"since": since, "unseen": unseen, "limit": limit}


# -- pages ---------------------------------------------------------------------------------------------


def home(request: Request, wh: Warehouse) -> tuple[str, dict[str, Any]] | Response:
    """Search (URL, title, words of the text) and the home sections. A search naming one document
    by its URL or doc_id goes straight to its story."""
    query = text_param(request, "q", required=False)
    if query and (query.isdigit() or query.lower().startswith(("http://", "https://"))):
        try:
            found = wh.resolve_document(query, page_key).doc_id
        except WarehouseError:
            found = None
        if found is not None:
            return RedirectResponse(f"/doc?doc={found}", status_code=303)
    limit = int_param(request, "limit", 50, high=200)
    results = browse.search_documents(wh, query, limit) if query else None
    sections = [(s, s.load(wh)) for s in HOME_SECTIONS]
    return "home.html", {"query": query, "results": results, "limit": limit, "sections": sections}


def document_page(request: Request, wh: Warehouse) -> tuple[str, dict[str, Any]]:
    """A document's story: the drawn lineage tree, each copy beside its source, and its versions."""
    ref = text_param(request, "doc")
    doc_id = _document(wh, ref)
    found = story_report(wh, str(doc_id))
    _, rows = wh.query(
        "SELECT doc_id, url, site, title, published_at, published_precision FROM current_documents WHERE doc_id = ?",
        [doc_id],
    )
    doc = dict(zip(["doc_id", "url", "site", "title", "published_at", "published_precision"], rows[0], strict=True))
    context: dict[str, Any] = {"doc": doc, "found": found, "versions": browse.document_versions(wh, doc_id, 100)}
    if found.story_id is not None:
        # Only the first sections' texts are compared again: a story of hundreds of copies stays one page.
        tree = section_order(found.nodes, found.edges)
        shown = [dict(e) for e in tree[:MAX_SECTIONS]]
        context.update(
            graph=graph_svg(found.nodes, found.edges, doc_id, link=lambda node: f"/doc?doc={node['doc_id']}"),
            legend=legend_html(),
            sections=story_sections(found.nodes, shown, compare_edges(wh, shown)),
            hidden=len(tree) - len(shown),
            sites=sorted({n["site"] for n in found.nodes if n["site"]}),
        )
    return "document.html", context


def site_page(request: Request, wh: Warehouse) -> tuple[str, dict[str, Any]]:
    """A site: whom it copies and who copies it, lag, credit rate, its learned template."""
    site = text_param(request, "site")
    profile = browse.site_profile(wh, site, int_param(request, "limit", 50, high=500))
    if profile is None:
        raise NotFound(f"No document of site {site!r} in this warehouse.")
    return "site.html", {"profile": profile}


def sites_page(request: Request, wh: Warehouse) -> tuple[str, dict[str, Any]]:
    """The site network: who copies whom, how much, how fast and with what credit (the pairs
    with the most copies, and the templates, up to ``limit`` each)."""
    limit = int_param(request, "limit", 500)
    found = sites_json(wh)
    return "sites.html", {
        "network": found["network"][:limit],
        "templates": found["templates"][:limit],
        "hidden": max(0, len(found["network"]) - limit),
    }


def alerts_page(request: Request, wh: Warehouse) -> tuple[str, dict[str, Any]]:
    """The alerts the watches raised, newest first (``since``, ``unseen``, ``limit`` as for
    /api/alerts), and the watches. Read-only: alerts are marked seen by ``alerts --mark-seen``."""
    items, asked = _alerts(request, wh)
    return "alerts.html", {
        "alerts": items,
        "asked": asked,
        "watches": list_watches(wh),
        "query": f"?{request.url.query}" if request.url.query else "",
    }


def alerts_feed(request: Request, wh: Warehouse) -> Response:
    """The Atom feed ``alerts --atom`` writes, of the same alerts as /api/alerts, its entries
    linking to the copies' story pages here."""
    items, _ = _alerts(request, wh)
    base = str(request.base_url)
    feed = atom_feed(
        items,
        feed_id=feed_id_of(request.app.state.warehouse_path),
        link=str(request.url),
        page=lambda doc_id: f"{base}doc?doc={doc_id}",
    )
    return Response(feed, media_type="application/atom+xml")


# -- the JSON API --------------------------------------------------------------------------------------


def api_lineage(request: Request, wh: Warehouse) -> Any:
    """What ``reusetrack lineage --json DOC`` prints."""
    return lineage_json(wh, story_report(wh, str(_document(wh, text_param(request, "doc")))))


def api_matches(request: Request, wh: Warehouse) -> Any:
    """What ``reusetrack matches --json DOC`` prints, at most ``limit`` matches."""
    doc_id = _document(wh, text_param(request, "doc"))
    limit = int_param(request, "limit", MAX_ROWS)
    return wh.document_matches(str(doc_id))[1][:limit]


def api_stories(request: Request, wh: Warehouse) -> Any:
    """What ``reusetrack stories --json --limit N`` prints (N: ``limit``, 100 unless given)."""
    return stories(wh, int_param(request, "limit", 100))


def api_sites(request: Request, wh: Warehouse) -> Any:
    """What ``reusetrack sites --json`` prints."""
    return sites_json(wh)


def api_alerts(request: Request, wh: Warehouse) -> Any:
    """What ``reusetrack alerts --json --limit N`` prints, with ``--since`` and ``--unseen`` when
    ``since`` and ``unseen=1`` are given (N: ``limit``, 100 unless given)."""
    return _alerts(request, wh)[0]


#: The menu of every page: (label, path).
NAV: list[tuple[str, str]] = [("Search", "/"), ("Sites", "/sites"), ("Alerts", "/alerts")]
PAGES: list[tuple[str, Page]] = [
    ("/", home),
    ("/doc", document_page),
    ("/site", site_page),
    ("/sites", sites_page),
    ("/alerts", alerts_page),
    ("/alerts.atom", alerts_feed),
]
API: list[tuple[str, Api]] = [
    ("/api/lineage", api_lineage),
    ("/api/matches", api_matches),
    ("/api/stories", api_stories),
    ("/api/sites", api_sites),
    ("/api/alerts", api_alerts),
]
HOME_SECTIONS: list[HomeSection] = [
    HomeSection("Unseen alerts", "section_alerts.html", lambda wh: list_alerts(wh, unseen=True, limit=HOME_ALERTS)),
    HomeSection("Latest stories", "section_stories.html", lambda wh: browse.latest_stories(wh, 20)),
]


# -- the application -----------------------------------------------------------------------------------


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
    )
    env.filters.update(
        when=lambda value, precision=None: shown_time(value, precision),
        lag=lambda seconds: lag_text(seconds.total_seconds() if hasattr(seconds, "total_seconds") else seconds),
        duration=lambda seconds: duration_text(seconds) if seconds is not None else "",
        percent=percent,
        doc=lambda ref: "/doc?doc=" + quote(str(ref), safe=""),
        site=lambda site: "/site?site=" + quote(str(site), safe=""),
    )
    env.globals.update(nav=NAV, style=STORY_STYLE, version=reusetrack_version())
    return env


def _failure(error: Exception) -> tuple[int, str, dict[str, str]]:
    """Status, message and headers for an error a request ended with."""
    if isinstance(error, BadRequest | NotFound):
        return error.status, str(error), {}
    if isinstance(error, WarehouseLocked):
        holder = f" (PID {error.holder})" if error.holder else ""
        return (
            503,
            f"The warehouse is being written by another process{holder} and no copy of it was taken yet:"
            " try again in a minute.",
            {"Retry-After": "30"},
        )
    return 500, f"The warehouse could not be read: {error}", {}


#: Headers on every answer: the pages run no script and load nothing from elsewhere, are not
#: framed, and leak no address to the sites they link to.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self';"
        " base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _Guard:
    """ASGI middleware: answers only requests naming one of ``hosts`` in their Host header (``None``:
    any), so that a web page elsewhere cannot reach the local server under its own name (DNS
    rebinding), and adds :data:`SECURITY_HEADERS` to every answer."""

    def __init__(self, app: ASGIApp, hosts: set[str] | None) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.hosts is not None:
            host = Request(scope).url.hostname or ""
            if host.strip("[]").lower() not in self.hosts:
                answer = Response(f"Host {host!r} is not served here.\n", status_code=400, headers=SECURITY_HEADERS)
                await answer(scope, receive, send)
                return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    *((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(reader: Reader, hosts: set[str] | None = None) -> ASGIApp:
    """The application reading the warehouse through ``reader``, answering requests for ``hosts``
    (host names or addresses as a Host header gives them; ``None``: any)."""
    env = _templates()

    def stale_headers(reading: Reading) -> dict[str, str]:
        if reading.snapshot_of is None:
            return {}
        return {"X-Reusetrack-Snapshot": reading.snapshot_of.isoformat()}

    def html_route(handler: Page) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                with reader.read() as reading:
                    answer = handler(request, reading.warehouse)
                    if isinstance(answer, Response):
                        return answer
                    name, context = answer
                    page = env.get_template(name).render(request_path=request.url.path, reading=reading, **context)
                    return HTMLResponse(page, headers=stale_headers(reading))
            except (BadRequest, NotFound, WarehouseError) as error:
                status, message, headers = _failure(error)
                page = env.get_template("error.html").render(
                    request_path=request.url.path, reading=None, status=status, message=message
                )
                return HTMLResponse(page, status_code=status, headers=headers)

        return endpoint

    def api_route(handler: Api) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                with reader.read() as reading:
                    body = json_text(handler(request, reading.warehouse))
                    return Response(body + "\n", media_type="application/json", headers=stale_headers(reading))
            except (BadRequest, NotFound, WarehouseError) as error:
                status, message, headers = _failure(error)
                return Response(
                    json_text({"error": message}) + "\n",
                    status_code=status,
                    media_type="application/json",
                    headers=headers,
                )

        return endpoint

    async def not_found(request: Request, _error: Exception) -> Response:
        page = env.get_template("error.html").render(
            request_path=request.url.path, reading=None, status=404, message="There is no such page."
        )
        return HTMLResponse(page, status_code=404)

    routes = [Route(path, html_route(handler), methods=["GET", "HEAD"]) for path, handler in PAGES]
    routes += [Route(path, api_route(handler), methods=["GET", "HEAD"]) for path, handler in API]
    handlers: Mapping[Any, Any] = {404: not_found}
    application = Starlette(routes=routes, exception_handlers=dict(handlers))
    application.state.warehouse_path = reader.path  # the file read, not the snapshot: the feed's id
    return _Guard(application, hosts)
