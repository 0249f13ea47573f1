//! SSH host-key trust: known_hosts lookup (OpenSSH and ferry's own), learning and fingerprints.
//!
//! Owns reading the user's OpenSSH known_hosts files and ferry's own one, deciding what a presented
//! host key means the way OpenSSH's `check_host_key` does ([`HostKeyVerdict`]), and the only writes
//! ferry makes for host keys: appending to and removing from its own file. It never writes to the
//! user's files, never prompts, prints or touches the network; the caller asks and explains.

mod entry;
mod own_file;
#[cfg(test)]
mod tests;

use std::io;
use std::path::{Path, PathBuf};

use russh::keys::{Algorithm, HashAlg, PublicKey};

use entry::{Entry, Marker, Parsed};

/// The SHA-256 fingerprint as `ssh-keygen -l` prints it: `SHA256:` and unpadded base64.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The key type as known_hosts names it, e.g. `ssh-ed25519` or `ecdsa-sha2-nistp256`.
pub fn key_type(key: &PublicKey) -> String {
    key.key_data().algorithm().as_str().to_owned()
}

/// `~/.ssh/known_hosts` and `~/.ssh/known_hosts2`, as OpenSSH reads them; none without `$HOME`.
pub fn default_user_files() -> Vec<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => {
            let ssh = PathBuf::from(home).join(".ssh");
            vec![ssh.join("known_hosts"), ssh.join("known_hosts2")]
        }
        _ => Vec::new(),
    }
}

/// What the known_hosts files say about the key a server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyVerdict {
    /// This exact key is recorded for the host (the first such line).
    Known { file: PathBuf, line: usize },
    /// The host is not known with this key; `other_types` are the key types recorded for it.
    Unknown { other_types: Vec<String> },
    /// A different key of the same type is recorded for the host: possibly an attack.
    Changed {
        recorded: Recorded,
        presented_fingerprint: String,
    },
    /// The key is marked `@revoked` for this host and must never be accepted.
    Revoked { file: PathBuf, line: usize },
}

/// A recorded host key that differs from the presented one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub file: PathBuf,
    pub line: usize,
    pub key_type: String,
    pub fingerprint: String,
}

/// A known_hosts line that was not used, and why (a bad key, `@cert-authority`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    pub file: PathBuf,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    #[error("cannot read known_hosts file {}: {}", path.display(), io_cause(source))]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write known_hosts file {}: {}", path.display(), io_cause(source))]
    Write { path: PathBuf, source: io::Error },
    #[error(
        "cannot record a host key for `{host}`: a host name cannot be empty or hold spaces, \
         control characters or any of , * ? ! [ ] | # @"
    )]
    InvalidHost { host: String },
    #[error("cannot record the {key_type} key of {host}: {detail}")]
    Encode {
        host: String,
        key_type: String,
        detail: String,
    },
    #[error(
        "refusing to record the {key_type} key of {host}: it is revoked in {}:{line}",
        file.display()
    )]
    Revoked {
        host: String,
        key_type: String,
        file: PathBuf,
        line: usize,
    },
}

/// `Permission denied (os error 13)` becomes `permission denied`.
fn io_cause(err: &io::Error) -> String {
    let text = err.to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => format!("{:?}", err.kind()),
    }
}

/// One known_hosts file as read: its usable entries and the lines that were passed over.
#[derive(Debug)]
struct HostsFile {
    path: PathBuf,
    entries: Vec<Entry>,
    skipped: Vec<SkippedLine>,
}

impl HostsFile {
    /// Reads and parses `path`; a missing file is an empty one.
    fn read(path: PathBuf) -> Result<HostsFile, HostKeyError> {
        let content = match std::fs::read(&path) {
            Ok(content) => content,
            Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(HostKeyError::Read { path, source }),
        };
        let mut file = HostsFile {
            path,
            entries: Vec::new(),
            skipped: Vec::new(),
        };
        for (index, text) in content.split(|byte| *byte == b'\n').enumerate() {
            let line = index + 1;
            match entry::parse_line_bytes(text, line) {
                Parsed::Blank => {}
                Parsed::Entry(entry) => file.entries.push(entry),
                Parsed::Skipped(reason) => file.skipped.push(SkippedLine {
                    file: file.path.clone(),
                    line,
                    reason,
                }),
            }
        }
        Ok(file)
    }
}

/// The host keys ferry trusts: the user's OpenSSH files first, then ferry's own file.
#[derive(Debug)]
pub struct KnownHosts {
    user: Vec<HostsFile>,
    own: HostsFile,
}

impl KnownHosts {
    /// Reads every file; missing files are fine, unreadable ones are an error naming the file.
    pub fn load(own_file: PathBuf, user_files: Vec<PathBuf>) -> Result<KnownHosts, HostKeyError> {
        let user = user_files
            .into_iter()
            .map(HostsFile::read)
            .collect::<Result<Vec<_>, _>>()?;
        let own = HostsFile::read(own_file)?;
        Ok(KnownHosts { user, own })
    }

    /// ferry's own known_hosts file, the only one it writes.
    pub fn own_file(&self) -> &Path {
        &self.own.path
    }

    /// Lines that were not used: keys that do not parse, `@cert-authority` lines, unknown markers.
    pub fn skipped_lines(&self) -> impl Iterator<Item = &SkippedLine> {
        self.files().flat_map(|file| file.skipped.iter())
    }

