//! Many small downloads done together on one connection: the files read whole in one exchange
//! ([`Remote::read_wholes`], each read twice when verifying, so the check costs no round trip),
//! checked one by one, written as part files and made durable together, then renamed into
//! place together with one sync per directory ([`LocalRemote::write_small_many`]). A tree of
//! small files then costs a few bursts and about one disk flush per bundle instead of several
//! exchanges and two flushes per file. Knows nothing of queues: each member's outcome is
//! returned for the engine to record.

use std::sync::atomic::Ordering;

use sha2::{Digest, Sha256};

use super::bundle::{Member, Outcome, all_cancelled, finish_alone, make_parents};
use super::copy::{CopyOptions, Verification, cancelled, verdict, write_target};
use super::execute::{Ends, ItemOutcome};
use super::model::Direction;
use super::pool::Lease;
use crate::remote::local::{LocalRemote, SmallWrite};
use crate::remote::{ErrorKind, ReadWhole, Remote, RemoteError, WholeRead};

/// Runs every member once; one outcome per member, in order. A member cancelled meanwhile
/// ends as `Cancelled` (its part file may remain: whoever cancelled removes it).
pub async fn execute_downloads(
    members: &mut [Member],
    lease: &Lease,
    local: &LocalRemote,
    options: &CopyOptions,
) -> Vec<Outcome> {
    let src: &dyn Remote = lease.remote().as_ref();
    let mut outcomes: Vec<Option<Outcome>> = members.iter().map(|_| None).collect();
    make_parents(members, &mut outcomes, local, None).await;

    let read = read(members, src, options).await;
    let mut writes = Vec::new();
    let mut alone = Vec::new();
    for (index, read) in read.into_iter().enumerate() {
        if outcomes[index].is_some() {
            continue;
        }
        let member = &mut members[index];
        match read {
            _ if member.cancel.is_cancelled() => {
                outcomes[index] = Some(Err(cancelled(local, &member.record.local_path)));
            }
            Ok(ReadWhole {
                entry,
                data: Some(data),
                check,
            }) => {
                member.record.source_size = entry.size;
                member.record.source_mtime = entry.mtime;
                member.progress.start_at(0, entry.size);
                member
                    .progress
                    .sent
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
                match judge(src, member, &data, check, options) {
                    Ok(verification) => {
                        let write = SmallWrite {
                            path: write_target(&member.record.local_path, options.atomic),
                            data,
                            mtime: entry.mtime.filter(|_| options.preserve_mtime),
                        };
                        writes.push((index, write, verification));
                    }
                    Err(err) => outcomes[index] = Some(Err(err)),
                }
            }
            // Grown past its planned size, or no longer a plain file: the single-file way.
            Ok(_) => alone.push(index),
            Err(err) => outcomes[index] = Some(Err(err)),
        }
    }

    let written = land(members, &mut outcomes, writes, local, options).await;
    for (index, verification) in written {
        let member = &members[index];
        let size = member.record.source_size;
        member.progress.done.store(size, Ordering::Relaxed);
        outcomes[index] = Some(Ok(ItemOutcome::Done {
            size,
            verification: Some(verification),
        }));
    }

    let ends = Ends::of(Direction::Download, lease, local);
    finish_alone(members, outcomes, alone, &ends, local, options).await
}

/// Reads every member's file in one exchange, unless all members are cancelled first.
async fn read(
    members: &[Member],
    src: &dyn Remote,
    options: &CopyOptions,
) -> Vec<Result<ReadWhole, RemoteError>> {
    let files: Vec<WholeRead> = members
        .iter()
        .map(|m| WholeRead {
            path: m.record.remote_path.clone(),
            size: m.record.source_size,
            check: options.verify_hash,
        })
        .collect();
    let bytes: u64 = files.iter().map(|f| f.size).sum();
    for limit in &options.limits {
        limit.acquire(bytes).await;
    }
    let tokens: Vec<_> = members.iter().map(|m| m.cancel.clone()).collect();
    tokio::select! {
        biased;
        () = all_cancelled(&tokens) => files.iter().map(|f| Err(cancelled(src, &f.path))).collect(),
        read = src.read_wholes(&files) => read,
    }
}

/// The verdict on one file's bytes: its size as the server stated it, and with verification
/// on, the second read's SHA-256 against the first's.
fn judge(
    src: &dyn Remote,
    member: &Member,
    data: &[u8],
    check: Option<(u64, String)>,
    options: &CopyOptions,
) -> Result<Verification, RemoteError> {
    let ours = match options.verify_hash {
        true => hex::encode(Sha256::digest(data)),
        false => String::new(),
    };
    let theirs = check.map(|(length, hash)| match length == data.len() as u64 {
        true => hash,
        // A second read of another length cannot agree: make the hashes differ.
        false => format!("{hash} ({length} bytes)"),
    });
    let size = member.record.source_size;
    let verdict = verdict(size, data.len() as u64, &ours, theirs.as_deref());
    verdict.map(Verification::read_back).map_err(|detail| {
        RemoteError::new(
            ErrorKind::Protocol,
            src.endpoint(),
            format!("verification failed: {detail}"),
        )
        .at(&member.record.remote_path)
    })
}

/// Writes the checked files as part files, made durable together, and renames them into
/// place together; returns the members that landed, with their verification.
async fn land(
    members: &[Member],
    outcomes: &mut [Option<Outcome>],
    writes: Vec<(usize, SmallWrite, Verification)>,
    local: &LocalRemote,
    options: &CopyOptions,
) -> Vec<(usize, Verification)> {
    let mut landed = Vec::new();
    let mut files = Vec::with_capacity(writes.len());
    let mut waiting = Vec::with_capacity(writes.len());
    for (index, write, verification) in writes {
        waiting.push((index, write.path.clone(), verification));
        files.push(write);
    }
    let written = local.write_small_many(files, true).await;
    let mut renames = Vec::new();
    for ((index, part, verification), written) in waiting.into_iter().zip(written) {
        match written {
            Err(err) => outcomes[index] = Some(Err(err)),
            Ok(()) if members[index].cancel.is_cancelled() => {
                outcomes[index] = Some(Err(cancelled(local, &part)));
            }
            Ok(()) => renames.push((index, part, verification)),
        }
    }
    let pairs: Vec<(String, String)> = renames
        .iter()
        .map(|(index, part, _)| (part.clone(), members[*index].record.local_path.clone()))
        .collect();
    let renamed = match options.atomic {
        true => local.rename_many(&pairs).await,
        false => pairs.iter().map(|_| Ok(())).collect(),
    };
    for ((index, _, verification), renamed) in renames.into_iter().zip(renamed) {
        match renamed {
            Ok(()) => landed.push((index, verification)),
            Err(err) => outcomes[index] = Some(Err(err)),
        }
    }
    landed
}
