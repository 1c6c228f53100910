"""Tests of reuse.pipeline.analyser: a batch analysed in the background equals each document analysed alone."""

from __future__ import annotations

import numpy as np
import pytest

from reuse.config import Settings
from reuse.engine.analysis import analyse, analyse_many, lookup_keys_many, passage_fields
from reuse.engine.lsh import band_keys, band_params
from reuse.models import Document
from reuse.pipeline.analyser import Analyser
from reuse.pipeline.batch_rows import BatchRows
from reuse.stages import StageClock

SETTINGS = Settings()
TEXTS = [
    f"Report {k}. The council met on Tuesday to discuss the new library on the east side of town, "
    f"and the plan number {k} for older public buildings was approved after a long debate." * (1 + k % 4)
    for k in range(24)
]


def test_a_batch_started_ahead_gives_each_documents_own_analysis_in_order() -> None:
    clock = StageClock()
    analyser = Analyser(SETTINGS, clock)
    try:
        first, second = analyser.start(TEXTS[:12], list), analyser.start(TEXTS[12:], list)
        got = second() + first()
        comparables = analyser.comparables(TEXTS)
    finally:
        analyser.close()
    assert "analysis" in clock.seconds
    for analysis, text in zip(got, TEXTS[12:] + TEXTS[:12], strict=True):
        expected = analyse(text, SETTINGS)
        assert analysis.text == text and analysis.passages == expected.passages
        assert np.array_equal(analysis.signatures, expected.signatures)
        assert np.array_equal(analysis.token_hashes, expected.token_hashes)
    for found, text in zip(comparables, TEXTS, strict=True):
        expected = analyse(text, SETTINGS, signatures=False).comparable
        assert (found.chars, found.passages) == (expected.chars, expected.passages)
        for name in ("token_hashes", "trigrams", "content", "starts", "ends"):
            assert np.array_equal(getattr(found.align_input, name), getattr(expected.align_input, name))


def test_a_batchs_lookup_keys_are_each_documents_band_keys_then_its_families() -> None:
    """The band keys analyse_many computes for a whole batch at once are, document by document,
    the reference's band keys of its own signatures (passage by passage, band by band), then its
    key families' keys; an analysis made without key families has no lookup keys."""
    texts = ["", TEXTS[0], "Too short.", *TEXTS[1:6], TEXTS[3][:200]]
    bands, rows = band_params(SETTINGS)
    found = analyse_many(texts, SETTINGS)
    assert sum(len(a.passages) > 0 for a in found) >= 6
    for analysis in found:
        keys, positions = analysis.lookup_keys()
        count = len(analysis.passages)
        main = band_keys(analysis.signatures, bands, rows).ravel() if count else np.zeros(0, np.uint64)
        assert np.array_equal(keys[: len(main)], main)
        assert np.array_equal(keys[len(main) :], analysis.family_keys[0])
        assert np.array_equal(positions[: len(main)], np.repeat(np.arange(count), bands))
        assert np.array_equal(positions[len(main) :], analysis.family_keys[1])
    bare = analyse_many([TEXTS[0]], SETTINGS, key_families=False)[0]
    with pytest.raises(ValueError, match="key families"):
        bare.lookup_keys()


def test_a_batchs_stored_keys_and_passage_columns_are_its_documents_end_to_end() -> None:
    """What a batch stores is each document's, in order: its lookup keys, its passages numbered
    from the document's first id and its version id beside each key; its passages' columns, the
    fields of its Passage objects, whether the passages come as the native rows or as objects."""
    texts = [TEXTS[0], "", "Too short.", *TEXTS[1:5], TEXTS[3][:200]]
    found = analyse_many(texts, SETTINGS)
    counts = [len(a.passages) for a in found]
    firsts = [100 + int(x) for x in np.cumsum([0, *counts[:-1]])]
    versions = [7 + 2 * k for k in range(len(found))]
    keys, ids, owners = lookup_keys_many(found, firsts, versions)
    each = [(*a.lookup_keys(), first, version) for a, first, version in zip(found, firsts, versions, strict=True)]
    assert np.array_equal(keys, np.concatenate([k for k, _, _, _ in each]))
    assert np.array_equal(ids, np.concatenate([first + p for _, p, first, _ in each]))
    assert np.array_equal(owners, np.concatenate([np.full(len(k), v) for k, _, _, v in each]))
    assert len(keys) > 0 and 0 in counts

    passages = [p for a in found for p in a.passages]
    for columns in (passage_fields([a.passages for a in found]), passage_fields([list(a.passages) for a in found])):
        assert list(columns) == ["position", "kind", "token_start", "token_end", "char_start", "char_end", "unspaced"]
        assert columns["kind"].tolist() == [p.kind.value for p in passages]
        for name in ("position", "token_start", "token_end", "char_start", "char_end", "unspaced"):
            assert columns[name].tolist() == [getattr(p, name) for p in passages], name
    assert all(len(column) == 0 for column in passage_fields([]).values())


def test_a_batchs_rows_are_numbered_once_from_the_ids_it_is_stored_at() -> None:
    """BatchRows counts a batch's passages and versions from 0; numbered from the ids the batch
    gets, its keys and columns are those made with those ids, and it cannot be numbered twice."""
    texts = [TEXTS[0], "Too short.", TEXTS[1], TEXTS[2]]
    found = analyse_many(texts, SETTINGS)
    rows = BatchRows.of([Document(url=f"u{k}", text=t) for k, t in enumerate(texts)], found)
    counts = [len(a.passages) for a in found]
    firsts = [500 + int(x) for x in np.cumsum([0, *counts[:-1]])]
    versions = [70 + k for k in range(len(found))]
    rows.numbered(500, 70)
    for made, expected in zip(rows.keys, lookup_keys_many(found, firsts, versions), strict=True):
        assert np.array_equal(made, expected)
    assert rows.passages["passage_id"].tolist() == list(range(500, 500 + sum(counts)))
    assert rows.passages["version_id"].tolist() == [v for v, n in zip(versions, counts, strict=True) for _ in range(n)]
    assert set(rows.blocks["version_id"].tolist()) == set(versions)
    with pytest.raises(ValueError, match="numbered already"):
        rows.numbered(500, 70)


def test_nothing_to_analyse_takes_no_time_and_no_thread() -> None:
    clock = StageClock()
    analyser = Analyser(SETTINGS, clock)
    assert analyser.start([], list)() == []
    assert analyser._ahead is None and "analysis" not in clock.seconds
