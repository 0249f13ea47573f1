//! Turning russh and russh-sftp failures into classified `RemoteError`s. Pure mapping: no I/O
//! here (the free-space check that tells a full disk from a generic failure lives with the
//! session, which can ask the server).

use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::StatusCode;

use crate::remote::{Endpoint, ErrorKind, RemoteError};

/// Classifies an SFTP request failure on `path`.
pub(super) fn sftp_error(err: &SftpError, endpoint: &Endpoint, path: &str) -> RemoteError {
    session_error(err, endpoint).at(path)
}

/// Classifies an SFTP failure that concerns no file (the session's start).
pub(super) fn session_error(err: &SftpError, endpoint: &Endpoint) -> RemoteError {
    let (kind, detail) = match err {
        SftpError::Status(status) => {
            let message = status.error_message.trim();
            (status_kind(status.status_code, message), detail_of(message))
        }
        SftpError::Timeout => (
            ErrorKind::Timeout,
            "the server did not answer an SFTP request in time".to_string(),
        ),
        // The transport ended under the request: the session task dropped the reply slot,
        // the channel closed, or the socket failed.
        SftpError::IO(text) | SftpError::UnexpectedBehavior(text) => {
            (ErrorKind::ConnectionLost, transport_detail(text))
        }
        SftpError::UnexpectedPacket => (
            ErrorKind::Protocol,
            "the server sent an unexpected SFTP reply".to_string(),
        ),
        SftpError::Limited(text) => (ErrorKind::Protocol, text.clone()),
    };
    RemoteError::new(kind, endpoint, detail)
}

/// Whether `err` is the server's generic `SSH_FX_FAILURE`, which OpenSSH also sends for a
/// full disk, an existing directory and a non-empty one.
pub(super) fn is_generic_failure(err: &SftpError) -> bool {
    matches!(err, SftpError::Status(status) if status.status_code == StatusCode::Failure)
}

/// Whether `err` is the end-of-file status.
pub(super) fn is_eof(err: &SftpError) -> bool {
    matches!(err, SftpError::Status(status) if status.status_code == StatusCode::Eof)
}

/// The kind for a status code, refined by the server's message where the code is vague
/// (SFTP v3 has no codes for "exists", "not empty" or "no space").
fn status_kind(code: StatusCode, message: &str) -> ErrorKind {
    match code {
        StatusCode::NoSuchFile => ErrorKind::NotFound,
        StatusCode::PermissionDenied => ErrorKind::Permission,
        StatusCode::OpUnsupported => ErrorKind::Unsupported,
        StatusCode::NoConnection | StatusCode::ConnectionLost => ErrorKind::ConnectionLost,
        StatusCode::Failure => kind_from_message(message).unwrap_or(ErrorKind::Protocol),
        StatusCode::BadMessage | StatusCode::Eof | StatusCode::Ok => ErrorKind::Protocol,
    }
}

/// Recognises the OS error texts servers pass through in a failure status.
pub(super) fn kind_from_message(message: &str) -> Option<ErrorKind> {
    let lower = message.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    if has("no space") || has("enospc") || has("quota") || has("disk full") {
        Some(ErrorKind::NoSpace)
    } else if has("not empty") || has("enotempty") {
        Some(ErrorKind::NotEmpty)
    } else if has("file exists") || has("already exists") || has("eexist") {
        Some(ErrorKind::AlreadyExists)
    } else if has("permission denied") || has("operation not permitted") {
        Some(ErrorKind::Permission)
    } else if has("no such file") {
        Some(ErrorKind::NotFound)
    } else {
        None
    }
}

/// The server's words, unless they are only the status code's own name.
fn detail_of(message: &str) -> String {
    match message.to_ascii_lowercase().as_str() {
        "failure" => "the server reported a generic failure".to_string(),
        ""
        | "no such file"
        | "no such file or directory"
        | "permission denied"
        | "operation unsupported"
        | "success" => String::new(),
        _ => message.to_string(),
    }
}

