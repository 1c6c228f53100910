"""One document's analysis: tokens, passages, shingles and signatures, ready to store and match."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import overload

import numpy as np

from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.align import CONTENT_CHARS, AlignInput, NativeArrays
from reuse.engine.families import family_keys_many
from reuse.engine.grade import Evidence, evidence
from reuse.engine.lsh import band_params
from reuse.engine.runs import offsets_within
from reuse.engine.signatures import MinHasher
from reuse.models import Passage, PassageKind
from reuse.stages import StageClock

__all__ = [
    "Analysis",
    "Comparable",
    "PassageRows",
    "TokenArrays",
    "analyse",
    "analyse_many",
    "lookup_keys_many",
    "passage_fields",
    "passage_table",
]

_EMPTY_SIGNATURES = np.zeros((0, 0), dtype=np.uint32)
_NO_KEYS = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
_NO_BANDS = np.zeros((0, 0), dtype=np.uint64)


_KINDS = (PassageKind.PARAGRAPH, PassageKind.WINDOW)  # the native engine's kind numbers
_KIND_NAMES = np.array([kind.value for kind in _KINDS], dtype=object)


class PassageRows(Sequence[Passage]):
    """A document's passages as the native engine cuts them, an int64 row each: ``(kind,
    token_start, token_end, char_start, char_end, unspaced)``, ``kind`` a number of
    :data:`_KINDS`. Read as :class:`Passage` objects, made at the first read: a stored document
    analysed again to be matched is aligned from the rows alone, and making its passages took
    more time than the native analysis of its text."""

    __slots__ = ("_made", "rows")

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self._made: list[Passage] | None = None

    def _passages(self) -> list[Passage]:
        if self._made is None:
            self._made = [
                Passage(position, _KINDS[kind], t0, t1, c0, c1, bool(unspaced))
                for position, (kind, t0, t1, c0, c1, unspaced) in enumerate(self.rows.tolist())
            ]
        return self._made

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...

    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        return self._passages()[index]

    def __iter__(self) -> Iterator[Passage]:
        return iter(self._passages())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return self._passages() == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal to a list of the same passages

    def __repr__(self) -> str:
        return f"PassageRows({self._passages()!r})"


@dataclass(frozen=True)
class Comparable:
    """What verifying and aligning a document needs of its analysis: its passages, token hashes
    and alignment views, without its text or words (about 45 bytes a token, a fifth of a whole
    analysis; 13 more if graded in Python), so that many stored documents can be kept ready to match again."""

    chars: int  # length of the text
    passages: Sequence[Passage]
    align_input: AlignInput
    settings: Settings

    def shingle_size(self, passage: Passage) -> int:
        """Shingle length of a passage: characters for unspaced scripts, words otherwise."""
        return self.settings.shingle_chars if passage.unspaced else self.settings.shingle_words

    def shingles(self, passage: Passage) -> np.ndarray:
        """The shingle hashes of one passage."""
        n = self.shingle_size(passage)
        every = self._char_shingles if passage.unspaced else self._word_shingles
        return every[passage.token_start : passage.token_end - n + 1]

    @cached_property
    def passage_rows(self) -> np.ndarray:
        """Each passage as a ``(token_start, token_end, unspaced)`` int64 row, as the native
        aligner takes them: made once, though a kept document is matched batch after batch."""
        if isinstance(self.passages, PassageRows):
            return np.ascontiguousarray(self.passages.rows[:, [1, 2, 5]], dtype=np.int64)
        rows = itertools.chain.from_iterable((p.token_start, p.token_end, p.unspaced) for p in self.passages)
        return np.fromiter(rows, dtype=np.int64, count=3 * len(self.passages)).reshape(-1, 3)

    @cached_property
    def _word_shingles(self) -> np.ndarray:
        return _native.shingle_hashes(self.align_input.token_hashes, self.settings.shingle_words)

    @cached_property
    def _char_shingles(self) -> np.ndarray:
        return _native.shingle_hashes(self.align_input.token_hashes, self.settings.shingle_chars)

    @cached_property
    def evidence(self) -> Evidence:
        """What grading the document's similarity to another needs (:mod:`reuse.engine.grade`),
        made once: a stored document matched again and again is graded against each."""
        return evidence(self.align_input.token_hashes, self.align_input.content)

    @cached_property
    def native(self) -> tuple[NativeArrays, np.ndarray, int, int, int]:
        """The document as the native matcher takes it: its alignment arrays, its passages as
        :attr:`passage_rows`, its word and character shingle sizes and its length in characters.
        Made once, as a kept document is matched batch after batch."""
        shingles = self.settings.shingle_words, self.settings.shingle_chars
        return self.align_input.arrays, self.passage_rows, *shingles, self.chars

    @cached_property
    def nbytes(self) -> int:
        """Memory held, roughly: the arrays (shingles counted as if made; the grading evidence is
        not, the native engine makes it per batch) and the passages. Counted once: the budget of
        kept documents reads it as each comes and goes."""
        view = self.align_input
        arrays = sum(getattr(view, f.name).nbytes for f in fields(AlignInput))
        made = 8 * len(view.token_hashes)
        return arrays + made + _PASSAGE_BYTES * len(self.passages)


#: Memory of one Passage object with its fields, measured with ``sys.getsizeof`` (CPython 3.11),
#: and its row of :attr:`Comparable.passage_rows`.
_PASSAGE_BYTES = 224


@dataclass(frozen=True)
class TokenArrays:
    """What the engine keeps of a text's tokens (the native tokeniser's output; the Python
    reference, :func:`reuse.engine.tokens.tokenize`, also gives the words).

    ``hashes[i]`` is the XXH3-64 of token ``i``'s normalised word; ``starts[i]``/``ends[i]`` its
    span in the original text; ``unspaced[i]`` whether it is a character of a script without
    spaces; ``lengths[i]`` the length of its normalised word, in characters; ``stems[i]`` the
    XXH3-64 of its stem (:func:`reuse.engine.shingles.stem_hashes`).
    """

    hashes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    unspaced: np.ndarray
    lengths: np.ndarray
    stems: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)


@dataclass(frozen=True)
class Analysis:
    """A document cut into passages, each with the shingles and signature that represent it."""

    text: str
    tokens: TokenArrays
    passages: Sequence[Passage]
    signatures: np.ndarray  # one uint32 row of num_perm values per passage; none if not asked for
    settings: Settings
    #: The tokens where its sentences start (the native engine's
    #: :func:`reuse.engine.seeds.sentence_starts`), for the second stage of alignment.
    sentences: np.ndarray
    #: The key families' keys (``reuse.engine.families``) and the passage position of each; none
    #: without signatures.
    family_keys: tuple[np.ndarray, np.ndarray] = _NO_KEYS
    #: The MinHash band keys of each passage (passages × bands), computed with the key families.
    band_keys: np.ndarray = field(default_factory=lambda: _NO_BANDS)

    @property
    def token_hashes(self) -> np.ndarray:
        """The XXH3-64 hash of each token."""
        return self.tokens.hashes

    def lookup_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """Every key the document's passages are looked up and stored by, and the passage
        position of each: the MinHash band keys (passage by passage, band by band), then the key
        families' (``family_keys``). Needs an analysis with its signatures and key families."""
        keys, positions, _ = lookup_keys_many([self], [0], [0])
        return keys, positions

    @cached_property
    def comparable(self) -> Comparable:
        """The part of the analysis that matching uses."""
        view = AlignInput(
            token_hashes=self.tokens.hashes,
            stems=self.tokens.stems,
            trigrams=_native.shingle_hashes(self.tokens.hashes, 3).astype(np.uint64),
            content=(self.tokens.lengths >= CONTENT_CHARS) & ~self.tokens.unspaced,
            starts=self.tokens.starts,
            ends=self.tokens.ends,
            sentences=self.sentences,
        )
        return Comparable(len(self.text), self.passages, view, self.settings)


