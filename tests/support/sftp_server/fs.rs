//! The russh-sftp `Handler` over the served directory: one per SFTP channel, owning that
//! channel's open handles. Disk work runs on tokio's blocking pool; faults (deny list,
//! byte budget, full disk, hostile names) are applied here.

use std::collections::{HashMap, VecDeque};
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileExt};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use russh_sftp::extensions::{self, FsyncExtension, HardlinkExtension, LimitsExtension};
use russh_sftp::protocol::{
    Attrs, Data, ExtendedReply, File, FileAttributes, Handle, Name, OpenFlags, Packet, Status,
    StatusCode, Version,
};
use russh_sftp::server::{Handler, StatusReply};

use super::check_file;
use super::disk::{self, blocking};
use super::listing;
use super::paths::{child, normalize};
use super::state::{ConnectionState, Shared};
use super::{HOSTILE_DIR, HOSTILE_NAMES, MAX_IO_LEN};

const POSIX_RENAME: &str = "posix-rename@openssh.com";
/// Entries per READDIR reply, as OpenSSH's sftp-server sends.
const READDIR_BATCH: usize = 100;

enum OpenHandle {
    File {
        file: Arc<fs::File>,
        path: String,
    },
    Dir {
        entries: VecDeque<File>,
        path: String,
    },
}

/// A client path checked against the deny list, with its place on disk.
struct Target {
    client: String,
    host: PathBuf,
}

pub(super) struct FsHandler {
    shared: Arc<Shared>,
    conn: Arc<ConnectionState>,
    handles: HashMap<String, OpenHandle>,
    next_handle: u64,
}

impl FsHandler {
    pub fn new(shared: Arc<Shared>, conn: Arc<ConnectionState>) -> Self {
        Self {
            shared,
            conn,
            handles: HashMap::new(),
            next_handle: 0,
        }
    }

    fn resolve(&self, path: &str) -> Result<Target, StatusReply> {
        let client = normalize(path);
        self.check_allowed(&client)?;
        let host = self.shared.jail.host_path(&client);
        Ok(Target { client, host })
    }

    fn check_allowed(&self, client: &str) -> Result<(), StatusReply> {
        if self.shared.faults.is_denied(client) {
            return Err(StatusCode::PermissionDenied.with_message("Permission denied"));
        }
        if self.shared.faults.is_bad_message(client) {
            return Err(StatusCode::BadMessage.with_message("Bad message"));
        }
        Ok(())
    }

    fn add_handle(&mut self, prefix: char, handle: OpenHandle) -> String {
        self.next_handle += 1;
        let name = format!("{prefix}{}", self.next_handle);
        self.handles.insert(name.clone(), handle);
        name
    }

    fn file(&self, handle: &str) -> Result<Arc<fs::File>, StatusReply> {
        match self.handles.get(handle) {
            Some(OpenHandle::File { file, path }) => {
                self.check_allowed(path)?;
                Ok(file.clone())
            }
            _ => Err(bad_handle()),
        }
    }

    /// Cuts the connection when the byte budget is spent; the reply is never sent.
    fn cut_if(&self, cut: bool) -> Result<(), StatusReply> {
        if cut {
            self.conn.kill();
            return Err(StatusCode::Failure.with_message("connection dropped by test server"));
        }
        Ok(())
    }

    /// Made-up names a listing of `client` gets on top of what is on disk.
    fn hostile_names(&self, client: &str) -> &'static [&'static str] {
        match client == HOSTILE_DIR && self.shared.faults.hostile_names() {
            true => &HOSTILE_NAMES,
            false => &[],
        }
    }
}

