//! Twenty dropped connections during a 256 MiB upload and a 256 MiB download: the file arrives
//! identical, resumed each time from what the destination holds (total bytes at most 1.25x the
//! size), and progress never goes back without an announced restart.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use ferry::engine::api::{Event, Request};
use ferry::engine::{EngineClient, Subscription};
use ferry::profile::Protocol;
use ferry::transfer::model::{Direction, TransferState};
use rand::Rng;

use crate::support::engine::{
    EngineFixture, enqueue, history, random_file, request, sha256_file, wait_batches,
};
use crate::support::ftp_server::{FtpServer, FtpServerConfig};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};
use crate::support::wait;

const MIB: u64 = 1 << 20;

/// Twenty per-connection budgets that all fall inside a transfer of `size` bytes.
fn drop_budgets(size: u64) -> Vec<u64> {
    let mut rng = rand::rng();
    let share = size / 24;
    (0..20)
        .map(|_| rng.random_range(share / 3..share))
        .collect()
}

/// Runs one batch while checking every snapshot: per transfer, `done` only goes down right after
/// a `Restarted` event for it. Returns the finished transfer records of the batch.
async fn watch_batch(
    watch: &mut Subscription,
    batch: u64,
) -> Vec<ferry::transfer::model::Transfer> {
    let mut last: HashMap<u64, u64> = HashMap::new();
    let mut finished = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        tokio::select! {
            biased;
            event = watch.events.next() => match event.expect("engine alive") {
                Event::Restarted { id, from, .. } => {
                    last.insert(id, from);
                }
                Event::Finished { transfer } if transfer.batch == batch => finished.push(transfer),
                Event::BatchDone { batch: b, error, .. } if b == batch => {
                    assert!(error.is_none(), "{error:?}");
                    return finished;
                }
                _ => {}
            },
            changed = watch.progress.changed() => {
                changed.expect("engine alive");
                let snapshot = watch.progress.borrow_and_update().clone();
                for view in snapshot.transfers.iter().filter(|v| v.state == TransferState::Running) {
                    let previous = last.insert(view.id, view.done).unwrap_or(0);
                    assert!(
                        view.done >= previous,
                        "transfer {} went back from {previous} to {} without an announced restart",
                        view.id,
                        view.done
                    );
                    assert!(view.done <= view.total, "done beyond total");
                }
            }
            () = tokio::time::sleep_until(deadline) => panic!("batch did not finish"),
        }
    }
}

async fn history_attempts(client: &EngineClient, id: u64) -> u32 {
    history(client, 100, false)
        .await
        .iter()
        .find(|t| t.id == id)
        .expect("in history")
        .attempts
}

async fn check_upload(
    fx: &EngineFixture,
    client: &EngineClient,
    profile: &str,
    root: &Path,
    size: u64,
    received: impl Fn() -> u64,
) {
    let local = fx.local("up");
    let file = local.join("big.bin");
    random_file(&file, size as usize, 7);
    let mut watch = client.subscribe(false);
    let before = received();
    let batch = enqueue(
        client,
        request(
            Direction::Upload,
            profile,
            &[file.to_str().expect("utf8")],
            "/",
            false,
        ),
    )
    .await;
    let finished = watch_batch(&mut watch, batch).await;
    let record = finished
        .iter()
        .find(|t| t.state.is_final())
        .expect("finished");
    assert_eq!(record.state, TransferState::Done, "{:?}", record.error);
    assert_eq!(record.offset, size, "progress ends at the total");
    assert_eq!(sha256_file(&root.join("big.bin")), sha256_file(&file));
    assert!(!root.join("big.bin.ferry-part").exists());
    let sent = received() - before;
    assert!(
        sent <= size + size / 4,
        "sent {sent} bytes for a {size}-byte file"
    );
    let attempts = history_attempts(client, record.id).await;
    assert!(
        attempts >= 21,
        "history shows the retries: {attempts} attempts"
    );
}

