"""The commands that read: ``compare``, ``extract``, ``fingerprint``, ``matches``, ``pairs``, ``sql`` and
``stats``. None of them writes to the warehouse; each opens it read-only, if at all.

The library is imported inside each command, so that ``--help`` and ``--version`` load none of it.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reuse.cli.display import short_url
from reuse.cli.options import READ_WAIT, JsonFlag, WideFlag, warehouse_path
from reuse.cli.output import (
    cell,
    count,
    echo_json,
    echo_problems,
    fit_terminal,
    percent,
    plain,
    print_table,
    stdout,
    table_cell,
    url_cell,
)
from reuse.config import Settings
from reuse.errors import InputError, Problem, ReuseError
from reuse.models import TimePrecision
from reuse.pipeline.fingerprints import FingerprintFormat

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["compare", "extract", "fingerprint", "matches", "pairs", "register", "sql", "stats"]


def _marked_sides(text_a: str, text_b: str, plain: bool) -> tuple[Text, Text]:
    """The two texts, each in its own characters, with the words that differ marked (the word
    alignment of :func:`reuse.lineage.edits.word_sides`): words only in A struck out in red, words only
    in B in green. Without colours (not a terminal), ``[-removed-]`` and ``{+added+}`` mark them.
    """
    from rich.text import Text

    marks = {"=": ("", "", None), "-": ("[-", "-]", "red strike"), "+": ("{+", "+}", "green")}

    def side(text: str, pieces: list[tuple[str, int, int]]) -> Text:
        out = Text()
        for op, start, end in pieces:
            opening, closing, style = marks[op]
            if plain or style is None:
                out.append(f"{opening}{text[start:end]}{closing}")
            else:
                out.append(text[start:end], style=style)
        return out

    from reuse.lineage.edits import word_sides

    left, right = word_sides(text_a, text_b)
    return side(text_a, left), side(text_b, right)


def compare(
    ctx: typer.Context,
    a: Annotated[
        str, typer.Argument(metavar="A", help="A file, or a URL or doc_id in the warehouse.", show_default=False)
    ],
    b: Annotated[
        str, typer.Argument(metavar="B", help="A file, or a URL or doc_id in the warehouse.", show_default=False)
    ],
    json_out: JsonFlag = False,
) -> None:
    """Show the passages two documents share, side by side, with the words that differ marked.

    A and B are each a file (.txt, .md, .html, or the first document of a .jsonl) or a document
    in the warehouse given by its URL or doc_id, whose latest version is compared. The warehouse
    is only read, and only when A or B is not a file. Each match's similarity is how close its
    two spans are (the share of their tokens in the same order, 1.00 verbatim); the pair's
    similarity grades the whole pair, 0..1: verbatim > light edit > heavy rewrite > unrelated.
    """
    from rich.table import Table
    from rich.text import Text

    from reuse.pipeline.inspection import compare_documents

    comparison = compare_documents(a, b, Settings(), warehouse_path(ctx))
    result, text_a, text_b = comparison.result, comparison.a.text, comparison.b.text
    if json_out:
        echo_json(
            {
                "a": comparison.a.label,
                "b": comparison.b.label,
                "summary": asdict(result.summary),
                "grade": asdict(result.grade) if result.grade else None,
                "matches": [
                    {
                        "a_start": m.a.start,
                        "a_end": m.a.end,
                        "b_start": m.b.start,
                        "b_end": m.b.end,
                        "similarity": m.similarity,
                        "kind": m.kind.value,
                        "a_text": text_a[m.a.start : m.a.end],
                        "b_text": text_b[m.b.start : m.b.end],
                    }
                    for m in result.matches
                ],
            }
        )
        return
    out = stdout()
    typer.echo(f"A: {comparison.a.label}\nB: {comparison.b.label}")
    s, g = result.summary, result.grade
    graded = f"similarity {s.similarity:.2f}"
    if g is not None:
        parts = {"aligned": g.aligned, "word 5-grams": g.fivegrams, "word pairs": g.word_pairs}
        graded += " (" + ", ".join(f"{name} {value:.2f}" for name, value in parts.items() if value is not None) + ")"
    if not result.matches:
        typer.echo(f"no shared passages; {graded}")
        return
    table = Table("#", "A", "B", show_lines=True)
    for number, m in enumerate(result.matches, start=1):
        left, right = _marked_sides(text_a[m.a.start : m.a.end], text_b[m.b.start : m.b.end], plain(out))
        table.add_row(
            Text(f"{number}\n{m.kind.value}\n{m.similarity:.2f}"),
            Text.assemble((f"{m.a.start}-{m.a.end}\n", "dim"), left),
            Text.assemble((f"{m.b.start}-{m.b.end}\n", "dim"), right),
        )
    print_table(table, fit=False)  # long passages wrap in their columns
    typer.echo(
        f"{count(s.matches, 'match', 'matches')}; A covered {percent(s.coverage_a)} ({s.shared_chars_a} chars), "
        f"B covered {percent(s.coverage_b)} ({s.shared_chars_b} chars); longest run {s.longest_chars} chars; "
        f"{'in order' if s.in_order else 'not in order'}; {graded}"
    )


def extract(
    target: Annotated[
        str, typer.Argument(metavar="URL_OR_FILE", help="A page's URL, or an HTML file.", show_default=False)
    ],
    allow_private: Annotated[
        list[str] | None,
        typer.Option("--allow-private", metavar="CIDR", help="Allow fetching from this private/loopback range."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Show what the tracker reads from a page: title, dates, canonical URL, paragraphs by kind,
    credit lines and the blocks marked as boilerplate.

    A URL is fetched once under the crawler's rules (robots.txt, address policy, caps) and
    nothing is stored. "document" is the URL the page is stored under (its canonical only when on
    the same site). With --json, one object with title, published, modified, authors, site,
    language, canonical_url, document_url, paragraphs (text, kind, start, end), links, attribution and
    boilerplate.
    """
    from rich.table import Table
    from rich.text import Text

    from crawlers.addresses import parse_networks
    from crawlers.extract import article_to_dict
    from crawlers.files import read_page
    from crawlers.settings import CrawlSettings
    from reuse.pipeline.crawl import fetch_article

    if target.startswith(("http://", "https://")):
        settings = CrawlSettings(allow_private=parse_networks(allow_private or []))
        article = fetch_article(target, settings)
    else:
        article = read_page(Path(target))
    data = article_to_dict(article)
    if json_out:
        echo_json(data)
        return
    typer.echo(f"{data['title'] or '(no title)'}")
    for label, key in (("published", "published"), ("modified", "modified"), ("canonical", "canonical_url")):
        if data.get(key):
            # A date-only stamp is a day, not its midnight: say so.
            precision = TimePrecision(data.get(f"{key}_precision") or "second")
            typer.echo(f"{label}: {data[key]}" + (f" ({precision.label})" if precision.label else ""))
    if data.get("document_url"):
        # The identity rule made visible: a canonical on another site is evidence, not this page's name.
        typer.echo(f"document: {data['document_url']}")
    typer.echo(f"state: {data['state']}" + (f" ({data['reason']})" if data.get("reason") else ""))
    table = Table("kind", "text", "marked")
    for block in data["paragraphs"]:
        table.add_row(Text(block["kind"]), Text(block["text"]), Text(block.get("boilerplate") or ""))
    print_table(table, fit=False)
    for credit in data["attribution"]:
        typer.echo(f"credit: {credit['text']}")


