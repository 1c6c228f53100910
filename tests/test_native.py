"""The compiled engine core (reuse.engine._native) against its oracle, the Python engine.

Every native kernel must give what the Python implementation gives, bit for bit, on generated
inputs: the Python code stays the reference the Rust port is tested against (issue 14), while
the engine runs the native code.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers.files import iter_documents
from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.analysis import analyse, analyse_many
from reuse.engine.lsh import band_keys
from reuse.engine.passages import passages as cut_passages
from reuse.engine.shingles import shingle_hashes, token_hashes
from reuse.engine.signatures import MinHasher
from reuse.engine.tokens import tokenize
from reuse.models import Document
from tests.test_native_tokens import texts
from tests.test_signatures import TEXT

SEEDS = Path(__file__).resolve().parents[1] / "seeds" / "demo"

U64 = st.integers(0, (1 << 64) - 1)
U32 = st.integers(0, (1 << 32) - 1)


def _native_signatures(hasher: MinHasher, shingles: np.ndarray, spans: np.ndarray) -> np.ndarray:
    return _native.minhash_signatures(shingles, np.asarray(spans, dtype=np.int64), hasher.permutations)


@given(st.lists(U64, max_size=300), st.integers(1, 8))
@settings(max_examples=300, deadline=None)
def test_shingle_hashes_equal_python(tokens: list[int], n: int) -> None:
    hashes = np.array(tokens, dtype=np.uint64)
    native = _native.shingle_hashes(hashes, n)
    assert native.dtype == np.uint32
    assert np.array_equal(native, shingle_hashes(hashes, n))


def test_shingle_hashes_of_a_strided_array_and_bad_sizes() -> None:
    hashes = np.arange(40, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    assert np.array_equal(_native.shingle_hashes(hashes[::3], 2), shingle_hashes(hashes[::3], 2))
    for n in (0, -1):
        with pytest.raises(ValueError, match="at least 1"):
            _native.shingle_hashes(hashes, n)


@st.composite
def documents(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of a document (short, or long and random) and spans within it: nested,
    overlapping, repeated, single-shingle, whole-document and window-like ones."""
    if draw(st.booleans()):
        shingles = np.array(draw(st.lists(U32, min_size=1, max_size=60)), dtype=np.uint32)
    else:
        size = draw(st.integers(1, 5000))
        shingles = np.random.default_rng(draw(st.integers(0, 2**32))).integers(0, 1 << 32, size, dtype=np.uint32)
    n = shingles.size
    start = st.integers(0, n - 1)
    spans = [(s, draw(st.integers(s + 1, n))) for s in draw(st.lists(start, min_size=1, max_size=12))]
    if draw(st.booleans()):  # windows of w shingles every `step`, as the engine cuts long paragraphs
        w, step = draw(st.integers(1, 64)), draw(st.integers(1, 32))
        spans += [(s, min(n, s + w)) for s in range(0, n, step)]
    if draw(st.booleans()):
        spans.append((0, n))
    order = draw(st.permutations(range(len(spans))))
    return shingles, np.array([spans[i] for i in order], dtype=np.int64)


@given(documents(), st.sampled_from([1, 2, 7, 64, 192]), st.integers(0, (1 << 32) - 1))
@settings(max_examples=200, deadline=None)
def test_signatures_equal_python(document: tuple[np.ndarray, np.ndarray], num_perm: int, seed: int) -> None:
    shingles, spans = document
    hasher = MinHasher(num_perm, seed)
    native = _native_signatures(hasher, shingles, spans)
    assert native.dtype == np.uint32 and native.shape == (len(spans), num_perm)
    assert np.array_equal(native, hasher.signatures(shingles, spans))


def test_signatures_of_analysed_text_equal_python() -> None:
    """Real passages (paragraphs, windows, an unspaced script) of the default settings: the
    analysis (native) gives the Python engine's signatures."""
    config = Settings()
    text = "\n\n".join([TEXT] * 3 + [" ".join(TEXT.split()) * 4])
    analysis = analyse(text, config)
    assert len(analysis.passages) > 5
    hasher = MinHasher.from_settings(config)
    for n, unspaced in ((config.shingle_words, False), (config.shingle_chars, True)):
        rows = [k for k, p in enumerate(analysis.passages) if p.unspaced is unspaced]
        assert rows
        spans = np.array([(analysis.passages[k].token_start, analysis.passages[k].token_end - n + 1) for k in rows])
        shingles = shingle_hashes(analysis.token_hashes, n)
        assert np.array_equal(hasher.signatures(shingles, spans), analysis.signatures[rows])


def test_no_spans_give_no_signatures() -> None:
    hasher = MinHasher(16, 1)
    out = _native_signatures(hasher, np.arange(10, dtype=np.uint32), np.empty((0, 2), dtype=np.int64))
    assert out.shape == (0, 16) and out.dtype == np.uint32


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ([[3, 3]], "span 0 \\[3, 3\\) holds no shingle"),
        ([[0, 2], [5, 2]], "span 1 \\[5, 2\\) holds no shingle"),
        ([[0, 11]], "within the document's 10 shingles"),
        ([[-1, 4]], "within the document's 10 shingles"),
        ([[0, 4, 5]], "shape"),
    ],
)
def test_invalid_spans_are_rejected_as_python_rejects_them(spans: list[list[int]], message: str) -> None:
    hasher = MinHasher(16, 1)
    shingles = np.arange(10, dtype=np.uint32)
    with pytest.raises(ValueError, match=message):
        _native_signatures(hasher, shingles, np.array(spans))
    if len(spans[0]) == 2:
        with pytest.raises(ValueError, match=message):
            hasher.signatures(shingles, np.array(spans))


