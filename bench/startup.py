"""Benchmark: how long ``reusetrack --version``, ``--help`` and a one-article ``ingest`` take, as
whole processes.

Baseline: ``python -c pass`` with the same interpreter, run interleaved with the commands, so that
the ratio and the time above the bare interpreter say what reusetrack's own imports cost on a
machine whose load comes and goes. Each command runs ``--repeats`` times (default 15), after a
first round that is not counted (it writes the bytecode cache, which the runs use as a user's
install does, whatever ``PYTHONDONTWRITEBYTECODE`` says here). Reported:
the CPU time of the process (user + system, from its rusage: what a loaded machine changes least)
and the wall time, each the median over the runs.

The ingest command reads one new article a run (a JSON lines file: a rewrite of the seed report,
``seeds/rewrites/derived-light-shusha.txt``, under a URL of its own) into a small warehouse made
first from the demo corpus (``seeds/demo``): it is analysed, matched against the seed report it
derives from, stored, and its story's lineage updated.

Usage (from the repository root, in the environment reusetrack is installed in)::

    python bench/startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTICLE = REPO / "seeds" / "rewrites" / "derived-light-shusha.txt"
REUSETRACK = [sys.executable, "-m", "reuse"]
#: The commands' environment: this one, with the interpreter's bytecode cache on (as in a user's
#: install; ``PYTHONDONTWRITEBYTECODE`` would make every run compile the package's modules again,
#: about 0.2 s of a one-article ingest). A first round, not counted, writes the cache.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "reusetrack --version": [*REUSETRACK, "--version"],
    "reusetrack --help": [*REUSETRACK, "--help"],
    "reusetrack crawl --help": [*REUSETRACK, "crawl", "--help"],
}
INGEST = "reusetrack ingest (1 article)"


def _ingest_runs(work: Path) -> Callable[[int], list[str]]:
    """The argv of the ``k``-th one-article ingest into a warehouse in ``work``, made here from the
    demo corpus; each run's article is written when its argv is asked for."""
    db = work / "small.duckdb"
    demo = [*REUSETRACK, "--db", str(db), "ingest", str(REPO / "seeds" / "demo")]
    subprocess.run(demo, check=True, capture_output=True, env=ENV)
    text = ARTICLE.read_text(encoding="utf-8")

    def argv(k: int) -> list[str]:
        article = work / f"article-{k}.jsonl"
        article.write_text(json.dumps({"url": f"https://bench.example/run-{k}", "text": text}) + "\n", encoding="utf-8")
        return [*REUSETRACK, "--db", str(db), "ingest", str(article)]

    return argv


def _fixed(argv: list[str]) -> Callable[[int], list[str]]:
    """The same ``argv`` for every run."""
    return lambda _k: argv


def _once(argv: list[str]) -> tuple[float, float]:
    """``(cpu seconds, wall seconds)`` of one run of ``argv``."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} exited with {proc.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reusetrack-startup-") as work:
        ingest = _ingest_runs(Path(work))
        commands = {name: _fixed(argv) for name, argv in COMMANDS.items()} | {INGEST: ingest}
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for k in range(args.repeats + 1):
            for name, argv_of in commands.items():  # interleaved: load that comes and goes hits all alike
                timed = _once(argv_of(k))
                if k:  # the first round writes the bytecode cache
                    runs[name].append(timed)
    cpu = {name: statistics.median(c for c, _ in values) for name, values in runs.items()}
    wall = {name: statistics.median(w for _, w in values) for name, values in runs.items()}
    base = cpu["python -c pass (baseline)"]
    print(f"{'command':<30} {'cpu s':>6} {'wall s':>7} {'cpu - baseline':>15} {'cpu ratio':>10}")
    for name in runs:
        print(f"{name:<30} {cpu[name]:6.3f} {wall[name]:7.3f} {cpu[name] - base:15.3f} {cpu[name] / base:10.1f}")


if __name__ == "__main__":
    main()
