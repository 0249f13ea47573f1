//! Settings kept in the store (edited from the TUI; they override config.toml). A secret setting
//! (the SMTP password) is stored sealed, bound to its key.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{SETTINGS, Store, StoreError, decode, encode, get_json};
use crate::vault::{Sealed, SecretSlot};

/// A stored setting: plain JSON, or a sealed secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingValue {
    Plain(serde_json::Value),
    Secret(Sealed),
}

/// The vault slot of a secret setting.
pub fn setting_slot(key: &str) -> SecretSlot<'_> {
    SecretSlot {
        kind: "setting",
        id: 0,
        field: key,
    }
}

impl Store {
    pub fn setting(&self, key: &str) -> Result<Option<SettingValue>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(SETTINGS).map_err(|e| self.db_err(e))?;
            get_json(self, &table, key)
        })
    }

    pub fn set_setting(&self, key: &str, value: &SettingValue) -> Result<(), StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(SETTINGS).map_err(|e| self.db_err(e))?;
            table
                .insert(key, encode(value).as_slice())
                .map_err(|e| self.db_err(e))?;
            Ok(())
        })
    }

    pub fn remove_setting(&self, key: &str) -> Result<bool, StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(SETTINGS).map_err(|e| self.db_err(e))?;
            let removed = table.remove(key).map_err(|e| self.db_err(e))?.is_some();
            Ok(removed)
        })
    }

    /// Every setting, sorted by key.
    pub fn settings(&self) -> Result<Vec<(String, SettingValue)>, StoreError> {
        self.read(|txn| {
            let table = txn.open_table(SETTINGS).map_err(|e| self.db_err(e))?;
            let mut out = Vec::new();
            for entry in table.iter().map_err(|e| self.db_err(e))? {
                let (key, value) = entry.map_err(|e| self.db_err(e))?;
                out.push((
                    key.value().to_string(),
                    decode(&self.path, key.value(), value.value())?,
                ));
            }
            Ok(out)
        })
    }
}
