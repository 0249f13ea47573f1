//! Large files over a long link move in ranges over several SFTP channels of one connection:
//! through a relay that adds a fixed delay each way, uploads and downloads arrive identical and
//! verified as whole files, and a connection cut during the copy resumes every range (no more
//! than 1.25x the file's bytes sent in all).

use std::time::Duration;

use ferry::engine::EngineClient;
use ferry::engine::api::Request;
use ferry::profile::Protocol;
use ferry::transfer::copy::Verification;
use ferry::transfer::model::{Direction, OverwritePolicy, Transfer, TransferState};

use crate::support::engine::{
    EngineFixture, enqueue, history, random_file, request, sha256_file, wait_batches,
};
use crate::support::relay::Relay;
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};

const MIB: u64 = 1 << 20;
/// Each way: a 20 ms round trip, long enough to be worth three ranges.
const ONE_WAY: Duration = Duration::from_millis(10);

/// Runs one transfer to its end: done, its blocks forgotten; its record.
pub(crate) async fn run(
    client: &EngineClient,
    direction: Direction,
    source: &str,
    target: &str,
) -> Transfer {
    let mut watch = client.subscribe(false);
    let batch = enqueue(client, request(direction, "srv", &[source], target, false)).await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(600)).await;
    assert_eq!(summaries[0].done, 1, "{summaries:?} {events:?}");
    let record = history(client, 10, false)
        .await
        .into_iter()
        .find(|t| t.batch == batch)
        .expect("in history");
    assert_eq!(record.state, TransferState::Done, "{record:?}");
    assert!(record.segments.is_empty(), "ranges are forgotten once done");
    record
}

fn engine_through(relay: &Relay) -> (EngineFixture, EngineClient) {
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "srv",
        Protocol::Sftp,
        relay.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
    );
    let client = fx.start();
    (fx, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn large_files_move_in_ranges_over_a_long_link() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let (fx, client) = engine_through(&relay);
    let size = 96 * MIB;
    let file = fx.local("up").join("big.bin");
    random_file(&file, size as usize, 12);
    let hash = sha256_file(&file);

    let sessions = server.sftp_sessions();
    let up = run(
        &client,
        Direction::Upload,
        file.to_str().expect("utf8"),
        "/",
    )
    .await;
    assert!(
        server.sftp_sessions() >= sessions + 3,
        "the ranges had channels of their own"
    );
    // The profile allows five connections: the ranges took more than one, never more.
    assert!(
        (2..=5).contains(&relay.connections()),
        "{}",
        relay.connections()
    );
    assert_eq!(up.verification, Some(Verification::Sha256(hash.clone())));
    assert_eq!(
        up.attempts, 1,
        "the copy hashed as it filled matched at once"
    );
    assert_eq!(sha256_file(&server.root().join("big.bin")), hash);
    assert!(!server.root().join("big.bin.ferry-part").exists());
    let mtime = |path: &std::path::Path| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .expect("mtime")
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    };
    assert_eq!(
        mtime(&server.root().join("big.bin")),
        mtime(&file),
        "the copy has the source's modification time"
    );

    let down = fx.local("down");
    let record = run(
        &client,
        Direction::Download,
        "/big.bin",
        down.to_str().expect("utf8"),
    )
    .await;
    assert_eq!(
        record.verification,
        Some(Verification::Sha256(hash.clone()))
    );
    assert_eq!(
        record.attempts, 1,
        "the part hashed as it filled matched at once"
    );
    assert_eq!(sha256_file(&down.join("big.bin")), hash);
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_connection_profiles_take_ranges_over_channels() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let fx = EngineFixture::new(|_| {});
    let port = relay.port();
    fx.add_profile_with(
        "srv",
        Protocol::Sftp,
        port,
        DEFAULT_USER,
        DEFAULT_PASSWORD,
        |p| {
            p.max_connections = 1;
        },
    );
    let client = fx.start();
    let size = 64 * MIB;
    let file = fx.local("up").join("big.bin");
    random_file(&file, size as usize, 15);
    let hash = sha256_file(&file);

    let sessions = server.sftp_sessions();
    let up = run(
        &client,
        Direction::Upload,
        file.to_str().expect("utf8"),
        "/",
    )
    .await;
    assert_eq!(relay.connections(), 1, "no more connections than allowed");
    assert!(
        server.sftp_sessions() >= sessions + 3,
        "the ranges had channels of their own"
    );
    assert_eq!(up.verification, Some(Verification::Sha256(hash.clone())));
    assert_eq!(sha256_file(&server.root().join("big.bin")), hash);
    client.request(Request::Shutdown).await;
}

