//! Remote file systems behind one trait: SFTP, FTP/FTPS and the local disk.
//!
//! `remote/` knows nothing of the queue: it connects, lists, streams bytes at offsets and
//! classifies errors. Every `Remote` is usable from several tasks at once (`&self` methods):
//! SFTP multiplexes requests on one session, FTP serialises on its one control connection.

pub mod charset;
mod connect;
mod entry;
mod error;
pub mod ftp;
pub mod hostkeys;
pub mod keyfile;
pub mod local;
pub mod names;
mod recoded;
pub mod sftp;
pub mod tree;
pub mod trust;

use async_trait::async_trait;
use bytes::Bytes;

pub use connect::{ConnectOptions, Credentials, Hop, LoginStep, LoginWatch, connect, endpoint_of};
pub use entry::{Entry, EntryKind};
pub use error::{Endpoint, ErrorKind, IoSide, RemoteError};

pub type Result<T> = std::result::Result<T, RemoteError>;

/// Entries per chunk of a streamed listing.
pub const LIST_CHUNK: usize = 2000;

/// What a connected server can do beyond the basics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// `rename` replaces an existing target atomically (SFTP posix-rename, local rename).
    pub atomic_rename: bool,
    /// Writes and reads can start at an offset.
    pub resume: bool,
    /// `sha256` can hash a file on the server.
    pub sha256: bool,
    /// `sha256` answers through the `check-file` SFTP extension (not a command on the server).
    #[serde(default)]
    pub check_file: bool,
    /// `set_mtime` works.
    pub set_mtime: bool,
    /// Several ranges of one file can be read at once, each from its own offset (a segmented
    /// download).
    #[serde(default)]
    pub read_ranges: bool,
    /// Ranges of an existing file can be written at once from several sessions (a segmented
    /// upload).
    #[serde(default)]
    pub write_ranges: bool,
}

/// Facts about an established connection, for `ferry test` and the profiles view.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionInfo {
    /// The server's banner or software version line.
    pub banner: Option<String>,
    /// SSH host key: type and SHA256 fingerprint.
    pub host_key: Option<(String, String)>,
    /// FTPS: the certificate's subject and SHA-256 fingerprint.
    pub certificate: Option<(String, String)>,
    /// How the login succeeded: `publickey (~/.ssh/id_ed25519)`, `password`, `agent`…
    pub auth_method: String,
    /// TLS, cipher or other notes about the channel.
    pub security: Option<String>,
    /// The jump hosts the connection went through, first to last.
    #[serde(default)]
    pub hops: Vec<HopInfo>,
}

/// One jump host of a connection, for `ferry test`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HopInfo {
    /// The profile name, or `user@host[:port]` as given.
    pub name: String,
    pub address: String,
    /// SSH host key: type and SHA256 fingerprint.
    pub host_key: Option<(String, String)>,
    /// Time to reach, check and log in to this hop.
    pub millis: u64,
}

/// A connected file system. Paths are absolute or relative to the login directory, `/`-separated.
#[async_trait]
pub trait Remote: Send + Sync {
    /// The profile and `host:port`, for messages.
    fn endpoint(&self) -> &Endpoint;
    fn capabilities(&self) -> Capabilities;
    fn session_info(&self) -> SessionInfo;
    /// Whether this is the local disk (cheap to re-read, for hashing a resumed prefix).
    fn is_local(&self) -> bool {
        false
    }
    /// The local disk itself, for what only it can do (read a small file with its stat).
    fn as_local(&self) -> Option<&local::LocalRemote> {
        None
    }
    /// Whether the connection is known to be gone (the server or the network closed it), so
    /// a pool must not lend it again.
    fn is_closed(&self) -> bool {
        false
    }

