//! Copying one file from one `Remote` to another: into `<name>.ferry-part`, resumed from the
//! part's end when asked, hashed while streaming, verified (size always, SHA-256 where a side can
//! hash), given the source's mtime, and renamed over the final name only when complete.
//! Knows nothing of queues or screens: progress goes into shared counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::digest::StreamHash;
use super::limit::RateLimiter;
pub use super::verification::Verification;
use crate::remote::{Entry, ErrorKind, Finish, ReadStream, Remote, RemoteError, Result};

/// The suffix of a file being written.
pub const PART_SUFFIX: &str = ".ferry-part";

/// Where a copy to `path` writes its bytes: the part file, or `path` itself when not atomic.
pub fn write_target(path: &str, atomic: bool) -> String {
    match atomic {
        true => format!("{path}{PART_SUFFIX}"),
        false => path.to_string(),
    }
}

/// Up to this size, a copy is checked by reading the remote side's bytes back and hashing
/// them here: one more round trip beats starting a hashing process on the server per file,
/// and it works on servers that cannot hash at all.
pub const READ_BACK_LIMIT: u64 = 4 << 20;

/// Up to this size, an upload holds the whole file and hands it to the server in one go
/// ([`Remote::write_whole`]): a handful of round trips instead of a stream's open, writes,
/// close and a separate read-back.
pub const WHOLE_LIMIT: u64 = 1 << 20;

/// How one copy behaves.
#[derive(Clone, Default)]
pub struct CopyOptions {
    /// Write to a part file and rename at the end (`transfer.atomic`).
    pub atomic: bool,
    /// Continue an existing part file from its end (the caller checked the source is unchanged).
    pub resume: bool,
    /// Compare SHA-256 with a side that can hash.
    pub verify_hash: bool,
    /// Give the destination the source's modification time.
    pub preserve_mtime: bool,
    /// Limits to respect (global, per request).
    pub limits: Vec<Arc<RateLimiter>>,
    /// Who decides about an existing destination for a transfer set to ask.
    pub conflicts: Option<Arc<dyn super::conflict::ConflictPrompt>>,
    /// The policy when nobody decides.
    pub if_exists: super::model::OverwritePolicy,
}

/// Live counters of one copy, read by whoever shows progress.
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes of the file that are done (including a resumed prefix).
    pub done: AtomicU64,
    /// The file's size.
    pub total: AtomicU64,
    /// Bytes actually moved over the wire by this copy (all attempts).
    pub sent: AtomicU64,
    /// Times `done` went back (a restart from an earlier offset), each one announced.
    pub restarts: AtomicU32,
    /// A segmented copy's ranges (`done` is then their sum); empty for one stream.
    pub segments: std::sync::Mutex<Vec<super::model::Segment>>,
    /// Fresh part files (`fresh_part`) that may still be on the server: removed by the next
    /// attempt, or by whoever cancels the copy.
    pub fresh_parts: std::sync::Mutex<Vec<String>>,
}

impl Progress {
    /// Starts (again) at `offset`. A restart is counted before progress goes back, so whoever
    /// reads the counters sees the restart no later than the lower offset.
    pub fn start_at(&self, offset: u64, total: u64) {
        self.total.store(total, Ordering::SeqCst);
        if offset < self.done.load(Ordering::SeqCst) {
            self.restarts.fetch_add(1, Ordering::SeqCst);
        }
        self.done.store(offset, Ordering::SeqCst);
    }

    /// The fresh part files that may still be on the server, forgotten here.
    pub fn take_fresh_parts(&self) -> Vec<String> {
        let mut parts = self
            .fresh_parts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *parts)
    }
}

/// What a finished copy did.
#[derive(Debug, Clone)]
pub struct CopyOutcome {
    pub size: u64,
    /// Where this attempt started (0, or the resumed part's size).
    pub resumed_from: u64,
    pub verification: Verification,
}

