"""The command group every ``reusetrack`` command runs in, and the one place user errors become lines.

Every :class:`~reuse.errors.ReuseError`, an ``OSError`` on a path the user gave, and DuckDB's errors
for a damaged warehouse file or a full disk become one line ``Error: ...`` on stderr and exit code 1
— in :class:`Commands` and nowhere else; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from reuse.cli.options import warehouse_path
from reuse.errors import ReuseError

__all__ = ["Commands"]


class Commands(TyperGroup):
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
        except Exception as err:
            # Reading a damaged warehouse or writing to a full disk fails deep inside DuckDB, in
            # any command; what was committed stays in the file (or its WAL), so one line is enough.
            # DuckDB is looked up, not imported: a command that never loaded it raised no DuckDB error,
            # and ``--version`` or ``--help`` must not pay for loading it.
            duckdb = sys.modules.get("duckdb")
            if duckdb is None or not isinstance(err, duckdb.Error):
                raise
            line = _disk_full_line(err) or _damaged_line(err, warehouse_path(ctx))
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


def _damaged_line(err: Exception, db: Path) -> str | None:
    """The error line for a warehouse file DuckDB cannot read or write (truncated, corrupt, no
    permission), or None for any other DuckDB error."""
    message = _error_line(err)
    if any(s in message for s in _DAMAGED):
        return f"the warehouse {db} is damaged ({message}); restore it from a copy or an export snapshot"
    duckdb = sys.modules["duckdb"]
    if isinstance(err, duckdb.IOException | duckdb.FatalException) or any(s in message for s in _UNWRITABLE):
        return f"cannot read or write the warehouse {db} ({message})"
    return None
