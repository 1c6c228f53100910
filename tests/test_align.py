"""Tests of verification and alignment (reuse.engine.align through reuse.engine.matching.match_pair).

Every scenario goes the way the pipeline goes: analyse both documents, take the passage pairs that
share an LSH band key as candidates, verify and align with ``match_pair``. Offsets are checked
against the original texts: a match must point at the copied text, within a few tokens.
"""

from __future__ import annotations

import itertools
import random
import unicodedata
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reuse.config import Settings
from reuse.engine.align import AlignInput, edges_to_sentences, token_boxes, verify
from reuse.engine.align import align as reference_align
from reuse.engine.analysis import Analysis, analyse
from reuse.engine.lsh import band_keys, band_params
from reuse.engine.matching import PairResult, match_pair
from reuse.engine.normalize import normalize
from reuse.engine.pairs import summarize, summary_columns
from reuse.models import Match, MatchKind, Span

SETTINGS = Settings()

SOURCE = [
    "The regional council voted on Tuesday to close the old harbour bridge after engineers found deep cracks in "
    "two of its supporting piers, a decision that will force thousands of commuters onto a ferry service that was "
    "already running at capacity.",
    "Officials said the closure would last at least eighteen months while a replacement crossing is designed, "
    "tendered and built, and warned that the cost estimate of forty million euros could rise once divers complete "
    "a full survey of the foundations.",
    "Local shopkeepers on both banks of the river reacted with dismay, saying that the bridge carried most of their "
    "customers and that a long closure could push several family businesses into bankruptcy before the new "
    "crossing opens.",
    "The opposition leader accused the council of ignoring warnings about the structure for nearly a decade, "
    "pointing to an inspection report from twenty fifteen that recommended urgent repairs which were postponed to "
    "balance the budget.",
    "A spokesperson for the transport authority promised extra ferries during the morning and evening rush hours, "
    "free bicycle parking at both landings, and a temporary shuttle bus that will run every ten minutes through "
    "the northern tunnel.",
]
UNRELATED = [
    "Astronomers using a telescope in the Chilean desert have spotted a faint companion orbiting a nearby red dwarf "
    "star, a planet slightly larger than the Earth that circles its host once every nine days inside the so called "
    "habitable zone.",
    "The discovery adds to a growing list of rocky worlds around small cool stars, which are the most common in the "
    "galaxy, and researchers hope that future instruments will be able to detect whether its atmosphere contains "
    "water vapour or oxygen.",
    "Because the star flares violently, some scientists remain sceptical that life could survive on the surface, "
    "although thick clouds or a deep ocean might shield simple organisms from the harshest bursts of ultraviolet "
    "radiation.",
]
SOURCE_TEXT = "\n\n".join(SOURCE)

ZH = (
    "北京市政府星期二宣布，由于工程师在两座桥墩中发现了严重裂缝，老港口大桥将无限期关闭。"
    "官员表示，新桥的设计和建设至少需要十八个月，费用估计为四千万欧元，潜水员完成地基调查后可能还会上涨。"
    "两岸的店主对此表示失望，他们说大桥承载了大部分顾客。"
)
ZH_OTHER = (
    "天文学家利用智利沙漠中的望远镜发现了一颗围绕附近红矮星运行的暗淡伴星，这颗行星比地球略大，每九天绕其主星运行一周。"
)
JA = (
    "地方議会は火曜日、技術者が二本の橋脚に深い亀裂を発見したことを受けて、古い港の橋を閉鎖することを決めた。"
    "通勤者は既に満員のフェリーを使うしかなくなる。"
)


def _candidates(a: Analysis, b: Analysis) -> list[tuple[int, int]]:
    if not a.passages or not b.passages:
        return []
    bands, rows = band_params(SETTINGS)
    keys_a, keys_b = band_keys(a.signatures, bands, rows), band_keys(b.signatures, bands, rows)
    return [
        (i, j)
        for i, j in itertools.product(range(len(keys_a)), range(len(keys_b)))
        if set(keys_a[i].tolist()) & set(keys_b[j].tolist())
    ]


