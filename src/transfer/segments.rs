//! Segmented copies of large files over long links. One SFTP channel moves at most the server's
//! window per round trip (OpenSSH: 2 MiB, so about 40 MB/s at 50 ms), so above a size threshold
//! and a measured round trip the file is split into ranges moved at once over several channels
//! of the same connection, each writing at its offsets into the same part file. Each range's
//! confirmed progress is kept (in `Progress::segments`, saved with the record), so a retry or a
//! restart continues every range where it stopped. Verification stays whole-file: the local
//! side is hashed from disk, the server's side by the server.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;

use super::copy::{CopyOutcome, FileCopy, Progress, cancelled, next_chunk, reject, resume_offset};
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

/// Whether this attempt moves ranges, and how many: the ranges of an earlier attempt when it
/// continues them (a part written in ranges may have holes, so only its ranges can resume
/// it, whatever the link measures now), else what the link is worth (`ranges_for`).
pub(super) fn plan(copy: &FileCopy<'_>, resume: bool) -> Option<u64> {
    let saved = lock(copy.progress);
    match resume && !saved.is_empty() {
        true => Some(saved.len() as u64),
        false => ranges_for(copy),
    }
}

/// How many ranges a copy should use; None for one stream: a small file, a short link, or
/// no local side (a relay streams through ferry once).
pub(super) fn ranges_for(copy: &FileCopy<'_>) -> Option<u64> {
    let size = copy.source.size;
    let remote = match (copy.src.is_local(), copy.dst.is_local()) {
        (true, false) => copy.dst,
        (false, true) => copy.src,
        _ => return None,
    };
    let round_trip = remote.round_trip()?;
    if size < SEGMENT_FROM || round_trip < LONG_LINK {
        return None;
    }
    let by_link = (round_trip.as_millis() / PER_RANGE.as_millis()) as u64;
    let count = by_link.clamp(2, MOST_RANGES).min(size / SMALLEST_RANGE);
    (count >= 2).then_some(count)
}

