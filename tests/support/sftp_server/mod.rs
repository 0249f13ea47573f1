//! In-process SFTP server (russh server + russh-sftp handler) with fault injection.
//!
//! Serves a directory (a fresh `TempDir` unless the config names one) on a random
//! `127.0.0.1` port. Clients see that directory as `/`, and `..` cannot climb out of it.
//! Owns: the listener, one task per SSH connection, one task pair per SFTP channel, and
//! the fault switches tests flip at run time. Never touches files outside the served root
//! (symlinks created through SFTP are kept inside it too).
//!
//! Module map: `state` (counters, faults, per-connection byte budget and kill switch),
//! `ssh` (authentication, channels, exec), `exec` (`sha256sum`), `wire` (SFTP packet loop
//! and reply timing), `fs` (the russh-sftp `Handler` over the directory), `check_file` (the
//! `check-file-*` extensions), `disk` (its blocking file work), `paths` (client path <-> disk path), `listing` (attributes and
//! `ls -l` lines).

mod check_file;
mod disk;
mod exec;
mod fs;
mod listing;
mod paths;
mod ssh;
mod state;
mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::MethodKind;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PublicKey};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use self::paths::Jail;
use self::state::{ConnectionState, Shared};

/// Largest read or write payload the server accepts, as advertised in `limits@openssh.com`
/// (the same figure OpenSSH's sftp-server uses).
pub const MAX_IO_LEN: u64 = 261_120;

/// Directory that lists hostile names when [`SftpServerConfig::hostile_names`] is on.
pub const HOSTILE_DIR: &str = "/hostile";

/// The extra entries a readdir of [`HOSTILE_DIR`] returns (besides the real `ok.txt`).
pub const HOSTILE_NAMES: [&str; 6] = ["..", ".", "a/b", "a\\b", "nul\0name", "../escape"];

/// An authentication method the server can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Password,
    PublicKey,
    KeyboardInteractive,
}

impl AuthMethod {
    fn kind(self) -> MethodKind {
        match self {
            AuthMethod::Password => MethodKind::Password,
            AuthMethod::PublicKey => MethodKind::PublicKey,
            AuthMethod::KeyboardInteractive => MethodKind::KeyboardInteractive,
        }
    }
}

/// An account on the test server: a password, accepted public keys, or both.
#[derive(Clone, Debug)]
pub struct SftpUser {
    pub name: String,
    pub password: Option<String>,
    pub keys: Vec<PublicKey>,
}

impl SftpUser {
    pub fn with_password(name: &str, password: &str) -> Self {
        Self {
            name: name.to_owned(),
            password: Some(password.to_owned()),
            keys: Vec::new(),
        }
    }

    pub fn with_key(name: &str, key: PublicKey) -> Self {
        Self {
            name: name.to_owned(),
            password: None,
            keys: vec![key],
        }
    }

    /// Also accept `key` for this user.
    pub fn and_key(mut self, key: PublicKey) -> Self {
        self.keys.push(key);
        self
    }
}

/// User name and password of the account in [`SftpServerConfig::default`].
pub const DEFAULT_USER: &str = "ferry";
pub const DEFAULT_PASSWORD: &str = "ferry-test-password";

