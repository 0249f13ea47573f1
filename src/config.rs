//! `config.toml`: typed settings with defaults. A missing file means defaults; an unknown key or a
//! bad value is an error naming the key and the file. `config.example.toml` documents every key.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::units::{ByteSize, Rate, Span};

/// Everything `config.toml` can set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub log: LogConfig,
    pub vault: VaultConfig,
    pub connection: ConnectionConfig,
    pub transfer: TransferConfig,
    pub ui: UiConfig,
    /// Key bindings of the app: an action's name and its keys (replacing the defaults).
    pub keys: std::collections::BTreeMap<String, KeyList>,
}

/// `[ui]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Click to select and wheel to scroll (off leaves the terminal's own text selection).
    pub mouse: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig { mouse: true }
    }
}

/// One key or several, as `[keys]` writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    pub fn keys(&self) -> Vec<String> {
        match self {
            KeyList::One(key) => vec![key.clone()],
            KeyList::Many(keys) => keys.clone(),
        }
    }
}

impl Config {
    /// The `[keys]` overrides as the keymap takes them.
    pub fn key_overrides(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        self.keys
            .iter()
            .map(|(action, keys)| (action.clone(), keys.keys()))
            .collect()
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Level of the file log: error, warn, info, debug or trace (`FERRY_LOG` overrides).
    pub level: LogLevel,
    /// Days of daily log files kept in the state directory.
    pub max_files: u32,
    /// Days the system log in the store keeps its entries.
    pub retention_days: u32,
}

/// `[vault]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VaultConfig {
    /// A 32-byte key file that unlocks a key-file vault without asking.
    pub key_file: Option<PathBuf>,
    /// Argon2id memory for new passphrases (at least 8MiB; 64MiB by default).
    pub argon2_memory: ByteSize,
    /// Argon2id passes for new passphrases.
    pub argon2_passes: u32,
}

/// `[connection]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Time allowed to connect and log in, unless a profile sets its own.
    pub timeout: Span,
    /// Interval of keepalive messages on idle or long-running connections.
    pub keepalive: Span,
}

/// `[transfer]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransferConfig {
    /// Transfers running at once, over all profiles.
    pub max_concurrent: u32,
    /// Write `<name>.ferry-part` and rename when complete and verified.
    pub atomic: bool,
    /// Global limit in bytes per second (`0`: none).
    pub bandwidth_limit: Rate,
    /// Attempts per transfer for transient failures (dropped connection, timeout).
    pub retry_attempts: u32,
    /// First and largest wait between attempts (exponential, with jitter).
    pub retry_min_delay: Span,
    pub retry_max_delay: Span,
    /// Compare SHA-256 with the server where it can hash (size is always compared).
    pub verify_checksum: bool,
    /// Give copies the source's modification time.
    pub preserve_mtime: bool,
    /// Data in flight per transfer (read-ahead and unacknowledged writes).
    pub memory_per_transfer: ByteSize,
    /// Data in flight over all transfers.
    pub memory_total: ByteSize,
    /// What a transfer set to ask does with an existing destination when nobody is attached
    /// to answer: overwrite, skip, resume, newer-only or rename.
    pub if_exists: crate::transfer::model::OverwritePolicy,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            max_concurrent: 5,
            atomic: true,
            bandwidth_limit: Rate(0),
            retry_attempts: 5,
            retry_min_delay: Span(Duration::from_secs(1)),
            retry_max_delay: Span(Duration::from_secs(60)),
            verify_checksum: true,
            preserve_mtime: true,
            memory_per_transfer: ByteSize(8 << 20),
            memory_total: ByteSize(48 << 20),
            if_exists: crate::transfer::model::OverwritePolicy::Overwrite,
        }
    }
}

/// A log level as written in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: LogLevel::Info,
            max_files: 14,
            retention_days: 30,
        }
    }
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            key_file: None,
            argon2_memory: ByteSize(64 << 20),
            argon2_passes: 3,
        }
    }
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            timeout: Span(Duration::from_secs(10)),
            keepalive: Span(Duration::from_secs(30)),
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        };
        f.write_str(name)
    }
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {}: key `{key}`: {message}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("config file {}: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
}

