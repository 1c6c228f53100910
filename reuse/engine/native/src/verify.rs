//! Verification of candidate passage pairs and alignment of the document pairs that hold one:
//! `reuse/engine/matching.py`'s `match_pair`, for one pair or a batch of them on all cores.

use crate::fasthash::FastMap;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::align::{align_keyed, AlignSettings, Doc, Keys, Match, ShapeError};
use crate::kernels::shingle_hashes;

/// One passage of a document: tokens `[token_start, token_end)`, shingled by characters when
/// `unspaced` (a script written without spaces), by words otherwise.
#[derive(Clone, Copy, Debug)]
pub struct Passage {
    pub token_start: i64,
    pub token_end: i64,
    pub unspaced: bool,
}

/// A document ready to match (`analysis.Comparable`): its alignment arrays, passages and
/// shingle sizes; its shingle hashes are made once, when a pair first needs them.
pub struct Document<'a> {
    pub doc: Doc<'a>,
    pub passages: Vec<Passage>,
    pub shingle_words: usize,
    pub shingle_chars: usize,
    words: OnceLock<Vec<u32>>,
    chars: OnceLock<Vec<u32>>,
    keys: OnceLock<Keys>,
}

impl<'a> Document<'a> {
    /// A document, checked: consistent arrays and shingle sizes of at least 1.
    pub fn new(
        doc: Doc<'a>,
        passages: Vec<Passage>,
        shingle_words: usize,
        shingle_chars: usize,
    ) -> Result<Self, ShapeError> {
        doc.check()?;
        if shingle_words == 0 || shingle_chars == 0 {
            return Err(ShapeError("shingle sizes must be at least 1".into()));
        }
        Ok(Document {
            doc,
            passages,
            shingle_words,
            shingle_chars,
            words: OnceLock::new(),
            chars: OnceLock::new(),
            keys: OnceLock::new(),
        })
    }

    /// The document and its anchor keys, made when first needed.
    fn keyed(&self) -> (&Doc<'a>, &Keys) {
        (&self.doc, self.keys.get_or_init(|| Keys::of(&self.doc)))
    }

    /// The sorted, distinct shingle hashes of passage `p` (`Comparable.shingles`, as a set).
    fn shingle_set(&self, p: &Passage) -> Vec<u32> {
        let (n, every) = if p.unspaced {
            (self.shingle_chars, &self.chars)
        } else {
            (self.shingle_words, &self.words)
        };
        let every = every.get_or_init(|| shingle_hashes(self.doc.token_hashes, n));
        let (lo, hi) = python_slice(p.token_start, p.token_end - n as i64 + 1, every.len());
        let mut set = every[lo..hi].to_vec();
        set.sort_unstable();
        set.dedup();
        set
    }

    /// The sorted, distinct content words of passage `p` (`matching._content_words`).
    fn content_set(&self, p: &Passage) -> Vec<u64> {
        let (lo, hi) = python_slice(p.token_start, p.token_end, self.doc.token_hashes.len());
        let mut set: Vec<u64> = (lo..hi)
            .filter(|&k| self.doc.content[k])
            .map(|k| self.doc.token_hashes[k])
            .collect();
        set.sort_unstable();
        set.dedup();
        set
    }
}

/// The bounds of Python's `x[start:stop]` on a sequence of `len` items (negative indices count
/// from the end), as the reference slices a passage's shingles.
fn python_slice(start: i64, stop: i64, len: usize) -> (usize, usize) {
    let len = len as i64;
    let at = |k: i64| if k < 0 { (k + len).max(0) } else { k.min(len) };
    let (lo, hi) = (at(start), at(stop));
    (lo as usize, hi.max(lo) as usize)
}

