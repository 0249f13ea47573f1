//! The same transfer suites against OpenSSH's sshd and vsftpd (FERRY_REAL_SERVERS=1): drops made
//! by killing the server's session processes mid-transfer, concurrency, a whole tree, and
//! fail-fast errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferry::engine::api::{Event, Request};
use ferry::engine::{EngineClient, Subscription};
use ferry::profile::Protocol;
use ferry::remote::ErrorKind;
use ferry::transfer::copy::Verification;
use ferry::transfer::model::{Direction, Transfer, TransferState};
use rand::Rng;

use crate::support::engine::{
    EngineFixture, enqueue, history, random_file, request, sha256_file, wait_batches,
};
use crate::support::real_servers::{
    RealSshd, RealVsftpd, SshdOptions, VsftpdOptions, skip_without_real_servers, test_user,
};

const MIB: u64 = 1 << 20;

fn engine(protocol: Protocol, port: u16, password: &str) -> (EngineFixture, EngineClient) {
    let fx = EngineFixture::new(|c| {
        c.transfer.retry_attempts = 40;
        c.transfer.max_concurrent = 10;
    });
    fx.add_profile("real", protocol, port, &test_user().name, password);
    let client = fx.start();
    (fx, client)
}

/// Kills the server's sessions each time `watched` grows past the next of twenty offsets.
fn spawn_killer(
    watched: PathBuf,
    size: u64,
    kill: impl Fn() -> usize + Send + 'static,
) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let mut offsets: Vec<u64> = (0..20)
        .map(|_| rand::rng().random_range(MIB..size - MIB))
        .collect();
    offsets.sort_unstable();
    std::thread::spawn(move || {
        let mut last_cut = 0;
        for offset in offsets {
            // Each cut lands mid-transfer: past its offset and after fresh data since the last.
            loop {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                let current = std::fs::metadata(&watched).map(|m| m.len()).unwrap_or(0);
                if current >= offset.max(last_cut + MIB) && kill() > 0 {
                    last_cut = current;
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    });
    stop
}

/// Slow enough for twenty cuts to land apart, whatever the machine's speed.
fn limited(
    mut request: ferry::transfer::model::TransferRequest,
) -> ferry::transfer::model::TransferRequest {
    request.limit = 64 << 20;
    request
}

fn failures(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Finished { transfer } => transfer.error.as_ref().map(ToString::to_string),
            _ => None,
        })
        .collect()
}

/// The newest transfer's record.
async fn newest(client: &EngineClient) -> Transfer {
    history(client, 1, false).await.remove(0)
}

async fn drops_round_trip(
    client: &EngineClient,
    fx: &EngineFixture,
    remote_dir: &Path,
    hashes: bool,
    kill: impl Fn() -> usize + Send + Sync + Clone + 'static,
) {
    let size = 128 * MIB;
    let local = fx.local("real-up");
    let file = local.join("big.bin");
    random_file(&file, size as usize, 5);
    let mut watch = client.subscribe(false);
    let stop = spawn_killer(remote_dir.join("big.bin.ferry-part"), size, kill.clone());
    let up = limited(request(
        Direction::Upload,
        "real",
        &[file.to_str().expect("utf8")],
        remote_dir.to_str().expect("utf8"),
        false,
    ));
    let retries = transfer_through_cuts(client, &mut watch, up, &stop).await;
    assert_eq!(sha256_file(&remote_dir.join("big.bin")), sha256_file(&file));
    let record = newest(client).await;
    assert!(record.attempts as usize > retries);
    // sshd hashed it (while written, or after) and it matched ours; vsftpd has no HASH.
    let expected = match hashes {
        true => Verification::Sha256(sha256_file(&file)),
        false => Verification::SizeOnly,
    };
    assert_eq!(record.verification, Some(expected));

    let down = fx.local("real-down");
    let stop = spawn_killer(down.join("big.bin.ferry-part"), size, kill);
    let source = remote_dir.join("big.bin");
    let down_request = limited(request(
        Direction::Download,
        "real",
        &[source.to_str().expect("utf8")],
        down.to_str().expect("utf8"),
        false,
    ));
    transfer_through_cuts(client, &mut watch, down_request, &stop).await;
    assert_eq!(sha256_file(&down.join("big.bin")), sha256_file(&file));
}

