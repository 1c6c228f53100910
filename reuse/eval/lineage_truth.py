"""Generated news with known lineage: who copied whom, with what credit, when, and how precisely dated.

:func:`generate_world` writes a small web of sites, each with its own template (navigation, an
"about us" paragraph inside every article, a newsletter box and a copyright line) and articles of
its own, and stories: an original article and copies of it (or of earlier copies), each on another
site, after a lag from three minutes (wire copy) to days, with edits (headline prefix, a paragraph
dropped, numbers changed, a note to readers added) and one way of crediting its source or none
(a credit line naming the outlet, one with the URL, a cross-site ``rel=canonical`` as syndication
partners set it, a link). Stated times come at several precisions: an instant, a date only, none;
the archive's capture time is always after publication. Some copies have an AMP twin on their own
site, carrying the same credit, with a same-site canonical (an alias of the copy) or without one
(a second document).

:func:`score_lineage` compares what the tracker found with that truth. Pure: no I/O; the runner in
:mod:`reuse.eval.lineage_run` writes the pages as a web archive, ingests it and reads the lineage.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

__all__ = [
    "CREDIT_STYLES",
    "FoundNode",
    "LineageScores",
    "TruePage",
    "World",
    "generate_world",
    "score_lineage",
]

#: How a copy credits its source, with how often the generator uses each way.
CREDIT_STYLES: dict[str, float] = {
    "none": 0.35,
    "outlet": 0.2,
    "url": 0.2,
    "canonical": 0.15,
    "link": 0.1,
}
#: How precisely a page states its publication time.
_PRECISIONS = (("instant", 0.55), ("date", 0.25), ("none", 0.2))
#: Lags between a source and its copy: wire copy within minutes, same day, next day, days later.
_LAGS = (timedelta(minutes=3), timedelta(minutes=45), timedelta(hours=5), timedelta(hours=30), timedelta(days=4))
_EDITS = ("headline_changed", "paragraphs_dropped", "numbers_changed", "preamble_added")
_SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "da",
    "de",
    "di",
    "do",
    "du",
    "ka",
    "ke",
    "ki",
    "ko",
    "ku",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "va",
    "ve",
    "vi",
    "vo",
    "vu",
]
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class TruePage:
    """One generated page and the truth about it.

    ``parent`` is the URL of the page it copies (None for an original or a page in no story);
    ``twin_of`` the URL of the copy it is the AMP twin of, ``alias`` whether it names that copy
    by a same-site canonical (so the tracker should store both as one document).
    """

    url: str
    site: str
    html: str
    captured: datetime
    story: int | None = None
    parent: str | None = None
    credit: str = "none"
    precision: str = "instant"
    edits: tuple[str, ...] = ()
    twin_of: str | None = None
    alias: bool = False


@dataclass(frozen=True)
class World:
    """The generated pages, in the order a crawler might have archived them."""

    pages: tuple[TruePage, ...]

    def by_url(self) -> dict[str, TruePage]:
        """Each page by its URL."""
        return {page.url: page for page in self.pages}


@dataclass(frozen=True)
class FoundNode:
    """What the tracker says of one document: its story, its parent in the lineage tree (None for a
    root or a child of an unseen upstream), whether the tree edge into it is directed, and its
    ``credited`` status and edit labels on that edge."""

    url: str
    story: int | None
    parent: str | None = None
    directed: bool = False
    credited: str | None = None
    labels: tuple[str, ...] = ()


@dataclass
class LineageScores:
    """How the found lineage compares with the truth (see :func:`score_lineage`)."""

    pages: int = 0
    copies: int = 0
    direction: Counter[str] = field(default_factory=Counter)
    reversed_pages: list[str] = field(default_factory=list)
    pair_tp: int = 0
    pair_fp: int = 0
    pair_fn: int = 0
    background_in_story: int = 0
    credit_judged: int = 0
    credit_right: int = 0
    credit_wrong: list[str] = field(default_factory=list)
    syndicated: int = 0
    syndicated_kept: int = 0
    aliases: int = 0
    aliases_merged: int = 0
    edits_true: Counter[str] = field(default_factory=Counter)
    edits_found: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures: shares are rounded to three decimals."""

        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 3) if whole else None

        judged = sum(self.direction.values())
        return {
            "pages": self.pages,
            "copies": self.copies,
            "direction": {
                **{k: self.direction[k] for k in ("correct", "ancestor", "undecided", "wrong", "reversed")},
                "accuracy": share(self.direction["correct"] + self.direction["ancestor"], judged),
                "reversed_pages": self.reversed_pages,
            },
            "membership": {
                "pair_precision": share(self.pair_tp, self.pair_tp + self.pair_fp),
                "pair_recall": share(self.pair_tp, self.pair_tp + self.pair_fn),
                "background_in_story": self.background_in_story,
            },
            "credit": {
                "judged": self.credit_judged,
                "accuracy": share(self.credit_right, self.credit_judged),
                "wrong": self.credit_wrong,
            },
            "identity": {
                "syndicated": self.syndicated,
                "syndicated_kept": self.syndicated_kept,
                "aliases": self.aliases,
                "aliases_merged": self.aliases_merged,
            },
            "edits": {label: {"true": self.edits_true[label], "found": self.edits_found[label]} for label in _EDITS},
        }