def _match(text_a: str, text_b: str) -> PairResult:
    a, b = analyse(text_a, SETTINGS), analyse(text_b, SETTINGS)
    result = match_pair(a.comparable, b.comparable, _candidates(a, b), SETTINGS)
    for m in result.matches:
        assert 0 <= m.a.start < m.a.end <= len(text_a)
        assert 0 <= m.b.start < m.b.end <= len(text_b)
        assert m.a_tokens >= SETTINGS.min_match_tokens and m.b_tokens >= SETTINGS.min_match_tokens
        assert 0.0 <= m.similarity <= 1.0
        assert (m.kind is MatchKind.VERBATIM) == (m.similarity == 1.0)
    return result


def _words_span(text: str, piece: str) -> tuple[int, int]:
    """Where ``piece`` is in ``text``, from its first to the end of its last word (a match's extent)."""
    start = text.index(piece)
    return start, start + len(piece.rstrip(".!?;,:\u3002\uff0c"))


def _token_gap(text: str, x: int, y: int) -> int:
    """How many tokens of ``text`` start between character offsets ``x`` and ``y``."""
    starts = analyse(text, SETTINGS).tokens.starts
    lo, hi = sorted((x, y))
    return int(np.searchsorted(starts, hi) - np.searchsorted(starts, lo))


def _same_text(text_a: str, m: Match, text_b: str) -> bool:
    return normalize(text_a[m.a.start : m.a.end]).text == normalize(text_b[m.b.start : m.b.end]).text


# --- verbatim -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", ""),
        ("Breaking news from our partners.\n\n", "\n\nSubscribe to our newsletter for more stories every morning."),
        ("Video: ", "\n\nThe original source of this article is the Harbour Gazette."),
    ],
    ids=["alone", "with-chrome", "title-prefix"],
)
def test_verbatim_copy_is_one_exact_match(before: str, after: str) -> None:
    copy = before + SOURCE_TEXT + after
    result = _match(SOURCE_TEXT, copy)
    assert result.verified > 0
    [m] = result.matches
    assert m.kind is MatchKind.VERBATIM
    assert m.similarity == 1.0
    start, end = _words_span(SOURCE_TEXT, SOURCE_TEXT)
    assert (m.a.start, m.a.end) == (start, end)
    assert (m.b.start, m.b.end) == (len(before), len(before) + end)
    assert SOURCE_TEXT[m.a.start : m.a.end] == copy[m.b.start : m.b.end]
    assert m.a_tokens == m.b_tokens == len(analyse(SOURCE_TEXT, SETTINGS).tokens)
    assert result.summary.coverage_a > 0.99
    assert result.summary.in_order


REPEATED_COPY = (
    "With competition for admission into school tougher than ever, high standardized test scores "
    "matter more each year. Our tutors have helped students raise their marks in every section, "
    "and now you and your family members can join the weekend classes held across the city this "
    "spring, with practice tests, reading lists and study plans for every level."
)


def test_a_phrase_repeated_next_to_a_verbatim_copy_does_not_stretch_its_match() -> None:
    """The source holds a phrase of the copied passage ("you and your family members") in an
    uncopied sentence just before it, chained to the copy by a word ("test"): the copy's match
    starts where the copied passage does, in both engines, verbatim (stretched, it took in
    the sentence before it as a near-verbatim match)."""
    source = (
        "Tickets for the autumn fair went on sale on Monday at the town hall. "
        "Call today so that you and your family members can save on every course and every test book. " + REPEATED_COPY
    )
    copy = "A press release from the county education office follows. " + REPEATED_COPY
    [m] = _match(source, copy).matches
    assert m.kind is MatchKind.VERBATIM
    assert (m.a.start, m.b.start) == (source.index(REPEATED_COPY), copy.index(REPEATED_COPY))
    a, b = analyse(source, SETTINGS).comparable.align_input, analyse(copy, SETTINGS).comparable.align_input
    assert reference_align(a, b, SETTINGS) == [m]


