"""The commands that write: ``ingest`` (files and web archives into the warehouse), ``export`` (a
snapshot of it), ``spark`` (ingest's stages as Spark jobs) and ``load`` (a snapshot or Spark output
into a new warehouse).

Each parses its arguments, calls one library function and prints the result; the library is
imported inside the command, so that ``--help`` and ``--version`` load none of it.
"""

from __future__ import annotations

import signal
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from reuse import reusetrack_version
from reuse.cli.options import READ_WAIT, JsonFlag, stop_on_signals, warehouse_path
from reuse.cli.output import count, echo_json, echo_problems, progress, tell
from reuse.config import Settings
from reuse.errors import ReuseError
from warehouse.manifest import ExportFormat

__all__ = ["export", "ingest", "load", "register", "spark"]


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
    from crawlers.dates import parse_time
    from reuse.pipeline.ingest import ingest_files

    date = parse_time(published) if published else None
    if published and date is None:
        raise ReuseError(f"--published: not a date: {published!r} (use e.g. 2021-03-01 or 2021-03-01T10:00:00Z)")
    with stop_on_signals() as stop, progress("ingesting") as advance:
        report = ingest_files(
            warehouse_path(ctx), paths, Settings(), progress=advance, stop=stop, on_wait=tell, site=site, published=date
        )
    interrupted = stop.signum if report.interrupted else None
    if json_out:
        problems = [asdict(p) for p in report.problems]
        echo_json(
            {
                "run_id": report.run_id,
                **report.counts(),
                "interrupted": interrupted is not None,
                "seconds": report.clock.rounded(),
                "problems": problems,
            }
        )
    else:
        echo_problems(report.problems)
        typer.echo(
            f"ingested {report.ingested}, unchanged {report.unchanged}, skipped {report.skipped}, "
            f"failed {report.failed}; {count(report.passages, 'passage')}, "
            f"{count(report.matches, 'match', 'matches')} in {count(report.pairs, 'document pair')} "
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
    from warehouse.export import export_warehouse

    manifest = export_warehouse(warehouse_path(ctx), out, fmt, version=reusetrack_version(), wait=READ_WAIT)
    if json_out:
        echo_json(manifest.to_dict())
        return
    tables = manifest.tables
    rows = sum(entry.rows for entry in tables.values())
    typer.echo(f"exported {len(tables)} tables and views, {count(rows, 'row')}, as {fmt} to {out}")


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
    ship: Annotated[
        bool, typer.Option("--ship", help="Build reusetrack's wheel (maturin) and send it to the executors.")
    ] = False,
    wheel: Annotated[
        Path | None,
        typer.Option("--wheel", metavar="FILE", help="Send this built reusetrack wheel to the executors."),
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
    path. Executors need reusetrack's dependencies; reusetrack itself may come from the driver
    with --ship or --wheel FILE. One line per unusable item on stderr, then the counts and each
    stage's time; with --json, one object with the counts, problems and stages.
    """
    from reuse.pipeline.spark import spark_ingest

    report = spark_ingest(inputs, out, Settings(), master=master, partitions=partitions, ship=wheel or ship)
    if json_out:
        echo_json(
            {
                **report.counts(),
                "out": report.out,
                "problems": [asdict(p) for p in report.problems],
                "stages": report.stages,
            }
        )
    else:
        echo_problems(report.problems)
        typer.echo(
            f"read {count(report.documents, 'document')} (skipped {report.skipped}, "
            f"failed {report.failed}); {count(report.passages, 'passage')}, "
            f"{count(report.candidates, 'candidate pair')}, {count(report.matches, 'match', 'matches')} in "
            f"{count(report.pairs, 'document pair')}; wrote {report.out}"
        )
        typer.echo("stages: " + ", ".join(f"{name} {entry['seconds']:.1f} s" for name, entry in report.stages.items()))
    if not report.documents:
        raise ReuseError(f"none of the {report.skipped + report.failed} input items could be read")


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
    from reuse.pipeline.ingest import load_snapshot

    loaded = load_snapshot(warehouse_path(ctx), folder, on_wait=tell)
    if json_out:
        echo_json(loaded)
        return
    typer.echo(
        f"loaded {count(sum(loaded.values()), 'row')} into {count(len(loaded), 'table')} of {warehouse_path(ctx)}: "
        f"{count(loaded.get('documents', 0), 'document')}, {count(loaded.get('matches', 0), 'match', 'matches')}"
    )


def register(app: typer.Typer) -> None:
    """Add the commands that write to ``app``."""
    for command in (ingest, export, spark, load):
        app.command()(command)
