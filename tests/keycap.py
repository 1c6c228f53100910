"""A corpus that reaches the per-key cap: one paragraph held by more documents than a band key proposes.

README (How it works, Candidates): "A band key proposes only the first 20 versions holding it".
Every document here is the same paragraph, each on a site of its own (text of their own beside
it would give windows of mixed text, whose band keys only some of them hold, under the cap). Read
in order, the first ``KEY_CAP`` documents all match each other; each later one matches those
first ones only, never another later one. Without the cap every pair would match; with a smaller cap far fewer would.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

KEY_CAP = 20  # the documented default of max_key_versions; the tests pin it, not Settings()
HOLDERS = KEY_CAP + 5
SHARED = (
    "The harbour authority confirmed on Tuesday that the northern breakwater will be rebuilt with "
    "granite from the old quarry after two winters of storms left the pier unsafe for fishing boats."
)


def key_cap_rows() -> list[dict[str, str]]:
    """``HOLDERS`` JSON Lines rows, in the order they are read, each the shared paragraph at a URL of its own."""
    return [{"url": f"https://holder{i:02d}.example/story", "text": SHARED} for i in range(HOLDERS)]


def write_key_cap_feed(path: Path) -> Path:
    """Write :func:`key_cap_rows` as a JSON Lines file at ``path``."""
    path.write_text("".join(json.dumps(row) + "\n" for row in key_cap_rows()), encoding="utf-8")
    return path


def expected_pairs() -> set[tuple[str, str]]:
    """The URL pairs (earlier, later) that match under the cap: those whose earlier document is
    one of the first ``KEY_CAP`` holders."""
    urls = [row["url"] for row in key_cap_rows()]
    return {(a, b) for (i, a), (_, b) in itertools.combinations(enumerate(urls), 2) if i < KEY_CAP}
