//! Lookups in one band-key index segment (`warehouse/keyindex.py`): the rows holding a batch of
//! keys, with the segment's block checksums verified on every row a lookup's answer rests on.
//!
//! A segment is the band keys of a range of passages sorted by key, version and passage, each
//! row with its version's dense rank among the key's versions, in blocks of [`BLOCK`] rows whose
//! checksums are stored beside them. The Python side maps the file and hands the columns over as
//! slices: no I/O here.

use rayon::prelude::*;

/// Rows per checksummed block (`warehouse.keyindex.BLOCK`).
pub const BLOCK: usize = 32;

/// A lookup of at least this many keys is searched on all threads: below it, the threads' start
/// costs more than the search (one article's 4,000 keys in a filtered segment find a few rows).
pub const PARALLEL_QUERIES: usize = 16_384;

/// The columns of one segment, each `rows` long but `sums` (one per block).
pub struct Segment<'a> {
    pub keys: &'a [u64],
    pub prel: &'a [u32],
    pub vrel: &'a [u32],
    pub rank: &'a [u8],
    pub sums: &'a [u64],
}

/// The rows a lookup found: their keys, passage offsets and version offsets (to be added to the
/// segment's `lo` and `vlo`), in the order of the queries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub keys: Vec<u64>,
    pub prel: Vec<u32>,
    pub vrel: Vec<u32>,
}

/// splitmix64's finaliser: a checksum of words that a flipped bit, a swap or a shift changes.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 31;
    x = x.wrapping_mul(0x7FB5_D329_728E_A185);
    x ^= x >> 27;
    x = x.wrapping_mul(0x81DA_DEF4_BC2D_D44D);
    x ^ (x >> 33)
}

/// One checksum word of a row: its key, passage and version offsets, rank and position.
fn row_word(key: u64, prel: u32, vrel: u32, rank: u8, position: usize) -> u64 {
    let other = (u64::from(prel) << 32) | u64::from(vrel);
    let place = ((position as u64) << 8) | u64::from(rank);
    mix(key ^ mix(other ^ place.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// The wrapping sum of the row words of each block of `BLOCK` rows: what a segment stores.
///
/// # Panics
/// If the columns differ in length.
pub fn block_sums(keys: &[u64], prel: &[u32], vrel: &[u32], rank: &[u8]) -> Vec<u64> {
    block_sums_from(keys, prel, vrel, rank, 0)
}

/// [`block_sums`] of rows that sit at `first` (a multiple of [`BLOCK`]) onwards in their segment.
fn block_sums_from(
    keys: &[u64],
    prel: &[u32],
    vrel: &[u32],
    rank: &[u8],
    first: usize,
) -> Vec<u64> {
    let n = keys.len();
    assert!(
        prel.len() == n
            && vrel.len() == n
            && rank.len() == n
            && (n == 0 || first.is_multiple_of(BLOCK))
    );
    (0..n.div_ceil(BLOCK))
        .map(|b| sum_of(keys, prel, vrel, rank, b, first))
        .collect()
}

/// The checksum of block `block` of the rows, which sit at `first` onwards in their segment.
fn sum_of(
    keys: &[u64],
    prel: &[u32],
    vrel: &[u32],
    rank: &[u8],
    block: usize,
    first: usize,
) -> u64 {
    let end = ((block + 1) * BLOCK).min(keys.len());
    (block * BLOCK..end).fold(0u64, |sum, i| {
        sum.wrapping_add(row_word(keys[i], prel[i], vrel[i], rank[i], first + i))
    })
}

/// A segment's columns (see [`Segment`]), made by [`build`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub keys: Vec<u64>,
    pub prel: Vec<u32>,
    pub vrel: Vec<u32>,
    pub rank: Vec<u8>,
    pub sums: Vec<u64>,
}

/// A segment's columns from rows `(key, passage offset, version offset)` in any order: sorted by
/// key, version and passage, each row with its version's dense rank among the key's versions
/// (capped at `rank_cap`), and the block checksums.
///
/// The sort (on all cores) is stable and merges runs already in order, so merging segments
/// (their rows one after another) costs about a pass per doubling of the parts, not a sort
/// from scratch.
///
/// # Panics
/// If the columns differ in length (the binding checks it first).
pub fn build(keys: &[u64], prel: &[u32], vrel: &[u32], rank_cap: u8) -> Columns {
    assert!(prel.len() == keys.len() && vrel.len() == keys.len());
    let mut rows: Vec<(u64, u32, u32)> = keys
        .iter()
        .zip(vrel)
        .zip(prel)
        .map(|((&k, &v), &p)| (k, v, p))
        .collect();
    rows.par_sort();
    let mut out = Columns::with_capacity(rows.len());
    let mut ranks = Ranks::default();
    for &(key, version, passage) in &rows {
        out.push(key, passage, version, ranks.next(key, version, rank_cap));
    }
    out.sums = block_sums(&out.keys, &out.prel, &out.vrel, &out.rank);
    out
}

impl Columns {
    /// No rows yet, room for `rows`.
    fn with_capacity(rows: usize) -> Self {
        Columns {
            keys: Vec::with_capacity(rows),
            prel: Vec::with_capacity(rows),
            vrel: Vec::with_capacity(rows),
            rank: Vec::with_capacity(rows),
            sums: Vec::new(),
        }
    }

    /// Append a row (its checksum is the caller's).
    fn push(&mut self, key: u64, prel: u32, vrel: u32, rank: u8) {
        self.keys.push(key);
        self.prel.push(prel);
        self.vrel.push(vrel);
        self.rank.push(rank);
    }
}

/// The dense rank of each row's version among its key's versions, for rows coming in segment
/// order (by key, version, passage): the last row's key and version and its rank.
#[derive(Debug, Default)]
struct Ranks {
    last: Option<(u64, u32)>,
    distinct: u32,
}

impl Ranks {
    /// The next row's rank, capped at `rank_cap`.
    fn next(&mut self, key: u64, version: u32, rank_cap: u8) -> u8 {
        self.distinct = match self.last {
            Some((last_key, last_version)) if last_key == key => {
                self.distinct + u32::from(last_version != version)
            }
            _ => 1,
        };
        self.last = Some((key, version));
        self.distinct.min(u32::from(rank_cap)) as u8
    }
}

/// One sorted segment of a merge: its rows, and the amounts that turn its passage and version
/// offsets into those of the merged segment (the differences of their `lo` and `vlo`).
pub struct Part<'a> {
    pub keys: &'a [u64],
    pub prel: &'a [u32],
    pub vrel: &'a [u32],
    pub passage_shift: u32,
    pub version_shift: u32,
}

impl Part<'_> {
    /// Row `i` as the merged segment orders it: key, version offset, passage offset; None
    /// when a shifted offset overflows.
    fn row(&self, i: usize) -> Option<(u64, u32, u32)> {
        Some((
            self.keys[i],
            self.vrel[i].checked_add(self.version_shift)?,
            self.prel[i].checked_add(self.passage_shift)?,
        ))
    }
}

