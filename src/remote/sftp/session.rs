//! One logged-in SSH connection with its SFTP session: opening the `sftp` subsystem, what the
//! server's version reply and `limits@openssh.com` allow (request sizes, extensions), and the
//! helpers every operation shares (error mapping with the path, free space).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use russh::client::Handle;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::client::rawsession::Limits;
use russh_sftp::client::{Config as SftpConfig, RawSftpSession};
use russh_sftp::extensions;
use russh_sftp::protocol::Version;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::sync::CancellationToken;

use super::errors::{is_generic_failure, sftp_error, ssh_error};
use super::handshake::ClientHandler;
use crate::remote::{Endpoint, ErrorKind, RemoteError, Result, names};

const POSIX_RENAME: &str = "posix-rename@openssh.com";
pub(super) const CHECK_FILE_NAME: &str = "check-file-name";
pub(super) const CHECK_FILE_HANDLE: &str = "check-file-handle";
/// Largest read or write payload we send: OpenSSH's sftp-server limit (255 KiB).
const MAX_IO: u64 = 261_120;
/// Safe sizes for servers that do not publish limits (draft-ietf-secsh-filexfer: 32 KiB
/// writes must be accepted; every common server answers 64 KiB reads).
const DEFAULT_WRITE: u64 = 32 * 1024;
const DEFAULT_READ: u64 = 64 * 1024;
/// The most requests kept in flight per stream; the memory budget (`in_flight_bytes`) sets
/// the depth below this. 16 × 255 KiB (the default 8 MiB budget) saturates a fast loopback;
/// 64 was measured no faster and triples memory.
const PIPELINE_DEPTH: usize = 64;
/// Handles open at once for small whole-file writes on one session. OpenSSH's handles are
/// 4-byte big-endian indexes, and russh-sftp keeps handles as (lossy) UTF-8 strings: an index
/// of 128 or more becomes a handle the server no longer knows. The server hands out the lowest
/// free index, so fewer than 128 open at once is safe; streams and listings keep the rest.
const WHOLE_HANDLES: usize = 96;
const HANDLES_KEPT: usize = 32;
/// Bytes of a write or data packet besides its payload (type, id, handle, offset), rounded up.
const PACKET_HEADROOM: u64 = 1024;
/// Below this many free bytes, a generic write failure is taken to mean a full disk.
const NEARLY_FULL: u64 = 4 * 1024 * 1024;

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// What the server lets this session do.
#[derive(Debug, Clone, Copy)]
pub(super) struct Features {
    pub posix_rename: bool,
    /// Which `check-file` request the server advertises (by name preferred), if any.
    pub check_file: Option<&'static str>,
    pub fsync: bool,
    pub statvfs: bool,
    pub read_len: u32,
    pub write_len: usize,
    pub depth: usize,
    /// Handles that exchanges of many small writes may hold open at once on this session.
    pub whole_handles: usize,
}

impl Features {
    fn from_extensions(extensions: &HashMap<String, String>, limits: Option<Limits>) -> Features {
        let limits = limits.unwrap_or_default();
        let (mut read, mut write) = match (limits.read_len, limits.write_len) {
            (None, None) => (DEFAULT_READ, DEFAULT_WRITE),
            (read, write) => (read.unwrap_or(MAX_IO), write.unwrap_or(MAX_IO)),
        };
        // A request's header must fit in the server's packet limit too.
        if let Some(packet) = limits.packet_len {
            let room = packet.saturating_sub(PACKET_HEADROOM);
            (read, write) = (read.min(room), write.min(room));
        }
        Features {
            posix_rename: extensions.contains_key(POSIX_RENAME),
            check_file: [CHECK_FILE_NAME, CHECK_FILE_HANDLE]
                .into_iter()
                .find(|name| extensions.contains_key(*name)),
            fsync: extensions.contains_key(extensions::FSYNC),
            statvfs: extensions.contains_key(extensions::STATVFS),
            read_len: read.clamp(1, MAX_IO) as u32,
            write_len: write.clamp(1, MAX_IO) as usize,
            depth: 16,
            whole_handles: limits.open_handles.map_or(WHOLE_HANDLES, |open| {
                (open as usize)
                    .saturating_sub(HANDLES_KEPT)
                    .clamp(1, WHOLE_HANDLES)
            }),
        }
    }
}

