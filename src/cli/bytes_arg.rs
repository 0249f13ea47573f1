//! Path arguments are bytes: a file name typed (or pasted from a listing) that is not UTF-8
//! reaches ferry exactly, in the `String` stand-in form of `text`, instead of being refused.

use std::ffi::OsStr;

use clap::builder::TypedValueParser;

/// Parses an argument into ferry's lossless text form.
#[derive(Debug, Clone, Copy)]
pub struct ExactText;

impl TypedValueParser for ExactText {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        Ok(crate::text::os_text(value))
    }
}
