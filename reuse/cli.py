"""The ``reusetrack`` command line (also ``python -m reuse``).

Each command parses its arguments, calls one library function and prints the result: tables and
lines for people, or with ``--json`` one JSON document on stdout for scripts. Progress bars and
problem lines go to stderr. Every :class:`~reuse.errors.ReuseError`, an ``OSError`` on a
path the user gave, and DuckDB's errors for a damaged warehouse file or a full disk become one
line ``Error: ...`` on stderr and exit code 1 — in :class:`_Commands` and nowhere else; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import csv
import errno
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import duckdb
import typer
from rich.console import Console, Group
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from crawlers.extract import article_to_dict
from crawlers.files import read_page
from crawlers.metadata import parse_time
from crawlers.pan13 import load_corpus
from crawlers.settings import CrawlSettings, parse_networks
from crawlers.urls import page_key
from reuse.config import Settings
from reuse.crawl_pipeline import fetch_article
from reuse.display import UrlCell, duration_text, short_url
from reuse.edits import word_sides
from reuse.errors import InputError, ReuseError
from reuse.inspection import compare_documents, fingerprint_file
from reuse.lineage_truth_eval import evaluate_lineage
from reuse.models import TimePrecision
from reuse.pan13_eval import evaluate_pan13_fresh
from reuse.pipeline import Problem, ingest_files, load_snapshot, reusetrack_version
from reuse.spark_pipeline import spark_ingest
from warehouse.db import open_when_free
from warehouse.export import ExportFormat, export_warehouse, open_snapshot

__all__ = ["app"]

DEFAULT_DB = Path("reusetrack.duckdb")
#: Seconds a reading command waits while a crawl commits a batch (it holds the file about a second).
READ_WAIT = 15.0


class _Commands(TyperGroup):
    """The command group that turns user errors into one ``Error:`` line and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader of stdout went away (``| head``): stop quietly, as other tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except (ReuseError, OSError) as err:
            typer.echo(f"Error: {_disk_full_line(err) or _error_line(err)}", err=True)
            raise typer.Exit(1) from None
        except duckdb.Error as err:
            # Reading a damaged warehouse or writing to a full disk fails deep inside DuckDB, in
            # any command; what was committed stays in the file (or its WAL), so one line is enough.
            line = _disk_full_line(err) or _damaged_line(err, _db(ctx))
            if line is None:
                raise  # anything else DuckDB raises is a bug in reusetrack: keep the traceback
            typer.echo(f"Error: {line}", err=True)
            raise typer.Exit(1) from None


def _error_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        return f"{err.filename}: {err.strerror}" if err.filename else err.strerror
    return " ".join(line.strip() for line in str(err).strip().splitlines()) or type(err).__name__


#: What the OS says when a write does not fit: no space, over quota, or over the file size limit.
_NO_ROOM = {errno.ENOSPC: "No space left on device", errno.EDQUOT: "Disk quota exceeded", errno.EFBIG: "File too large"}


def _disk_full_line(err: BaseException) -> str | None:
    """The error line for a write that did not fit on the disk, or None for any other error."""
    message = _error_line(err)
    if not (isinstance(err, OSError) and err.errno in _NO_ROOM) and not any(s in message for s in _NO_ROOM.values()):
        return None
    return f"the disk is full ({message}): free some space and run again; nothing committed before was lost"


#: What DuckDB says of a file cut short or overwritten.
_DAMAGED = ("Corrupt database", "Could not read enough bytes", "not a valid DuckDB database")
#: What DuckDB says when a commit cannot write the file or its WAL (a read-only folder or disk).
_UNWRITABLE = ("Permission denied", "Read-only file system", "Cannot open file", "Could not write file")


