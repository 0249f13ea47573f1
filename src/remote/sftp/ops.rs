//! The file operations on an open SFTP session: listing, stat, directories, removal, rename,
//! times and opening streams. Each error names the path; where SFTP v3's generic failure
//! hides the cause (an existing directory, a non-empty one), one more request finds it.

use std::sync::Arc;

use futures::StreamExt;
use russh_sftp::protocol::{FileAttributes, OpenFlags, StatusCode};

use super::attrs;
use super::errors::{is_eof, is_generic_failure};
use super::reader::SftpReader;
use super::session::Connection;
use super::writer::SftpWriter;
use crate::remote::{Entry, EntryKind, ErrorKind, RemoteError, Result, names};

const POSIX_RENAME: &str = "posix-rename@openssh.com";
/// Symlink targets looked up at once while listing.
const READLINKS_AT_ONCE: usize = 32;

pub(super) async fn home(conn: &Connection) -> Result<String> {
    let name = conn
        .sftp
        .realpath(".")
        .await
        .map_err(|err| conn.error(&err, "."))?;
    match name.files.into_iter().next() {
        Some(file) => Ok(file.filename),
        None => Err(RemoteError::new(
            ErrorKind::Protocol,
            &conn.endpoint,
            "the server did not name the login directory",
        )
        .at(".")),
    }
}

pub(super) async fn read_dir(conn: &Connection, path: &str) -> Result<Vec<Entry>> {
    let handle = conn
        .sftp
        .opendir(path)
        .await
        .map_err(|err| conn.error(&err, path))?;
    let listed = read_all(conn, &handle.handle, path).await;
    // The listing is what matters; a failed close only leaks a handle on the server.
    let _ = conn.sftp.close(handle.handle).await;
    let mut entries = listed?;
    add_link_targets(conn, path, &mut entries).await;
    Ok(entries)
}

/// Lists `path` in chunks as the server's replies arrive: the first at once, later ones
/// gathered to [`crate::remote::LIST_CHUNK`] entries. Unsafe names are refused and returned.
pub(super) async fn list_chunked(
    conn: &Connection,
    path: &str,
    chunks: &tokio::sync::mpsc::Sender<Vec<Entry>>,
) -> Result<Vec<String>> {
    let handle = conn
        .sftp
        .opendir(path)
        .await
        .map_err(|err| conn.error(&err, path))?;
    let mut refused = Vec::new();
    let mut gathered: Vec<Entry> = Vec::new();
    let mut sent_any = false;
    let result = loop {
        match conn.sftp.readdir(handle.handle.as_str()).await {
            Ok(batch) => {
                let mut entries: Vec<Entry> = batch
                    .files
                    .iter()
                    .filter(|file| file.filename != "." && file.filename != "..")
                    .map(|file| attrs::entry(&file.filename, &file.attrs, Some(&file.longname)))
                    .collect();
                add_link_targets(conn, path, &mut entries).await;
                let (safe, unsafe_names) = names::partition_safe(entries);
                refused.extend(unsafe_names);
                gathered.extend(safe);
                if !sent_any || gathered.len() >= crate::remote::LIST_CHUNK {
                    sent_any = true;
                    if chunks.send(std::mem::take(&mut gathered)).await.is_err() {
                        break Ok(());
                    }
                }
            }
            Err(err) if is_eof(&err) => break Ok(()),
            Err(err) => break Err(conn.error(&err, path)),
        }
    };
    let _ = conn.sftp.close(handle.handle).await;
    result?;
    if !gathered.is_empty() {
        let _ = chunks.send(gathered).await;
    }
    Ok(refused)
}

async fn read_all(conn: &Connection, handle: &str, path: &str) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    loop {
        match conn.sftp.readdir(handle).await {
            Ok(batch) => entries.extend(
                batch
                    .files
                    .iter()
                    .filter(|file| file.filename != "." && file.filename != "..")
                    .map(|file| attrs::entry(&file.filename, &file.attrs, Some(&file.longname))),
            ),
            Err(err) if is_eof(&err) => return Ok(entries),
            Err(err) => return Err(conn.error(&err, path)),
        }
    }
}

