//! The second stage of alignment: `reuse/engine/seeds.py`'s `fragments`, step for step
//! (sentences, tf-isf seeds, extension, summary mode, filtering, overlaps).
//!
//! The Python module is the oracle (tests/test_seeds.py); the thresholds and their reasons are
//! documented there. Floating-point sums run in the same order (by word hash) as in Python, so
//! the results are equal, not merely close.

use crate::fasthash::FastMap;
use crate::unicode;

const MIN_SENTENCE_WORDS: u32 = 3;
const SEED_SIMILARITY: f64 = 0.33;
const SEED_SHARED_WORDS: u32 = 2;
pub(crate) const MAX_GAP_SENTENCES: i64 = 4;
pub(crate) const SUMMARY_GAP_SENTENCES: i64 = 24;
pub(crate) const SUMMARY_RATIO: f64 = 1.0 / 3.0;
/// `SUMMARY_SPAN_SHARE` as a fraction: a quarter.
const SUMMARY_SPAN_SHARE: (i64, i64) = (1, 4);
const FRAGMENT_SIMILARITY: f64 = 0.34;
const MAX_SEEDS_PER_SENTENCE: usize = 3;
const MIN_SEEDS: usize = 3;
const MIN_STRONG_SEEDS: usize = 2;
const STRONG_SIMILARITY: f64 = 0.5;
/// `STRONG_FLOOR_SHARE` as a fraction: two thirds.
const STRONG_FLOOR_SHARE: (i64, i64) = (2, 3);

/// A bag of words: `(hash, count)` sorted by hash.
type Bag = Vec<(u64, u32)>;

/// Tokens `[i0, i1)` of a aligned to `[j0, j1)` of b (`seeds.Fragment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    pub i0: i64,
    pub i1: i64,
    pub j0: i64,
    pub j1: i64,
    pub seeds: usize,
    pub summary: bool,
}

/// What the second stage needs of one document: token and stem hashes, content flags and the
/// token positions where its sentences start.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub hashes: &'a [u64],
    pub stems: &'a [u64],
    pub content: &'a [bool],
    pub sentences: &'a [i64],
}

/// A document's sentences for the second stage: their token bounds, the bags of their content
/// words and of those words' stems, and for each word (and stem) the number of sentences
/// holding it, as a bag: what each pair's inverse sentence frequencies ([`isf`]) are made from.
pub struct Sentences {
    bounds: Vec<(i64, i64)>,
    words: Vec<Bag>,
    stems: Vec<Bag>,
    word_counts: Bag,
    stem_counts: Bag,
}

/// The bag of `words`: each distinct word with its count, by word (sorts the words in place).
fn bag_of_mut(words: &mut [u64]) -> Bag {
    words.sort_unstable();
    let distinct = 1 + words.windows(2).filter(|w| w[0] != w[1]).count();
    let mut bag: Bag = Vec::with_capacity(distinct.min(words.len()));
    for &w in words.iter() {
        match bag.last_mut() {
            Some((h, c)) if *h == w => *c += 1,
            _ => bag.push((w, 1)),
        }
    }
    bag
}

impl Sentences {
    fn of(bounds: Vec<(i64, i64)>, words: Vec<Bag>, stems: Vec<Bag>) -> Self {
        Self {
            word_counts: holders(&words),
            stem_counts: holders(&stems),
            bounds,
            words,
            stems,
        }
    }
}

/// The sum of many bags: their entries gathered, sorted once and counted (summing bag after bag
/// would copy the sum once a bag).
fn sum_of<'a>(bags: impl IntoIterator<Item = &'a Bag>) -> Bag {
    let mut all: Vec<(u64, u32)> = bags.into_iter().flatten().copied().collect();
    all.sort_unstable_by_key(|&(w, _)| w);
    let mut out: Bag = Vec::with_capacity(all.len());
    for (w, c) in all {
        match out.last_mut() {
            Some((h, n)) if *h == w => *n += c,
            _ => out.push((w, c)),
        }
    }
    out
}

/// How many of `bags` hold each word, as a bag.
fn holders(bags: &[Bag]) -> Bag {
    let mut all: Vec<u64> = bags.iter().flatten().map(|&(w, _)| w).collect();
    bag_of_mut(&mut all)
}

