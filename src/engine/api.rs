//! The engine's only way in and out: `Request`s answered by `Response`s, and `Event`s sent to
//! every watcher. Plain serde values, so the same API travels over in-process channels and, as
//! length-prefixed JSON, over the control socket.

use serde::{Deserialize, Serialize};

use crate::remote::trust::HostKeyQuestion;
pub use crate::transfer::model::TransferRequest;
use crate::transfer::model::{Direction, Transfer, TransferState};

/// Bumped when a message changes incompatibly; the socket handshake compares it.
pub const API_VERSION: u32 = 1;

/// Something asked of the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum Request {
    /// Plan and queue a transfer request; answered with the batch id at once, progress follows.
    Enqueue(TransferRequest),
    /// The queue as it is now.
    Queue,
    /// Finished transfers, newest first.
    History {
        limit: usize,
        failed_only: bool,
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
    /// Queue a failed, cancelled or interrupted transfer again.
    Retry {
        id: u64,
    },
    /// Move a queued transfer one place earlier (`up`) or later.
    Move {
        id: u64,
        up: bool,
    },
    /// The answer to a `HostKeyQuestion` event.
    AnswerHostKey {
        question: u64,
        accept: bool,
    },
    /// Stop: running transfers are recorded as interrupted with their offsets.
    Shutdown,
}

/// The engine's answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "kebab-case")]
pub enum Response {
    Enqueued { batch: u64 },
    Queue { snapshot: QueueSnapshot },
    History { transfers: Vec<Transfer> },
    Ok,
    Error { message: String },
}

/// One transfer as watchers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferView {
    pub id: u64,
    pub batch: u64,
    pub direction: Direction,
    pub profile: String,
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

/// The queue and its totals; replaces the previous snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueSnapshot {
    /// Running transfers first, then the queue in order (at most a few hundred are listed).
    pub transfers: Vec<TransferView>,
    pub running: usize,
    pub queued: usize,
    pub paused: usize,
    /// Bytes per second sent lately, by running transfers and those that finished meanwhile.
    pub rate: u64,
    /// Bytes done and total over every unfinished transfer.
    pub done_bytes: u64,
    pub total_bytes: u64,
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

/// Facts for every watcher. Progress snapshots may be dropped by a slow watcher; other events
/// must not be.
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
    /// Someone must decide about an unknown host key; answer with `Request::AnswerHostKey`.
    HostKeyQuestion {
        question: u64,
        details: HostKeyQuestion,
    },
}
