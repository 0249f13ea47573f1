//! Directory listings from FTP servers, parsed into [`Entry`]s: MLSD/MLST facts (RFC 3659) and
//! the `LIST` formats servers without MLSD send — Unix `ls -l` lines and DOS/IIS lines. Pure
//! text in, entries out; no I/O here.
//!
//! Names are data: they are taken from the line exactly as sent (leading spaces, `;`, `->` in
//! file names and all), never trimmed or cleaned. `Remote::list` refuses the unsafe ones.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::super::{Entry, EntryKind};

/// One MLSD/MLST line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MlsxLine {
    pub entry: Entry,
    /// `type=cdir` or `type=pdir`: the listed directory itself or its parent.
    pub self_or_parent: bool,
}

/// Parses `fact=value;fact=value; name` (the name follows the first `"; "`, or the leading
/// space when there are no facts).
pub(super) fn parse_mlsx(line: &str) -> Option<MlsxLine> {
    let (facts, name) = match line.strip_prefix(' ') {
        Some(name) => ("", name),
        None => {
            let end = line.find("; ")?;
            (&line[..=end], &line[end + 2..])
        }
    };
    if name.is_empty() {
        return None;
    }
    let mut entry = Entry::new(name, EntryKind::Other);
    let mut self_or_parent = false;
    let (mut owner_id, mut group_id) = (None, None);
    for fact in facts.split(';').filter(|f| !f.is_empty()) {
        let Some((key, value)) = fact.split_once('=') else {
            continue;
        };
        match key.to_ascii_lowercase().as_str() {
            "type" => {
                let (kind, target, listed) = mlsx_type(value);
                entry.kind = kind;
                entry.link_target = target;
                self_or_parent = listed;
            }
            "size" | "sizd" => entry.size = value.parse().ok()?,
            "modify" => entry.mtime = mlsx_time(value),
            "unix.mode" => entry.permissions = u32::from_str_radix(value, 8).ok(),
            "unix.owner" | "unix.ownername" => entry.owner = Some(value.to_string()),
            "unix.group" | "unix.groupname" => entry.group = Some(value.to_string()),
            "unix.uid" => owner_id = Some(value.to_string()),
            "unix.gid" => group_id = Some(value.to_string()),
            _ => {}
        }
    }
    // Names where the server gives them, ids otherwise.
    entry.owner = entry.owner.or(owner_id);
    entry.group = entry.group.or(group_id);
    if let Some(mode) = entry.permissions {
        entry.permissions = Some(mode & 0o7777);
    }
    Some(MlsxLine {
        entry,
        self_or_parent,
    })
}

/// The kind, symlink target and cdir/pdir flag of a `type` fact.
fn mlsx_type(value: &str) -> (EntryKind, Option<String>, bool) {
    let lower = value.to_ascii_lowercase();
    match lower.as_str() {
        "file" => (EntryKind::File, None, false),
        "dir" => (EntryKind::Dir, None, false),
        "cdir" | "pdir" => (EntryKind::Dir, None, true),
        "os.unix=symlink" | "os.unix=slink" | "link" => (EntryKind::Symlink, None, false),
        _ if lower.starts_with("os.unix=slink:") => {
            let target = &value["os.unix=slink:".len()..];
            let target = (!target.is_empty()).then(|| target.to_string());
            (EntryKind::Symlink, target, false)
        }
        _ => (EntryKind::Other, None, false),
    }
}

/// `YYYYMMDDHHMMSS[.fff]`, UTC, as Unix seconds.
pub(super) fn mlsx_time(value: &str) -> Option<i64> {
    let digits = value.split('.').next()?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| digits[range].parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(4..6)?, num(6..8)?)?;
    let time = date.and_hms_opt(num(8..10)?, num(10..12)?, num(12..14)?)?;
    Some(time.and_utc().timestamp())
}

/// Parses one `LIST` line in Unix or DOS format; None for `total N` and anything unknown.
pub(super) fn parse_list_line(line: &str, now: DateTime<Utc>) -> Option<Entry> {
    if line.starts_with("total ") {
        return None;
    }
    parse_unix(line, now).or_else(|| parse_dos(line))
}

