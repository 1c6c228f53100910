"""The native normaliser, tokeniser and passage cutter against their oracle, the Python engine.

``reuse.engine._native.normalize``, ``tokenize``, ``paragraph_spans``, ``passages`` and
``block_hashes`` must give exactly what ``reuse.engine.normalize``, ``tokens`` (with
``shingles.token_hashes``), ``passages`` and ``boilerplate.block_hash`` give: every output
array is compared whole, on generated text (all planes, lone surrogates, spaceless scripts with
their marks, scripts mixed inside a word, every kind of whitespace, marks after ASCII, empty and
long texts), on every code point, and on real article bodies when ../shared/data is present. The
Unicode tables the native side reads are generated from this interpreter
(scripts/unicode_tables.py); a test fails when the checked-in file is stale.
"""

from __future__ import annotations

import gzip
import importlib.util
import itertools
import json
import random
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.analysis import analyse_many
from reuse.engine.boilerplate import block_hash
from reuse.engine.normalize import normalize
from reuse.engine.passages import paragraph_spans, passages
from reuse.engine.seeds import sentence_starts
from reuse.engine.shingles import stem_hashes, token_hashes
from reuse.engine.tokens import tokenize
from reuse.models import PassageKind

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT.parent / "shared" / "data" / "article-extraction-benchmark-dev" / "ground-truth.json"

#: Every code point but the surrogates, which a Rust string cannot hold.
_SCALARS = [chr(cp) for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]
_SPACES = [c for c in _SCALARS if c.isspace()]
_MARKS = [c for c in _SCALARS if unicodedata.combining(c)]
_UNSPACED = [
    "\u0e01\u0e48\u0e32\u0e19\u0e49\u0e33",  # Thai with tone marks and vowels
    "\u0ea5\u0eb2\u0ea7",  # Lao
    "\u1019\u103c\u1014\u103a\u1019\u102c",  # Myanmar with medials and asat
    "\u1781\u17d2\u1798\u17c2\u179a",  # Khmer with coeng and vowel signs
    "\u3072\u3089\u304c\u306a\u30ab\u30bf\u30ab\u30ca\u30ac\u3099",  # kana, a voiced mark
    "\u6f22\u5b57\u4e2d\u6587\u3400\U00020000\U0002a6d6\uf900",  # CJK, extensions, compatibility
]
_PIECES = [
    "The", "harbour", "BRIDGE", "café", "cafe\u0301", "naïve", "e\u0301\u0323", "a\u0345", "Ǆ",
    "straße", "ﬁnance", "\u00a8", "\ufdfa", "\u2460", "x\u00b2", "\uff21\uff22", "\u1100\u1161\u11a8",
    "\uac00\u0301", "\u2018q\u2019", "\u201cq\u201d", "a\u2014b", "``", "don't", "1,234.5", "\u200b",
    "\u00ad", "\u200d", "\ufeff", "\x00", "\x07\u0301", "\x7f", "\ue000", "\U000f0000", "\U0001f600",
    "\u0915\u094d\u0937", "\u05e9\u05c1\u05b8", "\u0627\u064e", ". ", "! ", '?" ', "\u3002", "\uff01",
    "\u0301", "Ab\u0301c", "ab cd\u0301", "\u0391\u0342\u0345", "\u0130", "\u03a3\u03a3", "\u1e9e",
    # Arabic script: harakat, tatweel, alef forms, Persian yeh and keheh, presentation forms whose
    # NFKC is a space and a mark (U+FE70, U+FC5E), a medial ligature of tatweel and marks (U+FCF2).
    "\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u0651", "\u0643\u0640\u0640\u062a\u0627\u0628",
    "\u0623\u0625\u0622\u0671", "\u06a9\u06cc\u0649", "\ufe70", "x\ufc5e", "\ufcf2", "\u064b\u0670",
    "\u064a\u0654", "\u06cc\u0654", "\ufeef\ufbfc", "\u0627\u0653",
    # Heh goal, its forms with hamza (composed or not), teh marbuta; the decimal digits of other
    # scripts (Arabic-Indic, Persian and Urdu, Devanagari, Thai, mathematical), one with a mark.
    "\u06c1\u06c2\u06c0\u06c3\u0629", "\u06c1\u0654", "\u06d5\u0654", "\u0663\u0301", "\u06d3", "\u06d2\u0654\u0301",
    "\u0626\u06d2\u0624",
    "\u06f2\u06f0\u06f1\u06f4", "\u0968\u0966", "\u0e54\u0e52", "\U0001d7ce\uff13", "\u0660.\u0665",
    # Hebrew with points and cantillation, its presentation forms; Russian ё composed and not.
    "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd", "\ufb2a\ufb4f\u05d1\u05bc\u0591", "\u0401\u0451\u0435\u0308",
    *_UNSPACED,
]  # fmt: skip
_WHITESPACE = [" ", "  ", "\n", "\n\n", "\n \u00a0\t\n", "\r\n", "\r", "\t", "\u3000", "\u2029", "\x1c", "\x85"]