async fn check_download(
    fx: &EngineFixture,
    client: &EngineClient,
    profile: &str,
    root: &Path,
    size: u64,
    sent_by_server: impl Fn() -> u64,
) {
    let remote_file = root.join("down.bin");
    random_file(&remote_file, size as usize, 11);
    let local = fx.local("down");
    let mut watch = client.subscribe(false);
    let before = sent_by_server();
    let batch = enqueue(
        client,
        request(
            Direction::Download,
            profile,
            &["/down.bin"],
            local.to_str().expect("utf8"),
            false,
        ),
    )
    .await;
    let finished = watch_batch(&mut watch, batch).await;
    let record = finished
        .iter()
        .find(|t| t.state.is_final())
        .expect("finished");
    assert_eq!(record.state, TransferState::Done, "{:?}", record.error);
    assert_eq!(record.offset, size);
    assert_eq!(
        sha256_file(&local.join("down.bin")),
        sha256_file(&remote_file)
    );
    assert!(!local.join("down.bin.ferry-part").exists());
    let sent = sent_by_server() - before;
    assert!(
        sent <= size + size / 4,
        "server sent {sent} bytes for a {size}-byte file"
    );
    let attempts = history_attempts(client, record.id).await;
    assert!(
        attempts >= 21,
        "history shows the retries: {attempts} attempts"
    );
}

/// A fresh engine (and so fresh connections, which take the queued drop budgets).
fn engine_for(
    protocol: Protocol,
    port: u16,
    user: &str,
    password: &str,
) -> (EngineFixture, EngineClient) {
    let fx = EngineFixture::new(|c| c.transfer.retry_attempts = 40);
    fx.add_profile("srv", protocol, port, user, password);
    let client = fx.start();
    (fx, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sftp_upload_and_download_survive_twenty_drops() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let size = 256 * MIB;

    let (fx, client) = engine_for(
        Protocol::Sftp,
        server.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
    );
    server.queue_drops(drop_budgets(size));
    check_upload(&fx, &client, "srv", server.root(), size, || {
        server.bytes_received()
    })
    .await;
    client.request(Request::Shutdown).await;

    let (fx, client) = engine_for(
        Protocol::Sftp,
        server.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
    );
    server.queue_drops(drop_budgets(size));
    check_download(&fx, &client, "srv", server.root(), size, || {
        server.bytes_sent()
    })
    .await;
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ftp_upload_and_download_survive_twenty_drops() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let size = 64 * MIB;

    let (fx, client) = engine_for(
        Protocol::Ftp,
        server.port(),
        server.user(),
        server.password(),
    );
    server.queue_drops(drop_budgets(size));
    check_upload(&fx, &client, "srv", server.root(), size, || {
        server.bytes_received()
    })
    .await;
    client.request(Request::Shutdown).await;

    let (fx, client) = engine_for(
        Protocol::Ftp,
        server.port(),
        server.user(),
        server.password(),
    );
    server.queue_drops(drop_budgets(size));
    check_download(&fx, &client, "srv", server.root(), size, || {
        server.bytes_sent()
    })
    .await;
    client.request(Request::Shutdown).await;
}

/// Uploads a file, lets the server cut the now idle pooled connection, then downloads it: the
/// next batch must not inherit the dead connection (planning and the copy both reconnect).
async fn survives_an_idle_connection_cut(
    fx: &EngineFixture,
    client: &EngineClient,
    cut: impl Fn(),
    open: impl Fn() -> usize,
) {
    let local = fx.local("idle-up");
    let file = local.join("small.bin");
    random_file(&file, 300_000, 9);
    let mut watch = client.subscribe(false);
    let up = request(
        Direction::Upload,
        "srv",
        &[file.to_str().expect("utf8")],
        "",
        false,
    );
    let batch = enqueue(client, up).await;
    let (summaries, _) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(summaries[0].done, 1, "{summaries:?}");

    assert!(
        open() > 0,
        "the pooled connection is still open before the cut"
    );
    cut();
    wait::until(
        "the server closed every session",
        Duration::from_secs(10),
        || open() == 0,
    )
    .await;
    let down = fx.local("idle-down");
    let get = request(
        Direction::Download,
        "srv",
        &["small.bin"],
        down.to_str().expect("utf8"),
        false,
    );
    let batch = enqueue(client, get).await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(summaries[0].done, 1, "{summaries:?} {events:?}");
    assert_eq!(sha256_file(&down.join("small.bin")), sha256_file(&file));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sftp_replaces_a_pooled_connection_the_server_cut() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let (fx, client) = engine_for(
        Protocol::Sftp,
        server.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
    );
    survives_an_idle_connection_cut(
        &fx,
        &client,
        || server.drop_connections(),
        || server.open_connections(),
    )
    .await;
    assert!(server.connections() >= 2, "a new connection was made");
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ftp_replaces_a_pooled_connection_the_server_cut() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let (fx, client) = engine_for(
        Protocol::Ftp,
        server.port(),
        server.user(),
        server.password(),
    );
    survives_an_idle_connection_cut(
        &fx,
        &client,
        || server.drop_connections(),
        || server.open_sessions(),
    )
    .await;
    client.request(Request::Shutdown).await;
}
