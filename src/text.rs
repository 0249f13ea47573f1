//! Text that came from a server: names kept losslessly as bytes inside a `String`, and one
//! function that makes any such text safe to show on a terminal.
//!
//! Names are bytes. A name that is not valid UTF-8 is carried through ferry as a `String` in
//! which every byte that is not part of valid UTF-8 stands as one character of a reserved
//! private-use block (`U+10FF00 + byte`). A valid name that happens to contain a reserved
//! character has that character's own bytes stood in for the same way, so [`name_from_bytes`]
//! is injective and [`name_to_bytes`] gives back exactly the bytes the server sent. Nothing
//! else in ferry needs to know: paths stay `String`s, and only the edges (the SFTP wire, the
//! local disk, `--json`) convert.
//!
//! [`shown`] escapes control characters (C0, DEL, C1), bidirectional overrides, backslashes and
//! stood-in bytes in a visible, unambiguous form: `\n`, `\x1b`, `\u{9b}`, `\xe9`, `\\`.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The first character of the reserved block: `RAW_BASE + byte` stands for a raw byte.
const RAW_BASE: u32 = 0x10_FF00;

/// The raw byte a character stands for, if it is one of the reserved block.
fn raw_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    (RAW_BASE..=RAW_BASE + 0xFF)
        .contains(&code)
        .then(|| (code - RAW_BASE) as u8)
}

fn push_raw(out: &mut String, byte: u8) {
    // RAW_BASE + 0..=255 lies inside plane 16, always a valid scalar value.
    out.extend(char::from_u32(RAW_BASE + u32::from(byte)));
}

/// A name as ferry carries it, from the exact bytes a server or the disk gave.
pub fn name_from_bytes(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.chars().any(|c| raw_byte(c).is_some())
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match raw_byte(c) {
                Some(_) => {
                    let mut buf = [0; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        push_raw(&mut out, b);
                    }
                }
                None => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            push_raw(&mut out, b);
        }
    }
    Cow::Owned(out)
}

/// The exact bytes a name stands for (the inverse of [`name_from_bytes`]).
pub fn name_to_bytes(name: &str) -> Cow<'_, [u8]> {
    if !name.chars().any(|c| raw_byte(c).is_some()) {
        return Cow::Borrowed(name.as_bytes());
    }
    let mut out = Vec::with_capacity(name.len());
    for c in name.chars() {
        match raw_byte(c) {
            Some(b) => out.push(b),
            None => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Cow::Owned(out)
}

/// The local path a path as ferry carries it stands for, byte for byte.
pub fn local_path(path: &str) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(&name_to_bytes(path)))
}

/// A local path (or one of its names) as ferry carries it, without losing a byte.
pub fn path_text(path: &Path) -> String {
    os_text(path.as_os_str())
}

/// [`path_text`] for one name of a directory listing.
pub fn os_text(name: &OsStr) -> String {
    name_from_bytes(name.as_bytes()).into_owned()
}

/// Whether a name's bytes are not plain UTF-8 (it holds stood-in bytes).
pub fn has_raw_bytes(name: &str) -> bool {
    name.chars().any(|c| raw_byte(c).is_some())
}

/// Whether `c` must not reach a terminal as it is.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || raw_byte(c).is_some()
}

/// `text` made safe to show on a terminal: every control character, bidirectional override,
/// backslash and raw byte escaped visibly. Plain text is returned as it is, without copying.
/// This is the one escaping of server text; use it where such text is put into a message.
pub fn shown(text: &str) -> Cow<'_, str> {
    escaped(text, true)
}

/// A whole message made safe at the last step before a terminal or a log file, when parts of
/// it may already have been [`shown`]: the same escapes except that backslashes stay as they
/// are (so what `shown` wrote is not escaped twice). A guard, not a substitute for `shown`.
pub fn guarded(text: &str) -> Cow<'_, str> {
    escaped(text, false)
}

fn escaped(text: &str, backslash: bool) -> Cow<'_, str> {
    let escape = |c: char| needs_escape(c) || (backslash && c == '\\');
    if !text.chars().any(escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !escape(c) {
            out.push(c);
            continue;
        }
        match (c, raw_byte(c)) {
            (_, Some(b)) => {
                let _ = write!(out, "\\x{b:02x}");
            }
            ('\\', _) => out.push_str("\\\\"),
            ('\n', _) => out.push_str("\\n"),
            ('\r', _) => out.push_str("\\r"),
            ('\t', _) => out.push_str("\\t"),
            (c, _) if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            (c, _) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_byte_for_byte() {
        let reserved = "\u{10FF41}".as_bytes().to_vec();
        let samples: Vec<Vec<u8>> = vec![
            b"plain.txt".to_vec(),
            b"caf\xe9.txt".to_vec(),
            b"\x80lone".to_vec(),
            b"\xff\xfe".to_vec(),
            "caf\u{e9}.txt".as_bytes().to_vec(),
            reserved.clone(),
            [b"a".as_slice(), &reserved, b"\xe9"].concat(),
            b"\x1b]0;title\x07".to_vec(),
        ];
        for bytes in &samples {
            let name = name_from_bytes(bytes);
            assert_eq!(name_to_bytes(&name).as_ref(), bytes.as_slice(), "{bytes:?}");
        }
        // Injective: distinct byte strings never share a name.
        for (i, a) in samples.iter().enumerate() {
            for b in &samples[i + 1..] {
                assert_ne!(name_from_bytes(a), name_from_bytes(b));
            }
        }
    }

    #[test]
    fn local_paths_keep_their_bytes() {
        let bytes = b"/tmp/caf\xe9/\x80\x1b";
        let path = Path::new(OsStr::from_bytes(bytes));
        let text = path_text(path);
        assert_eq!(local_path(&text).as_os_str().as_bytes(), bytes);
    }

    #[test]
    fn valid_names_are_borrowed_unchanged() {
        assert!(matches!(name_from_bytes(b"report.csv"), Cow::Borrowed(_)));
        assert!(matches!(name_to_bytes("report.csv"), Cow::Borrowed(_)));
        assert!(!has_raw_bytes("caf\u{e9}"));
        assert!(has_raw_bytes(&name_from_bytes(b"caf\xe9")));
    }

    #[test]
    fn shown_escapes_everything_a_terminal_would_act_on() {
        assert_eq!(shown("report.csv"), "report.csv");
        assert_eq!(shown("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(shown("two\nlines\r"), "two\\nlines\\r");
        assert_eq!(shown("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(shown("del\x7f"), "del\\x7f");
        assert_eq!(shown("back\\slash"), "back\\\\slash");
        assert_eq!(shown("rtl\u{202E}txt.exe"), "rtl\\u{202e}txt.exe");
        assert_eq!(shown(&name_from_bytes(b"caf\xe9.txt")), "caf\\xe9.txt");
        assert_eq!(shown("caf\u{e9}.txt"), "caf\u{e9}.txt");
        let hostile = name_from_bytes(b"\x1b\x07\r\n\x9b\x80\xe9\x7f");
        assert!(shown(&hostile).chars().all(|c| !c.is_control()));
        assert_eq!(
            guarded("already \\x1b shown\x1b"),
            "already \\x1b shown\\x1b"
        );
    }
}
