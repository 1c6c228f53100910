"""Bad input for the extractor (html5lib's inputs, deep nesting, huge pages, binary bodies, empty
articles), encodings, credit lines and the API shape.

These tests check behaviour only; how long the hostile inputs take is measured by
``bench/hostile.py`` (the machines are shared, so time is never asserted here).
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import shared_data

from crawlers.article import ArticleState, BlockKind
from crawlers.attribution import boilerplate_of, credit_of
from crawlers.charset import decode_text, prescan, sniff_binary
from crawlers.extract import article_to_dict, extract
from crawlers.files import read_file
from reuse.errors import InputError

PARAGRAPH = (
    "The council approved the new budget on Tuesday, after a long debate in which residents, teachers and "
    "shop owners asked for more money for libraries, buses and the repair of roads in the old town."
)


def html5lib_inputs(root: Path) -> list[str]:
    """The html5lib-tests inputs: every tree-construction ``#data`` and every tokenizer ``input``."""
    inputs: list[str] = []
    for path in sorted((root / "tree-construction").glob("*.dat")):
        chunks = path.read_text(encoding="utf-8").split("#data\n")[1:]
        inputs.extend(chunk.split("\n#errors")[0] for chunk in chunks)
    for path in sorted((root / "tokenizer").glob("*.test")):
        tests = json.loads(path.read_text(encoding="utf-8"))
        for case in tests.get("tests", []) + tests.get("xmlViolationTests", []):
            text = case["input"]
            # Tokenizer inputs marked doubleEscaped hold \uXXXX escapes for lone surrogates.
            inputs.append(text.encode("utf-8").decode("unicode_escape") if case.get("doubleEscaped") else text)
    return inputs


def _page(body: str, head: str = "", lang: str = "en") -> str:
    return f"<!DOCTYPE html><html lang='{lang}'><head>{head}<title>T</title></head><body>{body}</body></html>"


# --- binary served as text/html: no document ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"\x89PNG\r\n\x1a\n" + os.urandom(2000),
        b"%PDF-1.7\n" + os.urandom(2000),
        b"PK\x03\x04" + os.urandom(2000),
        gzip.compress(gzip.compress(b"<html>" * 1000)),
        "<html><body><p>hello</p></body></html>".encode("utf-16-le"),
    ],
    ids=["png", "pdf", "zip", "gzip-in-gzip", "utf16-no-bom"],
)
def test_binary_is_not_text(body: bytes) -> None:
    article = extract(body, {"Content-Type": "text/html"})
    assert article.state is ArticleState.NOT_TEXT
    assert article.paragraphs == ()


def test_ten_megabytes_of_noise_is_not_text() -> None:
    article = extract(os.urandom(10 * 1024 * 1024), {"Content-Type": "text/html"})
    assert article.state is ArticleState.NOT_TEXT


def test_utf16_with_bom_is_text() -> None:
    body = codecs.BOM_UTF16_LE + _page(f"<article><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></article>").encode("utf-16-le")
    assert sniff_binary(body) is None
    assert extract(body).state is ArticleState.OK


# --- deep nesting and huge pages: no RecursionError --------------------------------------------------


@pytest.mark.parametrize(
    "markup",
    ["<div>" * 100_000 + PARAGRAPH + "</div>" * 100_000, "<table>" * 10_000 + PARAGRAPH, "<b><i>" * 50_000 + PARAGRAPH],
    ids=["div-100000", "table-10000", "b-i-50000"],
)
def test_deep_nesting_is_bounded(markup: str) -> None:
    article = extract(_page(markup).encode())
    assert article.state in (ArticleState.OK, ArticleState.EMPTY, ArticleState.TOO_COMPLEX)


def test_eight_mebibyte_page_is_read_whole() -> None:
    body = _page("<article>" + f"<p>{PARAGRAPH} {PARAGRAPH[:20]}</p>" * 40_000 + "</article>").encode()
    assert len(body) > 8 * 1024 * 1024
    article = extract(body)
    assert article.state is ArticleState.OK
    assert len(article.paragraphs) == 40_000


@pytest.mark.parametrize(
    "markup",
    ["<p>unclosed <b>bold <i>both</p> after", "<table><tr><td><p>cell</table></p>", "</div></div><p>x", "<<<>>>&&&;;"],
)
def test_broken_markup_never_raises(markup: str) -> None:
    assert extract(_page(markup).encode()).state in set(ArticleState)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_give_an_article(body: bytes) -> None:
    article = extract(body)
    assert article.text == "\n\n".join(block.text for block in article.paragraphs)


