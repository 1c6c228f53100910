"""File I/O for the PAN 2013 text-alignment corpus: its pairs, ground truth and documents.

Layout (Potthast et al., "Overview of the 5th International Competition on Plagiarism Detection",
CLEF 2013)::

    src/source-documentNNNNN.txt
    susp/suspicious-documentNNNNN.txt
    NN-category/pairs                       one "susp src" pair a line
    NN-category/<susp-stem>-<src-stem>.xml  the pair's ground truth

A truth file holds one ``<feature name="plagiarism" this_offset=... this_length=...
source_reference=... source_offset=... source_length=...>`` per case; other features (``about``,
``md5``) are metadata. Offsets count characters of the UTF-8-decoded text, so documents must be read
with :func:`read_document`. Detections are written in the same format with
``name="detected-plagiarism"``, which the official PAN evaluation script reads.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reuse.errors import InputError
from reuse.eval.plagdet import Case, Detection, Pair
from reuse.models import Span

__all__ = [
    "CASE_FEATURE",
    "DETECTION_FEATURE",
    "Pan13Corpus",
    "load_corpus",
    "read_detections",
    "read_document",
    "write_detections",
]

#: ``name`` of the truth features that are reuse cases.
CASE_FEATURE = "plagiarism"
#: ``name`` of the features in a detection file.
DETECTION_FEATURE = "detected-plagiarism"

_A = TypeVar("_A", Case, Detection)


@dataclass(frozen=True)
class Pan13Corpus:
    """A PAN 2013 text-alignment corpus as found on disk.

    ``categories`` maps each category folder (e.g. ``"02-no-obfuscation"``) to the pairs its
    ``pairs`` file lists, in file order. ``cases`` maps every listed pair to its ground-truth cases
    (an empty tuple for a negative pair). ``sources`` and ``suspicious`` map each document name
    (e.g. ``"source-document01090.txt"``) to its path.
    """

    root: Path
    categories: Mapping[str, tuple[Pair, ...]]
    cases: Mapping[Pair, tuple[Case, ...]]
    sources: Mapping[str, Path]
    suspicious: Mapping[str, Path]

    def truth(self) -> dict[str, tuple[tuple[Pair, ...], tuple[Case, ...]]]:
        """Each category's pairs and cases, the input :func:`reuse.eval.plagdet.score_by_category` takes."""
        return {
            name: (pairs, tuple(case for pair in pairs for case in self.cases[pair]))
            for name, pairs in self.categories.items()
        }


def load_corpus(root: Path, *, limit: int | None = None) -> Pan13Corpus:
    """Read the pairs, ground truth and document paths of the corpus at ``root``.

    The category folders are the sub-folders that hold a ``pairs`` file. Document texts are not
    read. With ``limit``, only the first ``limit`` pairs of each category are kept, and only the
    documents they name (a quick run; not the full corpus mode). Raises
    :class:`~reuse.errors.InputError` if ``root`` is not a PAN 2013 text-alignment corpus or a
    pairs or truth file is missing or malformed.
    """
    if not root.is_dir():
        raise InputError(str(root), "not a PAN13 text-alignment corpus: no such folder")
    sources = _documents(root, "src")
    suspicious = _documents(root, "susp")
    category_dirs = sorted(path.parent for path in root.glob("*/pairs") if path.is_file())
    if not category_dirs:
        raise InputError(str(root), "not a PAN13 text-alignment corpus: no category folder with a pairs file")

    categories: dict[str, tuple[Pair, ...]] = {}
    cases: dict[Pair, tuple[Case, ...]] = {}
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of pairs, got {limit}")
    for folder in category_dirs:
        pairs = _read_pairs(folder / "pairs")[:limit]
        for susp, src in pairs:
            if susp not in suspicious or src not in sources:
                raise InputError(str(folder / "pairs"), f"pair {susp} {src} names a document not in susp/ or src/")
            truth_file = folder / f"{_stem(susp)}-{_stem(src)}.xml"
            cases[susp, src] = tuple(_read_features(truth_file, CASE_FEATURE, Case, expected_pair=(susp, src)))
        categories[folder.name] = pairs
    if limit is not None:
        named_src, named_susp = {src for _, src in cases}, {susp for susp, _ in cases}
        sources = {name: path for name, path in sources.items() if name in named_src}
        suspicious = {name: path for name, path in suspicious.items() if name in named_susp}
    return Pan13Corpus(root, categories, cases, sources, suspicious)


def read_document(path: Path) -> str:
    """The text of a corpus document, exactly as the corpus offsets count it.

    The bytes are decoded as UTF-8 and nothing else: no newline translation and no stripping, so
    ``\\r`` and control characters such as ``\\x19`` stay and keep every later offset right.
    Raises :class:`~reuse.errors.InputError` if the file is not UTF-8.
    """
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(str(path), f"not UTF-8 ({error})") from error


