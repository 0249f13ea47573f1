//! The store: one redb file holding profiles, settings, the vault header, the system log and
//! (later) transfers and jobs. Records are JSON behind a schema version kept in `meta`.
//!
//! Opening takes an exclusive lock and names the holder when another process has it; a store
//! written by a newer ferry is refused untouched; a damaged file is reported, never "repaired"
//! into data loss. Every change is one short write transaction: all or nothing.

mod integrity;
mod lock;
mod log;
mod profiles;
mod schema;
mod settings;
mod transfers;
mod vault;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use log::{LogEntry, LogLevel};
pub use schema::{CURRENT_VERSION, force_version};
pub use settings::SettingValue;

use crate::vault::VaultError;

pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(crate) const PROFILES: TableDefinition<u64, &[u8]> = TableDefinition::new("profiles");
pub(crate) const PROFILE_NAMES: TableDefinition<&str, u64> = TableDefinition::new("profile_names");
pub(crate) const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
pub(crate) const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
pub(crate) const TRANSFERS: TableDefinition<u64, &[u8]> = TableDefinition::new("transfers");
/// The ids of unfinished transfers: the queue, without reading the whole history.
pub(crate) const TRANSFER_QUEUE: TableDefinition<u64, ()> = TableDefinition::new("transfer_queue");

/// The open store. Dropping it releases the lock.
pub struct Store {
    db: Database,
    path: PathBuf,
    _lock: lock::HolderLock,
    /// Dropped last, after the database and the lock: its receivers learn the file is free.
    released: tokio::sync::watch::Sender<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.path.display())
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store {} is in use by {holder}; close that ferry or point this one elsewhere with --data-dir", path.display())]
    InUse { path: PathBuf, holder: String },
    #[error(
        "the store {} was written by a newer ferry (schema {found}; this ferry knows up to {supported}); it was left untouched: upgrade ferry",
        path.display()
    )]
    Newer {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the store {} is damaged ({detail}); it was left as it is: restore it from a backup or move it away", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("store {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {}: {detail}", path.display())]
    Db { path: PathBuf, detail: String },
    #[error("a profile named `{0}` already exists")]
    NameTaken(String),
    #[error("no profile named `{0}` (see `ferry profile list`)")]
    NoProfile(String),
    #[error("the vault is not set up yet: run `ferry vault init` first")]
    VaultNotInitialised,
    #[error("the vault is already set up (to change its secret: ferry vault change-passphrase)")]
    VaultExists,
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl Store {
    /// Opens (or creates) the store at `path`, migrating an older schema in one transaction.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let store = Store::open_raw(path)?;
        schema::migrate(&store, CURRENT_VERSION)?;
        Ok(store)
    }

    /// Creates a store at an older schema version (tests of migrations use it).
    #[doc(hidden)]
    pub fn create_at_version(path: &Path, version: u32) -> Result<Store, StoreError> {
        let store = Store::open_raw(path)?;
        schema::migrate(&store, version)?;
        Ok(store)
    }

    fn open_raw(path: &Path) -> Result<Store, StoreError> {
        let io_err = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            crate::paths::ensure_private_dir(dir).map_err(io_err)?;
        }
        let lock = lock::HolderLock::acquire(path)?;
        schema::refuse_newer_untouched(path)?;
        let opened = without_panic(|| Database::builder().set_cache_size(32 << 20).create(path));
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(err)) => return Err(open_error(path, err)),
            Err(_) => {
                return Err(StoreError::Damaged {
                    path: path.to_path_buf(),
                    detail: "the file could not be read as a redb database".into(),
                });
            }
        };
        crate::paths::make_private(path).map_err(io_err)?;
        let mut store = Store {
            db,
            path: path.to_path_buf(),
            _lock: lock,
            released: tokio::sync::watch::channel(()).0,
        };
        store.check_integrity_if_due()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits until this store is closed and its lock released (the file may then be opened
    /// again, by this process or another).
    pub fn on_release(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.released.subscribe();
        async move { while rx.changed().await.is_ok() {} }
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.read(|txn| schema::version_in(self, txn))
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_read().map_err(|e| self.db_err(e))?;
        f(&txn)
    }

    /// Runs `f` in one write transaction: committed (durably) if it returns Ok, rolled back
    /// otherwise.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write_with(true, f)
    }

    /// `write`, with the choice of a commit that is durable on return or one that becomes
    /// durable with the next durable commit.
    pub(crate) fn write_with<T>(
        &self,
        durable: bool,
        f: impl FnOnce(&WriteTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut txn = self.db.begin_write().map_err(|e| self.db_err(e))?;
        if !durable {
            txn.set_durability(redb::Durability::None)
                .map_err(|e| StoreError::Db {
                    path: self.path.clone(),
                    detail: e.to_string(),
                })?;
        }
        match f(&txn) {
            Ok(value) => {
                txn.commit().map_err(|e| self.db_err(e))?;
                Ok(value)
            }
            Err(err) => {
                let _ = txn.abort();
                Err(err)
            }
        }
    }

    pub(crate) fn db_err(&self, err: impl Into<redb::Error>) -> StoreError {
        classify(&self.path, err.into())
    }
}

