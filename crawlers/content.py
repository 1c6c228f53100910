"""Main-content detection: from a parsed page to the blocks of its article, in reading order.

1. **Clean**: scripts, styles, forms' controls, embeds and hidden elements go.
2. **Segment** the page into text blocks, one walk over the tree (no recursion, so any depth the
   parser allows is fine): a block is the inline text of a block-level element (``p``, ``div``,
   ``td``, ``li``...) between its block-level children, split again at ``<br><br>``. So a ``div``
   of text is a block as much as a ``p`` is, and a body written as one ``div`` split by double line
   breaks gives one block per paragraph. Each block knows its link text, links and kind.
3. **Score** containers as readability does: each block of prose (length, commas, low link density)
   adds to its container and, decaying, to the container's ancestors; class and id names are weak
   hints (``entry-content``, ``article-body``... up; ``comment``, ``sidebar``, ``share``... down).
4. **Select** the best container, move up when its parent holds most of the same text, and take in
   sibling containers with enough prose (an article split by an ad or across two containers).
5. **Filter** the blocks inside: link lists, "read more" teasers, bylines, comment threads, the
   headline itself. Boilerplate is not filtered here but marked later, so blocks that match a
   boilerplate pattern right after the body (a credit line, a disclaimer) are kept too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lxml import etree
from lxml.html import HtmlElement

from crawlers.article import BlockKind
from crawlers.dates import MONTH_NAMES

__all__ = ["SUBTITLE_HINT", "Segment", "clean", "main_blocks", "segment"]

# Removed with their content before anything else.
_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas", "button",
    "input", "select", "textarea", "option", "head", "map", "dialog", "amp-ad", "amp-analytics", "amp-sidebar",
    "amp-consent", "amp-iframe", "amp-social-share", "amp-auto-ads", "amp-sticky-ad", "amp-geo", "link", "meta",
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "dir", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hgroup", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption", "video", "audio", "picture", "legend",
        "frameset", "frame", "amp-img", "amp-video",
    }
)  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LIST_ITEMS = frozenset({"li", "dt", "dd"})
_BR = "\x1e"  # stands for a <br> in a block's text until the block is split
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w", re.UNICODE)
_URL_TEXT = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_HIDDEN_CLASS = re.compile(r"(?:^|\s)(?:hidden|hide|sr-only|screen-reader-text|visually-hidden|visuallyhidden|"
                           r"element-invisible|offscreen|d-none)(?:\s|$)", re.I)  # fmt: skip
_POSITIVE = re.compile(r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|prose|"
                       r"markdown|rich-?text|permalink", re.I)  # fmt: skip
_NEGATIVE = re.compile(r"-ad-|^ad-|-ad$|\bads?\b|advert|banner|combx|comment|com-|contact|foot|masthead|media|"
                       r"outbrain|taboola|promo|related|recirc|scroll|share|sharing|social|shoutbox|sidebar|"
                       r"skyscraper|sponsor|shopping|tags|tool|widget|cookie|consent|gdpr|newsletter|subscri|"
                       r"signup|sign-up|popular|trending|most-?read|recommend|breadcrumb|nav|menu|rail|teaser|"
                       r"pagination|byline|author|dateline|meta|timestamp|disqus|modal|popup|overlay|paywall|"
                       r"login|signin|register|print|hidden|caption-credit|copyright|topbar|top-bar|"
                       r"header|site-info|legal|links", re.I)  # fmt: skip
_STRONG_NEGATIVE = re.compile(r"comment|disqus|sidebar|related|recirc|outbrain|taboola|share|social|newsletter|"
                              r"subscri|signup|promo|popular|trending|most-?read|recommend|breadcrumb|nav|menu|"
                              r"cookie|consent|gdpr|byline|author|dateline|timestamp|meta|tags|widget|rail|"
                              r"advert|sponsor|teaser|paywall|modal|popup|\bads?\b|-ad-|^ad-|-ad$",
                              re.I)  # fmt: skip
_ARTICLE_BODY = re.compile(r"articlebody|article-body|article__body|article_body|entry-content|post-content|"
                           r"post-body|story-body|storytext|story-text|article-content|article-text|"
                           r"field-name-body|field--name-body|node__content|content-body|td-post-content|"
                           r"single-content|main-content", re.I)  # fmt: skip
SUBTITLE_HINT = re.compile(r"standfirst|\bdek\b|_dek|-dek|subtitle|sub-title|subhead(?!er)|\blede\b|strapline|"
                       r"\bdeck\b|summary|excerpt|article-lead|intro", re.I)  # fmt: skip
_CAPTION = re.compile(r"caption|credit|wp-caption-text|figure-text|image-text|photo-text", re.I)
_TEASER = re.compile(
    r"^\W*(?:read more|read also|also read|see also|related(?: articles?| stories| posts| content)?|more on this|"
    r"more from|recommended|advertisement|advertising|sponsored|continue reading|click here|"
    r"lire aussi|à lire aussi|weiterlesen|lesen sie auch|mehr zum thema|leer más|lea también|"
    r"читайте также|реклама)\b\W*",
    re.I,
)
# Lines that are the page's furniture, not the article's text, whole: a comment count, an ad label,
# a share or subscribe button, a reading time, a section label.
_CHROME_LINE = re.compile(
    r"^\W*(?:\d+\s+)?(?:comments?|(?:post|add|leave|write) (?:a |your )?(?:comment|reply)|show comments|"
    r"view comments|advert(?:isement)?|ads?|anzeige|werbung|publicité|publicidad|pubblicità|реклама|"
    r"commentaires?|kommentare?|comentarios?|комментари[йи]|breaking news|subscribe|sign up|share|print|listen|"
    r"\d+\s*min(?:ute)?s? read|(?:reading|read) time|lesezeit|temps de lecture|tiempo de lectura|"
    r"tempo de leitura|время чтения)\b[\W\d]*(?:min(?:ute)?s?|minutos)?\W*$",
    re.I,
)
# A byline ("By Jane Doe", "Von Max Muster") of a few words, without a sentence's end.
_BYLINE_LINE = re.compile(r"^(?i:by|von|par|por|di|door|av|af|przez|автор:?)\s+[A-ZÀ-ÞА-Я][^.!?]{0,60}$")
# Words of a dateline besides the date itself ("Updated 10:01 pm PST, Tuesday, November 19, 2019").
_DATE_WORDS = frozenset(
    {
        "updated", "update", "published", "posted", "modified", "last", "first", "on", "at", "am", "pm", "a.m",
        "p.m", "utc", "gmt", "est", "edt", "cst", "cdt", "mst", "mdt", "pst", "pdt", "bst", "cet", "cest", "ist",
        "jst", "aest", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday",
        "thursday", "friday", "saturday", "sunday", "mis", "à", "jour", "le", "publié", "aktualisiert",
        "veröffentlicht", "um", "actualizado", "publicado", "el", "обновлено", "опубликовано",
    }
)  # fmt: skip
_CLOCK = re.compile(r"\b\d{1,2}[:h]\d{2}\b|\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b")
# A heading that opens a block of other stories, links or comments ("More from", "You may also like").
_SECTION_HEAD = re.compile(
    r"^\W*(?:related\b|more (?:from|on|in|stories|news|great|top|to read)\b|you (?:may|might) (?:also )?like|"
    r"(?:most )?popular (?:on|in|now|stories)\b|most (?:read|viewed|shared)|read (?:next|more)\b|"
    r"recommended(?: for you| reading| stories| articles| posts| videos)?\W*$|trending(?: now| stories)?\W*$|"
    r"(?:also|further) read|see also|tell us what you think|what do you think|join the (?:discussion|"
    r"conversation)|comments?\W*(?:\(?\d+\)?)?\W*$|lire aussi|à lire aussi|sur le même sujet|lesen sie auch|"
    r"mehr zum thema|das könnte sie auch interessieren|leer más|lea también|te puede interesar|leia também|veja também|"
    r"читайте также|по теме|похожие)",
    re.I,
)
_SECTION_HEAD_MAX = 60
_LEAD_BLOCKS = 3  # the article's first blocks, never taken for teasers of other stories
_TEASER_MIN, _TEASER_MAX = 30, 300
_REPEATED_MAX_SHARE = 0.25
_DATE_TOKEN = re.compile(r"\w+(?:\.\w)?", re.UNICODE)

# Readability's "unlikely candidates": their text never scores, and is dropped from the article
# unless the class also names content ("comment_content" is still a comment's content, but its
# "comment" ancestor already rules it out).
_UNLIKELY = re.compile(r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|"
                       r"header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|"
                       r"supplemental|ad-break|agegate|pagination|pager\b|popup|yom-remote|cookie|consent|newsletter",
                       re.I)  # fmt: skip
_MAYBE = re.compile(r"and|article|body|column|content|main|shadow", re.I)
_UNLIKELY_ROLES = frozenset({"menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog"})
_MIN_PROSE = 25  # characters for a block to count as prose when scoring


@dataclass
class Segment:
    """A text block found in the page: its text, owner element, kind, link text and links."""

    text: str
    owner: HtmlElement
    kind: BlockKind
    link_chars: int
    links: list[tuple[str, str]]  # (href as written, anchor text)
    index: int = 0
    unlikely: bool = False  # inside a comment thread, menu, sidebar... (see _UNLIKELY)
    keep: bool = field(default=False)

    @property
    def link_density(self) -> float:
        """Share of the text that is link text."""
        return self.link_chars / len(self.text) if self.text else 0.0


def _hints(element: HtmlElement) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}".strip()


def clean(doc: HtmlElement) -> None:
    """Remove what is never article text: scripts, styles, controls, embeds, hidden elements."""
    etree.strip_elements(doc, *_DROP_TAGS, with_tail=False)
    hidden = [
        element
        for element in doc.iter()
        if isinstance(element.tag, str)
        and (
            element.get("hidden") is not None
            or element.get("aria-hidden") == "true"
            or _HIDDEN_STYLE.search(element.get("style") or "")
            or _HIDDEN_CLASS.search(element.get("class") or "")
        )
    ]
    for element in hidden:
        if element.getparent() is not None:
            element.drop_tree()


class _Walker:
    """Accumulates inline text into segments while walking the tree once (see :func:`segment`)."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        # (text, link id or -1, inside an inline caption element); _BR marks a line break
        self.parts: list[tuple[str, int, bool]] = []
        self.hrefs: list[str] = []  # by link id
        self.link_stack: list[int] = []
        self.owners: list[HtmlElement] = []
        self.quote_depth = 0
        self.unlikely_depth = 0
        self.caption_depth = 0
        self.figure_depth = 0
        self.inline_caption_depth = 0
        self.alts: dict[HtmlElement, set[str]] = {}  # by block owner: the alt texts of its images
        self.ranges: dict[HtmlElement, tuple[int, int]] = {}
        self.starts: dict[HtmlElement, int] = {}

    def add(self, text: str | None) -> None:
        if text:
            self.parts.append((text, self.link_stack[-1] if self.link_stack else -1, self.inline_caption_depth > 0))

    def kind(self, owner: HtmlElement) -> BlockKind:
        tag = owner.tag
        if self.caption_depth or tag in ("figcaption", "caption") or _CAPTION.search(owner.get("class") or ""):
            return BlockKind.CAPTION
        if self.quote_depth:
            return BlockKind.QUOTE
        # Text of a <figure> outside its <figcaption> (a credit line, a caption in a plain div) is
        # the picture's, not the article's; a table a CMS wraps in a figure is still the article's.
        if self.figure_depth and tag not in ("td", "th"):
            return BlockKind.CAPTION
        if tag in _HEADINGS or owner.get("role") == "heading":
            return BlockKind.HEADING
        if tag in _LIST_ITEMS:
            return BlockKind.LIST_ITEM
        return BlockKind.PARAGRAPH

    def flush(self) -> None:
        if not self.parts or not self.owners:
            self.parts = []
            return
        owner = self.owners[-1]
        kind = self.kind(owner)
        piece: list[tuple[str, int, bool]] = []
        breaks = 0
        for text, link, captioned in [*self.parts, (_BR, -1, False), (_BR, -1, False)]:
            if text == _BR:
                breaks += 1
                if breaks >= 2:
                    self._emit(piece, owner, kind)
                    piece = []
                continue
            if breaks == 1 and piece:
                piece.append((" ", -1, False))
            if text.strip() or piece:
                breaks = 0 if text.strip() else breaks
            piece.append((text, link, captioned))
        self.parts = []

    def _emit(self, piece: list[tuple[str, int, bool]], owner: HtmlElement, kind: BlockKind) -> None:
        text = _SPACES.sub(" ", "".join(part for part, _, _ in piece)).strip()
        if not text or not _WORD.search(text):
            return
        link_chars = captioned_chars = 0
        anchors: dict[int, list[str]] = {}
        for part, link, captioned in piece:
            if link >= 0:
                anchors.setdefault(link, []).append(part)
            captioned_chars += len(part.strip()) if captioned else 0
        # A caption marked up inline (<span class="caption"> beside an <img> in a <p>), or a line
        # repeating the alt text of an image of its block, describes the picture.
        if captioned_chars * 2 >= len(text) or text.lower() in self.alts.get(owner, ()):
            kind = BlockKind.CAPTION
        links = []
        for link, texts in anchors.items():
            anchor = _SPACES.sub(" ", "".join(texts)).strip()
            links.append((self.hrefs[link], anchor))
            # A bare URL written as a link is text the article shows, not navigation.
            if not _URL_TEXT.match(anchor):
                link_chars += len(anchor)
        self.segments.append(
            Segment(text, owner, kind, min(link_chars, len(text)), links, len(self.segments), self.unlikely_depth > 0)
        )


