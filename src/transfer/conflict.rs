//! A destination that already exists, when the request said to ask: what the question shows
//! (both sides' size and time) and what the answer may be. The asking itself belongs to whoever
//! runs the transfer (the engine puts it to its watchers); no I/O here.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::model::{Direction, OverwritePolicy};

/// The facts of one conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub transfer: u64,
    pub batch: u64,
    pub direction: Direction,
    pub profile: String,
    pub source: String,
    pub destination: String,
    pub source_size: u64,
    pub source_mtime: Option<i64>,
    pub existing_size: u64,
    pub existing_mtime: Option<i64>,
}

/// What to do with the existing destination, and whether the rest of the batch does the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictChoice {
    /// Never `Ask`.
    pub policy: OverwritePolicy,
    pub apply_to_batch: bool,
}

/// Whoever decides a conflict.
#[async_trait]
pub trait ConflictPrompt: Send + Sync {
    /// The policy for this destination; None when nobody decided (the fallback applies).
    async fn decide(&self, conflict: &Conflict) -> Option<OverwritePolicy>;
}
