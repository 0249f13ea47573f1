//! Changing the queue: pause, resume, cancel, retry, reorder, and the orderly shutdown that
//! records running transfers as interrupted with their offsets.

use std::sync::Arc;
use std::time::Duration;

use super::Shared;
use super::api::{Event, Failure};
use super::batch::{count_final, finish_if_done};
use super::queue::StopReason;
use super::worker::{persist, remove_part};
use crate::remote::ErrorKind;
use crate::transfer::model::{TransferState, now_us};

/// How long a shutdown waits for running transfers to record their state.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(15);

pub(crate) async fn pause(shared: &Arc<Shared>, id: u64) -> Result<(), Failure> {
    let record = {
        let mut queue = shared.lock_queue();
        let item = queue.get_mut(id).ok_or_else(|| not_in_queue(id))?;
        match item.record.state {
            TransferState::Running => {
                item.stop = Some(StopReason::Pause);
                if let Some(cancel) = &item.cancel {
                    cancel.cancel();
                }
                return Ok(());
            }
            TransferState::Queued | TransferState::Interrupted => {
                item.record.state = TransferState::Paused;
                item.record.clone()
            }
            TransferState::Paused => return Ok(()),
            other => {
                return Err(invalid(format!(
                    "transfer {id} is {other:?}: only queued or running transfers pause"
                )));
            }
        }
    };
    persist(shared, &record);
    shared.emit(Event::Finished { transfer: record });
    Ok(())
}

pub(crate) async fn resume(shared: &Arc<Shared>, id: u64) -> Result<(), Failure> {
    let record = {
        let mut queue = shared.lock_queue();
        let item = queue.get_mut(id).ok_or_else(|| not_in_queue(id))?;
        if item.record.state != TransferState::Paused {
            return Ok(());
        }
        item.record.state = TransferState::Queued;
        item.record.clone()
    };
    persist(shared, &record);
    shared.wake.notify_one();
    Ok(())
}

pub(crate) async fn cancel(shared: &Arc<Shared>, id: u64) -> Result<(), Failure> {
    let record = {
        let mut queue = shared.lock_queue();
        let item = queue.get_mut(id).ok_or_else(|| not_in_queue(id))?;
        if item.record.state == TransferState::Running {
            item.stop = Some(StopReason::Cancel);
            if let Some(cancel) = &item.cancel {
                cancel.cancel();
            }
            return Ok(());
        }
        item.sync_counters();
        item.record.state = TransferState::Cancelled;
        item.record.finished_us = Some(now_us());
        let record = item.record.clone();
        count_final(shared, &record);
        queue.remove(id);
        record
    };
    persist(shared, &record);
    remove_part(shared, &record).await;
    let batch = record.batch;
    shared.emit(Event::Finished { transfer: record });
    finish_if_done(shared, batch);
    Ok(())
}

/// Queues a failed, cancelled or interrupted transfer again, with fresh attempts.
pub(crate) async fn retry(shared: &Arc<Shared>, id: u64) -> Result<(), Failure> {
    let in_queue = shared.lock_queue().get(id).map(|item| item.record.state);
    let mut record = match in_queue {
        Some(TransferState::Running | TransferState::Queued) => return Ok(()),
        Some(_) => shared
            .lock_queue()
            .get(id)
            .map(|i| i.record.clone())
            .ok_or_else(|| not_in_queue(id))?,
        None => shared
            .store(move |s| s.transfer(id))
            .await
            .map_err(super::store_failure)?
            .ok_or_else(|| Failure {
                kind: ErrorKind::NotFound,
                message: format!("no transfer {id}"),
            })?,
    };
    if record.state == TransferState::Done {
        return Err(invalid(format!("transfer {id} is done; nothing to retry")));
    }
    record.state = TransferState::Queued;
    record.attempts = 0;
    record.error = None;
    record.finished_us = None;
    {
        let mut queue = shared.lock_queue();
        if queue.get(id).is_none() {
            record.position = queue.take_position();
            queue.insert(record.clone());
        } else if let Some(item) = queue.get_mut(id) {
            item.record = record.clone();
        }
    }
    if let Some(pool) = shared.pools.lock().await.get(&record.profile) {
        pool.clear_fatal();
    }
    persist(shared, &record);
    shared.wake.notify_one();
    Ok(())
}

pub(crate) async fn move_item(shared: &Arc<Shared>, id: u64, up: bool) -> Result<(), Failure> {
    let changed = shared.lock_queue().move_item(id, up);
    match changed {
        Some((a, b)) => {
            shared.recorder.put(a);
            shared.recorder.put(b);
            Ok(())
        }
        None if shared.lock_queue().get(id).is_some() => Ok(()),
        None => Err(not_in_queue(id)),
    }
}

/// Stops taking work, interrupts running transfers (their workers record the offsets), waits a
/// bounded time for them, and closes connections.
pub(crate) async fn shutdown(shared: &Arc<Shared>) {
    shared.shutdown.cancel();
    {
        let mut queue = shared.lock_queue();
        for item in queue.items_mut() {
            if let Some(cancel) = &item.cancel {
                item.stop = Some(StopReason::Shutdown);
                cancel.cancel();
            }
        }
    }
    shared.workers.close();
    if tokio::time::timeout(SHUTDOWN_WAIT, shared.workers.wait())
        .await
        .is_err()
    {
        tracing::warn!("some transfers did not stop in time");
    }
    let interrupted: Vec<_> = {
        let mut queue = shared.lock_queue();
        queue
            .items_mut()
            .filter(|item| item.record.state == TransferState::Running)
            .map(|item| {
                item.sync_counters();
                item.record.state = TransferState::Interrupted;
                item.record.clone()
            })
            .collect()
    };
    for record in interrupted {
        shared.recorder.put(record);
    }
    shared.recorder.flush().await;
    for pool in shared.pools.lock().await.values() {
        pool.close_all().await;
    }
}

fn not_in_queue(id: u64) -> Failure {
    Failure {
        kind: ErrorKind::NotFound,
        message: format!("transfer {id} is not in the queue (see `ferry queue`)"),
    }
}

fn invalid(message: String) -> Failure {
    Failure {
        kind: ErrorKind::Invalid,
        message,
    }
}
