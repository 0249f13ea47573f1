//! File content over one data connection: `REST` + `RETR` for reading, `STOR` (or `REST` +
//! `STOR`, or `APPE`) for writing. A stream holds the FTP session's lock until it ends, and ends
//! by reading the server's final reply: only that reply says whether the transfer worked.

use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::FutureExt;
use suppaftp::FtpError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::OwnedMutexGuard;

use super::super::{Endpoint, ErrorKind, Finish, ReadStream, RemoteError, Result, WriteStream};
use super::errors::{self, Reply};
use super::link::Link;
use super::session::{Connection, Data, timed};

/// The most a read returns at once.
const CHUNK: usize = 256 * 1024;
/// How long an upload waits for a TLS server to close its side after ours is closed.
const TLS_DRAIN: Duration = Duration::from_secs(10);
/// How long a range read that stopped early waits for the server's reply before giving the
/// connection up.
const STOP_WAIT: Duration = Duration::from_secs(5);

impl Connection {
    pub async fn open_read(&mut self, path: &str, offset: u64) -> Result<Data> {
        self.usable(path)?;
        let opened = self.open_data(&format!("RETR {path}"), offset).await;
        self.check(opened, path, ErrorKind::NotFound)
    }

    /// `REST offset` and `RETR` for one range of a segmented download; a refused `REST` is
    /// `Unsupported` (the copy then goes as one stream).
    pub async fn open_range(&mut self, path: &str, offset: u64) -> Result<Data> {
        self.usable(path)?;
        match self.open_data(&format!("RETR {path}"), offset).await {
            Ok(data) => Ok(data),
            Err(err) if offset > 0 && rest_refused(&err) => {
                let detail = format!("the server cannot start a download at an offset ({err})");
                Err(RemoteError::new(ErrorKind::Unsupported, &self.endpoint, detail).at(path))
            }
            Err(err) => Err(self.fail(&err, path, ErrorKind::NotFound)),
        }
    }

    /// `STOR`, with `REST offset` first when resuming; a server that refuses REST before STOR
    /// gets `APPE`, but only when the file ends exactly at `offset`.
    pub async fn open_write(&mut self, path: &str, offset: u64) -> Result<Data> {
        self.usable(path)?;
        let err = match self.open_data(&format!("STOR {path}"), offset).await {
            Ok(data) => return Ok(data),
            Err(err) if offset > 0 && rest_refused(&err) => err,
            Err(err) => return Err(self.fail(&err, path, ErrorKind::Permission)),
        };
        tracing::debug!(endpoint = %self.endpoint, "REST before STOR refused ({err}); trying APPE");
        let size = timed(self.limit, self.ftp.size(path)).await;
        let size = self.check(size, path, ErrorKind::NotFound)? as u64;
        if size != offset {
            let detail = format!(
                "the server cannot write at an offset (REST refused) and the file holds {size} bytes, not {offset}"
            );
            return Err(RemoteError::new(ErrorKind::Unsupported, &self.endpoint, detail).at(path));
        }
        let opened = self.open_data(&format!("APPE {path}"), 0).await;
        self.check(opened, path, ErrorKind::Permission)
    }
}

fn rest_refused(err: &FtpError) -> bool {
    Reply::of(err).is_some_and(|r| matches!(r.code, 500 | 501 | 502 | 504 | 554))
}

/// What every stream keeps: the locked session, the open data connection and whom to blame.
struct Transfer {
    /// Held until the transfer's final reply is read, then released.
    link: Option<OwnedMutexGuard<Link>>,
    data: Option<Data>,
    path: String,
    endpoint: Endpoint,
    limit: Duration,
    /// What a `550` at the end means: reading, a missing file; writing, a denied one.
    ambiguous: ErrorKind,
}

impl Transfer {
    fn new(
        mut link: OwnedMutexGuard<Link>,
        data: Data,
        path: &str,
        ambiguous: ErrorKind,
    ) -> Transfer {
        let (endpoint, limit) = match link.conn.as_mut() {
            Some(conn) => (conn.endpoint.clone(), conn.limit),
            None => (Endpoint::default(), Duration::from_secs(30)),
        };
        Transfer {
            link: Some(link),
            data: Some(data),
            path: path.to_string(),
            endpoint,
            limit,
            ambiguous,
        }
    }

