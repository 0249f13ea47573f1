//! Large FTP downloads over a long link move in ranges (`REST` + `RETR`, one connection each,
//! no more connections than the profile allows) while uploads stay one stream: through a relay
//! that delays the control connections (data connections go to the server directly), files
//! arrive identical, and a session cut during the copy resumes every range (no more than 1.25x
//! the file's bytes sent in all).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferry::engine::EngineClient;
use ferry::engine::api::Request;
use ferry::profile::Protocol;
use ferry::transfer::copy::Verification;
use ferry::transfer::model::Direction;

use crate::segmented::run;
use crate::support::engine::{EngineFixture, random_file, sha256_file};
use crate::support::ftp_server::{FtpServer, FtpServerConfig};
use crate::support::relay::Relay;

const MIB: u64 = 1 << 20;
/// Each way: a 20 ms round trip, worth three ranges.
const ONE_WAY: Duration = Duration::from_millis(10);
/// The profile's cap on connections: fewer than the link's three ranges.
const MAX_CONNECTIONS: u32 = 2;

fn engine_through(relay: &Relay, user: &str, password: &str) -> (EngineFixture, EngineClient) {
    let fx = EngineFixture::new(|c| c.transfer.retry_attempts = 10);
    fx.add_profile_with("srv", Protocol::Ftp, relay.port(), user, password, |p| {
        p.max_connections = MAX_CONNECTIONS;
    });
    let client = fx.start();
    (fx, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ftp_downloads_move_in_ranges_and_uploads_in_one_stream() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let (fx, client) = engine_through(&relay, server.user(), server.password());
    let size = 96 * MIB;
    let file = fx.local("up").join("big.bin");
    random_file(&file, size as usize, 21);
    let hash = sha256_file(&file);

    let up = run(
        &client,
        Direction::Upload,
        file.to_str().expect("utf8"),
        "/",
    )
    .await;
    assert_eq!(up.verification, Some(Verification::SizeOnly));
    assert_eq!(sha256_file(&server.root().join("big.bin")), hash);
    assert_eq!(relay.connections(), 1, "an FTP upload is one stream");

    let down = fx.local("down");
    let record = run(
        &client,
        Direction::Download,
        "/big.bin",
        down.to_str().expect("utf8"),
    )
    .await;
    // The in-process server has no HASH: the size is what the server can vouch for.
    assert_eq!(record.verification, Some(Verification::SizeOnly));
    assert_eq!(sha256_file(&down.join("big.bin")), hash);
    assert!(!down.join("big.bin.ferry-part").exists());
    assert_eq!(
        relay.connections(),
        u64::from(MAX_CONNECTIONS),
        "the ranges had connections of their own, as many as the cap allows"
    );
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cut_during_a_segmented_ftp_download_resumes_every_range() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let (fx, client) = engine_through(&relay, server.user(), server.password());
    let size = 128 * MIB;
    let source = server.root().join("big.bin");
    random_file(&source, size as usize, 22);
    let hash = sha256_file(&source);

    // The first block's read loses its session 2 MiB in; the other sessions wind down.
    server.queue_drops([2 * MIB]);
    let before = server.bytes_sent();
    let down = fx.local("down");
    let record = run(
        &client,
        Direction::Download,
        "/big.bin",
        down.to_str().expect("utf8"),
    )
    .await;
    assert_eq!(server.drops_injected(), 1);
    assert!(record.attempts >= 2, "{record:?}");
    let sent = server.bytes_sent() - before;
    println!(
        "the server sent {sent} bytes, ferry counted {}",
        record.bytes_sent
    );
    assert!(sent <= size + size / 4, "the server sent {sent} bytes");
    assert_eq!(sha256_file(&down.join("big.bin")), hash);
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_refusing_rest_for_a_range_gets_the_file_in_one_stream() {
    let server = FtpServer::start(FtpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let (fx, client) = engine_through(&relay, server.user(), server.password());
    let size = 96 * MIB;
    random_file(&server.root().join("big.bin"), size as usize, 24);
    let hash = sha256_file(&server.root().join("big.bin"));
    std::fs::write(server.root().join("small.txt"), b"first").expect("write");
    let down = fx.local("down");
    let down_path = down.to_str().expect("utf8");

    // The first connection logs in while REST works; the one a range then adds refuses it.
    run(&client, Direction::Download, "/small.txt", down_path).await;
    server.refuse_rest_from_now(true);
    let record = run(&client, Direction::Download, "/big.bin", down_path).await;
    assert_eq!(
        relay.connections(),
        2,
        "a second connection was tried for a range"
    );
    assert_eq!(record.verification, Some(Verification::SizeOnly));
    assert_eq!(sha256_file(&down.join("big.bin")), hash);
    client.request(Request::Shutdown).await;
}

/// Kills the server's sessions once `part` holds `bytes` of data (its size says little: the
/// ranges write at their offsets), from a thread; stops when `stop` is set.
fn kill_once_written(
    part: PathBuf,
    bytes: u64,
    kill: impl Fn() -> usize + Send + 'static,
) -> Arc<AtomicBool> {
    use std::os::unix::fs::MetadataExt;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            let written = std::fs::metadata(&part).map_or(0, |m| m.blocks() * 512);
            if written >= bytes && kill() > 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    stop
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn vsftpd_serves_ranges_over_a_long_link() {
    use crate::support::real_servers::{
        RealVsftpd, VsftpdOptions, skip_without_real_servers, test_user,
    };
    if skip_without_real_servers() {
        return;
    }
    let vsftpd = Arc::new(
        tokio::task::spawn_blocking(|| RealVsftpd::start(VsftpdOptions::default()))
            .await
            .expect("vsftpd"),
    );
    let relay = Relay::start(vsftpd.addr(), ONE_WAY).await;
    let user = test_user();
    let (fx, client) = engine_through(&relay, &user.name, &user.password);
    let size = 96 * MIB;
    let source = vsftpd.root().join("big.bin");
    random_file(&source, size as usize, 23);
    let hash = sha256_file(&source);

    let down = fx.local("down");
    let killer = vsftpd.clone();
    let killed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = killed.clone();
    let stop = kill_once_written(down.join("big.bin.ferry-part"), 30 * MIB, move || {
        let sessions = killer.kill_sessions();
        counted.fetch_add(sessions, Ordering::Relaxed);
        sessions
    });
    let record = run(
        &client,
        Direction::Download,
        source.to_str().expect("utf8"),
        down.to_str().expect("utf8"),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    // A killed session is replaced by a fresh login for the next block, or costs an attempt
    // when it dies mid-block; either way the file arrives whole and nothing moves twice over.
    assert!(killed.load(Ordering::Relaxed) > 0, "sessions were killed");
    assert_eq!(record.verification, Some(Verification::SizeOnly));
    assert_eq!(sha256_file(&down.join("big.bin")), hash);
    assert!(
        record.bytes_sent <= size + size / 4,
        "{} bytes sent",
        record.bytes_sent
    );
    // Blocks read from their offsets: many of them, each from a REST of its own.
    let log = vsftpd.log();
    let offsets: std::collections::BTreeSet<u64> = log
        .lines()
        .filter_map(|line| line.split("REST ").nth(1))
        .filter_map(|rest| {
            rest.trim_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .filter(|&offset| offset > 0)
        .collect();
    assert!(offsets.len() >= 4, "{offsets:?} in {log}");
    assert_no_part(&down);
    client.request(Request::Shutdown).await;
}

fn assert_no_part(dir: &Path) {
    assert!(!dir.join("big.bin.ferry-part").exists());
}
