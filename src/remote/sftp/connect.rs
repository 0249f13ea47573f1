//! Reaching the server: name resolution, the TCP connection, russh's client configuration
//! (window, keepalive, cipher and host-key preferences) and the SSH handshake, all inside the
//! connect timeout. Time a person spends answering the host-key question does not count.

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::client::Handle;
use russh::keys::Algorithm;
use russh::{Preferred, cipher};
use tokio::io::BufReader;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::errors::ssh_error;
use super::handshake::{self, ClientHandler, SharedFacts};
use crate::profile::Profile;
use crate::remote::{ConnectOptions, Endpoint, ErrorKind, RemoteError, Result};

/// Receive window per channel: large enough that a fast link is not throttled by
/// round trips. russh enlarges the window as packets arrive, so memory is bounded by its
/// per-channel message queue, not by this figure.
const WINDOW_SIZE: u32 = 16 * 1024 * 1024;
/// Largest SSH packet we accept per channel message (russh's own ceiling).
const MAX_PACKET: u32 = 65_535;
/// Bytes read from the socket at once.
const READ_BUFFER: usize = 128 * 1024;
/// Unanswered keepalives before the connection counts as dead.
const KEEPALIVE_MAX: usize = 3;

/// Runs `work` within `timeout`, not counting time spent waiting for a person to answer
/// the host-key question recorded in `facts`.
pub(super) async fn within_timeout<T>(
    timeout: Duration,
    facts: &SharedFacts,
    endpoint: &Endpoint,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let started = Instant::now();
    tokio::pin!(work);
    loop {
        // Recomputed on every wake-up: a question answered meanwhile moves the deadline.
        let (human, asking) = {
            let facts = handshake::lock(facts);
            let current = facts.asking_since.map_or(Duration::ZERO, |s| s.elapsed());
            (facts.asked_for + current, facts.asking_since.is_some())
        };
        let deadline = started + timeout + human;
        if !asking && Instant::now() >= deadline {
            return Err(RemoteError::new(
                ErrorKind::Timeout,
                endpoint,
                format!("no complete login within {}", seconds(timeout)),
            ));
        }
        tokio::select! {
            result = &mut work => return result,
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// Resolves the host and connects to the first address that answers.
pub(super) async fn open_tcp(profile: &Profile, endpoint: &Endpoint) -> Result<TcpStream> {
    let addresses: Vec<SocketAddr> =
        match tokio::net::lookup_host((profile.host.as_str(), profile.port)).await {
            Ok(found) => found.collect(),
            Err(err) => return Err(RemoteError::new(ErrorKind::Dns, endpoint, err.to_string())),
        };
    let mut last_error = RemoteError::new(
        ErrorKind::Dns,
        endpoint,
        format!("{} has no address", profile.host),
    );
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                // Small requests (stat, open) must not wait for Nagle.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(%endpoint, %err, "cannot set TCP_NODELAY");
                }
                return Ok(stream);
            }
            Err(err) => last_error = socket_error(&err, endpoint),
        }
    }
    Err(last_error)
}

/// A failed TCP connect, without the OS's `(os error 111)` noise.
fn socket_error(err: &std::io::Error, endpoint: &Endpoint) -> RemoteError {
    let mut error = RemoteError::from_socket(err, endpoint);
    let text = err.to_string();
    error.detail = match error.kind {
        ErrorKind::Refused => String::new(),
        _ => text
            .split(" (os error")
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    error
}

/// The russh client configuration for `host:port`.
pub(super) fn client_config(
    options: &ConnectOptions,
    host: &str,
    port: u16,
) -> russh::client::Config {
    let keepalive = (!options.keepalive.is_zero()).then_some(options.keepalive);
    russh::client::Config {
        window_size: WINDOW_SIZE,
        maximum_packet_size: MAX_PACKET,
        keepalive_interval: keepalive,
        keepalive_max: KEEPALIVE_MAX,
        nodelay: true,
        preferred: Preferred {
            cipher: Cow::Owned(cipher_preference(cpu_has_aes())),
            key: Cow::Owned(host_key_preference(options, host, port)),
            ..Preferred::default()
        },
        ..Default::default()
    }
}

fn cpu_has_aes() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// AES-GCM is the fastest cipher where the CPU has AES instructions; ChaCha20-Poly1305 is
/// the fastest without them.
fn cipher_preference(aes: bool) -> Vec<cipher::Name> {
    let gcm = [cipher::AES_128_GCM, cipher::AES_256_GCM];
    let mut order: Vec<cipher::Name> = Vec::new();
    if aes {
        order.extend(gcm);
        order.push(cipher::CHACHA20_POLY1305);
    } else {
        order.push(cipher::CHACHA20_POLY1305);
        order.extend(gcm);
    }
    order.extend([
        cipher::AES_256_CTR,
        cipher::AES_192_CTR,
        cipher::AES_128_CTR,
    ]);
    order
}

/// Like OpenSSH: the key types already recorded for this host first, so a host known by
/// its RSA key is not reported as "unknown" because it also has an Ed25519 key.
fn host_key_preference(options: &ConnectOptions, host: &str, port: u16) -> Vec<Algorithm> {
    let known = {
        let known_hosts = options
            .known_hosts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known_hosts.known_algorithms(host, port)
    };
    let mut order = known;
    for algorithm in Preferred::default().key.iter() {
        if !order.contains(algorithm) {
            order.push(algorithm.clone());
        }
    }
    order
}

/// Runs the SSH handshake on `stream`; a refused host key comes back as the trust error.
pub(super) async fn handshake<S>(
    stream: S,
    config: russh::client::Config,
    handler: ClientHandler,
) -> Result<Handle<ClientHandler>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let facts = handler.facts.clone();
    let endpoint = handler.endpoint.clone();
    // russh reads each packet with two exact reads (its length, then the rest): buffered, a
    // burst of small replies costs one recv instead of two or three per packet.
    let stream = BufReader::with_capacity(READ_BUFFER, stream);
    match russh::client::connect_stream(Arc::new(config), stream, handler).await {
        Ok(handle) => Ok(handle),
        Err(err) => match handshake::lock(&facts).refusal.take() {
            Some(refusal) => Err(refusal),
            None => Err(ssh_error(&err, &endpoint)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcm_leads_with_aes_instructions_and_chacha_without() {
        assert_eq!(cipher_preference(true)[0], cipher::AES_128_GCM);
        assert_eq!(cipher_preference(false)[0], cipher::CHACHA20_POLY1305);
        assert!(cipher_preference(true).contains(&cipher::CHACHA20_POLY1305));
    }

    #[test]
    fn timeouts_read_as_seconds() {
        assert_eq!(seconds(Duration::from_secs(10)), "10 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
    }
}
