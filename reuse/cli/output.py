"""How commands print: tables fitted to the terminal (or whole for a pipe), JSON for scripts, progress
bars and problem lines on stderr."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import typer

from reuse.cli.display import UrlCell, duration_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from reuse.errors import Problem

__all__ = [
    "cell",
    "count",
    "echo_json",
    "echo_problems",
    "fit_terminal",
    "json_text",
    "jsonable",
    "percent",
    "plain",
    "print_table",
    "progress",
    "stdout",
    "table_cell",
    "tell",
    "url_cell",
]


def stdout() -> Console:
    """A console on stdout, without rich's guesses at highlighting numbers and URLs."""
    from rich.console import Console

    return Console(highlight=False)


def fit_terminal(wide: bool) -> bool:
    """Whether human output is fitted to the terminal's width: on a terminal, unless ``--wide``.
    Written to a pipe or a file it is as wide as it needs, so no program reading it loses a cell."""
    return not wide and stdout().is_terminal


def url_cell(url: str, wide: bool) -> Text | UrlCell:
    """A table cell for ``url``: whole, or fitted to its column as the site and a short path."""
    from rich.text import Text

    return UrlCell(url) if fit_terminal(wide) else Text(url)


def print_table(table: Table, *, fit: bool = True, wide: bool = False) -> None:
    """Print ``table`` on stdout; when ``fit`` and stdout is not a terminal (or ``wide``), as wide as it
    needs, so that no cell is clipped for the program or file that reads it."""
    from rich.measure import Measurement

    console = stdout()
    if fit and not fit_terminal(wide):
        unbounded = Measurement.get(console, console.options.update_width(1 << 16), table)
        console.width = max(console.width, unbounded.maximum)
    console.print(table)


def plain(console: Console) -> bool:
    """Whether styles are lost on this console, so differences need text markers instead."""
    return not console.is_terminal or console.no_color


#: Environment variables that make rich treat a stream that is not a terminal as one.
_FORCED_TERMINAL = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[[str], None]]:
    """A transient progress bar on stderr (only on a terminal); yields the hook that advances it."""
    terminal = sys.stderr is not None and sys.stderr.isatty()
    if not terminal and not any(os.environ.get(name) for name in _FORCED_TERMINAL):
        # No bar would be drawn: a scheduled or scripted run does not load rich for it.
        yield lambda _source: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


def jsonable(value: Any) -> Any:
    """``value`` with every DuckDB result type made JSON-ready: times as ISO strings, blobs as hex."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
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


def json_text(value: Any) -> str:
    """``value`` as one indented JSON document: what ``--json`` prints and ``serve``'s API answers."""
    return json.dumps(jsonable(value), ensure_ascii=False, indent=2)


def echo_json(value: Any) -> None:
    """Print ``value`` as one indented JSON document on stdout."""
    typer.echo(json_text(value))


def cell(value: Any) -> str:
    """One value as a table or CSV cell."""
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def table_cell(value: Any) -> str:
    """One value as a table cell for people: a duration as ``21h 44m``, not seconds; else :func:`cell`."""
    if isinstance(value, timedelta):
        return ("-" if value < timedelta(0) else "") + duration_text(value.total_seconds())
    return cell(value)


def tell(line: str) -> None:
    """One line for the user on stderr (what the command is waiting for, and the like)."""
    typer.echo(line, err=True)


def echo_problems(problems: Sequence[Problem]) -> None:
    """One line on stderr per input item a run could not use."""
    for problem in problems:
        typer.echo(str(problem), err=True)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` with its noun in the singular or plural: ``1 match``, ``3 matches``."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def percent(share: float | None) -> str:
    """A share as a percentage with one decimal, ``-`` when unknown."""
    return "-" if share is None else f"{share:.1%}"
