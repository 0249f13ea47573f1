//! One directory's entries as a pane shows them: kept as they arrive (in chunks), ordered by
//! an index that each chunk is merged into (no re-sort of what is there), and a view of that
//! order without hidden names and filtered as the person types. Each entry's rank in name order
//! is kept, so re-sorting 100,000 entries compares numbers, not names. Marks belong to entries,
//! so they survive filters and re-sorts, and their count and size are kept as they change.
//! No I/O here.

use std::cmp::Ordering;

use crate::remote::{Entry, EntryKind};

/// How entries are ordered (directories always first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Size,
    Time,
}

/// A directory's entries and how they are seen.
#[derive(Debug, Default)]
pub struct Listing {
    entries: Vec<Entry>,
    /// Every entry's index, in name order.
    by_name: Vec<u32>,
    /// Each entry's position in `by_name`.
    rank: Vec<u32>,
    /// Every entry's index, sorted.
    order: Vec<u32>,
    /// The indexes shown: `order` without hidden names and filtered.
    view: Vec<u32>,
    pub sort: SortKey,
    /// Newest or largest first (time and size sort descending by default, like `ls -t`).
    pub reverse: bool,
    pub show_hidden: bool,
    /// Case-insensitive substring the names must contain.
    filter: String,
    /// Whether each entry is marked.
    marked: Vec<bool>,
    marked_count: usize,
    /// Bytes of the marked entries that are not directories.
    marked_bytes: u64,
}

