"""Tests of crawlers.files on JSON Lines: streamed a line at a time, gzip or not."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crawlers import files
from crawlers.files import iter_documents
from reuse.errors import InputError, UnsupportedInput
from reuse.models import Document

ROW = "The council met on Tuesday to discuss the new library on the east side of town. " * 4


def _rows(count: int) -> bytes:
    lines = [json.dumps({"url": f"https://x.example/{k}", "text": f"{k}. {ROW}"}) for k in range(count)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("name", ["big.jsonl", "big.jsonl.gz", "big.ndjson.gz"])
def test_jsonl_larger_than_the_file_cap_streams_through(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size cap is per line (one article), not per file: a corpus dump of any size is read."""
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1_000)
    data = _rows(50)
    assert len(data) > 10 * files.MAX_FILE_BYTES
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    docs = list(iter_documents([path]))
    assert all(isinstance(d, Document) for d in docs)
    assert [d.url for d in docs if isinstance(d, Document)] == [f"https://x.example/{k}" for k in range(50)]


def test_jsonl_problems_are_reported_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1_000)
    good = json.dumps({"url": "https://x.example/ok", "text": ROW}).encode()
    long = json.dumps({"url": "https://x.example/long", "text": ROW * 5}).encode()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([good, long, b"\xff\xfe not utf-8", b"{broken", good.replace(b"/ok", b"/ok2")]) + b"\n")
    items = list(iter_documents([path]))
    assert [d.url for d in items if isinstance(d, Document)] == ["https://x.example/ok", "https://x.example/ok2"]
    problems = [(e.source, e.reason.split(" (")[0]) for e in items if isinstance(e, InputError)]
    assert problems == [(f"{path}:2", "line too long"), (f"{path}:3", "not UTF-8"), (f"{path}:4", "broken JSON")]


def test_empty_binary_and_truncated_jsonl(tmp_path: Path) -> None:
    empty, binary, cut = tmp_path / "empty.jsonl", tmp_path / "binary.jsonl", tmp_path / "cut.jsonl.gz"
    empty.write_text("\n \n")
    binary.write_bytes(b"\x00\x01\x02" * 100)
    cut.write_bytes(gzip.compress(_rows(20))[:-40])
    assert [(type(e), getattr(e, "reason", None)) for e in iter_documents([empty])] == [(InputError, "empty file")]
    assert [type(e) for e in iter_documents([binary])] == [UnsupportedInput]
    items = list(iter_documents([cut]))
    last = items[-1]
    assert isinstance(last, InputError) and last.reason.startswith("cannot read")
    assert sum(isinstance(d, Document) for d in items) >= 1  # what came before the cut is kept


# The text of a plain file in the encodings an editor saves it in: the one charset sniffer
# (crawlers.charset.decode_text) reads every one of them, as it reads pages.
TEXT = "Мэрия Новосибирска объявила, что новая станция метро откроется для пассажиров в конце декабря. " * 4


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with its byte-order mark
        TEXT.encode("windows-1251"),  # undeclared: detected
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "windows-1251"],
)
def test_text_files_are_decoded_by_the_page_sniffer(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(data)
    (doc,) = iter_documents([path])
    assert isinstance(doc, Document) and doc.text == TEXT


def test_a_utf16_file_cut_short_is_read_not_a_crash(tmp_path: Path) -> None:
    """A UTF-16 file with an odd byte count (cut off mid-character) is read, the stray byte
    replaced, as a page would be; strict decoding once raised out of the reader."""
    path = tmp_path / "cut.txt"
    path.write_bytes(TEXT.encode("utf-16") + b"\x41")
    (doc,) = iter_documents([path])
    assert isinstance(doc, Document) and doc.text == TEXT + "\ufffd"
