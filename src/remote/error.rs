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
    /// The server cannot do it now and said to try again later (FTP 450, 451).
    Busy,
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
    /// Whether trying again later may succeed. A protocol error (a malformed reply, a reply
    /// that makes no sense) is not: the same request gets the same answer.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Dns
                | ErrorKind::Refused
                | ErrorKind::Timeout
                | ErrorKind::ConnectionLost
                | ErrorKind::Busy
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
            ErrorKind::Busy => "the server asked to try again later",
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

    /// Classifies an I/O error of the local disk.
    pub fn from_io(err: &std::io::Error, endpoint: &Endpoint) -> RemoteError {
        RemoteError::new(
            ErrorKind::of_io(err, IoSide::Disk),
            endpoint,
            err.to_string(),
        )
    }

    /// Classifies an I/O error of the connection to a server.
    pub fn from_socket(err: &std::io::Error, endpoint: &Endpoint) -> RemoteError {
        RemoteError::new(
            ErrorKind::of_io(err, IoSide::Socket),
            endpoint,
            err.to_string(),
        )
    }
}

/// Where an I/O error happened: the same error means one thing on a socket (the network
/// failed: try again) and another on the disk (the disk failed: it will fail again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoSide {
    Socket,
    Disk,
}

impl ErrorKind {
    /// The one classification of I/O errors, for every protocol and the local disk.
    pub fn of_io(err: &std::io::Error, side: IoSide) -> ErrorKind {
        use std::io::ErrorKind as Io;
        let errno = err.raw_os_error();
        match (err.kind(), side) {
            (Io::TimedOut | Io::WouldBlock, _) => ErrorKind::Timeout,
            (Io::ConnectionRefused | Io::HostUnreachable | Io::NetworkUnreachable, _) => {
                ErrorKind::Refused
            }
            _ if matches!(errno, Some(libc::EHOSTUNREACH | libc::ENETUNREACH)) => {
                ErrorKind::Refused
            }
            (
                Io::ConnectionReset
                | Io::ConnectionAborted
                | Io::BrokenPipe
                | Io::UnexpectedEof
                | Io::NotConnected,
                _,
            ) => ErrorKind::ConnectionLost,
            // A firewall that rejects a connection shows as "permission denied".
            (Io::PermissionDenied, IoSide::Socket) => ErrorKind::Refused,
            (Io::PermissionDenied, IoSide::Disk) => ErrorKind::Permission,
            (Io::NotFound, IoSide::Disk) => ErrorKind::NotFound,
            (Io::AlreadyExists, IoSide::Disk) => ErrorKind::AlreadyExists,
            (Io::DirectoryNotEmpty, IoSide::Disk) => ErrorKind::NotEmpty,
            (Io::StorageFull | Io::QuotaExceeded, IoSide::Disk) => ErrorKind::NoSpace,
            _ if side == IoSide::Disk && errno == Some(libc::ENOSPC) => ErrorKind::NoSpace,
            // What the server sent cannot be read: it will send it again.
            (Io::InvalidData | Io::InvalidInput, IoSide::Socket) => ErrorKind::Protocol,
            (_, IoSide::Socket) => ErrorKind::ConnectionLost,
            (_, IoSide::Disk) => ErrorKind::LocalIo,
        }
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
    use std::io;

    #[test]
    fn io_errors_are_classified_by_where_they_happened() {
        let cases = [
            (
                io::ErrorKind::ConnectionReset,
                ErrorKind::ConnectionLost,
                ErrorKind::ConnectionLost,
            ),
            (
                io::ErrorKind::TimedOut,
                ErrorKind::Timeout,
                ErrorKind::Timeout,
            ),
            (
                io::ErrorKind::HostUnreachable,
                ErrorKind::Refused,
                ErrorKind::Refused,
            ),
            (
                io::ErrorKind::PermissionDenied,
                ErrorKind::Refused,
                ErrorKind::Permission,
            ),
            (
                io::ErrorKind::NotFound,
                ErrorKind::ConnectionLost,
                ErrorKind::NotFound,
            ),
            (
                io::ErrorKind::InvalidData,
                ErrorKind::Protocol,
                ErrorKind::LocalIo,
            ),
            (
                io::ErrorKind::Other,
                ErrorKind::ConnectionLost,
                ErrorKind::LocalIo,
            ),
        ];
        for (io_kind, socket, disk) in cases {
            let err = io::Error::from(io_kind);
            assert_eq!(
                ErrorKind::of_io(&err, IoSide::Socket),
                socket,
                "{io_kind:?} socket"
            );
            assert_eq!(
                ErrorKind::of_io(&err, IoSide::Disk),
                disk,
                "{io_kind:?} disk"
            );
        }
        let full = io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(ErrorKind::of_io(&full, IoSide::Disk), ErrorKind::NoSpace);
        let unreachable = io::Error::from_raw_os_error(libc::EHOSTUNREACH);
        assert_eq!(
            ErrorKind::of_io(&unreachable, IoSide::Socket),
            ErrorKind::Refused
        );
    }

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
        assert!(ErrorKind::Busy.is_transient());
        for kind in [
            ErrorKind::Auth,
            ErrorKind::Permission,
            ErrorKind::NotFound,
            ErrorKind::NoSpace,
            ErrorKind::Protocol,
            ErrorKind::Unsupported,
        ] {
            assert!(!kind.is_transient(), "{kind:?}");
        }
    }
}