impl Listing {
    pub fn len(&self) -> usize {
        self.view.len()
    }

    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }

    pub fn total(&self) -> usize {
        self.entries.len()
    }

    /// The entry at a row of the view.
    pub fn get(&self, row: usize) -> Option<&Entry> {
        self.view.get(row).map(|&i| &self.entries[i as usize])
    }

    /// The row of the entry called `name`, if shown.
    pub fn row_of(&self, name: &str) -> Option<usize> {
        let index = self.index_of(name)?;
        self.view.iter().position(|&i| i == index)
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Forgets the entries (a new directory); keeps sort, hidden and nothing else.
    pub fn clear(&mut self) {
        let (sort, reverse, show_hidden) = (self.sort, self.reverse, self.show_hidden);
        *self = Listing {
            sort,
            reverse,
            show_hidden,
            ..Listing::default()
        };
    }

    /// Adds a chunk: sorted by itself, then merged into the name order and the order.
    pub fn extend(&mut self, chunk: Vec<Entry>) {
        let first = self.entries.len() as u32;
        self.entries.extend(chunk);
        self.marked.resize(self.entries.len(), false);
        let entries = &self.entries;
        let by_name = |a: u32, b: u32| entries[a as usize].name.cmp(&entries[b as usize].name);
        let mut added: Vec<u32> = (first..entries.len() as u32).collect();
        added.sort_unstable_by(|a, b| by_name(*a, *b));
        self.by_name = merge(&self.by_name, &added, by_name);
        self.rank.resize(self.entries.len(), 0);
        for (position, &i) in self.by_name.iter().enumerate() {
            self.rank[i as usize] = position as u32;
        }
        added.sort_unstable_by(|a, b| self.compare(*a, *b));
        let old = std::mem::take(&mut self.order);
        self.order = merge(&old, &added, |a, b| self.compare(a, b));
        self.refresh_view(false);
    }

    pub fn set_sort(&mut self, sort: SortKey) {
        if self.sort == sort {
            self.reverse = !self.reverse;
        } else {
            self.sort = sort;
            self.reverse = false;
        }
        // One number per entry holds the whole ordering (see `sort_key`): sorting those touches
        // no entry, and the rank in each key gives the entry back through `by_name`.
        let mut keys: Vec<u128> = (0..self.entries.len()).map(|i| self.sort_key(i)).collect();
        keys.sort_unstable();
        self.order = keys
            .iter()
            .map(|key| self.by_name[(*key as u32 ^ self.rank_flip()) as usize])
            .collect();
        self.refresh_view(false);
    }

    pub fn set_filter(&mut self, filter: &str) {
        // A filter that only grows can only narrow what is shown.
        let narrower = !self.filter.is_empty() && filter.starts_with(self.filter.as_str());
        self.filter = filter.to_string();
        self.refresh_view(narrower);
    }

    pub fn toggle_hidden(&mut self) {
        self.show_hidden = !self.show_hidden;
        self.refresh_view(false);
    }

    /// Marks or unmarks the entry called `name`.
    pub fn toggle_mark(&mut self, name: &str) {
        if let Some(index) = self.index_of(name) {
            self.set_mark(index, !self.marked[index as usize]);
        }
    }

    /// Inverts the marks of the entries shown (directories included, as mc does with `*`).
    pub fn invert_marks(&mut self) {
        let mut shown = vec![false; self.entries.len()];
        for &i in &self.view {
            shown[i as usize] = true;
        }
        // In entry order: the entries are read one after another, not jumped between.
        for (index, _) in shown.iter().enumerate().filter(|(_, s)| **s) {
            self.set_mark(index as u32, !self.marked[index]);
        }
    }

    pub fn clear_marks(&mut self) {
        self.marked.iter_mut().for_each(|m| *m = false);
        (self.marked_count, self.marked_bytes) = (0, 0);
    }

    pub fn is_marked(&self, name: &str) -> bool {
        self.index_of(name)
            .is_some_and(|index| self.marked[index as usize])
    }

    /// How many entries are marked, and the bytes of those that are not directories.
    pub fn marked_summary(&self) -> (usize, u64) {
        (self.marked_count, self.marked_bytes)
    }

    /// The marked entries (in the listing's order), shown or not.
    pub fn marked(&self) -> Vec<&Entry> {
        if self.marked_count == 0 {
            return Vec::new();
        }
        self.order
            .iter()
            .filter(|&&i| self.marked[i as usize])
            .map(|&i| &self.entries[i as usize])
            .collect()
    }

    fn set_mark(&mut self, index: u32, on: bool) {
        let index = index as usize;
        if self.marked[index] == on {
            return;
        }
        self.marked[index] = on;
        let entry = &self.entries[index];
        let bytes = if entry.kind == EntryKind::Dir {
            0
        } else {
            entry.size
        };
        if on {
            self.marked_count += 1;
            self.marked_bytes += bytes;
        } else {
            self.marked_count -= 1;
            self.marked_bytes -= bytes;
        }
    }

    /// The index of the entry called `name` (names in a directory are unique).
    fn index_of(&self, name: &str) -> Option<u32> {
        let at = self
            .by_name
            .binary_search_by(|&i| self.entries[i as usize].name.as_str().cmp(name))
            .ok()?;
        Some(self.by_name[at])
    }

    /// Recomputes the view from the order, or only from what is shown when `narrower`.
    fn refresh_view(&mut self, narrower: bool) {
        let needle = self.filter.to_lowercase();
        let keep = |entry: &Entry| {
            (self.show_hidden || !entry.name.starts_with('.'))
                && (needle.is_empty() || contains_folded(&entry.name, &needle))
        };
        // Names are tested in entry order (one after another in memory), then the view is
        // taken from the order through the answers.
        let kept: Vec<bool> = match narrower {
            true => {
                let mut kept = vec![false; self.entries.len()];
                for &i in &self.view {
                    kept[i as usize] = true;
                }
                kept.iter()
                    .zip(&self.entries)
                    .map(|(shown, entry)| *shown && keep(entry))
                    .collect()
            }
            false => self.entries.iter().map(keep).collect(),
        };
        self.view = self
            .order
            .iter()
            .copied()
            .filter(|&i| kept[i as usize])
            .collect();
    }

    /// What a rank is xor-ed with in a sort key: reversed name order counts ranks down.
    fn rank_flip(&self) -> u32 {
        match self.reverse {
            true => u32::MAX,
            false => 0,
        }
    }

    /// Entry `i`'s place as one number, ordered as `compare` orders: bit 96 puts directories
    /// first, bits 32..96 hold the size or time (largest or newest first unless reversed), and
    /// the low 32 bits the name's rank (unique, so no two keys are equal).
    fn sort_key(&self, i: usize) -> u128 {
        let entry = &self.entries[i];
        let file = u128::from(entry.kind != EntryKind::Dir);
        let descending = |value: u64| match self.reverse {
            false => u64::MAX - value,
            true => value,
        };
        let primary = match self.sort {
            SortKey::Name => 0,
            SortKey::Size => descending(entry.size),
            // Order-preserving i64 -> u64; no time sorts below every time.
            SortKey::Time => descending(entry.mtime.map_or(0, |t| (t as u64) ^ (1 << 63))),
        };
        let rank = self.rank[i] ^ self.rank_flip();
        (file << 96) | (u128::from(primary) << 32) | u128::from(rank)
    }

    /// Directories first, then the sort key, then the name (by rank, which name order gave).
    fn compare(&self, a: u32, b: u32) -> Ordering {
        let (ea, eb) = (&self.entries[a as usize], &self.entries[b as usize]);
        let dirs = (eb.kind == EntryKind::Dir).cmp(&(ea.kind == EntryKind::Dir));
        let by_key = match self.sort {
            SortKey::Name => Ordering::Equal,
            SortKey::Size => eb.size.cmp(&ea.size),
            SortKey::Time => eb.mtime.cmp(&ea.mtime),
        };
        let by_name = self.rank[a as usize].cmp(&self.rank[b as usize]);
        let ordered = by_key.then(by_name);
        dirs.then(if self.reverse {
            ordered.reverse()
        } else {
            ordered
        })
    }
}

