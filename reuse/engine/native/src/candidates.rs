//! Candidate passage pairs from band keys: every stored row sharing a key with a new row, the
//! stored passage older and of another version (`warehouse.keyindex`'s lookup, after the rows
//! holding the batch's keys were found). Equal to the SQL of `Warehouse.candidates_by_join`.

use rayon::prelude::*;

/// Band-key rows as three columns of one length: key, passage id, version id.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    pub keys: &'a [u64],
    pub passages: &'a [i64],
    pub versions: &'a [i64],
}

impl Rows<'_> {
    fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the columns are of one length.
    pub fn well_formed(&self) -> bool {
        self.passages.len() == self.keys.len() && self.versions.len() == self.keys.len()
    }
}

/// `(old_passage, old_version, new_passage, new_version)` for each `held` row and each `probe`
/// row of its key where the held passage is older and of another version; unique, sorted.
///
/// With `cap`, a key proposes only its held rows of the first `cap` versions holding it (by
/// version id, a dense rank), so text on thousands of pages links a new copy to the earliest.
/// `held` is the stored rows holding the probe's keys (the probe's own rows among them), in any
/// order; so is `probe`.
pub fn candidate_pairs(held: Rows<'_>, probe: Rows<'_>, cap: Option<u64>) -> Vec<[i64; 4]> {
    let mut stored: Vec<(u64, i64, i64)> = (0..held.len())
        .map(|i| (held.keys[i], held.versions[i], held.passages[i]))
        .collect();
    stored.par_sort_unstable();
    if let Some(cap) = cap {
        stored = first_versions(&stored, cap);
    }
    let mut new: Vec<(u64, i64, i64)> = (0..probe.len())
        .map(|i| (probe.keys[i], probe.passages[i], probe.versions[i]))
        .collect();
    new.par_sort_unstable();
    let mut out = Vec::new();
    let mut h = 0;
    let mut i = 0;
    while i < new.len() {
        let key = new[i].0;
        let end = i + new[i..].partition_point(|r| r.0 == key);
        h += stored[h..].partition_point(|r| r.0 < key);
        let group = &stored[h..h + stored[h..].partition_point(|r| r.0 == key)];
        for &(_, new_passage, new_version) in &new[i..end] {
            for &(_, old_version, old_passage) in group {
                if old_passage < new_passage && old_version != new_version {
                    out.push([old_passage, old_version, new_passage, new_version]);
                }
            }
        }
        i = end;
    }
    out.par_sort_unstable();
    out.dedup();
    out
}

/// The rows (sorted by key, version, passage) of the first `cap` versions holding each key.
fn first_versions(rows: &[(u64, i64, i64)], cap: u64) -> Vec<(u64, i64, i64)> {
    let mut kept = Vec::with_capacity(rows.len());
    let mut rank = 0u64;
    for (i, row) in rows.iter().enumerate() {
        if i == 0 || rows[i - 1].0 != row.0 {
            rank = 1;
        } else if rows[i - 1].1 != row.1 {
            rank += 1;
        }
        if rank <= cap {
            kept.push(*row);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(u64, i64, i64)]) -> (Vec<u64>, Vec<i64>, Vec<i64>) {
        (
            v.iter().map(|r| r.0).collect(),
            v.iter().map(|r| r.1).collect(),
            v.iter().map(|r| r.2).collect(),
        )
    }

    #[test]
    fn pairs_older_passages_of_other_versions_once() {
        // (key, passage, version): passages 1-2 of version 1, 3 of version 2, 4-5 of version 3.
        let held = [
            (7, 1, 1),
            (7, 2, 1),
            (7, 3, 2),
            (9, 1, 1),
            (7, 4, 3),
            (9, 4, 3),
            (9, 5, 3),
        ];
        let probe = [(7, 4, 3), (9, 4, 3), (9, 5, 3)];
        let (hk, hp, hv) = rows(&held);
        let (pk, pp, pv) = rows(&probe);
        let h = Rows {
            keys: &hk,
            passages: &hp,
            versions: &hv,
        };
        let p = Rows {
            keys: &pk,
            passages: &pp,
            versions: &pv,
        };
        let all = candidate_pairs(h, p, None);
        assert_eq!(
            all,
            vec![[1, 1, 4, 3], [1, 1, 5, 3], [2, 1, 4, 3], [3, 2, 4, 3]]
        );
        // Capped at one version per key: key 7 proposes version 1's passages only.
        assert_eq!(
            candidate_pairs(h, p, Some(1)),
            vec![[1, 1, 4, 3], [1, 1, 5, 3], [2, 1, 4, 3]]
        );
    }
}
