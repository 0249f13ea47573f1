//! The engine's in-memory queue: every unfinished transfer with its live counters, in queue
//! order. Views and snapshots for watchers are built here; no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::api::{QueueSnapshot, TransferView};
use super::order::{Pick, QueueOrder};
use crate::transfer::bundle::bundles;
use crate::transfer::copy::Progress;
use crate::transfer::model::{Direction, ItemKind, Transfer, TransferState};

/// Transfers listed in a snapshot besides the running ones (a view asks for more with a
/// window).
const SNAPSHOT_QUEUED: usize = 100;

/// Why a running transfer is being stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Pause,
    Cancel,
    Shutdown,
}

/// One unfinished transfer.
pub struct Item {
    pub record: Transfer,
    pub progress: Arc<Progress>,
    /// Set while a worker runs it.
    pub cancel: Option<CancellationToken>,
    pub stop: Option<StopReason>,
    /// `bytes_sent` recorded before this engine started working on it.
    pub sent_base: u64,
    /// Planned by this engine and not tried yet: it cannot have a part file to resume.
    pub fresh: bool,
    /// Restarts already announced to watchers.
    pub announced_restarts: u32,
    /// While it runs in a bundle: the bundle's first transfer (a bundle takes one slot).
    pub bundle: Option<u64>,
    /// A bundle's attempt at it failed: it runs by itself from now on.
    pub alone: bool,
    rate: RateMeter,
}

impl Item {
    pub fn new(record: Transfer) -> Item {
        let progress = Arc::new(Progress::default());
        progress.done.store(record.offset, Ordering::Relaxed);
        progress.total.store(record.source_size, Ordering::Relaxed);
        *progress.segments.lock().unwrap_or_else(|p| p.into_inner()) = record.segments.clone();
        Item {
            sent_base: record.bytes_sent,
            fresh: false,
            record,
            progress,
            cancel: None,
            stop: None,
            announced_restarts: 0,
            bundle: None,
            alone: false,
            rate: RateMeter::default(),
        }
    }

    fn is_running(&self) -> bool {
        self.record.state == TransferState::Running
    }

    /// Copies the live counters into the record.
    pub fn sync_counters(&mut self) {
        self.record.offset = self.progress.done.load(Ordering::Relaxed);
        self.record.bytes_sent = self.sent_base + self.progress.sent.load(Ordering::Relaxed);
        self.record.segments = self
            .progress
            .segments
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let total = self.progress.total.load(Ordering::Relaxed);
        if total > 0 {
            self.record.source_size = total;
        }
    }

    fn view(&self) -> TransferView {
        let done = self.progress.done.load(Ordering::Relaxed);
        let total = self
            .progress
            .total
            .load(Ordering::Relaxed)
            .max(self.record.source_size);
        let rate = self.rate.rate;
        TransferView {
            id: self.record.id,
            batch: self.record.batch,
            direction: self.record.direction,
            profile: self.record.profile.clone(),
            peer: self.record.peer.clone(),
            source: self.record.source().to_string(),
            destination: self.record.destination().to_string(),
            state: self.record.state,
            done,
            total,
            rate,
            eta_secs: (rate > 0 && total >= done).then(|| (total - done) / rate),
            attempts: self.record.attempts,
            error: self.record.error.as_ref().map(ToString::to_string),
        }
    }
}

/// Recent bytes per second of one transfer (exponentially smoothed).
#[derive(Default)]
struct RateMeter {
    last: Option<(Instant, u64)>,
    rate: u64,
}

impl RateMeter {
    fn update(&mut self, done: u64, running: bool) {
        let now = Instant::now();
        if !running {
            self.last = None;
            self.rate = 0;
            return;
        }
        if let Some((when, before)) = self.last {
            let secs = now.duration_since(when).as_secs_f64();
            if secs < 0.05 {
                return;
            }
            let instant = done.saturating_sub(before) as f64 / secs;
            self.rate = if self.rate == 0 {
                instant as u64
            } else {
                (0.7 * self.rate as f64 + 0.3 * instant) as u64
            };
        }
        self.last = Some((now, done));
    }
}

