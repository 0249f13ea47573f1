//! Small uploads travel in bundles (several files to one slot, sharing exchanges with the
//! server), yet each file keeps its own outcome: a refused file fails alone and at once, a
//! dropped connection costs retries but no file, and a stop mid-bundle leaves nothing half
//! written under a final name and resumes on the next start.

use std::path::Path;
use std::time::Duration;

use ferry::engine::api::{Event, Request, Response};
use ferry::engine::{EngineClient, Subscription};
use ferry::profile::Protocol;
use ferry::remote::ErrorKind;
use ferry::transfer::model::{Direction, Transfer, TransferState};

use crate::concurrency::{make_tree, tree};
use crate::support::engine::{EngineFixture, enqueue, history, request, sha256_file, wait_batches};
use crate::support::sftp_server::{SftpServer, SftpServerConfig};
use crate::support::wait;

/// Files in `make_tree`'s tree, and its directories (with the top one).
const FILES: usize = 1000;
const DIRS: usize = 113;

async fn upload_tree(client: &EngineClient, fx: &EngineFixture) -> (u64, std::path::PathBuf) {
    let site = fx.local("src").join("site");
    make_tree(&site);
    let source = site.to_str().expect("utf8");
    let batch = enqueue(
        client,
        request(Direction::Upload, "srv", &[source], "/dst", true),
    )
    .await;
    (batch, site)
}

