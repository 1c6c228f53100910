"""Write reuse/engine/native/src/unicode_tables.rs: the Unicode data of the Python engine, for Rust.

The native normaliser and tokeniser must give exactly what ``reuse.engine.normalize`` and
``reuse.engine.tokens`` give, and those read their Unicode data from this interpreter
(``unicodedata``: categories, combining classes, NFKC, ``str.casefold``, ``str.isspace``) and from
the ``regex`` module (``\\p{L}\\p{N}\\p{M}``, its own Unicode version). Rust crates ship other Unicode
versions, so every per-code-point property the Rust side needs is generated here from the very
objects the Python engine uses:

- a range table of property bits (whitespace, combining, dropped when alone, format, word character,
  mark, unspaced script, folds to something else);
- the result of ``normalize._fold`` for every single character it changes, and ``str.casefold``
  of every character it changes;
- what NFKC needs for a character with its combining marks: canonical combining classes, full
  compatibility decompositions (Hangul syllables are left to the algorithm) and the primary
  composites;
- the runs of the stdlib ``re``'s ``\\w`` (``str.isalnum()`` or ``_``), the words lineage checks
  shared text by (``reuse.lineage.evidence.shared_words``).

``python scripts/unicode_tables.py`` rewrites the file; tests/test_native_tokens.py regenerates it in
memory and fails when the checked-in file is stale (another Python or ``regex`` version whose data
differ). The file names the Unicode version but not the package versions: a ``regex`` release that
changes no data must not make the file stale.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import regex

from reuse.engine import normalize, tokens

OUT = Path(__file__).resolve().parent.parent / "reuse" / "engine" / "native" / "src" / "unicode_tables.rs"

#: Property bits, in the order of the constants written to the Rust file.
BITS = ["SPACE", "COMBINING", "DROP_ALONE", "FORMAT", "WORD", "MARK", "UNSPACED", "FOLDS"]
_HANGUL = range(0xAC00, 0xAC00 + 11172)
_SURROGATES = range(0xD800, 0xE000)
#: ``normalize._fold`` without its cache, which generating the tables would only churn.
_fold = normalize._fold.__wrapped__


def _matching(pattern: str, everything: str) -> set[int]:
    """The code points a ``regex`` character class matches (one pass over all of them)."""
    return {i for m in regex.finditer(pattern + "+", everything) for i in range(*m.span())}


def _all_props(everything: str) -> list[int]:
    """The property bits of every code point (``everything``: all of them, in order)."""
    word = _matching(r"[\p{L}\p{N}\p{M}]", everything)
    mark = _matching(r"\p{M}", everything)
    unspaced = _matching(tokens._UNSPACED.pattern, everything)
    props = []
    for cp, c in enumerate(everything):
        category = unicodedata.category(c)
        # A lone character of these categories folds to nothing: FOLDS marks the others it changes.
        drop = category in ("Cf", "Cc", "Cs", "Co", "Cn")
        flags = [
            c.isspace(),
            unicodedata.combining(c) != 0,
            drop,
            category == "Cf",
            cp in word,
            cp in mark,
            cp in unspaced,
            not drop and _fold(c) != c,
        ]
        props.append(sum(1 << i for i, flag in enumerate(flags) if flag))
    return props


def _rust_str(s: str) -> str:
    return '"' + "".join(c if c.isalnum() and c.isascii() else f"\\u{{{ord(c):x}}}" for c in s) + '"'


def _chunks(items: list[str], per_line: int) -> str:
    return "\n".join("    " + " ".join(items[i : i + per_line]) for i in range(0, len(items), per_line))


def generate() -> str:
    """The Rust source of the tables, from this interpreter's Unicode data."""
    starts: list[int] = []
    values: list[int] = []
    everything = "".join(map(chr, range(0x110000)))
    props = _all_props(everything)
    for cp, p in enumerate(props):
        if not values or values[-1] != p:
            starts.append(cp)
            values.append(p)
    folds, casefolds, ccc, decomp, compose = [], [], [], [], []
    for cp in range(0x110000):
        if cp in _SURROGATES:
            continue
        c = chr(cp)
        if props[cp] & (1 << BITS.index("FOLDS")):
            folds.append(f"({cp:#x}, {_rust_str(_fold(c))}),")
        if c.casefold() != c:
            casefolds.append(f"({cp:#x}, {_rust_str(c.casefold())}),")
        klass = unicodedata.combining(c)
        if klass:
            ccc.append(f"({cp:#x}, {klass}),")
        if cp in _HANGUL:
            continue
        nfkd = unicodedata.normalize("NFKD", c)
        if nfkd != c:
            decomp.append(f"({cp:#x}, {_rust_str(nfkd)}),")
        mapping = unicodedata.decomposition(c).split()
        # A primary composite: a canonical decomposition into two characters that NFC restores
        # (composition exclusions and singletons do not come back).
        if len(mapping) == 2 and not mapping[0].startswith("<") and unicodedata.normalize("NFC", c) == c:
            a, b = (int(x, 16) for x in mapping)
            compose.append((a, b, cp))
    compose.sort()
    # Unicode encodes every script's decimal digits as a run of ten, zero first.
    zeros = [cp for cp in range(0x80, 0x110000) if chr(cp).isdecimal() and unicodedata.decimal(chr(cp)) == 0]
    terminals = sorted(cp for cp in _matching(r"\p{Sentence_Terminal}", everything) if cp >= 0x80)
    # The words lineage checks shared text by are the stdlib's: ``re``'s ``\w`` of a str pattern.
    word_bounds = [bound for m in re.finditer(r"\w+", everything) for bound in m.span()]
    bits = "\n".join(f"pub const {name}: u8 = 1 << {i};" for i, name in enumerate(BITS))
    return f"""\
// @generated by scripts/unicode_tables.py from Python's Unicode {unicodedata.unidata_version} and the regex \
module's classes: do not edit.
//! The Unicode data of the Python engine, generated from the interpreter and the `regex` module
//! the engine uses, so that the native side agrees with it character for character.

{bits}

/// First code point of each run of code points with equal property bits, ascending.
pub static RANGE_STARTS: [u32; {len(starts)}] = [
{_chunks([f"{s:#x}," for s in starts], 10)}
];

/// The property bits of each run of [`RANGE_STARTS`].
pub static RANGE_PROPS: [u8; {len(values)}] = [
{_chunks([f"{v}," for v in values], 20)}
];

/// `normalize._fold(c)` for every character `c` it changes, by code point.
pub static FOLD_RESULTS: [(u32, &str); {len(folds)}] = [
{_chunks(folds, 4)}
];

/// `str.casefold` of every character it changes, by code point.
pub static CASEFOLDS: [(u32, &str); {len(casefolds)}] = [
{_chunks(casefolds, 4)}
];

/// Canonical combining class of every character whose class is not 0, by code point.
pub static CCC: [(u32, u8); {len(ccc)}] = [
{_chunks(ccc, 6)}
];

/// NFKD of every character it changes (Hangul syllables excepted), by code point.
pub static NFKD: [(u32, &str); {len(decomp)}] = [
{_chunks(decomp, 4)}
];

/// Primary composites `(first, second, composite)`, sorted (Hangul syllables excepted).
pub static COMPOSE: [(u32, u32, u32); {len(compose)}] = [
{_chunks([f"({a:#x}, {b:#x}, {c:#x})," for a, b, c in compose], 4)}
];

/// The zero of every run of ten decimal digits (`str.isdecimal`) outside ASCII, ascending.
pub static DECIMAL_ZEROS: [u32; {len(zeros)}] = [
{_chunks([f"{z:#x}," for z in zeros], 10)}
];

/// Every character outside ASCII that `regex` gives the Unicode property Sentence_Terminal, ascending.
pub static SENTENCE_TERMINALS: [u32; {len(terminals)}] = [
{_chunks([f"{t:#x}," for t in terminals], 10)}
];

/// The runs of the characters `re`'s `\\w` matches in a str pattern (`str.isalnum()` or `_`):
/// each run's first code point, then one past its last, ascending.
pub static RE_WORD_BOUNDS: [u32; {len(word_bounds)}] = [
{_chunks([f"{b:#x}," for b in word_bounds], 10)}
];
"""


def main() -> None:
    """Rewrite the checked-in table file."""
    OUT.write_text(generate(), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
