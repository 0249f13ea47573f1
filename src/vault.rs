//! The vault: the key that seals every secret, derived from a master passphrase (Argon2id) or read
//! from a 32-byte key file, and the sealing itself (XChaCha20-Poly1305 with the record kind, id and
//! field as associated data, so a sealed value moved to another record does not open).
//!
//! Plaintext secrets live only in `SecretString`s; nothing here logs or prints them.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const VERIFIER_PLAINTEXT: &str = "ferry vault verifier v1";
const KEY_LEN: usize = 32;

/// A sealed secret: nonce and ciphertext (with its tag). Safe to store and to print.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    #[serde(with = "hex::serde")]
    nonce: [u8; 24],
    #[serde(with = "hex::serde")]
    ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.ciphertext.len())
    }
}

/// Where a sealed secret belongs; it becomes the associated data of the seal.
#[derive(Debug, Clone, Copy)]
pub struct SecretSlot<'a> {
    pub kind: &'a str,
    pub id: u64,
    pub field: &'a str,
}

impl SecretSlot<'_> {
    fn aad(&self) -> Vec<u8> {
        format!("ferry:{}:{}:{}", self.kind, self.id, self.field).into_bytes()
    }
}

/// How the vault key is obtained, with the parameters needed to derive it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Kdf {
    Argon2id {
        #[serde(with = "hex::serde")]
        salt: [u8; 16],
        memory_kib: u32,
        passes: u32,
        lanes: u32,
    },
    KeyFile {
        /// Where the key file was when the vault was set up: a hint, not a secret.
        hint: Option<PathBuf>,
    },
}

/// What the store keeps about the vault: the KDF and a verifier that tells a wrong key from a
/// damaged store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultHeader {
    pub kdf: Kdf,
    verifier: Sealed,
    /// SHA-256 of the verifier's ciphertext: if it does not match, the header itself is damaged.
    #[serde(with = "hex::serde")]
    verifier_digest: [u8; 32],
}

/// A secret used to unlock the vault.
pub enum Unlock {
    Passphrase(SecretString),
    KeyFile(PathBuf),
}

impl fmt::Debug for Unlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unlock::Passphrase(_) => f.write_str("Passphrase([redacted])"),
            Unlock::KeyFile(path) => write!(f, "KeyFile({})", path.display()),
        }
    }
}

/// Argon2id cost for a new passphrase.
#[derive(Debug, Clone, Copy)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub passes: u32,
}

impl Argon2Cost {
    /// The cost `[vault]` asks for new passphrases.
    pub fn from_config(config: &crate::config::VaultConfig) -> Argon2Cost {
        Argon2Cost {
            memory_kib: (config.argon2_memory.0 / 1024) as u32,
            passes: config.argon2_passes,
        }
    }
}

/// The key file that unlocks a key-file vault: `FERRY_KEY_FILE`, `vault.key_file`, systemd's
/// credential, or the path recorded when the vault was set up (`hint`).
pub fn find_key_file(
    config: &crate::config::VaultConfig,
    hint: Option<&PathBuf>,
) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FERRY_KEY_FILE") {
        return Some(PathBuf::from(path));
    }
    if let Some(path) = &config.key_file {
        return Some(crate::paths::expand_tilde(&path.to_string_lossy()));
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = PathBuf::from(dir).join("ferry.key");
        if path.exists() {
            return Some(path);
        }
    }
    hint.cloned()
}

impl Default for Argon2Cost {
    fn default() -> Self {
        Argon2Cost {
            memory_kib: 64 * 1024,
            passes: 3,
        }
    }
}

/// The unlocked vault key. It never leaves memory and is wiped on drop.
pub struct VaultKey(Zeroizing<[u8; KEY_LEN]>);

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("wrong key file {}: it does not open this vault", .0.display())]
    WrongKeyFile(PathBuf),
    #[error("key file {}: {reason}", path.display())]
    BadKeyFile { path: PathBuf, reason: String },
    #[error("this vault is unlocked with a passphrase, not a key file")]
    NeedsPassphrase,
    #[error("this vault is unlocked with a key file, not a passphrase")]
    NeedsKeyFile,
    #[error("the vault header in the store is damaged (verifier checksum mismatch)")]
    DamagedHeader,
    #[error("a sealed {field} for {kind} {id} does not open: it was altered or belongs elsewhere")]
    Tampered {
        kind: String,
        id: u64,
        field: String,
    },
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

impl VaultKey {
    /// A fresh random key (for a new key file).
    pub fn generate() -> VaultKey {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rand::rng().fill_bytes(key.as_mut());
        VaultKey(key)
    }

