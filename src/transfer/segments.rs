//! Segmented copies of large files over long links. One SFTP channel moves at most the server's
//! window per round trip (OpenSSH: 2 MiB, so about 40 MB/s at 50 ms), so above a size threshold
//! and a measured round trip the file is cut into blocks moved at once over several sessions,
//! each writing at its offsets into the same part file: more of the profile's connections where
//! its pool has some free, and more channels on them (`lanes`). FTP downloads take blocks too
//! (`REST` + `RETR`, a connection each); FTP uploads stay one stream. The sessions take the
//! blocks in file order, so the file fills from its start and its hash follows the complete
//! prefix while the rest moves. Each block's confirmed progress is kept (in
//! `Progress::segments`, saved with the record), so a retry or a restart continues every block
//! where it stopped; when one block fails the others wind down, so what they had in flight
//! still counts. Verification stays whole-file.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::blocks::{contiguous, cover, split};
use super::copy::{CopyOutcome, FileCopy, Progress, cancelled, next_chunk, reject};
use super::lanes;
use super::model::Segment;
use crate::remote::{ErrorKind, Finish, GrowingHash, Remote, RemoteError, Result};

/// The blocks not taken yet, in file order, each with its index in `Progress::segments`.
type Queue = std::sync::Mutex<VecDeque<(usize, Segment)>>;

/// Files from this size may be segmented.
pub const SEGMENT_FROM: u64 = 64 << 20;
/// Below this round trip one stream keeps up (loopback, a LAN): more would only cost CPU.
pub(super) const LONG_LINK: Duration = Duration::from_millis(5);
/// Round trip that each further range is worth.
const PER_RANGE: Duration = Duration::from_millis(5);
const MOST_RANGES: u64 = 12;
/// The smallest range: shorter ones end before their pipeline fills.
const SMALLEST_RANGE: u64 = 16 << 20;
/// How often the copy's hash is told how far the file is complete.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);
/// How long a block winding down (another one failed) may take to confirm what it sent.
const WIND_DOWN: Duration = Duration::from_secs(10);

/// Whether this attempt moves blocks, and over how many sessions: an attempt that continues
/// the blocks of an earlier one always does (a part written in blocks may have holes, so only
/// its blocks can resume it, whatever the link measures now); else what the link is worth.
pub(super) fn plan(copy: &FileCopy<'_>, resume: bool) -> Option<u64> {
    let continuing = resume && !lock(copy.progress).is_empty();
    match continuing {
        true => Some(ranges_for(copy).unwrap_or(2)),
        false => ranges_for(copy),
    }
}

/// The most sessions a copy of `size` bytes could use besides its own.
pub(super) fn extra_sessions(size: u64) -> usize {
    (size / SMALLEST_RANGE).min(MOST_RANGES).saturating_sub(1) as usize
}

/// How many sessions a copy should use at once; None for one stream: a small file, a short link, a
/// server that cannot move this file in ranges (FTP uploads, FTP without `REST STREAM`), or no
/// local side (a relay streams through ferry once).
pub(super) fn ranges_for(copy: &FileCopy<'_>) -> Option<u64> {
    let size = copy.source.size;
    let (remote, in_ranges) = match (copy.src.is_local(), copy.dst.is_local()) {
        (true, false) => (copy.dst, copy.dst.capabilities().write_ranges),
        (false, true) => (copy.src, copy.src.capabilities().read_ranges),
        _ => return None,
    };
    let round_trip = remote.round_trip()?;
    if !in_ranges || size < SEGMENT_FROM || round_trip < LONG_LINK {
        return None;
    }
    let by_link = (round_trip.as_millis() / PER_RANGE.as_millis()) as u64;
    let mut count = by_link.clamp(2, MOST_RANGES).min(size / SMALLEST_RANGE);
    // Where each range needs a connection of its own (FTP), the profile's cap is the limit.
    if let Some(pool) = copy.pool
        && !pool.multiplexes()
    {
        count = count.min(pool.capacity() as u64);
    }
    (count >= 2).then_some(count)
}

