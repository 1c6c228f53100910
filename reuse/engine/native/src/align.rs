//! Alignment of two documents' tokens into matches: `reuse/engine/align.py`'s `align`, step for
//! step (anchors, clusters, merge, tightening, trimming, shadowed and overlapping blocks, kinds).
//!
//! The Python module is the oracle (tests/test_native_align.py); every ordering that decides a
//! tie there (stable sorts, first-found minima, insertion order of groups) is kept here.

use crate::fasthash::FastMap;

use crate::difflib::SequenceMatcher;
use crate::seeds::{
    fragments, sentences, Fragment, Sentences, Side, MAX_GAP_SENTENCES, SUMMARY_GAP_SENTENCES,
    SUMMARY_RATIO,
};
use std::sync::OnceLock;

/// Anchors from a shingle repeated more often than this on one side are ambiguous: skipped.
const MAX_REPEAT_TRIGRAM: usize = 8;
const MAX_REPEAT_WORD: usize = 3;
/// Anchors further apart than this (tokens, on both sides) start a new cluster.
const JOIN_GAP: i64 = 12;
/// A one-word edge anchor this far from the cluster's other anchors is a coincidence.
const EDGE_GAP: i64 = 6;
/// A cluster whose tokens its word trigrams cover at least this share of runs in step
/// (`align._IN_STEP_SHARE`).
const IN_STEP_SHARE: f64 = 0.7;
/// At most this many anchors make a repeated edge group (`align._EDGE_GROUP`).
const EDGE_GROUP: usize = 8;

/// What alignment needs of one document (`align.AlignInput`): per token its hash, its stem's
/// hash, whether it is a content word and its character span; the hash of each trigram (one
/// per token but the last two); and the tokens where its sentences start (none: no second
/// stage).
#[derive(Clone, Copy)]
pub struct Doc<'a> {
    pub token_hashes: &'a [u64],
    pub stems: &'a [u64],
    pub trigrams: &'a [u64],
    pub content: &'a [bool],
    pub starts: &'a [i64],
    pub ends: &'a [i64],
    pub sentences: &'a [i64],
}

/// The settings alignment reads.
#[derive(Clone, Copy, Debug)]
pub struct AlignSettings {
    pub min_match_tokens: i64,
    /// A verbatim match counts from this many tokens (at most `min_match_tokens`).
    pub min_verbatim_tokens: i64,
    pub min_similarity: f64,
    pub max_gap_tokens: i64,
    pub min_edited_tokens: i64,
}

/// How closely the two sides of a match agree (`models.MatchKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Verbatim = 0,
    NearVerbatim = 1,
    Edited = 2,
    Rewritten = 3,
    Summary = 4,
}

/// One match (`models.Match`): character spans `[a0, a1)`, `[b0, b1)`, similarity rounded to 4
/// decimals as Python's `round` does, kind and token counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    pub a: (i64, i64),
    pub b: (i64, i64),
    pub similarity: f64,
    pub kind: Kind,
    pub a_tokens: i64,
    pub b_tokens: i64,
}

/// Why two documents cannot be aligned: their arrays disagree in length.
#[derive(Debug, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> Doc<'a> {
    /// What the second stage reads of the document.
    fn side(&self) -> Side<'a> {
        Side {
            hashes: self.token_hashes,
            stems: self.stems,
            content: self.content,
            sentences: self.sentences,
        }
    }

    /// Check that the arrays describe one document: as many flags and spans as tokens, and a
    /// trigram at each token but the last two.
    pub fn check(&self) -> Result<(), ShapeError> {
        let n = self.token_hashes.len();
        if self.stems.len() != n
            || self.content.len() != n
            || self.starts.len() != n
            || self.ends.len() != n
        {
            return Err(ShapeError(format!(
                "token_hashes, stems, content, starts and ends must have one value per token, got {}, {}, {}, {} and {}",
                n,
                self.stems.len(),
                self.content.len(),
                self.starts.len(),
                self.ends.len()
            )));
        }
        if self.trigrams.len() != n.saturating_sub(2) {
            return Err(ShapeError(format!(
                "{} trigrams for {} tokens",
                self.trigrams.len(),
                n
            )));
        }
        Ok(())
    }
}

/// An anchor: tokens `i` of a and `j` of b agree over `len` tokens (3: a trigram, 1: a word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Anchor {
    i: i64,
    j: i64,
    len: i64,
}

#[derive(Clone, Debug)]
struct Cluster {
    i0: i64,
    i1: i64,
    j0: i64,
    j1: i64,
    anchors: i64,
    /// The trigram anchors' extent `(i0, i1, j0, j1)`, if any.
    strong: Option<[i64; 4]>,
}

impl Cluster {
    fn start(x: Anchor) -> Cluster {
        let box_ = [x.i, x.i + x.len, x.j, x.j + x.len];
        Cluster {
            i0: box_[0],
            i1: box_[1],
            j0: box_[2],
            j1: box_[3],
            anchors: 1,
            strong: (x.len > 1).then_some(box_),
        }
    }

    fn add(&mut self, x: Anchor) {
        self.i1 = self.i1.max(x.i + x.len);
        self.j0 = self.j0.min(x.j);
        self.j1 = self.j1.max(x.j + x.len);
        self.anchors += 1;
        if x.len > 1 {
            self.strong = union(self.strong, Some([x.i, x.i + x.len, x.j, x.j + x.len]));
        }
    }

    /// Cut to the trigram anchors when they carry the cluster (`_Cluster.trimmed`).
    fn trimmed(self) -> Cluster {
        match self.strong {
            Some(s)
                if (s[1] - s[0]) as f64 >= 0.8 * (self.i1 - self.i0) as f64
                    && (s[3] - s[2]) as f64 >= 0.8 * (self.j1 - self.j0) as f64 =>
            {
                Cluster {
                    i0: s[0],
                    i1: s[1],
                    j0: s[2],
                    j1: s[3],
                    anchors: self.anchors,
                    strong: self.strong,
                }
            }
            _ => self,
        }
    }
}