def test_html5lib_inputs_never_raise() -> None:
    inputs = html5lib_inputs(shared_data("html5lib-tests"))
    assert len(inputs) > 1500 + 6000
    for markup in inputs:
        article = extract(markup.encode("utf-8", "surrogatepass"))
        assert article.text == "\n\n".join(block.text for block in article.paragraphs)


# --- encodings: the html5lib sniffing cases, BOM over header over meta ------------------------------


def test_html5lib_encoding_prescan() -> None:
    html5lib = shared_data("html5lib-tests")
    cases = []
    # encoding/scripted/ needs a script to run (document.write of a <meta>): no extractor does that.
    for path in sorted((html5lib / "encoding").glob("*.dat")):
        for chunk in path.read_bytes().split(b"#data\n")[1:]:
            data, _, rest = chunk.partition(b"#encoding\n")
            cases.append((data, rest.split(b"\n")[0].decode().strip().lower()))
    assert len(cases) >= 80
    sniffed = ["utf-8" if data.startswith(codecs.BOM_UTF8) else prescan(data) or "windows-1252" for data, _ in cases]
    wrong = [(data[:60], want, got) for (data, want), got in zip(cases, sniffed, strict=True) if got != want]
    assert not wrong


TEXTS = {
    "windows-1251": "Мэрия Новосибирска объявила, что новая станция метро откроется для пассажиров в конце декабря. "
    * 4,
    "shift_jis": "京都市東山区にある創業百五十年の老舗旅館が、約一年半にわたる改装工事を終え、今月から営業を再開した。"
    * 4,
    "gb18030": "市园林局宣布，从下月起，市中心的三座公园将在周五和周六延长开放时间至晚上十一点，以满足市民需求。" * 4,
    "iso-8859-2": "Zastupitelstvo města Brna schválilo plán na výstavbu jedenácti kilometrů nových cyklostezek. Podle "
    "náměstka primátora bude nejdelší úsek vést podél řeky Svratky, část nákladů pokryjí evropské dotace. " * 4,
    "utf-8": "Zastupitelstvo města Brna schválilo plán — «Спортивная» — 京都市東山区 and a café. " * 4,
}


@pytest.mark.parametrize("encoding", sorted(TEXTS))
@pytest.mark.parametrize("variant", ["header", "meta", "bom-beats-header", "undeclared"])
def test_charsets(encoding: str, variant: str) -> None:
    text = TEXTS[encoding]
    meta = f'<meta charset="{encoding}">' if variant == "meta" else ""
    html = _page(f"<article><p>{text}</p><p>{text}</p></article>", meta)
    headers = {"Content-Type": f"text/html; charset={encoding}"} if variant == "header" else {}
    if variant == "bom-beats-header":
        body, headers = codecs.BOM_UTF8 + html.encode("utf-8"), {"Content-Type": f"text/html; charset={encoding}"}
        if encoding == "utf-8":
            headers = {"Content-Type": "text/html; charset=windows-1251"}
    else:
        body = html.encode(encoding)
    decoded = decode_text(body, headers.get("Content-Type"))
    if variant != "undeclared" or encoding == "utf-8":
        assert text in decoded.text, (decoded.encoding, decoded.source)
    else:
        assert decoded.source in ("detected", "utf-8-trial")
        same = sum(a == b for a, b in zip(decoded.text, html, strict=False))
        assert same / len(html) >= 0.98, decoded.encoding
    article = extract(body, headers)
    assert article.state is ArticleState.OK
    assert "\ufffd" not in article.text or variant == "undeclared"


def test_declared_encodings_are_trusted_before_statistics() -> None:
    body = _page(f"<p>{PARAGRAPH}</p>", '<meta charset="iso-8859-2">').encode("iso-8859-2")
    assert decode_text(body).source == "meta"
    assert decode_text(body, "text/html; charset=utf-8").source == "header"
    assert decode_text(PARAGRAPH.encode()).source == "utf-8-trial"


