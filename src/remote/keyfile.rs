//! SSH private key files: reading OpenSSH and PEM keys, telling an encrypted key from a damaged
//! one, and decrypting with a passphrase. Passphrases stay in `SecretString`s.

use std::path::{Path, PathBuf};

use russh::keys::PrivateKey;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {} is encrypted: give its passphrase", path.display())]
    NeedsPassphrase { path: PathBuf },
    #[error("cannot decrypt key file {}: wrong passphrase", path.display())]
    WrongPassphrase { path: PathBuf },
    #[error("key file {} is not a private key ferry can read: {detail}", path.display())]
    Unsupported { path: PathBuf, detail: String },
}

/// Loads a private key, decrypting it with `passphrase` when it is encrypted.
pub fn load(path: &Path, passphrase: Option<&SecretString>) -> Result<PrivateKey, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    match russh::keys::decode_secret_key(&text, passphrase.map(|p| p.expose_secret())) {
        Ok(key) => Ok(key),
        Err(russh::keys::Error::KeyIsEncrypted) => Err(KeyFileError::NeedsPassphrase {
            path: path.to_path_buf(),
        }),
        Err(_) if passphrase.is_some() && is_encrypted(&text) => {
            Err(KeyFileError::WrongPassphrase {
                path: path.to_path_buf(),
            })
        }
        Err(err) => Err(KeyFileError::Unsupported {
            path: path.to_path_buf(),
            detail: err.to_string(),
        }),
    }
}

/// Whether the key file needs a passphrase.
pub fn needs_passphrase(path: &Path) -> Result<bool, KeyFileError> {
    match load(path, None) {
        Ok(_) => Ok(false),
        Err(KeyFileError::NeedsPassphrase { .. }) => Ok(true),
        Err(err) => Err(err),
    }
}

fn is_encrypted(text: &str) -> bool {
    text.contains("ENCRYPTED") || text.contains("Proc-Type: 4,ENCRYPTED") || {
        // OpenSSH's format names its cipher inside the base64 body: anything but "none".
        russh::keys::ssh_key::PrivateKey::from_openssh(text)
            .map(|k| k.is_encrypted())
            .unwrap_or(false)
    }
}