def test_verbatim_copy_with_other_layout_keeps_original_offsets() -> None:
    """Re-spaced and re-wrapped: the words are the same, the offsets are each side's own."""
    copy = "\n".join("   ".join(p.split(" ")) for p in SOURCE)
    [m] = _match(SOURCE_TEXT, copy).matches
    assert m.kind is MatchKind.VERBATIM
    assert (m.a.start, m.a.end) == _words_span(SOURCE_TEXT, SOURCE_TEXT)
    assert (m.b.start, m.b.end) == (0, len(copy) - 1)
    assert _same_text(SOURCE_TEXT, m, copy)


def test_matching_is_symmetric() -> None:
    copy = "Breaking news.\n\n" + SOURCE_TEXT
    [ab] = _match(SOURCE_TEXT, copy).matches
    [ba] = _match(copy, SOURCE_TEXT).matches
    assert (ab.a, ab.b) == (ba.b, ba.a)
    assert ab.kind == ba.kind


# --- edited ---------------------------------------------------------------------------------------


def test_copy_with_a_few_words_changed_is_near_verbatim() -> None:
    edited = (
        SOURCE_TEXT.replace("Tuesday", "Wednesday")
        .replace("forty million", "fifty million")
        .replace("dismay", "anger")
        .replace("nearly a decade", "nearly ten years")
    )
    result = _match(SOURCE_TEXT, edited)
    [m] = result.matches
    assert m.kind is MatchKind.NEAR_VERBATIM
    assert 0.8 <= m.similarity < 1.0
    assert (m.a.start, m.a.end) == _words_span(SOURCE_TEXT, SOURCE_TEXT)
    assert (m.b.start, m.b.end) == _words_span(edited, edited)


def test_heavily_edited_copy_is_still_found() -> None:
    """One word in five replaced: 3-word shingles keep 40% containment, enough to verify."""
    rng = random.Random(3)
    words = SOURCE_TEXT.split(" ")
    for k in range(0, len(words), 5):
        words[k] = rng.choice(["foo", "bar", "baz", "qux", "zap"])
    edited = " ".join(words)
    result = _match(SOURCE_TEXT, edited)
    assert result.verified > 0
    [m] = result.matches
    assert m.kind is not MatchKind.VERBATIM
    assert 0.5 <= m.similarity < 0.9
    assert result.summary.coverage_a > 0.95
    assert result.summary.coverage_b > 0.95


def test_copy_with_an_inserted_phrase_in_every_paragraph() -> None:
    paragraphs = []
    for paragraph in SOURCE:
        words = paragraph.split(" ")
        half = len(words) // 2
        paragraphs.append(" ".join([*words[:half], "according to people familiar with the matter", *words[half:]]))
    edited = "\n\n".join(paragraphs)
    [m] = _match(SOURCE_TEXT, edited).matches
    assert m.kind is MatchKind.NEAR_VERBATIM
    assert (m.a.start, m.a.end) == _words_span(SOURCE_TEXT, SOURCE_TEXT)
    assert (m.b.start, m.b.end) == _words_span(edited, edited)


# --- edges at sentence bounds ---------------------------------------------------------------------


def _sentences_of(text: str) -> tuple[AlignInput, list[tuple[int, int]]]:
    """The alignment input of ``text`` and its sentences as token ranges ``[first, end)``."""
    view = analyse(text, SETTINGS).comparable.align_input
    bounds = [*view.sentences.tolist(), len(view.token_hashes)]
    return view, list(itertools.pairwise(bounds))


def _boxed(a: AlignInput, b: AlignInput, box: tuple[int, int, int, int], kind: MatchKind) -> Match:
    i0, i1, j0, j1 = box
    return Match(
        Span(int(a.starts[i0]), int(a.ends[i1 - 1])),
        Span(int(b.starts[j0]), int(b.ends[j1 - 1])),
        0.5,
        kind,
        i1 - i0,
        j1 - j0,
    )


