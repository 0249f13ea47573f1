//! Many small files written on one blocking thread and made durable together, then renamed
//! together: every file written and its write-back started, then each one synced (the first
//! sync's journal commit carries the others, so the rest return at once), and after the
//! renames one sync per directory. A bundle of downloads pays for durability about once
//! instead of twice per file, and never leaves a short file under a final name.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use bytes::Bytes;

use super::{LocalRemote, system_time};
use crate::remote::Result;
use crate::text::local_path;

/// One small file to write whole.
pub struct SmallWrite {
    pub path: String,
    pub data: Bytes,
    /// The modification time to give it.
    pub mtime: Option<i64>,
}

impl LocalRemote {
    /// Writes each file (created or truncated) and dates it; with `sync`, all are durable when
    /// this returns. One result per file, in order.
    pub async fn write_small_many(&self, files: Vec<SmallWrite>, sync: bool) -> Vec<Result<()>> {
        let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
        let written = tokio::task::spawn_blocking(move || write_all(&files, sync)).await;
        self.per_file(&paths, written)
    }

    /// Renames each `(from, to)`, then syncs each directory a name landed in, once.
    pub async fn rename_many(&self, pairs: &[(String, String)]) -> Vec<Result<()>> {
        let owned = pairs.to_vec();
        let renamed = tokio::task::spawn_blocking(move || rename_all(&owned)).await;
        let paths: Vec<String> = pairs.iter().map(|(from, _)| from.clone()).collect();
        self.per_file(&paths, renamed)
    }

    fn per_file(
        &self,
        paths: &[String],
        done: std::result::Result<Vec<std::io::Result<()>>, tokio::task::JoinError>,
    ) -> Vec<Result<()>> {
        let results = match done {
            Ok(results) => results,
            Err(join) => paths
                .iter()
                .map(|_| Err(std::io::Error::other(join.to_string())))
                .collect(),
        };
        results
            .into_iter()
            .zip(paths)
            .map(|(result, path)| result.map_err(|e| self.err(e, path)))
            .collect()
    }
}

fn write_all(files: &[SmallWrite], sync: bool) -> Vec<std::io::Result<()>> {
    let mut opened: Vec<std::io::Result<File>> = files.iter().map(write_one).collect();
    if sync {
        for file in opened.iter().flatten() {
            start_write_back(file);
        }
        for result in opened.iter_mut() {
            if let Ok(file) = result
                && let Err(err) = file.sync_all()
            {
                *result = Err(err);
            }
        }
    }
    opened.into_iter().map(|r| r.map(drop)).collect()
}

fn write_one(file: &SmallWrite) -> std::io::Result<File> {
    let mut out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(local_path(&file.path))?;
    out.write_all(&file.data)?;
    if let Some(mtime) = file.mtime {
        out.set_modified(system_time(mtime))?;
    }
    Ok(out)
}

/// Asks the kernel to start writing the file's pages now, without waiting, so the syncs that
/// follow find them on their way.
#[cfg(target_os = "linux")]
fn start_write_back(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call; the flags only start I/O.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_write_back(_file: &File) {}

fn rename_all(pairs: &[(String, String)]) -> Vec<std::io::Result<()>> {
    let mut dirs = BTreeSet::new();
    let mut results: Vec<std::io::Result<()>> = pairs
        .iter()
        .map(|(from, to)| {
            let to = local_path(to);
            std::fs::rename(local_path(from), &to)?;
            if let Some(dir) = to.parent() {
                dirs.insert(dir.to_path_buf());
            }
            Ok(())
        })
        .collect();
    for dir in dirs {
        if let Err(err) = sync_dir(&dir) {
            for ((_, to), result) in pairs.iter().zip(results.iter_mut()) {
                if result.is_ok() && local_path(to).parent() == Some(dir.as_path()) {
                    *result = Err(std::io::Error::new(err.kind(), err.to_string()));
                }
            }
        }
    }
    results
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = match dir.as_os_str().is_empty() {
        true => Path::new("."),
        false => dir,
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn parts_written_together_then_renamed_together() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = LocalRemote::new();
        let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        let files = vec![
            SmallWrite {
                path: path("a.part"),
                data: Bytes::from_static(b"alpha"),
                mtime: Some(1_600_000_000),
            },
            SmallWrite {
                path: path("missing/b.part"),
                data: Bytes::from_static(b"beta"),
                mtime: None,
            },
        ];
        let written = local.write_small_many(files, true).await;
        assert!(written[0].is_ok());
        let err = written[1].as_ref().expect_err("no such directory");
        assert_eq!(err.kind, crate::remote::ErrorKind::NotFound, "{err}");
        let renamed = local
            .rename_many(&[(path("a.part"), path("a")), (path("x.part"), path("x"))])
            .await;
        assert!(renamed[0].is_ok());
        assert!(renamed[1].is_err());
        assert_eq!(std::fs::read(dir.path().join("a")).expect("read"), b"alpha");
        let mtime = std::fs::metadata(dir.path().join("a"))
            .and_then(|m| m.modified())
            .expect("mtime");
        assert_eq!(super::super::unix_seconds(mtime), 1_600_000_000);
    }
}
