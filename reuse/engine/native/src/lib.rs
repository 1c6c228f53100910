//! `reuse.engine._native`: the compiled hot path of reusetrack's engine (issue 14).
//!
//! The kernels live in [`kernels`] and know nothing of Python; this module only converts numpy
//! arrays to slices and back, and releases the GIL while a kernel runs. No I/O happens here.

pub mod align;
pub mod analysis;
pub mod bands;
pub mod blockpairs;
pub mod blocks;
pub mod candidates;
pub mod difflib;
pub mod families;
pub mod fasthash;
pub mod grade;
pub mod hashsort;
pub mod hugepages;
pub mod kernels;
pub mod normalize;
pub mod passages;
pub mod records;
pub mod seeds;
pub mod segment;
pub mod templates;
#[cfg(test)]
mod testing;
pub mod tokens;
mod unicode;
#[rustfmt::skip]
mod unicode_tables;
pub mod verify;
pub mod words;

use std::borrow::Cow;

use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyReadwriteArray1,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use rayon::prelude::*;

/// Large blocks on huge pages: see [`hugepages`].
#[global_allocator]
static ALLOCATOR: hugepages::HugePageAlloc = hugepages::HugePageAlloc;

/// A 1-d array's values as a slice, copied only when the array is not contiguous.
fn values<'a, T: numpy::Element + Copy>(arr: &'a PyReadonlyArray1<'_, T>) -> Cow<'a, [T]> {
    match arr.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(arr.as_array().iter().copied().collect()),
    }
}

/// A 1-d array's values as a slice, copied only when the array is not contiguous, without
/// numpy's borrow registry: for the calls handed a batch's thousands of arrays, where registering
/// each (a global table, twice an array) cost more than the rest of handing them over (5,000
/// documents to `match_pairs`: 12.7 ms with the registry, 4.0 ms without).
fn unregistered<'a, T: numpy::Element + Copy>(arr: &'a Bound<'_, PyArray1<T>>) -> Cow<'a, [T]> {
    // SAFETY: the registry only keeps safe Rust from borrowing an array mutably while it is read
    // (its own documentation leaves Python and unsafe code to their authors); nothing in this
    // crate takes these arrays mutably, and the slice lives no longer than the array's reference.
    match unsafe { arr.as_slice() } {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(arr.to_owned_array().to_vec()),
    }
}

/// A 2-D array's values in row-major order, borrowed when contiguous.
fn matrix<'a, T: numpy::Element + Copy>(arr: &'a PyReadonlyArray2<'_, T>) -> Cow<'a, [T]> {
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

/// The multipliers and offsets of MinHasher.permutations, a (2, num_perm) uint32 array.
fn permutation_rows(permutations: &PyReadonlyArray2<'_, u32>) -> PyResult<(Vec<u32>, Vec<u32>)> {
    let perm = permutations.as_array();
    if perm.nrows() != 2 || perm.ncols() == 0 {
        return Err(PyValueError::new_err(format!(
            "permutations must be a (2, num_perm) array, got shape ({}, {})",
            perm.nrows(),
            perm.ncols()
        )));
    }
    Ok((perm.row(0).to_vec(), perm.row(1).to_vec()))
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
    let (a, b) = permutation_rows(&permutations)?;
    let num_perm = a.len();
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
    let values = matrix(&signatures);
    let keys = py.detach(|| bands::band_keys(&values, num_perm, bands, rows));
    let keys = Array2::from_shape_vec((m, bands), keys).expect("m * bands keys");
    Ok(keys.into_pyarray(py))
}

/// How many values each pair of rows of the signature tables shares: `rows_a[k]` against
/// `rows_b[k]` of the (m_i, num_perm) uint32 `tables`, whose rows are counted end to end (as if
/// stacked, without the copy); a uint32 array. The candidate filter's kernel
/// (reuse.engine.lsh.signature_agreement). Runs without the GIL, on all cores.
#[pyfunction]
#[pyo3(signature = (tables, rows_a, rows_b, /))]
fn signature_agreements<'py>(
    py: Python<'py>,
    tables: Vec<PyReadonlyArray2<'py, u32>>,
    rows_a: PyReadonlyArray1<'py, i64>,
    rows_b: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    let num_perm = tables.first().map_or(0, |t| t.as_array().dim().1);
    if tables.iter().any(|t| t.as_array().dim().1 != num_perm) {
        return Err(PyValueError::new_err(
            "signature tables of different widths",
        ));
    }
    let m: usize = tables.iter().map(|t| t.as_array().dim().0).sum();
    let rows = |side: &PyReadonlyArray1<'py, i64>| -> PyResult<Vec<usize>> {
        values(side)
            .iter()
            .map(|&r| {
                usize::try_from(r).ok().filter(|&r| r < m).ok_or_else(|| {
                    PyValueError::new_err(format!("row {r} is outside the {m} signatures"))
                })
            })
            .collect()
    };
    let (a, b) = (rows(&rows_a)?, rows(&rows_b)?);
    if a.len() != b.len() {
        return Err(PyValueError::new_err(format!(
            "{} rows against {}: the two sides must pair up",
            a.len(),
            b.len()
        )));
    }
    let views: Vec<_> = tables.iter().map(|t| t.as_array()).collect();
    let shared = py.detach(|| kernels::agreements(&views, &a, &b));
    Ok(shared.into_pyarray(py))
}

/// Stands in for a lone surrogate: a noncharacter whose every property the Python engine reads
/// is a surrogate's (unassigned, so dropped when alone; no letter, digit, mark or space; NFKC
/// and case folding leave it as it is), so tokens, offsets and passages come out the same.
pub(crate) const SURROGATE_STAND_IN: char = '\u{ffff}';

/// The code points of a Python `str`, in Python's indexing.
struct CodePoints {
    chars: Vec<char>,
    /// The original code points, kept only when the `str` holds lone surrogates (`json.loads`
    /// makes them from `\ud800` escapes): each stands as [`SURROGATE_STAND_IN`] in `chars`.
    with_surrogates: Option<Vec<u32>>,
}

impl CodePoints {
    fn of(text: &Bound<'_, PyString>) -> PyResult<Self> {
        if let Ok(utf8) = text.to_str() {
            return Ok(Self {
                chars: utf8.chars().collect(),
                with_surrogates: None,
            });
        }
        // Not UTF-8 encodable: lone surrogates. Python's UTF-32 passes them through.
        let encoded = text.call_method1("encode", ("utf-32-le", "surrogatepass"))?;
        let code_points: Vec<u32> = encoded
            .cast::<PyBytes>()?
            .as_bytes()
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let chars = code_points
            .iter()
            .map(|&cp| char::from_u32(cp).unwrap_or(SURROGATE_STAND_IN))
            .collect();
        Ok(Self {
            chars,
            with_surrogates: Some(code_points),
        })
    }
}

