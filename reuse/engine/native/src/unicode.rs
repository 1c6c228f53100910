//! Per-character Unicode data of the Python engine (from [`crate::unicode_tables`]) and the NFKC
//! of a character with its combining marks, computed from that data.
//!
//! The tables are generated from the interpreter's `unicodedata` and the `regex` module by
//! scripts/unicode_tables.py, so that these functions agree with the Python engine on every code
//! point whatever Unicode version Rust crates ship.

use std::sync::OnceLock;

use crate::unicode_tables::{
    CASEFOLDS, CCC, COMPOSE, DECIMAL_ZEROS, FOLD_RESULTS, NFKD, RANGE_PROPS, RANGE_STARTS,
    SENTENCE_TERMINALS,
};
pub use crate::unicode_tables::{
    COMBINING, DROP_ALONE, FOLDS, FORMAT, MARK, SPACE, UNSPACED, WORD,
};

const CODE_POINTS: usize = 0x110000;

/// The property bits of every code point, expanded once from the range table: one byte a code
/// point (1.1 MB) makes a lookup one load, which the tokeniser does for every character.
fn table() -> &'static [u8] {
    static TABLE: OnceLock<Box<[u8]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut bits = vec![0u8; CODE_POINTS];
        for (i, &start) in RANGE_STARTS.iter().enumerate() {
            let end = RANGE_STARTS
                .get(i + 1)
                .map_or(CODE_POINTS, |&next| next as usize);
            bits[start as usize..end].fill(RANGE_PROPS[i]);
        }
        bits.into_boxed_slice()
    })
}

/// The property bits of `c` (see the constants of [`crate::unicode_tables`]).
#[inline]
pub fn props(c: char) -> u8 {
    table()[c as usize]
}

/// True when `c` has all the property bits of `bits`.
#[inline]
pub fn has(c: char, bits: u8) -> bool {
    props(c) & bits == bits
}

/// The value of `code point -> value` table for `c`, if it has one.
fn lookup<T: Copy>(entries: &[(u32, T)], c: char) -> Option<T> {
    entries
        .binary_search_by_key(&(c as u32), |&(cp, _)| cp)
        .ok()
        .map(|i| entries[i].1)
}

/// `normalize._fold(c)` of one character `c` that has the [`FOLDS`] bit.
pub fn fold_single(c: char) -> &'static str {
    lookup(&FOLD_RESULTS, c).unwrap_or("")
}

/// The value of `c` when it is a decimal digit of a script other than ASCII (`str.isdecimal`).
pub fn decimal_value(c: char) -> Option<usize> {
    let cp = c as u32;
    let run = DECIMAL_ZEROS.partition_point(|&zero| zero <= cp);
    let value = cp - DECIMAL_ZEROS[run.checked_sub(1)?];
    (value < 10).then_some(value as usize)
}

/// True when `c`, outside ASCII, has the Unicode property Sentence_Terminal (as `regex` has it).
/// ASCII, most of the text cut into sentences, is answered without a search.
pub fn sentence_terminal(c: char) -> bool {
    !c.is_ascii() && SENTENCE_TERMINALS.binary_search(&(c as u32)).is_ok()
}

/// Canonical combining class of `c`.
#[inline]
pub fn ccc(c: char) -> u8 {
    if has(c, COMBINING) {
        lookup(&CCC, c).unwrap_or(0)
    } else {
        0
    }
}

/// Push `str.casefold` of `c` to `out`.
pub fn push_casefold(c: char, out: &mut Vec<char>) {
    match lookup(&CASEFOLDS, c) {
        Some(folded) => out.extend(folded.chars()),
        None => out.push(c),
    }
}

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const N_COUNT: u32 = V_COUNT * T_COUNT;
const S_COUNT: u32 = L_COUNT * N_COUNT;

