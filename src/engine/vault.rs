//! The vault through the engine: its state, unlocking (a key-file vault unlocks without being
//! asked; a passphrase is derived on a blocking thread), and setting it up. The key stays in
//! the engine; front ends only ever see the state.

use std::path::PathBuf;
use std::sync::Arc;

use super::api::{Event, Failure, Response, Secret, VaultState};
use super::{Shared, lock, store_failure};
use crate::remote::ErrorKind;
use crate::store::LogLevel;
use crate::vault::{Argon2Cost, Kdf, Unlock, VaultError, VaultHeader, VaultKey, find_key_file};

pub(crate) async fn status(shared: &Arc<Shared>) -> Result<Response, Failure> {
    Ok(Response::Vault {
        state: state(shared).await?,
    })
}

async fn state(shared: &Arc<Shared>) -> Result<VaultState, Failure> {
    let header = shared
        .store(|s| s.vault_header())
        .await
        .map_err(store_failure)?;
    let Some(header) = header else {
        return Ok(VaultState::NotSetUp);
    };
    let by = header.describe();
    Ok(match lock(&shared.vault_key).is_some() {
        true => VaultState::Unlocked { by },
        false => VaultState::Locked {
            passphrase: matches!(header.kdf, Kdf::Argon2id { .. }),
            by,
        },
    })
}

/// Unlocks with `passphrase`, or with the key file a key-file vault names.
pub(crate) async fn unlock(
    shared: &Arc<Shared>,
    passphrase: Option<Secret>,
) -> Result<Response, Failure> {
    if lock(&shared.vault_key).is_some() {
        return status(shared).await;
    }
    let header = shared
        .store(|s| s.vault_header())
        .await
        .map_err(store_failure)?
        .ok_or_else(|| failure(ErrorKind::NotFound, "the vault is not set up yet"))?;
    let unlock = match (&header.kdf, passphrase) {
        (Kdf::KeyFile { hint }, _) => match find_key_file(&shared.config.vault, hint.as_ref()) {
            Some(path) => Unlock::KeyFile(path),
            None => {
                return Err(failure(
                    ErrorKind::Auth,
                    "vault locked: set FERRY_KEY_FILE or vault.key_file to the vault's key file",
                ));
            }
        },
        (Kdf::Argon2id { .. }, Some(passphrase)) => {
            Unlock::Passphrase(passphrase.to_secret_string())
        }
        (Kdf::Argon2id { .. }, None) => {
            return Err(failure(ErrorKind::Auth, "the vault needs its passphrase"));
        }
    };
    let key = blocking(move || header.unlock(&unlock)).await?;
    *lock(&shared.vault_key) = Some(Arc::new(key));
    let state = state(shared).await?;
    shared.emit(Event::VaultChanged {
        state: state.clone(),
    });
    // Transfers that waited for secrets can start now.
    shared.wake.notify_one();
    Ok(Response::Vault { state })
}

/// Sets up the vault with a passphrase, or with a key file (created if missing).
pub(crate) async fn init(
    shared: &Arc<Shared>,
    passphrase: Option<Secret>,
    key_file: Option<String>,
) -> Result<Response, Failure> {
    let unlock = match (passphrase, key_file) {
        (Some(passphrase), None) if passphrase.expose().is_empty() => {
            return Err(failure(ErrorKind::Invalid, "the passphrase is empty"));
        }
        (Some(passphrase), None) => Unlock::Passphrase(passphrase.to_secret_string()),
        (None, Some(path)) => Unlock::KeyFile(prepare_key_file(&path)?),
        _ => {
            return Err(failure(
                ErrorKind::Invalid,
                "set up the vault with either a passphrase or a key file",
            ));
        }
    };
    let cost = Argon2Cost::from_config(&shared.config.vault);
    let (header, key) = blocking(move || VaultHeader::create(&unlock, cost)).await?;
    let describe = header.describe();
    shared
        .store(move |s| {
            s.init_vault(&header)?;
            s.log(
                LogLevel::Info,
                "vault",
                &format!("vault set up: {}", header.describe()),
            )
        })
        .await
        .map_err(store_failure)?;
    tracing::info!(kind = %describe, "vault initialised");
    *lock(&shared.vault_key) = Some(Arc::new(key));
    let state = state(shared).await?;
    shared.emit(Event::VaultChanged {
        state: state.clone(),
    });
    Ok(Response::Vault { state })
}

/// An existing 32-byte key file, or a new one (0600) with fresh random bytes.
fn prepare_key_file(path: &str) -> Result<PathBuf, Failure> {
    let path = crate::paths::expand_tilde(path);
    let io =
        |err: std::io::Error| failure(ErrorKind::LocalIo, format!("{}: {err}", path.display()));
    if !path.exists() {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::ensure_private_dir(dir).map_err(io)?;
        }
        crate::paths::create_private_new(&path, VaultKey::generate().expose_bytes()).map_err(io)?;
    }
    std::path::absolute(&path).map_err(io)
}

/// Runs a vault computation (Argon2id takes a second on purpose) on a blocking thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, Failure> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(vault_failure(err)),
        Err(join) => Err(failure(
            ErrorKind::LocalIo,
            format!("vault task failed: {join}"),
        )),
    }
}

fn vault_failure(err: VaultError) -> Failure {
    let kind = match &err {
        VaultError::WrongPassphrase | VaultError::WrongKeyFile(_) => ErrorKind::Auth,
        VaultError::NeedsPassphrase | VaultError::NeedsKeyFile => ErrorKind::Auth,
        VaultError::BadKeyFile { .. } => ErrorKind::LocalIo,
        _ => ErrorKind::Protocol,
    };
    failure(kind, err.to_string())
}

fn failure(kind: ErrorKind, message: impl Into<String>) -> Failure {
    Failure {
        kind,
        message: message.into(),
    }
}
