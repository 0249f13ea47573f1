//! Where ferry keeps its files (XDG config, data, state and runtime directories) and how it
//! creates them: directories 0700, files 0600, written atomically.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The resolved locations for one run of ferry.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The config file to read (it may not exist: then defaults apply).
    pub config_file: PathBuf,
    /// Whether `config_file` was named explicitly (`--config` / `FERRY_CONFIG`): then it must exist.
    pub config_explicit: bool,
    /// The store, ferry's own known_hosts and other durable data.
    pub data_dir: PathBuf,
    /// Log files.
    pub state_dir: PathBuf,
    /// The control socket.
    pub runtime_dir: PathBuf,
}

impl Paths {
    /// Resolves the locations from overrides and the XDG environment.
    ///
    /// An overridden data directory (`--data-dir` / `FERRY_DATA_DIR`) also holds the logs and the
    /// socket, so a test or a script that names one directory finds everything of that run in it.
    pub fn resolve(config: Option<PathBuf>, data_dir: Option<PathBuf>) -> io::Result<Paths> {
        let dirs = directories::ProjectDirs::from("", "", "ferry");
        let no_home = || {
            io::Error::new(
                io::ErrorKind::NotFound,
                "cannot find the home directory: set HOME or pass --data-dir and --config",
            )
        };
        let config_explicit = config.is_some();
        let config_file = match config {
            Some(file) => file,
            None => dirs
                .as_ref()
                .ok_or_else(no_home)?
                .config_dir()
                .join("config.toml"),
        };
        if let Some(data_dir) = data_dir {
            let data_dir = absolute(&data_dir)?;
            return Ok(Paths {
                config_file,
                config_explicit,
                state_dir: data_dir.join("state"),
                runtime_dir: data_dir.join("run"),
                data_dir,
            });
        }
        let dirs = dirs.ok_or_else(no_home)?;
        let data_dir = dirs.data_dir().to_path_buf();
        let state_dir = dirs
            .state_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data_dir.join("state"));
        let runtime_dir = dirs
            .runtime_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| state_dir.join("run"));
        Ok(Paths {
            config_file,
            config_explicit,
            data_dir,
            state_dir,
            runtime_dir,
        })
    }

    /// The redb store.
    pub fn store_file(&self) -> PathBuf {
        self.data_dir.join("ferry.redb")
    }

    /// Host keys learned by ferry (OpenSSH known_hosts format).
    pub fn known_hosts_file(&self) -> PathBuf {
        self.data_dir.join("known_hosts")
    }

    /// The directory of the daily-rotated log files.
    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }
}

fn absolute(path: &Path) -> io::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

/// Creates `dir` (and missing parents) with mode 0700; an existing directory is tightened to 0700.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Sets a file's mode to 0600.
pub fn make_private(file: &Path) -> io::Result<()> {
    fs::set_permissions(file, fs::Permissions::from_mode(0o600))
}

/// Writes `bytes` to `path` atomically: a 0600 temporary file in the same directory, fsync, rename.
/// A crash leaves either the old content or the new, never a mix.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates a new file that must not exist yet, mode 0600, with `bytes`, synced to disk.
pub fn create_private_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Expands a leading `~/` to the home directory.
pub fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ if path == "~" => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_override_holds_everything() {
        let paths = Paths::resolve(None, Some(PathBuf::from("/tmp/x"))).unwrap();
        assert_eq!(paths.store_file(), PathBuf::from("/tmp/x/ferry.redb"));
        assert!(paths.log_dir().starts_with("/tmp/x"));
        assert!(paths.runtime_dir.starts_with("/tmp/x"));
    }

    #[test]
    fn private_dir_is_0700_even_if_it_existed_looser() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn atomic_write_is_0600_and_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        write_private_atomic(&file, b"one").unwrap();
        write_private_atomic(&file, b"two").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
