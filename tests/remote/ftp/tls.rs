//! FTPS trust against the in-process server: explicit and implicit TLS with a pinned
//! certificate, refusal of an unpinned or changed one, and `fetch_certificate`.

use ferry::remote::ftp;
use ferry::remote::{ErrorKind, Remote};

use super::{MIB, expect_err, login, options, password, round_trip, server_profile};
use crate::support::ftp_server::{FtpServer, FtpServerConfig, TlsMode};

#[tokio::test(flavor = "multi_thread")]
async fn explicit_ftps_round_trips_with_a_pinned_certificate() {
    let server = FtpServer::start(FtpServerConfig {
        tls: TlsMode::Explicit,
        require_tls: true,
        ..Default::default()
    })
    .await;
    let remote = login(&server).await;
    let info = remote.session_info();
    let security = info.security.unwrap();
    assert!(security.starts_with("TLS 1."), "{security}");
    assert!(security.contains("certificate pinned"), "{security}");
    assert_eq!(info.certificate.unwrap().1, server.cert_sha256_colons());
    remote.mkdir("round").await.unwrap();
    round_trip(&remote, server.root(), 4 * MIB + 1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn implicit_ftps_round_trips_with_a_pinned_certificate() {
    let server = FtpServer::start(FtpServerConfig {
        tls: TlsMode::Implicit,
        ..Default::default()
    })
    .await;
    let remote = login(&server).await;
    assert!(remote.session_info().security.unwrap().starts_with("TLS"));
    remote.mkdir("round").await.unwrap();
    round_trip(&remote, server.root(), 4 * MIB + 7).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unpinned_self_signed_certificate_is_refused_with_its_fingerprint() {
    for tls in [TlsMode::Explicit, TlsMode::Implicit] {
        let server = FtpServer::start(FtpServerConfig {
            tls,
            ..Default::default()
        })
        .await;
        let mut profile = server_profile(&server);
        profile.cert_pin = None;
        let result = ftp::connect(&profile, &password(server.password()), &options()).await;
        let err = expect_err(result, ErrorKind::HostKey).to_string();
        assert!(err.contains(&server.cert_sha256_colons()), "{err}");
        assert!(err.contains("ferry profile trust-cert ftp-test"), "{err}");
        // A pin for another certificate is no better, and says the certificate changed.
        profile.cert_pin = Some("00".repeat(32));
        let result = ftp::connect(&profile, &password(server.password()), &options()).await;
        let err = expect_err(result, ErrorKind::HostKey).to_string();
        assert!(err.contains("has changed"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_certificate_shows_the_servers_fingerprint() {
    for tls in [TlsMode::Explicit, TlsMode::Implicit] {
        let server = FtpServer::start(FtpServerConfig {
            tls,
            ..Default::default()
        })
        .await;
        let mut profile = server_profile(&server);
        profile.cert_pin = None;
        let cert = ftp::fetch_certificate(&profile, &options()).await.unwrap();
        assert_eq!(cert.sha256_hex, server.cert_sha256());
        assert!(!cert.verified);
        assert!(!cert.subject.is_empty() && !cert.not_after.is_empty());
    }
}
