"""The deterministic corpus of the scale benchmark, built from the PAN13 training texts.

Background articles are paragraphs resampled from the PAN13 source and suspicious documents,
each article's words moved along the corpus's frequency ranking by an offset of its own (the
200 most frequent words, the grammar, stay put). Resampling alone would make every paragraph a
copy of its other draws; the rank shift keeps the text's statistics (Zipf curve, function
words, sentence and paragraph lengths) while making each article's wording its own, so the
only reuse in the corpus is the reuse planted on purpose, whose positions are known:

* **verbatim** copies: one to three consecutive paragraphs of an earlier article inserted
  between two paragraphs of a later one, on another site;
* **edited** copies: the same, with light edits: one word in twelve replaced, a sentence
  dropped when there are three or more, a clause added at the end;
* **messy** text: 5% of the articles hard-wrapped at 72 columns with no blank line between
  paragraphs (plants go into and out of them too);
  the same article at two URLs differing only in case; and a family of near-identical pages
  (one site's daily report from a template, a number and a place changed), which must
  neither explode the candidate count nor hide the planted copies.

Everything comes from one seeded ``numpy`` generator: the same arguments give the same files.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

WORD = re.compile(r"[^\W\d_]+")
MIN_WORDS = 8
#: Words kept in place by the rank shift: articles, prepositions, pronouns, auxiliaries.
GRAMMAR_WORDS = 200
#: Largest rank shift; each article draws one offset in [-MAX_SHIFT, MAX_SHIFT] \ small ones.
MAX_SHIFT = 4000
SITES = 400
FILES = 32


@dataclass(frozen=True)
class Plant:
    """One planted copy: ``source`` text ``[source_start, source_end)`` appears in ``target`` at
    ``[target_start, target_end)`` (character offsets of the two articles' texts)."""

    kind: str  # verbatim | edited
    source: str
    source_start: int
    source_end: int
    target: str
    target_start: int
    target_end: int


@dataclass
class _Article:
    url: str
    site: str
    published: datetime
    paragraphs: list[str]
    wrapped: bool = False

    def _rendered(self) -> tuple[list[str], str]:
        """The paragraphs as written out, and what separates them."""
        if self.wrapped:
            return [textwrap.fill(p, 72) for p in self.paragraphs], "\n"
        return self.paragraphs, "\n\n"

    def text(self) -> str:
        paragraphs, separator = self._rendered()
        return separator.join(paragraphs)

    def paragraph_span(self, first: int, last: int) -> tuple[int, int]:
        """Character span of paragraphs ``first..last`` in :meth:`text`."""
        paragraphs, separator = self._rendered()
        start = sum(len(p) + len(separator) for p in paragraphs[:first])
        end = start + sum(len(p) + len(separator) for p in paragraphs[first : last + 1]) - len(separator)
        return start, end


class _Pool:
    """The PAN13 paragraphs and the frequency ranking of their words."""

    def __init__(self, pan13: Path) -> None:
        paragraphs: list[str] = []
        for folder in ("src", "susp"):
            for path in sorted((pan13 / folder).glob("*.txt")):
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    line = " ".join(line.split())
                    if len(line.split()) >= MIN_WORDS:
                        paragraphs.append(line)
        counts = Counter(w.lower() for p in paragraphs for w in WORD.findall(p))
        self.paragraphs = paragraphs
        self.ranked = [w for w, _ in counts.most_common()]
        self.rank = {w: r for r, w in enumerate(self.ranked)}

    def shifted(self, paragraph: str, offset: int) -> str:
        """``paragraph`` with every word past the grammar words moved ``offset`` ranks."""
        ranked, rank, top = self.ranked, self.rank, len(self.ranked) - 1

        def move(m: re.Match[str]) -> str:
            word = m.group()
            r = rank.get(word.lower(), 0)
            if r < GRAMMAR_WORDS:
                return word
            r = GRAMMAR_WORDS + (r - GRAMMAR_WORDS + offset) % (top - GRAMMAR_WORDS)
            new = ranked[r]
            return new.capitalize() if word[0].isupper() else new

        return WORD.sub(move, paragraph)


def _edited(rng: np.random.Generator, pool: _Pool, paragraphs: list[str]) -> list[str]:
    """Light edits: one word in twelve swapped for a near-ranked one, a sentence dropped from
    paragraphs of three or more, a clause added to the last paragraph."""
    out = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        for k in rng.choice(len(words), size=max(1, len(words) // 12), replace=False):
            words[k] = pool.shifted(words[k], int(rng.integers(1, 50)))
        sentences = re.split(r"(?<=[.!?]) ", " ".join(words))
        if len(sentences) >= 3:
            del sentences[int(rng.integers(1, len(sentences)))]
        out.append(" ".join(sentences))
    out[-1] = out[-1].rstrip(".") + ", the report added."
    return out


def _report(rng: np.random.Generator, day: int) -> list[str]:
    """One page of the near-identical family: a template with a number and a place changed."""
    places = ("the northern district", "the harbour", "the old town", "the valley", "the airport")
    level = int(rng.integers(10, 99))
    place = places[int(rng.integers(len(places)))]
    return [
        f"Daily conditions report number {day}. Water levels near {place} stood at {level} "
        "centimetres this morning, according to the regional monitoring office, which publishes "
        "these readings every day at seven o'clock and updates them again in the evening.",
        "Residents are advised to follow the instructions of the local authorities, to keep "
        "away from the river banks and from flooded roads, and to report any damage to the "
        "emergency line. The next report will be published tomorrow at the same time.",
    ]


def generate(pan13: Path, out: Path, articles: int, seed: int = 2013) -> dict[str, object]:
    """Write ``articles`` background articles plus the planted and messy ones to ``out`` as
    JSONL files, and ``out/truth.json`` with the plants; returns the corpus's description."""
    rng = np.random.default_rng(seed)
    pool = _Pool(pan13)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    made: list[_Article] = []
    for k in range(articles):
        site = f"site{int(rng.integers(SITES)):03d}.example"
        count = int(rng.integers(3, 13))
        offset = int(rng.integers(50, MAX_SHIFT)) * (1 if rng.random() < 0.5 else -1)
        paragraphs = [
            pool.shifted(pool.paragraphs[int(i)], offset) for i in rng.integers(len(pool.paragraphs), size=count)
        ]
        when = start + timedelta(minutes=7 * k)
        made.append(_Article(f"https://{site}/news/{k:07d}-story", site, when, paragraphs, wrapped=rng.random() < 0.05))
    plants = _plant(rng, pool, made, share=0.05)
    _make_messy(rng, made, start)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*.jsonl"):
        old.unlink()
    per_file = -(-len(made) // FILES)
    for f in range(FILES):
        with (out / f"part-{f:03d}.jsonl").open("w", encoding="utf-8") as handle:
            for article in made[f * per_file : (f + 1) * per_file]:
                row = {
                    "url": article.url,
                    "site": article.site,
                    "published": article.published.isoformat(),
                    "text": article.text(),
                }
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    description = {
        "articles": len(made),
        "words": sum(len(a.text().split()) for a in made),
        "paragraphs": sum(len(a.paragraphs) for a in made),
        "plants": Counter(p.kind for p in plants),
        "seed": seed,
    }
    (out / "truth.json").write_text(json.dumps({"corpus": description, "plants": [asdict(p) for p in plants]}))
    return description


def _plant(rng: np.random.Generator, pool: _Pool, made: list[_Article], share: float) -> list[Plant]:
    """Insert copies of earlier articles' paragraphs into ``share`` of the articles, half of them
    verbatim and half edited; sources and targets are distinct articles of two sites."""
    plants: list[Plant] = []
    used: set[int] = set()
    count = int(len(made) * share)
    for n in range(count):
        target = int(rng.integers(len(made) // 10, len(made)))
        source = int(rng.integers(0, target))
        if {source, target} & used or made[source].site == made[target].site:
            continue
        used |= {source, target}
        src, tgt = made[source], made[target]
        first = int(rng.integers(len(src.paragraphs)))
        last = min(len(src.paragraphs) - 1, first + int(rng.integers(0, 3)))
        copied = src.paragraphs[first : last + 1]
        kind = "verbatim" if n % 2 == 0 else "edited"
        if kind == "edited":
            copied = _edited(rng, pool, copied)
        at = int(rng.integers(0, len(tgt.paragraphs) + 1))
        tgt.paragraphs[at:at] = copied
        s0, s1 = src.paragraph_span(first, last)
        t0, t1 = tgt.paragraph_span(at, at + len(copied) - 1)
        plants.append(Plant(kind, src.url, s0, s1, tgt.url, t0, t1))
    return plants


def _make_messy(rng: np.random.Generator, made: list[_Article], start: datetime) -> None:
    """Repeat 0.5% of the articles at a URL differing only in case, and add a family of
    near-identical daily reports (one page for every ten articles, one site)."""
    count = len(made)
    for k in rng.choice(count, size=count // 200, replace=False):
        original = made[int(k)]
        head, _, tail = original.url.rpartition("/")
        made.append(_Article(f"{head}/{tail.upper()}", original.site, original.published, list(original.paragraphs)))
    for day in range(count // 10):
        made.append(
            _Article(
                f"https://rivers.example/report/{day:05d}",
                "rivers.example",
                start + timedelta(days=day),
                _report(rng, day),
            )
        )


def plants(folder: Path) -> Iterator[Plant]:
    """The plants recorded in ``folder/truth.json``."""
    for row in json.loads((folder / "truth.json").read_text())["plants"]:
        yield Plant(**row)


def extra_articles(pan13: Path, corpus: Path, count: int, seed: int = 2014) -> list[dict[str, str]]:
    """``count`` new articles for the incremental figure, written like the corpus's (a new seed),
    one in four carrying a verbatim paragraph of a corpus article, as a new copy would."""
    rng = np.random.default_rng(seed)
    pool = _Pool(pan13)
    first = json.loads((corpus / "part-000.jsonl").open(encoding="utf-8").readline())
    donors = [json.loads(line) for line in (corpus / "part-001.jsonl").open(encoding="utf-8")]
    rows = []
    for k in range(count):
        offset = int(rng.integers(50, MAX_SHIFT)) * (1 if rng.random() < 0.5 else -1)
        picks = rng.integers(len(pool.paragraphs), size=int(rng.integers(3, 13)))
        paragraphs = [pool.shifted(pool.paragraphs[int(i)], offset) for i in picks]
        if k % 4 == 0:
            donor = donors[int(rng.integers(len(donors)))]["text"].split("\n\n")
            paragraphs.insert(1, donor[int(rng.integers(len(donor)))])
        rows.append(
            {
                "url": f"https://late.example/news/{k:05d}",
                "site": "late.example",
                "published": first["published"],
                "text": "\n\n".join(paragraphs),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the scale benchmark's corpus.")
    parser.add_argument("pan13", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("articles", type=int)
    parser.add_argument("--seed", type=int, default=2013)
    args = parser.parse_args()
    print(json.dumps(generate(args.pan13, args.out, args.articles, args.seed)))


if __name__ == "__main__":
    main()