/// Byte ranges of the whitespace-separated fields of `line`.
fn fields(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, line.len()));
    }
    out
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `-rw-r--r--  1 owner group  1234 Nov  5 13:46 name` (group, link count optional).
pub(super) fn parse_unix(line: &str, now: DateTime<Utc>) -> Option<Entry> {
    let spans = fields(line);
    let text = |i: usize| spans.get(i).map(|&(s, e)| &line[s..e]);
    let (kind, permissions) = unix_mode(text(0)?)?;
    // The month is the anchor: size before it, day and time-or-year after it.
    let month_at = (2..spans.len().saturating_sub(2)).find(|&i| {
        month_number(text(i).unwrap_or("")).is_some()
            && text(i - 1).is_some_and(|s| s.parse::<u64>().is_ok())
            && text(i + 1).is_some_and(|d| d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)))
    })?;
    let size = text(month_at - 1)?.parse().ok()?;
    let mtime = unix_time(
        text(month_at)?,
        text(month_at + 1)?,
        text(month_at + 2)?,
        now,
    );
    let name_start = spans[month_at + 2].1 + 1;
    let name = line.get(name_start..).filter(|n| !n.is_empty())?;
    let first_user = if text(1)?.parse::<u64>().is_ok() {
        2
    } else {
        1
    };
    let users: Vec<&str> = (first_user..month_at - 1).filter_map(text).collect();
    let (name, link_target) = match kind {
        EntryKind::Symlink => match name.split_once(" -> ") {
            Some((name, target)) => (name, Some(target.to_string())),
            None => (name, None),
        },
        _ => (name, None),
    };
    Some(Entry {
        name: name.to_string(),
        kind,
        size,
        mtime,
        permissions: Some(permissions),
        owner: users.first().map(|s| s.to_string()),
        group: users.get(1).map(|s| s.to_string()),
        link_target,
    })
}

/// `drwxr-sr-t` (optionally followed by `+`, `@` or `.`) as a kind and mode bits.
fn unix_mode(mode: &str) -> Option<(EntryKind, u32)> {
    let bytes = mode.as_bytes();
    if !(10..=11).contains(&bytes.len()) {
        return None;
    }
    let kind = match bytes[0] {
        b'-' => EntryKind::File,
        b'd' => EntryKind::Dir,
        b'l' => EntryKind::Symlink,
        b'b' | b'c' | b'p' | b's' | b'D' => EntryKind::Other,
        _ => return None,
    };
    let mut bits = 0;
    for (group, chunk) in bytes[1..10].chunks(3).enumerate() {
        let shift = 6 - 3 * group as u32;
        let special = [0o4000, 0o2000, 0o1000][group];
        for (i, &c) in chunk.iter().enumerate() {
            let bit = 4 >> i;
            match (i, c) {
                (_, b'-') => {}
                (0, b'r') | (1, b'w') | (2, b'x') => bits |= bit << shift,
                (2, b's') | (2, b't') => bits |= (bit << shift) | special,
                (2, b'S') | (2, b'T') => bits |= special,
                _ => return None,
            }
        }
    }
    Some((kind, bits))
}

fn month_number(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .map(|i| i as u32 + 1)
}

/// `Nov 5 13:46` (within the last half year: this year or last) or `Nov 5 2023`, taken as UTC
/// because a listing does not say its time zone.
fn unix_time(month: &str, day: &str, time_or_year: &str, now: DateTime<Utc>) -> Option<i64> {
    let month = month_number(month)?;
    let day = day.parse().ok()?;
    let (year, hour, minute) = match time_or_year.split_once(':') {
        Some((h, m)) => (None, h.parse().ok()?, m.parse().ok()?),
        None => (Some(time_or_year.parse().ok()?), 0, 0),
    };
    let at = |year: i32| {
        NaiveDate::from_ymd_opt(year, month, day)?
            .and_hms_opt(hour, minute, 0)
            .map(|t| t.and_utc())
    };
    let stamp = match year {
        Some(year) => at(year)?,
        None => {
            let this_year = at(now.year())?;
            // A date more than a day ahead (clock skew) must be from last year.
            if this_year > now + chrono::Duration::days(1) {
                at(now.year() - 1)?
            } else {
                this_year
            }
        }
    };
    Some(stamp.timestamp())
}

