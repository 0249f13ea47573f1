//! Pipelined download of one file: up to `depth` reads stay in flight ahead of the consumer
//! and their replies are handed out in file order. A short reply is followed by a read of the
//! rest; the end-of-file status ends the stream. Memory stays at most `depth` replies.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use russh_sftp::client::error::Error as SftpError;

use super::errors::is_eof;
use super::pipeline::{InFlight, close_in_background, send_now};
use super::session::Connection;
use crate::remote::{ErrorKind, ReadStream, RemoteError, Result};

/// The range asked for and the server's answer.
type Reply = (u64, u32, std::result::Result<Vec<u8>, SftpError>);

pub(super) struct SftpReader {
    conn: Arc<Connection>,
    handle: Option<String>,
    path: String,
    /// Offset of the next read to send.
    next_offset: u64,
    /// The size the file had when opened: reads stop there, plus one read at that offset
    /// that confirms the end (or finds the file has grown, and then reading goes on).
    size_hint: Option<u64>,
    in_flight: VecDeque<InFlight<Reply>>,
    done: bool,
    /// Where a range read stops (no read goes past it).
    end: Option<u64>,
}

impl SftpReader {
    pub fn new(
        conn: Arc<Connection>,
        handle: String,
        path: &str,
        offset: u64,
        size_hint: Option<u64>,
    ) -> SftpReader {
        let mut reader = SftpReader {
            conn,
            handle: Some(handle),
            path: path.to_string(),
            next_offset: offset,
            size_hint,
            in_flight: VecDeque::new(),
            done: false,
            end: None,
        };
        reader.fill();
        reader
    }

    /// A reader of `offset..end` only.
    pub fn range(
        conn: Arc<Connection>,
        handle: String,
        path: &str,
        offset: u64,
        end: u64,
    ) -> SftpReader {
        let mut reader = SftpReader {
            conn,
            handle: Some(handle),
            path: path.to_string(),
            next_offset: offset,
            size_hint: Some(end),
            in_flight: VecDeque::new(),
            done: false,
            end: Some(end),
        };
        reader.fill();
        reader
    }

    fn request(&self, offset: u64, len: u32) -> InFlight<Reply> {
        let sftp = self.conn.sftp.clone();
        let handle = self.handle.clone().unwrap_or_default();
        send_now(async move {
            let reply = sftp.read(handle, offset, len).await.map(|data| data.data);
            (offset, len, reply)
        })
    }

    /// Sends reads until `depth` are in flight or the known end is covered.
    fn fill(&mut self) {
        let chunk = u64::from(self.conn.features.read_len);
        while self.in_flight.len() < self.conn.features.depth {
            if self.end.is_some_and(|end| self.next_offset >= end) {
                break;
            }
            let len = match self.size_hint {
                Some(size) if self.next_offset < size => chunk.min(size - self.next_offset),
                // The read at the end offset: answered with end-of-file unless the file grew.
                Some(size) if self.next_offset == size => chunk,
                Some(_) => break,
                None => chunk,
            };
            let request = self.request(self.next_offset, len as u32);
            self.in_flight.push_back(request);
            self.next_offset += len;
        }
    }

    /// Stops reading: later replies are dropped and the handle is closed.
    fn end(&mut self) {
        self.done = true;
        self.in_flight.clear();
        if let Some(handle) = self.handle.take() {
            close_in_background(&self.conn.sftp, handle);
        }
    }

    fn protocol_error(&self, detail: String) -> RemoteError {
        RemoteError::new(ErrorKind::Protocol, &self.conn.endpoint, detail).at(&self.path)
    }
}

#[async_trait]
impl ReadStream for SftpReader {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        let conn = self.conn.clone();
        conn.guard(self.next_chunk_now()).await
    }

    /// The reads in flight are still handed out (a short one's rest too), no further ones.
    fn wind_down(&mut self) -> bool {
        let end = self.end.unwrap_or(u64::MAX).min(self.next_offset);
        self.end = Some(end);
        true
    }
}

impl SftpReader {
    async fn next_chunk_now(&mut self) -> Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        let Some(oldest) = self.in_flight.pop_front() else {
            self.end();
            return Ok(None);
        };
        let (offset, len, reply) = oldest.await;
        let data = match reply {
            Ok(data) if !data.is_empty() => data,
            // Some servers answer a read at the end with no data instead of the EOF status.
            Ok(_) => {
                self.end();
                return Ok(None);
            }
            Err(err) if is_eof(&err) => {
                self.end();
                return Ok(None);
            }
            Err(err) => {
                let err = self.conn.error(&err, &self.path);
                self.end();
                return Err(err);
            }
        };
        let got = data.len() as u64;
        if got > u64::from(len) {
            let err = self.protocol_error(format!("asked for {len} bytes, got {got}"));
            self.end();
            return Err(err);
        }
        if got < u64::from(len) {
            // A short read is not the end: ask for the rest before anything later.
            let rest = self.request(offset + got, len - got as u32);
            self.in_flight.push_front(rest);
        }
        if self.end.is_none() && self.size_hint.is_some_and(|size| offset >= size) {
            // The file grew since it was opened: read on to its real end.
            self.size_hint = None;
        }
        self.fill();
        Ok(Some(Bytes::from(data)))
    }
}

impl Drop for SftpReader {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            close_in_background(&self.conn.sftp, handle);
        }
    }
}