/// Values two sorted, distinct lists share.
pub(crate) fn shared<T: Ord>(x: &[T], y: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// The settings matching reads.
#[derive(Clone, Copy, Debug)]
pub struct MatchSettings {
    pub align: AlignSettings,
    pub verify_containment: f64,
}

/// The outcome of matching two documents (`matching.PairResult` without its summary).
#[derive(Debug, Default, PartialEq)]
pub struct PairOutcome {
    /// Passage pairs proposed.
    pub candidates: usize,
    /// Of those, confirmed by exact shingle overlap.
    pub verified: usize,
    pub matches: Vec<Match>,
}

/// Whether candidate `(pa, pb)` holds: the exact containment of either passage's shingle set
/// in the other reaches `verify_containment`, and they share at least half of
/// `min_match_tokens` shingles (see matching.py for why).
fn verified(sa: &[u32], sb: &[u32], settings: &MatchSettings) -> bool {
    // `align.verify`, then matching.py's arithmetic on its result, float for float.
    let (contained_a, contained_b) = if sa.is_empty() || sb.is_empty() {
        (0.0, 0.0)
    } else {
        let n = shared(sa, sb) as f64;
        (n / sa.len() as f64, n / sb.len() as f64)
    };
    let shared = (contained_a * sa.len() as f64).round_ties_even() as i64;
    contained_a.max(contained_b) >= settings.verify_containment
        && 2 * shared >= settings.align.min_match_tokens
}

/// A candidate whose word pairs fall short is verified all the same when this share of the
/// smaller passage's distinct content words is in the other (`align.WORD_CONTAINMENT`)...
pub const WORD_CONTAINMENT: f64 = 0.4;
/// ... with at least this many in common (`align.WORD_SHARED`).
pub const WORD_SHARED: usize = 8;

/// Whether two passages' sorted, distinct content words verify a candidate
/// (`align.words_verified`).
fn words_verified(wa: &[u64], wb: &[u64]) -> bool {
    let n = shared(wa, wb);
    n >= WORD_SHARED && n as f64 >= WORD_CONTAINMENT * wa.len().min(wb.len()) as f64
}

/// Why a pair cannot be matched: a candidate names a passage its document does not have.
#[derive(Debug, PartialEq, Eq)]
pub struct CandidateError {
    pub pa: i64,
    pub pb: i64,
}

impl std::fmt::Display for CandidateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "candidate passage pair ({}, {}) lies outside its documents' passages",
            self.pa, self.pb
        )
    }
}

/// Check that every candidate names passages of `a` and `b`.
pub fn check_candidates(
    a: &Document,
    b: &Document,
    candidates: &[(i64, i64)],
) -> Result<(), CandidateError> {
    let inside = |p: i64, d: &Document| 0 <= p && (p as usize) < d.passages.len();
    match candidates
        .iter()
        .find(|&&(pa, pb)| !inside(pa, a) || !inside(pb, b))
    {
        Some(&(pa, pb)) => Err(CandidateError { pa, pb }),
        None => Ok(()),
    }
}

/// Verify the candidate passage pairs `(position in a, position in b)` exactly, and if any
/// holds, align the two documents (`matching.match_pair`). Candidates must pass
/// [`check_candidates`].
pub fn match_pair(
    a: &Document,
    b: &Document,
    candidates: &[(i64, i64)],
    settings: &MatchSettings,
) -> PairOutcome {
    // One passage is proposed with many others: make each one's shingle set once.
    let mut sets_a: FastMap<i64, Vec<u32>> = FastMap::default();
    let mut sets_b: FastMap<i64, Vec<u32>> = FastMap::default();
    let mut words_a: FastMap<i64, Vec<u64>> = FastMap::default();
    let mut words_b: FastMap<i64, Vec<u64>> = FastMap::default();
    let mut count = 0;
    for &(pa, pb) in candidates {
        let (passage_a, passage_b) = (&a.passages[pa as usize], &b.passages[pb as usize]);
        if passage_a.unspaced != passage_b.unspaced {
            continue;
        }
        let sa = sets_a.entry(pa).or_insert_with(|| a.shingle_set(passage_a));
        let sb = sets_b.entry(pb).or_insert_with(|| b.shingle_set(passage_b));
        if verified(sa, sb, settings) {
            count += 1;
            continue;
        }
        let wa = words_a
            .entry(pa)
            .or_insert_with(|| a.content_set(passage_a));
        let wb = words_b
            .entry(pb)
            .or_insert_with(|| b.content_set(passage_b));
        if words_verified(wa, wb) {
            count += 1;
        }
    }
    let matches = if count > 0 {
        align_keyed(a.keyed(), b.keyed(), &settings.align)
    } else {
        Vec::new()
    };
    PairOutcome {
        candidates: candidates.len(),
        verified: count,
        matches,
    }
}

/// One document pair of a batch: indices into the batch's documents and the candidates.
pub struct PairJob<'a> {
    pub a: usize,
    pub b: usize,
    pub candidates: &'a [(i64, i64)],
}

/// [`match_pair`] on every job, in parallel on all cores; outcomes in the jobs' order. Jobs must
/// name documents of `documents` and pass [`check_candidates`].
pub fn match_pairs(
    documents: &[Document],
    jobs: &[PairJob<'_>],
    settings: &MatchSettings,
) -> Vec<PairOutcome> {
    jobs.par_iter()
        .map(|job| {
            match_pair(
                &documents[job.a],
                &documents[job.b],
                job.candidates,
                settings,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_as_python_does() {
        assert_eq!(python_slice(0, 5, 10), (0, 5));
        assert_eq!(python_slice(2, -1, 10), (2, 9)); // a passage shorter than a shingle
        assert_eq!(python_slice(5, 2, 10), (5, 5));
        assert_eq!(python_slice(3, 20, 4), (3, 4));
        assert_eq!(python_slice(0, -20, 4), (0, 0));
    }

    #[test]
    fn shares_of_sorted_sets() {
        assert_eq!(shared(&[1, 3, 5, 7], &[2, 3, 7, 9]), 2);
        assert_eq!(shared(&[], &[1]), 0);
    }
}