def fingerprint(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A .txt, .md, .html or .jsonl file.", show_default=False)
    ],
    fmt: Annotated[
        FingerprintFormat, typer.Option("--format", help="jsonl, or parquet (needs --out).")
    ] = FingerprintFormat.JSONL,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="Write to FILE (whole, or not at all) instead of stdout."),
    ] = None,
) -> None:
    """Print the passages of FILE and their MinHash signatures as JSON lines, one passage a line.

    Each line is one self-contained object: source, url, position, kind, char_start, char_end,
    token_start, token_end, text, num_perm, seed and minhash (num_perm unsigned 32-bit values,
    equal to datasketch's MinHash hashvalues for the same settings). With --format parquet
    --out FILE, the same fields as the columns of a Parquet file (minhash a fixed-size list of
    uint32). Needs no warehouse. A broken line of a .jsonl file is reported on stderr and skipped.
    """
    from reuse.pipeline.fingerprints import fingerprint_sink
    from reuse.pipeline.inspection import fingerprint_file

    settings = Settings()
    with fingerprint_sink(fmt, settings, out, typer.get_binary_stream("stdout")) as sink:
        for item in fingerprint_file(file, settings):
            if isinstance(item, InputError):
                echo_problems([Problem.of(item)])
            else:
                sink.write(*item)


