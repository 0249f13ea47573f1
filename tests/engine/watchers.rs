//! Watching is cheap and bounded: a stalled watcher keeps at most the engine's backlog and is
//! told what it missed; a queue of 100,000 transfers is watched through counts and windows;
//! stopping the engine completes when its store is released.

use std::time::Duration;

use ferry::engine::api::{Event, QueueSnapshot, Request, Response};
use ferry::transfer::model::{Direction, ItemKind, OverwritePolicy, Transfer, TransferState};

use crate::support::engine::{EngineFixture, call, enqueue, request, wait_batches};
use crate::support::sftp_server::{SftpServer, SftpServerConfig};

/// The engine's event backlog (ferry::engine::hub::EVENT_BACKLOG).
const BACKLOG: usize = 4096;

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_watcher_keeps_a_bounded_backlog_and_is_told_what_it_missed() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let local = fx.local("many");
    for i in 0..2500 {
        std::fs::write(local.join(format!("f{i:04}")), b"x").expect("write");
    }
    let client = fx.start();
    let mut live = client.subscribe(false);
    let stalled = client.subscribe(false);
    let up = request(
        Direction::Upload,
        "srv",
        &[local.to_str().expect("utf8")],
        "/",
        true,
    );
    let batch = enqueue(&client, up).await;
    let (summaries, _) = wait_batches(&mut live, &[batch], Duration::from_secs(120)).await;
    assert_eq!(summaries[0].done, 2501);
    // Started and Finished for 2,501 transfers, and more: far past the backlog.
    let mut stalled = stalled;
    let missed = match stalled.next_event().await {
        Some(Event::Lagged { missed }) => missed,
        other => panic!("expected a lag notice, got {other:?}"),
    };
    let mut held = 0;
    while stalled.events.try_next().is_some() {
        held += 1;
    }
    assert!(
        held <= BACKLOG,
        "{held} events were kept for a watcher that read none"
    );
    assert!(
        missed as usize + held >= 5002,
        "missed {missed} + held {held}"
    );
    client.shutdown().await;
}

fn queued(id: u64) -> Transfer {
    Transfer {
        id,
        batch: 1,
        direction: Direction::Upload,
        kind: ItemKind::File,
        profile: "nowhere".into(),
        peer: None,
        local_path: format!("/l/{id}"),
        remote_path: format!("/r/{id}"),
        state: TransferState::Queued,
        overwrite: OverwritePolicy::Overwrite,
        limit: 0,
        source_size: 10,
        source_mtime: None,
        offset: 0,
        bytes_sent: 0,
        attempts: 0,
        error: None,
        verification: None,
        position: 200_000 - id,
        created_us: 0,
        started_us: None,
        finished_us: None,
        duration_ms: 0,
        run_id: None,
        segments: Vec::new(),
    }
}

#[tokio::test]
async fn a_queue_of_100k_is_watched_through_counts_and_windows() {
    let fx = EngineFixture::new(|_| {});
    let records: Vec<Transfer> = (1..=100_000).map(queued).collect();
    fx.store().put_transfers(&records).expect("queue");
    let client = fx.start_with(false);
    let snapshot: QueueSnapshot = match call(&client, Request::Queue).await {
        Response::Queue { snapshot } => snapshot,
        other => panic!("{other:?}"),
    };
    assert_eq!((snapshot.total, snapshot.queued), (100_000, 100_000));
    assert_eq!(snapshot.total_bytes, 1_000_000);
    assert!(
        snapshot.transfers.len() <= 100,
        "{}",
        snapshot.transfers.len()
    );
    // Positions run backwards from the ids: the window follows the queue's order.
    assert_eq!(snapshot.transfers[0].id, 100_000);
    match call(
        &client,
        Request::QueueWindow {
            start: 50_000,
            len: 3,
        },
    )
    .await
    {
        Response::QueueWindow {
            total, transfers, ..
        } => {
            assert_eq!(total, 100_000);
            let ids: Vec<u64> = transfers.iter().map(|t| t.id).collect();
            assert_eq!(ids, vec![50_000, 49_999, 49_998]);
        }
        other => panic!("{other:?}"),
    }
    call(
        &client,
        Request::Move {
            id: 50_000,
            up: true,
        },
    )
    .await;
    match call(
        &client,
        Request::QueueWindow {
            start: 49_999,
            len: 2,
        },
    )
    .await
    {
        Response::QueueWindow { transfers, .. } => {
            let ids: Vec<u64> = transfers.iter().map(|t| t.id).collect();
            assert_eq!(ids, vec![50_000, 50_001]);
        }
        other => panic!("{other:?}"),
    }
    client.shutdown().await;
}

#[tokio::test]
async fn stopping_the_engine_completes_when_the_store_is_released() {
    let fx = EngineFixture::new(|_| {});
    let client = fx.start();
    let held = ferry::store::Store::open(&fx.data_dir().join("ferry.redb"));
    assert!(held.is_err(), "the running engine holds the store");
    let watcher = client.clone();
    client.shutdown().await;
    fx.store();
    // A client left over answers that the engine has stopped, without hanging.
    let late = tokio::time::timeout(Duration::from_secs(5), watcher.request(Request::Queue)).await;
    assert!(matches!(late.expect("answered"), Response::Error(_)));
}
