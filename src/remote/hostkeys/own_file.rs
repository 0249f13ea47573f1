//! The two ways ferry changes its own known_hosts file on disk: append one line (one write, then
//! fsync) and rewrite it without some lines (a 0600 temporary file renamed over it). Knows nothing
//! of what a line means; callers decide.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Appends `line` (which ends with `\n`) to `path`, creating the file 0600 and its directory 0700
/// when missing, and returns the 1-based number of the new line.
pub(super) fn append_line(path: &Path, line: &str) -> io::Result<usize> {
    let dir = parent_dir(path);
    if !dir.exists() {
        DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    let mut existing = Vec::new();
    file.read_to_end(&mut existing)?;
    let newlines = existing.iter().filter(|&&byte| byte == b'\n').count();
    let mut buffer = Vec::with_capacity(line.len() + 1);
    let number = match existing.last() {
        None => 1,
        Some(b'\n') => newlines + 1,
        Some(_) => {
            buffer.push(b'\n');
            newlines + 2
        }
    };
    buffer.extend_from_slice(line.as_bytes());
    file.write_all(&buffer)?;
    file.sync_all()?;
    if existing.is_empty() {
        sync_dir(&dir)?;
    }
    Ok(number)
}

/// Rewrites `path` without the lines for which `remove` says yes, keeping every other byte, and
/// returns how many lines went. A missing file, or nothing to remove, leaves the disk untouched.
pub(super) fn remove_lines(path: &Path, remove: impl Fn(&[u8]) -> bool) -> io::Result<usize> {
    let content = match fs::read(path) {
        Ok(content) => content,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err),
    };
    let mut kept = Vec::with_capacity(content.len());
    let mut removed = 0;
    for line in content.split_inclusive(|&byte| byte == b'\n') {
        if remove(line.strip_suffix(b"\n").unwrap_or(line)) {
            removed += 1;
        } else {
            kept.extend_from_slice(line);
        }
    }
    if removed > 0 {
        replace(path, &kept)?;
    }
    Ok(removed)
}

/// Writes `content` to a fresh 0600 file next to `path`, syncs it and renames it over `path`.
fn replace(path: &Path, content: &[u8]) -> io::Result<()> {
    let temp = temp_path(path);
    match fs::remove_file(&temp) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let written = write_new(&temp, content).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_dir(&parent_dir(path))
}

fn write_new(path: &Path, content: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

/// `.known_hosts.ferry-tmp-<pid>` in the same directory, so the rename stays on one file system.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.ferry-tmp-{}", std::process::id()))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes a new or renamed directory entry durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
