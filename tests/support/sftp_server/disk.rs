//! Blocking filesystem work for the SFTP handler, run on tokio's blocking pool, and the
//! mapping of io errors to SFTP status codes.

use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use russh_sftp::protocol::{File, FileAttributes, OpenFlags, StatusCode};
use russh_sftp::server::StatusReply;

use super::listing::{self, fake_entry};

/// Runs disk work on the blocking pool and turns io errors into SFTP statuses.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, StatusReply> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(io_status(&err)),
        Err(_) => Err(StatusCode::Failure.with_message("server task failed")),
    }
}

/// NoSuchFile and PermissionDenied by kind, Failure otherwise; the message is the OS's.
fn io_status(err: &io::Error) -> StatusReply {
    let code = match err.kind() {
        io::ErrorKind::NotFound => StatusCode::NoSuchFile,
        io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    let text = err.to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    code.with_message(text)
}

/// `.`, `..`, then the entries sorted by name, then `extra` made-up names.
pub(super) fn list_dir(dir: &Path, parent: &Path, extra: &[&str]) -> io::Result<VecDeque<File>> {
    let mut entries = VecDeque::new();
    entries.push_back(listing::entry(".", &fs::metadata(dir)?));
    entries.push_back(listing::entry("..", &fs::metadata(parent)?));
    let mut named = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = ferry::text::os_text(&entry.file_name());
        named.push(listing::entry(&name, &entry.metadata()?));
    }
    named.sort_by(|a, b| a.filename.cmp(&b.filename));
    entries.extend(named);
    entries.extend(extra.iter().map(|name| fake_entry(name)));
    Ok(entries)
}

pub(super) fn open_options(pflags: OpenFlags, attrs: &FileAttributes) -> OpenOptions {
    let write = pflags.intersects(OpenFlags::WRITE | OpenFlags::APPEND);
    let mut options = OpenOptions::new();
    options
        .read(pflags.contains(OpenFlags::READ) || !write)
        .write(write)
        .append(pflags.contains(OpenFlags::APPEND))
        .truncate(pflags.contains(OpenFlags::TRUNCATE))
        .mode(attrs.permissions.map_or(0o666, |p| p & 0o7777));
    if pflags.contains(OpenFlags::CREATE | OpenFlags::EXCLUDE) {
        options.create_new(true);
    } else if pflags.contains(OpenFlags::CREATE) {
        options.create(true);
    }
    options
}

pub(super) fn read_at_most(file: &fs::File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut data = vec![0; len];
    let mut filled = 0;
    while filled < len {
        match file.read_at(&mut data[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    data.truncate(filled);
    Ok(data)
}

pub(super) fn set_path_attrs(host: &Path, attrs: &FileAttributes) -> io::Result<()> {
    if let Some(size) = attrs.size {
        OpenOptions::new().write(true).open(host)?.set_len(size)?;
    }
    if let Some(mode) = attrs.permissions {
        fs::set_permissions(host, mode_perms(mode))?;
    }
    if attrs.uid.is_some() || attrs.gid.is_some() {
        std::os::unix::fs::chown(host, attrs.uid, attrs.gid)?;
    }
    if attrs.atime.is_some() || attrs.mtime.is_some() {
        set_times(&fs::File::open(host)?, attrs)?;
    }
    Ok(())
}

pub(super) fn set_file_attrs(file: &fs::File, attrs: &FileAttributes) -> io::Result<()> {
    if let Some(size) = attrs.size {
        file.set_len(size)?;
    }
    if let Some(mode) = attrs.permissions {
        file.set_permissions(mode_perms(mode))?;
    }
    if attrs.uid.is_some() || attrs.gid.is_some() {
        std::os::unix::fs::fchown(file, attrs.uid, attrs.gid)?;
    }
    if attrs.atime.is_some() || attrs.mtime.is_some() {
        set_times(file, attrs)?;
    }
    Ok(())
}

fn mode_perms(mode: u32) -> std::fs::Permissions {
    std::os::unix::fs::PermissionsExt::from_mode(mode & 0o7777)
}

fn set_times(file: &fs::File, attrs: &FileAttributes) -> io::Result<()> {
    let at = |secs: u32| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.into());
    let mut times = fs::FileTimes::new();
    if let Some(atime) = attrs.atime {
        times = times.set_accessed(at(atime));
    }
    if let Some(mtime) = attrs.mtime {
        times = times.set_modified(at(mtime));
    }
    file.set_times(times)
}
