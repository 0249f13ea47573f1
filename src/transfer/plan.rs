//! Planning: a request for files and directories becomes a flat list of file copies and
//! directory creations, streamed in chunks while the walk goes on, cancellable. Local walks
//! follow symlinks with loop detection; remote walks do not follow directory links. Names from
//! a server are checked before they become local paths.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::model::{Direction, ItemKind, TransferRequest};
use crate::remote::{Endpoint, EntryKind, ErrorKind, Remote, RemoteError, names};
use crate::text::{os_text, path_text};

/// Items sent to the queue at a time.
const CHUNK: usize = 256;

/// One planned copy or mkdir.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedItem {
    pub kind: ItemKind,
    pub local_path: String,
    pub remote_path: String,
    pub size: u64,
    pub mtime: Option<i64>,
    /// The item cannot be done (missing source, unsafe name): it is recorded as failed.
    pub error: Option<RemoteError>,
}

/// Counts of what the walk found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanCounts {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
}

struct Sink {
    tx: mpsc::Sender<Vec<PlannedItem>>,
    buffer: Vec<PlannedItem>,
    counts: PlanCounts,
}

impl Sink {
    async fn push(&mut self, item: PlannedItem) -> Result<(), RemoteError> {
        match item.kind {
            ItemKind::File => {
                self.counts.files += 1;
                self.counts.bytes += item.size;
            }
            ItemKind::Mkdir => self.counts.dirs += 1,
        }
        self.buffer.push(item);
        if self.buffer.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), RemoteError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.buffer);
        self.tx.send(chunk).await.map_err(|_| {
            RemoteError::new(
                ErrorKind::Cancelled,
                &Endpoint::default(),
                "planning stopped",
            )
        })
    }
}

/// Plans `request`; `remote_base` is the profile's start directory for relative remote paths.
/// Chunks of items go to `tx` as they are found; returns the totals.
pub async fn plan(
    request: &TransferRequest,
    remote: &dyn Remote,
    remote_base: &str,
    cancel: &CancellationToken,
    tx: mpsc::Sender<Vec<PlannedItem>>,
) -> Result<PlanCounts, RemoteError> {
    let mut sink = Sink {
        tx,
        buffer: Vec::new(),
        counts: PlanCounts::default(),
    };
    let resolve = |path: &str| {
        if path.starts_with('/') {
            names::normalize(path)
        } else if path.is_empty() {
            remote_base.to_string()
        } else {
            names::normalize(&names::join(remote_base, path))
        }
    };
    match request.direction {
        Direction::Upload => {
            let target = resolve(&request.target);
            for source in &request.sources {
                let source = std::path::absolute(crate::text::local_path(source))
                    .map_err(|e| RemoteError::from_io(&e, &Endpoint::default()).at(source))?;
                plan_upload(&source, &target, request.recursive, cancel, &mut sink).await?;
            }
        }
        Direction::Download | Direction::Relay => {
            let target = match request.direction {
                Direction::Relay => names::normalize(&request.target),
                _ => crate::text::path_text(
                    &std::path::absolute(crate::text::local_path(&request.target)).map_err(
                        |e| RemoteError::from_io(&e, &Endpoint::default()).at(&request.target),
                    )?,
                ),
            };
            let target = Destination {
                dir: target,
                remote: request.direction == Direction::Relay,
            };
            for source in &request.sources {
                let source = resolve(source);
                plan_download(
                    remote,
                    &source,
                    &target,
                    request.recursive,
                    cancel,
                    &mut sink,
                )
                .await?;
            }
        }
    }
    sink.flush().await?;
    Ok(sink.counts)
}

fn failed(kind: ItemKind, local: &str, remote: &str, error: RemoteError) -> PlannedItem {
    PlannedItem {
        kind,
        local_path: local.to_string(),
        remote_path: remote.to_string(),
        size: 0,
        mtime: None,
        error: Some(error),
    }
}

fn check_cancel(cancel: &CancellationToken) -> Result<(), RemoteError> {
    if cancel.is_cancelled() {
        Err(RemoteError::new(
            ErrorKind::Cancelled,
            &Endpoint::default(),
            "planning cancelled",
        ))
    } else {
        Ok(())
    }
}

