//! Key families beside the MinHash bands of a passage's word pairs: more ways for a copy to meet
//! its source (`reuse/engine/families.py`, the Python reference, says why each exists).
//!
//! * **anchors**: winnowed hashes of word `k`-grams, each attached to the shortest passage
//!   holding it; an exact copy of `anchor_tokens` words or more shares one with its source.
//! * **content bands**: MinHash band keys of each passage's content-word pairs (two consecutive
//!   words of `content_chars` characters or more once shorter words are dropped), banded with
//!   fewer rows than the main family.
//! * **word bands**: MinHash band keys of each passage's set of content words, whatever their
//!   order, banded with more rows.
//!
//! All are keys of the one `band_keys` table: an anchor key hashes its `k`-gram with a salt of
//! its own, and content and word bands are numbered from [`CONTENT_FIRST_BAND`] and
//! [`WORD_FIRST_BAND`], past any main band and each other's.

use rayon::prelude::*;

use crate::bands::band_keys_from;
use crate::kernels::{fmix64, shingle_hashes, signatures, P};

/// The first band number of the content family (the main family's bands are `0..num_perm`).
pub const CONTENT_FIRST_BAND: u64 = 1 << 16;
/// The first band number of the word family (past any content band).
pub const WORD_FIRST_BAND: u64 = 2 << 16;
/// A word signature needs at least this many distinct content words: fewer say too little.
pub const MIN_WORDS: usize = 8;
/// Mixed into a `k`-gram's hash to make its anchor key, so that no anchor equals a band key.
pub const ANCHOR_SALT: u64 = 0x5EED_A9C4_0F2B_7D13;
/// A content signature needs at least this many content-word pairs: fewer are a stock phrase.
pub const MIN_CONTENT_SHINGLES: usize = 4;

/// How the families are made (`reuse.config.Settings`; a size of 0 turns a family off).
#[derive(Debug, Clone)]
pub struct FamilyParams {
    /// Words per anchor `k`-gram (0: no anchors).
    pub anchor_words: usize,
    /// Every exact copy of this many words shares an anchor (winnowing window `t - k + 1`).
    pub anchor_tokens: usize,
    /// Longest passage an anchor is attached to, unless no shorter one holds it.
    pub window_tokens: usize,
    /// Shortest content word, in characters (0: no content or word bands).
    pub content_chars: usize,
    /// Content bands and rows per band.
    pub content_bands: usize,
    pub content_rows: usize,
    /// Word bands and rows per band (0 bands: none; no content words, none either).
    pub word_bands: usize,
    pub word_rows: usize,
    /// The first permutations of the main signature, as many as either family signs with: a
    /// family's signature is the first `bands * rows` of them.
    pub a: Vec<u32>,
    pub b: Vec<u32>,
}

/// One document's tokens and passages, as the families read them.
pub struct FamilyInput<'a> {
    pub hashes: &'a [u64],
    pub unspaced: &'a [bool],
    pub lengths: &'a [i64],
    /// Passages' `[token_start, token_end)`, in position order (start ascending, longer first).
    pub starts: &'a [i64],
    pub ends: &'a [i64],
}

/// The hashes of every `k`-gram of `hashes` (the shingle polynomial, mixed with the salt), or
/// `None` for one holding a character of a script without spaces.
fn kgram_hashes(input: &FamilyInput<'_>, k: usize) -> Vec<Option<u64>> {
    let n = input.hashes.len();
    if n < k {
        return Vec::new();
    }
    let mut unspaced_before = vec![0usize; n + 1];
    for (i, &u) in input.unspaced.iter().enumerate() {
        unspaced_before[i + 1] = unspaced_before[i] + usize::from(u);
    }
    input
        .hashes
        .windows(k)
        .enumerate()
        .map(|(i, w)| {
            if unspaced_before[i + k] > unspaced_before[i] {
                return None;
            }
            let h = w[1..]
                .iter()
                .fold(w[0], |h, &t| h.wrapping_mul(P).wrapping_add(t));
            Some(fmix64(h ^ ANCHOR_SALT))
        })
        .collect()
}

/// Winnowing (Schleimer, Wilkerson and Aiken 2003): in each run of `w` consecutive `k`-grams
/// the least hash (the rightmost of equals) is kept. Two texts sharing `w + k - 1` consecutive
/// tokens share a run of `w` equal `k`-grams, so they keep one equal hash. Returns `(position,
/// hash)` of each kept `k`-gram, once, in order; none when the text has fewer than `w`.
pub fn winnowed(hashes: &[Option<u64>], w: usize) -> Vec<(usize, u64)> {
    let mut out: Vec<(usize, u64)> = Vec::new();
    if w == 0 || hashes.len() < w {
        return out;
    }
    for start in 0..=hashes.len() - w {
        let mut best: Option<(usize, u64)> = None;
        for (i, h) in hashes[start..start + w].iter().enumerate() {
            if let Some(h) = *h {
                if best.is_none_or(|(_, b)| h <= b) {
                    best = Some((start + i, h));
                }
            }
        }
        if let Some(kept) = best {
            if out.last().is_none_or(|last| last.0 < kept.0) {
                out.push(kept);
            }
        }
    }
    out
}

