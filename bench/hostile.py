"""Benchmark: how long the extractor takes on hostile input (html5lib's inputs, deep nesting, huge
pages, binary bodies).

The tests check that these inputs give a clear state and never raise; this script measures the
time each takes, which tests must not assert on a shared machine. It reuses the tests' inputs.

Usage (from the repository root)::

    python bench/hostile.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the tests import their helpers (tests/needs.py) by name

from crawlers.extract import extract  # noqa: E402
from tests.needs import SHARED_DATA  # noqa: E402
from tests.test_extract_robust import PARAGRAPH, _page, html5lib_inputs  # noqa: E402

HTML5LIB = SHARED_DATA / "html5lib-tests"


def seconds(body: bytes) -> float:
    """Wall time of extracting one page served as text/html."""
    started = time.perf_counter()
    extract(body, {"Content-Type": "text/html"})
    return time.perf_counter() - started


def main() -> int:
    """Print the time of each hostile input, and the html5lib inputs' median, p99 and maximum."""
    pages = {
        "<div> x 100,000": _page("<div>" * 100_000 + PARAGRAPH + "</div>" * 100_000).encode(),
        "<table> x 10,000": _page("<table>" * 10_000 + PARAGRAPH).encode(),
        "<b><i> x 50,000": _page("<b><i>" * 50_000 + PARAGRAPH).encode(),
        "8 MiB of <p> (40,000 paragraphs)": _page(
            "<article>" + f"<p>{PARAGRAPH} {PARAGRAPH[:20]}</p>" * 40_000 + "</article>"
        ).encode(),
        "10 MB of random bytes as text/html": os.urandom(10 * 1024 * 1024),
    }
    for name, body in pages.items():
        print(f"{name:<40} {seconds(body):8.3f} s")
    if HTML5LIB.is_dir():
        inputs = html5lib_inputs(HTML5LIB)
        times = sorted(seconds(markup.encode("utf-8", "surrogatepass")) for markup in inputs)
        p99 = times[int(0.99 * len(times))]
        print(
            f"html5lib-tests inputs ({len(times):,})          median {statistics.median(times) * 1000:.2f} ms,"
            f" p99 {p99 * 1000:.2f} ms, max {times[-1] * 1000:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
