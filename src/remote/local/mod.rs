//! The local disk behind the `Remote` trait, so transfers treat both ends alike. Reads and writes
//! run on blocking threads in large blocks (`streams`: read ahead, written behind, through
//! bounded queues); many small files are written and made durable together (`durable`).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::text::{local_path, os_text, path_text};

use super::{
    Capabilities, Endpoint, Entry, EntryKind, GrowingHash, ReadStream, Remote, RemoteError, Result,
    SessionInfo, WriteStream,
};

mod durable;
mod following;
mod streams;

pub use durable::SmallWrite;

use streams::{LocalReader, LocalWriter, READ_BLOCK, read_block};

/// This machine's file system.
pub struct LocalRemote {
    endpoint: Endpoint,
}

impl Default for LocalRemote {
    fn default() -> Self {
        LocalRemote {
            endpoint: Endpoint {
                profile: "local".into(),
                address: "localhost".into(),
            },
        }
    }
}

impl LocalRemote {
    pub fn new() -> LocalRemote {
        LocalRemote::default()
    }

    fn err(&self, err: std::io::Error, path: &str) -> RemoteError {
        RemoteError::from_io(&err, &self.endpoint).at(path)
    }

    /// Stats a file and, when it holds at most `limit` bytes, reads it too: one trip to a
    /// blocking thread instead of three for the many small files of a tree.
    pub async fn read_small(&self, path: &str, limit: u64) -> Result<(Entry, Option<Bytes>)> {
        self.blocking(path, move |p| read_small_file(&p, limit))
            .await
    }

    /// [`LocalRemote::read_small`] for many files in one trip to a blocking thread, each
    /// file's SHA-256 taken there too when `hash`. One result per path, in order.
    pub async fn read_small_many(
        &self,
        paths: &[String],
        limit: u64,
        hash: bool,
    ) -> Vec<Result<SmallFile>> {
        let owned = paths.to_vec();
        let read = tokio::task::spawn_blocking(move || {
            owned
                .iter()
                .map(|path| {
                    let (entry, data) = read_small_file(&local_path(path), limit)?;
                    let sha256 = data
                        .as_ref()
                        .filter(|_| hash)
                        .map(|data| hex::encode(Sha256::digest(data)));
                    Ok(SmallFile {
                        entry,
                        data,
                        sha256,
                    })
                })
                .collect::<Vec<std::io::Result<SmallFile>>>()
        })
        .await;
        match read {
            Ok(files) => files
                .into_iter()
                .zip(paths)
                .map(|(file, path)| file.map_err(|e| self.err(e, path)))
                .collect(),
            Err(join) => paths
                .iter()
                .map(|path| Err(self.err(std::io::Error::other(join.to_string()), path)))
                .collect(),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        path: &str,
        f: impl FnOnce(PathBuf) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T> {
        let owned = local_path(path);
        match tokio::task::spawn_blocking(move || f(owned)).await {
            Ok(result) => result.map_err(|e| self.err(e, path)),
            Err(join) => Err(self.err(std::io::Error::other(join.to_string()), path)),
        }
    }
}

/// A small local file as read for an upload.
pub struct SmallFile {
    pub entry: Entry,
    /// Its bytes, unless it is not a regular file or holds more than the limit.
    pub data: Option<Bytes>,
    /// The SHA-256 (lowercase hex) of `data`, when asked for.
    pub sha256: Option<String>,
}

fn read_small_file(path: &Path, limit: u64) -> std::io::Result<(Entry, Option<Bytes>)> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let name = path
        .file_name()
        .map(os_text)
        .unwrap_or_else(|| path_text(path));
    let entry = entry_from_metadata(&name, &meta, path);
    if !meta.is_file() || meta.len() > limit {
        return Ok((entry, None));
    }
    // One byte more than the size shows a file that grew meanwhile (the size check then fails
    // the copy, and the retry sees the new size).
    let (data, _) = read_block(&mut file, meta.len() as usize + 1)?;
    Ok((entry, Some(data)))
}

/// An entry from local metadata (symlinks described, not followed).
pub fn entry_from_metadata(name: &str, meta: &fs::Metadata, path: &Path) -> Entry {
    let file_type = meta.file_type();
    let kind = if file_type.is_symlink() {
        EntryKind::Symlink
    } else if file_type.is_dir() {
        EntryKind::Dir
    } else if file_type.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    };
    Entry {
        name: name.to_string(),
        kind,
        size: meta.len(),
        mtime: Some(meta.mtime()),
        permissions: Some(meta.permissions().mode() & 0o7777),
        owner: Some(meta.uid().to_string()),
        group: Some(meta.gid().to_string()),
        link_target: file_type
            .is_symlink()
            .then(|| fs::read_link(path).ok())
            .flatten()
            .map(|t| path_text(&t)),
    }
}