def _damaged_line(err: duckdb.Error, db: Path) -> str | None:
    """The error line for a warehouse file DuckDB cannot read or write (truncated, corrupt, no
    permission), or None for any other DuckDB error."""
    message = _error_line(err)
    if any(s in message for s in _DAMAGED):
        return f"the warehouse {db} is damaged ({message}); restore it from a copy or an export snapshot"
    if isinstance(err, duckdb.IOException | duckdb.FatalException) or any(s in message for s in _UNWRITABLE):
        return f"cannot read or write the warehouse {db} ({message})"
    return None


app = typer.Typer(
    cls=_Commands,
    name="reusetrack",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
eval_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Measure detection quality on a standard corpus."
)
app.add_typer(eval_app, name="eval")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead.")]
WideFlag = Annotated[
    bool, typer.Option("--wide", help="Show whole URLs, however wide the lines get (default on a terminal: fit it).")
]


@dataclass(frozen=True)
class _Options:
    db: Path


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reusetrack {reusetrack_version()}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        Path,
        typer.Option(
            "--db",
            envvar="REUSETRACK_DB",
            help="The warehouse file (default: reusetrack.duckdb in the working directory).",
            show_default=False,
        ),
    ] = DEFAULT_DB,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Find reused text across documents, verified to the character, and keep it in a DuckDB warehouse."""
    ctx.obj = _Options(db=db)


def _db(ctx: typer.Context) -> Path:
    options = ctx.find_object(_Options)
    return options.db if options else DEFAULT_DB


# -- output helpers ------------------------------------------------------------------------------


def _stdout() -> Console:
    return Console(highlight=False)


def _fit_terminal(wide: bool) -> bool:
    """Whether human output is fitted to the terminal's width: on a terminal, unless ``--wide``.
    Written to a pipe or a file it is as wide as it needs, so no program reading it loses a cell."""
    return not wide and _stdout().is_terminal


def _url_cell(url: str, wide: bool) -> Text | UrlCell:
    """A table cell for ``url``: whole, or fitted to its column as the site and a short path."""
    return UrlCell(url) if _fit_terminal(wide) else Text(url)


def _print_table(table: Table, *, fit: bool = True, wide: bool = False) -> None:
    """Print ``table`` on stdout; when ``fit`` and stdout is not a terminal (or ``wide``), as wide as it
    needs, so that no cell is clipped for the program or file that reads it."""
    console = _stdout()
    if fit and not _fit_terminal(wide):
        unbounded = Measurement.get(console, console.options.update_width(1 << 16), table)
        console.width = max(console.width, unbounded.maximum)
    console.print(table)


def _plain(console: Console) -> bool:
    """Whether styles are lost on this console, so differences need text markers instead."""
    return not console.is_terminal or console.no_color


@contextmanager
def _progress(description: str, total: int | None = None) -> Iterator[Callable[[str], None]]:
    """A transient progress bar on stderr (only on a terminal); yields the hook that advances it."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda _source: progress.advance(task)


class _Stop(threading.Event):
    """Set by Ctrl-C or SIGTERM; ``signum`` is the signal that set it."""

    signum: int | None = None


