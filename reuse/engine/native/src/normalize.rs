//! Unicode normalisation with its offset map: exactly `reuse.engine.normalize.normalize`.
//!
//! NFKC, case folding, removal of format and control characters, quotes and dashes unified, the
//! optional marks of the Arabic and Hebrew scripts dropped and letters of more than one form
//! unified (in them and Russian ё), and
//! runs of whitespace collapsed to one space (written only between two pieces of text). Every
//! character of the result carries the span of original characters it came from, in code points
//! (Python `str` indices), not UTF-8 bytes.

use crate::unicode::{self, COMBINING, DROP_ALONE, FOLDS, FORMAT, SPACE};

/// Normalised text and, for each of its characters, the original characters it came from.
///
/// `starts[i]..ends[i]` are the code-point indices of the original characters that `chars[i]`
/// was made from: one character, a character with its combining marks, or a collapsed run of
/// whitespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// The normalised text, one `char` per code point (tokens index it).
    pub chars: Vec<char>,
    /// First original code point of each normalised character.
    pub starts: Vec<i64>,
    /// One past the last original code point of each normalised character.
    pub ends: Vec<i64>,
}

impl Normalized {
    /// The normalised text as a string.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }
}

/// The quote or dash `c` is unified to, if it is one (`normalize._QUOTES` and `_DASHES`).
fn quote_or_dash(c: char) -> Option<char> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{2032}' | '\u{00b4}' | '`' => {
            Some('\'')
        }
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' | '\u{2033}' | '\u{00ab}'
        | '\u{00bb}' => Some('"'),
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' | '\u{fe58}' | '\u{fe63}' | '\u{ff0d}' => Some('-'),
        _ => None,
    }
}

/// What `normalize._fold`'s last step (`_SCRIPT_VARIANTS`, then decimal digits as ASCII) does to
/// `c`: `None` if nothing, else `Some` of what it becomes (`Some("")`: dropped).
fn script_variant(c: char) -> Option<&'static str> {
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    match c {
        // Tatweel, harakat (tanween, vowels, shadda, sukun...), superscript alef.
        '\u{0640}' | '\u{064b}'..='\u{065f}' | '\u{0670}' => Some(""),
        // Alef with madda, with hamza above or below, wasla.
        '\u{0622}' | '\u{0623}' | '\u{0625}' | '\u{0671}' => Some("\u{0627}"),
        // Alef maqsura, the Persian yeh, and yeh with hamza.
        '\u{0649}' | '\u{06cc}' | '\u{0626}' => Some("\u{064a}"),
        // Yeh barree with hamza: the seat's yeh and the barree.
        '\u{06d3}' => Some("\u{064a}\u{06d2}"),
        // Waw with hamza.
        '\u{0624}' => Some("\u{0648}"),
        // Keheh, the Persian and Urdu kaf.
        '\u{06a9}' => Some("\u{0643}"),
        // Heh goal and its forms with hamza; teh marbuta, Arabic and Urdu.
        '\u{06c0}' | '\u{06c1}' | '\u{06c2}' | '\u{0629}' | '\u{06c3}' => Some("\u{0647}"),
        // Hebrew accents and points to meteg; rafe, shin and sin dots, upper and lower dots,
        // qamats qatan.
        '\u{0591}'..='\u{05bd}'
        | '\u{05bf}'
        | '\u{05c1}'
        | '\u{05c2}'
        | '\u{05c4}'
        | '\u{05c5}'
        | '\u{05c7}' => Some(""),
        // Russian ё.
        '\u{0451}' => Some("\u{0435}"),
        // The decimal digits of other scripts (the Python engine does this after the table).
        _ => unicode::decimal_value(c).map(|value| DIGITS[value]),
    }
}

/// `normalize._fold`: one character with its combining marks, normalised, pushed to `out`.
///
/// A single character's fold comes from the tables generated from `_fold` itself, the scripts'
/// variants already unified; a cluster's is made here and unified after.
fn fold(cluster: &[char], out: &mut Vec<char>) {
    let first = cluster[0];
    if let Some(unified) = quote_or_dash(first) {
        out.push(unified);
        return;
    }
    if cluster.len() == 1 {
        let bits = unicode::props(first);
        if bits & FOLDS != 0 {
            out.extend(unicode::fold_single(first).chars());
        } else if bits & DROP_ALONE == 0 {
            out.push(first);
        }
        return;
    }
    let start = out.len();
    let mut composed = Vec::with_capacity(cluster.len() + 2);
    unicode::nfkc(cluster, &mut composed);
    let mut folded = Vec::with_capacity(composed.len() + 2);
    for c in composed {
        unicode::push_casefold(c, &mut folded);
    }
    // " ".join(folded.split()), then quotes and dashes unified and format characters dropped.
    let mut gap = false;
    let mut wrote = false;
    for c in folded {
        if unicode::has(c, SPACE) {
            gap = true;
            continue;
        }
        if gap && wrote {
            out.push(' ');
        }
        gap = false;
        wrote = true;
        if !unicode::has(c, FORMAT) {
            out.push(quote_or_dash(c).unwrap_or(c));
        }
    }
    unify_scripts(out, start);
}

/// `_fold`'s last step on `out[start..]`, a cluster's fold: the scripts' optional marks dropped
/// and variant letters unified ([`script_variant`]), and, if anything changed, its spaces
/// collapsed again (`" ".join(unified.split())`): a mark NFKC set apart by a space leaves the
/// space when dropped.
fn unify_scripts(out: &mut Vec<char>, start: usize) {
    if out[start..].iter().all(|&c| script_variant(c).is_none()) {
        return;
    }
    let mut unified = Vec::with_capacity(out.len() - start + 1);
    for c in out.drain(start..) {
        match script_variant(c) {
            Some(replaced) => unified.extend(replaced.chars()),
            None => unified.push(c),
        }
    }
    let mut gap = false;
    for c in unified {
        if c == ' ' {
            gap = true;
            continue;
        }
        if gap && out.len() > start {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
}

/// ASCII letters, digits and punctuation: the characters of `normalize._RUN`'s word runs.
#[inline]
fn graphic_ascii(c: char) -> bool {
    ('!'..='~').contains(&c)
}

/// End of the run of `normalize._RUN`'s first alternative starting at `pos` (a graphic ASCII
/// character): graphic ASCII words separated by single spaces.
fn ascii_run_end(src: &[char], pos: usize) -> usize {
    let mut end = pos;
    loop {
        while end < src.len() && graphic_ascii(src[end]) {
            end += 1;
        }
        if end + 1 < src.len() && src[end] == ' ' && graphic_ascii(src[end + 1]) {
            end += 1;
        } else {
            return end;
        }
    }
}

/// Normalise the text whose code points are `src`, keeping the map back to them.
pub fn normalize_chars(src: &[char]) -> Normalized {
    let n = src.len();
    let mut out = Normalized {
        chars: Vec::with_capacity(n),
        starts: Vec::with_capacity(n),
        ends: Vec::with_capacity(n),
    };
    let mut piece: Vec<char> = Vec::new();
    let mut pos = 0;
    // Start of a whitespace run not yet written (written only between two pieces).
    let mut pending_space: Option<usize> = None;
    while pos < n {
        let first = src[pos];
        if unicode::has(first, SPACE) {
            pending_space.get_or_insert(pos);
            pos += 1;
            while pos < n && unicode::has(src[pos], SPACE) {
                pos += 1;
            }
            continue;
        }
        let mut end = if graphic_ascii(first) {
            ascii_run_end(src, pos)
        } else {
            pos + 1
        };
        let ascii = first.is_ascii();
        if ascii && end < n && unicode::has(src[end], COMBINING) {
            // The run's last letter carries combining marks: fold it with them.
            end -= 1;
        }
        piece.clear();
        // A lone ASCII control character is folded (dropped) like any other character.
        let one_to_one = end > pos && ascii && (end - pos != 1 || graphic_ascii(first));
        if one_to_one {
            piece.extend(src[pos..end].iter().map(|&c| match c {
                '`' => '\'',
                c => c.to_ascii_lowercase(),
            }));
        } else {
            end = pos + 1;
            while end < n && unicode::has(src[end], COMBINING) {
                end += 1;
            }
            fold(&src[pos..end], &mut piece);
        }
        if !piece.is_empty() {
            if let Some(space) = pending_space.take() {
                if !out.chars.is_empty() {
                    out.chars.push(' ');
                    out.starts.push(space as i64);
                    out.ends.push(pos as i64);
                }
            }
            out.chars.extend_from_slice(&piece);
            if one_to_one {
                out.starts.extend(pos as i64..end as i64);
                out.ends.extend(pos as i64 + 1..end as i64 + 1);
            } else {
                out.starts
                    .extend(std::iter::repeat_n(pos as i64, piece.len()));
                out.ends
                    .extend(std::iter::repeat_n(end as i64, piece.len()));
            }
        }
        pos = end;
    }
    out
}

