//! SSH client keys and an ssh-agent made in-process, so `cargo test` needs no OpenSSH tools
//! (the real-server runs still use OpenSSH's own).

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::LineEnding;
use russh::keys::{PrivateKey, PublicKey};
use tempfile::TempDir;

/// Where the fixed RSA key in legacy PEM (PKCS#1) form lives: generated once, a test key only.
const RSA_PEM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/keys/rsa2048.pem"
);

/// Writes a fresh ed25519 key pair to `path` and `path.pub` in OpenSSH's format, encrypted
/// with `passphrase` unless it is empty.
pub fn write_ed25519(path: &Path, comment: &str, passphrase: &str) -> PublicKey {
    let mut key = super::sftp_server::random_ed25519_key();
    key.set_comment(comment);
    let stored = match passphrase {
        "" => key.clone(),
        _ => key
            .encrypt(&mut rand010::rng(), passphrase)
            .expect("encrypt the key"),
    };
    stored
        .write_openssh_file(path, LineEnding::LF)
        .expect("write the key");
    private_mode(path);
    write_public(path, key.public_key());
    key.public_key().clone()
}

/// Copies the fixed RSA test key (legacy PEM) to `path`, with `path.pub`.
pub fn write_rsa_pem(path: &Path) -> PublicKey {
    std::fs::copy(RSA_PEM, path).expect("copy the RSA key");
    private_mode(path);
    let public = std::fs::read_to_string(format!("{RSA_PEM}.pub")).expect("RSA public key");
    std::fs::write(path.with_extension("pub"), &public).expect("write the public key");
    PublicKey::from_openssh(public.trim()).expect("parse the public key")
}

fn write_public(path: &Path, public: &PublicKey) {
    let line = public.to_openssh().expect("encode the public key");
    std::fs::write(path.with_extension("pub"), format!("{line}\n")).expect("write public key");
}

fn private_mode(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}

#[derive(Clone)]
struct KeepsKeys;

impl russh::keys::agent::server::Agent for KeepsKeys {}

/// An ssh-agent (russh's agent server) on a private socket, holding one key; stopped on drop.
pub struct Agent {
    _dir: TempDir,
    pub socket: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Agent {
    /// Starts an agent holding the (unencrypted) key at `key`; returns once it holds it.
    pub fn holding(key: &Path) -> Agent {
        let key = PrivateKey::read_openssh_file(key).expect("read the key for the agent");
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("agent.sock");
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let (ready, is_ready) = mpsc::channel();
        let path = socket.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("agent runtime");
            runtime.block_on(run_agent(path, key, ready, stopped));
        });
        is_ready.recv().expect("the agent started");
        Agent {
            _dir: dir,
            socket,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

async fn run_agent(
    socket: PathBuf,
    key: PrivateKey,
    ready: mpsc::Sender<()>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::UnixListener::bind(&socket).expect("bind the agent socket");
    let incoming = futures::stream::unfold(listener, |listener| async move {
        let next = listener.accept().await.map(|(stream, _)| stream);
        Some((next, listener))
    });
    let server = tokio::spawn(russh::keys::agent::server::serve(
        Box::pin(incoming),
        KeepsKeys,
    ));
    let mut client = AgentClient::connect_uds(&socket)
        .await
        .expect("connect to the agent");
    client.add_identity(&key, &[]).await.expect("add the key");
    let _ = ready.send(());
    let _ = stopped.await;
    server.abort();
}

impl Agent {
    /// ferry's view of a login environment with this agent (and no home).
    pub fn env(&self) -> ferry::remote::sftp::AuthEnv {
        ferry::remote::sftp::AuthEnv {
            agent_socket: Some(self.socket.clone()),
            home: None,
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
