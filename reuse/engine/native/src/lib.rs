//! `reuse.engine._native`: the compiled hot path of reusetrack's engine (issue 14).
//!
//! The kernels live in [`kernels`] and know nothing of Python; this module only converts numpy
//! arrays to slices and back, and releases the GIL while a kernel runs. No I/O happens here.

pub mod align;
pub mod difflib;
pub mod fasthash;
pub mod kernels;
pub mod verify;

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

/// One document's alignment arrays as Python passes them: token hashes, trigram hashes,
/// content flags, token starts and ends (`align.AlignInput`'s fields, in that order).
type DocArrays<'py> = (
    PyReadonlyArray1<'py, u64>,
    PyReadonlyArray1<'py, u64>,
    PyReadonlyArray1<'py, bool>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
);

/// The slices of one document's arrays (copied only when not contiguous).
struct DocValues<'a> {
    token_hashes: Cow<'a, [u64]>,
    trigrams: Cow<'a, [u64]>,
    content: Cow<'a, [bool]>,
    starts: Cow<'a, [i64]>,
    ends: Cow<'a, [i64]>,
}

impl<'a> DocValues<'a> {
    fn of(arrays: &'a DocArrays<'_>) -> Self {
        DocValues {
            token_hashes: values(&arrays.0),
            trigrams: values(&arrays.1),
            content: values(&arrays.2),
            starts: values(&arrays.3),
            ends: values(&arrays.4),
        }
    }

    fn doc(&self) -> align::Doc<'_> {
        align::Doc {
            token_hashes: &self.token_hashes,
            trigrams: &self.trigrams,
            content: &self.content,
            starts: &self.starts,
            ends: &self.ends,
        }
    }
}

/// A match as Python receives it: `(a_start, a_end, b_start, b_end, similarity, kind,
/// a_tokens, b_tokens)`, kind 0 verbatim, 1 near-verbatim, 2 edited.
type MatchTuple = (i64, i64, i64, i64, f64, u8, i64, i64);

fn match_tuple(m: &align::Match) -> MatchTuple {
    (
        m.a.0,
        m.a.1,
        m.b.0,
        m.b.1,
        m.similarity,
        m.kind as u8,
        m.a_tokens,
        m.b_tokens,
    )
}

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Every passage of one document reused in another, aligned to character offsets: equal to
/// reuse.engine.align.align (as match tuples, see `MatchTuple`).
///
/// a, b: (token_hashes u64, trigrams u64, content bool, starts i64, ends i64); settings:
/// (min_match_tokens, min_similarity, max_gap_tokens). Runs without the GIL.
#[pyfunction]
#[pyo3(name = "align", signature = (a, b, settings, /))]
fn align_documents<'py>(
    py: Python<'py>,
    a: DocArrays<'py>,
    b: DocArrays<'py>,
    settings: (i64, f64, i64),
) -> PyResult<Vec<MatchTuple>> {
    let (va, vb) = (DocValues::of(&a), DocValues::of(&b));
    let (da, db) = (va.doc(), vb.doc());
    da.check().map_err(value_error)?;
    db.check().map_err(value_error)?;
    let settings = align::AlignSettings {
        min_match_tokens: settings.0,
        min_similarity: settings.1,
        max_gap_tokens: settings.2,
    };
    let matches = py.detach(|| align::align(&da, &db, &settings));
    Ok(matches.iter().map(match_tuple).collect())
}

/// The number of elements difflib's `SequenceMatcher(None, a, b, autojunk=False)` matches (the
/// sizes of `get_matching_blocks()` summed): the count behind the similarity of a match.
#[pyfunction]
#[pyo3(signature = (a, b, /))]
fn sequence_matched<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, u64>,
    b: PyReadonlyArray1<'py, u64>,
) -> usize {
    let (a, b) = (values(&a), values(&b));
    py.detach(|| difflib::SequenceMatcher::new(&a, &b).matched())
}

