//! Candidate passage pairs from band keys: every stored row sharing a key with a new row, the
//! stored passage older and of another version (`warehouse.keyindex`'s lookup, after the rows
//! holding the batch's keys were found). Equal to the SQL of `Warehouse.candidates_by_join`.

use crate::hashsort::{bucket_bits, bucket_sorted, sorted_rows};
use rayon::prelude::*;

/// Band-key rows as three columns of one length: key, passage id, version id.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    pub keys: &'a [u64],
    pub passages: &'a [i64],
    pub versions: &'a [i64],
}

impl Rows<'_> {
    fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the columns are of one length.
    pub fn well_formed(&self) -> bool {
        self.passages.len() == self.keys.len() && self.versions.len() == self.keys.len()
    }

    /// Row `i` as `(key, version, passage)`: the order rows are sorted in.
    fn ordered(&self, i: usize) -> (u64, i64, i64) {
        (self.keys[i], self.versions[i], self.passages[i])
    }

    /// Whether the rows are in [`Rows::ordered`] order.
    fn is_sorted(&self) -> bool {
        (1..self.len()).all(|i| self.ordered(i - 1) <= self.ordered(i))
    }
}

/// `(old_passage, old_version, new_passage, new_version)` for each held row and each `probe`
/// row of its key where the held passage is older and of another version; unique, sorted.
///
/// The held rows of a key are its `stored` rows (in parts: each index segment's and the
/// tail's, read where they lie rather than joined first) and its `probe` rows (a row in both
/// counts once). With `cap`, a key proposes only its held rows of the first `cap` versions
/// holding it (by version id, a dense rank), so text on thousands of pages links a new copy to
/// the earliest. Both inputs may come in any order.
pub fn candidate_pairs(stored: &[Rows<'_>], probe: Rows<'_>, cap: Option<u64>) -> Vec<[i64; 4]> {
    // Rows that come sorted ([`sort_rows`]: a batch's probe, an index segment's rows) are read
    // where they lie; only the others (the tail's, from DuckDB) are sorted into a copy.
    let copies: Vec<Option<SortedRows>> = stored.iter().map(sorted_copy).collect();
    let held: Vec<Rows<'_>> = stored
        .iter()
        .zip(&copies)
        .map(|(rows, copy)| copy.as_ref().map_or(*rows, as_rows))
        .filter(|rows| rows.len() > 0)
        .collect();
    let probe_copy = sorted_copy(&probe);
    let new = probe_copy.as_ref().map_or(probe, as_rows);
    let narrow = |rows: &Rows<'_>| {
        [rows.passages, rows.versions]
            .iter()
            .all(|ids| ids.iter().all(|id| (0..=MAX_NARROW).contains(id)))
    };
    if narrow(&new) && held.iter().all(narrow) {
        pairs::<u128>(&held, new, cap)
    } else {
        pairs::<[i64; 4]>(&held, new, cap)
    }
}

/// Rows sorted into columns of their own ([`sort_rows`]).
type SortedRows = (Vec<u64>, Vec<i64>, Vec<i64>);

/// `rows` sorted into a copy, or `None` when they come sorted.
fn sorted_copy(rows: &Rows<'_>) -> Option<SortedRows> {
    (!rows.is_sorted()).then(|| sort_rows(*rows))
}

/// Sorted columns read as rows.
fn as_rows(sorted: &SortedRows) -> Rows<'_> {
    Rows {
        keys: &sorted.0,
        passages: &sorted.1,
        versions: &sorted.2,
    }
}

/// The largest id a pair packs in 32 bits.
const MAX_NARROW: i64 = u32::MAX as i64;

/// A candidate pair as it is sorted: its four ids as they are, or packed in one `u128` when
/// each fits in 32 bits (the pairs are sorted and deduplicated many times over, a pair once for
/// each key its passages share, and a quarter of the bytes to move and one comparison each
/// halve that). Both order pairs as `(old_passage, old_version, new_passage, new_version)`.
trait Pair: Ord + Copy + Default + Send + Sync {
    fn pack(ids: [i64; 4]) -> Self;
    fn unpack(self) -> [i64; 4];
    /// The older passage's id: what a pair is sorted by first.
    fn lead(&self) -> i64;
}

