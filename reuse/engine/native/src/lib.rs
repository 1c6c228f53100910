//! `reuse.engine._native`: the compiled hot path of reusetrack's engine (issue 14).
//!
//! The kernels live in [`kernels`] and know nothing of Python; this module only converts numpy
//! arrays to slices and back, and releases the GIL while a kernel runs. No I/O happens here.

pub mod bands;
pub mod kernels;

use std::borrow::Cow;

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A 1-d array's values as a slice, copied only when the array is not contiguous.
fn values<'a, T: numpy::Element + Copy>(arr: &'a PyReadonlyArray1<'_, T>) -> Cow<'a, [T]> {
    match arr.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(arr.as_array().iter().copied().collect()),
    }
}

/// The 32-bit hashes of all n-token shingles of a uint64 token-hash array, in order: equal to
/// reuse.engine.shingles.shingle_hashes. Runs without the GIL.
#[pyfunction]
#[pyo3(signature = (token_hashes, n, /))]
fn shingle_hashes<'py>(
    py: Python<'py>,
    token_hashes: PyReadonlyArray1<'py, u64>,
    n: i64,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    if n < 1 {
        return Err(PyValueError::new_err(format!(
            "shingle size must be at least 1, got {n}"
        )));
    }
    let tokens = values(&token_hashes);
    let out = py.detach(|| kernels::shingle_hashes(&tokens, n as usize));
    Ok(out.into_pyarray(py))
}

/// The MinHash signatures of many passages of one document: equal to
/// reuse.engine.signatures.MinHasher.signatures.
///
/// shingles: uint32 shingle hashes; spans: (m, 2) int64 [start, end) slices of shingles (they may
/// overlap, nest and come in any order); permutations: the (2, num_perm) uint32 array [a, b] of
/// MinHasher.permutations. Returns an (m, num_perm) uint32 array. Runs without the GIL, on all
/// cores.
#[pyfunction]
#[pyo3(signature = (shingles, spans, permutations, /))]
fn minhash_signatures<'py>(
    py: Python<'py>,
    shingles: PyReadonlyArray1<'py, u32>,
    spans: PyReadonlyArray2<'py, i64>,
    permutations: PyReadonlyArray2<'py, u32>,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    let spans = spans.as_array();
    let perm = permutations.as_array();
    if perm.nrows() != 2 || perm.ncols() == 0 {
        return Err(PyValueError::new_err(format!(
            "permutations must be a (2, num_perm) array, got shape ({}, {})",
            perm.nrows(),
            perm.ncols()
        )));
    }
    let num_perm = perm.ncols();
    if spans.nrows() == 0 {
        return Ok(Array2::<u32>::zeros((0, num_perm)).into_pyarray(py));
    }
    if spans.ncols() != 2 {
        return Err(PyValueError::new_err(format!(
            "spans must be an (m, 2) array of [start, end) slices, got shape ({}, {})",
            spans.nrows(),
            spans.ncols()
        )));
    }
    let starts: Vec<i64> = spans.column(0).to_vec();
    let ends: Vec<i64> = spans.column(1).to_vec();
    let a: Vec<u32> = perm.row(0).to_vec();
    let b: Vec<u32> = perm.row(1).to_vec();
    let hashes = values(&shingles);
    kernels::check_spans(&starts, &ends, hashes.len())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let out = py.detach(|| kernels::signatures(&hashes, &starts, &ends, &a, &b));
    let out = Array2::from_shape_vec((starts.len(), num_perm), out).expect("m * num_perm values");
    Ok(out.into_pyarray(py))
}

/// The LSH band keys of signatures: equal to reuse.engine.lsh.band_keys.
///
/// signatures: an (m, num_perm) uint32 array; returns the (m, bands) uint64 keys, band i hashing
/// values i * rows .. (i + 1) * rows. Runs without the GIL, on all cores.
#[pyfunction]
#[pyo3(signature = (signatures, bands, rows, /))]
fn band_keys<'py>(
    py: Python<'py>,
    signatures: PyReadonlyArray2<'py, u32>,
    bands: usize,
    rows: usize,
) -> PyResult<Bound<'py, PyArray2<u64>>> {
    let (m, num_perm) = signatures.as_array().dim();
    if bands.checked_mul(rows).is_none_or(|used| used > num_perm) {
        return Err(PyValueError::new_err(format!(
            "signatures must have at least {bands} * {rows} columns, got shape ({m}, {num_perm})"
        )));
    }
    if m == 0 || num_perm == 0 {
        return Ok(Array2::<u64>::zeros((m, bands)).into_pyarray(py));
    }
    let values: Cow<'_, [u32]> = match signatures.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(signatures.as_array().iter().copied().collect()),
    };
    let keys = py.detach(|| bands::band_keys(&values, num_perm, bands, rows));
    let keys = Array2::from_shape_vec((m, bands), keys).expect("m * bands keys");
    Ok(keys.into_pyarray(py))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(shingle_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(minhash_signatures, m)?)?;
    m.add_function(wrap_pyfunction!(band_keys, m)?)?;
    m.add(
        "__all__",
        ["band_keys", "minhash_signatures", "shingle_hashes"],
    )?;
    Ok(())
}