/// What makes two transfers the same copy: a re-issued command adopts the unfinished one.
type CopyKey = (Direction, ItemKind, String, String, String);

fn copy_key(record: &Transfer) -> CopyKey {
    (
        record.direction,
        record.kind,
        record.profile.clone(),
        record.local_path.clone(),
        record.remote_path.clone(),
    )
}

/// Every unfinished transfer, by id.
#[derive(Default)]
pub struct Queue {
    items: BTreeMap<u64, Item>,
    /// Unfinished transfers by the copy they do: a re-issued request finds its old transfer
    /// without scanning the queue.
    by_copy: HashMap<CopyKey, u64>,
    order: QueueOrder,
    /// Every transfer by (position, id): the queue's order for views, without sorting.
    ordered: BTreeSet<(u64, u64)>,
    /// Transfers marked running (some may have stopped since; checked on use).
    running_ids: BTreeSet<u64>,
    next_position: u64,
    /// Bytes sent by transfers that have left the queue, and the rate of all bytes sent: small
    /// files finish between two snapshots and would never show in a running transfer's rate.
    sent_by_gone: u64,
    rate: RateMeter,
}

impl Queue {
    /// Adds a transfer restored from the store (it may have a part file somewhere).
    pub fn insert(&mut self, record: Transfer) {
        self.next_position = self.next_position.max(record.position + 1);
        self.by_copy.insert(copy_key(&record), record.id);
        if let Some(old) = self.items.remove(&record.id) {
            let old = &old.record;
            self.order.remove(&old.profile, old.position, old.id);
            self.ordered.remove(&(old.position, old.id));
        }
        self.order.add(&record.profile, record.position, record.id);
        self.ordered.insert((record.position, record.id));
        self.items.insert(record.id, Item::new(record));
    }

    /// Adds a transfer just planned.
    pub fn insert_fresh(&mut self, record: Transfer) {
        self.insert(record.clone());
        if let Some(item) = self.items.get_mut(&record.id) {
            item.fresh = true;
        }
    }

    /// The position for a transfer added now (after everything queued).
    pub fn take_position(&mut self) -> u64 {
        let position = self.next_position;
        self.next_position += 1;
        position
    }

    pub fn get(&self, id: u64) -> Option<&Item> {
        self.items.get(&id)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Item> {
        self.items.get_mut(&id)
    }

    pub fn remove(&mut self, id: u64) -> Option<Item> {
        let item = self.items.remove(&id)?;
        self.sent_by_gone += item.progress.sent.load(Ordering::Relaxed);
        self.order
            .remove(&item.record.profile, item.record.position, id);
        self.ordered.remove(&(item.record.position, id));
        self.running_ids.remove(&id);
        let key = copy_key(&item.record);
        if self.by_copy.get(&key) == Some(&id) {
            self.by_copy.remove(&key);
        }
        Some(item)
    }

    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.items.values()
    }

    pub fn items_mut(&mut self) -> impl Iterator<Item = &mut Item> {
        self.items.values_mut()
    }

    /// An unfinished transfer doing the same copy as `record`.
    pub fn find_same(&self, record: &Transfer) -> Option<u64> {
        self.by_copy.get(&copy_key(record)).copied()
    }

    /// Notes that `id` now runs (forgetting those that stopped since the last time).
    pub fn mark_running(&mut self, id: u64) {
        let items = &self.items;
        self.running_ids
            .retain(|id| items.get(id).is_some_and(Item::is_running));
        self.running_ids.insert(id);
    }

    fn running_items(&self) -> impl Iterator<Item = &Item> {
        self.running_ids
            .iter()
            .filter_map(|id| self.items.get(id))
            .filter(|item| item.is_running())
    }

    /// Running transfers that take a slot each: one per bundle, one per other transfer.
    fn running_slots(&self) -> impl Iterator<Item = &Item> {
        let mut bundles = HashSet::new();
        self.running_items()
            .filter(move |item| item.bundle.is_none_or(|lead| bundles.insert(lead)))
    }

