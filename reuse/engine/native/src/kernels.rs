//! The kernels themselves, free of Python: plain slices in, plain vectors out.
//!
//! They mirror `reuse/engine/shingles.py` and `reuse/engine/signatures.py` bit for bit; the
//! Python code is the oracle (tests/test_native.py) and the unit tests below pin a few values.

use numpy::ndarray::ArrayView2;
use rayon::prelude::*;

/// Odd multiplier of the shingle polynomial (the 64-bit golden ratio).
pub const P: u64 = 0x9E37_79B9_7F4A_7C15;
const FMIX64_C1: u64 = 0xFF51_AFD7_ED55_8CCD;
const FMIX64_C2: u64 = 0xC4CE_B9FE_1A85_EC53;
const FMIX32_M1: u32 = 0x85EB_CA6B;
const FMIX32_M2: u32 = 0xC2B2_AE35;

/// Longest piece of a document permuted and reduced as one unit, in shingles: long passages are
/// cut into pieces so that both cores work on a document made of one long passage.
const MAX_PIECE: i64 = 256;

/// MurmurHash3's 64-bit finalizer.
#[inline]
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(FMIX64_C1);
    h ^= h >> 33;
    h = h.wrapping_mul(FMIX64_C2);
    h ^ (h >> 33)
}

/// MurmurHash3's 32-bit finalizer, as datasketch's `_fmix` applies it.
#[inline]
pub fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(FMIX32_M1);
    h ^= h >> 13;
    h = h.wrapping_mul(FMIX32_M2);
    h ^ (h >> 16)
}

/// The 32-bit hashes of all `n`-token shingles of `tokens` (`shingles.shingle_hashes`).
///
/// # Panics
/// If `n` is 0 (the binding checks it first).
pub fn shingle_hashes(tokens: &[u64], n: usize) -> Vec<u32> {
    assert!(n >= 1, "shingle size must be at least 1");
    if tokens.len() < n {
        return Vec::new();
    }
    tokens
        .windows(n)
        .map(|w| {
            let h = w[1..]
                .iter()
                .fold(w[0], |h, &t| h.wrapping_mul(P).wrapping_add(t));
            fmix64(h) as u32
        })
        .collect()
}

/// Why a set of spans has no signatures.
#[derive(Debug, PartialEq, Eq)]
pub enum SpanError {
    /// Span `i` holds no shingle.
    Empty(usize, i64, i64),
    /// Some span lies outside the document's `n` shingles.
    Outside(usize),
}

impl std::fmt::Display for SpanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpanError::Empty(i, s, e) => write!(
                f,
                "span {i} [{s}, {e}) holds no shingle: an empty passage has no signature"
            ),
            SpanError::Outside(n) => write!(f, "spans must lie within the document's {n} shingles"),
        }
    }
}

/// Check spans the way `signatures._as_spans` does, with the same messages.
pub fn check_spans(starts: &[i64], ends: &[i64], n_shingles: usize) -> Result<(), SpanError> {
    if let Some(i) = (0..starts.len()).find(|&i| ends[i] <= starts[i]) {
        return Err(SpanError::Empty(i, starts[i], ends[i]));
    }
    let n = n_shingles as i64;
    if starts.iter().any(|&s| s < 0) || ends.iter().any(|&e| e > n) {
        return Err(SpanError::Outside(n_shingles));
    }
    Ok(())
}

/// MinHash signatures (datasketch `affine32` `hashvalues`) of the passages `starts[i]..ends[i]`
/// of `shingles`, row-major `(spans, a.len())`. Spans must have passed [`check_spans`].
///
/// The span boundaries cut the document into pieces (at most [`MAX_PIECE`] shingles long);
/// every shingle of a covered piece is permuted once and reduced to its piece's minima, and a
/// passage's signature is the minimum over the pieces it covers. Both steps run in parallel.
pub fn signatures(
    shingles: &[u32],
    starts: &[i64],
    ends: &[i64],
    a: &[u32],
    b: &[u32],
) -> Vec<u32> {
    let k = a.len();
    assert_eq!(k, b.len(), "a and b must have one length");
    let m = starts.len();
    if m == 0 || k == 0 {
        return Vec::new();
    }
    // Piece boundaries: every span boundary, and cuts every MAX_PIECE shingles in between.
    let mut cuts: Vec<i64> = starts.iter().chain(ends).copied().collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut bounds = Vec::with_capacity(cuts.len());
    for w in cuts.windows(2) {
        let mut at = w[0];
        while at < w[1] {
            bounds.push(at);
            at += MAX_PIECE;
        }
    }
    bounds.push(*cuts.last().expect("at least one span"));
    let index = |pos: i64| {
        bounds
            .binary_search(&pos)
            .expect("a span boundary is a piece boundary")
    };
    let firsts: Vec<usize> = starts.iter().map(|&s| index(s)).collect();
    let lasts: Vec<usize> = ends.iter().map(|&e| index(e)).collect();
    // Pieces some span covers (a difference array over pieces); the others are never permuted.
    let pieces = bounds.len() - 1;
    let mut depth = vec![0i64; pieces + 1];
    for (&f, &l) in firsts.iter().zip(&lasts) {
        depth[f] += 1;
        depth[l] -= 1;
    }
    let mut covered = vec![false; pieces];
    let mut running = 0;
    for (c, d) in covered.iter_mut().zip(&depth) {
        running += d;
        *c = running > 0;
    }

    let mut minima = vec![u32::MAX; pieces * k];
    minima
        .par_chunks_mut(k)
        .enumerate()
        .filter(|(p, _)| covered[*p])
        .for_each(|(p, row)| {
            reduce_piece(
                row,
                &shingles[bounds[p] as usize..bounds[p + 1] as usize],
                a,
                b,
            )
        });

    let mut out = vec![u32::MAX; m * k];
    out.par_chunks_mut(k)
        .enumerate()
        .for_each(|(i, row)| reduce_rows(row, &minima[firsts[i] * k..lasts[i] * k]));
    out
}

