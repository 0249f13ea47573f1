//! The engine's two clocks: the scheduler, which starts queued transfers while there is room
//! (globally and per profile), and the publisher, which sends progress snapshots at most ten
//! times a second, announces restarts, saves offsets every few seconds and closes idle
//! connections.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Shared;
use super::api::Event;
use super::order::Pick;
use super::worker;
use crate::transfer::model::TransferState;

const PUBLISH_EVERY: Duration = Duration::from_millis(100);
const SAVE_EVERY: Duration = Duration::from_secs(2);
const SAVE_AFTER_BYTES: u64 = 8 << 20;
const REAP_EVERY: Duration = Duration::from_secs(5);

/// Starts transfers until the engine shuts down.
pub(crate) async fn run(shared: Arc<Shared>) {
    loop {
        start_what_fits(&shared).await;
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// Starts queued transfers while there is room. Picking and claiming happen under one lock,
/// so workers finishing at once cannot start more than the limit.
pub(crate) async fn start_what_fits(shared: &Arc<Shared>) {
    if !shared.run_queue || shared.shutdown.is_cancelled() {
        return;
    }
    let max = shared.config.transfer.max_concurrent as usize;
    let mut capacity: HashMap<String, usize> = HashMap::new();
    loop {
        let claims = {
            let mut queue = shared.lock_queue();
            match queue.pick(max.saturating_sub(queue.running()), &capacity) {
                Pick::Start(ids) => Ok(ids
                    .into_iter()
                    .filter_map(|id| worker::claim(&mut queue, id))
                    .collect::<Vec<_>>()),
                Pick::NeedCapacity(profile) => Err(profile),
            }
        };
        match claims {
            Ok(claims) => {
                for claim in claims {
                    worker::launch(shared, claim);
                }
                return;
            }
            Err(profile) => {
                let cap = match shared.pool(&profile).await {
                    Ok(pool) => pool.capacity(),
                    // The worker reports the error (a missing profile, a locked vault).
                    Err(_) => 1,
                };
                capacity.insert(profile, cap);
            }
        }
    }
}

/// Publishes snapshots and saves offsets until the engine shuts down.
pub(crate) async fn publish(shared: Arc<Shared>) {
    let mut ticker = tokio::time::interval(PUBLISH_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_save = Instant::now();
    let mut last_reap = Instant::now();
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        announce_restarts(&shared);
        let snapshot = shared.lock_queue().snapshot();
        shared.progress.send_if_modified(|current| {
            let changed = *current != snapshot;
            if changed {
                *current = snapshot;
            }
            changed
        });
        if last_save.elapsed() >= SAVE_EVERY || unsaved_bytes(&shared) >= SAVE_AFTER_BYTES {
            save_offsets(&shared).await;
            last_save = Instant::now();
        }
        if last_reap.elapsed() >= REAP_EVERY {
            let pools: Vec<_> = shared.pools.lock().await.values().cloned().collect();
            for pool in pools {
                pool.reap_idle().await;
            }
            last_reap = Instant::now();
        }
    }
}

/// Tells watchers, before the snapshot that shows it, that a transfer went back to an offset.
fn announce_restarts(shared: &Shared) {
    let mut events = Vec::new();
    for item in shared.lock_queue().items_mut() {
        let restarts = item.progress.restarts.load(Ordering::SeqCst);
        if restarts > item.announced_restarts {
            item.announced_restarts = restarts;
            events.push(Event::Restarted {
                id: item.record.id,
                from: item.progress.done.load(Ordering::Relaxed),
                reason: "continuing from what the destination has".into(),
            });
        }
    }
    for event in events {
        shared.emit(event);
    }
}

fn unsaved_bytes(shared: &Shared) -> u64 {
    shared
        .lock_queue()
        .items()
        .filter(|i| i.record.state == TransferState::Running)
        .map(|i| {
            i.progress
                .done
                .load(Ordering::Relaxed)
                .saturating_sub(i.record.offset)
        })
        .sum()
}

/// Writes the offsets of running transfers in one transaction.
async fn save_offsets(shared: &Arc<Shared>) {
    let records: Vec<_> = shared
        .lock_queue()
        .items_mut()
        .filter(|i| i.record.state == TransferState::Running)
        .filter_map(|item| {
            let before = item.record.offset;
            item.sync_counters();
            (item.record.offset != before).then(|| item.record.clone())
        })
        .collect();
    for record in records {
        shared.recorder.put(record);
    }
}
