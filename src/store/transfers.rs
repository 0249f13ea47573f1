//! Transfer records: the queue and the history in one table, keyed by id. Offsets are written
//! every few MiB or seconds, never per chunk.

use redb::ReadableTable;

use super::{META, Store, StoreError, TRANSFERS, decode, encode};
use crate::transfer::model::{Transfer, TransferState};

const NEXT_ID_KEY: &str = "next_transfer_id";

impl Store {
    /// Reserves `count` consecutive transfer ids; returns the first.
    pub fn reserve_transfer_ids(&self, count: u64) -> Result<u64, StoreError> {
        self.write(|txn| {
            let mut meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
            let next = meta
                .get(NEXT_ID_KEY)
                .map_err(|e| self.db_err(e))?
                .and_then(|g| g.value().try_into().ok().map(u64::from_le_bytes))
                .unwrap_or(1);
            meta.insert(NEXT_ID_KEY, (next + count).to_le_bytes().as_slice())
                .map_err(|e| self.db_err(e))?;
            Ok(next)
        })
    }

    /// Inserts or replaces transfer records, all in one transaction.
    pub fn put_transfers(&self, transfers: &[Transfer]) -> Result<(), StoreError> {
        if transfers.is_empty() {
            return Ok(());
        }
        self.write(|txn| {
            let mut table = txn.open_table(TRANSFERS).map_err(|e| self.db_err(e))?;
            for transfer in transfers {
                table
                    .insert(transfer.id, encode(transfer).as_slice())
                    .map_err(|e| self.db_err(e))?;
            }
            Ok(())
        })
    }

    pub fn transfer(&self, id: u64) -> Result<Option<Transfer>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(TRANSFERS).map_err(|e| self.db_err(e))?;
            match table.get(id).map_err(|e| self.db_err(e))? {
                Some(g) => decode(&self.path, "transfer record", g.value()).map(Some),
                None => Ok(None),
            }
        })
    }

    /// Every transfer for which `keep` is true, in id order.
    pub fn transfers_where(
        &self,
        keep: impl Fn(&Transfer) -> bool,
    ) -> Result<Vec<Transfer>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(TRANSFERS).map_err(|e| self.db_err(e))?;
            let mut out = Vec::new();
            for entry in table.iter().map_err(|e| self.db_err(e))? {
                let (_, value) = entry.map_err(|e| self.db_err(e))?;
                let transfer: Transfer = decode(&self.path, "transfer record", value.value())?;
                if keep(&transfer) {
                    out.push(transfer);
                }
            }
            Ok(out)
        })
    }

    /// The unfinished transfers (the queue), in queue order.
    pub fn queued_transfers(&self) -> Result<Vec<Transfer>, StoreError> {
        let mut queue = self.transfers_where(|t| !t.state.is_final())?;
        queue.sort_by_key(|t| (t.position, t.id));
        Ok(queue)
    }

    /// The newest `limit` finished transfers, newest first; only failed ones if `failed_only`.
    pub fn transfer_history(
        &self,
        limit: usize,
        failed_only: bool,
    ) -> Result<Vec<Transfer>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(TRANSFERS).map_err(|e| self.db_err(e))?;
            let mut out = Vec::new();
            for entry in table.iter().map_err(|e| self.db_err(e))?.rev() {
                let (_, value) = entry.map_err(|e| self.db_err(e))?;
                let transfer: Transfer = decode(&self.path, "transfer record", value.value())?;
                let wanted = transfer.state.is_final()
                    && (!failed_only || transfer.state == TransferState::Failed);
                if wanted {
                    out.push(transfer);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            Ok(out)
        })
    }
}