def segment(root: HtmlElement) -> tuple[list[Segment], dict[HtmlElement, tuple[int, int]]]:
    """The text blocks of ``root`` in document order, and each element's range of segment indexes.

    The blocks inside an element are always contiguous in document order, so a range
    ``(first, end)`` describes them.
    """
    walker = _Walker()
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag
        if not isinstance(tag, str):  # comments and processing instructions: only their tail is text
            if event == "end":
                walker.add(element.tail)
            continue
        unlikely = tag not in ("body", "html", "article", "main") and _is_unlikely(element)
        block = tag in _BLOCK_TAGS or (tag == "cite" and (element.getparent() is not None)
                                       and element.getparent().tag in ("blockquote", "figure"))  # fmt: skip
        inline_caption = not block and bool(_CAPTION.search(element.get("class") or ""))
        if event == "start":
            if block:
                walker.flush()
                walker.owners.append(element)
                if tag == "blockquote":
                    walker.quote_depth += 1
                elif tag in ("figcaption", "caption"):
                    walker.caption_depth += 1
                elif tag == "figure":
                    walker.figure_depth += 1
            elif tag == "br":
                walker.parts.append((_BR, -1, False))
            elif tag == "img" and walker.owners and (alt := _SPACES.sub(" ", element.get("alt") or "").strip()):
                # The caption sits in the image's block or beside the image's own wrapper.
                for owner in walker.owners[-2:]:
                    walker.alts.setdefault(owner, set()).add(alt.lower())
            elif tag == "a" and element.get("href"):
                walker.hrefs.append(element.get("href") or "")
                walker.link_stack.append(len(walker.hrefs) - 1)
            walker.starts[element] = len(walker.segments)
            walker.unlikely_depth += unlikely
            walker.inline_caption_depth += inline_caption
            walker.add(element.text)
        else:
            if block:
                walker.flush()
                walker.owners.pop()
                if tag == "blockquote":
                    walker.quote_depth -= 1
                elif tag in ("figcaption", "caption"):
                    walker.caption_depth -= 1
                elif tag == "figure":
                    walker.figure_depth -= 1
            elif tag == "a" and element.get("href") and walker.link_stack:
                walker.link_stack.pop()
            walker.unlikely_depth -= unlikely
            walker.inline_caption_depth -= inline_caption
            walker.ranges[element] = (walker.starts.pop(element, len(walker.segments)), len(walker.segments))
            walker.add(element.tail)
    walker.flush()
    return walker.segments, walker.ranges


