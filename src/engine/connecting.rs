//! What connecting to a profile takes: the profile, its secrets opened with the vault key, the
//! connect options (with this engine's questions as the prompt), and its jump hosts resolved
//! (other profiles, or `user@host[:port]`). No I/O but the store.

use std::sync::Arc;
use std::time::Duration;

use super::{Shared, lock};
use crate::profile::{Profile, ProfileSecret, Protocol};
use crate::remote::{ConnectOptions, Credentials, ErrorKind, Hop, RemoteError, endpoint_of};

impl Shared {
    /// What connecting to `name` takes: the profile, its opened secrets, and the options (with
    /// this engine's questions as the prompt).
    pub(crate) async fn connect_parts(
        self: &Arc<Self>,
        name: &str,
    ) -> Result<(Profile, Credentials, ConnectOptions), RemoteError> {
        let owned = name.to_string();
        let profile = self.store(move |s| s.profile(&owned)).await.map_err(|e| {
            let kind = match e {
                crate::store::StoreError::NoProfile(_) => ErrorKind::NotFound,
                _ => ErrorKind::LocalIo,
            };
            RemoteError::new(kind, &Default::default(), e.to_string())
        })?;
        let credentials = self.open_secrets(&profile)?;
        let mut options = self.connect_options(&profile);
        for entry in &profile.jump {
            let hop = self.hop(entry, &profile).await?;
            options.jumps.push(hop);
        }
        Ok((profile, credentials, options))
    }

    /// A jump host of `target`: another profile by name, or `user@host[:port]` logged in
    /// with the agent and default keys under the target's host-key policy.
    async fn hop(self: &Arc<Self>, entry: &str, target: &Profile) -> Result<Hop, RemoteError> {
        let owned = entry.to_string();
        match self.store(move |s| s.profile(&owned)).await {
            Ok(profile) if profile.protocol == Protocol::Sftp => Ok(Hop {
                credentials: self.open_secrets(&profile)?,
                host_key_policy: self.host_key_policy.unwrap_or(profile.host_key_policy),
                profile,
            }),
            Ok(profile) => Err(RemoteError::new(
                ErrorKind::Invalid,
                &endpoint_of(target),
                format!("jump host {}: not an SFTP profile", profile.name),
            )),
            Err(crate::store::StoreError::NoProfile(_)) => {
                let profile =
                    crate::profile::jump_address(entry, &target.user).ok_or_else(|| {
                        RemoteError::new(
                            ErrorKind::Invalid,
                            &endpoint_of(target),
                            format!("jump host {entry}: neither a profile nor user@host[:port]"),
                        )
                    })?;
                Ok(Hop {
                    profile,
                    credentials: Credentials::default(),
                    host_key_policy: self.host_key_policy.unwrap_or(target.host_key_policy),
                })
            }
            Err(err) => Err(RemoteError::new(
                ErrorKind::LocalIo,
                &endpoint_of(target),
                err.to_string(),
            )),
        }
    }

    /// A profile's sealed secrets, opened with the vault key.
    fn open_secrets(&self, profile: &Profile) -> Result<Credentials, RemoteError> {
        let endpoint = endpoint_of(profile);
        let mut credentials = Credentials::default();
        for secret in ProfileSecret::ALL {
            let Some(sealed) = profile.sealed(secret) else {
                continue;
            };
            let key = lock(&self.vault_key).clone().ok_or_else(|| {
                RemoteError::new(
                    ErrorKind::Auth,
                    &endpoint,
                    "vault locked: the profile's secrets cannot be opened (unlock the vault)",
                )
            })?;
            let plain = key
                .open(profile.slot(secret), sealed)
                .map_err(|e| RemoteError::new(ErrorKind::Auth, &endpoint, e.to_string()))?;
            match secret {
                ProfileSecret::Password => credentials.password = Some(plain),
                ProfileSecret::KeyPassphrase => credentials.key_passphrase = Some(plain),
            }
        }
        Ok(credentials)
    }

    /// How to connect to `profile`, with this engine's questions as the prompt.
    pub(crate) fn connect_options(self: &Arc<Self>, profile: &Profile) -> ConnectOptions {
        ConnectOptions {
            timeout: profile
                .timeout_secs
                .map(|s| Duration::from_secs(u64::from(s)))
                .unwrap_or(self.config.connection.timeout.0),
            keepalive: self.config.connection.keepalive.0,
            host_key_policy: self.host_key_policy.unwrap_or(profile.host_key_policy),
            known_hosts: self.known_hosts.clone(),
            prompt: super::questions::prompt_for(self, &profile.name),
            in_flight_bytes: self.in_flight_bytes(),
            jumps: Vec::new(),
            on_login: None,
            auth_gate: None,
        }
    }
}