    /// The directory a login starts in, as an absolute path.
    async fn home(&self) -> Result<String>;
    /// A directory's entries exactly as the server gives them (without `.` and `..`).
    /// Callers use [`Remote::list`], which refuses unsafe names.
    async fn read_dir(&self, path: &str) -> Result<Vec<Entry>>;
    /// One entry, following a symlink at the end of the path.
    async fn stat(&self, path: &str) -> Result<Entry>;
    /// Creates one directory; the parent must exist.
    async fn mkdir(&self, path: &str) -> Result<()>;
    async fn remove_file(&self, path: &str) -> Result<()>;
    /// Removes an empty directory.
    async fn remove_dir(&self, path: &str) -> Result<()>;
    /// Renames, replacing an existing `to` (atomically where `capabilities().atomic_rename`).
    async fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Streams a file's content from `offset`.
    async fn read_from(&self, path: &str, offset: u64) -> Result<Box<dyn ReadStream>>;
    /// Writes a file from `offset`: 0 creates or truncates, more continues an existing file.
    async fn write_at(&self, path: &str, offset: u64) -> Result<Box<dyn WriteStream>>;
    /// Streams `offset..end` of a file (a range of a segmented copy); the stream may run past
    /// `end` where the protocol cannot stop it, so the caller stops reading there. Fails as
    /// `Unsupported` where the server refuses to start at an offset.
    async fn read_range(&self, path: &str, offset: u64, _end: u64) -> Result<Box<dyn ReadStream>> {
        self.read_from(path, offset).await
    }
    /// Writes into a file from `offset`, creating it if it is not there and leaving the rest of
    /// it as it is (one range of a segmented copy). Only where [`Remote::open_channel`] or [`Remote::is_local`] says so.
    async fn write_range(&self, path: &str, _offset: u64) -> Result<Box<dyn WriteStream>> {
        Err(RemoteError::new(
            ErrorKind::Unsupported,
            self.endpoint(),
            "writing one range of a file",
        )
        .at(path))
    }
    /// The link's round trip as measured when the session opened, where known.
    fn round_trip(&self) -> Option<std::time::Duration> {
        None
    }
    /// Another session with a flow-control window of its own, for the ranges of a segmented
    /// copy: SFTP, one more channel on the same connection; FTP, one more logged-in connection
    /// (one transfer each). None where there is no such thing.
    async fn open_channel(&self) -> Result<Option<Box<dyn Remote>>> {
        Ok(None)
    }
    /// Writes a whole small file (created or truncated), dated and closed, in as few round
    /// trips as the protocol allows; with `read_back`, also reads back what the server then
    /// holds. The default takes the stream path.
    async fn write_whole(
        &self,
        path: &str,
        data: Bytes,
        how: Finish,
        read_back: bool,
    ) -> Result<WholeWrite> {
        let mut writer = self.write_at(path, 0).await?;
        writer.write(data).await?;
        let dated = writer.finish(how).await?;
        let read_back = match read_back {
            true => Some(read_back_digest(self, path).await?),
            false => None,
        };
        Ok(WholeWrite { dated, read_back })
    }
    /// Writes several small files as [`Remote::write_whole`] does one, with their round trips
    /// overlapping where the protocol multiplexes. One result per file, in order.
    async fn write_wholes(&self, files: Vec<WholeFile>) -> Vec<Result<WholeWrite>> {
        let writes = files.into_iter().map(|file| async move {
            self.write_whole(&file.path, file.data, file.how, file.read_back)
                .await
        });
        futures::future::join_all(writes).await
    }
    /// Reads several small files whole, with their round trips overlapping where the protocol
    /// multiplexes. One result per file, in order; a file that is no longer what was expected
    /// comes back without its bytes, for the caller to stream.
    async fn read_wholes(&self, files: &[WholeRead]) -> Vec<Result<ReadWhole>> {
        let reads = files.iter().map(|file| read_whole(self, file));
        futures::future::join_all(reads).await
    }
    /// Renames several files (each `(from, to)` as [`Remote::rename`]), the requests
    /// overlapping where the protocol multiplexes. One result per pair, in order.
    async fn rename_all(&self, pairs: &[(String, String)]) -> Vec<Result<()>> {
        futures::future::join_all(pairs.iter().map(|(from, to)| self.rename(from, to))).await
    }
    /// The file's SHA-256 (lowercase hex) computed by the server, or None when it cannot.
    async fn sha256(&self, path: &str) -> Result<Option<String>>;
    /// Starts hashing a file on the server while it is being written, following the bytes the
    /// writer has confirmed; None where the server cannot (then hash after writing).
    async fn sha256_while_writing(&self, _path: &str) -> Option<Box<dyn GrowingHash>> {
        None
    }
    /// Sets the modification time (Unix seconds).
    async fn set_mtime(&self, path: &str, mtime: i64) -> Result<()>;
    /// Free bytes where the server reports them.
    async fn free_space(&self, path: &str) -> Result<Option<u64>>;
    /// Ends the session politely.
    async fn close(&self);

    /// A directory's entries with unsafe names refused: each one is left out and reported in
    /// the second list (escaped for printing).
    async fn list(&self, path: &str) -> Result<(Vec<Entry>, Vec<String>)> {
        let entries = self.read_dir(path).await?;
        Ok(names::partition_safe(entries))
    }

    /// A directory's entries in chunks as they arrive (a huge directory shows its first rows
    /// at once), unsafe names refused as [`Remote::list`] does; returns the refused names.
    /// Stops early, without error, when the receiver is gone.
    async fn list_chunked(
        &self,
        path: &str,
        chunks: &tokio::sync::mpsc::Sender<Vec<Entry>>,
    ) -> Result<Vec<String>> {
        let (entries, refused) = self.list(path).await?;
        for chunk in entries.chunks(LIST_CHUNK) {
            if chunks.send(chunk.to_vec()).await.is_err() {
                break;
            }
        }
        Ok(refused)
    }

