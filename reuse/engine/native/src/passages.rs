//! Paragraphs and passages of a document: exactly `reuse.engine.passages`.
//!
//! Paragraphs are blocks separated by blank lines; text without blank lines is read line by line
//! unless its lines are hard-wrapped; paragraphs longer than [`LONG_PARAGRAPH`] characters are
//! cut into runs of whole sentences. Passages are the paragraphs with enough tokens plus
//! overlapping token windows. All offsets are code-point indices of the original text.

use crate::tokens::Tokens;
use crate::unicode::{self, SPACE};

/// `passages._LONG_PARAGRAPH`: longer paragraphs are cut into runs of sentences.
const LONG_PARAGRAPH: usize = 1500;
/// `passages._SENTENCE_RUN`: the length a run of sentences reaches before it is cut.
const SENTENCE_RUN: usize = 500;

/// How passages are cut (the fields of `reuse.config.Settings` of the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassageParams {
    /// Passages with fewer tokens are left out (at least 1).
    pub min_tokens: usize,
    /// Tokens in a window (at least 1).
    pub window_tokens: usize,
    /// Tokens between the starts of two windows (at least 1).
    pub window_step: usize,
}

impl PassageParams {
    /// The parameters, or why they cannot cut passages.
    pub fn new(
        min_tokens: usize,
        window_tokens: usize,
        window_step: usize,
    ) -> Result<Self, String> {
        if min_tokens < 1 || window_tokens < 1 || window_step < 1 {
            return Err(format!(
                "min_tokens, window_tokens and window_step must be at least 1, got \
                 {min_tokens}, {window_tokens}, {window_step}"
            ));
        }
        Ok(Self {
            min_tokens,
            window_tokens,
            window_step,
        })
    }
}

/// What a passage is (`reuse.models.PassageKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassageKind {
    /// A paragraph of the text.
    Paragraph = 0,
    /// A window of `window_tokens` tokens.
    Window = 1,
}

/// One passage; its position is its index in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassageRow {
    /// Paragraph or window.
    pub kind: PassageKind,
    /// First token.
    pub token_start: usize,
    /// One past the last token.
    pub token_end: usize,
    /// Original code-point offset of the first token's start.
    pub char_start: i64,
    /// Original code-point offset of the last token's end.
    pub char_end: i64,
    /// True when most of its tokens are unspaced.
    pub unspaced: bool,
}

/// `[ \t\r\f\v\u00a0]`: the blanks a blank line may hold.
fn blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\x0c' | '\x0b' | '\u{a0}')
}

fn space(c: char) -> bool {
    unicode::has(c, SPACE)
}

/// For each position `i` (and `src.len()`), whether `src[i..]` starts with blanks then `\n`.
fn blank_then_newline(src: &[char]) -> Vec<bool> {
    let mut reach = vec![false; src.len() + 1];
    for i in (0..src.len()).rev() {
        reach[i] = src[i] == '\n' || (blank(src[i]) && reach[i + 1]);
    }
    reach
}

/// `passages._is_hard_wrapped` of the lines `spans` of `src`.
fn hard_wrapped(src: &[char], spans: &[(usize, usize)]) -> bool {
    let mut lengths: Vec<usize> = spans
        .iter()
        .filter(|&&(s, e)| src[s..e].iter().any(|&c| !space(c)))
        .map(|&(s, e)| e - s)
        .collect();
    if lengths.len() < 4 {
        return false;
    }
    let width = lengths.iter().copied().max().unwrap_or(0);
    if width > 120 {
        return false;
    }
    let near_width = lengths
        .iter()
        .filter(|&&n| n as f64 >= 0.6 * width as f64)
        .count();
    if (near_width as f64) < 0.8 * lengths.len() as f64 {
        return false;
    }
    lengths.sort_unstable();
    let mid = lengths.len() / 2;
    // statistics.median(lengths) >= 40, without the float: the mean of the middle two for an even count.
    match lengths.len() % 2 {
        1 => lengths[mid] >= 40,
        _ => lengths[mid - 1] + lengths[mid] >= 80,
    }
}

/// The lines of `src` split at `\r\n`, `\r` or `\n` (`passages._LINE`).
fn lines(src: &[char]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let (mut pos, mut i) = (0, 0);
    while i < src.len() {
        let brk = match src[i] {
            '\r' if src.get(i + 1) == Some(&'\n') => 2,
            '\r' | '\n' => 1,
            _ => 0,
        };
        if brk > 0 {
            spans.push((pos, i));
            i += brk;
            pos = i;
        } else {
            i += 1;
        }
    }
    spans.push((pos, src.len()));
    spans
}

/// `passages._sentence_runs`: `src[start..end]` cut after sentence ends into runs of about
/// [`SENTENCE_RUN`] characters.
fn sentence_runs(src: &[char], start: usize, end: usize, runs: &mut Vec<(usize, usize)>) {
    let mut run_start = start;
    let mut p = start;
    while p < end {
        let c = src[p];
        let mut q = p + 1;
        let matched = if matches!(c, '.' | '!' | '?') {
            while q < end && matches!(src[q], '"' | '\'' | '\u{201d}' | '\u{2019}' | ')' | ']') {
                q += 1;
            }
            let spaced = q < end && space(src[q]);
            while q < end && space(src[q]) {
                q += 1;
            }
            spaced
        } else if unicode::sentence_terminal(c) {
            while q < end && space(src[q]) {
                q += 1;
            }
            true
        } else {
            false
        };
        if !matched {
            p += 1;
            continue;
        }
        if q - run_start >= SENTENCE_RUN {
            runs.push((run_start, q));
            run_start = q;
        }
        p = q;
    }
    if run_start < end {
        runs.push((run_start, end));
    }
}

