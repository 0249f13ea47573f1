//! Small files written in two round trips and renamed in a third: the open, then every write,
//! the reads that check them, the times and the close leave together, since OpenSSH's
//! sftp-server answers one handle's requests in order. The streaming path needs about nine.
//! Many files share those round trips: their opens leave together, then all the rest.

use std::sync::Arc;

use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use sha2::{Digest, Sha256};

use super::errors::is_eof;
use super::pipeline::{InFlight, send_now};
use super::session::Connection;
use super::writer::times;
use crate::remote::{Result, WholeFile, WholeWrite};

pub(super) type Reply<T> = InFlight<std::result::Result<T, SftpError>>;

/// Files of one exchange: their handles are taken from the session's budget together.
pub(super) const FILES_AT_ONCE: usize = 32;

/// Writes each file whole: every OPEN leaves at once, then, with the handles back, every
/// file's writes, read-back, times and close, so many small files cost the server two bursts
/// instead of two exchanges each. With `read_back`, a file's answer holds what the server
/// read back, or None when a read came back short and the caller must read again.
pub(super) async fn write_wholes(
    conn: &Arc<Connection>,
    files: &[WholeFile],
) -> Vec<Result<WholeWrite>> {
    let mut results = Vec::with_capacity(files.len());
    let at_once = FILES_AT_ONCE.min(conn.features.whole_handles).max(1);
    for group in files.chunks(at_once) {
        // Never closed, so acquiring fails only if it were: then go on unbudgeted.
        let _handles = conn.whole_handles.acquire_many(group.len() as u32).await;
        let opens: Vec<Reply<String>> = group.iter().map(|file| open(conn, file)).collect();
        let mut exchanges = Vec::with_capacity(group.len());
        for (file, opened) in group.iter().zip(futures::future::join_all(opens).await) {
            exchanges.push(match opened {
                Ok(handle) => Ok(Exchange::send(conn, handle, file)),
                Err(err) => Err(conn.error(&err, &file.path)),
            });
        }
        for (file, exchange) in group.iter().zip(exchanges) {
            results.push(match exchange {
                Ok(exchange) => exchange.settle(conn, &file.path).await,
                Err(err) => Err(err),
            });
        }
    }
    results
}

fn open(conn: &Arc<Connection>, file: &WholeFile) -> Reply<String> {
    let mut flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
    if file.read_back {
        flags |= OpenFlags::READ;
    }
    let (sftp, path) = (conn.sftp.clone(), file.path.clone());
    send_now(async move {
        let opened = sftp.open(path, flags, FileAttributes::default()).await;
        opened.map(|handle| handle.handle)
    })
}

/// The requests of one open file, sent back to back and awaiting their replies.
struct Exchange {
    writes: Vec<Reply<()>>,
    reads: Vec<(u64, Reply<Vec<u8>>)>,
    sync: Option<Reply<()>>,
    dated: Option<Reply<()>>,
    closed: Reply<()>,
    read_back: bool,
}

impl Exchange {
    fn send(conn: &Arc<Connection>, handle: String, file: &WholeFile) -> Exchange {
        let data = &file.data;
        let writes = pieces(data.len() as u64, conn.features.write_len as u64)
            .map(|(offset, len)| {
                let piece = data
                    .slice(offset as usize..(offset + len) as usize)
                    .to_vec();
                let (sftp, handle) = (conn.sftp.clone(), handle.clone());
                send_now(async move { sftp.write(handle, offset, piece).await.map(drop) })
            })
            .collect();
        // One byte past the end too: a longer file would show there.
        let reads = match file.read_back {
            true => pieces(data.len() as u64 + 1, u64::from(conn.features.read_len))
                .map(|(offset, len)| {
                    let (sftp, handle) = (conn.sftp.clone(), handle.clone());
                    let read = send_now(async move {
                        match sftp.read(handle, offset, len as u32).await {
                            Ok(data) => Ok(data.data),
                            Err(err) if is_eof(&err) => Ok(Vec::new()),
                            Err(err) => Err(err),
                        }
                    });
                    (len, read)
                })
                .collect(),
            false => Vec::new(),
        };
        let sync = (file.how.sync && conn.features.fsync).then(|| {
            let (sftp, handle) = (conn.sftp.clone(), handle.clone());
            send_now(async move { sftp.fsync(handle).await.map(drop) })
        });
        let dated = file.how.mtime.map(|mtime| {
            let (sftp, handle) = (conn.sftp.clone(), handle.clone());
            send_now(async move { sftp.fsetstat(handle, times(mtime)).await.map(drop) })
        });
        let sftp = conn.sftp.clone();
        let closed = send_now(async move { sftp.close(handle).await.map(drop) });
        Exchange {
            writes,
            reads,
            sync,
            dated,
            closed,
            read_back: file.read_back,
        }
    }

    async fn settle(self, conn: &Connection, path: &str) -> Result<WholeWrite> {
        let mut failure = None;
        for write in self.writes {
            if let Err(err) = write.await {
                failure.get_or_insert(err);
            }
        }
        let read_back = match failure {
            None if self.read_back => settle_reads(self.reads).await,
            _ => None,
        };
        if let Some(sync) = self.sync
            && let Err(err) = sync.await
        {
            failure.get_or_insert(err);
        }
        let dated = match self.dated {
            Some(dated) => dated.await.is_ok(),
            None => false,
        };
        if let Err(err) = self.closed.await {
            failure.get_or_insert(err);
        }
        if let Some(err) = failure {
            return Err(conn.write_error(&err, path).await);
        }
        Ok(WholeWrite { dated, read_back })
    }
}

/// The length and SHA-256 of what the reads returned; None when one came back short before
/// the end (the server may do that), so the bytes after it are unaccounted for.
pub(super) async fn settle_reads(reads: Vec<(u64, Reply<Vec<u8>>)>) -> Option<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut length = 0u64;
    let mut ended = false;
    for (asked, read) in reads {
        let data = read.await.ok()?;
        if ended && !data.is_empty() {
            return None;
        }
        ended = (data.len() as u64) < asked;
        length += data.len() as u64;
        hasher.update(&data);
    }
    Some((length, hex::encode(hasher.finalize())))
}

/// `(offset, length)` pieces of at most `size` covering `0..total`.
pub(super) fn pieces(total: u64, size: u64) -> impl Iterator<Item = (u64, u64)> {
    let size = size.max(1);
    (0..total.div_ceil(size)).map(move |i| (i * size, size.min(total - i * size)))
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn pieces_cover_the_range_without_gaps() {
        assert_eq!(pieces(0, 10).count(), 0);
        assert_eq!(pieces(10, 4).collect::<Vec<_>>(), [(0, 4), (4, 4), (8, 2)]);
        assert_eq!(pieces(8, 4).collect::<Vec<_>>(), [(0, 4), (4, 4)]);
    }
}
