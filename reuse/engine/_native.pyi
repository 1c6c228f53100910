"""Type stub of the compiled engine core, built from reuse/engine/native (Rust, PyO3).

Offsets are code-point indices of the ``str`` given (Python indices), not UTF-8 bytes. A ``str``
may hold lone surrogates (``json.loads`` makes them): the results are still the Python engine's.
Every function runs without the GIL.
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "SegmentMerge",
    "align",
    "analyse_many",
    "band_keys",
    "candidate_pairs",
    "family_keys_many",
    "grade_pairs",
    "match_pairs",
    "minhash_signatures",
    "normalize",
    "paragraph_spans",
    "passages",
    "segment_build",
    "segment_check",
    "segment_lookup",
    "sequence_matched",
    "shingle_hashes",
    "signature_agreements",
    "sort_band_rows",
    "tokenize",
]

def shingle_hashes(token_hashes: npt.NDArray[np.uint64], n: int, /) -> npt.NDArray[np.uint32]: ...
def minhash_signatures(
    shingles: npt.NDArray[np.uint32], spans: npt.NDArray[np.int64], permutations: npt.NDArray[np.uint32], /
) -> npt.NDArray[np.uint32]: ...
def band_keys(signatures: npt.NDArray[np.uint32], bands: int, rows: int, /) -> npt.NDArray[np.uint64]: ...
def block_hashes(
    texts: Sequence[str],
    doc: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    /,
) -> npt.NDArray[np.uint64]: ...
def signature_agreements(
    tables: Sequence[npt.NDArray[np.uint32]], rows_a: npt.NDArray[np.int64], rows_b: npt.NDArray[np.int64], /
) -> npt.NDArray[np.uint32]: ...
def family_keys_many(
    documents: Sequence[
        tuple[
            npt.NDArray[np.uint64],
            npt.NDArray[np.bool_],
            npt.NDArray[np.int64],
            npt.NDArray[np.int64],
            npt.NDArray[np.int64],
        ]
    ],
    anchors: tuple[int, int, int],
    content: tuple[int, int, int],
    words: tuple[int, int],
    permutations: npt.NDArray[np.uint32],
    /,
) -> list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]]:
    """reuse.engine.families.family_keys of each (token hashes, unspaced, lengths, passage
    starts, passage ends), in order, on all cores: (keys, the passage position of each)."""

def normalize(text: str, /) -> tuple[str, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """reuse.engine.normalize.normalize: (normalised text, starts, ends), the original span of
    each normalised character."""

_U64 = npt.NDArray[np.uint64]
_I64 = npt.NDArray[np.int64]
_Tokens = tuple[_U64, _I64, _I64, npt.NDArray[np.bool_], _I64, _U64]

def tokenize(text: str, /) -> _Tokens:
    """reuse.engine.tokens.tokenize with shingles.token_hashes: (hashes, starts, ends, unspaced,
    lengths, stems), the XXH3-64 of each token's UTF-8 bytes, its original span, whether it is
    one character of a script without spaces, its length in characters of the normalised word,
    and shingles.stem_hashes of it."""

def paragraph_spans(text: str, /) -> npt.NDArray[np.int64]:
    """reuse.engine.passages.paragraph_spans as a (k, 2) array of [start, end) spans."""

def passages(text: str, min_tokens: int, window_tokens: int, window_step: int, /) -> npt.NDArray[np.int64]:
    """reuse.engine.passages.passages of the text's own tokens, as an (m, 6) array in position
    order: [kind (0 paragraph, 1 window), token_start, token_end, char_start, char_end, unspaced
    (0 or 1)]. ValueError when a setting is below 1."""

def analyse_many(
    texts: list[str],
    min_tokens: int,
    window_tokens: int,
    window_step: int,
    shingle_words: int,
    shingle_chars: int,
    permutations: npt.NDArray[np.uint32],
    signatures: bool,
    /,
) -> list[tuple[*_Tokens, _I64, npt.NDArray[np.uint32], _I64]]:
    """reuse.engine.analysis.analyse of each text, in order, on all cores: (token hashes, starts,
    ends, unspaced, lengths, stems, passages as passages() gives them, signatures (m, num_perm) or
    (0, num_perm) without signatures, the tokens where sentences start as
    seeds.sentence_starts gives them)."""

_Doc = tuple[_U64, _U64, _U64, npt.NDArray[np.bool_], _I64, _I64, _I64]
_Match = tuple[int, int, int, int, float, int, int, int]

def align(a: _Doc, b: _Doc, settings: tuple[int, float, int, int, int], /) -> list[_Match]: ...
def match_pairs(
    documents: Sequence[tuple[_Doc, npt.NDArray[np.int64], int, int, int]],
    pairs: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    places: npt.NDArray[np.int64],
    settings: tuple[int, float, int, float, int, int],
    /,
) -> tuple[_I64, _I64, _I64, _I64, npt.NDArray[np.float64], _I64, npt.NDArray[np.float64], npt.NDArray[np.uint8], _I64]:
    """Each pair's candidates and verified candidates; the pairs with a match: their indices,
    match counts and grade parts ((p, 3): aligned, fivegrams, word_pairs, NaN for none); their
    matches: spans (m, 4), similarity, kind codes, tokens (m, 2)."""

def grade_pairs(
    documents: Sequence[tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]],
    pairs: Sequence[tuple[int, int, int, int, Sequence[tuple[int, int, int, int, float]]]],
    /,
) -> list[tuple[float, float | None, float | None]]: ...
def sequence_matched(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64], /) -> int: ...

#: A band-key index segment's columns: keys, passage offsets, version offsets, ranks, block sums.
_SegmentColumns = tuple[
    npt.NDArray[np.uint64],
    npt.NDArray[np.uint32],
    npt.NDArray[np.uint32],
    npt.NDArray[np.uint8],
    npt.NDArray[np.uint64],
]

def segment_build(
    keys: npt.NDArray[np.uint64],
    passages: npt.NDArray[np.int64],
    versions: npt.NDArray[np.int64],
    lo: int,
    vlo: int,
    rank_cap: int,
    /,
) -> _SegmentColumns: ...

class SegmentMerge:
    """A merge of sorted band-key index segments into one, a chunk of rows at a time."""

    def __init__(self, parts: int, /) -> None: ...
    def next(
        self,
        keys: Sequence[npt.NDArray[np.uint64]],
        prel: Sequence[npt.NDArray[np.uint32]],
        vrel: Sequence[npt.NDArray[np.uint32]],
        shifts: Sequence[tuple[int, int]],
        max_rows: int,
        rank_cap: int,
        /,
    ) -> _SegmentColumns: ...

def segment_check(
    keys: npt.NDArray[np.uint64],
    prel: npt.NDArray[np.uint32],
    vrel: npt.NDArray[np.uint32],
    rank: npt.NDArray[np.uint8],
    sums: npt.NDArray[np.uint64],
    checked: npt.NDArray[np.bool_],
    first_block: int,
    end_block: int,
    /,
) -> None: ...
def segment_lookup(
    keys: npt.NDArray[np.uint64],
    prel: npt.NDArray[np.uint32],
    vrel: npt.NDArray[np.uint32],
    rank: npt.NDArray[np.uint8],
    sums: npt.NDArray[np.uint64],
    checked: npt.NDArray[np.bool_],
    queries: npt.NDArray[np.uint64],
    cap: int | None,
    lo: int,
    vlo: int,
    fences: npt.NDArray[np.uint64] | None,
    stride: int,
    /,
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def segment_filter_add(words: npt.NDArray[np.uint64], keys: npt.NDArray[np.uint64], /) -> None: ...
def segment_filter_select(
    words: npt.NDArray[np.uint64],
    sums: npt.NDArray[np.uint64],
    checked: npt.NDArray[np.bool_],
    page_words: int,
    queries: npt.NDArray[np.uint64],
    /,
) -> npt.NDArray[np.uint64]: ...
def learn_site_boilerplate(
    site: npt.NDArray[np.uint32],
    doc: npt.NDArray[np.int64],
    hash: npt.NDArray[np.uint64],
    version: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    cap: int,
    share: float,
    pair_limit: int,
    /,
) -> tuple[
    npt.NDArray[np.uint32],
    npt.NDArray[np.uint64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
]: ...
def segment_page_sums(words: npt.NDArray[np.uint64], page_words: int, /) -> npt.NDArray[np.uint64]: ...
def record_checksums(
    words: npt.NDArray[np.uint64], ids: npt.NDArray[np.int64], hashed: int, /
) -> npt.NDArray[np.uint64]: ...
def pair_blocks(
    source: Sequence[str], target: Sequence[str], min_shared: int, share: float, /
) -> list[tuple[int, int]]: ...
def shared_words(
    text_a: str, spans_a: Sequence[tuple[int, int]], text_b: str, spans_b: Sequence[tuple[int, int]], /
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]: ...
def candidate_pairs(
    stored: Sequence[tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int64]]],
    probe_keys: npt.NDArray[np.uint64],
    probe_passages: npt.NDArray[np.int64],
    probe_versions: npt.NDArray[np.int64],
    cap: int | None,
    /,
) -> npt.NDArray[np.int64]: ...
def sort_band_rows(
    keys: npt.NDArray[np.uint64], passages: npt.NDArray[np.int64], versions: npt.NDArray[np.int64], /
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
