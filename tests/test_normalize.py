"""Tests of reuse.engine.normalize: what normalisation folds, and the map back to the original text.

Every match is reported in offsets of the original text, so the map from normalised characters to
original characters is checked with hypothesis: it must stay inside the source, in order, and
mapping a normalised span back and normalising that slice again must give the span.
"""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reuse.engine.normalize import Normalized, normalize

# Characters (not whitespace themselves) whose NFKC form contains a space, such as U+00A8 DIAERESIS
# -> " \u0308". They are the one known way to break whitespace collapsing (see the test below).
_SPACE_MAKERS = [
    chr(c) for c in range(sys.maxunicode + 1) if not chr(c).isspace() and " " in unicodedata.normalize("NFKC", chr(c))
]


def _check_map(norm: Normalized, source: str) -> None:
    """The offset map is complete, inside the source, non-empty per character and in order."""
    assert norm.source_length == len(source)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    previous_start, previous_end = 0, 0
    for start, end in zip(norm.starts, norm.ends, strict=True):
        assert 0 <= start < end <= len(source)
        assert start >= previous_start
        assert end >= previous_end
        previous_start, previous_end = start, end


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # NFKC: full-width forms, ligatures, circled digits, superscripts, roman numerals.
        ("Ｈｅｌｌｏ ＷＯＲＬＤ", "hello world"),
        ("ﬁnal ﬂow", "final flow"),
        ("①② x²", "12 x2"),
        ("Ⅻ", "xii"),
        # Case folding, not just lower-casing: ß -> ss, final sigma -> sigma.
        ("Straße", "strasse"),
        ("ΟΔΟΣ οδος", "οδοσ οδοσ"),
        # Composed and decomposed accents end up equal.
        ("e\u0301cole", "école"),
        ("École", "école"),
        # Zero-width characters, soft hyphens, BOM, bidi marks and controls disappear.
        ("co\u00adop\u200beration", "cooperation"),
        ("\ufeffword\u200d\u200c\u2060s", "words"),
        ("left\u200eright\u200f", "leftright"),
        ("a\x00b\x07c", "abc"),
        # Quotes and dashes are unified.
        ("\u201cquoted\u201d \u2018single\u2019 \u201elow\u201f", '"quoted" \'single\' "low"'),
        ("\u00abguillemets\u00bb", '"guillemets"'),
        ("en\u2013dash em\u2014dash minus\u2212 hyphen\u2010 \uff0d", "en-dash em-dash minus- hyphen- -"),
        ("it\u2019s \u2032tick\u00b4", "it's 'tick'"),
        # Whitespace of every kind collapses to one space and is stripped at both ends.
        ("  a \t\n b  ", "a b"),
        ("a\u00a0\u2003\u3000b\r\n\r\nc", "a b c"),
        ("x \u200b y", "x y"),
        ("\u2028\u2029z\u0085", "z"),
        ("", ""),
        ("   \n\t ", ""),
        # Arabic script: Persian and Urdu kaf and yeh as the Arabic letters, alef maqsura as yeh,
        # alef's hamza and madda dropped; harakat, superscript alef and tatweel dropped, alone or on
        # a letter, and presentation forms that NFKC makes a space and a mark leave no space behind.
        ("\u06a9\u062a\u0627\u0628 \u0643\u062a\u0627\u0628", "\u0643\u062a\u0627\u0628 \u0643\u062a\u0627\u0628"),
        ("\u06cc \u0649 \u064a", "\u064a \u064a \u064a"),
        (
            "\u0623\u062d\u0645\u062f \u0625\u0644\u0649 \u0622\u062e\u0631",
            "\u0627\u062d\u0645\u062f \u0627\u0644\u064a \u0627\u062e\u0631",
        ),
        (
            "\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u0651 \u0647\u0670\u0630\u0627",
            "\u0639\u0631\u0628\u064a \u0647\u0630\u0627",
        ),
        ("\u0643\u0640\u0640\u0640\u062a\u0627\u0628", "\u0643\u062a\u0627\u0628"),
        # Heh goal (composed with its hamza or not) and the Persian heh with yeh as heh; teh
        # marbuta, Arabic and Urdu, as heh.
        ("\u06c1\u06d2 \u06c1\u0654 \u06c2 \u06c0 \u0629 \u06c3", "\u0647\u06d2 \u0647 \u0647 \u0647 \u0647 \u0647"),
        # The hamza dropped from its seats: yeh with hamza before a yeh barree, the barree with
        # hamza precomposed, a hamza typed after a Persian yeh, waw with hamza.
        (
            "\u0626\u06d2 \u06d3 \u06cc\u0654\u06d2 \u064a\u0654 \u0624",
            "\u064a\u06d2 \u064a\u06d2 \u064a\u06d2 \u064a \u0648",
        ),
        # Every script's decimal digits as ASCII digits: Persian and Urdu, Arabic-Indic,
        # Devanagari, Bengali, Thai, and one under a mark.
        ("\u06f2\u06f0\u06f1\u06f4 \u0662\u0660\u0661\u0664 \u0968\u0966 \u09e7 \u0e55", "2014 2014 20 1 5"),
        ("\u0663\u0301", "3\u0301"),
        ("x \ufe70 y \ufc5e z\ufcf2", "x y z"),
        ("a\u064e b", "a b"),
        # Hebrew points and cantillation dropped (presentation forms first unfold into them);
        # Russian ё, composed or not, as е.
        (
            "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd \ufb2a\u05dc\u05d5\u05dd \u05d1\u05bc\u05b0\u0591",
            "\u05e9\u05dc\u05d5\u05dd \u05e9\u05dc\u05d5\u05dd \u05d1",
        ),
        ("\u0401\u043b\u043a\u0430 \u0435\u0449\u0435\u0308", "\u0435\u043b\u043a\u0430 \u0435\u0449\u0435"),
    ],
)
def test_normalize_folds(text: str, expected: str) -> None:
    norm = normalize(text)
    assert norm.text == expected
    _check_map(norm, text)


