//! SFTP servers that are not OpenSSH: one that refuses exec, one that offers the `check-file`
//! extension, one that will not open an existing file again, and a profile that forbids exec.
//! Every transfer succeeds, and its record says which check was actually done.

use std::path::Path;
use std::time::Duration;

use ferry::engine::EngineClient;
use ferry::engine::api::{Event, Request};
use ferry::profile::Protocol;
use ferry::transfer::copy::Verification;
use ferry::transfer::model::{Direction, Transfer, TransferState};

use crate::support::engine::{
    EngineFixture, enqueue, history, random_file, request, sha256_file, wait_batches,
};
use crate::support::sftp_server::{DEFAULT_PASSWORD, DEFAULT_USER, SftpServer, SftpServerConfig};
use crate::support::wait;

const MIB: usize = 1 << 20;
/// Larger than what is read back to check it.
const BIG: usize = 6 * MIB;

/// Records of one finished request, by file name.
async fn run(client: &EngineClient, direction: Direction, sources: &[&str], target: &str) {
    let mut watch = client.subscribe(false);
    let batch = enqueue(client, request(direction, "srv", sources, target, false)).await;
    let (summaries, events) = wait_batches(&mut watch, &[batch], Duration::from_secs(120)).await;
    assert_eq!(summaries[0].failed, 0, "{summaries:?} {events:?}");
}

async fn record(client: &EngineClient, direction: Direction, name: &str) -> Transfer {
    let record = history(client, 100, false)
        .await
        .into_iter()
        .find(|t| t.direction == direction && t.remote_path.ends_with(name))
        .expect("in history");
    assert_eq!(record.state, TransferState::Done, "{record:?}");
    record
}

/// What each check was: a one-byte upload, a large upload and its download.
struct Checks {
    small_up: Verification,
    big_up: Verification,
    big_down: Verification,
    big_sha256: String,
}

/// Uploads a one-byte and a large file, downloads the large one back, and compares the bytes.
async fn round_trip(server: &SftpServer, no_exec: bool) -> Checks {
    let fx = EngineFixture::new(|_| {});
    fx.add_profile_with(
        "srv",
        Protocol::Sftp,
        server.port(),
        DEFAULT_USER,
        DEFAULT_PASSWORD,
        |profile| profile.no_exec = no_exec,
    );
    let client = fx.start();
    let up = fx.local("up");
    let (small, big) = (up.join("one.txt"), up.join("big.bin"));
    std::fs::write(&small, b"x").expect("write");
    random_file(&big, BIG, 3);
    let sources = [small.to_str().expect("utf8"), big.to_str().expect("utf8")];
    run(&client, Direction::Upload, &sources, "/in").await;
    let down = fx.local("down");
    run(
        &client,
        Direction::Download,
        &["/in/big.bin"],
        down.to_str().expect("utf8"),
    )
    .await;
    assert_eq!(
        std::fs::read(server.root().join("in/one.txt")).expect("small"),
        b"x"
    );
    let big_sha256 = sha256_file(&big);
    assert_eq!(sha256_file(&server.root().join("in/big.bin")), big_sha256);
    assert_eq!(sha256_file(&down.join("big.bin")), big_sha256);
    let checks = Checks {
        small_up: record(&client, Direction::Upload, "one.txt")
            .await
            .verification
            .expect("checked"),
        big_up: record(&client, Direction::Upload, "big.bin")
            .await
            .verification
            .expect("checked"),
        big_down: record(&client, Direction::Download, "big.bin")
            .await
            .verification
            .expect("checked"),
        big_sha256,
    };
    client.request(Request::Shutdown).await;
    checks
}

