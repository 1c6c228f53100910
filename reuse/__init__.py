"""reusetrack's engine: find reused passages between documents, verified to the character.

The modules imported here are the pure core: they read no files, open no sockets and import
neither httpx nor duckdb. :mod:`reuse.pipeline` and :mod:`reuse.cli` wire the core to the
readers (:mod:`crawlers`) and the warehouse (:mod:`warehouse`).
"""

from reuse.align import align, verify
from reuse.analysis import Analysis, analyse
from reuse.config import Settings
from reuse.errors import (
    InputError,
    ReuseError,
    SettingsError,
    SettingsMismatch,
    UnsupportedInput,
    WarehouseError,
    WarehouseLocked,
)
from reuse.lsh import band_keys, band_params
from reuse.matching import PairResult, match_pair
from reuse.models import Document, DocumentPair, Match, MatchKind, Passage, PassageKind, Span
from reuse.normalize import Normalized, normalize
from reuse.signatures import MinHasher
from reuse.tokens import Tokens, tokenize

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
    "tokenize",
    "verify",
]
