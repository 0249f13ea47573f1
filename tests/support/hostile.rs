//! Hostile file names as a server may hold them (terminal escapes, line breaks, C1 controls,
//! bytes that are not UTF-8), laid out on a served directory, and the checks that ferry's
//! output shows them safely and its transfers keep them byte for byte.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// File names: ESC (a title-setting OSC ended by BEL), CR, NL, a raw 0x9B (CSI in 8-bit
/// terminals), U+009B as UTF-8, a lone continuation byte and a Latin-1 byte.
pub const FILE_NAMES: [&[u8]; 7] = [
    b"esc\x1b]0;pwned\x07.txt",
    b"cr\rreturn.txt",
    b"nl\nline.txt",
    b"csi\x9b31m.txt",
    b"c1\xc2\x9b31m.txt",
    b"lone\x80.txt",
    b"caf\xe9.txt",
];

/// Directories with hostile names, each with a file inside.
pub const DIRS: [(&[u8], &[u8]); 2] = [
    (b"dir\x1b[2J", b"inner\x07\xc2\x9b.txt"),
    (b"dir\xe9", b"inner\x9b.txt"),
];

/// Whether a name is one FTP can carry (a line break would end the command).
pub fn ftp_can_carry(name: &[u8]) -> bool {
    !name.contains(&b'\r') && !name.contains(&b'\n')
}

pub fn os(name: &[u8]) -> &OsStr {
    OsStr::from_bytes(name)
}

/// Each name's own bytes as its content, so a mix-up shows.
pub fn content(name: &[u8]) -> Vec<u8> {
    [b"content of ".as_slice(), name].concat()
}

/// Whether a name is valid UTF-8 (all an FTP server built on libunftp can carry).
pub fn utf8(name: &[u8]) -> bool {
    std::str::from_utf8(name).is_ok()
}

/// Lays the hostile tree out in `dir` (created): the files and directories whose names `keep`
/// accepts. Returns the names at the top.
pub fn create_tree(dir: &Path, keep: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
    std::fs::create_dir_all(dir).expect("mkdir hostile");
    let mut top = Vec::new();
    for name in FILE_NAMES.iter().filter(|n| keep(n)) {
        std::fs::write(dir.join(os(name)), content(name)).expect("write hostile file");
        top.push(name.to_vec());
    }
    for (sub, inner) in DIRS.iter().filter(|(d, i)| keep(d) && keep(i)) {
        let sub_dir = dir.join(os(sub));
        std::fs::create_dir(&sub_dir).expect("mkdir hostile dir");
        std::fs::write(sub_dir.join(os(inner)), content(inner)).expect("write inner");
        top.push(sub.to_vec());
    }
    top.sort();
    top
}

/// Every file under `dir` by its relative path's exact bytes, with its content.
pub fn tree(dir: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                let data = std::fs::read(&path).expect("read file");
                out.insert(rel.as_os_str().as_bytes().to_vec(), data);
            }
        }
    }
    out
}

/// Fails the test if `output` holds a byte a terminal would act on: anything but valid UTF-8
/// text without control characters (line ends aside) and bidirectional overrides.
pub fn assert_terminal_safe(what: &str, output: &[u8]) {
    let text = match std::str::from_utf8(output) {
        Ok(text) => text,
        Err(err) => panic!("{what}: not UTF-8 ({err}): {output:?}"),
    };
    for c in text.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        let private = ('\u{10FF00}'..='\u{10FFFF}').contains(&c);
        assert!(
            (c == '\n' || !c.is_control()) && !bidi && !private,
            "{what}: raw {c:?} in {text:?}"
        );
    }
}

/// The exact bytes of every `name` in a `ferry ls --json` listing.
pub fn json_names(listing: &serde_json::Value) -> Vec<Vec<u8>> {
    let entries = listing.as_array().expect("a JSON array");
    entries
        .iter()
        .map(
            |entry| match entry.get("name_bytes").and_then(|b| b.as_str()) {
                Some(hex) => hex::decode(hex).expect("hex bytes"),
                None => entry["name"].as_str().expect("name").as_bytes().to_vec(),
            },
        )
        .collect()
}

/// The files every log file in `dir` holds, checked terminal-safe; returns how many lines.
pub fn assert_logs_safe(dir: &Path) -> usize {
    let mut lines = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let data = std::fs::read(entry.path()).expect("read log");
        assert_terminal_safe(&format!("log {}", entry.path().display()), &data);
        lines += data.iter().filter(|&&b| b == b'\n').count();
    }
    lines
}