/// The passage an anchor at tokens `[p, p + k)` is attached to: the shortest holding it (then
/// the one centred nearest it, then the first). Passages no longer than `window_tokens` are
/// looked at first, found by their starts; longer ones only when none of those holds it.
fn holder(
    input: &FamilyInput<'_>,
    short: &[usize],
    p: i64,
    k: i64,
    window_tokens: i64,
) -> Option<usize> {
    let better = |i: usize, best: Option<usize>| -> bool {
        let rank = |j: usize| {
            let (s, e) = (input.starts[j], input.ends[j]);
            (e - s, (s + e - 2 * p - k).abs(), j)
        };
        best.is_none_or(|b| rank(i) < rank(b))
    };
    let holds = |j: usize| input.starts[j] <= p && input.ends[j] >= p + k;
    let mut best = None;
    let lo = short.partition_point(|&j| input.starts[j] < p + k - window_tokens);
    let hi = short.partition_point(|&j| input.starts[j] <= p);
    // Empty when a window is shorter than the k-gram: no short passage can hold it then.
    for &j in short.get(lo..hi).unwrap_or(&[]) {
        if holds(j) && better(j, best) {
            best = Some(j);
        }
    }
    if best.is_none() {
        for j in 0..input.starts.len() {
            if holds(j) && better(j, best) {
                best = Some(j);
            }
        }
    }
    best
}

/// The anchor keys of one document and the passage (position) each belongs to.
pub fn anchor_keys(input: &FamilyInput<'_>, params: &FamilyParams) -> (Vec<u64>, Vec<i64>) {
    let k = params.anchor_words;
    if k == 0 || params.anchor_tokens < k || input.starts.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let kept = winnowed(&kgram_hashes(input, k), params.anchor_tokens - k + 1);
    let window = params.window_tokens as i64;
    let short: Vec<usize> = (0..input.starts.len())
        .filter(|&j| input.ends[j] - input.starts[j] <= window)
        .collect();
    let mut keys = Vec::with_capacity(kept.len());
    let mut owners = Vec::with_capacity(kept.len());
    for (p, h) in kept {
        if let Some(j) = holder(input, &short, p as i64, k as i64, window) {
            keys.push(h);
            owners.push(j as i64);
        }
    }
    (keys, owners)
}

/// A document's content words: each token's content-word count before it (`before[i]`: content
/// words among tokens `0..i`) and the content words' token hashes, in order.
type ContentWords = (Vec<i64>, Vec<u64>);

/// The [`ContentWords`] of a document: the words (not characters of a script without spaces)
/// of `content_chars` characters or more.
fn content_words(input: &FamilyInput<'_>, content_chars: usize) -> ContentWords {
    let min_len = content_chars as i64;
    let mut before = Vec::with_capacity(input.hashes.len() + 1);
    let mut content = Vec::new();
    before.push(0i64);
    for i in 0..input.hashes.len() {
        if !input.unspaced[i] && input.lengths[i] >= min_len {
            content.push(input.hashes[i]);
        }
        before.push(content.len() as i64);
    }
    (before, content)
}

/// The band keys of the signatures of `shingles[starts[i]..ends[i]]`, signed with the first
/// `bands * rows` permutations and numbered from `first_band`, and the passage `owners[i]` of
/// each key (`bands` a passage).
fn signed_bands(
    shingles: &[u32],
    spans: (&[i64], &[i64], &[i64]),
    shape: (usize, usize),
    first_band: u64,
    params: &FamilyParams,
) -> (Vec<u64>, Vec<i64>) {
    let (starts, ends, owners) = spans;
    let (bands, rows) = shape;
    if owners.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let used = bands * rows;
    let signed = signatures(shingles, starts, ends, &params.a[..used], &params.b[..used]);
    let keys = band_keys_from(&signed, used, bands, rows, first_band);
    let owners = owners
        .iter()
        .flat_map(|&j| std::iter::repeat_n(j, bands))
        .collect();
    (keys, owners)
}

/// Whether the passage's content words `[lo, hi)` are enough to sign: `shingles` distinct
/// values among them (words) or enough content-word pairs.
fn enough(shingles: &[u32], lo: i64, hi: i64, words: bool, distinct: &mut Vec<u32>) -> bool {
    if !words {
        return hi - 1 - lo >= MIN_CONTENT_SHINGLES as i64;
    }
    if ((hi - lo) as usize) < MIN_WORDS {
        return false;
    }
    distinct.clear();
    distinct.extend_from_slice(&shingles[lo as usize..hi as usize]);
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() >= MIN_WORDS
}