fn lock(progress: &Progress) -> std::sync::MutexGuard<'_, Vec<Segment>> {
    progress
        .segments
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Notes that range `index` has `done` bytes confirmed; `done` of the whole is their sum.
fn advance(progress: &Progress, index: usize, done: u64) {
    let mut segments = lock(progress);
    if let Some(segment) = segments.get_mut(index) {
        segment.done = segment.done.max(done);
    }
    let total = segments.iter().map(|s| s.done).sum();
    progress.done.store(total, Ordering::Relaxed);
}

impl FileCopy<'_> {
    /// Copies in blocks over up to `count` sessions through `target`, continuing the blocks of
    /// an earlier attempt when `resume`; verifies the whole file, dates it and renames it. A
    /// server that refuses to start a read at an offset gets the file as one stream.
    pub(super) async fn copy_segmented(
        &self,
        target: &str,
        resume: bool,
        count: u64,
    ) -> Result<CopyOutcome> {
        let own = match self.dst.is_local() {
            true => self.src,
            false => self.dst,
        };
        let hashing = self.can_compare_hashes();
        let queue = Queue::default();
        // One block failing winds the others down: what they have in flight still lands and
        // counts, so a retry does not move it again; no session starts another block.
        let failed = CancellationToken::new();
        // No block is left to start: logins still under way are given up.
        let drained = CancellationToken::new();
        // The blocks are known and queued (false for good: they could not be worked out).
        let (known, blocks_known) = tokio::sync::watch::channel(false);
        let (queue, failed_ref, drained_ref) = (&queue, &failed, &drained);
        // The blocks start on our own connection once they are known (a round trip); other
        // sessions open meanwhile (channels in three, logins in ten) and join as they can.
        let first = async {
            // Owned here, so that failing to work the blocks out ends every wait for them.
            let known = known;
            let segments = match self.starting_blocks(target, resume, count).await {
                Ok(segments) => segments,
                Err(err) => {
                    failed.cancel();
                    drained.cancel();
                    return Err(err);
                }
            };
            let resumed_from = segments.iter().map(|s| s.done).sum();
            *lock(self.progress) = segments.clone();
            self.progress.start_at(resumed_from, self.source.size);
            *queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = segments
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, s)| s.done < s.end - s.start)
                .collect();
            let _ = known.send(true);
            self.take_blocks(own, target, queue, failed_ref, drained_ref)
                .await
                .map(|()| resumed_from)
        };
        let joining = lanes::joining(own, self.pool, count as usize - 1, drained_ref);
        let others = joining.into_iter().map(|joining| {
            let mut blocks_known = blocks_known.clone();
            async move {
                let joined = joining.await?;
                let known = blocks_known.wait_for(|known| *known).await.is_ok();
                let moved = match known {
                    true => {
                        self.take_blocks(joined.remote(), target, queue, failed_ref, drained_ref)
                            .await
                    }
                    false => Ok(()),
                };
                Some((moved, joined))
            }
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let moves = async {
            let (first, others) = tokio::join!(first, futures::future::join_all(others));
            let _ = stop.send(true);
            // The first failure is the copy's: our own connection's, else the first session's.
            let mut moved = first;
            let mut ending = Vec::new();
            for (result, session) in others.into_iter().flatten() {
                ending.push(session.end(result.is_ok()));
                if let (Ok(_), Err(err)) = (&moved, result) {
                    moved = Err(err);
                }
            }
            (moved, futures::future::join_all(ending))
        };
        // The source is complete: its hash is taken while the blocks move (a download's by
        // the server, an upload's from the local disk). The copy's is taken as its prefix
        // completes (an upload's by the server where it can), once the part exists.
        let early = async {
            match hashing {
                true => Some(self.src.sha256(self.src_path).await),
                false => None,
            }
        };
        let follower = async {
            let mut blocks_known = blocks_known.clone();
            match hashing && blocks_known.wait_for(|known| *known).await.is_ok() {
                true => self.dst.sha256_while_writing(target).await,
                false => None,
            }
        };
        let ((moved, ending), early, growing) =
            tokio::join!(moves, early, self.follow(follower, stopped));
        let resumed_from = match moved {
            Ok(resumed_from) => resumed_from,
            Err(err) if err.kind == ErrorKind::Unsupported => {
                // The server will not start a read at an offset (FTP without REST).
                tracing::info!(%err, "moving the file as one stream instead of in blocks");
                ending.await;
                lock(self.progress).clear();
                return Box::pin(self.copy_streamed(target, false)).await;
            }
            Err(err) => {
                ending.await;
                return Err(err);
            }
        };
        let followed = async {
            let mut growing = growing?;
            growing.advance(self.source.size).await;
            growing.finish().await
        };
        // All at once, each a round trip: the hash finished, the part measured and dated (no
        // block writes any more), the other sessions closed or lent again.
        let (verification, dated, _) = tokio::join!(
            self.verify_whole(target, early, followed),
            self.date(target),
            ending
        );
        lock(self.progress).clear();
        let verification = verification?;
        self.conclude(target, dated, resumed_from, verification)
            .await
    }

    /// Moves the next block in file order on `session`, and the next, until none is left or
    /// one failed somewhere.
    async fn take_blocks(
        &self,
        session: &dyn Remote,
        target: &str,
        queue: &Queue,
        failed: &CancellationToken,
        drained: &CancellationToken,
    ) -> Result<()> {
        let (src, dst) = match self.dst.is_local() {
            true => (session, self.dst),
            false => (self.src, session),
        };
        while !failed.is_cancelled() {
            let next = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .pop_front();
            let Some((index, segment)) = next else {
                drained.cancel();
                break;
            };
            let moved = self
                .move_range(src, dst, target, index, segment, failed)
                .await;
            if moved.is_err() {
                failed.cancel();
                drained.cancel();
                return moved;
            }
        }
        Ok(())
    }

    /// Tells the copy's hash (once `start` gives one) how far the file is complete until the
    /// blocks stop moving.
    async fn follow(
        &self,
        start: impl Future<Output = Option<Box<dyn GrowingHash>>>,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) -> Option<Box<dyn GrowingHash>> {
        let mut growing = start.await?;
        loop {
            tokio::select! {
                () = tokio::time::sleep(FOLLOW_EVERY) => {}
                _ = stopped.wait_for(|stopped| *stopped) => return Some(growing),
            }
            let complete = contiguous(&lock(self.progress));
            growing.advance(complete).await;
        }
    }

    /// The blocks this attempt starts from: those of an earlier attempt it continues, or new
    /// ones after what one stream wrote, or new ones in a fresh, empty part.
    async fn starting_blocks(
        &self,
        target: &str,
        resume: bool,
        count: u64,
    ) -> Result<Vec<Segment>> {
        let size = self.source.size;
        let saved = lock(self.progress).clone();
        let existing = match self.dst.stat(target).await {
            Ok(entry) => Some(entry.size),
            Err(err) if err.kind == ErrorKind::NotFound => None,
            Err(err) => return Err(err),
        };
        if resume && cover(&saved, size) && existing.is_some() {
            return Ok(saved);
        }
        // A part one stream wrote is whole up to its size; one written in ranges may have
        // holes, so that one starts over.
        let prefix = match (resume && saved.is_empty(), existing) {
            (true, Some(written)) if written <= size => written,
            _ => 0,
        };
        // The blocks create the part as they open it: one already there is emptied first, and
        // a download's is made here for the hash that follows it (it costs no round trip).
        if prefix == 0 && (existing.is_some_and(|written| written > 0) || self.dst.is_local()) {
            let writer = self.dst.write_at(target, 0).await?;
            writer.finish(Finish::default()).await?;
        }
        Ok(split(prefix, size, count))
    }

    /// Gives the part the source's modification time where asked; whether it did.
    async fn date(&self, part: &str) -> bool {
        let Some(mtime) = self.source.mtime.filter(|_| self.options.preserve_mtime) else {
            return false;
        };
        self.dst.capabilities().set_mtime && self.dst.set_mtime(part, mtime).await.is_ok()
    }

    /// Moves what is left of block `index` from `src` to `dst`. Once `stop` is set (another
    /// block failed) it winds down: takes what is already on its way, confirms it and returns.
    async fn move_range(
        &self,
        src: &dyn Remote,
        dst: &dyn Remote,
        target: &str,
        index: usize,
        segment: Segment,
        stop: &CancellationToken,
    ) -> Result<()> {
        let from = segment.start + segment.done;
        if from >= segment.end {
            return Ok(());
        }
        let mut reader = src.read_range(self.src_path, from, segment.end).await?;
        let mut writer = dst.write_range(target, from).await?;
        let mut at = from;
        let mut winding = false;
        while at < segment.end {
            if stop.is_cancelled() && !winding {
                winding = true;
                if !reader.wind_down() {
                    break;
                }
            }
            let Some(chunk) = next_chunk(reader.as_mut(), self.cancel).await? else {
                break;
            };
            let chunk: Bytes = chunk.slice(..chunk.len().min((segment.end - at) as usize));
            let len = chunk.len() as u64;
            for limit in &self.options.limits {
                limit.acquire(len).await;
            }
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(cancelled(dst, target)),
                result = writer.write(chunk) => result?,
            }
            at += len;
            self.progress.sent.fetch_add(len, Ordering::Relaxed);
            advance(self.progress, index, segment.done + writer.confirmed());
        }
        drop(reader);
        if winding && at < segment.end {
            let confirmed = writer.finish(Finish::default());
            if let Ok(Ok(_)) = tokio::time::timeout(WIND_DOWN, confirmed).await {
                advance(self.progress, index, at - segment.start);
            }
            return Ok(());
        }
        if at < segment.end {
            return Err(RemoteError::new(
                ErrorKind::Protocol,
                src.endpoint(),
                format!(
                    "the file ended at {at} bytes, before its size of {}",
                    self.source.size
                ),
            )
            .at(self.src_path));
        }
        writer
            .finish(Finish {
                sync: dst.is_local(),
                mtime: None,
            })
            .await?;
        advance(self.progress, index, segment.end - segment.start);
        Ok(())
    }

    /// Size always; with hashing on, SHA-256 of the whole file on both sides: the source's
    /// (`early`, taken while the blocks moved) and the part's (`followed` by the server as it
    /// filled, else hashed now from the local disk or by the server).
    async fn verify_whole(
        &self,
        part: &str,
        early: Option<Result<Option<String>>>,
        followed: impl Future<Output = Option<String>>,
    ) -> Result<super::copy::Verification> {
        let size = self.source.size;
        let Some(source) = early else {
            let written = self.dst.stat(part).await?.size;
            return self.compare(part, size, written, String::new(), None).await;
        };
        let hash_copy = async {
            match followed.await {
                Some(hash) => Ok(Some(hash)),
                None => self.dst.sha256(part).await,
            }
        };
        let (written, copy) = tokio::join!(self.dst.stat(part), hash_copy);
        let (written, copy, source) = (written?.size, copy?, source?);
        let remote = match self.dst.is_local() {
            true => self.src,
            false => self.dst,
        };
        let (ours, theirs) = match self.dst.is_local() {
            true => (copy, source),
            false => (source, copy),
        };
        let Some(ours) = ours.filter(|hash| !hash.is_empty()) else {
            return Err(reject(self.dst, part, "could not hash the local file".into()).await);
        };
        let verdict = self.compare(part, size, written, ours, theirs).await?;
        Ok(verdict.hashed_by(remote))
    }
}