/// Merges two sorted index lists.
fn merge(a: &[u32], b: &[u32], compare: impl Fn(u32, u32) -> Ordering) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if compare(a[i], b[j]) == Ordering::Greater {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Whether `name` contains `needle` (already lowercase), ignoring case.
fn contains_folded(name: &str, needle: &str) -> bool {
    if name.is_ascii() && needle.is_ascii() {
        let (hay, pin) = (name.as_bytes(), needle.as_bytes());
        return hay.len() >= pin.len()
            && hay.windows(pin.len()).any(|w| w.eq_ignore_ascii_case(pin));
    }
    name.to_lowercase().contains(needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: EntryKind, size: u64, mtime: i64) -> Entry {
        Entry {
            size,
            mtime: Some(mtime),
            ..Entry::new(name, kind)
        }
    }

    fn names(listing: &Listing) -> Vec<&str> {
        (0..listing.len())
            .filter_map(|r| listing.get(r).map(|e| e.name.as_str()))
            .collect()
    }

    #[test]
    fn chunks_merge_into_order_with_directories_first() {
        let mut listing = Listing::default();
        listing.extend(vec![
            entry("b.txt", EntryKind::File, 5, 1),
            entry("zdir", EntryKind::Dir, 0, 1),
        ]);
        listing.extend(vec![
            entry("a.txt", EntryKind::File, 9, 3),
            entry("adir", EntryKind::Dir, 0, 2),
            entry(".hidden", EntryKind::File, 1, 1),
        ]);
        assert_eq!(names(&listing), ["adir", "zdir", "a.txt", "b.txt"]);
        listing.toggle_hidden();
        assert_eq!(listing.len(), 5);
        listing.set_sort(SortKey::Size);
        assert_eq!(names(&listing)[2..], ["a.txt", "b.txt", ".hidden"]);
        listing.set_sort(SortKey::Size);
        assert_eq!(names(&listing)[2..], [".hidden", "b.txt", "a.txt"]);
        listing.set_sort(SortKey::Time);
        assert_eq!(names(&listing)[..2], ["adir", "zdir"]);
        assert_eq!(listing.get(2).map(|e| e.name.as_str()), Some("a.txt"));
    }

    #[test]
    fn marks_survive_filters_and_invert_within_the_view() {
        let mut listing = Listing::default();
        listing.extend(
            ["daily-1.csv", "daily-2.csv", "notes.txt", "DAILY-3.csv"]
                .iter()
                .map(|n| entry(n, EntryKind::File, 1, 1))
                .collect(),
        );
        listing.toggle_mark("notes.txt");
        listing.set_filter("daily");
        assert_eq!(listing.len(), 3, "case-insensitive");
        listing.invert_marks();
        listing.set_filter("");
        let marked: Vec<_> = listing.marked().iter().map(|e| e.name.clone()).collect();
        assert_eq!(marked.len(), 4, "{marked:?}");
        listing.invert_marks();
        assert!(listing.marked().is_empty());
    }

    #[test]
    fn marks_keep_their_count_and_size_and_a_growing_filter_narrows() {
        let mut listing = Listing::default();
        listing.extend(vec![
            entry("b.log", EntryKind::File, 10, 1),
            entry("logs", EntryKind::Dir, 4096, 1),
        ]);
        listing.extend(vec![entry("a.log", EntryKind::File, 5, 2)]);
        listing.toggle_mark("a.log");
        listing.toggle_mark("logs");
        listing.toggle_mark("nonexistent");
        assert_eq!(
            listing.marked_summary(),
            (2, 5),
            "a directory adds no bytes"
        );
        listing.set_sort(SortKey::Size);
        assert!(listing.is_marked("a.log") && !listing.is_marked("b.log"));
        listing.set_filter("l");
        listing.set_filter("lo");
        listing.set_filter("log");
        assert_eq!(names(&listing), ["logs", "b.log", "a.log"]);
        listing.set_filter("logs");
        assert_eq!(names(&listing), ["logs"]);
        listing.set_filter("lo");
        assert_eq!(listing.len(), 3, "a shorter filter shows more again");
        listing.invert_marks();
        assert_eq!(listing.marked_summary(), (1, 10));
        listing.clear_marks();
        assert_eq!(listing.marked_summary(), (0, 0));
        assert!(listing.marked().is_empty());
    }

    #[test]
    fn sort_keys_order_entries_as_compare_does() {
        let mut listing = Listing::default();
        let entries: Vec<Entry> = (0..200u64)
            .map(|n| Entry {
                size: n * 7 % 13,
                mtime: (n % 5 != 0).then_some((n as i64 * 37 % 11) - 5),
                ..Entry::new(
                    format!("e{}", n * 31 % 200),
                    if n % 9 == 0 {
                        EntryKind::Dir
                    } else {
                        EntryKind::File
                    },
                )
            })
            .collect();
        for chunk in entries.chunks(50) {
            listing.extend(chunk.to_vec());
        }
        for key in [
            SortKey::Size,
            SortKey::Size,
            SortKey::Time,
            SortKey::Time,
            SortKey::Name,
            SortKey::Name,
        ] {
            listing.set_sort(key);
            let mut expected: Vec<u32> = (0..200).collect();
            expected.sort_by(|a, b| listing.compare(*a, *b));
            assert_eq!(
                listing.order, expected,
                "{key:?} reverse {}",
                listing.reverse
            );
        }
    }
}