    /// The raw bytes, for writing a new key file.
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(*self.0))
    }

    /// Seals `secret` for `slot` with a fresh random nonce.
    pub fn seal(&self, slot: SecretSlot<'_>, secret: &SecretString) -> Sealed {
        self.seal_bytes(slot, secret.expose_secret().as_bytes())
    }

    fn seal_bytes(&self, slot: SecretSlot<'_>, plaintext: &[u8]) -> Sealed {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let aad = slot.aad();
        let ciphertext = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default(); // encryption fails only for inputs over 256 GiB
        Sealed { nonce, ciphertext }
    }

    /// Opens a sealed secret; fails if it was altered or sealed for another slot.
    pub fn open(&self, slot: SecretSlot<'_>, sealed: &Sealed) -> Result<SecretString, VaultError> {
        let bytes = Zeroizing::new(self.open_bytes(slot, sealed)?);
        let text = std::str::from_utf8(&bytes).map_err(|_| tampered(slot))?;
        Ok(SecretString::from(text.to_owned()))
    }

    fn open_bytes(&self, slot: SecretSlot<'_>, sealed: &Sealed) -> Result<Vec<u8>, VaultError> {
        let aad = slot.aad();
        self.cipher()
            .decrypt(
                &XNonce::from(sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| tampered(slot))
    }
}

fn tampered(slot: SecretSlot<'_>) -> VaultError {
    VaultError::Tampered {
        kind: slot.kind.to_string(),
        id: slot.id,
        field: slot.field.to_string(),
    }
}

const VERIFIER_SLOT: SecretSlot<'static> = SecretSlot {
    kind: "vault",
    id: 0,
    field: "verifier",
};

impl VaultHeader {
    /// Sets up a vault sealed by `unlock`; returns the header to store and the key.
    pub fn create(
        unlock: &Unlock,
        cost: Argon2Cost,
    ) -> Result<(VaultHeader, VaultKey), VaultError> {
        let (kdf, key) = match unlock {
            Unlock::Passphrase(passphrase) => {
                let mut salt = [0u8; 16];
                rand::rng().fill_bytes(&mut salt);
                let kdf = Kdf::Argon2id {
                    salt,
                    memory_kib: cost.memory_kib,
                    passes: cost.passes,
                    lanes: 1,
                };
                let key = derive(&kdf, passphrase)?;
                (kdf, key)
            }
            Unlock::KeyFile(path) => (
                Kdf::KeyFile {
                    hint: Some(path.clone()),
                },
                read_key_file(path)?,
            ),
        };
        Ok((VaultHeader::for_key(kdf, &key), key))
    }

    fn for_key(kdf: Kdf, key: &VaultKey) -> VaultHeader {
        let verifier = key.seal_bytes(VERIFIER_SLOT, VERIFIER_PLAINTEXT.as_bytes());
        let verifier_digest = Sha256::digest(&verifier.ciphertext).into();
        VaultHeader {
            kdf,
            verifier,
            verifier_digest,
        }
    }

    /// Derives or reads the key and checks it against the verifier.
    pub fn unlock(&self, unlock: &Unlock) -> Result<VaultKey, VaultError> {
        let digest: [u8; 32] = Sha256::digest(&self.verifier.ciphertext).into();
        if digest != self.verifier_digest {
            return Err(VaultError::DamagedHeader);
        }
        let key = match (&self.kdf, unlock) {
            (Kdf::Argon2id { .. }, Unlock::Passphrase(passphrase)) => {
                derive(&self.kdf, passphrase)?
            }
            (Kdf::KeyFile { .. }, Unlock::KeyFile(path)) => read_key_file(path)?,
            (Kdf::Argon2id { .. }, Unlock::KeyFile(_)) => return Err(VaultError::NeedsPassphrase),
            (Kdf::KeyFile { .. }, Unlock::Passphrase(_)) => return Err(VaultError::NeedsKeyFile),
        };
        match key.open_bytes(VERIFIER_SLOT, &self.verifier) {
            Ok(plain) if plain == VERIFIER_PLAINTEXT.as_bytes() => Ok(key),
            _ => Err(match unlock {
                Unlock::Passphrase(_) => VaultError::WrongPassphrase,
                Unlock::KeyFile(path) => VaultError::WrongKeyFile(path.clone()),
            }),
        }
    }

    /// A one-line description for `ferry vault status`.
    pub fn describe(&self) -> String {
        match &self.kdf {
            Kdf::Argon2id {
                memory_kib, passes, ..
            } => format!(
                "passphrase (Argon2id, {} MiB, {passes} passes)",
                memory_kib / 1024
            ),
            Kdf::KeyFile { hint: Some(path) } => format!("key file ({})", path.display()),
            Kdf::KeyFile { hint: None } => "key file".to_string(),
        }
    }
}

