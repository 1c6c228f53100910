"""Graded similarity (reuse.engine.grade): a pair's similarity says how much of one document the
other took and how closely, ordering verbatim > light edit > heavy rewrite > unrelated.

Graded as ``compare`` grades (:func:`reuse.pipeline.inspection.compare_texts`): on hand-made
texts, on the seed case with a light and a heavy rewrite of SouthFront's report written for this
test, and on pairs sampled from the PAN13 training corpus by category (02 no obfuscation > 03
random > 04 translation, 05 summary > 01 no plagiarism), against plain word 5-gram containment.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import PAN13, shared_data
from typer.testing import CliRunner

from crawlers.files import read_file
from reuse.cli import app
from reuse.config import Settings
from reuse.engine.analysis import analyse
from reuse.engine.grade import grade
from reuse.engine.matching import grade_many
from reuse.eval.graded import auc, graded_case_check, graded_check, spearman
from reuse.eval.pan13_corpus import load_corpus
from reuse.models import Match, MatchKind, Span
from reuse.pipeline.inspection import compare_texts

SETTINGS = Settings()
SEED = Path(__file__).resolve().parents[1] / "seeds" / "demo" / "southfront.org"

COUNCIL = (
    "The county council met on Tuesday evening to discuss the proposed budget for the coming fiscal "
    "year, which includes significant increases for road maintenance, school repairs and the bus routes "
    "that connect the outlying villages with the market town. Councillors spent more than three hours "
    "debating whether the new library on the east side of town should be funded this year or postponed "
    "until the economic outlook becomes clearer for the small businesses that line the high street and "
    "pay most of the local rates. In the end the motion to fund the library passed by seven votes to "
    "four, with the mayor casting a decisive vote after a long and sometimes heated discussion about "
    "priorities, pensions and the cost of heating older public buildings through another winter."
)
COUNCIL_LIGHT = (
    "The county council met on Tuesday night to discuss the proposed budget for the next fiscal "
    "year, which includes large increases for road maintenance, school repairs and the bus routes "
    "that link the outlying villages with the market town. Councillors spent more than four hours "
    "debating whether the new library on the east side of town should be funded this year or delayed "
    "until the economic outlook becomes clearer for the shops that line the high street and "
    "pay most of the local rates. In the end the motion to fund the library passed by seven votes to "
    "four, with the mayor casting the deciding vote after a long and heated discussion about "
    "priorities, pensions and the cost of heating old public buildings through another winter."
)
COUNCIL_HEAVY = (
    "Road maintenance, school repairs and bus routes between the market town and its outlying villages "
    "all get significant increases in next year's proposed budget, which the county council discussed "
    "on Tuesday. Most of the evening went on the new library planned for the east side of town: some "
    "councillors wanted its funding postponed until the economic outlook for the high street's small "
    "businesses, who pay most local rates, is clearer. The mayor's decisive vote finally carried the "
    "motion to fund it, seven to four, after a heated debate over pensions, priorities and what heating "
    "older public buildings costs each winter."
)
WEATHER = (
    "Forecasters expect heavy rain across the northern hills on Saturday, with gusts strong enough to "
    "close the coastal ferry for most of the afternoon, before drier air moves in from the west and "
    "brings sunshine back to the valleys by Sunday lunchtime. The visiting side scored twice in the "
    "opening quarter of an hour and then defended with eleven men behind the ball, frustrating a home "
    "crowd that had hoped to celebrate the captain's two hundredth appearance with something more than "
    "a late consolation goal on a cold and windy afternoon at the old ground."
)

# A light and a heavy rewrite of the first two paragraphs of the seed case's SouthFront report,
# written for this test: the light one swaps a few words and numbers, the heavy one says the same
# in other words and another order.
SEED_LIGHT = (
    "The Azerbaijani army and its allies continue to storm Armenian positions in the mountainous "
    "terrain near Shusha and the Lachin corridor in Nagorno-Karabakh. After making quick advances, "
    "the Azerbaijani forces now seem to be stuck in a kind of positional fighting. The intensity of "
    "the clashes has not lessened and both sides still regularly suffer heavy casualties. Meanwhile, "
    "Azerbaijani forces are still deployed just south of Shushi and pose a grave threat to the "
    "defenders of the town. Some sources say that they are now even shelling the road linking the "
    "Lachin corridor to the town. If the reports about the Azerbaijani side having fire control over "
    "the road are true, the situation in Shusha for the Armenian forces will become more and more "
    "difficult as the fighting goes on.\n\n"
    "Armenia, for its part, insists that its forces have been successfully repelling all Azerbaijani "
    "attacks. For example, on November 3, the Armenians reportedly repelled an Azerbaijani attack in "
    "the Karvachar area killing at least 8 troops, destroying 3 battle tanks and capturing an infantry "
    "fighting vehicle. An alleged 'special forces unit' of Azerbaijan was also ambushed by Armenian "
    "troops near Tagavard. As of November 4, the Armenian military says that its forces have "
    "surrounded another group of Azerbaijani troops south of Shusha."
)
SEED_HEAVY = (
    "Fighting around Shusha and the Lachin corridor has settled into a war of positions: Azerbaijan's "
    "troops, who advanced fast at first, keep attacking Armenian lines in the mountains of "
    "Nagorno-Karabakh, and casualties on both sides remain notable. Units deployed south of Shushi "
    "threaten the town's defenders, and according to some sources they regularly shell the road "
    "from the corridor into it; should Azerbaijan really control that road by fire, holding Shusha "
    "will get ever harder for the Armenians.\n\n"
    "Yerevan says every attack has been beaten back. On November 3 its troops are said to have stopped "
    "an assault near Karvachar, killing six soldiers, knocking out two tanks and seizing a fighting "
    "vehicle, and near Tagavard they ambushed what was described as an Azerbaijani special forces "
    "unit. By November 4 the army claimed to have encircled a further group south of Shusha and to be "
    "working to destroy it."
)


def similarity(a: str, b: str) -> float:
    """The pair's graded similarity as ``compare`` gives it."""
    return compare_texts(a, b, SETTINGS).summary.similarity


