"""Shared fixtures: the fixture web on 127.0.0.1, the demo corpus in a warehouse, and the ``slow`` marker.

Tests marked ``slow`` (the required crawl figures: 1,000 pages under faults, 20 SIGKILLs) run in
CI (``CI`` set in the environment) or with ``--runslow``; a developer's ``scripts/check`` skips them.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import cliproc
import pytest
from fixtureweb import FixtureWeb
from typer.testing import CliRunner

from reuse.cli import app


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run the tests marked slow")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long figure test; runs in CI or with --runslow")
    config.addinivalue_line("markers", "timed: wall-clock bounds or kills by the clock; scripts/check runs these alone")
    # Before any test starts the forkserver: its children, the runs cliproc starts for the kill
    # tests, then find the command line imported.
    multiprocessing.set_forkserver_preload(cliproc.PRELOAD)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="slow figure test: runs in CI, or here with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def web() -> Iterator[FixtureWeb]:
    """A fresh fixture web; its sites are closed after the test."""
    fixture = FixtureWeb()
    try:
        yield fixture
    finally:
        fixture.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A warehouse holding the demo corpus (seeds/demo) ingested through the CLI: documents,
    matches, lineage edges and stories. One for the whole session (an ingest costs seconds):
    tests only read it, or copy it before they write, and it must end as it began."""
    db = tmp_path_factory.mktemp("live") / "live.duckdb"
    result = CliRunner().invoke(
        app, ["--db", str(db), "ingest", str(Path(__file__).resolve().parents[1] / "seeds" / "demo")]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ingested 9, unchanged 0, skipped 0, failed 0;"), result.output
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    yield db
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before, "a test wrote to the shared demo warehouse"