def _token_box(a: AlignInput, b: AlignInput, m: Match) -> tuple[int, int, int, int]:
    return token_boxes(a, b, [m])[0]


def test_an_edited_match_a_few_words_short_of_its_sentences_takes_them_whole() -> None:
    """An edited, rewritten or summary match's end fewer than ``reach`` tokens from its
    sentence's bound moves to it, on each side, kind kept; at ``reach`` tokens it stays."""
    a, sa = _sentences_of(" ".join(SOURCE[:3]))
    b, sb = _sentences_of(" ".join(SOURCE[1:4]))
    reach = min(SETTINGS.min_verbatim_tokens, SETTINGS.min_match_tokens)
    (a0, _), (_, a1) = sa[0], sa[1]
    (b0, _), (_, b1) = sb[0], sb[1]
    for kind in (MatchKind.EDITED, MatchKind.REWRITTEN, MatchKind.SUMMARY):
        short = _boxed(a, b, (a0 + 3, a1 - (reach - 1), b0 + 1, b1 - 2), kind)
        (widened,) = edges_to_sentences(a, b, [short], reach)
        assert _token_box(a, b, widened) == (a0, a1, b0, b1) and widened.kind is kind
        assert 0.0 < widened.similarity <= 1.0
    # ``reach`` tokens or more left in the sentence: a part of it, not all of it.
    far = _boxed(a, b, (a0 + reach, a1 - reach, b0 + 1, b1 - 2), MatchKind.EDITED)
    (kept,) = edges_to_sentences(a, b, [far], reach)
    assert _token_box(a, b, kept) == (a0 + reach, a1 - reach, b0, b1)


def test_verbatim_ends_and_other_matches_stop_the_widening() -> None:
    """Verbatim and near-verbatim ends stay (the words stop agreeing there); an end does not
    move over another match on its side; without sentences nothing moves."""
    a, sa = _sentences_of(" ".join(SOURCE[:3]))
    b, sb = _sentences_of(" ".join(SOURCE[1:4]))
    reach = min(SETTINGS.min_verbatim_tokens, SETTINGS.min_match_tokens)
    (a0, a1), (b0, b1) = sa[1], sb[1]
    box = (a0 + 2, a1 - 2, b0 + 2, b1 - 2)
    for kind in (MatchKind.VERBATIM, MatchKind.NEAR_VERBATIM):
        exact = _boxed(a, b, box, kind)
        assert edges_to_sentences(a, b, [exact], reach) == [exact]
    edited = _boxed(a, b, box, MatchKind.EDITED)
    # A one-token match at the start of side a's sentence (elsewhere on side b) holds that end.
    before = _boxed(a, b, (a0, a0 + 1, sb[2][0], sb[2][0] + 1), MatchKind.VERBATIM)
    widened = edges_to_sentences(a, b, [before, edited], reach)
    assert widened[0] == before and _token_box(a, b, widened[1]) == (a0 + 2, a1, b0, b1)
    after = _boxed(a, b, (a1 - 1, a1, sb[2][0], sb[2][0] + 1), MatchKind.VERBATIM)
    widened = edges_to_sentences(a, b, [edited, after], reach)
    assert _token_box(a, b, widened[0]) == (a0, a1 - 2, b0, b1) and widened[1] == after
    bare = replace(a, sentences=np.zeros(0, dtype=np.int64))
    assert edges_to_sentences(bare, b, [edited], reach) == [edited]


# --- re-paragraphed -------------------------------------------------------------------------------


def _assert_every_paragraph_found(result: PairResult, copy: str, pieces: list[str] | None = None) -> None:
    """Each source paragraph lies inside some match whose other side covers its copy."""
    for paragraph in pieces or SOURCE:
        a0, a1 = _words_span(SOURCE_TEXT, paragraph)
        b0, b1 = _words_span(copy, paragraph)
        assert any(m.a.start <= a0 and a1 <= m.a.end and m.b.start <= b0 and b1 <= m.b.end for m in result.matches), (
            paragraph[:40]
        )