@contextmanager
def _stop_on_signals() -> Iterator[_Stop]:
    """An event set by Ctrl-C or SIGTERM for the body's duration: crawls, the pauses between
    scheduled runs and ingests watch it and end cleanly instead of being killed mid-batch."""
    event = _Stop()

    def handler(signum: int, _frame: object) -> None:
        event.signum = signum
        event.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield event
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _jsonable(value: Any) -> Any:
    """``value`` with every DuckDB result type made JSON-ready: times as ISO strings, blobs as hex."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(_jsonable(value), ensure_ascii=False, indent=2))


def _cell(value: Any) -> str:
    """One value as a table or CSV cell."""
    value = _jsonable(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _table_cell(value: Any) -> str:
    """One value as a table cell for people: a duration as ``21h 44m``, not seconds; else :func:`_cell`."""
    if isinstance(value, timedelta):
        return ("-" if value < timedelta(0) else "") + duration_text(value.total_seconds())
    return _cell(value)


def _tell(line: str) -> None:
    """One line for the user on stderr (what the command is waiting for, and the like)."""
    typer.echo(line, err=True)


def _echo_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        typer.echo(str(problem), err=True)


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


# -- commands ------------------------------------------------------------------------------------


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Files and folders to read.", show_default=False)],
    site: Annotated[
        str | None, typer.Option("--site", metavar="SITE", help="The site of documents that name none.")
    ] = None,
    published: Annotated[
        str | None,
        typer.Option("--published", metavar="DATE", help="The publication date of documents that give none."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Read documents, store them and find what they share with everything already stored.

    Reads .txt, .md, .html and .jsonl files (JSON Lines with url, title, published, text and
    site fields; .jsonl.gz too, streamed a line at a time) and web archives (.warc, .warc.gz,
    .arc, .arc.gz: each HTML response record is a page, its WARC-Date the time it was first
    seen); folders are read recursively (their hidden files and folders are not). Each item
    that cannot be used is reported on one line of stderr (skipped: SOURCE: REASON, or failed:
    ...) and the rest goes on; the run ends with its counts. Exit code 0 when at least one
    document was read (stored, or found unchanged); 1 when a path does not exist, no input file
    is found, or not one item could be read. Ctrl-C or SIGTERM stops the reading: what was read
    is stored, the counts are printed, and the exit code is 130 (143 for SIGTERM).

    A .txt or .md file may start with a front matter: a line ---, lines url:, title:, site:
    and published: (each optional), and a line ---. What a document gives itself (front matter,
    JSONL fields, the page, its URL's host) comes first; --site and --published fill in the
    documents that give none.
    """
    date = parse_time(published) if published else None
    if published and date is None:
        raise ReuseError(f"--published: not a date: {published!r} (use e.g. 2021-03-01 or 2021-03-01T10:00:00Z)")
    with _stop_on_signals() as stop, _progress("ingesting") as advance:
        report = ingest_files(
            _db(ctx), paths, Settings(), progress=advance, stop=stop, on_wait=_tell, site=site, published=date
        )
    interrupted = stop.signum if report.interrupted else None
    if json_out:
        problems = [asdict(p) for p in report.problems]
        _echo_json(
            {
                "run_id": report.run_id,
                **report.counts(),
                "interrupted": interrupted is not None,
                "seconds": report.clock.rounded(),
                "problems": problems,
            }
        )
    else:
        _echo_problems(report.problems)
        typer.echo(
            f"ingested {report.ingested}, unchanged {report.unchanged}, skipped {report.skipped}, "
            f"failed {report.failed}; {_count(report.passages, 'passage')}, "
            f"{_count(report.matches, 'match', 'matches')} in {_count(report.pairs, 'document pair')} "
            f"(run {report.run_id})"
        )
    if interrupted is not None:
        typer.echo(
            f"interrupted by {signal.Signals(interrupted).name}: the documents counted above are stored; "
            "run the same ingest again to read the rest",
            err=True,
        )
        raise typer.Exit(128 + interrupted)
    if not report.read:
        raise ReuseError(f"none of the {report.skipped + report.failed} input items could be read")


def _word_diff(text_a: str, text_b: str, plain: bool) -> tuple[Text, Text]:
    """The two texts, each in its own characters, with the words that differ marked (the word
    alignment of :func:`reuse.edits.word_sides`): words only in A struck out in red, words only
    in B in green. Without colours (not a terminal), ``[-removed-]`` and ``{+added+}`` mark them.
    """
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

    left, right = word_sides(text_a, text_b)
    return side(text_a, left), side(text_b, right)