fn derive(kdf: &Kdf, passphrase: &SecretString) -> Result<VaultKey, VaultError> {
    let Kdf::Argon2id {
        salt,
        memory_kib,
        passes,
        lanes,
    } = kdf
    else {
        return Err(VaultError::NeedsKeyFile);
    };
    let params = Params::new(*memory_kib, *passes, *lanes, Some(KEY_LEN))
        .map_err(|err| VaultError::Kdf(err.to_string()))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, key.as_mut())
        .map_err(|err| VaultError::Kdf(err.to_string()))?;
    Ok(VaultKey(key))
}

/// Reads a key file: exactly 32 bytes.
pub fn read_key_file(path: &Path) -> Result<VaultKey, VaultError> {
    let bad = |reason: String| VaultError::BadKeyFile {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = std::fs::File::open(path).map_err(|err| bad(err.to_string()))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    let mut extra = [0u8; 1];
    file.read_exact(key.as_mut())
        .map_err(|_| bad(format!("must hold exactly {KEY_LEN} bytes")))?;
    if file.read(&mut extra).map_err(|err| bad(err.to_string()))? != 0 {
        return Err(bad(format!("must hold exactly {KEY_LEN} bytes")));
    }
    Ok(VaultKey(key))
}

/// A warning when a key or key file can be read by other users, as OpenSSH warns.
pub fn loose_permissions_warning(path: &Path) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "warning: {} is readable by other users (mode {:o}); run chmod 600 on it",
            path.display(),
            mode & 0o777
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Argon2Cost = Argon2Cost {
        memory_kib: 8 * 1024,
        passes: 1,
    };

    fn pass(text: &str) -> Unlock {
        Unlock::Passphrase(SecretString::from(text.to_string()))
    }

    fn slot(id: u64) -> SecretSlot<'static> {
        SecretSlot {
            kind: "profile",
            id,
            field: "password",
        }
    }

    #[test]
    fn round_trip() {
        let (header, key) = VaultHeader::create(&pass("correct horse"), FAST).unwrap();
        let sealed = key.seal(slot(1), &SecretString::from("hunter2".to_string()));
        let again = header.unlock(&pass("correct horse")).unwrap();
        assert_eq!(
            again.open(slot(1), &sealed).unwrap().expose_secret(),
            "hunter2"
        );
    }

    #[test]
    fn wrong_passphrase_is_named() {
        let (header, _) = VaultHeader::create(&pass("correct horse"), FAST).unwrap();
        let err = header.unlock(&pass("battery staple")).unwrap_err();
        assert_eq!(err.to_string(), "wrong passphrase");
    }

    #[test]
    fn flipped_byte_is_detected() {
        let (_, key) = VaultHeader::create(&pass("p"), FAST).unwrap();
        let mut sealed = key.seal(slot(1), &SecretString::from("hunter2".to_string()));
        for i in 0..sealed.ciphertext.len() {
            sealed.ciphertext[i] ^= 1;
            assert!(
                key.open(slot(1), &sealed).is_err(),
                "flip at {i} not caught"
            );
            sealed.ciphertext[i] ^= 1;
        }
        sealed.nonce[3] ^= 0x80;
        assert!(key.open(slot(1), &sealed).is_err());
    }

    #[test]
    fn sealed_value_moved_to_another_record_does_not_open() {
        let (_, key) = VaultHeader::create(&pass("p"), FAST).unwrap();
        let sealed = key.seal(slot(1), &SecretString::from("hunter2".to_string()));
        assert!(key.open(slot(2), &sealed).is_err());
        let other_field = SecretSlot {
            field: "key_passphrase",
            ..slot(1)
        };
        assert!(key.open(other_field, &sealed).is_err());
    }

    #[test]
    fn damaged_header_is_told_apart_from_wrong_passphrase() {
        let (mut header, _) = VaultHeader::create(&pass("p"), FAST).unwrap();
        header.verifier.ciphertext[0] ^= 1;
        assert!(matches!(
            header.unlock(&pass("p")),
            Err(VaultError::DamagedHeader)
        ));
    }

    #[test]
    fn key_file_must_be_32_bytes_and_match() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        let other = dir.path().join("other");
        std::fs::write(&good, VaultKey::generate().expose_bytes()).unwrap();
        std::fs::write(&other, VaultKey::generate().expose_bytes()).unwrap();
        let (header, _) = VaultHeader::create(&Unlock::KeyFile(good.clone()), FAST).unwrap();
        assert!(header.unlock(&Unlock::KeyFile(good)).is_ok());
        assert!(matches!(
            header.unlock(&Unlock::KeyFile(other)),
            Err(VaultError::WrongKeyFile(_))
        ));
        let short = dir.path().join("short");
        std::fs::write(&short, b"too short").unwrap();
        assert!(read_key_file(&short).is_err());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let key = VaultKey::generate();
        assert_eq!(format!("{key:?}"), "VaultKey([redacted])");
        let unlock = pass("hunter2");
        assert!(!format!("{unlock:?}").contains("hunter2"));
    }
}