#[async_trait]
impl Remote for LocalRemote {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn is_local(&self) -> bool {
        true
    }

    fn as_local(&self) -> Option<&LocalRemote> {
        Some(self)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            atomic_rename: true,
            resume: true,
            sha256: true,
            check_file: false,
            set_mtime: true,
            read_ranges: true,
            write_ranges: true,
        }
    }

    fn session_info(&self) -> SessionInfo {
        SessionInfo {
            auth_method: "local user".into(),
            ..SessionInfo::default()
        }
    }

    async fn home(&self) -> Result<String> {
        self.blocking(".", |_| std::env::current_dir().map(|d| path_text(&d)))
            .await
    }

    async fn read_dir(&self, path: &str) -> Result<Vec<Entry>> {
        self.blocking(path, |dir| {
            let mut out = Vec::new();
            for item in fs::read_dir(&dir)? {
                let item = item?;
                let child = item.path();
                let meta = fs::symlink_metadata(&child)?;
                out.push(entry_from_metadata(
                    &os_text(&item.file_name()),
                    &meta,
                    &child,
                ));
            }
            Ok(out)
        })
        .await
    }

    async fn stat(&self, path: &str) -> Result<Entry> {
        self.blocking(path, |p| {
            let meta = fs::metadata(&p)?;
            let name = p.file_name().map(os_text).unwrap_or_else(|| path_text(&p));
            Ok(entry_from_metadata(&name, &meta, &p))
        })
        .await
    }

    async fn mkdir(&self, path: &str) -> Result<()> {
        self.blocking(path, fs::create_dir).await
    }

    async fn remove_file(&self, path: &str) -> Result<()> {
        self.blocking(path, fs::remove_file).await
    }

    async fn remove_dir(&self, path: &str) -> Result<()> {
        self.blocking(path, fs::remove_dir).await
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        let to = local_path(to);
        self.blocking(from, move |from| {
            fs::rename(&from, &to)?;
            // The rename is durable only once the directory entry is.
            if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir)?.sync_all()?;
            }
            Ok(())
        })
        .await
    }

    async fn rename_all(&self, pairs: &[(String, String)]) -> Vec<Result<()>> {
        self.rename_many(pairs).await
    }

    async fn read_from(&self, path: &str, offset: u64) -> Result<Box<dyn ReadStream>> {
        let (file, size) = self
            .blocking(path, move |p| {
                let mut file = File::open(p)?;
                let size = file.metadata()?.len();
                file.seek(SeekFrom::Start(offset))?;
                Ok((file, size))
            })
            .await?;
        Ok(Box::new(LocalReader::new(
            file,
            size.saturating_sub(offset),
            path,
            &self.endpoint,
        )))
    }

    async fn write_at(&self, path: &str, offset: u64) -> Result<Box<dyn WriteStream>> {
        let file = self
            .blocking(path, move |p| {
                let mut file = if offset == 0 {
                    OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .open(p)?
                } else {
                    let file = OpenOptions::new().write(true).open(p)?;
                    file.set_len(offset)?;
                    file
                };
                file.seek(SeekFrom::Start(offset))?;
                Ok(file)
            })
            .await?;
        Ok(Box::new(LocalWriter::spawn(file, path, &self.endpoint)))
    }

    async fn write_range(&self, path: &str, offset: u64) -> Result<Box<dyn WriteStream>> {
        let file = self
            .blocking(path, move |p| {
                let mut file = OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(p)?;
                file.seek(SeekFrom::Start(offset))?;
                Ok(file)
            })
            .await?;
        Ok(Box::new(LocalWriter::spawn(file, path, &self.endpoint)))
    }

    async fn sha256(&self, path: &str) -> Result<Option<String>> {
        self.blocking(path, |p| {
            let mut file = File::open(p)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; READ_BLOCK];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            Ok(Some(hex::encode(hasher.finalize())))
        })
        .await
    }

    async fn sha256_while_writing(&self, path: &str) -> Option<Box<dyn GrowingHash>> {
        let hash = self
            .blocking(path, following::LocalGrowingHash::open)
            .await
            .ok()?;
        Some(Box::new(hash))
    }

    async fn set_mtime(&self, path: &str, mtime: i64) -> Result<()> {
        self.blocking(path, move |p| {
            File::options()
                .write(true)
                .open(p)?
                .set_modified(system_time(mtime))
        })
        .await
    }

    async fn free_space(&self, path: &str) -> Result<Option<u64>> {
        self.blocking(path, |p| free_bytes(&p).map(Some)).await
    }

    async fn close(&self) {}
}

