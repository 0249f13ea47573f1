//! Fault injection shared by every session of one test server: denied path prefixes, per-transfer
//! drop budgets (a fixed one plus a queue a test can refill at run time), a "disk full" quota,
//! hostile names, and the byte counters. No libunftp types here: `storage.rs` and `metered.rs`
//! apply these. A "transfer" is one RETR, STOR or APPE; listings are never cut.

use std::collections::VecDeque;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Notify;

/// What an injected drop does once a transfer's byte budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DropMode {
    /// The data connection ends and the control connection is closed too, like a network drop
    /// (a `426` reply may or may not reach the client first).
    #[default]
    CloseSession,
    /// Only the transfer fails: the data connection ends, the server replies `426`, and the
    /// session stays logged in.
    AbortTransfer,
}

/// The reply an upload gets once the "disk full" quota is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoSpaceReply {
    /// `452 Insufficient storage space`.
    #[default]
    Insufficient452,
    /// `552 Exceeded storage allocation`.
    Exceeded552,
}

const UNLIMITED: u64 = u64::MAX;

#[derive(Debug)]
pub(super) struct Faults {
    deny: Vec<PathBuf>,
    pub hostile_names: bool,
    pub drop_mode: DropMode,
    pub no_space_reply: NoSpaceReply,
    drop_after_bytes: Mutex<Option<u64>>,
    drop_queue: Mutex<VecDeque<u64>>,
    space_left: AtomicU64,
    pub bytes_received: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub drops: AtomicU64,
    /// Woken to cut every open session at once.
    pub cut_all: Notify,
    /// Sessions running now.
    pub open: std::sync::atomic::AtomicUsize,
    /// Sessions that start now refuse REST (and leave it out of FEAT).
    pub refuse_rest: std::sync::atomic::AtomicBool,
}

pub(super) struct FaultSettings {
    pub deny: Vec<String>,
    pub hostile_names: bool,
    pub drop_mode: DropMode,
    pub drop_after_bytes: Option<u64>,
    pub no_space_after_bytes: Option<u64>,
    pub no_space_reply: NoSpaceReply,
}

impl Faults {
    pub fn new(settings: FaultSettings) -> Faults {
        Faults {
            deny: settings
                .deny
                .iter()
                .map(|p| normalize(Path::new(p)))
                .collect(),
            hostile_names: settings.hostile_names,
            drop_mode: settings.drop_mode,
            no_space_reply: settings.no_space_reply,
            drop_after_bytes: Mutex::new(settings.drop_after_bytes),
            drop_queue: Mutex::new(VecDeque::new()),
            space_left: AtomicU64::new(settings.no_space_after_bytes.unwrap_or(UNLIMITED)),
            bytes_received: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            drops: AtomicU64::new(0),
            cut_all: Notify::new(),
            open: std::sync::atomic::AtomicUsize::new(0),
            refuse_rest: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn is_denied(&self, path: &Path) -> bool {
        let path = normalize(path);
        self.deny.iter().any(|prefix| path.starts_with(prefix))
    }

    pub fn is_hostile_dir(&self, path: &Path) -> bool {
        self.hostile_names && normalize(path) == Path::new("hostile")
    }

    /// The byte budget of the transfer that starts now: the next queued one, else the fixed one.
    pub fn next_drop_budget(&self) -> Option<u64> {
        let queued = self.drop_queue.lock().unwrap().pop_front();
        queued.or(*self.drop_after_bytes.lock().unwrap())
    }

    pub fn queue_drops(&self, budgets: impl IntoIterator<Item = u64>) {
        self.drop_queue.lock().unwrap().extend(budgets);
    }

    pub fn set_drop_after_bytes(&self, budget: Option<u64>) {
        *self.drop_after_bytes.lock().unwrap() = budget;
    }

    pub fn set_space_left(&self, bytes: Option<u64>) {
        self.space_left
            .store(bytes.unwrap_or(UNLIMITED), Ordering::SeqCst);
    }

    /// Takes up to `want` bytes of the quota and returns how many were granted.
    pub fn claim_space(&self, want: u64) -> u64 {
        let mut granted = want;
        let _ = self
            .space_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                if left == UNLIMITED {
                    granted = want;
                    None
                } else {
                    granted = want.min(left);
                    Some(left - granted)
                }
            });
        granted
    }

    pub fn return_space(&self, unused: u64) {
        if unused > 0 {
            let _ = self
                .space_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    (left != UNLIMITED).then(|| left.saturating_add(unused))
                });
        }
    }
}

/// Lexical normalisation: the components below the root, with `.` dropped and `..` applied.
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Lets a storage call end the control session it belongs to.
#[derive(Debug, Default)]
pub(super) struct SessionCut {
    notify: Notify,
}

impl SessionCut {
    pub fn cut(&self) {
        self.notify.notify_one();
    }

    pub async fn wait(&self) {
        self.notify.notified().await;
    }
}
