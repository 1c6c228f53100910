"""reusetrack shipped as its wheel to Spark executors that do not have it installed.

``reusetrack spark --ship`` builds the wheel (``maturin build --release``) and ``--wheel FILE``
takes a built one; either is sent to every executor as a Python file (``addPyFile``, under a
``.zip`` name, which is what a wheel is). Python imports the pure-Python packages straight from
the zip, but no interpreter loads a compiled module from inside an archive: when ``reuse.pipeline``
finds itself imported from a zip, :func:`load_native_from_archive` extracts the engine core once
to a local folder and loads it from there, before any module asks for it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from reuse.errors import ReuseError

__all__ = ["NATIVE", "build_wheel", "load_native_from_archive", "shippable"]

#: The compiled engine core's module name.
NATIVE = "reuse.engine._native"


def build_wheel(out_dir: Path) -> Path:
    """Build reusetrack's wheel (release mode) from the source tree it runs from into ``out_dir``."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "reuse" / "engine" / "native").is_dir():
        raise ReuseError(f"--ship builds the wheel from a source checkout, and {root} is none: give --wheel FILE")
    maturin = shutil.which("maturin")
    command = [maturin] if maturin else [sys.executable, "-m", "maturin"]
    try:
        subprocess.run(
            [*command, "build", "--release", "--quiet", "--out", str(out_dir)],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError as err:
        raise ReuseError('--ship needs maturin to build the wheel (pip install "reusetrack[spark]")') from err
    except subprocess.CalledProcessError as err:
        last = (err.stderr or err.stdout or "").strip().splitlines()
        raise ReuseError(f"maturin could not build the wheel: {last[-1] if last else err}") from err
    wheels = sorted(out_dir.glob("reusetrack-*.whl"))
    if not wheels:
        raise ReuseError(f"maturin built no reusetrack wheel in {out_dir}")
    return wheels[-1]


def shippable(wheel: Path, out_dir: Path) -> Path:
    """A copy of ``wheel`` named ``.zip`` (Spark ships Python files only under that name), after
    checking that it is a reusetrack wheel holding the engine core."""
    if not wheel.is_file():
        raise ReuseError(f"{wheel}: no such wheel")
    try:
        with zipfile.ZipFile(wheel) as archive:
            has_core = any(_is_native(name) for name in archive.namelist())
    except zipfile.BadZipFile as err:
        raise ReuseError(f"{wheel}: not a wheel (not a zip file)") from err
    if not has_core:
        raise ReuseError(f"{wheel}: not a reusetrack wheel with its engine core ({NATIVE})")
    copy = out_dir / f"{wheel.stem}.zip"
    shutil.copyfile(wheel, copy)
    return copy


def _is_native(name: str) -> bool:
    folder, _, file = name.rpartition("/")
    return folder == "reuse/engine" and file.startswith("_native.") and file.endswith((".so", ".pyd"))


def load_native_from_archive(archive: str) -> None:
    """Load the engine core of the zip ``archive`` (a shipped wheel) from a local copy of it.

    The copy is made once per archive content, in a folder named by its hash under the
    temporary directory, written beside its final name and renamed (several Python workers of an
    executor may start at once).
    """
    if NATIVE in sys.modules:
        return
    with zipfile.ZipFile(archive) as zipped:
        member = next((name for name in zipped.namelist() if _is_native(name)), None)
        if member is None:
            return  # a zip without the core: the import fails later with Python's own message
        data = zipped.read(member)
    folder = Path(tempfile.gettempdir()) / f"reusetrack-native-{hashlib.sha256(data).hexdigest()[:16]}"
    target = folder / member.rpartition("/")[2]
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{target.name}.{os.getpid()}"
        partial.write_bytes(data)
        os.replace(partial, target)
    spec = importlib.util.spec_from_file_location(NATIVE, target)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {NATIVE} from {target}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[NATIVE] = module
    spec.loader.exec_module(module)
