//! FTP/FTPS remote tests: the in-process libunftp server always (MLSD, plain, explicit and
//! implicit FTPS, injected faults), real vsftpd with FERRY_REAL_SERVERS=1 (LIST fallback, PAM
//! login, OpenSSL's TLS).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ferry::profile::{HostKeyPolicy, Profile, Protocol};
use ferry::remote::ftp::{self, FtpRemote};
use ferry::remote::hostkeys::KnownHosts;
use ferry::remote::trust::NoPrompt;
use ferry::remote::{ConnectOptions, Credentials, ErrorKind, Remote, RemoteError};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::support::ftp_server::{FtpServer, TlsMode};

mod faults;
mod operations;
mod ranges;
mod real;
mod tls;

const MIB: usize = 1024 * 1024;
const BLOCK: usize = 256 * 1024;

/// A profile for `127.0.0.1:port`, named `ftp-test`.
fn profile(protocol: Protocol, port: u16, user: &str) -> Profile {
    Profile::new("ftp-test", protocol, "127.0.0.1", port, user)
}

fn protocol_of(server: &FtpServer) -> Protocol {
    match server.tls_mode() {
        TlsMode::None => Protocol::Ftp,
        TlsMode::Explicit => Protocol::Ftps,
        TlsMode::Implicit => Protocol::FtpsImplicit,
    }
}

/// A profile for the in-process server, pinned to its certificate when it has one.
fn server_profile(server: &FtpServer) -> Profile {
    let mut profile = profile(protocol_of(server), server.port(), server.user());
    if server.tls_mode() != TlsMode::None {
        profile.cert_pin = Some(server.cert_sha256().to_string());
    }
    profile
}

fn password(secret: &str) -> Credentials {
    Credentials {
        password: Some(secret.to_string().into()),
        ..Credentials::default()
    }
}

/// FTP has no host keys: an empty known_hosts and nobody to ask.
fn options() -> ConnectOptions {
    let dir = tempfile::tempdir().unwrap();
    let known = KnownHosts::load(dir.path().join("known_hosts"), vec![]).unwrap();
    ConnectOptions {
        timeout: Duration::from_secs(10),
        keepalive: Duration::ZERO,
        host_key_policy: HostKeyPolicy::Ask,
        known_hosts: Arc::new(Mutex::new(known)),
        prompt: Arc::new(NoPrompt),
        in_flight_bytes: ConnectOptions::DEFAULT_IN_FLIGHT,
        jumps: Vec::new(),
        on_login: None,
        auth_gate: None,
    }
}

async fn login(server: &FtpServer) -> FtpRemote {
    let creds = password(server.password());
    match ftp::connect(&server_profile(server), &creds, &options()).await {
        Ok(remote) => remote,
        Err(err) => panic!("login failed: {err}"),
    }
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn upload(
    remote: &dyn Remote,
    path: &str,
    offset: u64,
    bytes: &[u8],
) -> Result<(), RemoteError> {
    let mut writer = remote.write_at(path, offset).await?;
    for block in bytes.chunks(BLOCK) {
        writer.write(Bytes::copy_from_slice(block)).await?;
    }
    assert_eq!(writer.confirmed(), bytes.len() as u64);
    writer
        .finish(ferry::remote::Finish {
            sync: true,
            mtime: None,
        })
        .await
        .map(drop)
}

async fn download(remote: &dyn Remote, path: &str, offset: u64) -> Result<Vec<u8>, RemoteError> {
    let mut reader = remote.read_from(path, offset).await?;
    let mut out = Vec::new();
    while let Some(chunk) = reader.next_chunk().await? {
        assert!(chunk.len() <= BLOCK, "chunk of {} bytes", chunk.len());
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[track_caller]
fn expect_err<T>(result: Result<T, RemoteError>, kind: ErrorKind) -> RemoteError {
    match result {
        Ok(_) => panic!("expected {kind:?}, got success"),
        Err(err) => {
            assert_eq!(err.kind, kind, "{err}");
            err
        }
    }
}

/// Uploads and downloads a random file, comparing SHA-256 on the server's disk and back here.
async fn round_trip(remote: &dyn Remote, on_disk: &std::path::Path, len: usize) {
    let original = random_bytes(len);
    upload(remote, "round/trip.bin", 0, &original)
        .await
        .unwrap();
    assert_eq!(
        sha256(&std::fs::read(on_disk.join("round/trip.bin")).unwrap()),
        sha256(&original)
    );
    let back = download(remote, "round/trip.bin", 0).await.unwrap();
    assert_eq!(sha256(&back), sha256(&original));
    assert_eq!(
        remote.stat("round/trip.bin").await.unwrap().size,
        len as u64
    );
}

/// mkdir, mkdir_all, rename over an existing file, remove, rmdir, in the login directory.
async fn directory_operations(remote: &dyn Remote) {
    remote.mkdir("d").await.unwrap();
    expect_err(remote.mkdir("d").await, ErrorKind::AlreadyExists);
    remote.mkdir_all("a/b/c").await.unwrap();
    remote.mkdir_all("a/b/c").await.unwrap();
    upload(remote, "d/new", 0, b"new").await.unwrap();
    upload(remote, "d/old", 0, b"old contents").await.unwrap();
    remote.rename("d/new", "d/old").await.unwrap();
    assert_eq!(download(remote, "d/old", 0).await.unwrap(), b"new");
    expect_err(remote.stat("d/new").await, ErrorKind::NotFound);
    expect_err(remote.remove_dir("d").await, ErrorKind::NotEmpty);
    remote.remove_file("d/old").await.unwrap();
    expect_err(remote.remove_file("d/old").await, ErrorKind::NotFound);
    remote.remove_dir("d").await.unwrap();
    expect_err(remote.stat("d").await, ErrorKind::NotFound);
}
