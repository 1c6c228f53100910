"""The lineage commands: ``lineage``, ``stories``, ``sites`` and ``report`` (registered on ``reuse.cli.app.app``).

They follow the CLI's rules: one library call each, tables and trees for people, ``--json`` for
scripts, and every user error as one ``Error: ...`` line (raised as a ReuseError, turned into
the line by the command group).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reuse.cli.display import short_path
from reuse.cli.options import READ_WAIT, JsonFlag, WideFlag, warehouse_path
from reuse.cli.output import count, echo_json, fit_terminal, percent, print_table, progress, stdout, url_cell
from reuse.config import Settings
from reuse.errors import InputError
from reuse.models import shown_time

if TYPE_CHECKING:
    from reuse.pipeline.lineage import StoryReport
    from warehouse.db import Warehouse

__all__ = ["lineage", "lineage_json", "register", "report", "sites", "sites_json", "stories_command"]

DocArg = Annotated[
    str,
    typer.Argument(
        metavar="URL_OR_ID",
        help="A document: its doc_id, or its URL (stored or fetched, in any usual spelling).",
        show_default=False,
    ),
]


def _lag(seconds: float | None) -> str:
    from reuse.cli.report import lag_text

    return lag_text(seconds) or "?"


def _time(value: Any, precision: str | None = None) -> str:
    return shown_time(value, precision)


def _edge_json(edge: dict[str, Any], nodes: dict[int, dict[str, Any]]) -> dict[str, Any]:
    target = nodes[edge["target_doc"]]
    return {
        "source_url": edge["source_url"],
        "target_url": edge["target_url"],
        "confidence": edge["confidence"],
        "method": edge["method"],
        "credited": edge["credited"],
        "labels": edge["labels"],
        "source_site": edge["source_site"],
        "target_site": edge["target_site"],
        "relation": edge["relation"],
        "directed": edge["directed"],
        "depth": target["depth"],
        "target_time": target["doc_time"],
        "target_time_precision": target["time_precision"],
        "lag_seconds": edge["lag_seconds"],
        "coverage_source": edge["coverage_source"],
        "coverage_target": edge["coverage_target"],
        "in_order": edge["in_order"],
        "corrections": edge["corrections"],
        "evidence": edge["evidence"],
        "attribution": edge["attribution"],
        "edits": [{k: edit[k] for k in ("label", "source_text", "target_text", "detail")} for edit in edge["edits"]],
    }


def lineage_json(warehouse: Warehouse, found: StoryReport) -> dict[str, Any]:
    """What ``lineage --json`` prints for the story ``found`` (also ``/api/lineage`` of ``serve``):
    ``{"root": ..., "edges": [...]}``, one edge per copy in the tree and one per document hanging
    from an unseen upstream source; a document in no story is the root of no edges."""
    if found.story_id is None:
        _, rows = warehouse.query(
            "SELECT doc_id, url, site, title, published_at, published_precision FROM current_documents"
            " WHERE doc_id = ?",
            [found.doc_id],
        )
        doc_id, url, site, title, published, precision = rows[0]
        alone = {"doc_id": doc_id, "url": url, "site": site, "title": title, "time": published}
        return {"root": {**alone, "time_precision": precision if published else None}, "edges": []}
    nodes = {n["doc_id"]: n for n in found.nodes}
    # The story's root: the top of its tree, or, when the top is an unseen upstream source, the
    # earliest document hanging from it (as stored by the lineage update; ties by doc_id).
    root = nodes.get(found.root) if found.root is not None else None
    root = root or min(found.nodes, key=lambda n: (n["depth"], n["doc_id"]))
    edges = [_edge_json(e, nodes) for e in found.edges if e["in_tree"]]
    for node in found.nodes:
        if node["upstream"]:
            edges.append(
                {
                    "source_url": None,
                    "target_url": node["url"],
                    "confidence": 0.0,
                    "method": "unseen_upstream",
                    "credited": None,
                    "labels": [],
                    "upstream": node["upstream"],
                    "target_site": node["site"],
                    "depth": node["depth"],
                    "target_time": node["doc_time"],
                    "target_time_precision": node["time_precision"],
                }
            )
    return {
        "root": {
            "doc_id": root["doc_id"],
            "url": root["url"],
            "site": root["site"],
            "title": root["title"],
            "time": root["doc_time"],
            "time_precision": root["time_precision"],
            "story_id": found.story_id,
            "upstream": root["upstream"],
        },
        "edges": edges,
    }


def lineage(
    ctx: typer.Context,
    doc: Annotated[
        str | None,
        typer.Argument(
            metavar="[URL_OR_ID]",
            help="A document: its URL (fetched or canonical) or doc_id (not with --rebuild or --stale).",
            show_default=False,
        ),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild all lineage from the stored documents and matches.")
    ] = False,
    stale: Annotated[
        bool, typer.Option("--stale", help="Bring up to date only the lineage that killed runs left stale.")
    ] = False,
    json_out: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """Show the lineage tree of the story a document belongs to.

    Each copy hangs under its most likely source, with its site, time, lag after the source, the
    share of the source it holds, whether it credits the source, and what it changed (its edit
    labels). With --json: {"root": {...}, "edges": [{"source_url", "target_url", "confidence",
    "method", "credited", "labels", ...}]} with one edge per copy in the tree. "root" is the
    top of the tree; when that is an unseen upstream source (copies published within minutes,
    none crediting another), it is the earliest document under it, with "upstream" naming it.

    With --rebuild (all of it) or --stale (only what killed runs left), the lineage is brought up
    to date instead, taking the write lock as ingest does, and one line gives the stories and
    reuse edges it then holds (--json: {"run_id", "versions", "stories", "edges"}).
    """
    if rebuild or stale:
        if rebuild and stale:
            raise InputError("lineage", "give --rebuild or --stale, not both")
        if doc is not None:
            raise InputError(doc, "--rebuild and --stale take no document")
        _refresh(ctx, rebuild, json_out)
        return
    if doc is None:
        raise InputError("lineage", "missing URL_OR_ID: give a document, or --rebuild or --stale")
    from reuse.pipeline.lineage import story_report
    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        found = story_report(warehouse, doc)
        document = lineage_json(warehouse, found) if json_out or found.story_id is None else {}
    if json_out:
        echo_json(document)
        return
    if found.story_id is None:
        typer.echo(f"{document['root']['url']} shares no text with another site's document: it is in no story")
        return
    nodes = {n["doc_id"]: n for n in found.nodes}
    tree = [e for e in found.edges if e["in_tree"]]
    into = {e["target_doc"]: e for e in tree}
    children: dict[Any, list[int]] = defaultdict(list)
    for node in found.nodes:
        children[node["parent_doc"] if node["parent_doc"] is not None else node["upstream"]].append(node["doc_id"])
    sites = {n["site"] for n in found.nodes if n["site"]}
    typer.echo(f"story {found.story_id}: {count(len(nodes), 'document')} on {count(len(sites), 'site')}")

    # Fitted to a terminal, each line shows the site and a short path and wraps under its branch.
    fit = stdout().width if fit_terminal(wide) else None

    def echo(first: str, more: str, fields: list[str], sep: str = "  ") -> None:
        """Print ``fields`` joined by ``sep`` after ``first``; fitted, packed into lines of the
        terminal's width, the later lines indented by ``more`` (a field is never split)."""
        if fit is None:
            typer.echo(first + sep.join(fields))
            return
        lines: list[str] = []
        current = ""
        for field in fields:
            indent = len(more if lines else first)
            if current and indent + len(current) + len(sep) + len(field) > fit:
                lines.append(current + sep.rstrip())
                current = field
            else:
                current = f"{current}{sep}{field}" if current else field
        for number, text in enumerate([*lines, current]):
            typer.echo((first if number == 0 else more) + text)

    def line(doc_id: int, indent: int = 0) -> list[str]:
        node, edge = nodes[doc_id], into.get(doc_id)
        mark = ["<- this document"] if doc_id == found.doc_id and len(nodes) > 1 else []
        site = node["site"] or "(no site)"
        url = node["url"] if fit is None else short_path(node["url"], max(12, fit - indent - len(site) - 2))
        head = [site, url, _time(node["doc_time"], node["time_precision"])]
        if edge is None:
            return head + mark
        direction = f"{edge['method']}, {edge['confidence']:.2f}" if edge["directed"] else "direction undecided"
        lag = [_lag(edge["lag_seconds"]), f"covers {percent(edge['coverage_source'])}", edge["credited"]]
        return [*head, *lag, f"({direction})", *mark]

    def walk(key: Any, prefix: str) -> None:
        kids = children.get(key, [])
        for k, doc_id in enumerate(kids):
            last = k == len(kids) - 1
            branch = f"{prefix}{'└── ' if last else '├── '}"
            more = prefix + ("    " if last else "│   ")
            below = more + ("│   " if children.get(doc_id) else "    ")
            echo(branch, below, line(doc_id, len(branch)))
            edge = into.get(doc_id)
            if edge is not None and edge["labels"]:
                first, *others = edge["labels"]
                echo(below, below, [f"edits: {first}", *others], ", ")
            walk(doc_id, more)

    for top in children.get(None, []):
        echo("", "│   " if children.get(top) else "    ", line(top))
        walk(top, "")
    for upstream in sorted(k for k in children if isinstance(k, str)):
        typer.echo(f"(unseen upstream source {upstream})")
        walk(upstream, "")