/// Normalised text with its offset map: equal to reuse.engine.normalize.normalize.
///
/// Returns (normalised text, starts, ends): int64 arrays with the original code-point span of
/// each normalised character. Runs without the GIL.
#[pyfunction]
#[pyo3(name = "normalize", signature = (text, /))]
#[allow(clippy::type_complexity)]
fn py_normalize<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyString>,
) -> PyResult<(
    Bound<'py, PyString>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
)> {
    let source = CodePoints::of(text)?;
    let n = py.detach(|| normalize::normalize_chars(&source.chars));
    let normalized = match &source.with_surrogates {
        None => PyString::new(py, &n.text()),
        Some(original) => {
            // Put back the surrogates that stood in for themselves (a surrogate with marks is
            // kept by the Python engine), via UTF-32 as Python builds such a str.
            let mut utf32 = Vec::with_capacity(4 * n.chars.len());
            for (&c, &start) in n.chars.iter().zip(&n.starts) {
                let cp = match c {
                    SURROGATE_STAND_IN => original[start as usize],
                    c => c as u32,
                };
                utf32.extend_from_slice(&cp.to_le_bytes());
            }
            PyString::from_encoded_object(
                PyBytes::new(py, &utf32).as_any(),
                Some(c"utf-32-le"),
                Some(c"surrogatepass"),
            )?
        }
    };
    Ok((
        normalized,
        n.starts.into_pyarray(py),
        n.ends.into_pyarray(py),
    ))
}

/// The hash of each block of a batch of documents: equal to
/// reuse.engine.boilerplate.block_hash(texts[doc[k]][start[k]:end[k]]) for each k, as a uint64
/// array. Runs without the GIL, on all cores.
#[pyfunction]
#[pyo3(signature = (texts, doc, start, end, /))]
fn block_hashes<'py>(
    py: Python<'py>,
    texts: Vec<Bound<'py, PyString>>,
    doc: PyReadonlyArray1<'py, i64>,
    start: PyReadonlyArray1<'py, i64>,
    end: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let (doc, start, end) = (doc.as_slice()?, start.as_slice()?, end.as_slice()?);
    if doc.len() != start.len() || doc.len() != end.len() {
        return Err(PyValueError::new_err(
            "doc, start and end must have one value a block",
        ));
    }
    let sources = texts
        .iter()
        .map(CodePoints::of)
        .collect::<PyResult<Vec<_>>>()?;
    let blocks = (0..doc.len())
        .map(|k| {
            let (d, s, e) = (doc[k], start[k], end[k]);
            if d < 0 || d as usize >= sources.len() || s < 0 || e < 0 {
                return Err(PyValueError::new_err(format!(
                    "block {k} ({d}, {s}, {e}) is not a span of one of the {} texts",
                    sources.len()
                )));
            }
            Ok(blocks::Block {
                doc: d as usize,
                start: s as usize,
                end: e as usize,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let hashes = py.detach(|| {
        let texts: Vec<blocks::Text> = sources
            .iter()
            .map(|c| blocks::Text {
                chars: &c.chars,
                original: c.with_surrogates.as_deref(),
            })
            .collect();
        blocks::block_hashes(&texts, &blocks)
    });
    Ok(hashes.into_pyarray(py))
}

/// The tokens of a text: equal to reuse.engine.tokens.tokenize with
/// reuse.engine.shingles.token_hashes of its words.
///
/// Returns (hashes uint64, starts int64, ends int64, unspaced bool, lengths int64, stems uint64):
/// each token's XXH3-64, original code-point span, whether it is a character of a script without
/// spaces, its length in characters of the normalised word, and the XXH3-64 of its stem
/// (reuse.engine.shingles.stem_hashes). Runs without the GIL.
#[pyfunction]
#[pyo3(name = "tokenize", signature = (text, /))]
fn py_tokenize<'py>(py: Python<'py>, text: &Bound<'py, PyString>) -> PyResult<TokenArrays<'py>> {
    let source = CodePoints::of(text)?;
    let t = py.detach(|| tokens::tokenize_normalized(&normalize::normalize_chars(&source.chars)));
    Ok(token_arrays(py, t))
}

/// A text's tokens as numpy arrays: hashes (uint64), starts and ends (int64), unspaced (bool),
/// lengths (int64) and stems (uint64).
type TokenArrays<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u64>>,
);

/// The token arrays of `t`, its vectors moved into numpy without a copy (lengths widened).
fn token_arrays(py: Python<'_>, t: tokens::Tokens) -> TokenArrays<'_> {
    let lengths: Vec<i64> = t.lengths.iter().map(|&n| i64::from(n)).collect();
    (
        t.hashes.into_pyarray(py),
        t.starts.into_pyarray(py),
        t.ends.into_pyarray(py),
        t.unspaced.into_pyarray(py),
        lengths.into_pyarray(py),
        t.stems.into_pyarray(py),
    )
}

/// The paragraphs of a text: equal to reuse.engine.passages.paragraph_spans, as a (k, 2) int64
/// array of [start, end) code-point spans. Runs without the GIL.
#[pyfunction]
#[pyo3(name = "paragraph_spans", signature = (text, /))]
fn py_paragraph_spans<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let source = CodePoints::of(text)?;
    let spans = py.detach(|| passages::paragraph_spans_chars(&source.chars));
    let rows: Vec<[i64; 2]> = spans.iter().map(|&(s, e)| [s as i64, e as i64]).collect();
    Ok(rows_array(py, rows))
}

/// The passages of a text, its tokens computed here: equal to reuse.engine.passages.passages of
/// reuse.engine.tokens.tokenize(text) with these settings.
///
/// Returns an (m, 6) int64 array, one row a passage in position order: [kind (0 paragraph, 1
/// window), token_start, token_end, char_start, char_end, unspaced (0 or 1)]. Runs without the GIL.
#[pyfunction]
#[pyo3(name = "passages", signature = (text, min_tokens, window_tokens, window_step, /))]
fn py_passages<'py>(
    py: Python<'py>,
    text: &Bound<'py, PyString>,
    min_tokens: usize,
    window_tokens: usize,
    window_step: usize,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let params = passages::PassageParams::new(min_tokens, window_tokens, window_step)
        .map_err(PyValueError::new_err)?;
    let source = CodePoints::of(text)?;
    let rows = py.detach(|| {
        let tokens = tokens::tokenize_normalized(&normalize::normalize_chars(&source.chars));
        passages::passages_chars(&source.chars, &tokens, &params)
    });
    Ok(passage_array(py, &rows))
}

/// One document's analysis as numpy arrays: token hashes (uint64), starts and ends (int64),
/// unspaced (bool), lengths (int64), stems (uint64), passages ((m, 6) int64, as `passages`
/// gives them), signatures ((m, num_perm) uint32, or (0, num_perm) when not asked for) and the
/// tokens where sentences start (int64, `seeds.sentence_starts`).
type AnalysisArrays<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray2<i64>>,
    Bound<'py, PyArray2<u32>>,
    Bound<'py, PyArray1<i64>>,
);

