//! The file log: tracing to a daily-rotated file in the state directory. The level comes from
//! `FERRY_LOG` (tracing's filter syntax) or the config. Nothing secret is ever logged: secrets
//! are `SecretString`s whose `Debug` is redacted, and no code formats them.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

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
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    if installed.is_err() {
        // A subscriber is already set (tests call into the library repeatedly); keep it.
    }
    Ok(guard)
}