/// Character spans of the paragraphs of the text whose code points are `src` (surrounding
/// whitespace excluded): `passages.paragraph_spans`.
pub fn paragraph_spans_chars(src: &[char]) -> Vec<(usize, usize)> {
    let n = src.len();
    let reach = blank_then_newline(src);
    let has_blank_line = (0..n).any(|i| src[i] == '\n' && reach[i + 1]);
    let pieces = if has_blank_line {
        // Maximal runs of characters other than a newline that starts a blank line.
        let mut pieces = Vec::new();
        let mut start = None;
        for i in 0..=n {
            let inside = i < n && (src[i] != '\n' || !reach[i + 1]);
            match (inside, start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    pieces.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        pieces
    } else if src.iter().any(|&c| c == '\n' || c == '\r') {
        let spans = lines(src);
        if hard_wrapped(src, &spans) {
            vec![(0, n)]
        } else {
            spans
        }
    } else {
        vec![(0, n)]
    };
    let mut runs = Vec::new();
    for (start, end) in pieces {
        if end - start > LONG_PARAGRAPH {
            sentence_runs(src, start, end, &mut runs);
        } else {
            runs.push((start, end));
        }
    }
    runs.into_iter()
        .filter_map(|(start, end)| {
            let lead = src[start..end].iter().take_while(|&&c| space(c)).count();
            let trail = src[start + lead..end]
                .iter()
                .rev()
                .take_while(|&&c| space(c))
                .count();
            (start + lead < end - trail).then_some((start + lead, end - trail))
        })
        .collect()
}

/// Character spans of the paragraphs of `text`, in code points.
pub fn paragraph_spans(text: &str) -> Vec<(usize, usize)> {
    let src: Vec<char> = text.chars().collect();
    paragraph_spans_chars(&src)
}

/// The passages of a document whose code points are `src`, given its tokens: `passages.passages`.
///
/// Paragraphs with at least `min_tokens` tokens, then windows of `window_tokens` tokens every
/// `window_step` (the last one ending at the last token), a window equal to a paragraph left out;
/// sorted by first token, longer first.
pub fn passages_chars(src: &[char], tokens: &Tokens, params: &PassageParams) -> Vec<PassageRow> {
    let count = tokens.len();
    if count < params.min_tokens {
        return Vec::new();
    }
    let starts = &tokens.starts;
    let mut ranges: Vec<(PassageKind, usize, usize)> = Vec::new();
    for (char_start, char_end) in paragraph_spans_chars(src) {
        let t0 = starts.partition_point(|&s| s < char_start as i64);
        let t1 = starts.partition_point(|&s| s < char_end as i64);
        if t1 - t0 >= params.min_tokens {
            ranges.push((PassageKind::Paragraph, t0, t1));
        }
    }
    let (size, step) = (params.window_tokens, params.window_step);
    if count > size {
        let mut seen: Vec<(usize, usize)> = ranges.iter().map(|&(_, t0, t1)| (t0, t1)).collect();
        seen.sort_unstable();
        let mut window_starts: Vec<usize> = (0..=count - size).step_by(step).collect();
        if window_starts.last() != Some(&(count - size)) {
            window_starts.push(count - size); // the tail gets a window of full size too
        }
        for t0 in window_starts {
            if seen.binary_search(&(t0, t0 + size)).is_err() {
                ranges.push((PassageKind::Window, t0, t0 + size));
            }
        }
    } else if ranges.is_empty() {
        ranges.push((PassageKind::Window, 0, count));
    }
    ranges.sort_by_key(|&(_, t0, t1)| (t0, std::cmp::Reverse(t1)));
    let mut unspaced_before = Vec::with_capacity(count + 1);
    unspaced_before.push(0usize);
    let mut running = 0;
    for &u in &tokens.unspaced {
        running += usize::from(u);
        unspaced_before.push(running);
    }
    ranges
        .into_iter()
        .map(|(kind, t0, t1)| PassageRow {
            kind,
            token_start: t0,
            token_end: t1,
            char_start: tokens.starts[t0],
            char_end: tokens.ends[t1 - 1],
            unspaced: 2 * (unspaced_before[t1] - unspaced_before[t0]) > t1 - t0,
        })
        .collect()
}

/// The passages of `text` given its tokens.
pub fn passages(text: &str, tokens: &Tokens, params: &PassageParams) -> Vec<PassageRow> {
    let src: Vec<char> = text.chars().collect();
    passages_chars(&src, tokens, params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::tokenize;

    #[test]
    fn paragraphs_by_blank_lines_and_lines() {
        assert_eq!(paragraph_spans("a b\n \nc\n\nd"), [(0, 3), (6, 7), (9, 10)]);
        assert_eq!(paragraph_spans(" one\r\ntwo \n"), [(1, 4), (6, 9)]);
        assert_eq!(paragraph_spans("  "), []);
    }

    #[test]
    fn windows_cover_the_tail_and_skip_equal_paragraphs() {
        let text = (0..25)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let tokens = tokenize(&text);
        let params = PassageParams::new(3, 10, 4).unwrap();
        let rows = passages(&text, &tokens, &params);
        let spans: Vec<_> = rows
            .iter()
            .map(|r| (r.kind, r.token_start, r.token_end))
            .collect();
        assert_eq!(spans[0], (PassageKind::Paragraph, 0, 25));
        let windows: Vec<_> = spans[1..].iter().map(|&(_, s, _)| s).collect();
        assert_eq!(windows, [0, 4, 8, 12, 15]);
        assert!(PassageParams::new(0, 10, 4).is_err());
    }
}