/// The passage rows as an (m, 6) int64 array: [kind, token_start, token_end, char_start,
/// char_end, unspaced].
fn passage_array<'py>(py: Python<'py>, rows: &[passages::PassageRow]) -> Bound<'py, PyArray2<i64>> {
    let rows: Vec<[i64; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.kind as i64,
                r.token_start as i64,
                r.token_end as i64,
                r.char_start,
                r.char_end,
                i64::from(r.unspaced),
            ]
        })
        .collect();
    rows_array(py, rows)
}

/// The analyses of many texts, in order, on all cores without the GIL: equal to
/// reuse.engine.analysis.analyse with the Python engine (tokens, passages, signatures, sentence starts).
///
/// permutations is MinHasher.permutations ((2, num_perm) uint32); with signatures false the
/// passages are not signed. Returns one tuple of arrays per text (see AnalysisArrays).
#[pyfunction]
#[pyo3(signature = (
    texts, min_tokens, window_tokens, window_step, shingle_words, shingle_chars, permutations, signatures, /
))]
#[allow(clippy::too_many_arguments)]
fn analyse_many<'py>(
    py: Python<'py>,
    texts: Vec<Bound<'py, PyString>>,
    min_tokens: usize,
    window_tokens: usize,
    window_step: usize,
    shingle_words: usize,
    shingle_chars: usize,
    permutations: PyReadonlyArray2<'py, u32>,
    signatures: bool,
) -> PyResult<Vec<AnalysisArrays<'py>>> {
    let cut = passages::PassageParams::new(min_tokens, window_tokens, window_step)
        .map_err(PyValueError::new_err)?;
    if shingle_words < 1 || shingle_chars < 1 {
        return Err(PyValueError::new_err(format!(
            "shingle sizes must be at least 1, got {shingle_words} and {shingle_chars}"
        )));
    }
    let (a, b) = permutation_rows(&permutations)?;
    let params = analysis::AnalysisParams {
        passages: cut,
        shingle_words,
        shingle_chars,
        a,
        b,
        signatures,
    };
    let num_perm = params.a.len();
    let sources = texts
        .iter()
        .map(|text| CodePoints::of(text).map(|c| c.chars))
        .collect::<PyResult<Vec<_>>>()?;
    let done = py
        .detach(|| analysis::analyse_many(&sources, &params))
        .map_err(PyValueError::new_err)?;
    Ok(done
        .into_iter()
        .map(|a| {
            let m = if a.signatures.is_empty() {
                0
            } else {
                a.passages.len()
            };
            let signed = Array2::from_shape_vec((m, num_perm), a.signatures).expect("m * num_perm");
            let passages = passage_array(py, &a.passages);
            let (hashes, starts, ends, unspaced, lengths, stems) = token_arrays(py, a.tokens);
            (
                hashes,
                starts,
                ends,
                unspaced,
                lengths,
                stems,
                passages,
                signed.into_pyarray(py),
                a.sentences.into_pyarray(py),
            )
        })
        .collect())
}

/// One document's tokens and passages as `family_keys_many` takes them: token hashes, unspaced
/// flags, lengths, and the passages' token starts and ends.
type FamilyArrays<'py> = (
    PyReadonlyArray1<'py, u64>,
    PyReadonlyArray1<'py, bool>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
);

/// One document's family keys and the passage position of each.
type FamilyKeys<'py> = (Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<i64>>);

/// reuse.engine.families.family_keys of each document, in order, on all cores: (keys, the
/// passage position of each key). anchors = (anchor_words, anchor_tokens, window_tokens),
/// content = (content_chars, content_bands, content_rows), words = (word_bands, word_rows);
/// permutations as analyse_many's.
#[pyfunction]
#[pyo3(signature = (documents, anchors, content, words, permutations, /))]
fn family_keys_many<'py>(
    py: Python<'py>,
    documents: Vec<FamilyArrays<'py>>,
    anchors: (usize, usize, usize),
    content: (usize, usize, usize),
    words: (usize, usize),
    permutations: PyReadonlyArray2<'py, u32>,
) -> PyResult<Vec<FamilyKeys<'py>>> {
    let (a, b) = permutation_rows(&permutations)?;
    let mut used = 0;
    for (name, bands, rows) in [
        ("content", content.1, content.2),
        ("word", words.0, words.1),
    ] {
        let signed = bands.saturating_mul(rows);
        if content.0 > 0 && signed > a.len() {
            return Err(PyValueError::new_err(format!(
                "{name} bands * rows ({signed}) must fit in the {} permutations",
                a.len()
            )));
        }
        used = used.max(signed.min(a.len()));
    }
    let params = families::FamilyParams {
        anchor_words: anchors.0,
        anchor_tokens: anchors.1,
        window_tokens: anchors.2,
        content_chars: content.0,
        content_bands: content.1,
        content_rows: content.2,
        word_bands: words.0,
        word_rows: words.1,
        a: a[..used].to_vec(),
        b: b[..used].to_vec(),
    };
    let held: Vec<_> = documents
        .iter()
        .map(|(h, u, l, s, e)| (values(h), values(u), values(l), values(s), values(e)))
        .collect();
    for (h, u, l, s, e) in &held {
        let n = h.len() as i64;
        if u.len() != h.len() || l.len() != h.len() || s.len() != e.len() {
            return Err(PyValueError::new_err(
                "a document's token arrays, or its passage starts and ends, differ in length",
            ));
        }
        if s.iter()
            .zip(e.iter())
            .any(|(&s, &e)| s < 0 || e <= s || e > n)
        {
            return Err(PyValueError::new_err(
                "passages must be non-empty token ranges within the document",
            ));
        }
    }
    let inputs: Vec<families::FamilyInput<'_>> = held
        .iter()
        .map(|(h, u, l, s, e)| families::FamilyInput {
            hashes: h,
            unspaced: u,
            lengths: l,
            starts: s,
            ends: e,
        })
        .collect();
    let done = py.detach(|| families::family_keys_many(&inputs, &params));
    Ok(done
        .into_iter()
        .map(|(keys, owners)| (keys.into_pyarray(py), owners.into_pyarray(py)))
        .collect())
}

/// One document's alignment arrays as Python passes them: token hashes, stem hashes, trigram
/// hashes, content flags, token starts and ends, sentence starts (`align.AlignInput`'s fields,
/// in that order).
type DocArrays<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<bool>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
);

/// The slices of one document's arrays (copied only when not contiguous).
struct DocValues<'a> {
    token_hashes: Cow<'a, [u64]>,
    stems: Cow<'a, [u64]>,
    trigrams: Cow<'a, [u64]>,
    content: Cow<'a, [bool]>,
    starts: Cow<'a, [i64]>,
    ends: Cow<'a, [i64]>,
    sentences: Cow<'a, [i64]>,
}

