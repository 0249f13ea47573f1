//! Remote errors, classified so the retry policy can tell a dropped connection (retry) from a bad
//! password or a missing file (do not), and worded so every message names the profile, the
//! `host:port` and the path.

use std::fmt;

/// What went wrong, in the terms a retry policy and a person care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on the port (or a firewall rejects).
    Refused,
    /// Connecting, logging in or a reply took too long.
    Timeout,
    /// Wrong credentials, or no method the server accepts.
    Auth,
    /// The SSH host key or TLS certificate is not trusted.
    HostKey,
    NotFound,
    Permission,
    NoSpace,
    /// The target exists and may not be replaced.
    AlreadyExists,
    /// A directory to remove is not empty.
    NotEmpty,
    /// The server answered something ferry cannot use.
    Protocol,
    /// The server or the network dropped the connection.
    ConnectionLost,
    /// The server does not support what was asked.
    Unsupported,
    /// A name from the server is unsafe to use as a local path.
    HostileName,
    /// The local disk failed.
    LocalIo,
    /// The operation was cancelled by the user.
    Cancelled,
    /// The request itself is wrong (a bad value, a missing field).
    Invalid,
}

impl ErrorKind {
    /// Whether trying again later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Dns
                | ErrorKind::Refused
                | ErrorKind::Timeout
                | ErrorKind::ConnectionLost
                | ErrorKind::Protocol
        )
    }

    /// The kind in a person's words (`permission denied`).
    pub fn describe(self) -> &'static str {
        match self {
            ErrorKind::Dns => "host name not found",
            ErrorKind::Refused => "connection refused",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::HostKey => "host not trusted",
            ErrorKind::NotFound => "no such file or directory",
            ErrorKind::Permission => "permission denied",
            ErrorKind::NoSpace => "no space left on the server",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::NotEmpty => "directory not empty",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::ConnectionLost => "connection lost",
            ErrorKind::Unsupported => "not supported by the server",
            ErrorKind::HostileName => "unsafe name from the server",
            ErrorKind::LocalIo => "local disk error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Invalid => "invalid request",
        }
    }
}

/// Which server an error is about: the profile name and `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Endpoint {
    pub profile: String,
    pub address: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.profile.is_empty() {
            f.write_str(&self.address)
        } else {
            write!(f, "{} ({})", self.profile, self.address)
        }
    }
}

/// A classified failure of a remote operation. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RemoteError {
    pub kind: ErrorKind,
    pub endpoint: Endpoint,
    pub path: Option<String>,
    /// The server's or the system's own words, when they add something.
    pub detail: String,
}

impl RemoteError {
    pub fn new(kind: ErrorKind, endpoint: &Endpoint, detail: impl Into<String>) -> RemoteError {
        RemoteError {
            kind,
            endpoint: endpoint.clone(),
            path: None,
            detail: detail.into(),
        }
    }

    /// The same error, about `path`.
    pub fn at(mut self, path: &str) -> RemoteError {
        self.path = Some(path.to_string());
        self
    }

    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }

    /// Classifies an I/O error from a socket or the local disk.
    pub fn from_io(err: &std::io::Error, endpoint: &Endpoint) -> RemoteError {
        use std::io::ErrorKind as Io;
        let kind = match err.kind() {
            Io::NotFound => ErrorKind::NotFound,
            Io::PermissionDenied => ErrorKind::Permission,
            Io::ConnectionRefused => ErrorKind::Refused,
            Io::TimedOut | Io::WouldBlock => ErrorKind::Timeout,
            Io::ConnectionReset
            | Io::ConnectionAborted
            | Io::BrokenPipe
            | Io::UnexpectedEof
            | Io::NotConnected => ErrorKind::ConnectionLost,
            Io::AlreadyExists => ErrorKind::AlreadyExists,
            Io::DirectoryNotEmpty => ErrorKind::NotEmpty,
            Io::StorageFull | Io::QuotaExceeded => ErrorKind::NoSpace,
            _ if err.raw_os_error() == Some(libc::ENOSPC) => ErrorKind::NoSpace,
            _ if err.raw_os_error() == Some(libc::EHOSTUNREACH)
                || err.raw_os_error() == Some(libc::ENETUNREACH) =>
            {
                ErrorKind::Refused
            }
            _ => ErrorKind::LocalIo,
        };
        RemoteError::new(kind, endpoint, err.to_string())
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self.kind.describe();
        match &self.path {
            Some(path) => write!(f, "{}: {path}: {what}", self.endpoint)?,
            None if matches!(
                self.kind,
                ErrorKind::Dns | ErrorKind::Refused | ErrorKind::Timeout
            ) =>
            {
                write!(f, "cannot connect to {}: {what}", self.endpoint)?
            }
            None => write!(f, "{}: {what}", self.endpoint)?,
        }
        let detail = self.detail.trim();
        if !detail.is_empty() && !detail.eq_ignore_ascii_case(what) {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RemoteError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            profile: "backup".into(),
            address: "10.0.0.5:22".into(),
        }
    }

    #[test]
    fn messages_name_profile_address_and_path() {
        let err = RemoteError::new(ErrorKind::Refused, &endpoint(), "");
        assert_eq!(
            err.to_string(),
            "cannot connect to backup (10.0.0.5:22): connection refused"
        );
        let err = RemoteError::new(ErrorKind::Permission, &endpoint(), "Permission denied")
            .at("/etc/shadow");
        assert_eq!(
            err.to_string(),
            "backup (10.0.0.5:22): /etc/shadow: permission denied"
        );
    }

    #[test]
    fn classification_drives_retries() {
        assert!(ErrorKind::ConnectionLost.is_transient());
        assert!(ErrorKind::Timeout.is_transient());
        for kind in [
            ErrorKind::Auth,
            ErrorKind::Permission,
            ErrorKind::NotFound,
            ErrorKind::NoSpace,
        ] {
            assert!(!kind.is_transient(), "{kind:?}");
        }
    }
}
