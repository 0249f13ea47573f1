//! Deciding whether to trust an SSH host key: the known_hosts verdict and the profile's policy
//! (`ask`, `accept-new`, `strict`). A changed or revoked key is always refused; an unknown key is
//! accepted only by `accept-new` or by a person answering the question. No path accepts a key
//! without checking it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use russh::keys::PublicKey;

use super::hostkeys::{self, HostKeyVerdict, KnownHosts};
use super::{Endpoint, ErrorKind, RemoteError};
use crate::profile::HostKeyPolicy;

/// The question put to a person about an unknown host key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostKeyQuestion {
    pub endpoint: Endpoint,
    pub host: String,
    pub port: u16,
    pub key_type: String,
    pub fingerprint: String,
    /// Key types already recorded for this host (a different type was offered).
    pub other_types: Vec<String>,
}

/// What a person decided about an unknown host key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyDecision {
    Reject,
    /// Trust it for this connection only.
    Once,
    /// Trust it and record it in ferry's known_hosts.
    Remember,
}

/// A host key refused because it differs from the one recorded: shown, never asked about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostKeyRefusal {
    pub endpoint: Endpoint,
    pub host: String,
    pub port: u16,
    pub key_type: String,
    /// The fingerprint the server presented.
    pub presented: String,
    pub recorded_type: String,
    /// The fingerprint on record.
    pub recorded: String,
    /// The known_hosts file and line that hold the recorded key.
    pub file: String,
    pub line: usize,
}

/// An FTPS certificate that neither verifies nor is pinned: trust it (pin) or not.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CertificateQuestion {
    pub endpoint: Endpoint,
    pub certificate: super::ftp::CertificateInfo,
    /// Why it does not verify.
    pub problem: String,
}

/// Whoever can answer trust questions: a terminal, the TUI through the engine, or nobody.
#[async_trait]
pub trait TrustPrompt: Send + Sync {
    /// True to trust and record the key.
    async fn confirm_host_key(&self, question: &HostKeyQuestion) -> bool;

    /// Trust an unknown key once, for good, or not at all.
    async fn host_key_decision(&self, question: &HostKeyQuestion) -> HostKeyDecision {
        match self.confirm_host_key(question).await {
            true => HostKeyDecision::Remember,
            false => HostKeyDecision::Reject,
        }
    }

    /// A changed key was refused; whoever watches may show it.
    async fn host_key_refused(&self, _refusal: &HostKeyRefusal) {}

    /// True to trust (and pin) an FTPS certificate that does not verify.
    async fn trust_certificate(&self, _question: &CertificateQuestion) -> bool {
        false
    }
}

/// No one to ask: unknown keys are refused.
pub struct NoPrompt;

#[async_trait]
impl TrustPrompt for NoPrompt {
    async fn confirm_host_key(&self, _question: &HostKeyQuestion) -> bool {
        false
    }
}

/// Checks `key` for `host:port` and applies `policy`; records a newly trusted key.
pub async fn verify_host_key(
    endpoint: &Endpoint,
    host: &str,
    port: u16,
    key: &PublicKey,
    policy: HostKeyPolicy,
    known: &Arc<Mutex<KnownHosts>>,
    prompt: &dyn TrustPrompt,
) -> Result<(), RemoteError> {
    let verdict = lock(known).check(host, port, key);
    let refuse = |detail: String| Err(RemoteError::new(ErrorKind::HostKey, endpoint, detail));
    let fingerprint = hostkeys::fingerprint(key);
    let key_type = hostkeys::key_type(key);
    match verdict {
        HostKeyVerdict::Known { .. } => return Ok(()),
        HostKeyVerdict::Revoked { file, line } => {
            return refuse(format!(
                "the {key_type} key {fingerprint} is marked @revoked in {}:{line}",
                file.display()
            ));
        }
        HostKeyVerdict::Changed {
            recorded,
            presented_fingerprint,
        } => {
            prompt
                .host_key_refused(&HostKeyRefusal {
                    endpoint: endpoint.clone(),
                    host: host.to_string(),
                    port,
                    key_type: key_type.clone(),
                    presented: presented_fingerprint.clone(),
                    recorded_type: recorded.key_type.clone(),
                    recorded: recorded.fingerprint.clone(),
                    file: recorded.file.display().to_string(),
                    line: recorded.line,
                })
                .await;
            return refuse(format!(
                "HOST KEY CHANGED: the server offered {key_type} {presented_fingerprint}, but {}:{} records {} {}; \
                 someone may be intercepting the connection. If the server was really re-keyed, remove that line",
                recorded.file.display(),
                recorded.line,
                recorded.key_type,
                recorded.fingerprint
            ));
        }
        HostKeyVerdict::Unknown { other_types } => {
            let decision = match policy {
                HostKeyPolicy::Strict => {
                    return refuse(format!(
                        "unknown {key_type} key {fingerprint} and the host-key policy is strict"
                    ));
                }
                HostKeyPolicy::AcceptNew => HostKeyDecision::Remember,
                HostKeyPolicy::Ask => {
                    let question = HostKeyQuestion {
                        endpoint: endpoint.clone(),
                        host: host.to_string(),
                        port,
                        key_type: key_type.clone(),
                        fingerprint: fingerprint.clone(),
                        other_types,
                    };
                    prompt.host_key_decision(&question).await
                }
            };
            match decision {
                HostKeyDecision::Reject => {
                    return refuse(format!(
                        "unknown {key_type} key {fingerprint} was not accepted \
                         (answer yes at the prompt, or use --host-key-policy accept-new)"
                    ));
                }
                HostKeyDecision::Once => {
                    tracing::info!(%endpoint, %fingerprint, "host key trusted for this connection");
                    return Ok(());
                }
                HostKeyDecision::Remember => {}
            }
        }
    }
    lock(known)
        .learn(host, port, key)
        .map_err(|err| RemoteError::new(ErrorKind::LocalIo, endpoint, err.to_string()))?;
    tracing::info!(%endpoint, %fingerprint, "new host key recorded");
    Ok(())
}

fn lock(known: &Arc<Mutex<KnownHosts>>) -> std::sync::MutexGuard<'_, KnownHosts> {
    // A panic while holding this lock cannot leave KnownHosts half-updated in a way that
    // matters: its entries are appended after the file write succeeds.
    known
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