def _is_unlikely(element: HtmlElement) -> bool:
    if element.get("role") in _UNLIKELY_ROLES:
        return True
    hints = _hints(element)
    return bool(hints) and bool(_UNLIKELY.search(hints)) and not _MAYBE.search(hints)


def _ancestors(element: HtmlElement, limit: int) -> Iterable[HtmlElement]:
    current: HtmlElement | None = element
    for _ in range(limit):
        if current is None or not isinstance(current.tag, str):
            return
        yield current
        current = current.getparent()


def _class_weight(element: HtmlElement) -> float:
    hints = _hints(element)
    if not hints:
        return 0.0
    weight = 0.0
    if _NEGATIVE.search(hints):
        weight -= 25
    if _POSITIVE.search(hints):
        weight += 25
    if _ARTICLE_BODY.search(hints) or element.get("itemprop") == "articleBody":
        weight += 25
    return weight


def _tag_weight(tag: str) -> float:
    if tag in ("div", "article", "main", "section"):
        return 5
    if tag in ("pre", "td", "blockquote"):
        return 3
    if tag in ("address", "ol", "ul", "dl", "dd", "dt", "li", "form"):
        return -3
    if tag in _HEADINGS or tag == "th":
        return -5
    return 0


class _Scorer:
    """Readability-style container scores over the segments of one page."""

    def __init__(self, segments: list[Segment], ranges: dict[HtmlElement, tuple[int, int]]) -> None:
        self.segments = segments
        self.ranges = ranges
        self.chars = [0]
        self.link_chars = [0]
        for seg in segments:
            self.chars.append(self.chars[-1] + len(seg.text))
            self.link_chars.append(self.link_chars[-1] + seg.link_chars)
        self.scores: dict[HtmlElement, float] = {}
        for seg in segments:
            if seg.unlikely or len(seg.text) < _MIN_PROSE or seg.kind == BlockKind.HEADING:
                continue
            commas = seg.text.count(",") + seg.text.count("，") + seg.text.count("、")
            score = (1 + commas + min(len(seg.text) // 100, 3)) * (1 - seg.link_density)
            first, end = ranges.get(seg.owner, (0, 0))
            # A p-like owner holding just this block passes its score up; a container owner keeps it.
            start = seg.owner.getparent() if end - first <= 1 and seg.owner.getparent() is not None else seg.owner
            for level, ancestor in enumerate(_ancestors(start, 5)):
                if ancestor.tag == "html":
                    break
                if ancestor not in self.scores:
                    self.scores[ancestor] = _tag_weight(ancestor.tag) + _class_weight(ancestor)
                self.scores[ancestor] += score / (1 if level == 0 else 2 if level == 1 else level * 3)

    def text_chars(self, element: HtmlElement) -> int:
        first, end = self.ranges.get(element, (0, 0))
        return self.chars[end] - self.chars[first]

    def link_density(self, element: HtmlElement) -> float:
        first, end = self.ranges.get(element, (0, 0))
        chars = self.chars[end] - self.chars[first]
        return (self.link_chars[end] - self.link_chars[first]) / chars if chars else 0.0

    def final(self, element: HtmlElement) -> float:
        return self.scores.get(element, 0.0) * (1 - self.link_density(element))


def _is_ancestor(ancestor: HtmlElement, element: HtmlElement) -> bool:
    return any(node is ancestor for node in _ancestors(element, 4096))


def _select(scorer: _Scorer, body: HtmlElement) -> list[HtmlElement]:
    """The containers of the article: the best-scored one (adjusted) and its qualifying siblings."""
    ranked = sorted(scorer.scores, key=scorer.final, reverse=True)
    if not ranked:
        return [body]
    top = ranked[0]
    top_score = scorer.final(top)
    # Several near-best candidates inside one ancestor: the article is that ancestor.
    alternatives = [el for el in ranked[1:6] if scorer.final(el) >= 0.75 * top_score]
    if len(alternatives) >= 3:
        parent = top.getparent()
        while parent is not None and parent is not body:
            if sum(1 for el in alternatives if _is_ancestor(parent, el)) >= 3:
                top = parent
                break
            parent = parent.getparent()
    # Climb while the parent scores better: the article's text is spread over its children.
    last = scorer.final(top)
    parent = top.getparent()
    while parent is not None and parent is not body and isinstance(parent.tag, str):
        if parent not in scorer.scores:
            parent = parent.getparent()
            continue
        score = scorer.final(parent)
        if score < last / 3:
            break
        if score > last:
            top = parent
            break
        last = score
        parent = parent.getparent()
    while top is not body and (parent := top.getparent()) is not None and parent is not body and len(parent) == 1:
        top = parent
    parent = top.getparent()
    if parent is None or top is body:
        return [top]
    top_score = scorer.final(top)
    threshold = max(10.0, top_score * 0.2)
    selected = []
    for sibling in parent:
        if not isinstance(sibling.tag, str):
            continue
        if sibling is top:
            selected.append(sibling)
            continue
        bonus = top_score * 0.2 if top.get("class") and sibling.get("class") == top.get("class") else 0.0
        if sibling in scorer.scores and scorer.final(sibling) + bonus >= threshold:
            selected.append(sibling)
            continue
        first, end = scorer.ranges.get(sibling, (0, 0))
        if (
            end - first == 1
            and sibling.tag in ("p", "div", "blockquote", "pre")
            and not _NEGATIVE.search(_hints(sibling))
        ):
            text = scorer.segments[first].text
            density = scorer.segments[first].link_density
            if (len(text) > 80 and density < 0.25) or (
                len(text) >= 20 and density == 0 and re.search(r"[.!?。！？»”\"]$", text)
            ):
                selected.append(sibling)
    return selected


def _noise_ranges(root: HtmlElement, scorer: _Scorer) -> list[tuple[int, int]]:
    """Ranges of segments inside ``root`` that sit in a comment thread, share bar, byline box..."""
    total = max(scorer.text_chars(root), 1)
    found = []
    for element in root.iterdescendants():
        if not isinstance(element.tag, str):
            continue
        hints = _hints(element)
        if element.tag in ("nav", "aside", "footer", "form") or (hints and _STRONG_NEGATIVE.search(hints)):
            if _ARTICLE_BODY.search(hints) or element.get("itemprop") == "articleBody":
                continue
            first, end = scorer.ranges.get(element, (0, 0))
            if end > first and scorer.text_chars(element) < 0.5 * total:
                found.append((first, end))
    return found


def main_blocks(
    root: HtmlElement, headlines: Sequence[str | None], min_chars: int
) -> tuple[list[Segment], list[Segment], HtmlElement | None]:
    """The article's segments (kept, in order), all segments of the page, and the article's scope element.

    The scope is the element around the selected containers (the ``<article>`` or the containers'
    parent): credit lines and boilerplate are looked for there. When the result has fewer than
    ``min_chars`` characters, the search is run again with the "unlikely" class names ignored, as
    readability does (a class name like "PageBuilder-pageRow" looks like a pager). A block that
    repeats one of ``headlines`` (the page's ``<h1>``, its title) is the headline, not the body.
    """
    body = next(root.iter("body"), root)
    segments, ranges = segment(body)
    if not segments:
        return [], segments, None
    kept, scope = _main(segments, ranges, body, headlines)
    if sum(len(seg.text) for seg in kept) < min_chars and any(seg.unlikely for seg in segments):
        for seg in segments:
            seg.unlikely = seg.keep = False
        kept, scope = _main(segments, ranges, body, headlines)
    return kept, segments, scope


def _main(
    segments: list[Segment],
    ranges: dict[HtmlElement, tuple[int, int]],
    body: HtmlElement,
    headlines: Sequence[str | None],
) -> tuple[list[Segment], HtmlElement | None]:
    scorer = _Scorer(segments, ranges)
    selected = _select(scorer, body)
    noise: list[tuple[int, int]] = []
    for container in selected:
        noise.extend(_noise_ranges(container, scorer))
    in_noise = bytearray(len(segments))
    for first, end in noise:
        in_noise[first:end] = b"\x01" * (end - first)
    headline_keys = {_SPACES.sub(" ", headline).strip().lower() for headline in headlines if headline}
    kept: list[Segment] = []
    for container in selected:
        first, end = ranges.get(container, (0, 0))
        container_unlikely = any(_is_unlikely(el) for el in _ancestors(container, 4096))
        section_end = -1  # inside a "More from..." block up to this segment index
        for seg in segments[first:end]:
            if in_noise[seg.index] or (seg.unlikely and not container_unlikely):
                continue
            if seg.text.lower() in headline_keys:
                continue
            if seg.link_density > 0.5 and not _URL_TEXT.match(seg.text) and seg.owner.tag != "cite":
                continue
            if _TEASER.match(seg.text) and len(seg.text) < 120:
                continue
            if _is_section_head(seg):
                parent = seg.owner.getparent()
                section_end = ranges.get(parent, (0, seg.index + 1))[1] if parent is not None else seg.index + 1
                continue
            if seg.index < section_end and _is_teaser_like(seg):
                continue
            section_end = -1
            if seg.kind != BlockKind.QUOTE and _is_furniture(seg.text):
                continue
            seg.keep = True
            kept.append(seg)
    _drop_repeated_teasers(kept, segments, selected, ranges)
    return kept, selected[0].getparent()


def _drop_repeated_teasers(
    kept: list[Segment],
    segments: list[Segment],
    selected: list[HtmlElement],
    ranges: dict[HtmlElement, tuple[int, int]],
) -> None:
    """Drop short blocks of the article whose text the page shows again outside it: the title or
    excerpt of another story, teased both beside the article and in a list elsewhere on the page.

    The first blocks are spared: the article's own lead is what a site repeats in its teasers of it.
    """
    candidates = [seg for seg in kept[_LEAD_BLOCKS:] if _TEASER_MIN <= len(seg.text) <= _TEASER_MAX]
    if not candidates:
        return
    inside = bytearray(len(segments))
    for container in selected:
        first, end = ranges.get(container, (0, 0))
        inside[first:end] = b"\x01" * (end - first)
    outside = "\n".join(seg.text for seg in segments if not inside[seg.index])
    repeated = [seg for seg in candidates if seg.text in outside]
    if not repeated:
        return
    # Much of the article shown twice is the article printed twice (a print or mobile copy), not teasers.
    shown_twice = sum(len(seg.text) for seg in kept if seg.text in outside)
    if shown_twice > _REPEATED_MAX_SHARE * sum(len(seg.text) for seg in kept):
        return
    for seg in repeated:
        seg.keep = False
        kept.remove(seg)


def _is_section_head(seg: Segment) -> bool:
    """A short line that opens a block of other stories, links or comments ("More from X", "Popular on X")."""
    text = seg.text.removesuffix("...").removesuffix("…")  # "Tell us what you think..." is not a sentence's end
    return len(text) <= _SECTION_HEAD_MAX and not text.endswith((".", "!", "?")) and bool(_SECTION_HEAD.match(text))


def _is_teaser_like(seg: Segment) -> bool:
    """What follows a section head in a list of other stories: list items, links, headings and short lines."""
    return seg.kind in (BlockKind.LIST_ITEM, BlockKind.HEADING) or seg.link_chars > 0 or len(seg.text) < 100


def _is_furniture(text: str) -> bool:
    """A line of the page's furniture inside the article's container: a dateline, a byline, a comment
    count, an ad label, a button, a reading time."""
    if len(text) > 100:
        return False
    if _CHROME_LINE.match(text) or _BYLINE_LINE.match(text):
        return True
    if text.endswith((".", "!", "?")):
        return False
    # A dateline: a day or a time of day, with at most a few other words (a place, an agency, a name).
    # A month and a year alone ("March 2019: wall inspected") is a timeline's entry, as is a date
    # followed by what happened on it.
    words = [word.lower() for word in _DATE_TOKEN.findall(text)]
    day = any(word in MONTH_NAMES for word in words) and any(word.isdigit() and len(word) <= 2 for word in words)
    if not (day or _CLOCK.search(text)):
        return False
    other = [word for word in words if not word.isdigit() and word not in MONTH_NAMES and word not in _DATE_WORDS]
    after_colon = [word for word in _DATE_TOKEN.findall(text.rpartition(": ")[2].lower()) if word in other]
    return len(other) <= 3 and (": " not in text or len(after_colon) < 2)