/// The sum of two bags.
fn add(x: &Bag, y: &Bag) -> Bag {
    let mut out = Vec::with_capacity(x.len() + y.len());
    let (mut p, mut q) = (0, 0);
    while p < x.len() || q < y.len() {
        if q == y.len() || (p < x.len() && x[p].0 < y[q].0) {
            out.push(x[p]);
            p += 1;
        } else if p == x.len() || y[q].0 < x[p].0 {
            out.push(y[q]);
            q += 1;
        } else {
            out.push((x[p].0, x[p].1 + y[q].1));
            p += 1;
            q += 1;
        }
    }
    out
}

/// `_sentences`: sentences from their starts, short ones joined to the next (the last one to
/// the one before it).
pub fn sentences(side: &Side) -> Sentences {
    let n = side.hashes.len() as i64;
    let cuts: Vec<i64> = side
        .sentences
        .iter()
        .copied()
        .filter(|&s| 0 <= s && s < n)
        .collect();
    let mut bounds = Vec::new();
    let mut words: Vec<Bag> = Vec::new();
    let mut stems: Vec<Bag> = Vec::new();
    let mut open_start = -1;
    // The open sentence's content words and their stems, one buffer each for every sentence:
    // its bags are made once it is long enough (a bag a short sentence, summed with the next,
    // cost more in allocations than the alignment it serves).
    let mut open_words: Vec<u64> = Vec::new();
    let mut open_stems: Vec<u64> = Vec::new();
    for (k, &s) in cuts.iter().enumerate() {
        let e = if k + 1 < cuts.len() { cuts[k + 1] } else { n };
        if e <= s {
            continue;
        }
        if open_start < 0 {
            open_start = s;
        }
        for t in (s as usize..e as usize).filter(|&t| side.content[t]) {
            open_words.push(side.hashes[t]);
            open_stems.push(side.stems[t]);
        }
        if open_words.len() >= MIN_SENTENCE_WORDS as usize {
            bounds.push((open_start, e));
            words.push(bag_of_mut(&mut open_words));
            stems.push(bag_of_mut(&mut open_stems));
            open_words.clear();
            open_stems.clear();
            open_start = -1;
        }
    }
    if open_start >= 0 && (!open_words.is_empty() || bounds.is_empty()) {
        if !bounds.is_empty() && open_words.len() < MIN_SENTENCE_WORDS as usize {
            let last = bounds.len() - 1;
            bounds[last].1 = n;
            words[last] = add(&words[last], &bag_of_mut(&mut open_words));
            stems[last] = add(&stems[last], &bag_of_mut(&mut open_stems));
        } else if !open_words.is_empty() {
            bounds.push((open_start, n));
            words.push(bag_of_mut(&mut open_words));
            stems.push(bag_of_mut(&mut open_stems));
        }
    }
    Sentences::of(bounds, words, stems)
}

/// `_cosine`: tf times isf, sums in the order of the hashes.
fn cosine(x: &Bag, y: &Bag, weight: &FastMap<u64, f64>) -> f64 {
    let mut dot = 0.0;
    for_each_shared(x, y, |h, cx, cy| {
        let w = weight[&h];
        dot += ((cx * cy) as f64 * w) * w;
    });
    if dot == 0.0 {
        return 0.0;
    }
    let norm = |b: &Bag| -> f64 {
        b.iter().fold(0.0, |acc, &(h, c)| {
            let v = c as f64 * weight[&h];
            acc + v * v
        })
    };
    dot / (norm(x) * norm(y)).sqrt()
}

/// Calls `f(word, count in x, count in y)` for each word both sorted bags hold, in order.
fn for_each_shared(x: &Bag, y: &Bag, mut f: impl FnMut(u64, u32, u32)) {
    let (mut p, mut q) = (0, 0);
    while p < x.len() && q < y.len() {
        if x[p].0 < y[q].0 {
            p += 1;
        } else if y[q].0 < x[p].0 {
            q += 1;
        } else {
            f(x[p].0, x[p].1, y[q].1);
            p += 1;
            q += 1;
        }
    }
}

fn shared_distinct(x: &Bag, y: &Bag) -> usize {
    let mut n = 0;
    for_each_shared(x, y, |_, _, _| n += 1);
    n
}

fn dice(x: &Bag, y: &Bag) -> f64 {
    (2 * shared_distinct(x, y)) as f64 / (x.len() + y.len()) as f64
}