def test_map_of_removed_and_expanded_characters() -> None:
    text = "ﬁ\u00adx  Straße"
    norm = normalize(text)
    assert norm.text == "fix strasse"
    # Both letters of the ligature come from the one original character.
    assert (norm.starts[0], norm.ends[0]) == (0, 1)
    assert (norm.starts[1], norm.ends[1]) == (0, 1)
    # The soft hyphen (index 1) is skipped: "x" maps to index 2.
    assert (norm.starts[2], norm.ends[2]) == (2, 3)
    # The collapsed run of two spaces maps to both of them.
    assert (norm.starts[3], norm.ends[3]) == (3, 5)
    # "ß" -> "ss": both map to the one "ß".
    assert norm.original_span(8, 10) == (9, 10)
    assert text[slice(*norm.original_span(4, 11))] == "Straße"


def test_combining_marks_stay_with_their_base() -> None:
    text = "cafe\u0301 nai\u0308ve"
    norm = normalize(text)
    assert norm.text == "café naïve"
    start, end = norm.original_span(0, 4)
    assert text[start:end] == "cafe\u0301"
    start, end = norm.original_span(5, 10)
    assert text[start:end] == "nai\u0308ve"


def test_arabic_marks_dropped_map_back_to_their_whole_word() -> None:
    text = "\u0639\u064e\u0631\u064e\u0628\u0650\u064a\u0651 \u0643\u0640\u062a\u0627\u0628"
    norm = normalize(text)
    assert norm.text == "\u0639\u0631\u0628\u064a \u0643\u062a\u0627\u0628"
    assert text[slice(*norm.original_span(0, 4))] == text[:8]
    assert text[slice(*norm.original_span(5, 9))] == text[9:]


#: A news paragraph in Urdu, as typed on an Urdu keyboard (U+06CC yeh, U+06A9 kaf).
_URDU = (
    "وزیر اعظم نے پیر کے روز کابینہ کے خصوصی اجلاس کی صدارت کی جس میں ملک کی معاشی صورتحال اور "
    "سیلاب سے متاثرہ علاقوں میں امدادی کارروائیوں کا جائزہ لیا گیا۔ اجلاس کو بتایا گیا کہ "
    "متاثرہ ۱۲ اضلاع میں اب تک ایک لاکھ سے زیادہ خاندانوں کو خیمے اور راشن فراہم کیا جا چکا ہے "
    "جبکہ مزید امدادی سامان آئندہ ہفتے تک پہنچا دیا جائے گا۔"
)


