//! Writing transfer records to the store in batches: every change goes through one task that
//! gathers changes for up to a tenth of a second (the latest version of each record wins) and
//! commits them in one transaction, reaching the disk at most every half second (and at every
//! flush). A thousand small files cost a handful of commits; a crash loses at most the last
//! moment of state changes, never data.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::store::Store;
use crate::transfer::model::Transfer;

/// Longest time a recorded change may wait to reach the disk.
const DURABLE_EVERY: Duration = Duration::from_millis(500);
/// How long changes gather before they are committed together (readers flush first).
const GATHER_FOR: Duration = Duration::from_millis(100);
/// Records committed at most in one transaction.
const GATHER_AT_MOST: usize = 4096;

enum Message {
    Put(Box<Transfer>),
    /// Answered once everything sent before it is committed.
    Flush(oneshot::Sender<()>),
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub(crate) struct Recorder {
    tx: mpsc::UnboundedSender<Message>,
}

impl Recorder {
    /// Starts the writing task for `store`.
    pub fn start(store: Arc<Store>) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(store, rx));
        Recorder { tx }
    }

    /// Queues a record to be written.
    pub fn put(&self, record: Transfer) {
        if self.tx.send(Message::Put(Box::new(record))).is_err() {
            tracing::error!("the transfer recorder has stopped; a change was not saved");
        }
    }

    /// Waits until everything queued so far is in the store.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Message::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

async fn run(store: Arc<Store>, mut rx: mpsc::UnboundedReceiver<Message>) {
    let mut last_durable = Instant::now();
    let mut dirty = false;
    loop {
        // With changes not yet on disk, wake up in time to sync them.
        let first = if dirty {
            match tokio::time::timeout_at((last_durable + DURABLE_EVERY).into(), rx.recv()).await {
                Ok(message) => message,
                Err(_) => {
                    commit(&store, Vec::new(), true).await;
                    last_durable = Instant::now();
                    dirty = false;
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some(first) = first else {
            if dirty {
                commit(&store, Vec::new(), true).await;
            }
            return;
        };
        let (pending, waiting, closed) = gather(first, &mut rx).await;
        let durable = closed || !waiting.is_empty() || last_durable.elapsed() >= DURABLE_EVERY;
        if !pending.is_empty() || (durable && dirty) {
            commit(&store, pending.into_values().collect(), durable).await;
            dirty = !durable;
            if durable {
                last_durable = Instant::now();
            }
        }
        for done in waiting {
            let _ = done.send(());
        }
        if closed {
            return;
        }
    }
}

/// Collects changes for a moment after `first` (one commit per transition would cost more
/// than the transfers of small files themselves), up to a flush or a full batch. Returns the
/// latest version of each record, the flushes to answer, and whether the channel closed.
async fn gather(
    first: Message,
    rx: &mut mpsc::UnboundedReceiver<Message>,
) -> (BTreeMap<u64, Transfer>, Vec<oneshot::Sender<()>>, bool) {
    let until = tokio::time::Instant::now() + GATHER_FOR;
    let mut pending = BTreeMap::new();
    let mut waiting = Vec::new();
    let mut next = first;
    loop {
        match next {
            Message::Put(record) => {
                pending.insert(record.id, *record);
            }
            Message::Flush(done) => waiting.push(done),
        }
        if !waiting.is_empty() || pending.len() >= GATHER_AT_MOST {
            return (pending, waiting, false);
        }
        next = match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Some(message)) => message,
            Ok(None) => return (pending, waiting, true),
            Err(_) => return (pending, waiting, false),
        };
    }
}

async fn commit(store: &Arc<Store>, records: Vec<Transfer>, durable: bool) {
    let store = store.clone();
    let written =
        tokio::task::spawn_blocking(move || store.put_transfers_with(&records, durable)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::error!(%err, "could not record transfers"),
        Err(err) => tracing::error!(%err, "the store task failed"),
    }
}