/// Runs one request while its connections are being cut, stops the cutting, and checks that
/// the file arrived after at least ten retries (returned).
async fn transfer_through_cuts(
    client: &EngineClient,
    watch: &mut Subscription,
    request: ferry::transfer::model::TransferRequest,
    stop: &AtomicBool,
) -> usize {
    let batch = enqueue(client, request).await;
    let (summaries, events) = wait_batches(watch, &[batch], Duration::from_secs(600)).await;
    stop.store(true, Ordering::Relaxed);
    assert_eq!(
        summaries[0].done,
        1,
        "{summaries:?} {:?}",
        failures(&events)
    );
    let retries = events
        .iter()
        .filter(|e| matches!(e, Event::Retrying { .. }))
        .count();
    // A cut that lands between two requests is absorbed by a reconnect without a retry.
    assert!(retries >= 10, "the cuts were retried: {retries}");
    retries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sshd_survives_killed_sessions() {
    if skip_without_real_servers() {
        return;
    }
    let sshd = Arc::new(RealSshd::start(SshdOptions::default()));
    let (fx, client) = engine(Protocol::Sftp, sshd.port(), &test_user().password);
    let killer = sshd.clone();
    drops_round_trip(&client, &fx, sshd.scratch_dir(), true, move || {
        killer.kill_sessions()
    })
    .await;
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn vsftpd_survives_killed_sessions() {
    if skip_without_real_servers() {
        return;
    }
    let vsftpd = Arc::new(RealVsftpd::start(VsftpdOptions::default()));
    let (fx, client) = engine(Protocol::Ftp, vsftpd.port(), &test_user().password);
    let killer = vsftpd.clone();
    drops_round_trip(&client, &fx, vsftpd.root(), false, move || {
        killer.kill_sessions()
    })
    .await;
    client.request(Request::Shutdown).await;
}

/// Five uploads with five downloads, then a 1,000-file tree up and back down.
async fn concurrency_and_tree(client: &EngineClient, fx: &EngineFixture, remote_dir: &Path) {
    let up = fx.local("c-up");
    let down = fx.local("c-down");
    let mut uploads = Vec::new();
    let mut remote = Vec::new();
    for i in 0..5 {
        let file = up.join(format!("u{i}.bin"));
        random_file(&file, 3 << 20, i);
        uploads.push(file.to_string_lossy().into_owned());
        let source = remote_dir.join(format!("d{i}.bin"));
        random_file(&source, 3 << 20, 50 + i);
        chown_to_test_user(&source);
        remote.push(source.to_string_lossy().into_owned());
    }
    let mut watch = client.subscribe(false);
    let sources: Vec<&str> = uploads.iter().map(String::as_str).collect();
    let remote_sources: Vec<&str> = remote.iter().map(String::as_str).collect();
    let target = remote_dir.join("in");
    let a = enqueue(
        client,
        request(
            Direction::Upload,
            "real",
            &sources,
            target.to_str().expect("utf8"),
            false,
        ),
    )
    .await;
    let b = enqueue(
        client,
        request(
            Direction::Download,
            "real",
            &remote_sources,
            down.to_str().expect("utf8"),
            false,
        ),
    )
    .await;
    let (summaries, _) = wait_batches(&mut watch, &[a, b], Duration::from_secs(300)).await;
    assert_eq!(
        (summaries[0].done, summaries[1].done),
        (5, 5),
        "{summaries:?}"
    );
    for i in 0..5 {
        assert_eq!(
            sha256_file(&target.join(format!("u{i}.bin"))),
            sha256_file(&up.join(format!("u{i}.bin")))
        );
        assert_eq!(
            sha256_file(&down.join(format!("d{i}.bin"))),
            sha256_file(&remote_dir.join(format!("d{i}.bin")))
        );
    }

    let tree_root = fx.local("tree").join("site");
    for a in 0..10 {
        for b in 0..10 {
            let dir = tree_root.join(format!("a{a}/b{b}"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            for c in 0..10 {
                random_file(
                    &dir.join(format!("f{c}")),
                    64 + (a * 100 + b * 10 + c) * 3,
                    (a * 100 + b * 10 + c) as u64,
                );
            }
        }
    }
    let batch = enqueue(
        client,
        request(
            Direction::Upload,
            "real",
            &[tree_root.to_str().expect("utf8")],
            remote_dir.to_str().expect("utf8"),
            true,
        ),
    )
    .await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(600)).await;
    assert_eq!(summaries[0].failed, 0, "{summaries:?}");
    assert_eq!(summaries[0].done, 1000 + 111);
    // Nothing failed on the way either (bundles of small files once ran past the handles
    // OpenSSH's sftp-server numbers in a way russh-sftp can hold, and only retries hid it).
    let retries: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Retrying { .. }))
        .collect();
    assert!(retries.is_empty(), "{retries:?}");
    for a in [0, 9] {
        for c in [0, 9] {
            let rel = format!("a{a}/b5/f{c}");
            assert_eq!(
                sha256_file(&remote_dir.join("site").join(&rel)),
                sha256_file(&tree_root.join(&rel))
            );
        }
    }
    let count = walk_files(&remote_dir.join("site"));
    assert_eq!(count, 1000);
}

fn walk_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .map(|p| if p.is_dir() { walk_files(&p) } else { 1 })
        .sum()
}

