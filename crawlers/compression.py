"""Bounded decoding of HTTP content codings (gzip, deflate, br, zstd), for bombs: decoding
stops before 1.1 times the size cap.

The fetcher reads the raw body (itself capped), then pulls the decoded body out through a chain of
decoders, 64 KiB at a time, and stops as soon as the total passes the cap. No decoder is ever
asked for more than one chunk, so a 1 GiB gzip bomb costs 64 KiB of memory beyond the cap, not
the 64 MiB first chunk httpx's own decoder hands back (measured).

::

    DecodingError          the body cannot be decoded: unknown coding, too many, corrupt data
    └── TooLarge           the decoded body passed the cap
"""

from __future__ import annotations

import gzip
import io
import zlib
from typing import Protocol

import brotli
import zstandard

__all__ = ["ACCEPT_ENCODING", "CHUNK", "MAX_CODINGS", "DecodingError", "TooLarge", "decode_body", "parse_codings"]

#: What the fetcher advertises: every coding it can decode within bounds.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
#: Bytes pulled from a decoder at a time; the cap is checked after each pull.
CHUNK = 64 * 1024
#: A longer chain of codings is refused before any decoding (``gzip, gzip, gzip, ...``).
MAX_CODINGS = 5
_KNOWN = frozenset({"gzip", "x-gzip", "deflate", "br", "zstd"})


class DecodingError(Exception):
    """The body cannot be decoded."""


class TooLarge(DecodingError):
    """The decoded body is larger than the cap."""


class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Deflate:
    """``deflate`` as servers send it: zlib-wrapped as the RFC says, or raw as some send it."""

    def __init__(self, source: _Reader) -> None:
        self.source = source
        self.pending = b""
        self.decoder: zlib._Decompress | None = None
        self.done = False

    def read(self, size: int = -1) -> bytes:
        while not self.done:
            if not self.pending:
                self.pending = self.source.read(CHUNK)
                if not self.pending:
                    self.done = True
                    break
            if self.decoder is None:
                # A zlib stream starts with a header whose first 16 bits are a multiple of 31.
                head = self.pending[:2]
                wrapped = len(head) == 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
                self.decoder = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            try:
                out = self.decoder.decompress(self.pending, size if size > 0 else CHUNK)
            except zlib.error as err:
                raise DecodingError(f"corrupt deflate data: {err}") from None
            self.pending = self.decoder.unconsumed_tail
            if self.decoder.eof:
                self.done = True
            if out:
                return out
        return b""


class _Brotli:
    """``br`` with brotli's own output limit, so one call never inflates more than a chunk."""

    def __init__(self, source: _Reader) -> None:
        self.source = source
        self.decoder = brotli.Decompressor()

    def read(self, size: int = -1) -> bytes:
        limit = size if size > 0 else CHUNK
        while True:
            try:
                if self.decoder.can_accept_more_data():
                    if self.decoder.is_finished():
                        return b""
                    data = self.source.read(CHUNK)
                    if not data:
                        if not self.decoder.is_finished():
                            raise DecodingError("truncated brotli data")
                        return b""
                    out = self.decoder.process(data, output_buffer_limit=limit)
                else:
                    out = self.decoder.process(b"", output_buffer_limit=limit)
            except brotli.error as err:
                raise DecodingError(f"corrupt brotli data: {err}") from None
            if out:
                return out


def _stage(coding: str, source: _Reader) -> _Reader:
    if coding in ("gzip", "x-gzip"):
        return gzip.GzipFile(fileobj=source, mode="rb")  # type: ignore[call-overload]
    if coding == "deflate":
        return _Deflate(source)
    if coding == "br":
        return _Brotli(source)
    # read_across_frames: a body of several zstd frames is one body, as with multi-member gzip.
    return zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)  # type: ignore[arg-type]


def parse_codings(header: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` header in the order they were applied (identity dropped).

    Raises :class:`DecodingError` for an unknown coding or a chain longer than :data:`MAX_CODINGS`.
    """
    if not header:
        return []
    codings = [c.strip().lower() for c in header.split(",") if c.strip() and c.strip().lower() != "identity"]
    if len(codings) > MAX_CODINGS:
        raise DecodingError(f"{len(codings)} content codings (at most {MAX_CODINGS} are decoded)")
    unknown = [c for c in codings if c not in _KNOWN]
    if unknown:
        raise DecodingError(f"unsupported content coding {unknown[0]!r}")
    return codings


def decode_body(raw: bytes, codings: list[str], cap: int, *, truncate: bool = False) -> bytes:
    """The decoded body of ``raw``, sent with ``codings`` applied in that order.

    Raises :class:`TooLarge` as soon as the decoded bytes pass ``cap`` (with ``truncate``, returns
    the first ``cap`` bytes instead), and :class:`DecodingError` for corrupt data.
    """
    if not codings:
        if len(raw) > cap and not truncate:
            raise TooLarge(f"body larger than {cap:,} bytes")
        return raw[:cap]
    reader: _Reader = io.BytesIO(raw)
    for coding in reversed(codings):  # the last coding applied is the first undone
        reader = _stage(coding, reader)
    out = bytearray()
    try:
        while chunk := reader.read(CHUNK):
            out += chunk
            if len(out) > cap:
                if truncate:
                    return bytes(out[:cap])
                raise TooLarge(f"decoded body larger than {cap:,} bytes")
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as err:
        # gzip raises BadGzipFile (an OSError) or EOFError for truncated or corrupt members.
        raise DecodingError(f"corrupt {'+'.join(codings)} data: {err}") from None
    return bytes(out)