/// Fills in where each symlink points; a link that cannot be read keeps no target.
async fn add_link_targets(conn: &Connection, dir: &str, entries: &mut [Entry]) {
    let links: Vec<(usize, String)> = entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.kind == EntryKind::Symlink)
        .map(|(index, entry)| (index, names::join(dir, &entry.name)))
        .collect();
    let targets: Vec<(usize, Option<String>)> = futures::stream::iter(links)
        .map(|(index, path)| async move {
            let target = conn.sftp.readlink(path).await.ok();
            (
                index,
                target
                    .and_then(|name| name.files.into_iter().next())
                    .map(|f| f.filename),
            )
        })
        .buffer_unordered(READLINKS_AT_ONCE)
        .collect()
        .await;
    for (index, target) in targets {
        if let Some(entry) = entries.get_mut(index) {
            entry.link_target = target;
        }
    }
}

pub(super) async fn stat(conn: &Connection, path: &str) -> Result<Entry> {
    let attrs = conn
        .timed(conn.sftp.stat(path))
        .await
        .map_err(|err| conn.error(&err, path))?;
    let name = match names::base_name(path) {
        "" => path,
        name => name,
    };
    Ok(attrs::entry(name, &attrs.attrs, None))
}

pub(super) async fn mkdir(conn: &Connection, path: &str) -> Result<()> {
    match conn.sftp.mkdir(path, FileAttributes::default()).await {
        Ok(_) => Ok(()),
        Err(err) if is_generic_failure(&err) && exists(conn, path).await => {
            Err(RemoteError::new(ErrorKind::AlreadyExists, &conn.endpoint, "").at(path))
        }
        Err(err) => Err(conn.error(&err, path)),
    }
}

pub(super) async fn remove_file(conn: &Connection, path: &str) -> Result<()> {
    conn.sftp
        .remove(path)
        .await
        .map(drop)
        .map_err(|err| conn.error(&err, path))
}

pub(super) async fn remove_dir(conn: &Connection, path: &str) -> Result<()> {
    match conn.sftp.rmdir(path).await {
        Ok(_) => Ok(()),
        Err(err) if is_generic_failure(&err) && has_entries(conn, path).await => {
            Err(RemoteError::new(ErrorKind::NotEmpty, &conn.endpoint, "").at(path))
        }
        Err(err) => Err(conn.error(&err, path)),
    }
}

/// Renames over an existing target: atomically with posix-rename, otherwise by removing
/// the target first (plain SFTP rename refuses an existing target).
pub(super) async fn rename(conn: &Connection, from: &str, to: &str) -> Result<()> {
    let renamed = match conn.features.posix_rename {
        true => posix_rename(conn, from, to).await,
        false => {
            if conn.sftp.lstat(to).await.is_ok() {
                remove_file(conn, to).await?;
            }
            conn.sftp.rename(from, to).await.map(drop)
        }
    };
    renamed.map_err(|err| {
        let mut error = conn.error(&err, from);
        error.detail = match error.detail.is_empty() {
            true => format!("renaming to {to}"),
            false => format!("{}, renaming to {to}", error.detail),
        };
        error
    })
}

async fn posix_rename(
    conn: &Connection,
    from: &str,
    to: &str,
) -> std::result::Result<(), russh_sftp::client::error::Error> {
    use russh_sftp::client::error::Error;
    use russh_sftp::protocol::Packet;
    // posix-rename's body is two strings, the same layout as hardlink@openssh.com's.
    let body: Vec<u8> = russh_sftp::extensions::HardlinkExtension {
        oldpath: from.to_string(),
        newpath: to.to_string(),
    }
    .try_into()?;
    match conn.sftp.extended(POSIX_RENAME, body).await? {
        Packet::Status(status) if status.status_code == StatusCode::Ok => Ok(()),
        Packet::Status(status) => Err(Error::Status(status)),
        _ => Err(Error::UnexpectedPacket),
    }
}

