//! Proves the in-process SFTP test server against OpenSSH's own `sftp` and `ssh` clients,
//! so suites built on it test ferry, not the server. OpenSSH is an outside tool, so these run
//! with FERRY_REAL_SERVERS=1 (skipped with a note otherwise), and there a missing client fails.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use rand::RngCore;
use russh::keys::PublicKey;
use support::keys;
use support::real_servers::skip_without_real_servers;
use support::sftp_server::{AuthMethod, DEFAULT_PASSWORD, SftpServer, SftpServerConfig, SftpUser};
use tempfile::TempDir;
use tokio::process::Command;

const USER: &str = "tester";
const MIB: usize = 1024 * 1024;

/// A throwaway client key (made in-process), plus a scratch directory.
struct Client {
    dir: TempDir,
    key: PathBuf,
    public: PublicKey,
}

/// The OpenSSH client programs these tests drive.
const OPENSSH: [&str; 2] = ["/usr/bin/sftp", "/usr/bin/ssh"];

impl Client {
    async fn new() -> Option<Client> {
        if skip_without_real_servers() {
            return None;
        }
        for program in OPENSSH {
            assert!(
                Path::new(program).exists(),
                "FERRY_REAL_SERVERS=1 but {program} is missing: install openssh-client"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_ed25519");
        let public = keys::write_ed25519(&key, "selftest", "");
        Some(Client { dir, key, public })
    }

    fn config(&self) -> SftpServerConfig {
        SftpServerConfig {
            users: vec![SftpUser::with_key(USER, self.public.clone())],
            ..SftpServerConfig::default()
        }
    }

    fn local(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn common_args(&self, server: &SftpServer) -> Vec<String> {
        let mut args: Vec<String> = [
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
            "-i",
        ]
        .map(String::from)
        .into();
        args.push(self.key.display().to_string());
        args.extend(["-o".into(), format!("Port={}", server.port())]);
        args
    }

    /// Runs `sftp -b` with `batch` as the batch file.
    async fn sftp(&self, server: &SftpServer, batch: &str) -> Output {
        let batch_file = self.local("batch");
        std::fs::write(&batch_file, batch).unwrap();
        Command::new("/usr/bin/sftp")
            .args(["-o", "BatchMode=yes", "-b"])
            .arg(&batch_file)
            .args(self.common_args(server))
            .arg(format!("{USER}@127.0.0.1"))
            .output()
            .await
            .unwrap()
    }

    /// Runs `ssh ... command`; `extra` options come first, so they win (ssh keeps the
    /// first value it sees for an option).
    async fn ssh(&self, server: &SftpServer, extra: &[&str], command: &str) -> Output {
        Command::new("/usr/bin/ssh")
            .args(extra)
            .args(["-o", "BatchMode=yes"])
            .args(self.common_args(server))
            .arg(format!("{USER}@127.0.0.1"))
            .arg(command)
            .output()
            .await
            .unwrap()
    }
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut data = vec![0; len];
    rand::rng().fill_bytes(&mut data);
    data
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "client failed: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn openssh_sftp_puts_gets_lists_renames_and_removes() {
    let Some(client) = Client::new().await else {
        return;
    };
    let server = SftpServer::start(client.config()).await;
    let data = random_bytes(5 * MIB);
    let src = client.local("src.bin");
    let back = client.local("back.bin");
    std::fs::write(&src, &data).unwrap();

    let batch = format!(
        "put {} /upload.bin\nget /upload.bin {}\nmkdir /dir\nrename /upload.bin /dir/moved.bin\n\
         ls -l /dir\nsymlink /dir/moved.bin /link.bin\nls -l /\n",
        src.display(),
        back.display()
    );
    let output = client.sftp(&server, &batch).await;
    assert_ok(&output);
    assert_eq!(
        std::fs::read(&back).unwrap(),
        data,
        "downloaded bytes differ"
    );
    let moved = server.root().join("dir/moved.bin");
    assert_eq!(
        std::fs::read(&moved).unwrap(),
        data,
        "uploaded bytes differ"
    );
    let listing = text(&output.stdout);
    let line = listing.lines().find(|l| l.ends_with(" moved.bin")).unwrap();
    assert!(line.starts_with("-rw"), "ls -l line: {line}");
    assert!(line.contains(&(5 * MIB).to_string()), "ls -l line: {line}");
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with('d') && l.ends_with(" dir"))
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with('l') && l.ends_with(" link.bin"))
    );
    let link_target = std::fs::read_link(server.root().join("link.bin")).unwrap();
    assert!(link_target.starts_with(server.root().canonicalize().unwrap()));
    assert!(server.bytes_received() >= data.len() as u64);
    assert!(server.bytes_sent() >= data.len() as u64);