def test_permutations_must_be_two_rows() -> None:
    with pytest.raises(ValueError, match="permutations"):
        _native.minhash_signatures(np.arange(4, dtype=np.uint32), np.array([[0, 4]]), np.ones((3, 8), dtype=np.uint32))


def test_threads_calling_at_once_get_their_own_results() -> None:
    """The kernel runs without the GIL: concurrent calls from threads stay correct."""
    hasher = MinHasher(192, 1)
    rng = np.random.default_rng(5)
    inputs = [rng.integers(0, 1 << 32, 20_000, dtype=np.uint32) for _ in range(4)]
    spans = np.array([(s, min(20_000, s + 40)) for s in range(0, 20_000, 10)], dtype=np.int64)
    results: dict[int, np.ndarray] = {}

    def run(i: int) -> None:
        results[i] = _native_signatures(hasher, inputs[i], spans)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, shingles in enumerate(inputs):
        assert np.array_equal(results[i], hasher.signatures(shingles, spans))


def test_token_hashes_feed_the_native_shingles() -> None:
    words = TEXT.split()
    hashes = token_hashes(words)
    assert np.array_equal(_native.shingle_hashes(hashes, 2), shingle_hashes(hashes, 2))


@given(
    st.integers(0, 40),
    st.sampled_from([(1, 1, 1), (8, 20, 192), (12, 16, 192), (5, 3, 16), (0, 4, 8)]),
    st.integers(0, 2**32 - 1),
    st.booleans(),
)
@settings(max_examples=100, deadline=None)
def test_band_keys_equal_python(m: int, shape: tuple[int, int, int], seed: int, strided: bool) -> None:
    """Band keys of random signatures, with spare columns past bands * rows, from a strided view."""
    bands, rows, num_perm = shape
    values = np.random.default_rng(seed).integers(0, 1 << 32, (m, 2 * num_perm), dtype=np.uint32)
    signatures = values[:, ::2] if strided else np.ascontiguousarray(values[:, :num_perm])
    native = _native.band_keys(signatures, bands, rows)
    assert native.dtype == np.uint64 and native.shape == (m, bands)
    assert np.array_equal(native, band_keys(signatures, bands, rows))


def test_band_keys_need_bands_times_rows_columns() -> None:
    with pytest.raises(ValueError, match="at least 4 \\* 5 columns"):
        _native.band_keys(np.zeros((2, 16), dtype=np.uint32), 4, 5)


def _reference_analysis(text: str, config: Settings) -> tuple[list[object], np.ndarray]:
    """The Python engine's analysis of ``text``: each token's (hash, start, end, unspaced, length),
    the passages, and their signatures (the reference the native analysis must equal)."""
    tokens = tokenize(text)
    hashes = token_hashes(tokens.words)
    cut = cut_passages(text, tokens, config)
    hasher = MinHasher.from_settings(config)
    signatures = np.zeros((len(cut), config.num_perm), dtype=np.uint32)
    for n, unspaced in ((config.shingle_words, False), (config.shingle_chars, True)):
        rows = [k for k, p in enumerate(cut) if p.unspaced is unspaced]
        if rows:
            spans = np.array([(cut[k].token_start, cut[k].token_end - n + 1) for k in rows], dtype=np.int64)
            signatures[rows] = hasher.signatures(shingle_hashes(hashes, n), spans)
    columns = zip(
        hashes.tolist(),
        tokens.starts.tolist(),
        tokens.ends.tolist(),
        tokens.unspaced.tolist(),
        tokens.words,
        strict=True,
    )
    return [(h, s, e, u, len(w)) for h, s, e, u, w in columns] + list(cut), signatures


def _assert_analysis_equal(text: str, config: Settings) -> None:
    expected_rows, expected_signatures = _reference_analysis(text, config)
    found = analyse(text, config)
    t = found.tokens
    columns = zip(
        t.hashes.tolist(), t.starts.tolist(), t.ends.tolist(), t.unspaced.tolist(), t.lengths.tolist(), strict=True
    )
    assert [*columns, *found.passages] == expected_rows
    assert np.array_equal(found.signatures.reshape(-1, config.num_perm), expected_signatures)


@given(texts(), st.integers(1, 12), st.integers(0, 30), st.integers(1, 12), st.integers(1, 4), st.integers(1, 4))
@settings(max_examples=150, deadline=None)
def test_analysis_equals_the_python_engine(
    text: str, min_tokens: int, extra: int, step: int, words: int, chars: int
) -> None:
    """Tokens, passages and signatures of generated text (every script, spaceless ones, marks,
    whitespace runs) under generated settings: the native analysis is the Python engine's."""
    shortest = max(min_tokens, words, chars)
    config = Settings(
        min_tokens=shortest,
        window_tokens=2 * shortest + extra,
        window_step=min(step, 2 * shortest + extra),
        shingle_words=words,
        shingle_chars=chars,
        num_perm=16,
    )
    _assert_analysis_equal(text, config)


def test_analysis_of_real_and_long_text_equals_the_python_engine() -> None:
    """Default settings on the seeds' articles, on all of them joined (a long document) and on
    nothing at all; and a batch gives what documents analysed one by one give."""
    config = Settings()
    docs = [d.text for d in iter_documents([SEEDS]) if isinstance(d, Document)]
    assert len(docs) >= 5
    for text in [*docs, "\n\n".join(docs * 3), "", "   \n\n  "]:
        _assert_analysis_equal(text, config)
    batch = analyse_many(docs, config)
    for text, found in zip(docs, batch, strict=True):
        assert found.passages == analyse(text, config).passages
        assert np.array_equal(found.signatures, analyse(text, config).signatures)
