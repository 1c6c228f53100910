"""The layering of DESIGN.md, and the explicit public surface of each package.

The pure core of ``reuse`` imports neither the HTTP stack nor the warehouse's DuckDB; only the
wiring modules (the pipelines, the CLI, ``inspection`` and ``pan13_eval``) connect the core to
``crawlers`` and ``warehouse``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import reuse

ROOT = Path(__file__).resolve().parent.parent

# The modules that wire the core to I/O; everything else in reuse/ is the pure core.
WIRING = {
    "pipeline",
    "cli",
    "__main__",
    "crawl_pipeline",
    "crawl_cli",
    "lineage_cli",
    "lineage_pipeline",
    "inspection",
    "pan13_eval",
    "lineage_truth_eval",
    "spark_pipeline",
    "workers",
}
FORBIDDEN = ("duckdb", "httpx", "bs4", "lxml")


def _core_modules() -> list[str]:
    return sorted(f"reuse.{m.name}" for m in pkgutil.iter_modules(reuse.__path__) if m.name not in WIRING)


def test_core_modules_are_found() -> None:
    core = _core_modules()
    for name in ("normalize", "tokens", "passages", "shingles", "signatures", "lsh", "align", "matching"):
        assert f"reuse.{name}" in core
    assert "reuse.pipeline" not in core


def test_pure_core_imports_no_io_library() -> None:
    modules = ["reuse", *_core_modules()]
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {list(FORBIDDEN)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_check_itself_sees_forbidden_imports() -> None:
    """Guard against a vacuous pass: importing the warehouse does pull duckdb in."""
    script = "import sys, warehouse; print('duckdb' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


PACKAGES = ["reuse", "warehouse", "crawlers"]


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    if name.isupper() or (name.upper() == name and "_" in name):
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    return group, name


def _public_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        names.append(package)
        module = importlib.import_module(package)
        names.extend(f"{package}.{m.name}" for m in pkgutil.iter_modules(module.__path__) if m.name not in WIRING)
    return names


def test_isort_key_orders_like_ruff() -> None:
    names = ["open_warehouse", "Warehouse", "SCHEMA_VERSION", "band_keys", "MinHasher", "TOKEN_CACHE_LIMIT"]
    assert sorted(names, key=_isort_key) == [
        "SCHEMA_VERSION", "TOKEN_CACHE_LIMIT", "MinHasher", "Warehouse", "band_keys", "open_warehouse",
    ]  # fmt: skip


@pytest.mark.parametrize("name", _public_modules())
def test_all_is_sorted_and_every_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        if name in PACKAGES and name != "crawlers":
            pytest.fail(f"{name} has no __all__")
        pytest.skip(f"{name} defines no __all__")
    assert isinstance(exported, list | tuple)
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it does not define: {missing}"


def test_reuse_exports_its_public_surface() -> None:
    """Every public name re-exported by ``reuse`` is the object of the submodule that defines it."""
    for name in reuse.__all__:
        value = getattr(reuse, name)
        origin = getattr(value, "__module__", "")
        assert origin.startswith("reuse."), (name, origin)
        assert getattr(importlib.import_module(origin), name) is value
