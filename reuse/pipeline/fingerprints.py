"""A file's passage fingerprints written out for other tools: JSON lines or Parquet.

Both formats carry the same fields per passage: ``source``, ``url``, ``position``, ``kind``,
``char_start``, ``char_end``, ``token_start``, ``token_end``, ``text`` (the passage's characters of the
original text), ``num_perm``, ``seed`` and ``minhash`` (``num_perm`` uint32 values, datasketch's
``hashvalues`` for the same settings). JSON lines go through orjson, which writes a signature
straight from its numpy row (the standard library's encoder spent two thirds of a large file's
time on them); Parquet keeps a signature as a fixed-size list of uint32, one row group per
``ROW_GROUP`` passages.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

import orjson

from reuse.config import Settings
from reuse.errors import InputError
from reuse.models import Document

if TYPE_CHECKING:
    import pyarrow as pa

    from reuse.engine.analysis import Analysis

__all__ = ["ROW_GROUP", "FingerprintFormat", "FingerprintSink", "fingerprint_sink"]

#: Passages per Parquet row group: large enough for columnar reads, small enough to bound memory.
ROW_GROUP = 65536


class FingerprintFormat(StrEnum):
    """The file formats of ``reusetrack fingerprint``."""

    JSONL = "jsonl"
    PARQUET = "parquet"


class FingerprintSink(Protocol):
    """Where the fingerprints of one document after another go."""

    def write(self, document: Document, analysis: Analysis) -> None:
        """Write the passages of one analysed document."""


@dataclass
class _JsonLines:
    out: IO[bytes]
    settings: Settings

    def write(self, document: Document, analysis: Analysis) -> None:
        text, num_perm, seed = document.text, self.settings.num_perm, self.settings.seed
        lines = [
            orjson.dumps(
                {
                    "source": document.source,
                    "url": document.url,
                    "position": passage.position,
                    "kind": passage.kind.value,
                    "char_start": passage.char_start,
                    "char_end": passage.char_end,
                    "token_start": passage.token_start,
                    "token_end": passage.token_end,
                    "text": text[passage.char_start : passage.char_end],
                    "num_perm": num_perm,
                    "seed": seed,
                    "minhash": signature,
                },
                option=orjson.OPT_SERIALIZE_NUMPY,
            )
            for passage, signature in zip(analysis.passages, analysis.signatures, strict=True)
        ]
        if lines:
            lines.append(b"")
            self.out.write(b"\n".join(lines))


class _Parquet:
    def __init__(self, path: Path, settings: Settings) -> None:
        # Imported here: the CLI imports this module for every command.
        import pyarrow as pa
        import pyarrow.parquet as pq

        from reuse.engine.analysis import passage_fields

        self._pa = pa
        self._passage_fields = passage_fields
        self.settings = settings
        self.schema = pa.schema(
            [
                ("source", pa.string()),
                ("url", pa.string()),
                ("position", pa.int64()),
                ("kind", pa.string()),
                ("char_start", pa.int64()),
                ("char_end", pa.int64()),
                ("token_start", pa.int64()),
                ("token_end", pa.int64()),
                ("text", pa.string()),
                ("num_perm", pa.int32()),
                ("seed", pa.int64()),
                ("minhash", pa.list_(pa.uint32(), settings.num_perm)),
            ]
        )
        # Dictionaries only where values repeat: trying one on the signatures (random 32-bit
        # values) cost more than the rest of the write; light zstd for the same reason.
        self._writer = pq.ParquetWriter(
            path,
            self.schema,
            compression="zstd",
            compression_level=1,
            use_dictionary=["source", "url", "kind"],
        )
        self._pending: list[pa.RecordBatch] = []
        self._rows = 0
        # Row groups are compressed and written in a thread of their own (pyarrow lets go of
        # the GIL), while the next documents are analysed and turned into columns: one at a
        # time, so at most two row groups are held.
        self._writing = ThreadPoolExecutor(1, thread_name_prefix="parquet")
        self._written: Future[None] | None = None

    def write(self, document: Document, analysis: Analysis) -> None:
        pa, passages, count = self._pa, analysis.passages, len(analysis.passages)
        if not count:
            return
        text = document.text
        columns: dict[str, Any] = {
            "source": pa.array([document.source] * count, pa.string()),
            "url": pa.array([document.url] * count, pa.string()),
            # In the file's order (the schema's); a field the file does not hold is left out.
            **self._passage_fields([passages]),
            "text": [text[p.char_start : p.char_end] for p in passages],
            "num_perm": pa.array([self.settings.num_perm] * count, pa.int32()),
            "seed": pa.array([self.settings.seed] * count, pa.int64()),
            # The signature matrix as it is: one flat buffer cut into rows of num_perm.
            "minhash": pa.FixedSizeListArray.from_arrays(
                pa.array(analysis.signatures.ravel(), pa.uint32()), self.settings.num_perm
            ),
        }
        self._pending.append(pa.RecordBatch.from_pydict(columns, schema=self.schema))
        self._rows += count
        if self._rows >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            table = self._pa.Table.from_batches(self._pending, self.schema)
            self._wait()
            self._written = self._writing.submit(self._writer.write_table, table)
        self._pending, self._rows = [], 0

    def _wait(self) -> None:
        """Wait for the row group being written; its error, if any, is raised here."""
        if self._written is not None:
            written, self._written = self._written, None
            written.result()

    def close(self) -> None:
        try:
            self._flush()
            self._wait()
        finally:
            self._writing.shutdown(wait=True)
        self._writer.close()


@contextmanager
def fingerprint_sink(
    fmt: FingerprintFormat, settings: Settings, out: Path | None, stdout: IO[bytes]
) -> Iterator[FingerprintSink]:
    """A sink writing ``fmt`` to the file ``out``, or JSON lines to ``stdout`` when ``out`` is None.

    A file appears only whole: it is written beside its final name and moved there when the
    last document is written, so an interrupted run leaves no truncated file behind. Raises
    :class:`~reuse.errors.InputError` when Parquet is asked for without a file, or when the file
    cannot be written.
    """
    if out is None:
        if fmt is FingerprintFormat.PARQUET:
            raise InputError("--format parquet", "needs --out FILE (Parquet is not written to a terminal)")
        yield _JsonLines(stdout, settings)
        stdout.flush()
        return
    partial = out.with_name(f".{out.name}.partial")
    try:
        if fmt is FingerprintFormat.PARQUET:
            parquet = _Parquet(partial, settings)
            yield parquet
            parquet.close()
        else:
            with partial.open("wb") as handle:
                yield _JsonLines(handle, settings)
        os.replace(partial, out)
    except OSError as err:
        raise InputError(str(out), f"cannot write: {err.strerror or err}") from err
    finally:
        partial.unlink(missing_ok=True)