/// The shared state of one connection: every operation and stream holds an `Arc` of it.
pub(super) struct Connection {
    pub endpoint: Endpoint,
    /// Shared by the sessions opened on the same SSH connection (`sibling`).
    pub ssh: Arc<Handle<ClientHandler>>,
    pub sftp: Arc<RawSftpSession>,
    pub features: Features,
    /// What the server's `limits@openssh.com` reply said, where it has one.
    limits: Option<Limits>,
    /// Index of the hashing command that works on this server (`exec::TOOLS`), once known.
    pub hash_tool: std::sync::atomic::AtomicUsize,
    /// Exec requests may be sent: not forbidden by the profile, not refused by the server.
    exec: AtomicBool,
    /// The advertised `check-file` extension has not failed.
    check_file: AtomicBool,
    /// Handles left for small whole-file writes (`features.whole_handles` in all).
    pub whole_handles: tokio::sync::Semaphore,
    /// Cancelled when the server's side of the SFTP channel ends.
    ended: CancellationToken,
    /// The shortest time a small request took (nanoseconds): the link's round trip, as
    /// measured when the session opened and lowered by every timed request since.
    round_trip: AtomicU64,
    connect_timeout: Duration,
    in_flight_bytes: usize,
}

impl Connection {
    /// Opens the `sftp` subsystem on a logged-in connection and negotiates its limits.
    pub async fn open(
        ssh: Arc<Handle<ClientHandler>>,
        endpoint: Endpoint,
        connect_timeout: Duration,
        in_flight_bytes: usize,
    ) -> Result<Connection> {
        let (mut sftp, ended, version, first) =
            Self::start(&ssh, &endpoint, connect_timeout).await?;
        // The first plain request measures the round trip again; the shorter counts (a busy
        // machine only ever adds to a sample).
        let asked = std::time::Instant::now();
        let limits = match version.extensions.contains_key(extensions::LIMITS) {
            true => sftp.limits().await.ok().map(Limits::from),
            false => {
                let _ = sftp.stat(".").await;
                None
            }
        };
        let round_trip = asked.elapsed().min(first);
        if let Some(limits) = limits {
            sftp.set_limits(limits);
        }
        let mut features = Features::from_extensions(&version.extensions, limits);
        // Each request's data is held twice (our buffer and the encoded packet).
        let chunk = features.write_len.max(features.read_len as usize);
        features.depth = (in_flight_bytes / (2 * chunk)).clamp(2, PIPELINE_DEPTH);
        tracing::debug!(%endpoint, ?features, "sftp session open");
        Ok(Connection {
            endpoint,
            ssh,
            sftp: Arc::new(sftp),
            features,
            limits,
            hash_tool: std::sync::atomic::AtomicUsize::new(0),
            exec: AtomicBool::new(true),
            check_file: AtomicBool::new(features.check_file.is_some()),
            whole_handles: tokio::sync::Semaphore::new(features.whole_handles),
            ended,
            round_trip: AtomicU64::new(nanos(round_trip)),
            connect_timeout,
            in_flight_bytes,
        })
    }

    /// Opens a channel with the `sftp` subsystem and exchanges versions; the time that took.
    async fn start(
        ssh: &Handle<ClientHandler>,
        endpoint: &Endpoint,
        connect_timeout: Duration,
    ) -> Result<(RawSftpSession, CancellationToken, Version, Duration)> {
        let mut channel = ssh
            .channel_open_session()
            .await
            .map_err(|err| ssh_error(&err, endpoint))?;
        let asked = std::time::Instant::now();
        let version = tokio::time::timeout(
            request_timeout(connect_timeout),
            super::version::start(&mut channel, endpoint),
        )
        .await
        .map_err(|_| {
            RemoteError::new(
                ErrorKind::Timeout,
                endpoint,
                "the server did not answer the SFTP version request in time",
            )
        })??;
        let took = asked.elapsed();
        let config = SftpConfig {
            request_timeout_secs: request_timeout(connect_timeout).as_secs(),
            ..SftpConfig::default()
        };
        let ended = CancellationToken::new();
        let stream = coalesced(channel.into_stream(), ended.clone());
        let sftp = RawSftpSession::new_with_version(stream, config, Some(version.version));
        Ok((sftp, ended, version, took))
    }

