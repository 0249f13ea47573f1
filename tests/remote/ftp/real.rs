//! The same behaviour against vsftpd (FERRY_REAL_SERVERS=1): PAM login, LIST (vsftpd has no
//! MLSD), explicit FTPS with OpenSSL and `require_ssl_reuse`.

use ferry::profile::Protocol;
use ferry::remote::ftp::{self, FtpRemote};
use ferry::remote::{EntryKind, ErrorKind, Remote};

use super::{
    MIB, directory_operations, download, expect_err, options, password, profile, random_bytes,
    round_trip, sha256, upload,
};
use crate::support::real_servers::{RealVsftpd, VsftpdOptions, skip_without_real_servers};

async fn vsftpd_login(server: &RealVsftpd, protocol: Protocol) -> FtpRemote {
    let user = server.user();
    let mut profile = profile(protocol, server.port(), &user.name);
    if protocol == Protocol::Ftps {
        profile.cert_pin = Some(server.cert_sha256().to_string());
    }
    match ftp::connect(&profile, &password(&user.password), &options()).await {
        Ok(remote) => remote,
        Err(err) => panic!("vsftpd login failed: {err}\n{}", server.log()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn vsftpd_plain_login_round_trip_list_and_errors() {
    if skip_without_real_servers() {
        return;
    }
    let server = tokio::task::spawn_blocking(|| RealVsftpd::start(VsftpdOptions::default()))
        .await
        .unwrap();
    let user = server.user();
    let wrong = profile(Protocol::Ftp, server.port(), &user.name);
    let err = ftp::connect(&wrong, &password("not-the-password"), &options()).await;
    expect_err(err, ErrorKind::Auth);

    let remote = vsftpd_login(&server, Protocol::Ftp).await;
    assert!(remote.session_info().banner.is_some());
    remote.mkdir("round").await.unwrap();
    round_trip(&remote, server.root(), 5 * MIB + 3).await;

    // LIST (vsftpd has no MLSD): sizes, kinds, dates.
    let (entries, _) = remote.list("round").await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].name.as_str(), entries[0].kind),
        ("trip.bin", EntryKind::File)
    );
    assert_eq!(entries[0].size, (5 * MIB + 3) as u64);
    assert!(entries[0].mtime.is_some());
    let (top, _) = remote.list("").await.unwrap();
    assert_eq!(
        top.iter().find(|e| e.name == "round").unwrap().kind,
        EntryKind::Dir
    );
    assert_eq!(remote.stat("round").await.unwrap().kind, EntryKind::Dir);
    assert!(remote.stat("round/trip.bin").await.unwrap().mtime.is_some());

    let original = random_bytes(2 * MIB);
    upload(&remote, "resume.bin", 0, &original[..MIB / 2])
        .await
        .unwrap();
    upload(
        &remote,
        "resume.bin",
        (MIB / 2) as u64,
        &original[MIB / 2..],
    )
    .await
    .unwrap();
    let tail = download(&remote, "resume.bin", MIB as u64).await.unwrap();
    assert_eq!(sha256(&tail), sha256(&original[MIB..]));

    directory_operations(&remote).await;
    expect_err(remote.stat("nope").await, ErrorKind::NotFound);
    expect_err(remote.read_dir("nope").await, ErrorKind::NotFound);
    expect_err(download(&remote, "nope", 0).await, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread")]
async fn vsftpd_explicit_ftps_pinned_round_trip_and_refusal() {
    if skip_without_real_servers() {
        return;
    }
    let server = tokio::task::spawn_blocking(|| {
        RealVsftpd::start(VsftpdOptions {
            explicit_tls: true,
            require_tls: true,
            ..Default::default()
        })
    })
    .await
    .unwrap();
    let remote = vsftpd_login(&server, Protocol::Ftps).await;
    remote.mkdir("round").await.unwrap();
    round_trip(&remote, server.root(), 5 * MIB + 11).await;

    let user = server.user();
    let unpinned = profile(Protocol::Ftps, server.port(), &user.name);
    let err = ftp::connect(&unpinned, &password(&user.password), &options()).await;
    let err = expect_err(err, ErrorKind::HostKey).to_string();
    assert!(err.contains(&server.cert().sha256_colons()), "{err}");
    let cert = ftp::fetch_certificate(&unpinned, &options()).await.unwrap();
    assert_eq!(cert.sha256_hex, server.cert_sha256());
}