def analyse_many(
    texts: Sequence[str],
    settings: Settings,
    hasher: MinHasher | None = None,
    *,
    signatures: bool = True,
    key_families: bool = True,
) -> list[Analysis]:
    """The analyses of ``texts``, in order: tokens, passages and, with ``signatures``, the
    passages' MinHash signatures and, with ``key_families`` too, the key families' keys (a stored
    document analysed again to verify and align it has its signatures stored; a file's
    fingerprints written out need no keys). The native engine does the work on every core,
    without the GIL."""
    hasher = hasher or MinHasher.from_settings(settings)
    done = _native.analyse_many(
        list(texts),
        settings.min_tokens,
        settings.window_tokens,
        settings.window_step,
        settings.shingle_words,
        settings.shingle_chars,
        hasher.permutations,
        signatures,
    )
    lookups = signatures and key_families
    families = (
        family_keys_many([(d[0], d[3], d[4], d[6][:, 1:3]) for d in done], settings, hasher)
        if lookups
        else [_NO_KEYS] * len(done)
    )
    bands = _band_keys_many([d[7] for d in done], settings) if lookups else [_NO_BANDS] * len(done)
    return [
        Analysis(
            text,
            TokenArrays(hashes, starts, ends, unspaced, lengths, stems),
            PassageRows(rows),
            signed if len(signed) else _EMPTY_SIGNATURES,
            settings,
            sentences,
            keys,
            banded,
        )
        for text, (hashes, starts, ends, unspaced, lengths, stems, rows, signed, sentences), keys, banded in zip(
            texts, done, families, bands, strict=True
        )
    ]


