//! Copies between two servers, streamed through ferry: trees between two SFTP servers, a file
//! from SFTP to FTP, and a relay that survives a dropped connection, each verified.

use std::time::Duration;

use ferry::engine::api::Request;
use ferry::profile::Protocol;
use ferry::transfer::copy::Verification;
use ferry::transfer::model::{Direction, TransferRequest};

use crate::support::engine::{
    EngineFixture, enqueue, history, random_file, request, sha256_file, wait_batches,
};
use crate::support::ftp_server::{FtpServer, FtpServerConfig};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

const MIB: usize = 1 << 20;

fn relay(from: &str, to: &str, sources: &[&str], target: &str) -> TransferRequest {
    TransferRequest {
        peer: Some(to.into()),
        ..request(Direction::Relay, from, sources, target, true)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tree_moves_between_two_sftp_servers_verified() {
    let a = SftpServer::start(SftpServerConfig::default()).await;
    let b = SftpServer::start(SftpServerConfig::default()).await;
    std::fs::create_dir_all(a.root().join("site/img")).expect("mkdir");
    random_file(&a.root().join("site/big.bin"), 12 * MIB, 1);
    std::fs::write(a.root().join("site/index.html"), b"<h1>hi</h1>").expect("write");
    std::fs::write(a.root().join("site/img/logo.png"), b"png").expect("write");
    let fx = EngineFixture::with_sftp(a.port(), |_| {});
    fx.add_profile(
        "b",
        Protocol::Sftp,
        b.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
    );
    std::fs::create_dir(b.root().join("copy")).expect("mkdir");
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let batch = enqueue(&client, relay("srv", "b", &["/site"], "/copy")).await;
    let (summaries, _) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(
        (summaries[0].done, summaries[0].failed),
        (5, 0),
        "{:?}",
        summaries[0]
    );
    for rel in ["big.bin", "index.html", "img/logo.png"] {
        assert_eq!(
            sha256_file(&b.root().join("copy/site").join(rel)),
            sha256_file(&a.root().join("site").join(rel)),
            "{rel}"
        );
    }
    let records = history(&client, 10, false).await;
    let big = records
        .iter()
        .find(|t| t.remote_path.ends_with("big.bin"))
        .expect("big.bin");
    assert_eq!(big.peer.as_deref(), Some("b"));
    assert_eq!(
        big.verification,
        Some(Verification::Sha256(sha256_file(
            &a.root().join("site/big.bin")
        )))
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_moves_from_sftp_to_ftp() {
    let a = SftpServer::start(SftpServerConfig::default()).await;
    let f = FtpServer::start(FtpServerConfig::default()).await;
    random_file(&a.root().join("data.bin"), 6 * MIB, 2);
    let fx = EngineFixture::with_sftp(a.port(), |_| {});
    fx.add_profile("ftp", Protocol::Ftp, f.port(), f.user(), f.password());
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let batch = enqueue(&client, relay("srv", "ftp", &["/data.bin"], "/")).await;
    let (summaries, _) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(summaries[0].done, 1, "{:?}", summaries[0]);
    assert_eq!(
        sha256_file(&f.root().join("data.bin")),
        sha256_file(&a.root().join("data.bin"))
    );
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_resumes_after_the_destination_drops_the_connection() {
    let a = SftpServer::start(SftpServerConfig::default()).await;
    let b = SftpServer::start(SftpServerConfig::default()).await;
    let size = 24 * MIB;
    random_file(&a.root().join("big.bin"), size, 3);
    let fx = EngineFixture::with_sftp(a.port(), |_| {});
    fx.add_profile(
        "b",
        Protocol::Sftp,
        b.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
    );
    // The first connection to b carries the planning's mkdir checks and the copy's start.
    b.queue_drops([8 * MIB as u64]);
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let batch = enqueue(&client, relay("srv", "b", &["/big.bin"], "/")).await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(summaries[0].done, 1, "{:?}", summaries[0]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ferry::engine::api::Event::Retrying { .. })),
        "the drop was retried"
    );
    assert_eq!(
        sha256_file(&b.root().join("big.bin")),
        sha256_file(&a.root().join("big.bin"))
    );
    assert!(
        b.bytes_received() < (size as u64) * 3 / 2,
        "resumed, not restarted: {}",
        b.bytes_received()
    );
    let _ = client.request(Request::Queue).await;
    client.shutdown().await;
}
