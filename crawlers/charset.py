"""From bytes to text: binary sniffing and character-encoding detection, for fetched pages, HTML and
text files and WARC records alike (:func:`decode_text`).

The order is the browser's (WHATWG "encoding sniffing"), with one addition before guessing:

1. a byte-order mark;
2. the ``charset`` of the ``Content-Type`` header;
3. a ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` near the start, found by the WHATWG
   *prescan* algorithm;
4. a strict UTF-8 trial (most undeclared pages today are UTF-8, and it never misreads one);
5. statistical detection with charset-normalizer, only when all of the above fail.

Labels are mapped to WHATWG encoding names ("latin1" and "ISO-8859-1" mean windows-1252, "gb2312"
means GBK, read here with the GB18030 codec that is its superset), and then to a Python codec.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["Decoded", "charset_from_content_type", "decode_text", "normalize_label", "prescan", "sniff_binary"]

# WHATWG names for labels whose Python codec name differs, or that WHATWG maps to another encoding.
_WHATWG_LABELS: dict[str, str] = {
    **dict.fromkeys(
        [
            "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1", "iso-ir-100",
            "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252",
            "x-cp1252",
        ],
        "windows-1252",
    ),
    **dict.fromkeys(
        ["csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592", "iso_8859-2", "iso_8859-2:1987", "l2",
         "latin2"],
        "iso-8859-2",
    ),
    **dict.fromkeys(["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"],
                    "utf-8"),
    **dict.fromkeys(["cp1251", "windows-1251", "x-cp1251"], "windows-1251"),
    **dict.fromkeys(["cp1250", "windows-1250", "x-cp1250"], "windows-1250"),
    **dict.fromkeys(["koi", "koi8", "koi8-r", "koi8_r", "cskoi8r"], "koi8-r"),
    **dict.fromkeys(["koi8-ru", "koi8-u"], "koi8-u"),
    **dict.fromkeys(
        ["chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk", "iso-ir-58", "x-gbk"],
        "gbk",
    ),
    "gb18030": "gb18030",
    **dict.fromkeys(["big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"], "big5"),
    **dict.fromkeys(["cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"], "euc-jp"),
    **dict.fromkeys(["csiso2022jp", "iso-2022-jp"], "iso-2022-jp"),
    **dict.fromkeys(
        ["csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j", "x-sjis"], "shift_jis"
    ),
    **dict.fromkeys(
        ["cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987", "ks_c_5601-1989",
         "ksc5601", "ksc_5601", "windows-949"],
        "euc-kr",
    ),
    **dict.fromkeys(["csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"],
                    "utf-16le"),
    **dict.fromkeys(["unicodefffe", "utf-16be"], "utf-16be"),
    **dict.fromkeys(["iso-8859-8-i", "csiso88598i", "logical"], "iso-8859-8-i"),
    "x-user-defined": "x-user-defined",
}  # fmt: skip

# Python codecs for WHATWG names where the names differ or WHATWG means a superset.
_CODECS = {
    "windows-1252": "cp1252",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
    "big5": "big5hkscs",
    "iso-8859-8-i": "iso-8859-8",
    "x-user-defined": "cp1252",
}

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16le"), (codecs.BOM_UTF16_BE, "utf-16be"))
_CHARSET_IN_CONTENT = re.compile(rb"charset\s*=\s*(?:\"([^\"]*)\"?|'([^']*)'?|([^\s;\"']+))", re.IGNORECASE)
_SPACE = b"\t\n\x0c\r "

# Magic numbers of formats that are served as text/html by mistake (WHATWG MIME sniffing, Scrapy).
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"RIFF", "RIFF media"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"(\xb5/\xfd", "zstd data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x00\x00\x01\x00", "icon"),
    (b"wOFF", "web font"),
    (b"wOF2", "web font"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE document"),
)
# Bytes that never appear in text (WHATWG "binary data byte"): C0 controls except TAB, LF, FF, CR, ESC.
_BINARY_BYTES = frozenset(range(0x00, 0x09)) | {0x0B} | frozenset(range(0x0E, 0x1B)) | frozenset(range(0x1C, 0x20))


@dataclass(frozen=True)
class Decoded:
    """A page's text with the encoding used (a WHATWG name) and what decided it."""

    text: str
    encoding: str
    source: str  # "bom", "header", "meta", "utf-8-trial", "detected" or "fallback"