/// A drop box (create, no overwrite) refuses the second block's open of the part the first
/// block created: the copy starts over in one stream under a fresh part name, and succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_that_will_not_reopen_the_part_gets_one_stream() {
    let server = SftpServer::start(SftpServerConfig {
        refuse_reopen: true,
        ..SftpServerConfig::default()
    })
    .await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let (fx, client) = engine_through(&relay);
    let file = fx.local("up").join("big.bin");
    random_file(&file, 64 * MIB as usize, 16);
    let hash = sha256_file(&file);

    let up = run(
        &client,
        Direction::Upload,
        file.to_str().expect("utf8"),
        "/",
    )
    .await;
    assert_eq!(up.attempts, 1, "the fresh part is part of the same attempt");
    assert_eq!(up.verification, Some(Verification::Sha256(hash.clone())));
    assert_eq!(sha256_file(&server.root().join("big.bin")), hash);
    let names: Vec<_> = std::fs::read_dir(server.root())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["big.bin"], "no part file is left");

    // A stale part longer than the file cannot even be emptied: the blocks are never worked
    // out, the sessions opening meanwhile give up, and the fresh part takes the file.
    let stale = fx.local("up").join("stale.bin");
    random_file(&stale, 64 * MIB as usize, 17);
    std::fs::write(
        server.root().join("stale.bin.ferry-part"),
        vec![7u8; 65 * MIB as usize],
    )
    .expect("stale part");
    let up = run(
        &client,
        Direction::Upload,
        stale.to_str().expect("utf8"),
        "/",
    )
    .await;
    assert_eq!(up.attempts, 1, "{up:?}");
    assert_eq!(
        sha256_file(&server.root().join("stale.bin")),
        sha256_file(&stale)
    );
    assert!(!server.root().join("stale.bin.ferry-part").exists());
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cut_during_a_segmented_copy_resumes_every_range() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let (fx, client) = engine_through(&relay);
    let size = 128 * MIB;
    let file = fx.local("up").join("big.bin");
    random_file(&file, size as usize, 13);
    let hash = sha256_file(&file);

    relay.cut_after([40 * MIB, 50 * MIB]);
    let before = server.bytes_received();
    let up = run(
        &client,
        Direction::Upload,
        file.to_str().expect("utf8"),
        "/",
    )
    .await;
    assert_eq!(relay.cuts(), 2);
    assert!(up.attempts >= 3, "{up:?}");
    let received = server.bytes_received() - before;
    assert!(
        received <= size + size / 4,
        "the server received {received} bytes"
    );
    assert_eq!(up.verification, Some(Verification::Sha256(hash.clone())));
    assert_eq!(sha256_file(&server.root().join("big.bin")), hash);

    relay.cut_after([40 * MIB, 50 * MIB]);
    let before = server.bytes_sent();
    let down = fx.local("down");
    let record = run(
        &client,
        Direction::Download,
        "/big.bin",
        down.to_str().expect("utf8"),
    )
    .await;
    assert_eq!(relay.cuts(), 4);
    let sent = server.bytes_sent() - before;
    assert!(sent <= size + size / 4, "the server sent {sent} bytes");
    assert_eq!(
        record.verification,
        Some(Verification::Sha256(hash.clone()))
    );
    assert_eq!(sha256_file(&down.join("big.bin")), hash);
    client.request(Request::Shutdown).await;
}