    /// The link's round trip: the shortest small request seen on this session.
    pub fn round_trip(&self) -> Duration {
        Duration::from_nanos(self.round_trip.load(Ordering::Relaxed))
    }

    /// Awaits one small request, taking its time as a sample of the round trip.
    pub async fn timed<T>(&self, request: impl Future<Output = T>) -> T {
        let asked = std::time::Instant::now();
        let answer = request.await;
        self.round_trip
            .fetch_min(nanos(asked.elapsed()), Ordering::Relaxed);
        answer
    }

    /// Another SFTP session on the same SSH connection: its own channel, so its own window
    /// (on a long link one channel moves at most a window per round trip). The server is the
    /// same, so its limits and extensions are known: no round trip asks for them again.
    pub async fn sibling(&self) -> Result<Connection> {
        let (mut sftp, ended, _, took) =
            Self::start(&self.ssh, &self.endpoint, self.connect_timeout).await?;
        if let Some(limits) = self.limits {
            sftp.set_limits(limits);
        }
        let sibling = Connection {
            endpoint: self.endpoint.clone(),
            ssh: self.ssh.clone(),
            sftp: Arc::new(sftp),
            features: self.features,
            limits: self.limits,
            hash_tool: std::sync::atomic::AtomicUsize::new(self.hash_tool.load(Ordering::Relaxed)),
            exec: AtomicBool::new(true),
            check_file: AtomicBool::new(self.features.check_file.is_some()),
            whole_handles: tokio::sync::Semaphore::new(self.features.whole_handles),
            ended,
            round_trip: AtomicU64::new(nanos(self.round_trip().min(took))),
            connect_timeout: self.connect_timeout,
            in_flight_bytes: self.in_flight_bytes,
        };
        if !self.exec_works() {
            sibling.exec_refused();
        }
        if !self.check_file_works() {
            sibling.check_file_failed();
        }
        Ok(sibling)
    }

    /// Whether exec requests may still be sent on this connection.
    pub fn exec_works(&self) -> bool {
        self.exec.load(Ordering::Relaxed)
    }

    /// No more exec requests: the profile forbids them or the server refused one. Asking
    /// again for every file would only cost round trips (and audit log lines).
    pub fn exec_refused(&self) {
        if self.exec.swap(false, Ordering::Relaxed) {
            tracing::debug!(endpoint = %self.endpoint, "no exec requests on this connection");
        }
    }

    /// Whether the advertised `check-file` extension still looks usable.
    pub fn check_file_works(&self) -> bool {
        self.check_file.load(Ordering::Relaxed)
    }

    /// The extension failed in a way that says it will not work: stop using it.
    pub fn check_file_failed(&self) {
        if self.check_file.swap(false, Ordering::Relaxed) {
            tracing::debug!(endpoint = %self.endpoint, "check-file extension unusable");
        }
    }