@pytest.mark.parametrize(
    "order",
    [(1, 0, 2, 3, 4), (4, 0, 1, 2, 3), (2, 3, 4, 0, 1), (3, 0, 4, 1, 2), (4, 3, 2, 1, 0)],
    ids=lambda order: "".join(map(str, order)),
)
def test_reordered_paragraphs_are_all_found(order: tuple[int, ...]) -> None:
    copy = "\n\n".join(SOURCE[k] for k in order)
    result = _match(SOURCE_TEXT, copy)
    _assert_every_paragraph_found(result, copy)
    assert result.summary.coverage_a > 0.99
    assert result.summary.coverage_b > 0.99


def test_split_paragraph_is_found() -> None:
    paragraph = SOURCE[1]
    cut = paragraph.index(", and warned")
    halves = [paragraph[:cut] + ".", "They warned" + paragraph[cut + len(", and warned") :]]
    copy = "\n\n".join([SOURCE[0], *halves, *SOURCE[2:]])
    result = _match(SOURCE_TEXT, copy)
    assert result.matches
    assert result.summary.coverage_a > 0.99
    assert result.summary.coverage_b > 0.99
    _assert_every_paragraph_found(result, copy, [SOURCE[0], *SOURCE[2:]])
    assert all(m.similarity > 0.9 for m in result.matches)


def test_merged_paragraphs_are_one_verbatim_match() -> None:
    copy = " ".join(SOURCE)
    [m] = _match(SOURCE_TEXT, copy).matches
    assert m.kind is MatchKind.VERBATIM
    assert (m.a.start, m.a.end) == _words_span(SOURCE_TEXT, SOURCE_TEXT)
    assert (m.b.start, m.b.end) == _words_span(copy, copy)


# --- nothing shared -------------------------------------------------------------------------------


def test_unrelated_texts_have_no_match() -> None:
    other = "\n\n".join(UNRELATED)
    assert _match(SOURCE_TEXT, other).matches == []
    # Even when every passage pair is proposed, verification finds nothing to align.
    a, b = analyse(SOURCE_TEXT, SETTINGS), analyse(other, SETTINGS)
    every = list(itertools.product(range(len(a.passages)), range(len(b.passages))))
    forced = match_pair(a.comparable, b.comparable, every, SETTINGS)
    assert forced.candidates == len(every)
    assert forced.verified == 0
    assert forced.matches == []
    assert forced.summary.coverage_a == forced.summary.coverage_b == 0.0


def test_topically_related_text_is_not_a_match() -> None:
    """Same subject, same vocabulary, no shared phrase: nothing was copied."""
    other = (
        "At the harbour, commuters and engineers argued for hours about ferries; council members blamed the "
        "budget, shopkeepers blamed transport officials, and nobody mentioned tunnels, piers or bridges until a "
        "spokesperson for local residents asked what the closure would really cost."
    )
    a, b = analyse(SOURCE_TEXT, SETTINGS), analyse(other, SETTINGS)
    every = list(itertools.product(range(len(a.passages)), range(len(b.passages))))
    assert match_pair(a.comparable, b.comparable, every, SETTINGS).matches == []


def test_same_topic_other_words_is_no_match() -> None:
    other = (
        "The council said the bridge and the ferry were discussed at length, but the harbour committee "
        "postponed its decision about the northern tunnel until the budget for the transport authority "
        "is known, a spokesperson for the shopkeepers said."
    )
    a, b = analyse(SOURCE_TEXT, SETTINGS), analyse(other, SETTINGS)
    every = list(itertools.product(range(len(a.passages)), range(len(b.passages))))
    assert match_pair(a.comparable, b.comparable, every, SETTINGS).matches == []


def test_verify_is_exact() -> None:
    a = np.array([1, 2, 3, 4, 4], dtype=np.uint32)
    b = np.array([3, 4, 5, 6, 7, 8], dtype=np.uint32)
    assert verify(a, b) == (2 / 8, 2 / 4, 2 / 6)
    assert verify(a, a) == (1.0, 1.0, 1.0)
    assert verify(a, np.zeros(0, dtype=np.uint32)) == (0.0, 0.0, 0.0)