/// A part one stream wrote (here: a shorter destination resumed) is whole up to its size: the
/// ranges continue after it instead of fetching it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ranges_continue_what_one_stream_wrote() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let relay = Relay::start(server.addr(), ONE_WAY).await;
    let (fx, client) = engine_through(&relay);
    let size = 96 * MIB;
    let prefix = 40 * MIB + 12_345;
    let source = server.root().join("big.bin");
    random_file(&source, size as usize, 15);
    let data = std::fs::read(&source).expect("read");
    let down = fx.local("down");
    std::fs::write(down.join("big.bin"), &data[..prefix as usize]).expect("prefix");

    let mut watch = client.subscribe(false);
    let mut resume = request(
        Direction::Download,
        "srv",
        &["/big.bin"],
        down.to_str().expect("utf8"),
        false,
    );
    resume.overwrite = OverwritePolicy::Resume;
    let before = server.bytes_sent();
    let batch = enqueue(&client, resume).await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(600)).await;
    assert_eq!(summaries[0].done, 1, "{summaries:?} {events:?}");
    let record = history(&client, 10, false)
        .await
        .into_iter()
        .find(|t| t.batch == batch)
        .expect("in history");
    let hash = sha256_file(&source);
    assert_eq!(
        record.verification,
        Some(Verification::Sha256(hash.clone()))
    );
    assert_eq!(sha256_file(&down.join("big.bin")), hash);
    // The server read the rest once, plus what it hashes: nothing of the prefix twice over
    // the wire (its hash is read on the server, not sent).
    let sent = server.bytes_sent() - before;
    assert!(
        record.bytes_sent <= size - prefix,
        "{} bytes came over the wire for {} missing",
        record.bytes_sent,
        size - prefix
    );
    assert!(
        sent < size - prefix + 8 * MIB,
        "the server sent {sent} bytes for {} missing",
        size - prefix
    );
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sshd_takes_ranges_over_a_long_link() {
    use crate::support::real_servers::{
        RealSshd, SshdOptions, skip_without_real_servers, test_user,
    };
    if skip_without_real_servers() {
        return;
    }
    let sshd = RealSshd::start(SshdOptions::default());
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], sshd.port()));
    let relay = Relay::start(address, ONE_WAY).await;
    let user = test_user();
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "srv",
        Protocol::Sftp,
        relay.port(),
        &user.name,
        &user.password,
    );
    let client = fx.start();
    let target = sshd.scratch_dir().join("ranges");
    std::fs::create_dir_all(&target).expect("mkdir");
    std::os::unix::fs::chown(&target, Some(user.uid), Some(user.gid)).expect("chown");
    let size = 96 * MIB;
    let file = fx.local("up").join("big.bin");
    random_file(&file, size as usize, 14);
    let hash = sha256_file(&file);

    relay.cut_after([30 * MIB]);
    let up = run(
        &client,
        Direction::Upload,
        file.to_str().expect("utf8"),
        target.to_str().expect("utf8"),
    )
    .await;
    assert_eq!(relay.cuts(), 1);
    // One attempt lost to the cut, none to verification: the server's hash, taken as the
    // copy filled from its start, matched at once.
    assert_eq!(up.attempts, 2, "{up:?}");
    assert_eq!(up.verification, Some(Verification::Sha256(hash.clone())));
    assert_eq!(sha256_file(&target.join("big.bin")), hash);
    assert!(
        up.bytes_sent <= size + size / 4,
        "{} bytes sent",
        up.bytes_sent
    );

    relay.cut_after([30 * MIB]);
    let down = fx.local("down");
    let source = target.join("big.bin");
    let record = run(
        &client,
        Direction::Download,
        source.to_str().expect("utf8"),
        down.to_str().expect("utf8"),
    )
    .await;
    assert_eq!(relay.cuts(), 2);
    assert_eq!(record.attempts, 2, "{record:?}");
    assert_eq!(
        record.verification,
        Some(Verification::Sha256(hash.clone()))
    );
    assert_eq!(sha256_file(&down.join("big.bin")), hash);
    assert!(
        record.bytes_sent <= size + size / 4,
        "{} bytes sent",
        record.bytes_sent
    );
    client.request(Request::Shutdown).await;
}