impl<'a> DocValues<'a> {
    fn of(arrays: &'a DocArrays<'_>) -> Self {
        DocValues {
            token_hashes: unregistered(&arrays.0),
            stems: unregistered(&arrays.1),
            trigrams: unregistered(&arrays.2),
            content: unregistered(&arrays.3),
            starts: unregistered(&arrays.4),
            ends: unregistered(&arrays.5),
            sentences: unregistered(&arrays.6),
        }
    }

    fn doc(&self) -> align::Doc<'_> {
        align::Doc {
            token_hashes: &self.token_hashes,
            stems: &self.stems,
            trigrams: &self.trigrams,
            content: &self.content,
            starts: &self.starts,
            ends: &self.ends,
            sentences: &self.sentences,
        }
    }
}

/// A match as Python receives it: `(a_start, a_end, b_start, b_end, similarity, kind,
/// a_tokens, b_tokens)`, kind 0 verbatim, 1 near-verbatim, 2 edited, 3 rewritten, 4 summary.
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
/// a, b: (token_hashes u64, trigrams u64, content bool, starts i64, ends i64, sentence
/// starts i64); settings:
/// (min_match_tokens, min_similarity, max_gap_tokens, min_verbatim_tokens, min_edited_tokens).
/// Runs without the GIL.
#[pyfunction]
#[pyo3(name = "align", signature = (a, b, settings, /))]
fn align_documents<'py>(
    py: Python<'py>,
    a: DocArrays<'py>,
    b: DocArrays<'py>,
    settings: (i64, f64, i64, i64, i64),
) -> PyResult<Vec<MatchTuple>> {
    let (va, vb) = (DocValues::of(&a), DocValues::of(&b));
    let (da, db) = (va.doc(), vb.doc());
    da.check().map_err(value_error)?;
    db.check().map_err(value_error)?;
    let settings = align::AlignSettings {
        min_match_tokens: settings.0,
        min_verbatim_tokens: settings.3,
        min_similarity: settings.1,
        max_gap_tokens: settings.2,
        min_edited_tokens: settings.4,
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
/// (token_start, token_end, unspaced), its word and character shingle sizes, and its length in
/// characters (for grading).
type DocumentArgs<'py> = (DocArrays<'py>, PyReadonlyArray2<'py, i64>, i64, i64, i64);

/// What `match_pairs` gives back, as columns: each pair's candidates and verified candidates
/// (two int64 arrays of a value a pair); the indices of the pairs with a match, how many
/// matches each has, and its grade's unrounded parts (an (p, 3) float64 array of aligned,
/// fivegrams, word_pairs, NaN where the smaller side has no evidence of a kind); and their
/// matches, the pairs in order and each pair's in its order: spans (an (m, 4) int64 array of
/// a_start, a_end, b_start, b_end), similarity (float64), kind (uint8, see `MatchTuple`) and
/// tokens (an (m, 2) int64 array of a_tokens, b_tokens).
type MatchedPairs<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<i64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray2<i64>>,
);

/// Verify and align many document pairs: equal to reuse.engine.matching.match_pair on each.
///
/// documents: see `DocumentArgs`; pairs: an (n, 2) int64 array of the documents (indices into
/// `documents`) of each pair; starts: n + 1 int64 offsets, pair i's candidates being rows
/// `starts[i]..starts[i + 1]` of `places`, an (k, 2) int64 array of passage positions (in a,
/// in b); settings: (min_match_tokens, min_similarity, max_gap_tokens, verify_containment,
/// min_verbatim_tokens, min_edited_tokens). A batch's pairs come as columns, and only those with
/// a match come back, graded (reuse.engine.grade.grade's parts), with their matches, as columns
/// (see `MatchedPairs`): most pairs a batch verifies match nothing (93% of PAN13's), and an
/// array handed over and a tuple handed back for each, then a grading job made and a grade
/// read back for each with a match, were most of the Python around this call. Runs without
/// the GIL, the pairs spread over all cores.
#[pyfunction]
#[pyo3(signature = (documents, pairs, starts, places, settings, /))]
fn match_pairs<'py>(
    py: Python<'py>,
    documents: Vec<DocumentArgs<'py>>,
    pairs: PyReadonlyArray2<'py, i64>,
    starts: PyReadonlyArray1<'py, i64>,
    places: PyReadonlyArray2<'py, i64>,
    settings: (i64, f64, i64, f64, i64, i64),
) -> PyResult<MatchedPairs<'py>> {
    let held: Vec<DocValues> = documents.iter().map(|d| DocValues::of(&d.0)).collect();
    let mut docs = Vec::with_capacity(documents.len());
    let mut lengths = Vec::with_capacity(documents.len());
    for (values, (_, passages, words, chars, length)) in held.iter().zip(&documents) {
        lengths.push(*length);
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
    let (pairs, places) = (pairs.as_array(), places.as_array());
    if pairs.ncols() != 2 && pairs.nrows() > 0 {
        return Err(value_error(
            "pairs must be an (n, 2) array of document indices",
        ));
    }
    if places.ncols() != 2 && places.nrows() > 0 {
        return Err(value_error(
            "candidates must be a (k, 2) array of passage positions",
        ));
    }
    let places: Vec<(i64, i64)> = places.rows().into_iter().map(|r| (r[0], r[1])).collect();
    let starts = values(&starts);
    if starts.len() != pairs.nrows() + 1
        || starts.first() != Some(&0)
        || starts.last() != Some(&(places.len() as i64))
        || starts.windows(2).any(|w| w[0] > w[1])
    {
        return Err(value_error(format!(
            "starts must rise from 0 to the {} candidates, one more than the {} pairs",
            places.len(),
            pairs.nrows()
        )));
    }
    let mut jobs = Vec::with_capacity(pairs.nrows());
    for (pair, run) in pairs.rows().into_iter().zip(starts.windows(2)) {
        let (a, b) = (pair[0], pair[1]);
        let inside = |d: i64| 0 <= d && (d as usize) < docs.len();
        if !inside(a) || !inside(b) {
            return Err(value_error(format!(
                "pair ({a}, {b}) names a document the batch does not hold"
            )));
        }
        let (a, b) = (a as usize, b as usize);
        let candidates = &places[run[0] as usize..run[1] as usize];
        verify::check_candidates(&docs[a], &docs[b], candidates).map_err(value_error)?;
        jobs.push(verify::PairJob { a, b, candidates });
    }
    let settings = verify::MatchSettings {
        align: align::AlignSettings {
            min_match_tokens: settings.0,
            min_verbatim_tokens: settings.4,
            min_similarity: settings.1,
            max_gap_tokens: settings.2,
            min_edited_tokens: settings.5,
        },
        verify_containment: settings.3,
    };
    let (outcomes, matched, parts) = py.detach(|| {
        let outcomes = verify::match_pairs(&docs, &jobs, &settings);
        // What the pairs made of each document (anchor keys, shingle sets) is freed here, on all
        // cores and without the GIL, not by one thread holding it.
        docs.into_par_iter().for_each(drop);
        let matched: Vec<usize> = (0..outcomes.len())
            .filter(|&i| !outcomes[i].matches.is_empty())
            .collect();
        let graded: Vec<grade::Doc> = held
            .iter()
            .map(|v| grade::Doc {
                token_hashes: &v.token_hashes,
                content: &v.content,
            })
            .collect();
        let grading: Vec<grade::Job> = matched
            .iter()
            .map(|&i| {
                let (a, b) = (jobs[i].a, jobs[i].b);
                grade::Job {
                    a,
                    b,
                    chars_a: lengths[a],
                    chars_b: lengths[b],
                    matches: outcomes[i]
                        .matches
                        .iter()
                        .map(|m| (m.a.0, m.a.1, m.b.0, m.b.1, m.similarity))
                        .collect(),
                }
            })
            .collect();
        let parts = grade::grade_pairs(&graded, &grading);
        (outcomes, matched, parts)
    });
    let proposed: Vec<i64> = outcomes.iter().map(|o| o.candidates as i64).collect();
    let verified: Vec<i64> = outcomes.iter().map(|o| o.verified as i64).collect();
    let counts: Vec<i64> = matched
        .iter()
        .map(|&i| outcomes[i].matches.len() as i64)
        .collect();
    let none = |part: Option<f64>| part.unwrap_or(f64::NAN);
    let parts: Vec<[f64; 3]> = parts
        .iter()
        .map(|p| [p.aligned, none(p.fivegrams), none(p.word_pairs)])
        .collect();
    let found: Vec<&align::Match> = matched
        .iter()
        .flat_map(|&i| outcomes[i].matches.iter())
        .collect();
    let spans: Vec<[i64; 4]> = found.iter().map(|m| [m.a.0, m.a.1, m.b.0, m.b.1]).collect();
    let tokens: Vec<[i64; 2]> = found.iter().map(|m| [m.a_tokens, m.b_tokens]).collect();
    let similarity: Vec<f64> = found.iter().map(|m| m.similarity).collect();
    let kinds: Vec<u8> = found.iter().map(|m| m.kind as u8).collect();
    let matched: Vec<i64> = matched.iter().map(|&i| i as i64).collect();
    Ok((
        proposed.into_pyarray(py),
        verified.into_pyarray(py),
        matched.into_pyarray(py),
        counts.into_pyarray(py),
        rows_array(py, parts),
        rows_array(py, spans),
        similarity.into_pyarray(py),
        kinds.into_pyarray(py),
        rows_array(py, tokens),
    ))
}