/// How to start a server. `Default` gives one password user ([`DEFAULT_USER`]), all
/// three methods offered, a fresh host key, a temporary root and no faults.
#[derive(Clone, Debug)]
pub struct SftpServerConfig {
    pub users: Vec<SftpUser>,
    /// Methods offered to clients, in this order (e.g. `[PublicKey, Password]`).
    pub methods: Vec<AuthMethod>,
    /// Served directory; `None` means a `TempDir` owned by the handle.
    pub root: Option<PathBuf>,
    /// Host key; `None` means a fresh ed25519 key.
    pub host_key: Option<PrivateKey>,
    /// Port on 127.0.0.1; `None` means a random free port. Set it to restart a server
    /// where a client's known_hosts line expects it.
    pub port: Option<u16>,
    /// Close the TCP connection once this many bytes of file data (read + written) have
    /// passed on one connection. Each connection gets a fresh budget.
    pub drop_after_bytes: Option<u64>,
    /// Hold each SFTP reply until this long after its request arrived (replies stay in
    /// order; this emulates link latency, it does not serialise pipelined requests).
    /// Paths (and everything below) whose requests are answered `SSH_FX_BAD_MESSAGE`.
    pub bad_message: Vec<String>,
    pub reply_delay: Option<Duration>,
    /// Client path prefixes (`/secret` covers `/secret` and `/secret/x`, not `/secrets`)
    /// on which every operation fails with PermissionDenied.
    pub deny: Vec<String>,
    /// Create [`HOSTILE_DIR`] and add [`HOSTILE_NAMES`] to its listing.
    pub hostile_names: bool,
    /// Writes reaching past this file offset fail with "No space left on device" (the
    /// part below the offset is written, like a disk filling up).
    pub no_space_after_bytes: Option<u64>,
    /// Refuse every exec request (a ProFTPD-style server, or `ForceCommand internal-sftp`).
    pub refuse_exec: bool,
    /// Refuse the `sftp` subsystem (an SSH server that only gives shells).
    pub refuse_sftp: bool,
    /// Advertise and answer `check-file-name` and `check-file-handle` (SHA-256 only).
    pub check_file: bool,
    /// Refuse to open an existing file for writing (a drop box without overwrite or append
    /// permission); new files are created as usual.
    pub refuse_reopen: bool,
    /// The version line after `SSH-2.0-` (a hostile server may put anything there).
    pub software: String,
}

impl Default for SftpServerConfig {
    fn default() -> Self {
        Self {
            users: vec![SftpUser::with_password(DEFAULT_USER, DEFAULT_PASSWORD)],
            methods: vec![
                AuthMethod::PublicKey,
                AuthMethod::Password,
                AuthMethod::KeyboardInteractive,
            ],
            root: None,
            host_key: None,
            port: None,
            drop_after_bytes: None,
            reply_delay: None,
            bad_message: Vec::new(),
            deny: Vec::new(),
            hostile_names: false,
            no_space_after_bytes: None,
            refuse_exec: false,
            refuse_sftp: false,
            check_file: false,
            refuse_reopen: false,
            software: "ferry_test_sftpd".into(),
        }
    }
}

/// A fresh ed25519 key (russh's own generator wants a rand 0.10 RNG; this takes the seed
/// from the crate's rand 0.9).
pub fn random_ed25519_key() -> PrivateKey {
    let seed: [u8; 32] = rand::random();
    PrivateKey::from(Ed25519Keypair::from_seed(&seed))
}

enum ServedRoot {
    Temp(tempfile::TempDir),
    Given(PathBuf),
}

impl ServedRoot {
    fn path(&self) -> &Path {
        match self {
            ServedRoot::Temp(dir) => dir.path(),
            ServedRoot::Given(path) => path,
        }
    }
}

/// A running server. Dropping it (or [`SftpServer::shutdown`]) stops the listener and
/// cuts every open connection.
pub struct SftpServer {
    addr: SocketAddr,
    root: ServedRoot,
    host_key: PrivateKey,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    accept_task: Option<JoinHandle<()>>,
}

