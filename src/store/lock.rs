//! The holder lock next to the store: an exclusive `flock` on `<store>.lock` whose content names
//! the process that holds it, so a second ferry can say who has the store instead of hanging.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::StoreError;

/// Held for as long as the store is open; the kernel drops the lock when the process dies.
pub(crate) struct HolderLock {
    _file: File,
}

impl HolderLock {
    pub(crate) fn acquire(store: &Path) -> Result<HolderLock, StoreError> {
        let lock_path = lock_path(store);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|source| StoreError::Io {
                path: lock_path.clone(),
                source,
            })?;
        // SAFETY: flock on a file descriptor we own; it does not touch memory.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::WouldBlock {
                return Err(StoreError::InUse {
                    path: store.to_path_buf(),
                    holder: describe_holder(&mut file),
                });
            }
            return Err(StoreError::Io {
                path: lock_path,
                source: err,
            });
        }
        let io = |source| StoreError::Io {
            path: lock_path.clone(),
            source,
        };
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}\n{}", std::process::id(), own_command()).map_err(io)?;
        Ok(HolderLock { _file: file })
    }
}

fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The program and its subcommand words, never option values (which could be anything).
fn own_command() -> String {
    // args_os: an argument that is not UTF-8 (a file name) must not panic here.
    std::env::args_os()
        .map(|arg| crate::text::shown(&crate::text::os_text(&arg)).into_owned())
        .enumerate()
        .take_while(|(i, arg)| *i == 0 || !arg.starts_with('-'))
        .take(3)
        .map(|(i, arg)| {
            if i == 0 {
                Path::new(&arg)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or(arg)
            } else {
                arg
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let mut lines = text.lines();
    match (
        lines.next().and_then(|p| p.parse::<u32>().ok()),
        lines.next(),
    ) {
        (Some(pid), Some(command)) if !command.is_empty() => format!("process {pid} ({command})"),
        (Some(pid), _) => format!("process {pid}"),
        _ => "another process".to_string(),
    }
}