/// Rows of `N` values as an (n, N) array.
fn rows_array<T: numpy::Element + Copy, const N: usize>(
    py: Python<'_>,
    rows: Vec<[T; N]>,
) -> Bound<'_, PyArray2<T>> {
    let n = rows.len();
    let flat: Vec<T> = rows.into_iter().flatten().collect();
    Array2::from_shape_vec((n, N), flat)
        .expect("n rows of N values")
        .into_pyarray(py)
}

/// A pair to grade as Python passes it: the positions of its documents in the batch, their
/// lengths in characters, and its matches' `(a_start, a_end, b_start, b_end, similarity)`.
type GradeJobArgs = (usize, usize, i64, i64, Vec<grade::Span>);

/// A grade's unrounded parts as Python receives them: `(aligned, fivegrams, word_pairs)`.
type GradeTuple = (f64, Option<f64>, Option<f64>);

/// One document as grading takes it: its token hashes and content-word flags.
type GradeDocArgs<'py> = (Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<bool>>);

/// The unrounded parts `(aligned, fivegrams, word_pairs)` of reuse.engine.grade.grade for many
/// document pairs (None where the smaller side has no evidence of a kind).
///
/// documents: (token_hashes u64, content bool) each; pairs: see `GradeJobArgs`. Runs without
/// the GIL, spread over all cores; results in the order of `pairs`.
#[pyfunction]
#[pyo3(signature = (documents, pairs, /))]
fn grade_pairs<'py>(
    py: Python<'py>,
    documents: Vec<GradeDocArgs<'py>>,
    pairs: Vec<GradeJobArgs>,
) -> PyResult<Vec<GradeTuple>> {
    let hashes: Vec<Cow<[u64]>> = documents.iter().map(|(h, _)| unregistered(h)).collect();
    let flags: Vec<Cow<[bool]>> = documents.iter().map(|(_, c)| unregistered(c)).collect();
    let mut docs = Vec::with_capacity(documents.len());
    for (hashes, content) in hashes.iter().zip(&flags) {
        if hashes.len() != content.len() {
            return Err(value_error("a document needs one content flag per token"));
        }
        docs.push(grade::Doc {
            token_hashes: hashes,
            content,
        });
    }
    let mut jobs = Vec::with_capacity(pairs.len());
    for (a, b, chars_a, chars_b, matches) in pairs {
        if a >= docs.len() || b >= docs.len() {
            return Err(value_error(format!(
                "pair ({a}, {b}) names a document the batch does not hold"
            )));
        }
        jobs.push(grade::Job {
            a,
            b,
            chars_a,
            chars_b,
            matches,
        });
    }
    let parts = py.detach(|| grade::grade_pairs(&docs, &jobs));
    Ok(parts
        .iter()
        .map(|p| (p.aligned, p.fivegrams, p.word_pairs))
        .collect())
}

/// The columns of a band-key index segment as slices (see `segment::Segment`); each must be
/// contiguous (a memory map is).
fn segment_view<'a>(
    keys: &'a PyReadonlyArray1<'_, u64>,
    prel: &'a PyReadonlyArray1<'_, u32>,
    vrel: &'a PyReadonlyArray1<'_, u32>,
    rank: &'a PyReadonlyArray1<'_, u8>,
    sums: &'a PyReadonlyArray1<'_, u64>,
) -> PyResult<segment::Segment<'a>> {
    let view = segment::Segment {
        keys: keys.as_slice()?,
        prel: prel.as_slice()?,
        vrel: vrel.as_slice()?,
        rank: rank.as_slice()?,
        sums: sums.as_slice()?,
    };
    if !view.well_formed() {
        return Err(PyValueError::new_err("segment columns of unequal lengths"));
    }
    Ok(view)
}

/// A band-key index segment's columns as Python receives them: keys, passage offsets,
/// version offsets, ranks and block checksums.
type SegmentColumns<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u8>>,
    Bound<'py, PyArray1<u64>>,
);

