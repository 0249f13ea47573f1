//! FTP and FTPS (explicit `AUTH TLS` and implicit) behind the `Remote` trait, over suppaftp on
//! tokio with rustls (aws-lc-rs).
//!
//! One `FtpRemote` is one control connection: FTP runs one command (and one transfer) at a time,
//! so methods take turns on a tokio mutex, and a read or write stream holds it until its final
//! reply; concurrency means more connections. A connection that is lost is logged into again on
//! next use. Certificates are verified against the platform's roots or a pinned fingerprint
//! (`tls.rs`); nothing here accepts a certificate unchecked.
//!
//! Map: `connect.rs` logs in, `session.rs` is one connection (FEAT, EPSV/PASV, time limits),
//! `ops.rs` its file-system commands, `streams.rs` its transfers, `listing.rs` parses listings,
//! `errors.rs` classifies replies, `link.rs` takes turns and logs in again.

mod cert;
mod connect;
mod errors;
mod link;
mod listing;
mod ops;
mod session;
mod streams;
mod tls;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::{
    Capabilities, ConnectOptions, Credentials, Endpoint, Entry, ErrorKind, ReadStream, Remote,
    Result, SessionInfo, WriteStream,
};
use crate::profile::Profile;
use connect::Dialer;
use link::Link;
use session::Connection;
use streams::{FtpReader, FtpWriter};

pub use cert::{CertificateInfo, colon_hex, normalize_pin};
pub use connect::fetch_certificate;

/// How long `close` waits for a running operation or stream to end.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A logged-in FTP or FTPS session.
pub struct FtpRemote {
    endpoint: Endpoint,
    link: Arc<Mutex<Link>>,
    /// Logs in again, and opens further sessions for the ranges of a segmented download.
    dialer: Arc<Dialer>,
    info: SessionInfo,
    capabilities: Capabilities,
    /// The server refused `REST` before a range: no more ranges from this session.
    ranges_refused: AtomicBool,
    round_trip: Option<Duration>,
    home: String,
    keepalive: Option<JoinHandle<()>>,
}

/// Connects and logs in to the profile's FTP or FTPS server.
pub async fn connect(
    profile: &Profile,
    credentials: &Credentials,
    options: &ConnectOptions,
) -> Result<FtpRemote> {
    log_in(Arc::new(Dialer::new(profile, credentials, options))).await
}

/// A new session through `dialer`.
async fn log_in(dialer: Arc<Dialer>) -> Result<FtpRemote> {
    let dialed = dialer.dial().await?;
    let features = &dialed.conn.features;
    let capabilities = Capabilities {
        // RNTO onto an existing file is not replaced atomically everywhere: ferry deletes first.
        atomic_rename: false,
        resume: true,
        sha256: features.sha256.is_some(),
        check_file: false,
        set_mtime: features.mfmt,
        // RFC 3659's `REST STREAM` promises RETR from an offset; ranges need a session each.
        read_ranges: features.rest_stream,
        // Uploads stay one stream: STOR at an offset truncates on many servers.
        write_ranges: false,
    };
    let home = dialed.conn.home.clone();
    let round_trip = dialed.conn.round_trip;
    let keepalive = dialer.keepalive();
    let link = Arc::new(Mutex::new(Link::new(dialed.conn, dialer.clone())));
    Ok(FtpRemote {
        endpoint: dialer.endpoint.clone(),
        keepalive: link::keep_alive(&link, keepalive),
        link,
        dialer,
        info: dialed.info,
        capabilities,
        ranges_refused: AtomicBool::new(false),
        round_trip,
        home,
    })
}

impl FtpRemote {
    /// Runs one operation on the session (taking turns with other tasks).
    async fn run<T, F>(&self, op: F) -> Result<T>
    where
        F: for<'c> FnMut(&'c mut Connection) -> BoxFuture<'c, Result<T>> + Send,
        T: Send,
    {
        let mut link = self.link.lock().await;
        link::run(&mut link, op).await
    }
}

impl Drop for FtpRemote {
    fn drop(&mut self) {
        if let Some(task) = self.keepalive.take() {
            task.abort();
        }
    }
}

