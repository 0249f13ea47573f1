//! Batches: one request (a command, a TUI action, a job run) planned into transfers that join
//! the queue as the walk finds them. A batch ends when its planning is over and every one of its
//! transfers is final; then `BatchDone` reports the counts.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::api::{BatchSummary, Event, Failure, Response};
use super::{Shared, lock};
use crate::remote::{ErrorKind, RemoteError};
use crate::transfer::lanes;
use crate::transfer::limit::RateLimiter;
use crate::transfer::model::{
    Direction, ItemKind, Transfer, TransferRequest, TransferState, now_us,
};
use crate::transfer::plan::{PlanCounts, PlannedItem, plan};
use crate::transfer::pool::Pool;
use crate::transfer::retry::RetryPolicy;

/// The batches of this engine: those under way, and the counts of the last ones finished.
#[derive(Default)]
pub(crate) struct Batches {
    pub running: HashMap<u64, Batch>,
    pub finished: VecDeque<(u64, BatchSummary)>,
}

/// Progress of one batch.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub planning: bool,
    /// The request's own bandwidth limit, shared by all its transfers.
    pub limiter: Option<Arc<RateLimiter>>,
    pub summary: BatchSummary,
    pub error: Option<String>,
}

/// Finished batches whose counts are kept for a late `Request::Batch`.
const FINISHED_KEPT: usize = 256;

/// Queues `request` as a new batch: planning runs in its own task; returns the batch id.
pub(crate) async fn enqueue(
    shared: &Arc<Shared>,
    request: TransferRequest,
) -> Result<u64, Failure> {
    let invalid = |message: &str| Failure {
        kind: ErrorKind::Invalid,
        message: message.to_string(),
    };
    if request.sources.is_empty() {
        return Err(invalid("nothing to transfer: give at least one source"));
    }
    if (request.direction == Direction::Relay) != request.peer.is_some() {
        return Err(invalid(
            "a copy between servers names its destination profile (and only such a copy does)",
        ));
    }
    let batch = shared
        .store(|s| s.reserve_transfer_ids(1))
        .await
        .map_err(super::store_failure)?;
    lock(&shared.batches).running.insert(
        batch,
        Batch {
            planning: true,
            limiter: RateLimiter::new(request.limit).map(Arc::new),
            ..Batch::default()
        },
    );
    let task_shared = shared.clone();
    shared.workers.spawn(async move {
        let mut error = None;
        if let Err(err) = plan_with_retries(&task_shared, batch, &request).await {
            // Nothing planned (the server could not be reached or logged in to): each source
            // is recorded as failed, so the history says what was attempted and why.
            let recorded = !planned_any(&task_shared, batch)
                && add_items(&task_shared, batch, &request, unplanned(&request, &err))
                    .await
                    .is_ok();
            if !recorded {
                error = Some(err.to_string());
            }
        }
        {
            let mut batches = lock(&task_shared.batches);
            if let Some(state) = batches.running.get_mut(&batch) {
                state.planning = false;
                state.error = error;
            }
        }
        finish_if_done(&task_shared, batch);
    });
    Ok(batch)
}

fn planned_any(shared: &Shared, batch: u64) -> bool {
    shared.lock_queue().items().any(|i| i.record.batch == batch)
}

/// Plans, trying again after a transient failure (a dropped connection, a timeout) as long as
/// nothing has been queued yet; once items are queued, a new walk would queue them twice.
async fn plan_with_retries(
    shared: &Arc<Shared>,
    batch: u64,
    request: &TransferRequest,
) -> Result<(), RemoteError> {
    let retry = RetryPolicy::from_config(&shared.config.transfer);
    let mut attempt = 1;
    loop {
        let err = match plan_batch(shared, batch, request).await {
            Err(err) if !planned_any(shared, batch) => err,
            other => return other,
        };
        attempt += 1;
        let Some(delay) = retry.delay_before(attempt, &err) else {
            return Err(err);
        };
        tracing::info!(batch, attempt, %err, "planning will be retried");
        tokio::select! {
            () = shared.shutdown.cancelled() => return Err(err),
            () = tokio::time::sleep(delay) => {}
        }
    }
}

