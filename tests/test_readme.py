"""The README's promises that can drift: its schema section and its test command."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reuse.cli import app
from warehouse.schema_doc import render

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_schema_section_is_generated_from_the_sql_files() -> None:
    assert render(README) == README, "run: python -m warehouse.schema_doc README.md"


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README, flags=re.DOTALL)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = next(c for c in _commands() if "scripts/check" in c)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci


def test_the_main_command_finds_the_seed_case(live: Path) -> None:
    """The demo: Global Research's republication of the SouthFront report is found, whole (in
    ``live``, the session's warehouse of ``reusetrack ingest seeds/demo``)."""
    main = _commands()[0]
    assert "reusetrack ingest seeds/demo && reusetrack sites" in main
    result = CliRunner().invoke(app, ["--db", str(live), "pairs", "--json"])
    assert result.exit_code == 0, result.output
    sites = {(p["site_a"], p["site_b"]): p for p in json.loads(result.stdout)}
    pair = sites.get(("globalresearch.ca", "southfront.org")) or sites[("southfront.org", "globalresearch.ca")]
    coverage = pair["coverage_a"] if pair["site_a"] == "southfront.org" else pair["coverage_b"]
    assert coverage > 0.9


def test_the_watching_block_raises_the_seed_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Watching section's commands (issue 16's "Done when"), run as written in a folder holding
    the seeds: ``alerts --json`` prints one alert, credited, with its edits. ``serve`` is left to
    tests/test_serve.py, which checks the same alert in its pages, API and feed over HTTP."""
    block = next(c for c in _commands() if "watch add" in c)
    (tmp_path / "seeds").symlink_to(ROOT / "seeds")
    monkeypatch.chdir(tmp_path)
    printed = []
    for line in block.splitlines():
        for command in line.split("#")[0].split("&&"):
            words = shlex.split(command)
            assert words[0] == "reusetrack", command
            if words[1] == "serve":
                continue
            result = CliRunner().invoke(app, words[1:])
            assert result.exit_code == 0, (command, result.output)
            printed.append((words[1:], result.stdout))
    assert [words for words, _ in printed][-1] == ["alerts", "--json"] and (tmp_path / "reusetrack.duckdb").exists()
    (alert,) = json.loads(printed[-1][1])
    assert (alert["copy"]["site"], alert["source"]["site"]) == ("globalresearch.ca", "southfront.org")
    assert alert["credited"] == "credited" and "headline_changed" in alert["labels"]
