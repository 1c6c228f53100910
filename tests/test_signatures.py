"""Tests of reuse.engine.shingles and reuse.engine.signatures against datasketch itself.

Signatures must equal the ``hashvalues`` of ``datasketch.MinHash(num_perm, seed,
hashfunc=shingle_hash)`` updated with the passage's shingles, given as their tokens joined by one
space (the documented contract of :func:`reuse.engine.shingles.shingle_hash`).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from reuse.config import Settings
from reuse.engine.analysis import analyse
from reuse.engine.shingles import shingle_hash, shingle_hashes, token_hashes
from reuse.engine.signatures import MinHasher, estimate_jaccard
from reuse.engine.tokens import tokenize
from reuse.errors import SettingsError

TEXT = (
    "The regional council voted on Tuesday to close the old harbour bridge after engineers found "
    "deep cracks in two of its supporting piers, a decision that will force thousands of commuters "
    "onto a ferry service that was already running at capacity.\n\n"
    "Officials said the closure would last at least eighteen months while a replacement crossing "
    "is designed, tendered and built, and warned that the cost estimate of forty million euros "
    "could rise once divers complete a full survey of the foundations. Ça coûte cher, disent-ils.\n\n"
    "Too short here.\n\n"
    "北京市政府星期二宣布，由于工程师在两座桥墩中发现了严重裂缝，老港口大桥将无限期关闭。"
)


def _datasketch(shingles: list[bytes], num_perm: int, seed: int) -> MinHash:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
    m.update_batch(shingles)
    return m


def _shingle_texts(words: list[str], n: int) -> list[bytes]:
    return [" ".join(words[i : i + n]).encode("utf-8") for i in range(len(words) - n + 1)]


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Zs")), min_size=1), max_size=12))
@settings(max_examples=200, deadline=None)
def test_shingle_hashes_equal_shingle_hash_of_the_text(words: list[str]) -> None:
    words = [w for w in words if " " not in w]
    hashes = token_hashes(words)
    assert hashes.dtype == np.uint64
    for n in (1, 2, 3, 5):
        fast = shingle_hashes(hashes, n)
        assert fast.dtype == np.uint32
        assert fast.tolist() == [shingle_hash(s) for s in _shingle_texts(words, n)]


def test_shingle_hash_keeps_word_order() -> None:
    assert shingle_hash(b"brown quick the") != shingle_hash(b"the quick brown")
    assert shingle_hash(b"a b") != shingle_hash(b"b a")
    assert shingle_hash(b"the quick brown") == shingle_hash(b"the quick brown")


@pytest.mark.parametrize("n", [0, -1])
def test_shingle_size_must_be_positive(n: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        shingle_hashes(token_hashes(["a", "b"]), n)


@pytest.mark.parametrize(("num_perm", "seed"), [(16, 0), (128, 1), (256, 42), (64, 2**32 - 1), (1024, 7)])
def test_permutations_and_signature_equal_datasketch(num_perm: int, seed: int) -> None:
    hasher = MinHasher(num_perm, seed)
    reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash)
    assert np.array_equal(hasher.permutations, reference.permutations)
    words = tokenize("The quick brown fox jumps over the lazy dog and runs far away into the woods.").words
    signature = hasher.signature(shingle_hashes(token_hashes(words), 3))
    expected = _datasketch(_shingle_texts(words, 3), num_perm, seed).hashvalues
    assert signature.dtype == np.uint32
    assert np.array_equal(signature, expected)


@pytest.mark.parametrize(
    "settings_",
    [Settings(), Settings(num_perm=64, seed=3), Settings(num_perm=256, seed=99, shingle_words=5)],
    ids=["default", "64-perm", "256-perm-5-gram"],
)
def test_every_passage_signature_equals_datasketch(settings_: Settings) -> None:
    """The whole analysis (paragraphs, windows, word and character shingles) against datasketch."""
    text = TEXT + "\n\n" + " ".join(TEXT.split()[::-1])
    analysis = analyse(text, settings_)
    words = tokenize(text).words  # the Python engine's words: the native analysis keeps their hashes
    assert {p.unspaced for p in analysis.passages} == {True, False}
    assert analysis.signatures.shape == (len(analysis.passages), settings_.num_perm)
    for passage, signature in zip(analysis.passages, analysis.signatures, strict=True):
        n = analysis.comparable.shingle_size(passage)
        shingles = _shingle_texts(words[passage.token_start : passage.token_end], n)
        assert analysis.comparable.shingles(passage).tolist() == [shingle_hash(s) for s in shingles]
        expected = _datasketch(shingles, settings_.num_perm, settings_.seed)
        assert np.array_equal(signature, expected.hashvalues)


def test_overlapping_spans_equal_separate_signatures() -> None:
    rng = np.random.default_rng(5)
    shingles = rng.integers(0, 2**32, size=3000, dtype=np.uint64).astype(np.uint32)
    spans = np.array([[0, 3000], [10, 50], [10, 11], [40, 2900], [2999, 3000], [500, 1500], [10, 50]])
    # A small num_perm makes the kernel work in several chunks.
    for hasher in (MinHasher(128, 1), MinHasher(2048, 9)):
        many = hasher.signatures(shingles, spans)
        assert many.shape == (len(spans), hasher.num_perm)
        for row, (start, end) in zip(many, spans.tolist(), strict=True):
            assert np.array_equal(row, hasher.signature(shingles[start:end]))
        reference = MinHash(num_perm=hasher.num_perm, seed=hasher.seed, hashfunc=int)
        reference.update_batch(shingles[40:2900].tolist())
        assert np.array_equal(many[3], reference.hashvalues)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_spans_equal_separate_signatures(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 300))
    shingles = np.array(data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=size, max_size=size)))
    span = st.tuples(st.integers(0, size - 1), st.integers(1, size)).filter(lambda s: s[0] < s[1])
    spans = np.array(data.draw(st.lists(span, min_size=1, max_size=10)))
    hasher = MinHasher(32, 11)
    many = hasher.signatures(shingles, spans)
    for row, (start, end) in zip(many, spans.tolist(), strict=True):
        reference = MinHash(num_perm=32, seed=11, hashfunc=int)
        reference.update_batch(shingles[start:end].tolist())
        assert np.array_equal(row, reference.hashvalues)


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        (np.array([[3, 3]]), "no shingle"),
        (np.array([[5, 2]]), "no shingle"),
        (np.array([[0, 11]]), "within"),
        (np.array([[-1, 4]]), "within"),
        (np.array([0, 4]), "shape"),
        (np.array([[0.0, 4.0]]), "integers"),
    ],
)
def test_invalid_spans_are_rejected(spans: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MinHasher(16, 1).signatures(np.arange(10, dtype=np.uint32), spans)


def test_empty_passage_has_no_signature() -> None:
    hasher = MinHasher(16, 1)
    with pytest.raises(ValueError, match="no shingle"):
        hasher.signature(np.zeros(0, dtype=np.uint32))
    with pytest.raises(ValueError, match="32-bit"):
        hasher.signature(np.array([2**32]))
    assert hasher.signatures(np.arange(4, dtype=np.uint32), np.zeros((0, 2), dtype=np.int64)).shape == (0, 16)


@pytest.mark.parametrize("text", ["", "   ", "Too short to sign.", "one two three four five six seven", "!!!"])
def test_too_short_documents_have_no_signature(text: str) -> None:
    analysis = analyse(text, Settings())
    assert analysis.passages == []
    assert analysis.signatures.shape[0] == 0


def test_only_long_enough_passages_are_signed() -> None:
    text = "Short one.\n\none two three four five six seven eight\n\nTiny."
    analysis = analyse(text, Settings())
    assert [(p.token_start, p.token_end) for p in analysis.passages] == [(2, 10)]
    assert analysis.signatures.shape == (1, Settings().num_perm)


def test_to_datasketch_round_trip() -> None:
    hasher = MinHasher(128, 1)
    words = tokenize("A passage that datasketch will keep on updating with more shingles.").words
    shingles = _shingle_texts(words, 3)
    ours = hasher.to_datasketch(hasher.signature(shingle_hashes(token_hashes(words), 3)))
    reference = _datasketch(shingles, 128, 1)
    assert ours.jaccard(reference) == 1.0
    more = [b"and then some", b"then some more"]
    ours.update_batch(more)
    reference.update_batch(more)
    assert np.array_equal(ours.hashvalues, reference.hashvalues)
    with pytest.raises(ValueError, match="shape"):
        hasher.to_datasketch(np.zeros(64, dtype=np.uint32))


@pytest.mark.parametrize(("num_perm", "seed"), [(0, 1), (-3, 1), (16, -1), (16, 2**32)])
def test_minhasher_rejects_bad_parameters(num_perm: int, seed: int) -> None:
    with pytest.raises(ValueError):
        MinHasher(num_perm, seed)


def test_estimate_jaccard_tracks_true_jaccard() -> None:
    rng = random.Random(2024)
    hasher = MinHasher(256, 1)
    errors = []
    for _ in range(40):
        size_a, size_b = rng.randint(20, 400), rng.randint(20, 400)
        shared = rng.randint(0, min(size_a, size_b))
        universe = rng.sample(range(2**32), size_a + size_b - shared)
        a = np.array(universe[:size_a], dtype=np.uint32)
        b = np.array(universe[:shared] + universe[size_a:], dtype=np.uint32)
        truth = shared / (size_a + size_b - shared)
        estimate = estimate_jaccard(hasher.signature(a), hasher.signature(b))
        # Standard error at 256 permutations is at most 0.031: 4 of them never fail by chance here.
        assert abs(estimate - truth) < 0.125, (truth, estimate)
        errors.append(estimate - truth)
    assert abs(float(np.mean(errors))) < 0.02  # no bias
    assert float(np.mean(np.abs(errors))) < 0.04


def test_estimate_jaccard_extremes_and_errors() -> None:
    hasher = MinHasher(64, 1)
    a = hasher.signature(np.arange(100, dtype=np.uint32))
    b = hasher.signature(np.arange(1000, 1100, dtype=np.uint32))
    assert estimate_jaccard(a, a) == 1.0
    assert estimate_jaccard(a, b) < 0.1
    with pytest.raises(ValueError):
        estimate_jaccard(a, a[:32])
    with pytest.raises(ValueError):
        estimate_jaccard(a[:0], a[:0])


def test_settings_reject_a_seed_minhash_cannot_use() -> None:
    with pytest.raises(SettingsError):
        Settings(seed=2**32)