/// Offsets from `base` of ids that must lie in `[base, base + 2**32)`.
fn offsets(ids: &[i64], base: i64, what: &str) -> PyResult<Vec<u32>> {
    // Made at its full size: collected through a `Result`, the vector has no size to start
    // from and grows by doubling.
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        out.push(u32::try_from(id - base).map_err(|_| {
            value_error(format!(
                "a segment's {what} ids must lie in [{base}, {base} + 2**32)"
            ))
        })?);
    }
    Ok(out)
}

/// A band-key index segment's columns from its rows `(key, passage_id, version_id)` in any
/// order (a merge's parts one after another are merged, not sorted again): sorted by key,
/// version and passage, passages and versions as offsets from `lo` and `vlo`, each row's
/// version ranked among its key's versions (capped at `rank_cap`), block checksums. Runs
/// without the GIL.
#[pyfunction]
#[pyo3(signature = (keys, passages, versions, lo, vlo, rank_cap, /))]
fn segment_build<'py>(
    py: Python<'py>,
    keys: PyReadonlyArray1<'py, u64>,
    passages: PyReadonlyArray1<'py, i64>,
    versions: PyReadonlyArray1<'py, i64>,
    lo: i64,
    vlo: i64,
    rank_cap: u8,
) -> PyResult<SegmentColumns<'py>> {
    let (keys, passages, versions) = (values(&keys), values(&passages), values(&versions));
    if passages.len() != keys.len() || versions.len() != keys.len() {
        return Err(value_error("segment rows of unequal lengths"));
    }
    let prel = offsets(&passages, lo, "passage")?;
    let vrel = offsets(&versions, vlo, "version")?;
    let built = py.detach(|| segment::build(&keys, &prel, &vrel, rank_cap));
    Ok(segment_columns(py, built))
}

/// A segment's columns handed to Python as arrays.
fn segment_columns(py: Python<'_>, columns: segment::Columns) -> SegmentColumns<'_> {
    (
        columns.keys.into_pyarray(py),
        columns.prel.into_pyarray(py),
        columns.vrel.into_pyarray(py),
        columns.rank.into_pyarray(py),
        columns.sums.into_pyarray(py),
    )
}

/// A merge of sorted band-key index segments into one, a chunk of rows at a time: each call
/// of `next` gives the merged segment's next rows as `segment_build` would make them (whole
/// blocks, checksummed at their places); empty arrays when it is done.
#[pyclass(module = "reuse.engine._native")]
struct SegmentMerge {
    merge: segment::Merge,
}

#[pymethods]
impl SegmentMerge {
    #[new]
    #[pyo3(signature = (parts, /))]
    fn new(parts: usize) -> Self {
        SegmentMerge {
            merge: segment::Merge::new(parts),
        }
    }

    /// The next rows, at most `max_rows`, of the merge of the parts (each part's keys,
    /// passage offsets and version offsets, and the `(passage, version)` amounts that shift
    /// them to the merged segment's `lo` and `vlo`), ranks capped at `rank_cap`. Runs without
    /// the GIL.
    #[pyo3(signature = (keys, prel, vrel, shifts, max_rows, rank_cap, /))]
    #[allow(clippy::too_many_arguments)] // three columns of each part, their shifts and the chunk
    fn next<'py>(
        &mut self,
        py: Python<'py>,
        keys: Vec<PyReadonlyArray1<'py, u64>>,
        prel: Vec<PyReadonlyArray1<'py, u32>>,
        vrel: Vec<PyReadonlyArray1<'py, u32>>,
        shifts: Vec<(u32, u32)>,
        max_rows: usize,
        rank_cap: u8,
    ) -> PyResult<SegmentColumns<'py>> {
        let count = keys.len();
        if prel.len() != count || vrel.len() != count || shifts.len() != count {
            return Err(value_error(
                "a merge needs three columns and shifts for each part",
            ));
        }
        let columns: Vec<_> = (0..count)
            .map(|k| (values(&keys[k]), values(&prel[k]), values(&vrel[k])))
            .collect();
        let parts: Vec<segment::Part<'_>> = columns
            .iter()
            .zip(&shifts)
            .map(
                |((k, p, v), &(passage_shift, version_shift))| segment::Part {
                    keys: k,
                    prel: p,
                    vrel: v,
                    passage_shift,
                    version_shift,
                },
            )
            .collect();
        let merge = &mut self.merge;
        let out = py
            .detach(|| merge.next(&parts, max_rows, rank_cap))
            .map_err(PyValueError::new_err)?;
        Ok(segment_columns(py, out))
    }
}

/// Verify the blocks `first_block..end_block` (clipped to the segment's) of a band-key index
/// segment not marked in `checked`, marking each; a block whose checksum fails raises
/// ValueError. Runs without the GIL.
#[pyfunction]
#[pyo3(signature = (keys, prel, vrel, rank, sums, checked, first_block, end_block, /))]
#[allow(clippy::too_many_arguments)] // a segment's five columns, its flags and the range
fn segment_check(
    py: Python<'_>,
    keys: PyReadonlyArray1<'_, u64>,
    prel: PyReadonlyArray1<'_, u32>,
    vrel: PyReadonlyArray1<'_, u32>,
    rank: PyReadonlyArray1<'_, u8>,
    sums: PyReadonlyArray1<'_, u64>,
    mut checked: PyReadwriteArray1<'_, bool>,
    first_block: usize,
    end_block: usize,
) -> PyResult<()> {
    let view = segment_view(&keys, &prel, &vrel, &rank, &sums)?;
    let checked = checked.as_slice_mut()?;
    py.detach(|| view.check_blocks(checked, first_block..end_block))
        .map_err(PyValueError::new_err)
}

/// Add `keys` to a band-key index segment's membership filter `words`, in place.
#[pyfunction]
#[pyo3(signature = (words, keys, /))]
fn segment_filter_add(
    py: Python<'_>,
    mut words: PyReadwriteArray1<'_, u64>,
    keys: PyReadonlyArray1<'_, u64>,
) -> PyResult<()> {
    let words = words.as_slice_mut()?;
    let keys = values(&keys);
    py.detach(|| segment::filter_add(words, &keys));
    Ok(())
}

/// The `queries` a segment's membership filter `words` may hold (every key added to it, and a
/// few others), in their order; each page of `page_words` words of the filter is verified
/// against its sum in `sums` when a query first reads it and marked in `checked` (see
/// `segment::filter_select`): a page that fails raises ValueError.
#[pyfunction]
#[pyo3(signature = (words, sums, checked, page_words, queries, /))]
fn segment_filter_select<'py>(
    py: Python<'py>,
    words: PyReadonlyArray1<'py, u64>,
    sums: PyReadonlyArray1<'py, u64>,
    mut checked: PyReadwriteArray1<'py, bool>,
    page_words: usize,
    queries: PyReadonlyArray1<'py, u64>,
) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let (words, sums, queries) = (values(&words), values(&sums), values(&queries));
    let checked = checked.as_slice_mut()?;
    let held = py
        .detach(|| segment::filter_select(&words, &sums, checked, page_words, &queries))
        .map_err(PyValueError::new_err)?;
    Ok(held.into_pyarray(py))
}