@app.command()
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
    is only read, and only when A or B is not a file.
    """
    comparison = compare_documents(a, b, Settings(), _db(ctx))
    result, text_a, text_b = comparison.result, comparison.a.text, comparison.b.text
    if json_out:
        _echo_json(
            {
                "a": comparison.a.label,
                "b": comparison.b.label,
                "summary": asdict(result.summary),
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
    out = _stdout()
    typer.echo(f"A: {comparison.a.label}\nB: {comparison.b.label}")
    s = result.summary
    if not result.matches:
        typer.echo("no shared passages")
        return
    table = Table("#", "A", "B", show_lines=True)
    for number, m in enumerate(result.matches, start=1):
        left, right = _word_diff(text_a[m.a.start : m.a.end], text_b[m.b.start : m.b.end], _plain(out))
        table.add_row(
            Text(f"{number}\n{m.kind.value}\n{m.similarity:.2f}"),
            Text.assemble((f"{m.a.start}-{m.a.end}\n", "dim"), left),
            Text.assemble((f"{m.b.start}-{m.b.end}\n", "dim"), right),
        )
    _print_table(table, fit=False)  # long passages wrap in their columns
    typer.echo(
        f"{_count(s.matches, 'match', 'matches')}; A covered {_percent(s.coverage_a)} ({s.shared_chars_a} chars), "
        f"B covered {_percent(s.coverage_b)} ({s.shared_chars_b} chars); longest run {s.longest_chars} chars; "
        f"{'in order' if s.in_order else 'not in order'}"
    )


@app.command()
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
    if target.startswith(("http://", "https://")):
        settings = CrawlSettings(allow_private=parse_networks(allow_private or []))
        article = fetch_article(target, settings)
    else:
        article = read_page(Path(target))
    data = article_to_dict(article)
    if json_out:
        _echo_json(data)
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
    _print_table(table, fit=False)
    for credit in data["attribution"]:
        typer.echo(f"credit: {credit['text']}")


@app.command()
def fingerprint(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A .txt, .md, .html or .jsonl file.", show_default=False)
    ],
) -> None:
    """Print the passages of FILE and their MinHash signatures as JSON lines, one passage a line.

    Each line is one self-contained object: source, url, position, kind, char_start, char_end,
    token_start, token_end, text, num_perm, seed and minhash (num_perm unsigned 32-bit values,
    equal to datasketch's MinHash hashvalues for the same settings). Needs no warehouse. A broken
    line of a .jsonl file is reported on stderr and skipped.
    """
    for record in fingerprint_file(file, Settings()):
        if isinstance(record, InputError):
            _echo_problems([Problem.of(record)])
        else:
            typer.echo(json.dumps(record, ensure_ascii=False))


@app.command()
def matches(
    ctx: typer.Context,
    doc: Annotated[str, typer.Argument(metavar="DOC", help="A document's URL or doc_id.", show_default=False)],
    json_out: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """List what a document shares, and with whom: the matches of its latest version.

    Only the other documents' latest versions are listed. With --json, a list of objects with
    the match's span on this document (start, end, text) and on the other (other_url, other_site,
    other_doc_id, other_version, other_start, other_end, other_text), its similarity and kind.
    """
    with open_when_free(_db(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        found, shared = warehouse.document_matches(doc, page_key)
    if json_out:
        _echo_json(shared)
        return
    others = len({row["other_doc_id"] for row in shared})
    about = f" (doc {found.doc_id}, version {found.version_id}): {_count(len(shared), 'match', 'matches')}"
    about += f" with {_count(others, 'document')}"
    url = short_url(found.url, max(20, _stdout().width - len(about))) if _fit_terminal(wide) else found.url
    typer.echo(url + about)
    if not shared:
        return
    # Fitted to a terminal, the site column goes: the shortened URL starts with the site.
    with_site = not _fit_terminal(wide)
    table = Table("other document", *(["site"] if with_site else []), "here\nthere", "similarity", "kind")
    for row in shared:
        table.add_row(
            _url_cell(row["other_url"], wide),
            *([Text(row["other_site"] or "")] if with_site else []),
            Text(f"{row['start']}-{row['end']}\n{row['other_start']}-{row['other_end']}"),
            Text(f"{row['similarity']:.2f}"),
            Text(row["kind"]),
        )
    _print_table(table, wide=wide)


@app.command()
def pairs(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Show at most N pairs.")] = None,
    json_out: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """List the pairs of documents that share text, most shared first.

    For each pair: both documents, the share of each that the other also holds (coverage), the
    number of matches and the longest shared run in characters. With --json, a list of objects
    with the columns of the pair_details view.
    """
    with open_when_free(_db(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        found = warehouse.document_pairs(limit)
    if json_out:
        _echo_json(found)
        return
    typer.echo(f"{_count(len(found), 'pair')} of documents share text")
    if not found:
        return
    # A above B, each with the share of it the other holds: one URL column leaves room for the URLs.
    table = Table("documents A, B", "covered", "matches", "longest", "order kept", show_lines=True)
    for row in found:
        table.add_row(
            Group(_url_cell(row["url_a"], wide), _url_cell(row["url_b"], wide)),
            Text(f"{_percent(row['coverage_a'])}\n{_percent(row['coverage_b'])}"),
            Text(str(row["matches"])),
            Text(f"{row['longest_chars']:,} chars"),
            Text("yes" if row["in_order"] else "no"),
        )
    _print_table(table, wide=wide)


@app.command()
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
    if csv_out and json_out:
        raise ReuseError("choose one of --csv and --json")
    opened = (
        open_snapshot(snapshot) if snapshot is not None else open_when_free(_db(ctx), read_only=True, wait=READ_WAIT)
    )
    with opened as warehouse:
        columns, rows = warehouse.read_query(query, files=snapshot is not None)
    if json_out:
        _echo_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif csv_out:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if columns:
            writer.writerow(columns)
        writer.writerows([_cell(value) for value in row] for row in rows)
    elif columns:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(Text(_table_cell(value)) for value in row))
        _print_table(table)


@app.command()
def export(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="A new or empty folder to write.", show_default=False)
    ],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="File format of the tables.")] = ExportFormat.PARQUET,
    json_out: JsonFlag = False,
) -> None:
    """Write every table and view of the warehouse into DIR as one consistent snapshot.

    One file per table or view (NAME.parquet, NAME.csv or NAME.jsonl) and manifest.json with
    the row counts, column types, schema version, settings, reusetrack version and export time.
    The warehouse is read in one read-only transaction. DIR must not exist or be empty. With
    --json, the manifest is printed.
    """
    manifest = export_warehouse(_db(ctx), out, fmt, version=reusetrack_version(), wait=READ_WAIT)
    if json_out:
        _echo_json(manifest)
        return
    tables = manifest["tables"]
    rows = sum(entry["rows"] for entry in tables.values())
    typer.echo(f"exported {len(tables)} tables and views, {_count(rows, 'row')}, as {fmt} to {out}")


@app.command()
def spark(
    inputs: Annotated[
        list[Path], typer.Argument(metavar="INPUT", help="Files and folders to read.", show_default=False)
    ],
    out: Annotated[
        str,
        typer.Option("--out", metavar="DIR", help="A new or empty folder (or hdfs://, s3a://...).", show_default=False),
    ],
    master: Annotated[
        str | None,
        typer.Option("--master", metavar="URL", help="Spark master (default: spark-submit's, else local[*])."),
    ] = None,
    partitions: Annotated[
        int | None, typer.Option("--partitions", min=1, help="Partitions per stage (default: Spark's parallelism).")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Run ingest's stages as Spark jobs and write Parquet in the warehouse's table layout to DIR.

    Needs the spark extra (pip install "reusetrack[spark]") and Java 17 or newer. Reads what
    ingest reads, cuts passages, fingerprints them, finds candidate pairs by joining band keys,
    verifies and aligns them, and writes one Parquet folder per table (documents, versions,
    passages, signatures, band_keys, matches, doc_pairs, runs, blocks, version_meta, links,
    credits) and manifest.json; 'reusetrack load DIR' then brings it into a warehouse. A URL read
    twice keeps its last copy. The input paths must be readable by every executor at the same
    path. One line per unusable item on stderr, then the counts and each stage's time; with
    --json, one object with the counts, problems and stages.
    """
    report = spark_ingest(inputs, out, Settings(), master=master, partitions=partitions)
    if json_out:
        _echo_json(
            {
                **report.counts(),
                "out": report.out,
                "problems": [asdict(p) for p in report.problems],
                "stages": report.stages,
            }
        )
    else:
        _echo_problems(report.problems)
        typer.echo(
            f"read {_count(report.documents, 'document')} (skipped {report.skipped}, "
            f"failed {report.failed}); {_count(report.passages, 'passage')}, "
            f"{_count(report.candidates, 'candidate pair')}, {_count(report.matches, 'match', 'matches')} in "
            f"{_count(report.pairs, 'document pair')}; wrote {report.out}"
        )
        typer.echo("stages: " + ", ".join(f"{name} {entry['seconds']:.1f} s" for name, entry in report.stages.items()))
    if not report.documents:
        raise ReuseError(f"none of the {report.skipped + report.failed} input items could be read")