    /// Judges `key` presented by `host:port`, following OpenSSH: a revoked key is refused whatever
    /// else is recorded; an exact match anywhere is known; otherwise a different key of the same
    /// type means the key changed; otherwise the host is unknown with this key.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyVerdict {
        let name = entry::lookup_name(host, port);
        let algorithm = key.key_data().algorithm();
        let mut known = None;
        let mut changed = None;
        let mut other_types: Vec<String> = Vec::new();
        for (path, entry) in self.matching(&name) {
            let same_key = entry.key.key_data() == key.key_data();
            match entry.marker {
                Marker::Revoked if same_key => {
                    return HostKeyVerdict::Revoked {
                        file: path.to_path_buf(),
                        line: entry.line,
                    };
                }
                Marker::Revoked => {}
                Marker::Plain if same_key => {
                    known.get_or_insert((path, entry.line));
                }
                Marker::Plain if entry.key.key_data().algorithm() == algorithm => {
                    changed.get_or_insert((path, entry));
                }
                Marker::Plain => {
                    let other = key_type(&entry.key);
                    if !other_types.contains(&other) {
                        other_types.push(other);
                    }
                }
            }
        }
        if let Some((path, line)) = known {
            return HostKeyVerdict::Known {
                file: path.to_path_buf(),
                line,
            };
        }
        match changed {
            Some((path, entry)) => HostKeyVerdict::Changed {
                recorded: Recorded {
                    file: path.to_path_buf(),
                    line: entry.line,
                    key_type: key_type(&entry.key),
                    fingerprint: fingerprint(&entry.key),
                },
                presented_fingerprint: fingerprint(key),
            },
            None => HostKeyVerdict::Unknown { other_types },
        }
    }

    /// Host-key algorithms to prefer when connecting to `host:port`: the types of the keys
    /// recorded for it, in file order, without repeats. An RSA key yields `rsa-sha2-512` and
    /// `rsa-sha2-256` (never SHA-1 `ssh-rsa`), as OpenSSH's defaults do.
    pub fn known_algorithms(&self, host: &str, port: u16) -> Vec<Algorithm> {
        let name = entry::lookup_name(host, port);
        let mut algorithms = Vec::new();
        for (_, entry) in self.matching(&name) {
            if entry.marker != Marker::Plain {
                continue;
            }
            for algorithm in signature_algorithms(entry.key.key_data().algorithm()) {
                if !algorithms.contains(&algorithm) {
                    algorithms.push(algorithm);
                }
            }
        }
        algorithms
    }

    /// Records `key` for `host:port` by appending one line to ferry's own file (created 0600 in a
    /// 0700 directory when missing). Recording a key that is already in the own file does nothing;
    /// a revoked key is refused.
    pub fn learn(&mut self, host: &str, port: u16, key: &PublicKey) -> Result<(), HostKeyError> {
        if !entry::is_writable_host(host) {
            return Err(HostKeyError::InvalidHost {
                host: host.to_owned(),
            });
        }
        if let HostKeyVerdict::Revoked { file, line } = self.check(host, port, key) {
            return Err(HostKeyError::Revoked {
                host: host.to_owned(),
                key_type: key_type(key),
                file,
                line,
            });
        }
        let name = entry::lookup_name(host, port);
        let already_own = self.own.entries.iter().any(|entry| {
            entry.marker == Marker::Plain
                && entry.hosts.matches(&name)
                && entry.key.key_data() == key.key_data()
        });
        if already_own {
            return Ok(());
        }
        let text = entry::format_line(&name, key).map_err(|detail| HostKeyError::Encode {
            host: name.clone(),
            key_type: key_type(key),
            detail,
        })?;
        let line = own_file::append_line(&self.own.path, &text)
            .map_err(|source| self.write_error(source))?;
        match entry::parse_line(&text, line) {
            Parsed::Entry(entry) => self.own.entries.push(entry),
            // Not reached: format_line writes what parse_line reads. Reread to stay truthful.
            Parsed::Blank | Parsed::Skipped(_) => {
                self.own = HostsFile::read(self.own.path.clone())?
            }
        }
        Ok(())
    }

    /// Removes every line for `host:port` from ferry's own file (never the user's files) and
    /// returns how many were removed. Like `ssh-keygen -R`, `@revoked` lines stay.
    pub fn forget(&mut self, host: &str, port: u16) -> Result<usize, HostKeyError> {
        let name = entry::lookup_name(host, port);
        let is_for_host = |text: &[u8]| {
            matches!(
                entry::parse_line_bytes(text, 0),
                Parsed::Entry(entry) if entry.marker == Marker::Plain && entry.hosts.matches(&name)
            )
        };
        let removed = own_file::remove_lines(&self.own.path, is_for_host)
            .map_err(|source| self.write_error(source))?;
        if removed > 0 {
            self.own = HostsFile::read(self.own.path.clone())?;
        }
        Ok(removed)
    }

    fn write_error(&self, source: io::Error) -> HostKeyError {
        HostKeyError::Write {
            path: self.own.path.clone(),
            source,
        }
    }

    fn files(&self) -> impl Iterator<Item = &HostsFile> {
        self.user.iter().chain(std::iter::once(&self.own))
    }

    /// Entries whose host patterns match `name`, in search order, with their file.
    fn matching<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (&'a Path, &'a Entry)> {
        self.files().flat_map(move |file| {
            file.entries
                .iter()
                .filter(move |entry| entry.hosts.matches(name))
                .map(move |entry| (file.path.as_path(), entry))
        })
    }
}

/// The signature algorithms a host key of type `algorithm` can be negotiated as.
fn signature_algorithms(algorithm: Algorithm) -> Vec<Algorithm> {
    match algorithm {
        Algorithm::Rsa { .. } => vec![
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
        ],
        other => vec![other],
    }
}
