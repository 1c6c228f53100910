"""Tests of the plagdet scoring (reuse.eval.plagdet) and of the PAN 2013 corpus I/O (reuse.eval.pan13_corpus).

Expected values are worked out by hand in the comments; a property test checks plagdet against a
per-character reference. The tests on the real corpus skip when ../shared is not there (fail in CI).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from needs import PAN13, shared_data

from reuse.errors import InputError
from reuse.eval.pan13_corpus import Pan13Corpus, load_corpus, read_detections, read_document, write_detections
from reuse.eval.plagdet import (
    ENTIRE,
    Annotation,
    Case,
    Detection,
    count_detections_in,
    pair_retrieval,
    plagdet,
    score_by_category,
)
from reuse.models import Span

S1, R1 = "suspicious-document00001.txt", "source-document00001.txt"
R2 = "source-document00002.txt"


def case(susp: tuple[int, int], src: tuple[int, int], pair: tuple[str, str] = (S1, R1)) -> Case:
    return Case(pair[0], Span(*susp), pair[1], Span(*src))


def det(susp: tuple[int, int], src: tuple[int, int], pair: tuple[str, str] = (S1, R1)) -> Detection:
    return Detection(pair[0], Span(*susp), pair[1], Span(*src))


# --- plagdet ---------------------------------------------------------------------------------------


def test_perfect_detection_scores_one() -> None:
    scores = plagdet([case((0, 100), (0, 100))], [det((0, 100), (0, 100))])
    assert (scores.plagdet, scores.precision, scores.recall, scores.granularity) == (1, 1, 1, 1)
    assert (scores.cases, scores.detections, scores.detected_cases) == (1, 1, 1)


def test_detection_covering_half_a_case() -> None:
    # (50 + 50) of the case's 200 characters are found; all 100 detected characters are right.
    scores = plagdet([case((0, 100), (0, 100))], [det((0, 50), (50, 100))])
    assert scores.recall == 0.5
    assert scores.precision == 1
    assert scores.plagdet == pytest.approx(2 * 0.5 / 1.5)


def test_both_sides_are_counted_together() -> None:
    # Half of the suspicious side and all of the source side: (50 + 100) / 200.
    scores = plagdet([case((0, 100), (0, 100))], [det((0, 50), (0, 100))])
    assert scores.recall == 0.75


def test_detection_larger_than_the_case() -> None:
    # The detection has 200 + 100 characters, of which 100 + 100 are in the case.
    scores = plagdet([case((100, 200), (100, 200))], [det((50, 250), (100, 200))])
    assert scores.precision == pytest.approx(2 / 3)
    assert scores.recall == 1


def test_two_detections_splitting_one_case() -> None:
    scores = plagdet([case((0, 100), (0, 100))], [det((0, 50), (0, 50)), det((50, 100), (50, 100))])
    assert (scores.precision, scores.recall, scores.granularity) == (1, 1, 2)
    assert scores.plagdet == pytest.approx(1 / math.log2(3))


def test_overlapping_detections_are_counted_as_a_union() -> None:
    # Characters 40-59 are found twice but count once, so recall stays 1, not 1.2.
    scores = plagdet([case((0, 100), (0, 100))], [det((0, 60), (0, 60)), det((40, 100), (40, 100))])
    assert (scores.precision, scores.recall, scores.granularity) == (1, 1, 2)


def test_one_detection_spanning_two_cases() -> None:
    # Both cases are fully found once each; the 100 + 100 characters between them are wrong.
    cases = [case((0, 100), (0, 100)), case((200, 300), (200, 300))]
    scores = plagdet(cases, [det((0, 300), (0, 300))])
    assert scores.recall == 1
    assert scores.precision == pytest.approx(400 / 600)
    assert scores.granularity == 1
    assert scores.detected_cases == 2


def test_overlap_on_one_side_only_does_not_detect() -> None:
    scores = plagdet([case((0, 100), (0, 100))], [det((0, 100), (200, 300))])
    assert (scores.plagdet, scores.precision, scores.recall) == (0, 0, 0)
    assert (scores.granularity, scores.detected_cases) == (1, 0)


def test_same_spans_in_another_pair_do_not_detect() -> None:
    scores = plagdet([case((0, 100), (0, 100))], [det((0, 100), (0, 100), pair=(S1, R2))])
    assert (scores.precision, scores.recall, scores.detected_cases) == (0, 0, 0)


def test_touching_spans_do_not_overlap() -> None:
    # Spans are half-open: [0, 100) and [100, 200) share no character.
    scores = plagdet([case((0, 100), (0, 100))], [det((100, 200), (50, 150))])
    assert scores.detected_cases == 0


def test_false_positive_in_a_negative_pair_lowers_precision() -> None:
    cases = [case((0, 100), (0, 100))]
    scores = plagdet(cases, [det((0, 100), (0, 100)), det((0, 100), (0, 100), pair=(S1, R2))])
    assert scores.precision == 0.5  # (1 + 0) / 2 detections
    assert scores.recall == 1
    assert scores.plagdet == pytest.approx(2 / 3)


def test_undetected_case_lowers_recall() -> None:
    cases = [case((0, 100), (0, 100)), case((500, 600), (500, 600))]
    scores = plagdet(cases, [det((0, 100), (0, 100))])
    assert (scores.recall, scores.precision, scores.detected_cases) == (0.5, 1, 1)


def test_identical_detections_count_once() -> None:
    scores = plagdet([case((0, 100), (0, 100))], [det((0, 100), (0, 100))] * 2)
    assert (scores.detections, scores.granularity, scores.plagdet) == (1, 1, 1)


def test_empty_conventions() -> None:
    nothing = plagdet([], [])
    assert (nothing.plagdet, nothing.precision, nothing.recall, nothing.granularity) == (1, 1, 1, 1)
    missed = plagdet([case((0, 100), (0, 100))], [])
    assert (missed.plagdet, missed.precision, missed.recall, missed.granularity) == (0, 0, 0, 1)
    spurious = plagdet([], [det((0, 100), (0, 100))])
    assert (spurious.plagdet, spurious.precision, spurious.recall, spurious.detections) == (0, 0, 0, 1)


@pytest.mark.parametrize(("start", "end"), [(6, 5), (-1, 3)])
def test_negative_spans_are_rejected(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="start <= end"):
        Span(start, end)


@pytest.mark.parametrize("make", [Case, Detection])
def test_annotations_of_empty_spans_are_rejected(make: type[Annotation]) -> None:
    with pytest.raises(ValueError, match="start < end"):
        make("s.txt", Span(5, 5), "r.txt", Span(0, 3))
    with pytest.raises(ValueError, match="start < end"):
        make("s.txt", Span(0, 3), "r.txt", Span(4, 4))


def _chars(span: Span) -> set[int]:
    return set(range(span.start, span.end))


def _reference_share(annotation: Case | Detection, others: list[Case] | list[Detection]) -> float:
    """Per-character version of a case's recall or a detection's precision, straight from the paper."""
    hits = [
        o
        for o in others
        if o.pair == annotation.pair
        and _chars(o.susp_span) & _chars(annotation.susp_span)
        and _chars(o.src_span) & _chars(annotation.src_span)
    ]
    susp_found = _chars(annotation.susp_span) & set().union(*(_chars(o.susp_span) for o in hits))
    src_found = _chars(annotation.src_span) & set().union(*(_chars(o.src_span) for o in hits))
    return (len(susp_found) + len(src_found)) / (len(annotation.susp_span) + len(annotation.src_span))


_spans = st.tuples(st.integers(0, 60), st.integers(1, 30)).map(lambda t: Span.of(*t))
_pairs = st.sampled_from([(S1, R1), (S1, R2)])


@st.composite
def _annotations(draw: st.DrawFn, kind: type[Case] | type[Detection]) -> list:
    items = draw(st.lists(st.tuples(_pairs, _spans, _spans), min_size=1, max_size=6))
    return list({kind(p[0], a, p[1], b) for p, a, b in items})


@given(_annotations(Case), _annotations(Detection))
def test_plagdet_matches_a_per_character_reference(cases: list[Case], detections: list[Detection]) -> None:
    scores = plagdet(cases, detections)
    recall = sum(_reference_share(c, detections) for c in cases) / len(cases)
    precision = sum(_reference_share(d, cases) for d in detections) / len(detections)
    found_by = [sum(1 for d in detections if d.overlaps(c)) for c in cases]
    detected = [n for n in found_by if n]
    granularity = sum(detected) / len(detected) if detected else 1
    assert scores.recall == pytest.approx(recall)
    assert scores.precision == pytest.approx(precision)
    assert scores.granularity == pytest.approx(granularity)
    assert scores.detected_cases == len(detected)


# --- pair retrieval and categories -------------------------------------------------------------------


def test_pair_retrieval() -> None:
    positives = [(S1, R1), (S1, R2)]
    assert pair_retrieval(positives, [(S1, R1), (S1, R1), ("other", R1)]) == 0.5
    assert pair_retrieval(positives, []) == 0
    with pytest.raises(ValueError, match="undefined"):
        pair_retrieval([], [(S1, R1)])


def test_count_detections_in_pairs() -> None:
    found = [
        det((0, 10), (0, 10)),
        det((0, 10), (0, 10)),
        det((20, 30), (0, 10)),
        det((0, 10), (0, 10), (S1, R2)),
    ]
    assert count_detections_in([(S1, R1)], found) == 2  # the repeated detection counts once
    assert count_detections_in([], found) == 0


def test_score_by_category_with_an_entire_row() -> None:
    a, b = ("susp-a.txt", "src-a.txt"), ("susp-b.txt", "src-b.txt")
    negative, summary, summary_negative = ("susp-n.txt", "src-n.txt"), ("susp-s.txt", "src-s.txt"), ("x", "y")
    whole = ((0, 100), (0, 100))
    categories = {
        "01-no-plagiarism": ([negative], []),
        "02-no-obfuscation": ([a, b], [case(*whole, pair=a), case(*whole, pair=b)]),
        "05-summary-obfuscation": ([summary, summary_negative], [case(*whole, pair=summary)]),
    }
    detections = [
        det(*whole, pair=a),  # finds a's case exactly
        det(*whole, pair=negative),  # false positive in 01
        det(*whole, pair=summary_negative),  # false positive in a case-less 05 pair
        det(*whole, pair=("susp-a.txt", "src-b.txt")),  # not a listed pair: not judged
    ]
    rows = score_by_category(categories, detections)
    assert list(rows) == [*categories, ENTIRE]

    none = rows["01-no-plagiarism"]
    assert (none.scores.precision, none.scores.detections, none.pair_recall) == (0, 1, None)
    assert (none.negative_pairs, none.negative_detections) == (1, 1)

    verbatim = rows["02-no-obfuscation"]
    assert (verbatim.scores.recall, verbatim.scores.precision) == (0.5, 1)
    assert verbatim.scores.plagdet == pytest.approx(2 / 3)
    assert (verbatim.positive_pairs, verbatim.retrieved_pairs, verbatim.pair_recall) == (2, 1, 0.5)
    assert (verbatim.negative_pairs, verbatim.negative_detections) == (0, 0)

    summary_row = rows["05-summary-obfuscation"]
    assert (summary_row.scores.plagdet, summary_row.pair_recall) == (0, 0)
    assert (summary_row.negative_pairs, summary_row.negative_detections) == (1, 1)

    # Over everything: 3 cases, 3 judged detections, one of each matching: P = R = F1 = 1/3.
    entire = rows[ENTIRE]
    assert (entire.scores.cases, entire.scores.detections) == (3, 3)
    assert entire.scores.precision == pytest.approx(1 / 3)
    assert entire.scores.recall == pytest.approx(1 / 3)
    assert entire.scores.plagdet == pytest.approx(1 / 3)
    assert entire.pair_recall == pytest.approx(1 / 3)
    assert (entire.negative_pairs, entire.negative_detections) == (2, 2)


def test_score_by_category_rejects_inconsistent_truth() -> None:
    pair = (S1, R1)
    with pytest.raises(ValueError, match="listed in"):
        score_by_category({"a": ([pair], []), "b": ([pair], [])}, [])
    with pytest.raises(ValueError, match="not listed"):
        score_by_category({"a": ([], [case((0, 1), (0, 1))])}, [])
    with pytest.raises(ValueError, match="reserved"):
        score_by_category({ENTIRE: ([], [])}, [])


# --- corpus I/O on a small corpus made here ---------------------------------------------------------


def _tiny_corpus(root: Path) -> Path:
    """One verbatim pair with a case (the suspicious text has a \\x19 before it) and one negative pair."""
    (root / "src").mkdir(parents=True)
    (root / "susp").mkdir()
    (root / "src" / R1).write_bytes(b"intro.\ncopied text here\n")
    (root / "src" / R2).write_bytes(b"unrelated\n")
    (root / "susp" / S1).write_bytes("don\x19t \u00e9 \ncopied text here\n".encode())
    for folder, src, features in [
        ("01-no-plagiarism", R2, ""),
        (
            "02-no-obfuscation",
            R1,
            f'<feature name="plagiarism" this_offset="9" this_length="16" source_reference="{R1}"'
            ' source_offset="7" source_length="16" />\n<feature name="about" authors="x" />\n',
        ),
    ]:
        (root / folder).mkdir()
        (root / folder / "pairs").write_text(f"{S1} {src}\n")
        xml = f'<document reference="{S1}">\n{features}</document>\n'
        (root / folder / f"{S1[:-4]}-{src[:-4]}.xml").write_text(xml)
    return root


def test_load_a_small_corpus(tmp_path: Path) -> None:
    corpus = load_corpus(_tiny_corpus(tmp_path / "corpus"))
    assert dict(corpus.categories) == {"01-no-plagiarism": ((S1, R2),), "02-no-obfuscation": ((S1, R1),)}
    assert corpus.cases[S1, R2] == ()
    assert corpus.cases[S1, R1] == (case((9, 25), (7, 23)),)  # the "about" feature is not a case
    assert sorted(corpus.sources) == [R1, R2]
    assert list(corpus.suspicious) == [S1]
    (truth,) = corpus.cases[S1, R1]
    susp_text, src_text = read_document(corpus.suspicious[S1]), read_document(corpus.sources[R1])
    assert susp_text[truth.susp_span.start : truth.susp_span.end] == "copied text here"
    assert src_text[truth.src_span.start : truth.src_span.end] == "copied text here"
    assert corpus.truth()["02-no-obfuscation"] == (((S1, R1),), (truth,))


def test_read_document_keeps_every_character(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes("a\x19b\r\nc\u0085d\u00e9\n".encode())
    assert read_document(path) == "a\x19b\r\nc\u0085d\u00e9\n"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="not UTF-8"):
        read_document(path)


def test_load_corpus_rejects_other_folders(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no src/ folder"):
        load_corpus(tmp_path)
    with pytest.raises(InputError, match="no such folder"):
        load_corpus(tmp_path / "missing")
    root = _tiny_corpus(tmp_path / "corpus")
    (root / "02-no-obfuscation" / f"{S1[:-4]}-{R1[:-4]}.xml").unlink()
    with pytest.raises(InputError, match="truth file missing"):
        load_corpus(root)


def test_write_detections_round_trip(tmp_path: Path) -> None:
    detections = [
        det((10, 20), (30, 45)),
        det((0, 5), (7, 9)),
        det((0, 5), (7, 9)),  # written once
        det((100, 300), (0, 180), pair=(S1, R2)),
    ]
    out = tmp_path / "out"
    written = write_detections(out, detections)
    assert [path.name for path in written] == [
        "suspicious-document00001-source-document00001.xml",
        "suspicious-document00001-source-document00002.xml",
    ]

    # Parsed independently of read_detections: the official format, offsets in order.
    root = ET.parse(written[0]).getroot()
    assert (root.tag, root.attrib) == ("document", {"reference": S1})
    assert [feature.attrib for feature in root] == [
        {
            "name": "detected-plagiarism",
            "this_offset": "0",
            "this_length": "5",
            "source_reference": R1,
            "source_offset": "7",
            "source_length": "2",
        },
        {
            "name": "detected-plagiarism",
            "this_offset": "10",
            "this_length": "10",
            "source_reference": R1,
            "source_offset": "30",
            "source_length": "15",
        },
    ]
    assert set(read_detections(out)) == set(detections)

    with pytest.raises(InputError, match="already holds XML files"):
        write_detections(out, detections)
    with pytest.raises(ValueError, match="bare document names"):
        write_detections(tmp_path / "other", [det((0, 1), (0, 1), pair=("../" + S1, R1))])


# --- the real PAN 2013 training corpus -------------------------------------------------------------


@pytest.fixture(scope="module")
def pan13() -> Pan13Corpus:
    return load_corpus(shared_data(PAN13))


def test_real_corpus_counts(pan13: Pan13Corpus) -> None:
    assert {name: len(pairs) for name, pairs in pan13.categories.items()} == {
        "01-no-plagiarism": 1000,
        "02-no-obfuscation": 1000,
        "03-random-obfuscation": 1000,
        "04-translation-obfuscation": 1000,
        "05-summary-obfuscation": 1185,
    }
    cases = {name: len(found) for name, (_, found) in pan13.truth().items()}
    assert cases == {
        "01-no-plagiarism": 0,
        "02-no-obfuscation": 1252,
        "03-random-obfuscation": 1267,
        "04-translation-obfuscation": 1250,
        "05-summary-obfuscation": 238,
    }
    assert sum(1 for pair in pan13.categories["05-summary-obfuscation"] if pan13.cases[pair]) == 238
    assert (len(pan13.sources), len(pan13.suspicious)) == (3230, 1827)


def test_real_verbatim_cases_match_their_source(pan13: Pan13Corpus) -> None:
    # Every 02 case: the texts agree once whitespace is removed, which holds only if the offsets are
    # counted on the UTF-8-decoded text with control characters kept.
    whitespace = re.compile(r"\s+")
    _, cases = pan13.truth()["02-no-obfuscation"]
    for truth in cases:
        susp = read_document(pan13.suspicious[truth.susp])[truth.susp_span.start : truth.susp_span.end]
        src = read_document(pan13.sources[truth.src])[truth.src_span.start : truth.src_span.end]
        assert whitespace.sub("", susp) == whitespace.sub("", src), truth


def test_real_truth_scores_itself_perfectly(pan13: Pan13Corpus) -> None:
    truth = pan13.truth()
    detections = [Detection(c.susp, c.susp_span, c.src, c.src_span) for _, cases in truth.values() for c in cases]
    rows = score_by_category(truth, detections)
    for name, row in rows.items():
        assert row.scores.plagdet == 1, name
        assert row.negative_detections == 0, name
    assert rows[ENTIRE].scores.cases == 1252 + 1267 + 1250 + 238
    assert rows[ENTIRE].pair_recall == 1
