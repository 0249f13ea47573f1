//! Client paths <-> paths on disk. The client's `/` is the served root and its working
//! directory; `.` and `..` are resolved by name, so `..` stops at the root.

use std::io;
use std::path::{Path, PathBuf};

/// Absolute, normalised client path: `a/./b/../c` becomes `/a/c`, `/..` becomes `/`.
pub(super) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The client path of `name` inside directory `dir` (both client paths).
pub(super) fn child(dir: &str, name: &str) -> String {
    normalize(&format!("{dir}/{name}"))
}

/// Maps client paths into the served directory.
pub(super) struct Jail {
    root: PathBuf,
}

impl Jail {
    pub fn new(root: &Path) -> io::Result<Self> {
        Ok(Self {
            root: root.canonicalize()?,
        })
    }

    /// The disk path of a client path (which need not be normalised).
    pub fn host_path(&self, client: &str) -> PathBuf {
        let normal = normalize(client);
        match normal.trim_start_matches('/') {
            "" => self.root.clone(),
            // Names are bytes: the wire's stand-in form maps back to the exact bytes on disk.
            relative => self.root.join(ferry::text::local_path(relative)),
        }
    }

    /// The client path of a disk path, if it lies inside the root.
    pub fn client_path(&self, host: &Path) -> Option<String> {
        let relative = host.strip_prefix(&self.root).ok()?;
        Some(normalize(&ferry::text::path_text(relative)))
    }

    /// The canonical client path: symlinks resolved when the path exists on disk (and
    /// stays inside the root), otherwise resolved by name only.
    pub fn realpath(&self, client: &str) -> String {
        let normal = normalize(client);
        self.host_path(&normal)
            .canonicalize()
            .ok()
            .and_then(|host| self.client_path(&host))
            .unwrap_or(normal)
    }

    /// What to store on disk for a symlink at `link` (client path) pointing to `target`
    /// as the client wrote it. Absolute targets are re-rooted; relative ones must not
    /// climb out of the root. `None` means refused.
    pub fn link_target_to_disk(&self, link: &str, target: &str) -> Option<PathBuf> {
        if target.starts_with('/') {
            return Some(self.host_path(target));
        }
        let parent = normalize(&format!("{link}/.."));
        let mut depth = parent.split('/').filter(|p| !p.is_empty()).count();
        for part in target.split('/') {
            match part {
                "" | "." => {}
                ".." if depth == 0 => return None,
                ".." => depth -= 1,
                _ => depth += 1,
            }
        }
        Some(ferry::text::local_path(target))
    }

    /// What a client sees as the target of a symlink stored on disk.
    pub fn link_target_from_disk(&self, target: &Path) -> String {
        if target.is_absolute()
            && let Some(client) = self.client_path(target)
        {
            return client;
        }
        ferry::text::path_text(target)
    }
}
