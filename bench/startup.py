"""Benchmark: how long ``reusetrack --version`` and ``reusetrack --help`` take, as whole processes.

Baseline: ``python -c pass`` with the same interpreter, run interleaved with the commands, so that
the ratio and the time above the bare interpreter say what reusetrack's own imports cost on a
machine whose load comes and goes. Each command runs ``--repeats`` times (default 15). Reported:
the CPU time of the process (user + system, from its rusage: what a loaded machine changes least)
and the wall time, each the median over the runs.

Usage (from the repository root, in the environment reusetrack is installed in)::

    python bench/startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "reusetrack --version": [sys.executable, "-m", "reuse", "--version"],
    "reusetrack --help": [sys.executable, "-m", "reuse", "--help"],
    "reusetrack crawl --help": [sys.executable, "-m", "reuse", "crawl", "--help"],
}


def _once(argv: list[str]) -> tuple[float, float]:
    """``(cpu seconds, wall seconds)`` of one run of ``argv``."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
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
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):
        for name, argv in COMMANDS.items():  # interleaved: load that comes and goes hits all alike
            runs[name].append(_once(argv))
    cpu = {name: statistics.median(c for c, _ in values) for name, values in runs.items()}
    wall = {name: statistics.median(w for _, w in values) for name, values in runs.items()}
    base = cpu["python -c pass (baseline)"]
    print(f"{'command':<28} {'cpu s':>6} {'wall s':>7} {'cpu - baseline':>15} {'cpu ratio':>10}")
    for name in COMMANDS:
        print(f"{name:<28} {cpu[name]:6.3f} {wall[name]:7.3f} {cpu[name] - base:15.3f} {cpu[name] / base:10.1f}")


if __name__ == "__main__":
    main()
