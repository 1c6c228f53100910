//! Sorting rows led by a hash: a batch's band-key rows, which come in passage order.
//!
//! A hash's top bits spread rows evenly, so one pass counts the rows by their top bits and one
//! places them in those buckets (a couple of thousand rows each), which are then sorted on all
//! cores, each inside the cache: about three passes over the rows where a comparison sort takes
//! one per doubling and a radix sort on all eight bytes of the hash eight.

use rayon::prelude::*;

/// A band-key row: its key (a hash), then what orders the rows of one key.
pub type Row = (u64, i64, i64);

/// Rows `row(0) .. row(n - 1)`, sorted: as they are when they come in order, else bucketed by
/// their keys' top bits and each bucket sorted.
pub fn sorted_rows(n: usize, row: impl Fn(usize) -> Row) -> Vec<Row> {
    if (1..n).all(|i| row(i - 1) <= row(i)) {
        return (0..n).map(row).collect();
    }
    let bits = bucket_bits(n);
    let bucket = |hash: u64| {
        if bits == 0 {
            0
        } else {
            (hash >> (64 - bits)) as usize
        }
    };
    let mut starts = vec![0usize; (1 << bits) + 1];
    for i in 0..n {
        starts[bucket(row(i).0) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![(0, 0, 0); n];
    for i in 0..n {
        let r = row(i);
        let at = &mut next[bucket(r.0)];
        out[*at] = r;
        *at += 1;
    }
    let mut buckets: Vec<&mut [Row]> = Vec::with_capacity(starts.len() - 1);
    let mut rest = out.as_mut_slice();
    for b in 1..starts.len() {
        let (part, tail) = rest.split_at_mut(starts[b] - starts[b - 1]);
        buckets.push(part);
        rest = tail;
    }
    buckets.par_iter_mut().for_each(|part| part.sort_unstable());
    out
}

/// Bits of a hash's top that bucket `n` rows about 2,048 to a bucket (at most 2^16 buckets).
fn bucket_bits(n: usize) -> u32 {
    (usize::BITS - (n / 2048).leading_zeros()).min(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_a_comparison_sort_does_at_every_size() {
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        for n in [0, 1, 2, 2047, 2048, 5000, 300_000] {
            // Hashes repeated (a few hundred distinct at small sizes), so that rows of one hash
            // are ordered by the rest of the row.
            let rows: Vec<(u64, i64, i64)> = (0..n)
                .map(|i| {
                    (
                        next() % (n as u64 / 3 + 1) * 0x0123_4567_89AB,
                        (next() % 7) as i64,
                        i as i64,
                    )
                })
                .collect();
            let mut expected = rows.clone();
            expected.sort_unstable();
            assert_eq!(sorted_rows(n, |i| rows[i]), expected, "{n} rows");
            // Rows coming sorted are taken as they are.
            assert_eq!(sorted_rows(n, |i| expected[i]), expected, "{n} sorted rows");
        }
    }

    #[test]
    fn buckets_grow_with_the_rows_up_to_their_bound() {
        assert_eq!(bucket_bits(0), 0);
        assert_eq!(bucket_bits(2047), 0);
        assert_eq!(bucket_bits(2048), 1);
        assert_eq!(bucket_bits(2_500_000), 11);
        assert_eq!(bucket_bits(usize::MAX), 16);
    }
}