    /// Runs `work` unless the session ends first. russh-sftp answers requests pending when
    /// its stream ends, but one sent just then waits out its whole timeout for a reply that
    /// cannot come; this turns it into a lost connection at once.
    pub async fn guard<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::select! {
            biased;
            result = work => result,
            () = self.ended.cancelled() => Err(self.lost()),
        }
    }

    /// The error for work cut short by the end of the session.
    pub fn lost(&self) -> RemoteError {
        RemoteError::new(
            ErrorKind::ConnectionLost,
            &self.endpoint,
            "the SFTP session ended",
        )
    }

    /// An SFTP failure about `path`, classified.
    pub fn error(&self, err: &SftpError, path: &str) -> RemoteError {
        sftp_error(err, &self.endpoint, path)
    }

    /// A failed write or close on `path`. OpenSSH's sftp-server reports a full disk as the
    /// generic failure, so when the server can tell free space, a nearly full file system
    /// turns that failure into `NoSpace`.
    pub async fn write_error(&self, err: &SftpError, path: &str) -> RemoteError {
        let classified = self.error(err, path);
        if !is_generic_failure(err) || classified.kind != ErrorKind::Protocol {
            return classified;
        }
        let dir = names::parent(&names::normalize(path)).unwrap_or_else(|| ".".into());
        match self.free_bytes(&dir).await {
            Ok(Some(free)) if free < NEARLY_FULL => RemoteError::new(
                ErrorKind::NoSpace,
                &self.endpoint,
                format!("the server's file system has {free} bytes free"),
            )
            .at(path),
            _ => classified,
        }
    }

    /// Free bytes for unprivileged users where `statvfs@openssh.com` is offered.
    pub async fn free_bytes(&self, path: &str) -> Result<Option<u64>> {
        if !self.features.statvfs {
            return Ok(None);
        }
        let stat = self
            .sftp
            .statvfs(path)
            .await
            .map_err(|err| self.error(&err, path))?;
        let unit = match stat.fragment_size {
            0 => stat.block_size,
            size => size,
        };
        Ok(Some(stat.blocks_avail.saturating_mul(unit)))
    }
}

/// Long enough for a deep queue of 255 KiB requests on a slow link (russh-sftp's 10 s is not).
fn request_timeout(connect_timeout: Duration) -> Duration {
    Duration::from_secs(60).max(connect_timeout * 6)
}

/// Waits for the server's answer to the subsystem request.
/// Room in each direction between the SFTP client and the channel.
const COALESCE_BUFFER: usize = 512 * 1024;

/// The channel behind a pump that forwards whatever has gathered in one write: requests sent
/// back to back (a small file's write, read, times and close) leave as one SSH message, which
/// costs the server one packet and one pipe write instead of four. When the server's side ends,
/// `ended` is cancelled and the pump lets go of both ends, so the SFTP client sees the end too.
fn coalesced(
    channel: russh::ChannelStream<russh::client::Msg>,
    ended: CancellationToken,
) -> tokio::io::DuplexStream {
    let (ours, mut theirs) = tokio::io::duplex(COALESCE_BUFFER);
    let mut channel = Watched {
        inner: channel,
        ended: ended.clone(),
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::io::copy_bidirectional_with_sizes(
                &mut theirs,
                &mut channel,
                COALESCE_BUFFER,
                COALESCE_BUFFER,
            ) => {}
            () = ended.cancelled() => {}
        }
        ended.cancel();
    });
    ours
}

/// A stream that cancels `ended` when its reading side reaches its end or fails.
struct Watched<S> {
    inner: S,
    ended: CancellationToken,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let at_end = match &polled {
            Poll::Ready(Ok(())) => buf.filled().len() == before,
            Poll::Ready(Err(_)) => true,
            Poll::Pending => false,
        };
        if at_end {
            self.ended.cancel();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_cap_request_sizes_and_default_without_them() {
        let none = Features::from_extensions(&HashMap::new(), None);
        assert_eq!((none.read_len, none.write_len), (65_536, 32_768));
        let openssh = Limits {
            packet_len: Some(262_144),
            read_len: Some(261_120),
            write_len: Some(261_120),
            open_handles: None,
        };
        let f = Features::from_extensions(&HashMap::new(), Some(openssh));
        assert_eq!((f.read_len, f.write_len), (261_120, 261_120));
        let big = Limits {
            read_len: Some(1 << 20),
            write_len: Some(1 << 20),
            ..openssh
        };
        let f = Features::from_extensions(&HashMap::new(), Some(big));
        assert_eq!((f.read_len, f.write_len), (261_120, 261_120));
        let small_packets = Limits {
            packet_len: Some(34_000),
            ..big
        };
        let f = Features::from_extensions(&HashMap::new(), Some(small_packets));
        assert_eq!((f.read_len, f.write_len), (32_976, 32_976));
    }

    #[test]
    fn request_timeout_grows_with_the_connect_timeout() {
        assert_eq!(
            request_timeout(Duration::from_secs(5)),
            Duration::from_secs(60)
        );
        assert_eq!(
            request_timeout(Duration::from_secs(30)),
            Duration::from_secs(180)
        );
    }
}
