//! Small files read whole, many at once: every OPEN leaves together, then, with the handles
//! back, each file's FSTAT, the reads that cover it (twice when it is checked) and its CLOSE,
//! so a tree of small downloads costs the server two bursts per group of files instead of an
//! exchange per request of each file.

use std::sync::Arc;

use bytes::Bytes;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags};

use super::attrs::entry;
use super::errors::is_eof;
use super::pipeline::send_now;
use super::session::Connection;
use super::whole::{FILES_AT_ONCE, Reply, pieces, settle_reads};
use crate::remote::{EntryKind, ReadWhole, Result, WholeRead};

/// Reads each file whole; see [`crate::remote::Remote::read_wholes`]. A check whose reads came
/// back short is left out (None), for the caller to read again.
pub(super) async fn read_wholes(
    conn: &Arc<Connection>,
    files: &[WholeRead],
) -> Vec<Result<ReadWhole>> {
    let mut results = Vec::with_capacity(files.len());
    let at_once = FILES_AT_ONCE.min(conn.features.whole_handles).max(1);
    for group in files.chunks(at_once) {
        // Never closed, so acquiring fails only if it were: then go on unbudgeted.
        let _handles = conn.whole_handles.acquire_many(group.len() as u32).await;
        let opens: Vec<Reply<String>> = group.iter().map(|file| open(conn, file)).collect();
        let mut gathers = Vec::with_capacity(group.len());
        for (file, opened) in group.iter().zip(futures::future::join_all(opens).await) {
            gathers.push(match opened {
                Ok(handle) => Ok(Gather::send(conn, handle, file)),
                Err(err) => Err(conn.error(&err, &file.path)),
            });
        }
        for (file, gather) in group.iter().zip(gathers) {
            results.push(match gather {
                Ok(gather) => gather.settle(conn, &file.path).await,
                Err(err) => Err(err),
            });
        }
    }
    results
}

fn open(conn: &Arc<Connection>, file: &WholeRead) -> Reply<String> {
    let (sftp, path) = (conn.sftp.clone(), file.path.clone());
    send_now(async move {
        let opened = sftp
            .open(path, OpenFlags::READ, FileAttributes::default())
            .await;
        opened.map(|handle| handle.handle)
    })
}

/// The requests of one open file, sent back to back and awaiting their replies.
struct Gather {
    stat: Reply<FileAttributes>,
    reads: Vec<(u64, Reply<Vec<u8>>)>,
    checks: Option<Vec<(u64, Reply<Vec<u8>>)>>,
    closed: Reply<()>,
    /// The size expected.
    size: u64,
}

impl Gather {
    fn send(conn: &Arc<Connection>, handle: String, file: &WholeRead) -> Gather {
        let stat = {
            let (sftp, handle) = (conn.sftp.clone(), handle.clone());
            send_now(async move { sftp.fstat(handle).await.map(|attrs| attrs.attrs) })
        };
        let reads = covering(conn, &handle, file.size);
        let checks = file.check.then(|| covering(conn, &handle, file.size));
        let sftp = conn.sftp.clone();
        let closed = send_now(async move { sftp.close(handle).await.map(drop) });
        Gather {
            stat,
            reads,
            checks,
            closed,
            size: file.size,
        }
    }

    async fn settle(self, conn: &Connection, path: &str) -> Result<ReadWhole> {
        let attrs = self.stat.await.map_err(|err| conn.error(&err, path));
        let data = collect(self.reads, self.size).await;
        let check = match self.checks {
            Some(checks) => settle_reads(checks).await,
            None => None,
        };
        // A read-only handle has nothing to lose at its close.
        let _ = self.closed.await;
        let name = path.rsplit('/').next().unwrap_or(path);
        let entry = entry(name, &attrs?, None);
        let data = match data {
            Ok(data) => data.filter(|_| entry.kind == EntryKind::File),
            Err(err) => return Err(conn.error(&err, path)),
        };
        Ok(ReadWhole { entry, data, check })
    }
}

/// Reads covering `0..size` and one byte past it (a file that grew shows there).
fn covering(conn: &Arc<Connection>, handle: &str, size: u64) -> Vec<(u64, Reply<Vec<u8>>)> {
    pieces(size + 1, u64::from(conn.features.read_len))
        .map(|(offset, len)| {
            let (sftp, handle) = (conn.sftp.clone(), handle.to_string());
            let read = send_now(async move {
                match sftp.read(handle, offset, len as u32).await {
                    Ok(data) => Ok(data.data),
                    Err(err) if is_eof(&err) => Ok(Vec::new()),
                    Err(err) => Err(err),
                }
            });
            (len, read)
        })
        .collect()
}

/// The bytes the reads returned, in order; None when they are not the whole file of at most
/// `size` bytes: a read came back short before the end (the server may do that), or bytes came
/// past `size`.
async fn collect(
    reads: Vec<(u64, Reply<Vec<u8>>)>,
    size: u64,
) -> std::result::Result<Option<Bytes>, SftpError> {
    let mut data = Vec::new();
    let mut ended = false;
    let mut whole = true;
    for (asked, read) in reads {
        let piece = read.await?;
        if ended && !piece.is_empty() {
            whole = false;
        }
        ended = (piece.len() as u64) < asked;
        data.extend_from_slice(&piece);
    }
    Ok((whole && data.len() as u64 <= size).then(|| Bytes::from(data)))
}
