//! The Queue tab's state: the rows of the engine's queue on screen (asked for as a window, so
//! a queue of 100,000 costs one screenful), the transfers that finished while the app watched,
//! the cursor, and the recent rates for the sparkline. No I/O here.

use std::collections::{HashMap, VecDeque};

use crate::engine::api::{BatchSummary, TransferView};
use crate::transfer::model::Transfer;
use crate::tui::app::outbox::AfterBatch;

/// Finished rows kept (the oldest go first).
const FINISHED_KEPT: usize = 1000;
/// Rate samples kept for the sparkline (one a second).
const RATE_SAMPLES: usize = 120;

#[derive(Debug, Default)]
pub struct QueueTab {
    /// Rows of the engine's queue from `window_start`.
    pub rows: Vec<TransferView>,
    pub window_start: usize,
    /// Transfers in the engine's queue.
    pub total: usize,
    pub window_pending: Option<u64>,
    /// Finished while the app watched, newest first.
    pub finished: VecDeque<Transfer>,
    pub cursor: usize,
    pub top: usize,
    pub rates: VecDeque<u64>,
    last_sample: i64,
    /// What to do when a batch the app queued is done.
    pub batches: HashMap<u64, AfterBatch>,
    /// Batches that ended before the app learnt their ids (kept a short while).
    pub ended_early: HashMap<u64, BatchSummary>,
}

/// A row of the Queue tab.
pub enum QueueRow<'a> {
    Live(&'a TransferView),
    Finished(&'a Transfer),
    /// A queue row not fetched yet.
    Loading,
}

impl QueueTab {
    /// Every row: the engine's queue, then the finished ones.
    pub fn len(&self) -> usize {
        self.total + self.finished.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn row(&self, index: usize) -> Option<QueueRow<'_>> {
        if index < self.total {
            return Some(
                index
                    .checked_sub(self.window_start)
                    .and_then(|i| self.rows.get(i))
                    .map_or(QueueRow::Loading, QueueRow::Live),
            );
        }
        self.finished
            .get(index - self.total)
            .map(QueueRow::Finished)
    }

    /// The id of the transfer under the cursor.
    pub fn current_id(&self) -> Option<u64> {
        match self.row(self.cursor)? {
            QueueRow::Live(view) => Some(view.id),
            QueueRow::Finished(transfer) => Some(transfer.id),
            QueueRow::Loading => None,
        }
    }

    pub fn window(&mut self, start: usize, total: usize, rows: Vec<TransferView>) {
        self.window_pending = None;
        self.window_start = start;
        self.total = total;
        self.rows = rows;
        // Rows the engine still lists are not finished ones (a retried transfer came back).
        let live: std::collections::HashSet<u64> = self.rows.iter().map(|r| r.id).collect();
        self.finished.retain(|t| !live.contains(&t.id));
        self.cursor = self.cursor.min(self.len().saturating_sub(1));
    }

    /// Remembers a batch that ended before the app knew it was one of its own.
    pub fn ended_early(&mut self, batch: u64, summary: BatchSummary) {
        if self.ended_early.len() >= 64 {
            let oldest = self.ended_early.keys().min().copied();
            if let Some(oldest) = oldest {
                self.ended_early.remove(&oldest);
            }
        }
        self.ended_early.insert(batch, summary);
    }

    pub fn finished(&mut self, transfer: Transfer) {
        self.finished.retain(|t| t.id != transfer.id);
        self.finished.push_front(transfer);
        self.finished.truncate(FINISHED_KEPT);
    }

    pub fn clear_finished(&mut self) {
        self.finished.clear();
        self.cursor = self.cursor.min(self.len().saturating_sub(1));
    }

    /// Records the total rate at most once a second (`now` in Unix seconds).
    pub fn sample(&mut self, rate: u64, now: i64) {
        if now == self.last_sample {
            if let Some(last) = self.rates.back_mut() {
                *last = (*last).max(rate);
            }
            return;
        }
        self.last_sample = now;
        self.rates.push_back(rate);
        while self.rates.len() > RATE_SAMPLES {
            self.rates.pop_front();
        }
    }

    /// Moves the cursor and keeps it within `height` rows; true when the window must be asked
    /// for again.
    pub fn move_to(&mut self, row: usize, height: usize) -> bool {
        self.cursor = row.min(self.len().saturating_sub(1));
        let old_top = self.top;
        if self.cursor < self.top {
            self.top = self.cursor;
        } else if self.cursor >= self.top + height {
            self.top = self.cursor + 1 - height;
        }
        self.top != old_top
    }
}
