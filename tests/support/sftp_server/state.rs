//! State shared by every connection of one server: counters, fault switches, the
//! registry of open connections, and each connection's byte budget and kill switch.
//! No protocol handling here.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::paths::{Jail, normalize};
use super::{AuthMethod, HOSTILE_DIR, SftpServerConfig, SftpUser};

const UNSET: u64 = u64::MAX;

fn to_atomic(value: Option<u64>) -> AtomicU64 {
    AtomicU64::new(value.unwrap_or(UNSET))
}

fn load(value: &AtomicU64) -> Option<u64> {
    Some(value.load(SeqCst)).filter(|v| *v != UNSET)
}

#[derive(Default)]
pub(super) struct Counters {
    received: AtomicU64,
    sent: AtomicU64,
    connections: AtomicU64,
    execs: AtomicU64,
    sessions: AtomicU64,
    forwards: AtomicU64,
    passwords: AtomicU64,
}

impl Counters {
    pub fn add_received(&self, n: u64) {
        self.received.fetch_add(n, SeqCst);
    }
    pub fn add_sent(&self, n: u64) {
        self.sent.fetch_add(n, SeqCst);
    }
    pub fn forward_opened(&self) {
        self.forwards.fetch_add(1, SeqCst);
    }
    pub fn forwards(&self) -> u64 {
        self.forwards.load(SeqCst)
    }
    pub fn session_opened(&self) {
        self.sessions.fetch_add(1, SeqCst);
    }
    pub fn sessions(&self) -> u64 {
        self.sessions.load(SeqCst)
    }
    pub fn exec_requested(&self) {
        self.execs.fetch_add(1, SeqCst);
    }
    pub fn execs(&self) -> u64 {
        self.execs.load(SeqCst)
    }
    pub fn password_tried(&self) {
        self.passwords.fetch_add(1, SeqCst);
    }
    pub fn passwords(&self) -> u64 {
        self.passwords.load(SeqCst)
    }
    pub fn connection_accepted(&self) {
        self.connections.fetch_add(1, SeqCst);
    }
    pub fn received(&self) -> u64 {
        self.received.load(SeqCst)
    }
    pub fn sent(&self) -> u64 {
        self.sent.load(SeqCst)
    }
    pub fn connections(&self) -> u64 {
        self.connections.load(SeqCst)
    }
}

/// Fault switches, readable from every connection and settable from the test.
pub(super) struct Faults {
    default_budget: AtomicU64,
    queued_budgets: Mutex<VecDeque<u64>>,
    reply_delay_us: AtomicU64,
    deny: RwLock<Vec<String>>,
    bad_message: RwLock<Vec<String>>,
    no_space_after: AtomicU64,
    hostile_names: AtomicBool,
}

impl Faults {
    fn new(config: &SftpServerConfig) -> Self {
        let faults = Self {
            default_budget: to_atomic(config.drop_after_bytes),
            queued_budgets: Mutex::new(VecDeque::new()),
            reply_delay_us: AtomicU64::new(0),
            deny: RwLock::new(Vec::new()),
            bad_message: RwLock::new(Vec::new()),
            no_space_after: to_atomic(config.no_space_after_bytes),
            hostile_names: AtomicBool::new(config.hostile_names),
        };
        faults.set_reply_delay(config.reply_delay);
        faults.set_deny(config.deny.clone());
        faults.set_bad_message(config.bad_message.clone());
        faults
    }

    /// The byte budget of a newly accepted connection.
    pub fn next_budget(&self) -> Option<u64> {
        let queued = self.queued_budgets.lock().unwrap().pop_front();
        queued.or_else(|| load(&self.default_budget))
    }

    pub fn set_default_budget(&self, budget: Option<u64>) {
        self.default_budget.store(budget.unwrap_or(UNSET), SeqCst);
    }

    pub fn queue_budgets(&self, budgets: impl IntoIterator<Item = u64>) {
        self.queued_budgets.lock().unwrap().extend(budgets);
    }

    pub fn reply_delay(&self) -> Option<Duration> {
        let micros = self.reply_delay_us.load(SeqCst);
        (micros > 0).then(|| Duration::from_micros(micros))
    }

    pub fn set_reply_delay(&self, delay: Option<Duration>) {
        let micros = delay.map_or(0, |d| d.as_micros().min(u64::MAX as u128) as u64);
        self.reply_delay_us.store(micros, SeqCst);
    }

    pub fn set_deny(&self, prefixes: Vec<String>) {
        *self.deny.write().unwrap() = prefixes.iter().map(|p| normalize(p)).collect();
    }

    /// True when `client_path` (normalised) is a denied prefix or lies below one.
    pub fn is_denied(&self, client_path: &str) -> bool {
        under_any(&self.deny.read().unwrap(), client_path)
    }

    pub fn set_bad_message(&self, prefixes: Vec<String>) {
        *self.bad_message.write().unwrap() = prefixes.iter().map(|p| normalize(p)).collect();
    }

    /// True when requests on `client_path` are answered "bad message" (a malformed request as
    /// the server sees it: the same every time).
    pub fn is_bad_message(&self, client_path: &str) -> bool {
        under_any(&self.bad_message.read().unwrap(), client_path)
    }

    pub fn no_space_after(&self) -> Option<u64> {
        load(&self.no_space_after)
    }