/// `_seeds`: sentence pairs sharing enough words whose stems are similar (`stem_weight`), sorted,
/// without the sentences seeding too often.
fn find_seeds(sa: &Sentences, sb: &Sentences, stem_weight: &FastMap<u64, f64>) -> Vec<(i64, i64)> {
    // Each word of b's sentences with the sentences holding it, as one sorted list of `(word,
    // sentence)` and each word's run in it: no list of its own for each word, which cost an
    // allocation a word and most of the time spent here.
    let mut held: Vec<(u64, usize)> = sb
        .words
        .iter()
        .enumerate()
        .flat_map(|(l, bag)| bag.iter().map(move |&(w, _)| (w, l)))
        .collect();
    held.sort_unstable();
    let mut holders: FastMap<u64, (usize, usize)> = FastMap::default();
    let mut start = 0;
    for run in held.chunk_by(|x, y| x.0 == y.0) {
        holders.insert(run[0].0, (start, start + run.len()));
        start += run.len();
    }
    let mut seeds = Vec::new();
    let mut shared = vec![0u32; sb.words.len()];
    let mut touched: Vec<usize> = Vec::new();
    for (k, bag) in sa.words.iter().enumerate() {
        for &(w, _) in bag {
            if let Some(&(from, to)) = holders.get(&w) {
                for &(_, l) in &held[from..to] {
                    if shared[l] == 0 {
                        touched.push(l);
                    }
                    shared[l] += 1;
                }
            }
        }
        touched.sort_unstable();
        for &l in &touched {
            if shared[l] >= SEED_SHARED_WORDS {
                let (x, y) = (&sa.stems[k], &sb.stems[l]);
                if dice(x, y) > SEED_SIMILARITY && cosine(x, y, stem_weight) > SEED_SIMILARITY {
                    seeds.push((k as i64, l as i64));
                }
            }
            shared[l] = 0;
        }
        touched.clear();
    }
    let mut per_a: FastMap<i64, usize> = FastMap::default();
    let mut per_b: FastMap<i64, usize> = FastMap::default();
    for &(k, l) in &seeds {
        *per_a.entry(k).or_default() += 1;
        *per_b.entry(l).or_default() += 1;
    }
    seeds.retain(|(k, l)| per_a[k] <= MAX_SEEDS_PER_SENTENCE && per_b[l] <= MAX_SEEDS_PER_SENTENCE);
    seeds
}

/// `_groups`: seeds chained within the gaps, in any order; each group sorted, groups by their
/// first seed. `seeds` must be sorted.
fn groups(seeds: &[(i64, i64)], gap_a: i64, gap_b: i64) -> Vec<Vec<(i64, i64)>> {
    fn root(parent: &mut [usize], mut k: usize) -> usize {
        while parent[k] != k {
            parent[k] = parent[parent[k]];
            k = parent[k];
        }
        k
    }
    let mut parent: Vec<usize> = (0..seeds.len()).collect();
    for k in 0..seeds.len() {
        for m in k + 1..seeds.len() {
            if seeds[m].0 - seeds[k].0 > gap_a + 1 {
                break;
            }
            if (seeds[m].1 - seeds[k].1).abs() <= gap_b + 1 {
                let (x, y) = (root(&mut parent, k), root(&mut parent, m));
                parent[x.max(y)] = x.min(y);
            }
        }
    }
    let mut by_root: FastMap<usize, usize> = FastMap::default();
    let mut out: Vec<Vec<(i64, i64)>> = Vec::new();
    for (k, &seed) in seeds.iter().enumerate() {
        let r = root(&mut parent, k);
        let slot = *by_root.entry(r).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[slot].push(seed);
    }
    out.sort();
    out
}

#[derive(Clone, Copy)]
struct BoxS {
    k0: i64,
    k1: i64,
    l0: i64,
    l1: i64,
    seeds: usize,
}

fn box_of(group: &[(i64, i64)]) -> BoxS {
    BoxS {
        k0: group.iter().map(|s| s.0).min().unwrap(),
        k1: group.iter().map(|s| s.0).max().unwrap(),
        l0: group.iter().map(|s| s.1).min().unwrap(),
        l1: group.iter().map(|s| s.1).max().unwrap(),
        seeds: group.len(),
    }
}

/// `_bag`: the words of `sentences` (each once) of `s`.
fn sentence_words(s: &Sentences, sentences: impl IntoIterator<Item = i64>) -> Bag {
    sum_of(sentences.into_iter().map(|k| &s.words[k as usize]))
}

