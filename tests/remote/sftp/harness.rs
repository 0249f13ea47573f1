//! What the SFTP tests share: a `Target` (the in-process server or a real sshd, with a
//! directory to work in), profiles, trust stores with a scripted prompt, and throwaway
//! client keys and ssh-agents (made in-process).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ferry::profile::{HostKeyPolicy, Profile, Protocol};
use ferry::remote::hostkeys::{self, KnownHosts};
use ferry::remote::sftp::{self, AuthEnv, SftpRemote};
use ferry::remote::trust::{HostKeyQuestion, TrustPrompt};
use ferry::remote::{ConnectOptions, Credentials, RemoteError};
use russh::keys::PublicKey;
use secrecy::SecretString;
use tempfile::TempDir;

use crate::support::keys;
use crate::support::real_servers::{RealSshd, SshdOptions, skip_without_real_servers};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

/// A profile for `127.0.0.1:port` with no login method set.
pub fn profile(port: u16, user: &str) -> Profile {
    let mut profile = Profile::new("sftp-test", Protocol::Sftp, "127.0.0.1", port, user);
    profile.host_key_policy = HostKeyPolicy::Strict;
    profile
}

pub fn password(secret: &str) -> Credentials {
    Credentials {
        password: Some(SecretString::from(secret.to_string())),
        key_passphrase: None,
    }
}

pub fn passphrase(secret: &str) -> Credentials {
    Credentials {
        password: None,
        key_passphrase: Some(SecretString::from(secret.to_string())),
    }
}

/// Answers host-key questions with a fixed answer and remembers them.
pub struct ScriptedPrompt {
    answer: bool,
    pub questions: Mutex<Vec<HostKeyQuestion>>,
}

impl ScriptedPrompt {
    pub fn asked(&self) -> Vec<HostKeyQuestion> {
        self.questions.lock().unwrap().clone()
    }
}

#[async_trait]
impl TrustPrompt for ScriptedPrompt {
    async fn confirm_host_key(&self, question: &HostKeyQuestion) -> bool {
        self.questions.lock().unwrap().push(question.clone());
        self.answer
    }
}

/// A private known_hosts file (ferry's own; no user files) and a prompt answering `answer`.
pub struct Trust {
    dir: TempDir,
    pub prompt: Arc<ScriptedPrompt>,
}

