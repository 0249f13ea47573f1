//! `ferry log`: the system log kept in the store.

use std::process::ExitCode;

use clap::Args;

use super::{Context, print_json};
use crate::store::LogLevel;
use crate::text::shown;

#[derive(Debug, Args)]
pub struct LogArgs {
    /// How many of the newest entries to show.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Only entries at or above this level: debug, info, warn, error.
    #[arg(long, default_value = "info", value_parser = parse_level)]
    level: LogLevel,
    #[arg(long)]
    json: bool,
}

fn parse_level(text: &str) -> Result<LogLevel, String> {
    serde_json::from_value(serde_json::Value::String(text.to_ascii_lowercase()))
        .map_err(|_| format!("`{text}` is not a level: use debug, info, warn or error"))
}

pub fn run(ctx: &Context, args: LogArgs) -> anyhow::Result<ExitCode> {
    let store = ctx.open_store()?;
    let entries = store.recent_log(args.limit, args.level)?;
    if args.json {
        print_json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    for entry in entries {
        let time = format_time(entry.time_us);
        let level = format!("{:?}", entry.level).to_uppercase();
        println!(
            "{time}  {level:5}  {:10}  {}",
            shown(&entry.source),
            shown(&entry.message)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `YYYY-MM-DD HH:MM:SS` in local time.
pub(super) fn format_time(time_us: u64) -> String {
    chrono::DateTime::from_timestamp_micros(time_us as i64)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| "-".to_string())
}