# --- partial reuse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("copied", "before", "after"),
    [
        (1, 0, 1),
        (1, 2, 0),
        (3, 2, 0),
        (3, 0, 1),
        (4, 0, 1),
        (2, 1, 0),
        (0, 1, 0),
        (0, 2, 1),
        (2, 0, 1),
        (4, 1, 2),
    ],
)
@pytest.mark.parametrize("sep", [" ", "\n\n"], ids=["inline", "paragraphs"])
def test_partial_copy_covers_just_the_shared_span(copied: int, before: int, after: int, sep: str) -> None:
    """One source paragraph between unrelated text: the match is that paragraph, on both sides."""
    copy = sep.join([UNRELATED[before], SOURCE[copied], UNRELATED[after]])
    result = _match(SOURCE_TEXT, copy)
    [m] = result.matches
    a0, a1 = _words_span(SOURCE_TEXT, SOURCE[copied])
    b0, b1 = _words_span(copy, SOURCE[copied])
    tolerance = 2
    assert _token_gap(SOURCE_TEXT, m.a.start, a0) <= tolerance
    assert _token_gap(SOURCE_TEXT, m.a.end, a1) <= tolerance
    assert _token_gap(copy, m.b.start, b0) <= tolerance
    assert _token_gap(copy, m.b.end, b1) <= tolerance
    assert m.kind is MatchKind.VERBATIM


@pytest.mark.parametrize(
    "before",
    [UNRELATED[2], UNRELATED[0]],
    ids=["after-star-flares", "after-astronomers"],
)
def test_half_a_paragraph_inside_other_text(before: str) -> None:
    half = SOURCE[1][SOURCE[1].index("while a replacement") :]
    copy = before + " Meanwhile, " + half + " " + UNRELATED[1]
    [m] = _match(SOURCE_TEXT, copy).matches
    a0, a1 = _words_span(SOURCE_TEXT, half)
    b0, b1 = _words_span(copy, half)
    assert _token_gap(SOURCE_TEXT, m.a.start, a0) <= 2 and _token_gap(SOURCE_TEXT, m.a.end, a1) <= 2
    assert _token_gap(copy, m.b.start, b0) <= 2 and _token_gap(copy, m.b.end, b1) <= 2
    assert m.kind is MatchKind.VERBATIM


# --- Unicode ----------------------------------------------------------------------------------------


def test_typographic_differences_are_verbatim_with_original_offsets() -> None:
    fancy = (
        "\u201cWe cannot wait,\u201d the mayor said \u2014 and the council\u2019s \ufb01nal decision, "
        "taken on Ｔｕｅｓｄａｙ, was to close the bridge at once\u00a0while en\u00adgineers survey the "
        "foundations of all the supporting piers along the river.\n\n" + SOURCE[0]
    )
    plain = normalize(fancy).text  # straight quotes, hyphens, "fi", ASCII letters, no soft hyphen
    plain = "Reported today: " + plain.replace("we cannot", "We cannot")
    result = _match(fancy, plain)
    [m] = result.matches
    assert m.kind is MatchKind.VERBATIM
    # Offsets are each text's own: side a still shows the curly quotes and the ligature.
    a_text, b_text = fancy[m.a.start : m.a.end], plain[m.b.start : m.b.end]
    assert a_text.startswith("We cannot wait,\u201d the mayor said \u2014")
    assert "\ufb01nal" in a_text and "en\u00adgineers" in a_text and "Ｔｕｅｓｄａｙ" in a_text
    assert b_text.startswith('We cannot wait," the mayor said -')
    assert (m.a.start, m.a.end) == (1, _words_span(fancy, fancy)[1])
    assert m.b.start == len("Reported today: ") + 1
    assert normalize(a_text).text == normalize(b_text).text