/// Free bytes for unprivileged users on the file system holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: c_path is a valid C string and stat points to writable memory of the right type.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let stat = unsafe { stat.assume_init() };
    Ok(stat.f_bavail * stat.f_frsize)
}

/// The `SystemTime` of Unix seconds (negative before 1970).
fn system_time(seconds: i64) -> SystemTime {
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// Seconds since the epoch for a `SystemTime` (negative before 1970).
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::Finish;

    async fn read_all(local: &LocalRemote, path: &str, offset: u64) -> Vec<u8> {
        let mut reader = local.read_from(path, offset).await.unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = reader.next_chunk().await.unwrap() {
            assert!(!chunk.is_empty() && chunk.len() <= READ_BLOCK);
            out.extend_from_slice(&chunk);
        }
        out
    }

    #[tokio::test]
    async fn reads_whole_files_of_every_shape() {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalRemote::new();
        for size in [
            0,
            1,
            READ_BLOCK - 1,
            READ_BLOCK,
            READ_BLOCK + 1,
            5 * READ_BLOCK + 77,
        ] {
            let path = dir.path().join(format!("f{size}"));
            let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &data).unwrap();
            let path = path.to_str().unwrap();
            assert_eq!(read_all(&local, path, 0).await, data, "size {size}");
            let from = size / 3;
            assert_eq!(read_all(&local, path, from as u64).await, &data[from..]);
        }
    }

    #[tokio::test]
    async fn write_resume_read_rename_hash() {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalRemote::new();
        let part = dir.path().join("f.part").to_string_lossy().into_owned();
        let mut w = local.write_at(&part, 0).await.unwrap();
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        w.finish(Finish {
            sync: true,
            mtime: None,
        })
        .await
        .unwrap();
        let mut w = local.write_at(&part, 6).await.unwrap();
        w.write(Bytes::from_static(b"world")).await.unwrap();
        assert!(w.confirmed() <= 5);
        w.finish(Finish::default()).await.unwrap();
        let fin = dir.path().join("f").to_string_lossy().into_owned();
        local.rename(&part, &fin).await.unwrap();
        let mut r = local.read_from(&fin, 6).await.unwrap();
        assert_eq!(
            r.next_chunk().await.unwrap().unwrap(),
            Bytes::from_static(b"world")
        );
        assert!(r.next_chunk().await.unwrap().is_none());
        let hash = local.sha256(&fin).await.unwrap().unwrap();
        assert_eq!(hash, hex::encode(Sha256::digest(b"hello world")));
        assert_eq!(local.stat(&fin).await.unwrap().size, 11);
        local.set_mtime(&fin, 1_000_000_000).await.unwrap();
        assert_eq!(local.stat(&fin).await.unwrap().mtime, Some(1_000_000_000));
    }

    #[tokio::test]
    async fn mkdir_all_and_errors_are_classified() {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalRemote::new();
        let deep = dir.path().join("a/b/c").to_string_lossy().into_owned();
        local.mkdir_all(&deep).await.unwrap();
        assert!(Path::new(&deep).is_dir());
        let missing = dir.path().join("nope").to_string_lossy().into_owned();
        let err = local.stat(&missing).await.unwrap_err();
        assert_eq!(err.kind, super::super::ErrorKind::NotFound);
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
