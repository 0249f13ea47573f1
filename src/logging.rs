//! The file log: tracing to a daily-rotated file in the state directory. The level comes from
//! `FERRY_LOG` (tracing's filter syntax) or the config. Nothing secret is ever logged: secrets
//! are `SecretString`s whose `Debug` is redacted, and no code formats them. Every line passes
//! through `text::guarded` on its way to the file, so server text logged anywhere (names, replies,
//! banners) cannot put a control byte into it.

use std::io::{self, Write};
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogConfig;

/// Starts file logging; keep the guard alive until exit so the last lines are flushed.
pub fn init(log_dir: &Path, config: &LogConfig) -> std::io::Result<WorkerGuard> {
    crate::paths::ensure_private_dir(log_dir)?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix("ferry")
        .filename_suffix("log")
        .max_log_files(config.max_files as usize)
        .build(log_dir)
        .map_err(std::io::Error::other)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = std::env::var("FERRY_LOG")
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("ferry={},warn", config.level)));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Escaped(writer))
        .with_ansi(false)
        .try_init();
    if installed.is_err() {
        // A subscriber is already set (tests call into the library repeatedly); keep it.
    }
    Ok(guard)
}

/// A log writer that escapes each event's text (one `write` is one formatted event).
#[derive(Clone)]
pub struct Escaped<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaped<M> {
    type Writer = Escaped<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Escaped(self.0.make_writer())
    }
}

impl<W: Write> Write for Escaped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(escaped_event(buf).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// One formatted event made safe for a log file: its own line end kept, everything else that a
/// terminal could act on (a newline inside a server's message too) escaped.
fn escaped_event(buf: &[u8]) -> String {
    let (body, end) = match buf.strip_suffix(b"\n") {
        Some(body) => (body, "\n"),
        None => (buf, ""),
    };
    // Formatted events are UTF-8; a name's stand-in characters (`text`) are shown as the bytes
    // they stand for.
    let text = String::from_utf8_lossy(body);
    format!("{}{end}", crate::text::guarded(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_the_file_escaped() {
        let name = crate::text::name_from_bytes(b"caf\xe9").into_owned();
        let event = format!("INFO ferry: name={name} \x1b]0;x\x07 two\nlines\n");
        let event = event.as_bytes();
        assert_eq!(
            escaped_event(event),
            "INFO ferry: name=caf\\xe9 \\x1b]0;x\\x07 two\\nlines\n"
        );
    }
}
