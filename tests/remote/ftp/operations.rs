//! Sessions and file-system operations against the in-process server: login, round trips,
//! resume, MLSD listings, stat, directory changes, and the errors of connecting.

use ferry::profile::Protocol;
use ferry::remote::ftp;
use ferry::remote::{EntryKind, ErrorKind, Remote};

use super::{
    MIB, directory_operations, download, expect_err, login, options, password, profile,
    random_bytes, round_trip, server_profile, sha256, upload,
};
use crate::support::ftp_server::{FtpServer, FtpServerConfig};

#[tokio::test(flavor = "multi_thread")]
async fn logs_in_and_describes_the_session() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let remote = login(&server).await;
    let info = remote.session_info();
    assert_eq!(info.banner.as_deref(), Some("ferry test FTP server"));
    assert_eq!(info.security.as_deref(), Some("unencrypted"));
    assert_eq!(info.auth_method, "password");
    assert_eq!(remote.home().await.unwrap(), "/");
    let caps = remote.capabilities();
    assert!(caps.resume && !caps.atomic_rename && !caps.sha256 && !caps.set_mtime);
    remote.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_an_auth_error() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let result = ftp::connect(&server_profile(&server), &password("wrong"), &options()).await;
    let err = expect_err(result, ErrorKind::Auth);
    assert!(err.to_string().contains("user `ferry`"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_ftp_round_trips_a_random_file() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let remote = login(&server).await;
    remote.mkdir("round").await.unwrap();
    round_trip(&remote, server.root(), 5 * MIB + 123).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn resumes_writes_and_reads_at_an_offset() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let remote = login(&server).await;
    let original = random_bytes(3 * MIB + 5);
    let cut = MIB + 17;
    upload(&remote, "part.bin", 0, &original[..cut])
        .await
        .unwrap();
    upload(&remote, "part.bin", cut as u64, &original[cut..])
        .await
        .unwrap();
    assert_eq!(
        sha256(&std::fs::read(server.root().join("part.bin")).unwrap()),
        sha256(&original)
    );
    let tail = download(&remote, "part.bin", cut as u64).await.unwrap();
    assert_eq!(sha256(&tail), sha256(&original[cut..]));
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_with_mlsd_and_stats_files_and_directories() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    std::fs::create_dir(server.root().join("sub")).unwrap();
    std::fs::write(server.root().join("a file.txt"), b"hello").unwrap();
    let remote = login(&server).await;
    let (entries, refused) = remote.list("/").await.unwrap();
    assert!(refused.is_empty());
    let file = entries.iter().find(|e| e.name == "a file.txt").unwrap();
    assert_eq!((file.kind, file.size), (EntryKind::File, 5));
    let mtime = std::fs::metadata(server.root().join("a file.txt"))
        .unwrap()
        .modified()
        .unwrap();
    let mtime = mtime
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(file.mtime, Some(mtime));
    assert_eq!(
        entries.iter().find(|e| e.name == "sub").unwrap().kind,
        EntryKind::Dir
    );
    let stat = remote.stat("/a file.txt").await.unwrap();
    assert_eq!(
        (stat.name.as_str(), stat.kind, stat.size),
        ("a file.txt", EntryKind::File, 5)
    );
    assert_eq!(remote.stat("sub").await.unwrap().kind, EntryKind::Dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_renames_and_removes() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let remote = login(&server).await;
    directory_operations(&remote).await;
    assert!(server.root().join("a/b/c").is_dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_port_is_refused_and_an_unknown_host_is_dns() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let creds = password("x");
    let refused = ftp::connect(&profile(Protocol::Ftp, port, "u"), &creds, &options()).await;
    expect_err(refused, ErrorKind::Refused);
    let mut unknown = profile(Protocol::Ftp, 21, "u");
    unknown.host = "nonexistent.invalid".into();
    expect_err(
        ftp::connect(&unknown, &creds, &options()).await,
        ErrorKind::Dns,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unsupported_extras_say_so() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    std::fs::write(server.root().join("f"), b"x").unwrap();
    let remote = login(&server).await;
    assert_eq!(remote.sha256("f").await.unwrap(), None);
    assert_eq!(remote.free_space("/").await.unwrap(), None);
    expect_err(
        remote.set_mtime("f", 1_000_000_000).await,
        ErrorKind::Unsupported,
    );
    expect_err(remote.stat("bad\r\nDELE f").await, ErrorKind::Unsupported);
    assert!(server.root().join("f").exists());
}
