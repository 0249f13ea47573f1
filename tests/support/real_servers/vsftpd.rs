//! vsftpd on a free loopback port, logging in the test account through PAM, serving a temp dir
//! owned by that account; plain FTP or explicit FTPS with a throwaway certificate.

use super::super::ftp_server::TestCert;
use super::account::{TestUser, chown, set_mode, test_user};
use super::process::{ServerProcess, free_port, require_binary};
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

const VSFTPD: &str = "/usr/sbin/vsftpd";

#[derive(Debug, Clone)]
pub struct VsftpdOptions {
    /// Offer AUTH TLS (explicit FTPS).
    pub explicit_tls: bool,
    /// With `explicit_tls`: refuse plain logins and plain data connections.
    pub require_tls: bool,
    /// With `explicit_tls`: data connections must resume the control connection's TLS session
    /// (vsftpd's default, `require_ssl_reuse=YES`).
    pub require_ssl_reuse: bool,
    /// With `explicit_tls`: cap vsftpd at TLS 1.2 (through an OpenSSL config file). Debian 12's
    /// vsftpd 3.0.3 fails TLS 1.3 uploads from curl/OpenSSL at random ("426 Failure reading
    /// network stream", about half of them); uploads from suppaftp/rustls were not affected in
    /// 50 tries. Off by default: vsftpd as shipped.
    pub tls12_only: bool,
    /// Passive data ports; `None` picks a random window of 100 ports in 30000..32700.
    pub passive_ports: Option<RangeInclusive<u16>>,
    /// Extra `vsftpd.conf` lines.
    pub extra_config: Vec<String>,
}

impl Default for VsftpdOptions {
    fn default() -> Self {
        VsftpdOptions {
            explicit_tls: false,
            require_tls: false,
            require_ssl_reuse: true,
            tls12_only: false,
            passive_ports: None,
            extra_config: Vec::new(),
        }
    }
}

/// A running vsftpd; killed on drop.
pub struct RealVsftpd {
    port: u16,
    user: TestUser,
    root: PathBuf,
    cert: Option<TestCert>,
    process: ServerProcess,
    dir: TempDir,
}

impl RealVsftpd {
    /// Starts vsftpd and waits for its greeting. Blocking (briefly); panics with the log on
    /// failure.
    pub fn start(opts: VsftpdOptions) -> RealVsftpd {
        require_binary(VSFTPD, "vsftpd");
        let user = test_user().clone();
        let dir = tempfile::tempdir().expect("create vsftpd temp dir");
        // The session runs as the test user, who must be able to reach `root`.
        set_mode(dir.path(), 0o755);
        let root = dir.path().join("root");
        std::fs::create_dir(&root).expect("create FTP root");
        chown(&root, &user);
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).expect("create secure_chroot_dir");
        let cert = opts.explicit_tls.then(|| {
            let tls_dir = dir.path().join("tls");
            std::fs::create_dir(&tls_dir).expect("create tls dir");
            set_mode(&tls_dir, 0o700);
            TestCert::generate(&tls_dir)
        });

        let port = free_port();
        let passive = opts.passive_ports.clone().unwrap_or_else(|| {
            let start = 30_000 + 100 * rand::random_range(0..27u16);
            start..=start + 99
        });
        let config = dir.path().join("vsftpd.conf");
        let text = vsftpd_config(dir.path(), port, &root, &passive, cert.as_ref(), &opts);
        std::fs::write(&config, text).expect("write vsftpd.conf");

        let mut cmd = Command::new(VSFTPD);
        cmd.arg(&config);
        if opts.explicit_tls && opts.tls12_only {
            let openssl_conf = dir.path().join("openssl.cnf");
            std::fs::write(&openssl_conf, OPENSSL_TLS12_ONLY).expect("write openssl.cnf");
            cmd.env("OPENSSL_CONF", openssl_conf);
        }
        let mut process = ServerProcess::spawn("vsftpd", cmd, &dir.path().join("stderr.log"));
        process.wait_for_banner(port, "220");
        RealVsftpd {
            port,
            user,
            root,
            cert,
            process,
            dir,
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

    /// The directory a login starts in (`local_root`), owned by the test user. Files a test puts
    /// here must be readable by that user.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The certificate (explicit TLS only). Panics without TLS.
    pub fn cert(&self) -> &TestCert {
        self.cert.as_ref().expect("vsftpd was started without TLS")
    }

    /// SHA-256 of the certificate, lowercase hex. Panics without TLS.
    pub fn cert_sha256(&self) -> &str {
        self.cert().sha256()
    }

    /// vsftpd's start-up errors (stderr) and its protocol log.
    /// Cuts every open session (see `ServerProcess::kill_sessions`).
    pub fn kill_sessions(&self) -> usize {
        self.process.kill_sessions()
    }

    pub fn log(&self) -> String {
        let protocol =
            std::fs::read_to_string(self.dir.path().join("vsftpd.log")).unwrap_or_default();
        format!("{}{protocol}", self.process.log())
    }
}

/// OpenSSL configuration that caps every TLS context of the process at TLS 1.2.
const OPENSSL_TLS12_ONLY: &str = "\
openssl_conf = ferry_conf
[ferry_conf]
ssl_conf = ferry_ssl
[ferry_ssl]
system_default = ferry_tls
[ferry_tls]
MaxProtocol = TLSv1.2
";

fn yes_no(on: bool) -> &'static str {
    if on { "YES" } else { "NO" }
}

fn vsftpd_config(
    dir: &Path,
    port: u16,
    root: &Path,
    passive: &RangeInclusive<u16>,
    cert: Option<&TestCert>,
    opts: &VsftpdOptions,
) -> String {
    let mut lines = vec![
        "listen=YES".to_string(),
        "listen_ipv6=NO".into(),
        "listen_address=127.0.0.1".into(),
        format!("listen_port={port}"),
        "background=NO".into(),
        "anonymous_enable=NO".into(),
        "local_enable=YES".into(),
        "write_enable=YES".into(),
        "local_umask=022".into(),
        format!("local_root={}", root.display()),
        "chroot_local_user=NO".into(),
        "pam_service_name=vsftpd".into(),
        format!("secure_chroot_dir={}", dir.join("empty").display()),
        "seccomp_sandbox=NO".into(),
        "utf8_filesystem=YES".into(),
        "pasv_enable=YES".into(),
        "pasv_address=127.0.0.1".into(),
        format!("pasv_min_port={}", passive.start()),
        format!("pasv_max_port={}", passive.end()),
        "xferlog_enable=YES".into(),
        "xferlog_std_format=NO".into(),
        "log_ftp_protocol=YES".into(),
        format!("vsftpd_log_file={}", dir.join("vsftpd.log").display()),
    ];
    match cert {
        Some(cert) => lines.extend([
            "ssl_enable=YES".to_string(),
            format!("rsa_cert_file={}", cert.cert_path().display()),
            format!("rsa_private_key_file={}", cert.key_path().display()),
            "allow_anon_ssl=NO".into(),
            format!("force_local_logins_ssl={}", yes_no(opts.require_tls)),
            format!("force_local_data_ssl={}", yes_no(opts.require_tls)),
            format!("require_ssl_reuse={}", yes_no(opts.require_ssl_reuse)),
            // vsftpd's built-in default (DES-CBC3-SHA) is disabled in current OpenSSL.
            "ssl_ciphers=HIGH".into(),
        ]),
        None => lines.push("ssl_enable=NO".into()),
    }
    lines.extend(opts.extra_config.iter().cloned());
    lines.join("\n") + "\n"
}