def lookup_keys_many(
    analyses: Sequence[Analysis], firsts: Sequence[int], versions: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`Analysis.lookup_keys` of each of ``analyses``, end to end, as stored: ``(keys,
    passage ids, version ids)``, each document's passages numbered from its id in ``firsts``,
    its version id that of ``versions``. Written into arrays made once for them all: a bulk
    batch's keys run to hundreds of megabytes."""
    sizes = [a.band_keys.size + len(a.family_keys[0]) if a.passages else 0 for a in analyses]
    keys = np.empty(sum(sizes), np.uint64)
    passage_ids = np.empty(len(keys), np.int64)
    version_ids = np.empty(len(keys), np.int64)
    at = 0
    for analysis, first, version, size in zip(analyses, firsts, versions, sizes, strict=True):
        if not analysis.passages:
            continue
        count, bands = analysis.band_keys.shape
        if count != len(analysis.passages):
            raise ValueError("the lookup keys need an analysis with its signatures and key families")
        extra, positions = analysis.family_keys
        main, end = at + count * bands, at + size
        keys[at:main] = analysis.band_keys.ravel()
        keys[main:end] = extra
        passage_ids[at:main] = np.repeat(np.arange(first, first + count), bands)
        passage_ids[main:end] = first + positions
        version_ids[at:end] = version
        at = end
    return keys, passage_ids, version_ids


def passage_table(passages: Sequence[Passage]) -> np.ndarray:
    """The passages as int64 rows ``(kind, token_start, token_end, char_start, char_end,
    unspaced)``, the kind as the native engine numbers it (as :class:`PassageRows` holds them)."""
    if isinstance(passages, PassageRows):
        return passages.rows
    rows = [(_KINDS.index(p.kind), p.token_start, p.token_end, p.char_start, p.char_end, p.unspaced) for p in passages]
    return np.array(rows, dtype=np.int64).reshape(-1, 6)


def passage_fields(documents: Sequence[Sequence[Passage]]) -> dict[str, np.ndarray]:
    """The passages of ``documents``, end to end, as columns: each of :class:`Passage`'s fields
    (in its order) to an array of values, the kind as its string. What the warehouse and the
    fingerprint file store of each passage, made without a :class:`Passage` object (a bulk
    batch holds a million passages)."""
    tables = [passage_table(passages) for passages in documents]
    rows = np.concatenate(tables) if tables else np.zeros((0, 6), np.int64)
    return {
        "position": offsets_within(np.array([len(t) for t in tables], dtype=np.int64)),
        "kind": _KIND_NAMES[rows[:, 0]],
        "token_start": rows[:, 1],
        "token_end": rows[:, 2],
        "char_start": rows[:, 3],
        "char_end": rows[:, 4],
        "unspaced": rows[:, 5].astype(np.bool_),
    }


def _band_keys_many(signatures: list[np.ndarray], settings: Settings) -> list[np.ndarray]:
    """The band keys of each document's passages, from ``signatures`` (one table a document): one
    native call for them all, in the thread that analyses (a call a document, made by the thread
    that stores them, cost it 0.3 ms each)."""
    bands, rows = band_params(settings)
    held = [table for table in signatures if len(table)]
    if not held:
        return [np.zeros((len(table), bands), np.uint64) for table in signatures]
    keys = _native.band_keys(np.vstack(held), bands, rows)
    return np.split(keys, np.cumsum([len(table) for table in signatures])[:-1])


def analyse(
    text: str,
    settings: Settings,
    hasher: MinHasher | None = None,
    clock: StageClock | None = None,
    *,
    signatures: bool = True,
) -> Analysis:
    """One document's analysis (see :func:`analyse_many`), timed as the stage ``analysis`` on
    ``clock`` when given."""
    with (clock or StageClock()).stage("analysis"):
        return analyse_many([text], settings, hasher, signatures=signatures)[0]