/// The XXH3-64 of each page of `page_words` words of `words` (their little-endian bytes; the
/// last page may be shorter): a segment's filter pages and its fences are written with theirs.
#[pyfunction]
#[pyo3(signature = (words, page_words, /))]
fn segment_page_sums<'py>(
    py: Python<'py>,
    words: PyReadonlyArray1<'py, u64>,
    page_words: usize,
) -> Bound<'py, PyArray1<u64>> {
    let words = values(&words);
    py.detach(|| segment::page_sums(&words, page_words))
        .into_pyarray(py)
}

/// The columns of the template blocks `templates::learn` found: site, hash, documents holding
/// it, and its first occurrence's version, start and end.
type LearnedColumns<'py> = (
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
);

/// The blocks sites repeat across at least `cap` different articles (their templates; see
/// `templates::learn`) from the blocks of every current document of the sites: each row's site
/// (an index), document, text hash, version, start and end. Runs without the GIL.
#[pyfunction]
#[pyo3(signature = (site, doc, hash, version, start, end, cap, share, pair_limit, /))]
#[allow(clippy::too_many_arguments)] // the blocks' six columns and the rule's three settings
fn learn_site_boilerplate<'py>(
    py: Python<'py>,
    site: PyReadonlyArray1<'py, u32>,
    doc: PyReadonlyArray1<'py, i64>,
    hash: PyReadonlyArray1<'py, u64>,
    version: PyReadonlyArray1<'py, i64>,
    start: PyReadonlyArray1<'py, i64>,
    end: PyReadonlyArray1<'py, i64>,
    cap: usize,
    share: f64,
    pair_limit: usize,
) -> PyResult<LearnedColumns<'py>> {
    let (site, doc, hash) = (values(&site), values(&doc), values(&hash));
    let (version, start, end) = (values(&version), values(&start), values(&end));
    let blocks = templates::Blocks {
        site: &site,
        doc: &doc,
        hash: &hash,
        version: &version,
        start: &start,
        end: &end,
    };
    let out = py
        .detach(|| templates::learn(&blocks, cap, share, pair_limit))
        .map_err(PyValueError::new_err)?;
    Ok((
        out.site.into_pyarray(py),
        out.hash.into_pyarray(py),
        out.docs.into_pyarray(py),
        out.version.into_pyarray(py),
        out.start.into_pyarray(py),
        out.end.into_pyarray(py),
    ))
}

/// The checksum of each record of the signature store (`warehouse/sigstore.py`): the first
/// `hashed` words of each row of the uint64 matrix `words` hashed by XXH3-64 (their little-endian
/// bytes) with seed `ids[k]`. Runs without the GIL, on all cores.
#[pyfunction]
#[pyo3(signature = (words, ids, hashed, /))]
fn record_checksums<'py>(
    py: Python<'py>,
    words: PyReadonlyArray2<'py, u64>,
    ids: PyReadonlyArray1<'py, i64>,
    hashed: usize,
) -> PyResult<Bound<'py, PyArray1<u64>>> {
    let (rows, width) = words.as_array().dim();
    let (words, ids) = (matrix(&words), values(&ids));
    if ids.len() != rows || hashed > width {
        return Err(PyValueError::new_err(format!(
            "{rows} records of {width} words against {} ids, {hashed} words hashed",
            ids.len()
        )));
    }
    let sums = py.detach(|| records::record_checksums(&words, width, hashed, &ids));
    Ok(sums.into_pyarray(py))
}

/// The `(source block, target block)` pairs of two versions' folded block texts, sorted (see
/// [`blockpairs`]): equal texts first, then the most shared word pairs, at least `min_shared`
/// and `share` of the smaller block's. Runs without the GIL.
#[pyfunction]
#[pyo3(signature = (source, target, min_shared, share, /))]
fn pair_blocks(
    py: Python<'_>,
    source: Vec<Bound<'_, PyString>>,
    target: Vec<Bound<'_, PyString>>,
    min_shared: usize,
    share: f64,
) -> PyResult<Vec<(usize, usize)>> {
    let chars = |texts: Vec<Bound<'_, PyString>>| -> PyResult<Vec<Vec<char>>> {
        texts.iter().map(|t| Ok(CodePoints::of(t)?.chars)).collect()
    };
    let (source, target) = (chars(source)?, chars(target)?);
    Ok(py.detach(|| blockpairs::pair_blocks(&source, &target, min_shared, share)))
}

/// The parts of each side's spans (of `text_a` and `text_b`) whose words are shared, three in a
/// row, with the other side's spans, joined across gaps of up to three characters (see
/// [`words`]): what lineage counts as shared text. Runs without the GIL.
#[pyfunction]
#[pyo3(signature = (text_a, spans_a, text_b, spans_b, /))]
fn shared_words(
    py: Python<'_>,
    text_a: &Bound<'_, PyString>,
    spans_a: words::Spans,
    text_b: &Bound<'_, PyString>,
    spans_b: words::Spans,
) -> PyResult<(words::Spans, words::Spans)> {
    let (a, b) = (CodePoints::of(text_a)?, CodePoints::of(text_b)?);
    Ok(py.detach(|| words::shared_words(&a.chars, &spans_a, &b.chars, &spans_b)))
}

/// Band-key rows as Python receives them (those a segment found, or sorted): keys, passage ids
/// and version ids.
type BandRows<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
);

/// The rows of a band-key index segment whose key is one of `queries` (sorted, unique), of the
/// first `cap` versions holding the key when `cap` is given: `(keys, passage ids, version ids)`,
/// the ids offset by `lo` and `vlo`. Every block an answer rests on is verified (once:
/// `checked` marks them); a damaged segment raises ValueError. With `fences` (every `stride`-th
/// key), each query is taken to its page through them rather than by galloping from the one
/// before: faster for a few queries. Runs without the GIL.
#[pyfunction]
#[pyo3(signature = (keys, prel, vrel, rank, sums, checked, queries, cap, lo, vlo, fences, stride, /))]
#[allow(clippy::too_many_arguments)] // a segment's five columns, its state and the query
fn segment_lookup<'py>(
    py: Python<'py>,
    keys: PyReadonlyArray1<'py, u64>,
    prel: PyReadonlyArray1<'py, u32>,
    vrel: PyReadonlyArray1<'py, u32>,
    rank: PyReadonlyArray1<'py, u8>,
    sums: PyReadonlyArray1<'py, u64>,
    mut checked: PyReadwriteArray1<'py, bool>,
    queries: PyReadonlyArray1<'py, u64>,
    cap: Option<u8>,
    lo: i64,
    vlo: i64,
    fences: Option<PyReadonlyArray1<'py, u64>>,
    stride: usize,
) -> PyResult<BandRows<'py>> {
    let view = segment_view(&keys, &prel, &vrel, &rank, &sums)?;
    let checked = checked.as_slice_mut()?;
    let queries = values(&queries);
    let fence_keys = fences.as_ref().map(values);
    if fence_keys.is_some() && stride == 0 {
        return Err(PyValueError::new_err("fences need a stride of at least 1"));
    }
    let fences = fence_keys
        .as_deref()
        .map(|keys| segment::Fences { keys, stride });
    let found = py
        .detach(|| view.lookup(checked, &queries, cap, fences))
        .map_err(PyValueError::new_err)?;
    let passages: Vec<i64> = found.prel.iter().map(|&p| lo + i64::from(p)).collect();
    let versions: Vec<i64> = found.vrel.iter().map(|&v| vlo + i64::from(v)).collect();
    Ok((
        found.keys.into_pyarray(py),
        passages.into_pyarray(py),
        versions.into_pyarray(py),
    ))
}