def seed_text() -> str:
    (path,) = SEED.glob("*.html")
    doc = next(iter(read_file(path)))
    assert not isinstance(doc, Exception)
    return doc.text


def test_hand_made_texts_are_graded_verbatim_light_heavy_unrelated() -> None:
    grades = [similarity(COUNCIL, other) for other in (COUNCIL, COUNCIL_LIGHT, COUNCIL_HEAVY, WEATHER)]
    assert grades[0] > 0.99  # all but the punctuation outside the aligned words
    assert grades[0] > grades[1] > grades[2] > grades[3]
    assert grades[3] < 0.05  # unrelated: near 0
    assert grades[2] > 0.1  # a heavy rewrite, which nothing aligns, is still seen


def test_seed_rewrites_are_graded_between_the_copy_and_an_unrelated_page() -> None:
    source = seed_text()
    excerpt = source[: source.index("Meanwhile, the number")].strip()  # the two rewritten paragraphs
    unrelated = next(iter(read_file(next((SEED.parent / "northgate-herald.example").glob("council-*.html")))))
    assert not isinstance(unrelated, Exception)
    grades = [similarity(excerpt, other) for other in (source, SEED_LIGHT, SEED_HEAVY, unrelated.text)]
    assert grades[0] > 0.95  # the excerpt, whole, inside its source
    assert grades[0] > grades[1] > grades[2] > grades[3]
    assert grades[3] < 0.05
    # The rewrites graded against the whole report, as ingest would pair them, keep the order.
    assert similarity(source, SEED_LIGHT) > similarity(source, SEED_HEAVY) > similarity(source, unrelated.text)