    /// Creates `path` and any missing parents.
    async fn mkdir_all(&self, path: &str) -> Result<()> {
        let mut missing = Vec::new();
        let mut current = names::normalize(path);
        loop {
            match self.stat(&current).await {
                Ok(entry) if entry.kind == EntryKind::Dir => break,
                Ok(_) => {
                    return Err(RemoteError::new(
                        ErrorKind::AlreadyExists,
                        self.endpoint(),
                        "a file is in the way of a directory",
                    )
                    .at(&current));
                }
                Err(err) if err.kind == ErrorKind::NotFound => {
                    missing.push(current.clone());
                    match names::parent(&current) {
                        Some(parent) => current = parent,
                        None => break,
                    }
                }
                Err(err) => return Err(err),
            }
        }
        for dir in missing.iter().rev() {
            match self.mkdir(dir).await {
                Ok(()) => {}
                // Another worker may have made it meanwhile.
                Err(err) if err.kind == ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

/// A file being read: chunks in order until `None` at the end.
#[async_trait]
pub trait ReadStream: Send {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>>;
    /// Asks for nothing more: the chunks already asked for still come, then the end. False
    /// where nothing is asked for ahead (the caller then stops reading at once).
    fn wind_down(&mut self) -> bool {
        false
    }
}

/// A file being written. `write` may return before the server has the bytes (pipelining);
/// errors surface from a later `write` or from `finish`, which waits for everything and closes.
#[async_trait]
pub trait WriteStream: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<()>;
    /// Bytes from the start offset that the server has confirmed, contiguous (resume point).
    fn confirmed(&self) -> u64;
    /// Waits for every write, asks the server to sync to disk if `how.sync`, and closes. Sets
    /// the modification time on the way when the protocol can do it in the same exchange;
    /// returns whether it did (otherwise the caller uses `Remote::set_mtime`).
    async fn finish(self: Box<Self>, how: Finish) -> Result<bool>;
}

/// A server-side SHA-256 of a file that is still being written. Best effort: any failure makes
/// `finish` answer None, and the caller hashes the finished file instead.
#[async_trait]
pub trait GrowingHash: Send {
    /// The first `len` bytes of the file are written and final.
    async fn advance(&mut self, len: u64);
    /// The file is complete: the digest of its bytes as the server read them.
    async fn finish(self: Box<Self>) -> Option<String>;
}

/// One small file for [`Remote::write_wholes`]: written whole under `path`.
#[derive(Clone)]
pub struct WholeFile {
    pub path: String,
    pub data: Bytes,
    pub how: Finish,
    /// Read back what the server then holds (its length and SHA-256).
    pub read_back: bool,
}

/// One small file for [`Remote::read_wholes`].
#[derive(Debug, Clone)]
pub struct WholeRead {
    pub path: String,
    /// The size it had when planned: a file that grew past it is not read whole.
    pub size: u64,
    /// Read it a second time and hash that too, to check the first read against.
    pub check: bool,
}

/// What [`Remote::read_wholes`] found for one file.
#[derive(Debug, Clone)]
pub struct ReadWhole {
    /// The file as the read saw it (size and modification time).
    pub entry: Entry,
    /// Its bytes; None when it grew past the expected size or is not a plain file.
    pub data: Option<Bytes>,
    /// The length and SHA-256 of the second read, when asked for and complete.
    pub check: Option<(u64, String)>,
}

/// [`Remote::read_wholes`] for one file, the plain way: a stat, a stream, and a second stream
/// for the check.
pub async fn read_whole<R: Remote + ?Sized>(remote: &R, file: &WholeRead) -> Result<ReadWhole> {
    let entry = remote.stat(&file.path).await?;
    if entry.kind != EntryKind::File || entry.size > file.size {
        return Ok(ReadWhole {
            entry,
            data: None,
            check: None,
        });
    }
    let mut reader = remote.read_from(&file.path, 0).await?;
    let mut data = bytes::BytesMut::new();
    while let Some(chunk) = reader.next_chunk().await? {
        data.extend_from_slice(&chunk);
        if data.len() as u64 > file.size {
            return Ok(ReadWhole {
                entry,
                data: None,
                check: None,
            });
        }
    }
    let check = match file.check {
        true => Some(read_back_digest(remote, &file.path).await?),
        false => None,
    };
    Ok(ReadWhole {
        entry,
        data: Some(data.freeze()),
        check,
    })
}

/// What [`Remote::write_whole`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholeWrite {
    /// The modification time was set in the same exchange.
    pub dated: bool,
    /// The length and SHA-256 (lowercase hex) of the file as the server served it afterwards.
    pub read_back: Option<(u64, String)>,
}

/// The length and SHA-256 of a file's bytes as `remote` serves them.
pub async fn read_back_digest<R: Remote + ?Sized>(remote: &R, path: &str) -> Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    let mut reader = remote.read_from(path, 0).await?;
    let mut hasher = Sha256::new();
    let mut length = 0;
    while let Some(chunk) = reader.next_chunk().await? {
        length += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok((length, hex::encode(hasher.finalize())))
}

/// How to end a write.
#[derive(Debug, Clone, Copy, Default)]
pub struct Finish {
    /// Make the data durable before closing (fsync).
    pub sync: bool,
    /// Give the file this modification time (Unix seconds).
    pub mtime: Option<i64>,
}