/// Normalise `text` (see the module documentation); offsets are code-point indices of `text`.
pub fn normalize(text: &str) -> Normalized {
    let src: Vec<char> = text.chars().collect();
    normalize_chars(&src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(text: &str) -> (String, Vec<i64>, Vec<i64>) {
        let n = normalize(text);
        (n.text(), n.starts, n.ends)
    }

    #[test]
    fn ascii_words_lowercased_and_spaces_collapsed() {
        let (text, starts, ends) = norm("  Hello,\t\n World`s ");
        assert_eq!(text, "hello, world's");
        assert_eq!(starts[5..8], [7, 8, 11]);
        assert_eq!(ends[5..8], [8, 11, 12]);
    }

    #[test]
    fn marks_fold_with_their_letter() {
        let (text, starts, ends) = norm("Cafe\u{301} \u{201c}ﬁ\u{201d}");
        assert_eq!(text, "caf\u{e9} \"fi\"");
        assert_eq!((starts[3], ends[3]), (3, 5));
        assert_eq!((starts[6], ends[6], starts[7], ends[7]), (7, 8, 7, 8));
    }

    #[test]
    fn format_characters_vanish_and_keep_the_pending_space() {
        assert_eq!(norm("a \u{200b} b").0, "a b");
        assert_eq!(norm("a\u{ad}b").0, "ab");
        assert_eq!(norm("").0, "");
        assert_eq!(norm(" \u{200d} ").0, "");
    }

    #[test]
    fn arabic_script_marks_dropped_and_letters_unified() {
        // Keheh and Persian yeh (single characters, through the tables), harakat on a letter
        // (a cluster), tatweel, an alef with hamza, and a presentation form NFKC makes a space
        // and a mark (U+FE70), which leaves no space behind.
        let (text, starts, ends) =
            norm("\u{6a9}\u{6cc} \u{639}\u{64e}\u{631}\u{640}\u{628} \u{623}x \u{fe70} y");
        assert_eq!(text, "\u{643}\u{64a} \u{639}\u{631}\u{628} \u{627}x y");
        assert_eq!(starts[3..6], [3, 5, 7]);
        assert_eq!(ends[3..6], [5, 6, 8]);
    }

    #[test]
    fn hebrew_points_dropped_and_russian_yo_unified() {
        let (text, starts, ends) =
            norm("\u{5e9}\u{5c1}\u{5b8}\u{5dc} \u{fb2a} \u{401}\u{435}\u{308}");
        assert_eq!(text, "\u{5e9}\u{5dc} \u{5e9} \u{435}\u{435}");
        assert_eq!((starts[0], ends[0]), (0, 3));
        assert_eq!((starts[6], ends[6]), (8, 10));
    }
}
