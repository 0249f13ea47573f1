//! A flaky link that keeps moving: a relay between ferry and the server cuts the connection
//! every few MiB, eight times in all, during a 256 MiB upload and a 256 MiB download. With the
//! default budget of five attempts both finish intact, because an attempt that carried the file
//! further does not count; each resumes where the last stopped (at most 1.25x the bytes sent).

use std::time::Duration;

use ferry::engine::EngineClient;
use ferry::engine::api::Request;
use ferry::profile::Protocol;
use ferry::transfer::model::{Direction, Transfer, TransferState};
use rand::Rng;

use crate::support::engine::{
    EngineFixture, enqueue, history, random_file, request, sha256_file, wait_batches,
};
use crate::support::relay::Relay;
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

const MIB: u64 = 1 << 20;
const SIZE: u64 = 256 * MIB;
const CUTS: usize = 8;

/// Eight gaps between cuts, each a few MiB, all inside one transfer of `SIZE` bytes.
fn gaps() -> Vec<u64> {
    let mut rng = rand::rng();
    (0..CUTS)
        .map(|_| rng.random_range(4 * MIB..24 * MIB))
        .collect()
}

/// Runs one request to the end; its only file's record from the history.
async fn run(client: &EngineClient, direction: Direction, source: &str, target: &str) -> Transfer {
    let mut watch = client.subscribe(false);
    let batch = enqueue(client, request(direction, "srv", &[source], target, false)).await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(900)).await;
    assert_eq!(summaries[0].done, 1, "{summaries:?} {events:?}");
    history(client, 10, false)
        .await
        .into_iter()
        .find(|t| t.batch == batch)
        .expect("in history")
}

fn check_record(record: &Transfer, relay: &Relay) {
    assert_eq!(record.state, TransferState::Done, "{:?}", record.error);
    assert_eq!(relay.cuts_pending(), 0, "every cut happened");
    assert!(
        record.attempts as usize > CUTS,
        "each cut cost an attempt: {} attempts",
        record.attempts
    );
    assert!(
        record.bytes_sent <= SIZE + SIZE / 4,
        "ferry counted {} bytes sent",
        record.bytes_sent
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sftp_upload_and_download_survive_eight_cuts_with_the_default_budget() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), Duration::ZERO).await;
    let fx = EngineFixture::new(|_| {});
    assert_eq!(fx.config.transfer.retry_attempts, 5, "the default budget");
    fx.add_profile(
        "srv",
        Protocol::Sftp,
        relay.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
    );
    let client = fx.start();

    let file = fx.local("up").join("big.bin");
    random_file(&file, SIZE as usize, 21);
    let before = server.bytes_received();
    relay.cut_after(gaps());
    let record = run(
        &client,
        Direction::Upload,
        file.to_str().expect("utf8"),
        "/",
    )
    .await;
    check_record(&record, &relay);
    let received = server.bytes_received() - before;
    assert!(
        received <= SIZE + SIZE / 4,
        "the server received {received} bytes"
    );
    assert_eq!(
        sha256_file(&server.root().join("big.bin")),
        sha256_file(&file)
    );
    assert!(!server.root().join("big.bin.ferry-part").exists());

    let down = fx.local("down");
    let before = server.bytes_sent();
    relay.cut_after(gaps());
    let record = run(
        &client,
        Direction::Download,
        "/big.bin",
        down.to_str().expect("utf8"),
    )
    .await;
    check_record(&record, &relay);
    let sent = server.bytes_sent() - before;
    assert!(sent <= SIZE + SIZE / 4, "the server sent {sent} bytes");
    assert_eq!(sha256_file(&down.join("big.bin")), sha256_file(&file));
    assert!(!down.join("big.bin.ferry-part").exists());
    client.request(Request::Shutdown).await;
}
