"""What every command shares: the warehouse path (``--db``), the ``--json`` and ``--wide`` flags,
and the stop signal that Ctrl-C or SIGTERM sets for long runs."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["DEFAULT_DB", "READ_WAIT", "JsonFlag", "Options", "Stop", "WideFlag", "stop_on_signals", "warehouse_path"]

DEFAULT_DB = Path("reusetrack.duckdb")
#: Seconds a reading command waits while a crawl commits a batch (it holds the file about a second).
READ_WAIT = 15.0

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead.")]
WideFlag = Annotated[
    bool, typer.Option("--wide", help="Show whole URLs, however wide the lines get (default on a terminal: fit it).")
]


@dataclass(frozen=True)
class Options:
    db: Path


def warehouse_path(ctx: typer.Context) -> Path:
    options = ctx.find_object(Options)
    return options.db if options else DEFAULT_DB


class Stop(threading.Event):
    """Set by Ctrl-C or SIGTERM; ``signum`` is the signal that set it."""

    signum: int | None = None


@contextmanager
def stop_on_signals() -> Iterator[Stop]:
    """An event set by Ctrl-C or SIGTERM for the body's duration: crawls, the pauses between
    scheduled runs and ingests watch it and end cleanly instead of being killed mid-batch."""
    event = Stop()

    def handler(signum: int, _frame: object) -> None:
        event.signum = signum
        event.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield event
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