fn transport_detail(text: &str) -> String {
    if text.contains("dropped") || text.contains("closed") || text.contains("SendError") {
        "the SFTP session ended".to_string()
    } else {
        text.to_string()
    }
}

/// Classifies a russh failure outside any file operation (handshake, channels).
pub(super) fn ssh_error(err: &russh::Error, endpoint: &Endpoint) -> RemoteError {
    use russh::Error as E;
    let (kind, detail) = match err {
        E::IO(io) => return RemoteError::from_socket(io, endpoint),
        E::Disconnect | E::HUP | E::SendError | E::RecvError => (
            ErrorKind::ConnectionLost,
            "the server closed the connection".to_string(),
        ),
        E::ConnectionTimeout | E::KeepaliveTimeout | E::InactivityTimeout => {
            (ErrorKind::Timeout, err.to_string())
        }
        E::Version => (
            ErrorKind::Protocol,
            "the server does not speak SSH-2 (bad version line)".to_string(),
        ),
        E::NoCommonAlgo { kind, .. } => (
            ErrorKind::Protocol,
            format!("no {kind:?} algorithm in common with the server"),
        ),
        E::UnknownKey | E::WrongServerSig => (
            ErrorKind::HostKey,
            "the server's host key was not accepted".to_string(),
        ),
        E::ChannelOpenFailure(reason) => (
            ErrorKind::Unsupported,
            format!("the server refused to open a channel ({reason:?})"),
        ),
        E::RequestDenied => (
            ErrorKind::Unsupported,
            "the server refused the request".to_string(),
        ),
        other => (ErrorKind::Protocol, other.to_string()),
    };
    RemoteError::new(kind, endpoint, detail)
}

#[cfg(test)]
mod tests {
    use russh_sftp::protocol::Status;

    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            profile: "backup".into(),
            address: "10.0.0.5:22".into(),
        }
    }

    fn status(code: StatusCode, message: &str) -> SftpError {
        SftpError::Status(Status {
            id: 1,
            status_code: code,
            error_message: message.into(),
            language_tag: "en".into(),
        })
    }

    #[test]
    fn status_codes_map_to_kinds_with_the_path() {
        let cases = [
            (StatusCode::NoSuchFile, "No such file", ErrorKind::NotFound),
            (
                StatusCode::PermissionDenied,
                "Permission denied",
                ErrorKind::Permission,
            ),
            (StatusCode::OpUnsupported, "", ErrorKind::Unsupported),
            (StatusCode::Failure, "Failure", ErrorKind::Protocol),
            (
                StatusCode::Failure,
                "No space left on device",
                ErrorKind::NoSpace,
            ),
            (StatusCode::Failure, "File exists", ErrorKind::AlreadyExists),
            (
                StatusCode::Failure,
                "Directory not empty",
                ErrorKind::NotEmpty,
            ),
        ];
        for (code, message, kind) in cases {
            let err = sftp_error(&status(code, message), &endpoint(), "/srv/a");
            assert_eq!(err.kind, kind, "{code:?} {message}");
            assert_eq!(err.path.as_deref(), Some("/srv/a"));
        }
    }

    #[test]
    fn generic_messages_are_not_repeated() {
        let err = sftp_error(
            &status(StatusCode::NoSuchFile, "No such file"),
            &endpoint(),
            "/x",
        );
        assert_eq!(
            err.to_string(),
            "backup (10.0.0.5:22): /x: no such file or directory"
        );
    }

    #[test]
    fn transport_failures_are_connection_lost_and_timeouts_time_out() {
        let lost = SftpError::UnexpectedBehavior("sender dropped".into());
        assert_eq!(
            sftp_error(&lost, &endpoint(), "/x").kind,
            ErrorKind::ConnectionLost
        );
        assert_eq!(
            sftp_error(&SftpError::Timeout, &endpoint(), "/x").kind,
            ErrorKind::Timeout
        );
    }
}
