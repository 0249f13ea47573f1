//! One directory's entries as a pane shows them: kept as they arrive (in chunks), ordered by
//! an index that each chunk is merged into (no re-sort of what is there), and a view of that
//! order without hidden names and filtered as the person types. Marks are names, so they
//! survive filters and re-sorts. No I/O here.

use std::cmp::Ordering;
use std::collections::HashSet;

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
    pub marks: HashSet<String>,
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
        self.view
            .iter()
            .position(|&i| self.entries[i as usize].name == name)
    }

    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Forgets the entries (a new directory); keeps sort, hidden and nothing else.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.view.clear();
        self.filter.clear();
        self.marks.clear();
    }

    /// Adds a chunk: sorted by itself, then merged into the order.
    pub fn extend(&mut self, chunk: Vec<Entry>) {
        let first = self.entries.len() as u32;
        self.entries.extend(chunk);
        let mut added: Vec<u32> = (first..self.entries.len() as u32).collect();
        added.sort_by(|a, b| self.compare(*a, *b));
        let old = std::mem::take(&mut self.order);
        self.order = merge(&old, &added, |a, b| self.compare(a, b));
        self.refresh_view();
    }

    pub fn set_sort(&mut self, sort: SortKey) {
        if self.sort == sort {
            self.reverse = !self.reverse;
        } else {
            self.sort = sort;
            self.reverse = false;
        }
        let mut order = std::mem::take(&mut self.order);
        order.sort_by(|a, b| self.compare(*a, *b));
        self.order = order;
        self.refresh_view();
    }

    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_string();
        self.refresh_view();
    }

    pub fn toggle_hidden(&mut self) {
        self.show_hidden = !self.show_hidden;
        self.refresh_view();
    }

    /// Marks or unmarks a name.
    pub fn toggle_mark(&mut self, name: &str) {
        if !self.marks.remove(name) {
            self.marks.insert(name.to_string());
        }
    }

    /// Inverts the marks of the entries shown (directories included, as mc does with `*`).
    pub fn invert_marks(&mut self) {
        for &i in &self.view {
            let name = &self.entries[i as usize].name;
            if !self.marks.remove(name) {
                self.marks.insert(name.clone());
            }
        }
    }

    pub fn is_marked(&self, name: &str) -> bool {
        self.marks.contains(name)
    }

    /// The marked entries (in the listing's order), shown or not.
    pub fn marked(&self) -> Vec<&Entry> {
        self.order
            .iter()
            .map(|&i| &self.entries[i as usize])
            .filter(|e| self.marks.contains(&e.name))
            .collect()
    }

    fn refresh_view(&mut self) {
        let needle = self.filter.to_lowercase();
        let entries = &self.entries;
        self.view = self
            .order
            .iter()
            .copied()
            .filter(|&i| {
                let name = &entries[i as usize].name;
                (self.show_hidden || !name.starts_with('.'))
                    && (needle.is_empty() || contains_folded(name, &needle))
            })
            .collect();
    }

    fn compare(&self, a: u32, b: u32) -> Ordering {
        let (a, b) = (&self.entries[a as usize], &self.entries[b as usize]);
        let dirs = (b.kind == EntryKind::Dir).cmp(&(a.kind == EntryKind::Dir));
        let by_key = match self.sort {
            SortKey::Name => Ordering::Equal,
            SortKey::Size => b.size.cmp(&a.size),
            SortKey::Time => b.mtime.cmp(&a.mtime),
        };
        let by_name = a.name.cmp(&b.name);
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
}
