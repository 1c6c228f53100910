//! Site templates: the blocks of text a site repeats across different articles (its
//! boilerplate, `warehouse/lineage.py`'s `learn_site_boilerplate`).
//!
//! A block is the site's template when at least `cap` different articles of the site hold it.
//! An article the site holds twice or more (its AMP or print twin, the same article at two URLs)
//! must not make its own text a template, so documents are grouped into articles first: two
//! documents are twins when each shares at least `share` of its text with the other, each block
//! weighed by its length over the number of the site's documents holding it, and a document
//! counts as the article of its smallest twin. Pairs are formed only through blocks held by at
//! most `pair_limit` documents: a block held more widely adds too little weight to make twins,
//! and pairing all its holders would grow with the square of the site's documents.

use crate::fasthash::FastMap;

/// The blocks of the current version of every document of the sites learned, a row each.
pub struct Blocks<'a> {
    /// The site of the row's document (an index into the caller's sites).
    pub site: &'a [u32],
    pub doc: &'a [i64],
    /// The block's text hash (normalised, digits folded).
    pub hash: &'a [u64],
    /// Where the block is: version, and its half-open span of the version's text.
    pub version: &'a [i64],
    pub start: &'a [i64],
    pub end: &'a [i64],
}

/// The learned template blocks, sorted by site and hash: for each, how many documents hold it
/// and where its first occurrence is (the smallest version, then start, then end).
#[derive(Debug, Default, PartialEq)]
pub struct Learned {
    pub site: Vec<u32>,
    pub hash: Vec<u64>,
    pub docs: Vec<i64>,
    pub version: Vec<i64>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
}

/// One document's holding of one block: its longest occurrence and its first.
struct Held {
    doc: i64,
    chars: i64,
    first: (i64, i64, i64),
}

