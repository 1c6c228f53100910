//! Sorting by buckets: a batch's band-key rows (which come in passage order, led by a hash) and
//! the candidate pairs made from them (many times over, led by the older passage).
//!
//! Each item's bucket comes from what leads it (a hash's top bits, a passage id's place in its
//! range), in the items' order, so the buckets sorted one by one and laid end to end are the
//! items sorted. One pass counts the items of each bucket, one places them, each part of the
//! input on a thread of its own, and the buckets (a couple of thousand items each) are sorted on
//! all cores, each inside the cache: about three passes over the items where a comparison sort
//! of them all takes one per doubling (on PAN13's candidate pairs, 69M a job, 40% of the
//! pairing's time), and a radix sort on all eight bytes of a hash eight.

use rayon::prelude::*;

/// A band-key row: its key (a hash), then what orders the rows of one key.
pub type Row = (u64, i64, i64);

/// Rows `row(0) .. row(n - 1)`, sorted: as they are when they come in order, else bucketed by
/// their keys' top bits and each bucket sorted.
pub fn sorted_rows(n: usize, row: impl Fn(usize) -> Row + Sync) -> Vec<Row> {
    if (1..n).all(|i| row(i - 1) <= row(i)) {
        return (0..n).map(row).collect();
    }
    let bits = bucket_bits(n);
    let rows: Vec<Row> = (0..n).into_par_iter().map(&row).collect();
    let parts: Vec<&[Row]> = rows
        .chunks(n.div_ceil(rayon::current_num_threads()).max(1))
        .collect();
    bucket_sorted(&parts, 1 << bits, |r: &Row| {
        if bits == 0 {
            0
        } else {
            (r.0 >> (64 - bits)) as usize
        }
    })
}

/// The items of `parts`, sorted, given `bucket` (below `buckets`) never puts an item in a
/// bucket before that of a smaller one. Each part is counted and placed on a thread of its own.
///
/// # Panics
/// If `bucket` gives a bucket of `buckets` or above.
pub fn bucket_sorted<T: Ord + Copy + Default + Send + Sync>(
    parts: &[&[T]],
    buckets: usize,
    bucket: impl Fn(&T) -> usize + Sync,
) -> Vec<T> {
    let counts: Vec<Vec<usize>> = parts
        .par_iter()
        .map(|part| {
            let mut count = vec![0usize; buckets];
            for item in *part {
                count[bucket(item)] += 1;
            }
            count
        })
        .collect();
    let sizes: Vec<usize> = (0..buckets)
        .map(|b| counts.iter().map(|count| count[b]).sum())
        .collect();
    let mut out = vec![T::default(); sizes.iter().sum()];
    // Each part's own stretch of each bucket, bucket by bucket, the parts in order.
    let mut places: Vec<Vec<&mut [T]>> =
        parts.iter().map(|_| Vec::with_capacity(buckets)).collect();
    let mut rest = out.as_mut_slice();
    for b in 0..buckets {
        for (place, count) in places.iter_mut().zip(&counts) {
            let (mine, tail) = rest.split_at_mut(count[b]);
            place.push(mine);
            rest = tail;
        }
    }
    places.par_iter_mut().zip(parts).for_each(|(place, part)| {
        let mut filled = vec![0usize; buckets];
        for item in *part {
            let b = bucket(item);
            place[b][filled[b]] = *item;
            filled[b] += 1;
        }
    });
    let mut regions: Vec<&mut [T]> = Vec::with_capacity(buckets);
    let mut rest = out.as_mut_slice();
    for &size in &sizes {
        let (region, tail) = rest.split_at_mut(size);
        regions.push(region);
        rest = tail;
    }
    regions
        .par_iter_mut()
        .for_each(|region| region.sort_unstable());
    out
}

/// Bits of a hash's top that bucket `n` rows about 2,048 to a bucket (at most 2^16 buckets).
pub(crate) fn bucket_bits(n: usize) -> u32 {
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
    fn bucket_sorted_equals_a_comparison_sort_of_all_parts() {
        let mut next = crate::testing::xorshift(0x2545_F491_4F6C_DD1D);
        for (n, buckets) in [
            (0usize, 1usize),
            (1, 4),
            (100, 1),
            (5000, 64),
            (200_000, 1024),
        ] {
            let items: Vec<u128> = (0..n)
                .map(|_| u128::from(next() % 40_000) << 64 | u128::from(next() % 9))
                .collect();
            let mut expected = items.clone();
            expected.sort_unstable();
            // Buckets by the leading part's place in its range, skewed (a square root).
            let bucket = |x: &u128| {
                ((((x >> 64) as f64 / 40_000.0).sqrt() * buckets as f64) as usize).min(buckets - 1)
            };
            for cut in [1, 3, 8] {
                let parts: Vec<&[u128]> = items.chunks(n.div_ceil(cut).max(1)).collect();
                assert_eq!(
                    bucket_sorted(&parts, buckets, bucket),
                    expected,
                    "{n} items, {cut} parts"
                );
            }
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
