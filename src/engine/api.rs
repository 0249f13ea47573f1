//! The engine's only way in and out: `Request`s answered by `Response`s, and `Event`s sent to
//! every watcher. Plain serde values, so the same API travels over in-process channels and, as
//! length-prefixed JSON, over the control socket. Most requests get one response; a listing
//! gets several (`Entries` chunks, then `Listed`). Secrets travel as [`Secret`], which never
//! shows in `Debug` output.

use serde::{Deserialize, Serialize};

pub use super::questions::{Answer, Question, Refusal};
use crate::profile::Profile;
use crate::remote::{Entry, ErrorKind, SessionInfo};
pub use crate::transfer::model::TransferRequest;
use crate::transfer::model::{Direction, Transfer, TransferState};

/// Bumped when a message changes incompatibly; the socket handshake compares it.
pub const API_VERSION: u32 = 2;

/// Where a browse operation happens: this machine's disk or a profile's server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "place", content = "profile", rename_all = "kebab-case")]
pub enum Place {
    Local,
    Profile(String),
}

impl Place {
    /// The profile name, or `local`.
    pub fn label(&self) -> &str {
        match self {
            Place::Local => "local",
            Place::Profile(name) => name,
        }
    }
}

/// A secret crossing the API (a passphrase, a password). `Debug` prints `[redacted]`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn to_secret_string(&self) -> secrecy::SecretString {
        secrecy::SecretString::from(self.0.clone())
    }
}

