"""Every error a user can cause is one ``Error: ...`` line on stderr and exit code 1, never a
traceback: a damaged warehouse, a full disk, a folder or another kind of file given as --db, a
warehouse of a newer schema. What was committed before stays readable."""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from reuse.cli import app
from warehouse.db import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "seeds" / "demo"


def _one_line(result: Result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def _truncated(live: Path, tmp_path: Path) -> Path:
    damaged = tmp_path / "damaged.duckdb"
    shutil.copy(live, damaged)
    with damaged.open("r+b") as file:
        file.truncate(damaged.stat().st_size // 2)
    return damaged


@pytest.mark.parametrize(
    "args",
    [["stats"], ["pairs"], ["stories"], ["matches", "1"], ["export", "--out", "{tmp}/snap"], ["ingest", "{demo}"]],
)
def test_a_truncated_warehouse_is_one_line(live: Path, tmp_path: Path, args: list[str]) -> None:
    damaged = _truncated(live, tmp_path)
    args = [a.format(tmp=tmp_path, demo=DEMO) for a in args]
    result = CliRunner().invoke(app, ["--db", str(damaged), *args])
    _one_line(result, str(damaged), "damaged")


def _ingest_with_file_size_limit(db: Path, folder: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """``reusetrack ingest`` in a process whose file writes fail past ``limit`` bytes, as on a full
    disk (the write fails with EFBIG instead of ENOSPC; DuckDB reports both the same way)."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "reuse", "--db", str(db), "ingest", str(folder)],
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_full_disk_is_one_line_and_keeps_what_was_committed(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, sites in ((first, ["southfront.org", "globalresearch.ca"]), (second, ["northgate-herald.example"])):
        for site in sites:
            shutil.copytree(DEMO / site, folder / site)
    db = tmp_path / "w.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", str(db), "ingest", str(first)]).exit_code == 0
    before = runner.invoke(app, ["--db", str(db), "sql", "--csv", "SELECT url FROM documents ORDER BY url"]).stdout

    done = _ingest_with_file_size_limit(db, second, 64 * 1024)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the disk is full"), done.stderr
    assert "nothing committed before was lost" in lines[0]

    # The first run's documents are all still there, and the warehouse takes the next run.
    after = runner.invoke(app, ["--db", str(db), "sql", "--csv", "SELECT url FROM documents ORDER BY url"])
    assert after.exit_code == 0 and after.stdout == before
    assert runner.invoke(app, ["--db", str(db), "ingest", str(second)]).exit_code == 0


def test_other_files_given_as_the_warehouse_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "folder.duckdb"
    folder.mkdir()
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    newer = tmp_path / "newer.duckdb"
    assert runner.invoke(app, ["--db", str(newer), "ingest", str(DEMO / "southfront.org")]).exit_code == 0
    with duckdb.connect(str(newer)) as con:
        con.execute(
            "INSERT INTO schema_migrations SELECT * REPLACE (version + 1 AS version) FROM schema_migrations"
            " WHERE version = ?",
            [SCHEMA_VERSION],
        )
    for db, fragment in ((folder, "folder.duckdb"), (text, "notes.duckdb"), (other, "not a reusetrack warehouse"),
                         (newer, "newer than this reusetrack")):  # fmt: skip
        for args in (["stats"], ["pairs"], ["ingest", str(DEMO / "globalresearch.ca")]):
            _one_line(runner.invoke(app, ["--db", str(db), *args]), fragment)


def _can_write_read_only_files(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.write_text("")
    probe.chmod(0o444)
    try:
        probe.open("a").close()
    except PermissionError:
        return False
    return True  # root, or a process with CAP_DAC_OVERRIDE


def test_a_read_only_warehouse_is_one_line(live: Path, tmp_path: Path) -> None:
    if _can_write_read_only_files(tmp_path):
        pytest.skip("this process may write read-only files (root)")
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "w.duckdb"
    shutil.copy(live, db)
    runner = CliRunner()
    try:
        # A writable file in a read-only folder (its WAL cannot be made), then a read-only file.
        for mode in (0o644, 0o444):
            folder.chmod(0o755)
            db.chmod(mode)
            folder.chmod(0o555)
            result = runner.invoke(app, ["--db", str(db), "ingest", str(DEMO / "northgate-herald.example")])
            _one_line(result, str(db), "Permission denied")
            assert runner.invoke(app, ["--db", str(db), "stats"]).exit_code == 0  # reading still works
    finally:
        folder.chmod(0o755)
