//! The system log in the store: time-ordered entries (key: microseconds since the epoch, bumped to
//! stay unique) with a retention limit. Messages must never hold secrets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{LOG, Store, StoreError, decode, encode};

/// Severity of a system log entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// One entry of the system log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Microseconds since the Unix epoch.
    pub time_us: u64,
    pub level: LogLevel,
    /// Where it came from: `profile`, `vault`, `transfer`, a job name…
    pub source: String,
    pub message: String,
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

impl Store {
    /// Appends an entry to the system log.
    pub fn log(&self, level: LogLevel, source: &str, message: &str) -> Result<(), StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
            let last = table
                .last()
                .map_err(|e| self.db_err(e))?
                .map(|(k, _)| k.value())
                .unwrap_or(0);
            let time_us = now_us().max(last + 1);
            let entry = LogEntry {
                time_us,
                level,
                source: source.to_string(),
                message: message.to_string(),
            };
            table
                .insert(time_us, encode(&entry).as_slice())
                .map_err(|e| self.db_err(e))?;
            Ok(())
        })
    }

    /// The newest `limit` entries at or above `min_level`, oldest first.
    pub fn recent_log(
        &self,
        limit: usize,
        min_level: LogLevel,
    ) -> Result<Vec<LogEntry>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
            let mut out = Vec::new();
            for entry in table.iter().map_err(|e| self.db_err(e))?.rev() {
                let (_, value) = entry.map_err(|e| self.db_err(e))?;
                let entry: LogEntry = decode(&self.path, "log entry", value.value())?;
                if entry.level >= min_level {
                    out.push(entry);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            out.reverse();
            Ok(out)
        })
    }

    /// Drops entries older than `keep`; returns how many went.
    pub fn prune_log(&self, keep: Duration) -> Result<u64, StoreError> {
        let cutoff = now_us().saturating_sub(keep.as_micros() as u64);
        self.write(|txn| {
            let mut table = txn.open_table(LOG).map_err(|e| self.db_err(e))?;
            let mut removed = 0;
            table
                .retain_in(..cutoff, |_, _| {
                    removed += 1;
                    false
                })
                .map_err(|e| self.db_err(e))?;
            Ok(removed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_ordered_filtered_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        store.log(LogLevel::Info, "a", "first").unwrap();
        store.log(LogLevel::Debug, "a", "noise").unwrap();
        store.log(LogLevel::Error, "b", "second").unwrap();
        let entries = store.recent_log(10, LogLevel::Info).unwrap();
        let messages: Vec<&str> = entries.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["first", "second"]);
        assert!(entries[0].time_us < entries[1].time_us);
        assert_eq!(store.prune_log(Duration::from_secs(3600)).unwrap(), 0);
        assert_eq!(store.prune_log(Duration::ZERO).unwrap(), 3);
        assert!(store.recent_log(10, LogLevel::Debug).unwrap().is_empty());
    }
}
