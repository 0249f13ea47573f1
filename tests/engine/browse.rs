//! Browse operations through the engine and its pools: open, list (streamed in chunks), stat,
//! mkdir, rename, remove a tree, peek and test, on the local disk, the in-process SFTP and FTP
//! servers and, with FERRY_REAL_SERVERS=1, sshd and vsftpd. Errors keep their kind.

use std::path::Path;

use ferry::engine::EngineClient;
use ferry::engine::api::{Place, Request, Response};
use ferry::profile::Protocol;
use ferry::remote::{EntryKind, ErrorKind};

use crate::support::engine::{EngineFixture, call, list};
use crate::support::ftp_server::{FtpServer, FtpServerConfig};
use crate::support::real_servers::{
    RealSshd, RealVsftpd, SshdOptions, VsftpdOptions, skip_without_real_servers, test_user,
};
use crate::support::sftp_server::{SftpServer, SftpServerConfig};

/// Walks every browse operation on `place`, whose directory `base` (as the server names it) is
/// `disk` on this machine.
async fn browse_everything(client: &EngineClient, place: Place, base: &str, disk: &Path) {
    std::fs::create_dir_all(disk.join("tree/sub")).expect("mkdir");
    std::fs::write(disk.join("tree/sub/deep.txt"), b"deep").expect("write");
    std::fs::write(disk.join("tree/a.txt"), b"hello, engine").expect("write");
    // A real server's account is not the one running the tests: let it change what we made.
    for dir in ["tree", "tree/sub"] {
        let open = std::os::unix::fs::PermissionsExt::from_mode(0o777);
        std::fs::set_permissions(disk.join(dir), open).expect("chmod");
    }
    let at = |rel: &str| format!("{}/{rel}", base.trim_end_matches('/'));

    let opened = call(
        client,
        Request::Open {
            place: place.clone(),
        },
    )
    .await;
    assert!(
        matches!(opened, Response::Opened { ref start, .. } if start.starts_with('/')),
        "{opened:?}"
    );

    let (entries, _) = list(client, place.clone(), &at("tree"))
        .await
        .expect("list");
    let names: Vec<_> = entries.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(
        names,
        vec![("a.txt", EntryKind::File), ("sub", EntryKind::Dir)]
    );
    assert_eq!(entries[0].size, 13);

    match call(
        client,
        Request::Stat {
            place: place.clone(),
            path: at("tree/a.txt"),
        },
    )
    .await
    {
        Response::Entry { entry } => assert_eq!((entry.size, entry.kind), (13, EntryKind::File)),
        other => panic!("{other:?}"),
    }
    match call(
        client,
        Request::Peek {
            place: place.clone(),
            path: at("tree/a.txt"),
            max_bytes: 5,
        },
    )
    .await
    {
        Response::Peeked { size, bytes } => {
            assert_eq!((size, bytes.as_slice()), (13, &b"hello"[..]))
        }
        other => panic!("{other:?}"),
    }

    call(
        client,
        Request::Mkdir {
            place: place.clone(),
            path: at("made/with/parents"),
        },
    )
    .await;
    assert!(disk.join("made/with/parents").is_dir());
    call(
        client,
        Request::Rename {
            place: place.clone(),
            from: at("tree/a.txt"),
            to: at("made/b.txt"),
        },
    )
    .await;
    assert_eq!(
        std::fs::read(disk.join("made/b.txt")).expect("renamed"),
        b"hello, engine"
    );

    let refused = client
        .request(Request::Remove {
            place: place.clone(),
            path: at("tree"),
            recursive: false,
        })
        .await;
    assert!(
        matches!(refused, Response::Error(ref f) if f.kind == ErrorKind::NotEmpty),
        "{refused:?}"
    );
    call(
        client,
        Request::Remove {
            place: place.clone(),
            path: at("tree"),
            recursive: true,
        },
    )
    .await;
    assert!(!disk.join("tree").exists());

    let missing = client
        .request(Request::Stat {
            place: place.clone(),
            path: at("nothing-here"),
        })
        .await;
    assert!(
        matches!(missing, Response::Error(ref f) if f.kind == ErrorKind::NotFound),
        "{missing:?}"
    );
    let missing = list(client, place, &at("nothing-here"))
        .await
        .expect_err("no such directory");
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing:?}");
}

