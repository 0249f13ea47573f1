//! Running one transfer: lease a connection, execute, retry transient failures with backoff
//! (resuming from the part file; attempts that carried the file further do not use up the
//! budget), and record the outcome. A pause, cancel or shutdown stops it through its
//! cancellation token; the reason decides the state it is recorded in.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::Shared;
use super::api::Event;
use super::batch::{count_final, finish_if_done};
use super::queue::{Queue, StopReason};
use super::schedule::start_what_fits;
use crate::remote::{ErrorKind, Remote, RemoteError, endpoint_of};
use crate::store::LogLevel;
use crate::transfer::copy::{CopyOptions, PART_SUFFIX, Progress};
use crate::transfer::execute::{Ends, ItemOutcome, execute};
use crate::transfer::limit::RateLimiter;
use crate::transfer::model::{Direction, ItemKind, Transfer, TransferState, now_us};
use crate::transfer::retry::{Budget, RetryPolicy};

/// A transfer claimed for running: its record as it starts, and the token that stops it.
pub(crate) struct Claim {
    pub record: Transfer,
    pub cancel: CancellationToken,
}

/// Marks a queued `id` running; None when it is no longer queued.
pub(crate) fn claim(queue: &mut Queue, id: u64) -> Option<Claim> {
    let cancel = CancellationToken::new();
    let item = queue
        .get_mut(id)
        .filter(|item| item.record.state == TransferState::Queued)?;
    item.record.state = TransferState::Running;
    item.record.started_us.get_or_insert_with(now_us);
    item.record.error = None;
    item.cancel = Some(cancel.clone());
    item.stop = None;
    item.bundle = None;
    let record = item.record.clone();
    queue.mark_running(id);
    Some(Claim { record, cancel })
}

/// Claims `ids` as one bundle led by the first: they take one slot together.
pub(crate) fn claim_bundle(queue: &mut Queue, ids: &[u64]) -> Vec<Claim> {
    let Some(&lead) = ids.first() else {
        return Vec::new();
    };
    let claims: Vec<Claim> = ids.iter().filter_map(|&id| claim(queue, id)).collect();
    for claim in &claims {
        if let Some(item) = queue.get_mut(claim.record.id) {
            item.bundle = Some(lead);
        }
    }
    claims
}

/// Starts the worker of a claimed transfer. When it ends, the worker starts what fits in the
/// room it leaves, without a round through the scheduler task.
pub(crate) fn launch(shared: &Arc<Shared>, claim: Claim) {
    let shared = shared.clone();
    let tracker = shared.workers.clone();
    tracker.spawn(async move {
        let Claim { record, cancel } = claim;
        let id = record.id;
        persist(&shared, &record);
        shared.emit(Event::Started { id });
        run(&shared, record, cancel).await;
        start_what_fits(&shared).await;
    });
}

