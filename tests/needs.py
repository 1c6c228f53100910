"""What a test needs from outside the repository: on a developer's machine a test skips without it,
saying why; in CI (``CI`` set in the environment), where .ci/run provides it, the test fails instead,
so a missing browser or data folder never passes unnoticed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def missing(reason: str) -> NoReturn:
    """Skip the running test because of ``reason``, or fail it when ``CI`` is set."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


def shared_data(name: str) -> Path:
    """The folder ``name`` of the shared data beside the repository (``../shared/data``), or
    :func:`missing` when it is absent."""
    path = SHARED_DATA / name
    if not path.is_dir():
        missing(f"{path} is absent (it lives in the shared data folder beside the repository)")
    return path


PAN13 = "pan13-text-alignment-training-corpus-2013-01-21"  # the PAN 2013 text-alignment training corpus


def chromium() -> str:
    """The headless browser that renders the HTML report (Debian's ``chromium``), or :func:`missing`."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        missing("chromium is not installed (Debian package 'chromium'; .ci/run installs it)")
    return found
