//! Pipelined upload of one file: bytes are gathered into requests of the server's write size,
//! up to `depth` writes are in flight, and `write` returns as soon as its bytes are queued.
//! Memory stays at most `depth` requests plus one being filled, whatever the file size.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::FutureExt;
use russh_sftp::client::error::Error as SftpError;

use super::pipeline::{InFlight, close_in_background, send_now};
use super::session::Connection;
use crate::remote::{Finish, RemoteError, Result, WriteStream};

/// The end offset of a write and the server's answer to it.
type Ack = (u64, std::result::Result<(), SftpError>);

pub(super) struct SftpWriter {
    conn: Arc<Connection>,
    handle: Option<String>,
    path: String,
    start: u64,
    /// Offset of the first byte of `filling`.
    next_offset: u64,
    /// Bytes gathered for the next request.
    filling: Vec<u8>,
    /// Writes on the wire, oldest first (OpenSSH answers in order; the oldest is awaited).
    in_flight: VecDeque<InFlight<Ack>>,
    /// Contiguous bytes from `start` the server has acknowledged.
    confirmed: u64,
    failed: Option<RemoteError>,
}

impl SftpWriter {
    pub fn new(conn: Arc<Connection>, handle: String, path: &str, start: u64) -> SftpWriter {
        let size = conn.features.write_len;
        SftpWriter {
            conn,
            handle: Some(handle),
            path: path.to_string(),
            start,
            next_offset: start,
            filling: Vec::with_capacity(size),
            in_flight: VecDeque::new(),
            confirmed: 0,
            failed: None,
        }
    }

    fn handle(&self) -> String {
        self.handle.clone().unwrap_or_default()
    }

    /// Puts the gathered bytes on the wire, first waiting while `depth` writes are unanswered.
    async fn send_filled(&mut self) -> Result<()> {
        while self.in_flight.len() >= self.conn.features.depth {
            self.wait_oldest().await?;
        }
        let size = self.conn.features.write_len;
        let data = std::mem::replace(&mut self.filling, Vec::with_capacity(size));
        let offset = self.next_offset;
        let end = offset + data.len() as u64;
        self.next_offset = end;
        let sftp = self.conn.sftp.clone();
        let handle = self.handle();
        self.in_flight.push_back(send_now(async move {
            (end, sftp.write(handle, offset, data).await.map(drop))
        }));
        self.collect_answered().await
    }

    /// Takes in acknowledgements that have already arrived, without waiting for more.
    async fn collect_answered(&mut self) -> Result<()> {
        while let Some(oldest) = self.in_flight.front_mut() {
            let Some(ack) = oldest.now_or_never() else {
                break;
            };
            self.in_flight.pop_front();
            self.settle(ack).await?;
        }
        Ok(())
    }

    async fn wait_oldest(&mut self) -> Result<()> {
        if let Some(oldest) = self.in_flight.pop_front() {
            let ack = oldest.await;
            self.settle(ack).await?;
        }
        Ok(())
    }

    async fn settle(&mut self, ack: Ack) -> Result<()> {
        match ack {
            (end, Ok(())) => {
                self.confirmed = end - self.start;
                Ok(())
            }
            (_, Err(err)) => Err(self.fail(&err).await),
        }
    }

    async fn fail(&mut self, err: &SftpError) -> RemoteError {
        let classified = self.conn.write_error(err, &self.path).await;
        self.failed = Some(classified.clone());
        classified
    }

    /// Waits for every write, then sets the time and closes the handle in one round trip; the
    /// first failure wins.
    async fn drain_and_close(&mut self, how: Finish) -> Result<bool> {
        if !self.filling.is_empty() {
            self.send_filled().await?;
        }
        while !self.in_flight.is_empty() {
            self.wait_oldest().await?;
        }
        let handle = self.handle();
        if how.sync
            && self.conn.features.fsync
            && let Err(err) = self.conn.sftp.fsync(handle.as_str()).await
        {
            return Err(self.fail(&err).await);
        }
        self.handle = None;
        // Both requests leave before either answer is awaited: the server applies them in order.
        let dated = async {
            match how.mtime {
                Some(mtime) => Some(self.conn.sftp.fsetstat(handle.as_str(), times(mtime)).await),
                None => None,
            }
        };
        let (dated, closed) = tokio::join!(dated, self.conn.sftp.close(handle.as_str()));
        if let Err(err) = closed {
            return Err(self.fail(&err).await);
        }
        // A server that refuses times still has the data: the copy stands, undated.
        Ok(matches!(dated, Some(Ok(_))))
    }
}

#[async_trait]
impl WriteStream for SftpWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let conn = self.conn.clone();
        conn.guard(self.write_now(chunk)).await
    }

    fn confirmed(&self) -> u64 {
        self.confirmed
    }

    async fn finish(mut self: Box<Self>, how: Finish) -> Result<bool> {
        if let Some(failed) = self.failed.clone() {
            return Err(failed);
        }
        let conn = self.conn.clone();
        conn.guard(self.drain_and_close(how)).await
    }
}

impl SftpWriter {
    async fn write_now(&mut self, chunk: Bytes) -> Result<()> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        let size = self.conn.features.write_len;
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let take = (size - self.filling.len()).min(rest.len());
            self.filling.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.filling.len() == size {
                self.send_filled().await?;
            }
        }
        Ok(())
    }
}

/// Access and modification time both `mtime`: the file was just written, so no earlier access
/// time is worth keeping, and asking for it would cost a round trip.
pub(super) fn times(mtime: i64) -> russh_sftp::protocol::FileAttributes {
    let seconds = u32::try_from(mtime.max(0)).unwrap_or(u32::MAX);
    russh_sftp::protocol::FileAttributes {
        atime: Some(seconds),
        mtime: Some(seconds),
        ..russh_sftp::protocol::FileAttributes::default()
    }
}

impl Drop for SftpWriter {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            close_in_background(&self.conn.sftp, handle);
        }
    }
}