async fn test_report(client: &EngineClient, profile: &str) -> ferry::engine::api::TestReport {
    match call(
        client,
        Request::Test {
            profile: profile.into(),
        },
    )
    .await
    {
        Response::Tested { report } => *report,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn browses_the_local_disk() {
    let fx = EngineFixture::new(|_| {});
    let client = fx.start();
    let disk = fx.local("disk");
    browse_everything(&client, Place::Local, disk.to_str().expect("utf8"), &disk).await;
    client.shutdown().await;
}

#[tokio::test]
async fn browses_the_in_process_sftp_server() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    browse_everything(&client, Place::Profile("srv".into()), "/", server.root()).await;
    let report = test_report(&client, "srv").await;
    assert!(report.ok, "{report:?}");
    assert!(report.host_key.is_some_and(|k| k.contains("SHA256:")));
    assert_eq!(report.auth_method.as_deref(), Some("password"));
    client.shutdown().await;
}

#[tokio::test]
async fn browses_the_in_process_ftp_server() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "ftp",
        Protocol::Ftp,
        server.port(),
        server.user(),
        server.password(),
    );
    let client = fx.start();
    browse_everything(&client, Place::Profile("ftp".into()), "/", server.root()).await;
    assert!(test_report(&client, "ftp").await.ok);
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn browses_sshd() {
    if skip_without_real_servers() {
        return;
    }
    let sshd = tokio::task::spawn_blocking(|| RealSshd::start(SshdOptions::default()))
        .await
        .expect("sshd");
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "real",
        Protocol::Sftp,
        sshd.port(),
        &test_user().name,
        &test_user().password,
    );
    let client = fx.start();
    let base = sshd.scratch_dir().to_str().expect("utf8").to_string();
    browse_everything(
        &client,
        Place::Profile("real".into()),
        &base,
        sshd.scratch_dir(),
    )
    .await;
    let report = test_report(&client, "real").await;
    assert!(
        report.banner.is_some_and(|b| b.contains("OpenSSH")),
        "banner"
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn browses_vsftpd() {
    if skip_without_real_servers() {
        return;
    }
    let vsftpd = tokio::task::spawn_blocking(|| RealVsftpd::start(VsftpdOptions::default()))
        .await
        .expect("vsftpd");
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "real",
        Protocol::Ftp,
        vsftpd.port(),
        &test_user().name,
        &test_user().password,
    );
    let client = fx.start();
    let base = vsftpd.root().to_str().expect("utf8").to_string();
    browse_everything(&client, Place::Profile("real".into()), &base, vsftpd.root()).await;
    assert!(test_report(&client, "real").await.ok);
    client.shutdown().await;
}

#[tokio::test]
async fn a_large_directory_arrives_in_chunks() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let dir = server.root().join("big");
    std::fs::create_dir(&dir).expect("mkdir");
    for i in 0..5000 {
        std::fs::write(dir.join(format!("f{i:05}")), b"").expect("write");
    }
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    let (entries, chunks) = list(&client, Place::Profile("srv".into()), "/big")
        .await
        .expect("list");
    assert_eq!(entries.len(), 5000);
    assert!(
        chunks >= 2,
        "the first rows came before the rest ({chunks} chunk)"
    );
    client.shutdown().await;
}

#[tokio::test]
async fn a_listing_whose_asker_leaves_stops_and_frees_the_connection() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let dir = server.root().join("big");
    std::fs::create_dir(&dir).expect("mkdir");
    for i in 0..5000 {
        std::fs::write(dir.join(format!("f{i:05}")), b"").expect("write");
    }
    let fx = EngineFixture::new(|_| {});
    fx.add_profile_with(
        "ftp",
        Protocol::Ftp,
        server.port(),
        server.user(),
        server.password(),
        |p| {
            p.max_connections = 1;
        },
    );
    let client = fx.start();
    let place = Place::Profile("ftp".into());
    let mut replies = client
        .stream(Request::List {
            place: place.clone(),
            path: "/big".into(),
        })
        .await;
    assert!(matches!(
        replies.recv().await,
        Some(Response::Entries { .. })
    ));
    drop(replies);
    // The profile's only connection is free again: the next request gets through.
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        list(&client, place, "/"),
    );
    let (entries, _) = next.await.expect("the connection was freed").expect("list");
    assert!(entries.iter().any(|e| e.name == "big"));
    client.shutdown().await;
}
