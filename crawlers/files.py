"""Reading documents from local files: plain text, Markdown, HTML, JSON Lines and web archives.

Directories are read recursively, in name order; hidden files and folders in them (names
starting with ``.``: ``.git``, ``.DS_Store``) are passed over without a word. Every problem with
one item (a missing, empty, binary, undecodable or oversized file; a file of another type; a
FIFO, socket or device; a broken JSONL line) is yielded as an :class:`~reuse.errors.InputError`
so the caller can report it and go on with the rest.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from crawlers.article import Article
from crawlers.charset import decode_text
from crawlers.dates import parse_time
from crawlers.pages import html_document, site_of
from crawlers.urls import document_url, site_key
from reuse.errors import InputError, UnsupportedInput
from reuse.models import Document, TimePrecision, iso_precision

__all__ = [
    "FRONT_MATTER_FIELDS",
    "MAX_FILE_BYTES",
    "SUFFIXES",
    "decode",
    "discover",
    "front_matter",
    "has_input_files",
    "iter_documents",
    "page_url",
    "read_file",
    "read_page",
    "read_text",
]

#: Files larger than this are skipped: no article is this long, and it bounds memory per item.
MAX_FILE_BYTES = 20 * 1024 * 1024
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"})
#: Web archives (WARC, ARC), read record by record by :mod:`crawlers.warc`, whatever their size.
ARCHIVE_SUFFIXES = frozenset({".warc", ".warc.gz", ".arc", ".arc.gz"})
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | ARCHIVE_SUFFIXES


def _suffix(path: Path) -> str:
    """The file type ending of ``path``: ``.warc.gz``, ``.jsonl.gz`` and the like count as one."""
    name = path.name.lower()
    doubled = (".warc.gz", ".arc.gz", ".jsonl.gz", ".ndjson.gz")
    return next((s for s in doubled if name.endswith(s)), path.suffix.lower())


def decode(data: bytes, source: str) -> str:
    """Decode a text file's bytes with the charset sniffer pages are read with
    (:func:`crawlers.charset.decode_text`, no ``<meta>`` looked for); NUL bytes mean a binary file."""
    if b"\x00" in data[:1024] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnsupportedInput(source, "binary file (NUL bytes), not text")
    decoded = decode_text(data, html=False)
    if decoded.source == "fallback":
        raise InputError(source, "cannot decode: not UTF-8 and no other encoding fits")
    return decoded.text


def discover(paths: Iterable[str | Path]) -> Iterator[Path | InputError]:
    """Every entry under ``paths`` (files as given, directories recursively, their hidden files
    and folders left out): :func:`read_file` says which of them it cannot read, and why."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(name for name in dirs if not name.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        elif path.exists():
            yield path
        else:
            yield InputError(str(path), "no such file or directory")


def has_input_files(paths: Iterable[str | Path]) -> bool:
    """Whether any entry under ``paths`` has a file type reusetrack reads (stops at the first)."""
    return any(isinstance(found, Path) and _suffix(found) in SUFFIXES for found in discover(paths))


def _check_regular(path: Path) -> None:
    """Raise the InputError that says why ``path`` is not a regular file to read: opening a
    FIFO waits for a writer forever, and a device or socket never ends or cannot be opened."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        raise InputError(str(path), f"cannot read: {err.strerror or err}") from err
    if not stat.S_ISREG(mode):
        raise UnsupportedInput(str(path), "not a regular file")


def _parse_published(value: object, source: str) -> tuple[datetime | None, str | None]:
    """A JSONL row's ``published`` and its precision: "2021-03-01" is that day, "2021-03" that
    month, "2021" that year, not their first instant (see :func:`reuse.models.time_interval`)."""
    if value in (None, ""):
        return None, None
    if not isinstance(value, str):
        raise InputError(source, f"'published' must be an ISO 8601 string, got {type(value).__name__}")
    precision = iso_precision(value)
    try:
        if precision in (TimePrecision.MONTH, TimePrecision.YEAR):
            year, _, month = value.strip().partition("-")
            return datetime(int(year), int(month or 1), 1), precision.value
        return datetime.fromisoformat(value.replace("Z", "+00:00")), (precision or TimePrecision.SECOND).value
    except ValueError as err:
        raise InputError(source, f"'published' is not an ISO 8601 date: {value!r}") from err


def _jsonl(path: Path) -> Iterator[Document | InputError]:
    """The documents of a JSON Lines file (gzip-compressed when its name ends in ``.gz``), read
    a line at a time: a file of any size streams through, and only a line is held at once.
    JSON text is UTF-8 (RFC 8259); a line that is not, or is over the article size cap, is
    reported and skipped like a broken one."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as lines:
            yield from _jsonl_rows(lines, path)
    except (OSError, EOFError, zlib.error) as err:
        yield InputError(str(path), f"cannot read: {getattr(err, 'strerror', None) or err}")


