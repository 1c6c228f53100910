"""Tests of reuse.engine.lsh: banding parameters and candidate pairs, against datasketch's MinHashLSH."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict

import numpy as np
import pytest
from datasketch import MinHashLSH
from datasketch.lsh import _optimal_param
from hypothesis import given
from hypothesis import strategies as st

from reuse.config import Settings
from reuse.engine.align import verify
from reuse.engine.analysis import Analysis, analyse
from reuse.engine.lsh import band_keys, band_params, estimated_containment, signature_agreement
from reuse.engine.matching import match_pair
from reuse.engine.shingles import shingle_hashes
from reuse.engine.signatures import MinHasher
from reuse.engine.tokens import tokenize
from reuse.models import PassageKind

SETTINGS_CASES = [
    Settings(),
    Settings(num_perm=64),
    Settings(threshold=0.5),
    Settings(num_perm=256, threshold=0.8, false_positive_weight=0.5, false_negative_weight=0.5),
    Settings(num_perm=16, threshold=0.2, false_positive_weight=0.0, false_negative_weight=1.0),
]
SETTINGS_IDS = ["default", "64-perm", "t0.5", "256-perm-t0.8", "16-perm-recall-only"]


@pytest.mark.parametrize("num_perm", [16, 100, 192, 256])
def test_band_params_equal_datasketchs_optimiser_over_a_grid(num_perm: int) -> None:
    """Our quadrature (exact for these polynomials) picks datasketch's bands and rows for every
    threshold and weighting of the grid; weights of 0 are left out: their error has a plateau of
    ties at rounding level, where the two integrators may pick different (equally good) bands."""
    for threshold in (0.1, 0.3, 0.5, 0.8):
        for fp_weight in (0.1, 0.2, 0.5, 0.9):
            expected = _optimal_param(threshold, num_perm, fp_weight, 1 - fp_weight)
            found = band_params(
                Settings(
                    num_perm=num_perm,
                    threshold=threshold,
                    false_positive_weight=fp_weight,
                    false_negative_weight=1 - fp_weight,
                )
            )
            assert found == tuple(expected), (threshold, fp_weight)


@pytest.mark.parametrize("settings", SETTINGS_CASES, ids=SETTINGS_IDS)
def test_band_params_match_datasketch(settings: Settings) -> None:
    expected = _optimal_param(
        settings.threshold, settings.num_perm, settings.false_positive_weight, settings.false_negative_weight
    )
    assert band_params(settings) == tuple(expected)
    bands, rows = band_params(settings)
    assert bands * rows <= settings.num_perm
    lsh = MinHashLSH(
        threshold=settings.threshold,
        num_perm=settings.num_perm,
        weights=(settings.false_positive_weight, settings.false_negative_weight),
    )
    assert (lsh.b, lsh.r) == (bands, rows)


def test_band_keys_shape_and_semantics() -> None:
    rng = np.random.default_rng(3)
    sigs = rng.integers(0, 2**32, size=(4, 16), dtype=np.uint64).astype(np.uint32)
    sigs[1] = sigs[0]
    sigs[2, :4] = sigs[0, :4]  # same first band of 4 rows, the rest differs
    sigs[3, :4] = sigs[0, 4:8]  # band 1's values of row 0, but in band 0
    keys = band_keys(sigs, 4, 4)
    assert keys.shape == (4, 4)
    assert keys.dtype == np.uint64
    assert np.array_equal(keys[0], keys[1])
    assert keys[2, 0] == keys[0, 0]
    assert not set(keys[2, 1:].tolist()) & set(keys[0].tolist())
    # Equal values in different bands give different keys, so one key column serves all bands.
    assert keys[3, 0] != keys[0, 1]
    assert len(set(keys[0].tolist())) == 4
    # Columns beyond bands * rows are ignored, as datasketch ignores them.
    changed = sigs.copy()
    changed[:, 15] += np.uint32(1)
    assert np.array_equal(band_keys(changed, 5, 3), band_keys(sigs, 5, 3))
    with pytest.raises(ValueError, match="columns"):
        band_keys(sigs, 5, 4)


def _corpus(seed: int) -> list[str]:
    """Random documents over a small vocabulary, with planted copies, excerpts and edited copies."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choice("abcdefghiklmnoprstuvwyz") for _ in range(rng.randint(3, 9))) for _ in range(500)]

    def para(n: int) -> str:
        return " ".join(rng.choice(vocab) for _ in range(n)) + "."

    docs = ["\n\n".join(para(rng.randint(10, 70)) for _ in range(rng.randint(1, 3))) for _ in range(24)]
    originals = list(docs)
    for _ in range(8):  # edited copies: one word in 8 to 20 replaced, paragraphs merged
        words = rng.choice(originals).split()
        rate = rng.randint(8, 20)
        for _ in range(len(words) // rate):
            words[rng.randrange(len(words))] = rng.choice(vocab)
        docs.append(" ".join(words))
    for _ in range(5):  # excerpts inside new text
        words = rng.choice(originals).split()
        start = rng.randrange(max(1, len(words) - 30))
        docs.append(para(25) + "\n\n" + " ".join(words[start : start + 30]) + "\n\n" + para(15))
    docs.append(originals[0])  # an exact duplicate
    return docs


def _all_passages(docs: list[str], settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The signatures of every passage of every document, and the document of each."""
    hasher = MinHasher.from_settings(settings)
    analyses = [analyse(doc, settings, hasher) for doc in docs]
    signatures = np.concatenate([a.signatures for a in analyses if a.passages])
    owners = np.concatenate([np.full(len(a.passages), k) for k, a in enumerate(analyses)])
    return signatures, owners


def _pairs_sharing_a_key(keys: np.ndarray) -> set[tuple[int, int]]:
    buckets: defaultdict[int, set[int]] = defaultdict(set)
    for passage, row in enumerate(keys.tolist()):
        for key in row:
            buckets[key].add(passage)
    return {pair for members in buckets.values() for pair in itertools.combinations(sorted(members), 2)}


@pytest.mark.parametrize(
    ("settings", "seed"),
    [(Settings(), 1), (Settings(num_perm=64, seed=5), 2), (Settings(threshold=0.5), 3)],
    ids=["default", "64-perm", "t0.5"],
)
def test_candidates_equal_datasketch_minhashlsh(settings: Settings, seed: int) -> None:
    docs = _corpus(seed)
    signatures, owners = _all_passages(docs, settings)
    assert 150 <= len(signatures) <= 300
    bands, rows = band_params(settings)
    ours = _pairs_sharing_a_key(band_keys(signatures, bands, rows))

    hasher = MinHasher.from_settings(settings)
    lsh = MinHashLSH(threshold=settings.threshold, num_perm=settings.num_perm, params=(bands, rows))
    minhashes = [hasher.to_datasketch(sig) for sig in signatures]
    for key, minhash in enumerate(minhashes):
        lsh.insert(key, minhash)
    theirs = {
        (min(key, other), max(key, other))
        for key, minhash in enumerate(minhashes)
        for other in lsh.query(minhash)
        if other != key
    }
    # The planted copies must give candidates, and not every pair may be one: the comparison
    # below is only meaningful between these two extremes.
    assert 50 < len(ours) < len(signatures) * (len(signatures) - 1) // 20
    assert ours == theirs
    # The exact duplicate (the last document) collides passage for passage with its original.
    original, duplicate = np.flatnonzero(owners == 0), np.flatnonzero(owners == len(docs) - 1)
    assert len(original) == len(duplicate) > 0
    assert all((int(x), int(y)) in ours for x, y in zip(original, duplicate, strict=True))


def _candidates(a: Analysis, b: Analysis, settings: Settings) -> list[tuple[int, int]]:
    bands, rows = band_params(settings)
    keys_a, keys_b = band_keys(a.signatures, bands, rows), band_keys(b.signatures, bands, rows)
    return [
        (i, j)
        for i, j in itertools.product(range(len(keys_a)), range(len(keys_b)))
        if set(keys_a[i].tolist()) & set(keys_b[j].tolist())
    ]


SOURCE = [
    "The regional council voted on Tuesday to close the old harbour bridge after engineers found deep "
    "cracks in two of its supporting piers, a decision that will force thousands of commuters onto a "
    "ferry service that was already running at capacity.",
    "Officials said the closure would last at least eighteen months while a replacement crossing is "
    "designed, tendered and built, and warned that the cost estimate of forty million euros could rise "
    "once divers complete a full survey of the foundations.",
]
CHROME = (
    "Home News World Politics Economy Culture Sport Opinion Video Podcasts Newsletters Subscribe Log in "
    "Search this site Advertise with us Video: Bridge closure chaos as the crisis deepens in the north "
    "Region: Europe Theme: Infrastructure, Local Politics In-depth Report: Transport Note to readers: "
    "please click the share buttons above or below and forward this article to your email lists and "
    "crosspost it on your blog site, internet forums and so on; your support for independent media "
    "matters a great deal to all of us here, thank you."
)
FOOTER = (
    "The original source of this article is the Harbour Gazette. Copyright the author, Harbour Gazette, "
    "twenty twenty. Disclaimer: the contents of this article are of sole responsibility of the author; "
    "the publisher will not be responsible for any inaccurate or incorrect statement in this article. "
    "The publisher grants permission to cross-post original articles on community internet sites as "
    "long as the source and copyright are acknowledged together with a hyperlink to the original URL. "
    "Related articles: Port strike enters third week; Ferry fares to rise in spring; Mayor resigns."
)

SIDEBAR = (
    "Most read this week: Farmers protest over new water rules; Storm warning for the coast on Friday; "
    "Museum reopens its medieval wing after a long restoration; School meals to be free for all pupils "
    "from September; Opinion: why the city needs a second airport. Support our journalism with a monthly "
    "donation of any size. Follow us on social media and join the conversation. About us Contact Careers "
    "Privacy policy Cookie settings Terms of use Accessibility statement Sitemap Archive RSS feeds."
)

RELATED = (
    "More from this author: Why the old quays still matter; The forgotten lighthouse keepers of the bay; "
    "How a fishing town became a tourist magnet; Letters: readers on the parking fees; Photo gallery: the "
    "spring regatta in pictures; Weather: mild with scattered showers over the weekend; Puzzles and "
    "crosswords; Obituaries; Public notices; Events calendar; Classifieds; Jobs; Property; Motors; Travel."
)


def _hard_wrap(text: str, width: int = 72) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


PAGES = {
    # Chrome, copy and footer on one line: one paragraph, the copy only a third of it.
    "one-paragraph": " ".join([CHROME, *SOURCE, FOOTER, SIDEBAR, RELATED]),
    # The same hard-wrapped at 72 columns: read as one paragraph too.
    "hard-wrapped": _hard_wrap(" ".join([CHROME, *SOURCE, FOOTER, SIDEBAR, RELATED])),
    # Preamble glued to the first paragraph and footer to the last: no paragraph equals the source's.
    "glued-to-edges": f"{CHROME} {SIDEBAR} {SOURCE[0]}\n\n{SOURCE[1]} {FOOTER} {RELATED}",
}


@pytest.mark.parametrize("page_text", PAGES.values(), ids=PAGES.keys())
def test_copy_inside_a_longer_page_becomes_a_candidate(page_text: str) -> None:
    """Preamble and footer drown the copy's Jaccard with the page; the windows still find it."""
    settings = Settings()
    source_text = "\n\n".join(SOURCE)
    source, page = analyse(source_text, settings), analyse(page_text, settings)

    # Whole documents are far below the LSH threshold, though the page contains all of the source.
    jaccard, contained, _ = verify(
        shingle_hashes(source.token_hashes, settings.shingle_words),
        shingle_hashes(page.token_hashes, settings.shingle_words),
    )
    assert jaccard < 0.75 * settings.threshold
    assert contained == 1.0

    candidates = _candidates(source, page, settings)
    assert candidates
    # Every source paragraph is a candidate of some window of the page.
    by_windows = {i for i, j in candidates if page.passages[j].kind is PassageKind.WINDOW}
    assert by_windows >= {i for i, p in enumerate(source.passages) if p.kind is PassageKind.PARAGRAPH}

    result = match_pair(source.comparable, page.comparable, candidates, settings)
    assert result.verified >= 1
    assert result.matches
    # The matches cover the whole source (up to the final full stop, which is no token) and the
    # place of the copy in the page.
    first_words = page.tokens.starts[tokenize(page_text).words.index("regional") - 1]
    last_word_end = page_text.index("foundations") + len("foundations")
    assert result.summary.shared_chars_a >= len(source_text) - 1
    assert min(m.b.start for m in result.matches) <= first_words
    assert max(m.b.end for m in result.matches) >= last_word_end


def test_unrelated_pages_give_no_candidate() -> None:
    settings = Settings()
    a = analyse("\n\n".join(SOURCE), settings)
    b = analyse(CHROME + "\n\n" + FOOTER, settings)
    assert _candidates(a, b, settings) == []
    result = match_pair(a.comparable, b.comparable, [], settings)
    assert result.matches == []
    assert result.summary.matches == 0


def test_containment_estimated_from_signatures_is_close_to_the_exact_one() -> None:
    """Sets sharing part of their elements, and a small set inside a larger one: the estimate
    from 192-value signatures is near the exact containment of the smaller set, and with a
    margin of 2.5 standard errors it is above it."""
    hasher = MinHasher(192, 1)
    rng = np.random.default_rng(5)
    cases = []
    for size_a, size_b, shared in ((40, 40, 8), (40, 40, 30), (40, 400, 40), (30, 60, 3), (50, 50, 0)):
        common = rng.integers(0, 2**32, size=shared, dtype=np.uint64)
        a = np.concatenate([common, rng.integers(0, 2**32, size=size_a - shared, dtype=np.uint64)])
        b = np.concatenate([common, rng.integers(0, 2**32, size=size_b - shared, dtype=np.uint64)])
        cases.append((a.astype(np.uint32), b.astype(np.uint32), shared / min(size_a, size_b)))
    sig_a = np.vstack([hasher.signatures(a, np.array([[0, len(a)]])) for a, _, _ in cases])
    sig_b = np.vstack([hasher.signatures(b, np.array([[0, len(b)]])) for _, b, _ in cases])
    sizes_a = np.array([len(a) for a, _, _ in cases])
    sizes_b = np.array([len(b) for _, b, _ in cases])
    table = np.vstack([sig_a, sig_b])
    rows = np.arange(len(cases))
    jaccard = signature_agreement(table, rows, rows + len(cases))
    estimate = estimated_containment(jaccard, sizes_a, sizes_b, 192)
    exact = np.array([c for _, _, c in cases])
    same_size = sizes_a == sizes_b
    assert np.all(np.abs(estimate - exact)[same_size] <= 0.1), (estimate, exact)
    assert np.all(np.abs(estimate - exact)[~same_size] <= 0.6), (estimate, exact)
    upper = estimated_containment(jaccard, sizes_a, sizes_b, 192, sigmas=2.5)
    assert np.all(upper >= exact), (upper, exact)
    assert upper[-1] < 0.2  # nothing shared: confidently under the verification bar


@given(
    st.integers(1, 40),
    st.integers(1, 24),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), max_size=60),
    st.integers(0, 2**32 - 1),
)
def test_signature_agreement_equals_comparing_gathered_rows(m: int, num_perm: int, pairs: list, seed: int) -> None:
    """The native count of equal values of each pair of rows is numpy's comparison of the two
    gathered rows (values drawn from a few, so that rows agree in part)."""
    table = np.random.default_rng(seed).integers(0, 3, (m, num_perm)).astype(np.uint32)
    rows_a = np.array([a % m for a, _ in pairs], np.int64)
    rows_b = np.array([b % m for _, b in pairs], np.int64)
    expected = np.mean(table[rows_a] == table[rows_b], axis=1) if pairs else np.zeros(0)
    assert signature_agreement(table, rows_a, rows_b).tolist() == expected.tolist()
    # The same rows as several tables (some empty), counted end to end.
    cuts = np.sort(np.random.default_rng(seed + 1).integers(0, m + 1, 3))
    parts = np.split(table, cuts)
    assert signature_agreement(parts, rows_a, rows_b).tolist() == expected.tolist()
    # Views of wider rows (as the signature store's records give them), and strided ones, read in
    # place: the same counts.
    wide = np.hstack([table, np.full((m, 2), 7, np.uint32)])
    assert signature_agreement(wide[:, :num_perm], rows_a, rows_b).tolist() == expected.tolist()
    flipped = np.ascontiguousarray(table[:, ::-1])[:, ::-1]
    assert signature_agreement([flipped[:1], wide[1:, :num_perm]], rows_a, rows_b).tolist() == expected.tolist()


def test_signature_agreement_refuses_rows_outside_the_table() -> None:
    table = np.zeros((3, 4), np.uint32)
    with pytest.raises(ValueError, match="outside the 3 signatures"):
        signature_agreement(table, np.array([0, 3]), np.array([1, 1]))
    with pytest.raises(ValueError, match="must pair up"):
        signature_agreement(table, np.array([0, 1]), np.array([1]))
    with pytest.raises(ValueError, match="outside the 5 signatures"):
        signature_agreement([table, table[:2]], np.array([0, 5]), np.array([1, 1]))
    with pytest.raises(ValueError, match="different widths"):
        signature_agreement([table, np.zeros((2, 3), np.uint32)], np.array([0]), np.array([1]))
