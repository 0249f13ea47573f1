//! Logging in with a private key file, and what the key-based methods share: the RSA
//! signature hash to use and how a key is named in messages.

use std::path::Path;
use std::sync::Arc;

use russh::client::Handle;
use russh::keys::{PrivateKeyWithHashAlg, PublicKey};

use super::attempt::Attempt;
use super::handshake::ClientHandler;
use crate::remote::{Credentials, keyfile};

/// Tries one private key file. A key that cannot be read is noted, not fatal: other methods
/// may still work, and the note explains the failure if none does.
pub(super) async fn try_key_file(
    handle: &mut Handle<ClientHandler>,
    user: &str,
    path: &Path,
    default_key: bool,
    credentials: &Credentials,
    attempt: &mut Attempt,
) -> bool {
    let passphrase = match default_key {
        true => None,
        false => credentials.key_passphrase.as_ref(),
    };
    let key = match keyfile::load(path, passphrase) {
        Ok(key) => key,
        Err(keyfile::KeyFileError::NeedsPassphrase { .. }) if default_key => {
            attempt
                .notes
                .push(format!("skipped {} (needs a passphrase)", path.display()));
            return false;
        }
        Err(err) => {
            let text = err.to_string();
            // `… (os error 2)` says nothing more to a person.
            let text = text.split(" (os error").next().unwrap_or_default();
            attempt.notes.push(text.to_string());
            return false;
        }
    };
    let hash = match key.algorithm().is_rsa() {
        true => rsa_hash(handle).await,
        false => None,
    };
    let label = format!("publickey ({})", path.display());
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
    match handle.authenticate_publickey(user, key).await {
        Ok(result) => attempt.record(label, result),
        Err(err) => {
            attempt.tried.push(label);
            attempt.notes.push(format!("{}: {err}", path.display()));
            false
        }
    }
}

/// The strongest RSA signature hash the server accepts (`server-sig-algs`); SHA-1 `ssh-rsa`
/// only for servers too old to say.
pub(super) async fn rsa_hash(handle: &Handle<ClientHandler>) -> Option<russh::keys::HashAlg> {
    handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten()
}

/// `ED25519 comment` for an agent or key-file identity.
pub(super) fn key_label(key: &PublicKey) -> String {
    use russh::keys::Algorithm;
    let kind = match key.algorithm() {
        Algorithm::Ed25519 => "ED25519".to_string(),
        Algorithm::Rsa { .. } => "RSA".to_string(),
        Algorithm::Ecdsa { .. } => "ECDSA".to_string(),
        other => other.as_str().to_uppercase(),
    };
    let comment = key.comment().to_string();
    match comment.trim().is_empty() {
        true => kind,
        false => format!("{kind} {}", comment.trim()),
    }
}