/// How many values row `rows_a[k]` and row `rows_b[k]` of the `(m_i, num_perm)` signature
/// tables share, for each `k` (`numpy.sum(table[a] == table[b], axis=1)` without the two
/// gathered copies, on all cores). The tables' rows are counted end to end, as if they were
/// stacked (a batch's new signatures need not be copied under the stored ones it meets); rows
/// must be below their total `m`. A table may be a view of wider rows (the signature store's
/// records, their words past the signature left out) without being copied first.
pub fn agreements(tables: &[ArrayView2<'_, u32>], rows_a: &[usize], rows_b: &[usize]) -> Vec<u32> {
    // The first row of each table, and of none past them.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(tables.iter().scan(0, |end, t| {
            *end += t.nrows();
            Some(*end)
        }))
        .collect();
    let row = |r: usize| {
        let t = starts.partition_point(|&start| start <= r) - 1;
        tables[t].row(r - starts[t])
    };
    rows_a
        .par_iter()
        .zip(rows_b.par_iter())
        .with_min_len(1024)
        .map(|(&a, &b)| {
            let (a, b) = (row(a), row(b));
            let shared = match (a.as_slice(), b.as_slice()) {
                (Some(a), Some(b)) => a.iter().zip(b).filter(|(x, y)| x == y).count(),
                _ => a.iter().zip(b.iter()).filter(|(x, y)| x == y).count(),
            };
            u32::try_from(shared).expect("a signature row is shorter than 2**32")
        })
        .collect()
}

/// Lower `row` to the permuted values of `shingles` (the inner loop: one multiply-add-min per
/// shingle and permutation, vectorised over the permutations).
#[inline(always)]
fn reduce_piece_generic(row: &mut [u32], shingles: &[u32], a: &[u32], b: &[u32]) {
    for &x in shingles {
        let h = fmix32(x);
        for ((r, &ai), &bi) in row.iter_mut().zip(a).zip(b) {
            *r = (*r).min(ai.wrapping_mul(h).wrapping_add(bi));
        }
    }
}

/// [`reduce_piece_generic`] compiled for AVX2 (8 lanes of 32-bit multiply and minimum; the
/// baseline x86-64 target has neither instruction).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn reduce_piece_avx2(row: &mut [u32], shingles: &[u32], a: &[u32], b: &[u32]) {
    reduce_piece_generic(row, shingles, a, b)
}

/// [`reduce_piece_generic`] with the widest instructions this CPU has (checked at run time, so
/// that one wheel runs everywhere).
fn reduce_piece(row: &mut [u32], shingles: &[u32], a: &[u32], b: &[u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { reduce_piece_avx2(row, shingles, a, b) };
    }
    reduce_piece_generic(row, shingles, a, b)
}

/// Lower `row` to the element-wise minimum of the rows of `rows` (rows of `row.len()` values).
#[inline(always)]
fn reduce_rows_generic(row: &mut [u32], rows: &[u32]) {
    for piece in rows.chunks_exact(row.len()) {
        for (r, &v) in row.iter_mut().zip(piece) {
            *r = (*r).min(v);
        }
    }
}

/// [`reduce_rows_generic`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn reduce_rows_avx2(row: &mut [u32], rows: &[u32]) {
    reduce_rows_generic(row, rows)
}

