//! LSH band keys of signatures: `reuse/engine/lsh.py` `band_keys`, bit for bit.

use rayon::prelude::*;

use crate::kernels::fmix64;

/// The 64-bit golden ratio: band `i` starts its key from `(i + 1) * GOLDEN`, so that keys of
/// different bands differ even for equal values.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The `bands` keys of each of the `signatures.len() / num_perm` signatures laid out row by row
/// (`num_perm` values each), row-major `(m, bands)`: band `i` of a signature hashes its values
/// `i * rows .. (i + 1) * rows` as `h = fmix64(h ^ value)` from `h = (i + 1) * GOLDEN`.
///
/// # Panics
/// If `num_perm` is 0 or less than `bands * rows` (the binding checks both first).
pub fn band_keys(signatures: &[u32], num_perm: usize, bands: usize, rows: usize) -> Vec<u64> {
    band_keys_from(signatures, num_perm, bands, rows, 0)
}

/// [`band_keys`] numbering the bands from `first_band`: band `i` starts from
/// `(first_band + i + 1) * GOLDEN`. A key family of its own (`families.rs`) numbers its bands
/// past the main family's, so that its keys never equal a main band's.
///
/// # Panics
/// As [`band_keys`].
pub fn band_keys_from(
    signatures: &[u32],
    num_perm: usize,
    bands: usize,
    rows: usize,
    first_band: u64,
) -> Vec<u64> {
    assert!(
        num_perm > 0 && bands * rows <= num_perm,
        "bands * rows must fit in num_perm"
    );
    let m = signatures.len() / num_perm;
    let mut out = vec![0u64; m * bands];
    if bands == 0 {
        return out;
    }
    out.par_chunks_mut(bands)
        .zip(signatures.par_chunks(num_perm))
        .for_each(|(keys, signature)| {
            for (band, key) in keys.iter_mut().enumerate() {
                let values = &signature[band * rows..(band + 1) * rows];
                let start = (first_band + band as u64 + 1).wrapping_mul(GOLDEN);
                *key = values.iter().fold(start, |h, &v| fmix64(h ^ u64::from(v)));
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_band_of_one_row_is_the_mixed_value() {
        assert_eq!(band_keys(&[7, 9], 2, 1, 1), vec![fmix64(GOLDEN ^ 7)]);
    }

    #[test]
    fn bands_differ_for_equal_values_and_rows_are_independent() {
        let keys = band_keys(&[5, 5, 5, 5, 1, 2, 3, 4], 4, 2, 2);
        assert_eq!(keys.len(), 4);
        assert_ne!(keys[0], keys[1]);
        assert_eq!(keys[2..], band_keys(&[1, 2, 3, 4], 4, 2, 2)[..]);
    }
}
