"""Clean bodies: what sits inside an article's container but is not the article's text.

Each test is a small hand-written page with one kind of page furniture in the article's own
container (a caption, a dateline, a "More from" list, a teaser of another story, a promo line)
and checks that it is out of the body: dropped, or kept and marked with its label. The measure
they serve is the real-page benchmark in tests/test_extract_quality.py.
"""

from __future__ import annotations

import pytest

from crawlers.article import Article
from crawlers.attribution import boilerplate_of
from crawlers.extract import extract

# Prose enough for the container to be the article (commas and length score it).
PROSE = [
    "The council met on Tuesday evening, and after a long debate, it voted to rebuild the old harbour wall "
    "before the winter storms, at a cost of four million, paid from the reserve fund.",
    "Engineers had warned for years that the wall, built in 1911, was sinking, cracked in several places, "
    "and would not survive another season of high tides, a view the council finally accepted.",
    "Work starts in March, the contractor said, and should take about eight months, with the harbour "
    "staying open to fishing boats, ferries and pleasure craft for the whole of that time.",
]
LEAD, MIDDLE, LAST = PROSE


def page(inside: str = "", after: str = "", *, outside: str = "", head: str = "", title: str = "") -> bytes:
    """A page whose article container holds the three paragraphs with ``inside`` after the second one
    and ``after`` after the last; ``outside`` is a sidebar beside the article."""
    paragraphs = [f"<p>{text}</p>" for text in PROSE]
    body = "\n".join([paragraphs[0], paragraphs[1], inside, paragraphs[2], after])
    return (
        f'<html><head><meta property="og:title" content="{title or "Harbour wall to be rebuilt"}"></head><body>'
        f"<header><h1>{head or 'Harbour wall to be rebuilt'}</h1></header>"
        f'<div class="layout"><div class="story">{body}</div>'
        f'<div class="rail">{outside}</div></div></body></html>'
    ).encode()


def body_texts(article: Article) -> list[str]:
    return [block.text for block in article.body]


def label_of(article: Article, text: str) -> str | None:
    found = [block.boilerplate for block in article.paragraphs if block.text == text]
    assert found, f"{text!r} is not among the blocks"
    return found[0]


def test_the_page_gives_its_three_paragraphs() -> None:
    article = extract(page())
    assert body_texts(article) == PROSE


# Captions: the picture's, kept marked "caption", out of the body.


def test_a_figcaption_is_marked_caption() -> None:
    caption = "The harbour wall at low tide, with the cracks engineers found last spring."
    article = extract(page(f'<figure><img src="wall.jpg"><figcaption>{caption}</figcaption></figure>'))
    assert label_of(article, caption) == "caption"
    assert body_texts(article) == PROSE


def test_text_of_a_figure_outside_its_figcaption_is_a_caption() -> None:
    credit = "Jane Doe/Harbour Times/Photo Agency"
    article = extract(page(f'<figure class="image"><img src="wall.jpg"><div>{credit}</div></figure>'))
    assert label_of(article, credit) == "caption"
    assert credit not in body_texts(article)


def test_a_table_in_a_figure_stays_the_articles() -> None:
    table = '<figure class="wp-block-table"><table><tr><td>Cost of the new wall in millions</td></tr></table></figure>'
    article = extract(page(table))
    assert "Cost of the new wall in millions" in body_texts(article)


def test_an_inline_caption_element_makes_a_caption() -> None:
    caption = "The first survey map of the harbour wall, drawn in 1911."
    inline = f'<p><span class="image-caption"><img src="map.jpg"><span>{caption}</span></span></p>'
    article = extract(page(inline))
    assert label_of(article, caption) == "caption"


def test_a_line_repeating_an_images_alt_text_is_a_caption() -> None:
    caption = "Engineers inspecting the old harbour wall"
    block = f'<div><div class="img"><img src="a.jpg" alt="{caption}"></div><span class="small">{caption}</span></div>'
    article = extract(page(block))
    assert label_of(article, caption) == "caption"


# Page furniture inside the container: dropped.


@pytest.mark.parametrize(
    "line",
    [
        "Updated 10:01 pm PST, Tuesday, November 19, 2019",
        "Nov. 20, 2019, 9:28 AM UTC",
        "Jane Doe 2019-11-20 14:35:08",
        "Publié le 19 novembre 2019 à 08:38",
    ],
)
def test_a_dateline_is_dropped(line: str) -> None:
    assert line not in body_texts(extract(page(f"<p>{line}</p>")))


def test_a_dated_line_with_more_words_or_in_a_quote_stays() -> None:
    timeline = "The wall was first repaired on 1 February 1953 after the great North Sea flood"
    tweet = "— Harbour Council (@harbourcouncil) November 18, 2019"
    article = extract(page(f"<p>{timeline}</p><blockquote><p>Works start soon.</p><p>{tweet}</p></blockquote>"))
    assert timeline in body_texts(article)
    assert tweet in body_texts(article)