impl SftpServer {
    /// Binds, spawns the accept loop on the current tokio runtime and returns at once.
    pub async fn start(config: SftpServerConfig) -> SftpServer {
        let root = match config.root.clone() {
            Some(path) => ServedRoot::Given(path),
            None => ServedRoot::Temp(tempfile::tempdir().expect("create served TempDir")),
        };
        let jail = Jail::new(root.path()).expect("served root must exist");
        let host_key = config.host_key.clone().unwrap_or_else(random_ed25519_key);
        let shared = Arc::new(Shared::new(&config, jail));
        if config.hostile_names {
            shared.create_hostile_dir();
        }
        let listener = TcpListener::bind(("127.0.0.1", config.port.unwrap_or(0)))
            .await
            .expect("bind test SFTP server on 127.0.0.1");
        let addr = listener.local_addr().expect("listener address");
        let ssh_config = Arc::new(ssh::server_config(&config, host_key.clone()));
        let (stop, stopped) = watch::channel(false);
        let accept_task = tokio::spawn(accept_loop(listener, ssh_config, shared.clone(), stopped));
        SftpServer {
            addr,
            root,
            host_key,
            shared,
            stop,
            accept_task: Some(accept_task),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The served directory on disk (the client's `/`).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn host_key(&self) -> &PrivateKey {
        &self.host_key
    }

    pub fn host_public_key(&self) -> &PublicKey {
        self.host_key.public_key()
    }

    /// `ssh-ed25519 AAAA...` (no comment).
    pub fn host_key_openssh(&self) -> String {
        let mut key = self.host_key.public_key().clone();
        key.set_comment("");
        key.to_openssh().expect("encode host key")
    }

    /// A known_hosts line for this server: `[127.0.0.1]:PORT ssh-ed25519 AAAA...`.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}", self.port(), self.host_key_openssh())
    }

    /// File data received through SFTP writes (all connections).
    pub fn bytes_received(&self) -> u64 {
        self.shared.counters.received()
    }

    /// File data sent in SFTP read replies (all connections).
    pub fn bytes_sent(&self) -> u64 {
        self.shared.counters.sent()
    }

    /// `direct-tcpip` channels opened through this server (as a jump host).
    pub fn forwards(&self) -> u64 {
        self.shared.counters.forwards()
    }

    /// SFTP sessions (subsystem channels) opened, all connections together.
    pub fn sftp_sessions(&self) -> u64 {
        self.shared.counters.sessions()
    }

    /// Exec requests received (refused ones too).
    pub fn exec_requests(&self) -> u64 {
        self.shared.counters.execs()
    }

    /// Passwords checked so far (password and keyboard-interactive logins).
    pub fn passwords_tried(&self) -> u64 {
        self.shared.counters.passwords()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.counters.connections()
    }

    /// Connections currently open.
    pub fn open_connections(&self) -> usize {
        self.shared.live_count()
    }

    /// Budget for connections accepted from now on when no queued budget is left.
    pub fn set_drop_after_bytes(&self, budget: Option<u64>) {
        self.shared.faults.set_default_budget(budget);
    }

    /// Budgets for the next connections, one per accepted connection in order; after
    /// them, connections get the default budget again.
    pub fn queue_drops(&self, budgets: impl IntoIterator<Item = u64>) {
        self.shared.faults.queue_budgets(budgets);
    }

    pub fn set_reply_delay(&self, delay: Option<Duration>) {
        self.shared.faults.set_reply_delay(delay);
    }

    pub fn set_deny(&self, prefixes: Vec<String>) {
        self.shared.faults.set_deny(prefixes);
    }

    pub fn set_no_space_after_bytes(&self, offset: Option<u64>) {
        self.shared.faults.set_no_space_after(offset);
    }

    pub fn set_hostile_names(&self, on: bool) {
        if on {
            self.shared.create_hostile_dir();
        }
        self.shared.faults.set_hostile_names(on);
    }

    /// Cut every open connection now (the listener keeps accepting).
    pub fn drop_connections(&self) {
        self.shared.kill_all();
    }

    /// Stops the listener and cuts open connections; when this returns the port is free.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some(task) = self.accept_task.take() {
            let _ = task.await;
        }
    }

    fn stop_now(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = &self.accept_task {
            task.abort();
        }
        self.shared.kill_all();
    }
}

impl Drop for SftpServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

async fn accept_loop(
    listener: TcpListener,
    ssh_config: Arc<russh::server::Config>,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let Ok(conn) = ConnectionState::new(&stream, shared.faults.next_budget()) else {
            continue;
        };
        let conn = Arc::new(conn);
        shared.counters.connection_accepted();
        let id = shared.register(conn.clone());
        let handler = ssh::SshConnection::new(shared.clone(), conn);
        let shared = shared.clone();
        let config = ssh_config.clone();
        tokio::spawn(async move {
            if let Ok(session) = russh::server::run_stream(config, stream, handler).await {
                let _ = session.await;
            }
            shared.unregister(id);
        });
    }
}
