//! Turning suppaftp's errors and FTP reply codes into ferry's classified [`RemoteError`]s, and
//! telling which failures leave the control connection unusable. No I/O here.
//!
//! Reply codes alone are not enough: servers answer `550` for a missing file, a denied one and a
//! directory that is not empty alike, so the reply text decides where it is clear, and the caller
//! names the most likely meaning for its operation where it is not (vsftpd's "Delete operation
//! failed.").

use std::io;
use std::time::Duration;

use suppaftp::{FtpError, ReplyTooLarge};

use super::super::{Endpoint, ErrorKind, RemoteError};

/// Marks an I/O error on a data connection (opening it, or reading or writing it), as opposed to
/// the control connection: the session stays usable, and a refused EPSV port can fall back to
/// PASV.
#[derive(Debug)]
pub(super) struct DataChannel(pub String);

impl std::fmt::Display for DataChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataChannel {}

/// The numeric code and the text of a server reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    pub code: u32,
    pub text: String,
}

impl Reply {
    /// The reply carried by an error, when the server answered at all.
    pub fn of(err: &FtpError) -> Option<Reply> {
        match err {
            FtpError::UnexpectedResponse(response) => {
                Some(Reply::parse(&response.body).unwrap_or(Reply {
                    code: response.status.code(),
                    text: String::new(),
                }))
            }
            _ => None,
        }
    }

    /// Parses a raw reply body: `550 No such file`, or a multi-line `550-…` reply.
    pub fn parse(body: &[u8]) -> Option<Reply> {
        let text = super::wire::decode(body);
        let code = text.get(..3)?.parse().ok()?;
        let lines: Vec<&str> = text
            .lines()
            .map(|line| line.trim())
            .map(|line| match line.get(..4) {
                Some(head) if head.starts_with(|c: char| c.is_ascii_digit()) => line[4..].trim(),
                _ => line,
            })
            .filter(|line| !line.is_empty())
            .collect();
        Some(Reply {
            code,
            text: lines.join(" "),
        })
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// Maps a failure to a classified error; `ambiguous` is what an unclear `550`/`553` means for
/// the operation at hand.
pub(super) fn classify(err: &FtpError, endpoint: &Endpoint, ambiguous: ErrorKind) -> RemoteError {
    if let Some(reply) = Reply::of(err) {
        let kind = reply_kind(&reply, ambiguous);
        return RemoteError::new(kind, endpoint, reply.to_string());
    }
    let (kind, detail) = match err {
        FtpError::ConnectionError(io) => (io_kind(io), io_detail(io)),
        FtpError::SecureError(msg) => (ErrorKind::Protocol, format!("TLS: {msg}")),
        FtpError::BadResponse => (ErrorKind::Protocol, "malformed reply".to_string()),
        FtpError::InvalidAddress(e) => (
            ErrorKind::Protocol,
            format!("bad passive-mode address: {e}"),
        ),
        FtpError::DataConnectionAlreadyOpen => (
            ErrorKind::Protocol,
            "a data connection is already open".to_string(),
        ),
        FtpError::UnexpectedResponse(_) => (ErrorKind::Protocol, err.to_string()),
    };
    RemoteError::new(kind, endpoint, detail)
}

/// The kind of failure a server reply reports.
pub(super) fn reply_kind(reply: &Reply, ambiguous: ErrorKind) -> ErrorKind {
    match reply.code {
        // 421: the server is closing the session; 425/426: the data connection failed.
        421 | 425 | 426 => ErrorKind::ConnectionLost,
        430 | 530 | 532 => ErrorKind::Auth,
        452 | 552 => ErrorKind::NoSpace,
        550 | 553 => text_kind(&reply.text).unwrap_or(ambiguous),
        // Transient negative replies (RFC 959): the file is busy, a local error on the server.
        450 | 451 => ErrorKind::Busy,
        // vsftpd's "500 OOPS" is an internal failure of the server process, not a refusal.
        500 if reply.text.contains("OOPS") => ErrorKind::ConnectionLost,
        500 | 502 | 504 => ErrorKind::Unsupported,
        _ => ErrorKind::Protocol,
    }
}

/// What a `550` text says, when it says it unambiguously.
pub(super) fn text_kind(text: &str) -> Option<ErrorKind> {
    let text = text.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if has(&["not empty"]) {
        return Some(ErrorKind::NotEmpty);
    }
    let missing = has(&[
        "no such",
        "not found",
        "not exist",
        "n't exist",
        "not available",
        "unavailable",
        "cannot find",
        "can't find",
        "could not find",
    ]);
    let denied = has(&[
        "permission",
        "permision",
        "denied",
        "not allowed",
        "forbidden",
        "not authorized",
        "prohibited",
        "read-only",
        "access",
    ]);
    match (missing, denied) {
        (true, false) => Some(ErrorKind::NotFound),
        (false, true) => Some(ErrorKind::Permission),
        // RFC 959's stock text ("file unavailable (e.g., file not found, no access)") says both.
        (true, true) => None,
        (false, false) if has(&["exists"]) => Some(ErrorKind::AlreadyExists),
        (false, false) => None,
    }
}

/// Whether the control connection can still be used after `err`: only a complete reply read in
/// order (or a data connection that failed before its command was sent) leaves it in sync.
pub(super) fn breaks_session(err: &FtpError) -> bool {
    match err {
        FtpError::UnexpectedResponse(response) => {
            Reply::parse(&response.body).is_some_and(|r| r.code == 421)
        }
        FtpError::ConnectionError(io) => !is_data_channel_error(io),
        _ => true,
    }
}

/// An error on a data connection, as an `FtpError` that does not write the session off.
pub(super) fn data_channel(err: io::Error, what: String) -> FtpError {
    let kind = err.kind();
    FtpError::ConnectionError(io::Error::new(kind, DataChannel(format!("{what}: {err}"))))
}

pub(super) fn is_data_channel_error(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|inner| inner.is::<DataChannel>())
}

fn io_kind(err: &io::Error) -> ErrorKind {
    if err
        .get_ref()
        .is_some_and(|inner| inner.is::<ReplyTooLarge>())
    {
        return ErrorKind::Protocol;
    }
    socket_kind(err)
}

/// The kind of a socket error (the one classification, `ErrorKind::of_io`).
pub(super) fn socket_kind(err: &io::Error) -> ErrorKind {
    ErrorKind::of_io(err, crate::remote::IoSide::Socket)
}

fn io_detail(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::UnexpectedEof => "the server closed the connection".to_string(),
        _ => err.to_string(),
    }
}