/// Each value of `values` once.
fn distinct(values: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut out: Vec<i64> = values.collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Which side a summary is: `Some(0)` for a, `Some(1)` for b, `None` in the ordinary mode.
type Short = Option<u8>;

/// `_holds`: whether a group's two sides agree.
fn holds(
    group: &[(i64, i64)],
    b: &BoxS,
    sa: &Sentences,
    sb: &Sentences,
    weight: &FastMap<u64, f64>,
    short: Short,
) -> bool {
    let bag_a = if short == Some(1) {
        sentence_words(sa, distinct(group.iter().map(|s| s.0)))
    } else {
        sentence_words(sa, b.k0..=b.k1)
    };
    let bag_b = if short == Some(0) {
        sentence_words(sb, distinct(group.iter().map(|s| s.1)))
    } else {
        sentence_words(sb, b.l0..=b.l1)
    };
    cosine(&bag_a, &bag_b, weight) >= FRAGMENT_SIMILARITY
}

/// Each seed's cosine of its sentences' stems.
type Scores = FastMap<(i64, i64), f64>;

/// `_best_seeds`: each sentence of `side` (0 for a, 1 for b) with its best seed, the first of equals.
fn best_seeds(seeds: &[(i64, i64)], score: &Scores, side: u8) -> FastMap<i64, (i64, i64)> {
    let mut best: FastMap<i64, (i64, i64)> = FastMap::default();
    for &seed in seeds {
        let key = if side == 0 { seed.0 } else { seed.1 };
        match best.get(&key) {
            Some(top) if score[&seed] <= score[top] => {}
            _ => {
                best.insert(key, seed);
            }
        }
    }
    best
}

/// `_adds_nothing`: `seed` is not `best`, and its sentence on `side` shares fewer than a seed's
/// shared words of `own` that `best`'s sentence there does not hold.
fn adds_nothing(seed: (i64, i64), best: (i64, i64), own: &Bag, others: &[Bag], side: u8) -> bool {
    if seed == best {
        return false;
    }
    let pick = |s: (i64, i64)| (if side == 0 { s.0 } else { s.1 }) as usize;
    let held = &others[pick(best)];
    let mut new = 0;
    for_each_shared(own, &others[pick(seed)], |h, _, _| {
        if held.binary_search_by_key(&h, |x| x.0).is_err() {
            new += 1;
        }
    });
    new < SEED_SHARED_WORDS
}

/// `_trimmed_box`: an ordinary group's box without its redundant edges, its seeds all counted.
fn trimmed_box(group: &[(i64, i64)], score: &Scores, sa: &Sentences, sb: &Sentences) -> BoxS {
    let mut kept = group.to_vec();
    while kept.len() > 1 {
        let (best_a, best_b) = (best_seeds(&kept, score, 0), best_seeds(&kept, score, 1));
        let bx = box_of(&kept);
        let mut dropped: Vec<(i64, i64)> = Vec::new();
        // Side b's edge sentences, each seed's other sentence on a; then a's.
        for (side, edges, best, own, others) in [
            (1u8, [bx.l0, bx.l1], &best_a, &sa.stems, &sb.stems),
            (0u8, [bx.k0, bx.k1], &best_b, &sb.stems, &sa.stems),
        ] {
            // (the seed's sentence on `side`, its other sentence)
            let ends = |s: (i64, i64)| if side == 1 { (s.1, s.0) } else { (s.0, s.1) };
            for edge in edges {
                let at: Vec<(i64, i64)> = kept
                    .iter()
                    .copied()
                    .filter(|&s| ends(s).0 == edge)
                    .collect();
                let redundant = |&s: &(i64, i64)| {
                    let other = ends(s).1;
                    adds_nothing(s, best[&other], &own[other as usize], others, side)
                };
                if at.iter().all(redundant) {
                    dropped.extend(at);
                }
            }
        }
        dropped.sort_unstable();
        dropped.dedup();
        if dropped.is_empty() || dropped.len() == kept.len() {
            break;
        }
        kept.retain(|s| dropped.binary_search(s).is_err());
    }
    BoxS {
        seeds: group.len(),
        ..box_of(&kept)
    }
}

/// `_extend`: groups whose sides agree; a group that does not is regrouped with smaller gaps.
/// An ordinary group's box leaves out its redundant edges (`trimmed_box`).
fn extend(
    seeds: &[(i64, i64)],
    gaps: (i64, i64),
    sa: &Sentences,
    sb: &Sentences,
    weight: &FastMap<u64, f64>,
    short: Short,
    score: &Scores,
) -> Vec<BoxS> {
    let mut boxes = Vec::new();
    for group in groups(seeds, gaps.0, gaps.1) {
        let b = if short.is_some() {
            box_of(&group)
        } else {
            trimmed_box(&group, score, sa, sb)
        };
        if group.len() == 1 || holds(&group, &b, sa, sb, weight, short) {
            boxes.push(b);
        } else if gaps.0.max(gaps.1) > 0 {
            boxes.extend(extend(
                &group,
                ((gaps.0 - 1).max(0), (gaps.1 - 1).max(0)),
                sa,
                sb,
                weight,
                short,
                score,
            ));
        } else {
            boxes.extend(group.iter().map(|s| box_of(&[*s])));
        }
    }
    boxes
}

/// `_pulled_in`: a range cut to the first and last content word the other side holds.
fn pulled_in(side: &Side, start: i64, end: i64, other: &Bag) -> (i64, i64) {
    let holds = |h: u64| other.binary_search_by_key(&h, |x| x.0).is_ok();
    let shared: Vec<i64> = (start..end)
        .filter(|&k| side.content[k as usize] && holds(side.hashes[k as usize]))
        .collect();
    match (shared.first(), shared.last()) {
        (Some(&s), Some(&e)) => (s, e + 1),
        _ => (start, end),
    }
}

fn overlap(x0: i64, x1: i64, y0: i64, y1: i64) -> i64 {
    0.max(x1.min(y1) - x0.max(y0))
}

/// `_explained_elsewhere`.
fn explained_elsewhere(
    seed: (i64, i64),
    sa: &Sentences,
    sb: &Sentences,
    aligned: &[(i64, i64, i64, i64)],
) -> bool {
    let ((x0, x1), (y0, y1)) = (sa.bounds[seed.0 as usize], sb.bounds[seed.1 as usize]);
    aligned.iter().any(|&(i0, i1, j0, j1)| {
        let (in_a, in_b) = (overlap(x0, x1, i0, i1), overlap(y0, y1, j0, j1));
        (2 * in_a > x1 - x0) != (2 * in_b > y1 - y0)
    })
}

/// `_isf`: each word's inverse sentence frequency over the sentences of both sides, from the
/// number of sentences of each side holding it (`a` and `b`) and the sides' sentences.
fn isf(a: &Bag, b: &Bag, sentences: usize) -> FastMap<u64, f64> {
    let total = sentences as f64;
    let df = add(a, b);
    let mut weight = FastMap::with_capacity_and_hasher(df.len(), Default::default());
    weight.extend(df.iter().map(|&(w, c)| (w, (total / c as f64).ln())));
    weight
}

/// `_enough`: whether an ordinary fragment is evidence enough.
fn enough(seeds: usize, shorter: i64, min_tokens: i64, similarity: impl FnOnce() -> f64) -> bool {
    if seeds >= MIN_SEEDS && shorter >= min_tokens {
        return true;
    }
    let (num, den) = STRONG_FLOOR_SHARE;
    let strong_floor = (num * min_tokens + den - 1).div_euclid(den);
    seeds >= MIN_STRONG_SEEDS && shorter >= strong_floor && similarity() >= STRONG_SIMILARITY
}

/// `fragments`: see `seeds.py`. `aligned` holds the first stage's matches as token ranges.
/// Each side is a document with its [`sentences`].
pub fn fragments(
    (a, sa): (&Side, &Sentences),
    (b, sb): (&Side, &Sentences),
    aligned: &[(i64, i64, i64, i64)],
    min_tokens: i64,
) -> Vec<Fragment> {
    if sa.bounds.is_empty() || sb.bounds.is_empty() {
        return Vec::new();
    }
    let sentences = sa.bounds.len() + sb.bounds.len();
    let stem_weight = isf(&sa.stem_counts, &sb.stem_counts, sentences);
    let found = find_seeds(sa, sb, &stem_weight);
    if found.len() < MIN_STRONG_SEEDS {
        return Vec::new();
    }
    let weight = isf(&sa.word_counts, &sb.word_counts, sentences);
    let seeds: Vec<(i64, i64)> = found
        .iter()
        .copied()
        .filter(|&s| !explained_elsewhere(s, sa, sb, aligned))
        .collect();
    let spread = |f: fn(&(i64, i64)) -> i64| {
        found.iter().map(f).max().unwrap() - found.iter().map(f).min().unwrap()
    };
    // `_modes`: in summary mode every seed found counts, explained elsewhere or not, and each
    // sentence of the short side keeps its best.
    let short_is_b = spread(|s| s.0) >= spread(|s| s.1);
    let summary_gaps = if short_is_b {
        (SUMMARY_GAP_SENTENCES, MAX_GAP_SENTENCES)
    } else {
        (MAX_GAP_SENTENCES, SUMMARY_GAP_SENTENCES)
    };
    let score: Scores = found
        .iter()
        .map(|&s| {
            let (x, y) = (&sa.stems[s.0 as usize], &sb.stems[s.1 as usize]);
            (s, cosine(x, y, &stem_weight))
        })
        .collect();
    let mut summary_seeds: Vec<(i64, i64)> = best_seeds(&found, &score, u8::from(short_is_b))
        .into_values()
        .collect();
    summary_seeds.sort_unstable();
    let mut candidates = Vec::new();
    let summary_side: Short = Some(if short_is_b { 1 } else { 0 });
    for (short, gaps, used) in [
        (None, (MAX_GAP_SENTENCES, MAX_GAP_SENTENCES), &seeds),
        (summary_side, summary_gaps, &summary_seeds),
    ] {
        let summary = short.is_some();
        for bx in extend(used, gaps, sa, sb, &weight, short, &score) {
            let (bag_a, bag_b) = (
                sentence_words(sa, bx.k0..=bx.k1),
                sentence_words(sb, bx.l0..=bx.l1),
            );
            let (mut i0, mut i1) = pulled_in(
                a,
                sa.bounds[bx.k0 as usize].0,
                sa.bounds[bx.k1 as usize].1,
                &bag_b,
            );
            let (mut j0, mut j1) = pulled_in(
                b,
                sb.bounds[bx.l0 as usize].0,
                sb.bounds[bx.l1 as usize].1,
                &bag_a,
            );
            let (lo, hi) = ((i1 - i0).min(j1 - j0), (i1 - i0).max(j1 - j0));
            let kept = if summary {
                bx.seeds >= MIN_SEEDS && lo >= min_tokens && lo as f64 <= SUMMARY_RATIO * hi as f64
            } else {
                enough(bx.seeds, lo, min_tokens, || cosine(&bag_a, &bag_b, &weight))
            };
            if !kept {
                continue;
            }
            // A summary's source side is the whole document when both its ends are within the
            // summary gap; otherwise it spans at least `SUMMARY_SPAN_SHARE` of the document.
            if let Some(short) = short {
                let (first, last, bounds) = if short == 1 {
                    (bx.k0, bx.k1, &sa.bounds)
                } else {
                    (bx.l0, bx.l1, &sb.bounds)
                };
                let total = bounds.len() as i64;
                if first.max(total - 1 - last) <= SUMMARY_GAP_SENTENCES {
                    let whole = (bounds[0].0, bounds[bounds.len() - 1].1);
                    if short == 1 {
                        (i0, i1) = whole;
                    } else {
                        (j0, j1) = whole;
                    }
                } else if (last - first + 1) * SUMMARY_SPAN_SHARE.1 < SUMMARY_SPAN_SHARE.0 * total {
                    continue;
                }
            }
            candidates.push(Fragment {
                i0,
                i1,
                j0,
                j1,
                seeds: bx.seeds,
                summary,
            });
        }
    }
    candidates.sort_by_key(|f| (std::cmp::Reverse(f.seeds), f.summary, f.i0, f.j0));
    let mut kept: Vec<Fragment> = Vec::new();
    for f in candidates {
        if !kept
            .iter()
            .any(|k| overlap(f.i0, f.i1, k.i0, k.i1) > 0 && overlap(f.j0, f.j1, k.j0, k.j1) > 0)
        {
            kept.push(f);
        }
    }
    kept.sort_by_key(|f| (f.i0, f.j0));
    kept
}

/// `seeds.sentence_starts`: the token positions where the sentences of the text whose code
/// points are `chars` start (0 first when there is a token), each token with a sentence stop
/// (a character `regex` gives Sentence_Terminal, or a line break) between it and the token
/// before; a stop inside a token (a decimal point kept in a number) starts nothing. `starts`
/// and `ends` are the tokens' code-point spans, in order.
pub fn sentence_starts(chars: &[char], starts: &[i64], ends: &[i64]) -> Vec<i64> {
    if starts.is_empty() {
        return Vec::new();
    }
    let mut found = vec![0];
    // The first token starting after the stop: stops come in order, so it only moves on.
    let mut after = 0;
    for (at, &c) in chars.iter().enumerate() {
        if !(matches!(c, '.' | '!' | '?' | '\n') || unicode::sentence_terminal(c)) {
            continue;
        }
        let stop = at as i64;
        while after < starts.len() && starts[after] <= stop {
            after += 1;
        }
        if after == starts.len() {
            break;
        }
        if after as i64 != found[found.len() - 1] && ends[after - 1] <= stop {
            found.push(after as i64);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts_of(text: &str) -> Vec<i64> {
        // Tokens: the runs of characters other than spaces and stops, as (start, end).
        let chars: Vec<char> = text.chars().collect();
        let (mut starts, mut ends) = (Vec::new(), Vec::new());
        let mut open = None;
        for (i, &c) in chars.iter().chain(std::iter::once(&' ')).enumerate() {
            let inside = !(c.is_whitespace() || matches!(c, '.' | '!' | '?' | '\u{3002}'));
            match (inside, open) {
                (true, None) => open = Some(i as i64),
                (false, Some(s)) => {
                    starts.push(s);
                    ends.push(i as i64);
                    open = None;
                }
                _ => {}
            }
        }
        sentence_starts(&chars, &starts, &ends)
    }

    #[test]
    fn sentences_start_after_stops_and_line_breaks_once_each() {
        assert_eq!(
            starts_of("One two. Three!! Four\nfive six"),
            vec![0, 2, 3, 4]
        );
        assert_eq!(starts_of("\u{4e00}\u{3002}\u{4e8c} x"), vec![0, 1]);
        assert_eq!(starts_of("Trailing stop."), vec![0]);
        assert_eq!(starts_of(". Leading stop"), vec![0]);
        assert_eq!(starts_of(""), Vec::<i64>::new());
    }

    #[test]
    fn a_stop_inside_a_token_starts_nothing() {
        let chars: Vec<char> = "pi is 3.14 today".chars().collect();
        assert_eq!(
            sentence_starts(&chars, &[0, 3, 6, 11], &[2, 5, 10, 16]),
            vec![0]
        );
    }

    fn fragments_of(
        a: &Side,
        b: &Side,
        aligned: &[(i64, i64, i64, i64)],
        min_tokens: i64,
    ) -> Vec<Fragment> {
        fragments((a, &sentences(a)), (b, &sentences(b)), aligned, min_tokens)
    }

    fn bag_of(words: &[u64]) -> Bag {
        bag_of_mut(&mut words.to_vec())
    }

    #[test]
    fn bags_add_by_hash() {
        assert_eq!(
            add(&bag_of(&[3, 1, 3]), &bag_of(&[2, 3])),
            vec![(1, 1), (2, 1), (3, 3)]
        );
    }

    #[test]
    fn a_sum_of_bags_is_their_sum_bag_by_bag_and_holders_count_sentences() {
        let mut next = crate::testing::xorshift(29);
        let bags: Vec<Bag> = (0..40)
            .map(|k| {
                let words: Vec<u64> = (0..k % 9).map(|_| next() % 23).collect();
                bag_of(&words)
            })
            .collect();
        for n in [0, 1, 2, 17, 40] {
            let summed = bags[..n]
                .iter()
                .fold(Vec::new(), |total, bag| add(&total, bag));
            assert_eq!(sum_of(&bags[..n]), summed);
            let held: Bag = summed
                .iter()
                .map(|&(w, _)| {
                    let count = bags[..n]
                        .iter()
                        .filter(|b| b.iter().any(|x| x.0 == w))
                        .count();
                    (w, count as u32)
                })
                .collect();
            assert_eq!(holders(&bags[..n]), held);
        }
    }

    /// A side of these arrays.
    fn side<'a>(
        hashes: &'a [u64],
        stems: &'a [u64],
        content: &'a [bool],
        sentences: &'a [i64],
    ) -> Side<'a> {
        Side {
            hashes,
            stems,
            content,
            sentences,
        }
    }

    #[test]
    fn seeds_compare_stems_but_count_shared_words() {
        // Four sentences of eight words; b copies the second and fourth whole and keeps `kept`
        // words of the others, their other words replaced by words of the same stem (or,
        // without stems, of stems of their own).
        let a: Vec<u64> = (1..=32).collect();
        let content = vec![true; 32];
        let starts: Vec<i64> = vec![0, 8, 16, 24];
        let fragments_with = |kept: u64, stemmed: bool| {
            let b: Vec<u64> = a
                .iter()
                .map(|&h| {
                    let (sentence, k) = ((h - 1) / 8, (h - 1) % 8);
                    if sentence % 2 == 1 || k < kept {
                        h
                    } else {
                        1000 + h
                    }
                })
                .collect();
            let b_stems: Vec<u64> = if stemmed { a.clone() } else { b.clone() };
            fragments_of(
                &side(&a, &a, &content, &starts),
                &side(&b, &b_stems, &content, &starts),
                &[],
                10,
            )
        };
        let found = fragments_with(2, true);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (
                found[0].i0,
                found[0].i1,
                found[0].j0,
                found[0].j1,
                found[0].seeds
            ),
            (0, 32, 0, 32, 4)
        );
        // Without their stems, or with one word kept, the edited sentences seed nothing: the
        // copy is the two sentences copied whole (two seeds agreeing strongly) and what lies
        // between them.
        for found in [fragments_with(2, false), fragments_with(1, true)] {
            let spans: Vec<_> = found
                .iter()
                .map(|f| (f.i0, f.i1, f.j0, f.j1, f.seeds))
                .collect();
            assert_eq!(spans, [(8, 32, 8, 32, 2)]);
        }
    }

    #[test]
    fn a_reordered_copy_is_one_fragment() {
        // Six sentences of four distinct words each; b holds them in another order.
        let words: Vec<u64> = (1..=24).collect();
        let order = [1usize, 0, 3, 2, 5, 4];
        let hb: Vec<u64> = order
            .iter()
            .flat_map(|&s| words[4 * s..4 * s + 4].to_vec())
            .collect();
        let content = vec![true; 24];
        let starts: Vec<i64> = (0..6).map(|s| 4 * s).collect();
        let a = side(&words, &words, &content, &starts);
        let b = side(&hb, &hb, &content, &starts);
        let found = fragments_of(&a, &b, &[], 10);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].i0, found[0].i1, found[0].j0, found[0].j1),
            (0, 24, 0, 24)
        );
        assert!(fragments_of(
            &a,
            &Side {
                sentences: &[],
                ..b
            },
            &[],
            10
        )
        .is_empty());
    }

    #[test]
    fn an_edge_explaining_nothing_more_is_trimmed() {
        // Sentence 0 of a (N) holds three of sentence 1's (P1's) words and two of its own; b's
        // sentence 0 seeds with both, best with P1. It stays at the edge only when it shares
        // a seed's worth of N's own words.
        let bags = |sets: &[&[u64]]| -> Vec<Bag> { sets.iter().map(|s| bag_of(s)).collect() };
        let a_words = bags(&[
            &[1, 2, 3, 10, 11],
            &[1, 2, 3, 4, 5, 6],
            &[20, 21, 22],
            &[30, 31, 32],
        ]);
        let sa = Sentences::of(
            vec![(0, 5), (5, 11), (11, 14), (14, 17)],
            a_words.clone(),
            a_words,
        );
        let group = [(0, 0), (1, 0), (2, 1), (3, 2)];
        let score: Scores = [0.5, 0.9, 0.5, 0.5]
            .iter()
            .zip(group)
            .map(|(&x, s)| (s, x))
            .collect();
        let first_sentence_of_a = |first: &[u64]| {
            let b_words = bags(&[first, &[20, 21, 22], &[30, 31, 32]]);
            let sb = Sentences::of(
                vec![(0, first.len() as i64), (0, 0), (0, 0)],
                b_words.clone(),
                b_words,
            );
            let b = trimmed_box(&group, &score, &sa, &sb);
            assert_eq!((b.k1, b.l0, b.l1, b.seeds), (3, 0, 2, 4));
            b.k0
        };
        assert_eq!(first_sentence_of_a(&[1, 2, 3, 4, 5]), 1);
        assert_eq!(first_sentence_of_a(&[1, 2, 3, 4, 5, 10]), 1);
        assert_eq!(first_sentence_of_a(&[1, 2, 3, 4, 5, 10, 11]), 0);
    }
}
