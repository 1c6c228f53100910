//! A document's whole analysis in one call, and a batch of documents on all cores: normalise,
//! tokenise, cut passages, hash shingles and sign every passage (`reuse/engine/analysis.py`'s
//! `analyse` with the Python engine, step for step).

use rayon::prelude::*;

use crate::kernels::{check_spans, shingle_hashes, signatures};
use crate::normalize::normalize_chars;
use crate::passages::{passages_chars, PassageParams, PassageRow};
use crate::seeds::sentence_starts;
use crate::tokens::{tokenize_normalized, Tokens};

/// Passages signed at once: bounds the kernel's work arrays for a long document (whose pieces
/// and minima grow with the passages signed together), as `analysis.SIGNATURE_CHUNK` does.
const SIGNATURE_CHUNK: usize = 4096;

/// Everything an analysis depends on (the fingerprint settings of `reuse.config.Settings`).
#[derive(Debug, Clone)]
pub struct AnalysisParams {
    /// How passages are cut.
    pub passages: PassageParams,
    /// Shingle size, in tokens, of passages in scripts with spaces.
    pub shingle_words: usize,
    /// Shingle size, in characters, of passages in scripts without spaces.
    pub shingle_chars: usize,
    /// The permutations' multipliers (`MinHasher.permutations[0]`).
    pub a: Vec<u32>,
    /// The permutations' offsets (`MinHasher.permutations[1]`).
    pub b: Vec<u32>,
    /// Whether to sign the passages (a stored document analysed again has its signatures).
    pub signatures: bool,
}

/// One document's analysis.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Its tokens.
    pub tokens: Tokens,
    /// Its passages, in position order.
    pub passages: Vec<PassageRow>,
    /// One row of `a.len()` values per passage, row-major; empty when not asked for.
    pub signatures: Vec<u32>,
    /// The tokens where its sentences start ([`crate::seeds::sentence_starts`]).
    pub sentences: Vec<i64>,
}

/// The analysis of the text whose code points are `chars`, or why its passages cannot be signed
/// (a passage shorter than its shingle size: the settings allow none).
///
/// # Panics
/// If a shingle size is 0 (the binding checks them first).
pub fn analyse_chars(chars: &[char], params: &AnalysisParams) -> Result<Analysis, String> {
    let tokens = tokenize_normalized(&normalize_chars(chars));
    let passages = passages_chars(chars, &tokens, &params.passages);
    let sentences = sentence_starts(chars, &tokens.starts, &tokens.ends);
    let k = params.a.len();
    if !params.signatures || passages.is_empty() || k == 0 {
        return Ok(Analysis {
            tokens,
            passages,
            signatures: Vec::new(),
            sentences,
        });
    }
    let mut out = vec![0u32; passages.len() * k];
    for (n, unspaced) in [(params.shingle_words, false), (params.shingle_chars, true)] {
        let rows: Vec<usize> = (0..passages.len())
            .filter(|&i| passages[i].unspaced == unspaced)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let shingles = shingle_hashes(&tokens.hashes, n);
        for part in rows.chunks(SIGNATURE_CHUNK) {
            let starts: Vec<i64> = part
                .iter()
                .map(|&i| passages[i].token_start as i64)
                .collect();
            let ends: Vec<i64> = part
                .iter()
                .map(|&i| passages[i].token_end as i64 - n as i64 + 1)
                .collect();
            check_spans(&starts, &ends, shingles.len()).map_err(|e| e.to_string())?;
            let signed = signatures(&shingles, &starts, &ends, &params.a, &params.b);
            for (row, values) in part.iter().zip(signed.chunks_exact(k)) {
                out[row * k..(row + 1) * k].copy_from_slice(values);
            }
        }
    }
    Ok(Analysis {
        tokens,
        passages,
        signatures: out,
        sentences,
    })
}

/// The analyses of many documents, in order, computed in parallel.
pub fn analyse_many(texts: &[Vec<char>], params: &AnalysisParams) -> Result<Vec<Analysis>, String> {
    texts
        .par_iter()
        .map(|chars| analyse_chars(chars, params))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(signatures: bool) -> AnalysisParams {
        AnalysisParams {
            passages: PassageParams::new(3, 4, 2).expect("valid"),
            shingle_words: 2,
            shingle_chars: 2,
            a: vec![1, 3, 5],
            b: vec![0, 7, 11],
            signatures,
        }
    }

    #[test]
    fn every_passage_is_signed_by_its_own_shingles() {
        let chars: Vec<char> = "one two three four five six seven".chars().collect();
        let analysis = analyse_chars(&chars, &params(true)).expect("signable");
        assert!(!analysis.passages.is_empty());
        assert_eq!(analysis.signatures.len(), 3 * analysis.passages.len());
        let shingles = shingle_hashes(&analysis.tokens.hashes, 2);
        for (p, row) in analysis
            .passages
            .iter()
            .zip(analysis.signatures.chunks_exact(3))
        {
            let alone = signatures(
                &shingles,
                &[p.token_start as i64],
                &[p.token_end as i64 - 1],
                &[1, 3, 5],
                &[0, 7, 11],
            );
            assert_eq!(row, &alone[..]);
        }
    }

    #[test]
    fn without_signatures_and_in_a_batch() {
        let texts: Vec<Vec<char>> = ["a b c d e", "", "x y"]
            .iter()
            .map(|t| t.chars().collect())
            .collect();
        let found = analyse_many(&texts, &params(false)).expect("no signatures to fail");
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|a| a.signatures.is_empty()));
        assert!(found[1].passages.is_empty() && found[2].passages.is_empty());
    }

    #[test]
    fn passages_shorter_than_a_shingle_are_refused() {
        let mut p = params(true);
        p.shingle_words = 9;
        let chars: Vec<char> = "one two three four".chars().collect();
        assert!(analyse_chars(&chars, &p).is_err());
    }
}
