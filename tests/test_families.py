"""Key families beside the MinHash bands (reuse.engine.families): the native keys equal the
Python reference; anchors find every exact copy of ``anchor_tokens`` words; content bands find
copies with words replaced that the main bands miss; word bands find copies reworded and
reordered that no word-pair family sees; and a short exact copy inside long
unrelated paragraphs is stored as a verbatim match through the CLI, while unrelated texts match
nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from reuse.cli import app
from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.analysis import Analysis, analyse, analyse_many
from reuse.engine.families import family_keys, winnowed
from reuse.engine.lsh import band_params
from tests.test_native_tokens import texts

DEFAULTS = Settings()


def _words(rng: np.random.Generator, vocabulary: list[str], count: int) -> list[str]:
    return [vocabulary[int(i)] for i in rng.integers(0, len(vocabulary), count)]


def _vocabulary(rng: np.random.Generator, size: int = 3000) -> list[str]:
    """Made-up words with a language's shape: a few short function words, drawn often, and
    many content words of 4 to 9 letters."""
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    content = ["".join(rng.choice(letters, int(rng.integers(4, 10)))) for _ in range(size)]
    function = ["a", "of", "the", "in", "to", "and", "is", "on", "it", "by", "as", "at"]
    return function * (size // 30) + content


def _reference(analysis: Analysis, config: Settings) -> tuple[np.ndarray, np.ndarray]:
    rows = [(p.token_start, p.token_end) for p in analysis.passages]
    t = analysis.tokens
    return family_keys(t.hashes, t.unspaced, t.lengths, rows, config)


@given(
    st.lists(texts(), min_size=1, max_size=3),
    st.sampled_from([(0, 10), (2, 3), (3, 8), (6, 10)]),
    st.sampled_from([(0, 32, 2), (1, 8, 1), (4, 32, 2), (3, 5, 3)]),
    st.sampled_from([(0, 4), (32, 4), (5, 3), (8, 1)]),
)
@settings(max_examples=80, deadline=None)
def test_native_family_keys_equal_the_reference(
    generated: list[str], anchors: tuple[int, int], content: tuple[int, int, int], words: tuple[int, int]
) -> None:
    config = replace(
        DEFAULTS,
        min_tokens=3,
        window_tokens=16,
        window_step=4,
        anchor_words=anchors[0],
        anchor_tokens=anchors[1] if anchors[0] else DEFAULTS.anchor_tokens,
        content_chars=content[0],
        content_bands=content[1],
        content_rows=content[2],
        word_bands=words[0],
        word_rows=words[1],
    )
    for analysis in analyse_many(generated, config):
        keys, owners = _reference(analysis, config)
        assert np.array_equal(analysis.family_keys[0], keys)
        assert np.array_equal(analysis.family_keys[1], owners)


def test_native_family_keys_on_a_long_text_and_bad_input() -> None:
    rng = np.random.default_rng(3)
    text = " ".join(_words(rng, _vocabulary(rng), 1500))
    analysis = analyse(text, DEFAULTS)
    keys, owners = _reference(analysis, DEFAULTS)
    assert len(keys) > 1500 // 3  # the anchors and the content bands both gave keys
    assert np.array_equal(analysis.family_keys[0], keys) and np.array_equal(analysis.family_keys[1], owners)
    # A repeated phrase makes equal k-gram hashes in one run: the rightmost is kept, in both.
    config = replace(DEFAULTS, anchor_words=3, anchor_tokens=6)
    repeated = analyse(" ".join(["one two three"] * 40), config)
    keys, owners = _reference(repeated, config)
    assert np.array_equal(repeated.family_keys[0], keys) and np.array_equal(repeated.family_keys[1], owners)
    h = np.zeros(3, np.uint64)
    bad = (h, np.zeros(3, bool), np.zeros(3, np.int64), np.array([0], np.int64), np.array([4], np.int64))
    try:
        _native.family_keys_many([bad], (2, 3, 40), (0, 0, 1), (0, 1), np.ones((2, 4), np.uint32))
    except ValueError as err:
        assert "within the document" in str(err)
    else:
        raise AssertionError("a passage past the document's end was accepted")


@given(st.lists(st.integers(0, 2**64 - 1) | st.none(), max_size=40), st.integers(1, 6))
@settings(max_examples=200, deadline=None)
def test_winnowing_keeps_a_hash_in_every_run(hashes: list[int | None], w: int) -> None:
    kept = winnowed(hashes, w)
    assert [p for p, _ in kept] == sorted({p for p, _ in kept})
    for start in range(len(hashes) - w + 1):
        run = [h for h in hashes[start : start + w] if h is not None]
        if run:
            assert any(start <= p < start + w and h == min(run) for p, h in kept)


@given(st.integers(0, 2**32 - 1), st.integers(10, 24), st.integers(0, 300), st.integers(0, 300))
@settings(max_examples=40, deadline=None)
def test_every_exact_copy_of_anchor_tokens_words_shares_an_anchor(seed: int, length: int, at_a: int, at_b: int) -> None:
    """Wherever ten or more words are copied into whatever text, source and copy share an anchor
    key, filed under passages that the signature filter and the verifier let through."""
    rng = np.random.default_rng(seed)
    vocabulary = _vocabulary(rng)
    copied = _words(rng, vocabulary, length)
    a_words, b_words = _words(rng, vocabulary, 320), _words(rng, vocabulary, 320)
    config = replace(DEFAULTS, content_chars=0)  # the anchors alone
    a = analyse(" ".join(a_words[:at_a] + copied + a_words[at_a:]), config)
    b = analyse(" ".join(b_words[:at_b] + copied + b_words[at_b:]), config)
    assert set(a.family_keys[0].tolist()) & set(b.family_keys[0].tolist())


def _share_a_key(a: Analysis, b: Analysis, main: bool, families: bool) -> bool:
    bands, rows = band_params(DEFAULTS)
    keys_a: set[int] = set()
    keys_b: set[int] = set()
    if main:
        keys_a |= set(_native.band_keys(a.signatures, bands, rows).ravel().tolist())
        keys_b |= set(_native.band_keys(b.signatures, bands, rows).ravel().tolist())
    if families:
        keys_a |= set(a.family_keys[0].tolist())
        keys_b |= set(b.family_keys[0].tolist())
    return bool(keys_a & keys_b)


def test_an_edited_copy_meets_its_source_through_the_content_bands() -> None:
    """A 40-word passage with a third of its words replaced at random (Jaccard ~0.29, see
    reuse.engine.families) shares a key with its source through the content bands in cases the
    main bands miss (seed 15: the main bands find 134 of 200; the default 32 content bands 158,
    40 of the other 66, where 16 found 118 and 24: the bounds below fail with 16; a replaced word
    may also turn a content word into a function word, which costs a content pair more than the
    mechanism assumes); unrelated passages of the same vocabulary share no content key."""
    rng = np.random.default_rng(15)
    vocabulary = _vocabulary(rng)
    config = replace(DEFAULTS, anchor_words=0, word_bands=0)  # the content bands alone: no exact run helps
    trials, main_hits, family_hits, rescued, unrelated = 200, 0, 0, 0, 0
    for _ in range(trials):
        source = _words(rng, vocabulary, 40)
        copy = [vocabulary[int(rng.integers(len(vocabulary)))] if rng.random() < 1 / 3 else w for w in source]
        a, b = analyse_many([" ".join(source), " ".join(copy)], config)
        by_main, by_families = _share_a_key(a, b, True, False), _share_a_key(a, b, False, True)
        main_hits += by_main
        family_hits += by_families
        rescued += by_families and not by_main
        other = analyse(" ".join(_words(rng, vocabulary, 40)), config)
        unrelated += _share_a_key(a, other, False, True)
    assert family_hits >= 0.7 * trials
    assert rescued >= 0.15 * trials  # the families find what the main bands miss
    assert main_hits + rescued >= 0.85 * trials
    assert unrelated <= 0.01 * trials


def test_a_reworded_and_reordered_copy_meets_its_source_through_the_word_bands() -> None:
    """A 40-word passage with a third of its words replaced and its words shuffled (what a
    translation does to a sentence's word pairs) shares a word-band key with its source most of
    the time (Jaccard of the content words about 0.5: 32 bands of 4 rows find it with
    probability 0.87), where the word-pair families never do; two passages on one topic (drawn
    from the same 150 words: Jaccard about 0.15, probability 0.016) seldom do. Seed 15: 168 of
    200 found by the word bands, none by the others, 4 topic pairs with a word key (with 3 rows
    a band the topic bound fails)."""
    rng = np.random.default_rng(15)
    vocabulary = _vocabulary(rng)
    words_only = replace(DEFAULTS, anchor_words=0, content_bands=0)
    pairs_only = replace(DEFAULTS, word_bands=0)
    trials, by_words, by_pairs, topic_hits = 200, 0, 0, 0
    for _ in range(trials):
        source = _words(rng, vocabulary, 40)
        copy = [vocabulary[int(rng.integers(len(vocabulary)))] if rng.random() < 1 / 3 else w for w in source]
        copy = [copy[int(i)] for i in rng.permutation(len(copy))]
        a, b = analyse_many([" ".join(source), " ".join(copy)], words_only)
        by_words += _share_a_key(a, b, False, True)
        a, b = analyse_many([" ".join(source), " ".join(copy)], pairs_only)
        by_pairs += _share_a_key(a, b, True, True)
        topic = _words(rng, vocabulary, 150)
        one, two = analyse_many([" ".join(_words(rng, topic, 40)), " ".join(_words(rng, topic, 40))], words_only)
        topic_hits += _share_a_key(one, two, False, True)
    assert by_words >= 0.7 * trials
    assert by_pairs <= 0.1 * trials  # the copy the word-pair families cannot see
    assert topic_hits <= 0.04 * trials


def test_a_short_exact_copy_in_long_paragraphs_is_found_through_the_cli(tmp_path: Path) -> None:
    """Eleven words copied into the middle of a long paragraph of another text are one verbatim
    match on a real DuckDB file; a third, unrelated text matches neither."""
    rng = np.random.default_rng(7)
    vocabulary = _vocabulary(rng)
    copied = " ".join(_words(rng, vocabulary, 11))
    source = " ".join(_words(rng, vocabulary, 90)) + " " + copied + " " + " ".join(_words(rng, vocabulary, 90))
    copy = " ".join(_words(rng, vocabulary, 120)) + " " + copied + " " + " ".join(_words(rng, vocabulary, 70))
    other = " ".join(_words(rng, vocabulary, 300))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in (("a-source", source), ("b-copy", copy), ("c-other", other)):
        (corpus / f"{name}.txt").write_text(text + "\n")
    db = tmp_path / "wh.duckdb"
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(db), "ingest", str(corpus)])
    assert result.exit_code == 0, result.output
    query = (
        "SELECT va.text[m.a_start + 1 : m.a_end] AS a, vb.text[m.b_start + 1 : m.b_end] AS b, m.kind,"
        " da.url AS url_a, db.url AS url_b FROM matches m JOIN versions va ON va.version_id = m.version_a"
        " JOIN versions vb ON vb.version_id = m.version_b JOIN documents da ON da.doc_id = va.doc_id"
        " JOIN documents db ON db.doc_id = vb.doc_id"
    )
    result = runner.invoke(app, ["--db", str(db), "sql", "--json", query])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 1, rows
    assert rows[0]["kind"] == "verbatim"
    assert rows[0]["a"] == rows[0]["b"] == copied
    assert not any("c-other" in row["url_a"] + row["url_b"] for row in rows)


def test_a_warehouse_made_before_the_families_keeps_working(tmp_path: Path) -> None:
    """The families change no signature, so they are not fingerprint settings: a warehouse made
    without them opens with the new settings, and a short copy between two documents stored
    after it is found (the documents stored before meet new ones through the bands alone)."""
    from reuse.models import Document
    from reuse.pipeline.ingest import ingest
    from warehouse.db import open_warehouse

    before = replace(DEFAULTS, anchor_words=0, content_chars=0, min_verbatim_tokens=DEFAULTS.min_match_tokens)
    assert before.fingerprint_key() == DEFAULTS.fingerprint_key()
    rng = np.random.default_rng(11)
    vocabulary = _vocabulary(rng)
    copied = _words(rng, vocabulary, 11)
    texts = [
        " ".join(_words(rng, vocabulary, 200)),
        " ".join(_words(rng, vocabulary, 90) + copied + _words(rng, vocabulary, 90)),
        " ".join(_words(rng, vocabulary, 120) + copied + _words(rng, vocabulary, 70)),
    ]
    docs = [Document(url=f"https://{n}.example/a", text=t) for n, t in zip("abc", texts, strict=True)]
    db = tmp_path / "old.duckdb"
    with open_warehouse(db, before) as wh:
        ingest(wh, docs[:1], before, lineage=False)
    with open_warehouse(db, DEFAULTS) as wh:
        report = ingest(wh, docs[1:], DEFAULTS, lineage=False)
        kinds = [row[0] for row in wh.con.execute("SELECT kind FROM matches").fetchall()]
    assert report.matches == 1 and kinds == ["verbatim"]