async fn plan_upload(
    source: &Path,
    target_dir: &str,
    recursive: bool,
    cancel: &CancellationToken,
    sink: &mut Sink,
) -> Result<(), RemoteError> {
    let name = source
        .file_name()
        .map(os_text)
        .unwrap_or_else(|| "root".to_string());
    // (local dir, remote dir) still to walk; visited (dev, inode) pairs stop symlink loops.
    let mut pending: Vec<(PathBuf, String)> = Vec::new();
    let mut visited: HashSet<(u64, u64)> = HashSet::new();
    let local_err = |e: std::io::Error, path: &Path| {
        RemoteError::from_io(
            &e,
            &Endpoint {
                profile: "local".into(),
                address: "localhost".into(),
            },
        )
        .at(&path_text(path))
    };
    let remote_path = names::join(target_dir, &name);
    let local_str = path_text(source);
    match std::fs::metadata(source) {
        Err(e) => {
            sink.push(failed(
                ItemKind::File,
                &local_str,
                &remote_path,
                local_err(e, source),
            ))
            .await?
        }
        Ok(meta) if meta.is_dir() && !recursive => {
            let err = RemoteError::new(
                ErrorKind::Unsupported,
                &Endpoint::default(),
                "is a directory (use -r)",
            )
            .at(&local_str);
            sink.push(failed(ItemKind::Mkdir, &local_str, &remote_path, err))
                .await?;
        }
        Ok(meta) if meta.is_dir() => {
            visited.insert((meta.dev(), meta.ino()));
            sink.push(mkdir_item(&local_str, &remote_path)).await?;
            pending.push((source.to_path_buf(), remote_path));
        }
        Ok(meta) => {
            sink.push(file_item(&local_str, &remote_path, &meta))
                .await?
        }
    }
    while let Some((dir, remote_dir)) = pending.pop() {
        check_cancel(cancel)?;
        let read = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || list_local(&dir)
        })
        .await
        .map_err(|e| RemoteError::new(ErrorKind::LocalIo, &Endpoint::default(), e.to_string()))?;
        let children = match read {
            Ok(children) => children,
            Err(e) => {
                let err = local_err(e, &dir);
                sink.push(failed(ItemKind::Mkdir, &path_text(&dir), &remote_dir, err))
                    .await?;
                continue;
            }
        };
        for (child, meta) in children {
            let child_name = child.file_name().map(os_text).unwrap_or_default();
            let child_remote = names::join(&remote_dir, &child_name);
            let child_local = path_text(&child);
            match meta {
                Err(e) => {
                    let err = local_err(e, &child);
                    sink.push(failed(ItemKind::File, &child_local, &child_remote, err))
                        .await?;
                }
                Ok(meta) if meta.is_dir() => {
                    if !visited.insert((meta.dev(), meta.ino())) {
                        tracing::warn!(path = %child_local, "skipping a directory already visited (symlink loop)");
                        continue;
                    }
                    sink.push(mkdir_item(&child_local, &child_remote)).await?;
                    pending.push((child, child_remote));
                }
                Ok(meta) if meta.is_file() => {
                    sink.push(file_item(&child_local, &child_remote, &meta))
                        .await?
                }
                Ok(_) => tracing::info!(path = %child_local, "skipping a special file"),
            }
        }
    }
    Ok(())
}

/// A directory's children with their (symlink-following) metadata, sorted by name.
fn list_local(dir: &Path) -> std::io::Result<Vec<(PathBuf, std::io::Result<std::fs::Metadata>)>> {
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    children.sort();
    Ok(children
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p);
            (p, meta)
        })
        .collect())
}

fn mkdir_item(local: &str, remote: &str) -> PlannedItem {
    PlannedItem {
        kind: ItemKind::Mkdir,
        local_path: local.to_string(),
        remote_path: remote.to_string(),
        size: 0,
        mtime: None,
        error: None,
    }
}

fn file_item(local: &str, remote: &str, meta: &std::fs::Metadata) -> PlannedItem {
    PlannedItem {
        kind: ItemKind::File,
        local_path: local.to_string(),
        remote_path: remote.to_string(),
        size: meta.len(),
        mtime: Some(meta.mtime()),
        error: None,
    }
}

