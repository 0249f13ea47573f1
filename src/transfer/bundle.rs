//! Many small uploads done together on one connection: their local files read (and hashed) in
//! one trip to a blocking thread, written in one exchange ([`Remote::write_wholes`]), checked
//! one by one, and renamed into place in one more exchange. A tree of small files then costs
//! the server a few bursts per bundle instead of three exchanges per file. Knows nothing of
//! queues: each member's outcome is returned for the engine to record.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio_util::sync::CancellationToken;

use super::copy::{
    CopyOptions, Progress, Verification, WHOLE_LIMIT, cancelled, reject, verdict, write_target,
};
use super::execute::{Ends, ItemOutcome, ensure_dir, execute};
use super::model::{Direction, ItemKind, OverwritePolicy, Transfer};
use super::pool::{Lease, Pool};
use crate::remote::local::{LocalRemote, SmallFile};
use crate::remote::{Finish, Remote, RemoteError, WholeFile, WholeWrite, names};

/// Files up to this size travel in bundles.
pub const BUNDLE_FILE_LIMIT: u64 = 256 << 10;
/// The most files in one bundle.
pub const BUNDLE_FILES: usize = 64;

/// Whether a queued transfer may join a bundle: an upload or a download of a small file that
/// overwrites (the other policies look at each destination first).
pub fn bundles(record: &Transfer) -> bool {
    matches!(record.direction, Direction::Upload | Direction::Download)
        && record.kind == ItemKind::File
        && record.source_size <= BUNDLE_FILE_LIMIT
        && record.overwrite == OverwritePolicy::Overwrite
}

/// One transfer of a bundle.
pub struct Member {
    pub record: Transfer,
    pub progress: Arc<Progress>,
    pub cancel: CancellationToken,
    /// Whether a part file of an earlier attempt may exist (only a file that grew past the
    /// bundle size and goes the single-file way can use it).
    pub may_resume: bool,
}

pub(super) type Outcome = Result<ItemOutcome, RemoteError>;

/// Runs every member once; one outcome per member, in order. A member cancelled meanwhile
/// ends as `Cancelled` (its part file may remain: whoever cancelled removes it). The members
/// are all of one request, so all go one way.
pub async fn execute_bundle(
    members: &mut [Member],
    lease: &Lease,
    local: &LocalRemote,
    options: &CopyOptions,
) -> Vec<Outcome> {
    match members.first().map(|m| m.record.direction) {
        Some(Direction::Download) => {
            super::gather::execute_downloads(members, lease, local, options).await
        }
        _ => execute_uploads(members, lease, local, options).await,
    }
}

/// Small uploads, written and renamed together.
async fn execute_uploads(
    members: &mut [Member],
    lease: &Lease,
    local: &LocalRemote,
    options: &CopyOptions,
) -> Vec<Outcome> {
    let dst: &dyn Remote = lease.remote().as_ref();
    let mut outcomes: Vec<Option<Outcome>> = members.iter().map(|_| None).collect();
    make_parents(members, &mut outcomes, dst, Some(lease.pool())).await;

    let paths: Vec<String> = members
        .iter()
        .map(|m| m.record.local_path.clone())
        .collect();
    let reads = local
        .read_small_many(&paths, WHOLE_LIMIT, options.verify_hash)
        .await;
    let mut pending: Vec<(usize, SmallFile)> = Vec::new();
    let mut alone: Vec<usize> = Vec::new();
    for (index, read) in reads.into_iter().enumerate() {
        if outcomes[index].is_some() {
            continue;
        }
        match read {
            _ if members[index].cancel.is_cancelled() => {
                outcomes[index] = Some(Err(cancelled(dst, &members[index].record.remote_path)));
            }
            Ok(file) if file.data.is_some() => pending.push((index, file)),
            // Grown past what is sent whole, or no longer a plain file: the single-file way.
            Ok(_) => alone.push(index),
            Err(err) => outcomes[index] = Some(Err(err)),
        }
    }

    let written = write(members, &mut pending, dst, options).await;
    let mut renames = Vec::new();
    for ((index, file), written) in pending.into_iter().zip(written) {
        let member = &members[index];
        let part = write_target(&member.record.remote_path, options.atomic);
        let checked = match written {
            Ok(written) => {
                member
                    .progress
                    .sent
                    .fetch_add(file.entry.size, Ordering::Relaxed);
                check(dst, &part, &file, written, options).await
            }
            Err(err) => Err(err),
        };
        match checked {
            Ok(verification) if !member.cancel.is_cancelled() => {
                member
                    .progress
                    .done
                    .store(file.entry.size, Ordering::Relaxed);
                renames.push((index, part, verification));
            }
            Ok(_) => outcomes[index] = Some(Err(cancelled(dst, &part))),
            Err(err) => outcomes[index] = Some(Err(err)),
        }
    }
    rename_into_place(members, &mut outcomes, renames, dst, options).await;
    let ends = Ends::of(Direction::Upload, lease, local);
    finish_alone(members, outcomes, alone, &ends, dst, options).await
}

/// Makes the directories the members go into (each record's destination side); a member
/// whose directory fails takes its error.
pub(super) async fn make_parents(
    members: &[Member],
    outcomes: &mut [Option<Outcome>],
    dst: &dyn Remote,
    pool: Option<&Pool>,
) {
    let parents: BTreeSet<String> = members
        .iter()
        .filter_map(|m| names::parent(m.record.destination()))
        .collect();
    for parent in parents {
        if let Err(err) = ensure_dir(dst, &parent, pool).await {
            for (index, member) in members.iter().enumerate() {
                if names::parent(member.record.destination()).as_deref() == Some(parent.as_str()) {
                    outcomes[index] = Some(Err(err.clone()));
                }
            }
        }
    }
}