def write_detections(out_dir: Path, detections: Iterable[Detection]) -> list[Path]:
    """Write ``detections`` as PAN detection files, one per (susp, src) pair that has any.

    Each file is ``<susp-stem>-<src-stem>.xml`` in ``out_dir`` (created if needed), holding one
    ``<feature name="detected-plagiarism" .../>`` per distinct detection in offset order. Returns
    the written paths, sorted. Raises :class:`~reuse.errors.InputError` if ``out_dir`` already
    holds XML files: left-over files of an earlier run would be scored as detections of this one.
    Raises ``ValueError`` if a document name is a path rather than a bare file name.
    """
    by_pair: dict[Pair, set[Detection]] = defaultdict(set)
    for detection in detections:
        # The names become file names and XML references, so a path would write outside out_dir.
        if any(Path(name).name != name for name in detection.pair):
            raise ValueError(f"detection names must be bare document names, got {detection.pair}")
        by_pair[detection.pair].add(detection)
    if out_dir.is_dir() and any(out_dir.glob("*.xml")):
        raise InputError(str(out_dir), "already holds XML files; write detections to an empty folder")
    out_dir.mkdir(parents=True, exist_ok=True)

    written: list[Path] = []
    for (susp, src), found in sorted(by_pair.items()):
        document = ET.Element("document", reference=susp)
        for detection in sorted(
            found, key=lambda d: (d.susp_span.start, d.susp_span.end, d.src_span.start, d.src_span.end)
        ):
            ET.SubElement(
                document,
                "feature",
                {
                    "name": DETECTION_FEATURE,
                    "this_offset": str(detection.susp_span.start),
                    "this_length": str(len(detection.susp_span)),
                    "source_reference": src,
                    "source_offset": str(detection.src_span.start),
                    "source_length": str(len(detection.src_span)),
                },
            )
        ET.indent(document, space="")
        path = out_dir / f"{_stem(susp)}-{_stem(src)}.xml"
        path.write_bytes(ET.tostring(document, encoding="utf-8") + b"\n")
        written.append(path)
    return written


def read_detections(folder: Path) -> list[Detection]:
    """The detections in the PAN detection files (``*.xml``) of ``folder``, e.g. as written above.

    Raises :class:`~reuse.errors.InputError` if a file is not a PAN annotation file.
    """
    return [
        detection
        for path in sorted(folder.glob("*.xml"))
        for detection in _read_features(path, DETECTION_FEATURE, Detection)
    ]


def _documents(root: Path, folder: str) -> dict[str, Path]:
    directory = root / folder
    if not directory.is_dir():
        raise InputError(str(root), f"not a PAN13 text-alignment corpus: no {folder}/ folder")
    return {path.name: path for path in sorted(directory.glob("*.txt"))}


def _read_pairs(path: Path) -> tuple[Pair, ...]:
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2:
            raise InputError(str(path), f"line {number}: expected 'suspicious-document source-document'")
        pairs.append((fields[0], fields[1]))
    return tuple(pairs)


def _read_features(path: Path, feature: str, kind: type[_A], expected_pair: Pair | None = None) -> list[_A]:
    """The ``feature`` annotations of a PAN XML file as ``kind``; with ``expected_pair``, all in that pair."""
    try:
        document = ET.parse(path).getroot()
    except FileNotFoundError as error:
        raise InputError(str(path), "truth file missing") from error
    except ET.ParseError as error:
        raise InputError(str(path), f"not well-formed XML ({error})") from error
    susp = document.get("reference")
    if document.tag != "document" or not susp:
        raise InputError(str(path), "not a PAN annotation file: expected <document reference=...>")
    if expected_pair is not None and susp != expected_pair[0]:
        raise InputError(str(path), f"refers to {susp}, expected {expected_pair[0]}")

    features: list[_A] = []
    for element in document.iter("feature"):
        if element.get("name") != feature:
            continue
        try:
            src = element.attrib["source_reference"]
            susp_span = Span.of(int(element.attrib["this_offset"]), int(element.attrib["this_length"]))
            src_span = Span.of(int(element.attrib["source_offset"]), int(element.attrib["source_length"]))
        except KeyError as error:
            raise InputError(str(path), f"a {feature} feature lacks {error}") from error
        except ValueError as error:
            raise InputError(str(path), f"a {feature} feature has a bad offset or length ({error})") from error
        if expected_pair is not None and src != expected_pair[1]:
            raise InputError(str(path), f"a {feature} feature refers to {src}, expected {expected_pair[1]}")
        features.append(kind(susp, susp_span, src, src_span))
    return features


def _stem(name: str) -> str:
    """``suspicious-document00005.txt`` → ``suspicious-document00005``, as in PAN file names."""
    return name.removesuffix(".txt")
