"""reusetrack: find reused passages between documents, verified to the character, and who copied whom.

The package is layered; each stage of the data flow has one home:

- a small kernel that every other package may import: :mod:`reuse.errors`, :mod:`reuse.models`,
  :mod:`reuse.config`, :mod:`reuse.stages`;
- :mod:`reuse.engine`: the pure text algorithms (normalise, tokens, passages, shingles, MinHash
  signatures, LSH keys, alignment, analysis, matching, boilerplate blocks);
- :mod:`reuse.lineage`: the pure lineage (evidence, the arborescence, stories, attribution, edits);
- :mod:`reuse.pipeline`: the only place that joins the readers (:mod:`crawlers`) and the warehouse
  (:mod:`warehouse`): ingest, the lineage update, the crawl loop, Spark;
- :mod:`reuse.eval`: the evaluation harnesses; :mod:`reuse.cli`: the ``reusetrack`` command line.

The names exported here are imported on first use (PEP 562), so ``import reuse`` — and printing the
version or the help — loads none of the engine, datasketch or DuckDB.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reuse.config import Settings
    from reuse.engine.align import verify
    from reuse.engine.analysis import Analysis, analyse
    from reuse.engine.lsh import band_keys, band_params
    from reuse.engine.matching import PairResult, align, match_pair
    from reuse.engine.normalize import Normalized, normalize
    from reuse.engine.signatures import MinHasher
    from reuse.engine.tokens import Tokens, tokenize
    from reuse.errors import (
        InputError,
        ReuseError,
        SettingsError,
        SettingsMismatch,
        UnsupportedInput,
        WarehouseError,
        WarehouseLocked,
    )
    from reuse.models import Document, DocumentPair, Match, MatchKind, Passage, PassageKind, Span

#: Where each public name is defined.
_ORIGIN = {
    "Analysis": "reuse.engine.analysis",
    "Document": "reuse.models",
    "DocumentPair": "reuse.models",
    "InputError": "reuse.errors",
    "Match": "reuse.models",
    "MatchKind": "reuse.models",
    "MinHasher": "reuse.engine.signatures",
    "Normalized": "reuse.engine.normalize",
    "PairResult": "reuse.engine.matching",
    "Passage": "reuse.models",
    "PassageKind": "reuse.models",
    "ReuseError": "reuse.errors",
    "Settings": "reuse.config",
    "SettingsError": "reuse.errors",
    "SettingsMismatch": "reuse.errors",
    "Span": "reuse.models",
    "Tokens": "reuse.engine.tokens",
    "UnsupportedInput": "reuse.errors",
    "WarehouseError": "reuse.errors",
    "WarehouseLocked": "reuse.errors",
    "align": "reuse.engine.matching",
    "analyse": "reuse.engine.analysis",
    "band_keys": "reuse.engine.lsh",
    "band_params": "reuse.engine.lsh",
    "match_pair": "reuse.engine.matching",
    "normalize": "reuse.engine.normalize",
    "tokenize": "reuse.engine.tokens",
    "verify": "reuse.engine.align",
}

__all__ = [
    "Analysis",
    "Document",
    "DocumentPair",
    "InputError",
    "Match",
    "MatchKind",
    "MinHasher",
    "Normalized",
    "PairResult",
    "Passage",
    "PassageKind",
    "ReuseError",
    "Settings",
    "SettingsError",
    "SettingsMismatch",
    "Span",
    "Tokens",
    "UnsupportedInput",
    "WarehouseError",
    "WarehouseLocked",
    "align",
    "analyse",
    "band_keys",
    "band_params",
    "match_pair",
    "normalize",
    "reusetrack_version",
    "tokenize",
    "verify",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module the first time the name is asked for."""
    origin = _ORIGIN.get(name)
    if origin is None:
        raise AttributeError(f"module 'reuse' has no attribute {name!r}")
    value = getattr(importlib.import_module(origin), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


@functools.cache
def reusetrack_version() -> str:
    """The installed version of reusetrack (read once: every run records it, and reading the
    package's metadata costs a few milliseconds, a one-article run's share)."""
    # Imported here: importlib.metadata costs more to load than the rest of ``--version`` together.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reusetrack")
    except PackageNotFoundError:
        return "0+unknown"
