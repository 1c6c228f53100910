"""``python -m reuse``: the same command line as ``reusetrack``."""

from reuse.cli import app

if __name__ == "__main__":
    app(prog_name="reusetrack")
