//! Which block of a copy is which block of its source: `reuse.lineage.edits`' pairing of two
//! versions' blocks (paragraphs) before their edits are read.
//!
//! Each source block is paired with at most one target block: equal texts first (in order),
//! then, among the blocks left, the pairs sharing the most pairs of consecutive words, greedily,
//! ties to the nearest position. A pair counts only when it shares at least `min_shared` word
//! pairs and at least `share` of the smaller block's. Words are runs of the characters Python's
//! `re` matches with `\w`, of the blocks' folded texts as given.

use crate::fasthash::FastMap;
use crate::verify::shared;
use crate::words::{words_in, Interner};

/// The word-pair code of a block of one word: that word and no second.
const NO_WORD: u32 = u32::MAX;

/// The distinct pairs of consecutive words of `text` (the one word and [`NO_WORD`] for a block
/// of one word), sorted, each coded from the words' ids in `words`.
fn word_pairs(text: &[char], words: &mut Interner) -> Vec<u64> {
    let ids: Vec<u32> = words_in(text, 0, text.len())
        .map(|(first, end)| words.id(&text[first..end]))
        .collect();
    let code = |a: u32, b: u32| (u64::from(a) << 32) | u64::from(b);
    let mut pairs: Vec<u64> = match ids.as_slice() {
        [only] => vec![code(*only, NO_WORD)],
        _ => ids.windows(2).map(|w| code(w[0], w[1])).collect(),
    };
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The `(source block, target block)` pairs of two versions' folded block texts, sorted.
pub fn pair_blocks(
    source: &[Vec<char>],
    target: &[Vec<char>],
    min_shared: usize,
    share: f64,
) -> Vec<(usize, usize)> {
    let mut pairs: Vec<Option<usize>> = vec![None; source.len()];
    let mut used = vec![false; target.len()];
    let mut by_text: FastMap<&[char], Vec<usize>> = FastMap::default();
    for (j, text) in target.iter().enumerate() {
        by_text.entry(text.as_slice()).or_default().push(j);
    }
    for (i, text) in source.iter().enumerate() {
        let equal = by_text.get(text.as_slice()).into_iter().flatten();
        if let Some(&j) = equal.into_iter().find(|&&j| !used[j]) {
            pairs[i] = Some(j);
            used[j] = true;
        }
    }
    let mut words = Interner::default();
    let left_s: Vec<(usize, Vec<u64>)> = (0..source.len())
        .filter(|&i| pairs[i].is_none())
        .map(|i| (i, word_pairs(&source[i], &mut words)))
        .collect();
    let left_t: Vec<(usize, Vec<u64>)> = (0..target.len())
        .filter(|&j| !used[j])
        .map(|j| (j, word_pairs(&target[j], &mut words)))
        .collect();
    let mut scored = Vec::new();
    for (i, grams_s) in &left_s {
        for (j, grams_t) in &left_t {
            let common = shared(grams_s, grams_t);
            let smaller = grams_s.len().min(grams_t.len());
            if common >= min_shared && common as f64 >= share * smaller as f64 {
                scored.push((std::cmp::Reverse(common), i.abs_diff(*j), *i, *j));
            }
        }
    }
    scored.sort_unstable();
    for (_, _, i, j) in scored {
        if pairs[i].is_none() && !used[j] {
            pairs[i] = Some(j);
            used[j] = true;
        }
    }
    pairs
        .into_iter()
        .enumerate()
        .filter_map(|(i, j)| j.map(|j| (i, j)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(texts: &[&str]) -> Vec<Vec<char>> {
        texts.iter().map(|t| t.chars().collect()).collect()
    }

    #[test]
    fn equal_blocks_pair_first_then_the_most_shared_words_nearest_first() {
        let source = blocks(&["a b c d e", "same text", "p q r s t u"]);
        let target = blocks(&["p q r s t x", "same text", "a b c d z", "a b c d e f"]);
        // "a b c d e" shares four word pairs with the last block, three with the third.
        assert_eq!(
            pair_blocks(&source, &target, 3, 0.4),
            vec![(0, 3), (1, 1), (2, 0)]
        );
    }

    #[test]
    fn a_pair_shares_a_share_of_the_smaller_blocks_word_pairs() {
        // Three shared word pairs: under 0.4 of the nine of two long blocks, over it of a short one.
        let source = blocks(&["a b c d e f g h i j"]);
        let long = blocks(&["a b c d t u v w x y"]);
        let short = blocks(&["a b c d t u"]);
        assert_eq!(pair_blocks(&source, &long, 3, 0.4), vec![]);
        assert_eq!(pair_blocks(&source, &short, 3, 0.4), vec![(0, 0)]);
    }

    #[test]
    fn too_few_shared_pairs_pair_nothing() {
        let source = blocks(&["a b c", "one"]);
        let target = blocks(&["a b x", "one two"]);
        assert_eq!(pair_blocks(&source, &target, 3, 0.4), vec![]);
        // A block of one word is that word and no second: it pairs with the same word alone.
        assert_eq!(
            pair_blocks(&blocks(&["one"]), &blocks(&["one."]), 1, 0.4),
            vec![(0, 0)]
        );
    }
}