fn chown_to_test_user(path: &Path) {
    let user = test_user();
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).expect("chown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sshd_concurrency_tree_and_fail_fast() {
    if skip_without_real_servers() {
        return;
    }
    let sshd = RealSshd::start(SshdOptions::default());
    let (fx, client) = engine(Protocol::Sftp, sshd.port(), &test_user().password);
    concurrency_and_tree(&client, &fx, sshd.scratch_dir()).await;
    fail_fast(&client, &fx, "/").await;
    client.request(Request::Shutdown).await;
    wrong_password(Protocol::Sftp, sshd.port()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn vsftpd_concurrency_tree_and_fail_fast() {
    if skip_without_real_servers() {
        return;
    }
    let vsftpd = RealVsftpd::start(VsftpdOptions::default());
    let (fx, client) = engine(Protocol::Ftp, vsftpd.port(), &test_user().password);
    concurrency_and_tree(&client, &fx, vsftpd.root()).await;
    fail_fast(&client, &fx, "/").await;
    client.request(Request::Shutdown).await;
    wrong_password(Protocol::Ftp, vsftpd.port()).await;
}

/// Uploading into a directory the test user cannot write fails at once with Permission.
async fn fail_fast(client: &EngineClient, fx: &EngineFixture, locked: &str) {
    let file = fx.local("ff").join("denied.bin");
    random_file(&file, 1 << 20, 1);
    let mut watch = client.subscribe(false);
    let batch = enqueue(
        client,
        request(
            Direction::Upload,
            "real",
            &[file.to_str().expect("utf8")],
            locked,
            false,
        ),
    )
    .await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(summaries[0].failed, 1, "{summaries:?}");
    assert!(
        !events.iter().any(|e| matches!(e, Event::Retrying { .. })),
        "no retries"
    );
    let failed = events
        .iter()
        .find_map(|e| match e {
            Event::Finished { transfer } if transfer.state == TransferState::Failed => {
                Some(transfer.clone())
            }
            _ => None,
        })
        .expect("failed transfer");
    assert_eq!(
        failed.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::Permission),
        "{:?}",
        failed.error
    );
    assert!(!Path::new("/denied.bin").exists());
}

async fn wrong_password(protocol: Protocol, port: u16) {
    let (fx, client) = engine(protocol, port, "definitely-not-the-password");
    let file = fx.local("wp").join("x.bin");
    random_file(&file, 1024, 2);
    let mut watch = client.subscribe(false);
    let batch = enqueue(
        &client,
        request(
            Direction::Upload,
            "real",
            &[file.to_str().expect("utf8")],
            "",
            false,
        ),
    )
    .await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(60)).await;
    assert_eq!(summaries[0].failed, 1);
    let error = events
        .iter()
        .find_map(|e| match e {
            Event::Finished { transfer } => transfer.error.clone(),
            _ => None,
        })
        .expect("error");
    assert_eq!(error.kind, ErrorKind::Auth, "{error}");
    assert!(!error.to_string().contains("definitely-not-the-password"));
    client.request(Request::Shutdown).await;
}