def _refresh(ctx: typer.Context, rebuild: bool, json_out: bool) -> None:
    """``lineage --rebuild`` and ``lineage --stale``."""
    with progress("rebuilding lineage" if rebuild else "updating stale lineage") as advance:
        from reuse.pipeline.ingest import refresh_lineage

        run_id, summary = refresh_lineage(warehouse_path(ctx), Settings(), rebuild=rebuild, progress=advance)
    if json_out:
        echo_json({"run_id": run_id, **asdict(summary)})
        return
    done = "rebuilt" if rebuild else ("was up to date" if not summary.versions else "brought up to date")
    typer.echo(
        f"lineage {done}: {count(summary.stories, 'story', 'stories')}, {count(summary.edges, 'reuse edge')}"
        f" ({count(summary.versions, 'version')} taken in, run {run_id})"
    )


def stories_command(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Show at most N stories.")] = None,
    json_out: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """List the stories: groups of documents on different sites that share text, largest first.

    For each: its size, sites, time span and the root of its lineage tree. With --json, a list of
    objects with the columns of the stories view.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from warehouse.db import open_when_free
    from warehouse.lineage import stories

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        found = stories(warehouse, limit)
    if json_out:
        echo_json(found)
        return
    typer.echo(count(len(found), "story", "stories"))
    if not found:
        return
    # The root above the story's sites, and the first time above the last: room for the root's URL.
    table = Table("story", "documents", "first\nlast", "root\nsites", show_lines=True)
    for row in found:
        table.add_row(
            Text(str(row["story_id"])),
            Text(str(row["documents"])),
            Text(
                f"{_time(row['first_time'], row.get('first_precision'))}\n"
                f"{_time(row['last_time'], row.get('last_precision'))}"
            ),
            Group(url_cell(row["root_url"], wide), Text(", ".join(row["sites"]))),
        )
    print_table(table, wide=wide)


def sites_json(warehouse: Warehouse) -> dict[str, list[dict[str, Any]]]:
    """What ``sites --json`` prints (also ``/api/sites`` of ``serve``): ``{"network": [site_network
    rows], "templates": [{"site", "blocks", "documents"}]}``."""
    from warehouse.lineage import site_network

    network = site_network(warehouse)
    _, rows = warehouse.query(
        "SELECT site, count(*) AS blocks, max(site_docs) AS documents FROM site_boilerplate GROUP BY site ORDER BY site"
    )
    return {"network": network, "templates": [{"site": s, "blocks": b, "documents": d} for s, b, d in rows]}


def sites(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Show who copies whom: for each pair of sites, the copies along the lineage trees, the
    median lag and the share credited; then each site's learned template (boilerplate blocks).

    With --json: {"network": [site_network rows], "templates": [{"site", "blocks", "documents"}]}.
    """
    from rich.table import Table
    from rich.text import Text

    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        found = sites_json(warehouse)
    if json_out:
        echo_json(found)
        return
    network, templates = found["network"], found["templates"]
    typer.echo(f"{count(len(network), 'copying relation')} between sites")
    if network:
        table = Table("source site\n→ copying site", "copies", "median lag", "credited", "coverage")
        for row in network:
            lag = row["median_lag"]
            table.add_row(
                Text(f"{row['source_site'] or '(no site)'}\n→ {row['target_site'] or '(no site)'}"),
                Text(str(row["copies"])),
                Text(_lag(lag.total_seconds() if lag is not None else None)),
                Text(percent(row["share_credited"])),
                Text(percent(row["mean_coverage"])),
            )
        print_table(table)
    for row in templates:
        typer.echo(
            f"template of {row['site']}: {count(row['blocks'], 'boilerplate block')}"
            f" learned from {count(row['documents'], 'document')}"
        )


def report(
    ctx: typer.Context,
    doc: DocArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="The HTML file to write.", show_default=False)],
) -> None:
    """Write one self-contained HTML page about a document's story: the lineage tree drawn as a
    graph, and each copy side by side with its source, the words that differ marked."""
    from reuse.cli.report import render_report
    from reuse.pipeline.lineage import story_report
    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        found = story_report(warehouse, doc, compare_texts=True)
    if found.story_id is None:
        raise InputError(doc, "in no story: it shares no text with another site's document")
    out.write_text(render_report(found.doc_id, found.nodes, found.edges, found.comparisons), encoding="utf-8")
    typer.echo(f"wrote {out}: story {found.story_id}, {count(len(found.nodes), 'document')}")


def register(app: typer.Typer) -> None:
    """Add the lineage commands to ``app``."""
    app.command("lineage")(lineage)
    app.command("stories")(stories_command)
    app.command("sites")(sites)
    app.command("report")(report)
