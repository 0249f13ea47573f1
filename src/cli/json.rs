//! `--json` output: exact text for scripts, safe bytes for a terminal. Strings keep every
//! character a server sent, written as JSON escapes where a terminal would act on them (C0 and
//! DEL by serde_json, C1 and bidirectional overrides here); a string holding bytes that are not
//! UTF-8 (see `text`) gets a sibling `<key>_bytes` with its exact bytes in hex.

use std::io::{self, Write};

use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use serde_json::{Map, Value};

use crate::text::{has_raw_bytes, name_to_bytes};

/// `value` as pretty JSON, lossless and safe to print.
pub fn to_string(value: &impl serde::Serialize) -> anyhow::Result<String> {
    written(value, PrettyFormatter::new())
}

/// `value` as one line of JSON (for a stream of events), lossless and safe to print.
pub fn to_line(value: &impl serde::Serialize) -> anyhow::Result<String> {
    written(value, CompactFormatter)
}

fn written(value: &impl serde::Serialize, formatter: impl Formatter) -> anyhow::Result<String> {
    let mut value = serde_json::to_value(value)?;
    add_raw_bytes(&mut value);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Escaping(formatter));
    serde::Serialize::serialize(&value, &mut ser)?;
    Ok(String::from_utf8(out)?)
}

/// Adds `<key>_bytes` (hex) next to every string that stands for non-UTF-8 bytes.
fn add_raw_bytes(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(add_raw_bytes),
        Value::Object(map) => {
            let mut extra = Map::new();
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(text) if has_raw_bytes(text) => {
                        let hex = hex::encode(name_to_bytes(text));
                        extra.insert(format!("{key}_bytes"), Value::String(hex));
                    }
                    _ => add_raw_bytes(item),
                }
            }
            map.extend(extra);
        }
        _ => {}
    }
}

/// Whether a character passes serde_json unescaped but must not reach a terminal raw.
fn must_escape(c: char) -> bool {
    let code = u32::from(c);
    (0x7F..=0x9F).contains(&code)
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || has_raw_bytes(c.encode_utf8(&mut [0; 4]))
}

fn write_escape(writer: &mut (impl Write + ?Sized), c: char) -> io::Result<()> {
    let mut units = [0u16; 2];
    for unit in c.encode_utf16(&mut units) {
        write!(writer, "\\u{unit:04x}")?;
    }
    Ok(())
}

/// A serde_json formatter with the extra escapes of [`must_escape`].
struct Escaping<F>(F);

impl<F: Formatter> Formatter for Escaping<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        text: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, c) in text.char_indices() {
            if must_escape(c) {
                w.write_all(&text.as_bytes()[start..at])?;
                write_escape(w, c)?;
                start = at + c.len_utf8();
            }
        }
        w.write_all(&text.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::name_from_bytes;

    #[test]
    fn names_stay_exact_and_terminal_safe() {
        let raw = name_from_bytes(b"caf\xe9\x1b]0;x\x07").into_owned();
        let value = serde_json::json!([{ "name": raw }, { "name": "csi\u{9b}1m" }]);
        let text = to_string(&value).unwrap();
        assert!(text.chars().all(|c| c == '\n' || !c.is_control()), "{text}");
        assert!(!text.contains('\u{10FFE9}'));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back[0]["name"], Value::String(raw.clone()));
        assert_eq!(back[0]["name_bytes"], hex::encode(b"caf\xe9\x1b]0;x\x07"));
        assert_eq!(back[1]["name"], "csi\u{9b}1m");
        assert!(back[1].get("name_bytes").is_none());
    }
}
