//! The vault header in `meta`, and re-sealing every secret under a new key in one transaction.

use redb::ReadableTable;

use super::settings::setting_slot;
use super::{META, PROFILES, SETTINGS, SettingValue, Store, StoreError, decode, encode, get_json};
use crate::profile::{Profile, ProfileSecret};
use crate::vault::{VaultHeader, VaultKey};

const HEADER_KEY: &str = "vault";

impl Store {
    /// The vault header, if the vault was set up.
    pub fn vault_header(&self) -> Result<Option<VaultHeader>, StoreError> {
        self.read(|txn| {
            let meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
            get_json(self, &meta, HEADER_KEY)
        })
    }

    /// Records the header of a new vault; fails if one exists.
    pub fn init_vault(&self, header: &VaultHeader) -> Result<(), StoreError> {
        self.write(|txn| {
            let mut meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
            if meta.get(HEADER_KEY).map_err(|e| self.db_err(e))?.is_some() {
                return Err(StoreError::VaultExists);
            }
            meta.insert(HEADER_KEY, encode(header).as_slice())
                .map_err(|e| self.db_err(e))?;
            Ok(())
        })
    }

    /// How many sealed secrets the store holds.
    pub fn sealed_count(&self) -> Result<usize, StoreError> {
        let profiles = self.list_profiles()?;
        let in_profiles: usize = profiles
            .iter()
            .map(|p| {
                ProfileSecret::ALL
                    .iter()
                    .filter(|s| p.sealed(**s).is_some())
                    .count()
            })
            .sum();
        let in_settings = self
            .settings()?
            .iter()
            .filter(|(_, v)| matches!(v, SettingValue::Secret(_)))
            .count();
        Ok(in_profiles + in_settings)
    }

    /// Opens every secret with `old` and seals it with `new`, and stores `header`, all in one
    /// transaction: if any secret fails to open, nothing changes. Returns how many were re-sealed.
    pub fn rekey(
        &self,
        old: &VaultKey,
        header: &VaultHeader,
        new: &VaultKey,
    ) -> Result<usize, StoreError> {
        self.write(|txn| {
            let mut count = 0;
            let mut profiles = txn.open_table(PROFILES).map_err(|e| self.db_err(e))?;
            let mut updated = Vec::new();
            for entry in profiles.iter().map_err(|e| self.db_err(e))? {
                let (_, value) = entry.map_err(|e| self.db_err(e))?;
                let mut profile: Profile = decode(&self.path, "profile record", value.value())?;
                for secret in ProfileSecret::ALL {
                    let slot = profile.slot(secret);
                    if let Some(sealed) = profile.sealed_mut(secret).as_mut() {
                        let plain = old.open(slot, sealed)?;
                        *sealed = new.seal(slot, &plain);
                        count += 1;
                    }
                }
                updated.push(profile);
            }
            for profile in &updated {
                profiles
                    .insert(profile.id, encode(profile).as_slice())
                    .map_err(|e| self.db_err(e))?;
            }
            let mut settings = txn.open_table(SETTINGS).map_err(|e| self.db_err(e))?;
            let mut resealed = Vec::new();
            for entry in settings.iter().map_err(|e| self.db_err(e))? {
                let (key, value) = entry.map_err(|e| self.db_err(e))?;
                let key = key.value().to_string();
                if let SettingValue::Secret(sealed) = decode(&self.path, &key, value.value())? {
                    let plain = old.open(setting_slot(&key), &sealed)?;
                    resealed.push((
                        key.clone(),
                        SettingValue::Secret(new.seal(setting_slot(&key), &plain)),
                    ));
                    count += 1;
                }
            }
            for (key, value) in &resealed {
                settings
                    .insert(key.as_str(), encode(value).as_slice())
                    .map_err(|e| self.db_err(e))?;
            }
            let mut meta = txn.open_table(META).map_err(|e| self.db_err(e))?;
            meta.insert(HEADER_KEY, encode(header).as_slice())
                .map_err(|e| self.db_err(e))?;
            Ok(count)
        })
    }
}