def _jsonl_rows(lines: Iterable[bytes], path: Path) -> Iterator[Document | InputError]:
    empty = True
    for number, raw in enumerate(lines, start=1):
        where = f"{path}:{number}"
        if number == 1 and b"\x00" in raw[:1024]:
            yield UnsupportedInput(str(path), "binary file (NUL bytes), not JSON Lines")
            return
        if len(raw) > MAX_FILE_BYTES:
            yield InputError(where, f"line too long ({len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,})")
            continue
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield InputError(where, "not UTF-8 (JSON Lines are UTF-8)")
            continue
        if not line.strip():
            continue
        empty = False
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise InputError(where, "not a JSON object")
            body = row.get("text")
            if not isinstance(body, str) or not body.strip():
                raise InputError(where, "no 'text' field with text")
            url = row.get("url") or f"{path.resolve().as_uri()}#{number}"
            if not isinstance(url, str):
                raise InputError(where, "'url' must be a string")
            url = document_url(url)
            title = row.get("title")
            published, precision = _parse_published(row.get("published"), where)
            yield Document(
                url=url,
                text=body,
                title=title if isinstance(title, str) else None,
                published=published,
                site=row.get("site") if isinstance(row.get("site"), str) else site_of(url),
                source=where,
                published_precision=precision,
            )
        except json.JSONDecodeError as err:
            yield InputError(where, f"broken JSON ({err.msg} at column {err.colno})")
        except InputError as err:
            yield err
    if empty:
        yield InputError(str(path), "empty file")