def test_stored_pairs_are_graded_as_compare_grades_them(tmp_path: Path) -> None:
    """``doc_pairs.similarity`` (ingest), ``pairs --json`` and ``compare --json`` give one figure:
    the same function on the same matches."""
    texts = {"council.txt": COUNCIL, "light.txt": COUNCIL_LIGHT, "heavy.txt": COUNCIL_HEAVY, "weather.txt": WEATHER}
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    db, runner = tmp_path / "w.duckdb", CliRunner()
    assert runner.invoke(app, ["--db", str(db), "ingest", str(tmp_path)]).exit_code == 0
    stored = json.loads(runner.invoke(app, ["--db", str(db), "pairs", "--json"]).stdout)
    by_name = {frozenset(Path(row[f"url_{side}"]).name for side in "ab"): row["similarity"] for row in stored}
    assert set(by_name) == {frozenset({"council.txt", "light.txt"}), frozenset({"council.txt", "heavy.txt"}),
                            frozenset({"light.txt", "heavy.txt"})}  # fmt: skip
    for pair, graded in by_name.items():
        a, b = sorted(pair)
        shown = runner.invoke(app, ["--db", str(db), "compare", "--json", str(tmp_path / a), str(tmp_path / b)])
        assert json.loads(shown.stdout)["summary"]["similarity"] == graded == similarity(texts[a], texts[b])
    assert by_name[frozenset({"council.txt", "light.txt"})] > by_name[frozenset({"council.txt", "heavy.txt"})]
    table = runner.invoke(app, ["--db", str(db), "pairs"]).stdout
    assert f"{by_name[frozenset({'council.txt', 'light.txt'})]:.2f}" in table


def _match(a: tuple[int, int], b: tuple[int, int], sim: float) -> Match:
    kind = MatchKind.VERBATIM if sim == 1.0 else MatchKind.EDITED
    return Match(Span(*a), Span(*b), sim, kind, a[1] - a[0], b[1] - b[0])


words = st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "of", "the", "epsilon", "zeta"]), max_size=60)


@given(words, words, st.lists(st.tuples(st.integers(0, 300), st.integers(1, 100), st.floats(0, 1)), max_size=4))
@settings(max_examples=200, deadline=None)
def test_grade_is_a_symmetric_share(left: list[str], right: list[str], spans: list[tuple[int, int, float]]) -> None:
    """In [0, 1] whatever the matches, symmetric, and 1 for a text against itself (also one too
    short for word 5-grams or without two content words: a missing kind of evidence is left out)."""
    a, b = analyse(" ".join(left), SETTINGS), analyse(" ".join(right), SETTINGS)
    ea, eb = a.comparable.evidence, b.comparable.evidence
    chars_a, chars_b = len(a.text), len(b.text)
    matches = [
        _match((min(s, chars_a), min(s + n, chars_a)), (min(s, chars_b), min(s + n, chars_b)), w) for s, n, w in spans
    ]
    there = grade(matches, ea, eb, chars_a, chars_b)
    back = grade(
        [_match((m.b.start, m.b.end), (m.a.start, m.a.end), m.similarity) for m in matches], eb, ea, chars_b, chars_a
    )
    assert there == back
    for part in (there.similarity, there.aligned, there.fivegrams, there.word_pairs):
        assert part is None or 0.0 <= part <= 1.0
    if chars_a:
        whole = [_match((0, chars_a), (0, chars_a), 1.0)]
        assert grade(whole, ea, ea, chars_a, chars_a).similarity == 1.0


# Words of several scripts (a script without spaces makes one token a character, none of them a
# content word), short and long, repeated often: 5-grams and word pairs shared and not.
mixed_words = st.lists(
    st.sampled_from(["alpha", "beta", "of", "the", "Straße", "ΑΛΦΑ", "日本語の", "ไทย", "x", "delta"]), max_size=80
)
# Spans that overlap, share starts and similarities (ties broken by the order given) and pass
# the ends of the texts.
span_lists = st.lists(
    st.tuples(st.integers(0, 400), st.integers(0, 120), st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0, 1)),
    max_size=6,
)


