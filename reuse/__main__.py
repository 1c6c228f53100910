"""``python -m reuse``: the same command line as ``reusetrack``."""

from reuse.cli import main

if __name__ == "__main__":
    main()
