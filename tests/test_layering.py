"""The layering of the packages, and the explicit public surface of each.

Each stage of the data flow has one home, and each home may import only the layers below it:

============  ===========================================================================
kernel        ``reuse.errors``, ``reuse.models``, ``reuse.config``, ``reuse.stages``: the kernel only
native        ``reuse.engine._native``: the compiled core (Rust), a leaf that imports nothing
engine        ``reuse.engine``: the kernel, the compiled core and the engine
lineage       ``reuse.lineage``: the kernel, the engine and the lineage
crawlers      ``crawlers``: the kernel and the crawlers
warehouse     ``warehouse``: the kernel, the compiled core (the band-key index's lookups) and the
              warehouse
pipeline      ``reuse.pipeline``: everything but the evaluation and the command line
eval          ``reuse.eval``: everything but the command line (its harnesses run the pipeline)
cli           ``reuse.cli``: everything
============  ===========================================================================

The pure layers (kernel, engine, lineage, and the pure scorers of ``reuse.eval``) import no I/O
library. Imports under ``if TYPE_CHECKING:`` are for the type checker and are not counted.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import reuse

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["reuse", "warehouse", "crawlers"]
#: The compiled core: pure kernels (no I/O, no import of the project), usable by the warehouse too.
NATIVE = "reuse.engine._native"
KERNEL = {"reuse", "reuse.errors", "reuse.models", "reuse.config", "reuse.stages"}
#: Modules of reuse.eval that only compute: they read nothing and run nothing.
PURE_EVAL = {"reuse.eval.plagdet", "reuse.eval.lineage_truth"}
#: Libraries the pure layers must not import: the network, HTML parsing, the warehouse's DuckDB.
IO_LIBRARIES = ("duckdb", "httpx", "bs4", "lxml", "pyarrow", "warcio", "socket")
#: Libraries that the command line must not load to print its version or help.
HEAVY = ("datasketch", "scipy", "numpy", "duckdb", "httpx", "bs4", "lxml", "pyarrow", "warcio", "rich")
#: The web stack of ``reusetrack serve``: only that command loads it.
WEB = ("starlette", "uvicorn", "jinja2")

ALLOWED = {
    "kernel": {"kernel"},
    "native": set(),
    "engine": {"kernel", "native", "engine"},
    "lineage": {"kernel", "native", "engine", "lineage"},
    "crawlers": {"kernel", "crawlers"},
    "warehouse": {"kernel", "native", "warehouse"},
    "pipeline": {"kernel", "native", "engine", "lineage", "crawlers", "warehouse", "pipeline"},
    "eval": {"kernel", "native", "engine", "lineage", "crawlers", "warehouse", "pipeline", "eval"},
    "cli": {"kernel", "native", "engine", "lineage", "crawlers", "warehouse", "pipeline", "eval", "cli"},
}


def _all_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        names.extend(m.name for m in pkgutil.walk_packages(module.__path__, prefix=f"{package}."))
    return sorted(names)


def layer(module: str) -> str:
    """The layer ``module`` belongs to."""
    if module in KERNEL:
        return "kernel"
    if module == NATIVE:
        return "native"
    if module == "reuse.__main__":  # ``python -m reuse``: the command line
        return "cli"
    top, _, rest = module.partition(".")
    if top in ("crawlers", "warehouse"):
        return top
    sub = rest.partition(".")[0]
    if sub in ("engine", "lineage", "pipeline", "eval", "cli"):
        return sub
    raise AssertionError(f"{module} belongs to no layer: put it in one and in this test's table")


def _source(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    return Path(spec.origin)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str) -> set[str]:
    """Every module ``module`` imports at run time, at its top or inside functions (absolute names).

    A compiled module (``reuse.engine._native``, built from Rust) imports nothing of the project
    and no I/O library: its crate has no I/O and depends only on pyo3, numpy, rayon and xxhash-rust.
    """
    source = _source(module)
    if source.suffix != ".py":
        return set()
    tree = ast.parse(source.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from reuse.cli import crawl`` imports the module reuse.cli.crawl
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _project_imports(module: str) -> set[str]:
    known = set(_all_modules())
    return {name for name in imports_of(module) if name in known}


MODULES = _all_modules()


def test_every_module_has_a_layer() -> None:
    layers = {layer(m) for m in MODULES}
    assert layers == set(ALLOWED)
    assert layer("reuse.engine.signatures") == "engine" and layer("reuse.lineage.stories") == "lineage"


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_only_the_layers_below_it(module: str) -> None:
    allowed = ALLOWED[layer(module)]
    wrong = sorted(name for name in _project_imports(module) if layer(name) not in allowed and name not in PACKAGES)
    assert wrong == [], f"{module} ({layer(module)}) imports {wrong}"


def test_the_check_sees_a_wrong_import() -> None:
    """Guard against a vacuous pass: the check finds what the command line imports."""
    assert "warehouse.db" in imports_of("reuse.cli.query")
    assert layer("warehouse.db") not in ALLOWED["engine"]


@pytest.mark.parametrize(
    "module", [m for m in MODULES if layer(m) in ("kernel", "engine", "lineage") or m in PURE_EVAL]
)
def test_pure_layers_import_no_io_library(module: str) -> None:
    io = sorted(name for name in imports_of(module) if name.split(".")[0] in IO_LIBRARIES)
    assert io == [], f"{module} imports {io}"


def test_the_native_crate_depends_on_no_io_crate() -> None:
    """The compiled engine (reuse/engine/native) has no I/O: its crate depends on the Python
    bindings, numpy's, rayon, xxhash-rust and libc only, and uses of libc nothing but the page
    advice its allocator gives (``hugepages.rs``), so the pure-layer rule holds for it too.

    xxhash-rust (feature xxh3) hashes tokens: the engine's token hash is XXH3-64, and the crate is
    the pure-Rust port of xxHash that the Python ``xxhash`` binding's values match."""
    import tomllib

    native = ROOT / "reuse" / "engine" / "native"
    manifest = tomllib.loads((native / "Cargo.toml").read_text(encoding="utf-8"))
    assert set(manifest["dependencies"]) <= {"pyo3", "numpy", "rayon", "xxhash-rust", "libc"}
    used = {
        (path.name, name)
        for path in (native / "src").glob("*.rs")
        for name in re.findall(r"\blibc::(\w+)", path.read_text(encoding="utf-8"))
    }
    allowed = {"madvise", "sysconf", "c_void", "MADV_HUGEPAGE", "_SC_PAGESIZE"}
    assert {name for _, name in used} <= allowed and {path for path, _ in used} <= {"hugepages.rs"}, used