/// `10-19-20  03:19PM  <DIR>  pub` or `04-08-2014  15:09  1,403  readme.txt`.
pub(super) fn parse_dos(line: &str) -> Option<Entry> {
    let spans = fields(line);
    let text = |i: usize| spans.get(i).map(|&(s, e)| &line[s..e]);
    let date = dos_date(text(0)?)?;
    let (hour, minute) = dos_clock(text(1)?)?;
    let mtime = date.and_hms_opt(hour, minute, 0)?.and_utc().timestamp();
    let size_field = text(2)?;
    let (kind, size) = if size_field.eq_ignore_ascii_case("<DIR>") {
        (EntryKind::Dir, 0)
    } else {
        (EntryKind::File, size_field.replace(',', "").parse().ok()?)
    };
    // IIS pads the size column, so the name starts at the next non-blank character.
    let rest = &line[spans[2].1..];
    let name = rest.trim_start_matches([' ', '\t']);
    if name.is_empty() {
        return None;
    }
    Some(Entry {
        mtime: Some(mtime),
        size,
        ..Entry::new(name, kind)
    })
}

fn dos_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split(['-', '/']);
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    let year: i32 = parts.next()?.parse().ok()?;
    let year = match year {
        0..=69 => 2000 + year,
        70..=99 => 1900 + year,
        _ => year,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// `03:19PM`, `11:00AM` or `15:09`.
fn dos_clock(text: &str) -> Option<(u32, u32)> {
    let upper = text.to_ascii_uppercase();
    let (clock, pm) = match (upper.strip_suffix("PM"), upper.strip_suffix("AM")) {
        (Some(c), _) => (c.to_string(), Some(true)),
        (_, Some(c)) => (c.to_string(), Some(false)),
        _ => (upper, None),
    };
    let (h, m) = clock.split_once(':')?;
    let (mut hour, minute): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    (hour < 24 && minute < 60).then_some((hour, minute))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 10, 12, 0, 0).unwrap()
    }

    fn stamp(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
        Some(
            Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
                .unwrap()
                .timestamp(),
        )
    }

    #[test]
    fn unix_lines_from_vsftpd() {
        let file = parse_list_line(
            "-rw-r--r--    1 1001     1001      1048576 Mar 01 10:33 up.bin",
            now(),
        )
        .unwrap();
        assert_eq!(file.name, "up.bin");
        assert_eq!(file.kind, EntryKind::File);
        assert_eq!(file.size, 1_048_576);
        assert_eq!(file.permissions, Some(0o644));
        assert_eq!(file.owner.as_deref(), Some("1001"));
        assert_eq!(file.group.as_deref(), Some("1001"));
        assert_eq!(file.mtime, stamp(2024, 3, 1, 10, 33, 0));

        let dir = parse_list_line(
            "drwxr-xr-x    2 alice    staff        4096 Jan 02  2023 sub dir",
            now(),
        )
        .unwrap();
        assert_eq!(dir.name, "sub dir");
        assert_eq!(dir.kind, EntryKind::Dir);
        assert_eq!(dir.owner.as_deref(), Some("alice"));
        assert_eq!(dir.mtime, stamp(2023, 1, 2, 0, 0, 0));
    }

    #[test]
    fn unix_names_are_kept_verbatim() {
        let spaced = parse_unix("-rw-r--r-- 1 u g 5 Nov 14 10:33   two  spaces ", now()).unwrap();
        assert_eq!(spaced.name, "  two  spaces ");
        let hostile = parse_unix("-rw-r--r-- 1 0 0 6 Nov 14  2023 a/b", now()).unwrap();
        assert_eq!(hostile.name, "a/b");
        let dots = parse_unix("-rw-r--r-- 1 0 0 6 Nov 14  2023 ..", now()).unwrap();
        assert_eq!(dots.name, "..");
    }

    #[test]
    fn unix_symlinks_special_bits_and_missing_columns() {
        let link = parse_unix(
            "lrwxrwxrwx    1 0        0               7 Mar 01 12:00 link -> target dir",
            now(),
        )
        .unwrap();
        assert_eq!(link.kind, EntryKind::Symlink);
        assert_eq!(link.name, "link");
        assert_eq!(link.link_target.as_deref(), Some("target dir"));
        let suid = parse_unix("-rwsr-xr-x 1 root root 100 Feb 02 09:00 passwd", now()).unwrap();
        assert_eq!(suid.permissions, Some(0o4755));
        let tmp = parse_unix("drwxrwxrwt+ 9 root root 4096 Feb 02 09:00 tmp", now()).unwrap();
        assert_eq!(tmp.permissions, Some(0o1777));
        // No group column, as some servers print.
        let no_group = parse_unix("-rw-r--r-- 1 ftp 42 Dec 31 23:59 new.txt", now()).unwrap();
        assert_eq!(no_group.owner.as_deref(), Some("ftp"));
        assert_eq!(no_group.group, None);
        assert_eq!(no_group.size, 42);
        // December in March with no year: last December.
        assert_eq!(no_group.mtime, stamp(2023, 12, 31, 23, 59, 0));
    }

    #[test]
    fn unix_lines_in_libunftp_format() {
        let line = "-rw-r--r--            1         1000         1000           1234 Nov 14  2023 report.txt";
        let entry = parse_unix(line, now()).unwrap();
        assert_eq!(entry.name, "report.txt");
        assert_eq!(entry.size, 1234);
        assert!(parse_list_line("total 12", now()).is_none());
        assert!(parse_list_line("garbage line", now()).is_none());
    }

    #[test]
    fn dos_lines() {
        let dir = parse_list_line("10-19-20  03:19PM       <DIR>          pub", now()).unwrap();
        assert_eq!(dir.kind, EntryKind::Dir);
        assert_eq!(dir.name, "pub");
        assert_eq!(dir.mtime, stamp(2020, 10, 19, 15, 19, 0));
        let file =
            parse_list_line("01-02-2023  12:05AM             1,234 big file.zip", now()).unwrap();
        assert_eq!(file.kind, EntryKind::File);
        assert_eq!(file.size, 1234);
        assert_eq!(file.name, "big file.zip");
        assert_eq!(file.mtime, stamp(2023, 1, 2, 0, 5, 0));
        let plain = parse_dos("04-08-14  15:09   403 readme.txt").unwrap();
        assert_eq!(plain.mtime, stamp(2014, 4, 8, 15, 9, 0));
    }

    #[test]
    fn mlsd_facts() {
        let line = "type=file;size=1234;modify=20231114221320.123;UNIX.mode=0644;\
                    UNIX.owner=alice;UNIX.group=staff;perm=adfrw; report; final.txt";
        let parsed = parse_mlsx(line).unwrap();
        assert!(!parsed.self_or_parent);
        let e = parsed.entry;
        assert_eq!(e.name, "report; final.txt");
        assert_eq!(e.kind, EntryKind::File);
        assert_eq!(e.size, 1234);
        assert_eq!(e.mtime, stamp(2023, 11, 14, 22, 13, 20));
        assert_eq!(e.permissions, Some(0o644));
        assert_eq!(e.owner.as_deref(), Some("alice"));
        assert_eq!(e.group.as_deref(), Some("staff"));
    }

    #[test]
    fn mlsd_kinds_ids_and_odd_lines() {
        let cdir = parse_mlsx("type=cdir;modify=20240101000000; .").unwrap();
        assert!(cdir.self_or_parent);
        let dir = parse_mlsx("Type=DIR;unix.uid=1000;unix.gid=100; src")
            .unwrap()
            .entry;
        assert_eq!(dir.kind, EntryKind::Dir);
        assert_eq!(dir.owner.as_deref(), Some("1000"));
        assert_eq!(dir.group.as_deref(), Some("100"));
        let link = parse_mlsx("type=OS.unix=slink:/etc/passwd;size=11; pw").unwrap();
        assert_eq!(link.entry.kind, EntryKind::Symlink);
        assert_eq!(link.entry.link_target.as_deref(), Some("/etc/passwd"));
        let bare = parse_mlsx("  leading space").unwrap().entry;
        assert_eq!(bare.name, " leading space");
        assert_eq!(bare.kind, EntryKind::Other);
        let hostile = parse_mlsx("type=file;size=6; a\\b").unwrap().entry;
        assert_eq!(hostile.name, "a\\b");
        assert!(parse_mlsx("type=file;size=6;").is_none());
        assert!(parse_mlsx("type=file;size=huge; x").is_none());
        assert_eq!(mlsx_time("2023111422"), None);
    }
}