    pub fn set_no_space_after(&self, offset: Option<u64>) {
        self.no_space_after.store(offset.unwrap_or(UNSET), SeqCst);
    }

    pub fn hostile_names(&self) -> bool {
        self.hostile_names.load(SeqCst)
    }

    pub fn set_hostile_names(&self, on: bool) {
        self.hostile_names.store(on, SeqCst);
    }
}

/// What one server knows: who may log in, where the files are, faults and counters.
pub(super) struct Shared {
    pub jail: Jail,
    pub users: Vec<SftpUser>,
    pub methods: Vec<AuthMethod>,
    pub faults: Faults,
    pub counters: Counters,
    pub refuse_exec: bool,
    pub refuse_sftp: bool,
    pub check_file: bool,
    pub refuse_reopen: bool,
    live: Mutex<HashMap<u64, Arc<ConnectionState>>>,
    next_id: AtomicU64,
}

impl Shared {
    pub fn new(config: &SftpServerConfig, jail: Jail) -> Self {
        Self {
            jail,
            users: config.users.clone(),
            methods: config.methods.clone(),
            faults: Faults::new(config),
            counters: Counters::default(),
            refuse_exec: config.refuse_exec,
            refuse_sftp: config.refuse_sftp,
            check_file: config.check_file,
            refuse_reopen: config.refuse_reopen,
            live: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }

    pub fn offers(&self, method: AuthMethod) -> bool {
        self.methods.contains(&method)
    }

    pub fn user(&self, name: &str) -> Option<&SftpUser> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Creates the hostile-names directory with one ordinary file in it.
    pub fn create_hostile_dir(&self) {
        let dir = self.jail.host_path(HOSTILE_DIR);
        std::fs::create_dir_all(&dir).expect("create hostile dir");
        std::fs::write(dir.join("ok.txt"), b"ok\n").expect("create hostile/ok.txt");
    }

    pub fn register(&self, conn: Arc<ConnectionState>) -> u64 {
        let id = self.next_id.fetch_add(1, SeqCst);
        self.live.lock().unwrap().insert(id, conn);
        id
    }

    pub fn unregister(&self, id: u64) {
        self.live.lock().unwrap().remove(&id);
    }

    pub fn live_count(&self) -> usize {
        self.live.lock().unwrap().len()
    }

    pub fn kill_all(&self) {
        for conn in self.live.lock().unwrap().values() {
            conn.kill();
        }
    }
}

/// How much file data may still pass on a connection before it is cut.
pub(super) struct Allowance {
    /// Bytes of this request that may be processed.
    pub bytes: u64,
    /// The budget is spent: process `bytes`, then cut the connection without replying.
    pub cut: bool,
}

/// One TCP connection: its byte budget and a way to cut it.
pub(super) struct ConnectionState {
    /// A second descriptor for the connection's socket, used only to cut it.
    socket: Mutex<Option<std::net::TcpStream>>,
    budget: Option<u64>,
    used: AtomicU64,
    killed: AtomicBool,
}

impl ConnectionState {
    pub fn new(stream: &tokio::net::TcpStream, budget: Option<u64>) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        let socket = std::net::TcpStream::from(stream.as_fd().try_clone_to_owned()?);
        Ok(Self {
            socket: Mutex::new(Some(socket)),
            budget,
            used: AtomicU64::new(0),
            killed: AtomicBool::new(false),
        })
    }

    /// Charges `len` bytes of file data against the budget.
    pub fn charge(&self, len: u64) -> Allowance {
        let Some(budget) = self.budget else {
            return Allowance {
                bytes: len,
                cut: false,
            };
        };
        let before = self.used.fetch_add(len, SeqCst);
        Allowance {
            bytes: budget.saturating_sub(before).min(len),
            cut: before.saturating_add(len) >= budget,
        }
    }

    /// Cuts the TCP connection at once: no SSH disconnect message, no more replies.
    pub fn kill(&self) {
        self.killed.store(true, SeqCst);
        if let Some(socket) = self.socket.lock().unwrap().take() {
            reset(&socket);
        }
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(SeqCst)
    }
}

/// Resets the connection, as a server that died would: the client's next write fails. A
/// shutdown alone is not that: a client busy writing into a window the server no longer
/// drains never reads the end. Connecting a TCP socket to `AF_UNSPEC` disconnects it (Linux
/// sends a reset), whoever else holds a descriptor of it.
fn reset(socket: &std::net::TcpStream) {
    let unspecified = libc::sockaddr {
        sa_family: libc::AF_UNSPEC as libc::sa_family_t,
        sa_data: [0; 14],
    };
    let len = std::mem::size_of::<libc::sockaddr>() as libc::socklen_t;
    // SAFETY: the descriptor is open (we own it) and the address is a valid sockaddr of `len`.
    let done = unsafe { libc::connect(socket.as_raw_fd(), &unspecified, len) };
    if done != 0 {
        let _ = socket.shutdown(Shutdown::Both);
    }
}

/// Whether `client_path` is one of `prefixes` or lies below one.
fn under_any(prefixes: &[String], client_path: &str) -> bool {
    prefixes.iter().any(|prefix| {
        prefix == "/"
            || client_path == prefix
            || client_path
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })
}