fn read_back_of(byte: &[u8]) -> Verification {
    use sha2::{Digest, Sha256};
    Verification::ReadBack(hex::encode(Sha256::digest(byte)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_refuses_exec_gets_read_backs_and_sizes() {
    let server = SftpServer::start(SftpServerConfig {
        refuse_exec: true,
        ..SftpServerConfig::default()
    })
    .await;
    let checks = round_trip(&server, false).await;
    assert_eq!(
        checks.small_up,
        read_back_of(b"x"),
        "small files are read back"
    );
    assert_eq!(checks.big_up, Verification::SizeOnly);
    assert_eq!(checks.big_down, Verification::SizeOnly);
    assert!(
        server.exec_requests() <= server.connections(),
        "a refusal is remembered per connection: {} exec requests on {} connections",
        server.exec_requests(),
        server.connections()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_check_file_extension_hashes_where_exec_is_refused() {
    let server = SftpServer::start(SftpServerConfig {
        refuse_exec: true,
        check_file: true,
        ..SftpServerConfig::default()
    })
    .await;
    let checks = round_trip(&server, false).await;
    assert_eq!(checks.small_up, read_back_of(b"x"));
    assert_eq!(
        checks.big_up,
        Verification::CheckFile(checks.big_sha256.clone())
    );
    assert_eq!(
        checks.big_down,
        Verification::CheckFile(checks.big_sha256.clone())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_without_exec_sends_none() {
    let server = SftpServer::start(SftpServerConfig::default()).await;
    let checks = round_trip(&server, true).await;
    assert_eq!(server.exec_requests(), 0);
    assert_eq!(checks.small_up, read_back_of(b"x"));
    assert_eq!(checks.big_up, Verification::SizeOnly);
    assert_eq!(checks.big_down, Verification::SizeOnly);

    let server = SftpServer::start(SftpServerConfig {
        check_file: true,
        ..SftpServerConfig::default()
    })
    .await;
    let checks = round_trip(&server, true).await;
    assert_eq!(server.exec_requests(), 0);
    assert_eq!(
        checks.big_up,
        Verification::CheckFile(checks.big_sha256.clone())
    );
    assert_eq!(
        checks.big_down,
        Verification::CheckFile(checks.big_sha256.clone())
    );
}

fn part_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".ferry-part"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_will_not_reopen_a_part_file_gets_a_fresh_one() {
    let server = SftpServer::start(SftpServerConfig {
        refuse_reopen: true,
        ..SftpServerConfig::default()
    })
    .await;
    // The first connection drops part way, leaving a part file the server will not reopen.
    server.queue_drops([3 * MIB as u64]);
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    let up = fx.local("up");
    let big = up.join("big.bin");
    random_file(&big, 12 * MIB, 8);
    run(
        &client,
        Direction::Upload,
        &[big.to_str().expect("utf8")],
        "/",
    )
    .await;
    let record = record(&client, Direction::Upload, "big.bin").await;
    assert!(record.attempts >= 2, "the drop cost an attempt: {record:?}");
    assert_eq!(
        sha256_file(&server.root().join("big.bin")),
        sha256_file(&big)
    );
    assert_eq!(part_files(server.root()), Vec::<String>::new());
    client.request(Request::Shutdown).await;
}

/// A cancel while the copy runs under a fresh part name leaves neither part file behind: the
/// fresh name is not the usual one, so the engine has to know it.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_under_a_fresh_part_name_leaves_no_part_file() {
    let server = SftpServer::start(SftpServerConfig {
        refuse_reopen: true,
        reply_delay: Some(Duration::from_millis(40)),
        ..SftpServerConfig::default()
    })
    .await;
    server.queue_drops([3 * MIB as u64]);
    let fx = EngineFixture::with_sftp(server.port(), |_| {});
    let client = fx.start();
    let mut watch = client.subscribe(false);
    let big = fx.local("up").join("big.bin");
    random_file(&big, 64 * MIB, 9);
    let source = big.to_str().expect("utf8");
    enqueue(
        &client,
        request(Direction::Upload, "srv", &[source], "/", false),
    )
    .await;
    let id = loop {
        if let Event::Started { id } = watch.events.next().await.expect("engine alive") {
            break id;
        }
    };
    let fresh = || {
        part_files(server.root())
            .into_iter()
            .any(|name| name != "big.bin.ferry-part")
    };
    wait::until(
        "a fresh part file is being written",
        Duration::from_secs(60),
        fresh,
    )
    .await;
    client.request(Request::Cancel { id }).await;
    loop {
        match watch.events.next().await.expect("engine alive") {
            Event::Finished { transfer } if transfer.id == id => {
                assert_eq!(transfer.state, TransferState::Cancelled, "{transfer:?}");
                break;
            }
            _ => continue,
        }
    }
    assert_eq!(part_files(server.root()), Vec::<String>::new());
    assert!(!server.root().join("big.bin").exists());
    client.request(Request::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sshd_with_force_command_internal_sftp_reads_small_files_back() {
    use crate::support::real_servers::{
        RealSshd, SshdOptions, skip_without_real_servers, test_user,
    };
    if skip_without_real_servers() {
        return;
    }
    let sshd = RealSshd::start(SshdOptions {
        extra_config: vec!["ForceCommand internal-sftp".into()],
        ..SshdOptions::default()
    });
    let user = test_user();
    let fx = EngineFixture::new(|_| {});
    fx.add_profile(
        "srv",
        Protocol::Sftp,
        sshd.port(),
        &user.name,
        &user.password,
    );
    let client = fx.start();
    let target = sshd.scratch_dir().join("forced");
    std::fs::create_dir_all(&target).expect("mkdir");
    std::os::unix::fs::chown(&target, Some(user.uid), Some(user.gid)).expect("chown");
    let up = fx.local("up");
    let (small, big) = (up.join("one.txt"), up.join("big.bin"));
    std::fs::write(&small, b"x").expect("write");
    random_file(&big, BIG, 4);
    let sources = [small.to_str().expect("utf8"), big.to_str().expect("utf8")];
    run(
        &client,
        Direction::Upload,
        &sources,
        target.to_str().expect("utf8"),
    )
    .await;
    let small_up = record(&client, Direction::Upload, "one.txt").await;
    assert_eq!(small_up.verification, Some(read_back_of(b"x")));
    let big_up = record(&client, Direction::Upload, "big.bin").await;
    assert_eq!(big_up.verification, Some(Verification::SizeOnly));
    assert_eq!(sha256_file(&target.join("big.bin")), sha256_file(&big));
    client.request(Request::Shutdown).await;
}
