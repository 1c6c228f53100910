"""``reusetrack`` in a process of its own for the tests that kill it, without paying for its imports.

A new interpreter spends a second or more importing the command line (the engine, DuckDB, NumPy)
before it reads a file, and the kill tests start dozens of runs. Each run here is a child of
multiprocessing's forkserver, which conftest has preload ``reuse.cli`` (as the ``reusetrack``
script's own forkserver does): the child is a fresh single-threaded process, apart from this one,
that runs the same typer app with the same arguments and environment, and dies of SIGKILL like
any process. Runs that must exit cleanly by themselves (SIGTERM, a run to completion) still start
``python -m reuse``.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.process import BaseProcess
from pathlib import Path

#: What conftest gives the forkserver to import once.
PRELOAD = ["__main__", "reuse.cli"]


def _main(args: list[str], env: dict[str, str], log: str) -> None:
    os.environ.update(env)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    from reuse.cli import app

    app(args, prog_name="reusetrack")


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> BaseProcess:
    """``reusetrack ARGS`` started in a forkserver child, its stdout and stderr in ``log``."""
    process = multiprocessing.get_context("forkserver").Process(target=_main, args=(args, env or {}, str(log)))
    process.start()
    return process