/// [`reduce_rows_generic`] with the widest instructions this CPU has.
fn reduce_rows(row: &mut [u32], rows: &[u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { reduce_rows_avx2(row, rows) };
    }
    reduce_rows_generic(row, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use numpy::ndarray::s;

    /// The signature of one passage, permuting every shingle directly.
    fn naive(shingles: &[u32], a: &[u32], b: &[u32]) -> Vec<u32> {
        a.iter()
            .zip(b)
            .map(|(&ai, &bi)| {
                shingles
                    .iter()
                    .map(|&x| ai.wrapping_mul(fmix32(x)).wrapping_add(bi))
                    .min()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn agreements_count_equal_values_of_each_pair() {
        let table = [1, 2, 3, 1, 5, 3, 7, 8, 9];
        let expected = vec![2, 3, 0, 3];
        let (a, b) = ([0, 0, 2, 2], [1, 0, 1, 2]);
        let whole = ArrayView2::from_shape((3, 3), &table).unwrap();
        assert_eq!(agreements(&[whole], &a, &b), expected);
        // The same rows in tables of one, none and two rows: counted end to end.
        let parts = [
            whole.slice(s![..1, ..]),
            whole.slice(s![..0, ..]),
            whole.slice(s![1.., ..]),
        ];
        assert_eq!(agreements(&parts, &a, &b), expected);
        // Rows read out of wider ones (a column past the signature left out), and strided ones.
        let wide = [1, 2, 3, 0, 1, 5, 3, 0, 7, 8, 9, 0];
        let wide = ArrayView2::from_shape((3, 4), &wide).unwrap();
        assert_eq!(agreements(&[wide.slice(s![.., ..3])], &a, &b), expected);
        let reversed = [3, 2, 1, 3, 5, 1, 9, 8, 7];
        let reversed = ArrayView2::from_shape((3, 3), &reversed).unwrap();
        assert_eq!(
            agreements(&[reversed.slice(s![.., ..;-1])], &a, &b),
            expected
        );
    }

    #[test]
    fn fmix_values() {
        assert_eq!(fmix32(0), 0);
        assert_eq!(fmix64(0), 0);
        assert_eq!(fmix32(1), 0x514E_28B7);
        assert_eq!(fmix64(1), 0xB456_BCFC_34C2_CB2C);
    }

    #[test]
    fn shingle_hashes_lengths_and_single_token() {
        assert!(shingle_hashes(&[1, 2], 3).is_empty());
        assert_eq!(shingle_hashes(&[1, 2, 3], 3).len(), 1);
        assert_eq!(shingle_hashes(&[7], 1), vec![fmix64(7) as u32]);
        let h = (5u64.wrapping_mul(P).wrapping_add(6))
            .wrapping_mul(P)
            .wrapping_add(7);
        assert_eq!(shingle_hashes(&[5, 6, 7], 3), vec![fmix64(h) as u32]);
    }

    #[test]
    fn signatures_equal_the_naive_minimum() {
        let shingles: Vec<u32> = (0..2000u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let a: Vec<u32> = (0..16u32).map(|i| 2 * i.wrapping_mul(40_503) + 1).collect();
        let b: Vec<u32> = (0..16u32).map(|i| i.wrapping_mul(97_531)).collect();
        let spans: [(i64, i64); 5] = [(0, 2000), (10, 11), (5, 700), (600, 1999), (10, 11)];
        let starts: Vec<i64> = spans.iter().map(|s| s.0).collect();
        let ends: Vec<i64> = spans.iter().map(|s| s.1).collect();
        assert!(check_spans(&starts, &ends, shingles.len()).is_ok());
        let out = signatures(&shingles, &starts, &ends, &a, &b);
        for (i, &(s, e)) in spans.iter().enumerate() {
            assert_eq!(
                out[i * 16..(i + 1) * 16],
                naive(&shingles[s as usize..e as usize], &a, &b)
            );
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_minima() {
        let shingles: Vec<u32> = (0..300u32).map(|i| i.wrapping_mul(2_246_822_519)).collect();
        let a: Vec<u32> = (0..37u32)
            .map(|i| 2 * i.wrapping_mul(1_234_567) + 1)
            .collect();
        let b: Vec<u32> = (0..37u32).map(|i| i.wrapping_mul(7_654_321)).collect();
        let mut generic = vec![u32::MAX; 37];
        let mut dispatched = vec![u32::MAX; 37];
        reduce_piece_generic(&mut generic, &shingles, &a, &b);
        reduce_piece(&mut dispatched, &shingles, &a, &b);
        assert_eq!(generic, naive(&shingles, &a, &b));
        assert_eq!(dispatched, generic);
        let rows: Vec<u32> = (0..37 * 5u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let (mut generic, mut dispatched) = (vec![u32::MAX; 37], vec![u32::MAX; 37]);
        reduce_rows_generic(&mut generic, &rows);
        reduce_rows(&mut dispatched, &rows);
        let expected: Vec<u32> = (0..37)
            .map(|j| (0..5).map(|r| rows[r * 37 + j]).min().unwrap())
            .collect();
        assert_eq!(generic, expected);
        assert_eq!(dispatched, expected);
    }

    #[test]
    fn bad_spans_are_refused() {
        assert_eq!(check_spans(&[3], &[3], 10), Err(SpanError::Empty(0, 3, 3)));
        assert_eq!(check_spans(&[0], &[11], 10), Err(SpanError::Outside(10)));
        assert_eq!(check_spans(&[-1], &[2], 10), Err(SpanError::Outside(10)));
    }
}