def matches(
    ctx: typer.Context,
    doc: Annotated[str, typer.Argument(metavar="DOC", help="A document's URL or doc_id.", show_default=False)],
    json_out: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """List what a document shares, and with whom: the matches of its latest version.

    Only the other documents' latest versions are listed. With --json, a list of objects with
    the match's span on this document (start, end, text) and on the other (other_url, other_site,
    other_doc_id, other_version, other_start, other_end, other_text), its similarity (how close the
    two spans are: the share of their tokens in the same order, 1.00 when verbatim) and kind.
    """
    from rich.table import Table
    from rich.text import Text

    from crawlers.urls import page_key
    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        found, shared = warehouse.document_matches(doc, page_key)
    if json_out:
        echo_json(shared)
        return
    others = len({row["other_doc_id"] for row in shared})
    about = f" (doc {found.doc_id}, version {found.version_id}): {count(len(shared), 'match', 'matches')}"
    about += f" with {count(others, 'document')}"
    url = short_url(found.url, max(20, stdout().width - len(about))) if fit_terminal(wide) else found.url
    typer.echo(url + about)
    if not shared:
        return
    # Fitted to a terminal, the site column goes: the shortened URL starts with the site.
    with_site = not fit_terminal(wide)
    table = Table("other document", *(["site"] if with_site else []), "here\nthere", "similarity", "kind")
    for row in shared:
        table.add_row(
            url_cell(row["other_url"], wide),
            *([Text(row["other_site"] or "")] if with_site else []),
            Text(f"{row['start']}-{row['end']}\n{row['other_start']}-{row['other_end']}"),
            Text(f"{row['similarity']:.2f}"),
            Text(row["kind"]),
        )
    print_table(table, wide=wide)


def pairs(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Show at most N pairs.")] = None,
    json_out: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """List the pairs of documents that share text, most shared first.

    For each pair: both documents, the share of each that the other also holds (coverage), the
    graded similarity (0..1: verbatim > light edit > heavy rewrite > unrelated), the number of
    matches and the longest shared run in characters. With --json, a list of objects with the
    columns of the pair_details view.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        found = warehouse.document_pairs(limit)
    if json_out:
        echo_json(found)
        return
    typer.echo(f"{count(len(found), 'pair')} of documents share text")
    if not found:
        return
    # A above B, each with the share of it the other holds: one URL column leaves room for the URLs.
    # Matches and the longest shared run share a column, and fitted to a terminal the order column
    # goes (--json and --wide keep it), so the URLs keep room on 80 columns.
    ordered = not fit_terminal(wide)
    headers = ["documents A, B", "covered", "similarity", "matches\nlongest", *(["in order"] if ordered else [])]
    table = Table(*headers, show_lines=True)
    for row in found:
        table.add_row(
            Group(url_cell(row["url_a"], wide), url_cell(row["url_b"], wide)),
            Text(f"{percent(row['coverage_a'])}\n{percent(row['coverage_b'])}"),
            Text("-" if row["similarity"] is None else f"{row['similarity']:.2f}"),
            Text(f"{row['matches']}\n{row['longest_chars']:,} chars"),
            *([Text("yes" if row["in_order"] else "no")] if ordered else []),
        )
    print_table(table, wide=wide)


def sql(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(metavar="QUERY", help="One SQL query.", show_default=False)],
    csv_out: Annotated[bool, typer.Option("--csv", help="Print CSV with a header line instead.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of objects, one per row, instead.")
    ] = False,
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", metavar="DIR", help="Query this 'export' folder instead of the warehouse."),
    ] = None,
) -> None:
    """Run a SQL query on the warehouse, opened read-only, and print the rows as a table.

    Only queries that read are run (SELECT, DESCRIBE, SHOW, EXPLAIN); COPY, EXPORT, ATTACH,
    INSTALL, LOAD, SET and the like are refused, and no other file is read or written.

    Tables: documents, versions, passages, signatures, band_keys, matches, doc_pairs, runs, meta;
    views: current_documents, match_details. In CSV and JSON, times are ISO 8601 strings and
    blobs hex strings. With --snapshot DIR, the same names are the files of a snapshot written by
    'reusetrack export', and the warehouse is not opened at all.
    """
    from rich.table import Table
    from rich.text import Text

    if csv_out and json_out:
        raise ReuseError("choose one of --csv and --json")
    from warehouse.db import open_when_free
    from warehouse.export import open_snapshot

    opened = (
        open_snapshot(snapshot)
        if snapshot is not None
        else open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT)
    )
    with opened as warehouse:
        columns, rows = warehouse.read_query(query, files=snapshot is not None)
    if json_out:
        echo_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif csv_out:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if columns:
            writer.writerow(columns)
        writer.writerows([cell(value) for value in row] for row in rows)
    elif columns:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(Text(table_cell(value)) for value in row))
        print_table(table)


def stats(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Show what the warehouse holds: table counts, runs and the fingerprint settings it uses."""
    from rich.table import Table
    from rich.text import Text

    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        info = warehouse.stats()
    if json_out:
        echo_json(info)
        return
    table = Table("table", "rows")
    for name, rows in info["tables"].items():
        table.add_row(name, Text(str(rows)))
    print_table(table)
    typer.echo(f"warehouse: {info['path']} (schema version {info['schema_version']})")
    last = info["last_run"]
    latest = (
        f"; last: run {last['run_id']} ({last['command']}) started {last['started_at']:%Y-%m-%d %H:%M:%S}"
        if last
        else ""
    )
    typer.echo(f"runs: {info['runs']}{latest}")
    settings = info["settings"]
    if settings:
        values = " ".join(f"{k}={v}" for k, v in settings.items())
        typer.echo(f"fingerprint settings ({info['fingerprint_key']}): {values}")
    else:
        typer.echo("fingerprint settings: none yet")
    owed = info["lineage_pending"]
    if owed:
        typer.echo(
            f"lineage: stale, {count(owed, 'stored version')} not in it yet (a run still going, or one killed:"
            " the next ingest, fetch or crawl brings it up to date, or 'reusetrack lineage --stale')"
        )
    elif owed == 0:
        typer.echo("lineage: up to date")


def register(app: typer.Typer) -> None:
    """Add the commands that read to ``app``."""
    for command in (compare, extract, fingerprint, matches, pairs, sql, stats):
        app.command()(command)