@app.command()
def load(
    ctx: typer.Context,
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="The output of 'reusetrack spark', or an 'export' snapshot.", show_default=False
        ),
    ],
    json_out: JsonFlag = False,
) -> None:
    """Load the output of 'reusetrack spark', or a snapshot written by 'export', into the warehouse.

    The warehouse (--db) must be new or empty: one holding any row is refused. It takes the
    fingerprint settings recorded in DIR's manifest.json; a warehouse set up with other settings,
    or a snapshot of a newer schema, is refused. Every table is loaded in one transaction; for
    Spark output the lineage (stories, reuse edges, edits) is then built, as ingest builds it, so
    matches, pairs, lineage, stories, sites, report and sql work on the result. With --json, the
    rows loaded per table.
    """
    loaded = load_snapshot(_db(ctx), folder, on_wait=_tell)
    if json_out:
        _echo_json(loaded)
        return
    typer.echo(
        f"loaded {_count(sum(loaded.values()), 'row')} into {_count(len(loaded), 'table')} of {_db(ctx)}: "
        f"{_count(loaded.get('documents', 0), 'document')}, {_count(loaded.get('matches', 0), 'match', 'matches')}"
    )


@app.command()
def stats(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Show what the warehouse holds: table counts, runs and the fingerprint settings it uses."""
    with open_when_free(_db(ctx), read_only=True, wait=READ_WAIT) as warehouse:
        info = warehouse.stats()
    if json_out:
        _echo_json(info)
        return
    table = Table("table", "rows")
    for name, count in info["tables"].items():
        table.add_row(name, Text(str(count)))
    _print_table(table)
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
            f"lineage: stale, {_count(owed, 'stored version')} not in it yet (a run still going, or one killed:"
            " the next ingest, fetch or crawl brings it up to date, or 'reusetrack lineage --stale')"
        )
    elif owed == 0:
        typer.echo("lineage: up to date")


@eval_app.command("pan13")
def eval_pan13(
    corpus_dir: Annotated[
        Path,
        typer.Argument(metavar="CORPUS_DIR", help="The PAN 2013 text-alignment corpus folder.", show_default=False),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the detections as PAN XML files to this folder.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Use only the first N pairs of each category.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Score reusetrack on a PAN 2013 text-alignment corpus, in corpus mode.

    Every document is ingested into a fresh temporary warehouse (not --db), matched as any
    corpus is, and the matches inside the listed pairs are scored: plagdet, precision, recall,
    granularity and pair recall per category and for the entire corpus, with the wall time and
    peak memory. --json prints one object keyed by category folder name and "entire", each with
    plagdet, precision, recall, granularity and pair_recall, plus seconds and peak_rss_mb.
    """
    corpus = load_corpus(corpus_dir, limit=limit)
    with _progress("pan13", len(corpus.sources) + len(corpus.suspicious)) as advance:
        result = evaluate_pan13_fresh(corpus, Settings(), out=out, progress=advance)
    _echo_problems(result.report.problems)  # on stderr, so also with --json
    if json_out:
        _echo_json(result.scores())
        return
    table = Table("category", "plagdet", "precision", "recall", "granularity", "pair recall", "cases", "detections")
    for name, row in result.rows.items():
        sc = row.scores
        table.add_row(
            name,
            *(Text(f"{v:.3f}") for v in (sc.plagdet, sc.precision, sc.recall, sc.granularity)),
            Text("-" if row.pair_recall is None else f"{row.pair_recall:.3f}"),
            Text(str(sc.cases)),
            Text(str(sc.detections)),
        )
    _print_table(table)
    report = result.report
    typer.echo(
        f"{_count(report.ingested, 'document')}, {_count(report.matches, 'match', 'matches')}; "
        f"{result.seconds:.1f} s, peak RSS {result.peak_rss_mb:.0f} MB"
    )
    if out is not None:
        typer.echo(f"detections written to {out}")


@eval_app.command("lineage")
def eval_lineage(
    seed: Annotated[int, typer.Option("--seed", help="The generated world's random seed.")] = 1,
    stories: Annotated[int, typer.Option("--stories", min=1, help="How many stories to generate.")] = 40,
    sites: Annotated[int, typer.Option("--sites", min=5, help="How many sites to generate.")] = 8,
    json_out: JsonFlag = False,
) -> None:
    """Score lineage on generated news whose truth is known.

    Sites with their own templates and articles, and stories of an original and its copies
    (after minutes to days; credited by a credit line, a URL, a cross-site canonical, a link, or
    not at all; edited; dated to the second, to the day, or not at all; some with AMP twins) are
    written as a web archive and ingested into a fresh temporary warehouse (not --db). Reported:
    each copy's found source (correct, an ancestor, undecided, wrong or reversed), story
    membership (pair precision and recall), credit accuracy, identity (syndicated copies kept,
    aliases merged) and edit labels found. --json prints those figures as one object.
    """
    with _progress("lineage eval") as advance:
        scores, report, seconds = evaluate_lineage(seed, stories=stories, sites=sites, progress=advance)
    _echo_problems(report.problems)
    figures = {**scores.to_dict(), "seconds": round(seconds, 3)}
    if json_out:
        _echo_json(figures)
        return
    direction, membership = figures["direction"], figures["membership"]
    typer.echo(
        f"{_count(figures['copies'], 'copy', 'copies')} in {_count(stories, 'story', 'stories')}:"
        + "".join(f" {direction[k]} {k}," for k in ("correct", "ancestor", "undecided", "wrong", "reversed"))
        + f" accuracy {_percent(direction['accuracy'])}"
    )
    for url in direction["reversed_pages"]:
        typer.echo(f"  reversed: {url}")
    typer.echo(
        f"membership: pair precision {_percent(membership['pair_precision'])},"
        f" recall {_percent(membership['pair_recall'])};"
        f" {membership['background_in_story']} unrelated articles in a story"
    )
    credit, identity = figures["credit"], figures["identity"]
    typer.echo(f"credit: {_percent(credit['accuracy'])} of {credit['judged']} copies under their true source")
    for line in credit["wrong"]:
        typer.echo(f"  {line}")
    typer.echo(
        f"identity: {identity['syndicated_kept']}/{identity['syndicated']} syndicated copies kept apart,"
        f" {identity['aliases_merged']}/{identity['aliases']} aliases merged"
    )
    edits = ", ".join(f"{label} {v['found']}/{v['true']}" for label, v in figures["edits"].items())
    typer.echo(f"edit labels found: {edits}; {seconds:.1f} s")


# The crawler's commands (fetch, crawl, status) live in their own module and use the helpers
# above, so they are registered last.
from reuse import crawl_cli  # noqa: E402

crawl_cli.register(app)

# The lineage commands (lineage, stories, sites, report), likewise.
from reuse import lineage_cli  # noqa: E402

lineage_cli.register(app)