    /// Closes the data connection, reads the final reply and releases the session. `broke` is
    /// what went wrong on the data connection, if anything; the server's reply explains it
    /// better when there is one (a 550 or 452 after which the server hung up on the data).
    async fn end(&mut self, broke: Option<FtpError>) -> Result<()> {
        let Some(data) = self.data.take() else {
            return Ok(());
        };
        let reply = timed(self.limit, data.finish()).await;
        let outcome = match (reply, broke) {
            (Ok(()), None) => Ok(()),
            (Err(err), _) | (Ok(()), Some(err)) => Err(err),
        };
        let result = outcome.map_err(|err| self.blame(&err));
        if let Some(mut link) = self.link.take() {
            if let Some(conn) = link.conn.as_mut() {
                conn.last_used = std::time::Instant::now();
            }
            link.forget_if_broken();
        }
        result
    }

    /// Ends the transfer before the file's end (a range has what it wanted): closes the data
    /// connection and reads the reply, which says the transfer was cut short. A connection
    /// whose reply does not come is given up.
    async fn stop(&mut self) {
        let Some(data) = self.data.take() else {
            return;
        };
        let reply = timed(self.limit.min(STOP_WAIT), data.finish()).await;
        let in_step = matches!(reply, Ok(()) | Err(FtpError::UnexpectedResponse(_)));
        if let Some(mut link) = self.link.take() {
            if let Some(conn) = link.conn.as_mut() {
                conn.last_used = std::time::Instant::now();
                conn.broken |= !in_step;
            }
            link.forget_if_broken();
        }
    }

    fn blame(&mut self, err: &FtpError) -> RemoteError {
        let conn = self.link.as_mut().and_then(|link| link.conn.as_mut());
        match conn {
            Some(conn) => conn.fail(err, &self.path, self.ambiguous),
            None => errors::classify(err, &self.endpoint, self.ambiguous).at(&self.path),
        }
    }

    fn finished(&self) -> RemoteError {
        let detail = "the transfer has already ended";
        RemoteError::new(ErrorKind::Protocol, &self.endpoint, detail).at(&self.path)
    }
}

/// A download.
pub(super) struct FtpReader {
    transfer: Transfer,
    /// The first chunk, read before the stream is handed out.
    first: Option<Bytes>,
    buf: BytesMut,
    /// A read error met after some data, reported by the next read.
    held_back: Option<std::io::Error>,
    /// A range read: the bytes still wanted (the data connection closes when none are).
    left: Option<u64>,
}

impl FtpReader {
    /// Reads the first chunk at once: servers answer `150` before they open the file and report
    /// a missing one only afterwards, which then surfaces here rather than mid-transfer.
    pub async fn start(link: OwnedMutexGuard<Link>, data: Data, path: &str) -> Result<FtpReader> {
        let mut reader = FtpReader {
            transfer: Transfer::new(link, data, path, ErrorKind::NotFound),
            first: None,
            buf: BytesMut::new(),
            held_back: None,
            left: None,
        };
        reader.first = reader.read_chunk().await?;
        Ok(reader)
    }

    /// A reader of the next `wanted` bytes only.
    pub async fn start_range(
        link: OwnedMutexGuard<Link>,
        data: Data,
        path: &str,
        wanted: u64,
    ) -> Result<FtpReader> {
        let mut reader = FtpReader::start(link, data, path).await?;
        reader.left = Some(wanted);
        Ok(reader)
    }

    /// The next chunk, cut at the end of a range; the data connection is closed there.
    async fn next_in_range(&mut self, left: u64) -> Result<Option<Bytes>> {
        if left == 0 {
            self.transfer.stop().await;
            return Ok(None);
        }
        let chunk = match self.first.take() {
            Some(chunk) => Some(chunk),
            None => self.read_chunk().await?,
        };
        let Some(mut chunk) = chunk else {
            return Ok(None);
        };
        chunk.truncate(chunk.len().min(left as usize));
        let left = left - chunk.len() as u64;
        self.left = Some(left);
        if left == 0 {
            self.transfer.stop().await;
        }
        Ok(Some(chunk))
    }

