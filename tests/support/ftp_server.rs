//! In-process FTP/FTPS server (libunftp + unftp-sbe-fs) with a throwaway rcgen certificate.
//!
//! [`FtpServer::start`] serves a fresh temporary directory on 127.0.0.1 at a random free port, on
//! the caller's tokio runtime (use `#[tokio::test(flavor = "multi_thread")]`). Each control
//! connection gets its own libunftp `Server`, run with `Server::service`, so the listener can be
//! bound to port 0 and a fault can close one session without touching the others. Dropping the
//! handle (or [`FtpServer::shutdown`]) stops the listener and every session.
//!
//! TLS: `Explicit` is libunftp's AUTH TLS. libunftp 0.24 has no implicit FTPS, so `Implicit` puts
//! a TLS-terminating forwarder in front of a plain libunftp listener (see `implicit.rs`).
//!
//! Faults come from a storage-backend wrapper (`storage.rs`, `faults.rs`): denied path prefixes
//! (550), transfers cut after N bytes (426, optionally closing the session), a "disk full" quota
//! (452 or 552), hostile names in listings of `/hostile`, and sessions without REST.
//!
//! libunftp 0.24 commands: FEAT (SIZE, MDTM, UTF8, EPSV, MLST, MLSD, REST STREAM, AUTH TLS/PBSZ/PROT
//! with TLS, SITE MD5), MLSD, MLST, EPSV, PASV, REST, SIZE, MDTM, OPTS UTF8 ON, RNFR/RNTO, MKD,
//! RMD, DELE, APPE, STOU, LIST, NLST, STAT, ABOR. Not HASH, not EPRT; PORT only if enabled (it
//! is not here).

mod auth;
mod cert;
mod faults;
mod implicit;
mod metered;
mod passive;
mod storage;

// Not every test binary uses every re-export.
#[allow(unused_imports)]
pub use cert::{TestCert, colon_hex, sha256_hex};
#[allow(unused_imports)]
pub use faults::{DropMode, NoSpaceReply};
#[allow(unused_imports)]
pub use storage::HOSTILE_NAMES;

use auth::SingleLogin;
use faults::{FaultSettings, Faults, SessionCut};
use libunftp::options::{FtpsRequired, TlsFlags};
use libunftp::{Server, ServerBuilder};
use passive::{AnyFreePort, PassivePorts};
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use storage::FaultyFs;
use tempfile::TempDir;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use unftp_core::auth::DefaultUser;

/// How the server offers TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain FTP only.
    #[default]
    None,
    /// AUTH TLS on the normal port; plain sessions are allowed unless `require_tls` is set.
    Explicit,
    /// TLS from the first byte (classic FTPS); data connections use TLS after `PROT P`.
    Implicit,
}

/// What to start. `Default` gives plain FTP for user `ferry` / password `ferry-secret` with no
/// faults; change fields with struct update syntax.
#[derive(Debug, Clone)]
pub struct FtpServerConfig {
    /// The only user name accepted.
    pub user: String,
    /// The only password accepted.
    pub password: String,
    pub tls: TlsMode,
    /// `Explicit` only: refuse commands and data transfers until the client has switched to TLS.
    pub require_tls: bool,
    /// Passive data ports; `None` lets the OS pick any free port for each data connection.
    pub passive_ports: Option<RangeInclusive<u16>>,
    /// Close sessions idle this long (whole seconds, at least one); libunftp's default is 600 s.
    pub idle_timeout: Option<Duration>,
    /// Path prefixes (e.g. `"/locked"`) on which every command fails with `550 Permission denied`.
    pub deny: Vec<String>,
    /// Cut every transfer after this many bytes (budgets queued with
    /// [`FtpServer::queue_drops`] are used first).
    pub drop_after_bytes: Option<u64>,
    pub drop_mode: DropMode,
    /// Uploads fail once this many bytes in total have been stored (a full disk); the bytes up
    /// to the limit stay in the file.
    pub no_space_after_bytes: Option<u64>,
    pub no_space_reply: NoSpaceReply,
    /// Create `/hostile` (with a normal file `plain.txt`) whose listings also name
    /// [`HOSTILE_NAMES`]: `..`, `a/b` and `a\b`.
    pub hostile_names: bool,
    /// The welcome text after `220`.
    pub greeting: &'static str,
}

impl Default for FtpServerConfig {
    fn default() -> Self {
        FtpServerConfig {
            user: "ferry".into(),
            password: "ferry-secret".into(),
            tls: TlsMode::None,
            require_tls: false,
            passive_ports: None,
            idle_timeout: None,
            deny: Vec::new(),
            drop_after_bytes: None,
            drop_mode: DropMode::default(),
            no_space_after_bytes: None,
            no_space_reply: NoSpaceReply::default(),
            hostile_names: false,
            greeting: "ferry test FTP server",
        }
    }
}