impl Handler for FsHandler {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.with_message("Operation unsupported")
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        let mut version = Version::new();
        for name in [
            POSIX_RENAME,
            extensions::LIMITS,
            extensions::FSYNC,
            extensions::HARDLINK,
        ] {
            version.extensions.insert(name.to_owned(), "1".to_owned());
        }
        if self.shared.check_file {
            for name in [check_file::BY_NAME, check_file::BY_HANDLE] {
                version
                    .extensions
                    .insert(name.to_owned(), "sha256".to_owned());
            }
        }
        Ok(version)
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let target = self.resolve(&filename)?;
        let writes = pflags.intersects(OpenFlags::WRITE | OpenFlags::APPEND);
        if self.shared.refuse_reopen && writes && target.host.exists() {
            return Err(StatusCode::PermissionDenied.with_message("Permission denied"));
        }
        let options = disk::open_options(pflags, &attrs);
        let host = target.host;
        let file = blocking(move || options.open(host)).await?;
        let handle = self.add_handle(
            'f',
            OpenHandle::File {
                file: Arc::new(file),
                path: target.client,
            },
        );
        Ok(Handle { id, handle })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        match self.handles.remove(&handle) {
            Some(_) => Ok(ok(id)),
            None => Err(bad_handle()),
        }
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let file = self.file(&handle)?;
        let len = u64::from(len).min(MAX_IO_LEN) as usize;
        let data = blocking(move || disk::read_at_most(&file, offset, len)).await?;
        if data.is_empty() {
            return Err(StatusCode::Eof.with_message("End of file"));
        }
        self.cut_if(self.conn.charge(data.len() as u64).cut)?;
        self.shared.counters.add_sent(data.len() as u64);
        Ok(Data { id, data })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        mut data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let file = self.file(&handle)?;
        let requested = data.len() as u64;
        let allowance = self.conn.charge(requested);
        let room = self
            .shared
            .faults
            .no_space_after()
            .map_or(requested, |limit| limit.saturating_sub(offset));
        data.truncate(allowance.bytes.min(room) as usize);
        let written = data.len() as u64;
        blocking(move || file.write_all_at(&data, offset)).await?;
        self.shared.counters.add_received(written);
        self.cut_if(allowance.cut)?;
        if room < requested {
            return Err(StatusCode::Failure.with_message("No space left on device"));
        }
        Ok(ok(id))
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let host = self.resolve(&path)?.host;
        let meta = blocking(move || fs::symlink_metadata(host)).await?;
        Ok(Attrs {
            id,
            attrs: listing::attrs_of(&meta),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let file = self.file(&handle)?;
        let meta = blocking(move || file.metadata()).await?;
        Ok(Attrs {
            id,
            attrs: listing::attrs_of(&meta),
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let host = self.resolve(&path)?.host;
        blocking(move || disk::set_path_attrs(&host, &attrs)).await?;
        Ok(ok(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let file = self.file(&handle)?;
        blocking(move || disk::set_file_attrs(&file, &attrs)).await?;
        Ok(ok(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let target = self.resolve(&path)?;
        let (dir, extra) = (target.host, self.hostile_names(&target.client));
        let parent = self.shared.jail.host_path(&child(&target.client, ".."));
        let entries = blocking(move || disk::list_dir(&dir, &parent, extra)).await?;
        let handle = self.add_handle(
            'd',
            OpenHandle::Dir {
                entries,
                path: target.client,
            },
        );
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        let Some(OpenHandle::Dir { entries, path }) = self.handles.get_mut(&handle) else {
            return Err(bad_handle());
        };
        if self.shared.faults.is_denied(path) {
            return Err(StatusCode::PermissionDenied.with_message("Permission denied"));
        }
        if entries.is_empty() {
            return Err(StatusCode::Eof.with_message("End of file"));
        }
        let count = entries.len().min(READDIR_BATCH);
        let files = entries.drain(..count).collect();
        Ok(Name { id, files })
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let host = self.resolve(&filename)?.host;
        blocking(move || fs::remove_file(host)).await?;
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let host = self.resolve(&path)?.host;
        let mode = attrs.permissions.map_or(0o777, |p| p & 0o7777);
        blocking(move || fs::DirBuilder::new().mode(mode).create(host)).await?;
        Ok(ok(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Result<Status, Self::Error> {
        let host = self.resolve(&path)?.host;
        blocking(move || fs::remove_dir(host)).await?;
        Ok(ok(id))
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let client = self.resolve(&path)?.client;
        let real = self.shared.jail.realpath(&client);
        Ok(single_name(id, real))
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let host = self.resolve(&path)?.host;
        let meta = blocking(move || fs::metadata(host)).await?;
        Ok(Attrs {
            id,
            attrs: listing::attrs_of(&meta),
        })
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let from = self.resolve(&oldpath)?.host;
        let to = self.resolve(&newpath)?.host;
        blocking(move || {
            if fs::symlink_metadata(&to).is_ok() {
                return Err(io::Error::new(io::ErrorKind::AlreadyExists, "File exists"));
            }
            fs::rename(from, to)
        })
        .await?;
        Ok(ok(id))
    }

    async fn readlink(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let host = self.resolve(&path)?.host;
        let target = blocking(move || fs::read_link(host)).await?;
        Ok(single_name(
            id,
            self.shared.jail.link_target_from_disk(&target),
        ))
    }

    /// Takes the arguments in OpenSSH's order (target first, then the link), which is
    /// what OpenSSH clients send and what russh-sftp names `linkpath`, `targetpath`.
    async fn symlink(
        &mut self,
        id: u32,
        linkpath: String,
        targetpath: String,
    ) -> Result<Status, Self::Error> {
        let (target, link) = (linkpath, targetpath);
        let link = self.resolve(&link)?;
        let Some(stored) = self.shared.jail.link_target_to_disk(&link.client, &target) else {
            return Err(StatusCode::PermissionDenied.with_message("target outside served root"));
        };
        blocking(move || std::os::unix::fs::symlink(stored, link.host)).await?;
        Ok(ok(id))
    }

    async fn extended(
        &mut self,
        id: u32,
        request: String,
        data: Vec<u8>,
    ) -> Result<Packet, Self::Error> {
        let mut data = Bytes::from(data);
        match request.as_str() {
            POSIX_RENAME | extensions::HARDLINK => {
                let paths: HardlinkExtension = decode(&mut data)?;
                let from = self.resolve(&paths.oldpath)?.host;
                let to = self.resolve(&paths.newpath)?.host;
                let hard_link = request == extensions::HARDLINK;
                blocking(move || match hard_link {
                    true => fs::hard_link(from, to),
                    false => fs::rename(from, to),
                })
                .await?;
                Ok(Packet::Status(ok(id)))
            }
            extensions::FSYNC => {
                let fsync: FsyncExtension = decode(&mut data)?;
                let file = self.file(&fsync.handle)?;
                blocking(move || file.sync_all()).await?;
                Ok(Packet::Status(ok(id)))
            }
            extensions::LIMITS => Ok(Packet::ExtendedReply(ExtendedReply {
                id,
                data: limits_reply(),
            })),
            check_file::BY_NAME | check_file::BY_HANDLE if self.shared.check_file => {
                let request = check_file::Request::decode(&request, &mut data)?;
                let file = match &request.subject {
                    check_file::Subject::Name(path) => {
                        let host = self.resolve(path)?.host;
                        Arc::new(blocking(move || fs::File::open(host)).await?)
                    }
                    check_file::Subject::Handle(handle) => self.file(handle)?,
                };
                let data = blocking(move || check_file::answer(&request, &file)).await?;
                Ok(Packet::ExtendedReply(ExtendedReply { id, data }))
            }
            _ => Err(self.unimplemented()),
        }
    }
}

fn limits_reply() -> Vec<u8> {
    let limits = LimitsExtension {
        max_packet_len: super::wire::MAX_PACKET_LEN as u64,
        max_read_len: MAX_IO_LEN,
        max_write_len: MAX_IO_LEN,
        max_open_handles: 1024,
    };
    russh_sftp::ser::to_bytes(&limits)
        .expect("encode limits")
        .to_vec()
}

fn decode<T: serde::de::DeserializeOwned>(data: &mut Bytes) -> Result<T, StatusReply> {
    russh_sftp::de::from_bytes(data)
        .map_err(|_| StatusCode::BadMessage.with_message("malformed extended request"))
}

fn single_name(id: u32, path: String) -> Name {
    Name {
        id,
        files: vec![File {
            filename: path.clone(),
            longname: path,
            attrs: FileAttributes::default(),
        }],
    }
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Success".to_owned(),
        language_tag: "en-US".to_owned(),
    }
}

fn bad_handle() -> StatusReply {
    StatusCode::Failure.with_message("invalid handle")
}