impl Pair for [i64; 4] {
    fn pack(ids: [i64; 4]) -> Self {
        ids
    }

    fn unpack(self) -> [i64; 4] {
        self
    }

    fn lead(&self) -> i64 {
        self[0]
    }
}

impl Pair for u128 {
    fn pack(ids: [i64; 4]) -> Self {
        ids.iter()
            .fold(0, |packed, &id| (packed << 32) | id as u128)
    }

    fn unpack(self) -> [i64; 4] {
        [96, 64, 32, 0].map(|shift| ((self >> shift) as u32) as i64)
    }

    fn lead(&self) -> i64 {
        (self >> 96) as i64
    }
}

/// [`candidate_pairs`] of sorted rows, sorted as `P`: the new rows in ranges of whole keys, a
/// range a task on all cores, their pairs then sorted and deduplicated together (a pair comes
/// in each range holding a key its passages share).
fn pairs<P: Pair>(stored: &[Rows<'_>], new: Rows<'_>, cap: Option<u64>) -> Vec<[i64; 4]> {
    let ranges = key_ranges(new.keys, 4 * rayon::current_num_threads());
    let parts: Vec<Vec<P>> = ranges
        .par_iter()
        .map(|&(from, to)| pairs_in::<P>(stored, new, from, to, cap))
        .collect();
    let mut out = sorted_pairs(&parts);
    out.dedup();
    out.into_iter().map(P::unpack).collect()
}

/// The pairs of all `parts`, sorted: bucketed by their older passage's place among the ids
/// the pairs span (a pair may be in several parts, one for each range holding a key its
/// passages share; the buckets sorted one by one cost less than one sort of them all).
fn sorted_pairs<P: Pair>(parts: &[Vec<P>]) -> Vec<P> {
    let (lo, hi) = parts
        .par_iter()
        .flatten()
        .map(|pair| (pair.lead(), pair.lead()))
        .reduce(|| (i64::MAX, i64::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    let n: usize = parts.iter().map(Vec::len).sum();
    // An id's offset in the span, shifted so that it falls among about as many buckets as
    // `bucket_bits` gives (a shift, not a division: this runs for every pair).
    let span = (i128::from(hi) - i128::from(lo)).max(0) as u128;
    let shift = (128 - span.leading_zeros()).saturating_sub(bucket_bits(n));
    let buckets = usize::try_from((span >> shift) + 1).expect("at most 2^16 buckets");
    let slices: Vec<&[P]> = parts.iter().map(Vec::as_slice).collect();
    bucket_sorted(&slices, buckets, |pair| {
        ((pair.lead() as i128 - i128::from(lo)) as u128 >> shift) as usize
    })
}

/// About `count` consecutive ranges of `keys` (sorted) covering it, none splitting a key's run.
fn key_ranges(keys: &[u64], count: usize) -> Vec<(usize, usize)> {
    let n = keys.len();
    let mut bounds = vec![0];
    for c in 1..count {
        let mut at = (c * n / count).max(*bounds.last().expect("a bound"));
        while at > 0 && at < n && keys[at] == keys[at - 1] {
            at += 1;
        }
        bounds.push(at);
    }
    bounds.push(n);
    bounds.dedup();
    bounds.windows(2).map(|w| (w[0], w[1])).collect()
}

/// The pairs of the new rows `from..to`, whole keys, sorted and unique: a pair comes once for
/// each key its passages share, so a range's repeats are dropped before the ranges' pairs meet
/// (half of a PAN13 batch's pairing memory, 277 to 140 MB, in the same time).
fn pairs_in<P: Pair>(
    stored: &[Rows<'_>],
    new: Rows<'_>,
    from: usize,
    to: usize,
    cap: Option<u64>,
) -> Vec<P> {
    let mut out: Vec<P> = Vec::new();
    let mut held: Vec<(i64, i64)> = Vec::new();
    let mut i = from;
    // A cursor in each part of the stored rows (each sorted), from the range's first key.
    let mut at: Vec<usize> = stored
        .iter()
        .map(|part| match new.keys.get(from) {
            Some(&first) => part.keys.partition_point(|&k| k < first),
            None => part.len(),
        })
        .collect();
    // The smallest key a part holds from its cursor on: a key below it is held by no part,
    // and most of a batch's keys are, so they cost one comparison.
    let next_key = |at: &[usize]| {
        stored
            .iter()
            .zip(at)
            .filter_map(|(part, &h)| part.keys.get(h).copied())
            .min()
            .unwrap_or(u64::MAX)
    };
    let mut next = next_key(&at);
    // A merge of the sorted sides, stepping row by row: most keys have one row on each side
    // or none, and a binary search over the rest of a side for each key missed the cache at
    // most of its steps.
    while i < to {
        let key = new.keys[i];
        let mut end = i + 1;
        while end < to && new.keys[end] == key {
            end += 1;
        }
        held.clear();
        if key >= next {
            for (part, h) in stored.iter().zip(at.iter_mut()) {
                while *h < part.len() && part.keys[*h] < key {
                    *h += 1;
                }
                // The next keys of the range are larger: the cursor moves past the key's run.
                while *h < part.len() && part.keys[*h] == key {
                    held.push((part.versions[*h], part.passages[*h]));
                    *h += 1;
                }
            }
            next = next_key(&at);
        }
        // A key held by one new row alone proposes nothing: most keys of a batch.
        if held.is_empty() && end - i == 1 {
            i = end;
            continue;
        }
        held.extend((i..end).map(|r| (new.versions[r], new.passages[r])));
        held.sort_unstable();
        held.dedup();
        if let Some(cap) = cap {
            held.truncate(first_versions(&held, cap));
        }
        for r in i..end {
            let (new_version, new_passage) = (new.versions[r], new.passages[r]);
            for &(old_version, old_passage) in &held {
                if old_passage < new_passage && old_version != new_version {
                    out.push(P::pack([
                        old_passage,
                        old_version,
                        new_passage,
                        new_version,
                    ]));
                }
            }
        }
        i = end;
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The rows sorted by key, version and passage (the order of [`candidate_pairs`] and of the
/// index's segments), as three columns: a batch's probe sorted once serves its distinct keys,
/// its pairing and the segment later built from it.
///
/// A batch's rows come in passage order, their keys (hashes) in no order at all: they are
/// sorted by [`sorted_rows`], led by the key, and the columns written out on all cores.
pub fn sort_rows(rows: Rows<'_>) -> (Vec<u64>, Vec<i64>, Vec<i64>) {
    let sorted = sorted_rows(rows.len(), |i| rows.ordered(i));
    let (keys, (passages, versions)) = rayon::join(
        || sorted.par_iter().map(|r| r.0).collect(),
        || {
            rayon::join(
                || sorted.par_iter().map(|r| r.2).collect(),
                || sorted.par_iter().map(|r| r.1).collect(),
            )
        },
    );
    (keys, passages, versions)
}

/// How many of one key's `(version, passage)` rows (sorted) belong to its first `cap` versions.
fn first_versions(rows: &[(i64, i64)], cap: u64) -> usize {
    let mut rank = 0u64;
    for (i, row) in rows.iter().enumerate() {
        if i == 0 || rows[i - 1].0 != row.0 {
            rank += 1;
            if rank > cap {
                return i;
            }
        }
    }
    rows.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(u64, i64, i64)]) -> (Vec<u64>, Vec<i64>, Vec<i64>) {
        (
            v.iter().map(|r| r.0).collect(),
            v.iter().map(|r| r.1).collect(),
            v.iter().map(|r| r.2).collect(),
        )
    }

    #[test]
    fn sort_rows_orders_by_key_version_and_passage() {
        let (k, p, v) = rows(&[(7, 4, 3), (7, 1, 3), (2, 9, 1), (7, 2, 1)]);
        let r = Rows {
            keys: &k,
            passages: &p,
            versions: &v,
        };
        assert_eq!(
            sort_rows(r),
            (vec![2, 7, 7, 7], vec![9, 2, 1, 4], vec![1, 1, 3, 3])
        );
    }

    #[test]
    fn sort_rows_equals_a_comparison_sort_with_many_rows_a_key() {
        // Rows in passage order with keys repeated across passages and versions (a radix sort
        // alone would leave one key's rows in any order), and enough of them for every pass.
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        let v: Vec<(u64, i64, i64)> = (0..200_000i64)
            .map(|i| (next() % 50_000 * 0x0101_0101_0101, i / 40, i / 400 % 97))
            .collect();
        let (k, p, ver) = rows(&v);
        let r = Rows {
            keys: &k,
            passages: &p,
            versions: &ver,
        };
        let mut expected: Vec<(u64, i64, i64)> = v.iter().map(|&(k, p, v)| (k, v, p)).collect();
        expected.sort_unstable();
        let got = sort_rows(r);
        let got: Vec<(u64, i64, i64)> = (0..got.0.len())
            .map(|i| (got.0[i], got.2[i], got.1[i]))
            .collect();
        assert_eq!(got, expected);
    }

    /// `(key, passage, version)`: passages 1-2 of version 1, 3 of version 2, 4-5 of version 3.
    const HELD: [(u64, i64, i64); 7] = [
        (7, 1, 1),
        (7, 2, 1),
        (7, 3, 2),
        (9, 1, 1),
        (7, 4, 3),
        (9, 4, 3),
        (9, 5, 3),
    ];
    const PROBE: [(u64, i64, i64); 3] = [(7, 4, 3), (9, 4, 3), (9, 5, 3)];
    const PAIRS: [[i64; 4]; 4] = [[1, 1, 4, 3], [1, 1, 5, 3], [2, 1, 4, 3], [3, 2, 4, 3]];

    /// [`candidate_pairs`] of `HELD` and `PROBE` with every passage and version id moved by
    /// `shift`.
    fn pairs_of(shift: i64, cap: Option<u64>) -> Vec<[i64; 4]> {
        let moved = |v: &[(u64, i64, i64)]| {
            rows(
                &v.iter()
                    .map(|r| (r.0, r.1 + shift, r.2 + shift))
                    .collect::<Vec<_>>(),
            )
        };
        let ((hk, hp, hv), (pk, pp, pv)) = (moved(&HELD), moved(&PROBE));
        let held = Rows {
            keys: &hk,
            passages: &hp,
            versions: &hv,
        };
        let probe = Rows {
            keys: &pk,
            passages: &pp,
            versions: &pv,
        };
        candidate_pairs(&[held], probe, cap)
    }

    #[test]
    fn pairs_older_passages_of_other_versions_once_capped() {
        assert_eq!(pairs_of(0, None), PAIRS.to_vec());
        // Capped at one version per key: key 7 proposes version 1's passages only.
        assert_eq!(pairs_of(0, Some(1)), PAIRS[..3].to_vec());
    }

    #[test]
    fn ids_past_32_bits_pair_as_the_narrow_ones_do() {
        // Every id moved past 2^32 (and to the edge of 32 bits): the pairs are packed only when
        // every id fits, and both ways give the same pairs.
        for shift in [MAX_NARROW - 5, MAX_NARROW, 1 << 40] {
            let expected: Vec<[i64; 4]> =
                PAIRS.iter().map(|pair| pair.map(|id| id + shift)).collect();
            assert_eq!(pairs_of(shift, None), expected, "shift {shift}");
        }
    }

    /// The pairs [`candidate_pairs`] must give, by their definition, one key at a time.
    fn pairs_by_definition(
        stored: &[(u64, i64, i64)],
        probe: &[(u64, i64, i64)],
        cap: Option<u64>,
    ) -> Vec<[i64; 4]> {
        let mut out = Vec::new();
        for &(key, new_passage, new_version) in probe {
            let mut held: Vec<(i64, i64)> = stored
                .iter()
                .chain(probe)
                .filter(|r| r.0 == key)
                .map(|r| (r.2, r.1))
                .collect();
            held.sort_unstable();
            held.dedup();
            let mut versions: Vec<i64> = held.iter().map(|h| h.0).collect();
            versions.dedup();
            let allowed = &versions[..versions.len().min(cap.unwrap_or(u64::MAX) as usize)];
            for &(old_version, old_passage) in &held {
                if allowed.contains(&old_version)
                    && old_passage < new_passage
                    && old_version != new_version
                {
                    out.push([old_passage, old_version, new_passage, new_version]);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn pairs_equal_their_definition_sorted_or_not_in_many_ranges() {
        // Keys shared by many rows on both sides (so that the probe's ranges, one a task, split
        // between keys of long runs), the probe given sorted and as it came.
        let mut random = crate::testing::xorshift(0x2545_F491_4F6C_DD1D);
        let mut next = |below: u64| random() % below;
        let stored: Vec<(u64, i64, i64)> =
            (0..3_000i64).map(|i| (next(400), i / 10, i / 50)).collect();
        let probe: Vec<(u64, i64, i64)> = (3_000..4_000i64)
            .map(|i| (next(600), i / 10, i / 50))
            .collect();
        let (sk, sp, sv) = rows(&stored);
        let (pk, pp, pv) = rows(&probe);
        let sorted = sort_rows(Rows {
            keys: &pk,
            passages: &pp,
            versions: &pv,
        });
        for cap in [None, Some(1), Some(3)] {
            let expected = pairs_by_definition(&stored, &probe, cap);
            assert!(expected.len() > 500, "{} pairs", expected.len());
            for (keys, passages, versions) in [(&pk, &pp, &pv), (&sorted.0, &sorted.1, &sorted.2)] {
                // The stored rows whole, and in parts of unequal sizes (one of them empty), as
                // they come and each sorted, as the index's segments (read in place) and its
                // tail (sorted into a copy) give them.
                for (cuts, each_sorted) in [
                    (vec![0, 3_000], false),
                    (vec![0, 0, 700, 2_999, 3_000], false),
                    (vec![0, 0, 700, 2_999, 3_000], true),
                    (vec![0, 1_000, 1_001, 2_000, 3_000], true),
                ] {
                    let copies: Vec<SortedRows> = cuts
                        .windows(2)
                        .map(|w| {
                            let part = Rows {
                                keys: &sk[w[0]..w[1]],
                                passages: &sp[w[0]..w[1]],
                                versions: &sv[w[0]..w[1]],
                            };
                            if each_sorted {
                                sort_rows(part)
                            } else {
                                (
                                    part.keys.to_vec(),
                                    part.passages.to_vec(),
                                    part.versions.to_vec(),
                                )
                            }
                        })
                        .collect();
                    let parts: Vec<Rows<'_>> = copies.iter().map(as_rows).collect();
                    assert_eq!(parts.iter().all(Rows::is_sorted), each_sorted);
                    let probe = Rows {
                        keys,
                        passages,
                        versions,
                    };
                    let got = candidate_pairs(&parts, probe, cap);
                    assert_eq!(got, expected, "cap {cap:?}, cut at {cuts:?}");
                }
            }
        }
    }

    #[test]
    fn pairs_are_sorted_across_buckets_and_parts() {
        // Enough pairs for thousands of buckets, in parts that repeat each other's pairs, their
        // older passages spread narrowly, widely (past 32 bits) and over all of i64.
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        for spread in [1u64, 5_000, 1 << 40, u64::MAX] {
            let wide: Vec<Vec<[i64; 4]>> = (0..5)
                .map(|_| {
                    (0..40_000)
                        .map(|_| [(next() % spread) as i64, 3, (next() % 50) as i64, 1])
                        .collect()
                })
                .collect();
            let mut expected: Vec<[i64; 4]> = wide.concat();
            expected.sort_unstable();
            assert_eq!(sorted_pairs(&wide), expected, "spread {spread}");
            if spread < 1 << 32 {
                let narrow: Vec<Vec<u128>> = wide
                    .iter()
                    .map(|part| part.iter().map(|&ids| u128::pack(ids)).collect())
                    .collect();
                let got: Vec<[i64; 4]> = sorted_pairs(&narrow)
                    .into_iter()
                    .map(u128::unpack)
                    .collect();
                assert_eq!(got, expected, "spread {spread}, packed");
            }
        }
    }

    #[test]
    fn key_ranges_cover_the_rows_without_splitting_a_key() {
        let keys = [1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 9];
        for count in 1..15 {
            let ranges = key_ranges(&keys, count);
            assert_eq!(ranges.first().map(|r| r.0), Some(0));
            assert_eq!(ranges.last().map(|r| r.1), Some(keys.len()));
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1, pair[1].0);
                assert_ne!(keys[pair[1].0], keys[pair[1].0 - 1], "count {count}");
            }
            assert!(ranges.iter().all(|r| r.0 < r.1));
        }
        assert!(key_ranges(&[], 4).is_empty());
    }
}
