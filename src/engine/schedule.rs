//! The engine's two clocks: the scheduler, which starts queued transfers while there is room
//! (globally and per profile), and the publisher, which sends progress snapshots at most ten
//! times a second, announces restarts, saves offsets every few seconds and closes idle
//! connections.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Shared;
use super::api::Event;
use super::order::Pick;
use super::queue::Queue;
use super::{bundle, worker};
use crate::transfer::bundle::{BUNDLE_FILE_LIMIT, BUNDLE_FILES, bundles};
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
/// so workers finishing at once cannot start more than the limit. Small uploads to and
/// downloads from a server that multiplexes start in bundles, each taking one slot.
pub(crate) async fn start_what_fits(shared: &Arc<Shared>) {
    if !shared.run_queue || shared.shutdown.is_cancelled() {
        return;
    }
    let max = shared.config.transfer.max_concurrent as usize;
    let mut capacity: HashMap<String, usize> = HashMap::new();
    let mut bundling: HashSet<String> = HashSet::new();
    loop {
        let starts = {
            let mut queue = shared.lock_queue();
            match queue.pick(max.saturating_sub(queue.running()), &capacity) {
                Pick::Start(ids) => Ok(claim_starts(shared, &mut queue, ids, &bundling)),
                Pick::NeedCapacity(profile) => Err(profile),
            }
        };
        match starts {
            Ok(starts) => {
                // A bundle may have taken transfers picked for slots of their own: look again.
                let bundled = starts.iter().any(|claims| claims.len() > 1);
                for mut claims in starts {
                    match claims.len() {
                        0 => {}
                        1 => worker::launch(shared, claims.remove(0)),
                        _ => bundle::launch(shared, claims),
                    }
                }
                if !bundled {
                    return;
                }
            }
            Err(profile) => {
                let (cap, multiplexes) = match shared.pool(&profile).await {
                    Ok(pool) => (pool.capacity(), pool.multiplexes()),
                    // The worker reports the error (a missing profile, a locked vault).
                    Err(_) => (1, false),
                };
                if multiplexes {
                    bundling.insert(profile.clone());
                }
                capacity.insert(profile, cap);
            }
        }
    }
}

/// Claims the picked transfers, one slot each; a small upload gathers the ones queued after it
/// into a bundle that shares its slot.
fn claim_starts(
    shared: &Shared,
    queue: &mut Queue,
    ids: Vec<u64>,
    bundling: &HashSet<String>,
) -> Vec<Vec<worker::Claim>> {
    // A bundle's bytes are held about four times over: read, in the write requests, in
    // their packets and read back.
    let bytes = (shared.in_flight_bytes() as u64 / 4).max(BUNDLE_FILE_LIMIT);
    let mut starts = Vec::new();
    for id in ids {
        let Some(item) = queue.get(id) else {
            continue;
        };
        let record = &item.record;
        if record.state != TransferState::Queued {
            continue;
        }
        if bundling.contains(&record.profile) && !item.alone && bundles(record) {
            let mut members = vec![id];
            members.extend(queue.bundle_mates(id, BUNDLE_FILES - 1, bytes));
            if members.len() > 1 {
                starts.push(worker::claim_bundle(queue, &members));
                continue;
            }
        }
        if let Some(claim) = worker::claim(queue, id) {
            starts.push(vec![claim]);
        }
    }
    starts
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
        let snapshot = shared.lock_queue().snapshot(shared.global_limit.rate());
        shared.hub.progress.send_if_modified(|current| {
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
