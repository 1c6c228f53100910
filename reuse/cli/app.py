"""The ``reusetrack`` command line (also ``python -m reuse``): the app, its global options, and its
commands, each group from its own module.

Each command parses its arguments, calls one library function and prints the result: tables and
lines for people, or with ``--json`` one JSON document on stdout for scripts. Progress bars and
problem lines go to stderr. User errors become one ``Error: ...`` line in :mod:`reuse.cli.guard`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reuse import reusetrack_version
from reuse.cli import crawl, evaluate, ingest, lineage, query, serve, watch
from reuse.cli.guard import Commands
from reuse.cli.options import DEFAULT_DB, Options

__all__ = ["app"]

app = typer.Typer(
    cls=Commands,
    name="reusetrack",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


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
    ctx.obj = Options(db=db)


# The order of the help's command list: writing, reading, evaluating, crawling, lineage, watching,
# browsing.
for group in (ingest, query, evaluate, crawl, lineage, watch, serve):
    group.register(app)
