//! One known_hosts line as OpenSSH writes it: marker, host patterns (plain, wildcard, negated or
//! hashed) and key, and whether a host name matches. Pure text handling, no I/O.

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{PublicKey, parse_public_key_base64};
use sha1::Sha1;

/// What a line asserts about its key. `@cert-authority` lines never become entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Marker {
    Plain,
    Revoked,
}

/// A usable line: its 1-based number, marker, host patterns and key.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub line: usize,
    pub marker: Marker,
    pub hosts: HostPatterns,
    pub key: PublicKey,
}

/// What one line of a known_hosts file turned out to be.
#[derive(Debug)]
pub(super) enum Parsed {
    /// Empty or a comment.
    Blank,
    Entry(Entry),
    /// Not usable; the reason says why.
    Skipped(String),
}

/// The comma-separated host field of a line.
#[derive(Debug, Clone)]
pub(super) struct HostPatterns(Vec<Pattern>);

#[derive(Debug, Clone)]
enum Pattern {
    /// `name`, `*.example.com`, `[host]:2222`, or with `!` in front: excludes the line.
    Glob { negated: bool, pattern: String },
    /// `|1|salt|hmac`: HMAC-SHA1 of the name keyed with the salt.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
    /// A hashed pattern that does not decode; it matches nothing.
    Invalid,
}

/// The name known_hosts records for a host: `host` on port 22, `[host]:port` otherwise; lower case
/// as OpenSSH compares host names.
pub(super) fn lookup_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// Whether `host` can be written as a literal known_hosts name without changing its meaning.
pub(super) fn is_writable_host(host: &str) -> bool {
    const SPECIAL: &[char] = &[',', '*', '?', '!', '[', ']', '|', '#', '@'];
    !host.is_empty()
        && !host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || SPECIAL.contains(&c))
}

/// The line `learn` appends: `name key-type base64` and a newline.
pub(super) fn format_line(name: &str, key: &PublicKey) -> Result<String, String> {
    let blob = key.to_bytes().map_err(|err| err.to_string())?;
    let key_type = key.key_data().algorithm();
    Ok(format!(
        "{name} {} {}\n",
        key_type.as_str(),
        BASE64.encode(&blob)
    ))
}

/// Parses one line given as raw bytes (without its `\n`).
pub(super) fn parse_line_bytes(text: &[u8], line: usize) -> Parsed {
    match std::str::from_utf8(text) {
        Ok(text) => parse_line(text, line),
        Err(_) => Parsed::Skipped("the line is not valid UTF-8".to_owned()),
    }
}

/// Parses one line: `[@marker] hosts key-type base64 [comment]`.
pub(super) fn parse_line(text: &str, line: usize) -> Parsed {
    let text = text.trim_matches([' ', '\t', '\r', '\n']);
    if text.is_empty() || text.starts_with('#') {
        return Parsed::Blank;
    }
    let (marker, rest) = match text.strip_prefix('@') {
        None => (Marker::Plain, text),
        Some(_) => match split_field(text) {
            ("@revoked", rest) => (Marker::Revoked, rest),
            ("@cert-authority", _) => {
                return Parsed::Skipped("@cert-authority lines are not supported".to_owned());
            }
            (other, _) => return Parsed::Skipped(format!("unknown marker {other}")),
        },
    };
    let (hosts, rest) = split_field(rest);
    let (declared_type, rest) = split_field(rest);
    let (base64, _comment) = split_field(rest);
    if declared_type.is_empty() || base64.is_empty() {
        return Parsed::Skipped("no key after the host names".to_owned());
    }
    let key = match parse_public_key_base64(base64) {
        Ok(key) => key,
        Err(err) => {
            return Parsed::Skipped(format!("the {declared_type} key does not parse: {err}"));
        }
    };
    let actual_type = key.key_data().algorithm();
    if actual_type.as_str() != declared_type {
        return Parsed::Skipped(format!(
            "the line says {declared_type} but holds a {} key",
            actual_type.as_str()
        ));
    }
    Parsed::Entry(Entry {
        line,
        marker,
        hosts: HostPatterns::parse(hosts),
        key,
    })
}

/// Splits off the first space- or tab-separated field; the rest has its leading blanks removed.
fn split_field(text: &str) -> (&str, &str) {
    match text.split_once([' ', '\t']) {
        Some((field, rest)) => (field, rest.trim_start_matches([' ', '\t'])),
        None => (text, ""),
    }
}

impl HostPatterns {
    fn parse(field: &str) -> HostPatterns {
        HostPatterns(field.split(',').map(Pattern::parse).collect())
    }

    /// OpenSSH's rule: some pattern matches `name` and no negated one does.
    pub(super) fn matches(&self, name: &str) -> bool {
        let mut matched = false;
        for pattern in &self.0 {
            match pattern {
                Pattern::Glob { negated, pattern } => {
                    if glob_matches(pattern.as_bytes(), name.as_bytes()) {
                        if *negated {
                            return false;
                        }
                        matched = true;
                    }
                }
                Pattern::Hashed { salt, hash } => matched |= hash_matches(salt, hash, name),
                Pattern::Invalid => {}
            }
        }
        matched
    }
}

impl Pattern {
    fn parse(text: &str) -> Pattern {
        if let Some(hashed) = text.strip_prefix("|1|") {
            let decoded = hashed.split_once('|').and_then(|(salt, hash)| {
                Some((
                    BASE64.decode(salt.as_bytes()).ok()?,
                    BASE64.decode(hash.as_bytes()).ok()?,
                ))
            });
            return match decoded {
                Some((salt, hash)) => Pattern::Hashed { salt, hash },
                None => Pattern::Invalid,
            };
        }
        if text.starts_with('|') {
            return Pattern::Invalid;
        }
        let (negated, pattern) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        Pattern::Glob {
            negated,
            pattern: pattern.to_ascii_lowercase(),
        }
    }
}

fn hash_matches(salt: &[u8], hash: &[u8], name: &str) -> bool {
    match Hmac::<Sha1>::new_from_slice(salt) {
        Ok(mac) => mac.chain_update(name.as_bytes()).verify_slice(hash).is_ok(),
        Err(_) => false,
    }
}

/// `*` matches any run of bytes, `?` exactly one; everything else itself.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and how much text it has swallowed so far.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}
