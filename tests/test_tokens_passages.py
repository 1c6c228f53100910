"""Tests of reuse.engine.tokens (words with original offsets) and reuse.engine.passages (paragraphs, windows)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reuse.config import Settings
from reuse.engine.normalize import normalize
from reuse.engine.passages import paragraph_spans, passages
from reuse.engine.tokens import tokenize
from reuse.models import PassageKind

SETTINGS = Settings()

_WORDS = [
    "harbour", "bridge", "council", "engineers", "cracks", "piers", "commuters", "ferry", "capacity",
    "closure", "months", "replacement", "crossing", "tender", "estimate", "divers", "survey", "foundations",
    "shopkeepers", "river", "customers", "bankruptcy", "warnings", "structure", "inspection", "repairs",
    "budget", "spokesperson", "transport", "authority", "bicycle", "parking", "shuttle", "tunnel",
]  # fmt: skip


def _sentence(k: int, n: int = 12) -> str:
    """A deterministic sentence of ``n`` words (k varies the words)."""
    words = [_WORDS[(k * 7 + i * 3) % len(_WORDS)] for i in range(n)]
    return " ".join(words).capitalize() + "."


def _slices(text: str, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    return [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


# --- tokens -------------------------------------------------------------------------------------


def test_spaced_text_tokens_and_offsets() -> None:
    text = "  The Quick-brown fox, 42 times!\n\nIt's  done_now."
    tokens = tokenize(text)
    assert tokens.words == ["the", "quick", "brown", "fox", "42", "times", "it", "s", "done", "now"]
    assert _slices(text, tokens.starts, tokens.ends) == [
        "The", "Quick", "brown", "fox", "42", "times", "It", "s", "done", "now",
    ]  # fmt: skip
    assert not tokens.unspaced.any()
    assert len(tokens) == 10
    assert tokens.normalized.text == normalize(text).text


@pytest.mark.parametrize(
    ("text", "words", "slices"),
    [
        ("Ça ﬁnit à l\u2019été", ["ça", "finit", "à", "l", "été"], ["Ça", "ﬁnit", "à", "l", "été"]),
        ("co\u00adop\u200beration works", ["cooperation", "works"], ["co\u00adop\u200beration", "works"]),
        ("cafe\u0301 Straße", ["café", "strasse"], ["cafe\u0301", "Straße"]),
        ("\ufeffＦＵＬＬ ｗｉｄｔｈ", ["full", "width"], ["ＦＵＬＬ", "ｗｉｄｔｈ"]),
        ("\u201cQuoted\u201d \u2014 text", ["quoted", "text"], ["Quoted", "text"]),
        ("русский язык, Ελληνικά", ["русский", "язык", "ελληνικά"], ["русский", "язык", "Ελληνικά"]),
    ],
)
def test_offsets_point_at_the_original_word(text: str, words: list[str], slices: list[str]) -> None:
    tokens = tokenize(text)
    assert tokens.words == words
    assert _slices(text, tokens.starts, tokens.ends) == slices
    assert not tokens.unspaced.any()


@pytest.mark.parametrize(
    ("text", "words", "unspaced"),
    [
        ("日本語のテキスト", list("日本語のテキスト"), [True] * 8),
        ("北京市政府宣布", list("北京市政府宣布"), [True] * 7),
        ("ภาษาไทย", ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"], [True] * 7),
        # Mixed: Latin words inside unspaced text stay whole words.
        ("东京2020奥运会 and Tokyo", ["东", "京", "2020", "奥", "运", "会", "and", "tokyo"],
         [True, True, False, True, True, True, False, False]),
        # Full-width digits fold to ASCII and stay one word.
        ("第１２３号", ["第", "123", "号"], [True, False, True]),
    ],
)  # fmt: skip
def test_unspaced_scripts_are_cut_into_characters(text: str, words: list[str], unspaced: list[bool]) -> None:
    tokens = tokenize(text)
    assert tokens.words == words
    assert tokens.unspaced.tolist() == unspaced
    for word, piece in zip(tokens.words, _slices(text, tokens.starts, tokens.ends), strict=True):
        assert normalize(piece).text == word


def test_indic_words_keep_their_vowel_signs() -> None:
    assert tokenize("हिन्दी भाषा").words == ["हिन्दी", "भाषा"]


def test_thai_marks_are_not_lost() -> None:
    assert tokenize("สวัสดี").words != tokenize("สวสด").words


def test_empty_and_symbol_only_text_has_no_tokens() -> None:
    for text in ("", "   \n ", "!!! --- ...", "\u200b\u00ad"):
        tokens = tokenize(text)
        assert len(tokens) == 0
        assert tokens.starts.size == tokens.ends.size == tokens.unspaced.size == 0


_TOKEN_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["Ça", "ﬁne", "Straße", "co\u00adop", "na\u200bme", "e\u0301t\u00e9", "東京", "x²"]),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=6),
    ),
    max_size=12,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_TOKEN_TEXT)
def test_token_offsets_are_ordered_and_slice_back_to_the_word(text: str) -> None:
    tokens = tokenize(text)
    starts, ends = tokens.starts.tolist(), tokens.ends.tolist()
    assert starts == sorted(starts)
    for word, start, end in zip(tokens.words, starts, ends, strict=True):
        assert word
        assert 0 <= start < end <= len(text)
        # The original slice normalises to text holding the word: exactly the word, or more when
        # one original character expands to several tokens ("¼" -> "1⁄4") or carries extra marks.
        assert word in normalize(text[start:end]).text


# --- paragraphs ---------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    return [text[s:e] for s, e in paragraph_spans(text)]


def test_paragraphs_on_blank_lines() -> None:
    text = "\n  First para line one.\nline two.\n\n \t\n  Second para.  \r\n\r\nThird.\n\n\n"
    assert _paragraphs(text) == ["First para line one.\nline two.", "Second para.", "Third."]


def test_paragraphs_on_single_newlines_are_lines() -> None:
    text = "Title of the piece\nA first line of text.\r\nAnother line.\n\n"[:-2]
    assert _paragraphs(text) == ["Title of the piece", "A first line of text.", "Another line."]


def _hard_wrap(text: str, width: int = 72) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def test_hard_wrapped_text_is_one_paragraph() -> None:
    text = _hard_wrap(" ".join(_sentence(k) for k in range(8)))
    assert text.count("\n") >= 6
    assert paragraph_spans(text) == [(0, len(text))]


def test_hard_wrapped_paragraphs_separated_by_blank_lines() -> None:
    para = "\n".join(_sentence(k, 10) for k in range(5))
    text = para + "\n\n" + para.upper()
    assert _paragraphs(text) == [para, para.upper()]


def test_short_lines_are_not_taken_for_hard_wrapping() -> None:
    text = "\n".join(["Menu", "Home", "About us", "Contact", "Donate now"])
    assert _paragraphs(text) == ["Menu", "Home", "About us", "Contact", "Donate now"]


def test_empty_text_has_no_paragraphs() -> None:
    assert paragraph_spans("") == []
    assert paragraph_spans(" \n\n\t \n") == []


def test_text_without_newlines_is_at_least_one_paragraph() -> None:
    text = "  " + " ".join(_sentence(k) for k in range(3)) + "  "
    assert _paragraphs(text) == [text.strip()]


@pytest.mark.parametrize("wrapped", [False, True], ids=["one-line", "hard-wrapped"])
def test_long_text_without_paragraph_breaks_is_cut_at_sentence_ends(wrapped: bool) -> None:
    """Issue 2: text without blank lines gets sensible paragraphs (lines, then sentences)."""
    sentences = [_sentence(k, 15) for k in range(40)]
    text = " ".join(sentences)
    if wrapped:
        text = _hard_wrap(text)
    spans = paragraph_spans(text)
    assert len(spans) > 1
    pieces = [text[s:e] for s, e in spans]
    for piece in pieces:
        assert piece[0].isupper() and piece.endswith(".")  # whole sentences only
        assert len(piece) < len(text) / 2
    # Nothing is lost or repeated: the pieces are the text, in order, up to whitespace.
    assert " ".join(" ".join(pieces).split()) == " ".join(sentences)
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)


@pytest.mark.parametrize("stop", ["\u06d4", "\u0964", "\u0589", "\u3002"])
def test_a_long_text_is_cut_at_the_full_stops_of_other_scripts_as_at_periods(stop: str) -> None:
    """The Urdu, Devanagari, Armenian and CJK full stops end the sentences a long paragraph is cut
    at, as "." does (the stop replaced one for one, so the cuts fall at the same offsets)."""
    text = " ".join(_sentence(k, 15) for k in range(40))
    assert len(paragraph_spans(text)) > 1
    assert paragraph_spans(text.replace(".", stop)) == paragraph_spans(text)


# --- passages -----------------------------------------------------------------------------------


def _check_passages(text: str) -> None:
    tokens = tokenize(text)
    cut = passages(text, tokens, SETTINGS)
    seen = set()
    for position, p in enumerate(cut):
        assert p.position == position
        assert 0 <= p.token_start < p.token_end <= len(tokens)
        assert p.token_end - p.token_start >= SETTINGS.min_tokens
        assert 0 <= p.char_start < p.char_end <= len(text)
        assert p.char_start == tokens.starts[p.token_start]
        assert p.char_end == tokens.ends[p.token_end - 1]
        assert (p.token_start, p.token_end) not in seen  # nothing is fingerprinted twice
        seen.add((p.token_start, p.token_end))
        if p.kind is PassageKind.WINDOW:
            assert p.token_end - p.token_start <= SETTINGS.window_tokens
    assert [(p.token_start, -p.token_end) for p in cut] == sorted((p.token_start, -p.token_end) for p in cut)


def test_short_paragraphs_get_no_passage() -> None:
    long_para = _sentence(1, 20)
    text = f"Short.\n\nAnother short one.\n\n{long_para}\n\nSeven words are not quite enough here."
    cut = passages(text, tokenize(text), SETTINGS)
    assert len(cut) == 1
    assert cut[0].kind is PassageKind.PARAGRAPH
    assert text[cut[0].char_start : cut[0].char_end] == long_para[:-1]  # the final "." is no token
    _check_passages(text)


@pytest.mark.parametrize("text", ["", "Five words are not enough.", "one two three four five six seven"])
def test_too_short_documents_have_no_passage(text: str) -> None:
    assert passages(text, tokenize(text), SETTINGS) == []


def test_short_paragraphs_together_make_one_window() -> None:
    text = "Menu home about.\n\nFive tiny words right here.\n\nAnd three more."
    cut = passages(text, tokenize(text), SETTINGS)
    assert [(p.kind, p.token_start, p.token_end) for p in cut] == [(PassageKind.WINDOW, 0, 11)]


def test_long_paragraph_gets_overlapping_windows() -> None:
    words = [_WORDS[i % len(_WORDS)] for i in range(100)]
    text = " ".join(words)
    cut = passages(text, tokenize(text), SETTINGS)
    size, step = SETTINGS.window_tokens, SETTINGS.window_step
    paragraphs = [(p.token_start, p.token_end) for p in cut if p.kind is PassageKind.PARAGRAPH]
    windows = [(p.token_start, p.token_end) for p in cut if p.kind is PassageKind.WINDOW]
    assert paragraphs == [(0, 100)]
    assert windows == [(t, t + size) for t in range(0, 100 - size + 1, step)]
    _check_passages(text)


def test_tail_of_the_document_gets_a_full_window() -> None:
    size, step = SETTINGS.window_tokens, SETTINGS.window_step
    count = 2 * size + step // 2 + 1  # the regular windows stop short of the end
    text = " ".join(_WORDS[i % len(_WORDS)] for i in range(count))
    windows = [(p.token_start, p.token_end) for p in passages(text, tokenize(text), SETTINGS) if p.kind == "window"]
    assert windows[-1] == (count - size, count)
    assert windows[:-1] == [(t, t + size) for t in range(0, count - size + 1, step)]


def test_windows_span_paragraph_borders() -> None:
    paras = [_sentence(k, 25) for k in range(4)]
    text = "\n\n".join(paras)
    cut = passages(text, tokenize(text), SETTINGS)
    assert [p.kind for p in cut].count(PassageKind.PARAGRAPH) == 4
    # Windows run over the whole document: some take the end of one paragraph and the start of the next.
    windows = [text[p.char_start : p.char_end] for p in cut if p.kind is PassageKind.WINDOW]
    assert windows
    assert any("\n\n" in w for w in windows)
    _check_passages(text)


def test_unspaced_passage_is_flagged() -> None:
    text = "北京市政府星期二宣布由于工程师在两座桥墩中发现了严重裂缝\n\nThe council said so in a statement today."
    cut = passages(text, tokenize(text), SETTINGS)
    flags = {text[p.char_start : p.char_end]: p.unspaced for p in cut if p.kind is PassageKind.PARAGRAPH}
    assert flags == {
        "北京市政府星期二宣布由于工程师在两座桥墩中发现了严重裂缝": True,
        "The council said so in a statement today": False,
    }


_DOC = st.lists(
    st.tuples(
        st.lists(st.sampled_from([*_WORDS[:12], "Ça", "ﬁne", "東京都", "x\u200by", "--"]), max_size=60),
        st.sampled_from([" ", "\n", "\n\n", " \n \n", ". "]),
    ),
    max_size=8,
).map(lambda parts: "".join(" ".join(words) + sep for words, sep in parts))


@settings(max_examples=150, deadline=None)
@given(_DOC)
def test_passages_always_lie_within_the_text(text: str) -> None:
    _check_passages(text)
    for start, end in paragraph_spans(text):
        assert 0 <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        assert not re.search(r"\n[ \t]*\n", text[start:end])