@pytest.mark.parametrize("line", ["Wall inspected in March 2019", "Nov. 20, 2019: Council votes"])
def test_a_timeline_entry_stays(line: str) -> None:
    assert line in body_texts(extract(page(f"<ul><li>{line}</li></ul>")))


@pytest.mark.parametrize("line", ["By Jane Doe", "Von Max Muster", "BY THE HARBOUR DESK"])
def test_a_byline_is_dropped(line: str) -> None:
    assert line not in body_texts(extract(page(f"<p>{line}</p>")))


def test_a_sentence_starting_with_by_stays() -> None:
    line = "By then the wall had been patched four times."
    assert line in body_texts(extract(page(f"<p>{line}</p>")))


CHROME_LINES = ["Comments", "12 comments", "Post Comment (+)", "Advert", "Advertisement", "Tempo de leitura: 2 minutos",
                "5 min read", "Breaking News", "SUBSCRIBE"]  # fmt: skip


@pytest.mark.parametrize("line", CHROME_LINES)
def test_a_chrome_line_is_dropped(line: str) -> None:
    assert line not in body_texts(extract(page(f"<div>{line}</div>")))


def test_a_more_from_block_goes_up_to_the_next_prose() -> None:
    block = (
        "<h3>More Great Harbour Stories</h3><ul>"
        '<li><a href="/a">Ferry timetable changes</a> for the winter, from the first of November</li>'
        '<li><a href="/b">The lighthouse keeper retires</a> after forty years on the point</li></ul>'
    )
    article = extract(page(block))
    texts = body_texts(article)
    assert not [text for text in texts if "Harbour Stories" in text or "Ferry" in text or "lighthouse" in text]
    assert LAST in texts


def test_a_short_heading_that_is_no_section_head_keeps_what_follows() -> None:
    block = "<h3>What the engineers found</h3><ul><li>Cracks in the north section</li></ul>"
    texts = body_texts(extract(page(block)))
    assert "What the engineers found" in texts and "Cracks in the north section" in texts


def test_a_heading_like_a_section_head_but_not_one_keeps_what_follows() -> None:
    block = "<h3>Trending down since 2010</h3><ul><li>Two hours of work in high wind</li></ul>"
    texts = body_texts(extract(page(block)))
    assert "Trending down since 2010" in texts and "Two hours of work in high wind" in texts


def test_a_teaser_shown_again_outside_the_article_is_dropped() -> None:
    teaser = "Fishing fleet sets a record for the autumn catch"
    outside = f'<ul><li><a href="/fleet">{teaser}</a></li><li><a href="/x">Other news of the day</a></li></ul>'
    article = extract(page(after=f"<p>{teaser}</p>", outside=outside))
    assert teaser not in body_texts(article)


def test_the_lead_shown_again_outside_the_article_stays() -> None:
    outside = f'<ul><li><a href="/wall">{LEAD}</a></li></ul>'
    more = "".join(f"<p>{text}</p>" for text in PROSE[1:])  # the lead a small part of a longer article
    assert LEAD in body_texts(extract(page(after=more, outside=outside)))


def test_an_article_printed_twice_keeps_its_paragraphs() -> None:
    short = [
        "The wall will be two metres higher than the old one.",
        "Fishing boats keep their moorings during the works.",
        "The ferry moves to the east pier until next summer.",
    ]
    inside = "".join(f"<p>{text}</p>" for text in short)
    printed = "".join(f"<p>{text}</p>" for text in PROSE) + inside
    article = extract(page(after=inside, outside=f'<div class="print-copy">{printed}</div>'))
    assert all(text in body_texts(article) for text in short)


def test_a_heading_repeating_the_title_is_the_headline() -> None:
    title = "Council votes to rebuild the harbour wall"
    article = extract(page(f"<h2>{title}</h2>", head="Harbour Times", title=title))
    assert title not in body_texts(article)


# Promos and staff credits: kept, marked.


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Follow The Harbour Times Opinion section on Facebook, Twitter and Instagram.", "promo"),
        ("Subscribe to Harbour Weekly and stay smart with more of your favourite writers.", "promo"),
        ("Like this story? Share it with a friend!", "share_prompt"),
        ("There's plenty more where that came from. Sign up today to get the free daily newsletter.", "newsletter"),
        ("(Reporting by Jane Doe; editing by John Roe)", "byline"),
        ("Reporting by Jane Doe; additional reporting by Max Muster; Editing by John Roe", "byline"),
        ("Jane Doe contributed reporting from Hong Kong.", "byline"),
    ],
)
def test_promos_and_staff_credits_are_marked(text: str, label: str) -> None:
    assert boilerplate_of(text) == label
    article = extract(page(after=f"<p>{text}</p>"))
    assert label_of(article, text) == label
    assert text not in body_texts(article)


@pytest.mark.parametrize(
    "text",
    [
        "Follow the money, the auditors said, and the cost of the wall doubles.",
        "Subscribers to the harbour fund were told of the vote by letter.",
        "The editing of the report by the council took a month.",
    ],
)
def test_sentences_like_promos_stay_the_articles(text: str) -> None:
    assert boilerplate_of(text) is None
