//! Writing transfer records to the store in batches: every change goes through one task that
//! gathers what arrived meanwhile (the latest version of each record wins) and commits it in one
//! transaction. A thousand small files cost tens of commits, not thousands; a crash loses at
//! most the changes of the last fraction of a second, never data.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::Store;
use crate::transfer::model::Transfer;

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
    while let Some(first) = rx.recv().await {
        let mut pending: BTreeMap<u64, Transfer> = BTreeMap::new();
        let mut waiting = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Put(record) => {
                    pending.insert(record.id, *record);
                }
                Message::Flush(done) => waiting.push(done),
            }
            next = rx.try_recv().ok();
        }
        if !pending.is_empty() {
            let records: Vec<Transfer> = pending.into_values().collect();
            let store = store.clone();
            let written = tokio::task::spawn_blocking(move || store.put_transfers(&records)).await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::error!(%err, "could not record transfers"),
                Err(err) => tracing::error!(%err, "the store task failed"),
            }
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}
