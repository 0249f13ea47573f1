//! Permission denied, no space, a malformed reply and a wrong password fail at once (no retries),
//! with a message naming the profile, address and path, and nothing under the final name.

use std::time::Duration;

use ferry::engine::api::{Event, Request};
use ferry::profile::Protocol;
use ferry::remote::ErrorKind;
use ferry::transfer::model::{Direction, Transfer, TransferState};

use crate::support::engine::{EngineFixture, enqueue, history, random_file, request, wait_batches};
use crate::support::sftp_server::{DEFAULT_USER, SftpServer, SftpServerConfig};

async fn failed_record(
    fx: &EngineFixture,
    profile: &str,
    target: &str,
    size: usize,
) -> (Transfer, Vec<Event>) {
    let file = fx.local("src").join("payload.bin");
    random_file(&file, size, 3);
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let batch = enqueue(
        &client,
        request(
            Direction::Upload,
            profile,
            &[file.to_str().expect("utf8")],
            target,
            false,
        ),
    )
    .await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(summaries[0].failed, 1, "{summaries:?}");
    let failed = history(&client, 10, true).await;
    client.request(Request::Shutdown).await;
    (failed.into_iter().next().expect("failed transfer"), events)
}

fn no_retries(events: &[Event]) {
    assert!(
        !events.iter().any(|e| matches!(e, Event::Retrying { .. })),
        "no retries: {events:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn permission_denied_fails_fast() {
    let server = SftpServer::start(SftpServerConfig {
        deny: vec!["/locked".into()],
        ..SftpServerConfig::default()
    })
    .await;
    std::fs::create_dir(server.root().join("locked")).expect("mkdir");
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let (record, events) = failed_record(&fx, "srv", "/locked", 1 << 20).await;
    no_retries(&events);
    assert_eq!(record.state, TransferState::Failed);
    assert_eq!(record.attempts, 1);
    let error = record.error.expect("error");
    assert_eq!(error.kind, ErrorKind::Permission);
    let message = error.to_string();
    assert!(
        message.contains(&format!("srv (127.0.0.1:{})", server.port())),
        "{message}"
    );
    assert!(message.contains("/locked"), "{message}");
    assert!(!server.root().join("locked/payload.bin").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_replies_fail_fast() {
    // The server answers every request under /garbled with "bad message": a protocol error
    // that the same request meets on every attempt, so retrying only wastes time.
    let server = SftpServer::start(SftpServerConfig {
        bad_message: vec!["/garbled".into()],
        ..SftpServerConfig::default()
    })
    .await;
    std::fs::create_dir(server.root().join("garbled")).expect("mkdir");
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let (record, events) = failed_record(&fx, "srv", "/garbled", 1 << 20).await;
    no_retries(&events);
    assert!(record.attempts <= 1, "attempts: {}", record.attempts);
    let error = record.error.expect("error");
    assert_eq!(error.kind, ErrorKind::Protocol, "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_space_fails_fast_and_leaves_no_final_file() {
    let server = SftpServer::start(SftpServerConfig {
        no_space_after_bytes: Some(1 << 20),
        ..SftpServerConfig::default()
    })
    .await;
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let (record, events) = failed_record(&fx, "srv", "/", 4 << 20).await;
    no_retries(&events);
    assert_eq!(record.attempts, 1);
    let error = record.error.expect("error");
    assert_eq!(error.kind, ErrorKind::NoSpace, "{error}");
    assert!(error.to_string().contains("payload.bin"), "{error}");
    assert!(!server.root().join("payload.bin").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_fails_fast_without_leaking_it() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "srv",
        Protocol::Sftp,
        server.port(),
        DEFAULT_USER,
        "Wrong-Password-123",
    );
    let (record, events) = failed_record(&fx, "srv", "/", 1 << 10).await;
    no_retries(&events);
    let error = record.error.expect("error");
    assert_eq!(error.kind, ErrorKind::Auth);
    let message = error.to_string();
    assert!(message.contains("authentication failed"), "{message}");
    assert!(!message.contains("Wrong-Password-123"), "{message}");
    assert!(!server.root().join("payload.bin").exists());
}