impl From<secrecy::SecretString> for Secret {
    fn from(secret: secrecy::SecretString) -> Secret {
        Secret(secrecy::ExposeSecret::expose_secret(&secret).to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.0 == other.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// What to do with a profile's stored secret when saving it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", content = "value", rename_all = "kebab-case")]
pub enum SecretChange {
    #[default]
    Keep,
    Clear,
    Set(Secret),
}

/// Something asked of the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum Request {
    /// Plan and queue a transfer request; answered with the batch id at once, progress follows.
    Enqueue(TransferRequest),
    /// The queue's counts and its first rows, as in the progress snapshots.
    Queue,
    /// `len` transfers of the queue in queue order from `start` (running ones first).
    QueueWindow {
        start: usize,
        len: usize,
    },
    /// Finished transfers, newest first.
    History {
        limit: usize,
        failed_only: bool,
    },
    /// Whether a batch is finished, and its counts.
    Batch {
        id: u64,
    },
    Pause {
        id: u64,
    },
    Resume {
        id: u64,
    },
    Cancel {
        id: u64,
    },
    /// Cancel every unfinished transfer.
    CancelAll,
    /// Queue a failed, cancelled or interrupted transfer again.
    Retry {
        id: u64,
    },
    /// Move a queued transfer one place earlier (`up`) or later.
    Move {
        id: u64,
        up: bool,
    },
    /// Change the overall bandwidth limit while transfers run (0: none).
    SetLimit {
        bytes_per_sec: u64,
    },
    /// Log in (or reuse a connection) and tell where a pane starts.
    Open {
        place: Place,
    },
    /// A directory's entries, in `Entries` chunks as they arrive, then `Listed`.
    List {
        place: Place,
        path: String,
    },
    Stat {
        place: Place,
        path: String,
    },
    /// Creates a directory and its missing parents.
    Mkdir {
        place: Place,
        path: String,
    },
    Rename {
        place: Place,
        from: String,
        to: String,
    },
    /// Removes a file, or a directory tree with `recursive` (links are removed, not followed).
    Remove {
        place: Place,
        path: String,
        recursive: bool,
    },
    /// Up to `max_bytes` from the start of a file (for a preview).
    Peek {
        place: Place,
        path: String,
        max_bytes: u64,
    },
    /// Connect to a profile afresh and report what the server offers.
    Test {
        profile: String,
    },
    /// Every profile (without its sealed secrets).
    Profiles,
    /// Adds (`original` None) or changes a profile, sealing the secrets given.
    SaveProfile {
        original: Option<String>,
        profile: Box<Profile>,
        password: SecretChange,
        key_passphrase: SecretChange,
    },
    DeleteProfile {
        name: String,
    },
    /// Adds profiles for the hosts of an ssh config file (default `~/.ssh/config`).
    ImportSshConfig {
        path: Option<String>,
    },
    /// Fetches an FTPS profile's certificate; with `pin` (its SHA-256, hex), records it as
    /// trusted if the server presented exactly that one.
    Certificate {
        profile: String,
        pin: Option<String>,
    },
    Vault,
    /// Unlocks with a passphrase (a key-file vault unlocks without one).
    UnlockVault {
        passphrase: Option<Secret>,
    },
    /// Sets up the vault: with a passphrase, or with a new key file at `key_file`.
    InitVault {
        passphrase: Option<Secret>,
        key_file: Option<String>,
    },
    /// The settings a front end shows.
    Settings,
    /// Questions waiting for an answer.
    Questions,
    /// The answer to a `Question` event.
    Answer {
        question: u64,
        answer: Answer,
    },
    /// Stop: running transfers are recorded as interrupted with their offsets.
    Shutdown,
}

/// The engine's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "kebab-case")]
pub enum Response {
    Enqueued {
        batch: u64,
    },
    Queue {
        snapshot: QueueSnapshot,
    },
    QueueWindow {
        start: usize,
        total: usize,
        transfers: Vec<TransferView>,
    },
    History {
        transfers: Vec<Transfer>,
    },
    Batch {
        finished: bool,
        summary: BatchSummary,
    },
    Opened {
        place: Place,
        /// The directory to start in: the profile's remote dir, or the login directory.
        start: String,
        info: SessionInfo,
    },
    /// Part of a listing.
    Entries {
        entries: Vec<Entry>,
    },
    /// The listing is complete.
    Listed {
        path: String,
        count: usize,
        /// Escaped names the server gave that ferry will not use.
        refused: Vec<String>,
    },
    Entry {
        entry: Entry,
    },
    Peeked {
        size: u64,
        #[serde(with = "hex::serde")]
        bytes: Vec<u8>,
    },
    Tested {
        report: Box<TestReport>,
    },
    Profiles {
        profiles: Vec<ProfileSummary>,
    },
    Imported {
        added: Vec<String>,
        skipped: Vec<String>,
    },
    Certificate {
        certificate: crate::remote::ftp::CertificateInfo,
        pinned: bool,
    },
    Vault {
        state: VaultState,
    },
    Settings {
        settings: Settings,
    },
    Questions {
        pending: Vec<PendingQuestion>,
    },
    Ok,
    Error(Failure),
}

impl Response {
    /// A failure of `kind` with a message that names the thing and the cause.
    pub fn error(kind: ErrorKind, message: impl Into<String>) -> Response {
        Response::Error(Failure {
            kind,
            message: message.into(),
        })
    }
}

/// Why a request failed: its kind (auth, not found, permission, transient…) and what to say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<crate::remote::RemoteError> for Failure {
    fn from(err: crate::remote::RemoteError) -> Failure {
        Failure {
            kind: err.kind,
            message: err.to_string(),
        }
    }
}

/// The facts `ferry test` and the Profiles tab show about a connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    pub profile: String,
    pub address: String,
    pub ok: bool,
    pub connect_ms: Option<u64>,
    pub banner: Option<String>,
    pub host_key: Option<String>,
    pub certificate: Option<String>,
    pub auth_method: Option<String>,
    pub security: Option<String>,
    pub home: Option<String>,
    pub free_bytes: Option<u64>,
    pub error: Option<Failure>,
    /// The jump hosts passed on the way, first to last.
    #[serde(default)]
    pub hops: Vec<crate::remote::HopInfo>,
}

