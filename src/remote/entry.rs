//! A directory entry as every protocol reports it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// One file, directory or link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub kind: EntryKind,
    pub size: u64,
    /// Modification time, Unix seconds.
    pub mtime: Option<i64>,
    /// Permission bits (`0o755`).
    pub permissions: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Where a symlink points.
    pub link_target: Option<String>,
}

impl Entry {
    /// A bare entry of `kind` named `name`.
    pub fn new(name: impl Into<String>, kind: EntryKind) -> Entry {
        Entry {
            name: name.into(),
            kind,
            size: 0,
            mtime: None,
            permissions: None,
            owner: None,
            group: None,
            link_target: None,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }

    /// `drwxr-xr-x`-style mode string.
    pub fn mode_string(&self) -> String {
        let kind = match self.kind {
            EntryKind::Dir => 'd',
            EntryKind::Symlink => 'l',
            EntryKind::File => '-',
            EntryKind::Other => '?',
        };
        let Some(bits) = self.permissions else {
            return format!("{kind}?????????");
        };
        let mut out = String::from(kind);
        for shift in [6, 3, 0] {
            let part = (bits >> shift) & 7;
            out.push(if part & 4 != 0 { 'r' } else { '-' });
            out.push(if part & 2 != 0 { 'w' } else { '-' });
            out.push(if part & 1 != 0 { 'x' } else { '-' });
        }
        out
    }
}
