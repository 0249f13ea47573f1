//! SFTP file attributes and `ls -l` long names to ferry's `Entry`. Pure: no I/O.

use russh_sftp::protocol::FileAttributes;

use crate::remote::{Entry, EntryKind};

const TYPE_MASK: u32 = 0o170_000;
const TYPE_DIR: u32 = 0o040_000;
const TYPE_FILE: u32 = 0o100_000;
const TYPE_LINK: u32 = 0o120_000;

/// An entry named `name` from its attributes and, when the server sent one, its long name
/// (which is where OpenSSH puts owner and group names).
pub(super) fn entry(name: &str, attrs: &FileAttributes, longname: Option<&str>) -> Entry {
    let long = longname.and_then(LongName::parse);
    let kind = match attrs.permissions {
        Some(mode) => kind_of_mode(mode),
        None => long.as_ref().map_or(EntryKind::Other, |l| l.kind),
    };
    let owner = long.as_ref().map(|l| l.owner.clone());
    let group = long.as_ref().map(|l| l.group.clone());
    Entry {
        name: name.to_string(),
        kind,
        size: attrs.size.unwrap_or(0),
        mtime: attrs.mtime.map(i64::from),
        permissions: attrs.permissions.map(|mode| mode & 0o7777),
        owner: owner
            .or_else(|| attrs.user.clone())
            .or_else(|| attrs.uid.map(|u| u.to_string())),
        group: group
            .or_else(|| attrs.group.clone())
            .or_else(|| attrs.gid.map(|g| g.to_string())),
        link_target: None,
    }
}

fn kind_of_mode(mode: u32) -> EntryKind {
    match mode & TYPE_MASK {
        TYPE_DIR => EntryKind::Dir,
        TYPE_FILE => EntryKind::File,
        TYPE_LINK => EntryKind::Symlink,
        _ => EntryKind::Other,
    }
}

/// The parts of `-rw-r--r--    1 deploy   www-data     1234 Jan  5 12:00 name` ferry uses.
struct LongName {
    kind: EntryKind,
    owner: String,
    group: String,
}

impl LongName {
    /// None unless the line has the `ls -l` shape (servers may send anything here).
    fn parse(line: &str) -> Option<LongName> {
        let mut fields = line.split_whitespace();
        let mode = fields.next()?;
        let _links: u64 = fields.next()?.parse().ok()?;
        let owner = fields.next()?;
        let group = fields.next()?;
        let _size: u64 = fields.next()?.parse().ok()?;
        let mode_ok = mode.len() >= 10
            && mode
                .chars()
                .skip(1)
                .take(9)
                .all(|c| matches!(c, 'r' | 'w' | 'x' | 's' | 'S' | 't' | 'T' | '-'));
        if !mode_ok {
            return None;
        }
        let kind = match mode.chars().next()? {
            'd' => EntryKind::Dir,
            '-' => EntryKind::File,
            'l' => EntryKind::Symlink,
            _ => EntryKind::Other,
        };
        Some(LongName {
            kind,
            owner: owner.to_string(),
            group: group.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(mode: u32) -> FileAttributes {
        FileAttributes {
            size: Some(1234),
            uid: Some(1000),
            gid: Some(33),
            permissions: Some(mode),
            mtime: Some(1_700_000_000),
            ..FileAttributes::default()
        }
    }

    #[test]
    fn owner_and_group_come_from_the_long_name() {
        let line = "-rw-r--r--    1 deploy   www-data     1234 Jan  5 12:00 report.txt";
        let entry = entry("report.txt", &attrs(0o100_644), Some(line));
        assert_eq!(entry.kind, EntryKind::File);
        assert_eq!(entry.permissions, Some(0o644));
        assert_eq!(entry.owner.as_deref(), Some("deploy"));
        assert_eq!(entry.group.as_deref(), Some("www-data"));
        assert_eq!(entry.mtime, Some(1_700_000_000));
        assert_eq!(entry.size, 1234);
    }

    #[test]
    fn numbers_stand_in_without_a_usable_long_name() {
        let entry = entry("x", &attrs(0o040_755), Some("x"));
        assert_eq!(entry.kind, EntryKind::Dir);
        assert_eq!(entry.owner.as_deref(), Some("1000"));
        assert_eq!(entry.group.as_deref(), Some("33"));
    }

    #[test]
    fn links_and_others_are_told_apart() {
        assert_eq!(entry("l", &attrs(0o120_777), None).kind, EntryKind::Symlink);
        assert_eq!(entry("p", &attrs(0o010_644), None).kind, EntryKind::Other);
        let bare = FileAttributes::default();
        let line = "drwxr-xr-x 2 a b 4096 Jan 1 2020 d";
        assert_eq!(entry("d", &bare, Some(line)).kind, EntryKind::Dir);
    }
}
