"""The ``reusetrack`` command line: :func:`main` is what the ``reusetrack`` script and ``python -m
reuse`` run; :data:`app` is the typer application behind it (imported on first use)."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reuse.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the command line on ``sys.argv``.

    ``reusetrack --version`` is answered before the command table is built: it needs none of it,
    and building it (typer, every command's options) costs more than the rest of the answer.
    """
    if sys.argv[1:] == ["--version"]:
        from reuse import reusetrack_version

        print(f"reusetrack {reusetrack_version()}")
        return
    # numpy's OpenBLAS starts a thread a core at its first call (numpy's Gauss-Legendre nodes,
    # once a run, for the band parameters), and they spin for about 0.1-0.2 s of CPU after it:
    # on two cores, taken from the run's own threads. Nothing here needs BLAS on more than one.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Python's default for SIGTERM (a service manager stopping the server, ``kill``) ends the process
    # on the spot; unwinding as Ctrl-C does lets cleanup run: serve's snapshot copies, eval's
    # scratch warehouses. Commands that stop cleanly on signals set handlers of their own meanwhile.
    signal.signal(signal.SIGTERM, _terminated)
    from reuse.cli.app import app

    app(prog_name="reusetrack")


def _terminated(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def __getattr__(name: str) -> Any:
    """Import the typer application the first time it is asked for."""
    if name != "app":
        raise AttributeError(f"module 'reuse.cli' has no attribute {name!r}")
    from reuse.cli.app import app

    # Importing the submodule bound the name to the module ``reuse.cli.app``: bind the application.
    globals()["app"] = app
    return app
