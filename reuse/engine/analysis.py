"""One document's analysis: tokens, passages, shingles and signatures, ready to store and match."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from reuse.config import Settings
from reuse.engine import _native
from reuse.engine.align import AlignInput
from reuse.engine.passages import passages as cut_passages
from reuse.engine.shingles import token_hashes
from reuse.engine.signatures import MinHasher
from reuse.engine.tokens import Tokens, tokenize
from reuse.models import Passage
from reuse.stages import StageClock

__all__ = ["SIGNATURE_CHUNK", "Analysis", "Comparable", "analyse"]

_EMPTY_SIGNATURES = np.zeros((0, 0), dtype=np.uint32)
#: Passages whose signatures are computed at once: bounds the memory of a long document's.
SIGNATURE_CHUNK = 4096


@dataclass(frozen=True)
class Comparable:
    """What verifying and aligning a document needs of its analysis: its passages, token hashes
    and alignment views, without its text or words (about 45 bytes a token, a fifth of a whole
    analysis), so that many stored documents can be kept ready to match again."""

    chars: int  # length of the text
    passages: list[Passage]
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
    def _word_shingles(self) -> np.ndarray:
        return _native.shingle_hashes(self.align_input.token_hashes, self.settings.shingle_words)

    @cached_property
    def _char_shingles(self) -> np.ndarray:
        return _native.shingle_hashes(self.align_input.token_hashes, self.settings.shingle_chars)

    @property
    def nbytes(self) -> int:
        """Memory held, roughly: the arrays (shingles counted as if made) and the passages."""
        arrays = sum(getattr(self.align_input, f.name).nbytes for f in fields(AlignInput))
        return arrays + 8 * len(self.align_input.token_hashes) + _PASSAGE_BYTES * len(self.passages)


#: Memory of one Passage object with its fields, measured with ``sys.getsizeof`` (CPython 3.11).
_PASSAGE_BYTES = 200


@dataclass(frozen=True)
class Analysis:
    """A document cut into passages, each with the shingles and signature that represent it."""

    text: str
    tokens: Tokens
    token_hashes: np.ndarray
    passages: list[Passage]
    signatures: np.ndarray  # one uint32 row of num_perm values per passage; none if not asked for
    settings: Settings

    @cached_property
    def comparable(self) -> Comparable:
        """The part of the analysis that matching uses."""
        lengths = np.fromiter((len(w) for w in self.tokens.words), dtype=np.int64, count=len(self.tokens))
        view = AlignInput(
            token_hashes=self.token_hashes,
            trigrams=_native.shingle_hashes(self.token_hashes, 3).astype(np.uint64),
            content=(lengths >= 4) & ~self.tokens.unspaced,
            starts=self.tokens.starts,
            ends=self.tokens.ends,
        )
        return Comparable(len(self.text), self.passages, view, self.settings)


def analyse(
    text: str,
    settings: Settings,
    hasher: MinHasher | None = None,
    clock: StageClock | None = None,
    *,
    signatures: bool = True,
) -> Analysis:
    """Tokenise ``text``, cut its passages and compute their signatures (timed as the stages
    ``passages`` and ``signatures`` on ``clock`` when given). Without ``signatures`` (a stored
    document analysed again to verify and align it: its signatures are stored) the analysis has
    none."""
    clock = clock or StageClock()
    hasher = hasher or MinHasher.from_settings(settings)
    with clock.stage("passages"):
        tokens = tokenize(text)
        hashes = token_hashes(tokens.words)
        cut = cut_passages(text, tokens, settings)
    if not cut or not signatures:
        return Analysis(text, tokens, hashes, cut, _EMPTY_SIGNATURES, settings)
    with clock.stage("signatures"):
        values = np.empty((len(cut), settings.num_perm), dtype=np.uint32)
        for n, unspaced in ((settings.shingle_words, False), (settings.shingle_chars, True)):
            rows = [k for k, p in enumerate(cut) if p.unspaced is unspaced]
            if not rows:
                continue
            shingles = _native.shingle_hashes(hashes, n)
            # A chunk of passages at a time: each signature depends on its own span only, and
            # the work arrays grow with the passages signed at once (gigabytes for a long file).
            for first in range(0, len(rows), SIGNATURE_CHUNK):
                part = rows[first : first + SIGNATURE_CHUNK]
                spans = np.array([(cut[k].token_start, cut[k].token_end - n + 1) for k in part], dtype=np.int64)
                values[part] = _native.minhash_signatures(shingles, spans, hasher.permutations)
    return Analysis(text, tokens, hashes, cut, values, settings)
