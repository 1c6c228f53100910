"""The lineage report: one self-contained HTML page with the drawn lineage tree of a story and a
side-by-side, word-level diff of each copy against its source.

Pure: it takes the rows the pipeline loaded and returns the page as a string. No script, no
external resource: the graph is inline SVG laid out here (a layered tree: depth down the page,
leaves spread across, each parent centred over its children), styles are inline.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from reuse.cli.display import duration_text
from reuse.lineage.edits import EditReport, TextView, word_sides
from reuse.models import shown_time

__all__ = [
    "NODE_HEIGHT",
    "NODE_WIDTH",
    "STORY_STYLE",
    "fit_label",
    "graph_svg",
    "lag_text",
    "layout",
    "legend_html",
    "render_report",
    "section_order",
    "story_sections",
    "text_width",
]

NODE_WIDTH = 240
NODE_HEIGHT = 74
_GAP_X = 70
_GAP_Y = 16
_MARGIN = 20
_PAD = 10
#: Average advance of a character in em, generous for system sans-serif fonts (bold digits and
#: capitals reach about 0.6), so that an estimated label width is never short of the drawn one.
_EM_BOLD = 0.62
_EM = 0.58
_COLOURS = {"credited": "#2e7d32", "credited_other": "#ef6c00", "uncredited": "#c62828", None: "#757575"}

_PAGE_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#212121;max-width:1400px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:32px 0 6px} .meta{color:#616161;font-size:13px}
"""
#: The styles of the drawn tree, the edit labels and the side-by-side diff: the report's page and
#: the story page of ``reusetrack serve`` both use them.
STORY_STYLE = """
svg text{font-family:system-ui,sans-serif} .labels span{display:inline-block;background:#e3f2fd;color:#0d47a1;
border-radius:10px;padding:1px 8px;margin:2px 4px 2px 0;font-size:12px}
table.diff{border-collapse:collapse;width:100%;table-layout:fixed;font-size:13px;line-height:1.45}
table.diff td{vertical-align:top;border:1px solid #e0e0e0;padding:6px 8px;word-wrap:break-word}
table.diff th{background:#fafafa;border:1px solid #e0e0e0;padding:6px;text-align:left}
td.kind{width:110px;color:#616161;font-size:12px} td.empty{background:#fafafa}
del{background:#ffcdd2;text-decoration:line-through} ins{background:#c8e6c9;text-decoration:none}
tr.added td.side{background:#f1f8e9} tr.dropped td.side{background:#fff3f3} .legend span{margin-right:14px}
"""