/// A profile as front ends see it: sealed secrets left out, only whether each is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileSummary {
    pub profile: Profile,
    pub has_password: bool,
    pub has_key_passphrase: bool,
}

/// Whether stored secrets can be opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum VaultState {
    NotSetUp,
    /// Set up and locked; `by` says how it unlocks ("passphrase (Argon2id …)", "key file …").
    Locked {
        passphrase: bool,
        by: String,
    },
    Unlocked {
        by: String,
    },
}

/// Settings a front end shows and may change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The overall bandwidth limit in bytes per second (0: none).
    pub bandwidth_limit: u64,
    pub max_concurrent: u32,
    pub verify_checksum: bool,
    pub atomic: bool,
    /// The store file and the engine's kind, for the status bar.
    pub store: String,
}

/// A question still waiting for an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingQuestion {
    pub id: u64,
    pub question: Question,
}

/// One transfer as watchers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferView {
    pub id: u64,
    pub batch: u64,
    pub direction: Direction,
    pub profile: String,
    /// A relay's destination profile.
    #[serde(default)]
    pub peer: Option<String>,
    /// The source path.
    pub source: String,
    /// The destination path.
    pub destination: String,
    pub state: TransferState,
    pub done: u64,
    pub total: u64,
    /// Bytes per second, recent average.
    pub rate: u64,
    /// Seconds left at the current rate.
    pub eta_secs: Option<u64>,
    pub attempts: u32,
    pub error: Option<String>,
}

/// The queue and its totals; replaces the previous snapshot. Its rows are the running
/// transfers and the first few queued ones; a view asks for other rows with `QueueWindow`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueSnapshot {
    pub transfers: Vec<TransferView>,
    pub running: usize,
    pub queued: usize,
    pub paused: usize,
    /// Every transfer in the queue (running, queued, paused, interrupted).
    #[serde(default)]
    pub total: usize,
    /// Bytes per second sent lately, by running transfers and those that finished meanwhile.
    pub rate: u64,
    /// Bytes done and total over every unfinished transfer.
    pub done_bytes: u64,
    pub total_bytes: u64,
    /// The overall bandwidth limit now in force (0: none).
    #[serde(default)]
    pub limit: u64,
}

/// How a batch ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub done: usize,
    pub skipped: usize,
    pub failed: usize,
    pub cancelled: usize,
    pub bytes: u64,
}

/// Facts for every watcher. A watcher that falls far behind misses events and is told so
/// with `Lagged` (then it asks for the state it needs); progress is a separate, latest-only
/// snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Progress {
        snapshot: QueueSnapshot,
    },
    /// Planning a batch: counts so far.
    Planning {
        batch: u64,
        files: u64,
        dirs: u64,
        bytes: u64,
        finished: bool,
    },
    Started {
        id: u64,
    },
    /// A transfer reached a final state (done, skipped, failed, cancelled) or was paused.
    Finished {
        transfer: Transfer,
    },
    /// A transfer starts again from an earlier offset (its progress goes back to `from`).
    Restarted {
        id: u64,
        from: u64,
        reason: String,
    },
    /// A transient failure; the next attempt follows after `delay_ms`.
    Retrying {
        id: u64,
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// Every transfer of the batch is final (or the batch could not be planned).
    BatchDone {
        batch: u64,
        summary: BatchSummary,
        error: Option<String>,
    },
    /// Someone must decide; answer with `Request::Answer`.
    Question {
        id: u64,
        question: Question,
    },
    /// A question was answered (by someone) or decided without an answer: stop showing it.
    QuestionClosed {
        id: u64,
    },
    /// Something was refused for the user's safety (a changed host key): show it.
    Refused {
        refusal: Refusal,
    },
    /// Profiles changed (added, edited, removed, a certificate pinned).
    ProfilesChanged,
    /// The vault was set up or unlocked.
    VaultChanged {
        state: VaultState,
    },
    /// This watcher fell behind and missed `missed` events.
    Lagged {
        missed: u64,
    },
}
