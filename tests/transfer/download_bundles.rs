//! Small downloads travel in bundles too (several files to one slot, read in shared exchanges,
//! written and synced together), yet each file keeps its own record, verification and outcome:
//! a refused file fails alone, a dropped connection costs retries but no file, and nothing
//! under a final name is short.

use std::path::Path;
use std::time::Duration;

use ferry::engine::api::{Event, Request, Response};
use ferry::profile::Protocol;
use ferry::remote::ErrorKind;
use ferry::transfer::copy::Verification;
use ferry::transfer::model::{Direction, ItemKind, Transfer, TransferState};

use crate::bundles::{restart, watch_running};
use crate::concurrency::{make_tree, tree};
use crate::support::engine::{EngineFixture, enqueue, history, request};
use crate::support::relay::Relay;
use crate::support::sftp_server::{SftpServer, SftpServerConfig};

/// Files in `make_tree`'s tree, and its directories (with the top one).
const FILES: usize = 1000;
const DIRS: usize = 113;

fn no_part_files(root: &Path) {
    for (rel, _) in tree(root) {
        assert!(
            !rel.to_string_lossy().ends_with(".ferry-part"),
            "{rel:?} left behind"
        );
    }
}

async fn file_records(client: &ferry::engine::EngineClient) -> Vec<Transfer> {
    history(client, 10_000, false)
        .await
        .into_iter()
        .filter(|t| t.kind == ItemKind::File && t.direction == Direction::Download)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tree_of_small_files_downloads_in_bundles_each_verified() {
    let refused = ["/site/d3/e1/f2.dat", "/site/d8/e8/f0.dat"];
    let server = SftpServer::start(SftpServerConfig {
        deny: refused.iter().map(|p| p.to_string()).collect(),
        ..SftpServerConfig::default()
    })
    .await;
    let site = server.root().join("site");
    make_tree(&site);
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let down = fx.local("down");
    let target = down.to_str().expect("utf8");
    let batch = enqueue(
        &client,
        request(Direction::Download, "srv", &["/site"], target, true),
    )
    .await;
    let (running, summary, events) = watch_running(&mut watch, batch).await;
    assert!(
        running > fx.config.transfer.max_concurrent as usize,
        "small files ran in bundles: at most {running} running at once"
    );
    assert_eq!(summary.failed, 2, "{summary:?}");
    assert_eq!(summary.done, FILES - 2 + DIRS);

    let records = file_records(&client).await;
    for record in &records {
        match record.state {
            TransferState::Done => assert!(
                matches!(record.verification, Some(Verification::ReadBack(_))),
                "{record:?}"
            ),
            TransferState::Failed => {
                let error = record.error.as_ref().expect("error");
                assert_eq!(error.kind, ErrorKind::Permission, "{error}");
                assert_eq!(record.attempts, 1, "no retries for a refusal");
                assert!(refused.contains(&record.remote_path.as_str()));
                assert!(
                    !events
                        .iter()
                        .any(|e| matches!(e, Event::Retrying { id, .. } if *id == record.id))
                );
            }
            state => panic!("{state:?}: {record:?}"),
        }
    }
    let mut expected = tree(&site);
    expected.retain(|(rel, _)| !refused.iter().any(|p| Path::new(&p[6..]) == rel));
    assert_eq!(tree(&down.join("site")), expected);
    no_part_files(&down);
    client.request(Request::Shutdown).await;
}

/// Plans `request` in an engine that keeps the queue without running it (so drops hit the
/// transfers rather than the listing of the tree), then calls `arm` and runs the queue to its
/// end in a new engine; returns that engine.
async fn plan_then_run(
    fx: &EngineFixture,
    request: ferry::transfer::model::TransferRequest,
    arm: impl FnOnce(),
) -> ferry::engine::EngineClient {
    let client = fx.start_with(false);
    let mut watch = client.subscribe(false);
    let batch = enqueue(&client, request).await;
    loop {
        match watch.events.next().await.expect("engine alive") {
            Event::Planning {
                batch: b,
                finished: true,
                ..
            } if b == batch => break,
            _ => continue,
        }
    }
    client.request(Request::Shutdown).await;
    drop(client);
    arm();
    let client = restart(fx).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let Response::Queue { snapshot } = client.request(Request::Queue).await else {
            panic!("queue");
        };
        if snapshot.transfers.is_empty() {
            return client;
        }
        assert!(tokio::time::Instant::now() < deadline, "{snapshot:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every file of the tree done, some after retries.
async fn all_done_after_retries(client: &ferry::engine::EngineClient) {
    let records = file_records(client).await;
    assert_eq!(records.len(), FILES);
    assert!(
        records.iter().all(|t| t.state == TransferState::Done
            && matches!(t.verification, Some(Verification::ReadBack(_)))),
        "every file done and checked"
    );
    assert!(
        records.iter().any(|t| t.attempts > 1),
        "history shows the retries"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn download_bundles_survive_dropped_connections() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let site = server.root().join("site");
    make_tree(&site);
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let down = fx.local("down");
    let get = request(
        Direction::Download,
        "srv",
        &["/site"],
        down.to_str().expect("utf8"),
        true,
    );
    // Cut the first connections part way through what the tree needs (~2.5 MB each way).
    let client = plan_then_run(&fx, get, || {
        server.queue_drops([300 << 10, 700 << 10, 200 << 10, 500 << 10])
    })
    .await;
    assert!(server.connections() > 4, "the drops happened");
    all_done_after_retries(&client).await;
    assert_eq!(tree(&down.join("site")), tree(&site));
    no_part_files(&down);
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sshd_serves_download_bundles_through_a_link_that_drops() {
    use crate::support::real_servers::{
        RealSshd, SshdOptions, skip_without_real_servers, test_user,
    };
    if skip_without_real_servers() {
        return;
    }
    let sshd = RealSshd::start(SshdOptions::default());
    let relay = Relay::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], sshd.port())),
        Duration::ZERO,
    )
    .await;
    let fx = EngineFixture::new(|_| {});
    let user = test_user();
    fx.add_profile_with(
        "srv",
        Protocol::Sftp,
        relay.port(),
        &user.name,
        &user.password,
        |profile| profile.max_connections = 1,
    );
    let served = sshd.scratch_dir().join("download-bundles");
    make_tree(&served);
    let down = fx.local("down");
    let get = request(
        Direction::Download,
        "srv",
        &[served.to_str().expect("utf8")],
        down.to_str().expect("utf8"),
        true,
    );
    let client = plan_then_run(&fx, get, || {
        relay.cut_after([300 << 10, 700 << 10, 500 << 10])
    })
    .await;
    assert_eq!(relay.cuts(), 3, "the link dropped three times");
    all_done_after_retries(&client).await;
    assert_eq!(tree(&down.join("download-bundles")), tree(&served));
    no_part_files(&down);
    client.request(Request::Shutdown).await;
}
