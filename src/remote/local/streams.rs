//! The local disk's streams: reading ahead on a blocking thread (so the disk and the network
//! work at the same time) and writing behind on another, each through a short queue that
//! bounds the memory a transfer holds.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

use super::system_time;
use crate::remote::{Endpoint, Finish, ReadStream, RemoteError, Result, WriteStream};

/// The unit of reads and writes.
pub(super) const READ_BLOCK: usize = 1024 * 1024;
/// Blocks read ahead of the consumer.
const READ_AHEAD: usize = 2;
/// Blocks queued for the writer thread.
const WRITE_BEHIND: usize = 8;

/// A file read from an offset. One block is read in place; more are read ahead.
pub(super) struct LocalReader {
    source: Source,
    path: String,
    endpoint: Endpoint,
}

enum Source {
    /// At most one block left: read it when asked (no thread to start for a small file).
    Once(Option<(File, usize)>),
    /// Blocks from the read-ahead thread; it stops when this side is dropped.
    Ahead(mpsc::Receiver<std::io::Result<Bytes>>),
}

impl LocalReader {
    /// `left` is what the file held past the offset when opened: it sizes the buffers. A file
    /// that grows meanwhile is still read to its end.
    pub fn new(file: File, left: u64, path: &str, endpoint: &Endpoint) -> LocalReader {
        let source = match left <= READ_BLOCK as u64 {
            true => Source::Once(Some((file, left.max(1) as usize))),
            false => Source::Ahead(read_ahead(file)),
        };
        LocalReader {
            source,
            path: path.to_string(),
            endpoint: endpoint.clone(),
        }
    }
}

/// Reads blocks into a short queue until the end, an error, or the reader going away.
fn read_ahead(mut file: File) -> mpsc::Receiver<std::io::Result<Bytes>> {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        loop {
            let block = read_block(&mut file, READ_BLOCK);
            let end = matches!(&block, Ok((chunk, short)) if chunk.is_empty() || *short);
            let failed = block.is_err();
            let item = block.map(|(chunk, _)| chunk);
            if tx.blocking_send(item).is_err() || end || failed {
                return;
            }
        }
    });
    rx
}

/// Up to `want` bytes, and whether that was less (for a regular file: its end).
/// `read_to_end` is avoided on purpose: it starts each call at 8 KiB reads and grows them, six
/// system calls per block where one does.
pub(super) fn read_block(file: &mut File, want: usize) -> std::io::Result<(Bytes, bool)> {
    let mut buf = vec![0u8; want];
    let mut filled = 0;
    while filled < want {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok((Bytes::from(buf), filled < want))
}

#[async_trait]
impl ReadStream for LocalReader {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        let read = match &mut self.source {
            Source::Once(slot) => {
                let Some((mut file, want)) = slot.take() else {
                    return Ok(None);
                };
                let read = tokio::task::spawn_blocking(move || {
                    read_block(&mut file, want).map(|(chunk, short)| (file, chunk, short))
                })
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|r| r);
                match read {
                    // A full block may not be the end: read on, ahead from now.
                    Ok((file, chunk, false)) if !chunk.is_empty() => {
                        self.source = Source::Ahead(read_ahead(file));
                        Ok(chunk)
                    }
                    Ok((_, chunk, _)) => Ok(chunk),
                    Err(e) => Err(e),
                }
            }
            Source::Ahead(blocks) => match blocks.recv().await {
                Some(block) => block,
                None => Ok(Bytes::new()),
            },
        };
        match read {
            Ok(chunk) if chunk.is_empty() => Ok(None),
            Ok(chunk) => Ok(Some(chunk)),
            Err(e) => Err(RemoteError::from_io(&e, &self.endpoint).at(&self.path)),
        }
    }
}

pub(super) struct LocalWriter {
    queue: Option<mpsc::Sender<Bytes>>,
    thread: Option<tokio::task::JoinHandle<std::io::Result<File>>>,
    confirmed: Arc<AtomicU64>,
    path: String,
    endpoint: Endpoint,
}

impl LocalWriter {
    pub fn spawn(mut file: File, path: &str, endpoint: &Endpoint) -> LocalWriter {
        let (tx, mut rx) = mpsc::channel::<Bytes>(WRITE_BEHIND);
        let confirmed = Arc::new(AtomicU64::new(0));
        let counter = confirmed.clone();
        let thread = tokio::task::spawn_blocking(move || {
            while let Some(chunk) = rx.blocking_recv() {
                file.write_all(&chunk)?;
                counter.fetch_add(chunk.len() as u64, Ordering::Release);
            }
            Ok(file)
        });
        LocalWriter {
            queue: Some(tx),
            thread: Some(thread),
            confirmed,
            path: path.to_string(),
            endpoint: endpoint.clone(),
        }
    }

    async fn join(&mut self) -> Result<File> {
        self.queue.take();
        let Some(thread) = self.thread.take() else {
            return Err(self.io_err(std::io::Error::other("writer already finished")));
        };
        match thread.await {
            Ok(Ok(file)) => Ok(file),
            Ok(Err(e)) => Err(self.io_err(e)),
            Err(e) => Err(self.io_err(std::io::Error::other(e.to_string()))),
        }
    }

    fn io_err(&self, e: std::io::Error) -> RemoteError {
        RemoteError::from_io(&e, &self.endpoint).at(&self.path)
    }
}

#[async_trait]
impl WriteStream for LocalWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let sent = match &self.queue {
            Some(queue) => queue.send(chunk).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The writer thread stopped: its error explains why.
        match self.join().await {
            Err(err) => Err(err),
            Ok(_) => Err(self.io_err(std::io::Error::other("write after finish"))),
        }
    }

    fn confirmed(&self) -> u64 {
        self.confirmed.load(Ordering::Acquire)
    }

    async fn finish(mut self: Box<Self>, how: Finish) -> Result<bool> {
        let file = self.join().await?;
        let done = tokio::task::spawn_blocking(move || {
            if let Some(mtime) = how.mtime {
                file.set_modified(system_time(mtime))?;
            }
            if how.sync {
                file.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(|r| r);
        done.map_err(|e| self.io_err(e))?;
        Ok(how.mtime.is_some())
    }
}