thread_local! {
    /// Set while this thread runs `without_panic`: its panics are expected and not printed.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into `Err(())` without printing it: redb may panic on a file that
/// was altered behind its back, and that must come out as one "damaged" message. Only this
/// thread's panics are kept quiet: the hook is process-wide, and swapping it for the call
/// silenced every other thread's panic meanwhile (and, with two calls at once, for good).
pub(crate) fn without_panic<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|quiet| quiet.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(false));
    result.map_err(|_| ())
}

fn open_error(path: &Path, err: redb::DatabaseError) -> StoreError {
    match err {
        redb::DatabaseError::DatabaseAlreadyOpen | redb::DatabaseError::LockProtocolMismatch => {
            StoreError::InUse {
                path: path.to_path_buf(),
                holder: "another process".into(),
            }
        }
        redb::DatabaseError::UpgradeRequired(version) => StoreError::Damaged {
            path: path.to_path_buf(),
            detail: format!("unsupported redb file format {version}"),
        },
        other => classify(path, other.into()),
    }
}

fn classify(path: &Path, err: redb::Error) -> StoreError {
    match err {
        redb::Error::Corrupted(detail) => StoreError::Damaged {
            path: path.to_path_buf(),
            detail,
        },
        redb::Error::Io(source) => StoreError::Io {
            path: path.to_path_buf(),
            source,
        },
        redb::Error::DatabaseAlreadyOpen => StoreError::InUse {
            path: path.to_path_buf(),
            holder: "another process".into(),
        },
        other => StoreError::Db {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

impl Store {
    /// Takes `count` consecutive ids from the counter `key` in `meta`; returns the first.
    pub(crate) fn reserve_ids(&self, key: &str, count: u64) -> Result<u64, StoreError> {
        self.write(|txn| {
            let mut meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
            let next = meta
                .get(key)
                .map_err(|e| self.db_err(e))?
                .and_then(|g| g.value().try_into().ok().map(u64::from_le_bytes))
                .unwrap_or(1);
            meta.insert(key, (next + count).to_le_bytes().as_slice())
                .map_err(|e| self.db_err(e))?;
            Ok(next)
        })
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain structs of strings and numbers to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

pub(crate) fn decode<T: DeserializeOwned>(
    store_path: &Path,
    what: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|err| StoreError::Damaged {
        path: store_path.to_path_buf(),
        detail: format!("{what} does not decode: {err}"),
    })
}

/// Reads and decodes one value of a `&str -> &[u8]` table.
pub(crate) fn get_json<T: DeserializeOwned>(
    store: &Store,
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match table.get(key).map_err(|e| store.db_err(e))? {
        Some(guard) => decode(&store.path, key, guard.value()).map(Some),
        None => Ok(None),
    }
}