def _read_bytes(path: Path) -> bytes:
    """The bytes of a file within the size cap, or the InputError saying why not."""
    source = str(path)
    _check_regular(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(source, f"file too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})")
        return path.read_bytes()
    except OSError as err:
        raise InputError(source, f"cannot read: {err.strerror or err}") from err


def read_text(path: Path) -> str:
    """The text of a plain text file, within the size cap and decoded as ``.txt`` files are; raises
    :class:`InputError` saying why it cannot be read."""
    return decode(_read_bytes(path), str(path))


# The "mark of the web" a browser writes into a page it saves: the URL the page was read from.
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(\S+?)\s*-->", re.I)


def page_url(path: Path, data: bytes) -> str:
    """The URL a local HTML file was read from: the ``<!-- saved from url=(NNNN)URL -->`` line
    browsers write into a saved page, when it names a web URL; else the file's own ``file://`` URL."""
    found = _SAVED_FROM.search(data[:4096])
    saved = found.group(1).decode("ascii", "replace") if found else None
    return saved if saved and site_key(saved) is not None else path.resolve().as_uri()


def read_page(path: Path) -> Article:
    """The article of a local HTML file, whatever its state (for showing what extraction sees)."""
    from crawlers.extract import extract  # only pages need the HTML stack (see pages.html_document)

    data = _read_bytes(path)
    return extract(data, {"Content-Type": "text/html"}, page_url(path, data))


def read_file(path: Path) -> Iterator[Document | InputError]:
    """The documents in one file (several for JSONL), or the reason it cannot be read."""
    source = str(path)
    suffix = _suffix(path)
    try:
        _check_regular(path)
    except InputError as err:
        yield err
        return
    if suffix not in SUFFIXES:
        yield UnsupportedInput(
            source, f"unsupported file type '{suffix or path.name}' (use .txt, .md, .html, .jsonl, .warc[.gz])"
        )
        return
    if suffix in JSONL_SUFFIXES:
        yield from _jsonl(path)
        return
    if suffix in ARCHIVE_SUFFIXES:
        # Imported here: crawlers.warc builds on this module's MAX_FILE_BYTES. Archives are
        # streamed, so the file size cap (meant for one article) does not apply to them.
        from crawlers.warc import read_archive

        yield from read_archive(path)
        return
    try:
        data = _read_bytes(path)
    except InputError as err:
        yield err
        return
    if not data.strip():
        yield InputError(source, "empty file")
        return
    if suffix in HTML_SUFFIXES:
        yield html_document(data, page_url(path, data), source)
        return
    url = path.resolve().as_uri()
    try:
        text = decode(data, source)
        fields, text = front_matter(text, source)
        yield _text_document(fields, text, url, source)
    except InputError as err:
        yield err


#: The fields a text file's front matter may give.
FRONT_MATTER_FIELDS = ("url", "title", "site", "published")
_FRONT_MATTER = re.compile(r"---[ \t]*\r?\n(.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_FIELD = re.compile(r"([A-Za-z_]+)[ \t]*:[ \t]*(.*?)[ \t]*")


def front_matter(text: str, source: str) -> tuple[dict[str, str], str]:
    """The fields of a text file's front matter and the text after it.

    Front matter is a first line ``---``, then ``field: value`` lines (fields of
    :data:`FRONT_MATTER_FIELDS`, each at most once; a value may be quoted), then a line ``---``.
    A file whose first line is not ``---`` has none. Anything else in it raises the InputError
    that says what, so that a mistyped date never passes unseen."""
    if not re.match(r"---[ \t]*\r?\n", text):
        return {}, text
    found = _FRONT_MATTER.match(text)
    if found is None:
        raise InputError(source, "front matter: no closing '---' line")
    fields: dict[str, str] = {}
    for number, line in enumerate(found.group(1).splitlines(), start=2):
        if not line.strip():
            continue
        entry = _FIELD.fullmatch(line)
        if entry is None:
            raise InputError(source, f"front matter line {number}: not 'field: value': {line.strip()!r}")
        name, value = entry.group(1).lower(), entry.group(2)
        if name not in FRONT_MATTER_FIELDS:
            raise InputError(
                source, f"front matter line {number}: unknown field {name!r} (use {', '.join(FRONT_MATTER_FIELDS)})"
            )
        if name in fields:
            raise InputError(source, f"front matter line {number}: {name!r} given twice")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        fields[name] = value
    return fields, text[found.end() :]


def _text_document(fields: dict[str, str], text: str, file_url: str, source: str) -> Document:
    """The Document of a text file's text, with what its front matter gives."""
    if not text.strip():
        raise InputError(source, "empty file")
    url = fields.get("url") or file_url
    if "url" in fields:
        if site_of(url) is None:
            raise InputError(source, f"front matter: 'url' must be an http(s) URL, got {url!r}")
        url = document_url(url)
    published = None
    if fields.get("published"):
        published = parse_time(fields["published"])
        if published is None:
            raise InputError(source, f"front matter: 'published' is not a date: {fields['published']!r}")
    return Document(
        url,
        text,
        fields.get("title") or None,
        published[0] if published else None,
        fields.get("site") or site_of(url),
        source,
        published_precision=published[1].value if published else None,
    )


def iter_documents(paths: Iterable[str | Path]) -> Iterator[Document | InputError]:
    """Every document under ``paths``, with an InputError in place of each unreadable item."""
    for found in discover(paths):
        if isinstance(found, InputError):
            yield found
        else:
            yield from read_file(found)
