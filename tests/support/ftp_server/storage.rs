//! The storage back-end every test session uses: unftp-sbe-fs over the served directory, wrapped
//! so the faults in `faults.rs` show up as real FTP replies (550, 426, 452/552) and as extra,
//! hostile entries in listings of `/hostile`.

use super::faults::{DropMode, Faults, NoSpaceReply, SessionCut};
use super::metered::{Direction, MeteredReader, Stop};
use async_trait::async_trait;
use std::fmt::{Debug, Write as _};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use unftp_core::auth::DefaultUser;
use unftp_core::storage::{
    Error, ErrorKind, Fileinfo, Metadata, Permissions, Result, StorageBackend,
};
use unftp_sbe_fs::{Filesystem, Meta};

/// Names served in `/hostile` besides the real entries: none of them may become a local path.
pub const HOSTILE_NAMES: [&str; 3] = ["..", "a/b", "a\\b"];

#[derive(Debug)]
pub(super) struct FaultyFs {
    inner: Filesystem,
    faults: Arc<Faults>,
    session: Arc<SessionCut>,
}

impl FaultyFs {
    pub fn new(root: &Path, faults: Arc<Faults>, session: Arc<SessionCut>) -> FaultyFs {
        let inner = Filesystem::new(root).expect("open served directory");
        FaultyFs {
            inner,
            faults,
            session,
        }
    }

    fn check(&self, path: &Path) -> Result<()> {
        if self.faults.is_denied(path) {
            return Err(Error::from(ErrorKind::PermissionDenied));
        }
        Ok(())
    }

    fn stopped_upload(&self, stop: Stop) -> Error {
        match stop {
            Stop::Drop => {
                self.faults.drops.fetch_add(1, Ordering::SeqCst);
                if self.faults.drop_mode == DropMode::CloseSession {
                    self.session.cut();
                }
                Error::from(ErrorKind::ConnectionClosed)
            }
            Stop::NoSpace => match self.faults.no_space_reply {
                NoSpaceReply::Insufficient452 => {
                    Error::from(ErrorKind::InsufficientStorageSpaceError)
                }
                NoSpaceReply::Exceeded552 => Error::from(ErrorKind::ExceededStorageAllocationError),
            },
        }
    }
}

/// Metadata of a real entry, or of a made-up hostile one (which keeps its raw name).
#[derive(Debug)]
pub(super) enum EntryMeta {
    Real(Meta),
    Hostile { name: &'static str },
}

impl Metadata for EntryMeta {
    fn len(&self) -> u64 {
        match self {
            EntryMeta::Real(meta) => meta.len(),
            EntryMeta::Hostile { .. } => 6,
        }
    }

    fn is_dir(&self) -> bool {
        match self {
            EntryMeta::Real(meta) => meta.is_dir(),
            EntryMeta::Hostile { .. } => false,
        }
    }

    fn is_file(&self) -> bool {
        match self {
            EntryMeta::Real(meta) => meta.is_file(),
            EntryMeta::Hostile { .. } => true,
        }
    }

    fn is_symlink(&self) -> bool {
        match self {
            EntryMeta::Real(meta) => meta.is_symlink(),
            EntryMeta::Hostile { .. } => false,
        }
    }

    fn modified(&self) -> Result<SystemTime> {
        match self {
            EntryMeta::Real(meta) => meta.modified(),
            EntryMeta::Hostile { .. } => {
                Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            }
        }
    }

    fn gid(&self) -> u32 {
        match self {
            EntryMeta::Real(meta) => meta.gid(),
            EntryMeta::Hostile { .. } => 0,
        }
    }

    fn uid(&self) -> u32 {
        match self {
            EntryMeta::Real(meta) => meta.uid(),
            EntryMeta::Hostile { .. } => 0,
        }
    }

    fn links(&self) -> u64 {
        match self {
            EntryMeta::Real(meta) => meta.links(),
            EntryMeta::Hostile { .. } => 1,
        }
    }

    fn permissions(&self) -> Permissions {
        match self {
            EntryMeta::Real(meta) => meta.permissions(),
            EntryMeta::Hostile { .. } => Permissions(0o644),
        }
    }

