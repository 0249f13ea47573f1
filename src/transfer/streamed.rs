//! One stream from a part's end to the file's: the bytes hashed on the way while the server
//! hashes its side at the same time, the prefix of a resumed part hashed from the local disk,
//! and the verdict on size and SHA-256 at the end.

use std::sync::atomic::Ordering;

use super::copy::{FileCopy, READ_BACK_LIMIT, Verification, cancelled, next_chunk};
use super::digest::StreamHash;
use crate::remote::{Finish, GrowingHash, Result, read_back_digest};

/// The server's SHA-256 of the copy's remote side, when taken while streaming.
pub(super) enum ServerHash {
    None,
    /// A download's source, hashed from the start (it is complete).
    Source(Result<Option<String>>),
    /// An upload's destination, hashed as its bytes were confirmed.
    Followed(String),
}

impl FileCopy<'_> {
    /// Streams the bytes while the server hashes a large file at the same time, so verifying
    /// costs no extra pass at the end: a download's (complete) source from the start, an
    /// upload's destination as its bytes are confirmed.
    pub(super) async fn stream_and_hash(
        &self,
        target: &str,
        offset: u64,
        hasher: &mut Option<StreamHash>,
    ) -> Result<(bool, ServerHash)> {
        let large = hasher.is_some() && self.source.size > READ_BACK_LIMIT;
        let early = large && self.dst.is_local();
        let mut growing = match large && !early {
            true => self.dst.sha256_while_writing(target).await,
            false => None,
        };
        let (src, src_path) = (self.src, self.src_path);
        let early_hash = async move {
            match early {
                true => Some(src.sha256(src_path).await),
                false => None,
            }
        };
        let (dated, early_hash) = {
            let streaming = self.stream(target, offset, hasher, &mut growing);
            tokio::pin!(early_hash, streaming);
            let mut taken = None;
            let dated = loop {
                tokio::select! {
                    result = &mut streaming => break result?,
                    hash = &mut early_hash, if taken.is_none() => taken = Some(hash),
                }
            };
            match taken {
                Some(hash) => (dated, hash),
                None => (dated, early_hash.await),
            }
        };
        let server_hash = match (early_hash, growing) {
            (Some(hash), _) => ServerHash::Source(hash),
            (None, Some(growing)) => match growing.finish().await {
                Some(hash) => ServerHash::Followed(hash),
                None => ServerHash::None,
            },
            (None, None) => ServerHash::None,
        };
        Ok((dated, server_hash))
    }

    /// Moves the bytes from `offset` to the end, hashing them on the way; returns whether the
    /// closing exchange also set the modification time.
    async fn stream(
        &self,
        target: &str,
        offset: u64,
        hasher: &mut Option<StreamHash>,
        growing: &mut Option<Box<dyn GrowingHash>>,
    ) -> Result<bool> {
        let mut reader = self.src.read_from(self.src_path, offset).await?;
        let mut writer = self.dst.write_at(target, offset).await?;
        let mut written = offset;
        let moved: Result<()> = async {
            while let Some(chunk) = next_chunk(reader.as_mut(), self.cancel).await? {
                for limit in &self.options.limits {
                    limit.acquire(chunk.len() as u64).await;
                }
                if let Some(h) = hasher.as_mut() {
                    h.update(chunk.clone()).await;
                }
                let len = chunk.len() as u64;
                tokio::select! {
                    biased;
                    () = self.cancel.cancelled() => return Err(cancelled(self.dst, target)),
                    result = writer.write(chunk) => result?,
                }
                if let Some(growing) = growing.as_mut() {
                    growing.advance(offset + writer.confirmed()).await;
                }
                written += len;
                // Only confirmed bytes count as done: what a retry continues from, and what
                // tells the retry budget an attempt made progress.
                self.progress
                    .done
                    .store(offset + writer.confirmed(), Ordering::Relaxed);
                self.progress.sent.fetch_add(len, Ordering::Relaxed);
            }
            Ok(())
        }
        .await;
        if let Err(err) = moved {
            if self.dst.is_local() {
                // What was handed to the disk writer lands before anyone reads the part file's
                // size: a retry then continues after it instead of fetching it again (and
                // racing the writer over the same bytes).
                let drained = writer.finish(Finish {
                    sync: false,
                    mtime: None,
                });
                let _ = drained.await;
            }
            return Err(err);
        }
        drop(reader);
        let mtime = self.source.mtime.filter(|_| self.options.preserve_mtime);
        let dated = writer
            .finish(Finish {
                sync: self.dst.is_local(),
                mtime,
            })
            .await?;
        self.progress.done.store(written, Ordering::Relaxed);
        Ok(dated)
    }

    /// Feeds the first `offset` bytes to the hasher from whichever side is the local disk;
    /// false when neither is (re-reading a remote prefix costs the bandwidth resuming saved).
    pub(super) async fn hash_prefix(
        &self,
        hasher: &mut StreamHash,
        part: &str,
        offset: u64,
    ) -> Result<bool> {
        let (side, path) = if self.src.is_local() {
            (self.src, self.src_path)
        } else if self.dst.is_local() {
            (self.dst, part)
        } else {
            return Ok(false);
        };
        let mut reader = side.read_from(path, 0).await?;
        let mut remaining = offset;
        while remaining > 0 {
            let Some(chunk) = reader.next_chunk().await? else {
                break;
            };
            let take = (chunk.len() as u64).min(remaining);
            hasher.update(chunk.slice(..take as usize)).await;
            remaining -= take;
        }
        Ok(remaining == 0)
    }

    /// Size always; SHA-256 of the side that is not the local disk: read back for small files,
    /// hashed by the server for large ones where it can.
    pub(super) async fn verify(
        &self,
        part: &str,
        hasher: Option<StreamHash>,
        server_hash: ServerHash,
    ) -> Result<Verification> {
        let size = self.source.size;
        let (remote, path) = if self.dst.is_local() {
            (self.src, self.src_path)
        } else {
            (self.dst, part)
        };
        let ours = match hasher {
            Some(hasher) => match hasher.finish().await {
                Some(ours) => Some(ours),
                None => return Err(cancelled(self.dst, part)),
            },
            None => None,
        };
        // Small files are read back whole: that gives the size and the hash in one go.
        if let Some(ours) = ours.clone()
            && matches!(server_hash, ServerHash::None)
            && size <= READ_BACK_LIMIT
        {
            let (length, theirs) = read_back_digest(remote, path).await?;
            let verdict = self.compare(part, size, length, ours, Some(theirs)).await?;
            return Ok(verdict.read_back());
        }
        let written = self.dst.stat(part).await?.size;
        let Some(ours) = ours else {
            return self.compare(part, size, written, String::new(), None).await;
        };
        let (theirs, followed) = match server_hash {
            ServerHash::Source(hash) => (hash?, false),
            // Read while being written: on a mismatch, the finished file has the last word.
            ServerHash::Followed(hash) if hash == ours => (Some(hash), true),
            ServerHash::Followed(_) | ServerHash::None => (remote.sha256(path).await?, false),
        };
        let verdict = self.compare(part, size, written, ours, theirs).await?;
        // A hash followed while writing comes from a command, whatever else the server has.
        Ok(match followed {
            true => verdict,
            false => verdict.hashed_by(remote),
        })
    }
}
