//! Hashing a file through the `check-file-name` / `check-file-handle` SFTP extensions
//! (draft-ietf-secsh-filexfer-13, section 9.1.2): SHA-256 of the whole file, computed by the
//! server without an exec request. A refusal, or an answer that is not SHA-256, turns the
//! extension off for the connection and leaves hashing to the next way; only a missing file
//! or a lost connection is an error.

use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};

use super::session::{CHECK_FILE_NAME, Connection};
use crate::remote::{ErrorKind, Result};

/// The SHA-256 of `path` as the extension gives it; None when the server has no usable one.
pub(super) async fn sha256(conn: &Connection, path: &str) -> Result<Option<String>> {
    let Some(name) = conn.features.check_file.filter(|_| conn.check_file_works()) else {
        return Ok(None);
    };
    let reply = match name {
        CHECK_FILE_NAME => conn.sftp.extended(name, request(path.as_bytes())).await,
        _ => by_handle(conn, name, path).await,
    };
    let status = match reply {
        Ok(Packet::ExtendedReply(reply)) => {
            if let Some(hash) = parse(&reply.data) {
                return Ok(Some(hash));
            }
            None
        }
        Ok(Packet::Status(status)) => Some(SftpError::Status(status)),
        Ok(_) => None,
        Err(err) => Some(err),
    };
    if let Some(err) = status {
        let classified = conn.error(&err, path);
        let missing =
            matches!(&err, SftpError::Status(s) if s.status_code == StatusCode::NoSuchFile);
        if missing
            || matches!(
                classified.kind,
                ErrorKind::ConnectionLost | ErrorKind::Timeout
            )
        {
            return Err(classified);
        }
        tracing::debug!(%classified, "check-file refused");
    }
    conn.check_file_failed();
    Ok(None)
}

/// `check-file-handle` on a handle opened for the purpose.
async fn by_handle(
    conn: &Connection,
    name: &str,
    path: &str,
) -> std::result::Result<Packet, SftpError> {
    let handle = conn
        .sftp
        .open(path, OpenFlags::READ, FileAttributes::default())
        .await?
        .handle;
    let reply = conn.sftp.extended(name, request(handle.as_bytes())).await;
    let _ = conn.sftp.close(handle).await;
    reply
}

/// The request's data: the file, `sha256`, the whole file (offset 0, length 0) as one block.
fn request(subject: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(subject.len() + 34);
    for field in [subject, b"sha256".as_slice()] {
        data.extend_from_slice(&(field.len() as u32).to_be_bytes());
        data.extend_from_slice(field);
    }
    data.extend_from_slice(&0u64.to_be_bytes());
    data.extend_from_slice(&0u64.to_be_bytes());
    data.extend_from_slice(&0u32.to_be_bytes());
    data
}

/// The hash in a reply: `"check-file"` (some servers leave it out), the algorithm used, then
/// the 32 bytes of one SHA-256.
fn parse(data: &[u8]) -> Option<String> {
    let (first, rest) = string(data)?;
    let (algorithm, hash) = match first {
        b"check-file" => string(rest)?,
        _ => (first, rest),
    };
    (algorithm == b"sha256" && hash.len() == 32).then(|| hex::encode(hash))
}

fn string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let end = 4usize.checked_add(len)?;
    Some((data.get(4..end)?, data.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(text: &[u8]) -> Vec<u8> {
        let mut out = (text.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(text);
        out
    }

    #[test]
    fn replies_with_and_without_the_check_file_label() {
        let hash = [7u8; 32];
        let mut labelled = field(b"check-file");
        labelled.extend(field(b"sha256"));
        labelled.extend_from_slice(&hash);
        assert_eq!(parse(&labelled), Some(hex::encode(hash)));
        let mut bare = field(b"sha256");
        bare.extend_from_slice(&hash);
        assert_eq!(parse(&bare), Some(hex::encode(hash)));
        let mut md5 = field(b"md5");
        md5.extend_from_slice(&[1u8; 16]);
        assert_eq!(parse(&md5), None);
        assert_eq!(parse(&[0, 0, 0, 9, 1]), None, "truncated");
        let mut blocks = field(b"sha256");
        blocks.extend_from_slice(&[1u8; 64]);
        assert_eq!(parse(&blocks), None, "one hash for the whole file");
    }

    #[test]
    fn requests_name_the_whole_file() {
        let data = request(b"/a");
        assert_eq!(&data[..6], &[0, 0, 0, 2, b'/', b'a']);
        assert_eq!(
            &data[6..16],
            &[0, 0, 0, 6, b's', b'h', b'a', b'2', b'5', b'6']
        );
        assert_eq!(&data[16..], &[0u8; 20]);
    }
}
