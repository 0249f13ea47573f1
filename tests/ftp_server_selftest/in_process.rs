//! The in-process libunftp server (`support::ftp_server`) driven by curl and a bare control
//! connection.

use super::raw_ftp::RawFtp;
use super::{assert_failed, assert_ok, curl, outside_tools, random_bytes};
use crate::support::ftp_server::{
    DropMode, FtpServer, FtpServerConfig, HOSTILE_NAMES, NoSpaceReply, TlsMode,
};

const FIVE_MIB: usize = 5 * 1024 * 1024;

/// `ftp://user:password@127.0.0.1:port/path` (ftps:// for implicit TLS).
fn url(server: &FtpServer, path: &str) -> String {
    let base = server.url();
    let (scheme, host) = base.split_once("://").unwrap();
    format!(
        "{scheme}://{}:{}@{host}/{path}",
        server.user(),
        server.password()
    )
}

/// Uploads and downloads a 5 MiB random file and checks both copies byte for byte.
async fn round_trip(server: &FtpServer, extra: &[&str]) {
    let local = tempfile::tempdir().unwrap();
    let original = random_bytes(FIVE_MIB);
    let upload = local.path().join("upload.bin");
    std::fs::write(&upload, &original).unwrap();

    let target = url(server, "big.bin");
    let up = [extra, &["-T", upload.to_str().unwrap(), &target]].concat();
    assert_ok(&curl(&up).await);
    assert!(
        std::fs::read(server.root().join("big.bin")).unwrap() == original,
        "uploaded copy differs"
    );

    let download = local.path().join("download.bin");
    let down = [extra, &["-o", download.to_str().unwrap(), &target]].concat();
    assert_ok(&curl(&down).await);
    assert!(
        std::fs::read(&download).unwrap() == original,
        "downloaded copy differs"
    );

    assert_eq!(server.bytes_received(), FIVE_MIB as u64);
    assert_eq!(server.bytes_sent(), FIVE_MIB as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_ftp_round_trips_a_5_mib_file() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig::default()).await;
    round_trip(&server, &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn explicit_ftps_round_trips_a_5_mib_file() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig {
        tls: TlsMode::Explicit,
        ..Default::default()
    })
    .await;
    round_trip(&server, &["--ssl-reqd", "-k"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn implicit_ftps_round_trips_a_5_mib_file() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig {
        tls: TlsMode::Implicit,
        ..Default::default()
    })
    .await;
    round_trip(&server, &["-k"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn implicit_ftps_lists_over_pasv_and_epsv_with_pinned_certificate() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig {
        tls: TlsMode::Implicit,
        ..Default::default()
    })
    .await;
    std::fs::write(server.root().join("hello.txt"), "hello").unwrap();
    let cacert = server.cert().cert_path().to_str().unwrap().to_string();
    for passive in ["--ftp-pasv", "--disable-epsv"] {
        let listing = assert_ok(&curl(&["--cacert", &cacert, passive, &url(&server, "")]).await);
        assert!(
            listing.contains("hello.txt"),
            "listing via {passive}: {listing}"
        );
    }
    // Commands that the forwarder answers itself, and FEAT, which it completes.
    let feat = curl(&[
        "-k",
        "-v",
        "-Q",
        "FEAT",
        &url(&server, "hello.txt"),
        "-o",
        "/dev/null",
    ])
    .await;
    let trace = String::from_utf8_lossy(&feat.stderr);
    assert!(
        trace.contains(" PBSZ") && trace.contains(" PROT") && trace.contains(" MLSD"),
        "{trace}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn explicit_ftps_certificate_verifies_and_matches_its_fingerprint() {
    if !outside_tools(&["curl", "openssl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig {
        tls: TlsMode::Explicit,
        require_tls: true,
        ..Default::default()
    })
    .await;
    std::fs::write(server.root().join("hello.txt"), "hello").unwrap();
    let cert_path = server.cert().cert_path().to_str().unwrap().to_string();
    let text = assert_ok(
        &curl(&[
            "--ssl-reqd",
            "--cacert",
            &cert_path,
            &url(&server, "hello.txt"),
        ])
        .await,
    );
    assert_eq!(text, "hello");

    // Plain FTP is refused when TLS is required.
    assert_failed(&curl(&[&url(&server, "hello.txt")]).await);

    let openssl = std::process::Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            &cert_path,
        ])
        .output()
        .expect("run openssl");
    let printed = String::from_utf8_lossy(&openssl.stdout);
    assert_eq!(
        printed.trim().rsplit('=').next().unwrap(),
        server.cert_sha256_colons()
    );
    assert_eq!(
        server.cert_sha256(),
        server.cert_sha256_colons().replace(':', "").to_lowercase()
    );
    assert_eq!(
        crate::support::ftp_server::sha256_hex(server.cert_der()),
        server.cert_sha256()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_with_list_nlst_and_mlsd() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig::default()).await;
    std::fs::write(server.root().join("hello.txt"), "hello").unwrap();
    std::fs::create_dir(server.root().join("sub")).unwrap();
    std::fs::write(server.root().join("sub/deep.txt"), "deep").unwrap();

    let list = assert_ok(&curl(&[&url(&server, "")]).await);
    assert!(
        list.lines()
            .any(|l| l.starts_with('-') && l.ends_with("hello.txt")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with('d') && l.ends_with("sub")),
        "{list}"
    );
    let nlst = assert_ok(&curl(&["-l", &url(&server, "sub/")]).await);
    assert_eq!(nlst.trim(), "deep.txt");
    let mlsd = assert_ok(&curl(&["-X", "MLSD", &url(&server, "")]).await);
    assert!(
        mlsd.lines()
            .any(|l| l.contains("type=file") && l.ends_with(" hello.txt")),
        "{mlsd}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_directory_lists_names_that_are_not_paths() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig {
        hostile_names: true,
        ..Default::default()
    })
    .await;
    let list = assert_ok(&curl(&[&url(&server, "hostile/")]).await);
    let nlst = assert_ok(&curl(&["-l", &url(&server, "hostile/")]).await);
    let names: Vec<&str> = nlst.lines().collect();
    for name in HOSTILE_NAMES.iter().chain(&["plain.txt"]) {
        assert!(names.contains(name), "NLST lacks {name:?}: {names:?}");
        assert!(
            list.lines().any(|l| l.ends_with(&format!(" {name}"))),
            "LIST lacks {name:?}: {list}"
        );
    }
    // MLSD is formatted by libunftp from the last path component: `a/b` shows as `b`.
    let mlsd = assert_ok(&curl(&["-X", "MLSD", &url(&server, "hostile/")]).await);
    assert!(
        mlsd.lines().any(|l| l.ends_with(" ..")) && mlsd.lines().any(|l| l.ends_with(" a\\b")),
        "{mlsd}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_prefix_refuses_download_upload_and_listing() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig {
        deny: vec!["/locked".into()],
        ..Default::default()
    })
    .await;
    std::fs::create_dir(server.root().join("locked")).unwrap();
    std::fs::write(server.root().join("locked/secret.txt"), "secret").unwrap();
    let local = tempfile::tempdir().unwrap();
    let upload = local.path().join("new.txt");
    std::fs::write(&upload, "new").unwrap();

    // nocwd: RETR/STOR name the full path instead of CWD-ing into the denied directory first.
    let nocwd = ["-v", "--ftp-method", "nocwd"];
    let err =
        assert_failed(&curl(&[&nocwd[..], &[&url(&server, "locked/secret.txt")]].concat()).await);
    assert!(err.contains("< 550 Permission denied"), "{err}");
    let new = url(&server, "locked/new.txt");
    let err =
        assert_failed(&curl(&[&nocwd[..], &["-T", upload.to_str().unwrap(), &new]].concat()).await);
    assert!(err.contains("< 550 Permission denied"), "{err}");
    assert!(!server.root().join("locked/new.txt").exists());
    let err = assert_failed(&curl(&["-v", &url(&server, "locked/")]).await);
    assert!(err.contains("< 550 Permission denied"), "{err}");
    // Elsewhere everything works, and the denied directory is still listed.
    assert_ok(&curl(&["-T", upload.to_str().unwrap(), &url(&server, "new.txt")]).await);
    assert!(assert_ok(&curl(&[&url(&server, "")]).await).contains("locked"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rejects_a_wrong_password() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let wrong = format!("ftp://{}:nope@{}/", server.user(), server.addr());
    let err = assert_failed(&curl(&[&wrong]).await);
    assert!(
        err.contains("530") || err.contains("Access denied"),
        "{err}"
    );
}

/// curl options for a server's TLS mode (certificate not checked).
fn tls_args(mode: TlsMode) -> &'static [&'static str] {
    match mode {
        TlsMode::None => &[],
        TlsMode::Explicit => &["--ssl-reqd", "-k"],
        TlsMode::Implicit => &["-k"],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_drops_cut_downloads_at_exact_offsets_and_rest_resumes() {
    if !outside_tools(&["curl"]) {
        return;
    }
    for mode in [TlsMode::None, TlsMode::Explicit, TlsMode::Implicit] {
        let server = FtpServer::start(FtpServerConfig {
            tls: mode,
            ..Default::default()
        })
        .await;
        let original = random_bytes(1024 * 1024);
        std::fs::write(server.root().join("file.bin"), &original).unwrap();
        server.queue_drops([100_000, 300_000]);
        let local = tempfile::tempdir().unwrap();
        let out = local.path().join("file.bin");
        let remote = url(&server, "file.bin");
        let get = [
            tls_args(mode),
            &["-C", "-", "-o", out.to_str().unwrap(), &remote],
        ]
        .concat();

        assert_failed(&curl(&get).await);
        assert_eq!(std::fs::metadata(&out).unwrap().len(), 100_000, "{mode:?}");
        assert_failed(&curl(&get).await);
        assert_eq!(std::fs::metadata(&out).unwrap().len(), 400_000, "{mode:?}");
        assert_ok(&curl(&get).await);
        assert!(std::fs::read(&out).unwrap() == original, "{mode:?}");
        assert_eq!(server.drops_injected(), 2);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn abort_transfer_mode_keeps_the_session_and_close_session_mode_ends_it() {
    for mode in [DropMode::AbortTransfer, DropMode::CloseSession] {
        let server = FtpServer::start(FtpServerConfig {
            drop_mode: mode,
            ..Default::default()
        })
        .await;
        std::fs::write(server.root().join("a.bin"), random_bytes(200_000)).unwrap();
        server.queue_drops([50_000]);
        let mut ftp = RawFtp::login(&server).await;
        assert_eq!(ftp.retr("a.bin").await.len(), 50_000, "{mode:?}");
        match mode {
            DropMode::AbortTransfer => {
                assert!(ftp.reply().await.unwrap().starts_with("426"));
                assert!(ftp.command("NOOP").await.unwrap().starts_with("200"));
                assert_eq!(ftp.retr("a.bin").await.len(), 200_000);
            }
            DropMode::CloseSession => {
                // A 426 may or may not get out first; then the control connection is closed.
                let mut reply = ftp.reply().await;
                if reply.as_deref().is_some_and(|r| r.starts_with("426")) {
                    reply = ftp.reply().await;
                }
                assert_eq!(reply, None, "{mode:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn passive_ports_come_from_the_configured_range() {
    if !outside_tools(&["curl"]) {
        return;
    }
    for mode in [TlsMode::None, TlsMode::Implicit] {
        let server = FtpServer::start(FtpServerConfig {
            tls: mode,
            passive_ports: Some(41_000..=41_099),
            ..Default::default()
        })
        .await;
        let trace = assert_failed(
            &curl(&[tls_args(mode), &["-v", &url(&server, "missing")]].concat()).await,
        );
        let port: u16 = trace
            .split("Extended Passive Mode (|||")
            .nth(1)
            .and_then(|rest| rest.split('|').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no EPSV reply in {trace}"));
        assert!((41_000..=41_099).contains(&port), "{mode:?}: {port}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_sessions_are_closed() {
    use tokio::io::AsyncReadExt;
    let server = FtpServer::start(FtpServerConfig {
        idle_timeout: Some(std::time::Duration::from_secs(1)),
        ..Default::default()
    })
    .await;
    let mut control = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut seen = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        control.read_to_end(&mut seen),
    )
    .await;
    assert!(read.is_ok(), "session still open after 5 s");
    let seen = String::from_utf8_lossy(&seen);
    assert!(
        seen.starts_with("220 ") && seen.contains("Session timed out"),
        "{seen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_upload_keeps_exact_prefix_and_appe_completes_it() {
    if !outside_tools(&["curl"]) {
        return;
    }
    let server = FtpServer::start(FtpServerConfig {
        drop_after_bytes: Some(250_000),
        ..Default::default()
    })
    .await;
    let local = tempfile::tempdir().unwrap();
    let original = random_bytes(600_000);
    let upload = local.path().join("up.bin");
    std::fs::write(&upload, &original).unwrap();
    let upload = upload.to_str().unwrap();
    let stored = server.root().join("up.bin");

    assert_failed(&curl(&["-T", upload, &url(&server, "up.bin")]).await);
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), 250_000);
    assert_failed(&curl(&["-C", "-", "-T", upload, &url(&server, "up.bin")]).await);
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), 500_000);
    server.set_drop_after_bytes(None);
    assert_ok(&curl(&["-C", "-", "-T", upload, &url(&server, "up.bin")]).await);
    assert!(std::fs::read(&stored).unwrap() == original);
}

#[tokio::test(flavor = "multi_thread")]
async fn full_disk_fails_uploads_with_452_or_552() {
    if !outside_tools(&["curl"]) {
        return;
    }
    for (reply, code) in [
        (NoSpaceReply::Insufficient452, "452"),
        (NoSpaceReply::Exceeded552, "552"),
    ] {
        let server = FtpServer::start(FtpServerConfig {
            no_space_after_bytes: Some(200_000),
            no_space_reply: reply,
            ..Default::default()
        })
        .await;
        let local = tempfile::tempdir().unwrap();
        let upload = local.path().join("up.bin");
        std::fs::write(&upload, random_bytes(500_000)).unwrap();
        let out = curl(&[
            "-v",
            "-T",
            upload.to_str().unwrap(),
            &url(&server, "up.bin"),
        ])
        .await;
        let trace = assert_failed(&out);
        assert!(
            trace.contains(&format!("< {code}")),
            "expected {code}: {trace}"
        );
        assert_eq!(
            std::fs::metadata(server.root().join("up.bin"))
                .unwrap()
                .len(),
            200_000
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_closes_the_port() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let addr = server.addr();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    server.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