    fn readlink(&self) -> Option<&Path> {
        match self {
            EntryMeta::Real(meta) => meta.readlink(),
            EntryMeta::Hostile { .. } => None,
        }
    }
}

type Entry = Fileinfo<PathBuf, EntryMeta>;

/// The name a listing shows: the raw one for hostile entries (LIST and NLST print it verbatim;
/// MLSD, which libunftp formats itself from the last path component, shows `a/b` as `b`).
fn shown_name(entry: &Entry) -> String {
    match &entry.metadata {
        EntryMeta::Hostile { name } => (*name).to_string(),
        EntryMeta::Real(_) => entry
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// One `ls -l` style line, as libunftp prints real entries, but with the name taken verbatim.
fn list_line(entry: &Entry) -> String {
    if let EntryMeta::Real(_) = entry.metadata {
        return entry.to_string();
    }
    let meta = &entry.metadata;
    format!(
        "-{} {:>12} {:>12} {:>12} {:>14} {:>12} {}",
        meta.permissions(),
        meta.links(),
        meta.uid(),
        meta.gid(),
        meta.len(),
        "Nov 14  2023",
        shown_name(entry)
    )
}

#[async_trait]
impl StorageBackend<DefaultUser> for FaultyFs {
    type Metadata = EntryMeta;

    fn supported_features(&self) -> u32 {
        let all = StorageBackend::<DefaultUser>::supported_features(&self.inner);
        match self.faults.refuse_rest.load(Ordering::SeqCst) {
            true => all & !unftp_core::storage::FEATURE_RESTART,
            false => all,
        }
    }

    async fn metadata<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> Result<EntryMeta> {
        self.check(path.as_ref())?;
        self.inner.metadata(user, path).await.map(EntryMeta::Real)
    }

    async fn md5<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> Result<String> {
        self.check(path.as_ref())?;
        self.inner.md5(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> Result<Vec<Entry>> {
        self.check(path.as_ref())?;
        let hostile = self.faults.is_hostile_dir(path.as_ref());
        let mut entries: Vec<Entry> = self
            .inner
            .list(user, path)
            .await?
            .into_iter()
            .map(|fi| Fileinfo {
                path: fi.path,
                metadata: EntryMeta::Real(fi.metadata),
            })
            .collect();
        if hostile {
            entries.extend(HOSTILE_NAMES.iter().map(|name| Fileinfo {
                path: PathBuf::from(name),
                metadata: EntryMeta::Hostile { name },
            }));
        }
        Ok(entries)
    }

    async fn list_fmt<P>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> std::result::Result<Cursor<Vec<u8>>, Error>
    where
        P: AsRef<Path> + Send + Debug,
        EntryMeta: Metadata + 'static,
    {
        let text = self
            .list(user, path)
            .await?
            .iter()
            .fold(String::new(), |mut out, entry| {
                let _ = write!(out, "{}\r\n", list_line(entry));
                out
            });
        Ok(Cursor::new(text.into_bytes()))
    }

    async fn nlst<P>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> std::result::Result<Cursor<Vec<u8>>, std::io::Error>
    where
        P: AsRef<Path> + Send + Debug,
        EntryMeta: Metadata + 'static,
    {
        let entries = self
            .list(user, path)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let text = entries.iter().fold(String::new(), |mut out, entry| {
            let _ = write!(out, "{}\r\n", shown_name(entry));
            out
        });
        Ok(Cursor::new(text.into_bytes()))
    }

    async fn get<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> Result<Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>> {
        self.check(path.as_ref())?;
        let file = self.inner.get(user, path, start_pos).await?;
        let metered = MeteredReader::new(
            file,
            Direction::Download,
            self.faults.clone(),
            self.session.clone(),
        );
        Ok(Box::new(metered))
    }

    async fn put<
        P: AsRef<Path> + Send + Debug,
        R: tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        user: &DefaultUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> Result<u64> {
        self.check(path.as_ref())?;
        let metered = MeteredReader::new(
            input,
            Direction::Upload,
            self.faults.clone(),
            self.session.clone(),
        );
        let stop = metered.stop_flag();
        let written = self.inner.put(user, metered, path, start_pos).await?;
        let stopped = *stop.lock().unwrap();
        match stopped {
            Some(why) => Err(self.stopped_upload(why)),
            None => Ok(written),
        }
    }

    async fn del<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> Result<()> {
        self.check(path.as_ref())?;
        self.inner.del(user, path).await
    }

    async fn mkd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> Result<()> {
        self.check(path.as_ref())?;
        self.inner.mkd(user, path).await
    }

    async fn rename<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        from: P,
        to: P,
    ) -> Result<()> {
        self.check(from.as_ref())?;
        self.check(to.as_ref())?;
        self.inner.rename(user, from, to).await
    }

    async fn rmd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> Result<()> {
        self.check(path.as_ref())?;
        self.inner.rmd(user, path).await
    }

    async fn cwd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> Result<()> {
        self.check(path.as_ref())?;
        self.inner.cwd(user, path).await
    }
}
