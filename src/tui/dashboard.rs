//! The Dashboard's state and figures: today's totals and the recent failures, from the
//! history the engine gave. No I/O here.

use crate::transfer::model::{Transfer, TransferState};

#[derive(Debug, Default)]
pub struct Dashboard {
    /// Finished transfers, newest first.
    pub history: Vec<Transfer>,
}

/// Today's figures.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Today {
    pub files: usize,
    pub bytes: u64,
    pub failed: usize,
}

impl Dashboard {
    /// Totals of transfers finished since `midnight` (Unix seconds).
    pub fn today(&self, midnight: i64) -> Today {
        let since = (midnight.max(0) as u64) * 1_000_000;
        let mut today = Today::default();
        for t in self
            .history
            .iter()
            .filter(|t| t.finished_us.unwrap_or(0) >= since)
        {
            match t.state {
                TransferState::Done => {
                    today.files += 1;
                    today.bytes += t.source_size;
                }
                TransferState::Failed => today.failed += 1,
                _ => {}
            }
        }
        today
    }

    /// The latest failures.
    pub fn failures(&self, count: usize) -> Vec<&Transfer> {
        self.history
            .iter()
            .filter(|t| t.state == TransferState::Failed)
            .take(count)
            .collect()
    }
}