/// A row `(key, version, passage)` as one number, ordered as the rows are.
fn packed((key, version, passage): (u64, u32, u32)) -> u128 {
    (u128::from(key) << 64) | (u128::from(version) << 32) | u128::from(passage)
}

/// The packed head of a merged part that is used up: above every row (a row packing to it,
/// offsets of `u32::MAX`, is refused as an overflow; a merged segment spans far fewer passages).
const USED_UP: u128 = u128::MAX;

/// A merge of sorted segments into one, made a chunk of rows at a time so that neither the
/// parts nor the merged segment need be in memory at once: where each part is read to, how many
/// rows are out, and the ranks so far.
#[derive(Debug, Default)]
pub struct Merge {
    cursors: Vec<usize>,
    written: usize,
    ranks: Ranks,
}

impl Merge {
    /// A merge of `parts` segments.
    pub fn new(parts: usize) -> Self {
        Merge {
            cursors: vec![0; parts],
            ..Merge::default()
        }
    }

    /// The merged segment's next rows, at most `max_rows` (rounded down to whole blocks, at
    /// least one): exactly the rows [`build`] makes of all the parts' rows, at the same places,
    /// ranked (capped at `rank_cap`) and checksummed alike. Give the same parts, in passage
    /// order, at every call; an empty result means the merge is done.
    ///
    /// # Errors
    /// When the parts are not as the first call's, are unsorted, or a shifted offset overflows.
    pub fn next(
        &mut self,
        parts: &[Part<'_>],
        max_rows: usize,
        rank_cap: u8,
    ) -> Result<Columns, String> {
        if parts.len() != self.cursors.len() {
            return Err("a merge's parts changed between chunks".into());
        }
        for part in parts {
            let n = part.keys.len();
            if part.prel.len() != n || part.vrel.len() != n {
                return Err("a merged part's columns differ in length".into());
            }
        }
        let overflow = || "a merged part's offsets overflow the merged segment's".to_string();
        let limit = (max_rows / BLOCK).max(1) * BLOCK;
        let left: usize = parts
            .iter()
            .zip(&self.cursors)
            .map(|(part, &i)| part.keys.len().saturating_sub(i))
            .sum();
        let take = limit.min(left);
        let mut out = Columns::with_capacity(take);
        // Each part's next row, packed in order (`USED_UP` once the part is), read once: the
        // smallest is taken, and only the part it came from moves on.
        let head = |part: &Part<'_>, i: usize| -> Result<u128, String> {
            if i >= part.keys.len() {
                return Ok(USED_UP);
            }
            match part.row(i).map(packed) {
                Some(row) if row != USED_UP => Ok(row),
                _ => Err(overflow()),
            }
        };
        let mut heads = Vec::with_capacity(parts.len());
        for (part, &i) in parts.iter().zip(&self.cursors) {
            heads.push(head(part, i)?);
        }
        for _ in 0..take {
            let (mut k, mut row) = (0, heads[0]);
            for (j, &other) in heads.iter().enumerate().skip(1) {
                if other < row {
                    (k, row) = (j, other);
                }
            }
            self.cursors[k] += 1;
            heads[k] = head(&parts[k], self.cursors[k])?;
            if heads[k] < row {
                return Err("a merged part is not sorted".into());
            }
            let (key, version, passage) = ((row >> 64) as u64, (row >> 32) as u32, row as u32);
            out.push(
                key,
                passage,
                version,
                self.ranks.next(key, version, rank_cap),
            );
        }
        out.sums = block_sums_from(&out.keys, &out.prel, &out.vrel, &out.rank, self.written);
        self.written += out.keys.len();
        Ok(out)
    }
}