    async fn read_chunk(&mut self) -> Result<Option<Bytes>> {
        let Some(data) = self.transfer.data.as_mut() else {
            return Ok(None);
        };
        self.buf.reserve(CHUNK);
        let limit = self.transfer.limit;
        let first = match self.held_back.take() {
            Some(err) => Ok(Err(err)),
            None => tokio::time::timeout(limit, read_some(data, &mut self.buf, CHUNK)).await,
        };
        let broke = match first {
            Ok(Ok(0)) => None,
            Ok(Ok(_)) => {
                // Take what else has already arrived, without waiting: fewer, fuller chunks.
                while self.buf.len() < CHUNK {
                    match read_some(data, &mut self.buf, CHUNK).now_or_never() {
                        Some(Ok(n)) if n > 0 => {}
                        // The end shows again on the next read; an error is kept for it.
                        Some(Err(err)) => {
                            self.held_back = Some(err);
                            break;
                        }
                        _ => break,
                    }
                }
                return Ok(Some(self.buf.split().freeze()));
            }
            Ok(Err(e)) => Some(errors::data_channel(e, "the download broke off".into())),
            Err(_) => Some(errors::elapsed(limit)),
        };
        self.transfer.end(broke).await?;
        Ok(None)
    }
}

/// One read into `buf`, never past `cap` bytes in it.
async fn read_some(data: &mut Data, buf: &mut BytesMut, cap: usize) -> std::io::Result<usize> {
    let room = cap.saturating_sub(buf.len()) as u64;
    (&mut *data).take(room).read_buf(buf).await
}

#[async_trait]
impl ReadStream for FtpReader {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        if let Some(left) = self.left {
            return self.next_in_range(left).await;
        }
        match self.first.take() {
            Some(chunk) => Ok(Some(chunk)),
            None => self.read_chunk().await,
        }
    }
}

/// An upload. `confirmed` counts the bytes handed to the data connection.
pub(super) struct FtpWriter {
    transfer: Transfer,
    written: u64,
    tls: bool,
    /// The first failure, repeated to later calls.
    failed: Option<RemoteError>,
}

impl FtpWriter {
    pub fn new(link: OwnedMutexGuard<Link>, data: Data, path: &str) -> FtpWriter {
        let tls = matches!(data.get_ref(), suppaftp::tokio::AsyncDataStream::Ssl(_));
        FtpWriter {
            transfer: Transfer::new(link, data, path, ErrorKind::Permission),
            written: 0,
            tls,
            failed: None,
        }
    }

    async fn fail(&mut self, broke: FtpError) -> RemoteError {
        let err = match self.transfer.end(Some(broke)).await {
            Err(err) => err,
            Ok(()) => self.transfer.finished(),
        };
        self.failed = Some(err.clone());
        err
    }
}

#[async_trait]
impl WriteStream for FtpWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let Some(data) = self.transfer.data.as_mut() else {
            return Err(self
                .failed
                .clone()
                .unwrap_or_else(|| self.transfer.finished()));
        };
        match tokio::time::timeout(self.transfer.limit, data.write_all(&chunk)).await {
            Ok(Ok(())) => {
                self.written += chunk.len() as u64;
                Ok(())
            }
            Ok(Err(e)) => Err(self
                .fail(errors::data_channel(e, "the upload broke off".into()))
                .await),
            Err(_) => Err(self.fail(errors::elapsed(self.transfer.limit)).await),
        }
    }

    fn confirmed(&self) -> u64 {
        self.written
    }

    /// FTP has no way to ask for a sync: `sync` is satisfied by the server's final reply. The
    /// modification time takes a separate command after the transfer (`Remote::set_mtime`).
    async fn finish(mut self: Box<Self>, _how: Finish) -> Result<bool> {
        if let Some(err) = self.failed.take() {
            return Err(err);
        }
        let Some(data) = self.transfer.data.as_mut() else {
            return Err(self.transfer.finished());
        };
        let limit = self.transfer.limit;
        // Close our side (TLS close_notify, then FIN), and over TLS wait for the server to close
        // its side: it may have sent session tickets we never read, and closing a socket with
        // unread data resets it, which can cost the end of the upload (a 426).
        // A failed close is no verdict: the server's reply says whether it has every byte.
        let closed = tokio::time::timeout(limit, data.shutdown()).await;
        if matches!(closed, Ok(Ok(()))) && self.tls {
            let mut sink = [0u8; 4096];
            let drain = async { while matches!(data.read(&mut sink).await, Ok(n) if n > 0) {} };
            let _ = tokio::time::timeout(TLS_DRAIN.min(limit), drain).await;
        }
        let stuck = closed.is_err().then(|| errors::elapsed(limit));
        self.transfer.end(stuck).await.map(|()| false)
    }
}
