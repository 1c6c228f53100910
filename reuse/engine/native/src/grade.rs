//! Graded similarity of document pairs: the three parts of `reuse/engine/grade.py`'s `grade`
//! (aligned coverage weighted by similarity, word 5-gram containment, content-word pair
//! containment), computed for a whole batch of pairs on all cores.
//!
//! The values equal the Python reference's before rounding, operation for operation (the same
//! sums in the same order, the same divisions); the rounding to 4 places and the mean are left
//! to Python, whose `round` is the definition.

use rayon::prelude::*;

use crate::kernels::shingle_hashes;

/// Words in a row of the verbatim evidence (`grade.FIVE`).
const FIVE: usize = 5;

/// What grading needs of one document: its distinct word 5-gram hashes and distinct
/// content-word pair hashes, each sorted (`grade.Evidence`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    pub fivegrams: Vec<u32>,
    pub word_pairs: Vec<u32>,
}

/// One document as grading reads it: its token hashes and content-word flags.
#[derive(Clone, Copy)]
pub struct Doc<'a> {
    pub token_hashes: &'a [u64],
    pub content: &'a [bool],
}

/// A match's spans on both sides and its similarity: `(a_start, a_end, b_start, b_end, similarity)`.
pub type Span = (i64, i64, i64, i64, f64);

/// One pair to grade: the positions of its documents in the batch, their lengths in
/// characters, and its aligned matches.
pub struct Job {
    pub a: usize,
    pub b: usize,
    pub chars_a: i64,
    pub chars_b: i64,
    pub matches: Vec<Span>,
}

/// The unrounded parts of a grade: `None` where the smaller side holds no evidence of a kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parts {
    pub aligned: f64,
    pub fivegrams: Option<f64>,
    pub word_pairs: Option<f64>,
}

/// A document's grading evidence (`grade.evidence`).
///
/// # Panics
/// If the content flags are not one per token (the binding checks it first).
pub fn evidence(doc: Doc<'_>) -> Evidence {
    assert_eq!(doc.token_hashes.len(), doc.content.len());
    let words: Vec<u64> = doc
        .token_hashes
        .iter()
        .zip(doc.content)
        .filter(|(_, &c)| c)
        .map(|(&h, _)| h)
        .collect();
    Evidence {
        fivegrams: distinct(doc.token_hashes, FIVE),
        word_pairs: distinct(&words, 2),
    }
}

/// The distinct `n`-token shingle hashes, sorted (`grade._distinct`).
fn distinct(hashes: &[u64], n: usize) -> Vec<u32> {
    let mut out = shingle_hashes(hashes, n);
    out.sort_unstable();
    out.dedup();
    out
}

/// Share of the smaller of two sorted distinct arrays found in the other; `None` when it is
/// empty (`grade._containment`).
pub fn containment(x: &[u32], y: &[u32]) -> Option<f64> {
    let (small, large) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if small.is_empty() {
        return None;
    }
    let found = small
        .iter()
        .filter(|v| large.binary_search(v).is_ok())
        .count();
    Some(found as f64 / small.len() as f64)
}

/// Share of `chars` inside the spans `(start, end, weight)`, each character weighted by the
/// weight of the first span holding it in the order (start, descending weight), the input order
/// breaking ties (`grade._weighted_coverage`).
pub fn weighted_coverage(spans: &mut [(i64, i64, f64)], chars: i64) -> f64 {
    if chars == 0 {
        return 0.0;
    }
    // A stable sort, as Python's `sorted`.
    spans.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then(y.2.partial_cmp(&x.2).unwrap_or(std::cmp::Ordering::Equal))
    });
    let (mut total, mut reach) = (0.0_f64, 0_i64);
    for &(start, end, weight) in spans.iter() {
        let begin = start.max(reach);
        if end > begin {
            total += (end - begin) as f64 * weight;
            reach = end;
        }
    }
    (total / chars as f64).min(1.0)
}

/// The unrounded parts of the grade of one pair (`grade.grade` before rounding).
pub fn grade(matches: &[Span], a: &Evidence, b: &Evidence, chars_a: i64, chars_b: i64) -> Parts {
    let mut side_a: Vec<(i64, i64, f64)> = matches.iter().map(|m| (m.0, m.1, m.4)).collect();
    let mut side_b: Vec<(i64, i64, f64)> = matches.iter().map(|m| (m.2, m.3, m.4)).collect();
    let aligned_a = weighted_coverage(&mut side_a, chars_a);
    let aligned_b = weighted_coverage(&mut side_b, chars_b);
    Parts {
        // Python's `max` keeps the first of equals; equal floats are the same value here.
        aligned: if aligned_b > aligned_a {
            aligned_b
        } else {
            aligned_a
        },
        fivegrams: containment(&a.fivegrams, &b.fivegrams),
        word_pairs: containment(&a.word_pairs, &b.word_pairs),
    }
}

/// Grade every job: the evidence of each document some job names is made once, then the pairs
/// are graded, both spread over all cores; results in the order of `jobs`.
///
/// # Panics
/// If a job names a document outside `docs` (the binding checks it first).
pub fn grade_pairs(docs: &[Doc<'_>], jobs: &[Job]) -> Vec<Parts> {
    let mut needed = vec![false; docs.len()];
    for job in jobs {
        needed[job.a] = true;
        needed[job.b] = true;
    }
    let made: Vec<Evidence> = docs
        .par_iter()
        .zip(needed.par_iter())
        .map(|(&doc, &need)| {
            if need {
                evidence(doc)
            } else {
                Evidence::default()
            }
        })
        .collect();
    jobs.par_iter()
        .map(|j| grade(&j.matches, &made[j.a], &made[j.b], j.chars_a, j.chars_b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_is_of_the_smaller_side_and_none_when_it_is_empty() {
        assert_eq!(containment(&[1, 2, 3, 4], &[2, 4]), Some(1.0));
        assert_eq!(containment(&[1, 3], &[1, 2, 4]), Some(0.5));
        assert_eq!(containment(&[], &[1]), None);
    }

    #[test]
    fn coverage_counts_each_character_once_with_the_first_span_holding_it() {
        let mut spans = vec![(5, 10, 0.5), (0, 10, 1.0), (0, 4, 0.25)];
        // (0, 10, 1.0) first (higher weight at the same start), then nothing left of the others.
        assert_eq!(weighted_coverage(&mut spans, 20), 0.5);
        assert_eq!(weighted_coverage(&mut [(0, 30, 1.0)], 20), 1.0);
        assert_eq!(weighted_coverage(&mut [], 0), 0.0);
    }

    #[test]
    fn verbatim_copies_grade_whole_and_short_texts_have_no_fivegrams() {
        let tokens: Vec<u64> = (0..12).collect();
        let content = vec![true; 12];
        let doc = Doc {
            token_hashes: &tokens,
            content: &content,
        };
        let short = Doc {
            token_hashes: &tokens[..3],
            content: &content[..3],
        };
        let jobs = vec![
            Job {
                a: 0,
                b: 0,
                chars_a: 50,
                chars_b: 50,
                matches: vec![(0, 50, 0, 50, 1.0)],
            },
            Job {
                a: 1,
                b: 0,
                chars_a: 9,
                chars_b: 50,
                matches: vec![],
            },
        ];
        let got = grade_pairs(&[doc, short], &jobs);
        assert_eq!(
            got[0],
            Parts {
                aligned: 1.0,
                fivegrams: Some(1.0),
                word_pairs: Some(1.0)
            }
        );
        assert_eq!(got[1].fivegrams, None);
        assert_eq!(got[1].word_pairs, Some(1.0));
    }
}