async fn plan_batch(
    shared: &Arc<Shared>,
    batch: u64,
    request: &TransferRequest,
) -> Result<(), RemoteError> {
    let pool = shared.pool(&request.profile).await?;
    lanes::warm_up(&pool, request.direction, &request.sources).await;
    let lease = pool.acquire(0).await?;
    // Asking for the login directory costs a round trip: only when a remote path needs it.
    let base = match names_start_dir(request) {
        true => start_dir(&pool, lease.remote().as_ref()).await?,
        false => "/".to_string(),
    };
    let mut request = request.clone();
    if let Some(peer) = request.peer.clone()
        && !request.target.starts_with('/')
    {
        let peer_pool = shared.pool(&peer).await?;
        let peer_lease = peer_pool.acquire(0).await?;
        let peer_base = start_dir(&peer_pool, peer_lease.remote().as_ref()).await?;
        peer_lease.release();
        request.target = crate::remote::names::join(&peer_base, &request.target);
    }
    let request = &request;
    let (tx, mut rx) = mpsc::channel::<Vec<PlannedItem>>(4);
    let cancel = shared.shutdown.child_token();
    let planner = {
        let request = request.clone();
        let remote = lease.remote().clone();
        let cancel: CancellationToken = cancel.clone();
        tokio::spawn(async move { plan(&request, remote.as_ref(), &base, &cancel, tx).await })
    };
    let mut counts = PlanCounts::default();
    while let Some(chunk) = rx.recv().await {
        for item in &chunk {
            match item.kind {
                ItemKind::File => {
                    counts.files += 1;
                    counts.bytes += item.size;
                }
                ItemKind::Mkdir => counts.dirs += 1,
            }
        }
        add_items(shared, batch, request, chunk).await?;
        shared.emit(Event::Planning {
            batch,
            files: counts.files,
            dirs: counts.dirs,
            bytes: counts.bytes,
            finished: false,
        });
    }
    let planned = planner
        .await
        .map_err(|e| RemoteError::new(ErrorKind::LocalIo, &Default::default(), e.to_string()))?;
    lease.release();
    let counts = planned?;
    shared.emit(Event::Planning {
        batch,
        files: counts.files,
        dirs: counts.dirs,
        bytes: counts.bytes,
        finished: true,
    });
    Ok(())
}

/// Whether a remote path of `request` is relative to the profile's start directory (an
/// upload's target; a download's or relay's sources).
fn names_start_dir(request: &TransferRequest) -> bool {
    let relative = |path: &String| !path.starts_with('/');
    match request.direction {
        Direction::Upload => relative(&request.target),
        Direction::Download | Direction::Relay => request.sources.iter().any(relative),
    }
}

/// A profile's start directory: its remote dir, or the login directory.
async fn start_dir(pool: &Pool, remote: &dyn crate::remote::Remote) -> Result<String, RemoteError> {
    match &pool.profile().remote_dir {
        Some(dir) => Ok(dir.clone()),
        None => remote.home().await,
    }
}

/// Whether batch `id` is finished, and its counts so far.
pub(crate) fn status(shared: &Shared, id: u64) -> Response {
    let batches = lock(&shared.batches);
    if let Some(batch) = batches.running.get(&id) {
        return Response::Batch {
            finished: false,
            summary: batch.summary.clone(),
        };
    }
    match batches.finished.iter().find(|(b, _)| *b == id) {
        Some((_, summary)) => Response::Batch {
            finished: true,
            summary: summary.clone(),
        },
        None => Response::error(ErrorKind::NotFound, format!("no batch {id} in this engine")),
    }
}

/// Failed items for every source of a request that could not be planned.
fn unplanned(request: &TransferRequest, error: &RemoteError) -> Vec<PlannedItem> {
    request
        .sources
        .iter()
        .map(|source| {
            let name = crate::remote::names::base_name(source);
            let (local_path, remote_path) = match request.direction {
                Direction::Upload => (
                    source.clone(),
                    crate::remote::names::join(&request.target, name),
                ),
                Direction::Download => (
                    crate::remote::names::join(&request.target, name),
                    source.clone(),
                ),
                Direction::Relay => (
                    crate::remote::names::join(&request.target, name),
                    source.clone(),
                ),
            };
            PlannedItem {
                kind: ItemKind::File,
                local_path,
                remote_path,
                size: 0,
                mtime: None,
                error: Some(error.clone()),
            }
        })
        .collect()
}

/// Turns planned items into queued records (adopting unfinished ones doing the same copy),
/// stores them in one transaction, and wakes the scheduler.
async fn add_items(
    shared: &Arc<Shared>,
    batch: u64,
    request: &TransferRequest,
    items: Vec<PlannedItem>,
) -> Result<(), RemoteError> {
    let count = items.len() as u64;
    let first_id = shared
        .store(move |s| s.reserve_transfer_ids(count))
        .await
        .map_err(store_error)?;
    let created = now_us();
    let mut records = Vec::with_capacity(items.len());
    let mut finished = Vec::new();
    {
        let mut queue = shared.lock_queue();
        for (n, item) in items.into_iter().enumerate() {
            let mut record = Transfer {
                id: first_id + n as u64,
                batch,
                direction: request.direction,
                kind: item.kind,
                profile: request.profile.clone(),
                peer: request.peer.clone(),
                local_path: item.local_path,
                remote_path: item.remote_path,
                state: TransferState::Queued,
                overwrite: request.overwrite,
                limit: request.limit,
                source_size: item.size,
                source_mtime: item.mtime,
                offset: 0,
                bytes_sent: 0,
                attempts: 0,
                error: None,
                verification: None,
                position: 0,
                created_us: created,
                started_us: None,
                finished_us: None,
                duration_ms: 0,
                run_id: None,
                segments: Vec::new(),
            };
            if let Some(error) = item.error {
                // The file log escapes what the server's text holds (`logging`).
                tracing::warn!(%error, "transfer failed while planning");
                record.state = TransferState::Failed;
                record.error = Some(error);
                record.finished_us = Some(created);
                finished.push(record.clone());
                records.push(record);
                continue;
            }
            if let Some(existing) = queue.find_same(&record)
                && let Some(old) = queue.get_mut(existing)
            {
                old.record.batch = batch;
                old.record.overwrite = request.overwrite;
                old.record.limit = request.limit;
                if old.record.state != TransferState::Running {
                    old.record.state = TransferState::Queued;
                }
                records.push(old.record.clone());
                continue;
            }
            record.position = queue.take_position();
            queue.insert_fresh(record.clone());
            records.push(record);
        }
    }
    shared
        .store(move |s| s.put_transfers(&records))
        .await
        .map_err(store_error)?;
    for record in finished {
        count_final(shared, &record);
        shared.emit(Event::Finished { transfer: record });
    }
    shared.wake.notify_one();
    Ok(())
}

