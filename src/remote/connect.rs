//! Opening a connection for a profile: the options every protocol needs and the dispatch to
//! SFTP, FTP/FTPS.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;

use super::charset::Charset;
use super::hostkeys::KnownHosts;
use super::recoded::Recoded;
use super::trust::TrustPrompt;
use super::{Endpoint, Remote, RemoteError, Result};
use crate::profile::{HostKeyPolicy, Profile, Protocol};

/// How to connect, beyond what the profile says.
#[derive(Clone)]
pub struct ConnectOptions {
    /// Time allowed for TCP connect, handshake and login.
    pub timeout: Duration,
    /// Keepalive interval on the connection (zero: none).
    pub keepalive: Duration,
    /// The host-key policy in force (the profile's, or a command-line override).
    pub host_key_policy: HostKeyPolicy,
    pub known_hosts: Arc<Mutex<KnownHosts>>,
    pub prompt: Arc<dyn TrustPrompt>,
    /// Bytes a stream may keep in flight (read-ahead, unacknowledged writes): bounds memory.
    pub in_flight_bytes: usize,
    /// SFTP jump hosts to go through, first to last (empty: connect directly).
    pub jumps: Vec<Hop>,
    /// Told how a direct SFTP login goes, step by step (none: nobody asks).
    pub on_login: Option<LoginWatch>,
    /// Where set, an SFTP login goes as far as the host key, then waits for this to turn true
    /// before it authenticates (a spare waits for the first login to get in); it gives up
    /// when the sender goes without.
    pub auth_gate: Option<tokio::sync::watch::Receiver<bool>>,
}

/// See [`ConnectOptions::on_login`].
pub type LoginWatch = Arc<dyn Fn(LoginStep) + Send + Sync>;

/// A step of a direct SFTP login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginStep {
    /// The server's first bytes (its SSH greeting) came this long after the TCP connection
    /// stood: a round trip plus the server's own delay before it greets.
    Greeted(Duration),
    /// The host key was accepted and the login succeeded.
    Authenticated,
}

/// A jump host on the way to a server: its address, login and host-key policy.
#[derive(Clone, Debug)]
pub struct Hop {
    pub profile: Profile,
    pub credentials: Credentials,
    pub host_key_policy: HostKeyPolicy,
}

impl ConnectOptions {
    /// The in-flight budget when nothing else is configured.
    pub const DEFAULT_IN_FLIGHT: usize = 8 << 20;
}

/// Opened secrets for a login. `Debug` never shows them.
#[derive(Default, Clone)]
pub struct Credentials {
    pub password: Option<SecretString>,
    pub key_passphrase: Option<SecretString>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field(
                "key_passphrase",
                &self.key_passphrase.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// The endpoint of a profile, for messages.
pub fn endpoint_of(profile: &Profile) -> Endpoint {
    Endpoint {
        profile: profile.name.clone(),
        address: profile.address(),
    }
}

/// Connects and logs in to the profile's server.
pub async fn connect(
    profile: &Profile,
    credentials: &Credentials,
    options: &ConnectOptions,
) -> Result<Arc<dyn Remote>> {
    let charset = charset_of(profile)?;
    let remote: Arc<dyn Remote> = match profile.protocol {
        Protocol::Sftp => Arc::new(super::sftp::connect(profile, credentials, options).await?),
        Protocol::Ftp | Protocol::Ftps | Protocol::FtpsImplicit => {
            Arc::new(super::ftp::connect(profile, credentials, options).await?)
        }
    };
    Ok(match charset {
        Charset::Utf8 => remote,
        legacy => Arc::new(Recoded::new(remote, legacy)),
    })
}

/// The character set a profile names (UTF-8 when it names none).
pub fn charset_of(profile: &Profile) -> Result<Charset> {
    match profile.charset.as_deref() {
        None => Ok(Charset::Utf8),
        Some(label) => Charset::from_label(label).ok_or_else(|| {
            let detail = format!("unknown character set `{}`", crate::text::shown(label));
            RemoteError::new(super::ErrorKind::Invalid, &endpoint_of(profile), detail)
        }),
    }
}
