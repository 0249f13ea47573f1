//! OpenSSH's sshd on a free loopback port, with a fresh host key, an authorized ed25519 client
//! key (optionally a second, passphrase-protected one), and password / keyboard-interactive
//! logins for the test account through PAM.

use super::account::{TestUser, chown, running_as_root, set_mode, test_user};
use super::process::{ServerProcess, free_port, require_binary, run};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

const SSHD: &str = "/usr/sbin/sshd";

#[derive(Debug, Clone, Default)]
pub struct SshdOptions {
    /// `AuthenticationMethods`, e.g. `"publickey"`, `"password"`, `"keyboard-interactive"` or
    /// `"publickey,password"`; `None` accepts any single method.
    pub auth_methods: Option<String>,
    /// Also create (and authorize) a client key protected by this passphrase.
    pub key_passphrase: Option<String>,
    /// Extra `sshd_config` lines.
    pub extra_config: Vec<String>,
}

/// A running sshd; killed on drop, which also removes its scratch directory.
pub struct RealSshd {
    port: u16,
    user: TestUser,
    host_key: String,
    client_key: PathBuf,
    client_public_key: String,
    passphrase_key: Option<(PathBuf, String)>,
    scratch: PathBuf,
    process: ServerProcess,
    _dir: TempDir,
}

impl RealSshd {
    /// Starts sshd and waits for its banner. Blocking (briefly); panics with the log on failure.
    pub fn start(opts: SshdOptions) -> RealSshd {
        require_binary(SSHD, "openssh-server");
        let user = test_user().clone();
        let dir = tempfile::tempdir().expect("create sshd temp dir");
        // sshd reads authorized_keys as the user, so the directory must be traversable.
        set_mode(dir.path(), 0o755);
        let host_key = keygen(
            &dir.path().join("ssh_host_ed25519_key"),
            "",
            "ferry-test-host",
        );
        let client_dir = dir.path().join("client");
        std::fs::create_dir(&client_dir).expect("create client key dir");
        set_mode(&client_dir, 0o700);
        let client_key = client_dir.join("id_ed25519");
        let client_public_key = keygen(&client_key, "", "ferry-test");
        let mut authorized = vec![client_public_key.clone()];
        let passphrase_key = opts.key_passphrase.as_ref().map(|passphrase| {
            let path = client_dir.join("id_ed25519_passphrase");
            authorized.push(keygen(&path, passphrase, "ferry-test-passphrase"));
            (path, passphrase.clone())
        });
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::write(&authorized_keys, authorized.join("\n") + "\n")
            .expect("write authorized_keys");
        set_mode(&authorized_keys, 0o644);

        let port = free_port();
        let config = dir.path().join("sshd_config");
        std::fs::write(&config, sshd_config(dir.path(), port, &user, &opts))
            .expect("write sshd_config");
        if running_as_root() {
            // Debian's sshd refuses to start without its privilege separation directory.
            std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
        }
        run(Command::new(SSHD).arg("-t").arg("-f").arg(&config));

        let mut cmd = Command::new(SSHD);
        cmd.args(["-D", "-e", "-f"]).arg(&config);
        let mut process = ServerProcess::spawn("sshd", cmd, &dir.path().join("sshd.log"));
        process.wait_for_banner(port, "SSH-2.0-");

        let scratch = user
            .home
            .join(format!("ferry-test-{port}-{:08x}", rand::random::<u32>()));
        std::fs::create_dir(&scratch).expect("create scratch dir in the test user's home");
        chown(&scratch, &user);
        RealSshd {
            port,
            user,
            host_key,
            client_key,
            client_public_key,
            passphrase_key,
            scratch,
            process,
            _dir: dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    pub fn user(&self) -> &TestUser {
        &self.user
    }

    /// The login's home directory (where SFTP sessions start).
    pub fn home(&self) -> &Path {
        &self.user.home
    }

    /// A fresh directory in the home, owned by the test user, removed on drop.
    pub fn scratch_dir(&self) -> &Path {
        &self.scratch
    }

    /// The host's public key line, `ssh-ed25519 AAAA… comment`.
    pub fn host_public_key(&self) -> &str {
        &self.host_key
    }

    /// A `known_hosts` line for this server: `[127.0.0.1]:PORT ssh-ed25519 AAAA…`.
    pub fn known_hosts_line(&self) -> String {
        let mut parts = self.host_key.split_whitespace();
        let (kind, key) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        format!("[127.0.0.1]:{} {kind} {key}", self.port)
    }

    /// Private key (OpenSSH format, no passphrase) of an authorized ed25519 client key.
    pub fn client_key(&self) -> &Path {
        &self.client_key
    }

    pub fn client_public_key(&self) -> &str {
        &self.client_public_key
    }

    /// The passphrase-protected authorized key and its passphrase, if requested.
    pub fn passphrase_key(&self) -> Option<(&Path, &str)> {
        self.passphrase_key
            .as_ref()
            .map(|(path, pass)| (path.as_path(), pass.as_str()))
    }

    /// What sshd has logged so far (`-e`: to the log file).
    /// Cuts every open session (see `ServerProcess::kill_sessions`).
    pub fn kill_sessions(&self) -> usize {
        self.process.kill_sessions()
    }

    pub fn log(&self) -> String {
        self.process.log()
    }
}

impl Drop for RealSshd {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Generates an ed25519 key pair at `path` and returns the public key line.
fn keygen(path: &Path, passphrase: &str, comment: &str) -> String {
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f"])
        .arg(path));
    let public =
        std::fs::read_to_string(format!("{}.pub", path.display())).expect("read public key");
    public.trim().to_string()
}

fn sshd_config(dir: &Path, port: u16, user: &TestUser, opts: &SshdOptions) -> String {
    let dir = dir.display();
    let mut lines = vec![
        format!("Port {port}"),
        "ListenAddress 127.0.0.1".into(),
        format!("HostKey {dir}/ssh_host_ed25519_key"),
        format!("PidFile {dir}/sshd.pid"),
        format!("AuthorizedKeysFile {dir}/authorized_keys"),
        "PubkeyAuthentication yes".into(),
        "PasswordAuthentication yes".into(),
        "KbdInteractiveAuthentication yes".into(),
        // PAM checks the password (pam_unix) and runs keyboard-interactive.
        "UsePAM yes".into(),
        "StrictModes no".into(),
        "PermitRootLogin no".into(),
        format!("AllowUsers {}", user.name),
        "Subsystem sftp internal-sftp".into(),
        "PrintMotd no".into(),
        "LogLevel VERBOSE".into(),
    ];
    if let Some(methods) = &opts.auth_methods {
        lines.push(format!("AuthenticationMethods {methods}"));
    }
    lines.extend(opts.extra_config.iter().cloned());
    lines.join("\n") + "\n"
}