/// One file to copy: where from, where to, and how.
pub struct FileCopy<'a> {
    pub src: &'a dyn Remote,
    pub src_path: &'a str,
    /// The source as stat'ed just before (its size and mtime are what the copy promises).
    pub source: &'a Entry,
    pub dst: &'a dyn Remote,
    pub dst_path: &'a str,
    pub options: &'a CopyOptions,
    pub progress: &'a Progress,
    pub cancel: &'a CancellationToken,
    /// The source's bytes, when the caller already read them (a small local file).
    pub preloaded: Option<Bytes>,
    /// The server side's connection pool: more connections for a segmented copy's ranges.
    pub pool: Option<&'a Arc<super::pool::Pool>>,
}

impl FileCopy<'_> {
    /// Copies, verifies, dates and renames into place. A server that will not open our part
    /// file again gets the copy under a fresh part name (`fresh_part`).
    pub async fn run(&self) -> Result<CopyOutcome> {
        let target = write_target(self.dst_path, self.options.atomic);
        match self.copy_into(&target, self.options.resume).await {
            Err(err)
                if err.kind == ErrorKind::Permission
                    && self.options.atomic
                    && !self.dst.is_local() =>
            {
                super::fresh_part::start_over(self, &target, err).await
            }
            other => other,
        }
    }

    /// Copies through `target` (continuing it when `resume`), verifies, dates and renames.
    async fn copy_into(&self, target: &str, resume: bool) -> Result<CopyOutcome> {
        match super::segments::plan(self, resume) {
            Some(count) => self.copy_segmented(target, resume, count).await,
            None => self.copy_streamed(target, resume).await,
        }
    }

    /// Copies as one stream through `target`, from its end when `resume`.
    pub(super) async fn copy_streamed(&self, target: &str, resume: bool) -> Result<CopyOutcome> {
        // A part written in ranges may have holes: its size says nothing, so start over.
        let segmented_before = {
            let mut segments = self
                .progress
                .segments
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            !std::mem::take(&mut *segments).is_empty()
        };
        let target = target.to_string();
        let size = self.source.size;
        // A small upload starts over rather than resume: that costs less than asking.
        let whole = size <= WHOLE_LIMIT && !self.dst.is_local();
        let offset = if resume && !whole && !segmented_before {
            resume_offset(self.dst, &target, size).await?
        } else {
            0
        };
        self.progress.start_at(offset, size);
        if whole {
            let (dated, verification) = self.copy_whole(&target).await?;
            return self.conclude(&target, dated, offset, verification).await;
        }
        let mut hasher = self
            .can_compare_hashes()
            .then(|| StreamHash::new(size > READ_BACK_LIMIT));
        if offset > 0
            && let Some(h) = hasher.as_mut()
            && !self.hash_prefix(h, &target, offset).await?
        {
            hasher = None;
        }
        let (dated, server_hash) = self.stream_and_hash(&target, offset, &mut hasher).await?;
        let verification = self.verify(&target, hasher, server_hash).await?;
        self.conclude(&target, dated, offset, verification).await
    }

    /// Dates the copy where the write did not, and renames it into place.
    pub(super) async fn conclude(
        &self,
        target: &str,
        dated: bool,
        offset: u64,
        verification: Verification,
    ) -> Result<CopyOutcome> {
        let size = self.source.size;
        if self.options.preserve_mtime
            && !dated
            && let Some(mtime) = self.source.mtime
            && self.dst.capabilities().set_mtime
            && let Err(err) = self.dst.set_mtime(target, mtime).await
        {
            tracing::debug!(%err, "could not set the modification time");
        }
        if self.options.atomic {
            self.dst.rename(target, self.dst_path).await?;
        }
        Ok(CopyOutcome {
            size,
            resumed_from: offset,
            verification,
        })
    }

    /// A small upload: the source read whole, written, dated, closed and read back in one
    /// exchange where the server allows, then compared.
    async fn copy_whole(&self, target: &str) -> Result<(bool, Verification)> {
        let data = match &self.preloaded {
            Some(data) => data.clone(),
            None => self.read_whole().await?,
        };
        let len = data.len() as u64;
        for limit in &self.options.limits {
            limit.acquire(len).await;
        }
        let ours = self
            .options
            .verify_hash
            .then(|| hex::encode(Sha256::digest(&data)));
        let how = Finish {
            sync: false,
            mtime: self.source.mtime.filter(|_| self.options.preserve_mtime),
        };
        let written = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(cancelled(self.dst, target)),
            written = self.dst.write_whole(target, data, how, ours.is_some()) => written?,
        };
        self.progress.done.store(len, Ordering::Relaxed);
        self.progress.sent.fetch_add(len, Ordering::Relaxed);
        let size = self.source.size;
        let verification = match (ours, written.read_back) {
            (Some(ours), Some((length, theirs))) => self
                .compare(target, size, length, ours, Some(theirs))
                .await?
                .read_back(),
            _ => {
                let length = self.dst.stat(target).await?.size;
                self.compare(target, size, length, String::new(), None)
                    .await?
            }
        };
        Ok((written.dated, verification))
    }

    /// The source, up to just past `WHOLE_LIMIT` (a source that grew beyond cannot be held
    /// whole; the size check then fails the copy and a retry streams it).
    async fn read_whole(&self) -> Result<Bytes> {
        let mut reader = self.src.read_from(self.src_path, 0).await?;
        let mut data = bytes::BytesMut::new();
        while let Some(chunk) = next_chunk(reader.as_mut(), self.cancel).await? {
            data.extend_from_slice(&chunk);
            if data.len() as u64 > WHOLE_LIMIT {
                break;
            }
        }
        Ok(data.freeze())
    }

    /// Whether hashing the stream can pay off: small files are read back; larger ones need a
    /// remote side that can hash (an FTP server without `HASH` cannot).
    pub(super) fn can_compare_hashes(&self) -> bool {
        let remote = if self.dst.is_local() {
            self.src
        } else {
            self.dst
        };
        self.options.verify_hash
            && (self.source.size <= READ_BACK_LIMIT || remote.capabilities().sha256)
    }

    /// The verdict on a copy; a failed one loses its part file.
    pub(super) async fn compare(
        &self,
        part: &str,
        size: u64,
        written: u64,
        ours: String,
        theirs: Option<String>,
    ) -> Result<Verification> {
        match verdict(size, written, &ours, theirs.as_deref()) {
            Ok(verification) => Ok(verification),
            Err(detail) => Err(reject(self.dst, part, detail).await),
        }
    }
}