fn store_error(err: crate::store::StoreError) -> RemoteError {
    RemoteError::new(ErrorKind::LocalIo, &Default::default(), err.to_string())
}

/// Adds a final transfer to its batch's counts.
pub(crate) fn count_final(shared: &Shared, record: &Transfer) {
    let mut batches = lock(&shared.batches);
    let Some(batch) = batches.running.get_mut(&record.batch) else {
        return;
    };
    let summary = &mut batch.summary;
    match record.state {
        TransferState::Done => {
            summary.done += 1;
            summary.bytes += record.source_size;
        }
        TransferState::Skipped => summary.skipped += 1,
        TransferState::Failed => summary.failed += 1,
        TransferState::Cancelled => summary.cancelled += 1,
        _ => {}
    }
}

/// Emits `BatchDone` when the batch is planned and none of its transfers is unfinished.
pub(crate) fn finish_if_done(shared: &Shared, batch: u64) {
    let busy = shared.lock_queue().items().any(|item| {
        item.record.batch == batch
            && !item.record.state.is_final()
            && item.record.state != TransferState::Paused
    });
    if busy {
        return;
    }
    let done = {
        let mut batches = lock(&shared.batches);
        match batches.running.get(&batch) {
            Some(state) if !state.planning => batches.running.remove(&batch),
            _ => None,
        }
    };
    if let Some(state) = &done {
        let mut batches = lock(&shared.batches);
        if batches.finished.len() >= FINISHED_KEPT {
            batches.finished.pop_front();
        }
        batches.finished.push_back((batch, state.summary.clone()));
        shared.questions.forget_batch(batch);
    }
    if let Some(state) = done {
        shared.emit(Event::BatchDone {
            batch,
            summary: state.summary,
            error: state.error,
        });
    }
}

impl Shared {
    /// Each stream's share of the memory budget: its own cap, or the total split over the
    /// transfers that may run at once, whichever is smaller.
    pub(crate) fn in_flight_bytes(&self) -> usize {
        let transfer = &self.config.transfer;
        let share = transfer.memory_total.0 / u64::from(transfer.max_concurrent.max(1));
        transfer.memory_per_transfer.0.min(share) as usize
    }

    /// The connection pool of `name`, created on first use (with its secrets opened).
    pub(crate) async fn pool(self: &Arc<Self>, name: &str) -> Result<Arc<Pool>, RemoteError> {
        let mut pools = self.pools.lock().await;
        if let Some(pool) = pools.get(name) {
            return Ok(pool.clone());
        }
        let (profile, credentials, options) = self.connect_parts(name).await?;
        let pool = Pool::new(profile, credentials, options);
        pools.insert(name.to_string(), pool.clone());
        Ok(pool)
    }

    /// Forgets `name`'s pool (its profile changed): later work connects with the new profile.
    /// Its connections close once their current work ends.
    pub(crate) async fn drop_pool(&self, name: &str) {
        self.pools.lock().await.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::model::OverwritePolicy;

    fn request(direction: Direction, sources: &[&str], target: &str) -> TransferRequest {
        TransferRequest {
            direction,
            profile: "srv".into(),
            peer: None,
            sources: sources.iter().map(|s| s.to_string()).collect(),
            target: target.into(),
            recursive: false,
            overwrite: OverwritePolicy::Overwrite,
            limit: 0,
        }
    }

    #[test]
    fn the_login_directory_is_asked_for_only_when_a_remote_path_is_relative() {
        use Direction::{Download, Relay, Upload};
        assert!(!names_start_dir(&request(Upload, &["a", "b"], "/in")));
        assert!(names_start_dir(&request(Upload, &["/a"], "in")));
        assert!(names_start_dir(&request(Upload, &["/a"], "")));
        assert!(!names_start_dir(&request(Download, &["/a", "/b"], "down")));
        assert!(names_start_dir(&request(Download, &["/a", "b"], "/down")));
        assert!(names_start_dir(&request(Relay, &["a"], "/there")));
    }
}
