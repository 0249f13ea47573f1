//! Doing one planned item on a lent connection: create a directory, or copy a file after
//! applying the overwrite policy and deciding whether its part file may be resumed (only when the
//! source's size and mtime are what they were when the transfer was first planned).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::conflict::Conflict;
use super::copy::{CopyOptions, FileCopy, PART_SUFFIX, Progress, Verification, WHOLE_LIMIT};
use super::model::{Direction, ItemKind, OverwritePolicy, Transfer};
use super::pool::{Lease, Pool};
use crate::remote::local::LocalRemote;
use crate::remote::{ErrorKind, Remote, RemoteError, names};

/// How an item ended when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    Done {
        size: u64,
        verification: Option<Verification>,
    },
    Skipped {
        reason: String,
    },
}

/// The two sides of one transfer.
pub struct Ends<'a> {
    pub src: &'a dyn Remote,
    pub dst: &'a dyn Remote,
    /// The destination's connection pool when it is a server (it remembers made directories).
    pub dst_pool: Option<&'a Pool>,
    /// An upload's or a download's server pool, for more connections for a segmented copy.
    pub ranges_pool: Option<&'a Arc<Pool>>,
}

impl<'a> Ends<'a> {
    /// An upload's or a download's ends: the local disk and one lent connection.
    pub fn of(direction: Direction, lease: &'a Lease, local: &'a LocalRemote) -> Ends<'a> {
        let remote: &dyn Remote = lease.remote().as_ref();
        match direction {
            Direction::Download => Ends {
                src: remote,
                dst: local,
                dst_pool: None,
                ranges_pool: Some(lease.pool()),
            },
            Direction::Upload | Direction::Relay => Ends {
                src: local,
                dst: remote,
                dst_pool: Some(lease.pool()),
                ranges_pool: Some(lease.pool()),
            },
        }
    }
}

/// Runs `item` once. Updates its recorded source identity and, for `rename`, its destination.
/// `may_resume` is false for a transfer planned moments ago and never tried: no part file of
/// ours can exist, so asking the destination for one would only cost a round trip.
pub async fn execute(
    item: &mut Transfer,
    may_resume: bool,
    ends: &Ends<'_>,
    options: &CopyOptions,
    progress: &Progress,
    cancel: &CancellationToken,
) -> Result<ItemOutcome, RemoteError> {
    let (src, dst) = (ends.src, ends.dst);
    let destination = item.destination().to_string();
    if item.kind == ItemKind::Mkdir {
        ensure_dir(dst, &destination, ends.dst_pool).await?;
        return Ok(ItemOutcome::Done {
            size: 0,
            verification: None,
        });
    }
    if let Some(parent) = names::parent(&destination) {
        ensure_dir(dst, &parent, ends.dst_pool).await?;
    }
    let source_path = item.source().to_string();
    // A small local file is read along with its stat: the upload sends it whole anyway.
    let (source, preloaded) = match src.as_local() {
        Some(local) if item.source_size <= WHOLE_LIMIT => {
            local.read_small(&source_path, WHOLE_LIMIT).await?
        }
        _ => (src.stat(&source_path).await?, None),
    };
    let unchanged = item.source_size == source.size && item.source_mtime == source.mtime;
    item.source_size = source.size;
    item.source_mtime = source.mtime;
    let mut copy = CopyOptions {
        resume: unchanged && may_resume,
        ..options.clone()
    };
    let mut target = destination.clone();
    // Overwriting needs no look at the destination: the final rename replaces it.
    let existing = match item.overwrite {
        OverwritePolicy::Overwrite => {
            Err(RemoteError::new(ErrorKind::NotFound, dst.endpoint(), ""))
        }
        _ => dst.stat(&destination).await,
    };
    let policy = match &existing {
        Ok(existing) if item.overwrite == OverwritePolicy::Ask => {
            decide(item, &source, existing, options).await
        }
        _ => item.overwrite,
    };
    match existing {
        Ok(existing) => match policy {
            OverwritePolicy::Overwrite | OverwritePolicy::Ask => {}
            OverwritePolicy::Skip => return skipped("the destination exists"),
            OverwritePolicy::NewerOnly if existing.mtime >= source.mtime => {
                return skipped("the destination is as new as the source");
            }
            OverwritePolicy::NewerOnly => {}
            OverwritePolicy::Resume if existing.size == source.size => {
                return skipped("the destination is already complete");
            }
            OverwritePolicy::Resume if existing.size < source.size => {
                if copy.atomic {
                    dst.rename(&destination, &format!("{destination}{PART_SUFFIX}"))
                        .await?;
                }
                copy.resume = true;
            }
            OverwritePolicy::Resume => {}
            OverwritePolicy::Rename => target = free_name(dst, &destination).await?,
        },
        Err(err) if err.kind == ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let outcome = FileCopy {
        src,
        src_path: &source_path,
        source: &source,
        dst,
        dst_path: &target,
        options: &copy,
        progress,
        cancel,
        preloaded,
        pool: ends.ranges_pool,
    }
    .run()
    .await?;
    if target != destination {
        match item.direction {
            Direction::Upload => item.remote_path = target,
            Direction::Download | Direction::Relay => item.local_path = target,
        }
    }
    Ok(ItemOutcome::Done {
        size: outcome.size,
        verification: Some(outcome.verification),
    })
}

fn skipped(reason: &str) -> Result<ItemOutcome, RemoteError> {
    Ok(ItemOutcome::Skipped {
        reason: reason.to_string(),
    })
}

/// The policy for an existing destination of a transfer set to ask: the answer, or
/// `if_exists` when nobody answered.
async fn decide(
    item: &Transfer,
    source: &crate::remote::Entry,
    existing: &crate::remote::Entry,
    options: &CopyOptions,
) -> OverwritePolicy {
    let conflict = Conflict {
        transfer: item.id,
        batch: item.batch,
        direction: item.direction,
        profile: item.profile.clone(),
        source: item.source().to_string(),
        destination: item.destination().to_string(),
        source_size: source.size,
        source_mtime: source.mtime,
        existing_size: existing.size,
        existing_mtime: existing.mtime,
    };
    let answered = match &options.conflicts {
        Some(prompt) => prompt.decide(&conflict).await,
        None => None,
    };
    match answered.unwrap_or(options.if_exists) {
        OverwritePolicy::Ask => OverwritePolicy::Skip,
        policy => policy,
    }
}

/// Makes sure `dir` exists on the destination; a server's directories are remembered by its
/// pool.
pub(crate) async fn ensure_dir(
    dst: &dyn Remote,
    dir: &str,
    pool: Option<&Pool>,
) -> Result<(), RemoteError> {
    if let Some(pool) = pool
        && pool.dir_known(dir)
    {
        return Ok(());
    }
    dst.mkdir_all(dir).await?;
    if let Some(pool) = pool {
        pool.remember_dir(dir);
    }
    Ok(())
}

/// `name (1).ext`, `name (2).ext`, … : the first that does not exist.
async fn free_name(dst: &dyn Remote, path: &str) -> Result<String, RemoteError> {
    let (dir, name) = match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    };
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    for n in 1..10_000 {
        let candidate = format!("{dir}{stem} ({n}){ext}");
        match dst.stat(&candidate).await {
            Err(err) if err.kind == ErrorKind::NotFound => return Ok(candidate),
            Err(err) => return Err(err),
            Ok(_) => {}
        }
    }
    Err(RemoteError::new(
        ErrorKind::AlreadyExists,
        dst.endpoint(),
        "no free name left",
    )
    .at(path))
}
