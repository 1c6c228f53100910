//! Python's `difflib.SequenceMatcher(None, a, b, autojunk=False)`, the part alignment uses: the
//! number of matched elements behind `ratio()`.
//!
//! The matched total depends on which of several equally long matches `find_longest_match`
//! picks (the choice splits the rest of the problem), so the search below keeps difflib's order
//! exactly: `i` ascending, then `j` ascending, a new best only when strictly longer.

use crate::fasthash::FastMap;

/// `SequenceMatcher(None, a, b, autojunk=False)` without junk: `b`'s positions per element.
pub struct SequenceMatcher<'a> {
    a: &'a [u64],
    b: &'a [u64],
    b2j: FastMap<u64, Vec<usize>>,
}

impl<'a> SequenceMatcher<'a> {
    /// A matcher of `a` against `b` (no junk, no popular elements: `autojunk=False`).
    pub fn new(a: &'a [u64], b: &'a [u64]) -> Self {
        let mut b2j: FastMap<u64, Vec<usize>> = FastMap::default();
        for (j, &x) in b.iter().enumerate() {
            b2j.entry(x).or_default().push(j);
        }
        SequenceMatcher { a, b, b2j }
    }

    /// `find_longest_match(alo, ahi, blo, bhi)`: `(i, j, k)`, the longest block
    /// `a[i..i+k] == b[j..j+k]` inside the ranges, the earliest one difflib would report.
    ///
    /// `len` and `next` are scratch arrays of `b.len() + 1` zeros, left zeroed on return.
    fn find_longest_match(
        &self,
        (alo, ahi, blo, bhi): (usize, usize, usize, usize),
        len: &mut Vec<usize>,
        next: &mut Vec<usize>,
    ) -> (usize, usize, usize) {
        let (a, b) = (self.a, self.b);
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
        // `len[j + 1]`: length of the match ending at a[i - 1], b[j] (difflib's `j2len`).
        let mut touched: Vec<usize> = Vec::new();
        let mut touched_next: Vec<usize> = Vec::new();
        for (i, x) in a.iter().enumerate().take(ahi).skip(alo) {
            if let Some(js) = self.b2j.get(x) {
                let from = js.partition_point(|&j| j < blo);
                for &j in &js[from..] {
                    if j >= bhi {
                        break;
                    }
                    let k = len[j] + 1;
                    next[j + 1] = k;
                    touched_next.push(j + 1);
                    if k > bestsize {
                        besti = i + 1 - k;
                        bestj = j + 1 - k;
                        bestsize = k;
                    }
                }
            }
            for &t in &touched {
                len[t] = 0;
            }
            std::mem::swap(len, next);
            std::mem::swap(&mut touched, &mut touched_next);
            touched_next.clear();
        }
        for &t in &touched {
            len[t] = 0;
        }
        // difflib then extends the block over equal neighbours (junk-free here); kept for
        // fidelity, though a longest block found above cannot grow.
        while besti > alo && bestj > blo && a[besti - 1] == b[bestj - 1] {
            besti -= 1;
            bestj -= 1;
            bestsize += 1;
        }
        while besti + bestsize < ahi
            && bestj + bestsize < bhi
            && a[besti + bestsize] == b[bestj + bestsize]
        {
            bestsize += 1;
        }
        (besti, bestj, bestsize)
    }

    /// The number of elements in `get_matching_blocks()`: what `ratio()` counts as matched.
    pub fn matched(&self) -> usize {
        let mut len = vec![0usize; self.b.len() + 1];
        let mut next = vec![0usize; self.b.len() + 1];
        let mut queue = vec![(0, self.a.len(), 0, self.b.len())];
        let mut total = 0;
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let (i, j, k) = self.find_longest_match((alo, ahi, blo, bhi), &mut len, &mut next);
            if k > 0 {
                total += k;
                if alo < i && blo < j {
                    queue.push((alo, i, blo, j));
                }
                if i + k < ahi && j + k < bhi {
                    queue.push((i + k, ahi, j + k, bhi));
                }
            }
        }
        total
    }

    /// `ratio()`: twice the matched elements over the two lengths, 1.0 for two empty sequences.
    pub fn ratio(&self) -> f64 {
        let length = self.a.len() + self.b.len();
        if length == 0 {
            return 1.0;
        }
        2.0 * self.matched() as f64 / length as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_pick_difflibs_block() {
        // difflib.SequenceMatcher(None, a, b, autojunk=False) gives these totals (checked in
        // Python): the first longest block decides how the rest splits.
        let cases: &[(&[u64], &[u64], usize)] = &[
            (&[1, 2, 3, 4], &[1, 2, 3, 4], 4),
            (&[1, 2, 1, 2], &[2, 1, 2, 1], 3),
            (&[1, 2, 3], &[3, 2, 1], 1),
            (&[], &[1], 0),
            (&[1, 1, 2, 2], &[2, 2, 1, 1], 2),
        ];
        for &(a, b, m) in cases {
            assert_eq!(SequenceMatcher::new(a, b).matched(), m, "{a:?} {b:?}");
        }
        assert_eq!(SequenceMatcher::new(&[], &[]).ratio(), 1.0);
    }
}