/// Where a download (this machine) or a relay (another server) puts what it finds.
struct Destination {
    dir: String,
    remote: bool,
}

impl Destination {
    /// `dir/name`, refusing a name that could leave `dir`.
    fn child(dir: &str, name: &str, remote: bool) -> Result<String, RemoteError> {
        match remote {
            true if names::is_safe_name(name) => Ok(names::join(dir, name)),
            _ => names::local_child(dir, name),
        }
    }
}

async fn plan_download(
    remote: &dyn Remote,
    source: &str,
    target: &Destination,
    recursive: bool,
    cancel: &CancellationToken,
    sink: &mut Sink,
) -> Result<(), RemoteError> {
    let name = names::base_name(source);
    let local = match Destination::child(&target.dir, name, target.remote) {
        Ok(local) => local,
        Err(err) => {
            let err = RemoteError {
                endpoint: remote.endpoint().clone(),
                ..err
            }
            .at(source);
            return sink
                .push(failed(ItemKind::File, &target.dir, source, err))
                .await;
        }
    };
    let entry = match remote.stat(source).await {
        Ok(entry) => entry,
        Err(err) if !err.is_transient() => {
            return sink.push(failed(ItemKind::File, &local, source, err)).await;
        }
        Err(err) => return Err(err),
    };
    if !entry.is_dir() {
        return sink
            .push(remote_file_item(&local, source, entry.size, entry.mtime))
            .await;
    }
    if !recursive {
        let err = RemoteError::new(
            ErrorKind::Unsupported,
            remote.endpoint(),
            "is a directory (use -r)",
        )
        .at(source);
        return sink
            .push(failed(ItemKind::Mkdir, &local, source, err))
            .await;
    }
    sink.push(mkdir_item(&local, source)).await?;
    let mut pending = vec![(local, source.to_string())];
    while let Some((local_dir, remote_dir)) = pending.pop() {
        check_cancel(cancel)?;
        let (mut entries, refused) = match remote.list(&remote_dir).await {
            Ok(listing) => listing,
            Err(err) if !err.is_transient() => {
                sink.push(failed(ItemKind::Mkdir, &local_dir, &remote_dir, err))
                    .await?;
                continue;
            }
            Err(err) => return Err(err),
        };
        for name in refused {
            let err = RemoteError::new(
                ErrorKind::HostileName,
                remote.endpoint(),
                format!("refusing to use the name {name} as a local file name"),
            )
            .at(&remote_dir);
            sink.push(failed(ItemKind::File, &local_dir, &remote_dir, err))
                .await?;
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for entry in entries {
            let child_remote = names::join(&remote_dir, &entry.name);
            // Listed names are already checked safe.
            let child_local = names::join(&local_dir, &entry.name);
            match entry.kind {
                EntryKind::Dir => {
                    sink.push(mkdir_item(&child_local, &child_remote)).await?;
                    pending.push((child_local, child_remote));
                }
                EntryKind::File => {
                    sink.push(remote_file_item(
                        &child_local,
                        &child_remote,
                        entry.size,
                        entry.mtime,
                    ))
                    .await?;
                }
                EntryKind::Symlink => match remote.stat(&child_remote).await {
                    Ok(target) if target.kind == EntryKind::File => {
                        sink.push(remote_file_item(
                            &child_local,
                            &child_remote,
                            target.size,
                            target.mtime,
                        ))
                        .await?;
                    }
                    Ok(_) => {
                        tracing::info!(path = %child_remote, "not following a directory symlink")
                    }
                    Err(err) => {
                        sink.push(failed(ItemKind::File, &child_local, &child_remote, err))
                            .await?
                    }
                },
                EntryKind::Other => tracing::info!(path = %child_remote, "skipping a special file"),
            }
        }
    }
    Ok(())
}

fn remote_file_item(local: &str, remote: &str, size: u64, mtime: Option<i64>) -> PlannedItem {
    PlannedItem {
        kind: ItemKind::File,
        local_path: local.to_string(),
        remote_path: remote.to_string(),
        size,
        mtime,
        error: None,
    }
}