fn union(s: Option<[i64; 4]>, t: Option<[i64; 4]>) -> Option<[i64; 4]> {
    match (s, t) {
        (Some(s), Some(t)) => Some([
            s[0].min(t[0]),
            s[1].max(t[1]),
            s[2].min(t[2]),
            s[3].max(t[3]),
        ]),
        _ => s.or(t),
    }
}

/// A document's anchor keys, sorted once and reused by every pair it is aligned in: its
/// trigram hashes and its content words' hashes, each with its token position, sorted by hash
/// (positions of one hash in any order: the anchors are sorted by position in the end); and
/// its sentences' bags for the second stage, made when first needed (a document of a batch is
/// aligned with several others).
pub struct Keys {
    trigrams: Vec<(u64, usize)>,
    words: Vec<(u64, usize)>,
    sentences: OnceLock<Sentences>,
}

impl Keys {
    /// The keys of `doc`.
    pub fn of(doc: &Doc) -> Keys {
        let mut trigrams: Vec<(u64, usize)> = doc.trigrams.iter().copied().zip(0..).collect();
        trigrams.sort_unstable_by_key(|x| x.0);
        let mut words: Vec<(u64, usize)> = (0..doc.content.len())
            .filter(|&k| doc.content[k])
            .map(|k| (doc.token_hashes[k], k))
            .collect();
        words.sort_unstable_by_key(|x| x.0);
        Keys {
            trigrams,
            words,
            sentences: OnceLock::new(),
        }
    }

    /// The sentences of `doc` (whose keys these are), made at the first call.
    fn sentences(&self, doc: &Doc) -> &Sentences {
        self.sentences.get_or_init(|| sentences(&doc.side()))
    }
}

/// All `(i, j)` with equal keys in `sa` and `sb` (sorted keys with positions), the value
/// occurring at most `max_repeat` times on each side (`_anchor_pairs`), in no particular order.
fn anchor_pairs(
    sa: &[(u64, usize)],
    sb: &[(u64, usize)],
    max_repeat: usize,
    mut emit: impl FnMut(usize, usize),
) {
    // The end of the run of `v[from]`'s key, stepped to: most runs are one or two rows long,
    // and a binary search over the rest of `v` (which this was) missed the cache at every step
    // for each of them.
    let run = |v: &[(u64, usize)], from: usize| {
        let key = v[from].0;
        from + 1 + v[from + 1..].iter().take_while(|x| x.0 == key).count()
    };
    let (mut x, mut y) = (0, 0);
    while x < sa.len() && y < sb.len() {
        match sa[x].0.cmp(&sb[y].0) {
            std::cmp::Ordering::Less => x = run(sa, x),
            std::cmp::Ordering::Greater => y = run(sb, y),
            std::cmp::Ordering::Equal => {
                let (x1, y1) = (run(sa, x), run(sb, y));
                if x1 - x <= max_repeat && y1 - y <= max_repeat {
                    for &(_, i) in &sa[x..x1] {
                        sb[y..y1].iter().for_each(|&(_, j)| emit(i, j));
                    }
                }
                (x, y) = (x1, y1);
            }
        }
    }
}

/// Trigram and content-word anchors sorted by `i` then `j`, a trigram before a word at one
/// place (`_anchors`: a stable sort of the trigrams followed by the words).
fn anchors(a: &Keys, b: &Keys) -> Vec<Anchor> {
    let mut rows: Vec<Anchor> = Vec::new();
    for (sa, sb, max_repeat, len) in [
        (&a.trigrams, &b.trigrams, MAX_REPEAT_TRIGRAM, 3),
        (&a.words, &b.words, MAX_REPEAT_WORD, 1),
    ] {
        anchor_pairs(sa, sb, max_repeat, |i, j| {
            rows.push(Anchor {
                i: i as i64,
                j: j as i64,
                len,
            })
        });
    }
    // A trigram and a word anchor at one (i, j): the trigram first, as `_anchors`' stable sort
    // of the trigrams followed by the words leaves them.
    by_place(rows)
}

/// Anchors sorted by `(i, j, -len)`. Many anchors (a pair that shares much) are counted into
/// runs of one `i` first, each run then sorted (most hold one or two anchors): a comparison
/// sort of them all was a twentieth of the time of aligning such pairs.
fn by_place(mut rows: Vec<Anchor>) -> Vec<Anchor> {
    let place = |x: &Anchor| (x.i, x.j, -x.len);
    let places = rows.iter().map(|x| x.i as usize + 1).max().unwrap_or(0);
    if rows.len() < 64 || places > 4 * rows.len() {
        rows.sort_unstable_by_key(place);
        return rows;
    }
    let mut starts = vec![0usize; places + 1];
    for x in &rows {
        starts[x.i as usize + 1] += 1;
    }
    for k in 0..places {
        starts[k + 1] += starts[k];
    }
    let mut next = starts.clone();
    let mut out = vec![Anchor { i: 0, j: 0, len: 0 }; rows.len()];
    for x in rows {
        let at = &mut next[x.i as usize];
        out[*at] = x;
        *at += 1;
    }
    for run in starts.windows(2) {
        out[run[0]..run[1]].sort_unstable_by_key(place);
    }
    out
}

/// Chain anchors lying within `JOIN_GAP` tokens of a cluster on both sides (`_clusters`).
fn clusters(anchors: &[Anchor]) -> Vec<Cluster> {
    let mut done: Vec<Cluster> = Vec::new();
    let mut active: Vec<Cluster> = Vec::new();
    for &x in anchors {
        // Clusters left behind are done, in their order (no allocation per anchor).
        let mut k = 0;
        while k < active.len() {
            if x.i - active[k].i1 <= JOIN_GAP {
                k += 1;
            } else {
                done.push(active.remove(k));
            }
        }
        let mut best: Option<usize> = None;
        let mut best_dist = JOIN_GAP + 1;
        for (k, c) in active.iter().enumerate() {
            let dist = if c.j0 <= x.j && x.j < c.j1 {
                0
            } else if x.j < c.j0 {
                c.j0 - x.j - x.len
            } else {
                x.j - c.j1
            };
            if dist < best_dist {
                best = Some(k);
                best_dist = dist;
            }
        }
        match best {
            None => active.push(Cluster::start(x)),
            Some(k) => active[k].add(x),
        }
    }
    done.extend(active);
    done
}

