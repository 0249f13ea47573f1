//! What every command needs: resolved paths, the loaded config, and ways to open the store and
//! unlock the vault (from a key file, `FERRY_PASSPHRASE_FILE`, or a prompt on the terminal).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use secrecy::SecretString;

use super::secrets;
use crate::config::Config;
use crate::paths::Paths;
use crate::store::Store;
use crate::vault::{Argon2Cost, Kdf, Unlock, VaultKey, find_key_file};

/// Paths and config for one run.
pub struct Context {
    pub paths: Paths,
    pub config: Config,
}

impl Context {
    pub fn new(config: Option<PathBuf>, data_dir: Option<PathBuf>) -> anyhow::Result<Context> {
        let paths = Paths::resolve(config, data_dir)?;
        let config = Config::load(&paths.config_file, paths.config_explicit)?;
        Ok(Context { paths, config })
    }

    /// Starts the file log; failures only cost the log, never the command.
    pub fn start_logging(&self) -> Option<tracing_appender::non_blocking::WorkerGuard> {
        crate::logging::init(&self.paths.log_dir(), &self.config.log).ok()
    }

    /// Opens the store and drops system-log entries past `log.retention_days`.
    pub fn open_store(&self) -> anyhow::Result<Store> {
        let store = Store::open(&self.paths.store_file())?;
        let keep =
            std::time::Duration::from_secs(u64::from(self.config.log.retention_days) * 86_400);
        if let Err(err) = store.prune_log(keep) {
            tracing::warn!(%err, "could not prune the system log");
        }
        Ok(store)
    }

    /// Argon2id cost for new passphrases, from the config.
    pub fn argon2_cost(&self) -> Argon2Cost {
        Argon2Cost::from_config(&self.config.vault)
    }

    /// Unlocks the vault of `store`, asking for the passphrase on the terminal if need be.
    pub fn unlock(&self, store: &Store) -> anyhow::Result<VaultKey> {
        let header = store
            .vault_header()?
            .ok_or(crate::store::StoreError::VaultNotInitialised)?;
        let unlock = match &header.kdf {
            Kdf::KeyFile { hint } => match find_key_file(&self.config.vault, hint.as_ref()) {
                Some(path) => Unlock::KeyFile(path),
                None => bail!(
                    "vault locked: set FERRY_KEY_FILE or vault.key_file to the vault's key file"
                ),
            },
            Kdf::Argon2id { .. } => Unlock::Passphrase(current_passphrase()?),
        };
        Ok(header.unlock(&unlock)?)
    }
}

/// The current passphrase: `FERRY_PASSPHRASE_FILE`, or a prompt when on a terminal.
fn current_passphrase() -> anyhow::Result<SecretString> {
    if let Some(file) = std::env::var_os("FERRY_PASSPHRASE_FILE") {
        return secrets::first_line_of(&PathBuf::from(file))
            .context("reading FERRY_PASSPHRASE_FILE");
    }
    if !secrets::stdin_is_terminal() {
        bail!(
            "vault locked: no terminal to ask for the passphrase; set FERRY_PASSPHRASE_FILE (or use a key-file vault)"
        );
    }
    secrets::prompt("Vault passphrase: ")
}
