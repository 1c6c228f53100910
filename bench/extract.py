"""Benchmark: article extraction speed (pages/s, one core) against BeautifulSoup's ``get_text()``.

Both sides get the same pages as bytes, in one process, in the same run:

* baseline: ``BeautifulSoup(body, "html.parser").get_text()`` (bs4 decodes the bytes itself);
* ours: ``crawlers.extract.extract(body, headers, url)`` (sniffing, decoding, parsing, metadata,
  main content, boilerplate and credit lines).

Pages are the labelled set under tests/extraction/ (38 pages) and, when present, the 88 real pages
of ../shared/data/article-extraction-benchmark-dev. Each side runs ``--repeats`` times (default 5)
over all pages; the median pass is reported, with the ratio. With ``--quality`` it also prints the
benchmark's shingle F1 on the real pages, on all of them and on each half (odd and even positions
in id order).

Usage (from the repository root)::

    python bench/extract.py [--repeats R] [--quality]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawlers.extract import extract  # noqa: E402
from crawlers.scoring import summarize  # noqa: E402

LABELLED = REPO / "tests" / "extraction"
REAL = REPO.parent / "shared" / "data" / "article-extraction-benchmark-dev"

Page = tuple[bytes, dict[str, str], str]


def load_pages() -> tuple[list[Page], dict[str, str]]:
    """The pages to time (body, headers, url), and the true bodies of the real ones by URL."""
    pages: list[Page] = []
    truth: dict[str, str] = {}
    for path in sorted(LABELLED.glob("*.json")):
        expected = json.loads(path.read_text(encoding="utf-8"))
        # A label names its page by "page" (a seeds/demo file) or sits beside it as NAME.html.
        html = REPO / expected["page"] if "page" in expected else path.with_suffix(".html")
        pages.append((html.read_bytes(), expected.get("headers") or {}, expected["url"]))
    if REAL.is_dir():
        for key, item in sorted(json.loads((REAL / "ground-truth.json").read_text(encoding="utf-8")).items()):
            pages.append((gzip.decompress((REAL / "html" / f"{key}.html.gz").read_bytes()), {}, item["url"]))
            truth[item["url"]] = item["articleBody"]
    return pages, truth


def bs4_get_text(page: Page) -> object:
    """The baseline: every string of the page, as BeautifulSoup with html.parser reads it."""
    return BeautifulSoup(page[0], "html.parser").get_text()


def ours(page: Page) -> object:
    """The extractor."""
    return extract(page[0], page[1], page[2])


def median_seconds(run: Callable[[Page], object], pages: list[Page], repeats: int) -> float:
    """Median wall time of one pass of ``run`` over all pages."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for page in pages:
            run(page)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Time both sides and print pages/s and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quality", action="store_true", help="also score the real pages (shingle F1)")
    args = parser.parse_args()
    pages, truth = load_pages()
    megabytes = sum(len(page[0]) for page in pages) / 1e6
    print(f"{len(pages)} pages, {megabytes:.1f} MB, median of {args.repeats} passes")
    base = median_seconds(bs4_get_text, pages, args.repeats)
    mine = median_seconds(ours, pages, args.repeats)
    print(f"bs4 html.parser get_text: {len(pages) / base:8.1f} pages/s  ({megabytes / base:.2f} MB/s)")
    print(f"crawlers.extract.extract: {len(pages) / mine:8.1f} pages/s  ({megabytes / mine:.2f} MB/s)")
    print(f"ratio (extract / bs4):    {base / mine:8.2f}x")
    if args.quality and truth:
        scored = []
        for body, headers, url in pages:
            if url in truth:
                article = extract(body, headers, url)
                scored.append(("\n".join(block.text for block in article.body), truth[url]))
        # The halves (pages in the benchmark's id order, odd and even positions): rules were decided
        # on the odd half and checked on the even one.
        for name, part in (("real pages", scored), ("odd half", scored[1::2]), ("even half", scored[0::2])):
            scores = summarize(part)
            figures = f"P={scores.precision:.3f} R={scores.recall:.3f} F1={scores.f1:.3f}"
            print(f"{name + ':':12} {figures} ({len(part)} pages)")


if __name__ == "__main__":
    main()