# -- text -------------------------------------------------------------------------------------------


class _Writer:
    """Pseudo-words and sentences from a seeded generator: texts of different stories share no
    word runs, and numbers appear where news has them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = sorted({"".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4))) for _ in range(4000)})

    def sentence(self) -> str:
        rng = self.rng
        words = rng.choices(self.words, k=rng.randint(9, 18))
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words)), str(rng.choice([rng.randint(2, 99), rng.randint(100, 9999)])))
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 4)))

    def title(self) -> str:
        return " ".join(self.rng.choices(self.words, k=self.rng.randint(4, 8))).capitalize()


@dataclass(frozen=True)
class _Site:
    host: str
    name: str
    about: str
    nav: tuple[str, ...]


@dataclass
class _Article:
    url: str
    site: _Site
    title: str
    paragraphs: list[str]
    time: datetime


def _sites(writer: _Writer, count: int) -> list[_Site]:
    sites: list[_Site] = []
    names: set[str] = set()
    while len(sites) < count:
        first, second = writer.rng.sample(writer.words, 2)
        name = f"{first.capitalize()} {second.capitalize()}"
        if name in names:
            continue
        names.add(name)
        host = f"{first}{second}.example"
        about = f"{name} is an independent newsroom. {writer.sentence()} {writer.sentence()}"
        nav = tuple(w.capitalize() for w in writer.rng.sample(writer.words, 5))
        sites.append(_Site(host, name, about, nav))
    return sites


def _stated(time: datetime, precision: str) -> str | None:
    if precision == "instant":
        return time.strftime("%Y-%m-%dT%H:%M:%SZ")
    if precision == "date":
        return time.strftime("%Y-%m-%d")
    return None


def _html(
    article: _Article,
    precision: str,
    *,
    canonical: str | None = None,
    credit_lines: Sequence[str] = (),
    link: tuple[str, str] | None = None,
) -> str:
    site = article.site
    head = [f"<title>{escape(article.title)} | {escape(site.name)}</title>"]
    head.append(f'<meta property="og:site_name" content="{escape(site.name)}">')
    if (stated := _stated(article.time, precision)) is not None:
        head.append(f'<meta property="article:published_time" content="{stated}">')
    if canonical:
        head.append(f'<link rel="canonical" href="{escape(canonical)}">')
    body = [f"<h1>{escape(article.title)}</h1>"]
    body += [f"<p>{escape(p)}</p>" for p in article.paragraphs]
    if link is not None:
        href, text = link
        body.append(f'<p>{escape(text)} <a href="{escape(href)}">as reported earlier</a>.</p>')
    body += [f"<p>{escape(line)}</p>" for line in credit_lines]
    body.append(f"<p>{escape(site.about)}</p>")
    nav = " ".join(f'<a href="https://{site.host}/{w.lower()}/">{w}</a>' for w in site.nav)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        + "".join(head)
        + f"</head><body><header><nav>{nav}</nav></header><main><article>"
        + "".join(body)
        + f"</article></main><aside><p>Subscribe to the {escape(site.name)} newsletter: every morning, the"
        " stories that matter, in your inbox.</p></aside>"
        + f"<footer><p>© 2021 {escape(site.name)}. All rights reserved.</p></footer></body></html>"
    )


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


def _edit(rng: random.Random, writer: _Writer, source: _Article) -> tuple[str, list[str], tuple[str, ...]]:
    """A copy's title and paragraphs, and the edits made to the source's."""
    title, paragraphs = source.title, list(source.paragraphs)
    edits: list[str] = []
    if rng.random() < 0.3:
        title = f"Video: {title}"
        edits.append("headline_changed")
    if len(paragraphs) > 4 and rng.random() < 0.3:
        del paragraphs[rng.randrange(1, len(paragraphs))]
        edits.append("paragraphs_dropped")
    numbered = [k for k, p in enumerate(paragraphs) if _NUMBER.search(p)]
    if numbered and rng.random() < 0.3:
        k = rng.choice(numbered)
        paragraphs[k] = _NUMBER.sub(lambda m: str(int(m.group()) + rng.randint(1, 9)), paragraphs[k])
        edits.append("numbers_changed")
    if rng.random() < 0.2:
        paragraphs.insert(0, f"Note to readers: {writer.sentence()}")
        edits.append("preamble_added")
    return title, paragraphs, tuple(edits)


def _credit(style: str, source: _Article) -> dict[str, Any]:
    if style == "outlet":
        return {"credit_lines": [f"The original source of this article is {source.site.name}"]}
    if style == "url":
        return {"credit_lines": [f"Originally published at {source.url}"]}
    if style == "canonical":
        return {"canonical": source.url}
    if style == "link":
        return {"link": (source.url, f"{source.site.name} covered this first")}
    return {}


def generate_world(seed: int, *, stories: int = 12, sites: int = 6, background: int = 5) -> World:
    """A web of ``sites`` sites with ``background`` articles of their own each and ``stories``
    stories of one original and one to four copies, all determined by ``seed``."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    all_sites = _sites(writer, max(sites, 5))
    start = datetime(2021, 1, 4, tzinfo=UTC)
    pages: list[TruePage] = []
    serial = 0

    def article(site: _Site, time: datetime, title: str, paragraphs: list[str]) -> _Article:
        nonlocal serial
        serial += 1
        slug = "-".join(title.lower().split()[:4])
        return _Article(f"https://{site.host}/news/{serial}-{slug}", site, title, paragraphs, time)

    def captured(time: datetime) -> datetime:
        return time + timedelta(minutes=rng.randint(5, 8 * 60))

    for site in all_sites:
        for _ in range(background):
            time = start + timedelta(minutes=rng.randint(0, 60 * 24 * 300))
            own = article(site, time, writer.title(), [writer.paragraph() for _ in range(rng.randint(4, 7))])
            precision = _pick(rng, _PRECISIONS)
            pages.append(TruePage(own.url, site.host, _html(own, precision), captured(time), precision=precision))
    for story in range(1, stories + 1):
        root_site = rng.choice(all_sites)
        time = start + timedelta(minutes=rng.randint(0, 60 * 24 * 300))
        root = article(root_site, time, writer.title(), [writer.paragraph() for _ in range(rng.randint(5, 8))])
        precision = _pick(rng, _PRECISIONS)
        pages.append(
            TruePage(root.url, root_site.host, _html(root, precision), captured(time), story, precision=precision)
        )
        members = [root]
        others = [s for s in all_sites if s is not root_site]
        for copy_site in rng.sample(others, rng.randint(1, min(4, len(others)))):
            source = rng.choice(members)
            title, paragraphs, edits = _edit(rng, writer, source)
            copy = article(copy_site, source.time + rng.choice(_LAGS), title, paragraphs)
            style = _pick(rng, list(CREDIT_STYLES.items()))
            precision = _pick(rng, _PRECISIONS)
            html = _html(copy, precision, **_credit(style, source))
            seen = captured(copy.time)
            pages.append(TruePage(copy.url, copy_site.host, html, seen, story, source.url, style, precision, edits))
            members.append(copy)
            if rng.random() < 0.15:
                alias = rng.random() < 0.5 and style != "canonical"
                twin = _Article(copy.url.replace("/news/", "/amp/news/"), copy_site, title, paragraphs, copy.time)
                # The twin carries the same credit; an alias also names the copy as its canonical.
                credit = _credit(style, source) | ({"canonical": copy.url} if alias else {})
                pages.append(
                    TruePage(
                        twin.url, copy_site.host, _html(twin, precision, **credit), seen + timedelta(minutes=1),
                        story, source.url, style, precision, edits, twin_of=copy.url, alias=alias,
                    )
                )  # fmt: skip
    rng.shuffle(pages)
    return World(tuple(pages))