# --- pages without an article: stored with a state, no fingerprints ----------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "<div class='consent'><p>We use cookies. Accept all cookies to continue to the site.</p></div>",
            "cookie_wall",
        ),
        ("<div id='app'><p>Please enable JavaScript to view this page.</p></div>", "js_required"),
        ("<h1>Page not found</h1><p>Sorry, the page could not be found.</p>", "not_found"),
        ("", "no_text"),
    ],
)
def test_stub_pages_are_empty_with_a_reason(body: str, reason: str) -> None:
    article = extract(_page(body).encode())
    assert article.state is ArticleState.EMPTY
    assert article.reason == reason
    assert article.paragraphs == () and article.text == ""


# --- credit lines and boilerplate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "outlet"),
    [
        ("The original source of this article is South Front", "South Front"),
        ("Originally published at Consortium News on May 3, 2021.", "Consortium News"),
        ("This article first appeared on The Conversation.", "The Conversation"),
        ("Republished from Mother Jones with permission.", "Mother Jones with permission"),
        ("Source: Reuters", "Reuters"),
        ("Cet article a été publié initialement sur Le Monde diplomatique.", "Le Monde diplomatique"),
        ("Source : Agence France-Presse", "Agence France-Presse"),
        ("Dieser Artikel erschien zuerst auf Telepolis.", "Telepolis"),
        ("Quelle: Der Spiegel", "Der Spiegel"),
        ("Este artículo fue publicado originalmente en El Salto.", "El Salto"),
        ("Fuente: El País, 3 de mayo", "El País"),
        ("Источник: РИА Новости", "РИА Новости"),
        ("Статья впервые опубликована на сайте Коммерсант.", "Коммерсант"),
    ],
)
def test_credit_lines_in_five_languages(line: str, outlet: str) -> None:
    found = credit_of(line)
    assert found is not None
    assert found.outlet == outlet
    assert boilerplate_of(line) == "attribution"


def test_credit_url_written_in_the_line() -> None:
    found = credit_of("Republished from https://example.org/a/b with permission.")
    assert found is not None and found.url == "https://example.org/a/b"


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("SUPPORT SOUTHFRONT:", "donation"),
        ("PayPal: southfront@list.ru, http://southfront.org/donate/", "donation"),
        ("Note to readers: please click the share buttons above or below.", "share_prompt"),
        ("Copyright © South Front, 2020", "copyright"),
        ("Disclaimer: The contents of this article are of sole responsibility of the author(s).", "disclaimer"),
        ("Become a Member of Global Research", "promo"),
        ("Sources say the army advanced on Tuesday, with heavy losses, and PayPal was not involved.", None),
    ],
)
def test_boilerplate_labels(line: str, label: str | None) -> None:
    assert boilerplate_of(line) == label


# --- the API shape and the file reader ----------------------------------------------------------------


def test_article_to_dict_has_the_cli_fields() -> None:
    head = (
        '<link rel="canonical" href="/a/b"><meta property="article:published_time" content="2020-11-05T09:14:02-05:00">'
        '<meta name="author" content="Ann Lee">'
    )
    body = (
        f"<article><h1>T</h1><p>{PARAGRAPH} <a href='/x'>a link</a></p><h2>Sub</h2>"
        f"<ul><li>{PARAGRAPH}</li></ul></article>"
    )
    data = article_to_dict(extract(_page(body, head).encode(), url="https://news.example/a/b?x=1"))
    for key in ("title", "published", "modified", "authors", "site", "language", "canonical_url", "paragraphs",
                "links", "attribution", "boilerplate"):  # fmt: skip
        assert key in data
    assert data["published"] == "2020-11-05T09:14:02-05:00"
    assert data["canonical_url"] == "https://news.example/a/b"
    assert data["authors"] == ["Ann Lee"]
    assert [p["kind"] for p in data["paragraphs"]] == [BlockKind.PARAGRAPH, BlockKind.HEADING, BlockKind.LIST_ITEM]
    assert data["links"] == [{"href": "https://news.example/x", "text": "a link", "paragraph": 0}]


def test_files_reader_uses_the_extractor(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(_page(f"<nav><a href='/'>Home</a></nav><article><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></article>"))
    (document,) = list(read_file(page))
    assert not isinstance(document, InputError)
    assert document.text == f"{PARAGRAPH}\n\n{PARAGRAPH}"
    empty = tmp_path / "empty.html"
    empty.write_text(_page("<div><p>We use cookies. Accept all cookies to continue.</p></div>"))
    (error,) = list(read_file(empty))
    assert isinstance(error, InputError) and "cookie_wall" in error.reason
