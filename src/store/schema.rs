//! Schema versions and migrations. A migration runs in one write transaction together with the
//! version bump, so a store is always wholly at one version. A store newer than this ferry is
//! refused before anything is written.

use std::path::Path;

use redb::{ReadTransaction, ReadableDatabase, WriteTransaction};

use redb::ReadableTable;

use super::{
    LOG, META, PROFILE_NAMES, PROFILES, SETTINGS, Store, StoreError, TRANSFER_QUEUE, TRANSFERS,
};
use crate::transfer::model::Transfer;

/// The schema this ferry writes.
pub const CURRENT_VERSION: u32 = 3;

const VERSION_KEY: &str = "schema_version";

type Migration = fn(&WriteTransaction) -> Result<(), redb::Error>;

/// `MIGRATIONS[n]` brings a store from version `n` to `n + 1`.
const MIGRATIONS: [Migration; CURRENT_VERSION as usize] =
    [create_v1, add_transfers_v2, index_queue_v3];

fn create_v1(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(META)?;
    txn.open_table(PROFILES)?;
    txn.open_table(PROFILE_NAMES)?;
    txn.open_table(SETTINGS)?;
    txn.open_table(LOG)?;
    Ok(())
}

/// Version 2: the transfer queue and history.
fn add_transfers_v2(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(TRANSFERS)?;
    Ok(())
}

/// Version 3: an index of the unfinished transfers, filled from the records.
fn index_queue_v3(txn: &WriteTransaction) -> Result<(), redb::Error> {
    let transfers = txn.open_table(TRANSFERS)?;
    let mut queue = txn.open_table(TRANSFER_QUEUE)?;
    for entry in transfers.iter()? {
        let (id, value) = entry?;
        let unfinished = serde_json::from_slice::<Transfer>(value.value())
            .map(|t| !t.state.is_final())
            .unwrap_or(true);
        if unfinished {
            queue.insert(id.value(), ())?;
        }
    }
    Ok(())
}

/// The version recorded in the file (0 for a new, empty file).
pub(super) fn version_in(store: &Store, txn: &ReadTransaction) -> Result<u32, StoreError> {
    let table = match txn.open_table(META) {
        Ok(table) => table,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(err) => return Err(store.db_err(err)),
    };
    let value = table.get(VERSION_KEY).map_err(|e| store.db_err(e))?;
    Ok(value
        .and_then(|guard| guard.value().try_into().ok().map(u32::from_le_bytes))
        .unwrap_or(0))
}

/// Before anything may write to the file: a store from a newer ferry is refused, untouched.
///
/// Every writable open of a redb file rewrites its header, so the version is read through a
/// read-only open first. A file that the read-only open rejects (one needing recovery after a
/// crash, or a damaged one) is left to the writable open, which recovers or reports it.
pub(super) fn refuse_newer_untouched(path: &Path) -> Result<(), StoreError> {
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Ok(());
    }
    let found = super::without_panic(|| -> Option<u32> {
        let db = redb::Builder::new().open_read_only(path).ok()?;
        let txn = db.begin_read().ok()?;
        let table = txn.open_table(META).ok()?;
        let value = table.get(VERSION_KEY).ok()??;
        value.value().try_into().ok().map(u32::from_le_bytes)
    });
    match found {
        Ok(Some(found)) if found > CURRENT_VERSION => Err(StoreError::Newer {
            path: path.to_path_buf(),
            found,
            supported: CURRENT_VERSION,
        }),
        _ => Ok(()),
    }
}

/// Brings the store to `target`, refusing a store that is already newer than this ferry.
pub(super) fn migrate(store: &Store, target: u32) -> Result<(), StoreError> {
    let found = {
        let txn = store.db.begin_read().map_err(|e| store.db_err(e))?;
        version_in(store, &txn)?
    };
    if found > CURRENT_VERSION {
        return Err(StoreError::Newer {
            path: store.path.clone(),
            found,
            supported: CURRENT_VERSION,
        });
    }
    if found >= target {
        return Ok(());
    }
    store.write(|txn| {
        for migration in &MIGRATIONS[found as usize..target as usize] {
            migration(txn).map_err(|e| store.db_err(e))?;
        }
        let mut meta = txn.open_table(META).map_err(|e| store.db_err(e))?;
        meta.insert(VERSION_KEY, target.to_le_bytes().as_slice())
            .map_err(|e| store.db_err(e))?;
        Ok(())
    })?;
    tracing::info!(from = found, to = target, "store schema migrated");
    Ok(())
}

/// Writes a schema version directly (tests use it to fake a store from a newer ferry).
#[doc(hidden)]
pub fn force_version(store: &Store, version: u32) -> Result<(), StoreError> {
    store.write(|txn| {
        let mut meta = txn.open_table(META).map_err(|e| store.db_err(e))?;
        meta.insert(VERSION_KEY, version.to_le_bytes().as_slice())
            .map_err(|e| store.db_err(e))?;
        Ok(())
    })
}