/// A running test server. Dropping it stops the server and deletes its directory.
pub struct FtpServer {
    addr: SocketAddr,
    tls: TlsMode,
    user: String,
    password: String,
    files: PathBuf,
    cert: Option<TestCert>,
    faults: Arc<Faults>,
    tasks: Vec<JoinHandle<()>>,
    _dir: TempDir,
}

impl FtpServer {
    pub async fn start(config: FtpServerConfig) -> FtpServer {
        let dir = tempfile::tempdir().expect("create FTP server temp dir");
        let files = create_served_dir(dir.path(), config.hostile_names);
        let cert = (config.tls != TlsMode::None).then(|| {
            let tls_dir = dir.path().join("tls");
            std::fs::create_dir(&tls_dir).expect("create tls dir");
            TestCert::generate(&tls_dir)
        });
        let faults = Arc::new(Faults::new(FaultSettings {
            deny: config.deny.clone(),
            hostile_names: config.hostile_names,
            drop_mode: config.drop_mode,
            drop_after_bytes: config.drop_after_bytes,
            no_space_after_bytes: config.no_space_after_bytes,
            no_space_reply: config.no_space_reply,
        }));
        let sessions = Sessions {
            files: files.clone(),
            login: Arc::new(SingleLogin {
                user: config.user.clone(),
                password: config.password.clone(),
            }),
            faults: faults.clone(),
            explicit_tls: None,
            require_tls: config.require_tls,
            passive_ports: config.passive_ports.clone(),
            idle_timeout: config.idle_timeout,
            greeting: config.greeting,
        };
        let listener = bind_loopback().await;
        let addr = listener.local_addr().expect("listener address");
        let tasks = match &cert {
            Some(cert) if config.tls == TlsMode::Implicit => {
                spawn_implicit(listener, sessions, cert).await
            }
            Some(cert) => spawn_explicit(listener, sessions, cert),
            None => vec![tokio::spawn(accept_sessions(listener, Arc::new(sessions)))],
        };
        FtpServer {
            addr,
            tls: config.tls,
            user: config.user,
            password: config.password,
            files,
            cert,
            faults,
            tasks,
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The served directory (`/` for clients).
    pub fn root(&self) -> &Path {
        &self.files
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    pub fn tls_mode(&self) -> TlsMode {
        self.tls
    }

    /// `ftp://127.0.0.1:PORT` (`ftps://` for implicit TLS), without credentials or a path.
    pub fn url(&self) -> String {
        let scheme = if self.tls == TlsMode::Implicit {
            "ftps"
        } else {
            "ftp"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The server certificate. Panics if the server was started without TLS.
    pub fn cert(&self) -> &TestCert {
        self.cert
            .as_ref()
            .expect("the FTP test server was started without TLS")
    }

    /// The server certificate in DER form. Panics without TLS.
    pub fn cert_der(&self) -> &[u8] {
        self.cert().der()
    }

    /// SHA-256 of the certificate, lowercase hex. Panics without TLS.
    pub fn cert_sha256(&self) -> &str {
        self.cert().sha256()
    }

    /// SHA-256 of the certificate as `AA:BB:…`. Panics without TLS.
    pub fn cert_sha256_colons(&self) -> String {
        self.cert().sha256_colons()
    }

    /// Payload bytes accepted by uploads so far.
    pub fn bytes_received(&self) -> u64 {
        self.faults.bytes_received.load(Ordering::SeqCst)
    }

    /// Payload bytes handed to downloads so far.
    pub fn bytes_sent(&self) -> u64 {
        self.faults.bytes_sent.load(Ordering::SeqCst)
    }

    /// How many transfers an injected drop has cut so far.
    pub fn drops_injected(&self) -> u64 {
        self.faults.drops.load(Ordering::SeqCst)
    }

    /// Byte budgets for the next transfers, one each, in order (uploads and downloads alike);
    /// when the queue is empty, `drop_after_bytes` applies again.
    pub fn queue_drops(&self, budgets: impl IntoIterator<Item = u64>) {
        self.faults.queue_drops(budgets);
    }

    /// Changes the fixed per-transfer budget (`None`: transfers are not cut).
    pub fn set_drop_after_bytes(&self, budget: Option<u64>) {
        self.faults.set_drop_after_bytes(budget);
    }

    /// Resets the "disk full" quota to `bytes` more (`None`: unlimited).
    pub fn set_space_left(&self, bytes: Option<u64>) {
        self.faults.set_space_left(bytes);
    }

    /// Sessions that start from now on refuse `REST` with 502 (and leave it out of FEAT), as
    /// servers without restart support do; sessions already open keep it.
    pub fn refuse_rest_from_now(&self, refuse: bool) {
        self.faults.refuse_rest.store(refuse, Ordering::SeqCst);
    }

    /// Sessions open now.
    pub fn open_sessions(&self) -> usize {
        self.faults.open.load(Ordering::SeqCst)
    }

    /// Cuts every open session now (plain and explicit-TLS listeners; the listener keeps
    /// accepting).
    pub fn drop_connections(&self) {
        self.faults.cut_all.notify_waiters();
    }

    /// Stops accepting connections and closes every session; returns once the listeners are gone.
    pub async fn shutdown(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// `<dir>/files`, the directory clients see as `/`, with `/hostile` when asked for.
fn create_served_dir(dir: &Path, hostile_names: bool) -> PathBuf {
    let files = dir.join("files");
    std::fs::create_dir(&files).expect("create served directory");
    if hostile_names {
        let hostile = files.join("hostile");
        std::fs::create_dir(&hostile).expect("create /hostile");
        std::fs::write(hostile.join("plain.txt"), "plain\n").expect("write /hostile/plain.txt");
    }
    files
}

fn spawn_explicit(
    listener: TcpListener,
    mut sessions: Sessions,
    cert: &TestCert,
) -> Vec<JoinHandle<()>> {
    let paths = (
        cert.cert_path().to_path_buf(),
        cert.key_path().to_path_buf(),
    );
    sessions.explicit_tls = Some(paths);
    vec![tokio::spawn(accept_sessions(listener, Arc::new(sessions)))]
}

/// libunftp listens privately in plain FTP; only the TLS forwarder is public.
async fn spawn_implicit(
    listener: TcpListener,
    mut sessions: Sessions,
    cert: &TestCert,
) -> Vec<JoinHandle<()>> {
    let public_ports = sessions.passive_ports.take();
    let inner = bind_loopback().await;
    let forwarder = implicit::Forwarder {
        acceptor: tokio_rustls::TlsAcceptor::from(cert.rustls_server_config()),
        upstream: inner.local_addr().expect("inner listener address"),
        passive: PassivePorts {
            range: public_ports,
        },
    };
    vec![
        tokio::spawn(accept_sessions(inner, Arc::new(sessions))),
        tokio::spawn(implicit::serve(listener, Arc::new(forwarder))),
    ]
}

async fn bind_loopback() -> TcpListener {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind 127.0.0.1:0")
}

/// Builds one libunftp server per control connection.
struct Sessions {
    files: PathBuf,
    login: Arc<SingleLogin>,
    faults: Arc<Faults>,
    explicit_tls: Option<(PathBuf, PathBuf)>,
    require_tls: bool,
    passive_ports: Option<RangeInclusive<u16>>,
    idle_timeout: Option<Duration>,
    greeting: &'static str,
}

impl Sessions {
    fn server(&self, cut: Arc<SessionCut>) -> Server<FaultyFs, DefaultUser> {
        let (files, faults) = (self.files.clone(), self.faults.clone());
        let storage = Box::new(move || FaultyFs::new(&files, faults.clone(), cut.clone()));
        let mut builder =
            ServerBuilder::with_authenticator(storage, self.login.clone()).greeting(self.greeting);
        if let Some(idle) = self.idle_timeout {
            builder = builder.idle_session_timeout(idle.as_secs().max(1));
        }
        builder = match &self.passive_ports {
            Some(range) => builder.passive_ports(range.clone()),
            None => builder.binder(AnyFreePort),
        };
        if let Some((cert, key)) = &self.explicit_tls {
            let flags = TlsFlags::LATEST_VERSIONS
                | TlsFlags::RESUMPTION_SESS_ID
                | TlsFlags::RESUMPTION_TICKETS;
            builder = builder
                .ftps(cert.clone(), key.clone())
                .ftps_tls_flags(flags);
            if self.require_tls {
                builder = builder.ftps_required(FtpsRequired::All, FtpsRequired::All);
            }
        }
        builder.build().expect("build libunftp server")
    }
}

/// Accepts control connections until aborted; aborting drops every running session.
async fn accept_sessions(listener: TcpListener, sessions: Arc<Sessions>) {
    let mut running = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    running.spawn(run_session(stream, sessions.clone()));
                }
            }
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
}

/// Runs one session; a fault that cuts it drops libunftp's future, which closes the control loop.
async fn run_session(stream: TcpStream, sessions: Arc<Sessions>) {
    let _open = OpenSession::count(&sessions.faults);
    let cut = Arc::new(SessionCut::default());
    let server = sessions.server(cut.clone());
    tokio::select! {
        _ = server.service(stream) => {}
        _ = cut.wait() => {}
        () = sessions.faults.cut_all.notified() => {}
    }
}

/// Counts a session as open for as long as it lives.
struct OpenSession(Arc<Faults>);

impl OpenSession {
    fn count(faults: &Arc<Faults>) -> OpenSession {
        faults.open.fetch_add(1, Ordering::SeqCst);
        OpenSession(faults.clone())
    }
}

impl Drop for OpenSession {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}
