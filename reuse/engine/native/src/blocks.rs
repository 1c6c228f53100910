//! Block hashes: `reuse.engine.boilerplate.block_hash` of every block of a batch of documents.
//!
//! A block's hash is XXH64 (seed 0) of its normalised text, stripped of whitespace at both ends,
//! every run of decimal digits folded to one `0`, encoded as UTF-8 (a lone surrogate as Python's
//! `surrogatepass` writes it): "Sunday, 8 November 2020" and "Sunday, 15 November 2020" hash
//! alike. The site templates (`templates.rs`) count these hashes.

use rayon::prelude::*;
use xxhash_rust::xxh64::xxh64;

use crate::normalize::normalize_chars;
use crate::unicode::{self, SPACE};
use crate::SURROGATE_STAND_IN;

/// A block of a document: its half-open span of code points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Which document of the batch holds it.
    pub doc: usize,
    pub start: usize,
    pub end: usize,
}

/// A document's code points; `original` holds them as Python has them when the text has lone
/// surrogates, each of which stands in `chars` as [`SURROGATE_STAND_IN`] (see the bindings'
/// `CodePoints`).
pub struct Text<'a> {
    pub chars: &'a [char],
    pub original: Option<&'a [u32]>,
}

fn is_decimal(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && unicode::decimal_value(c).is_some())
}

/// Appends `cp` as UTF-8; a surrogate (which no `char` is) as the three bytes of its generalised
/// encoding, as Python's `encode("utf-8", "surrogatepass")` does.
fn push_code_point(cp: u32, out: &mut Vec<u8>) {
    match char::from_u32(cp) {
        Some(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        None => out.extend_from_slice(&[
            0xE0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ]),
    }
}

/// The hash of the block `start..end` of `text` (clamped to the text, as a Python slice is).
pub fn block_hash(text: &Text, start: usize, end: usize, bytes: &mut Vec<u8>) -> u64 {
    let n = text.chars.len();
    let start = start.min(n);
    let end = end.clamp(start, n);
    let normalized = normalize_chars(&text.chars[start..end]);
    let chars = &normalized.chars;
    // `str.strip()`: Python's whitespace is the SPACE property.
    let first = chars.iter().position(|&c| !unicode::has(c, SPACE));
    let kept = match first {
        None => 0..0,
        Some(first) => {
            let last = chars.iter().rposition(|&c| !unicode::has(c, SPACE));
            first..last.map_or(first, |l| l + 1)
        }
    };
    bytes.clear();
    let mut in_digits = false;
    for k in kept {
        let c = chars[k];
        if is_decimal(c) {
            if !in_digits {
                bytes.push(b'0');
            }
            in_digits = true;
            continue;
        }
        in_digits = false;
        let cp = match text.original {
            Some(original) if c == SURROGATE_STAND_IN => {
                original[start + normalized.starts[k] as usize]
            }
            _ => c as u32,
        };
        push_code_point(cp, bytes);
    }
    xxh64(bytes, 0)
}

/// The hash of each of `blocks`, in order, on all cores.
pub fn block_hashes(texts: &[Text], blocks: &[Block]) -> Vec<u64> {
    blocks
        .par_iter()
        .map_init(Vec::new, |bytes, b| {
            block_hash(&texts[b.doc], b.start, b.end, bytes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(s: &str) -> u64 {
        let chars: Vec<char> = s.chars().collect();
        let text = Text {
            chars: &chars,
            original: None,
        };
        block_hash(&text, 0, chars.len(), &mut Vec::new())
    }

    #[test]
    fn digit_runs_fold_to_one_zero() {
        assert_eq!(
            hash_of("Sunday, 8 November 2020"),
            hash_of("Sunday, 16 November 1999")
        );
        assert_eq!(
            hash_of("Sunday, 0 November 0"),
            hash_of("Sunday, 8 November 2020")
        );
        // Digits of other scripts fold too (Devanagari ४२).
        assert_eq!(hash_of("page \u{96a}\u{968}"), hash_of("page 7"));
        assert_ne!(hash_of("Sunday, 8 November"), hash_of("Sunday, November"));
    }

    #[test]
    fn the_hash_is_xxh64_of_the_folded_normalised_text() {
        assert_eq!(hash_of("  Read MORE 12  "), xxh64(b"read more 0", 0));
        assert_eq!(hash_of(""), xxh64(b"", 0));
        assert_eq!(hash_of(" \t\n "), xxh64(b"", 0));
    }

    #[test]
    fn spans_are_clamped_as_python_slices_are() {
        let chars: Vec<char> = "abc def".chars().collect();
        let text = Text {
            chars: &chars,
            original: None,
        };
        let mut bytes = Vec::new();
        assert_eq!(block_hash(&text, 4, 99, &mut bytes), xxh64(b"def", 0));
        assert_eq!(block_hash(&text, 5, 2, &mut bytes), xxh64(b"", 0));
    }

    #[test]
    fn a_lone_surrogate_is_encoded_as_surrogatepass_does() {
        // Kept with its combining mark (alone, it is dropped as unassigned characters are).
        let original = [0x61, 0xD800, 0x301, 0x62];
        let chars = ['a', '\u{ffff}', '\u{301}', 'b'];
        let text = Text {
            chars: &chars,
            original: Some(&original),
        };
        assert_eq!(
            block_hash(&text, 0, 4, &mut Vec::new()),
            xxh64(&[b'a', 0xED, 0xA0, 0x80, 0xCC, 0x81, b'b'], 0)
        );
    }

    #[test]
    fn hashes_follow_the_blocks() {
        let one: Vec<char> = "first block\n\nsecond 22".chars().collect();
        let two: Vec<char> = "x".chars().collect();
        let texts = [
            Text {
                chars: &one,
                original: None,
            },
            Text {
                chars: &two,
                original: None,
            },
        ];
        let blocks = [
            Block {
                doc: 1,
                start: 0,
                end: 1,
            },
            Block {
                doc: 0,
                start: 13,
                end: 22,
            },
        ];
        assert_eq!(
            block_hashes(&texts, &blocks),
            vec![xxh64(b"x", 0), xxh64(b"second 0", 0)]
        );
    }
}
