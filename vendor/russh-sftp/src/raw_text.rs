//! Strings on the SFTP wire are bytes, and file names on Unix servers need not be UTF-8.
//! (Patch vendored into ferry: upstream decoded them lossily, so such a name could be listed
//! but never addressed again.)
//!
//! A byte string that is not valid UTF-8 is carried in a `String` in which each such byte
//! stands as one character of a reserved private-use block (`U+10FF00 + byte`); a valid
//! string that itself holds characters of that block has their bytes stood in the same way,
//! so decoding is injective and encoding gives back exactly the bytes received. This is the
//! same convention as ferry's `text::name_from_bytes` / `text::name_to_bytes`.

use std::borrow::Cow;

const RAW_BASE: u32 = 0x10_FF00;

fn raw_byte(c: char) -> Option<u8> {
    let code = u32::from(c);
    (RAW_BASE..=RAW_BASE + 0xFF)
        .contains(&code)
        .then(|| (code - RAW_BASE) as u8)
}

fn push_raw(out: &mut String, byte: u8) {
    out.extend(char::from_u32(RAW_BASE + u32::from(byte)));
}

/// The `String` standing for `bytes` received from the wire.
pub fn decode(bytes: Vec<u8>) -> String {
    let bytes = match String::from_utf8(bytes) {
        Ok(text) if !text.chars().any(|c| raw_byte(c).is_some()) => return text,
        Ok(text) => text.into_bytes(),
        Err(error) => error.into_bytes(),
    };
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
    out
}

/// The bytes to send for `text` (the inverse of [`decode`]).
pub fn encode(text: &str) -> Cow<'_, [u8]> {
    if !text.chars().any(|c| raw_byte(c).is_some()) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
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

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_any_bytes() {
        for bytes in [
            b"plain".to_vec(),
            b"caf\xe9".to_vec(),
            b"\x80\x9b\x1b".to_vec(),
            "\u{10FF41}x".as_bytes().to_vec(),
        ] {
            let text = super::decode(bytes.clone());
            assert_eq!(super::encode(&text).as_ref(), bytes.as_slice());
        }
    }
}
