"""The ``reusetrack`` command line: :data:`app` is the typer application the ``reusetrack`` script runs."""

from reuse.cli.app import app

__all__ = ["app"]