/// Runs the members that must go alone one by one, then answers every member: a member with
/// no outcome yet was cancelled meanwhile.
pub(super) async fn finish_alone(
    members: &mut [Member],
    mut outcomes: Vec<Option<Outcome>>,
    alone: Vec<usize>,
    ends: &Ends<'_>,
    dst: &dyn Remote,
    options: &CopyOptions,
) -> Vec<Outcome> {
    for index in alone {
        let member = &mut members[index];
        let outcome = execute(
            &mut member.record,
            member.may_resume,
            ends,
            options,
            &member.progress,
            &member.cancel,
        )
        .await;
        outcomes[index] = Some(outcome);
    }
    outcomes
        .into_iter()
        .zip(members.iter())
        .map(|(outcome, member)| {
            outcome.unwrap_or_else(|| Err(cancelled(dst, member.record.destination())))
        })
        .collect()
}

/// Sends every pending file in one exchange, unless all members are cancelled first.
async fn write(
    members: &mut [Member],
    pending: &mut [(usize, SmallFile)],
    dst: &dyn Remote,
    options: &CopyOptions,
) -> Vec<Result<WholeWrite, RemoteError>> {
    let mut files = Vec::with_capacity(pending.len());
    let mut bytes = 0;
    for (index, file) in pending.iter_mut() {
        let member = &mut members[*index];
        let data = file.data.clone().unwrap_or_default();
        bytes += data.len() as u64;
        member.record.source_size = file.entry.size;
        member.record.source_mtime = file.entry.mtime;
        member.progress.start_at(0, file.entry.size);
        files.push(WholeFile {
            path: write_target(&member.record.remote_path, options.atomic),
            data,
            how: Finish {
                sync: false,
                mtime: file.entry.mtime.filter(|_| options.preserve_mtime),
            },
            read_back: file.sha256.is_some(),
        });
    }
    for limit in &options.limits {
        limit.acquire(bytes).await;
    }
    let paths: Vec<String> = files.iter().map(|file| file.path.clone()).collect();
    let tokens: Vec<CancellationToken> = members.iter().map(|m| m.cancel.clone()).collect();
    tokio::select! {
        biased;
        () = all_cancelled(&tokens) => paths.iter().map(|path| Err(cancelled(dst, path))).collect(),
        written = dst.write_wholes(files) => written,
    }
}

/// Completes when every token is cancelled.
pub async fn all_cancelled(tokens: &[CancellationToken]) {
    for token in tokens {
        token.cancelled().await;
    }
}

/// The verdict on one written file: its read-back against our hash, or its size. The modification
/// time is set here where the write could not.
async fn check(
    dst: &dyn Remote,
    part: &str,
    file: &SmallFile,
    written: WholeWrite,
    options: &CopyOptions,
) -> Result<Verification, RemoteError> {
    let size = file.entry.size;
    let (length, theirs) = match written.read_back {
        Some((length, theirs)) => (length, Some(theirs)),
        None => (dst.stat(part).await?.size, None),
    };
    let ours = file.sha256.as_deref().unwrap_or_default();
    let verification = match verdict(size, length, ours, theirs.as_deref()) {
        Ok(verification) => verification.read_back(),
        Err(detail) => return Err(reject(dst, part, detail).await),
    };
    if options.preserve_mtime
        && !written.dated
        && let Some(mtime) = file.entry.mtime
        && dst.capabilities().set_mtime
        && let Err(err) = dst.set_mtime(part, mtime).await
    {
        tracing::debug!(%err, "could not set the modification time");
    }
    Ok(verification)
}

/// Renames the verified part files over their final names, all in one exchange.
async fn rename_into_place(
    members: &[Member],
    outcomes: &mut [Option<Outcome>],
    verified: Vec<(usize, String, Verification)>,
    dst: &dyn Remote,
    options: &CopyOptions,
) {
    let pairs: Vec<(String, String)> = verified
        .iter()
        .map(|(index, part, _)| (part.clone(), members[*index].record.remote_path.clone()))
        .collect();
    let renamed = match options.atomic {
        true => dst.rename_all(&pairs).await,
        false => pairs.iter().map(|_| Ok(())).collect(),
    };
    for ((index, _, verification), renamed) in verified.into_iter().zip(renamed) {
        outcomes[index] = Some(renamed.map(|()| ItemOutcome::Done {
            size: members[index].record.source_size,
            verification: Some(verification),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::model::samples::upload;

    #[test]
    fn only_small_overwriting_uploads_and_downloads_bundle() {
        assert!(bundles(&upload(1, 4096)));
        assert!(bundles(&upload(1, BUNDLE_FILE_LIMIT)));
        assert!(!bundles(&upload(1, BUNDLE_FILE_LIMIT + 1)));
        let mut skip = upload(1, 4096);
        skip.overwrite = OverwritePolicy::Skip;
        assert!(!bundles(&skip));
        let mut download = upload(1, 4096);
        download.direction = Direction::Download;
        assert!(bundles(&download));
        let mut relay = upload(1, 4096);
        relay.direction = Direction::Relay;
        assert!(!bundles(&relay));
        let mut mkdir = upload(1, 0);
        mkdir.kind = ItemKind::Mkdir;
        assert!(!bundles(&mkdir));
    }
}