impl Segment<'_> {
    fn rows(&self) -> usize {
        self.keys.len()
    }

    /// Whether the columns have the lengths a segment of `keys.len()` rows has.
    pub fn well_formed(&self) -> bool {
        let n = self.rows();
        self.prel.len() == n
            && self.vrel.len() == n
            && self.rank.len() == n
            && self.sums.len() == n.div_ceil(BLOCK)
    }

    /// Whether `checked` has one flag per block.
    fn flags_fit(&self, checked: &[bool]) -> Result<(), String> {
        if checked.len() == self.sums.len() {
            Ok(())
        } else {
            Err("the checked flags do not match the blocks".into())
        }
    }

    /// Verify every block of `blocks` (clipped to the segment's) not marked in `checked` (one
    /// flag per block), marking each.
    pub fn check_blocks(
        &self,
        checked: &mut [bool],
        blocks: std::ops::Range<usize>,
    ) -> Result<(), String> {
        self.flags_fit(checked)?;
        (blocks.start.min(checked.len())..blocks.end.min(checked.len()))
            .try_for_each(|block| self.check(checked, block))
    }

    /// Verify the checksum of `block` unless `checked` says it was; mark it checked.
    fn check(&self, checked: &mut [bool], block: usize) -> Result<(), String> {
        if !checked[block] {
            self.check_block(block)?;
            checked[block] = true;
        }
        Ok(())
    }

    /// Verify the checksum of `block`.
    fn check_block(&self, block: usize) -> Result<(), String> {
        if sum_of(self.keys, self.prel, self.vrel, self.rank, block, 0) == self.sums[block] {
            Ok(())
        } else {
            Err(format!("block {block}'s checksum fails"))
        }
    }

    /// Verify each block of `blocks` that `checked` does not mark, adding it to `verified`.
    fn check_span(
        &self,
        checked: &[bool],
        blocks: std::ops::RangeInclusive<usize>,
        verified: &mut Vec<usize>,
    ) -> Result<(), String> {
        let first = *blocks.start();
        for (block, &done) in (first..).zip(checked.get(blocks).unwrap_or_default()) {
            if !done {
                self.check_block(block)?;
                verified.push(block);
            }
        }
        Ok(())
    }

    /// The rows whose key is one of `queries` (sorted, unique) and, with `cap`, whose version is
    /// one of the first `cap` versions holding the key in this segment.
    ///
    /// The searches read unverified rows; an answer is trusted only once the rows on both sides
    /// of each of its boundaries are in verified blocks and bound it, which on the sorted rows
    /// that were written means the boundary is right whatever else the file holds. `checked`
    /// (one flag per block) remembers the verified blocks across lookups. Queries are searched
    /// in order, each from where the one before ended (galloping), so a batch of many keys costs
    /// about one pass over the part of the segment it spans. A batch of at least
    /// [`PARALLEL_QUERIES`] keys is cut into one run of consecutive keys per thread, searched
    /// side by side: the runs read disjoint stretches of the segment, in order.
    pub fn lookup(
        &self,
        checked: &mut [bool],
        queries: &[u64],
        cap: Option<u8>,
        fences: Option<Fences<'_>>,
    ) -> Result<Found, String> {
        if self.rows() == 0 {
            return Ok(Found::default());
        }
        self.flags_fit(checked)?;
        if queries.windows(2).any(|w| w[0] >= w[1]) {
            return Err("the queries are not sorted and unique".into());
        }
        let threads = rayon::current_num_threads();
        let parts: Vec<(Found, Vec<usize>)> = if threads > 1 && queries.len() >= PARALLEL_QUERIES {
            let flags: &[bool] = checked;
            queries
                .par_chunks(queries.len().div_ceil(threads))
                .map(|run| self.lookup_run(flags, run, cap, fences))
                .collect::<Result<_, _>>()?
        } else {
            vec![self.lookup_run(checked, queries, cap, fences)?]
        };
        let mut found = Found::default();
        for (part, verified) in parts {
            if found.keys.is_empty() {
                found = part; // one run (every small lookup): its rows as they are, not copied
            } else {
                found.keys.extend_from_slice(&part.keys);
                found.prel.extend_from_slice(&part.prel);
                found.vrel.extend_from_slice(&part.vrel);
            }
            for block in verified {
                checked[block] = true;
            }
        }
        Ok(found)
    }

    /// [`Segment::lookup`] of one run of sorted, unique `queries`, with the blocks it verified
    /// besides those `checked` marks (in increasing order).
    fn lookup_run(
        &self,
        checked: &[bool],
        queries: &[u64],
        cap: Option<u8>,
        fences: Option<Fences<'_>>,
    ) -> Result<(Found, Vec<usize>), String> {
        let n = self.rows();
        let mut found = Found::default();
        let mut verified = Vec::new();
        // The last block looked at. Each range of blocks looked at starts at or after the one
        // before, so a block not past it was looked at already.
        let mut seen: Option<usize> = None;
        // Verifies the blocks of rows `first..=last` not looked at before. It runs twice a
        // query and mostly finds its blocks looked at already: that test comes first, and the
        // loop over the blocks is a method of its own (`check_span`).
        let mut check_rows = |first: usize, last: usize| -> Result<(), String> {
            let top = n - 1;
            let hi = last.min(top) / BLOCK;
            if seen.is_some_and(|s| hi <= s) {
                return Ok(());
            }
            let lo = seen.map_or(0, |s| s + 1).max(first.min(top) / BLOCK);
            seen = Some(hi);
            self.check_span(checked, lo..=hi, &mut verified)
        };
        let mut from = 0;
        // The fence interval the last query went to (None before the first).
        let mut interval: Option<usize> = None;
        for &q in queries {
            let start = match fences {
                // A query beyond the last one's page goes to its own through the fences; one on
                // the same page gallops the few rows from where the last ended.
                Some(f)
                    if interval.is_none_or(|i| f.keys.get(i).is_none_or(|&fence| q > fence)) =>
                {
                    let (i, start) = f.first_not_below(self.keys, from, q);
                    interval = Some(i);
                    start
                }
                _ => gallop(self.keys, from, |key| key < q),
            };
            let end = gallop(self.keys, start, |key| key <= q);
            from = end;
            let upto = match cap {
                Some(cap) => start + self.rank[start..end].partition_point(|&r| r <= cap),
                None => end,
            };
            check_rows(start.saturating_sub(1), upto)?;
            check_rows(end.saturating_sub(1), end)?;
            let bounded = (start == 0 || self.keys[start - 1] < q)
                && (start == n || self.keys[start] >= q)
                && (end == 0 || self.keys[end - 1] <= q)
                && (end == n || self.keys[end] > q)
                && cap.is_none_or(|cap| {
                    (upto == start || self.rank[upto - 1] <= cap)
                        && (upto == end || self.rank[upto] > cap)
                });
            if !bounded {
                return Err("the rows are not sorted where a lookup read them".into());
            }
            found.keys.extend_from_slice(&self.keys[start..upto]);
            found.prel.extend_from_slice(&self.prel[start..upto]);
            found.vrel.extend_from_slice(&self.vrel[start..upto]);
        }
        Ok((found, verified))
    }
}