def layout(nodes: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    """Position (top-left corner) of each node, keyed by its ``key``, in a layered tree drawing.

    ``nodes`` carry ``key`` and ``parent`` (a key or None). Depth goes across the page, left to
    right; leaves take consecutive rows in depth-first order and a parent sits level with the middle
    of its children. A story grows down the page with its copies, never sideways past it.
    """
    children: dict[str | None, list[str]] = defaultdict(list)
    for node in nodes:
        children[node["parent"]].append(node["key"])
    positions: dict[str, tuple[float, float]] = {}
    row = 0

    def place(key: str, depth: int) -> float:
        nonlocal row
        kids = children.get(key, [])
        if kids:
            ys = [place(kid, depth + 1) for kid in kids]
            y = (ys[0] + ys[-1]) / 2
        else:
            y = row * (NODE_HEIGHT + _GAP_Y)
            row += 1
        positions[key] = (_MARGIN + depth * (NODE_WIDTH + _GAP_X), _MARGIN + y)
        return y

    for root in children.get(None, []):
        place(root, 0)
    return positions


def text_width(text: str, size: float, bold: bool = False) -> float:
    """An upper estimate of the drawn width of ``text`` at font ``size`` (pixels), for layout."""
    return len(text) * size * (_EM_BOLD if bold else _EM)


def fit_label(text: str, size: float, width: float, bold: bool = False) -> str:
    """``text`` cut at the end (with ``…``) so that its estimated width stays within ``width``."""
    if text_width(text, size, bold) <= width:
        return text
    chars = max(1, int(width / (size * (_EM_BOLD if bold else _EM))) - 1)
    return text[:chars] + "…"


def _when(value: Any, precision: str | None = None) -> str:
    return shown_time(value, precision, zone="") if isinstance(value, datetime) else ""


def lag_text(seconds: float | None) -> str:
    """A lag as ``+1d 2h 05m``, ``+21h 44m``, ``+12m`` or ``+40s``; empty when unknown."""
    if seconds is None:
        return ""
    return ("-" if seconds < 0 else "+") + duration_text(seconds)


def _label(x: float, y: float, text: str, size: int, **attributes: str) -> str:
    """One line of a node's text, fitted inside the node's width."""
    bold = attributes.get("font_weight") == "600"
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    shown = html.escape(fit_label(text, size, NODE_WIDTH - 2 * _PAD, bold))
    return f'<text x="{x + _PAD:.0f}" y="{y:.0f}" font-size="{size}"{extra}>{shown}</text>'


def graph_svg(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    focus: int,
    link: Callable[[Mapping[str, Any]], str] | None = None,
) -> str:
    """The story's lineage tree as inline SVG (``id="lineage-graph"``): one box per document (the
    ``focus`` document highlighted), one arrow per tree edge coloured by credit, dashed when its
    direction is undecided. With ``link``, each box links to the address ``link(node)`` gives."""
    drawn: list[dict[str, Any]] = []
    for node in nodes:
        parent = node["parent_doc"] if node["parent_doc"] is not None else node["upstream"]
        drawn.append({"key": str(node["doc_id"]), "parent": None if parent is None else str(parent), "node": node})
    for upstream in sorted({n["upstream"] for n in nodes if n["upstream"]}):
        drawn.append({"key": upstream, "parent": None, "node": None})
    at = layout(drawn)
    width = max(x for x, _ in at.values()) + NODE_WIDTH + _MARGIN
    height = max(y for _, y in at.values()) + NODE_HEIGHT + _MARGIN
    into = {e["target_doc"]: e for e in edges if e["in_tree"]}
    # No fixed size: the drawing scales down to the page's width instead of scrolling sideways,
    # and is never drawn larger than its natural size.
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="lineage-graph" viewBox="0 0 {width:.0f} {height:.0f}"'
        f' style="width:100%;max-width:{width:.0f}px;height:auto" role="img" aria-label="lineage tree">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#616161"/></marker></defs>',
    ]
    for item in drawn:
        if item["parent"] is None:
            continue
        (px, py), (cx, cy) = at[item["parent"]], at[item["key"]]
        edge = into.get(item["node"]["doc_id"]) if item["node"] else None
        colour = _COLOURS.get(edge["credited"] if edge else None, "#757575")
        dash = "" if edge and edge["directed"] else ' stroke-dasharray="6 4"'
        x1, y1, x2, y2 = px + NODE_WIDTH, py + NODE_HEIGHT / 2, cx, cy + NODE_HEIGHT / 2
        bend = _GAP_X / 2
        parts.append(
            f'<path class="edge" d="M {x1:.0f} {y1:.0f} C {x1 + bend:.0f} {y1:.0f}, {x2 - bend:.0f} {y2:.0f},'
            f' {x2:.0f} {y2:.0f}" fill="none" stroke="{colour}" stroke-width="2.5"{dash} marker-end="url(#arrow)"/>'
        )
    for item in drawn:
        x, y = at[item["key"]]
        node = item["node"]
        if node is None:
            parts.append(
                f'<g class="node upstream"><title>unseen upstream source {html.escape(item["key"])}</title>'
                f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}"'
                ' rx="10" fill="#fff" stroke="#9e9e9e" stroke-dasharray="5 4"/>'
                + _label(x, y + NODE_HEIGHT / 2 + 4, "unseen upstream source", 13, fill="#616161")
                + "</g>"
            )
            continue
        fill = "#fff8e1" if node["doc_id"] == focus else "#e3f2fd" if node["depth"] == 0 else "#ffffff"
        edge = into.get(node["doc_id"])
        tooltip = node["url"] + (f"\n{node['title']}" if node["title"] else "")
        lines = [
            _label(x, y + 19, node["site"] or "(no site)", 13, font_weight="600"),
            _label(x, y + 35, node["title"] or node["url"], 11),
            _label(x, y + 50, _when(node["doc_time"], node.get("time_precision")), 11, fill="#616161"),
        ]
        if edge:
            colour = _COLOURS.get(edge["credited"], "#757575")
            lines.append(_label(x, y + 65, f"{lag_text(edge['lag_seconds'])} · {edge['credited']}", 11, fill=colour))
        box = (
            f'<g class="node" data-doc="{node["doc_id"]}"><title>{html.escape(tooltip)}</title>'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="10" fill="{fill}"'
            ' stroke="#1565c0" stroke-width="1.5"/>' + "".join(lines) + "</g>"
        )
        parts.append(f'<a href="{html.escape(link(node))}">{box}</a>' if link else box)
    parts.append("</svg>")
    return "".join(parts)


def _diff_cells(source: str, target: str) -> tuple[str, str, bool]:
    """Both texts as HTML, each drawn from its own characters, with the words the other lacks
    struck out (source) or marked inserted (copy); and whether any word differs."""
    left, right = word_sides(source, target)
    tags = {"=": ("", ""), "-": ("<del>", "</del>"), "+": ("<ins>", "</ins>")}

    def cell(text: str, pieces: list[tuple[str, int, int]]) -> str:
        return "".join(f"{tags[op][0]}{html.escape(text[a:b])}{tags[op][1]}" for op, a, b in pieces)

    changed = any(op != "=" for op, _, _ in [*left, *right])
    return cell(source, left), cell(target, right), changed


