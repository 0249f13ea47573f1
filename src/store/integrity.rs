//! A full integrity check of the store file (every page's checksum) once a day rather than on
//! every open: it reads the whole file, which a long history makes slow, while damage found a
//! day late is still found before it is "repaired" into data loss.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{META, Store, StoreError, without_panic};

const CHECKED_AT_KEY: &str = "integrity_checked_at";
const CHECK_EVERY: Duration = Duration::from_secs(24 * 3600);

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Store {
    /// Runs the integrity check when the last one is older than a day (or never ran).
    pub(super) fn check_integrity_if_due(&mut self) -> Result<(), StoreError> {
        let last = self.read(|txn| {
            let meta = match txn.open_table(META) {
                Ok(meta) => meta,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
                Err(err) => return Err(self.db_err(err)),
            };
            let value = meta.get(CHECKED_AT_KEY).map_err(|e| self.db_err(e))?;
            Ok(value
                .and_then(|g| g.value().try_into().ok().map(u64::from_le_bytes))
                .unwrap_or(0))
        })?;
        let now = now_secs();
        if now.saturating_sub(last) < CHECK_EVERY.as_secs() {
            return Ok(());
        }
        let damaged = |detail: String| StoreError::Damaged {
            path: self.path.clone(),
            detail,
        };
        let db = &mut self.db;
        match without_panic(move || db.check_integrity()) {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => return Err(damaged(err.to_string())),
            Err(()) => {
                return Err(damaged(
                    "the integrity check could not read the file".into(),
                ));
            }
        }
        self.write(|txn| {
            let mut meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
            meta.insert(CHECKED_AT_KEY, now.to_le_bytes().as_slice())
                .map_err(|e| self.db_err(e))?;
            Ok(())
        })
    }
}