def normalize_label(label: str | bytes | None) -> str | None:
    """The WHATWG name for an encoding label, or None when no codec is known for it."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    key = label.strip("\t\n\x0c\r ").lower()
    if not key:
        return None
    if key in _WHATWG_LABELS:
        return _WHATWG_LABELS[key]
    if not re.fullmatch(r"[a-z0-9._:-]+", key):
        return None
    try:
        info = codecs.lookup(key)
    except LookupError:
        return None
    # Python knows this label (iso-8859-5, windows-1256, koi8_u...): use its canonical, hyphenated name.
    name = info.name.replace("_", "-")
    return _WHATWG_LABELS.get(name, name)


def _codec(whatwg: str) -> str:
    return _CODECS.get(whatwg, whatwg)


def charset_from_content_type(value: str | None) -> str | None:
    """The WHATWG encoding named by the ``charset`` parameter of a Content-Type value."""
    if not value:
        return None
    found = _CHARSET_IN_CONTENT.search(value.encode("latin-1", "replace"))
    if not found:
        return None
    return normalize_label(next(group for group in found.groups() if group is not None))


def sniff_binary(body: bytes) -> str | None:
    """Why ``body`` is not a text page (a known magic number, NUL or control bytes), or None if it may be text.

    Like WHATWG MIME sniffing and Scrapy's ``binary_is_text``: a magic number at the start, or a
    binary byte in the first 1,024 bytes. UTF-16 with a BOM is text; UTF-16 without one is not
    (no browser reads it as HTML).
    """
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    for magic, kind in _MAGIC:
        if body.startswith(magic):
            return kind
    head = body[:1024]
    if b"\x00" in head:
        return "NUL bytes (binary data or UTF-16 without a byte-order mark)"
    if any(byte in _BINARY_BYTES for byte in head):
        return "control bytes (binary data)"
    return None


def _get_attribute(data: bytes, pos: int) -> tuple[bytes, bytes, int] | None:
    """WHATWG "get an attribute": (name, value, position after it), or None at the end of the tag."""
    end = len(data)
    while pos < end and (data[pos] in _SPACE or data[pos] == 0x2F):
        pos += 1
    if pos >= end or data[pos] == 0x3E:
        return None
    name = bytearray()
    value = bytearray()
    while pos < end:
        char = data[pos]
        if char == 0x3D and name:
            pos += 1
            break
        if char in _SPACE:
            while pos < end and data[pos] in _SPACE:
                pos += 1
            if pos < end and data[pos] == 0x3D:
                pos += 1
                break
            return bytes(name), b"", pos
        if char in (0x2F, 0x3E):
            return bytes(name), b"", pos
        name.append(char | 0x20 if 0x41 <= char <= 0x5A else char)
        pos += 1
    else:
        return bytes(name), b"", pos
    while pos < end and data[pos] in _SPACE:
        pos += 1
    if pos >= end:
        return bytes(name), b"", pos
    quote = data[pos]
    if quote in (0x22, 0x27):
        closing = data.find(bytes([quote]), pos + 1)
        if closing < 0:
            return bytes(name), b"", end
        return bytes(name), data[pos + 1 : closing].lower(), closing + 1
    if quote == 0x3E:
        return bytes(name), b"", pos
    while pos < end and data[pos] not in _SPACE and data[pos] != 0x3E:
        char = data[pos]
        value.append(char | 0x20 if 0x41 <= char <= 0x5A else char)
        pos += 1
    return bytes(name), bytes(value), pos


def _charset_from_meta_content(content: bytes) -> bytes | None:
    """WHATWG "extract a character encoding from a meta element" (the ``content`` attribute)."""
    pos = 0
    while True:
        found = content.find(b"charset", pos)
        if found < 0:
            return None
        pos = found + 7
        while pos < len(content) and content[pos] in _SPACE:
            pos += 1
        if pos < len(content) and content[pos] == 0x3D:
            break
    pos += 1
    while pos < len(content) and content[pos] in _SPACE:
        pos += 1
    if pos >= len(content):
        return None
    if content[pos] in (0x22, 0x27):
        closing = content.find(content[pos : pos + 1], pos + 1)
        return content[pos + 1 : closing] if closing > 0 else None
    stop = pos
    while stop < len(content) and content[stop] not in _SPACE and content[stop] != 0x3B:
        stop += 1
    return content[pos:stop]


def _meta_encoding(data: bytes, pos: int) -> tuple[str | None, int]:
    """Read the attributes of a ``<meta`` tag starting at ``pos``; the encoding it declares, if any."""
    seen: set[bytes] = set()
    got_pragma = False
    need_pragma: bool | None = None
    charset: str | None = None
    while True:
        attribute = _get_attribute(data, pos)
        if attribute is None:
            break
        name, value, pos = attribute
        if name in seen:
            continue
        seen.add(name)
        if name == b"http-equiv" and value == b"content-type":
            got_pragma = True
        elif name == b"content" and charset is None:
            label = _charset_from_meta_content(value)
            if label is not None:
                charset = normalize_label(label) or ""
                need_pragma = True
        elif name == b"charset":
            charset = normalize_label(value) or ""
            need_pragma = False
    if need_pragma is None or (need_pragma and not got_pragma) or not charset:
        return None, pos
    if charset in ("utf-16le", "utf-16be"):
        return "utf-8", pos
    if charset == "x-user-defined":
        return "windows-1252", pos
    return charset, pos


def prescan(body: bytes, limit: int = 16_384) -> str | None:
    """The encoding declared by a ``<meta>`` in the first ``limit`` bytes (WHATWG prescan), or None.

    WHATWG prescans 1,024 bytes and lets the parser switch encodings on a later ``<meta>``; scanning
    16 KiB gets the same answer for declarations after long comments or scripts in the head.
    """
    data = body[:limit]
    end = len(data)
    pos = 0
    while pos < end:
        if data.startswith(b"<!--", pos):
            closing = data.find(b"-->", pos + 2)
            if closing < 0:
                return None
            pos = closing + 3
            continue
        if data[pos : pos + 5].lower() == b"<meta" and pos + 5 < end and data[pos + 5] in _SPACE + b"/":
            if data.find(b">", pos) < 0:  # the tag is cut off by the end of the input: abort, as WHATWG does
                return None
            encoding, pos = _meta_encoding(data, pos + 5)
            if encoding:
                return encoding
            pos += 1
            continue
        letter_at = pos + 2 if data.startswith(b"</", pos) else pos + 1
        if data[pos] == 0x3C and letter_at < end and chr(data[letter_at]).isascii() and chr(data[letter_at]).isalpha():
            pos = letter_at
            while pos < end and data[pos] not in _SPACE and data[pos] != 0x3E:
                pos += 1
            while (attribute := _get_attribute(data, pos)) is not None:
                pos = attribute[2]
            pos += 1
            continue
        if data.startswith((b"<!", b"</", b"<?"), pos):
            closing = data.find(b">", pos + 2)
            if closing < 0:
                return None
            pos = closing + 1
            continue
        pos += 1
    return None


def _try(body: bytes, whatwg: str) -> str | None:
    try:
        return body.decode(_codec(whatwg), errors="replace")
    except LookupError:
        return None


def decode_text(body: bytes, content_type: str | None = None, *, html: bool = True) -> Decoded:
    """Decode a page or a text file: BOM, then header charset, then ``<meta>`` (``html`` only),
    then strict UTF-8, then detection, then windows-1252 (``source`` "fallback": nothing fitted).

    Undecodable bytes become U+FFFD under a declared encoding; this never raises.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(name, errors="replace"), name, "bom")
    declared = (("header", charset_from_content_type(content_type)), ("meta", prescan(body) if html else None))
    for source, whatwg in declared:
        if whatwg and (text := _try(body, whatwg)) is not None:
            return Decoded(text, whatwg, source)
    try:
        return Decoded(body.decode("utf-8"), "utf-8", "utf-8-trial")
    except UnicodeDecodeError:
        pass
    # Imported here: most text is UTF-8 or declared, and the detector's import cost every
    # command that reads a file about 20 ms.
    from charset_normalizer import from_bytes

    best = from_bytes(body[:262_144]).best()
    if best is not None:
        whatwg = normalize_label(best.encoding) or best.encoding
        if (text := _try(body, whatwg)) is not None:
            return Decoded(text, whatwg, "detected")
    return Decoded(body.decode("windows-1252", errors="replace"), "windows-1252", "fallback")
