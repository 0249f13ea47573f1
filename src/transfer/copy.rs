//! Copying one file from one `Remote` to another: into `<name>.ferry-part`, resumed from the
//! part's end when asked, hashed while streaming, verified (size always, SHA-256 where a side can
//! hash), given the source's mtime, and renamed over the final name only when complete.
//! Knows nothing of queues or screens: progress goes into shared counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::limit::RateLimiter;
use crate::remote::{ErrorKind, ReadStream, Remote, RemoteError, Result};

/// The suffix of a file being written.
pub const PART_SUFFIX: &str = ".ferry-part";

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
}

/// How a finished copy was checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Verification {
    /// Sizes matched and both sides' SHA-256 agreed.
    Sha256(String),
    /// Sizes matched; no side could hash.
    SizeOnly,
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::Sha256(hex) => write!(f, "sha256 {hex}"),
            Verification::SizeOnly => f.write_str("size only"),
        }
    }
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
}

impl Progress {
    /// Starts (again) at `offset`. A restart is counted before progress goes back, so whoever
    /// reads the counters sees the restart no later than the lower offset.
    fn start_at(&self, offset: u64, total: u64) {
        self.total.store(total, Ordering::SeqCst);
        if offset < self.done.load(Ordering::SeqCst) {
            self.restarts.fetch_add(1, Ordering::SeqCst);
        }
        self.done.store(offset, Ordering::SeqCst);
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

/// Copies `src_path` on `src` to `dst_path` on `dst`.
pub async fn copy_file(
    src: &dyn Remote,
    src_path: &str,
    dst: &dyn Remote,
    dst_path: &str,
    options: &CopyOptions,
    progress: &Progress,
    cancel: &CancellationToken,
) -> Result<CopyOutcome> {
    let source = src.stat(src_path).await?;
    let size = source.size;
    let target = if options.atomic {
        format!("{dst_path}{PART_SUFFIX}")
    } else {
        dst_path.to_string()
    };
    let offset = if options.resume {
        resume_offset(dst, &target, size).await?
    } else {
        0
    };
    progress.start_at(offset, size);
    let mut hasher = options.verify_hash.then(Sha256::new);
    if offset > 0
        && let Some(h) = hasher.as_mut()
        && !hash_prefix(h, src, src_path, dst, &target, offset).await?
    {
        hasher = None;
    }

    let mut reader = src.read_from(src_path, offset).await?;
    let mut writer = dst.write_at(&target, offset).await?;
    let mut written = offset;
    while let Some(chunk) = next_chunk(reader.as_mut(), cancel).await? {
        for limit in &options.limits {
            limit.acquire(chunk.len() as u64).await;
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&chunk);
        }
        let len = chunk.len() as u64;
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(cancelled(dst, &target)),
            result = writer.write(chunk) => result?,
        }
        written += len;
        progress.done.store(written, Ordering::Relaxed);
        progress.sent.fetch_add(len, Ordering::Relaxed);
    }
    drop(reader);
    writer.finish(dst.is_local()).await?;

    let verification = verify(src, src_path, dst, &target, size, hasher).await?;
    if options.preserve_mtime
        && let Some(mtime) = source.mtime
        && dst.capabilities().set_mtime
        && let Err(err) = dst.set_mtime(&target, mtime).await
    {
        tracing::debug!(%err, "could not set the modification time");
    }
    if options.atomic {
        dst.rename(&target, dst_path).await?;
    }
    Ok(CopyOutcome {
        size,
        resumed_from: offset,
        verification,
    })
}

async fn next_chunk(
    reader: &mut dyn ReadStream,
    cancel: &CancellationToken,
) -> Result<Option<Bytes>> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(RemoteError::new(ErrorKind::Cancelled, &Default::default(), "")),
        chunk = reader.next_chunk() => chunk,
    }
}

fn cancelled(dst: &dyn Remote, path: &str) -> RemoteError {
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

/// Feeds the first `offset` bytes to the hasher from whichever side is the local disk; false
/// when neither is (re-reading a remote prefix would cost the bandwidth resuming saved).
async fn hash_prefix(
    hasher: &mut Sha256,
    src: &dyn Remote,
    src_path: &str,
    dst: &dyn Remote,
    part: &str,
    offset: u64,
) -> Result<bool> {
    let (side, path) = if src.is_local() {
        (src, src_path)
    } else if dst.is_local() {
        (dst, part)
    } else {
        return Ok(false);
    };
    let mut reader = side.read_from(path, 0).await?;
    let mut remaining = offset;
    while remaining > 0 {
        let Some(chunk) = reader.next_chunk().await? else {
            break;
        };
        let take = (chunk.len() as u64).min(remaining) as usize;
        hasher.update(&chunk[..take]);
        remaining -= take as u64;
    }
    Ok(remaining == 0)
}

/// Size always; SHA-256 against the side that is not the local disk, when it can hash.
async fn verify(
    src: &dyn Remote,
    src_path: &str,
    dst: &dyn Remote,
    part: &str,
    size: u64,
    hasher: Option<Sha256>,
) -> Result<Verification> {
    let written = dst.stat(part).await?.size;
    if written != size {
        return Err(mismatch(
            dst,
            part,
            format!("size is {written} bytes, expected {size}"),
        )
        .await);
    }
    let Some(hasher) = hasher else {
        return Ok(Verification::SizeOnly);
    };
    let ours = hex::encode(hasher.finalize());
    let theirs = if dst.is_local() {
        src.sha256(src_path).await?
    } else {
        dst.sha256(part).await?
    };
    match theirs {
        None => Ok(Verification::SizeOnly),
        Some(theirs) if theirs.eq_ignore_ascii_case(&ours) => Ok(Verification::Sha256(ours)),
        Some(theirs) => Err(mismatch(
            dst,
            part,
            format!("SHA-256 differs: sent {ours}, server has {theirs}"),
        )
        .await),
    }
}

/// A verification failure: the part is removed so the retry starts clean.
async fn mismatch(dst: &dyn Remote, part: &str, detail: String) -> RemoteError {
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
