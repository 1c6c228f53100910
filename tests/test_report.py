"""The side-by-side diff of the HTML report and of ``compare``: each column is its own document's text.

The report is rendered through the CLI from a real warehouse file; the property checks the one
word alignment both views draw from (:func:`reuse.lineage.edits.word_sides`) on generated texts.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reuse.cli import app
from reuse.cli.report import _diff_cells
from reuse.config import Settings
from reuse.lineage.edits import TextView, compare, word_sides
from reuse.models import Document
from reuse.pipeline.ingest import ingest
from warehouse.db import open_warehouse

SOURCE = [
    "“We will not close a single library,” the Mayor told the Council on Monday — to loud applause.",
    "The Finance Chief said the ‘difficult choices’ would fall on roads instead: “Potholes can wait.”",
    "Opposition members called the plan a gamble with the town’s bus routes and its rural schools.",
]
# The copy: straight quotes, lowercase titles, hyphens for dashes, one changed word.
COPY = [
    '"We will not close a single library," the mayor told the council on Monday - to loud applause.',
    "The finance chief said the 'difficult choices' would fall on roads instead: \"Potholes can wait.\"",
    "Opposition members called the plan a gamble with the town's bus routes and its village schools.",
]


def _cells(page: str) -> list[tuple[str, str, str]]:
    """``(kind, source column, copy column)`` of each paired row, as plain text."""
    found = re.findall(r'<tr class="(same|changed)"><td class="kind">[^<]*</td><td>(.*?)</td><td>(.*?)</td></tr>', page)
    return [
        (kind, html.unescape(re.sub(r"<[^>]+>", "", a)), html.unescape(re.sub(r"<[^>]+>", "", b)))
        for kind, a, b in found
    ]


def test_the_reports_source_column_quotes_the_source(tmp_path: Path) -> None:
    day = datetime(2021, 4, 6, 9, tzinfo=UTC)
    source = Document("https://a.example/library", "\n\n".join(SOURCE), "Libraries spared", day, "a.example")
    copy = Document(
        "https://b.example/library", "\n\n".join(COPY), "Libraries spared", day + timedelta(hours=6), "b.example"
    )
    db = tmp_path / "w.duckdb"
    with open_warehouse(db, Settings()) as wh:
        ingest(wh, [source, copy], Settings())
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["--db", str(db), "report", copy.url, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    rows = _cells(page)
    assert [(left, right) for _, left, right in rows] == list(zip(SOURCE, COPY, strict=True))
    assert [kind for kind, _, _ in rows] == ["same", "same", "changed"]  # typography is no change
    assert "<del>rural</del>" in page and "<ins>village</ins>" in page


_WORD = st.sampled_from(
    ["the", "The", "mayor", "Mayor", "“quoted”", '"quoted"', "—", "-", "12", "12,", "bus", "town’s"]
)
_SPACE = st.sampled_from([" ", "  ", "\n", "\n\n", "\t"])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(_WORD, max_size=25))
    return draw(st.sampled_from(["", " ", "\n"])) + "".join(w + draw(_SPACE) for w in words)


@settings(max_examples=150, deadline=None)
@given(_texts(), _texts())
def test_each_column_is_exactly_its_own_text(source: str, target: str) -> None:
    left, right = word_sides(source, target)
    assert "".join(source[a:b] for _, a, b in left) == source
    assert "".join(target[a:b] for _, a, b in right) == target
    assert {op for op, _, _ in left} <= {"=", "-"} and {op for op, _, _ in right} <= {"=", "+"}
    cell_s, cell_t, changed = _diff_cells(source, target)
    assert html.unescape(re.sub(r"<[^>]+>", "", cell_s)) == source
    assert html.unescape(re.sub(r"<[^>]+>", "", cell_t)) == target
    assert changed == any(op != "=" for op, _, _ in [*left, *right])


def test_a_headline_prefix_is_cut_from_the_copys_own_title() -> None:
    """Folding changes lengths (a ligature, an ellipsis), so the added prefix is found by words in
    the copy's title, not by the source title's length."""
    source = TextView("", "Council’s ﬁnal budget spares the libraries…")
    for title, key, added in (
        ("Video: Council's final budget spares the libraries...", "prefix_added", "Video:"),
        ("Council’s ﬁnal budget spares the libraries… (updated)", "suffix_added", "(updated)"),
    ):
        [edit] = compare(source, TextView("", title)).edits
        assert edit.label == "headline_changed" and edit.detail[key] == added
