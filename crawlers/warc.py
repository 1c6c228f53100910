"""Reading documents from web archives: WARC and ARC files, gzipped or not, read with warcio.

Records are read one at a time from the open file, so memory does not grow with the archive:

- ``response`` (and ``resource``) records holding HTML go through the extraction layer, as a
  fetched page would; the ``WARC-Target-URI`` is the document's URL unless the page names a
  canonical one on the same site (:func:`crawlers.urls.document_url`), and the ``WARC-Date`` is
  kept as the page's first-seen time (an ``("first_seen", time)`` pair in
  :attr:`~reuse.models.Evidence.other_dates`): the archive saw the page then, so it existed no
  later than that.
- non-HTML responses (images, PDFs, robots.txt...), error and redirect responses, and
  ``revisit`` records (the archive's "same content as an earlier capture") are each yielded as
  an :class:`~reuse.errors.UnsupportedInput`, so the run counts and reports them as skipped;
  ``warcinfo``, ``request`` and ``metadata`` records are not documents and are passed over.
- a broken record (bad header, truncated gzip member, failed digest) is yielded as one
  :class:`~reuse.errors.InputError`, and reading goes on at the next record of the file.

The source of each item is ``PATH@OFFSET``, the byte offset of its record in the file.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawlers.files import MAX_FILE_BYTES
from crawlers.pages import Found, html_document
from reuse.errors import InputError, UnsupportedInput
from reuse.models import Document

__all__ = ["FIRST_SEEN", "read_archive"]

#: The ``other_dates`` source name under which an archive's capture time is kept.
FIRST_SEEN = "first_seen"

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_GZIP_MAGIC = b"\x1f\x8b\x08"
# The first line of an ARC record: URL, IP, 14-digit date, MIME type, length.
_ARC_HEADER = re.compile(rb"^\S+ \S+ \d{14} \S+ \d+\r?\n")
# The first two lines of a WARC record: the version, then a named field.
_WARC_HEADER = re.compile(rb"^WARC/\d\.\d+\r?\n[A-Za-z-]+:")
_SCAN_CHUNK = 1 << 20
# What warcio and its decompressors raise on damaged input. Its header parser also fails with
# AttributeError/IndexError on a header cut short, so those count too, but only around calls
# into warcio: the same errors in this module's own code stay bugs.
_BROKEN = (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error, AttributeError, IndexError, KeyError)


class _BrokenRecord(InputError):
    """A record whose bytes are damaged (as opposed to one that is intact but not a page)."""


# warcio logs its doubts about a record (a header it repairs) as warnings, which Python prints
# to stderr with the raw header: every broken record is reported here as one line instead.
logging.getLogger("warcio").setLevel(logging.ERROR)


class _QuietIterator(ArchiveIterator):
    """warcio's iterator without its own stderr warning for a record whose length looks wrong:
    such a record is reported here, as one problem line, like any other."""

    INC_RECORD = ""


def read_archive(path: Path) -> Iterator[Document | InputError]:
    """Every HTML page archived in the WARC/ARC file at ``path`` as a Document, one at a time.

    Each record that gives no document (not HTML, not a 2xx response, a revisit, a page without
    article text, a broken record) is yielded as the InputError saying why, and reading goes on.
    """
    try:
        handle = path.open("rb")
    except OSError as err:
        yield InputError(str(path), f"cannot read: {err.strerror or err}")
        return
    with handle:
        gzipped = handle.read(3) == _GZIP_MAGIC
        size = handle.seek(0, 2)
        start: int | None = 0
        while start is not None:
            handle.seek(start)
            # A fresh iterator for each stretch of good records: warcio's cannot go on after an error.
            records = _QuietIterator(handle, arc2warc=True, check_digests=True)
            iterator = iter(records)
            failed_at = None
            while failed_at is None:
                try:
                    record = next(iterator)
                except StopIteration:
                    # warcio ends quietly at a gzip member cut short; bytes left over mean a lost record.
                    if _left_over(handle, records.offset, size):
                        yield InputError(f"{path}@{records.offset}", "broken record (cut short at the end of the file)")
                    break
                except _BROKEN as err:
                    failed_at = records.offset
                    yield InputError(f"{path}@{failed_at}", f"broken record ({_reason(err)}); skipped to the next one")
                    break
                offset = records.offset
                item = _record_item(record, f"{path}@{offset}")
                if item is not None:
                    yield item
                if isinstance(item, _BrokenRecord):
                    # A record of the wrong length has swallowed the start of the next ones (in
                    # a plain archive), or warcio's inflater has read past the member cut short
                    # into the next (in a gzipped one): look for them from inside it.
                    failed_at = offset
            start = None if failed_at is None else _next_record_start(handle, failed_at + 1, gzipped)


def _reason(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, AttributeError | IndexError | KeyError):
        return "record header cut short or malformed"  # warcio's parser tripping over it, not a message
    if isinstance(err, ArchiveLoadFailed) and "first line" in text:
        return "not a WARC/ARC record header"  # warcio quotes the line, which may be binary noise
    return text[:120] or type(err).__name__


def _record_item(record: Any, source: str) -> Document | InputError | None:
    """The document of one record, the reason it gives none, or None for records that are not pages."""
    kind = record.rec_type
    uri = _target_uri(record)
    names = [name.lower() for name, _ in record.rec_headers.headers]
    if names.count("warc-record-id") > 1 or names.count("warc-type") > 1:
        # A header block cut short runs on into the next record's, in a plain archive.
        return _BrokenRecord(source, f"broken record (header cut short, run into the next record's): {uri}")
    if kind == "revisit":
        since = record.rec_headers.get_header("WARC-Refers-To-Date")
        return UnsupportedInput(source, f"revisit of {uri}: unchanged{f' since {since}' if since else ''}")
    if kind not in ("response", "resource"):
        return None
    if uri is None:
        return InputError(source, f"{kind} record without WARC-Target-URI")
    headers = {}
    if record.http_headers is not None:
        status = record.http_headers.get_statuscode()
        if not status.startswith("2"):
            return UnsupportedInput(source, f"HTTP {status} response, not a page: {uri}")
        content_type = record.http_headers.get_header("Content-Type")
    else:
        content_type = record.content_type if kind == "resource" else None
        if kind == "response" and (record.content_type or "").startswith("application/http"):
            # warcio gives no HTTP header when the record ends inside it.
            return _BrokenRecord(source, f"broken record (no complete HTTP header): {uri}")
        if kind == "response":
            return UnsupportedInput(source, f"not an HTTP response ({record.content_type}): {uri}")
    if content_type:
        if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
            return UnsupportedInput(source, f"not HTML ({content_type.split(';')[0].strip()}): {uri}")
        headers["Content-Type"] = content_type
    try:
        # Reading one byte past the cap tells an oversized page from one exactly at it.
        body = record.content_stream().read(MAX_FILE_BYTES + 1)
    except _BROKEN as err:
        return _BrokenRecord(source, f"broken record ({_reason(err)}): {uri}")
    if len(body) > MAX_FILE_BYTES:
        return InputError(source, f"page larger than {MAX_FILE_BYTES:,} bytes: {uri}")
    if getattr(record.raw_stream, "limit", 0) > 0:
        return _BrokenRecord(source, f"broken record (cut short: {record.raw_stream.limit:,} bytes missing): {uri}")
    if record.digest_checker.passed is False:
        problem = record.digest_checker.problems[0] if record.digest_checker.problems else "digest mismatch"
        return _BrokenRecord(source, f"broken record ({problem}): {uri}")
    captured = _warc_date(record)
    found = Found(dates=((FIRST_SEEN, captured, None),) if captured else ())
    item = html_document(body, uri, source, headers or None, found)
    if isinstance(item, InputError):
        return type(item)(source, f"{item.reason}: {uri}")
    return item


def _target_uri(record: Any) -> str | None:
    uri = record.rec_headers.get_header("WARC-Target-URI")
    if uri and not uri.isprintable():
        # A header block cut short runs on into whatever bytes follow: never print those.
        return "(unreadable WARC-Target-URI)"
    # WARC 1.0 writers sometimes wrap the URI in angle brackets.
    return uri.strip().strip("<>") if uri else None


def _warc_date(record: Any) -> datetime | None:
    """The record's capture time (WARC-Date, which warcio also fills in for ARC records), in UTC."""
    value = record.rec_headers.get_header("WARC-Date")
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _left_over(handle: BinaryIO, offset: int, size: int) -> bool:
    """Whether anything but blank lines follows ``offset`` in the file."""
    if offset >= size:
        return False
    handle.seek(offset)
    return bool(handle.read(64).strip())


