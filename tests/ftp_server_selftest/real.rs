//! OpenSSH sshd and vsftpd from `support::real_servers`, driven by curl, ssh and sftp. Skipped
//! unless FERRY_REAL_SERVERS=1.

use super::{assert_failed, curl, file_eq, random_bytes};
use crate::support::real_servers::{
    RealSshd, RealVsftpd, SshdOptions, VsftpdOptions, skip_without_real_servers,
};
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};

/// Uploads a random file to vsftpd with curl, checks it on disk, downloads it back.
async fn vsftpd_round_trip(server: &RealVsftpd, extra: &[&str]) {
    let user = server.user();
    let local = tempfile::tempdir().unwrap();
    let upload = local.path().join("up.bin");
    std::fs::write(&upload, random_bytes(1024 * 1024)).unwrap();
    let target = format!(
        "ftp://{}:{}@{}/up.bin",
        user.name,
        user.password,
        server.addr()
    );
    let up = [extra, &["-T", upload.to_str().unwrap(), &target]].concat();
    let out = curl(&up).await;
    assert!(
        out.status.success(),
        "upload: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(file_eq(&upload, &server.root().join("up.bin")));
    let download = local.path().join("down.bin");
    let down = [extra, &["-o", download.to_str().unwrap(), &target]].concat();
    let out = curl(&down).await;
    assert!(
        out.status.success(),
        "download: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(file_eq(&upload, &download));
}

#[tokio::test(flavor = "multi_thread")]
async fn vsftpd_accepts_curl_over_plain_ftp() {
    if skip_without_real_servers() {
        return;
    }
    let server = RealVsftpd::start(VsftpdOptions::default());
    vsftpd_round_trip(&server, &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn vsftpd_accepts_curl_over_explicit_ftps() {
    if skip_without_real_servers() {
        return;
    }
    let server = RealVsftpd::start(VsftpdOptions {
        explicit_tls: true,
        require_tls: true,
        // curl (OpenSSL) uploads trip vsftpd 3.0.3's TLS 1.3 bug about half the time.
        tls12_only: true,
        ..Default::default()
    });
    let cacert = server.cert().cert_path().to_str().unwrap().to_string();
    vsftpd_round_trip(&server, &["--ssl-reqd", "--cacert", &cacert]).await;
    // Plain logins are refused when TLS is required.
    let user = server.user();
    let plain = format!("ftp://{}:{}@{}/", user.name, user.password, server.addr());
    assert_failed(&curl(&[&plain]).await);
}

/// Runs `ssh` and `sftp` against one server, trusting exactly its host key.
struct SshClient<'a> {
    server: &'a RealSshd,
    dir: tempfile::TempDir,
    options: Vec<String>,
}

impl<'a> SshClient<'a> {
    fn new(server: &'a RealSshd) -> SshClient<'a> {
        let dir = tempfile::tempdir().unwrap();
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(&known_hosts, server.known_hosts_line() + "\n").unwrap();
        let options = [
            format!("UserKnownHostsFile={}", known_hosts.display()),
            "StrictHostKeyChecking=yes".into(),
            "IdentitiesOnly=yes".into(),
            "ConnectTimeout=10".into(),
        ]
        .into_iter()
        .flat_map(|option| ["-o".to_string(), option])
        .collect();
        SshClient {
            server,
            dir,
            options,
        }
    }

    fn login(&self) -> String {
        format!("{}@127.0.0.1", self.server.user().name)
    }

    /// `program` (ssh or sftp) with the common options, then `args`.
    fn command(&self, program: &str, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(&self.options).args(args).stdin(Stdio::null());
        cmd
    }

    /// Makes `cmd` answer any passphrase or password prompt with `secret`, without a terminal.
    fn answer_prompts(&self, cmd: &mut tokio::process::Command, secret: &str) {
        let askpass = self.dir.path().join("askpass");
        std::fs::write(&askpass, format!("#!/bin/sh\necho '{secret}'\n")).unwrap();
        std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o700)).unwrap();
        cmd.env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0");
    }

    /// Runs `true` over ssh with the given extra options.
    async fn run_true(&self, mut cmd: tokio::process::Command) -> Output {
        let port = self.server.port().to_string();
        cmd.args(["-p", &port, &self.login(), "true"]);
        cmd.output().await.expect("run ssh")
    }
}

#[track_caller]
fn assert_success(what: &str, out: &Output, server: &RealSshd) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sshd_accepts_key_login_sftp_put_and_password_login() {
    if skip_without_real_servers() {
        return;
    }
    let server = RealSshd::start(SshdOptions::default());
    let client = SshClient::new(&server);
    let key = server.client_key().to_str().unwrap();

    let ssh = client.command("ssh", &["-o", "BatchMode=yes", "-i", key]);
    assert_success("ssh with key", &client.run_true(ssh).await, &server);

    let upload = client.dir.path().join("put.bin");
    std::fs::write(&upload, random_bytes(1024 * 1024)).unwrap();
    let remote = server.scratch_dir().join("put.bin");
    let batch = client.dir.path().join("batch");
    let put = format!("put {} {}\n", upload.display(), remote.display());
    std::fs::write(&batch, put).unwrap();
    let port = server.port().to_string();
    let sftp_args = ["-o", "BatchMode=yes", "-i", key, "-P", &port, "-b"];
    let mut sftp = client.command("sftp", &sftp_args);
    let out = sftp.arg(&batch).arg(client.login()).output().await.unwrap();
    assert_success("sftp put", &out, &server);
    assert!(file_eq(&upload, &remote));

    let prefer_password = "PreferredAuthentications=password,keyboard-interactive";
    let args = ["-o", "PubkeyAuthentication=no", "-o", prefer_password];
    let mut ssh = client.command("ssh", &args);
    client.answer_prompts(&mut ssh, &server.user().password);
    assert_success("ssh with password", &client.run_true(ssh).await, &server);

    let log = server.log();
    assert!(log.contains("Accepted publickey for"), "{log}");
    assert!(log.contains("Accepted password for"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sshd_enforces_authentication_methods_and_passphrase_keys() {
    if skip_without_real_servers() {
        return;
    }
    let server = RealSshd::start(SshdOptions {
        auth_methods: Some("publickey".into()),
        key_passphrase: Some("open sesame".into()),
        ..Default::default()
    });
    let client = SshClient::new(&server);
    let (key, passphrase) = server.passphrase_key().unwrap();

    let mut ssh = client.command("ssh", &["-i", key.to_str().unwrap()]);
    client.answer_prompts(&mut ssh, passphrase);
    assert_success(
        "ssh with passphrase key",
        &client.run_true(ssh).await,
        &server,
    );

    // A password alone is not enough when only publickey is allowed.
    let args = ["-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no"];
    let out = client.run_true(client.command("ssh", &args)).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Permission denied (publickey)"), "{stderr}");
}