    /// Slots taken by running transfers (a bundle of small files takes one).
    pub fn running(&self) -> usize {
        self.running_slots().count()
    }

    /// What the scheduler starts next: up to `room` queued transfers in queue order, at most
    /// `capacity[profile]` slots per profile.
    pub fn pick(&self, room: usize, capacity: &HashMap<String, usize>) -> Pick {
        let mut free = capacity.clone();
        for item in self.running_slots() {
            if let Some(left) = free.get_mut(&item.record.profile) {
                *left = left.saturating_sub(1);
            }
        }
        let is_queued = |id| {
            self.items
                .get(&id)
                .is_some_and(|i| i.record.state == TransferState::Queued)
        };
        self.order.pick(room, is_queued, &mut free)
    }

    /// Queued transfers that may join `lead`'s bundle: after it in its profile's order, of the
    /// same request, small uploads or downloads not set to run alone, at most `files` of them
    /// and `bytes` in all (with the lead's). Looks only a little way ahead, so a long queue
    /// costs no long scan.
    pub fn bundle_mates(&self, lead: u64, files: usize, bytes: u64) -> Vec<u64> {
        let Some(first) = self.items.get(&lead).map(|i| &i.record) else {
            return Vec::new();
        };
        let mut total = first.source_size;
        let mut mates = Vec::new();
        let ahead = self.order.after(&first.profile, first.position, lead);
        for id in ahead.take(files.saturating_mul(4)) {
            if mates.len() >= files {
                break;
            }
            let Some(item) = self.items.get(&id) else {
                continue;
            };
            let record = &item.record;
            if record.state != TransferState::Queued || record.batch != first.batch {
                continue;
            }
            if item.alone || !bundles(record) || total + record.source_size > bytes {
                continue;
            }
            total += record.source_size;
            mates.push(id);
        }
        mates
    }

    /// Queued transfers in queue order.
    pub fn queued_in_order(&self) -> Vec<u64> {
        self.ordered
            .iter()
            .map(|&(_, id)| id)
            .filter(|id| {
                self.items
                    .get(id)
                    .is_some_and(|i| i.record.state == TransferState::Queued)
            })
            .collect()
    }

    /// The transfers that are not running, in queue order.
    fn waiting_in_order(&self) -> impl Iterator<Item = &Item> {
        self.ordered
            .iter()
            .filter_map(|(_, id)| self.items.get(id))
            .filter(|item| !item.is_running())
    }

    /// Running transfers by id.
    fn running_views(&self) -> Vec<TransferView> {
        let mut running: Vec<TransferView> =
            self.running_items().map(Item::view).collect::<Vec<_>>();
        running.sort_by_key(|v| v.id);
        running.dedup_by_key(|v| v.id);
        running
    }

    /// `len` rows from `start` of the whole queue as views show it (running transfers first,
    /// then the rest in queue order), and how many rows there are.
    pub fn window(&self, start: usize, len: usize) -> (usize, Vec<TransferView>) {
        let running = self.running_views();
        let total = self.items.len();
        let rows: Vec<TransferView> = if start < running.len() {
            let from_running = running.into_iter().skip(start).take(len);
            let rest = len.saturating_sub(from_running.len());
            from_running
                .chain(self.waiting_in_order().take(rest).map(Item::view))
                .collect()
        } else {
            self.waiting_in_order()
                .skip(start - running.len())
                .take(len)
                .map(Item::view)
                .collect()
        };
        (total, rows)
    }

    /// Swaps a queued transfer with its neighbour; returns the two records that changed.
    pub fn move_item(&mut self, id: u64, up: bool) -> Option<(Transfer, Transfer)> {
        let order = self.queued_in_order();
        let index = order.iter().position(|x| *x == id)?;
        let other = if up {
            order.get(index.checked_sub(1)?)?
        } else {
            order.get(index + 1)?
        };
        let other = *other;
        let a = self.items.get(&id)?.record.position;
        let b = self.items.get(&other)?.record.position;
        let profile_of = |queue: &Queue, id: u64| queue.items[&id].record.profile.clone();
        let (pa, pb) = (profile_of(self, id), profile_of(self, other));
        self.order.remove(&pa, a, id);
        self.order.remove(&pb, b, other);
        self.ordered.remove(&(a, id));
        self.ordered.remove(&(b, other));
        let (a, b) = if a == b { (a, b + 1) } else { (a, b) };
        self.items.get_mut(&id)?.record.position = b;
        self.items.get_mut(&other)?.record.position = a;
        self.order.add(&pa, b, id);
        self.order.add(&pb, a, other);
        self.ordered.insert((b, id));
        self.ordered.insert((a, other));
        Some((
            self.items.get(&id)?.record.clone(),
            self.items.get(&other)?.record.clone(),
        ))
    }