/// Every `stride`-th key of a segment (`keys[0]`, `keys[stride]`, ...): a level small enough
/// to stay in the cache, which takes a search for one key to its page of the segment at once.
/// A few keys among many rows are found faster through it than by galloping from one to the
/// next, whose long strides each miss the cache.
#[derive(Clone, Copy)]
pub struct Fences<'a> {
    pub keys: &'a [u64],
    pub stride: usize,
}

impl Fences<'_> {
    /// The first index `i >= from` where `keys[i] >= q`, for fences of `keys`. Fences that
    /// disagree with the keys give a wrong index, never a panic: the lookup's checks of the
    /// boundaries catch it.
    /// Also returns the fence interval: the number of fences below `q`.
    fn first_not_below(&self, keys: &[u64], from: usize, q: u64) -> (usize, usize) {
        let i = self.keys.partition_point(|&k| k < q);
        let lo = if i == 0 { 0 } else { (i - 1) * self.stride + 1 };
        let lo = lo.max(from).min(keys.len());
        let hi = i.saturating_mul(self.stride).min(keys.len()).max(lo);
        (i, lo + keys[lo..hi].partition_point(|&k| k < q))
    }
}

/// Rows [`gallop`] first counts through without a branch: a bulk batch's queries are nearly as
/// many as a segment's rows, so the answer is most often a row or two on, where each step of a
/// search would be a branch the processor cannot predict (on a batch of 2M keys against 3M
/// rows, two mispredicted branches a key were most of the lookup's time).
const WINDOW: usize = 8;