/// The content-band keys of one document (`content_bands` per passage with enough content-word
/// pairs) or, with `words`, its word-band keys (`word_bands` per passage with at least
/// [`MIN_WORDS`] distinct content words: a signature is of a set, so each passage's content
/// words are signed as they come, repeats and order aside), and the passage each belongs to;
/// `content` is [`content_words`] of `input`, made once for both families.
fn banded_keys(
    input: &FamilyInput<'_>,
    content: &ContentWords,
    params: &FamilyParams,
    words: bool,
) -> (Vec<u64>, Vec<i64>) {
    let (bands, rows, first) = if words {
        (params.word_bands, params.word_rows, WORD_FIRST_BAND)
    } else {
        (
            params.content_bands,
            params.content_rows,
            CONTENT_FIRST_BAND,
        )
    };
    if params.content_chars == 0 || bands == 0 || params.a.len() < bands * rows {
        return (Vec::new(), Vec::new());
    }
    let (before, content) = content;
    // Single words, or pairs of consecutive content words (one fewer than the words).
    let size = if words { 1 } else { 2 };
    let shingles = shingle_hashes(content, size);
    let (mut starts, mut ends, mut owners) = (Vec::new(), Vec::new(), Vec::new());
    let mut distinct = Vec::new();
    for j in 0..input.starts.len() {
        let lo = before[input.starts[j] as usize];
        let hi = before[input.ends[j] as usize];
        if enough(&shingles, lo, hi, words, &mut distinct) {
            starts.push(lo);
            ends.push(hi + 1 - size as i64);
            owners.push(j as i64);
        }
    }
    let spans = (&starts[..], &ends[..], &owners[..]);
    signed_bands(&shingles, spans, (bands, rows), first, params)
}

/// Every family key of one document, anchors, content bands then word bands, with the passage each belongs to.
pub fn family_keys(input: &FamilyInput<'_>, params: &FamilyParams) -> (Vec<u64>, Vec<i64>) {
    let (mut keys, mut owners) = anchor_keys(input, params);
    let content = content_words(input, params.content_chars);
    for words in [false, true] {
        let (more, of) = banded_keys(input, &content, params, words);
        keys.extend(more);
        owners.extend(of);
    }
    (keys, owners)
}

/// [`family_keys`] of many documents, in parallel.
pub fn family_keys_many(
    inputs: &[FamilyInput<'_>],
    params: &FamilyParams,
) -> Vec<(Vec<u64>, Vec<i64>)> {
    inputs.par_iter().map(|x| family_keys(x, params)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winnowing_keeps_a_hash_of_every_long_enough_run() {
        let hashes: Vec<Option<u64>> = [5u64, 3, 9, 1, 7, 8, 2, 6]
            .iter()
            .map(|&h| Some(h))
            .collect();
        let kept = winnowed(&hashes, 3);
        assert_eq!(kept, vec![(1, 3), (3, 1), (6, 2)]);
        for start in 0..=hashes.len() - 3 {
            assert!(kept.iter().any(|&(p, _)| p >= start && p < start + 3));
        }
        assert!(winnowed(&hashes[..2], 3).is_empty());
    }

    #[test]
    fn an_anchor_goes_to_the_shortest_passage_holding_it() {
        let hashes: Vec<u64> = (1..=12).collect();
        let unspaced = vec![false; 12];
        let lengths = vec![5i64; 12];
        // A long paragraph and two windows; the k-gram at 4..7 lies in both windows.
        let input = FamilyInput {
            hashes: &hashes,
            unspaced: &unspaced,
            lengths: &lengths,
            starts: &[0, 2, 4],
            ends: &[12, 8, 10],
        };
        let short = vec![1, 2];
        assert_eq!(holder(&input, &short, 4, 3, 6), Some(1));
        assert_eq!(holder(&input, &short, 6, 3, 6), Some(2));
        assert_eq!(holder(&input, &short, 1, 3, 6), Some(0));
    }

    #[test]
    fn word_keys_ignore_order_and_need_enough_distinct_words() {
        let params = FamilyParams {
            anchor_words: 0,
            anchor_tokens: 0,
            window_tokens: 40,
            content_chars: 4,
            content_bands: 0,
            content_rows: 2,
            word_bands: 3,
            word_rows: 2,
            a: (1..=6u32)
                .map(|x| x.wrapping_mul(2_654_435_761) | 1)
                .collect(),
            b: (1..=6u32).map(|x| x * 40_503).collect(),
        };
        let keys = |hashes: &[u64], lengths: &[i64]| {
            let unspaced = vec![false; hashes.len()];
            let input = FamilyInput {
                hashes,
                unspaced: &unspaced,
                lengths,
                starts: &[0],
                ends: &[hashes.len() as i64],
            };
            banded_keys(
                &input,
                &content_words(&input, params.content_chars),
                &params,
                true,
            )
        };
        // Ten content words, and a function word (too short) that the copy drops.
        let source: Vec<u64> = (1..=11).collect();
        let mut lengths = vec![6i64; 11];
        lengths[4] = 2;
        let (found, owners) = keys(&source, &lengths);
        assert_eq!((found.len(), owners), (3, vec![0, 0, 0]));
        let reordered: Vec<u64> = [10u64, 3, 1, 9, 2, 8, 6, 7, 11, 2].to_vec();
        assert_eq!(keys(&reordered, &[6; 10]).0, found);
        // Seven distinct content words, one of them repeated: too few.
        let few: Vec<u64> = [1u64, 2, 3, 4, 5, 6, 7, 7].to_vec();
        assert!(keys(&few, &[6; 8]).0.is_empty());
    }
}
