//! Injected faults from the in-process server, classified with the path: missing, denied, a
//! full disk, a dropped connection, hostile names.

use ferry::remote::{ErrorKind, Remote, names};

use super::{MIB, download, expect_err, login, random_bytes, upload};
use crate::support::ftp_server::{DropMode, FtpServer, FtpServerConfig, NoSpaceReply};

#[tokio::test(flavor = "multi_thread")]
async fn missing_denied_and_full_are_classified_with_the_path() {
    let server = FtpServer::start(FtpServerConfig {
        deny: vec!["/locked".into()],
        no_space_after_bytes: Some(MIB as u64),
        ..Default::default()
    })
    .await;
    std::fs::create_dir(server.root().join("locked")).unwrap();
    std::fs::write(server.root().join("locked/secret"), b"x").unwrap();
    let remote = login(&server).await;

    let err = expect_err(remote.stat("/nope.txt").await, ErrorKind::NotFound);
    assert_eq!(err.path.as_deref(), Some("/nope.txt"));
    let err = expect_err(download(&remote, "/nope.txt", 0).await, ErrorKind::NotFound);
    assert!(err.to_string().contains("/nope.txt"), "{err}");
    expect_err(remote.read_dir("/nope").await, ErrorKind::NotFound);

    expect_err(
        download(&remote, "/locked/secret", 0).await,
        ErrorKind::Permission,
    );
    expect_err(remote.read_dir("/locked").await, ErrorKind::Permission);
    let err = expect_err(
        upload(&remote, "/locked/up", 0, b"data").await,
        ErrorKind::Permission,
    );
    assert_eq!(err.path.as_deref(), Some("/locked/up"));

    let err = expect_err(
        upload(&remote, "/big", 0, &random_bytes(2 * MIB)).await,
        ErrorKind::NoSpace,
    );
    assert_eq!(err.path.as_deref(), Some("/big"));
    // The session carries on after each refusal.
    assert_eq!(remote.stat("/big").await.unwrap().size, MIB as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_space_as_552_is_classified_too() {
    let server = FtpServer::start(FtpServerConfig {
        no_space_after_bytes: Some(1000),
        no_space_reply: NoSpaceReply::Exceeded552,
        ..Default::default()
    })
    .await;
    let remote = login(&server).await;
    expect_err(
        upload(&remote, "f", 0, &random_bytes(MIB)).await,
        ErrorKind::NoSpace,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_dropped_mid_transfer_is_connection_lost() {
    for mode in [DropMode::CloseSession, DropMode::AbortTransfer] {
        let server = FtpServer::start(FtpServerConfig {
            drop_mode: mode,
            ..Default::default()
        })
        .await;
        std::fs::write(server.root().join("src.bin"), random_bytes(4 * MIB)).unwrap();
        let remote = login(&server).await;
        server.queue_drops([MIB as u64, MIB as u64]);
        let down = download(&remote, "src.bin", 0).await;
        expect_err(down, ErrorKind::ConnectionLost);
        let up = upload(&remote, "dst.bin", 0, &random_bytes(4 * MIB)).await;
        expect_err(up, ErrorKind::ConnectionLost);
        assert_eq!(server.drops_injected(), 2);
        // The next operation logs in again where the server hung up.
        let resumed = download(&remote, "src.bin", MIB as u64).await.unwrap();
        assert_eq!(resumed.len(), 3 * MIB, "{mode:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_are_refused_by_list() {
    let server = FtpServer::start(FtpServerConfig {
        hostile_names: true,
        ..Default::default()
    })
    .await;
    let remote = login(&server).await;
    let (entries, refused) = remote.list("/hostile").await.unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert!(names.contains(&"plain.txt"), "{names:?}");
    assert!(names.iter().all(|n| names::is_safe_name(n)), "{names:?}");
    assert!(!refused.is_empty(), "{names:?}");
}