def test_decomposed_accents_match_composed_ones() -> None:
    french = (
        "Le conseil régional a voté mardi la fermeture du vieux pont du port après que des ingénieurs ont "
        "découvert de profondes fissures dans deux de ses piles, une décision qui obligera des milliers de "
        "navetteurs à prendre un ferry déjà saturé."
    )
    decomposed = unicodedata.normalize("NFD", french)
    assert decomposed != french
    [m] = _match(french, decomposed).matches
    assert m.kind is MatchKind.VERBATIM
    assert (m.a.start, m.a.end) == _words_span(french, french)
    assert (m.b.start, m.b.end) == _words_span(decomposed, decomposed)


# --- unspaced scripts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "before", "after"), [(ZH, "本报讯：", "（完）"), (JA, "【速報】", "以上。")], ids=["zh", "ja"]
)
def test_cjk_copy_is_found_with_exact_offsets(text: str, before: str, after: str) -> None:
    copy = before + text + after
    result = _match(text, copy)
    assert result.verified > 0
    [m] = result.matches
    assert m.kind is MatchKind.VERBATIM
    assert (m.a.start, m.a.end) == _words_span(text, text)
    assert (m.b.start, m.b.end) == (len(before), len(before) + m.a.end)


def test_cjk_partial_copy_covers_the_excerpt() -> None:
    excerpt = ZH[40:100]
    copy = ZH_OTHER + excerpt + ZH_OTHER
    [m] = _match(ZH, copy).matches
    assert m.kind is MatchKind.VERBATIM
    assert abs(m.a.start - 40) <= 2 and abs(m.a.end - 100) <= 2
    start = len(ZH_OTHER)
    assert abs(m.b.start - start) <= 2 and abs(m.b.end - (start + len(excerpt))) <= 2


def test_cjk_edited_copy_is_near_verbatim() -> None:
    edited = ZH.replace("星期二", "星期三").replace("四千万", "五千万")
    [m] = _match(ZH, edited).matches
    assert m.kind in (MatchKind.NEAR_VERBATIM, MatchKind.EDITED)
    assert m.similarity >= 0.8
    assert len(m.a) >= 0.95 * len(ZH) and len(m.b) >= 0.95 * len(edited)


def test_unrelated_cjk_texts_have_no_match() -> None:
    assert _match(ZH, ZH_OTHER * 2).matches == []


_SPAN = st.tuples(st.integers(0, 60), st.integers(0, 30)).map(lambda t: Span(t[0], t[0] + t[1]))
_PAIR = st.tuples(
    st.lists(st.tuples(_SPAN, _SPAN), min_size=1, max_size=6), st.integers(0, 120), st.integers(0, 120), st.floats(0, 1)
)


@given(st.lists(_PAIR, max_size=8))
@settings(max_examples=300, deadline=None)
def test_summaries_as_columns_equal_summarize(
    pairs: list[tuple[list[tuple[Span, Span]], int, int, float]],
) -> None:
    """Pairs summarized as columns equal :func:`summarize` of each, field by field and to the
    bit: spans that overlap, touch, repeat, start together or come out of order on side b."""
    matches = [[Match(a, b, 1.0, MatchKind.VERBATIM, len(a), len(b)) for a, b in spans] for spans, _, _, _ in pairs]
    expected = [summarize(m, ca, cb, sim) for m, (_, ca, cb, sim) in zip(matches, pairs, strict=True)]
    spans = np.array([(m.a.start, m.a.end, m.b.start, m.b.end) for ms in matches for m in ms], np.int64)
    columns = summary_columns(
        np.array([len(m) for m in matches], np.int64),
        spans.reshape(-1, 4),
        np.array([ca for _, ca, _, _ in pairs], np.int64),
        np.array([cb for _, _, cb, _ in pairs], np.int64),
        [sim for _, _, _, sim in pairs],
    )
    for name, values in columns.items():
        got = values.tolist() if isinstance(values, np.ndarray) else list(values)
        assert got == [getattr(summary, name) for summary in expected], name