def _side_by_side(source: TextView, target: TextView, report: EditReport) -> str:
    """Every block of both sides in the target's reading order: paired blocks side by side with
    their word differences marked, added blocks on the right, dropped ones on the left."""
    paired = dict(report.pairs)
    source_of = {j: i for i, j in report.pairs}
    rows: list[str] = []
    shown_source: set[int] = set()

    def dropped_before(limit: int) -> None:
        for i in range(len(source.blocks)):
            if i not in paired and i not in shown_source and i < limit:
                shown_source.add(i)
                rows.append(
                    f'<tr class="dropped"><td class="kind">dropped</td><td class="side">'
                    f'{html.escape(source.block_text(i))}</td><td class="empty"></td></tr>'
                )

    for j in range(len(target.blocks)):
        if j in source_of:
            i = source_of[j]
            dropped_before(i)
            shown_source.add(i)
            left, right, changed = _diff_cells(source.block_text(i), target.block_text(j))
            kind = "changed" if changed else "same"
            rows.append(f'<tr class="{kind}"><td class="kind">{kind}</td><td>{left}</td><td>{right}</td></tr>')
        else:
            label = "added" + (" (boilerplate)" if target.is_boilerplate(j) else "")
            rows.append(
                f'<tr class="added"><td class="kind">{label}</td><td class="empty"></td>'
                f'<td class="side">{html.escape(target.block_text(j))}</td></tr>'
            )
    dropped_before(len(source.blocks))
    head = ""
    if source.title != target.title:
        left, right, _ = _diff_cells(source.title or "", target.title or "")
        head = f'<tr class="changed"><td class="kind">headline</td><td>{left}</td><td>{right}</td></tr>'
    return (
        '<table class="diff"><colgroup><col style="width:110px"><col><col></colgroup>'
        f"<tr><th></th><th>source</th><th>copy</th></tr>{head}{''.join(rows)}</table>"
    )


def section_order(nodes: Sequence[Mapping[str, Any]], edges: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The tree edges in the order their sections are shown: copies nearer the root first, then
    earlier ones."""
    by_doc = {n["doc_id"]: n for n in nodes}
    return sorted(
        (e for e in edges if e["in_tree"]),
        key=lambda e: (by_doc[e["target_doc"]]["depth"], _when(by_doc[e["target_doc"]]["doc_time"]), e["target_doc"]),
    )


def story_sections(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    comparisons: Mapping[int, tuple[TextView, TextView, EditReport]],
) -> list[str]:
    """One HTML section per tree edge, sources before their copies: both URLs, direction, lag,
    coverage, credit, evidence, edit labels and the side-by-side diff (when ``comparisons`` holds it)."""
    by_doc = {n["doc_id"]: n for n in nodes}
    sections = []
    for edge in section_order(nodes, edges):
        source, target = by_doc[edge["source_doc"]], by_doc[edge["target_doc"]]
        labels = "".join(f"<span>{html.escape(label)}</span>" for label in edge["labels"]) or "<span>no edits</span>"
        signals = "; ".join(
            f"{s['signal']} ({s['weight']}): {html.escape(s['detail'])}" for s in edge["evidence"] if s["source"]
        )
        direction = (
            f"{edge['method']} · confidence {edge['confidence']:.2f}" if edge["directed"] else "direction undecided"
        )
        body = comparisons.get(edge["edge_id"])
        sections.append(
            f'<section class="edge-report"><h2>{html.escape(source["site"] or "")} → '
            f"{html.escape(target['site'] or '')}</h2>"
            f'<div class="meta"><a href="{html.escape(source["url"])}">{html.escape(source["url"])}</a><br>→ '
            f'<a href="{html.escape(target["url"])}">{html.escape(target["url"])}</a><br>'
            f"{direction} · lag {lag_text(edge['lag_seconds'])} · covers {edge['coverage_source']:.0%} of the source"
            f" · {'in order' if edge['in_order'] else 'reordered'} · <b>{edge['credited']}</b><br>"
            f"evidence: {signals or 'none'}</div>"
            f'<div class="labels">{labels}</div>'
            f"{_side_by_side(*body) if body else ''}</section>"
        )
    return sections


def legend_html() -> str:
    """The key to the graph's colours and dashes."""
    legend = "".join(
        f'<span style="color:{colour}">━ {name}</span>' for name, colour in _COLOURS.items() if name is not None
    )
    return f'<div class="legend meta">{legend}<span>┅ direction undecided</span></div>'


def render_report(
    focus: int,
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    comparisons: Mapping[int, tuple[TextView, TextView, EditReport]],
) -> str:
    """The HTML page of one story: title, drawn lineage tree, then one section per tree edge
    with its evidence, attribution, edit labels and side-by-side diff."""
    root = next((n for n in nodes if n["depth"] == 0), nodes[0])
    sites = sorted({n["site"] for n in nodes if n["site"]})
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Lineage: {html.escape(root['title'] or root['url'])}</title>"
        f"<style>{_PAGE_STYLE}{STORY_STYLE}</style></head><body>"
        f"<h1>Lineage of “{html.escape(root['title'] or root['url'])}”</h1>"
        f'<div class="meta">{len(nodes)} documents on {len(sites)} sites: {html.escape(", ".join(sites))}</div>'
        f'{legend_html()}<div class="graph">{graph_svg(nodes, edges, focus)}</div>'
        f"{''.join(story_sections(nodes, edges, comparisons))}</body></html>"
    )
