//! Word tokens with their original offsets and XXH3-64 hashes: exactly `reuse.engine.tokens`
//! and `reuse.engine.shingles.token_hashes`.
//!
//! A token is a run of letters, digits and marks (`regex`'s `[\p{L}\p{N}\p{M}]+`) of the
//! normalised text, except in scripts written without spaces (`tokens._UNSPACED_CLASS`), where
//! each character with the marks that follow it is a token of its own; inside a word that mixes
//! scripts, the runs of other characters between them are tokens too.

use xxhash_rust::xxh3::xxh3_64;

use crate::normalize::{normalize, Normalized};
use crate::unicode::{self, MARK, UNSPACED, WORD};

/// A token's stem is its first this many characters (`shingles.STEM_CHARS`).
pub const STEM_CHARS: usize = 5;

/// The tokens of one text, in order, as parallel columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    /// XXH3-64 of each token's UTF-8 bytes (`shingles.token_hashes`).
    pub hashes: Vec<u64>,
    /// First original code point of each token.
    pub starts: Vec<i64>,
    /// One past the last original code point of each token.
    pub ends: Vec<i64>,
    /// True for a single character (with its marks) of a script without spaces.
    pub unspaced: Vec<bool>,
    /// Length of each normalised token in characters (`len(word)` in Python).
    pub lengths: Vec<u32>,
    /// XXH3-64 of each token's first `STEM_CHARS` characters (`shingles.stem_hashes`): the hash
    /// itself for a shorter token.
    pub stems: Vec<u64>,
}

impl Tokens {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// True when there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    fn push(
        &mut self,
        norm: &Normalized,
        start: usize,
        end: usize,
        unspaced: bool,
        buf: &mut String,
    ) {
        buf.clear();
        buf.extend(&norm.chars[start..end]);
        let hash = xxh3_64(buf.as_bytes());
        self.hashes.push(hash);
        self.stems.push(match buf.char_indices().nth(STEM_CHARS) {
            Some((cut, _)) => xxh3_64(&buf.as_bytes()[..cut]),
            None => hash,
        });
        self.starts.push(norm.starts[start]);
        self.ends.push(norm.ends[end - 1]);
        self.unspaced.push(unspaced);
        // A token is at most the whole text, and texts are far below 4G characters.
        self.lengths
            .push(u32::try_from(end - start).unwrap_or(u32::MAX));
    }
}

/// Cut normalised text into tokens.
pub fn tokenize_normalized(norm: &Normalized) -> Tokens {
    let chars = &norm.chars;
    let n = chars.len();
    let mut tokens = Tokens::default();
    let mut buf = String::new();
    let mut i = 0;
    while i < n {
        if !unicode::has(chars[i], WORD) {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut mixed = false;
        while j < n && unicode::props(chars[j]) & WORD != 0 {
            mixed |= unicode::has(chars[j], UNSPACED);
            j += 1;
        }
        if !mixed {
            tokens.push(norm, i, j, false, &mut buf);
        } else {
            // `tokens._SPLIT`: an unspaced character with the marks after it, or a run of others.
            let mut k = i;
            while k < j {
                let unspaced = unicode::has(chars[k], UNSPACED);
                let mut m = k + 1;
                if unspaced {
                    while m < j && unicode::has(chars[m], MARK) {
                        m += 1;
                    }
                } else {
                    while m < j && !unicode::has(chars[m], UNSPACED) {
                        m += 1;
                    }
                }
                tokens.push(norm, k, m, unspaced, &mut buf);
                k = m;
            }
        }
        i = j;
    }
    tokens
}

/// Normalise `text` and cut it into tokens that keep their original offsets.
pub fn tokenize(text: &str) -> Tokens {
    tokenize_normalized(&normalize(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_offsets() {
        let t = tokenize("Hello, Wörld! x");
        assert_eq!(t.starts, [0, 7, 14]);
        assert_eq!(t.ends, [5, 12, 15]);
        assert_eq!(t.lengths, [5, 5, 1]);
        assert_eq!(t.hashes[0], xxh3_64(b"hello"));
        assert_eq!(t.stems[0], t.hashes[0]);
        assert_eq!(tokenize("Convincingly").stems, [xxh3_64(b"convi")]);
        assert_eq!(t.unspaced, [false, false, false]);
    }

    #[test]
    fn unspaced_scripts_split_by_character_with_marks() {
        // Thai ko kai + mai ek, then Latin inside the same word, then a kanji.
        let t = tokenize("\u{0e01}\u{0e48}abc\u{4e00}");
        assert_eq!(t.starts, [0, 2, 5]);
        assert_eq!(t.ends, [2, 5, 6]);
        assert_eq!(t.unspaced, [true, false, true]);
        assert_eq!(t.lengths, [2, 3, 1]);
    }

    #[test]
    fn no_tokens_in_empty_or_punctuation() {
        assert!(tokenize("").is_empty());
        assert!(tokenize(" ,.; ").is_empty());
    }
}