def _loaded_after(code: str) -> list[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_pure_layers_load_no_io_library_when_imported() -> None:
    pure = [m for m in MODULES if layer(m) in ("kernel", "engine", "lineage") or m in PURE_EVAL]
    loaded = _loaded_after("import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in pure))
    assert sorted(m for m in IO_LIBRARIES if m in loaded and m != "socket") == []


@pytest.mark.parametrize(
    "argv", [["--version"], ["--help"], ["crawl", "--help"], ["eval", "pan13", "--help"], ["serve", "--help"]]
)
def test_version_and_help_load_nothing_heavy(argv: list[str]) -> None:
    """``reusetrack --version`` and the help answer without loading the engine, DuckDB or the HTTP
    stack (what made them take over a second): the command modules import those inside commands."""
    code = (
        "from reuse.cli import app\n"
        "try:\n"
        f"    app({argv!r}, prog_name='reusetrack')\n"
        "except SystemExit as done:\n"
        "    assert done.code in (0, None), done.code\n"
    )
    loaded = _loaded_after(code)
    assert sorted(m for m in (*HEAVY, *WEB) if m in loaded) == []


def test_only_the_serve_command_imports_the_web_application() -> None:
    """The web application (``reuse.cli.web``) and its stack are imported by ``reuse.cli.serve``
    alone, inside the command: no other command or layer loads them."""
    web = {m for m in MODULES if m.startswith("reuse.cli.web")}
    assert "reuse.cli.web.app" in web

    def uses_web(module: str) -> bool:
        return any(n in web or n.split(".")[0] in WEB for n in imports_of(module))

    assert sorted(m for m in MODULES if m not in web and uses_web(m)) == ["reuse.cli.serve"]


def test_parsing_a_command_s_options_loads_no_validation_library(tmp_path: Path) -> None:
    """A command reads its options without pydantic: typer 0.29 coerces every option through a
    pydantic adapter, which cost each command 120 ms of imports before it started (a third of the
    one-article ``ingest`` budget), so typer stays below 0.29 (see pyproject.toml)."""
    text, out = tmp_path / "a.txt", tmp_path / "a.jsonl"
    text.write_text("A short text of a few words, fingerprinted.\n", encoding="utf-8")
    code = (
        "from reuse.cli import app\n"
        "try:\n"
        f"    app(['fingerprint', {str(text)!r}, '--format', 'jsonl', '--out', {str(out)!r}], prog_name='reusetrack')\n"
        "except SystemExit as done:\n"
        "    assert done.code in (0, None), done.code\n"
    )
    loaded = _loaded_after(code)
    assert out.read_text(encoding="utf-8").count("\n") == 1  # the command ran, its options read
    assert "pydantic" not in loaded


def test_ingesting_text_and_json_lines_loads_no_html_parser(tmp_path: Path) -> None:
    """``ingest`` of text files and JSON lines (dated ones, and with ``--published``) answers
    without the page extractor's stack (lxml, its compiled patterns: 40 ms of every such
    command's start); pages import it when one is read. Nor ``pyarrow.compute`` (80 ms): the
    batch's columns are built in the types they are stored in, so nothing is cast."""
    text, rows, db = tmp_path / "a.md", tmp_path / "b.jsonl", tmp_path / "one.duckdb"
    text.write_text("---\npublished: 2021-03-01\n---\nA short text of a few words, stored.\n", encoding="utf-8")
    row = {"url": "https://example.org/b", "published": "2021-03-02", "text": "Another short text, stored too."}
    rows.write_text(json.dumps(row) + "\n", encoding="utf-8")
    code = (
        "from reuse.cli import app\n"
        "try:\n"
        f"    app(['--db', {str(db)!r}, 'ingest', {str(text)!r}, {str(rows)!r}, '--published', '2021-03-03'],"
        " prog_name='reusetrack')\n"
        "except SystemExit as done:\n"
        "    assert done.code in (0, None), done.code\n"
    )
    loaded = _loaded_after(code)
    assert db.exists()  # the command ran
    html_stack = ("crawlers.extract", "crawlers.metadata")
    assert sorted(m for m in loaded if m.split(".")[0] == "lxml" or m in html_stack) == []
    assert "rich" not in loaded  # stderr is a pipe: no progress bar to draw
    assert "pyarrow.compute" not in loaded and "pyarrow" in loaded
    page = tmp_path / "page.html"
    page.write_text("<html><body><article><p>" + "A paragraph of a page. " * 20 + "</p></article></body></html>")
    assert "lxml" in _loaded_after(code.replace(repr(str(rows)), repr(str(page))))  # not a vacuous pass
    forced = "import os\nos.environ['FORCE_COLOR'] = '1'\n" + code
    assert "rich" in _loaded_after(forced)  # a terminal, as rich would take it, gets its bar


def test_the_script_answers_version_without_building_the_command_table() -> None:
    """``reusetrack --version`` prints what the app's ``--version`` prints, without importing typer."""
    code = "sys.argv = ['reusetrack', '--version']\nfrom reuse.cli import main\nmain()"
    loaded = _loaded_after(code)
    assert "typer" not in loaded and "reuse.cli.app" not in loaded
    done = subprocess.run(
        [sys.executable, "-m", "reuse", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    from reuse import reusetrack_version

    assert (done.returncode, done.stdout) == (0, f"reusetrack {reusetrack_version()}\n")


def test_the_check_itself_sees_heavy_imports() -> None:
    """Guard against a vacuous pass: importing the warehouse's connection does pull duckdb in."""
    assert "duckdb" in _loaded_after("import warehouse.db")


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    if name.isupper() or (name.upper() == name and "_" in name):
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    return group, name


def test_isort_key_orders_like_ruff() -> None:
    names = ["open_warehouse", "Warehouse", "SCHEMA_VERSION", "band_keys", "MinHasher", "TOKEN_CACHE_LIMIT"]
    assert sorted(names, key=_isort_key) == [
        "SCHEMA_VERSION", "TOKEN_CACHE_LIMIT", "MinHasher", "Warehouse", "band_keys", "open_warehouse",
    ]  # fmt: skip


@pytest.mark.parametrize("name", [m for m in MODULES if m != "reuse.__main__"])
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
    """Every public name of ``reuse`` is the object of the submodule that defines it."""
    for name in reuse.__all__:
        value = getattr(reuse, name)
        origin = getattr(value, "__module__", "")
        assert origin.startswith("reuse"), (name, origin)
        assert getattr(importlib.import_module(origin), name) is value
