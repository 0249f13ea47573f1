//! One explorer pane: a place (this machine or a profile's server), its directory, the
//! listing as it loads, the cursor and the scroll. Moving around is pure state; loading is a
//! request the caller sends. No I/O here.

use super::listing::Listing;
use crate::engine::api::Place;
use crate::remote::{Entry, names};

/// What the cursor is on.
#[derive(Debug, Clone, PartialEq)]
pub enum Row<'a> {
    /// `..`: the parent directory.
    Parent,
    Entry(&'a Entry),
}

#[derive(Debug)]
pub struct Pane {
    pub place: Place,
    pub path: String,
    /// Where `~` goes: the home directory here, the start directory on a server.
    pub home: String,
    pub listing: Listing,
    /// Row of the cursor, counting the `..` row.
    pub cursor: usize,
    /// First row on screen.
    pub top: usize,
    /// The listing request in flight.
    pub loading: Option<u64>,
    /// Why the last listing failed.
    pub error: Option<String>,
    /// Typing a filter.
    pub filtering: bool,
    /// Put the cursor on this name once it is listed (coming up from a directory).
    pub select: Option<String>,
    /// Names the server gave that ferry will not use (escaped).
    pub refused: Vec<String>,
    /// Connecting to a profile for this pane: the request and the profile.
    pub connecting: Option<(u64, String)>,
    /// Directories shown before, most recent last (`-` goes back).
    pub history: Vec<String>,
}

/// Directories a pane remembers for going back.
const HISTORY: usize = 64;

impl Pane {
    pub fn new(place: Place, path: &str, home: &str) -> Pane {
        Pane {
            place,
            path: path.to_string(),
            home: home.to_string(),
            listing: Listing::default(),
            cursor: 0,
            top: 0,
            loading: None,
            error: None,
            filtering: false,
            select: None,
            refused: Vec::new(),
            connecting: None,
            history: Vec::new(),
        }
    }

    /// The label of the pane's place: `local` or the profile name.
    pub fn label(&self) -> &str {
        self.place.label()
    }

    /// Whether the first row is `..`.
    pub fn has_parent(&self) -> bool {
        names::parent(&self.path).is_some()
    }

    /// Rows shown: `..` (when there is a parent) and the listing's view.
    pub fn rows(&self) -> usize {
        self.listing.len() + usize::from(self.has_parent())
    }

    pub fn row(&self, row: usize) -> Option<Row<'_>> {
        match (self.has_parent(), row) {
            (true, 0) => Some(Row::Parent),
            (true, r) => self.listing.get(r - 1).map(Row::Entry),
            (false, r) => self.listing.get(r).map(Row::Entry),
        }
    }

    pub fn current(&self) -> Option<Row<'_>> {
        self.row(self.cursor)
    }

    /// The entry under the cursor (not `..`).
    pub fn current_entry(&self) -> Option<&Entry> {
        match self.current() {
            Some(Row::Entry(entry)) => Some(entry),
            _ => None,
        }
    }

    /// The full path of a name in this directory.
    pub fn child(&self, name: &str) -> String {
        names::join(&self.path, name)
    }

    /// Moves the cursor by `delta` rows (clamped) and keeps it on screen.
    pub fn move_by(&mut self, delta: isize, height: usize) {
        let last = self.rows().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + delta).clamp(0, last.max(0)) as usize;
        self.scroll(height);
    }

    pub fn move_to(&mut self, row: usize, height: usize) {
        self.cursor = row.min(self.rows().saturating_sub(1));
        self.scroll(height);
    }

    /// Keeps the cursor within the `height` rows on screen.
    pub fn scroll(&mut self, height: usize) {
        let height = height.max(1);
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + height {
            self.top = self.cursor + 1 - height;
        }
        let max_top = self.rows().saturating_sub(height);
        self.top = self.top.min(max_top);
    }

    /// Puts the cursor on `name` if it is shown.
    pub fn select_name(&mut self, name: &str, height: usize) -> bool {
        match self.listing.row_of(name) {
            Some(row) => {
                self.move_to(row + usize::from(self.has_parent()), height);
                true
            }
            None => false,
        }
    }

    /// Starts showing `path` (its listing still to load); `select` names the row to land on.
    pub fn go(&mut self, path: &str, select: Option<String>) {
        let path = names::normalize(path);
        if path != self.path {
            self.history.push(std::mem::replace(&mut self.path, path));
            if self.history.len() > HISTORY {
                self.history.remove(0);
            }
        }
        self.listing.clear();
        self.cursor = 0;
        self.top = 0;
        self.error = None;
        self.filtering = false;
        self.refused.clear();
        self.select = select;
    }

    /// Goes back to the directory shown before; false when there is none.
    pub fn back(&mut self) -> bool {
        let Some(path) = self.history.pop() else {
            return false;
        };
        self.go(&path, None);
        // Going back is not a new step to come back to.
        self.history.pop();
        true
    }

    /// The name under the cursor, to find it again after the listing changes.
    pub fn cursor_name(&self) -> Option<String> {
        self.current_entry().map(|e| e.name.clone())
    }

    /// Re-applies a view change (filter, sort, hidden) keeping the cursor on its entry.
    pub fn keep_cursor(&mut self, name: Option<String>, height: usize) {
        let found = name.is_some_and(|n| self.select_name(&n, height));
        if !found {
            self.move_to(self.cursor, height);
        }
    }
}