@given(st.lists(st.tuples(mixed_words, mixed_words, span_lists), min_size=1, max_size=5), st.data())
@settings(max_examples=200, deadline=None)
def test_native_grades_equal_python(
    pairs: list[tuple[list[str], list[str], list[tuple[int, int, float]]]], data: st.DataObject
) -> None:
    """The native engine's grades (one batch, documents shared between pairs) are exactly the
    Python reference's, :func:`reuse.engine.grade.grade`, every part to the last bit."""
    docs = [analyse(" ".join(words), SETTINGS).comparable for left, right, _ in pairs for words in (left, right)]
    jobs = []
    for k, (_, _, spans) in enumerate(pairs):
        # Now and then a document paired with one of another pair, or with itself.
        a = docs[2 * k]
        b = docs[data.draw(st.integers(0, len(docs) - 1))] if data.draw(st.booleans()) else docs[2 * k + 1]
        matches = [
            _match((min(s, a.chars), min(s + n, a.chars)), (min(s, b.chars), min(s + n, b.chars)), w)
            for s, n, w in spans
        ]
        jobs.append((a, b, matches))
    native = grade_many(
        [(a, b, [(m.a.start, m.a.end, m.b.start, m.b.end, m.similarity) for m in ms]) for a, b, ms in jobs]
    )
    assert native == [grade(ms, a.evidence, b.evidence, a.chars, b.chars) for a, b, ms in jobs]


# --- the graded check on PAN13 --------------------------------------------------------------------------


def test_spearman_matches_its_definition() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # Ties at their mean rank: ranks (1.5, 1.5, 3) against (1, 2, 3).
    assert spearman([0, 0, 1], [1, 2, 3]) == pytest.approx(np.corrcoef([1.5, 1.5, 3], [1, 2, 3])[0, 1])
    assert spearman([1, 1, 1], [1, 2, 3]) == 0.0
    assert auc([2, 3], [1]) == 1.0 and auc([1], [2, 3]) == 0.0 and auc([1, 2], [1, 2]) == 0.5


def test_pan13_categories_are_graded_in_order() -> None:
    """Category medians 02 > 03 > 05 > 01 and 02 > 04 > 05 on 30 pairs a category (seed 15); the
    Spearman correlation with the categories' grades at least the floor measured (0.691 on this
    sample; word 5-gram containment, the baseline, 0.748: see the README's Evaluation), and the
    negative pairs near 0. 04 is not asserted below 03: round-trip translations keep more of the
    words, and PAN13's 04 cases take more of their sources, than its 03 cases (every measure
    tried, the baseline too, puts 04's median above 03's)."""
    check = graded_check(load_corpus(shared_data(PAN13)), per_category=30, seed=15)
    median = check.medians()
    rho = check.rho()
    print(f"PAN13 graded check: medians {median}, Spearman {rho:.3f} (5-grams {check.rho('fivegrams'):.3f})")
    assert median["02"] > median["03"] > median["05"] > median["01"]
    assert median["02"] > median["04"] > median["05"]
    assert rho >= 0.68 and rho > check.rho("coverage")
    negatives = check.similarity["01"]
    assert median["01"] < 0.005 and float(np.quantile(negatives, 0.9)) < 0.02
    # Obfuscated copies told from negatives better than by word 5-grams, which a rewrite breaks.
    assert check.rewrites_auc() > check.rewrites_auc("fivegrams")


def test_pan13_cases_are_graded_in_order_and_better_than_by_fivegrams() -> None:
    """One case's two passages of each of 30 pairs a category (seed 15), as short texts derived
    wholly from their source or not at all are graded: medians 02 > 03 > 05 > 01 and
    02 > 04 > 05, and the Spearman correlation with the categories' grades above word 5-gram
    containment's (0.833 against 0.807 on this sample; above it on each of ten seeds tried, by
    0.009 to 0.054: see the README's Evaluation), with negatives at 0."""
    check = graded_case_check(load_corpus(shared_data(PAN13)), per_category=30, seed=15)
    median = check.medians()
    rho, baseline = check.rho(), check.rho("fivegrams")
    print(f"PAN13 graded check of cases: medians {median}, Spearman {rho:.3f} (5-grams {baseline:.3f})")
    assert median["02"] > median["03"] > median["05"] > median["01"]
    assert median["02"] > median["04"] > median["05"]
    assert rho >= 0.8 and rho > baseline
    assert median["01"] == 0.0 and check.rewrites_auc() > check.rewrites_auc("fivegrams")
