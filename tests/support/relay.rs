//! A loopback TCP relay for tests and the bench: every connection it accepts is forwarded to one
//! target, each byte held back a fixed one-way delay in both directions (a long link without
//! kernel traffic shaping; bandwidth is not limited), and connections can be cut once the bytes
//! forwarded, all connections together, pass chosen marks (a flaky link).
//!
//! Depends on tokio, bytes and std only, so `examples/delay_proxy.rs` can include it as it is.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Bytes read from a socket at once.
const READ_SIZE: usize = 64 * 1024;
/// Bytes allocated at a time for reads (freed once every chunk cut from it is written).
const ARENA: usize = 16 * READ_SIZE;
/// Reads held back per direction: with 64 KiB reads, far more than a 100 ms round trip at
/// loopback speed needs, so the delay does not become a bandwidth cap.
const HELD_READS: usize = 16 * 1024;
/// Reads passed on in one vectored write at most (the kernel takes 1,024 slices).
const BATCH: usize = 64;

/// Counters and cut marks shared by every connection.
#[derive(Default)]
struct Meter {
    /// Bytes forwarded from clients to the target.
    upstream: AtomicU64,
    /// Bytes forwarded from the target to clients.
    downstream: AtomicU64,
    connections: AtomicU64,
    cuts: AtomicU64,
    /// Totals (both directions together) at which the connection forwarding gets cut.
    marks: Mutex<VecDeque<u64>>,
}

impl Meter {
    /// Counts `len` more bytes; false when they cross a cut mark (and are not forwarded).
    fn pass(&self, len: u64, counter: &AtomicU64) -> bool {
        let mut marks = self.marks.lock().unwrap_or_else(|p| p.into_inner());
        let total = self.upstream.load(Ordering::SeqCst) + self.downstream.load(Ordering::SeqCst);
        if marks.front().is_some_and(|&mark| total + len >= mark) {
            marks.pop_front();
            self.cuts.fetch_add(1, Ordering::SeqCst);
            return false;
        }
        counter.fetch_add(len, Ordering::SeqCst);
        true
    }
}

/// A running relay; dropping it stops accepting (open connections run on until they end).
pub struct Relay {
    addr: SocketAddr,
    meter: Arc<Meter>,
    accept_task: JoinHandle<()>,
}