/// Sets the modification time (and the access time with it, as a finished write does:
/// `writer::times`).
pub(super) async fn set_mtime(conn: &Connection, path: &str, mtime: i64) -> Result<()> {
    conn.sftp
        .setstat(path, super::writer::times(mtime))
        .await
        .map(drop)
        .map_err(|err| conn.error(&err, path))
}

pub(super) async fn read_from(
    conn: &Arc<Connection>,
    path: &str,
    offset: u64,
) -> Result<SftpReader> {
    let handle = conn
        .sftp
        .open(path, OpenFlags::READ, FileAttributes::default())
        .await
        .map_err(|err| conn.error(&err, path))?
        .handle;
    // The size bounds the reads sent ahead, so a small file costs few requests.
    let size = match conn.sftp.fstat(handle.as_str()).await {
        Ok(attrs) => attrs.attrs.size,
        Err(_) => None,
    };
    Ok(SftpReader::new(conn.clone(), handle, path, offset, size))
}

/// Opens for writing: offset 0 creates or truncates, a later offset continues the existing
/// file there (cut to that length, as the local side does).
pub(super) async fn write_at(
    conn: &Arc<Connection>,
    path: &str,
    offset: u64,
) -> Result<SftpWriter> {
    let flags = match offset {
        0 => OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        _ => OpenFlags::WRITE,
    };
    let handle = conn
        .sftp
        .open(path, flags, FileAttributes::default())
        .await
        .map_err(|err| conn.error(&err, path))?
        .handle;
    let writer = SftpWriter::new(conn.clone(), handle.clone(), path, offset);
    if offset > 0 {
        let cut = FileAttributes {
            size: Some(offset),
            ..FileAttributes::default()
        };
        match conn.sftp.fsetstat(handle.as_str(), cut).await {
            Ok(_) => {}
            Err(err) if matches!(&err, russh_sftp::client::error::Error::Status(s) if s.status_code == StatusCode::OpUnsupported) =>
                {}
            Err(err) => return Err(conn.error(&err, path)),
        }
    }
    Ok(writer)
}

/// Opens a file to write at `offset` without cutting or truncating it, creating it when it is
/// not there yet: one range of a file written by several streams at once.
pub(super) async fn write_range(
    conn: &Arc<Connection>,
    path: &str,
    offset: u64,
) -> Result<SftpWriter> {
    let handle = conn
        .sftp
        .open(
            path,
            OpenFlags::WRITE | OpenFlags::CREATE,
            FileAttributes::default(),
        )
        .await
        .map_err(|err| conn.error(&err, path))?
        .handle;
    Ok(SftpWriter::new(conn.clone(), handle, path, offset))
}

/// Streams `offset..end` of a file.
pub(super) async fn read_range(
    conn: &Arc<Connection>,
    path: &str,
    offset: u64,
    end: u64,
) -> Result<SftpReader> {
    let handle = conn
        .sftp
        .open(path, OpenFlags::READ, FileAttributes::default())
        .await
        .map_err(|err| conn.error(&err, path))?
        .handle;
    Ok(SftpReader::range(conn.clone(), handle, path, offset, end))
}

async fn exists(conn: &Connection, path: &str) -> bool {
    conn.sftp.lstat(path).await.is_ok()
}

/// Whether a directory lists anything besides `.` and `..`.
async fn has_entries(conn: &Connection, path: &str) -> bool {
    let Ok(handle) = conn.sftp.opendir(path).await else {
        return false;
    };
    let first = conn.sftp.readdir(handle.handle.as_str()).await;
    let _ = conn.sftp.close(handle.handle).await;
    first.is_ok_and(|batch| {
        batch
            .files
            .iter()
            .any(|file| file.filename != "." && file.filename != "..")
    })
}
