//! FTP carries names as bytes: suppaftp's commands and ferry's reading of listings and replies
//! keep them exact, in the `String` stand-in form of `text` (a server's legacy character set
//! is converted above this layer, in `remote::charset`).

use std::io;

use suppaftp::Encoding;

use crate::text::{name_from_bytes, name_to_bytes};

/// Names sent and received byte for byte.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RawNames;

impl Encoding for RawNames {
    fn decode(&self, bytes: &[u8]) -> String {
        name_from_bytes(bytes).into_owned()
    }

    fn encode(&self, text: &str) -> io::Result<Vec<u8>> {
        Ok(name_to_bytes(text).into_owned())
    }
}

/// Text a server sent (a listing line, a reply), its bytes kept.
pub(super) fn decode(bytes: &[u8]) -> String {
    name_from_bytes(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_travel_byte_for_byte() {
        let wire = b"RETR caf\xe9\x80.txt\r\n";
        let text = RawNames.decode(wire);
        assert_eq!(RawNames.encode(&text).unwrap(), wire);
    }
}
