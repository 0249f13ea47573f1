//! A server's character set for names, for servers that store names in a legacy encoding
//! (`latin1`, `cp1252`, `shift_jis`, …). Below this layer names are the server's exact bytes
//! (in `text`'s stand-in form); above it they are text. UTF-8, the default, converts nothing.

use std::borrow::Cow;

use crate::text::{name_from_bytes, name_to_bytes};

/// How a server's name bytes map to text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    /// ISO-8859-1: every byte is the code point of the same value.
    Latin1,
    /// Any other ASCII-compatible encoding encoding_rs knows.
    Other(&'static encoding_rs::Encoding),
}

impl Charset {
    /// The character set a profile names (`latin1`, `cp1252`, `utf-8`, …), or None when the
    /// name is unknown or the encoding cannot carry FTP and SFTP commands (UTF-16).
    pub fn from_label(label: &str) -> Option<Charset> {
        let label = label.trim().to_ascii_lowercase();
        match label.as_str() {
            "utf-8" | "utf8" => return Some(Charset::Utf8),
            "latin1" | "latin-1" | "iso-8859-1" | "iso8859-1" | "l1" => {
                return Some(Charset::Latin1);
            }
            _ => {}
        }
        let alias = label.strip_prefix("cp").map(|n| format!("windows-{n}"));
        let found = encoding_rs::Encoding::for_label(alias.as_deref().unwrap_or(&label).as_bytes())
            .or_else(|| encoding_rs::Encoding::for_label(label.as_bytes()))?;
        match found {
            e if e == encoding_rs::UTF_8 => Some(Charset::Utf8),
            e if !e.is_ascii_compatible() => None,
            e => Some(Charset::Other(e)),
        }
    }

    /// The name to show for this character set.
    pub fn name(&self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Latin1 => "latin1",
            Charset::Other(encoding) => encoding.name(),
        }
    }

    /// A name as the server sent it (its bytes in stand-in form) turned into text. Bytes the
    /// character set cannot decode stay as they were, so nothing is lost.
    pub fn from_server<'a>(&self, wire: &'a str) -> Cow<'a, str> {
        let bytes = name_to_bytes(wire);
        match self {
            Charset::Utf8 => Cow::Borrowed(wire),
            _ if bytes.is_ascii() => Cow::Borrowed(wire),
            Charset::Latin1 => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
            Charset::Other(encoding) => {
                match encoding.decode_without_bom_handling_and_without_replacement(&bytes) {
                    Some(text) => Cow::Owned(text.into_owned()),
                    None => Cow::Borrowed(wire),
                }
            }
        }
    }

    /// Text turned into the bytes the server stores (in stand-in form); the character that
    /// the character set cannot write when there is one.
    pub fn to_server<'a>(&self, text: &'a str) -> Result<Cow<'a, str>, char> {
        if *self == Charset::Utf8 || text.is_ascii() {
            return Ok(Cow::Borrowed(text));
        }
        let mut bytes = Vec::with_capacity(text.len());
        let mut run = String::new();
        for c in text.chars() {
            // A byte that stood for itself on the way in goes back as it was.
            match name_to_bytes(c.encode_utf8(&mut [0; 4])) {
                Cow::Owned(raw) => {
                    self.encode_into(&run, &mut bytes)?;
                    run.clear();
                    bytes.extend_from_slice(&raw);
                }
                Cow::Borrowed(_) => run.push(c),
            }
        }
        self.encode_into(&run, &mut bytes)?;
        Ok(Cow::Owned(name_from_bytes(&bytes).into_owned()))
    }

    fn encode_into(&self, text: &str, out: &mut Vec<u8>) -> Result<(), char> {
        match self {
            Charset::Utf8 => out.extend_from_slice(text.as_bytes()),
            Charset::Latin1 => {
                for c in text.chars() {
                    out.push(u8::try_from(u32::from(c)).map_err(|_| c)?);
                }
            }
            Charset::Other(encoding) => {
                let (bytes, _, unmappable) = encoding.encode(text);
                if unmappable {
                    let bad = text
                        .chars()
                        .find(|c| encoding.encode(c.encode_utf8(&mut [0; 4])).2)
                        .unwrap_or('?');
                    return Err(bad);
                }
                out.extend_from_slice(&bytes);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(Charset::from_label("UTF-8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_label("latin1"), Some(Charset::Latin1));
        assert_eq!(
            Charset::from_label("cp1252").map(|c| c.name()),
            Some("windows-1252")
        );
        assert_eq!(
            Charset::from_label("shift_jis").map(|c| c.name()),
            Some("Shift_JIS")
        );
        assert_eq!(Charset::from_label("utf-16le"), None);
        assert_eq!(Charset::from_label("klingon"), None);
    }

    #[test]
    fn names_convert_both_ways() {
        let wire = name_from_bytes(b"caf\xe9.txt").into_owned();
        let latin1 = Charset::Latin1;
        assert_eq!(latin1.from_server(&wire), "caf\u{e9}.txt");
        assert_eq!(latin1.to_server("caf\u{e9}.txt").unwrap(), wire);
        assert_eq!(latin1.to_server("\u{20ac}"), Err('\u{20ac}'));
        let cp1252 = Charset::from_label("cp1252").unwrap();
        let euro = name_from_bytes(b"\x80uro").into_owned();
        assert_eq!(cp1252.from_server(&euro), "\u{20ac}uro");
        assert_eq!(cp1252.to_server("\u{20ac}uro").unwrap(), euro);
        assert_eq!(Charset::Utf8.from_server(&wire), wire);
    }

    #[test]
    fn undecodable_bytes_survive() {
        let sjis = Charset::from_label("shift_jis").unwrap();
        let wire = name_from_bytes(b"bad\x81").into_owned();
        let text = sjis.from_server(&wire).into_owned();
        assert_eq!(sjis.to_server(&text).unwrap(), wire);
    }
}