/// One document of a batch: its alignment arrays, its passages as an (m, 3) int64 array of
/// (token_start, token_end, unspaced), and its word and character shingle sizes.
type DocumentArgs<'py> = (DocArrays<'py>, PyReadonlyArray2<'py, i64>, i64, i64);

/// Verify and align many document pairs: equal to reuse.engine.matching.match_pair on each.
///
/// documents: see `DocumentArgs`; pairs: (index of a, index of b, (k, 2) int64 candidate
/// passage positions); settings: (min_match_tokens, min_similarity, max_gap_tokens,
/// verify_containment). Returns per pair (candidates, verified, match tuples). Runs without
/// the GIL, the pairs spread over all cores.
#[pyfunction]
#[pyo3(signature = (documents, pairs, settings, /))]
fn match_pairs<'py>(
    py: Python<'py>,
    documents: Vec<DocumentArgs<'py>>,
    pairs: Vec<(usize, usize, PyReadonlyArray2<'py, i64>)>,
    settings: (i64, f64, i64, f64),
) -> PyResult<Vec<(usize, usize, Vec<MatchTuple>)>> {
    let held: Vec<DocValues> = documents.iter().map(|d| DocValues::of(&d.0)).collect();
    let mut docs = Vec::with_capacity(documents.len());
    for (values, (_, passages, words, chars)) in held.iter().zip(&documents) {
        let passages = passages.as_array();
        if passages.ncols() != 3 && passages.nrows() > 0 {
            return Err(value_error(format!(
                "passages must be an (m, 3) array of (token_start, token_end, unspaced), got {} columns",
                passages.ncols()
            )));
        }
        let passages = passages
            .rows()
            .into_iter()
            .map(|r| verify::Passage {
                token_start: r[0],
                token_end: r[1],
                unspaced: r[2] != 0,
            })
            .collect();
        if *words < 1 || *chars < 1 {
            return Err(value_error("shingle sizes must be at least 1"));
        }
        docs.push(
            verify::Document::new(values.doc(), passages, *words as usize, *chars as usize)
                .map_err(value_error)?,
        );
    }
    let mut jobs = Vec::with_capacity(pairs.len());
    for (a, b, candidates) in &pairs {
        let (a, b) = (*a, *b);
        if a >= docs.len() || b >= docs.len() {
            return Err(value_error(format!(
                "pair ({a}, {b}) names a document the batch does not hold"
            )));
        }
        let candidates = candidates.as_array();
        if candidates.ncols() != 2 && candidates.nrows() > 0 {
            return Err(value_error(
                "candidates must be a (k, 2) array of passage positions",
            ));
        }
        let candidates: Vec<(i64, i64)> = candidates
            .rows()
            .into_iter()
            .map(|r| (r[0], r[1]))
            .collect();
        verify::check_candidates(&docs[a], &docs[b], &candidates).map_err(value_error)?;
        jobs.push(verify::PairJob { a, b, candidates });
    }
    let settings = verify::MatchSettings {
        align: align::AlignSettings {
            min_match_tokens: settings.0,
            min_similarity: settings.1,
            max_gap_tokens: settings.2,
        },
        verify_containment: settings.3,
    };
    let outcomes = py.detach(|| verify::match_pairs(&docs, &jobs, &settings));
    Ok(outcomes
        .iter()
        .map(|o| {
            (
                o.candidates,
                o.verified,
                o.matches.iter().map(match_tuple).collect(),
            )
        })
        .collect())
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(shingle_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(minhash_signatures, m)?)?;
    m.add_function(wrap_pyfunction!(align_documents, m)?)?;
    m.add_function(wrap_pyfunction!(match_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(sequence_matched, m)?)?;
    m.add(
        "__all__",
        [
            "align",
            "match_pairs",
            "minhash_signatures",
            "sequence_matched",
            "shingle_hashes",
        ],
    )?;
    Ok(())
}