/// The template blocks of [`Blocks`] (see the module's doc). Errors when the columns differ
/// in length.
pub fn learn(
    blocks: &Blocks,
    cap: usize,
    share: f64,
    pair_limit: usize,
) -> Result<Learned, String> {
    let n = blocks.site.len();
    let lengths = [
        blocks.doc.len(),
        blocks.hash.len(),
        blocks.version.len(),
        blocks.start.len(),
        blocks.end.len(),
    ];
    if lengths.iter().any(|&len| len != n) {
        return Err(format!(
            "a block needs every column: {n} sites, columns of {lengths:?}"
        ));
    }
    let row = |i: usize| {
        (
            blocks.site[i],
            blocks.hash[i],
            blocks.doc[i],
            (blocks.version[i], blocks.start[i], blocks.end[i]),
        )
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by_key(|&i| row(i));
    // Each (site, hash) group's holdings, one a document, in document order. Sums below run in
    // this order whatever order the rows came in, so equal inputs give equal results.
    let mut groups: Vec<((u32, u64), Vec<Held>)> = Vec::new();
    for &i in &order {
        let (site, hash, doc, first) = row(i);
        let chars = blocks.end[i] - blocks.start[i];
        if groups.last().map(|g| g.0) != Some((site, hash)) {
            groups.push(((site, hash), Vec::new()));
        }
        let held = &mut groups.last_mut().expect("pushed above").1;
        match held.last_mut() {
            Some(last) if last.doc == doc => last.chars = last.chars.max(chars),
            _ => held.push(Held { doc, chars, first }),
        }
    }
    let mut weight: FastMap<i64, f64> = FastMap::default();
    let mut shared: FastMap<(i64, i64), f64> = FastMap::default();
    for (_, held) in &groups {
        let holders = held.len() as f64;
        for h in held {
            *weight.entry(h.doc).or_default() += h.chars as f64 / holders;
        }
        if held.len() <= pair_limit {
            for (k, a) in held.iter().enumerate() {
                for b in &held[k + 1..] {
                    *shared.entry((a.doc, b.doc)).or_default() +=
                        a.chars.min(b.chars) as f64 / holders;
                }
            }
        }
    }
    let mut article: FastMap<i64, i64> = FastMap::default();
    for (&(a, b), &together) in &shared {
        if together >= share * weight[&a].max(weight[&b]) {
            let smallest = article.entry(b).or_insert(b);
            *smallest = (*smallest).min(a);
        }
    }
    let mut learned = Learned::default();
    for ((site, hash), held) in &groups {
        if held.len() < cap {
            continue;
        }
        let mut articles: Vec<i64> = held
            .iter()
            .map(|h| *article.get(&h.doc).unwrap_or(&h.doc))
            .collect();
        articles.sort_unstable();
        articles.dedup();
        if articles.len() < cap {
            continue;
        }
        let first = held
            .iter()
            .map(|h| h.first)
            .min()
            .expect("a group holds a block");
        learned.site.push(*site);
        learned.hash.push(*hash);
        learned.docs.push(held.len() as i64);
        learned.version.push(first.0);
        learned.start.push(first.1);
        learned.end.push(first.2);
    }
    Ok(learned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `(site, doc, hash, start, end)`, each document's version its id times ten.
    fn learned(
        rows: &[(u32, i64, u64, i64, i64)],
        cap: usize,
        share: f64,
        pair_limit: usize,
    ) -> Vec<(u32, u64, i64)> {
        let column =
            |f: fn(&(u32, i64, u64, i64, i64)) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
        let site: Vec<u32> = rows.iter().map(|r| r.0).collect();
        let hash: Vec<u64> = rows.iter().map(|r| r.2).collect();
        let (doc, start, end) = (column(|r| r.1), column(|r| r.3), column(|r| r.4));
        let version: Vec<i64> = doc.iter().map(|d| d * 10).collect();
        let blocks = Blocks {
            site: &site,
            doc: &doc,
            hash: &hash,
            version: &version,
            start: &start,
            end: &end,
        };
        let out = learn(&blocks, cap, share, pair_limit).unwrap();
        (0..out.site.len())
            .map(|k| (out.site[k], out.hash[k], out.docs[k]))
            .collect()
    }

    #[test]
    fn a_block_on_enough_articles_is_learned_and_twins_count_once() {
        // Site 0: a footer (hash 9) on documents 1-3, each with text of its own; document 4 is
        // document 3's twin (the same text at another URL), so the footer is on three articles.
        let mut rows = vec![];
        for doc in 1..=3 {
            rows.push((0, doc, 9, 500, 540));
            rows.push((0, doc, 100 + doc as u64, 0, 500));
        }
        rows.push((0, 4, 9, 500, 540));
        rows.push((0, 4, 103, 0, 500));
        assert_eq!(learned(&rows, 3, 0.5, 8), vec![(0, 9, 4)]);
        assert_eq!(learned(&rows, 4, 0.5, 8), vec![]);
        // Without the twin rule (no pair shares enough), four documents are four articles.
        assert_eq!(learned(&rows, 4, 1.1, 8), vec![(0, 9, 4)]);
        // Pairs are not formed through blocks held more widely than pair_limit.
        assert_eq!(learned(&rows, 4, 0.5, 1), vec![(0, 9, 4)]);
        // The same rows of another site are that site's own.
        let other: Vec<_> = rows
            .iter()
            .map(|&(_, d, h, s, e)| (1, d + 10, h, s, e))
            .collect();
        rows.extend(other);
        assert_eq!(learned(&rows, 3, 0.5, 8), vec![(0, 9, 4), (1, 9, 4)]);
    }

    #[test]
    fn the_order_of_the_rows_changes_nothing() {
        let mut rows: Vec<(u32, i64, u64, i64, i64)> = (0..60)
            .map(|k: i64| ((k % 2) as u32, k % 13, (k % 5) as u64, k, k + 7 + k % 3))
            .collect();
        let forward = learned(&rows, 2, 0.5, 4);
        assert!(!forward.is_empty());
        rows.reverse();
        assert_eq!(learned(&rows, 2, 0.5, 4), forward);
        let blocks = Blocks {
            site: &[0],
            doc: &[],
            hash: &[],
            version: &[],
            start: &[],
            end: &[],
        };
        assert!(learn(&blocks, 2, 0.5, 4).is_err());
    }
}