/// The bytes from `from` to `size` cut into `count` ranges on `ALIGN` boundaries, after one
/// range `0..from` that is already done (a prefix written by an earlier single stream).
fn split(from: u64, size: u64, count: u64) -> Vec<Segment> {
    let step = (size - from).div_ceil(count).div_ceil(ALIGN) * ALIGN;
    let done = (from > 0).then_some(Segment {
        start: 0,
        done: from,
        end: from,
    });
    let rest = (0..count)
        .map(|i| from + i * step)
        .filter(|&start| start < size)
        .map(|start| Segment {
            start,
            done: 0,
            end: (start + step).min(size),
        });
    done.into_iter().chain(rest).collect()
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

async fn close_all(channels: &[Box<dyn Remote>]) {
    futures::future::join_all(channels.iter().map(|channel| channel.close())).await;
}

impl FileCopy<'_> {
    /// Copies in `count` ranges through `target`, continuing the ranges of an earlier attempt
    /// when `resume`; verifies the whole file, dates it and renames it into place.
    pub(super) async fn copy_segmented(
        &self,
        target: &str,
        resume: bool,
        count: u64,
    ) -> Result<CopyOutcome> {
        let remote = if self.dst.is_local() {
            self.src
        } else {
            self.dst
        };
        // The further channels open while the part is looked at or made: both cost round trips.
        let (segments, channels) = tokio::join!(
            self.starting_ranges(target, resume, count),
            self.open_channels(remote, count as usize)
        );
        let segments = match segments {
            Ok(segments) => segments,
            Err(err) => {
                close_all(&channels).await;
                return Err(err);
            }
        };
        let size = self.source.size;
        let resumed_from = segments.iter().map(|s| s.done).sum();
        *lock(self.progress) = segments.clone();
        self.progress.start_at(resumed_from, size);
        let unfinished: Vec<(usize, Segment)> = segments
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, s)| s.done < s.end - s.start)
            .collect();
        // The source is complete: its hash is taken while the ranges move (a download's by
        // the server, an upload's from the local disk).
        let early = async {
            match self.can_compare_hashes() {
                true => Some(self.src.sha256(self.src_path).await),
                false => None,
            }
        };
        let moves = unfinished
            .iter()
            .enumerate()
            .map(|(nth, &(index, segment))| {
                let channel = match nth % (channels.len() + 1) {
                    0 => remote,
                    n => channels[n - 1].as_ref(),
                };
                let (src, dst) = match self.dst.is_local() {
                    true => (channel, self.dst),
                    false => (self.src, channel),
                };
                self.move_range(src, dst, target, index, segment)
            });
        let (moved, early) = tokio::join!(futures::future::try_join_all(moves), early);
        close_all(&channels).await;
        moved?;
        // Dated while it is verified: no range writes any more.
        let (verification, dated) =
            tokio::join!(self.verify_whole(target, early), self.date(target));
        lock(self.progress).clear();
        let verification = verification?;
        self.conclude(target, dated, resumed_from, verification)
            .await
    }

    /// The ranges this attempt starts from: those of an earlier attempt it continues, or new
    /// ones after what one stream wrote, or new ones in a fresh, empty part.
    async fn starting_ranges(
        &self,
        target: &str,
        resume: bool,
        count: u64,
    ) -> Result<Vec<Segment>> {
        let size = self.source.size;
        let saved = lock(self.progress).clone();
        if resume && cover(&saved, size) && self.dst.stat(target).await.is_ok() {
            return Ok(saved);
        }
        // A part one stream wrote is whole up to its size; one written in ranges may have
        // holes, so that one starts over.
        let prefix = match resume && saved.is_empty() {
            true => resume_offset(self.dst, target, size).await?,
            false => 0,
        };
        if prefix == 0 {
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

    /// Up to `wanted - 1` more channels beside `remote`'s own, opened at once (each costs a
    /// few round trips); fewer where the server refuses more (the ranges then share).
    async fn open_channels(&self, remote: &dyn Remote, wanted: usize) -> Vec<Box<dyn Remote>> {
        let opening = (1..wanted).map(|_| remote.open_channel());
        let mut channels = Vec::new();
        for opened in futures::future::join_all(opening).await {
            match opened {
                Ok(Some(channel)) => channels.push(channel),
                Ok(None) => {}
                Err(err) => tracing::debug!(%err, "no further channel for a segmented copy"),
            }
        }
        channels
    }

    /// Moves what is left of range `index` from `src` to `dst`.
    async fn move_range(
        &self,
        src: &dyn Remote,
        dst: &dyn Remote,
        target: &str,
        index: usize,
        segment: Segment,
    ) -> Result<()> {
        let from = segment.start + segment.done;
        if from >= segment.end {
            return Ok(());
        }
        let mut reader = src.read_range(self.src_path, from, segment.end).await?;
        let mut writer = dst.write_range(target, from).await?;
        let mut at = from;
        while at < segment.end {
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
    /// (`early`, taken while the ranges moved) and the part's (from the local disk, or by the
    /// server).
    async fn verify_whole(
        &self,
        part: &str,
        early: Option<Result<Option<String>>>,
    ) -> Result<super::copy::Verification> {
        let size = self.source.size;
        let Some(source) = early else {
            let written = self.dst.stat(part).await?.size;
            return self.compare(part, size, written, String::new(), None).await;
        };
        let (written, copy) = tokio::join!(self.dst.stat(part), self.dst.sha256(part));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_file_on_aligned_boundaries() {
        let size = 100 * ALIGN + 5;
        let ranges = split(0, size, 4);
        assert_eq!(ranges.len(), 4);
        assert!(cover(&ranges, size));
        assert!(ranges.iter().all(|r| r.start % ALIGN == 0));
        assert_eq!(ranges[3].end, size);
        let tiny = split(0, 3 * ALIGN, 8);
        assert!(cover(&tiny, 3 * ALIGN), "{tiny:?}");
        assert_eq!(tiny.len(), 3);
    }

    #[test]
    fn ranges_continue_after_a_prefix_one_stream_wrote() {
        let size = 100 * ALIGN;
        let ranges = split(37 * ALIGN + 9, size, 4);
        assert!(cover(&ranges, size), "{ranges:?}");
        assert_eq!(ranges.len(), 5);
        assert_eq!(ranges[0].done, 37 * ALIGN + 9, "the prefix is done");
        assert!(ranges[1..].iter().all(|r| r.done == 0));
        let done: u64 = ranges.iter().map(|r| r.done).sum();
        assert_eq!(done, 37 * ALIGN + 9);
    }

    #[test]
    fn saved_ranges_count_only_when_they_fit_the_file() {
        let mut ranges = split(0, 64 * ALIGN, 4);
        ranges[1].done = 3;
        assert!(cover(&ranges, 64 * ALIGN));
        assert!(!cover(&ranges, 65 * ALIGN), "another size");
        ranges[2].done = 64 * ALIGN;
        assert!(!cover(&ranges, 64 * ALIGN), "done past the end");
        assert!(!cover(&[], 0));
    }
}