def _next_record_start(handle: BinaryIO, offset: int, gzipped: bool) -> int | None:
    """The offset of the first record that starts at or after ``offset``, None if there is none.

    In a gzipped archive every record is its own gzip member, so a candidate is a gzip header
    whose first bytes inflate to a record header; in a plain one, a line starting ``WARC/``.
    The file is scanned in chunks, so a broken record costs no memory however long it is.
    """
    position = offset
    while True:
        handle.seek(position)
        chunk = handle.read(_SCAN_CHUNK)
        if not chunk:
            return None
        needle = _GZIP_MAGIC if gzipped else b"WARC/"
        found = chunk.find(needle)
        while found != -1:
            candidate = position + found
            if _starts_record(handle, candidate, gzipped):
                return candidate
            found = chunk.find(needle, found + 1)
        if len(chunk) < _SCAN_CHUNK:
            return None
        # Step back a little, so a needle split between two chunks is still found.
        position += len(chunk) - len(needle) + 1


def _starts_record(handle: BinaryIO, candidate: int, gzipped: bool) -> bool:
    handle.seek(candidate)
    head = handle.read(4096)
    if gzipped:
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, 64)
        except zlib.error:
            return False
    # Not only at line starts: a record cut short runs straight into the next record's header.
    return _WARC_HEADER.match(head) is not None or _ARC_HEADER.match(head) is not None