/// Band-key rows as Python passes them: keys, passage ids and version ids.
type BandRowArgs<'py> = (
    PyReadonlyArray1<'py, u64>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
);

/// Candidate passage pairs from band-key rows: `(old_passage, old_version, new_passage,
/// new_version)` for each held row (stored or probe) and each probe row of its key where the
/// held passage is older and of another version, of the first `cap` versions holding the key
/// when `cap` is given; an (n, 4) int64 array, unique rows, sorted. The stored rows come in
/// parts (each index segment's, the tail's), each a (keys, passages, versions) tuple. Runs
/// without the GIL, sorting on all cores.
#[pyfunction]
#[pyo3(signature = (stored, probe_keys, probe_passages, probe_versions, cap, /))]
fn candidate_pairs<'py>(
    py: Python<'py>,
    stored: Vec<BandRowArgs<'py>>,
    probe_keys: PyReadonlyArray1<'py, u64>,
    probe_passages: PyReadonlyArray1<'py, i64>,
    probe_versions: PyReadonlyArray1<'py, i64>,
    cap: Option<u64>,
) -> PyResult<Bound<'py, PyArray2<i64>>> {
    let held: Vec<_> = stored
        .iter()
        .map(|(k, p, v)| (values(k), values(p), values(v)))
        .collect();
    let stored: Vec<candidates::Rows<'_>> = held
        .iter()
        .map(|(k, p, v)| candidates::Rows {
            keys: k,
            passages: p,
            versions: v,
        })
        .collect();
    let (pk, pp, pv) = (
        values(&probe_keys),
        values(&probe_passages),
        values(&probe_versions),
    );
    let probe = candidates::Rows {
        keys: &pk,
        passages: &pp,
        versions: &pv,
    };
    if !stored.iter().all(candidates::Rows::well_formed) || !probe.well_formed() {
        return Err(PyValueError::new_err("band-key columns of unequal lengths"));
    }
    let pairs = py.detach(|| candidates::candidate_pairs(&stored, probe, cap));
    let n = pairs.len();
    let flat: Vec<i64> = pairs.into_iter().flatten().collect();
    Ok(Array2::from_shape_vec((n, 4), flat)
        .expect("n * 4 ids")
        .into_pyarray(py))
}

/// Band-key rows sorted by key, version and passage: `(keys, passages, versions)` as uint64,
/// int64 and int64 arrays (the order of candidate_pairs and of the index's segments, which
/// then only check it). Runs without the GIL, sorting on all cores.
#[pyfunction]
#[pyo3(signature = (keys, passages, versions, /))]
fn sort_band_rows<'py>(
    py: Python<'py>,
    keys: PyReadonlyArray1<'py, u64>,
    passages: PyReadonlyArray1<'py, i64>,
    versions: PyReadonlyArray1<'py, i64>,
) -> PyResult<BandRows<'py>> {
    let (k, p, v) = (values(&keys), values(&passages), values(&versions));
    let rows = candidates::Rows {
        keys: &k,
        passages: &p,
        versions: &v,
    };
    if !rows.well_formed() {
        return Err(PyValueError::new_err("band-key columns of unequal lengths"));
    }
    let (k, p, v) = py.detach(|| candidates::sort_rows(rows));
    Ok((k.into_pyarray(py), p.into_pyarray(py), v.into_pyarray(py)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(shingle_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(minhash_signatures, m)?)?;
    m.add_function(wrap_pyfunction!(band_keys, m)?)?;
    m.add_function(wrap_pyfunction!(block_hashes, m)?)?;
    m.add_function(wrap_pyfunction!(signature_agreements, m)?)?;
    m.add_function(wrap_pyfunction!(analyse_many, m)?)?;
    m.add_function(wrap_pyfunction!(family_keys_many, m)?)?;
    m.add_function(wrap_pyfunction!(py_normalize, m)?)?;
    m.add_function(wrap_pyfunction!(py_tokenize, m)?)?;
    m.add_function(wrap_pyfunction!(py_paragraph_spans, m)?)?;
    m.add_function(wrap_pyfunction!(py_passages, m)?)?;
    m.add_function(wrap_pyfunction!(align_documents, m)?)?;
    m.add_function(wrap_pyfunction!(match_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(grade_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(sequence_matched, m)?)?;
    m.add_function(wrap_pyfunction!(segment_build, m)?)?;
    m.add_function(wrap_pyfunction!(candidate_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(sort_band_rows, m)?)?;
    m.add_function(wrap_pyfunction!(segment_check, m)?)?;
    m.add_function(wrap_pyfunction!(segment_lookup, m)?)?;
    m.add_function(wrap_pyfunction!(segment_filter_add, m)?)?;
    m.add_function(wrap_pyfunction!(segment_filter_select, m)?)?;
    m.add_function(wrap_pyfunction!(segment_page_sums, m)?)?;
    m.add_function(wrap_pyfunction!(learn_site_boilerplate, m)?)?;
    m.add_function(wrap_pyfunction!(record_checksums, m)?)?;
    m.add_function(wrap_pyfunction!(shared_words, m)?)?;
    m.add_function(wrap_pyfunction!(pair_blocks, m)?)?;
    m.add_class::<SegmentMerge>()?;
    m.add(
        "__all__",
        [
            "SegmentMerge",
            "align",
            "analyse_many",
            "band_keys",
            "block_hashes",
            "candidate_pairs",
            "family_keys_many",
            "grade_pairs",
            "learn_site_boilerplate",
            "match_pairs",
            "minhash_signatures",
            "normalize",
            "paragraph_spans",
            "passages",
            "record_checksums",
            "segment_build",
            "segment_check",
            "segment_filter_add",
            "segment_filter_select",
            "segment_lookup",
            "segment_page_sums",
            "sequence_matched",
            "shingle_hashes",
            "signature_agreements",
            "sort_band_rows",
            "tokenize",
        ],
    )?;
    Ok(())
}