/// The first index `i >= from` where `below(values[i])` is false, given it is false from some
/// index on: counted without a branch when it is among the next [`WINDOW`] rows, else steps of
/// doubling length from there, then a binary search in the last step.
fn gallop(values: &[u64], from: usize, below: impl Fn(u64) -> bool) -> usize {
    let n = values.len();
    let mut lo = from;
    if let Some(window) = values.get(from..from + WINDOW) {
        if !below(window[WINDOW - 1]) {
            // Sorted, so the rows below are the first ones: their count is the answer's offset.
            return from + window.iter().map(|&v| usize::from(below(v))).sum::<usize>();
        }
        lo += WINDOW; // the whole window is below
    }
    let mut step = 1;
    while lo < n && below(values[(lo + step - 1).min(n - 1)]) {
        lo = (lo + step).min(n);
        step *= 2;
    }
    let hi = (lo + step).min(n);
    lo + values[lo..hi].partition_point(|&v| below(v))
}

/// A segment's membership filter (a Bloom filter of one 64-bit word a key, three bits in it):
/// the word a key sets and its bits, from the key mixed (keys need not be uniform): the word
/// from the mix's high bits by a multiply-shift, the bits from its low bits.
fn filter_slot(key: u64, words: usize) -> (usize, u64) {
    let h = mix(key);
    let word = ((u128::from(h) * words as u128) >> 64) as usize;
    let bits = (1u64 << (h & 63)) | (1u64 << ((h >> 6) & 63)) | (1u64 << ((h >> 12) & 63));
    (word, bits)
}

/// Keys whose filter words are asked for ahead of their setting in [`filter_add`].
const FILTER_AHEAD: usize = 16;

/// Add `keys` to the membership filter `words` (in any order, any number of calls).
///
/// A large segment's filter (tens of MB) is far bigger than the cache, and each key sets a
/// word at random: the word is fetched [`FILTER_AHEAD`] keys before it is set, so that the
/// fetches overlap rather than each key waiting for its own.
pub fn filter_add(words: &mut [u64], keys: &[u64]) {
    if words.is_empty() {
        return;
    }
    let mut ahead = [(0usize, 0u64); FILTER_AHEAD];
    for (i, &key) in keys.iter().enumerate() {
        let slot = filter_slot(key, words.len());
        prefetch(&words[slot.0]);
        let due = std::mem::replace(&mut ahead[i % FILTER_AHEAD], slot);
        if i >= FILTER_AHEAD {
            words[due.0] |= due.1;
        }
    }
    let set = keys.len().min(FILTER_AHEAD);
    for i in keys.len() - set..keys.len() {
        let (word, bits) = ahead[i % FILTER_AHEAD];
        words[word] |= bits;
    }
}

/// Ask for the cache line holding `word` (a hint: no effect on what any code reads).
#[inline]
fn prefetch(word: &u64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of every x86_64 target, and a prefetch reads nothing and writes
    // nothing the program sees, whatever the address (here a valid reference).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            std::ptr::from_ref(word).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = word;
}

/// The `queries` the filter `words` may hold: every added key, and a few others (about 6% at
/// six bits a key); in their order. The filter is checked a page at a time: `words` in pages
/// of `page_words` words, `sums` the [`page_sums`] they were written with. A page not marked in `checked` is
/// verified the first time a query reads it, and marked; one whose sum fails is an error (a
/// damaged filter would drop keys the segment holds). A search for few keys so reads a few
/// pages of a large segment's filter, not all of it.
pub fn filter_select(
    words: &[u64],
    sums: &[u64],
    checked: &mut [bool],
    page_words: usize,
    queries: &[u64],
) -> Result<Vec<u64>, String> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let page_words = page_words.max(1);
    let pages = words.len().div_ceil(page_words);
    if checked.len() < pages {
        return Err(format!(
            "the filter has {pages} pages, {} flags",
            checked.len()
        ));
    }
    let mut held = Vec::new();
    for &query in queries {
        let (word, bits) = filter_slot(query, words.len());
        let page = word / page_words;
        if !checked[page] {
            let start = page * page_words;
            let end = (start + page_words).min(words.len());
            if sums.get(page) != Some(&word_sum(&words[start..end])) {
                return Err(format!(
                    "the membership filter's page {page} fails its checksum"
                ));
            }
            checked[page] = true;
        }
        if words[word] & bits == bits {
            held.push(query);
        }
    }
    Ok(held)
}

/// The XXH3-64 of `words`' little-endian bytes.
pub fn word_sum(words: &[u64]) -> u64 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut bytes = Vec::with_capacity(8 * 4096);
    for chunk in words.chunks(4096) {
        bytes.clear();
        bytes.extend(chunk.iter().flat_map(|w| w.to_le_bytes()));
        hasher.update(&bytes);
    }
    hasher.digest()
}

