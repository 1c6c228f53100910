//! Shared text checked word for word: what lineage counts as evidence of two documents sharing
//! text (`reuse.lineage.evidence.relation`).
//!
//! Alignment merges hits across small gaps, so a match may bridge text that is not shared; once
//! boilerplate is cut out of the matches, what is left of each side counts only where its words
//! are shared, three in a row, with the other side's. Words are runs of the characters Python's
//! `re` matches with `\w` in a str pattern (`str.isalnum()` or `_`) inside each span (a word the
//! span cuts is cut with it), compared by their `str.casefold`.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;

use crate::fasthash::{FastMap, MixHasher};
use crate::unicode;
use crate::unicode_tables::RE_WORD_BOUNDS;

/// Three words in a row, by their ids.
type Trigram = (u32, u32, u32);

/// Half-open spans of a text's code points, `(start, end)` each.
pub type Spans = Vec<(usize, usize)>;

/// A stretch of stretches joined across gaps of up to this many characters is one stretch.
const JOIN_GAP: usize = 3;

/// True when Python's `re` matches `c` with `\w` (in a str pattern).
fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        // Inside a run when an odd number of the runs' bounds are at or below it.
        RE_WORD_BOUNDS.partition_point(|&bound| bound <= c as u32) % 2 == 1
    }
}

/// The words of one span in a row: their offsets (code points) and their folded forms' ids.
#[derive(Debug, Default)]
struct Run {
    starts: Vec<usize>,
    ends: Vec<usize>,
    ids: Vec<u32>,
}

impl Run {
    fn trigrams(&self) -> impl Iterator<Item = (usize, Trigram)> + '_ {
        self.ids
            .windows(3)
            .enumerate()
            .map(|(k, w)| (k, (w[0], w[1], w[2])))
    }
}

/// Words, each given an id when first seen: equal ids are equal words.
#[derive(Default)]
pub(crate) struct Interner {
    ids: FastMap<Vec<char>, u32>,
}

impl Interner {
    /// The id of `word`.
    pub(crate) fn id(&mut self, word: &[char]) -> u32 {
        if let Some(&id) = self.ids.get(word) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(word.to_vec(), id);
        id
    }
}

/// The words of `chars[start..end]` (runs of [`is_word`] characters; a word the range cuts is
/// cut with it), as half-open ranges of code points.
pub(crate) fn words_in(
    chars: &[char],
    start: usize,
    end: usize,
) -> impl Iterator<Item = (usize, usize)> + '_ {
    let end = end.min(chars.len());
    let mut k = start.min(end);
    std::iter::from_fn(move || {
        while k < end && !is_word(chars[k]) {
            k += 1;
        }
        let first = k;
        while k < end && is_word(chars[k]) {
            k += 1;
        }
        (k > first).then_some((first, k))
    })
}

/// Words case-folded (`str.casefold`), then given ids: equal ids are equal folded words.
#[derive(Default)]
struct Vocabulary {
    words: Interner,
    folded: Vec<char>,
}

impl Vocabulary {
    /// The id of the `str.casefold` of `word`.
    fn id(&mut self, word: &[char]) -> u32 {
        self.folded.clear();
        for &c in word {
            unicode::push_casefold(c, &mut self.folded);
        }
        self.words.id(&self.folded)
    }

    /// How many different folded words it has seen.
    #[cfg(test)]
    fn count(&self) -> usize {
        self.words.ids.len()
    }
}

/// The words of `chars` inside each of `spans` (half-open, in code points; clipped to the text).
fn runs(chars: &[char], spans: &[(usize, usize)], vocabulary: &mut Vocabulary) -> Vec<Run> {
    spans
        .iter()
        .map(|&(start, end)| {
            let mut run = Run::default();
            for (first, last) in words_in(chars, start, end) {
                run.starts.push(first);
                run.ends.push(last);
                run.ids.push(vocabulary.id(&chars[first..last]));
            }
            run
        })
        .collect()
}

/// The stretches of `runs` covered by their runs of three words found in `theirs`, joined
/// across gaps of up to [`JOIN_GAP`] characters, in order.
fn kept(runs: &[Run], theirs: &HashSet<Trigram, BuildHasherDefault<MixHasher>>) -> Spans {
    let mut bounds: Spans = Vec::new();
    for run in runs {
        for (k, gram) in run.trigrams() {
            if !theirs.contains(&gram) {
                continue;
            }
            let (start, end) = (run.starts[k], run.ends[k + 2]);
            match bounds.last_mut() {
                Some(last) if start <= last.1 + JOIN_GAP => last.1 = last.1.max(end),
                _ => bounds.push((start, end)),
            }
        }
    }
    bounds
}

/// The parts of each side's `spans` (of its text's code points `chars_a`, `chars_b`) whose words
/// are shared, three in a row, with the other side's spans (the rule `tests/test_evidence.py`
/// reads out in Python).
pub fn shared_words(
    chars_a: &[char],
    spans_a: &[(usize, usize)],
    chars_b: &[char],
    spans_b: &[(usize, usize)],
) -> (Spans, Spans) {
    let mut vocabulary = Vocabulary::default();
    let runs_a = runs(chars_a, spans_a, &mut vocabulary);
    let runs_b = runs(chars_b, spans_b, &mut vocabulary);
    let grams = |runs: &[Run]| -> HashSet<Trigram, BuildHasherDefault<MixHasher>> {
        runs.iter()
            .flat_map(|run| run.trigrams().map(|(_, gram)| gram))
            .collect()
    };
    let (in_a, in_b) = (grams(&runs_a), grams(&runs_b));
    (kept(&runs_a, &in_b), kept(&runs_b, &in_a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    #[test]
    fn words_are_re_word_runs_cut_by_their_span() {
        let text = chars("Ünïted_States of America, 2020");
        let mut vocabulary = Vocabulary::default();
        let found = runs(&text, &[(2, 30)], &mut vocabulary);
        assert_eq!(found[0].starts, vec![2, 14, 17, 26]);
        assert_eq!(found[0].ends, vec![13, 16, 24, 30]);
        // The cut word is a word of its own: "ïted_states" is not "ünïted_states".
        assert_eq!(vocabulary.count(), 4);
    }

    #[test]
    fn casefolded_words_are_equal() {
        let mut vocabulary = Vocabulary::default();
        assert_eq!(
            vocabulary.id(&chars("STRASSE")),
            vocabulary.id(&chars("straße"))
        );
        assert_ne!(
            vocabulary.id(&chars("strasse")),
            vocabulary.id(&chars("strase"))
        );
    }

    #[test]
    fn three_shared_words_in_a_row_are_kept_and_joined_across_small_gaps() {
        let a = chars("one two three four. Then five six seven");
        let b = chars("xx one two three four yy five six seven zz");
        let (kept_a, kept_b) = shared_words(&a, &[(0, a.len())], &b, &[(0, b.len())]);
        assert_eq!(kept_a, vec![(0, 18), (25, 39)]);
        assert_eq!(kept_b, vec![(3, 21), (25, 39)]);
        // Stretches of two spans a character apart are one stretch.
        let c = chars("aa bb cc dd ee ff");
        let (joined, _) = shared_words(&c, &[(0, 8), (9, 17)], &c, &[(0, 17)]);
        assert_eq!(joined, vec![(0, 17)]);
    }
}