/// The verdict on a copy of `size` bytes whose destination holds `written`: sizes must match,
/// and hashes too when the remote side gave one. The error says what differed.
pub(crate) fn verdict(
    size: u64,
    written: u64,
    ours: &str,
    theirs: Option<&str>,
) -> std::result::Result<Verification, String> {
    if written != size {
        return Err(format!("size is {written} bytes, expected {size}"));
    }
    match theirs {
        None => Ok(Verification::SizeOnly),
        Some(theirs) if theirs.eq_ignore_ascii_case(ours) => Ok(Verification::Sha256(ours.into())),
        Some(theirs) => Err(format!("SHA-256 differs: sent {ours}, server has {theirs}")),
    }
}

/// A verification failure: the part is removed so the retry starts clean.
pub(crate) async fn reject(dst: &dyn Remote, part: &str, detail: String) -> RemoteError {
    if let Err(err) = dst.remove_file(part).await {
        tracing::warn!(%err, "could not remove a part file that failed verification");
    }
    RemoteError::new(
        ErrorKind::Protocol,
        dst.endpoint(),
        format!("verification failed: {detail}"),
    )
    .at(part)
}

pub(super) async fn next_chunk(
    reader: &mut dyn ReadStream,
    cancel: &CancellationToken,
) -> Result<Option<Bytes>> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(RemoteError::new(ErrorKind::Cancelled, &Default::default(), "")),
        chunk = reader.next_chunk() => chunk,
    }
}

pub(crate) fn cancelled(dst: &dyn Remote, path: &str) -> RemoteError {
    RemoteError::new(ErrorKind::Cancelled, dst.endpoint(), "").at(path)
}

/// The size of an existing part file that can be continued, or 0.
pub async fn resume_offset(dst: &dyn Remote, part: &str, source_size: u64) -> Result<u64> {
    match dst.stat(part).await {
        Ok(entry) if entry.size <= source_size => Ok(entry.size),
        Ok(_) => Ok(0),
        Err(err) if err.kind == ErrorKind::NotFound => Ok(0),
        Err(err) => Err(err),
    }
}