impl Relay {
    /// Listens on `listen` (port 0: a free one) and forwards to `target` with `delay` added in
    /// each direction.
    pub async fn start_on(
        listen: SocketAddr,
        target: SocketAddr,
        delay: Duration,
    ) -> io::Result<Relay> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let meter = Arc::new(Meter::default());
        let accept_task = tokio::spawn(accept_loop(listener, target, delay, meter.clone()));
        Ok(Relay {
            addr,
            meter,
            accept_task,
        })
    }

    /// A relay on a free loopback port.
    pub async fn start(target: SocketAddr, delay: Duration) -> Relay {
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        Relay::start_on(listen, target, delay)
            .await
            .expect("bind relay on 127.0.0.1")
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Cuts the connection that carries the relay's total past each of `gaps` more bytes in
    /// turn (counted from now), then forwards without cutting again.
    pub fn cut_after(&self, gaps: impl IntoIterator<Item = u64>) {
        let mut mark = self.upstream_bytes() + self.downstream_bytes();
        let mut marks = self.meter.marks.lock().unwrap_or_else(|p| p.into_inner());
        marks.clear();
        for gap in gaps {
            mark += gap;
            marks.push_back(mark);
        }
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> u64 {
        self.meter.cuts.load(Ordering::SeqCst)
    }

    /// Marks set by [`Relay::cut_after`] not reached yet.
    pub fn cuts_pending(&self) -> usize {
        self.meter
            .marks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    pub fn connections(&self) -> u64 {
        self.meter.connections.load(Ordering::SeqCst)
    }

    /// Bytes forwarded from clients to the target.
    pub fn upstream_bytes(&self) -> u64 {
        self.meter.upstream.load(Ordering::SeqCst)
    }

    /// Bytes forwarded from the target to clients.
    pub fn downstream_bytes(&self) -> u64 {
        self.meter.downstream.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    delay: Duration,
    meter: Arc<Meter>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        meter.connections.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(relay_one(client, target, delay, meter.clone()));
    }
}

/// How one direction of a connection ended.
#[derive(PartialEq)]
enum End {
    /// The sender closed its side; the close was passed on.
    Closed,
    /// A cut mark was reached, or a socket failed: the whole connection goes.
    Cut,
}

async fn relay_one(client: TcpStream, target: SocketAddr, delay: Duration, meter: Arc<Meter>) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let up = forward(client_read, server_write, delay, &meter, |m| &m.upstream);
    let down = forward(server_read, client_write, delay, &meter, |m| &m.downstream);
    tokio::pin!(up, down);
    let (mut up_open, mut down_open) = (true, true);
    while up_open || down_open {
        let end = tokio::select! {
            end = &mut up, if up_open => { up_open = false; end }
            end = &mut down, if down_open => { down_open = false; end }
        };
        if end == End::Cut {
            // Returning drops all four halves: both sockets close at once.
            return;
        }
    }
}

/// Copies `from` to `to`, each read delivered `delay` after it arrived. Reads land in a large
/// buffer cut into chunks as they arrive (no zeroing, one allocation per `ARENA` bytes), and
/// every read already due when the writer wakes leaves in one vectored write: the relay costs
/// little CPU next to what it carries.
async fn forward(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    delay: Duration,
    meter: &Meter,
    counter: fn(&Meter) -> &AtomicU64,
) -> End {
    let (held, mut due) = mpsc::channel::<(Instant, Bytes)>(HELD_READS);
    let reading = async move {
        let mut buffer = BytesMut::new();
        loop {
            if buffer.capacity() < READ_SIZE {
                buffer.reserve(ARENA);
            }
            let len = match from.read_buf(&mut buffer).await {
                Ok(len) => len,
                Err(_) => return End::Cut,
            };
            // An empty read is the end of the stream, passed on after the delay too.
            let chunk = buffer.split().freeze();
            if held.send((Instant::now() + delay, chunk)).await.is_err() || len == 0 {
                return End::Closed;
            }
        }
    };
    let writing = async move {
        let mut batch: Vec<Bytes> = Vec::new();
        // A read taken from the queue before it was due: it leads the next batch.
        let mut early = None;
        loop {
            let (at, data) = match early.take() {
                Some(held) => held,
                None => match due.recv().await {
                    Some(held) => held,
                    None => return End::Closed,
                },
            };
            tokio::time::sleep_until(at).await;
            let mut closing = data.is_empty();
            batch.push(data);
            let now = Instant::now();
            while !closing && batch.len() < BATCH {
                match due.try_recv() {
                    Ok((at, data)) if at <= now => {
                        closing = data.is_empty();
                        batch.push(data);
                    }
                    Ok(held) => {
                        early = Some(held);
                        break;
                    }
                    Err(_) => break,
                }
            }
            if !pass_on(&mut to, &mut batch, meter, counter).await {
                return End::Cut;
            }
            if closing {
                let _ = to.shutdown().await;
                return End::Closed;
            }
        }
    };
    tokio::pin!(reading, writing);
    tokio::select! {
        // A failed read ends the connection; a clean end lets the held bytes drain.
        End::Cut = &mut reading => End::Cut,
        end = &mut writing => end,
    }
}

/// Writes and empties `batch`; false when a chunk crosses a cut mark (the chunks before it
/// are still written, as one by one they would be) or the socket fails.
async fn pass_on(
    to: &mut OwnedWriteHalf,
    batch: &mut Vec<Bytes>,
    meter: &Meter,
    counter: fn(&Meter) -> &AtomicU64,
) -> bool {
    let passing = batch
        .iter()
        .take_while(|chunk| chunk.is_empty() || meter.pass(chunk.len() as u64, counter(meter)))
        .count();
    let cut = passing < batch.len();
    batch.truncate(passing);
    let len: usize = batch.iter().map(Bytes::len).sum();
    let mut written = 0;
    while written < len {
        let mut skip = written;
        let mut slices = Vec::with_capacity(batch.len());
        for chunk in batch.iter() {
            match skip >= chunk.len() {
                true => skip -= chunk.len(),
                false => {
                    slices.push(IoSlice::new(&chunk[skip..]));
                    skip = 0;
                }
            }
        }
        match to.write_vectored(&slices).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => written += n,
        }
    }
    batch.clear();
    !cut
}
