//! What a transfer is: one file (or directory to create) moving in one direction, its state,
//! counters and outcome. These records are the queue and the history, kept in the store.

use serde::{Deserialize, Serialize};

use super::copy::Verification;
use crate::remote::RemoteError;

/// Which way bytes move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Upload,
    Download,
    /// From one server to another, streamed through ferry.
    Relay,
}

/// A file to copy, or a directory to create on the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    File,
    Mkdir,
}

/// Where a transfer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransferState {
    Queued,
    Running,
    Paused,
    Done,
    Skipped,
    Failed,
    Cancelled,
    /// Stopped by a shutdown or a crash; continues from its offset when an engine starts.
    Interrupted,
}

impl TransferState {
    /// Finished for good (history).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TransferState::Done
                | TransferState::Skipped
                | TransferState::Failed
                | TransferState::Cancelled
        )
    }
}

/// What to do when the destination already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OverwritePolicy {
    /// Replace it.
    #[default]
    Overwrite,
    /// Leave it and skip the file.
    Skip,
    /// Continue a shorter destination from its end; skip one of the same size.
    Resume,
    /// Replace it only when the source is newer.
    NewerOnly,
    /// Keep it and write the new file as `name (1).ext`.
    Rename,
    /// Ask whoever is attached; with nobody to ask, `transfer.if_exists` decides.
    Ask,
}

/// Copy files to or from one profile, or between two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRequest {
    pub direction: Direction,
    /// The server of an upload or download; a relay's source server.
    pub profile: String,
    /// A relay's destination server.
    #[serde(default)]
    pub peer: Option<String>,
    /// Upload: local paths. Download and relay: remote paths (relative ones start at the
    /// profile's dir).
    pub sources: Vec<String>,
    /// Upload: the remote directory. Download: the local directory. Relay: the directory on
    /// the peer.
    pub target: String,
    /// Copy directories with their contents.
    pub recursive: bool,
    pub overwrite: OverwritePolicy,
    /// Bytes per second for this request (0: no limit beyond the global one).
    pub limit: u64,
}

/// One transfer: a record in the queue and, once final, in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: u64,
    /// The request (CLI command, TUI action, job run) it came from.
    pub batch: u64,
    pub direction: Direction,
    pub kind: ItemKind,
    pub profile: String,
    /// A relay's destination server.
    #[serde(default)]
    pub peer: Option<String>,
    /// The path on this machine; for a relay, the destination path on `peer`.
    pub local_path: String,
    /// The path on `profile`'s server (a relay's source).
    pub remote_path: String,
    pub state: TransferState,
    pub overwrite: OverwritePolicy,
    /// Bytes per second for this transfer's request (0: none).
    #[serde(default)]
    pub limit: u64,
    /// Source size and mtime when first seen: a part file is resumed only if they still match.
    pub source_size: u64,
    pub source_mtime: Option<i64>,
    /// Bytes of the file done (the resume offset).
    pub offset: u64,
    /// Bytes moved over the wire, all attempts together.
    pub bytes_sent: u64,
    pub attempts: u32,
    pub error: Option<RemoteError>,
    pub verification: Option<Verification>,
    /// Position in the queue: lower runs first.
    pub position: u64,
    /// Microseconds since the epoch.
    pub created_us: u64,
    pub started_us: Option<u64>,
    pub finished_us: Option<u64>,
    /// Time spent running, all attempts.
    pub duration_ms: u64,
    /// A job run this transfer belongs to.
    #[serde(default)]
    pub run_id: Option<u64>,
    /// The ranges of a segmented copy and how far each got (empty for one stream).
    #[serde(default)]
    pub segments: Vec<Segment>,
}

/// One range of a file moved as its own stream (a segmented copy): `start..end`, of which
/// `done` bytes from `start` are confirmed written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start: u64,
    pub done: u64,
    pub end: u64,
}

impl Transfer {
    /// The path the bytes come from.
    pub fn source(&self) -> &str {
        match self.direction {
            Direction::Upload => &self.local_path,
            Direction::Download | Direction::Relay => &self.remote_path,
        }
    }

    /// The profile the destination is on (None: this machine).
    pub fn destination_profile(&self) -> Option<&str> {
        match self.direction {
            Direction::Upload => Some(&self.profile),
            Direction::Download => None,
            Direction::Relay => self.peer.as_deref(),
        }
    }

    /// The path the bytes go to.
    pub fn destination(&self) -> &str {
        match self.direction {
            Direction::Upload => &self.remote_path,
            Direction::Download | Direction::Relay => &self.local_path,
        }
    }
}

/// Microseconds since the Unix epoch, now.
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Records for unit tests.
#[cfg(test)]
pub(crate) mod samples {
    use super::*;

    /// Queued upload `id` of a `size`-byte file, at queue position `id`, in request 1.
    pub fn upload(id: u64, size: u64) -> Transfer {
        Transfer {
            id,
            batch: 1,
            direction: Direction::Upload,
            kind: ItemKind::File,
            profile: "p".into(),
            peer: None,
            local_path: format!("/l/{id}"),
            remote_path: format!("/r/{id}"),
            state: TransferState::Queued,
            overwrite: OverwritePolicy::Overwrite,
            limit: 0,
            source_size: size,
            source_mtime: None,
            offset: 0,
            bytes_sent: 0,
            attempts: 0,
            error: None,
            verification: None,
            position: id,
            created_us: 0,
            started_us: None,
            finished_us: None,
            duration_ms: 0,
            run_id: None,
            segments: Vec::new(),
        }
    }
}
