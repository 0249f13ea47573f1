//! The `check-file-name` and `check-file-handle` extensions (draft-ietf-secsh-filexfer-13,
//! section 9.1.2) with SHA-256 only, the whole file as one hash: the request decoded, the
//! file hashed, the reply encoded. No protocol loop here.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use bytes::{Buf, Bytes};
use russh::keys::ssh_key::sha2::{Digest, Sha256};
use russh_sftp::protocol::StatusCode;
use russh_sftp::server::StatusReply;

pub const BY_NAME: &str = "check-file-name";
pub const BY_HANDLE: &str = "check-file-handle";

pub enum Subject {
    Name(String),
    Handle(String),
}

pub struct Request {
    pub subject: Subject,
}

fn malformed() -> StatusReply {
    StatusCode::BadMessage.with_message("malformed check-file request")
}

fn string(data: &mut Bytes) -> Result<String, StatusReply> {
    if data.remaining() < 4 {
        return Err(malformed());
    }
    let len = data.get_u32() as usize;
    if data.remaining() < len {
        return Err(malformed());
    }
    let bytes = data.split_to(len);
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed())
}

impl Request {
    /// The subject, after checking that SHA-256 of the whole file is what is asked for.
    pub fn decode(name: &str, data: &mut Bytes) -> Result<Request, StatusReply> {
        let subject = string(data)?;
        let algorithms = string(data)?;
        if data.remaining() < 20 {
            return Err(malformed());
        }
        let (start, length, block) = (data.get_u64(), data.get_u64(), data.get_u32());
        if !algorithms.split(',').any(|a| a == "sha256") || start != 0 || length != 0 || block != 0
        {
            return Err(StatusCode::OpUnsupported.with_message("only sha256 of a whole file"));
        }
        let subject = match name {
            BY_HANDLE => Subject::Handle(subject),
            _ => Subject::Name(subject),
        };
        Ok(Request { subject })
    }
}

/// The reply's data: `"check-file"`, the algorithm used, then the hash.
pub fn answer(_request: &Request, file: &File) -> io::Result<Vec<u8>> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut offset = 0;
    loop {
        // At offsets: a handle's own position is not ours to move.
        let n = file.read_at(&mut buffer, offset)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        offset += n as u64;
    }
    let mut reply = Vec::new();
    for text in ["check-file", "sha256"] {
        reply.extend_from_slice(&(text.len() as u32).to_be_bytes());
        reply.extend_from_slice(text.as_bytes());
    }
    reply.extend_from_slice(&hasher.finalize());
    Ok(reply)
}