async fn run(shared: &Arc<Shared>, mut record: Transfer, cancel: CancellationToken) {
    let (progress, fresh) = match shared.lock_queue().get_mut(record.id) {
        Some(item) => (item.progress.clone(), std::mem::take(&mut item.fresh)),
        None => return,
    };
    let options = copy_options(shared, &record);
    let retry = RetryPolicy::from_config(&shared.config.transfer);
    let mut budget = Budget::new(progress.done.load(Ordering::Relaxed));
    loop {
        record.attempts += 1;
        let may_resume = !fresh || record.attempts > 1;
        let started = Instant::now();
        let result = tokio::select! {
            biased;
            () = cancel.cancelled() => Err(RemoteError::new(ErrorKind::Cancelled, &Default::default(), "")),
            result = attempt(shared, &mut record, may_resume, &options, &progress, &cancel) => result,
        };
        record.duration_ms += started.elapsed().as_millis() as u64;
        let error = match result {
            Ok(outcome) => return finish(shared, record, Ok(outcome)).await,
            Err(_) if cancel.is_cancelled() => return stopped(shared, record).await,
            Err(error) => error,
        };
        let next = budget.failed(progress.done.load(Ordering::Relaxed));
        let Some(delay) = retry.delay_before(next, &error) else {
            return finish(shared, record, Err(error)).await;
        };
        announce_retry(shared, &mut record, error, delay);
        tokio::select! {
            () = cancel.cancelled() => return stopped(shared, record).await,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// One attempt on lent connections: one for an upload or download, one on each server for a
/// relay (its bytes stream through ferry, held no longer than the pipelines need).
async fn attempt(
    shared: &Arc<Shared>,
    record: &mut Transfer,
    may_resume: bool,
    options: &CopyOptions,
    progress: &Progress,
    cancel: &CancellationToken,
) -> Result<ItemOutcome, RemoteError> {
    let pool = shared.pool(&record.profile).await?;
    let lease = pool.acquire(record.source_size).await?;
    let (result, peer_lease) = match (record.direction, record.peer.clone()) {
        (Direction::Relay, Some(peer)) => {
            let peer_pool = shared.pool(&peer).await?;
            if peer == record.profile && peer_pool.capacity() < 2 {
                return Err(RemoteError::new(
                    ErrorKind::Unsupported,
                    &endpoint_of(peer_pool.profile()),
                    "a copy within one FTP server needs two connections: raise its max connections",
                ));
            }
            let peer_lease = peer_pool.acquire(record.source_size).await?;
            let ends = Ends {
                src: lease.remote().as_ref(),
                dst: peer_lease.remote().as_ref(),
                dst_pool: Some(peer_lease.pool()),
                ranges_pool: None,
            };
            let result = execute(record, may_resume, &ends, options, progress, cancel).await;
            (result, Some(peer_lease))
        }
        (Direction::Relay, None) => {
            return Err(RemoteError::new(
                ErrorKind::Invalid,
                &Default::default(),
                "a copy between servers without its destination profile",
            ));
        }
        (direction, _) => {
            let ends = Ends::of(direction, &lease, &shared.local);
            let result = execute(record, may_resume, &ends, options, progress, cancel).await;
            (result, None)
        }
    };
    let usable = leaves_connection_usable(&result);
    for lease in std::iter::once(lease).chain(peer_lease) {
        match usable {
            true => lease.release(),
            false => drop(lease),
        }
    }
    result
}

/// Whether a connection is in a known state after an attempt: after success or a plain
/// refusal. Otherwise it is closed rather than lent again.
pub(crate) fn leaves_connection_usable<T>(result: &Result<T, RemoteError>) -> bool {
    match result {
        Ok(_) => true,
        Err(err) => matches!(
            err.kind,
            ErrorKind::NotFound | ErrorKind::Permission | ErrorKind::AlreadyExists
        ),
    }
}

/// Tells watchers a transfer will be tried again after `delay`, and records why.
pub(crate) fn announce_retry(
    shared: &Arc<Shared>,
    record: &mut Transfer,
    error: RemoteError,
    delay: std::time::Duration,
) {
    tracing::info!(id = record.id, attempt = record.attempts, %error, "transfer will be retried");
    shared.emit(Event::Retrying {
        id: record.id,
        attempt: record.attempts,
        delay_ms: delay.as_millis() as u64,
        error: error.to_string(),
    });
    record.error = Some(error);
    sync_and_persist(shared, record);
}

/// How a transfer copies, from the config and its request's bandwidth limit.
pub(crate) fn copy_options(shared: &Arc<Shared>, record: &Transfer) -> CopyOptions {
    let transfer = &shared.config.transfer;
    // The request's limit is shared by its transfers; a transfer restored from an earlier run
    // (whose request is gone) keeps the limit to itself.
    let request_limit = super::lock(&shared.batches)
        .running
        .get(&record.batch)
        .map(|batch| batch.limiter.clone())
        .unwrap_or_else(|| RateLimiter::new(record.limit).map(Arc::new));
    CopyOptions {
        atomic: transfer.atomic,
        resume: true,
        verify_hash: transfer.verify_checksum,
        preserve_mtime: transfer.preserve_mtime,
        limits: std::iter::once(shared.global_limit.clone())
            .chain(request_limit)
            .collect(),
        conflicts: Some(Arc::new(super::questions::EngineConflicts {
            shared: Arc::downgrade(shared),
        })),
        if_exists: transfer.if_exists,
    }
}

/// Records a final outcome.
pub(crate) async fn finish(
    shared: &Arc<Shared>,
    mut record: Transfer,
    result: Result<ItemOutcome, RemoteError>,
) {
    match result {
        Ok(ItemOutcome::Done { size, verification }) => {
            record.state = TransferState::Done;
            record.error = None;
            record.verification = verification;
            if record.kind == ItemKind::File {
                record.source_size = size;
            }
        }
        Ok(ItemOutcome::Skipped { reason }) => {
            record.state = TransferState::Skipped;
            record.error = None;
            tracing::info!(id = record.id, reason, "transfer skipped");
        }
        Err(error) => {
            record.state = TransferState::Failed;
            let message = format!("transfer {} failed: {error}", record.id);
            tracing::warn!(id = record.id, %error, "transfer failed");
            record.error = Some(error);
            let _ = shared
                .store(move |s| s.log(LogLevel::Error, "transfer", &message))
                .await;
        }
    }
    record.finished_us = Some(now_us());
    conclude(shared, record).await;
}

/// Records a transfer stopped by pause, cancel or shutdown.
pub(crate) async fn stopped(shared: &Arc<Shared>, mut record: Transfer) {
    let reason = shared
        .lock_queue()
        .get(record.id)
        .and_then(|item| item.stop)
        .unwrap_or(StopReason::Shutdown);
    record.state = match reason {
        StopReason::Pause => TransferState::Paused,
        StopReason::Cancel => TransferState::Cancelled,
        StopReason::Shutdown => TransferState::Interrupted,
    };
    record.error = None;
    if reason == StopReason::Cancel {
        record.finished_us = Some(now_us());
        remove_part(shared, &record).await;
    }
    conclude(shared, record).await;
}

/// Saves the record, updates the queue and the batch, and tells the watchers.
async fn conclude(shared: &Arc<Shared>, mut record: Transfer) {
    {
        let mut queue = shared.lock_queue();
        if let Some(item) = queue.get_mut(record.id) {
            keep_queue_fields(&mut record, &item.record);
            item.record = record.clone();
            item.sync_counters();
            item.cancel = None;
            record = item.record.clone();
            if record.state.is_final() {
                // Counted before it leaves the queue, so no one sees the batch finished without it.
                count_final(shared, &record);
                queue.remove(record.id);
            }
        }
    }
    persist(shared, &record);
    let batch = record.batch;
    shared.emit(Event::Finished { transfer: record });
    finish_if_done(shared, batch);
}

pub(crate) fn sync_and_persist(shared: &Arc<Shared>, record: &mut Transfer) {
    if let Some(item) = shared.lock_queue().get_mut(record.id) {
        item.sync_counters();
        record.offset = item.record.offset;
        record.bytes_sent = item.record.bytes_sent;
        keep_queue_fields(record, &item.record);
        item.record = record.clone();
    }
    persist(shared, record);
}

/// While a worker runs, a newer request may adopt its transfer or the queue be reordered: those
/// fields belong to the queue, not to the worker's copy.
pub(crate) fn keep_queue_fields(record: &mut Transfer, queued: &Transfer) {
    record.batch = queued.batch;
    record.position = queued.position;
    record.overwrite = queued.overwrite;
    record.limit = queued.limit;
}

pub(crate) fn persist(shared: &Arc<Shared>, record: &Transfer) {
    shared.recorder.put(record.clone());
}

/// Deletes a cancelled transfer's part file (best effort: it may not exist).
pub(crate) async fn remove_part(shared: &Arc<Shared>, record: &Transfer) {
    if record.kind != ItemKind::File || !shared.config.transfer.atomic {
        return;
    }
    // Fresh part files of a server that would not reopen the usual one go too.
    let fresh = match shared.lock_queue().get(record.id) {
        Some(item) => item.progress.take_fresh_parts(),
        None => Vec::new(),
    };
    let parts = std::iter::once(format!("{}{PART_SUFFIX}", record.destination())).chain(fresh);
    let result = match record.destination_profile() {
        None => remove_all(&shared.local, parts).await,
        Some(profile) => match shared.pool(profile).await {
            Ok(pool) => match pool.acquire(0).await {
                Ok(lease) => {
                    let removed = remove_all(lease.remote().as_ref(), parts).await;
                    lease.release();
                    removed
                }
                Err(err) => Err(err),
            },
            Err(err) => Err(err),
        },
    };
    if let Err(err) = result {
        tracing::warn!(%err, "could not remove the part file of a cancelled transfer");
    }
}

/// Removes each of `parts` that exists; the first failure other than a missing file.
async fn remove_all(
    remote: &dyn Remote,
    parts: impl Iterator<Item = String>,
) -> Result<(), RemoteError> {
    let mut first = Ok(());
    for part in parts {
        if let Err(err) = remote.remove_file(&part).await
            && err.kind != ErrorKind::NotFound
            && first.is_ok()
        {
            first = Err(err);
        }
    }
    first
}