/// [`word_sum`] of each page of `page_words` words of `words` (the last may be shorter).
pub fn page_sums(words: &[u64], page_words: usize) -> Vec<u64> {
    words.chunks(page_words.max(1)).map(word_sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`filter_select`] of a filter taken as checked.
    fn held(words: &[u64], queries: &[u64]) -> Vec<u64> {
        filter_select(words, &[], &mut [true], usize::MAX, queries).unwrap()
    }

    #[test]
    fn a_filter_holds_every_key_added_and_few_others() {
        // Keys in a quarter of the range: the filter mixes them before it uses their bits.
        let keys: Vec<u64> = (0..60_000u64).map(|k| mix(k) >> 2).collect();
        let mut words = vec![0u64; 60_000 * 6 / 64];
        filter_add(&mut words, &keys[..30_000]);
        assert_eq!(held(&words, &keys[..30_000]), keys[..30_000].to_vec());
        let others = held(&words, &keys[30_000..]).len();
        assert!(
            others < 30_000 / 10,
            "{others} of 30,000 keys not added pass the filter"
        );
        assert!(held(&[], &keys).is_empty());
        // Checked a page at a time: the same keys, only the pages read marked, and a damaged
        // page an error once a query reads it.
        let sums = page_sums(&words, 64);
        let mut checked = vec![false; sums.len()];
        let few = &keys[..40];
        assert_eq!(
            filter_select(&words, &sums, &mut checked, 64, few),
            Ok(few.to_vec())
        );
        let marked = checked.iter().filter(|&&c| c).count();
        assert!(marked > 0 && marked <= 40, "{marked} pages marked");
        assert_eq!(
            filter_select(&words, &sums, &mut checked, 64, &keys[..30_000]),
            Ok(keys[..30_000].to_vec())
        );
        let mut damaged = words.clone();
        let (word, _) = filter_slot(keys[0], damaged.len());
        damaged[word] ^= 1 << 40;
        let mut fresh = vec![false; sums.len()];
        assert!(filter_select(&damaged, &sums, &mut fresh, 64, &keys[..1]).is_err());
        assert_eq!(page_sums(&words, words.len()), vec![word_sum(&words)]);
        // Added in calls of any size (fewer keys than are fetched ahead, or none), the same.
        let mut pieces = vec![0u64; words.len()];
        let mut at = 0;
        for size in (0..).map(|k| k % (2 * FILTER_AHEAD + 3)) {
            let end = (at + size).min(30_000);
            filter_add(&mut pieces, &keys[at..end]);
            at = end;
            if at == 30_000 {
                break;
            }
        }
        assert_eq!(pieces, words);
    }

    struct Owned {
        keys: Vec<u64>,
        prel: Vec<u32>,
        vrel: Vec<u32>,
        rank: Vec<u8>,
        sums: Vec<u64>,
    }

    impl Owned {
        /// Rows of `(key, version)` sorted, passages numbered in row order, ranks computed.
        fn new(mut rows: Vec<(u64, u32)>) -> Self {
            rows.sort_unstable();
            let keys: Vec<u64> = rows.iter().map(|r| r.0).collect();
            let vrel: Vec<u32> = rows.iter().map(|r| r.1).collect();
            let prel: Vec<u32> = (0..rows.len() as u32).collect();
            let mut rank = vec![0u8; rows.len()];
            for i in 0..rows.len() {
                rank[i] = if i == 0 || keys[i] != keys[i - 1] {
                    1
                } else {
                    rank[i - 1] + u8::from(vrel[i] != vrel[i - 1])
                };
            }
            let sums = block_sums(&keys, &prel, &vrel, &rank);
            Owned {
                keys,
                prel,
                vrel,
                rank,
                sums,
            }
        }

        fn view(&self) -> Segment<'_> {
            Segment {
                keys: &self.keys,
                prel: &self.prel,
                vrel: &self.vrel,
                rank: &self.rank,
                sums: &self.sums,
            }
        }
    }

    fn rows(count: u64) -> Vec<(u64, u32)> {
        (0..count).map(|i| ((i * 7) % 50, (i % 5) as u32)).collect()
    }

    #[test]
    fn build_sorts_ranks_and_sums_as_the_helper_does() {
        let seg = Owned::new(rows(300));
        // The same rows reversed, passage offsets as the helper numbers them after its sort.
        let mut keys = seg.keys.clone();
        let mut prel = seg.prel.clone();
        let mut vrel = seg.vrel.clone();
        keys.reverse();
        prel.reverse();
        vrel.reverse();
        let built = build(&keys, &prel, &vrel, 255);
        assert_eq!(built.keys, seg.keys);
        assert_eq!(built.rank, seg.rank);
        assert_eq!(built.sums, seg.sums);
        let capped = build(&keys, &prel, &vrel, 2);
        assert!(capped.rank.iter().all(|&r| (1..=2).contains(&r)));
    }

    /// Rows `(key, passage, version)` of passages `0..passages`, a few keys each from a small
    /// pool (keys shared by many versions), two passages a version, from a fixed generator.
    fn band_rows(passages: u32, seed: u64) -> Vec<(u64, u32, u32)> {
        let mut state = seed;
        let mut next = move || {
            state = mix(state.wrapping_add(0x9E37_79B9_7F4A_7C15));
            state
        };
        (0..passages)
            .flat_map(|p| {
                (0..1 + next() % 4)
                    .map(|_| (next() % 23, p, p / 2))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn a_merge_by_chunks_equals_a_build_of_all_rows() {
        for seed in 0..40u64 {
            let rows = band_rows(120, seed);
            let rank_cap = [2u8, 5, 255][seed as usize % 3];
            let column =
                |f: fn(&(u64, u32, u32)) -> u32| -> Vec<u32> { rows.iter().map(f).collect() };
            let keys: Vec<u64> = rows.iter().map(|r| r.0).collect();
            let whole = build(&keys, &column(|r| r.1), &column(|r| r.2), rank_cap);
            // Parts of passage ranges cut anywhere (a version may span two), each built with
            // offsets from its own first passage and version.
            let cuts = [0, 7 + seed as u32 % 30, 61, 95 - seed as u32 % 9, 120];
            let built: Vec<(Columns, u32, u32)> = cuts
                .windows(2)
                .map(|w| {
                    let inside: Vec<_> =
                        rows.iter().filter(|r| w[0] <= r.1 && r.1 < w[1]).collect();
                    let vlo = inside.iter().map(|r| r.2).min().unwrap_or(0);
                    let k: Vec<u64> = inside.iter().map(|r| r.0).collect();
                    let p: Vec<u32> = inside.iter().map(|r| r.1 - w[0]).collect();
                    let v: Vec<u32> = inside.iter().map(|r| r.2 - vlo).collect();
                    (build(&k, &p, &v, rank_cap), w[0], vlo)
                })
                .collect();
            let parts: Vec<Part<'_>> = built
                .iter()
                .map(|(c, lo, vlo)| Part {
                    keys: &c.keys,
                    prel: &c.prel,
                    vrel: &c.vrel,
                    passage_shift: *lo,
                    version_shift: *vlo,
                })
                .collect();
            let mut merge = Merge::new(parts.len());
            let mut merged = Columns::default();
            loop {
                let chunk = merge
                    .next(&parts, 1 + (seed as usize * 13) % 100, rank_cap)
                    .unwrap();
                if chunk.keys.is_empty() {
                    break;
                }
                assert_eq!(
                    merged.keys.len() % BLOCK,
                    0,
                    "a chunk ends on a block boundary"
                );
                merged.keys.extend(chunk.keys);
                merged.prel.extend(chunk.prel);
                merged.vrel.extend(chunk.vrel);
                merged.rank.extend(chunk.rank);
                merged.sums.extend(chunk.sums);
            }
            assert_eq!(merged, whole, "seed {seed}");
        }
    }

    #[test]
    fn a_merge_refuses_unsorted_or_changed_parts() {
        let (keys, offsets) = (vec![5u64, 3], vec![0u32, 1]);
        let part = Part {
            keys: &keys,
            prel: &offsets,
            vrel: &offsets,
            passage_shift: 0,
            version_shift: 0,
        };
        assert!(Merge::new(1).next(&[part], 64, 255).is_err());
        let part = Part {
            keys: &keys[..1],
            prel: &offsets[..1],
            vrel: &offsets[..1],
            passage_shift: u32::MAX,
            version_shift: 0,
        };
        assert!(Merge::new(1)
            .next(std::slice::from_ref(&part), 64, 255)
            .is_ok());
        assert!(Merge::new(2).next(&[part], 64, 255).is_err());
    }

    #[test]
    fn every_block_an_answer_rests_on_is_checked() {
        // Keys with runs and gaps; queries dense (most rows a query) and sparse, through the
        // fences and not, on one thread and on all: each query's rows and the rows bounding
        // them must be in blocks the lookup marks checked.
        let seg = Owned::new(
            (0..20_000u64)
                .map(|i| (i / 3 * 5, (i % 7) as u32))
                .collect(),
        );
        let stride = 64;
        let fence_keys: Vec<u64> = seg.keys.iter().step_by(stride).copied().collect();
        let n = seg.keys.len();
        for step in [1u64, 2, 7, 301] {
            let queries: Vec<u64> = (0..34_000).step_by(step as usize).collect();
            for (cap, fences) in [(None, None), (Some(2), None), (Some(1), Some(stride))] {
                let fences = fences.map(|stride| Fences {
                    keys: &fence_keys,
                    stride,
                });
                let mut checked = vec![false; seg.sums.len()];
                seg.view()
                    .lookup(&mut checked, &queries, cap, fences)
                    .unwrap();
                for &q in &queries {
                    let start = seg.keys.partition_point(|&k| k < q);
                    let end = seg.keys.partition_point(|&k| k <= q);
                    let upto = match cap {
                        Some(c) => start + seg.rank[start..end].partition_point(|&r| r <= c),
                        None => end,
                    };
                    let bounds = [start.saturating_sub(1)..=upto, end.saturating_sub(1)..=end];
                    for row in bounds.into_iter().flatten().filter(|&row| row < n) {
                        assert!(checked[row / BLOCK], "row {row} of query {q} unchecked");
                    }
                }
            }
        }
    }

    #[test]
    fn lookup_equals_a_scan() {
        let seg = Owned::new(rows(300));
        let queries: Vec<u64> = (0..60).step_by(3).collect();
        for cap in [None, Some(1), Some(2)] {
            let mut checked = vec![false; seg.sums.len()];
            let got = seg
                .view()
                .lookup(&mut checked, &queries, cap, None)
                .unwrap();
            let want: Vec<u64> = (0..seg.keys.len())
                .filter(|&i| queries.contains(&seg.keys[i]))
                .filter(|&i| cap.is_none_or(|c| seg.rank[i] <= c))
                .map(|i| seg.keys[i])
                .collect();
            assert_eq!(got.keys, want);
        }
    }

    #[test]
    fn a_lookup_on_all_threads_equals_one_run() {
        // Enough distinct keys for a lookup of over PARALLEL_QUERIES of them.
        let seg = Owned::new(
            (0..120_000)
                .map(|i| ((i * 7919) % 100_000, (i % 5) as u32))
                .collect(),
        );
        let queries: Vec<u64> = (0..60_000).step_by(3).collect();
        assert!(queries.len() >= PARALLEL_QUERIES);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for cap in [None, Some(2)] {
            let mut checked = vec![false; seg.sums.len()];
            let all = pool
                .install(|| seg.view().lookup(&mut checked, &queries, cap, None))
                .unwrap();
            let (one, verified) = seg
                .view()
                .lookup_run(&vec![false; seg.sums.len()], &queries, cap, None)
                .unwrap();
            assert_eq!(all, one);
            let marked: Vec<usize> = (0..checked.len()).filter(|&b| checked[b]).collect();
            assert_eq!(marked, verified);
        }
    }

    #[test]
    fn lookups_through_fences_equal_galloping_ones() {
        let seg = Owned::new(rows(300));
        for stride in [1, 2, 5, 64, 1000] {
            let fences: Vec<u64> = seg.keys.iter().step_by(stride).copied().collect();
            let fences = Fences {
                keys: &fences,
                stride,
            };
            for queries in [vec![0, 1, 7], (0..70).step_by(3).collect(), vec![61, 99]] {
                let mut checked = vec![false; seg.sums.len()];
                let plain = seg
                    .view()
                    .lookup(&mut checked, &queries, Some(2), None)
                    .unwrap();
                let fenced = seg
                    .view()
                    .lookup(&mut checked, &queries, Some(2), Some(fences))
                    .unwrap();
                assert_eq!((fenced.keys, fenced.prel), (plain.keys, plain.prel));
            }
        }
    }

    #[test]
    fn fences_that_disagree_with_the_keys_fail_the_lookup() {
        let seg = Owned::new(rows(300));
        let wrong = vec![0, 0, 0, 0, 0];
        let fences = Fences {
            keys: &wrong,
            stride: 64,
        };
        let mut checked = vec![false; seg.sums.len()];
        assert!(seg
            .view()
            .lookup(&mut checked, &[40], None, Some(fences))
            .is_err());
    }

    #[test]
    fn a_changed_row_fails_its_block() {
        let mut seg = Owned::new(rows(300));
        seg.prel[100] ^= 1;
        let mut checked = vec![false; seg.sums.len()];
        let key = seg.keys[100];
        assert!(seg.view().lookup(&mut checked, &[key], None, None).is_err());
    }

    #[test]
    fn unsorted_queries_are_refused() {
        let seg = Owned::new(rows(10));
        let mut checked = vec![false; seg.sums.len()];
        assert!(seg
            .view()
            .lookup(&mut checked, &[5, 3], None, None)
            .is_err());
    }

    #[test]
    fn gallop_finds_the_first_not_below() {
        // Short runs (no whole window), and long ones with repeats and gaps, so that answers
        // fall inside the counted window, at its last row, just past it and far beyond.
        let long: Vec<u64> = (0..200u64).map(|i| i / 3 * 2 + (i / 50) * 17).collect();
        for values in [&[1, 3, 3, 5, 8, 13][..], &long[..40], &long[..]] {
            let top = values.last().map_or(0, |&v| v + 2);
            for from in 0..=values.len() {
                for q in 0..=top {
                    let want = (from..values.len())
                        .find(|&i| values[i] >= q)
                        .unwrap_or(values.len());
                    assert_eq!(gallop(values, from, |v| v < q), want.max(from));
                    let past = (from..values.len())
                        .find(|&i| values[i] > q)
                        .unwrap_or(values.len());
                    assert_eq!(gallop(values, from, |v| v <= q), past.max(from));
                }
            }
        }
    }
}
