//! The byte stream of one transfer, metered: counted into the server's totals, and ended early
//! when the transfer's drop budget or the shared "disk full" quota is spent.

use super::faults::{DropMode, Faults, SessionCut};
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// Why a metered transfer stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    Drop,
    NoSpace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    /// Client to server (STOR/APPE): counted as received, limited by the quota; stops with EOF.
    Upload,
    /// Server to client (RETR): counted as sent; a spent budget is an I/O error.
    Download,
}

/// Wraps the byte stream of one transfer: counts it, and ends it early when its drop budget or
/// the shared quota is spent.
pub(super) struct MeteredReader<R> {
    inner: R,
    direction: Direction,
    budget: Option<u64>,
    faults: Arc<Faults>,
    session: Arc<SessionCut>,
    stop: Arc<Mutex<Option<Stop>>>,
}

impl<R> MeteredReader<R> {
    pub fn new(
        inner: R,
        direction: Direction,
        faults: Arc<Faults>,
        session: Arc<SessionCut>,
    ) -> Self {
        MeteredReader {
            inner,
            direction,
            budget: faults.next_drop_budget(),
            faults,
            session,
            stop: Arc::new(Mutex::new(None)),
        }
    }

    /// Tells, after the transfer, whether and why it was stopped early.
    pub fn stop_flag(&self) -> Arc<Mutex<Option<Stop>>> {
        self.stop.clone()
    }

    fn stop_with(&mut self, why: Stop) -> Poll<io::Result<()>> {
        let first = self.stop.lock().unwrap().replace(why).is_none();
        match self.direction {
            Direction::Download => {
                if first {
                    self.faults.drops.fetch_add(1, Ordering::SeqCst);
                    if self.faults.drop_mode == DropMode::CloseSession {
                        self.session.cut();
                    }
                }
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "injected drop",
                )))
            }
            // Ending the upload at the budget lets unftp-sbe-fs flush exactly what was accepted;
            // `storage.rs` turns the stop into the error reply.
            Direction::Upload => Poll::Ready(Ok(())),
        }
    }

    /// How many of `want` bytes may pass now, and which limit applies once that is zero.
    fn grant(&self, want: u64) -> (u64, Stop) {
        let want = self.budget.map_or(want, |budget| want.min(budget));
        if want == 0 || self.direction == Direction::Download {
            return (want, Stop::Drop);
        }
        (self.faults.claim_space(want), Stop::NoSpace)
    }

    fn give_back(&self, unused: usize) {
        if self.direction == Direction::Upload {
            self.faults.return_space(unused as u64);
        }
    }

    fn account(&mut self, read: u64) {
        if let Some(budget) = self.budget.as_mut() {
            *budget -= read;
        }
        let counter = match self.direction {
            Direction::Upload => &self.faults.bytes_received,
            Direction::Download => &self.faults.bytes_sent,
        };
        counter.fetch_add(read, Ordering::SeqCst);
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for MeteredReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let stopped = *this.stop.lock().unwrap();
        if let Some(why) = stopped {
            return this.stop_with(why);
        }
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let (granted, limit) = this.grant(buf.remaining() as u64);
        if granted == 0 {
            // A spent limit only counts when there is more data: a budget equal to the file size
            // lets the transfer complete.
            let mut probe = [0u8; 1];
            let mut probe = ReadBuf::new(&mut probe);
            return match Pin::new(&mut this.inner).poll_read(cx, &mut probe) {
                Poll::Ready(Ok(())) if probe.filled().is_empty() => Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => this.stop_with(limit),
                other => other,
            };
        }
        let granted = granted as usize;
        let mut window = ReadBuf::new(buf.initialize_unfilled_to(granted));
        let read = match Pin::new(&mut this.inner).poll_read(cx, &mut window) {
            Poll::Ready(Ok(())) => window.filled().len(),
            other => {
                this.give_back(granted);
                return other;
            }
        };
        this.give_back(granted - read);
        buf.advance(read);
        this.account(read as u64);
        Poll::Ready(Ok(()))
    }
}