# -- scoring ------------------------------------------------------------------------------------------


def _ancestors(url: str, truth: Mapping[str, TruePage]) -> list[str]:
    found = []
    page = truth[url]
    while page.parent is not None:
        found.append(page.parent)
        page = truth[page.parent]
    return found


def _found_ancestors(url: str, found: Mapping[str, FoundNode]) -> list[str]:
    """The documents above ``url`` along directed tree edges (an undirected one claims no order)."""
    seen, node = [], found.get(url)
    while node is not None and node.parent is not None and node.directed and node.parent not in seen:
        seen.append(node.parent)
        node = found.get(node.parent)
    return seen


def _credits_parent(page: TruePage) -> bool:
    return page.credit != "none"


def score_lineage(world: World, found: Mapping[str, FoundNode], stored: Mapping[str, str | None]) -> LineageScores:
    """Score ``found`` (each stored document's lineage, by URL) against ``world``.

    ``stored`` maps each page's URL to the URL of the document the tracker stored it as (None:
    not stored). Each copy's found parent is **correct** (its true source, or that source's
    twin), an **ancestor** (a source further up), **undecided** (a root, a child of an unseen
    upstream, or an undirected edge: the tracker does not claim a direction), **wrong** (a
    sibling or unrelated document) or **reversed** (the copy is found above its own source: the
    error a fact-checker must never publish). An original found under any of its copies counts
    as reversed too.
    """
    truth = world.by_url()
    scores = LineageScores(pages=len(world.pages))
    doc_of = {url: stored.get(url) for url in truth}

    def doc(url: str | None) -> str | None:
        return None if url is None else doc_of.get(url)

    for page in world.pages:
        if page.twin_of is not None and page.alias:
            scores.aliases += 1
            # Merged: not a document of its own (read after its copy, it is that copy unchanged).
            scores.aliases_merged += doc(page.url) != page.url
        if page.credit == "canonical":
            scores.syndicated += 1
            scores.syndicated_kept += doc(page.url) == page.url
    # One judged page per stored document: an alias merged into its copy is judged as that copy.
    judged = [p for p in world.pages if doc(p.url) == p.url]
    for page in judged:
        node = found.get(page.url)
        if page.story is None:
            scores.background_in_story += node is not None and node.story is not None
            continue
        if page.parent is None:
            ancestors_found = {doc(u) for u in _found_ancestors(page.url, found)}
            story_pages = {doc(p.url) for p in judged if p.story == page.story}
            if ancestors_found & story_pages:
                scores.direction["reversed"] += 1
                scores.reversed_pages.append(page.url)
            continue
        scores.copies += 1
        true_up = [doc(u) for u in _ancestors(page.url, truth)]
        parent_twins = {doc(p.url) for p in judged if p.twin_of == page.parent}
        fparent = None if node is None else node.parent
        if node is None or fparent is None or not node.directed:
            verdict = "undecided"
        elif fparent == true_up[0] or fparent in parent_twins:
            verdict = "correct"
        elif fparent in true_up:
            verdict = "ancestor"
        elif page.url in _found_ancestors(page.parent, found) or fparent in _descendants(page.url, truth, doc):
            verdict = "reversed"
        else:
            verdict = "wrong"
        scores.direction[verdict] += 1
        if verdict == "reversed":
            scores.reversed_pages.append(page.url)
        if verdict == "correct" and node is not None:
            scores.credit_judged += 1
            expected = "credited" if _credits_parent(page) else "uncredited"
            if node.credited == expected:
                scores.credit_right += 1
            else:
                scores.credit_wrong.append(f"{page.url}: {page.credit} credit, found {node.credited}")
            for label in page.edits:
                scores.edits_true[label] += 1
                scores.edits_found[label] += label in node.labels
    # Membership: pairs of stored documents in one story, true against found.
    true_story = {p.url: p.story for p in judged}
    found_story = {url: (found[url].story if url in found else None) for url in true_story}
    urls = sorted(true_story)
    for i, x in enumerate(urls):
        for y in urls[i + 1 :]:
            same_true = true_story[x] is not None and true_story[x] == true_story[y]
            same_found = found_story[x] is not None and found_story[x] == found_story[y]
            scores.pair_tp += same_true and same_found
            scores.pair_fp += same_found and not same_true
            scores.pair_fn += same_true and not same_found
    return scores


def _descendants(url: str, truth: Mapping[str, TruePage], doc: Any) -> set[str | None]:
    below: set[str] = set()
    frontier = [url]
    while frontier:
        current = frontier.pop()
        for page in truth.values():
            if page.parent == current and page.url not in below:
                below.add(page.url)
                frontier.append(page.url)
    return {doc(u) for u in below}
