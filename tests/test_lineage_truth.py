"""The lineage check on generated news with known truth (reuse.eval.lineage_truth, `reusetrack eval lineage`).

The generator and the scorer are tested on their own first (a scorer that cannot see a reversal
would make every figure meaningless); then the whole tracker is run on generated worlds and held
to what a fact-checker must be able to publish: no copy ever above its own source, every story
exactly its documents, syndicated copies kept apart from their originals, aliases merged, and a
copy that credits its source by URL or canonical always hung under it and marked credited.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawlers.files import iter_documents
from reuse.config import Settings
from reuse.eval.lineage_run import found_lineage, write_archive
from reuse.eval.lineage_truth import FoundNode, TruePage, World, generate_world, score_lineage
from reuse.pipeline.ingest import ingest
from warehouse.db import open_warehouse


def _perfect(world: World) -> dict[str, FoundNode]:
    """What a tracker that knew the truth would report."""
    found = {}
    for page in world.pages:
        if page.alias:
            continue
        credited = "credited" if page.credit != "none" else "uncredited"
        found[page.url] = FoundNode(page.url, page.story, page.parent, page.parent is not None, credited, page.edits)
    return found


def _stored(world: World) -> dict[str, str | None]:
    return {p.url: (p.twin_of if p.alias else p.url) for p in world.pages}


def test_the_world_is_determined_by_its_seed_and_copies_come_after_their_sources() -> None:
    world = generate_world(7, stories=15)
    assert world == generate_world(7, stories=15)
    assert world != generate_world(8, stories=15)
    truth = world.by_url()
    copies = [p for p in world.pages if p.parent is not None]
    assert len({p.story for p in copies}) > 5
    assert {p.credit for p in copies} >= {"none", "outlet", "url", "canonical"}
    assert {p.precision for p in world.pages} == {"instant", "date", "none"}
    for page in copies:
        source = truth[page.parent]
        assert source.site != page.site or page.twin_of is not None
        assert page.story == source.story
        assert page.captured > source.captured - timedelta(hours=8)


def test_a_perfect_lineage_scores_perfectly() -> None:
    world = generate_world(3, stories=10)
    figures = score_lineage(world, _perfect(world), _stored(world)).to_dict()
    direction = figures["direction"]
    assert direction["reversed"] == direction["wrong"] == direction["undecided"] == 0
    assert direction["accuracy"] == 1.0
    assert figures["membership"] == {"pair_precision": 1.0, "pair_recall": 1.0, "background_in_story": 0}
    assert figures["credit"]["accuracy"] == 1.0
    identity = figures["identity"]
    assert identity["syndicated_kept"] == identity["syndicated"] > 0


def test_a_copy_found_above_its_source_is_reversed_and_an_undirected_edge_is_undecided() -> None:
    world = generate_world(3, stories=10)
    found = _perfect(world)
    copy = next(p for p in world.pages if p.parent is not None and p.twin_of is None and p.credit == "none")
    source = found[copy.parent]
    found[source.url] = replace(source, parent=copy.url, directed=True)
    found[copy.url] = replace(found[copy.url], parent=None, directed=False)
    figures = score_lineage(world, found, _stored(world)).to_dict()
    assert figures["direction"]["reversed"] >= 1
    assert copy.parent in figures["direction"]["reversed_pages"] or copy.url in figures["direction"]["reversed_pages"]
    found[source.url] = replace(source, parent=copy.url, directed=False)
    figures = score_lineage(world, found, _stored(world)).to_dict()
    assert figures["direction"]["reversed"] == 0
    assert figures["direction"]["undecided"] >= 1


def test_a_syndicated_copy_stored_as_its_original_is_counted_lost() -> None:
    world = generate_world(5, stories=12)
    syndicated = [p for p in world.pages if p.credit == "canonical"]
    stored = _stored(world)
    for page in syndicated:
        stored[page.url] = page.parent
    figures = score_lineage(world, _perfect(world), stored).to_dict()
    assert figures["identity"]["syndicated"] == len(syndicated) > 0
    assert figures["identity"]["syndicated_kept"] == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), swap=st.integers(0, 10_000))
def test_any_single_flip_of_a_true_edge_is_seen(seed: int, swap: int) -> None:
    """The scorer's own invariant: hang any source under its directed copy and it is reported."""
    world = generate_world(seed, stories=4, sites=5, background=1)
    copies = [p for p in world.pages if p.parent is not None and p.twin_of is None]
    copy = copies[swap % len(copies)]
    found = _perfect(world)
    found[copy.parent] = replace(found[copy.parent], parent=copy.url, directed=True)
    assert score_lineage(world, found, _stored(world)).direction["reversed"] >= 1


def _run(seed: int) -> tuple[World, dict[str, FoundNode], dict[str, str | None]]:
    """Ingest a small generated world as a WARC into a fresh warehouse and read its lineage back."""
    world = generate_world(seed, stories=8, sites=5, background=5)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "world.warc.gz"
        write_archive(world, archive)
        with open_warehouse(Path(scratch) / "w.duckdb", Settings()) as warehouse:
            report = ingest(warehouse, iter_documents([archive]), Settings())
            # An AMP alias and its article in one run are reported as one document read twice, nothing else.
            assert [p for p in report.problems if "/amp/" not in p.reason] == []
            found, stored = found_lineage(warehouse)
    return world, found, stored


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_the_tracker_on_generated_news_never_reverses_and_keeps_every_story(seed: int) -> None:
    """What a fact-checker publishes: on any generated world, no copy is ever found above its own
    source, each story is exactly its documents and no unrelated article joins one, a syndicated
    copy (canonical to its original on another site) stays a document of its own, an AMP alias is
    merged into its copy, a copy crediting its source by URL or canonical hangs under it, and the
    credit of every copy found under its true source is right."""
    world, found, stored = _run(seed)
    scores = score_lineage(world, found, stored)
    figures = scores.to_dict()
    assert figures["direction"]["reversed"] == 0, figures["direction"]["reversed_pages"]
    assert figures["membership"] == {"pair_precision": 1.0, "pair_recall": 1.0, "background_in_story": 0}
    identity = figures["identity"]
    assert identity["syndicated_kept"] == identity["syndicated"]
    assert identity["aliases_merged"] == identity["aliases"]
    assert scores.credit_wrong == []
    truth = world.by_url()
    for page in world.pages:
        if page.parent is not None and page.credit in ("url", "canonical") and stored.get(page.url) == page.url:
            node = found[page.url]
            assert node.directed, page.url
            assert node.parent in {stored.get(u) for u in _sources(page, truth)}, page.url


def _sources(page: TruePage, truth: dict[str, TruePage]) -> list[str]:
    """The true source of ``page`` and every page above it."""
    chain = []
    while page.parent is not None:
        chain.append(page.parent)
        page = truth[page.parent]
    return chain
