//! Segmented copies of large files over long links. One SFTP channel moves at most the server's
//! window per round trip (OpenSSH: 2 MiB, so about 40 MB/s at 50 ms), so above a size threshold
//! and a measured round trip the file is split into ranges moved at once, each writing at its
//! offsets into the same part file: over more of the profile's connections where its pool has
//! some free, and more channels on them (`lanes`). FTP downloads take ranges too (`REST` +
//! `RETR`, a connection each); FTP uploads stay one stream. Each range's confirmed progress is
//! kept (in `Progress::segments`, saved with the record), so a retry or a restart continues
//! every range where it stopped; when one range fails the others wind down, so what they had
//! in flight still counts. Verification stays whole-file: the local side is hashed from disk,
//! the server's side by the server (or its size, where it cannot hash).

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::copy::{CopyOutcome, FileCopy, Progress, cancelled, next_chunk, reject};
use super::lanes::Lanes;
use super::model::Segment;
use crate::remote::{ErrorKind, Finish, Remote, RemoteError, Result};

/// Files from this size may be segmented.
pub const SEGMENT_FROM: u64 = 64 << 20;
/// Below this round trip one stream keeps up (loopback, a LAN): more would only cost CPU.
const LONG_LINK: Duration = Duration::from_millis(5);
/// Round trip that each further range is worth.
const PER_RANGE: Duration = Duration::from_millis(6);
const MOST_RANGES: u64 = 8;
/// The smallest range: shorter ones end before their pipeline fills.
const SMALLEST_RANGE: u64 = 16 << 20;
/// Range boundaries fall on multiples of this.
const ALIGN: u64 = 1 << 20;
/// How long a range winding down (another one failed) may take to confirm what it sent.
const WIND_DOWN: Duration = Duration::from_secs(10);

/// How many ranges a copy should use; None for one stream: a small file, a short link, a
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

/// `size` bytes cut into `count` ranges on `ALIGN` boundaries.
fn split(size: u64, count: u64) -> Vec<Segment> {
    let step = size.div_ceil(count).div_ceil(ALIGN) * ALIGN;
    (0..count)
        .map(|i| (i * step).min(size))
        .filter(|&start| start < size)
        .map(|start| Segment {
            start,
            done: 0,
            end: (start + step).min(size),
        })
        .collect()
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

/// Whether `segments` describe a file of `size` bytes, in order and without gaps.
fn cover(segments: &[Segment], size: u64) -> bool {
    let mut next = 0;
    for segment in segments {
        if segment.start != next || segment.done > segment.end - segment.start {
            return false;
        }
        next = segment.end;
    }
    !segments.is_empty() && next == size
}

impl FileCopy<'_> {
    /// Copies in up to `count` ranges through `target`, continuing the ranges of an earlier
    /// attempt when `resume`; verifies the whole file, dates it and renames it into place. A
    /// server that refuses to start a read at an offset gets the file as one stream.
    pub(super) async fn copy_segmented(
        &self,
        target: &str,
        resume: bool,
        count: u64,
    ) -> Result<CopyOutcome> {
        let size = self.source.size;
        let remote = if self.dst.is_local() {
            self.src
        } else {
            self.dst
        };
        let lanes = Lanes::open(remote, self.pool, count as usize).await;
        let saved = lock(self.progress).clone();
        let continuing = resume && cover(&saved, size) && self.dst.stat(target).await.is_ok();
        let segments = match continuing {
            true => saved,
            false => {
                // A fresh, empty part for the ranges to write into.
                let writer = self.dst.write_at(target, 0).await?;
                writer.finish(Finish::default()).await?;
                split(size, count.min(lanes.len() as u64))
            }
        };
        let resumed_from = segments.iter().map(|s| s.done).sum();
        *lock(self.progress) = segments.clone();
        self.progress.start_at(resumed_from, size);

        let hash_source = self.can_compare_hashes() && self.dst.is_local();
        let early = async {
            match hash_source {
                true => Some(self.src.sha256(self.src_path).await),
                false => None,
            }
        };
        let sessions = lanes.all();
        // One range failing winds the others down: what they have in flight still lands and
        // counts, so a retry does not move it again.
        let stop = CancellationToken::new();
        let moves = segments.iter().enumerate().map(|(index, segment)| {
            let lane = sessions[index % sessions.len()];
            let (src, dst) = match self.dst.is_local() {
                true => (lane, self.dst),
                false => (self.src, lane),
            };
            let stop = &stop;
            async move {
                let moved = self
                    .move_range(src, dst, target, index, *segment, stop)
                    .await;
                if moved.is_err() {
                    stop.cancel();
                }
                moved
            }
        });
        let (moved, early) = tokio::join!(futures::future::join_all(moves), early);
        let moved: Result<Vec<()>> = moved.into_iter().collect();
        drop(sessions);
        lanes.end(moved.is_ok()).await;
        match moved {
            Err(err) if err.kind == ErrorKind::Unsupported && segments.len() > 1 => {
                tracing::info!(%err, "moving the file as one stream instead of in ranges");
                lock(self.progress).clear();
                return Box::pin(self.copy_segmented(target, false, 1)).await;
            }
            moved => moved?,
        };
        let verification = self.verify_whole(target, early).await;
        lock(self.progress).clear();
        let verification = verification?;
        self.conclude(target, false, resumed_from, verification)
            .await
    }

    /// Moves what is left of range `index` from `src` to `dst`. Once `stop` is set (another
    /// range failed) it winds down: takes what is already on its way, confirms it and returns.
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

    /// Size always; with hashing on, SHA-256 of the whole file on both sides: ours from the
    /// local disk, the server's from the server (`early`: a download's source, hashed while
    /// the ranges moved).
    async fn verify_whole(
        &self,
        part: &str,
        early: Option<Result<Option<String>>>,
    ) -> Result<super::copy::Verification> {
        let size = self.source.size;
        let written = self.dst.stat(part).await?.size;
        if !self.can_compare_hashes() {
            return self.compare(part, size, written, String::new(), None).await;
        }
        let (local, local_path, remote) = match self.dst.is_local() {
            true => (self.dst, part, self.src),
            false => (self.src, self.src_path, self.dst),
        };
        let ours = local.sha256(local_path).await?.unwrap_or_default();
        let theirs = match early {
            Some(hash) => hash?,
            None => remote.sha256(part).await?,
        };
        if ours.is_empty() {
            return Err(reject(self.dst, part, "could not hash the local file".into()).await);
        }
        let verdict = self.compare(part, size, written, ours, theirs).await?;
        Ok(verdict.hashed_by(remote))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_file_on_aligned_boundaries() {
        let size = 100 * ALIGN + 5;
        let ranges = split(size, 4);
        assert_eq!(ranges.len(), 4);
        assert!(cover(&ranges, size));
        assert!(ranges.iter().all(|r| r.start % ALIGN == 0));
        assert_eq!(ranges[3].end, size);
        let tiny = split(3 * ALIGN, 8);
        assert!(cover(&tiny, 3 * ALIGN), "{tiny:?}");
        assert_eq!(tiny.len(), 3);
    }

    #[test]
    fn saved_ranges_count_only_when_they_fit_the_file() {
        let mut ranges = split(64 * ALIGN, 4);
        ranges[1].done = 3;
        assert!(cover(&ranges, 64 * ALIGN));
        assert!(!cover(&ranges, 65 * ALIGN), "another size");
        ranges[2].done = 64 * ALIGN;
        assert!(!cover(&ranges, 64 * ALIGN), "done past the end");
        assert!(!cover(&[], 0));
    }
}
