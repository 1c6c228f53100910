"""What a batch of new versions stores beside their own rows, as columns: passages, lookup keys,
blocks, signatures.

They are built beside the batch's analysis, in the analyser's thread, while the batch before
is stored (a bulk batch's keys run to hundreds of megabytes, a copy the storing thread need not
make); passage and version ids are not known until the batch is stored, so they are counted from
0 in the batch and made the batch's own by :meth:`BatchRows.numbered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reuse.engine.analysis import Analysis, lookup_keys_many, passage_fields, passage_table
from reuse.models import Document
from reuse.pipeline.lineage import block_columns
from warehouse.db import column_rows

__all__ = ["BatchRows", "kept_signatures", "passage_columns", "passage_rows"]


def passage_columns(analyses: Sequence[Analysis], version_ids: Sequence[int], first_passage_id: int) -> dict[str, Any]:
    """The ``passages`` rows of versions (one of ``version_ids`` for each of ``analyses``) as
    columns; their passages get consecutive ids from ``first_passage_id``, in order."""
    columns = passage_fields([analysis.passages for analysis in analyses])
    count = len(columns["position"])
    return {
        "passage_id": np.arange(first_passage_id, first_passage_id + count, dtype=np.int64),
        "version_id": np.repeat(np.asarray(version_ids, np.int64), [len(a.passages) for a in analyses]),
        **columns,
    }


def passage_rows(analysis: Analysis, version_id: int, first_passage_id: int) -> list[dict[str, object]]:
    """The ``passages`` rows of a version (:func:`passage_columns`, a row at a time)."""
    return column_rows(passage_columns([analysis], [version_id], first_passage_id))


def kept_signatures(analyses: Sequence[Analysis]) -> tuple[np.ndarray, np.ndarray]:
    """The signatures (a row a passage) and token spans of the passages of ``analyses``, in the
    order their passages are stored."""
    done = [a for a in analyses if a.passages]
    if not done:
        return np.zeros((0, 0), np.uint32), np.zeros(0, np.int64)
    signatures = np.concatenate([a.signatures for a in done])
    spans = np.concatenate([passage_table(a.passages)[:, 1:3] for a in done])
    return signatures, spans[:, 1] - spans[:, 0]


@dataclass
class BatchRows:
    """The columns a batch of new versions stores (see the module's doc), ids counted from 0
    until :meth:`numbered`."""

    #: The ``passages`` columns (:func:`passage_columns`).
    passages: dict[str, Any]
    #: The lookup keys as ``band_keys`` stores them: ``(key, passage_id, version_id)``.
    keys: tuple[np.ndarray, np.ndarray, np.ndarray]
    #: The ``blocks`` columns (:func:`~reuse.pipeline.lineage.block_columns`).
    blocks: dict[str, Any]
    #: :func:`kept_signatures`: each passage's signature and token count.
    signatures: tuple[np.ndarray, np.ndarray]
    _numbered: bool = field(default=False, repr=False)

    @classmethod
    def of(cls, documents: Sequence[Document], analyses: Sequence[Analysis]) -> BatchRows:
        """The rows of new versions of ``documents``, analysed as ``analyses``, the k-th the
        batch's version ``k``."""
        counts = [len(a.passages) for a in analyses]
        firsts = np.cumsum([0, *counts[:-1]]).tolist() if counts else []
        versions = list(range(len(analyses)))
        return cls(
            passage_columns(analyses, versions, 0),
            lookup_keys_many(analyses, firsts, versions),
            block_columns(list(enumerate(documents))),
            kept_signatures(analyses),
        )

    def numbered(self, first_passage: int, first_version: int) -> BatchRows:
        """These rows with the batch's passages numbered from ``first_passage`` and its versions
        from ``first_version``, once (in place: the rows are the batch's own, made for it)."""
        if self._numbered:
            raise ValueError("the batch's rows are numbered already")
        self._numbered = True
        self.passages["passage_id"] += first_passage
        self.passages["version_id"] += first_version
        self.keys[1][:] += first_passage
        self.keys[2][:] += first_version
        self.blocks["version_id"] += first_version
        return self