/// Every file under a final name on the server is whole: the same bytes as its source.
fn no_partial_files(served: &Path, source: &Path) {
    for (rel, hash) in tree(served) {
        let name = rel.to_string_lossy();
        if let Some(hash) = hash.filter(|_| !name.ends_with(".ferry-part")) {
            assert_eq!(hash, sha256_file(&source.join(&rel)), "{name} is not whole");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_file_fails_alone_while_its_bundle_arrives() {
    let refused = ["/dst/site/d2/e3/f4.dat", "/dst/site/d7/e0/f9.dat"];
    let server = SftpServer::start(SftpServerConfig {
        deny: refused.iter().map(|p| format!("{p}.ferry-part")).collect(),
        ..SftpServerConfig::default()
    })
    .await;
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let (batch, site) = upload_tree(&client, &fx).await;
    let (running, summaries, events) = watch_running(&mut watch, batch).await;
    assert!(
        running > fx.config.transfer.max_concurrent as usize,
        "small files ran in bundles: at most {running} running at once"
    );
    assert_eq!(summaries.failed, 2, "{summaries:?}");
    assert_eq!(summaries.done, FILES - 2 + DIRS);

    let failed: Vec<Transfer> = history(&client, 10_000, false)
        .await
        .into_iter()
        .filter(|t| t.state == TransferState::Failed)
        .collect();
    assert_eq!(failed.len(), 2);
    for record in &failed {
        assert_eq!(record.attempts, 1, "no retries for a refusal");
        let error = record.error.as_ref().expect("error");
        assert_eq!(error.kind, ErrorKind::Permission, "{error}");
        assert!(
            refused.iter().any(|p| record.remote_path == *p),
            "{record:?}"
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::Retrying { id, .. } if *id == record.id))
        );
    }
    for path in refused {
        assert!(!server.root().join(&path[1..]).exists(), "{path}");
    }
    no_partial_files(&server.root().join("dst/site"), &site);
    assert_eq!(
        tree(&server.root().join("dst/site")).len(),
        tree(&site).len() - 2
    );
    client.request(Request::Shutdown).await;
}

/// Waits for the batch while noting the most transfers seen running at once.
pub(crate) async fn watch_running(
    watch: &mut Subscription,
    batch: u64,
) -> (usize, ferry::engine::api::BatchSummary, Vec<Event>) {
    let mut most = 0;
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        tokio::select! {
            event = watch.events.next() => {
                let event = event.expect("engine alive");
                if let Event::BatchDone { batch: b, summary, error } = &event
                    && *b == batch
                {
                    assert!(error.is_none(), "{error:?}");
                    let summary = summary.clone();
                    events.push(event);
                    return (most, summary, events);
                }
                events.push(event);
            }
            changed = watch.progress.changed() => {
                changed.expect("engine alive");
                most = most.max(watch.progress.borrow_and_update().running);
            }
            () = tokio::time::sleep_until(deadline) => panic!("batch did not finish"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bundles_survive_dropped_connections() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    // Cut the first connections part way through what the tree needs (~2.5 MB each way).
    server.queue_drops([300 << 10, 700 << 10, 200 << 10, 500 << 10]);
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let (batch, site) = upload_tree(&client, &fx).await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(300)).await;
    assert_eq!(summaries[0].failed, 0, "{summaries:?}");
    assert_eq!(summaries[0].done, FILES + DIRS);
    assert!(server.connections() > 4, "the drops happened");
    assert!(events.iter().any(|e| matches!(e, Event::Retrying { .. })));
    let retried = history(&client, 10_000, false)
        .await
        .iter()
        .filter(|t| t.attempts > 1)
        .count();
    assert!(retried > 0, "history shows the retries");
    assert_eq!(tree(&server.root().join("dst/site")), tree(&site));
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_mid_bundle_leaves_no_partial_file_and_resumes() {
    let server = SftpServer::start(SftpServerConfig {
        reply_delay: Some(Duration::from_millis(150)),
        ..SftpServerConfig::default()
    })
    .await;
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let (_, site) = upload_tree(&client, &fx).await;
    // Pause the first file to start; stop the engine once it is recorded paused.
    let paused = loop {
        match watch.events.next().await.expect("engine alive") {
            Event::Started { id } => {
                let queue = client.request(Request::Queue).await;
                let Response::Queue { snapshot } = queue else {
                    panic!("{queue:?}");
                };
                let view = snapshot.transfers.iter().find(|t| t.id == id);
                if view.is_some_and(|t| t.total > 0) {
                    client.request(Request::Pause { id }).await;
                    break id;
                }
            }
            _ => continue,
        }
    };
    loop {
        match watch.events.next().await.expect("engine alive") {
            Event::Finished { transfer } if transfer.id == paused => {
                assert_eq!(transfer.state, TransferState::Paused);
                break;
            }
            _ => continue,
        }
    }
    client.request(Request::Shutdown).await;
    drop(client);
    no_partial_files(&server.root().join("dst/site"), &site);
    let unfinished = released_store(&fx).await.queued_transfers().expect("queue");
    let state_of = |id| unfinished.iter().find(|t| t.id == id).map(|t| t.state);
    assert_eq!(state_of(paused), Some(TransferState::Paused));
    assert!(
        unfinished
            .iter()
            .any(|t| t.state == TransferState::Interrupted),
        "the stop caught bundles running"
    );

    server.set_reply_delay(None);
    let client = restart(&fx).await;
    let response = client.request(Request::Resume { id: paused }).await;
    assert!(matches!(response, Response::Ok), "{response:?}");
    wait::until_some(
        "the resumed queue empties",
        Duration::from_secs(300),
        || async {
            let Response::Queue { snapshot } = client.request(Request::Queue).await else {
                panic!("queue");
            };
            snapshot.transfers.is_empty().then_some(())
        },
    )
    .await;
    assert_eq!(tree(&server.root().join("dst/site")), tree(&site));
    client.request(Request::Shutdown).await;
}

/// The store, once the stopped engine has let go of it.
async fn released_store(fx: &EngineFixture) -> ferry::store::Store {
    let path = fx.data_dir().join("ferry.redb");
    wait::until_some(
        "the stopped engine lets go of the store",
        Duration::from_secs(10),
        || {
            let path = path.clone();
            async move { ferry::store::Store::open(&path).ok() }
        },
    )
    .await
}

/// A new engine on the same data directory.
pub(crate) async fn restart(fx: &EngineFixture) -> EngineClient {
    drop(released_store(fx).await);
    fx.start()
}

#[tokio::test(flavor = "multi_thread")]
async fn sshd_takes_many_bundles_on_one_connection() {
    use crate::support::real_servers::{
        RealSshd, SshdOptions, skip_without_real_servers, test_user,
    };
    if skip_without_real_servers() {
        return;
    }
    let sshd = RealSshd::start(SshdOptions::default());
    let fx = EngineFixture::new(|_| {});
    let user = test_user();
    // One connection carries every bundle: more files open at once than OpenSSH's handle
    // numbers that russh-sftp can keep (below 128) unless ferry holds them back.
    fx.add_profile_with(
        "srv",
        Protocol::Sftp,
        sshd.port(),
        &user.name,
        &user.password,
        |profile| profile.max_connections = 1,
    );
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let target = sshd.scratch_dir().join("bundles");
    std::fs::create_dir_all(&target).expect("mkdir");
    std::os::unix::fs::chown(&target, Some(user.uid), Some(user.gid)).expect("chown");
    let source = target.to_str().expect("utf8").to_string();
    let (batch, site) = {
        let site = fx.local("src").join("site");
        make_tree(&site);
        let from = site.to_str().expect("utf8");
        let batch = enqueue(
            &client,
            request(Direction::Upload, "srv", &[from], &source, true),
        )
        .await;
        (batch, site)
    };
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(300)).await;
    assert_eq!(summaries[0].failed, 0, "{summaries:?}");
    let retries: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Retrying { .. }))
        .collect();
    assert!(retries.is_empty(), "{retries:?}");
    assert_eq!(tree(&target.join("site")), tree(&site));
    client.request(Request::Shutdown).await;
}
