//! File attributes and `ls -l` style long names, as OpenSSH's sftp-server sends them
//! (numeric owner and group, dates in UTC).

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::time::{SystemTime, UNIX_EPOCH};

use russh_sftp::protocol::{File, FileAttributes};

pub(super) fn attrs_of(meta: &Metadata) -> FileAttributes {
    FileAttributes {
        size: Some(meta.len()),
        uid: Some(meta.uid()),
        user: None,
        gid: Some(meta.gid()),
        group: None,
        permissions: Some(meta.mode()),
        atime: Some(meta.atime() as u32),
        mtime: Some(meta.mtime() as u32),
    }
}

/// A directory entry with attributes and an `ls -l` line.
pub(super) fn entry(name: &str, meta: &Metadata) -> File {
    File {
        filename: name.to_owned(),
        longname: long_name(name, &attrs_of(meta), meta.nlink()),
        attrs: attrs_of(meta),
    }
}

/// A made-up regular file, for names that cannot exist on disk.
pub(super) fn fake_entry(name: &str) -> File {
    let attrs = FileAttributes {
        size: Some(0),
        uid: Some(0),
        user: None,
        gid: Some(0),
        group: None,
        permissions: Some(0o100644),
        atime: Some(now() as u32),
        mtime: Some(now() as u32),
    };
    File {
        filename: name.to_owned(),
        longname: long_name(name, &attrs, 1),
        attrs,
    }
}

/// `-rw-r--r--    1 1000     1000         1234 Jan  5 12:00 name`, OpenSSH's layout.
fn long_name(name: &str, attrs: &FileAttributes, nlink: u64) -> String {
    let mode = mode_string(attrs.permissions.unwrap_or(0));
    let uid = attrs.uid.unwrap_or(0);
    let gid = attrs.gid.unwrap_or(0);
    let size = attrs.size.unwrap_or(0);
    let date = date_string(i64::from(attrs.mtime.unwrap_or(0)), now());
    format!("{mode}  {nlink:>3} {uid:<8} {gid:<8} {size:>8} {date} {name}")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn mode_string(mode: u32) -> String {
    let kind = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        0o010000 => 'p',
        0o020000 => 'c',
        0o060000 => 'b',
        0o140000 => 's',
        _ => '-',
    };
    let mut out = String::from(kind);
    for (shift, special, set_char) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
        let bits = (mode >> shift) & 0o7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        out.push(match (bits & 1 != 0, mode & special != 0) {
            (true, true) => set_char,
            (false, true) => set_char.to_ascii_uppercase(),
            (true, false) => 'x',
            (false, false) => '-',
        });
    }
    out
}

/// `Jan  5 12:00` within six months of now, `Jan  5  2023` otherwise (like `ls`).
fn date_string(time: i64, now: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const SIX_MONTHS: i64 = 182 * 24 * 3600;
    let (year, month, day) = civil_from_days(time.div_euclid(86_400));
    let secs = time.rem_euclid(86_400);
    let month = MONTHS[(month - 1) as usize];
    if (now - SIX_MONTHS..now + SIX_MONTHS).contains(&time) {
        format!(
            "{month} {day:>2} {:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60
        )
    } else {
        format!("{month} {day:>2}  {year}")
    }
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
