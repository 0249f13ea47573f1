//! Transfer records: the queue and the history in one table keyed by id, with an index of the
//! unfinished ones so starting an engine does not read the whole history. Offsets are written
//! every few MiB or seconds, never per chunk.

use redb::ReadableTable;

use super::{Store, StoreError, TRANSFER_QUEUE, TRANSFERS, decode, encode};
use crate::transfer::model::{Transfer, TransferState};

const NEXT_ID_KEY: &str = "next_transfer_id";

impl Store {
    /// Reserves `count` consecutive transfer ids; returns the first.
    pub fn reserve_transfer_ids(&self, count: u64) -> Result<u64, StoreError> {
        self.reserve_ids(NEXT_ID_KEY, count)
    }

    /// Inserts or replaces transfer records, all in one transaction, durable on return.
    pub fn put_transfers(&self, transfers: &[Transfer]) -> Result<(), StoreError> {
        self.put_transfers_with(transfers, true)
    }

    /// Like `put_transfers`; when not `durable`, the commit reaches the disk with the next
    /// durable one (a crash before that loses these changes, never earlier ones).
    pub fn put_transfers_with(
        &self,
        transfers: &[Transfer],
        durable: bool,
    ) -> Result<(), StoreError> {
        if transfers.is_empty() && durable {
            return self.write_with(true, |_| Ok(()));
        }
        self.write_with(durable, |txn| {
            let mut table = txn.open_table(TRANSFERS).map_err(|e| self.db_err(e))?;
            let mut queue = txn.open_table(TRANSFER_QUEUE).map_err(|e| self.db_err(e))?;
            for transfer in transfers {
                table
                    .insert(transfer.id, encode(transfer).as_slice())
                    .map_err(|e| self.db_err(e))?;
                if transfer.state.is_final() {
                    queue.remove(transfer.id).map_err(|e| self.db_err(e))?;
                } else {
                    queue.insert(transfer.id, ()).map_err(|e| self.db_err(e))?;
                }
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

    /// The unfinished transfers (the queue), in queue order.
    pub fn queued_transfers(&self) -> Result<Vec<Transfer>, StoreError> {
        let mut queue = self.read(|txn| {
            let index = txn.open_table(TRANSFER_QUEUE).map_err(|e| self.db_err(e))?;
            let table = txn.open_table(TRANSFERS).map_err(|e| self.db_err(e))?;
            let mut out = Vec::new();
            for entry in index.iter().map_err(|e| self.db_err(e))? {
                let (id, _) = entry.map_err(|e| self.db_err(e))?;
                if let Some(value) = table.get(id.value()).map_err(|e| self.db_err(e))? {
                    out.push(decode::<Transfer>(
                        &self.path,
                        "transfer record",
                        value.value(),
                    )?);
                }
            }
            Ok(out)
        })?;
        queue.retain(|t| !t.state.is_final());
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