def _pieces() -> st.SearchStrategy[str]:
    """Words, marks, spaceless scripts and oddities, and single characters of any plane."""
    return st.one_of(
        st.sampled_from(_PIECES),
        st.sampled_from(_UNSPACED).map(lambda s: s[: len(s) // 2]),
        st.characters(exclude_categories=("Cs",)),
        st.tuples(
            st.sampled_from("aZ9\u0e01\u4e00\u0915\u03b1\u0663\u06c1"), st.lists(st.sampled_from(_MARKS), max_size=3)
        ).map(lambda t: t[0] + "".join(t[1])),
    )


@st.composite
def texts(draw: st.DrawFn) -> str:
    """A text of words, scripts mixed inside a word or not, and whitespace runs of every kind."""
    parts = []
    for _ in range(draw(st.integers(0, 60))):
        word = "".join(draw(st.lists(_pieces(), min_size=1, max_size=4)))
        parts.append(word)
        gap = draw(st.one_of(st.sampled_from(_WHITESPACE), st.lists(st.sampled_from(_SPACES), max_size=3).map("".join)))
        parts.append(gap)
    return "".join(parts)


def _reference_normalize(text: str) -> tuple[str, np.ndarray, np.ndarray]:
    n = normalize(text)
    return n.text, np.asarray(n.starts, dtype=np.int64), np.asarray(n.ends, dtype=np.int64)


def _assert_normalize_equal(text: str) -> None:
    native = _native.normalize(text)
    reference = _reference_normalize(text)
    assert native[0] == reference[0]
    assert native[1].dtype == native[2].dtype == np.int64
    assert np.array_equal(native[1], reference[1]) and np.array_equal(native[2], reference[2])


def _assert_tokens_equal(text: str) -> None:
    hashes, starts, ends, unspaced, lengths, stems = _native.tokenize(text)
    reference = tokenize(text)
    assert hashes.dtype == stems.dtype == np.uint64 and unspaced.dtype == np.bool_ and lengths.dtype == np.int64
    assert np.array_equal(hashes, token_hashes(reference.words))
    assert np.array_equal(stems, stem_hashes(reference.words))
    assert np.array_equal(starts, reference.starts) and np.array_equal(ends, reference.ends)
    assert np.array_equal(unspaced, reference.unspaced)
    assert lengths.tolist() == [len(w) for w in reference.words]


def _reference_passages(text: str, config: Settings) -> np.ndarray:
    rows = [
        (
            0 if p.kind is PassageKind.PARAGRAPH else 1,
            p.token_start,
            p.token_end,
            p.char_start,
            p.char_end,
            int(p.unspaced),
        )
        for p in passages(text, tokenize(text), config)
    ]
    return np.array(rows, dtype=np.int64).reshape(-1, 6)


def _assert_passages_equal(text: str, config: Settings) -> None:
    spans = _native.paragraph_spans(text)
    assert spans.dtype == np.int64
    assert spans.reshape(-1, 2).tolist() == [list(s) for s in paragraph_spans(text)]
    native = _native.passages(text, config.min_tokens, config.window_tokens, config.window_step)
    assert native.dtype == np.int64 and native.shape[1] == 6
    assert np.array_equal(native, _reference_passages(text, config))


def _assert_sentences_equal(text: str) -> None:
    """The tokens where sentences start, as the native analysis finds them, are the reference's."""
    reference = tokenize(text)
    native = analyse_many([text], Settings(), signatures=False)[0].sentences
    expected = sentence_starts(text, np.asarray(reference.starts, np.int64), np.asarray(reference.ends, np.int64))
    assert native.dtype == np.int64
    assert np.array_equal(native, expected)


def _assert_block_hashes_equal(text: str) -> None:
    """Block hashes of the text's paragraphs, of all of it, of pieces cut anywhere (through marks
    and surrogate pairs' places) and of spans past its end, as a Python slice clamps them."""
    n = len(text)
    cuts = sorted({0, n, n + 5, *range(0, n, max(1, n // 7))})
    spans = [*paragraph_spans(text), *itertools.pairwise(cuts), (0, n), (3, 1), (n + 2, n + 9)]
    starts = np.array([s for s, _ in spans], np.int64)
    ends = np.array([e for _, e in spans], np.int64)
    found = _native.block_hashes(["other text", text], np.ones(len(spans), np.int64), starts, ends)
    assert found.dtype == np.uint64
    assert found.tolist() == [block_hash(text[s:e]) for s, e in spans]


def _assert_all_equal(text: str, config: Settings | None = None) -> None:
    _assert_block_hashes_equal(text)
    _assert_normalize_equal(text)
    _assert_tokens_equal(text)
    _assert_passages_equal(text, config or Settings())
    _assert_sentences_equal(text)


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=200))
@settings(max_examples=300, deadline=None)
def test_arbitrary_unicode_text_equals_python(text: str) -> None:
    _assert_all_equal(text)


@given(texts(), st.integers(1, 6), st.integers(0, 20), st.integers(1, 16))
@settings(max_examples=80, deadline=None)
def test_generated_documents_equal_python(text: str, min_tokens: int, extra: int, step: int) -> None:
    window = 2 * min_tokens + extra
    config = Settings(shingle_words=1, shingle_chars=1, min_tokens=min_tokens, window_tokens=window,
                      window_step=min(step, window))  # fmt: skip
    _assert_all_equal(text, config)


@given(
    st.lists(st.sampled_from([*_PIECES, "word", "x" * 60, "y" * 30]), max_size=400),
    st.integers(0, 2**32),
    st.sampled_from([0.0, 0.02, 0.3]),
)
@settings(max_examples=60, deadline=None)
def test_long_paragraphs_sentences_and_wrapped_lines_equal_python(words: list[str], seed: int, breaks: float) -> None:
    """Paragraphs past 1,500 characters (cut at sentence ends, the stops of several scripts, before
    spaces of every kind) and lines hard-wrapped or not; ``breaks`` is the share of gaps that are
    line breaks (none: one long paragraph)."""
    rng = random.Random(seed)
    stops = [". ", "! ", '." ', "\u3002", "\u06d4 ", "\u0964", "\u061f\x1c", "\uff0e", ".\x1f"]
    gaps = [
        rng.choice(["\n", "\r\n", "\n\n"]) if rng.random() < breaks else rng.choice([" ", " ", *stops]) for _ in words
    ]
    _assert_passages_equal("".join(w + gap for w, gap in zip(words, gaps, strict=True)), Settings())


def test_hand_picked_cases_equal_python() -> None:
    cases = [
        "", " ", "\n\n", "\u200b", "a", "A\u0301", "ab\u0301", "ab cd\u0301 ef", "\x00\u0301", "\x07",
        "\u0301abc", "a \u200b b", " \u00a8 x", "\ufdfa\u0301", "ﬁ\u0301", "\u1100\u1161\u11a8\u0301",
        "\u0e01\u0e48abc\u4e00\u0301def", "\u3042\u3099\u304b", "\u1780\u17b6\u1780\u17cb",
        "x" * 2000 + ". " + "y " * 900, "line one\nline two\rline three\r\nfour",
        # Long paragraphs cut at other scripts' stops, with a space of every kind after them or none.
        ("\u0644\u0641\u0638 " * 30 + "\u06d4 ") * 20, ("\u0936\u092c\u094d\u0926 " * 30 + "\u0964") * 20,
        ("word " * 30 + "\u061f\x1c") * 20, ("\u5b57" * 90 + "\u3002") * 20,
    ]  # fmt: skip
    for text in cases:
        _assert_all_equal(text)


@pytest.mark.parametrize("stride", [pytest.param(1, marks=pytest.mark.slow), 13])
def test_every_code_point_alone_and_with_marks_equals_python(stride: int) -> None:
    """Each character alone (the generated fold table), then each followed by marks (NFKC of a
    cluster: decomposition, reordering, composition, case folding; tokens of characters the
    ``regex`` module knows and ``unicodedata`` does not): all 1.1M scalar values in CI (about 20 s
    of the Python reference), every 13th here."""
    marks = ["\u0301", "\u0323", "\u0345", "\u0308\u0301", "\u093c", "\u0e48", "\u3099", "\u05b0\u05c1"]
    scalars = _SCALARS[::stride]
    alone = " ".join(scalars)
    _assert_normalize_equal(alone)
    _assert_tokens_equal(alone)
    with_marks = "".join(c + marks[i % len(marks)] for i, c in enumerate(scalars))
    _assert_normalize_equal(with_marks)
    _assert_tokens_equal(with_marks)


def test_one_long_text_equals_python() -> None:
    """Hundreds of KB of mixed text in one document."""
    rng = random.Random(14)
    pool = [*_PIECES, "the", "harbour", "bridge", "council", "engineers", "found", "cracks"]
    text = "".join(rng.choice(pool) + rng.choice(_WHITESPACE) for _ in range(70_000))
    assert len(text) > 300_000
    _assert_all_equal(text)


@pytest.mark.skipif(not ARTICLES.exists(), reason=f"real article bodies not present at {ARTICLES}")
def test_real_article_bodies_equal_python() -> None:
    """The article bodies of the extraction benchmark (news pages in several languages)."""
    bodies = [entry["articleBody"] for entry in json.loads(ARTICLES.read_text(encoding="utf-8")).values()]
    assert bodies
    for body in bodies:
        _assert_all_equal(body)


@pytest.mark.skipif(not ARTICLES.parent.exists(), reason=f"real pages not present at {ARTICLES.parent}")
def test_real_html_pages_as_text_equal_python() -> None:
    """Whole HTML pages read as text: markup, scripts, entities and every script the pages use."""
    for path in sorted((ARTICLES.parent / "html").glob("*.html.gz"))[:12]:
        _assert_all_equal(gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace"))


@given(st.text(st.one_of(st.characters(), st.characters(categories=("Cs",)), st.sampled_from(_MARKS)), max_size=80))
@settings(max_examples=200, deadline=None)
def test_lone_surrogates_equal_python(text: str) -> None:
    """A str may hold lone surrogates (``json.loads`` makes them from JSON Lines input's escapes):
    the native side stands U+FFFF in for them, which has all their properties, and gives the
    Python engine's results, surrogates with marks kept in the normalised text included."""
    _assert_all_equal(text)


#: Sentence stops of several scripts, and some that fall inside a token: code points the regex
#: module gives Sentence_Terminal and this interpreter's Unicode leaves unassigned (dropped inside
#: a word: "a\u1b4eb" is one token).
_STOPS = [".", "!", "?", "...", '."', "\n", "\u3002", "\u0964", "\u06d4", "\u061f", "\u2026", "\uff01", "3.14", "e.g.",
          "a\u1b4eb", "\u2e60", "x\U00011f43y"]  # fmt: skip


@given(
    st.lists(
        st.one_of(st.sampled_from(_STOPS), st.sampled_from(_PIECES), st.sampled_from(_WHITESPACE), _pieces()),
        max_size=60,
    ).map("".join)
)
@settings(max_examples=300, deadline=None)
def test_sentence_starts_equal_python(text: str) -> None:
    """Stops of every script, inside words and numbers or between them, in runs, at either end."""
    _assert_sentences_equal(text)


def test_surrogates_hand_picked_equal_python() -> None:
    for text in ["\ud800", "a\udfffb", "\ud800\u0301", "x \udbff\u0301\u0323 y", "\uffff\ud800\u0301"]:
        _assert_all_equal(text)


def test_block_hashes_of_a_batch_and_bad_blocks() -> None:
    """Blocks of several texts in any order; a block of no text, or with a negative bound, or
    columns of different lengths are a ValueError, not a crash."""
    texts = ["Sunday, 8 November 2020 | 9\u00b0C", "", "Share this\n\nRead more 12"]
    owner, start, end = np.array([2, 0, 1, 2]), np.array([12, 0, 0, 0]), np.array([24, 33, 0, 10])
    assert _native.block_hashes(texts, owner, start, end).tolist() == [
        block_hash(texts[o][s:e]) for o, s, e in zip(owner, start, end, strict=True)
    ]
    assert _native.block_hashes(texts, owner[:0], start[:0], end[:0]).tolist() == []
    for bad in ((np.array([3]), np.array([0]), np.array([1])), (np.array([0]), np.array([-1]), np.array([1]))):
        with pytest.raises(ValueError, match="not a span"):
            _native.block_hashes(texts, *bad)
    with pytest.raises(ValueError, match="one value a block"):
        _native.block_hashes(texts, owner, start[:2], end)


def test_bad_passage_settings_are_a_value_error() -> None:
    for args in ((0, 40, 10), (8, 0, 10), (8, 40, 0)):
        with pytest.raises(ValueError, match="at least 1"):
            _native.passages("some text", *args)
    with pytest.raises(OverflowError):
        _native.passages("some text", -1, 40, 10)


def test_checked_in_unicode_tables_are_current() -> None:
    """src/unicode_tables.rs is what scripts/unicode_tables.py makes from this interpreter and
    this regex module: regenerate it (python scripts/unicode_tables.py) when they change."""
    spec = importlib.util.spec_from_file_location("unicode_tables", ROOT / "scripts" / "unicode_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["unicode_tables"] = module
    spec.loader.exec_module(module)
    assert module.OUT.read_text(encoding="utf-8") == module.generate(), "stale: run python scripts/unicode_tables.py"