fn from_u32(cp: u32) -> char {
    // The Hangul arithmetic and the generated tables only ever give scalar values.
    char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Push the full compatibility decomposition of `c` (NFKD of one character) to `out`.
fn push_nfkd(c: char, out: &mut Vec<char>) {
    let cp = c as u32;
    if (S_BASE..S_BASE + S_COUNT).contains(&cp) {
        let s = cp - S_BASE;
        out.push(from_u32(L_BASE + s / N_COUNT));
        out.push(from_u32(V_BASE + (s % N_COUNT) / T_COUNT));
        if !s.is_multiple_of(T_COUNT) {
            out.push(from_u32(T_BASE + s % T_COUNT));
        }
    } else if let Some(decomposed) = lookup(&NFKD, c) {
        out.extend(decomposed.chars());
    } else {
        out.push(c);
    }
}

/// The primary composite of `a` followed by `b`, if there is one.
fn compose(a: char, b: char) -> Option<char> {
    let (a, b) = (a as u32, b as u32);
    if (L_BASE..L_BASE + L_COUNT).contains(&a) && (V_BASE..V_BASE + V_COUNT).contains(&b) {
        return Some(from_u32(
            S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT,
        ));
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&a)
        && (a - S_BASE).is_multiple_of(T_COUNT)
        && (T_BASE + 1..T_BASE + T_COUNT).contains(&b)
    {
        return Some(from_u32(a + (b - T_BASE)));
    }
    COMPOSE
        .binary_search_by_key(&(a, b), |&(x, y, _)| (x, y))
        .ok()
        .map(|i| from_u32(COMPOSE[i].2))
}

/// NFKC of `chars` (Unicode's algorithm: full compatibility decomposition, canonical ordering,
/// canonical composition), written to `out`, with the Python engine's Unicode data.
pub fn nfkc(chars: &[char], out: &mut Vec<char>) {
    let mut decomposed = Vec::with_capacity(chars.len() + 4);
    for &c in chars {
        push_nfkd(c, &mut decomposed);
    }
    // Canonical ordering: each run of non-starters sorted by class, stably.
    let mut i = 0;
    while i < decomposed.len() {
        if ccc(decomposed[i]) == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < decomposed.len() && ccc(decomposed[i]) != 0 {
            i += 1;
        }
        decomposed[start..i].sort_by_key(|&c| ccc(c));
    }
    // Canonical composition: a character joins the last starter unless a character between them
    // blocks it (a starter, or a mark of the same or a higher class).
    let base = out.len();
    let mut starter: Option<usize> = None;
    for c in decomposed {
        let class = ccc(c);
        if let Some(s) = starter {
            let unblocked = match out.len() - 1 == s {
                true => true,
                false => {
                    let last = ccc(out[out.len() - 1]);
                    last != 0 && last < class
                }
            };
            if unblocked {
                if let Some(composite) = compose(out[s], c) {
                    out[s] = composite;
                    continue;
                }
            }
        }
        if class == 0 {
            starter = Some(out.len());
        }
        out.push(c);
    }
    debug_assert!(out.len() >= base);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nfkc_str(s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut out = Vec::new();
        nfkc(&chars, &mut out);
        out.into_iter().collect()
    }

    #[test]
    fn digits_of_other_scripts_and_sentence_terminals() {
        let digits: String = "\u{6f2}\u{660}\u{96f}\u{e55}\u{1d7ce}x\u{b2}"
            .chars()
            .map(|c| decimal_value(c).map_or('-', |value| (b'0' + value as u8) as char))
            .collect();
        // Persian, Arabic-Indic, Devanagari, Thai and mathematical digits; not a letter or a
        // superscript (a numeral, not a decimal digit).
        assert_eq!(digits, "20950--");
        assert!(['\u{6d4}', '\u{964}', '\u{589}', '\u{3002}', '\u{ff01}']
            .iter()
            .all(|&c| sentence_terminal(c)));
        assert!(
            !sentence_terminal('.') && !sentence_terminal(',') && !sentence_terminal('\u{2026}')
        );
    }

    #[test]
    fn properties_of_known_characters() {
        assert!(has(' ', SPACE) && has('\u{3000}', SPACE) && !has('a', SPACE));
        assert!(has('a', WORD) && has('\u{0301}', WORD | MARK | COMBINING));
        assert!(has('\u{200d}', FORMAT | DROP_ALONE) && has('\u{10ffff}', DROP_ALONE));
        assert!(has('\u{0e01}', UNSPACED) && has('\u{4e00}', UNSPACED) && !has('a', UNSPACED));
        assert_eq!(fold_single('\u{2019}'), "'");
        assert_eq!(fold_single('\u{fb01}'), "fi");
        assert_eq!(ccc('\u{0301}'), 230);
        assert_eq!(ccc('a'), 0);
    }

    #[test]
    fn nfkc_composes_reorders_and_decomposes() {
        assert_eq!(nfkc_str("e\u{0301}"), "\u{e9}");
        // Below (220) sorts before above (230), and both compose in turn.
        assert_eq!(nfkc_str("a\u{0301}\u{0323}"), "\u{1ea1}\u{0301}");
        assert_eq!(nfkc_str("\u{1100}\u{1161}\u{11a8}"), "\u{ac01}");
        assert_eq!(nfkc_str("\u{fb01}\u{0301}"), "f\u{00ed}");
        assert_eq!(nfkc_str("\u{00a8}"), " \u{0308}");
        assert_eq!(nfkc_str("\u{30ab}\u{3099}"), "\u{30ac}");
    }

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(COMPOSE
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        assert!(FOLD_RESULTS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(CASEFOLDS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(CCC.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(NFKD.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(RANGE_STARTS.windows(2).all(|w| w[0] < w[1]));
    }
}