impl Trust {
    pub fn new(answer: bool) -> Trust {
        Trust {
            dir: tempfile::tempdir().unwrap(),
            prompt: Arc::new(ScriptedPrompt {
                answer,
                questions: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A store that already trusts `line` (a known_hosts line).
    pub fn knowing(line: &str) -> Trust {
        let trust = Trust::new(false);
        std::fs::write(trust.file(), format!("{line}\n")).unwrap();
        trust
    }

    pub fn file(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    pub fn contents(&self) -> String {
        std::fs::read_to_string(self.file()).unwrap_or_default()
    }

    /// Options with a fresh read of the file, so each connect sees what the last one learnt.
    pub fn options(&self, policy: HostKeyPolicy) -> ConnectOptions {
        ConnectOptions {
            timeout: Duration::from_secs(20),
            keepalive: Duration::ZERO,
            host_key_policy: policy,
            known_hosts: Arc::new(Mutex::new(KnownHosts::load(self.file(), vec![]).unwrap())),
            prompt: self.prompt.clone(),
            in_flight_bytes: ConnectOptions::DEFAULT_IN_FLIGHT,
            jumps: Vec::new(),
            on_login: None,
            auth_gate: None,
        }
    }
}

/// Where a test runs: a server, a login for it and a directory to work in.
pub struct Target {
    pub real: bool,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// The remote directory tests work in (absolute).
    pub base: String,
    /// The same directory on this machine's disk.
    disk_base: PathBuf,
    pub host_key: PublicKey,
    pub server: Option<SftpServer>,
    pub sshd: Option<RealSshd>,
}

impl Target {
    /// The in-process server; tests work in `/work`.
    pub async fn in_process(config: SftpServerConfig) -> Target {
        let user = config
            .users
            .first()
            .map_or(DEFAULT_USER.to_string(), |u| u.name.clone());
        let password = config
            .users
            .first()
            .and_then(|u| u.password.clone())
            .unwrap_or_else(|| DEFAULT_PASSWORD.to_string());
        let server = SftpServer::start(config).await;
        let disk_base = server.root().join("work");
        std::fs::create_dir_all(&disk_base).unwrap();
        Target {
            real: false,
            port: server.port(),
            user,
            password,
            base: "/work".into(),
            disk_base,
            host_key: server.host_public_key().clone(),
            server: Some(server),
            sshd: None,
        }
    }

    /// A real sshd, or None (with a note) without FERRY_REAL_SERVERS=1.
    pub async fn real(options: SshdOptions) -> Option<Target> {
        if skip_without_real_servers() {
            return None;
        }
        let sshd = tokio::task::spawn_blocking(move || RealSshd::start(options))
            .await
            .unwrap();
        let host_key = PublicKey::from_openssh(sshd.host_public_key()).unwrap();
        let scratch = sshd.scratch_dir().to_path_buf();
        Some(Target {
            real: true,
            port: sshd.port(),
            user: sshd.user().name.clone(),
            password: sshd.user().password.clone(),
            base: scratch.to_string_lossy().into_owned(),
            disk_base: scratch,
            host_key,
            server: None,
            sshd: Some(sshd),
        })
    }

    pub fn sshd(&self) -> &RealSshd {
        self.sshd.as_ref().expect("real sshd")
    }

    /// `base/name` on the server.
    pub fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// Where `base/name` is on this machine's disk.
    pub fn disk(&self, name: &str) -> PathBuf {
        self.disk_base.join(name)
    }

    pub fn profile(&self) -> Profile {
        profile(self.port, &self.user)
    }

    pub fn known_hosts_line(&self) -> String {
        let mut key = self.host_key.clone();
        key.set_comment("");
        format!("[127.0.0.1]:{} {}", self.port, key.to_openssh().unwrap())
    }

    pub fn fingerprint(&self) -> String {
        hostkeys::fingerprint(&self.host_key)
    }

    /// A trust store that knows this server.
    pub fn trust(&self) -> Trust {
        Trust::knowing(&self.known_hosts_line())
    }

    /// Logs in with the password, the host key known.
    pub async fn connect(&self) -> SftpRemote {
        let trust = self.trust();
        self.login(
            &self.profile(),
            &password(&self.password),
            &trust.options(HostKeyPolicy::Strict),
        )
        .await
        .unwrap_or_else(|err| panic!("login failed: {err}"))
    }

    /// Connects with no agent and no home directory from the environment.
    pub async fn login(
        &self,
        profile: &Profile,
        credentials: &Credentials,
        options: &ConnectOptions,
    ) -> Result<SftpRemote, RemoteError> {
        sftp::connect_with(profile, credentials, options, &AuthEnv::default()).await
    }
}

/// A client key pair, made in-process (no ssh-keygen).
pub struct ClientKey {
    _dir: TempDir,
    pub path: PathBuf,
    pub public: PublicKey,
}

impl ClientKey {
    /// A fresh ed25519 key, encrypted with `passphrase` unless it is empty.
    pub fn ed25519(passphrase: &str) -> ClientKey {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_test");
        let public = keys::write_ed25519(&path, "ferry-client", passphrase);
        ClientKey {
            _dir: dir,
            path,
            public,
        }
    }

    /// An RSA key in the legacy PEM (PKCS#1) form.
    pub fn rsa_pem() -> ClientKey {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_test");
        let public = keys::write_rsa_pem(&path);
        ClientKey {
            _dir: dir,
            path,
            public,
        }
    }

    pub fn public_line(&self) -> String {
        std::fs::read_to_string(self.path.with_extension("pub"))
            .unwrap()
            .trim()
            .to_string()
    }
}

pub use crate::support::keys::Agent;

/// Random bytes.
pub fn random_bytes(len: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut data = vec![0u8; len];
    rand::rng().fill_bytes(&mut data);
    data
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(data))
}

/// Twin tests: `$check(&Target)` against the in-process server (default config) and
/// against a real sshd (default options).
macro_rules! twins {
    ($check:path => $in_process:ident, $real:ident) => {
        #[tokio::test]
        async fn $in_process() {
            let target = $crate::sftp::harness::Target::in_process(Default::default()).await;
            $check(&target).await;
        }

        #[tokio::test]
        async fn $real() {
            if let Some(target) = $crate::sftp::harness::Target::real(Default::default()).await {
                $check(&target).await;
            }
        }
    };
}
pub(crate) use twins;
