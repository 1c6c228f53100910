//! Checksums of fixed-size records (the signature store's, `warehouse/sigstore.py`): XXH3-64 of
//! each record's bytes, seeded with its passage id, so a record changed or read at another
//! passage's place fails its check.

use rayon::prelude::*;

/// Records a rayon task checksums (a few hundred kilobytes).
const CHUNK: usize = 512;

/// The checksum of each row of `words` (rows of `width` 64-bit words, in row-major order): the
/// XXH3-64 of the little-endian bytes of the row's first `hashed` words, seeded with `ids[k]`
/// (as a u64), on all cores.
pub fn record_checksums(words: &[u64], width: usize, hashed: usize, ids: &[i64]) -> Vec<u64> {
    assert_eq!(
        words.len(),
        width * ids.len(),
        "a row of words for every id"
    );
    assert!(hashed <= width, "no more words hashed than a row has");
    let seeded = |bytes: &[u8], id: i64| xxhash_rust::xxh3::xxh3_64_with_seed(bytes, id as u64);
    let mut sums = vec![0u64; ids.len()];
    if width == 0 {
        sums.iter_mut()
            .zip(ids)
            .for_each(|(sum, &id)| *sum = seeded(&[], id));
        return sums;
    }
    sums.par_chunks_mut(CHUNK)
        .zip(words.par_chunks(CHUNK * width))
        .zip(ids.par_chunks(CHUNK))
        .for_each(|((sums, rows), ids)| {
            // The row's words as bytes, copied word by word (not byte by byte: that took most
            // of the time).
            let mut bytes = vec![0u8; 8 * hashed];
            for ((sum, row), &id) in sums.iter_mut().zip(rows.chunks(width)).zip(ids) {
                for (at, word) in bytes.chunks_exact_mut(8).zip(&row[..hashed]) {
                    at.copy_from_slice(&word.to_le_bytes());
                }
                *sum = seeded(&bytes, id);
            }
        });
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::xorshift;

    #[test]
    fn each_row_is_hashed_with_its_id_as_seed() {
        let mut rng = xorshift(7);
        for (rows, width) in [(0, 3), (1, 1), (5, 97), (CHUNK * 3 + 7, 4)] {
            let words: Vec<u64> = (0..rows * width).map(|_| rng()).collect();
            let ids: Vec<i64> = (0..rows as i64).map(|k| 3 * k + 1).collect();
            let sums = record_checksums(&words, width, width, &ids);
            for (k, &id) in ids.iter().enumerate() {
                let bytes: Vec<u8> = words[k * width..(k + 1) * width]
                    .iter()
                    .flat_map(|w| w.to_le_bytes())
                    .collect();
                assert_eq!(
                    sums[k],
                    xxhash_rust::xxh3::xxh3_64_with_seed(&bytes, id as u64)
                );
            }
        }
    }

    #[test]
    fn a_changed_word_or_place_changes_the_checksum() {
        let mut rng = xorshift(9);
        let width = 97;
        let mut words: Vec<u64> = (0..width * 4).map(|_| rng()).collect();
        let ids = [1, 2, 3, 4];
        let before = record_checksums(&words, width, width - 1, &ids);
        assert_ne!(
            before,
            record_checksums(&words, width, width - 1, &[2, 3, 4, 5])
        );
        words[width + 50] ^= 1 << 17;
        words[3 * width - 1] ^= 1; // the third row's last word: not hashed
        let after = record_checksums(&words, width, width - 1, &ids);
        assert_eq!(
            (before[0], before[2], before[3]),
            (after[0], after[2], after[3])
        );
        assert_ne!(before[1], after[1]);
    }
}