impl Config {
    /// Reads `path`; a missing file gives the defaults unless `must_exist`.
    pub fn load(path: &Path, must_exist: bool) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                Ok(Config::default())
            }
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses config text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let deserializer = toml::Deserializer::parse(text).map_err(|err| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: one_line(&err.to_string()),
        })?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let parent = err.path().to_string();
            let inner = err.into_inner();
            let message = inner.message().to_string();
            let key = match unknown_field(&message) {
                Some(field) if parent == "." => field.to_string(),
                Some(field) if !parent.ends_with(field) => format!("{parent}.{field}"),
                _ => parent,
            };
            let message = match inner.span() {
                Some(span) => format!("{message} (line {})", line_of(text, span.start)),
                None => message,
            };
            ConfigError::Invalid {
                path: path.to_path_buf(),
                key,
                message,
            }
        })?;
        config
            .validate()
            .map_err(|(key, message)| ConfigError::Invalid {
                path: path.to_path_buf(),
                key: key.to_string(),
                message,
            })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        self.validate_values()
            .map_err(|(key, message)| (key.to_string(), message))?;
        crate::tui::keymap::Keymap::new(&self.key_overrides())?;
        Ok(())
    }

    fn validate_values(&self) -> Result<(), (&'static str, String)> {
        if self.log.max_files == 0 {
            return Err(("log.max_files", "must be at least 1".into()));
        }
        if self.log.retention_days == 0 {
            return Err(("log.retention_days", "must be at least 1".into()));
        }
        if self.vault.argon2_memory.0 < 8 << 20 || self.vault.argon2_memory.0 > 4 << 30 {
            return Err((
                "vault.argon2_memory",
                "must be between 8MiB and 4GiB".into(),
            ));
        }
        if !(1..=64).contains(&self.vault.argon2_passes) {
            return Err(("vault.argon2_passes", "must be between 1 and 64".into()));
        }
        let timeout = self.connection.timeout.0;
        if timeout < Duration::from_secs(1) || timeout > Duration::from_secs(3600) {
            return Err(("connection.timeout", "must be between 1s and 1h".into()));
        }
        if self.connection.keepalive.0 > Duration::from_secs(3600) {
            return Err((
                "connection.keepalive",
                "must be at most 1h (0 turns keepalives off)".into(),
            ));
        }
        let transfer = &self.transfer;
        if !(1..=64).contains(&transfer.max_concurrent) {
            return Err(("transfer.max_concurrent", "must be between 1 and 64".into()));
        }
        if transfer.if_exists == crate::transfer::model::OverwritePolicy::Ask {
            return Err((
                "transfer.if_exists",
                "decides when nobody can be asked: use overwrite, skip, resume, newer-only or rename".into(),
            ));
        }
        if !(1..=100).contains(&transfer.retry_attempts) {
            return Err((
                "transfer.retry_attempts",
                "must be between 1 and 100".into(),
            ));
        }
        if transfer.retry_min_delay.0 > transfer.retry_max_delay.0 {
            return Err((
                "transfer.retry_min_delay",
                "must not exceed transfer.retry_max_delay".into(),
            ));
        }
        if transfer.memory_per_transfer.0 < 1 << 20 {
            return Err((
                "transfer.memory_per_transfer",
                "must be at least 1MiB".into(),
            ));
        }
        if transfer.memory_total.0 < transfer.memory_per_transfer.0 {
            return Err((
                "transfer.memory_total",
                "must be at least transfer.memory_per_transfer".into(),
            ));
        }
        Ok(())
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('|'))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/x.toml"))
    }

    #[test]
    fn empty_text_gives_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_is_named_with_its_table() {
        let err = parse("[log]\nlevl = \"info\"\n").unwrap_err().to_string();
        assert!(err.contains("key `log.levl`"), "{err}");
        assert!(err.contains("/etc/x.toml"), "{err}");
    }

    #[test]
    fn bad_value_is_named() {
        let err = parse("[connection]\ntimeout = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("key `connection.timeout`"), "{err}");
        let err = parse("[log]\nlevel = \"loud\"\n").unwrap_err().to_string();
        assert!(err.contains("key `log.level`"), "{err}");
    }

    #[test]
    fn range_checks_name_the_key() {
        let err = parse("[vault]\nargon2_passes = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("vault.argon2_passes"), "{err}");
    }
}
