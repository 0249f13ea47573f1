//! The russh client `Handler` for one connection: the host-key check (through
//! `trust::verify_host_key`, the only place a key is accepted) and what the handshake tells
//! about the server (identification line, negotiated cipher, auth banner). It keeps the trust
//! error itself so `connect` can report it instead of russh's generic "unknown key".

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use russh::client::Session;
use russh::keys::PublicKeyOrCertificate;

use crate::profile::HostKeyPolicy;
use crate::remote::hostkeys::KnownHosts;
use crate::remote::trust::{self, TrustPrompt};
use crate::remote::{Endpoint, ErrorKind, RemoteError, hostkeys};

/// What the handshake learnt, shared between the handler (owned by russh's session task) and
/// the code driving the connection.
#[derive(Default)]
pub(super) struct HandshakeFacts {
    /// Why the host key was refused, when it was.
    pub refusal: Option<RemoteError>,
    /// Type and SHA256 fingerprint of the accepted host key.
    pub host_key: Option<(String, String)>,
    /// The server's SSH identification line (`SSH-2.0-OpenSSH_9.2p1 …`).
    pub server_id: Option<String>,
    pub auth_banner: Option<String>,
    /// Negotiated cipher and key exchange.
    pub security: Option<String>,
    /// When a person started answering the host-key question (the connect timeout pauses).
    pub asking_since: Option<Instant>,
    /// Time spent on answered host-key questions.
    pub asked_for: Duration,
}

pub(super) type SharedFacts = Arc<Mutex<HandshakeFacts>>;

pub(super) fn lock(facts: &SharedFacts) -> MutexGuard<'_, HandshakeFacts> {
    // Plain data: a panic elsewhere cannot leave it inconsistent in a way that matters.
    facts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where a connection goes and how its host key is judged.
pub(super) struct ClientHandler {
    pub endpoint: Endpoint,
    pub host: String,
    pub port: u16,
    pub policy: HostKeyPolicy,
    pub known_hosts: Arc<Mutex<KnownHosts>>,
    pub prompt: Arc<dyn TrustPrompt>,
    pub facts: SharedFacts,
}

impl ClientHandler {
    fn refuse(&self, refusal: RemoteError) -> bool {
        lock(&self.facts).refusal = Some(refusal);
        false
    }
}

impl russh::client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key,
            PublicKeyOrCertificate::Certificate(_) => {
                return Ok(self.refuse(RemoteError::new(
                    ErrorKind::HostKey,
                    &self.endpoint,
                    "the server presented a host certificate; ferry does not check host \
                     certificates yet",
                )));
            }
        };
        lock(&self.facts).asking_since = Some(Instant::now());
        let verdict = trust::verify_host_key(
            &self.endpoint,
            &self.host,
            self.port,
            key,
            self.policy,
            &self.known_hosts,
            self.prompt.as_ref(),
        )
        .await;
        {
            let mut facts = lock(&self.facts);
            if let Some(since) = facts.asking_since.take() {
                facts.asked_for += since.elapsed();
            }
        }
        match verdict {
            Ok(()) => {
                lock(&self.facts).host_key =
                    Some((hostkeys::key_type(key), hostkeys::fingerprint(key)));
                Ok(true)
            }
            Err(refusal) => Ok(self.refuse(refusal)),
        }
    }

    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        names: &russh::Names,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let server_id = String::from_utf8_lossy(session.remote_sshid())
            .trim()
            .to_string();
        let mut facts = lock(&self.facts);
        facts.security = Some(format!("{}, {}", names.cipher.as_ref(), names.kex.as_ref()));
        if !server_id.is_empty() {
            facts.server_id = Some(server_id);
        }
        Ok(())
    }

    async fn auth_banner(
        &mut self,
        banner: &str,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let banner = banner.trim();
        if !banner.is_empty() {
            lock(&self.facts).auth_banner = Some(banner.to_string());
        }
        Ok(())
    }
}