    /// Bytes per second sent lately by all transfers, running or finished since.
    fn total_rate(&mut self) -> u64 {
        let sent = self.sent_by_gone
            + self
                .items
                .values()
                .map(|i| i.progress.sent.load(Ordering::Relaxed))
                .sum::<u64>();
        let running = self.running_items().next().is_some();
        self.rate.update(sent, running);
        self.rate.rate
    }

    /// Updates rates and builds the watchers' snapshot: counts and totals over the whole
    /// queue (one pass, no sorting) and the first rows.
    pub fn snapshot(&mut self, limit: u64) -> QueueSnapshot {
        for item in self.items.values_mut() {
            let done = item.progress.done.load(Ordering::Relaxed);
            item.rate
                .update(done, item.record.state == TransferState::Running);
        }
        let rate = self.total_rate();
        let mut snapshot = QueueSnapshot {
            total: self.items.len(),
            rate,
            limit,
            ..QueueSnapshot::default()
        };
        for item in self.items.values() {
            match item.record.state {
                TransferState::Running => snapshot.running += 1,
                TransferState::Queued => snapshot.queued += 1,
                TransferState::Paused => snapshot.paused += 1,
                _ => {}
            }
            snapshot.done_bytes += item.progress.done.load(Ordering::Relaxed);
            snapshot.total_bytes += item
                .progress
                .total
                .load(Ordering::Relaxed)
                .max(item.record.source_size);
        }
        snapshot.transfers = self.running_views();
        snapshot.transfers.extend(
            self.waiting_in_order()
                .take(SNAPSHOT_QUEUED)
                .map(Item::view),
        );
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::model::samples::upload;

    fn queue(sizes: &[u64]) -> Queue {
        let mut queue = Queue::default();
        for (n, size) in sizes.iter().enumerate() {
            queue.insert(upload(n as u64 + 1, *size));
        }
        queue
    }

    fn run(queue: &mut Queue, id: u64, bundle: Option<u64>) {
        let item = queue.get_mut(id).expect("item");
        item.record.state = TransferState::Running;
        item.bundle = bundle;
        queue.mark_running(id);
    }

    #[test]
    fn a_bundle_takes_one_slot() {
        let mut queue = queue(&[10, 10, 10, 10]);
        for id in [1, 2, 3] {
            run(&mut queue, id, Some(1));
        }
        assert_eq!(queue.running(), 1);
        run(&mut queue, 4, None);
        assert_eq!(queue.running(), 2);
        let capacity = HashMap::from([("p".to_string(), 2)]);
        assert_eq!(queue.pick(5, &capacity), Pick::Start(vec![]));
    }

    #[test]
    fn bundle_mates_follow_in_order_within_limits() {
        let big = crate::transfer::bundle::BUNDLE_FILE_LIMIT + 1;
        let mut queue = queue(&[100, 100, big, 100, 100, 100, 100]);
        queue.get_mut(5).expect("item").alone = true;
        queue.get_mut(6).expect("item").record.batch = 2;
        assert_eq!(queue.bundle_mates(1, 10, 1 << 20), vec![2, 4, 7]);
        assert_eq!(queue.bundle_mates(1, 2, 1 << 20), vec![2, 4]);
        assert_eq!(queue.bundle_mates(1, 10, 250), vec![2]);
        run(&mut queue, 2, None);
        assert_eq!(queue.bundle_mates(1, 10, 1 << 20), vec![4, 7]);
    }
}