    let output = client
        .sftp(
            &server,
            "rm /dir/moved.bin\nrm /link.bin\nrmdir /dir\n-rmdir /nope\n",
        )
        .await;
    assert_ok(&output);
    assert!(!server.root().join("dir").exists());
    assert!(text(&output.stderr).contains("No such file"));
    assert_eq!(server.connections(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_is_cut_after_byte_budget_and_next_one_is_fresh() {
    let Some(client) = Client::new().await else {
        return;
    };
    let server = SftpServer::start(SftpServerConfig {
        drop_after_bytes: Some(MIB as u64),
        ..client.config()
    })
    .await;
    let src = client.local("src.bin");
    std::fs::write(&src, random_bytes(3 * MIB)).unwrap();
    let put = format!("put {} /big.bin\n", src.display());

    let output = client.sftp(&server, &put).await;
    assert!(!output.status.success(), "upload should have been cut");
    let kept = std::fs::metadata(server.root().join("big.bin"))
        .unwrap()
        .len();
    assert!(kept <= MIB as u64, "server kept {kept} bytes");

    server.set_drop_after_bytes(None);
    server.queue_drops([1000]);
    assert!(!client.sftp(&server, &put).await.status.success());
    assert_ok(&client.sftp(&server, &put).await);
    assert_eq!(server.connections(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_prefix_fails_every_operation_with_permission_denied() {
    let Some(client) = Client::new().await else {
        return;
    };
    let server = SftpServer::start(SftpServerConfig {
        deny: vec!["/secret".into()],
        ..client.config()
    })
    .await;
    std::fs::create_dir(server.root().join("secret")).unwrap();
    std::fs::write(server.root().join("secret/x.txt"), b"x").unwrap();
    std::fs::write(server.root().join("secrets.txt"), b"not denied").unwrap();
    let local = client.local("x.txt");

    let batch = format!(
        "-get /secret/x.txt {0}\n-put {1} /secret/new.txt\n-ls /secret\n-rm /secret/x.txt\n\
         get /secrets.txt {0}\n",
        local.display(),
        client.local("batch").display()
    );
    let output = client.sftp(&server, &batch).await;
    assert_ok(&output);
    // OpenSSH's sftp reports a failed stat during its glob as "not found".
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 4, "{stderr}");
    assert_eq!(stderr.matches("Permission denied").count(), 2, "{stderr}");
    assert_eq!(std::fs::read(&local).unwrap(), b"not denied");
    assert!(server.root().join("secret/x.txt").exists());
    assert!(!server.root().join("secret/new.txt").exists());

    let hash = client
        .ssh(&server, &[], "sha256sum /secret/../secret/x.txt")
        .await;
    assert_eq!(hash.status.code(), Some(1));
    assert!(text(&hash.stderr).contains("Permission denied"));
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_sha256sum_matches_coreutils_and_known_hosts_line_verifies() {
    let Some(client) = Client::new().await else {
        return;
    };
    let server = SftpServer::start(client.config()).await;
    std::fs::write(server.root().join("data.bin"), random_bytes(3 * MIB + 7)).unwrap();
    let known_hosts = client.local("known_hosts");
    std::fs::write(&known_hosts, format!("{}\n", server.known_hosts_line())).unwrap();
    let strict = [
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        &format!("UserKnownHostsFile={}", known_hosts.display()),
    ];

    let output = client.ssh(&server, &strict, "sha256sum /data.bin").await;
    assert_ok(&output);
    let real = std::process::Command::new("sha256sum")
        .arg(server.root().join("data.bin"))
        .output()
        .unwrap();
    let real_hex = text(&real.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(text(&output.stdout), format!("{real_hex}  /data.bin\n"));

    let missing = client.ssh(&server, &[], "sha256sum /missing.bin").await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("/missing.bin: No such file or directory"));
    let other = client.ssh(&server, &[], "md5sum /data.bin").await;
    assert_eq!(other.status.code(), Some(127));
}

#[tokio::test(flavor = "multi_thread")]
async fn password_and_keyboard_interactive_follow_offered_methods() {
    let Some(client) = Client::new().await else {
        return;
    };
    let askpass = client.local("askpass.sh");
    std::fs::write(&askpass, format!("#!/bin/sh\necho '{DEFAULT_PASSWORD}'\n")).unwrap();
    let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&askpass, executable).unwrap();
    let config = SftpServerConfig {
        users: vec![SftpUser::with_password(USER, DEFAULT_PASSWORD).and_key(client.public.clone())],
        ..SftpServerConfig::default()
    };
    let server = SftpServer::start(config).await;
    let login = |method: &'static str, askpass: PathBuf| {
        let server = &server;
        let client = &client;
        async move {
            let mut cmd = Command::new("/usr/bin/ssh");
            cmd.args(client.common_args(server))
                .args(["-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1"])
                .arg("-o")
                .arg(format!("PreferredAuthentications={method}"))
                .env("SSH_ASKPASS", askpass)
                .env("SSH_ASKPASS_REQUIRE", "force")
                .arg(format!("{USER}@127.0.0.1"))
                .arg("sha256sum /nothing")
                .stdin(std::process::Stdio::null());
            cmd.output().await.unwrap()
        }
    };
    for method in ["password", "keyboard-interactive"] {
        let output = login(method, askpass.clone()).await;
        assert_eq!(
            output.status.code(),
            Some(1),
            "{method}: {}",
            text(&output.stderr)
        );
        let wrong = login(method, PathBuf::from("/bin/false")).await;
        assert_eq!(
            wrong.status.code(),
            Some(255),
            "{method} with a wrong password"
        );
    }

    let pubkey_only = SftpServer::start(SftpServerConfig {
        methods: vec![AuthMethod::PublicKey],
        users: vec![SftpUser::with_password(USER, DEFAULT_PASSWORD)],
        ..SftpServerConfig::default()
    })
    .await;
    let output = client.ssh(&pubkey_only, &[], "true").await;
    assert!(text(&output.stderr).contains("Permission denied (publickey)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_on_same_port_keeps_or_changes_host_key() {
    let Some(client) = Client::new().await else {
        return;
    };
    let first = SftpServer::start(client.config()).await;
    let (port, key) = (first.port(), first.host_key().clone());
    let known_hosts = client.local("known_hosts");
    std::fs::write(&known_hosts, format!("{}\n", first.known_hosts_line())).unwrap();
    let strict = format!("UserKnownHostsFile={}", known_hosts.display());
    let strict = ["-o", "StrictHostKeyChecking=yes", "-o", strict.as_str()];
    first.shutdown().await;

    let same_key = SftpServer::start(SftpServerConfig {
        port: Some(port),
        host_key: Some(key),
        ..client.config()
    })
    .await;
    std::fs::write(same_key.root().join("f"), b"x").unwrap();
    assert_ok(&client.ssh(&same_key, &strict, "sha256sum /f").await);
    same_key.shutdown().await;

    let new_key = SftpServer::start(SftpServerConfig {
        port: Some(port),
        ..client.config()
    })
    .await;
    let output = client.ssh(&new_key, &strict, "true").await;
    assert_eq!(output.status.code(), Some(255));
    assert!(text(&output.stderr).contains("HOST IDENTIFICATION HAS CHANGED"));
}