def test_a_copy_typed_with_arabic_letters_is_found_verbatim() -> None:
    """An Urdu story and its copy typed on an Arabic keyboard (yeh, kaf and heh as U+064A, U+0643
    and U+0647, a tatweel and a few short vowels added, its figures in ASCII digits) are one
    verbatim match covering both."""
    from reuse.config import Settings
    from reuse.pipeline.inspection import compare_texts

    copy = (
        _URDU.replace("\u06cc", "\u064a")
        .replace("\u06a9", "\u0643")
        .replace("\u06c1", "\u0647")
        .translate(str.maketrans("\u06f0\u06f1\u06f2", "012"))
        .replace("\u0627\u062c\u0644\u0627\u0633", "\u0627\u062c\u0640\u0644\u064e\u0627\u0633")
    )
    assert sum(a != b for a, b in zip(_URDU.split(), copy.split(), strict=True)) > len(_URDU.split()) // 2
    result = compare_texts(_URDU, copy, Settings())
    assert [m.kind.value for m in result.matches] == ["verbatim"]
    assert result.summary.coverage_a > 0.95 and result.summary.coverage_b > 0.95


def test_original_span_of_empty_spans() -> None:
    norm = normalize("  ab cd")
    assert norm.original_span(1, 1) == (3, 3)
    assert norm.original_span(len(norm.text), len(norm.text)) == (7, 7)


def test_spacing_marks_do_not_break_whitespace_collapsing() -> None:
    text = normalize("a \u00a8 b").text
    assert "  " not in text
    assert normalize("\u00a8x").text == normalize("\u00a8x").text.strip()


def test_backtick_is_unified_like_other_single_quotes() -> None:
    assert normalize("`tick\u2019").text == normalize("\u2018tick\u2019").text == "'tick'"


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_offset_map_is_valid_for_any_text(text: str) -> None:
    _check_map(normalize(text), text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_characters=_SPACE_MAKERS, blacklist_categories=("Cs",))))
def test_output_is_collapsed_folded_and_idempotent(text: str) -> None:
    out = normalize(text).text
    assert "  " not in out
    assert out == out.strip(" ")
    assert not any(c.isspace() and c != " " for c in out)
    assert not any(unicodedata.category(c) == "Cf" for c in out)
    assert not set(out) & set("\u2018\u2019\u201c\u201d\u2013\u2014\u00ad\u200b")
    assert normalize(out).text == out


_WORD = st.text(
    st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs"), blacklist_characters=_SPACE_MAKERS),
    min_size=1,
    max_size=8,
)
_SEPARATOR = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", "\u3000", " \u200b ", "\r\n\r\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_WORD, _SEPARATOR), min_size=1, max_size=8), st.data())
def test_original_span_round_trips_word_aligned_substrings(parts: list[tuple[str, str]], data: st.DataObject) -> None:
    """A run of whole normalised words maps back to an original slice that normalises to it."""
    text = "".join(word + sep for word, sep in parts)
    norm = normalize(text)
    out = norm.text
    assume(out)
    word_starts = [0] + [k + 1 for k, c in enumerate(out) if c == " "]
    word_ends = [k for k, c in enumerate(out) if c == " "] + [len(out)]
    first = data.draw(st.integers(0, len(word_starts) - 1))
    last = data.draw(st.integers(first, len(word_ends) - 1))
    i, j = word_starts[first], word_ends[last]
    assume(i < j)
    start, end = norm.original_span(i, j)
    assert 0 <= start < end <= len(text)
    assert normalize(text[start:end]).text == out[i:j]


@settings(max_examples=300, deadline=None)
@given(st.text(), st.data())
def test_original_span_covers_the_source_of_every_character(text: str, data: st.DataObject) -> None:
    norm = normalize(text)
    n = len(norm.text)
    assume(n)
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(i + 1, n))
    start, end = norm.original_span(i, j)
    assert 0 <= start < end <= len(text)
    for k in range(i, j):
        assert start <= norm.starts[k] and norm.ends[k] <= end