/// Multiset intersection size of two value lists.
fn shared_with_repeats(x: &[u64], y: &[u64]) -> usize {
    let mut counts: FastMap<u64, usize> =
        FastMap::with_capacity_and_hasher(x.len(), Default::default());
    for &v in x {
        *counts.entry(v).or_default() += 1;
    }
    let mut shared = 0;
    for v in y {
        if let Some(n) = counts.get_mut(v) {
            if *n > 0 {
                *n -= 1;
                shared += 1;
            }
        }
    }
    shared
}

/// Dice coefficient of the content words of a cluster's two spans, with repeats (`_content_dice`).
fn content_dice(a: &Doc, b: &Doc, c: &Cluster) -> f64 {
    let words = |d: &Doc, lo: i64, hi: i64| -> Vec<u64> {
        (lo as usize..hi as usize)
            .filter(|&k| d.content[k])
            .map(|k| d.token_hashes[k])
            .collect()
    };
    let (mut wa, mut wb) = (words(a, c.i0, c.i1), words(b, c.j0, c.j1));
    if wa.is_empty() || wb.is_empty() {
        // No content words (e.g. text in an unspaced script): compare all tokens.
        wa = a.token_hashes[c.i0 as usize..c.i1 as usize].to_vec();
        wb = b.token_hashes[c.j0 as usize..c.j1 as usize].to_vec();
    }
    2.0 * shared_with_repeats(&wa, &wb) as f64 / (wa.len() + wb.len()) as f64
}