/// The error a timed-out wait turns into: the session is in an unknown state afterwards.
pub(super) fn elapsed(limit: Duration) -> FtpError {
    FtpError::ConnectionError(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer from the server within {} s", limit.as_secs()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use suppaftp::Status;
    use suppaftp::types::Response;

    fn endpoint() -> Endpoint {
        Endpoint {
            profile: "web".into(),
            address: "ftp.example.com:21".into(),
        }
    }

    fn reply(body: &str) -> FtpError {
        FtpError::UnexpectedResponse(Response::new(Status::Unknown, body.as_bytes().to_vec()))
    }

    fn kind(body: &str, ambiguous: ErrorKind) -> ErrorKind {
        classify(&reply(body), &endpoint(), ambiguous).kind
    }

    #[test]
    fn replies_are_classified_by_code_and_text() {
        use ErrorKind::*;
        assert_eq!(kind("530 Login incorrect.\r\n", NotFound), Auth);
        assert_eq!(kind("550 Permission denied\r\n", NotFound), Permission);
        assert_eq!(kind("550 Permision denied\r\n", NotFound), Permission);
        assert_eq!(
            kind("550 No such file or directory\r\n", Permission),
            NotFound
        );
        assert_eq!(
            kind(
                "550 storage error: 550 Permanent file not available\r\n",
                Permission
            ),
            NotFound
        );
        assert_eq!(kind("550 Directory not empty\r\n", NotFound), NotEmpty);
        assert_eq!(kind("550 Delete operation failed.\r\n", NotFound), NotFound);
        assert_eq!(
            kind("553 Could not create file.\r\n", Permission),
            Permission
        );
        assert_eq!(
            kind("452 Insufficient storage space\r\n", Protocol),
            NoSpace
        );
        assert_eq!(
            kind("552 Exceeded storage allocation\r\n", Protocol),
            NoSpace
        );
        assert_eq!(kind("426 Connection closed\r\n", Protocol), ConnectionLost);
        assert_eq!(
            kind("425 Can't open data connection\r\n", Protocol),
            ConnectionLost
        );
        assert_eq!(
            kind("502 Command not implemented\r\n", Protocol),
            Unsupported
        );
        let both =
            "550 Requested action not taken. File unavailable (e.g., file not found, no access).";
        assert_eq!(kind(both, Permission), Permission);
    }

    #[test]
    fn messages_keep_the_servers_words() {
        let err = classify(
            &reply("550-Could not open\r\n550 Permission denied\r\n"),
            &endpoint(),
            ErrorKind::NotFound,
        )
        .at("/etc/shadow");
        assert_eq!(
            err.to_string(),
            "web (ftp.example.com:21): /etc/shadow: permission denied (550 Could not open Permission denied)"
        );
    }

    #[test]
    fn only_clean_replies_keep_the_session() {
        assert!(!breaks_session(&reply("550 nope\r\n")));
        assert!(breaks_session(&reply("421 Timeout.\r\n")));
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "eof");
        assert!(breaks_session(&FtpError::ConnectionError(eof)));
        let data = io::Error::new(
            io::ErrorKind::ConnectionRefused,
            DataChannel("refused".into()),
        );
        assert!(!breaks_session(&FtpError::ConnectionError(data)));
        assert!(breaks_session(&elapsed(Duration::from_secs(3))));
        assert_eq!(
            classify(
                &elapsed(Duration::from_secs(3)),
                &endpoint(),
                ErrorKind::NotFound
            )
            .kind,
            ErrorKind::Timeout
        );
    }
}