#[async_trait]
impl Remote for FtpRemote {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read_ranges: self.capabilities.read_ranges
                && !self.ranges_refused.load(Ordering::Relaxed),
            ..self.capabilities
        }
    }

    fn round_trip(&self) -> Option<Duration> {
        self.round_trip
    }

    /// One more logged-in connection: FTP has one transfer per connection.
    async fn open_channel(&self) -> Result<Option<Box<dyn Remote>>> {
        Ok(Some(Box::new(log_in(self.dialer.clone()).await?)))
    }

    fn session_info(&self) -> SessionInfo {
        self.info.clone()
    }

    async fn home(&self) -> Result<String> {
        Ok(self.home.clone())
    }

    async fn read_dir(&self, path: &str) -> Result<Vec<Entry>> {
        let path = path.to_string();
        self.run(|c| {
            let path = path.clone();
            Box::pin(async move { c.read_dir(&path).await })
        })
        .await
    }

    async fn stat(&self, path: &str) -> Result<Entry> {
        let path = path.to_string();
        self.run(|c| {
            let path = path.clone();
            Box::pin(async move { c.stat(&path).await })
        })
        .await
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        let path = path.to_string();
        self.run(|c| {
            let path = path.clone();
            Box::pin(async move { c.mkdir(&path).await })
        })
        .await
    }

    async fn remove_file(&self, path: &str) -> Result<()> {
        let path = path.to_string();
        self.run(|c| {
            let path = path.clone();
            Box::pin(async move { c.remove_file(&path).await })
        })
        .await
    }

    async fn remove_dir(&self, path: &str) -> Result<()> {
        let path = path.to_string();
        self.run(|c| {
            let path = path.clone();
            Box::pin(async move { c.remove_dir(&path).await })
        })
        .await
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (from.to_string(), to.to_string());
        self.run(|c| {
            let (from, to) = (from.clone(), to.clone());
            Box::pin(async move { c.rename(&from, &to).await })
        })
        .await
    }

    async fn read_from(&self, path: &str, offset: u64) -> Result<Box<dyn ReadStream>> {
        let mut link = self.link.clone().lock_owned().await;
        let owned = path.to_string();
        let data = link::run(&mut link, |c| {
            let path = owned.clone();
            Box::pin(async move { c.open_read(&path, offset).await })
        })
        .await?;
        Ok(Box::new(FtpReader::start(link, data, path).await?))
    }

    /// `REST offset` and `RETR`, the data connection closed once `end` is reached.
    async fn read_range(&self, path: &str, offset: u64, end: u64) -> Result<Box<dyn ReadStream>> {
        let mut link = self.link.clone().lock_owned().await;
        let owned = path.to_string();
        let data = link::run(&mut link, |c| {
            let path = owned.clone();
            Box::pin(async move { c.open_range(&path, offset).await })
        })
        .await;
        let data = match data {
            Err(err) if err.kind == ErrorKind::Unsupported => {
                self.ranges_refused.store(true, Ordering::Relaxed);
                return Err(err);
            }
            other => other?,
        };
        let wanted = end.saturating_sub(offset);
        Ok(Box::new(
            FtpReader::start_range(link, data, path, wanted).await?,
        ))
    }

    async fn write_at(&self, path: &str, offset: u64) -> Result<Box<dyn WriteStream>> {
        let mut link = self.link.clone().lock_owned().await;
        let owned = path.to_string();
        let data = link::run(&mut link, |c| {
            let path = owned.clone();
            Box::pin(async move { c.open_write(&path, offset).await })
        })
        .await?;
        Ok(Box::new(FtpWriter::new(link, data, path)))
    }

    async fn sha256(&self, path: &str) -> Result<Option<String>> {
        if !self.capabilities.sha256 {
            return Ok(None);
        }
        let path = path.to_string();
        self.run(|c| {
            let path = path.clone();
            Box::pin(async move { c.sha256(&path).await })
        })
        .await
    }

    async fn set_mtime(&self, path: &str, mtime: i64) -> Result<()> {
        let path = path.to_string();
        self.run(|c| {
            let path = path.clone();
            Box::pin(async move { c.set_mtime(&path, mtime).await })
        })
        .await
    }

    async fn free_space(&self, path: &str) -> Result<Option<u64>> {
        let path = path.to_string();
        self.run(|c| {
            let path = path.clone();
            Box::pin(async move { c.free_space(&path).await })
        })
        .await
    }

    async fn close(&self) {
        if let Some(task) = &self.keepalive {
            task.abort();
        }
        // A stream still holding the session (dropped late by its owner) must not make closing
        // hang; the connection then closes when that stream is dropped.
        if let Ok(mut link) = tokio::time::timeout(CLOSE_WAIT, self.link.lock()).await {
            link.close().await;
        }
    }
}