/// Python's `round(x, 4)` for a finite `x >= 0`: the double nearest to the exact decimal
/// rounding of `x`'s binary value, ties to even.
pub fn round4(x: f64) -> f64 {
    debug_assert!(x.is_finite() && x >= 0.0);
    if x == 0.0 {
        return x;
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    // x = mant * 2^e exactly.
    let (mant, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    let scaled = mant as u128 * 10_000;
    let q: u128 = if e >= 0 {
        return x; // an integer already: nothing after the point to round
    } else if -e >= 100 {
        0 // far below a half of 1e-4 (scaled < 2^67)
    } else {
        let shift = (-e) as u32;
        let q = scaled >> shift;
        let r = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    q as f64 / 10_000.0
}

/// A match's kind and similarity (`_kind`): difflib's ratio of the two token spans.
fn kind(a: &Doc, b: &Doc, c: &Cluster) -> (Kind, f64) {
    let sa = &a.token_hashes[c.i0 as usize..c.i1 as usize];
    let sb = &b.token_hashes[c.j0 as usize..c.j1 as usize];
    if sa == sb {
        return (Kind::Verbatim, 1.0);
    }
    let ratio = SequenceMatcher::new(sa, sb).ratio();
    let kind = if ratio >= 0.8 {
        Kind::NearVerbatim
    } else {
        Kind::Edited
    };
    (kind, ratio.min(0.9999))
}

fn gap(x0: i64, x1: i64, y0: i64, y1: i64) -> i64 {
    0.max(x0.max(y0) - x1.min(y1))
}

fn overlap(x0: i64, x1: i64, y0: i64, y1: i64) -> i64 {
    0.max(x1.min(y1) - x0.max(y0))
}

/// `c` without the stray one-word anchors at its edges (`_tightened`).
fn tightened(c: &Cluster, anchors: &[Anchor]) -> Cluster {
    let lo = anchors.partition_point(|x| x.i < c.i0);
    let hi = anchors.partition_point(|x| x.i < c.i1);
    let box_: Vec<Anchor> = anchors[lo..hi]
        .iter()
        .filter(|x| x.j >= c.j0 && x.j < c.j1)
        .copied()
        .collect();
    let mut keep = vec![true; box_.len()];
    let at = |x: &Anchor, side: usize| if side == 0 { x.i } else { x.j };
    let mut changed = true;
    while changed {
        changed = false;
        for side in 0..2 {
            let Some([first, second, last, before_last]) =
                ends_in_order((0..box_.len()).filter(|&k| keep[k]), |k| at(&box_[k], side))
            else {
                break;
            };
            for (edge, neighbour) in [(first, second), (last, before_last)] {
                if box_[edge].len == 1
                    && (at(&box_[neighbour], side) - at(&box_[edge], side)).abs() > EDGE_GAP
                {
                    keep[edge] = false;
                    changed = true;
                }
            }
        }
    }
    let repeats = repeats_dropped(&box_, &mut keep);
    let kept: Vec<&Anchor> = box_
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(x, _)| x)
        .collect();
    let Some([i0, i1, j0, j1]) = extent(&kept) else {
        return c.clone();
    };
    let strong = if repeats {
        let trigrams: Vec<&Anchor> = kept.iter().copied().filter(|x| x.len > 1).collect();
        extent(&trigrams)
    } else {
        c.strong
    };
    Cluster {
        i0,
        i1,
        j0,
        j1,
        anchors: c.anchors,
        strong,
    }
}

/// The first two and the last two of `items` (ascending) in the order of `key`, ties by item,
/// as a stable sort leaves them: `[first, second, last, before last]`; None for fewer than
/// three items. All that trimming a box's edges reads of its anchors' order, found without
/// sorting them.
fn ends_in_order(
    items: impl Iterator<Item = usize>,
    key: impl Fn(usize) -> i64,
) -> Option<[usize; 4]> {
    // The two smallest and the two largest `(key, item)`, smallest and largest first.
    let mut low: [Option<(i64, usize)>; 2] = [None; 2];
    let mut high: [Option<(i64, usize)>; 2] = [None; 2];
    let mut count = 0;
    for k in items {
        let x = (key(k), k);
        count += 1;
        if low[0].is_none_or(|l| x < l) {
            low = [Some(x), low[0]];
        } else if low[1].is_none_or(|l| x < l) {
            low[1] = Some(x);
        }
        if high[0].is_none_or(|h| x > h) {
            high = [Some(x), high[0]];
        } else if high[1].is_none_or(|h| x > h) {
            high[1] = Some(x);
        }
    }
    if count < 3 {
        return None;
    }
    let pick = |x: Option<(i64, usize)>| x.map(|(_, k)| k);
    Some([pick(low[0])?, pick(low[1])?, pick(high[0])?, pick(high[1])?])
}

/// `align._extent`: the tokens `[i0, i1, j0, j1]` the anchors span; None for no anchor.
fn extent(anchors: &[&Anchor]) -> Option<[i64; 4]> {
    Some([
        anchors.iter().map(|x| x.i).min()?,
        anchors.iter().map(|x| x.i + x.len).max()?,
        anchors.iter().map(|x| x.j).min()?,
        anchors.iter().map(|x| x.j + x.len).max()?,
    ])
}

/// `align._repeats_dropped`: unflag the repeated phrases at the edges of a cluster that runs in
/// step; whether any was.
fn repeats_dropped(box_: &[Anchor], keep: &mut [bool]) -> bool {
    let at = |x: &Anchor, side: usize| if side == 0 { x.i } else { x.j };
    let mut dropped = false;
    let mut changed = true;
    while changed {
        changed = false;
        'sides: for side in 0..2 {
            let other = 1 - side;
            let live: Vec<usize> = (0..box_.len()).filter(|&k| keep[k]).collect();
            if live.len() < 4 {
                return dropped;
            }
            let limit = EDGE_GROUP.min(live.len() / 4);
            for at_start in [true, false] {
                // The live anchors from this edge inward, by their distance from it (ties by
                // index, as numpy's lexsort).
                let distance = |k: usize| {
                    let x = &box_[k];
                    if at_start {
                        at(x, side)
                    } else {
                        -(at(x, side) + x.len)
                    }
                };
                // Only the `limit + 1` nearest are read in order (the cut lies among them); the
                // rest is read as a set: the nearest are selected, and only they are sorted.
                let mut seq = live.clone();
                let nearest = limit + 1;
                seq.select_nth_unstable_by_key(nearest - 1, |&k| (distance(k), k));
                seq[..nearest].sort_unstable_by_key(|&k| (distance(k), k));
                let Some(cut) = (0..limit)
                    .find(|&x| distance(seq[x + 1]) - distance(seq[x]) > EDGE_GAP)
                    .map(|x| x + 1)
                else {
                    continue;
                };
                let (group, rest) = seq.split_at(cut);
                // In step: word trigrams cover most of the rest's tokens on side a.
                let mut covered: Vec<i64> = rest
                    .iter()
                    .filter(|&&k| box_[k].len > 1)
                    .flat_map(|&k| box_[k].i..box_[k].i + 3)
                    .collect();
                covered.sort_unstable();
                covered.dedup();
                let first = rest.iter().map(|&k| box_[k].i).min().unwrap_or(0);
                let last = rest
                    .iter()
                    .map(|&k| box_[k].i + box_[k].len)
                    .max()
                    .unwrap_or(0);
                if (covered.len() as f64) < IN_STEP_SHARE * (last - first) as f64 {
                    continue;
                }
                let inside = if at_start {
                    let lo = rest.iter().map(|&k| at(&box_[k], other)).min().unwrap_or(0);
                    group.iter().all(|&k| at(&box_[k], other) > lo + EDGE_GAP)
                } else {
                    let hi = rest
                        .iter()
                        .map(|&k| at(&box_[k], other) + box_[k].len)
                        .max()
                        .unwrap_or(0);
                    group
                        .iter()
                        .all(|&k| at(&box_[k], other) + box_[k].len < hi - EDGE_GAP)
                };
                if inside {
                    for &k in group {
                        keep[k] = false;
                    }
                    dropped = true;
                    changed = true;
                    break 'sides;
                }
            }
        }
    }
    dropped
}

/// Groups of clusters within `max_gap` tokens of each other on both sides, as connected
/// components, in the order `_merge` gives them (by first member, members by `i0`).
fn merge(clusters: Vec<Cluster>, max_gap: i64) -> Vec<Vec<Cluster>> {
    let mut ordered = clusters;
    ordered.sort_by_key(|c| c.i0);
    let mut parent: Vec<usize> = (0..ordered.len()).collect();
    fn root(parent: &mut [usize], mut k: usize) -> usize {
        while parent[k] != k {
            parent[k] = parent[parent[k]];
            k = parent[k];
        }
        k
    }
    for k in 0..ordered.len() {
        let c = &ordered[k];
        for (m, d) in ordered.iter().enumerate().skip(k + 1) {
            if d.i0 - c.i1 > max_gap {
                break; // sorted by i0: no later cluster is closer
            }
            if gap(c.i0, c.i1, d.i0, d.i1) <= max_gap && gap(c.j0, c.j1, d.j0, d.j1) <= max_gap {
                let (rk, rm) = (root(&mut parent, k), root(&mut parent, m));
                parent[rm] = rk;
            }
        }
    }
    let mut slot: FastMap<usize, usize> = FastMap::default();
    let mut groups: Vec<Vec<Cluster>> = Vec::new();
    for (k, c) in ordered.into_iter().enumerate() {
        let r = root(&mut parent, k);
        let g = *slot.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(c);
    }
    groups
}

/// One cluster spanning every cluster of `group` on both sides (`_bounding`).
fn bounding(group: &[Cluster]) -> Cluster {
    Cluster {
        i0: group.iter().map(|c| c.i0).min().unwrap_or(0),
        i1: group.iter().map(|c| c.i1).max().unwrap_or(0),
        j0: group.iter().map(|c| c.j0).min().unwrap_or(0),
        j1: group.iter().map(|c| c.j1).max().unwrap_or(0),
        anchors: group.iter().map(|c| c.anchors).sum(),
        strong: group.iter().fold(None, |s, c| union(s, c.strong)),
    }
}

/// Clusters by decreasing support, ties in their given order (Python's stable `sorted`).
fn by_support(mut clusters: Vec<Cluster>) -> Vec<Cluster> {
    clusters.sort_by_key(|c| -c.anchors);
    clusters
}

/// Drop seeds lying mostly inside the text of a much better supported seed (`_shadowed_removed`).
fn shadowed_removed(seeds: Vec<Cluster>) -> Vec<Cluster> {
    let mut kept: Vec<Cluster> = Vec::new();
    for c in by_support(seeds) {
        let shadowed = kept.iter().any(|k| {
            k.anchors >= 2 * c.anchors
                && (overlap(c.i0, c.i1, k.i0, k.i1) * 2 > c.i1 - c.i0
                    || overlap(c.j0, c.j1, k.j0, k.j1) * 2 > c.j1 - c.j0)
        });
        if !shadowed {
            kept.push(c);
        }
    }
    kept
}

/// Of clusters covering mostly the same text on both sides, the best supported (`_drop_overlaps`).
fn drop_overlaps(clusters: Vec<Cluster>) -> Vec<Cluster> {
    let mut kept: Vec<Cluster> = Vec::new();
    for c in by_support(clusters) {
        let covered = kept.iter().any(|k| {
            overlap(c.i0, c.i1, k.i0, k.i1) * 2 > c.i1 - c.i0
                && overlap(c.j0, c.j1, k.j0, k.j1) * 2 > c.j1 - c.j0
        });
        if !covered {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| (c.i0, c.j0));
    kept
}

/// `_orientation_key` ordering: token count, then the first 64 token hashes' bytes.
fn orientation_key_less(x: &Doc, y: &Doc) -> bool {
    let (nx, ny) = (x.token_hashes.len(), y.token_hashes.len());
    if nx != ny {
        return nx < ny;
    }
    let bytes = |d: &Doc| -> Vec<u8> {
        d.token_hashes[..nx.min(64)]
            .iter()
            .flat_map(|h| h.to_ne_bytes())
            .collect()
    };
    bytes(x) < bytes(y)
}

/// Every passage of `a` reused in `b` and vice versa (`align.align`), in the order of side a.
/// The result does not depend on which document is `a`. The documents must pass [`Doc::check`].
pub fn align(a: &Doc, b: &Doc, settings: &AlignSettings) -> Vec<Match> {
    align_keyed((a, &Keys::of(a)), (b, &Keys::of(b)), settings)
}

/// [`align`] with each document's [`Keys`] made beforehand.
pub fn align_keyed(a: (&Doc, &Keys), b: (&Doc, &Keys), settings: &AlignSettings) -> Vec<Match> {
    if orientation_key_less(b.0, a.0) {
        // Chaining walks side a in order, so each pair is aligned in one canonical orientation.
        let mut swapped: Vec<Match> = align_oriented(b, a, settings)
            .into_iter()
            .map(|m| Match {
                a: m.b,
                b: m.a,
                a_tokens: m.b_tokens,
                b_tokens: m.a_tokens,
                ..m
            })
            .collect();
        swapped.sort_by_key(|m| (m.a.0, m.b.0));
        return swapped;
    }
    align_oriented(a, b, settings)
}

fn align_oriented(
    (a, keys_a): (&Doc, &Keys),
    (b, keys_b): (&Doc, &Keys),
    settings: &AlignSettings,
) -> Vec<Match> {
    let anchors = anchors(keys_a, keys_b);
    if anchors.is_empty() {
        return Vec::new();
    }
    let minimum = settings.min_match_tokens;
    // Blocks as short as a verbatim match may be; other kinds are held to `minimum` below.
    let floor = settings.min_verbatim_tokens.min(minimum);
    let long_enough = |c: &Cluster| c.i1 - c.i0 >= floor && c.j1 - c.j0 >= floor;
    let valid = |c: &Cluster| long_enough(c) && content_dice(a, b, c) >= settings.min_similarity;
    // A lone pair of content words is a coincidence as often as not; three, or a trigram, are not.
    let seeds = shadowed_removed(
        clusters(&anchors)
            .into_iter()
            .filter(|c| c.anchors >= 3 || (c.strong.is_some() && c.anchors >= 2))
            .collect(),
    );
    let mut blocks: Vec<Cluster> = Vec::new();
    for group in merge(seeds, settings.max_gap_tokens) {
        let block = tightened(&bounding(&group), &anchors).trimmed();
        // A block that does not hold together keeps those of its parts that do.
        if valid(&block) {
            blocks.push(block);
            continue;
        }
        blocks.extend(
            group
                .iter()
                .filter(|c| long_enough(c))
                .map(|c| tightened(c, &anchors).trimmed())
                .filter(|c| valid(c)),
        );
    }
    let mut matches = Vec::new();
    for c in drop_overlaps(blocks) {
        let (kind, similarity) = kind(a, b, &c);
        let shorter = (c.i1 - c.i0).min(c.j1 - c.j0);
        if kind != Kind::Verbatim && shorter < minimum {
            // Only an exact copy counts below `minimum` (see align.py).
            continue;
        }
        if kind == Kind::Edited && shorter < settings.min_edited_tokens {
            // Edited matches need `min_edited_tokens` (see align.py).
            continue;
        }
        matches.push(match_of(a, b, &c, kind, similarity));
    }
    let found = fragments(
        (&a.side(), keys_a.sentences(a)),
        (&b.side(), keys_b.sentences(b)),
        // Only word-for-word matches explain their text exactly (see align.py).
        &token_boxes(
            a,
            b,
            &matches
                .iter()
                .filter(|m| m.kind != Kind::Edited)
                .copied()
                .collect::<Vec<_>>(),
        ),
        settings.min_edited_tokens,
    );
    let rewrites = rewrites_joined(
        a,
        b,
        with_fragments(a, b, matches, &found),
        settings.max_gap_tokens,
    );
    edges_to_sentences(a, b, summaries_joined(a, b, rewrites), floor)
}

/// `align.rewrites_joined`: a rewritten match and the next one (by tokens) joined when the next
/// starts at most `max_gap` tokens after it ends on both sides.
fn rewrites_joined(a: &Doc, b: &Doc, matches: Vec<Match>, max_gap: i64) -> Vec<Match> {
    if matches.len() < 2 {
        return matches;
    }
    let boxes = token_boxes(a, b, &matches);
    let mut order: Vec<usize> = (0..matches.len()).collect();
    order.sort_by_key(|&k| boxes[k]);
    let mut out: Vec<((i64, i64, i64, i64), Match)> = Vec::with_capacity(matches.len());
    for k in order {
        let ((i0, i1, j0, j1), m) = (boxes[k], matches[k]);
        if let Some((held, last)) = out.last_mut() {
            let (p0, p1, q0, q1) = *held;
            let kinds = [last.kind, m.kind];
            if kinds.contains(&Kind::Rewritten)
                && !kinds.contains(&Kind::Summary)
                && (0..=max_gap).contains(&(i0 - p1))
                && (0..=max_gap).contains(&(j0 - q1))
            {
                let c = Cluster {
                    i0: p0,
                    i1: i1.max(p1),
                    j0: q0,
                    j1: j1.max(q1),
                    anchors: 0,
                    strong: None,
                };
                let (joined, similarity) = match kind(a, b, &c) {
                    (Kind::Edited, similarity) => (Kind::Rewritten, similarity),
                    other => other,
                };
                *held = (c.i0, c.i1, c.j0, c.j1);
                *last = match_of(a, b, &c, joined, similarity);
                continue;
            }
        }
        out.push(((i0, i1, j0, j1), m));
    }
    let mut joined: Vec<Match> = out.into_iter().map(|(_, m)| m).collect();
    joined.sort_by_key(|m| (m.a.0, m.b.0));
    joined
}

/// `align.token_boxes`: each match's tokens `(i0, i1, j0, j1)`.
/// The match a cluster of tokens makes, at character offsets (`align.py`'s `_match`).
fn match_of(a: &Doc, b: &Doc, c: &Cluster, kind: Kind, similarity: f64) -> Match {
    Match {
        a: (a.starts[c.i0 as usize], a.ends[c.i1 as usize - 1]),
        b: (b.starts[c.j0 as usize], b.ends[c.j1 as usize - 1]),
        similarity: round4(similarity),
        kind,
        a_tokens: c.i1 - c.i0,
        b_tokens: c.j1 - c.j0,
    }
}

fn token_boxes(a: &Doc, b: &Doc, matches: &[Match]) -> Vec<(i64, i64, i64, i64)> {
    matches
        .iter()
        .map(|m| {
            let i0 = a.starts.partition_point(|&s| s < m.a.0) as i64;
            let j0 = b.starts.partition_point(|&s| s < m.b.0) as i64;
            (i0, i0 + m.a_tokens, j0, j0 + m.b_tokens)
        })
        .collect()
}

/// `align.with_fragments`: the second stage's fragments merged with the matches they overlap
/// on both sides, fragments that overlap one match merged together.
fn with_fragments(a: &Doc, b: &Doc, matches: Vec<Match>, found: &[Fragment]) -> Vec<Match> {
    if found.is_empty() {
        return matches;
    }
    let boxes = token_boxes(a, b, &matches);
    let mut group: Vec<usize> = (0..found.len()).collect();
    fn root(group: &[usize], mut k: usize) -> usize {
        while group[k] != k {
            k = group[k];
        }
        k
    }
    let mut holder: Vec<Option<usize>> = vec![None; matches.len()];
    for (k, f) in found.iter().enumerate() {
        for (m, &(i0, i1, j0, j1)) in boxes.iter().enumerate() {
            if overlap(f.i0, f.i1, i0, i1) > 0 && overlap(f.j0, f.j1, j0, j1) > 0 {
                match holder[m] {
                    None => holder[m] = Some(k),
                    Some(first) => {
                        let (x, y) = (root(&group, first), root(&group, k));
                        group[x.max(y)] = x.min(y);
                    }
                }
            }
        }
    }
    let mut merged = Vec::new();
    for top in 0..found.len() {
        if root(&group, top) != top {
            continue;
        }
        let members: Vec<&Fragment> = (0..found.len())
            .filter(|&k| root(&group, k) == top)
            .map(|k| &found[k])
            .collect();
        let mut parts: Vec<(i64, i64, i64, i64)> =
            members.iter().map(|f| (f.i0, f.i1, f.j0, f.j1)).collect();
        parts.extend(
            holder
                .iter()
                .zip(&boxes)
                .filter(|(held, _)| held.is_some_and(|h| root(&group, h) == top))
                .map(|(_, &bx)| bx),
        );
        let c = Cluster {
            i0: parts.iter().map(|p| p.0).min().unwrap(),
            i1: parts.iter().map(|p| p.1).max().unwrap(),
            j0: parts.iter().map(|p| p.2).min().unwrap(),
            j1: parts.iter().map(|p| p.3).max().unwrap(),
            anchors: 0,
            strong: None,
        };
        let (mut kind, similarity) = kind(a, b, &c);
        if kind == Kind::Edited {
            // The best supported fragment's kind: the most seeds, the first of equals.
            let best = members.iter().fold(
                members[0],
                |best, f| if f.seeds > best.seeds { f } else { best },
            );
            kind = if best.summary {
                Kind::Summary
            } else {
                Kind::Rewritten
            };
        }
        merged.push(match_of(a, b, &c, kind, similarity));
    }
    let mut out: Vec<Match> = matches
        .into_iter()
        .zip(holder)
        .filter(|(_, held)| held.is_none())
        .map(|(m, _)| m)
        .collect();
    out.extend(merged);
    out.sort_by_key(|m| (m.a.0, m.b.0));
    out
}

/// `align._sentence_gap`: whole sentences between two token ranges.
fn sentence_gap(starts: &[i64], x: (i64, i64), y: (i64, i64)) -> i64 {
    let (last, first) = if x.1 <= y.0 {
        (x.1 - 1, y.0)
    } else if y.1 <= x.0 {
        (y.1 - 1, x.0)
    } else {
        return 0;
    };
    let upto = |t: i64| starts.partition_point(|&s| s <= t) as i64;
    (upto(first) - upto(last) - 1).max(0)
}

/// `align._parts_of_a_summary`.
fn parts_of_a_summary(a: &Doc, b: &Doc, p: [i64; 4], q: [i64; 4]) -> bool {
    let la = p[1].max(q[1]) - p[0].min(q[0]);
    let lb = p[3].max(q[3]) - p[2].min(q[2]);
    if la.min(lb) as f64 > SUMMARY_RATIO * la.max(lb) as f64 {
        return false;
    }
    let (on_a, on_b) = (((p[0], p[1]), (q[0], q[1])), ((p[2], p[3]), (q[2], q[3])));
    let ((short_doc, short), (long_doc, long)) = if la < lb {
        ((a, on_a), (b, on_b))
    } else {
        ((b, on_b), (a, on_a))
    };
    if overlap(short.0 .0, short.0 .1, short.1 .0, short.1 .1) > 0 {
        return false;
    }
    sentence_gap(short_doc.sentences, short.0, short.1) <= MAX_GAP_SENTENCES
        && sentence_gap(long_doc.sentences, long.0, long.1) <= SUMMARY_GAP_SENTENCES
}

/// `align.summaries_joined`: the parts of one summary joined into one `summary` match.
fn summaries_joined(a: &Doc, b: &Doc, matches: Vec<Match>) -> Vec<Match> {
    if matches.len() < 2 || a.sentences.is_empty() || b.sentences.is_empty() {
        return matches;
    }
    let mut boxes: Vec<[i64; 4]> = token_boxes(a, b, &matches)
        .into_iter()
        .map(|(i0, i1, j0, j1)| [i0, i1, j0, j1])
        .collect();
    let mut kept: Vec<Option<Match>> = matches.into_iter().map(Some).collect();
    'joining: loop {
        for x in 0..boxes.len() {
            for y in x + 1..boxes.len() {
                let (p, q) = (boxes[x], boxes[y]);
                if parts_of_a_summary(a, b, p, q) {
                    boxes[x] = [
                        p[0].min(q[0]),
                        p[1].max(q[1]),
                        p[2].min(q[2]),
                        p[3].max(q[3]),
                    ];
                    kept[x] = None;
                    boxes.remove(y);
                    kept.remove(y);
                    continue 'joining;
                }
            }
        }
        break;
    }
    let mut out: Vec<Match> = kept
        .into_iter()
        .zip(boxes)
        .map(|(m, bx)| {
            m.unwrap_or_else(|| {
                let c = Cluster {
                    i0: bx[0],
                    i1: bx[1],
                    j0: bx[2],
                    j1: bx[3],
                    anchors: 0,
                    strong: None,
                };
                // Never verbatim or near-verbatim: one side is at most a third of the other.
                let (_, similarity) = kind(a, b, &c);
                match_of(a, b, &c, Kind::Summary, similarity)
            })
        })
        .collect();
    out.sort_by_key(|m| (m.a.0, m.b.0));
    out
}

/// `align._sentence_of`: the tokens `[first, end)` of the sentence holding token `t`, kept
/// inside the document whatever `starts` holds.
fn sentence_of(starts: &[i64], tokens: i64, t: i64) -> (i64, i64) {
    let k = starts.partition_point(|&s| s <= t);
    let first = if k > 0 { starts[k - 1] } else { 0 };
    let end = starts.get(k).copied().unwrap_or(tokens);
    (first.clamp(0, tokens), end.clamp(0, tokens))
}

/// `align._edges_widened`: `x` with each end moved to its sentence's bound when fewer than
/// `reach` tokens of the sentence lie beyond it and no other range of `ranges` (this side's
/// matches, `x` the `own`-th) lies between.
fn edges_widened(
    starts: &[i64],
    tokens: i64,
    ranges: &[(i64, i64)],
    own: usize,
    reach: i64,
) -> (i64, i64) {
    let (mut x0, mut x1) = ranges[own];
    let others = || {
        ranges
            .iter()
            .enumerate()
            .filter(move |&(n, _)| n != own)
            .map(|(_, &r)| r)
    };
    let (first, _) = sentence_of(starts, tokens, x0);
    let (_, end) = sentence_of(starts, tokens, x1 - 1);
    if (1..reach).contains(&(x0 - first)) && !others().any(|(o0, o1)| o0 < x0 && o1 > first) {
        x0 = first;
    }
    if (1..reach).contains(&(end - x1)) && !others().any(|(o0, o1)| o1 > x1 && o0 < end) {
        x1 = end;
    }
    (x0, x1)
}

/// `align.edges_to_sentences`: the ends of each edited, rewritten or summary match taken to
/// its sentence's bound when fewer than `reach` tokens of the sentence lie beyond the end and
/// no other match does (see align.py).
fn edges_to_sentences(a: &Doc, b: &Doc, matches: Vec<Match>, reach: i64) -> Vec<Match> {
    if matches.is_empty() || a.sentences.is_empty() || b.sentences.is_empty() {
        return matches;
    }
    let boxes = token_boxes(a, b, &matches);
    let on_a: Vec<(i64, i64)> = boxes.iter().map(|bx| (bx.0, bx.1)).collect();
    let on_b: Vec<(i64, i64)> = boxes.iter().map(|bx| (bx.2, bx.3)).collect();
    let (tokens_a, tokens_b) = (a.token_hashes.len() as i64, b.token_hashes.len() as i64);
    matches
        .iter()
        .enumerate()
        .map(|(k, &m)| {
            if matches!(m.kind, Kind::Verbatim | Kind::NearVerbatim) {
                return m;
            }
            let (w0, w1) = edges_widened(a.sentences, tokens_a, &on_a, k, reach);
            let (v0, v1) = edges_widened(b.sentences, tokens_b, &on_b, k, reach);
            if (w0, w1, v0, v1) == boxes[k] {
                return m;
            }
            let c = Cluster {
                i0: w0,
                i1: w1,
                j0: v0,
                j1: v1,
                anchors: 0,
                strong: None,
            };
            let (_, similarity) = kind(a, b, &c);
            match_of(a, b, &c, m.kind, similarity)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_by_place_are_sorted_as_a_comparison_sort_sorts_them() {
        let mut next = crate::testing::xorshift(43);
        for n in [0, 1, 5, 63, 64, 65, 300, 2000] {
            for spread in [1, 3, 40, 100_000] {
                let rows: Vec<Anchor> = (0..n)
                    .map(|_| Anchor {
                        i: (next() % spread) as i64,
                        j: (next() % 7) as i64,
                        len: if next().is_multiple_of(2) { 1 } else { 3 },
                    })
                    .collect();
                let mut expected = rows.clone();
                expected.sort_by_key(|x| (x.i, x.j, -x.len));
                assert_eq!(by_place(rows), expected, "{n} anchors over {spread} places");
            }
        }
    }

    #[test]
    fn the_ends_in_order_are_those_of_a_stable_sort() {
        let mut next = crate::testing::xorshift(41);
        for round in 0..500 {
            let n = round % 12;
            let keys: Vec<i64> = (0..n).map(|_| (next() % 5) as i64).collect();
            let kept: Vec<usize> = (0..n).filter(|_| !next().is_multiple_of(4)).collect();
            let mut order = kept.clone();
            order.sort_by_key(|&k| keys[k]);
            let expected = (order.len() >= 3).then(|| {
                let m = order.len();
                [order[0], order[1], order[m - 1], order[m - 2]]
            });
            assert_eq!(ends_in_order(kept.into_iter(), |k| keys[k]), expected);
        }
    }

    #[test]
    fn round4_is_pythons_round() {
        // Values from Python: round(x, 4), exact binary ties to even.
        for (x, r) in [
            (0.03125, 0.0312),
            (0.09375, 0.0938),
            (0.15625, 0.1562),
            (0.9999, 0.9999),
            (2.0 / 3.0, 0.6667),
            (1.0, 1.0),
            (0.0, 0.0),
            (0.00005, 0.0001),
            (1e-300, 0.0),
        ] {
            assert_eq!(round4(x), r, "round({x}, 4)");
        }
    }

    fn doc<'a>(h: &'a [u64], t: &'a [u64], c: &'a [bool], s: &'a [i64], e: &'a [i64]) -> Doc<'a> {
        Doc {
            token_hashes: h,
            stems: h,
            trigrams: t,
            content: c,
            starts: s,
            ends: e,
            sentences: &[],
        }
    }

    #[test]
    fn a_verbatim_copy_is_one_match() {
        let h: Vec<u64> = (1..=30).collect();
        let t: Vec<u64> = h
            .windows(3)
            .map(|w| w[0] * 1_000_000 + w[1] * 1000 + w[2])
            .collect();
        let c = vec![true; 30];
        let s: Vec<i64> = (0..30).map(|k| 5 * k).collect();
        let e: Vec<i64> = s.iter().map(|x| x + 4).collect();
        let d = doc(&h, &t, &c, &s, &e);
        let settings = AlignSettings {
            min_match_tokens: 8,
            min_verbatim_tokens: 8,
            min_similarity: 0.5,
            max_gap_tokens: 40,
            min_edited_tokens: 16,
        };
        let m = align(&d, &d, &settings);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].a, m[0].kind, m[0].similarity, m[0].a_tokens),
            ((0, 149), Kind::Verbatim, 1.0, 30)
        );
    }

    #[test]
    fn an_edited_match_short_of_its_sentences_bounds_takes_them_when_near() {
        // 40 tokens in sentences of 10 (0, 10, 20, 30); both sides alike.
        let h: Vec<u64> = (1..=40).collect();
        let t: Vec<u64> = h.clone();
        let c = vec![true; 40];
        let s: Vec<i64> = (0..40).map(|k| 5 * k).collect();
        let e: Vec<i64> = s.iter().map(|x| x + 4).collect();
        let sentences = [0, 10, 20, 30];
        let d = Doc {
            sentences: &sentences,
            ..doc(&h, &t, &c, &s, &e)
        };
        let boxed = |i0: i64, i1: i64, j0: i64, j1: i64, kind: Kind| {
            let c = Cluster {
                i0,
                i1,
                j0,
                j1,
                anchors: 0,
                strong: None,
            };
            match_of(&d, &d, &c, kind, 0.5)
        };
        let widened = |m: Vec<Match>, reach: i64| -> Vec<(i64, i64, i64, i64)> {
            token_boxes(&d, &d, &edges_to_sentences(&d, &d, m, reach))
        };
        // Fewer than `reach` (4) tokens beyond each end: the sentences' bounds, both sides.
        let near = boxed(13, 27, 11, 28, Kind::Rewritten);
        assert_eq!(widened(vec![near], 4), vec![(10, 30, 10, 30)]);
        // `reach` tokens beyond: stays.
        let far = boxed(14, 26, 14, 26, Kind::Edited);
        assert_eq!(widened(vec![far], 4), vec![(14, 26, 14, 26)]);
        // A verbatim end stays; another match between holds the end it faces.
        let exact = boxed(13, 27, 11, 28, Kind::Verbatim);
        assert_eq!(widened(vec![exact], 4), vec![(13, 27, 11, 28)]);
        let before = boxed(10, 11, 35, 36, Kind::Verbatim);
        assert_eq!(
            widened(vec![before, near], 4),
            vec![(10, 11, 35, 36), (13, 30, 10, 30)]
        );
        let after = boxed(28, 29, 35, 36, Kind::Verbatim);
        assert_eq!(
            widened(vec![near, after], 4),
            vec![(10, 27, 10, 30), (28, 29, 35, 36)]
        );
    }
}
