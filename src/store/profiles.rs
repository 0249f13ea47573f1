//! Profile records: `profiles` (id -> record) and `profile_names` (unique name -> id), always
//! changed together in one transaction.

use redb::{ReadableTable, WriteTransaction};

use super::{PROFILE_NAMES, PROFILES, Store, StoreError, decode, encode};
use crate::profile::Profile;

const NEXT_ID_KEY: &str = "next_profile_id";

impl Store {
    /// All profiles, sorted by name.
    pub fn list_profiles(&self) -> Result<Vec<Profile>, StoreError> {
        self.read(|txn| {
            let names = txn.open_table(PROFILE_NAMES).map_err(|e| self.db_err(e))?;
            let records = txn.open_table(PROFILES).map_err(|e| self.db_err(e))?;
            let mut out = Vec::new();
            for entry in names.iter().map_err(|e| self.db_err(e))? {
                let (name, id) = entry.map_err(|e| self.db_err(e))?;
                let record = records
                    .get(id.value())
                    .map_err(|e| self.db_err(e))?
                    .ok_or_else(|| self.dangling(name.value()))?;
                out.push(decode(&self.path, "profile record", record.value())?);
            }
            Ok(out)
        })
    }

    /// The profile called `name`.
    pub fn profile(&self, name: &str) -> Result<Profile, StoreError> {
        self.read(|txn| {
            let names = txn.open_table(PROFILE_NAMES).map_err(|e| self.db_err(e))?;
            let id = names
                .get(name)
                .map_err(|e| self.db_err(e))?
                .ok_or_else(|| StoreError::NoProfile(name.to_string()))?
                .value();
            let records = txn.open_table(PROFILES).map_err(|e| self.db_err(e))?;
            let record = records
                .get(id)
                .map_err(|e| self.db_err(e))?
                .ok_or_else(|| self.dangling(name))?;
            decode(&self.path, "profile record", record.value())
        })
    }

    /// Reserves a fresh profile id (needed before sealing secrets, which are bound to the id).
    pub fn reserve_profile_id(&self) -> Result<u64, StoreError> {
        self.reserve_ids(NEXT_ID_KEY, 1)
    }

    /// Adds a new profile; its name must be free.
    pub fn add_profile(&self, profile: &Profile) -> Result<(), StoreError> {
        self.write(|txn| {
            if self.name_owner(txn, &profile.name)?.is_some() {
                return Err(StoreError::NameTaken(profile.name.clone()));
            }
            self.put_profile(txn, profile)
        })
    }

    /// Replaces the profile once called `old_name` (it may have been renamed).
    pub fn update_profile(&self, old_name: &str, profile: &Profile) -> Result<(), StoreError> {
        self.write(|txn| {
            match self.name_owner(txn, old_name)? {
                Some(id) if id == profile.id => {}
                _ => return Err(StoreError::NoProfile(old_name.to_string())),
            }
            if old_name != profile.name {
                if self.name_owner(txn, &profile.name)?.is_some() {
                    return Err(StoreError::NameTaken(profile.name.clone()));
                }
                let mut names = txn.open_table(PROFILE_NAMES).map_err(|e| self.db_err(e))?;
                names.remove(old_name).map_err(|e| self.db_err(e))?;
            }
            self.put_profile(txn, profile)
        })
    }

    /// Adds a profile, or replaces the one with the same name (keeping the new record's id).
    pub fn replace_profile(&self, profile: &Profile) -> Result<(), StoreError> {
        self.write(|txn| {
            if let Some(old_id) = self.name_owner(txn, &profile.name)? {
                let mut records = txn.open_table(PROFILES).map_err(|e| self.db_err(e))?;
                records.remove(old_id).map_err(|e| self.db_err(e))?;
            }
            self.put_profile(txn, profile)
        })
    }

    /// Deletes the profile called `name`.
    pub fn remove_profile(&self, name: &str) -> Result<Profile, StoreError> {
        let profile = self.profile(name)?;
        self.write(|txn| {
            let mut names = txn.open_table(PROFILE_NAMES).map_err(|e| self.db_err(e))?;
            let mut records = txn.open_table(PROFILES).map_err(|e| self.db_err(e))?;
            names.remove(name).map_err(|e| self.db_err(e))?;
            records.remove(profile.id).map_err(|e| self.db_err(e))?;
            Ok(())
        })?;
        Ok(profile)
    }

    fn name_owner(&self, txn: &WriteTransaction, name: &str) -> Result<Option<u64>, StoreError> {
        let names = txn.open_table(PROFILE_NAMES).map_err(|e| self.db_err(e))?;
        let id = names
            .get(name)
            .map_err(|e| self.db_err(e))?
            .map(|g| g.value());
        Ok(id)
    }

    pub(super) fn put_profile(
        &self,
        txn: &WriteTransaction,
        profile: &Profile,
    ) -> Result<(), StoreError> {
        let mut names = txn.open_table(PROFILE_NAMES).map_err(|e| self.db_err(e))?;
        let mut records = txn.open_table(PROFILES).map_err(|e| self.db_err(e))?;
        names
            .insert(profile.name.as_str(), profile.id)
            .map_err(|e| self.db_err(e))?;
        records
            .insert(profile.id, encode(profile).as_slice())
            .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    fn dangling(&self, name: &str) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: format!("profile name `{name}` points at a missing record"),
        }
    }
}
